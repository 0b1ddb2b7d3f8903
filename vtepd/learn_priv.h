/*
 * learn_priv.h - what vtepd's learner (learn.c: the forwarding database, local MACs and their
 * addresses) and its snooping of ARP and ND (learn_snoop.c) share; see learn.h.
 */
#ifndef VTEPD_LEARN_PRIV_H
#define VTEPD_LEARN_PRIV_H

#include <event2/event.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include "learn.h"
#include "log.h"
#include "macmap.h"
#include "nl.h"
#include "nlq.h"

struct segment {
	struct learner *l;
	uint32_t vni;
	char bridge[IF_NAMESIZE];
	int br_ifindex;
	int vx_ifindex;
	int fd;                    /* packet socket on the bridge */
	struct event *ev_rx;
	bool dumped;               /* the last resync dump of it succeeded */
};

/* One local MAC: what the caller sees, and where the bridge has it. */
struct lmac {
	struct local_mac m;
	struct segment *seg;
	uint16_t vlan;             /* NDA_VLAN, 0 without VLAN filtering */
	int port;                  /* the bridge port it was learned on */
	uint32_t seen;             /* resync generation that last saw it */
};

/* (vni, ip) -> the local MAC that holds the address. */
struct ipent {
	struct ipent *next;
	uint32_t vni;
	struct ipaddr ip;
	struct lmac *owner;
};

struct ipmap {
	struct ipent **buckets;
	size_t nbuckets;           /* a power of two */
	size_t count;
	uint64_t seed;
};

struct learner {
	struct event_base *base;
	struct learn_ops ops;
	void *ctx;
	struct nl mon;             /* RTNLGRP_NEIGH */
	struct nl req;             /* a new segment's dump (blocking: set-up) */
	struct nl rs;              /* resync dumps, read from the event loop */
	struct nlq *nlq;           /* unpinning shared MACs, from the event loop */
	struct event *ev_mon;
	struct event *ev_resync;
	struct event *ev_rs;
	struct {
		bool busy, again;  /* a resync under way; another asked for meanwhile */
		bool intr;         /* the dump under way was flagged inconsistent */
		size_t seg;        /* the segment being dumped */
		uint32_t seq;      /* its request's */
	} rsy;
	struct segment **segs;
	size_t nsegs;
	struct macmap macs;
	struct macmap shared;      /* (vni, mac) of HA ports in flood mode: never learned */
	struct ipmap ips;
	uint32_t gen;
	struct learn_stats st;
	struct ratelimit rl;
};

/* learn.c */
void mon_read(struct learner *l);
void lmac_learn_ip(struct learner *l, struct lmac *lm, const struct ipaddr *ip);

/* learn_snoop.c */
int learn_snoop_open(struct segment *s);

#endif
