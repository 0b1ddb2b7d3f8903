/*
 * dp_moved.c - the user side of migration's part of the data plane (dp.h): the sw_moved map
 * (an edge's PMACs whose hosts moved away), the sw_trapped ring, and the events counted
 * beside the verdicts. Kept apart from dp.c, which holds the forwarding maps.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dp.h"
#include "dp_priv.h"
#include "log.h"

static const char *const event_names[SW_E_COUNT] = {
	[SW_E_TRAPPED] = "moved.dp_trapped",
	[SW_E_TRAP_LIMITED] = "moved.dp_trap_limited",
	[SW_E_TRAP_RING_FULL] = "moved.dp_trap_ring_full",
};

const char *dp_event_name(unsigned e)
{
	return e < SW_E_COUNT ? event_names[e] : NULL;
}

static void key_of(const struct mac *m, struct sw_mac *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, m->b, MAC_LEN);
}

int dp_set_moved(struct dp *dp, const struct mac *old, const struct sw_moved *m)
{
	struct bpf_map *map = dp->skel->maps.sw_moved;
	struct sw_moved v = *m, was;
	struct sw_mac k;
	int err;

	key_of(old, &k);
	memset(v.pad, 0, sizeof(v.pad));
	v.trapped_ns = 0;
	if (bpf_map__lookup_elem(map, &k, sizeof(k), &was, sizeof(was), 0) == 0)
		v.trapped_ns = was.trapped_ns;
	err = bpf_map__update_elem(map, &k, sizeof(k), &v, sizeof(v), BPF_ANY);
	if (err < 0 && err != -E2BIG)
		log_err("dp: sw_moved: update: %s", strerror(-err));
	return err;
}

int dp_get_moved(struct dp *dp, const struct mac *old, struct sw_moved *out)
{
	struct sw_mac k;

	key_of(old, &k);
	return bpf_map__lookup_elem(dp->skel->maps.sw_moved, &k, sizeof(k), out, sizeof(*out), 0);
}

int dp_del_moved(struct dp *dp, const struct mac *old)
{
	struct sw_mac k;
	int err;

	key_of(old, &k);
	err = bpf_map__delete_elem(dp->skel->maps.sw_moved, &k, sizeof(k), 0);
	if (err < 0 && err != -ENOENT) {
		log_err("dp: sw_moved: delete: %s", strerror(-err));
		return err;
	}
	return 0;
}

int dp_walk_moved(struct dp *dp, int (*cb)(void *ctx, const struct mac *old,
					   const struct sw_moved *m), void *ctx)
{
	struct bpf_map *map = dp->skel->maps.sw_moved;
	struct sw_mac *keys = calloc(SW_MAX_MOVED, sizeof(*keys));
	struct sw_moved v;
	size_t n = 0;

	if (!keys)
		return -ENOMEM;
	/* keys first: a delete while walking get_next_key would start the walk over */
	while (n < SW_MAX_MOVED && bpf_map__get_next_key(map, n ? &keys[n - 1] : NULL, &keys[n],
						      sizeof(*keys)) == 0)
		n++;
	for (size_t i = 0; i < n; i++) {
		struct mac old;

		if (bpf_map__lookup_elem(map, &keys[i], sizeof(keys[i]), &v, sizeof(v), 0) < 0)
			continue;
		memcpy(old.b, keys[i].addr, MAC_LEN);
		if (cb(ctx, &old, &v))
			break;
	}
	free(keys);
	return 0;
}

int dp_read_events(struct dp *dp, uint64_t out[SW_E_COUNT])
{
	return dp_sum_percpu(dp->skel->maps.sw_verdicts, SW_V_COUNT, SW_E_COUNT, out);
}

int dp_trapped_fd(struct dp *dp)
{
	return bpf_map__fd(dp->skel->maps.sw_trapped);
}
