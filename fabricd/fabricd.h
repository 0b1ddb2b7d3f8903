/*
 * fabricd.h - the fabric manager's runtime: the directory, the sessions of agents (vtepd,
 * vipd) and of fabricctl, the API store on disk, and the restart grace period during which
 * full tables are held back until the agents that were known have reported again.
 *
 * Sessions are served by role (struct role, one file each): agent.c (vtepd), ha.c (vipd's HA
 * masters), api.c (fabricctl), portland.c (switchd: PortLand's fabric manager). session.c owns the plumbing and dispatches through the table;
 * update.c builds the Updates that agents get and fans changes out to them.
 */
#ifndef FABRICD_FABRICD_H
#define FABRICD_FABRICD_H

#include <stdbool.h>
#include <stdint.h>
#include "directory.h"
#include "config.h"
#include "wire.h"

struct event;
struct event_base;
struct wire_listener;

/* Bounds a peer can make fabricd hit: each is counted, and logged at WARNING at most once
 * per interval (fabricd_bound). Names in session.c, shown by `fabricctl status`. */
enum fabricd_bound {
	BOUND_SESSIONS,                    /* a connection refused: max_sessions reached */
	BOUND_PRE_HELLO,                   /* the oldest session without a Hello evicted */
	BOUND_HELLO_TIMEOUT,               /* no Hello within hello_timeout_ms */
	BOUND_IDLE_TIMEOUT,                /* an API session idle for idle_timeout_ms */
	BOUND_OUTPUT,                      /* output over the high-water mark: reading paused */
	BOUND_STUCK,                       /* ... and closed after staying over it */
	BOUND_FRAME,                       /* a frame over its role's limit */
	BOUND_LISTINGS,                    /* an API listing refused: too many in progress */
	NBOUNDS
};

/* What an authenticated peer asked for and was refused, per reason (docs/protocol.md says
 * which close the session). */
enum fabricd_refusal {
	REFUSE_VTEP_CERT,                  /* Hello: a VTEP its certificate does not name */
	REFUSE_VTEP_TAKEN,                 /* Hello: the VTEP of another connected host */
	REFUSE_VNI,                        /* Learned in a segment its Hello did not name */
	REFUSE_MAC,                        /* Learned: zero, broadcast or multicast MAC */
	REFUSE_IP,                         /* Learned: an address no station has */
	REFUSE_WITHDRAW,                   /* withdrawn a MAC it does not hold */
	REFUSE_MASTER_HOST,                /* vipd: a master other than its own host */
	REFUSE_TLS,                        /* a TCP session whose handshake or certificate failed */
	REFUSE_IDENTITY,                   /* a Hello its certificate does not back */
	REFUSE_PROTOCOL,                   /* a frame that does not decode or validate */
	REFUSE_LEARNED_CAP,                /* Learned beyond lim.max_learned for its host */
	REFUSE_UNEXPECTED,                 /* a message its role does not send: closed */
	REFUSE_ROLE,                       /* a role fabricd does not serve: closed */
	REFUSE_READONLY,                   /* a change asked on the read-only status socket */
	NREFUSALS
};

struct fabricd_stats {
	uint64_t sessions_opened;
	uint64_t sessions_closed_bad;      /* closed for a protocol violation */
	uint64_t bounds[NBOUNDS];
	uint64_t refused[NREFUSALS];
	uint64_t hosts_expired;
	uint64_t reports;
	uint64_t learned_new, learned_moved, learned_stale, learned_duplicate;
	uint64_t updates_sent;
	uint64_t updates_failed;           /* could not be built or queued: session closed */
	uint64_t api_requests;
};

struct session;
struct fabricd;

/* Every counter and limit that `fabricctl status` shows, by name ("sessions.open",
 * "bound.pre_hello"...), to fn: api.c's status, metrics.c. */
typedef void (*fabricd_counter_fn)(void *ctx, const char *name, uint64_t v, bool limit);
void fabricd_counters(struct fabricd *fd, fabricd_counter_fn fn, void *ctx);
struct metrics_out;
/* GET /metrics (metrics.c); ctx is the struct fabricd. */
void fabricd_metrics(struct metrics_out *m, void *ctx);

