/*
 * kernel.h - vtepd's kernel side: the VXLAN devices, their forwarding database (unicast
 * remotes and the flood list) and the ARP/ND suppression neighbours on their bridges,
 * programmed over rtnetlink in batches, and reconciled against a desired state.
 * Nothing here knows about fabricd or its protocol: the caller says what it wants.
 *
 * Ownership — what vtepd may change or remove; everything else in the kernel is left alone:
 *  - Devices: vtepd creates and owns the VXLAN devices named vx<VNI> ("vx100"): nolearning,
 *    local <vtep>, dstport 4789, dev <underlay>, enslaved to the caller's bridge with bridge
 *    port flags neigh_suppress on and learning off, up. The bridge is the operator's; one
 *    that does not exist is created (VLAN-unaware, up) with a fixed address (see
 *    kernel_bridge_mac), and is left in place afterwards like one the operator made.
 *  - Unicast FDB entries on a vx device are ours when they carry NTF_EXT_LEARNED
 *    ("extern_learn"). A remote MAC is two entries, added by one request:
 *    NTF_SELF | NTF_MASTER | NTF_EXT_LEARNED, NUD_NOARP | NUD_PERMANENT, NDA_LLADDR, NDA_DST.
 *    NTF_SELF is the vxlan driver's entry (which VTEP; it wants NUD_PERMANENT or
 *    NUD_REACHABLE, and neither ages out). NTF_MASTER is the bridge's entry on the vx port
 *    (extern_learn; the bridge ignores NDA_DST): ARP/ND suppression answers only for a MAC
 *    the bridge knows on a neigh_suppress port, and without it the bridge also floods the
 *    MAC's frames to its local ports. A MAC the bridge holds on another port (learnt
 *    locally: the host moved here) or statically is not taken back: only the vxlan half is
 *    installed. Deletes go one table at a time (the kernel stops at the bridge's answer).
 *    The vxlan driver holds one remote per unicast MAC: it appends remotes only to the
 *    all-zero and multicast MACs, and ignores NLM_F_APPEND (answering 0) for a unicast one.
 *    A desired MAC with several destinations (an HA port in flood mode) is therefore not
 *    installed at all (and ours for it removed): the MAC stays unknown and its frames go out
 *    by the flood list, which reaches those VTEPs when they are in it. Counted in
 *    kstats.fdb_flooded. The bridges are expected to be VLAN-unaware (one bridge per VNI).
 *  - The flood list is the all-zero MAC entry, one remote per VTEP (NLM_F_APPEND; deleted one
 *    dst at a time). The remotes of one entry share its flags, so a flood remote is ours
 *    when its dst is a VTEP the caller knows (the `known` set of kernel_reconcile, plus the
 *    desired flood dsts); any other remote is foreign and kept.
 *  - Neighbours (IP -> MAC, answered by the bridge for ARP/ND suppression) live on the bridge
 *    device: NUD_NOARP, NTF_EXT_LEARNED (also exempts them from the neighbour table's
 *    gc_thresh limits), NDA_PROTOCOL = KERNEL_RTPROT. Ours = that protocol. A foreign entry
 *    for a desired IP is taken over only when the kernel itself learnt it (no protocol, not
 *    PERMANENT/NOARP): anything configured by someone else is a conflict and stays.
 *
 * Reconcile (mark and sweep, as systemd-networkd does for its neighbours): dump what the
 * kernel holds on the vx device and its bridge, add what is missing or different, remove what
 * is ours and not desired, count and keep everything else.
 *
 * Changes go through one batch (lib/nlbatch), many requests per sendmsg, sent and
 * acknowledged from the event loop: nothing here waits for the kernel's answers but
 * kernel_wait (start-up, tools, shutdown). What does block: device requests, lookups and the
 * dumps of a reconcile or repair, on a socket of their own (docs/daemons.md, "Where
 * blocking is allowed"); queued changes are sent before any of them, so the kernel applies
 * everything in the order it was asked (requests on one socket are applied in order, and
 * each sendmsg within the call).
 *
 * Memory: at most KERNEL_CHUNKS buffers of KERNEL_CHUNK_BYTES of requests exist, queued or
 * unanswered: 16 MiB, ~250k FDB or neighbour changes (a request is 40-70 bytes), room for
 * one Update of a full report from a 100k-host VTEP (fabricd cuts full tables in 4 MiB
 * Updates). A caller queueing beyond that waits within the call for the oldest answers (at
 * most lib/nlbatch's 2 s timeout each). Callers with an input to hold (vtepd's session with
 * fabricd) hold it while kernel_busy (more than KERNEL_BUSY_CHUNKS in use: 2 MiB), and
 * resume from the callbacks; so the bound is hit only by one Update bigger than that.
 *
 * Incremental operations are queued; kernel_commit ends a batch of them and says, from the
 * loop, how many failed. They trust the caller about ownership (they do no
 * dump): a set replaces whatever entry holds the key (the vxlan driver then keeps a foreign
 * entry's flags, so it stays foreign but gets our dst); fdb/flood deletes name the dst they
 * remove (and the bridge's entry for the MAC on the vx port); a neighbour delete removes the
 * IP's entry whoever owns it; deleting what is already gone is not an error. The next
 * reconcile is the authority.
 *
 * Functions return 0 (or a count) on success and a negative errno on failure.
 */
