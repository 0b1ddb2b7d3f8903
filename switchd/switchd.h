/*
 * switchd.h - what switchd's files share. switchd is one PortLand switch (docs/switchd.md):
 *   switchd.c  main: options, the session with fabricd, the control socket, status
 *   ldpio.c    LDP on the wire: a packet socket per port for EtherType 0x88B5, the pure
 *              state machine (ldp.c) driven by it and by a timer
 *   fwd.c      the data plane (dp.c) programmed from the location LDP found
 *   edge.c     an edge's hosts: PMACs for new source MACs, proxy ARP and ND through fabricd
 *   age.c      host aging, and the holds of the vmids it frees (vmid.c: the vmids)
 *   avoid.c    fabricd's fault matrix row: the up neighbours to avoid per destination
 *   moved.c    migration: an old edge's moved PMACs, and the senders it tells the new one
 *   mcast.c    an edge's IGMP / MLD membership to fabricd; fabricd's multicast table
 */
#ifndef SWITCHD_H
#define SWITCHD_H

#include <stdbool.h>
#include <stdint.h>
#include "addr.h"
#include "bucket.h"
#include "config.h"
#include "daemon.h"
#include "ipmap.h"
#include "ldp.h"
#include "monotime.h"
#include "nl.h"
#include "ports.h"
#include "vmid.h"
#include "wire.h"

struct ctlsrv;
struct dp;
struct event;
struct ring_buffer;

/* One port's packet sockets and their events. */
/* A packet socket on one port whose frames go to fn, up to 64 a turn (port_sock_open). */
struct port_sock {
	struct switchd *s;
	int port;
	int fd;                            /* -1 when not open */
	struct event *ev;
	void (*fn)(struct switchd *s, int port, const uint8_t *f, size_t len);
};

struct sw_io {
	int ldp_fd;                        /* -1 when not open (ldpio.c) */
	struct event *ldp_ev;
	struct port_sock arp, nd;          /* edge.c */
	struct port_sock igmp, mld;        /* mcast.c */
	struct bucket mcast_rate;          /* mcast.c: the IGMP/MLD frames it may still send */
};

/* A host below an edge: its AMAC, PMAC and addresses (edge.c). Keyed by AMAC in `hosts`,
 * by IP in `by_ip` (one entry per address, pointing at the host). */
#define EDGE_MAX_IPS 8
struct edge_host {
	struct mac amac, pmac;
	uint8_t port;
	uint16_t vmid;
	struct ipaddr ips[EDGE_MAX_IPS];
	uint8_t nips;
	struct monotime seen;              /* its last ARP or ND (data frames: the data plane's) */
};

struct edge_ip {
	struct ipaddr ip;                  /* the key, first (lib/ipmap) */
	struct edge_host *h;
};

/* A query waiting for fabricd's answer (or, after a miss, for the host's registration). */
struct edge_query {
	struct ipaddr target;
	struct ipaddr sender;
	struct mac sender_amac;
	uint8_t port;
	bool nd;                           /* an NS (else an ARP request) */
	uint8_t tries;
	uint64_t batch;                    /* the batch it went in (0: none in flight) */
	uint32_t idx;                      /* its place in that batch's answer */
	struct monotime due, created;
};

/* One entry of fabricd's fault matrix row (Portland.avoid): frames for the edge at pod.position
 * (position -1: any edge of the pod) go up only to neighbours not in ids[first..first+n). */
struct sw_avoid {
	uint16_t pod;
	int16_t position;
	uint32_t first, n;
};

/* A group hosts below this edge joined (mcast.c): who, on which port (s->ports index). */
#define MCAST_MAX_MEMBERS 64
#define MCAST_BREAK_MS 200                 /* make before break: stale entries stay this long */
#define MCAST_PORT_RATE 20                 /* IGMP/MLD frames taken from a host port a second */
#define MCAST_PORT_BURST 40
#define MCAST_REPORT_MS 100                /* at most one report to fabricd this often */
struct sw_mgroup {
	struct ipaddr group;
	uint16_t n;
	struct {
		uint8_t port;
		struct mac amac;
	} members[MCAST_MAX_MEMBERS];
};

