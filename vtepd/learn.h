/*
 * learn.h - what vtepd learns about its local ports: MACs from the bridge's forwarding
 * database (RTM_NEWNEIGH / RTM_DELNEIGH, AF_BRIDGE, on ports other than the VXLAN device) and
 * their IP addresses from ARP and Neighbor Discovery they send (a packet socket on each
 * segment's bridge). The caller is told of every change; it reports to fabricd.
 */
#ifndef VTEPD_LEARN_H
#define VTEPD_LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "addr.h"
#include "pkt/drop.h"

#define LEARN_MAX_IPS 16

struct event_base;
struct learner;

/* One local MAC as known now. */
struct local_mac {
	uint32_t vni;
	struct mac mac;
	struct ipaddr ips[LEARN_MAX_IPS];    /* most recent first; link-local IPv6 excluded */
	size_t nips;
};

struct learn_ops {
	/* A MAC appeared on a local port, or its address list changed. */
	void (*changed)(void *ctx, const struct local_mac *m);
	/* A MAC left (aged out of the bridge, or its port went). */
	void (*gone)(void *ctx, uint32_t vni, const struct mac *mac);
};

/* Starts watching; no segment yet. NULL and *err = -errno on failure. */
struct learner *learner_new(struct event_base *base, const struct learn_ops *ops, void *ctx,
			    int *err);
void learner_free(struct learner *l);
/* Adds a segment: its bridge and its VXLAN device (whose entries are remote, never local).
 * Dumps the bridge's current local MACs (announced through ops->changed). 0 or -errno. */
int learner_add_segment(struct learner *l, uint32_t vni, const char *bridge, int br_ifindex,
			int vx_ifindex);
/* Every local MAC known now (for a full report after a reconnect); stops when cb returns
 * non-zero. */
void learner_foreach(const struct learner *l, int (*cb)(const struct local_mac *m, void *ctx),
		     void *ctx);
/* Marks (vni, mac) as shared by several hosts (an HA port in flood mode) or not. A shared MAC
 * is never local: the bridge's entries for it on local ports are deleted as they appear, so
 * that frames for it flood to the local port and over the overlay alike. 0 or -errno. */
int learner_set_shared(struct learner *l, uint32_t vni, const struct mac *mac, bool shared);
/* Counters for status: frames snooped, dropped (malformed, per reason), MACs known. */
struct learn_stats {
	uint64_t fdb_events;
	uint64_t frames;
	uint64_t frames_dropped;
	uint64_t macs;
	uint64_t frames_foreign;               /* well-formed, from a MAC that is not local */
	uint64_t unpinned;                     /* shared MACs removed from a local port */
	uint64_t drops[PKT_DROP_COUNT];        /* frames_dropped by reason (enum pkt_drop) */
};
void learner_stats(const struct learner *l, struct learn_stats *out);

#endif