#ifndef VTEPD_KERNEL_H
#define VTEPD_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "addr.h"

/* NDA_PROTOCOL of our neighbours. /etc/iproute2/rt_protos names 0-18, 42, 99 and 186-192;
 * FRR, BIRD and the routing daemons use those; 245 is unassigned, below the 250-255 that
 * some distributions reserve for local use, and shows as "proto 245" in `ip neigh`. */
#define KERNEL_RTPROT 245
/* IANA VXLAN port (RFC 7348 5). */
#define KERNEL_VXLAN_PORT 4789
/* Most VNIs one kdesired or cache holds. */
#define KERNEL_VNI_MAX (1u << 24)

#define KERNEL_CHUNK_BYTES (64 * 1024)
#define KERNEL_CHUNKS 256
#define KERNEL_BUSY_CHUNKS 32

struct event_base;
struct kernel;
struct kdesired;

/* The batch's answers are read from base. */
int kernel_open(struct event_base *base, struct kernel **out);
void kernel_close(struct kernel *k);

/* What kernel_vxlan_ensure did (bitmask; 0 = the device was already right). */
enum {
	KVX_CREATED = 1 << 0,
	KVX_RECREATED = 1 << 1,  /* wrong VNI, port, local or underlay: deleted, created again */
	KVX_FIXED = 1 << 2,      /* learning, master, port flags or up state corrected */
	KVX_BRIDGE_CREATED = 1 << 3,  /* the bridge did not exist: created, with a fixed MAC */
};

/* Makes vx<vni> exist as described above, and the bridge too when there is no device of that
 * name (a device of that name that is not a bridge: -ENODEV). The underlay may be NULL. A
 * device named vx<vni> that is not a VXLAN is not ours: -EEXIST. Returns the KVX_* mask or
 * -errno; *vx_ifindex and *br_ifindex (either may be NULL) are set on success. */
int kernel_vxlan_ensure(struct kernel *k, uint32_t vni, const char *bridge,
			const struct ipaddr *local, const char *underlay,
			int *vx_ifindex, int *br_ifindex);

/* The address kernel_vxlan_ensure gives a bridge it creates: locally administered unicast,
 * 22 bits of a hash (FNV-1a, 32 bits) of the VTEP address, then the VNI's 24 bits:
 * ((h >> 16) & 0xfc) | 0x02 : h >> 8 : h : vni >> 16 : vni >> 8 : vni. The same on every start
 * of the host, different from the other hosts' for the same VNI (the VTEP address is the
 * host's own in the fabric). Set at creation, it is the bridge's for good: the kernel marks it
 * set (addr_assign_type 3, NET_ADDR_SET) and no longer takes a port's MAC. A bridge without a
 * set address takes its lowest port's, so a port that comes or goes can change it, and on
 * every change the kernel flushes the bridge's neighbours, ours included. */