struct fabricd {
	struct daemon dm;                  /* lib/daemon: options, signals, the event base */
	struct fabricd_cfg cfg;            /* as loaded (config.c); lim below is what runs */
	struct event_base *base;           /* dm.base */
	struct directory dir;
	struct wire_listener *tcp, *unix_api, *unix_status;
	struct wire_tls *tls;              /* the TCP listener's (mutual TLS), or NULL */
	const char *store_path;
	struct journal *journal;           /* the store (store.c), NULL with -S none */
	uint64_t store_durable;            /* the store's records up to this one are on disk */
	struct monotime started;
	char id[WIRE_ID_MAX + 1];
	bool in_grace;                     /* restart grace: no full tables yet */
	struct event *ev_grace;
	struct session *dirty;             /* agents with a pending Update (update.c) */
	struct session *sessions;          /* every open session, newest first */
	uint32_t nsessions, npre_hello;    /* TCP: in all, without a Hello yet */
	uint32_t nunix;                    /* on the Unix socket */
	uint32_t nstatus;                  /* on the read-only status socket */
	uint32_t nlistings;                /* API listings in progress (api_list.c) */
	struct fabricd_limits lim;
	struct event *ev_expiry;           /* host expiry sweep (agent.c) */
	struct fabricd_stats stats;
	struct portland *pl;               /* PortLand's fabric manager (portland.c) */
};

/* An Update being built for one agent. */
struct ubuild {
	L2f__Fdb **add, **del;
	L2f__Flood **flood;
	size_t nadd, ndel, nflood, cap_add, cap_del, cap_flood;
	size_t bytes;
	int err;                           /* the first error building it: it cannot be sent */
};

/* A session's lifecycle. Every role starts in SESS_HELLO; after its Hello an agent is HELD
 * (restart grace) or UP at once once its full table is queued; other roles go UP. */
enum session_state {
	SESS_HELLO,                        /* waiting for the peer's Hello */
	SESS_HELD,                         /* vtepd in the restart grace: no table sent yet */
	SESS_UP,                           /* serving; a vtepd has its table, deltas follow */
};

struct session {
	struct fabricd *fd;
	struct wire *w;
	const struct role *role;           /* set when the Hello is accepted */
	enum session_state state;
	struct session *prev, *next;       /* fd->sessions */
	struct event *ev_timer;            /* Hello deadline, then (API) the idle timeout */
	bool tcp;
	bool readonly;                     /* on the status socket: fabricctl's reads only */
	struct monotime opened;
	int host;                          /* vtepd: host index, else -1 */
	bool reported;                     /* vtepd: its full report arrived */
	struct ubuild pending;             /* vtepd: changes not sent yet */
	void *role_state;                  /* the role's own (api.c: its queue of replies) */
	struct session *next_dirty;
	bool dirty;
	bool closed;                       /* its wire is gone; freed when the loop turns */
};

/* What a role does with its sessions, and what it may make fabricd hold. on_hello may close
 * the session (wire_close). */
struct role {
	L2f__Role role;
	const char *name;
	uint32_t max_frame;                /* the largest frame a peer of this role sends */
	size_t out_hwm;                    /* output high-water mark (wire_set_hwm) */
	int stuck_ms;                      /* ... and how long a peer may stay over it */
	bool idle_timeout;                 /* close it after fd->lim.idle_timeout_ms of nothing */
	void (*on_hello)(struct session *s, const L2f__Hello *hello);
	void (*on_msg)(struct session *s, const L2f__Envelope *env);
	void (*on_close)(struct session *s);
	void (*on_drain)(struct session *s);   /* optional: its output drained (pages) */
};

extern const struct role agent_role;   /* agent.c: vtepd */
extern const struct role ha_role;      /* ha.c: vipd */
extern const struct role api_role;     /* api.c: fabricctl */
extern const struct role switchd_role; /* portland.c: switchd */

