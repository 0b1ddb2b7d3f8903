/*
 * dp.h - switchd's data plane from user space: loads switch.bpf.c (through its skeleton),
 * pins its maps by name under a per-switch bpffs directory, attaches it to the clsact
 * ingress of each switch port, and fills the maps. The kernel forwards; nothing here is on
 * the packet path.
 *
 * Restart without outage: dp_open finds the maps already pinned in its directory and hands
 * them to the new program before it loads (libbpf's pin_root_path: bpf_map__reuse_fd for
 * each map pinned by name; a pin whose type, sizes or flags are not this build's is refused
 * first, naming the map and what differs), so the entries written by the previous run stay
 * in force; dp_attach then replaces our filter (handle SW_TC_HANDLE, priority
 * SW_TC_PRIORITY) in place, which the kernel does atomically. A kill -9 of switchd leaves
 * the old program attached and its maps pinned: forwarding goes on meanwhile.
 *
 * Ownership: the maps under pin_dir, and the one tc filter at SW_TC_HANDLE/SW_TC_PRIORITY on
 * each port's ingress. A clsact qdisc that already exists is used and never removed (other
 * filters may hang on it); dp_detach removes only our filter.
 *
 * Every function returns 0 (or a count) or a negative errno, and logs what failed with the
 * map, port or pin path it was working on.
 */
#ifndef SWITCHD_DP_H
#define SWITCHD_DP_H

#include <stdbool.h>
#include <stdint.h>
#include "addr.h"
#include "switch_shared.h"

#define DP_PIN_ROOT "/sys/fs/bpf/l2fabric"   /* switchd pins under DP_PIN_ROOT/<switch> */

struct dp;

/* Load (reusing pins under pin_dir, created if missing; it must be on a bpffs) and pin. */
int dp_open(const char *pin_dir, struct dp **out);
/* Frees the user side only: the program stays attached and the maps pinned. */
void dp_close(struct dp *dp);
/* Removes the pins of pin_dir (the directory too, when empty). Attached programs keep
 * their maps alive until they are detached. */
int dp_unpin(const char *pin_dir);

int dp_attach(struct dp *dp, int ifindex);
int dp_detach(struct dp *dp, int ifindex);

int dp_set_config(struct dp *dp, const struct sw_config *cfg);
int dp_get_config(struct dp *dp, struct sw_config *cfg);
/* A port's direction; its counter slot is kept (or the lowest free taken). */
int dp_set_port(struct dp *dp, int ifindex, enum sw_dir dir);
int dp_get_port(struct dp *dp, int ifindex, struct sw_port *out);
/* Tests: the port drops every frame that arrives on it (SW_PORT_F_FAULT), or no more. */
int dp_set_port_fault(struct dp *dp, int ifindex, bool fault);
/* What the program sent out of a port (its sw_port_tx slot, summed over the CPUs). */
int dp_read_port_tx(struct dp *dp, int ifindex, struct sw_port_stats *out);
int dp_del_port(struct dp *dp, int ifindex);
/* The whole ECMP group at once (n <= SW_MAX_UP), replacing the previous one atomically. */
int dp_set_up_group(struct dp *dp, const uint32_t *ifindex, unsigned n);
/* The ECMP group for one destination (sw_up_dest), or none. */
int dp_set_dest_group(struct dp *dp, uint32_t key, const uint32_t *ifindex, unsigned n);
int dp_del_dest_group(struct dp *dp, uint32_t key);
int dp_set_pod_route(struct dp *dp, uint16_t pod, int ifindex);       /* core */
int dp_del_pod_route(struct dp *dp, uint16_t pod);
int dp_set_position_route(struct dp *dp, uint8_t pos, int ifindex);   /* aggregation */
int dp_del_position_route(struct dp *dp, uint8_t pos);
/* Edge: a host below this switch, both directions (sw_amacs first, then sw_hosts). A host
 * set again as it was keeps its seen second; a new one (or one moved) is seen now. */
int dp_set_host(struct dp *dp, const struct mac *pmac, const struct mac *amac, int ifindex);
int dp_del_host(struct dp *dp, const struct mac *pmac);
/* The second the program last saw a frame from amac (or dp_set_host wrote it), on the
 * clock of dp_clock_s. 0, -ENOENT when amac has no entry, or another negative errno. */
int dp_host_seen(struct dp *dp, const struct mac *amac, uint32_t *seen_s);
/* The program's clock: CLOCK_MONOTONIC_COARSE in whole seconds (bpf_ktime_get_coarse_ns). */
uint32_t dp_clock_s(void);

/*
 * The whole desired state of one switch, for dp_reconcile: what a restarted switchd knows
 * once LDP and the fabric manager have told it again.
 */