struct sw_counters {
	uint64_t ldp_rx, ldp_tx, ldp_tx_errors;
	uint64_t arp_rx, nd_rx, arp_answered, nd_answered, queries_sent, misses, floods_rx;
	uint64_t floods_sent, hosts_new, hosts_registered, unknown_src, frames_dropped;
	uint64_t fabric_sessions, located_changes, miswirings;
	uint64_t hosts_aged, hosts_refused;
	uint64_t avoid_tables, avoid_over_cap;
	uint64_t fwd_applies, fwd_apply_us, fwd_apply_us_max;   /* fwd_apply's cost */
	struct {
		uint64_t received, refused, hosts_forgotten, installed, over_cap, expired;
		uint64_t taken_back, trapped, trap_short, trap_stale, arp_sent, na_sent;
		uint64_t tell_limited, tell_evicted, tell_no_address, tell_no_port;
	} moved;
	uint64_t mcast_reports_rx, mcast_reports_dropped, mcast_joins, mcast_leaves;
	uint64_t mcast_groups_over_cap, mcast_members_over_cap, mcast_reports_sent;
	uint64_t mcast_tables, mcast_entries, mcast_entries_over_cap, mcast_entries_removed;
	uint64_t mcast_rate_limited, mcast_reports_coalesced;
};

#define MOVED_TELL_SLOTS 1024              /* moved.c: senders told lately (4-way sets) */
#define MOVED_COUNTERS 19                  /* what moved_counters gives */
struct moved_tell;

struct switchd {
	struct daemon dm;
	struct switchd_cfg cfg;
	struct event_base *base;
	char id[WIRE_ID_MAX + 1];
	struct nl nl;                      /* requests: discovery */
	struct nl mon;                     /* link notifications (carrier) */
	struct event *mon_ev;
	struct sw_iface ports[SWITCHD_MAX_PORTS];
	struct sw_io io[SWITCHD_MAX_PORTS];
	int nports;
	char control[IF_NAMESIZE];         /* the interface to fabricd: not a port */
	struct mac switch_id;
	/* LDP */
	struct ldp ldp;
	struct event *ldp_timer;
	struct ldp_location loc;           /* the last the machine reported */
	bool located;
	struct {
		uint8_t port, why;
		struct mac peer;
	} mis[SWITCHD_MAX_PORTS];
	int nmis;
	/* data plane */
	struct dp *dp;
	char pin_dir[sizeof(((struct switchd_cfg *)0)->bpf_dir) + WIRE_ID_MAX + 2];
	uint32_t salt;
	uint64_t routes_key;               /* the neighbours the routes were made from */
	/* each port's last neighbour, reported as lost (carrier down, or no LDM) until another
	 * is heard or the port turns out to have hosts */
	struct ldp_neigh gone[SWITCHD_MAX_PORTS];
	bool has_gone[SWITCHD_MAX_PORTS];
	/* fabricd's fault matrix row (avoid.c); until one came in this run, the data plane's
	 * destination groups are left as a previous run pinned them */
	struct sw_avoid *avoid;
	size_t navoid;
	struct mac *avoid_ids;
	bool avoid_known;
	int8_t kept_role[SWITCHD_MAX_PORTS];   /* fwd.c: each port's last decided role ... */
	int32_t kept_route[SWITCHD_MAX_PORTS]; /* ... and the pod or position it led to, or -1 */
	struct ring_buffer *unknown;
	struct event *unknown_ev;
	/* migration (moved.c) */
	struct ring_buffer *trapped;
	struct event *trapped_ev, *moved_ev;
	struct moved_tell *tells;          /* MOVED_TELL_SLOTS */
	/* edge */
	struct edge_host *hosts;
	size_t nhosts, caphosts;
	struct ipmap by_ip;
	struct vmids vmids;
	struct event *age_ev;              /* host aging: a few hosts a second */
	size_t age_next;                   /* the host it looks at next */
	struct monotime age_from;          /* no host is older than this: aging was off till then */
	struct edge_query *queries;
	size_t nqueries;
	struct event *query_ev, *retry_ev;
	/* multicast (mcast.c): WIRE_MAX_MCAST_GROUPS slots */
	struct sw_mgroup *mgroups;
	size_t nmgroups;
	bool mcast_unsent;                 /* a change fabricd has not heard yet */
	struct event *mcast_report_ev;     /* the next report, MCAST_REPORT_MS after the last */
	struct monotime mcast_sent_at;     /* the last report sent */
	struct dp_mcast_want *mcast_want;  /* fabricd's last table, as the data plane takes it */
	unsigned n_mcast_want;
	struct event *mcast_ev;            /* the stale entries' removal, MCAST_BREAK_MS later */
	/* fabricd */
	struct wire_client *fc;
	struct wire_tls *tls;
	L2f__Hello hello;
	uint64_t batch_id;
	/* control */
	struct ctlsrv *ctl, *ctl_status;
	struct sw_counters c;
};

/* ldpio.c */
int ldpio_start(struct switchd *s);
void ldpio_stop(struct switchd *s);
/* fabricd's answer to our pod request. */
void ldpio_pod(struct switchd *s, int pod);

