/*
 * switch_shared.h - what switchd's eBPF data plane (switch.bpf.c) and its user side (dp.c)
 * agree on: the maps' keys and values, the verdict reasons, and the PMAC layout. Included by
 * both sides, so it holds only fixed-size types from <linux/types.h> and raw byte arrays (no
 * libc types, no pointers), and every struct is padded explicitly: user space zeroes keys
 * whole, so the kernel's byte-wise hash compares see no garbage.
 *
 * PMAC (PortLand, SIGCOMM 2009, §3): pod.position.port.vmid, 16.8.8.16 bits in the six
 * address bytes, the pod field carrying the unicast and locally-administered bits (below). The maps are all exact-match and hold O(k) entries at every level:
 *
 *   sw_config   {0} -> struct sw_config           level, pod, position, salt, located
 *   sw_ports    ifindex -> struct sw_port          up / down / host, for every switch port;
 *                                                 and its slot in sw_port_tx
 *   sw_up       {0} -> struct sw_up_group          the ECMP group of up ports (edge, agg)
 *   sw_up_dest  SW_DEST_KEY(pod, position) -> struct sw_up_group   the same, less the up
 *               neighbours fabricd's fault matrix says cannot reach that destination edge (or
 *               any edge of the pod: SW_DEST_POD); consulted only while config.dests is set
 *   sw_pods     pod -> ifindex                     core: the down port towards each pod
 *   sw_positions position -> ifindex               aggregation: the edge at each position
 *   sw_hosts    PMAC -> {ifindex, AMAC}            edge: its own hosts only (last hop)
 *   sw_amacs    AMAC -> {PMAC, ifindex, seen}      edge: ingress source rewrite; seen is
 *                                                  the host's last frame (host aging)
 *   sw_vmid_holds port << 16 | vmid -> {AMAC, until}  edge: vmids held after their host left
 *                                                  (switchd's only: the program never reads it)
 *   sw_verdicts per-CPU array[SW_V_COUNT] of u64   one counter per named reason
 *   sw_port_tx  per-CPU array[SW_MAX_PORTS] of struct sw_port_stats   what went out of each
 *               port, by its slot
 *   sw_unknown  ring buffer of struct sw_unknown_src   edge: sources with no PMAC yet
 *   sw_moved    old PMAC -> struct sw_moved        edge: PMACs of hosts that moved away
 *               (migration): frames to one are rewritten to the new PMAC and forwarded
 *   sw_trapped  ring buffer of struct sw_trapped   edge: who sent to a moved PMAC, so that
 *               switchd tells that sender the new one (a unicast gratuitous ARP or NA)
 *   sw_mcast    {group, in ifindex} -> struct sw_mcast_out   fabricd's multicast tree
 *               entries of this switch (docs/switchd.md "Multicast"): the ports a group's
 *               frames arriving on that port go out of (in ifindex 0: any host port)
 *
 * Config and the up group are single-entry *hash* maps, not arrays: a hash update swaps in a
 * whole new element under RCU, so the program never sees half of a new group or config (an
 * array update copies in place). Everything is pinned by name under a per-switch bpffs
 * directory (dp.h), so a restarted switchd finds the maps the running program uses.
 */
#ifndef SWITCHD_SWITCH_SHARED_H
#define SWITCHD_SWITCH_SHARED_H

#include <linux/types.h>

#define SW_ETH_P_LDP 0x88B5   /* IEEE 802 local experimental EtherType 1: PortLand's LDMs */

/* Map sizes. Changing one makes old pins incompatible: dp_open then says so by name. */
#define SW_MAX_PORTS 256
#define SW_MAX_UP 64          /* up ports in the ECMP group (k/2 in a k-ary fat tree) */
#define SW_MAX_PODS 1024
#define SW_MAX_POSITIONS 256  /* position is 8 bits */
#define SW_MAX_HOSTS 4096     /* hosts (PMACs) below one edge switch */
#define SW_MAX_DESTS 4096     /* destinations with a group of their own (faults) */
#define SW_MAX_VMIDS (2 * SW_MAX_HOSTS)   /* vmids an edge has in use or held (switchd/vmid.h) */
#define SW_UNKNOWN_RING (64 * 1024)
#define SW_MAX_MOVED 1024     /* moved PMACs an edge redirects at once (switchd/moved.c) */
#define SW_TRAPPED_RING (64 * 1024)
#define SW_MOVED_TRAP_NS 1000000ULL   /* at most one trap record a millisecond per moved PMAC */
#define SW_MAX_MCAST 16384    /* (group, in port) entries: WIRE_MAX_MCAST_ENTRIES */
#define SW_MCAST_MAX_OUT 64   /* out ports of one entry (k/2 down + k/2 up, or an edge's hosts) */
#define SW_MCAST_FROM_HOSTS 0 /* sw_mcast_key.in_ifindex of an edge's entry for its hosts */

