/*
 * drift.h - vtepd puts back what of its own the kernel or someone else removed: its
 * suppression neighbours (proto 245 on a segment's bridge), its unicast FDB entries (both
 * halves, extern_learn on vx<VNI>) and its flood remotes, whenever fabricd wants them, and it
 * watches the segments' bridges for an address that is not fixed.
 *
 * An rtnetlink monitor (neighbours, bridge FDB, links) sees every RTM_DELNEIGH. A deletion
 * of an entry of vtepd's that its mirror of fabricd's table wants marks the segment's table
 * (neighbours, or FDB) for a repair, which runs 10 ms after the first such deletion, or, while
 * deletions keep coming, once they have stopped for 5 ms (at most 60 ms after the first), so
 * that a flush of thousands is one batch. A repair adds what the mirror wants and the kernel
 * lacks, and removes nothing: for up to 64 deletions (and nothing else to look at) the kernel
 * is asked about those entries only (kernel_repair_keys); otherwise the table is dumped
 * (kernel_repair; a flood remote, a link change and lost notifications always take the dump).
 * A neighbour deleted with `ip neigh del` has no MAC in its notification: whether vtepd wants
 * it is found by its address, in one walk of the mirror before the repair.
 *
 * Deletions are counted by cause: with a link change on the segment's bridge or vx device
 * (its address changed, it went down or up, the vx device left the bridge) within a second
 * before the repair's first reason, the kernel flushed them (flushed_by_link_change);
 * otherwise someone deleted them (deleted_by_operator). Entries of vtepd's the mirror does
 * not want, vtepd's own removals among them, are not put back (not_wanted). Beyond the first
 * 1024 deletions of a batch, neighbour deletions without a MAC are counted as wanted unchecked
 * (the repair still adds only what the mirror has).
 *
 * It does not fight: an entry deleted by someone more than 5 times in 30 s is held (not put
 * back) for 5 min and counted in backed_off; when the hold ends the segment is repaired. The
 * repairs of a segment start no sooner after the previous one than 9 times what that one took
 * (they take at most a tenth of the time, however often entries go: an FDB dump of 100k
 * entries takes seconds). While a full table from fabricd is arriving, deletions are not
 * looked at and repairs wait: the full table's reconcile is the authority. Lost notifications
 * (ENOBUFS) repair every segment, both tables.
 */
#ifndef VTEPD_DRIFT_H
#define VTEPD_DRIFT_H

#include <stddef.h>
#include <stdint.h>

struct drift;
struct mac;
struct vtepd;

/* After the segments' devices exist (their ifindexes are in v->segs): reads the state of their
 * bridges (and logs a warning for each one without a fixed address) and starts watching.
 * NULL and *err = -errno on failure. */
struct drift *drift_new(struct vtepd *v, int *err);
void drift_free(struct drift *d);
/* Segments were appended to v->segs (a reload): they are watched from now on. 0 or -errno
 * (their devices could not be read: tried again at the next notification). */
int drift_segments_added(struct drift *d);

/* Since start. */
struct drift_stats {
	uint64_t deleted_by_operator;     /* wanted entries of vtepd's deleted, no link change */
	uint64_t flushed_by_link_change;  /* wanted entries of vtepd's gone with a link change */
	uint64_t not_wanted;              /* entries of vtepd's deleted that it does not want */
	uint64_t repairs;                 /* repair batches (one per segment repaired) */
	uint64_t repaired;                /* entries they put back (added or corrected) */
	uint64_t conflicts;               /* wanted, but a foreign entry holds the key now */
	uint64_t backed_off;              /* times an entry was held for being deleted too often */
	uint64_t held;                    /* entries held now */
	uint64_t link_changes;            /* of the segments' bridges and vx devices */
	uint64_t events_lost;             /* the monitor overflowed: every segment repaired */
	uint64_t errors;                  /* repairs that failed (a dump, a refused request) */
	int64_t last_repair_us;           /* first deletion seen -> its repair done, last one */
	int64_t max_repair_us;
	uint64_t bridges_unfixed;         /* segments whose bridge's address is not set, now */
};
void drift_stats(const struct drift *d, struct drift_stats *out);

/* For status.c: the address of the segment's bridge and how the kernel says it was assigned
 * (KERNEL_ADDR_SET: fixed; -errno: cannot tell); 0, or -ENOENT (not a segment of d's, or d
 * NULL). */
int drift_bridge(const struct drift *d, uint32_t vni, struct mac *mac, int *assign_type);
/* The warning of the i-th segment (a bridge without a fixed address, a device that went) into
 * buf: 1, or 0 (none), or -1 (no such segment). d may be NULL. */
int drift_warning(const struct drift *d, size_t i, char *buf, size_t len);

#endif
