/*
 * ldp.h - PortLand's Location Discovery Protocol (SIGCOMM 2009, 3.4) for one switch: from
 * LDMs heard on its ports it infers its level (Algorithm 1), agrees an edge's position with
 * the pod's aggregation switches (Algorithm 2), learns the pod number (from the fabric
 * manager at the position-0 edge, then from neighbours' LDMs), and reports miswiring.
 *
 * Pure, like vipd/vrrp.c: no sockets and no clock of its own. The caller passes `now` to
 * every input, calls ldp_tick at ldp_next_deadline, and receives what to do through ldp_ops.
 * The machine keeps no forwarding state, only the location; "located" is the signal that
 * forwarding may start ("PortLand switches do not begin packet forwarding until their
 * location is established").
 *
 * k is never configured: a k-port switch of a k-ary fat tree has k ports, so k = nports.
 */
#ifndef SWITCHD_LDP_H
#define SWITCHD_LDP_H

#include <stdbool.h>
#include <stdint.h>
#include "addr.h"
#include "monotime.h"
#include "pkt/drop.h"
#include "pkt/ldp.h"

#define LDP_MAX_PORTS 64

/* Timers (struct ldp_timers, switchd.yaml's `ldp` section). The paper gives the LDM period
 * (10 ms, "keepalives to their immediate neighbors every 10ms") and, as recalled, a 50 ms
 * failure timeout; the others are ours. The defaults: */
#define LDP_LDM_PERIOD_US (10 * USEC_PER_MSEC)
#define LDP_DEAD_US (3 * LDP_LDM_PERIOD_US)         /* no LDM for this long: link failed */
/* Alg. 1 "for sufficiently long": a port up this long without an LDM is host-connected,
 * and a switch that heard no more than k/2 switches this long is an edge. Long because a
 * neighbour switch that starts later than this is taken for a host; a switch that starts
 * into a fabric already located does not wait for it (ldp.c, "Level"). */
#define LDP_HOST_TIMEOUT_US (100 * LDP_LDM_PERIOD_US)
/* In LDM periods, whatever the period: */
#define LDP_PROPOSE_PERIODS 5     /* an edge's wait for the replies to a proposal */
#define LDP_HOLD_PERIODS 10       /* an aggregation switch's tentative hold */
#define LDP_POD_RETRY_PERIODS 100 /* the position-0 edge asks the FM again */
#define LDP_PROPOSE_TIMEOUT_US (LDP_PROPOSE_PERIODS * LDP_LDM_PERIOD_US)
#define LDP_HOLD_US (LDP_HOLD_PERIODS * LDP_LDM_PERIOD_US)
#define LDP_POD_RETRY_US (LDP_POD_RETRY_PERIODS * LDP_LDM_PERIOD_US)

/* Bounds ldp_init checks: an LDM period of 1 ms to 1 s; at least 2 periods before a neighbour
 * is lost; a host timeout of at least 10 periods and at most 60 s. */
#define LDP_PERIOD_MIN_US USEC_PER_MSEC
#define LDP_PERIOD_MAX_US USEC_PER_SEC
#define LDP_HOST_TIMEOUT_MAX_US (60 * USEC_PER_SEC)

struct ldp_timers {
	int64_t ldm_us;            /* the LDM period */
	int64_t dead_us;           /* no LDM for this long: the neighbour is lost */
	int64_t host_us;           /* silent this long: a host port */
};

#define LDP_TIMERS_DEFAULT ((struct ldp_timers){ LDP_LDM_PERIOD_US, LDP_DEAD_US, \
						 LDP_HOST_TIMEOUT_US })

enum ldp_port_state {
	LDP_PORT_DOWN,         /* disconnected */
	LDP_PORT_SILENT,       /* up, no LDM heard yet */
	LDP_PORT_HOST,         /* up for the host timeout without an LDM */
	LDP_PORT_SWITCH,       /* LDMs heard */
	LDP_PORT_LOST,         /* was LDP_PORT_SWITCH, no LDM for the dead time */
};

/* What a located switch does with each port. */
enum ldp_role {
	LDP_ROLE_NONE,         /* down, silent, lost or undecided */
	LDP_ROLE_UP,
	LDP_ROLE_DOWN,
	LDP_ROLE_HOST,
	LDP_ROLE_MISWIRED,
};

enum ldp_miswire {
	LDP_MISWIRE_EDGE_EDGE,     /* an edge hears an edge on this port */
	LDP_MISWIRE_LEVEL,         /* a neighbour whose level cannot face ours (agg-agg, core-edge) */
	LDP_MISWIRE_POD,           /* the neighbour claims another pod than ours */
	LDP_MISWIRE_POSITION,      /* an edge claims a position another edge holds */
	LDP_MISWIRE_HOST_PORT,     /* LDMs on a port already found host-connected */
	LDP_MISWIRE_SELF,          /* our own LDMs: two of our ports joined */
	LDP_MISWIRE_COUNT
};

struct ldp_neigh {
	struct mac id;
	enum ldp_level level;
	enum ldp_dir dir;          /* its direction for the link */
	int pod;
	int position;
	uint8_t port;
};

struct ldp_port {
	enum ldp_port_state state;
	struct monotime up_since;
	struct monotime last_rx;
	struct ldp_neigh nb;       /* valid in LDP_PORT_SWITCH and LDP_PORT_LOST */
	uint32_t miswired;         /* bit per enum ldp_miswire, reported once while it holds */
	bool host_seen;            /* LDP_PORT_HOST that a host spoke on (ldp_host_seen) */
};