/* fwd.c: the data plane from s->loc (and the edge's hosts). 0 or -errno. */
int fwd_open(struct switchd *s);
int fwd_apply(struct switchd *s);
/* After LDMs: the routes again when a neighbour's pod, position or liveness changed. */
void fwd_check_routes(struct switchd *s);
int fwd_host(struct switchd *s, const struct edge_host *h, bool add);
void fwd_close(struct switchd *s);

/* edge.c */
int edge_start(struct switchd *s);
void edge_stop(struct switchd *s);
/* The port's ARP and ND frames (host ports of a located edge). */
void edge_frame(struct switchd *s, int port, const uint8_t *f, size_t len);
/* What fabricd said: answers to our queries, misses to ask our hosts. */
void edge_answers(struct switchd *s, const L2f__ArpBatchAnswer *a);
void edge_floods(struct switchd *s, L2f__ArpMiss *const *m, size_t n);
/* The session is up again: every host registered once more. */
void edge_resend(struct switchd *s);
/* by_ip points into hosts: the addresses of the host now at hosts[i] point at it again. */
void edge_repoint(struct switchd *s, struct edge_host *hosts, size_t i);

/* age.c: host aging and vmid holds. age_init before the hosts are taken over (their vmids
 * are reserved), age_start after (the holds taken over too, the timer started). */
void age_init(struct switchd *s);
int age_start(struct switchd *s);
void age_stop(struct switchd *s);
/* Every host forgotten (at fabricd first, as aging does): the switch is no edge any more. */
void age_forget_all(struct switchd *s);
/* hosts[i] forgotten here only (fabricd told already, or not to be): its data plane entries
 * and addresses dropped, its vmid held; the last host takes its place. */
void age_drop_host(struct switchd *s, size_t i, struct monotime now);

/* avoid.c */
/* fabricd's new row: replaces the last, and the data plane follows. */
void avoid_table(struct switchd *s, const L2f__UplinkAvoidTable *t);
struct dp_dest_want;
/* The destination groups for fwd_apply: the up group (up[0..n_up)) less what each entry
 * avoids, where that leaves some but not all. Returns how many were written to out (at most
 * max), or -1 when no row came yet (the pinned groups stay). */
int avoid_groups(struct switchd *s, const uint32_t *up, unsigned n_up, struct dp_dest_want *out,
		 unsigned max);
void avoid_free(struct switchd *s);
/* The row says port's neighbour does not reach the edge at pod.position (user-space sends). */
bool avoid_port(const struct switchd *s, uint16_t pod, uint8_t position, int port);

/* moved.c */
int moved_start(struct switchd *s);
void moved_stop(struct switchd *s);
/* fabricd's HostMoved: hosts that left this edge. */
void moved_hosts(struct switchd *s, L2f__HostMoved *const *m, size_t n);
/* A host here has pmac (again): it leaves sw_moved. */
void moved_pmac_taken(struct switchd *s, const struct mac *pmac);
/* Every migration counter by name (MOVED_COUNTERS of them), the data plane's events too. */
void moved_counters(const struct switchd *s, void (*fn)(void *ctx, const char *name,
							  uint64_t v), void *ctx);

struct sock_filter;
/* switchd.c: a packet socket of ethertype type (and filter f, nf instructions, if any) on
 * port, read from the event loop into fn. 0 or -errno. */
int port_sock_open(struct switchd *s, int port, uint16_t type, const struct sock_filter *f,
		   size_t nf, void (*fn)(struct switchd *s, int port, const uint8_t *f, size_t len),
		   struct port_sock *ps);
void port_sock_close(struct port_sock *ps);

/* mcast.c */
int mcast_start(struct switchd *s);
void mcast_stop(struct switchd *s);
/* The membership to fabricd (on each new session; changes send it by themselves): now, or
 * MCAST_REPORT_MS after the last report, the changes meanwhile in that one. */
void mcast_report(struct switchd *s);
/* Ports may have stopped being host ports: their members are forgotten. */
void mcast_ports_changed(struct switchd *s);
/* fabricd's multicast table for this switch. */
void mcast_table(struct switchd *s, const L2f__McastTable *t);

struct metrics_out;
/* GET /metrics (metrics.c); ctx is the struct switchd. */
void switchd_metrics(struct metrics_out *m, void *ctx);

/* switchd.c: a Portland message to fabricd; false when the session is down. */
bool switchd_send(struct switchd *s, L2f__Portland *m);
/* Our location to fabricd (after every change, and on each new session). */
void switchd_report(struct switchd *s);
/* The same with the position-0 edge's pod request. */
bool switchd_report_pod_request(struct switchd *s);

#endif