void kernel_bridge_mac(const struct ipaddr *local, uint32_t vni, struct mac *out);
/* How the kernel says ifname's address was assigned (/sys/class/net/IF/addr_assign_type: 0
 * permanent, 1 random, 2 stolen, 3 set), checked against ifindex (sysfs of another network
 * namespace would name another device): the type, or -errno (-ENXIO: not that device). */
int kernel_addr_assign_type(const char *ifname, int ifindex);
#define KERNEL_ADDR_SET 3      /* the kernel's NET_ADDR_SET */
/* Deletes vx<vni> (with every FDB entry on it). 0 also when it did not exist. */
int kernel_vxlan_del(struct kernel *k, uint32_t vni);

/* --- desired state -------------------------------------------------------------------------
 * Per VNI: unicast FDB MAC -> dst list, flood dst set, neighbours IP -> MAC. A key given
 * twice keeps its last value. A VNI declared with nothing in it means "nothing of ours". */
struct kdesired *kdesired_new(void);
void kdesired_free(struct kdesired *d);
int kdesired_vni(struct kdesired *d, uint32_t vni);
/* mac must be unicast and not zero (the flood list has its own call); 1 <= ndst. */
int kdesired_fdb(struct kdesired *d, uint32_t vni, const struct mac *mac,
		 const struct ipaddr *dsts, size_t ndst);
int kdesired_flood(struct kdesired *d, uint32_t vni, const struct ipaddr *dst);
int kdesired_neigh(struct kdesired *d, uint32_t vni, const struct ipaddr *ip,
		   const struct mac *mac);

/* Visits the content, per VNI in the order given, keys in insertion order (duplicates
 * included). Any callback may be NULL; a non-zero return stops the walk and is returned. */
struct kdesired_visitor {
	int (*vni)(void *ctx, uint32_t vni);
	int (*fdb)(void *ctx, uint32_t vni, const struct mac *mac,
		   const struct ipaddr *dsts, size_t ndst);
	int (*flood)(void *ctx, uint32_t vni, const struct ipaddr *dst);
	int (*neigh)(void *ctx, uint32_t vni, const struct ipaddr *ip, const struct mac *mac);
};
int kdesired_walk(const struct kdesired *d, const struct kdesired_visitor *v, void *ctx);

/* --- reconcile ------------------------------------------------------------------------ */
struct kcount {
	uint32_t added;      /* requests that created an entry (or flood remote) */
	uint32_t updated;    /* ours, different from the desired value: replaced */
	uint32_t removed;    /* ours, not desired */
	uint32_t kept;       /* ours, as desired */
	uint32_t foreign;    /* not ours: left alone */
	uint32_t conflicts;  /* desired, but a foreign entry holds the key: not installed */
};

struct kstats {
	struct kcount fdb, flood, neigh;
	uint32_t fdb_flooded;  /* desired unicast MACs with several dsts (see above) */
	uint32_t errors;       /* requests the kernel refused, VNIs without a device, dumps
				* that failed; the counts above exclude refused requests */
	int64_t dump_us;       /* time spent dumping and comparing (blocking) */
	int64_t program_us;    /* time spent queueing requests (blocking), and from the last
				* queued to the last answer (the loop runs meanwhile) */
};

/* A reconcile, repair or repair_keys is answered, from the loop: err 0 when every request
 * succeeded, else the first -errno (of a dump, or of a refused request); st its counts, the
 * refused requests taken out (valid during the call). d need not outlive the call that
 * started it. */
typedef void (*kernel_sync_done)(void *ctx, int err, const struct kstats *st);

/* Reconciles every VNI of d (only those). known: the fabric's VTEPs (flood ownership);
 * n_known may be 0. The dumps block; the changes are queued, and done (may be NULL) runs
 * once they are answered. 0, or -ENOMEM and done is never called. */
int kernel_reconcile(struct kernel *k, const struct kdesired *d,
		     const struct ipaddr *known, size_t n_known, kernel_sync_done done, void *ctx);