/* The tc filter switchd owns on each port's clsact ingress: replaced in place on restart. */
#define SW_TC_HANDLE 0x1f2f
#define SW_TC_PRIORITY 1

enum sw_level {
	SW_LEVEL_EDGE = 0,          /* the paper's levels: 0 edge, 1 aggregation, 2 core */
	SW_LEVEL_AGGREGATION = 1,
	SW_LEVEL_CORE = 2,
};

enum sw_dir {
	SW_DIR_DOWN = 0,   /* towards hosts' side: an agg's edge ports, a core's agg ports */
	SW_DIR_UP = 1,     /* towards the core */
	SW_DIR_HOST = 2,   /* an edge port with hosts on it (source rewrite, last hop) */
};

/* Verdicts, each counted per CPU. Names (dp_verdict_name) are stable: metrics and fabricctl. */
enum sw_verdict {
	SW_V_FORWARDED_DOWN = 0,   /* core by pod, aggregation by position */
	SW_V_FORWARDED_UP,         /* ECMP over the up group */
	SW_V_TO_HOST,              /* edge, last hop: dst PMAC rewritten to the host's AMAC */
	SW_V_PUNTED_LDP,           /* left to the stack: switchd's packet sockets */
	SW_V_PUNTED_ARP,
	SW_V_PUNTED_ND,
	SW_V_DROPPED_NOT_LOCATED,  /* "switches do not begin packet forwarding until their
	                              location is established" */
	SW_V_DROPPED_UP_TO_UP,     /* Constraint 1: never up after arriving from up */
	SW_V_DROPPED_NO_ROUTE,     /* no entry for the destination's pod / position / PMAC */
	SW_V_DROPPED_UNKNOWN_SRC,  /* host source with no PMAC here yet (reported on sw_unknown) */
	SW_V_DROPPED_MALFORMED,    /* shorter than its headers */
	SW_V_DROPPED_MULTICAST,    /* broadcast, non-IP multicast, link-local groups (224.0.0.x,
	                              ff02::) other than ARP, ND, IGMP and MLD */
	SW_V_DROPPED_UNKNOWN_PORT, /* ingress port not in sw_ports */
	SW_V_DROPPED_NO_UPLINK,    /* must go up, but the up group is empty */
	SW_V_DROPPED_FAULT,        /* arrived on a port with SW_PORT_F_FAULT (LDMs too) */
	SW_V_FORWARDED_UP_AVOIDING,/* ECMP over a destination's group: around a fault */
	SW_V_FORWARDED_MOVED,      /* edge: to a moved PMAC, rewritten to the new one and sent on
	                              (back up if need be: the one exception to Constraint 1) */
	SW_V_PUNTED_MCAST,         /* IGMP, and MLD (ICMPv6 behind Hop-by-Hop): to switchd */
	SW_V_MCAST_FORWARDED,      /* a group's frame replicated along its tree (once a frame) */
	SW_V_MCAST_COPIES,         /* the copies sent (bpf_clone_redirect), not a verdict */
	SW_V_DROPPED_MCAST_UNKNOWN,/* a routable group with no entry for its in port here */
	SW_V_COUNT
};

/* Events counted beside the verdicts (in sw_verdicts after them: SW_V_COUNT + event); a frame
 * moves one verdict and any number of these. */
enum sw_event {
	SW_E_TRAPPED = 0,          /* a sender reported on sw_trapped */
	SW_E_TRAP_LIMITED,         /* not reported: one for that PMAC less than 1 ms before */
	SW_E_TRAP_RING_FULL,       /* not reported: switchd is behind */
	SW_E_COUNT
};

struct sw_config {
	__u8 level;        /* enum sw_level */
	__u8 located;      /* 0 until LDP has fixed level, pod and position: drop all but punts */
	__u16 pod;         /* host order; not used by a core switch */
	__u8 position;     /* edge: its own; aggregation: unused */
	__u8 dests;        /* sw_up_dest has entries: look a destination's group up first */
	__u8 pad[2];
	__u32 salt;        /* mixed into the flow hash, different on every switch (no polarization) */
};

/* A fault injected by hand (tests/tools/dpctl fault): every frame that arrives on the port is
 * dropped, LDMs too - a link that stops carrying frames with its carrier up, which this
 * kernel cannot make otherwise (no netem). switchd keeps the flag when it rewrites the port. */
