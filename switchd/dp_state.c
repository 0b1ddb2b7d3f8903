/*
 * dp_state.c - the data plane's state as a whole (see dp.h): dp_reconcile writes what is
 * wanted and then sweeps every map of what is not, so that no wanted entry is ever missing
 * (a restarted switchd takes its pins over this way); the walks a restart reads the previous
 * run's entries with, and the entry counts of the O(k) state check.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dp.h"
#include "dp_priv.h"
#include "log.h"

static int write_wanted(struct dp *dp, const struct dp_want *w)
{
	unsigned i;
	int err = 0;

	for (i = 0; i < w->n_ports && err == 0; i++)
		err = dp_set_port(dp, w->ports[i].ifindex, w->ports[i].dir);
	for (i = 0; i < w->n_pods && err == 0; i++)
		err = w->pods[i].key > UINT16_MAX ? -EINVAL
			: dp_set_pod_route(dp, (uint16_t)w->pods[i].key, w->pods[i].ifindex);
	for (i = 0; i < w->n_positions && err == 0; i++)
		err = w->positions[i].key > UINT8_MAX ? -EINVAL
			: dp_set_position_route(dp, (uint8_t)w->positions[i].key,
						w->positions[i].ifindex);
	for (i = 0; i < w->n_hosts && err == 0; i++)
		err = dp_set_host(dp, &w->hosts[i].pmac, &w->hosts[i].amac, w->hosts[i].ifindex);
	for (i = 0; !w->keep_dests && i < w->n_dests && err == 0; i++)
		err = dp_set_dest_group(dp, w->dests[i].key, w->dests[i].ifindex, w->dests[i].n);
	if (err == 0)
		err = dp_set_up_group(dp, w->up, w->n_up);
	if (err == 0)
		err = dp_set_config(dp, &w->config);
	return err;
}

typedef bool (*wanted_fn)(const struct dp_want *w, const void *key);

static bool port_wanted(const struct dp_want *w, const void *key)
{
	__u32 k;
	unsigned i;

	memcpy(&k, key, sizeof(k));
	for (i = 0; i < w->n_ports; i++)
		if ((__u32)w->ports[i].ifindex == k)
			return true;
	return false;
}

static bool route_in(const struct dp_route_want *r, unsigned n, const void *key)
{
	__u32 k;
	unsigned i;

	memcpy(&k, key, sizeof(k));
	for (i = 0; i < n; i++)
		if (r[i].key == k)
			return true;
	return false;
}

static bool pod_wanted(const struct dp_want *w, const void *key)
{
	return route_in(w->pods, w->n_pods, key);
}

static bool position_wanted(const struct dp_want *w, const void *key)
{
	return route_in(w->positions, w->n_positions, key);
}

static bool dest_wanted(const struct dp_want *w, const void *key)
{
	__u32 k;
	unsigned i;

	if (w->keep_dests)
		return true;
	memcpy(&k, key, sizeof(k));
	for (i = 0; i < w->n_dests; i++)
		if (w->dests[i].key == k)
			return true;
	return false;
}

static bool pmac_wanted(const struct dp_want *w, const void *key)
{
	unsigned i;

	for (i = 0; i < w->n_hosts; i++)
		if (memcmp(w->hosts[i].pmac.b, key, MAC_LEN) == 0)
			return true;
	return false;
}

static bool amac_wanted(const struct dp_want *w, const void *key)
{
	unsigned i;

	for (i = 0; i < w->n_hosts; i++)
		if (memcmp(w->hosts[i].amac.b, key, MAC_LEN) == 0)
			return true;
	return false;
}

/* Keys are collected before any delete: deleting while walking get_next_key restarts it. */
static int sweep(struct bpf_map *map, const struct dp_want *w, wanted_fn wanted)
{
	size_t ksz = bpf_map__key_size(map), max = bpf_map__max_entries(map), n = 0, i;
	uint8_t *keys = calloc(max, ksz);
	void *prev = NULL;
	int err = 0, removed = 0;

	if (!keys)
		return -ENOMEM;
	while (n < max && bpf_map__get_next_key(map, prev, keys + n * ksz, ksz) == 0) {
		prev = keys + n * ksz;
		n++;
	}
	for (i = 0; i < n && err == 0; i++) {
		if (wanted(w, keys + i * ksz))
			continue;
		err = dp_map_del(map, keys + i * ksz);
		removed++;
	}
	free(keys);
	return err < 0 ? err : removed;
}