/* Repair: as kernel_reconcile, for the tables of `tables` only, but nothing is removed: what
 * is missing is added and what is ours with another value is corrected, so d may leave out
 * entries the caller does not want put back now (they stay as they are). Foreign entries are
 * kept and conflicts counted as in a reconcile. The neighbour table's dump is cheap; the
 * FDB's costs O(n^2) in the kernel (see kdump.c): ask for it only when an FDB entry went. */
enum {
	KREPAIR_FDB = 1 << 0,    /* unicast entries (both halves) and the flood list of vx<vni> */
	KREPAIR_NEIGH = 1 << 1,  /* the suppression neighbours on its bridge */
};
int kernel_repair(struct kernel *k, const struct kdesired *d, unsigned tables,
		  kernel_sync_done done, void *ctx);
/* The same for a few keys, without a dump: the kernel is asked about each neighbour address of
 * ips and each unicast MAC of macs (its vxlan entry and the bridge's), one request each, and
 * only d's entries for those keys are put back. The cost is that of the keys, not of the
 * tables; the flood list is not looked at (kernel_repair). */
int kernel_repair_keys(struct kernel *k, const struct kdesired *d, const struct ipaddr *ips,
		       size_t nips, const struct mac *macs, size_t nmacs, kernel_sync_done done,
		       void *ctx);

/* Adds what is ours on vx<vni> and its bridge to out: unicast entries, flood remotes whose
 * dst is in known (every remote when known is NULL), neighbours. */
int kernel_dump(struct kernel *k, uint32_t vni, const struct ipaddr *known, size_t n_known,
		struct kdesired *out);

/* --- incremental operations (queued; see above) ------------------------------------------ */
int kernel_fdb_set(struct kernel *k, uint32_t vni, const struct mac *mac,
		   const struct ipaddr *dst);
int kernel_fdb_del(struct kernel *k, uint32_t vni, const struct mac *mac,
		   const struct ipaddr *dst);
int kernel_flood_add(struct kernel *k, uint32_t vni, const struct ipaddr *dst);
int kernel_flood_del(struct kernel *k, uint32_t vni, const struct ipaddr *dst);
int kernel_neigh_set(struct kernel *k, uint32_t vni, const struct ipaddr *ip,
		     const struct mac *mac);
int kernel_neigh_del(struct kernel *k, uint32_t vni, const struct ipaddr *ip);
/* Requests sent to the kernel since kernel_open (reconciles and incremental operations) and
 * how many of them it refused (a delete of what is already gone is not refused; answers lost
 * or timed out count as refused). */
struct kcounters {
	uint64_t requests;
	uint64_t refused;
	uint64_t lost;        /* of refused: answers lost (ENOBUFS) */
	uint64_t timeouts;    /* of refused: no answer within 2 s */
	uint64_t in_flight;   /* queued or unanswered now */
};
void kernel_counters(const struct kernel *k, struct kcounters *out);
/* The netlink port of the batch's socket: notifications the kernel sends for its FDB and
 * neighbour requests carry it (those it sends while it applies them, not all). */
uint32_t kernel_portid(const struct kernel *k);

/* A batch of operations is answered: how many the kernel refused (each logged,
 * rate-limited; lost or timed-out answers included) and the first error (-ENOBUFS: answers
 * were lost, -ETIMEDOUT: none came within 2 s). */
typedef void (*kernel_done)(void *ctx, uint32_t refused, int first_err);
/* Ends the batch of what was queued since the last commit; done (may be NULL) runs from the
 * loop once the kernel answered all of it (also for an empty batch). Batches are sent and
 * answered in order. */
void kernel_commit(struct kernel *k, kernel_done done, void *ctx);
/* More than KERNEL_BUSY_CHUNKS in use: hold the input that queues more. */
bool kernel_busy(const struct kernel *k);
/* Blocking: sends everything queued and waits for every answer, running the callbacks of
 * what is answered. For start-up, tools and shutdown. */
void kernel_wait(struct kernel *k);

#endif