#define SW_PORT_F_FAULT 0x01

struct sw_port {
	__u8 dir;          /* enum sw_dir */
	__u8 flags;        /* SW_PORT_F_* */
	__u16 slot;        /* 0..SW_MAX_PORTS-1: its counters in sw_port_tx */
};

struct sw_port_stats {
	__u64 frames;
	__u64 bytes;
};

struct sw_up_group {
	__u32 count;                  /* 0..SW_MAX_UP */
	__u32 ifindex[SW_MAX_UP];
};

/* sw_up_dest's key: a destination edge, or (SW_DEST_POD) every edge of the pod. */
#define SW_DEST_POD 0x100
#define SW_DEST_KEY(pod, position) ((__u32)(pod) << 9 | (__u32)(position))

struct sw_mac {
	__u8 addr[6];
	__u8 pad[2];       /* zero */
};

struct sw_host {
	__u32 ifindex;     /* the host port */
	__u8 amac[6];      /* what the host's own NIC says */
	__u8 pad[2];
};

struct sw_amac_entry {
	__u8 pmac[6];
	__u8 pad[2];
	__u32 ifindex;     /* the port the AMAC was seen on; elsewhere it is unknown (moved) */
	__u32 seen;        /* CLOCK_MONOTONIC seconds of its last frame through rewrite_source:
	                      written by the program only when the second changes, so a host's
	                      entry is dirtied at most once a second, not per packet */
};

/* A vmid an edge holds after its host left (aged out or moved), so that no other host gets
 * it while senders may still have the old PMAC (switchd/vmid.h). Pinned with the rest, so a
 * restarted switchd keeps its holds; the program never reads it. */
struct sw_vmid_hold {
	__u8 amac[6];      /* the host that had it: the one that may have it back meanwhile */
	__u8 pad[2];
	__u32 until;       /* CLOCK_MONOTONIC second the hold ends */
};

/* sw_mcast's key: the group (IPv4 as ::ffff:a.b.c.d, RFC 4291 2.5.5.2) and the port a frame
 * arrived on. */
struct sw_mcast_key {
	__u8 group[16];
	__u32 in_ifindex;  /* SW_MCAST_FROM_HOSTS: any of an edge's host ports */
};

struct sw_mcast_out {
	__u32 count;       /* 0..SW_MCAST_MAX_OUT */
	__u32 ifindex[SW_MCAST_MAX_OUT];
};

/* One record on sw_unknown: a frame from a host port whose source has no PMAC (yet). */
struct sw_unknown_src {
	__u32 ifindex;
	__u8 amac[6];
	__u8 pad[2];
};

/* A PMAC whose host moved away (fabricd's HostMoved): the new PMAC and the moved addresses
 * (the last IPv4 and IPv6 fabricd named; zero: none), which switchd announces to senders. */
struct sw_moved {
	__u8 pmac[6];      /* the new PMAC */
	__u8 pad[2];
	__u32 until;       /* CLOCK_MONOTONIC second it ends (switchd's: the program ignores it) */
	__u8 ip4[4];
	__u8 ip6[16];
	__u64 trapped_ns;  /* the program's: its last record on sw_trapped for this PMAC */
};

/* One record on sw_trapped: a data frame (not ARP or ND) sent to a moved PMAC. */
struct sw_trapped {
	__u8 dst[6];       /* the moved (old) PMAC */
	__u8 src[6];       /* the sender's PMAC (its source as the fabric carries it) */
	__u32 ifindex;     /* the port it came in on */
	__u8 family;       /* 4 or 6: ip is the sender's address; 0: neither */
	__u8 pad[3];
	__u8 ip[16];       /* IPv4: the first 4 bytes */
};

/*
 * PMAC fields from the six address bytes, as lib/addr.h packs them: the first octet is
 * (pod >> 8) << 2 | 0x02 (unicast, locally administered: what a host takes for a MAC), the
 * second pod & 0xff. Inline because the BPF program cannot call into a library: these four
 * lines are the only code in the header.
 */
static inline __u16 sw_pmac_pod(const __u8 *m) { return (__u16)((m[0] >> 2) << 8 | m[1]); }
static inline __u8 sw_pmac_position(const __u8 *m) { return m[2]; }
static inline __u8 sw_pmac_port(const __u8 *m) { return m[3]; }
static inline __u16 sw_pmac_vmid(const __u8 *m) { return (__u16)(m[4] << 8 | m[5]); }

#endif