struct dp_port_want {
	int ifindex;
	enum sw_dir dir;
};
struct dp_route_want {
	uint32_t key;           /* pod (core) or position (aggregation) */
	int ifindex;
};
/* An ECMP group for one destination (fabricd's fault matrix): key SW_DEST_KEY(pod, position). */
struct dp_dest_want {
	uint32_t key;
	uint32_t ifindex[SW_MAX_UP];
	unsigned n;
};
struct dp_host_want {
	struct mac pmac, amac;
	int ifindex;
};
struct dp_want {
	struct sw_config config;
	const struct dp_port_want *ports;
	unsigned n_ports;
	const uint32_t *up;
	unsigned n_up;
	const struct dp_route_want *pods, *positions;
	unsigned n_pods, n_positions;
	const struct dp_host_want *hosts;
	unsigned n_hosts;
	const struct dp_dest_want *dests;
	unsigned n_dests;
	bool keep_dests;        /* leave sw_up_dest as it is (and config.dests as pinned) */
};
/*
 * Reconcile the maps to want in place, without a moment where a wanted entry is missing:
 * every wanted entry is written first (a rewrite of an equal value changes nothing the
 * program sees), the config last, then entries nobody wants any more are removed. Returns
 * how many were removed, or a negative errno (the maps then hold a mix; call it again).
 */
int dp_reconcile(struct dp *dp, const struct dp_want *want);

/* Edge: the vmids held after their host left (switchd/vmid.h), kept in sw_vmid_holds for
 * the next run; until_s on the clock of dp_clock_s. No reconcile touches them. */
int dp_set_vmid_hold(struct dp *dp, uint8_t port, uint16_t vmid, const struct mac *amac,
		     uint32_t until_s);
int dp_del_vmid_hold(struct dp *dp, uint8_t port, uint16_t vmid);
/* Every hold a previous run left, to cb until it returns non-zero (cb may delete its own). */
int dp_walk_vmid_holds(struct dp *dp, int (*cb)(void *ctx, uint8_t port, uint16_t vmid,
						const struct mac *amac, uint32_t until_s),
		       void *ctx);

/* Every host in sw_hosts (what a previous run left pinned), to cb until it returns non-zero. */
int dp_walk_hosts(struct dp *dp, int (*cb)(void *ctx, const struct mac *pmac,
					   const struct mac *amac, int ifindex), void *ctx);

/* Every route in sw_pods (pod true) and sw_positions, to cb until it returns non-zero. */
int dp_walk_routes(struct dp *dp, int (*cb)(void *ctx, bool pod, uint32_t key, int ifindex),
		   void *ctx);

/* Each reason's count summed over the CPUs. */
int dp_read_verdicts(struct dp *dp, uint64_t out[SW_V_COUNT]);
/* Stable name of a reason ("forwarded_up", "dropped_up_to_up"), NULL past SW_V_COUNT. */
const char *dp_verdict_name(unsigned reason);

/* Entries in each map, for the O(k) state check: name and count, in a fixed order. */
struct dp_map_count {
	const char *name;
	unsigned entries;
};
#define DP_COUNTED_MAPS 9
int dp_count_entries(struct dp *dp, struct dp_map_count out[DP_COUNTED_MAPS]);

/* The program's fd, for BPF_PROG_TEST_RUN (tests/unit/switchd_dp). */
int dp_prog_fd(struct dp *dp);

/* sw_mcast (dp_mcast.c fills it). */
int dp_mcast_fd(struct dp *dp);

/* The sw_unknown ring (struct sw_unknown_src records), for ring_buffer__new. */
int dp_unknown_src_fd(struct dp *dp);

/* dp_moved.c - migration (switchd/moved.c). An edge's moved PMACs: the program rewrites
 * frames to old to m->pmac and reports their senders on sw_trapped. -E2BIG: SW_MAX_MOVED
 * entries already. A set keeps the entry's trap clock. No reconcile touches them. */
int dp_set_moved(struct dp *dp, const struct mac *old, const struct sw_moved *m);
int dp_get_moved(struct dp *dp, const struct mac *old, struct sw_moved *out);
int dp_del_moved(struct dp *dp, const struct mac *old);
/* Every moved entry, to cb until it returns non-zero (cb may delete its own). */
int dp_walk_moved(struct dp *dp, int (*cb)(void *ctx, const struct mac *old,
					   const struct sw_moved *m), void *ctx);
/* The events counted beside the verdicts (enum sw_event), summed over the CPUs. */
int dp_read_events(struct dp *dp, uint64_t out[SW_E_COUNT]);
const char *dp_event_name(unsigned e);
/* The sw_trapped ring (struct sw_trapped records), for ring_buffer__new. */
int dp_trapped_fd(struct dp *dp);

#endif
