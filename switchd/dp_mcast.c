/*
 * dp_mcast.c - sw_mcast, the multicast entries fabricd computed for this switch
 * (docs/switchd.md "Multicast"): keyed by group and in port, each the ports the group's
 * frames go out of. Reconciled whole: wanted entries written first, so no wanted entry is
 * ever missing, then the rest removed: collected by one walk first, then deleted (a hash
 * map's walk from a deleted key starts over).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "dp_mcast.h"
#include "log.h"

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct sw_mcast_key));
}

static int want_cmp(const void *a, const void *b)
{
	return key_cmp(&((const struct dp_mcast_want *)a)->key,
		       &((const struct dp_mcast_want *)b)->key);
}

int dp_mcast_reconcile(struct dp *dp, const struct dp_mcast_want *want, unsigned n,
		       bool keep_stale)
{
	int fd = dp_mcast_fd(dp), removed = 0;
	struct dp_mcast_want *sorted = calloc(n + 1, sizeof(*sorted));
	struct sw_mcast_key *stale = calloc(SW_MAX_MCAST, sizeof(*stale));
	struct sw_mcast_key key, next;
	unsigned nstale = 0;
	void *prev = NULL;

	if (!sorted || !stale) {
		free(sorted);
		free(stale);
		return -ENOMEM;
	}
	memcpy(sorted, want, n * sizeof(*want));
	qsort(sorted, n, sizeof(*sorted), want_cmp);
	for (unsigned i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, &sorted[i].key, &sorted[i].out, BPF_ANY) < 0) {
			int err = -errno;

			log_err("dp: sw_mcast: update: %s", strerror(errno));
			free(sorted);
			free(stale);
			return err;
		}
	while (!keep_stale && nstale < SW_MAX_MCAST && bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (!bsearch(&next, sorted, n, sizeof(*sorted), want_cmp))
			stale[nstale++] = next;
		key = next;
		prev = &key;
	}
	for (unsigned i = 0; i < nstale; i++)
		if (bpf_map_delete_elem(fd, &stale[i]) == 0)
			removed++;
	free(sorted);
	free(stale);
	return removed;
}
