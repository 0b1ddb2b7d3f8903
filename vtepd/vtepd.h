/*
 * vtepd.h - what vtepd.c (the agent: the session with fabricd, the mirror, reports) and
 * status.c (its control socket's answers) share.
 */
#ifndef VTEPD_H
#define VTEPD_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "addr.h"
#include "config.h"
#include "daemon.h"
#include "kernel.h"
#include "macmap.h"
#include "monotime.h"
#include "vtepset.h"
#include "wire.h"


struct ctlsrv;
struct ctlsrv_cleanup;
struct drift;
struct event;
struct event_base;
struct learner;

/* One binding as fabricd wants it programmed here. */
struct want {
	uint32_t vni;
	struct mac mac;
	bool has_dst;                  /* exactly one VTEP: a unicast FDB entry */
	bool flood;                    /* an HA port in flood mode: shared, never pinned */
	struct ipaddr dst;
	uint8_t nips;                  /* at most WIRE_MAX_IPS, the validator's bound */
	struct ipaddr *ips;
	uint64_t seq;
};

struct seg {
	uint32_t vni;
	char bridge[IF_NAMESIZE];
	int vx_ifindex, br_ifindex;
	struct ipaddr *flood;          /* malloc'd, sorted: the segment's other VTEPs */
	size_t nflood;
};

/* What the control socket reports; counted since start. */
struct vtepd_counters {
	uint64_t updates;                      /* Update messages from fabricd */
	uint64_t full_tables;                  /* full tables received to their last part */
	uint64_t reports;                      /* Report messages sent */
	uint64_t reconciles;
	int reconcile_err;                     /* of the last reconcile: 0 or -errno */
	struct kstats reconcile_last;
	time_t reconcile_at;                   /* wall clock, 0: never */
};

struct vtepd {
	struct daemon dm;                      /* lib/daemon: options, signals, the event base */
	struct vtepd_cfg cfg;                  /* as started (config.c) */
	struct event_base *base;               /* dm.base */
	struct kernel *k;
	struct learner *lr;
	struct drift *drift;                   /* puts back what of ours went (drift.c) */
	struct ctlsrv *ctl;
	struct ctlsrv *ctl_status;         /* read-only, mode 0666, when configured */
	const char *ctl_path;
	char id[WIRE_ID_MAX + 1];
	struct ipaddr vtep;
	const char *underlay;
	const char *fabricd;
	struct seg segs[MAX_SEGS];
	size_t nsegs;
	struct macmap want;
	struct vtepset known;                  /* the fabric's VTEPs, for flood ownership */
	struct wire_client *fc;                /* the session with fabricd (proto/client.c) */
	struct wire_tls *tls;                  /* for fabricd over TCP */
	L2f__Hello hello;                      /* what we say: id, VTEP, segments */
	uint32_t hello_vnis[MAX_SEGS];
	bool in_full;                          /* a full table is arriving */
	struct vtepd_counters c;
};

/* The answers of the control socket (status.c): r->agent_status or r->agent_fdb, in memory
 * that cl frees once the reply is sent; r->error when out of memory. */
void vtepd_status_reply(struct vtepd *v, L2f__Reply *r, struct ctlsrv_cleanup *cl);
void vtepd_fdb_reply(struct vtepd *v, L2f__Reply *r, struct ctlsrv_cleanup *cl);

struct metrics_out;
/* GET /metrics (metrics.c); ctx is the struct vtepd. */
void vtepd_metrics(struct metrics_out *m, void *ctx);

#endif
