/*
 * dp_priv.h - what the user side's files of the data plane share (dp.c: load, attach and
 * the forwarding maps; dp_state.c: the reconcile, walks and counts; dp_moved.c: migration's
 * map and ring; dp_mcast.c: the multicast table): the loaded skeleton. Not for
 * the rest of switchd, which uses dp.h.
 */
#ifndef SWITCHD_DP_PRIV_H
#define SWITCHD_DP_PRIV_H

#include <stdint.h>
#include "switch.skel.h"

struct dp {
	struct switch_bpf *skel;
	char pin_dir[256];
};

/* Deletes key; an absent key is no error (0 or -errno). */
int dp_map_del(struct bpf_map *map, const void *key);
/* Keys first..first+n-1 of a per-CPU array of u64, each summed over the CPUs into out. */
int dp_sum_percpu(struct bpf_map *map, __u32 first, unsigned n, uint64_t *out);

#endif
