/*
 * portland_priv.h - what fabricd's PortLand files share (portland.c: sessions, locations,
 * pods, hosts, queries; faults.c: the fault matrix): the switch records as switches
 * reported them. Not for the rest of fabricd, which uses portland.h.
 */
#ifndef FABRICD_PORTLAND_PRIV_H
#define FABRICD_PORTLAND_PRIV_H

#include <net/if.h>
#include "bucket.h"
#include "ipmap.h"
#include "portland.h"

struct pl_port {
	uint8_t port, dir, peer_level, peer_port;
	bool has_peer;
	bool lost;                         /* the neighbour's LDMs stopped (carrier up) */
	bool down;                         /* ... and then its carrier went (peer_*: the last) */
	int64_t lost_since_ms;             /* Unix ms: when a report first said so */
	uint8_t peer_id[MAC_LEN];
	char name[IF_NAMESIZE];
};

struct pl_miswire {
	uint8_t port;
	bool has_peer;
	uint8_t peer_id[MAC_LEN];
	char reason[WIRE_MAX_TEXT + 1];
};

/* A switch as it last said where it is; kept when its session goes (topo shows it). */
struct pl_switch {
	char name[WIRE_ID_MAX + 1];
	struct session *s;                 /* NULL: not connected */
	bool reported;                     /* a location came */
	uint8_t switch_id[MAC_LEN];
	int level;                         /* L2f__SwitchLevel */
	int pod, position;                 /* -1: not known */
	bool located;
	char why[WIRE_MAX_TEXT + 1];
	struct pl_port *ports;
	size_t nports;
	struct pl_miswire *mis;
	size_t nmis;
	int assigned_pod;                  /* the pod fabricd gave it (position 0), or -1 */
	uint32_t nhosts;
	struct bucket flood_rate;          /* the misses it may have flooded */
	struct bucket mcast_rate;          /* the membership reports it may make (mcast.c) */
	/* its row of the fault matrix (faults.c), as last computed, and whether this session
	 * has been sent it */
	struct pl_avoid *avoid;
	size_t navoid;
	uint8_t (*avoid_ids)[MAC_LEN];     /* the neighbours of all its entries: switch ids */
	uint64_t avoid_hash;
	bool avoid_known;                  /* computed at least once */
	bool avoid_sent;
	/* its multicast table (mcast.c): a hash of it as last computed, and whether this
	 * session has it (told: some session was sent a non-empty one) */
	uint64_t mcast_hash;
	bool mcast_known, mcast_sent, mcast_told;
	bool mcast_core;                   /* located as a core once: in the ring of cores */
};

/* One entry of a switch's row of the fault matrix: the destination edge (or every edge of a
 * pod) and which of the switch's up neighbours cannot reach it (n of them at first in the
 * switch's avoid_ids). */
struct pl_avoid {
	uint16_t pod;
	int16_t position;                  /* -1: every edge of the pod */
	uint32_t first, n;
};

enum pl_refusal {
	PLR_SWITCH_ID,                     /* a switch id another connected switch has */
	PLR_NOT_EDGE,                      /* hosts or queries from what is not a located edge */
	PLR_PMAC,                          /* a PMAC not of its pod, position and a host port */
	PLR_POD,                           /* a pod asked by what is not the position-0 edge */
	PLR_HOST_ADDR,                     /* an address no host has */
	PLR_HOSTS_CAP,                     /* over PL_MAX_HOSTS or PL_MAX_HOSTS_PER_EDGE */
	PLR_SWITCHES_CAP,                  /* over PL_MAX_SWITCHES */
	PLR_FLOOD_RATE,                    /* a miss not flooded: over PL_FLOOD_RATE */
	PLR_MCAST_RATE,                    /* a membership report over PL_MCAST_REPORT_RATE */
	PLR_MCAST_EDGE_CAP,                /* a group over PL_MAX_MCAST_GROUPS_PER_EDGE */
	NPLR
};

struct portland {
	struct pl_switch *sw;
	size_t nsw, capsw;
	struct ipmap hosts;
	struct ratelimit rl;
	struct pl_faults *faults;
	struct pl_mcast *mcast;
	struct {
		uint64_t locations, pods_assigned, pods_adopted, pod_requests_held;
		uint64_t hosts_added, hosts_moved, hosts_deleted;
		uint64_t moves_told, moves_untold, moves_told_late;
		uint64_t queries, hits, misses, floods_sent;
		uint64_t refused[NPLR];
	} st;
};


/* Is port one of w's host ports, as its last location said (portland.c)? */
bool pl_host_port(const struct pl_switch *w, uint32_t port);

/* faults.c: the fault matrix (docs/switchd.md, "Faults"). */
int faults_new(struct pl_faults **out);
void faults_free(struct pl_faults *f);
/* Links may have changed (a location came, a session began): the matrix is computed again on
 * the next turn of fd's loop, and the switches whose row changed are sent it. */
void faults_changed(struct portland *pl, struct fabricd *fd);
/* Has the view settled since fabricd started: every switch a report names has reported, or
 * FAULTS_SETTLE_MS have passed. What is handed out from the switches' reports (rows, pods)
 * waits for it after a restart. */
bool faults_settled(struct portland *pl);
/* A switch's session went: its row is sent again to the next one. */
void faults_session_gone(struct pl_switch *w);
void faults_counters(const struct pl_faults *f, fabricd_counter_fn fn, void *ctx);
/* The switch's row as UplinkAvoid messages (for replies): *out malloc'd, NULL when empty. */
int faults_row_msg(const struct pl_switch *w, L2f__UplinkAvoid ***out, size_t *n);

/* The usable links (a link as faults.c judges it): nb[i][p], the switch port p of switch i
 * reaches, or -1. NULL when out of memory; freed with faults_links_free. */
int32_t **faults_links(const struct portland *pl);
void faults_links_free(const struct portland *pl, int32_t **nb);

/* portland.c: n refusals of kind r from session s, counted and logged (rate-limited). */
void pl_refuse(struct portland *pl, enum pl_refusal r, struct session *s, const char *what,
	       uint64_t n);
/* mcast.c: multicast groups and their trees (docs/switchd.md, "Multicast"). */
int mcast_new(struct pl_mcast **out);
void mcast_free(struct pl_mcast *mc);
/* Edge sw's whole membership (validated, from session s), replacing its last; false when
 * the report is refused (over PL_MCAST_REPORT_RATE: the last stays). */
bool mcast_members(struct portland *pl, struct session *s, uint32_t sw,
		   const L2f__McastMembership *mm);
/* Members or links may have changed: the trees are computed again on the next turn of fd's
 * loop, and the switches whose table changed are sent it. */
void mcast_changed(struct portland *pl, struct fabricd *fd);
void mcast_session_gone(struct pl_switch *w);
void mcast_counters(const struct pl_mcast *mc, fabricd_counter_fn fn, void *ctx);

#endif