struct ldp_location {
	bool located;              /* false: a level taken back (ldp.c, "Level"): forward nothing */
	enum ldp_level level;
	int pod;                   /* LDP_NONE for a core */
	int position;              /* LDP_NONE but on an edge */
	int nports;
	enum ldp_role role[LDP_MAX_PORTS];
};

/* Tentative (held until `hold_until`) or final claim of an edge on a position, kept by an
 * aggregation switch (Alg. 2). */
struct ldp_slot {
	struct mac owner;          /* zero when free */
	bool final;
	struct monotime hold_until;
};

struct ldp_counters {
	uint64_t drops[PKT_DROP_COUNT];
	uint64_t miswirings;               /* reports made */
	uint64_t proposals;                /* positions proposed (edge) */
	uint64_t proposal_denied;          /* attempts that a deny ended */
	uint64_t proposal_timeouts;        /* attempts without a majority in time */
	uint64_t stale_replies;            /* replies to an attempt decided or replaced */
	uint64_t pod_requests;             /* asked the fabric manager */
	uint64_t pod_answers_ignored;      /* the FM's answer after the pod was known */
	uint64_t neighbours_lost;          /* the dead time without an LDM */
	uint64_t stalls;                   /* ticks over a period late: a grace period given */
	uint64_t late_switches;            /* host ports that turned out to be a late switch */
	uint64_t level_resets;             /* edge decisions taken back (switches on host ports) */
};

struct ldp;

struct ldp_ops {
	/* Send m out of port (the caller frames it with ldp_build_frame). */
	void (*send)(void *ctx, int port, const struct ldp_msg *m);
	/* Ask the fabric manager for this pod's number; the answer is ldp_pod_assigned. */
	void (*request_pod)(void *ctx);
	/* Located, or the location changed afterwards (a port's role, the pod), or it is
	 * located no more (loc->located false: the level was taken back and is sought again). */
	void (*located)(void *ctx, const struct ldp_location *loc);
	/* A miswiring on port, with the message that showed it. */
	void (*miswired)(void *ctx, int port, enum ldp_miswire why, const struct ldp_msg *seen);
	/* A uniformly random u32: position proposals and their nonces. */
	uint32_t (*random)(void *ctx);
};

struct ldp {
	struct mac id;                     /* the lowest MAC of our ports */
	int nports;                        /* = k */
	enum ldp_level level;
	int pod;
	int position;                      /* final position (edge) */
	struct ldp_port port[LDP_MAX_PORTS];
	struct monotime edge_since;        /* since when no more than k/2 switches were heard */
	int edge_n;                        /* switches heard when edge_since was set */
	struct monotime mixed_since;       /* since when: a silent port, more than k/2 switches,
					      of them no more than k/2 (and some) aggregation */
	struct monotime next_ldm;
	struct monotime graced;            /* the last stall grace (one a dead time at most) */
	struct ldp_timers t;
	/* edge: the attempt under way */
	int proposal;                      /* LDP_NONE when none */
	uint32_t nonce;
	uint64_t accepts, denies;          /* bit per port */
	uint64_t denied_positions;         /* bit per position, not drawn again this round */
	struct monotime proposal_deadline;
	struct monotime pod_retry;
	/* aggregation switch */
	struct ldp_slot slot[LDP_MAX_PORTS / 2];
	bool located;
	struct ldp_location last;          /* as last reported */
	struct ldp_counters c;
	const struct ldp_ops *ops;
	void *ctx;
};

/* 0, or -EINVAL when nports is odd, < 2 or > LDP_MAX_PORTS, id is not a port MAC, or t (NULL:
 * LDP_TIMERS_DEFAULT) is out of the bounds above (ldp_timers_why_not says which). */
int ldp_init(struct ldp *l, const struct mac *id, int nports, struct monotime now,
	     const struct ldp_timers *t, const struct ldp_ops *ops, void *ctx);
/* NULL when t is within the bounds, else what is wrong with it. */
const char *ldp_timers_why_not(const struct ldp_timers *t);
void ldp_port_up(struct ldp *l, struct monotime now, int port);
void ldp_port_down(struct ldp *l, struct monotime now, int port);
/* A message received on port that passed ldp_parse. */
void ldp_rx(struct ldp *l, struct monotime now, int port, const struct ldp_msg *m);
/* The Ethernet payload of an LDP frame received on port: parsed, counted when dropped. */
void ldp_rx_payload(struct ldp *l, struct monotime now, int port, const uint8_t *p, size_t len);
/* A host spoke on port (a frame other than LDP): a host port stays one, and LDMs on it are a
 * miswiring. Until then an LDM on a host port of an edge short of its k/2 uplinks is taken
 * for a switch that started after the host timeout (or booted: carrier came before switchd). */
void ldp_host_seen(struct ldp *l, int port);
/* The fabric manager's answer to request_pod. */
void ldp_pod_assigned(struct ldp *l, struct monotime now, int pod);
/* Fires what is due at now: LDMs, host and edge timeouts, proposals, holds, liveness. */
void ldp_tick(struct ldp *l, struct monotime now);
struct monotime ldp_next_deadline(const struct ldp *l);
/* Whether port's neighbour has been silent for the dead time: the next tick loses it. */
bool ldp_dead_due(const struct ldp *l, int port, struct monotime now);
/* The current location (whether or not located). */
void ldp_location(const struct ldp *l, struct ldp_location *out);

const char *ldp_role_name(enum ldp_role r);
const char *ldp_miswire_name(enum ldp_miswire w);
const char *ldp_port_state_name(enum ldp_port_state s);

#endif