/* session.c: accept callbacks of the TCP listener (TLS) and the Unix socket. */
void session_accept_tcp(int fd, const char *peer, void *ctx);
void session_accept_unix(int fd, const char *peer, void *ctx);
/* The read-only status socket: fabricctl's reads only, a session cap of its own. */
void session_accept_status(int fd, const char *peer, void *ctx);
/* The status socket's own bounds: sessions, the oldest evicted for a newcomer once this old,
 * replies queued per session. */
#define STATUS_MAX_SESSIONS 16
#define STATUS_EVICT_MS 3000
#define STATUS_OUT_HWM (256u << 10)
/* The API session had activity: its idle timeout starts again. */
void session_touch(struct session *s);
/* Counts a bound hit and logs it (WARNING, at most once per 10 s per bound). */
void fabricd_bound(struct fabricd *fd, enum fabricd_bound b, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Counts a refusal and logs it (rate-limited the same way). */
void fabricd_refuse(struct fabricd *fd, enum fabricd_refusal r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
extern const char *const fabricd_bound_names[NBOUNDS];
extern const char *const fabricd_refusal_names[NREFUSALS];

/* agent.c */
/* The restart grace is over: every held agent gets its full table. */
void agent_grace_over(struct fabricd *fd);
/* Hosts with no session for lim.host_expiry_s and no API port go (their learned bindings
 * with them), swept periodically from now on. */
void agent_expiry_start(struct fabricd *fd);

/* ha.c: an HA port's master changed (from vipd or the API). 0, or -errno with *why. */
int ha_master_change(struct fabricd *fd, const L2f__Master *m, const char **why);

/* update.c: changes to the directory, fanned out to the agents that must hear of them. They
 * are collected per agent and sent as one Update per agent by update_flush (session.c calls
 * it after each message). An agent whose Update cannot be built or queued is closed, so that
 * it reconnects and gets a full table: never silently skipped. */
void update_binding(struct fabricd *fd, const struct binding *b);
void update_del(struct fabricd *fd, uint32_t vni, const uint8_t mac[MAC_LEN]);
/* Host h's segments or VTEP changed: the other agents of those segments get new flood lists,
 * and every binding living on h is reached at a new address. */
void update_host(struct fabricd *fd, uint16_t h);
void update_flush(struct fabricd *fd);
/* The agent's whole table, in chunks; the session is UP afterwards (or closed). */
void update_send_full(struct session *s);
/* Forgets s (it is closing): its pending Update goes. */
void update_forget(struct session *s);
/* What host h's agent must hold: its flood lists, and its view of binding b (false when it
 * holds nothing for b), added to ub. */
void update_host_floods(const struct directory *d, uint16_t h, struct ubuild *ub);
bool update_host_binding(const struct directory *d, uint16_t h, const struct binding *b,
			 struct ubuild *ub);
void ub_free(struct ubuild *ub);

/* store.c: the API's ports and the known hosts in the journal, so a restart rebuilds without
 * waiting for an orchestrator, and flood lists include hosts that have not reconnected yet.
 * store_open loads the directory (recover: keep the valid part of a damaged journal). The
 * writers append a record before the change is applied (write-ahead) and return its
 * sequence number, durable once api_durable has been called with one at least as high; 0
 * without a store (-S none); or -errno: nothing was written, refuse the change. */
int store_open(struct fabricd *fd, bool recover);
int store_close(struct fabricd *fd);
int64_t store_port_set(struct fabricd *fd, const L2f__Port *p);
int64_t store_port_del(struct fabricd *fd, uint32_t vni, const uint8_t mac[MAC_LEN]);
int64_t store_host_set(struct fabricd *fd, uint16_t h);
int64_t store_host_del(struct fabricd *fd, const char *id);

/* api.c: the store's records up to seq are on disk (err 0), or their fdatasync failed: the
 * replies waiting for them are sent (as errors when it failed). */
void api_durable(struct fabricd *fd, uint64_t seq, int err);


#endif