int dp_reconcile(struct dp *dp, const struct dp_want *want)
{
	struct {
		struct bpf_map *map;
		wanted_fn wanted;
	} sweeps[] = {
		{ dp->skel->maps.sw_hosts, pmac_wanted },
		{ dp->skel->maps.sw_amacs, amac_wanted },
		{ dp->skel->maps.sw_positions, position_wanted },
		{ dp->skel->maps.sw_pods, pod_wanted },
		{ dp->skel->maps.sw_ports, port_wanted },
		{ dp->skel->maps.sw_up_dest, dest_wanted },
	};
	struct dp_want w = *want;
	struct sw_config pinned;
	size_t i;
	int err, removed = 0;

	/* the destination groups are looked up only while config says there are some: set
	 * after they are written, cleared before they are removed (config is written before
	 * the sweeps) */
	if (w.keep_dests)
		w.config.dests = dp_get_config(dp, &pinned) == 0 ? pinned.dests : 0;
	else
		w.config.dests = w.n_dests > 0;
	want = &w;
	err = write_wanted(dp, want);
	for (i = 0; i < sizeof(sweeps) / sizeof(sweeps[0]) && err >= 0; i++) {
		err = sweep(sweeps[i].map, want, sweeps[i].wanted);
		removed += err > 0 ? err : 0;
	}
	return err < 0 ? err : removed;
}

static int count_keys(struct bpf_map *map)
{
	__u8 key[32], next[32];
	unsigned n = 0;
	void *prev = NULL;

	if (bpf_map__key_size(map) > sizeof(key))
		return -EINVAL;
	while (n < bpf_map__max_entries(map) &&
	       bpf_map__get_next_key(map, prev, next, bpf_map__key_size(map)) == 0) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return (int)n;
}

int dp_walk_hosts(struct dp *dp, int (*cb)(void *ctx, const struct mac *pmac,
					   const struct mac *amac, int ifindex), void *ctx)
{
	struct bpf_map *map = dp->skel->maps.sw_hosts;
	struct sw_mac key, next;
	struct sw_host h;
	void *prev = NULL;
	unsigned n = 0;

	while (n++ < bpf_map__max_entries(map) &&
	       bpf_map__get_next_key(map, prev, &next, sizeof(next)) == 0) {
		struct mac pmac, amac;

		key = next;
		prev = &key;
		if (bpf_map__lookup_elem(map, &key, sizeof(key), &h, sizeof(h), 0) < 0)
			continue;           /* removed meanwhile */
		memcpy(pmac.b, key.addr, MAC_LEN);
		memcpy(amac.b, h.amac, MAC_LEN);
		if (cb(ctx, &pmac, &amac, (int)h.ifindex))
			break;
	}
	return 0;
}

int dp_walk_routes(struct dp *dp, int (*cb)(void *ctx, bool pod, uint32_t key, int ifindex),
		   void *ctx)
{
	struct bpf_map *maps[] = { dp->skel->maps.sw_pods, dp->skel->maps.sw_positions };

	for (unsigned m = 0; m < 2; m++) {
		__u32 key, next, ifindex;
		void *prev = NULL;
		unsigned n = 0;

		while (n++ < bpf_map__max_entries(maps[m]) &&
		       bpf_map__get_next_key(maps[m], prev, &next, sizeof(next)) == 0) {
			key = next;
			prev = &key;
			if (bpf_map__lookup_elem(maps[m], &key, sizeof(key), &ifindex,
						 sizeof(ifindex), 0) == 0 &&
			    cb(ctx, m == 0, key, (int)ifindex))
				return 0;
		}
	}
	return 0;
}

int dp_count_entries(struct dp *dp, struct dp_map_count out[DP_COUNTED_MAPS])
{
	struct bpf_map *maps[DP_COUNTED_MAPS] = {
		dp->skel->maps.sw_ports, dp->skel->maps.sw_up, dp->skel->maps.sw_pods,
		dp->skel->maps.sw_positions, dp->skel->maps.sw_hosts, dp->skel->maps.sw_amacs,
		dp->skel->maps.sw_up_dest, dp->skel->maps.sw_moved, dp->skel->maps.sw_mcast,
	};
	int i, n;

	for (i = 0; i < DP_COUNTED_MAPS; i++) {
		n = count_keys(maps[i]);
		if (n < 0)
			return n;
		out[i].name = bpf_map__name(maps[i]);
		out[i].entries = (unsigned)n;
	}
	return 0;
}
