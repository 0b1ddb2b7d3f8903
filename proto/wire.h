/*
 * wire.h - sessions of the control protocol (fabric.proto): Envelopes framed by a u32 length
 * (network order) over a connected stream socket (TCP for agents, Unix for fabricctl), on
 * libevent. Each side sends a Hello first; a session whose peer sends anything else first, a
 * different version, a frame over WIRE_MAX_FRAME, bytes that do not decode, or a message that
 * fails validation (wire_validate) is closed with a reason - that session and nothing else.
 * Sockets are written with writev(): a process using sessions must ignore SIGPIPE.
 */
#ifndef L2_WIRE_H
#define L2_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "fabric.pb-c.h"
#include "monotime.h"
#include "tls.h"

#define PROTO_VERSION 1
#define WIRE_MAX_FRAME (16u << 20)
#define WIRE_ID_MAX 64
#define VNI_MAX 0xffffffu

/* --- Limits of the repeated fields -----------------------------------------------------------
 * The most entries each list of a message may hold. wire_validate refuses a message with one
 * more ("Fdb with 9 VTEPs, at most 8"; a reason with numbers in it is per-thread storage,
 * good until the next one), so a receiver sized to these never has to clip a list, and a sender
 * learns at wire_send that it built a message no peer would take. Lists whose receiver would
 * act on an entry twice (Hello.vnis, Fdb.vteps, Flood.vteps, every ips, Port.hosts) may not
 * name one twice either. docs/protocol.md, "Limits and liveness", has them as a table. */
#define WIRE_MAX_VNIS 4096            /* Hello.vnis, Host.vnis; the Flood lists of an Update
				       * or a Reply (one per segment of the host) */
#define WIRE_MAX_PORT_HOSTS 8         /* Port.hosts, Fdb.vteps: the instances of an HA port */
#define WIRE_MAX_IPS 16               /* Fdb.ips, Learned.ips, Port.ips */
#define WIRE_MAX_FLOOD_VTEPS 4096     /* Flood.vteps: every other VTEP of a segment */
#define WIRE_MAX_ENTRIES (1u << 20)   /* Update.add, Update.del, Report.entries, Reply.ports,
				       * Reply.fdb */
#define WIRE_MAX_HOSTS 65534          /* Reply.hosts */
#define WIRE_MAX_COUNTERS 256         /* Status.counters, Status.limits, VipInterface.drops */
#define WIRE_MAX_VIP_GROUPS 256       /* VipStatus.groups, .interfaces (VIPD_MAX_GROUPS) */
#define WIRE_MAX_VIP_ADDRS 64         /* VipGroup.addresses (VIPD_MAX_ADDRS) */
#define WIRE_MAX_PL_BATCH 65536       /* each list of a Portland message */
#define WIRE_MAX_SWITCH_PORTS 256     /* SwitchLocation.ports, .miswirings: a port is 8 bits */
#define WIRE_MAX_SWITCHES 65536       /* Reply.switches */
#define WIRE_MAX_TEXT 256             /* SwitchLocation.why, Miswiring.reason */
#define WIRE_MAX_MCAST_GROUPS 1024    /* McastMembership.groups: the groups of one edge */
#define WIRE_MAX_MCAST_ENTRIES 16384  /* McastTable.entries: one switch's (group, in port) */
#define WIRE_MAX_MCAST_FABRIC 4096    /* Reply.mcast_groups: the groups of the fabric */
/* --- end of the limits ------------------------------------------------------------------- */

struct event_base;
struct evbuffer;
struct wire;

/* Why a session ended, for counters (the text reason is for logs). */
enum wire_close_kind {
	WIRE_CLOSE_LOCAL,              /* this side's wire_close */
	WIRE_CLOSE_PEER,               /* the peer closed, or the socket failed */
	WIRE_CLOSE_TLS,                /* the TLS handshake or a record failed */
	WIRE_CLOSE_IDENTITY,           /* no usable certificate, or a Hello it does not back */
	WIRE_CLOSE_PROTOCOL,           /* a frame that does not decode or validate, Hello rules */
	WIRE_CLOSE_LIMIT,              /* a frame over the limit */
	WIRE_CLOSE_STUCK,              /* output over the high-water mark for too long */
};

struct wire_ops {
	/* The peer's Hello arrived and was accepted (wire_peer() now returns it). */
	void (*on_hello)(struct wire *w, void *ctx);
	/* Any later message; the envelope is freed after the callback returns. */
	void (*on_msg)(struct wire *w, const L2f__Envelope *env, void *ctx);
	/* The session is over (peer closed, error, protocol violation); `why` says which. The
	 * wire is freed right after this returns: do not touch it afterwards. */
	void (*on_close)(struct wire *w, const char *why, void *ctx);
	/* Optional: the output went over the high-water mark (over true; reading paused) or
	 * drained back (false; reading resumed). */
	void (*on_hwm)(struct wire *w, bool over, void *ctx);
	/* Optional: the output drained to a quarter of the high-water mark (a producer of pages
	 * may queue the next one). */
	void (*on_drain)(struct wire *w, void *ctx);
};

/* Takes ownership of fd (connected, or connecting when non-blocking), sends `hello` at once.
 * NULL on allocation failure or a hello that fails wire_validate (fd is closed then). */
struct wire *wire_new(struct event_base *base, int fd, const L2f__Hello *hello,
		      const struct wire_ops *ops, void *ctx);
/* The same over TLS (tls NULL: plain): the handshake (accepting or connecting, by tls's side)
 * comes first, the Hello is queued until it is done, and the peer's Hello must name the role
 * and id of its certificate (else the session is closed with both in the reason). */
struct wire *wire_new_tls(struct event_base *base, int fd, const struct wire_tls *tls,
			  const L2f__Hello *hello, const struct wire_ops *ops, void *ctx);
/* Encodes and queues env: 0, or -EMSGSIZE / -ENOMEM; -EBADMSG (logged with the reason) when env
 * fails wire_validate or is a Hello (sent by wire_new only); -ENOTCONN after wire_close. */
int wire_send(struct wire *w, const L2f__Envelope *env);
/* Bytes queued for the peer and not yet written (backpressure). */
size_t wire_pending(const struct wire *w);
/* Backpressure: once more than hwm bytes are queued, the peer's next messages are not read
 * until the output drains to hwm / 4, and a session that stays over hwm for stuck_ms is closed
 * (WIRE_CLOSE_STUCK). hwm 0: none (the default). */
void wire_set_hwm(struct wire *w, size_t hwm, int stuck_ms);
/* Stops (hold) or resumes reading the peer's messages: a daemon with too much in flight for
 * one session. Messages that arrived meanwhile are delivered after a resume. */
void wire_hold(struct wire *w, bool hold);
/* A message encoded and validated as one frame in a new evbuffer, to send later with
 * wire_send_frame (which takes its content). 0, or -EBADMSG / -EMSGSIZE / -ENOMEM with *why. */
int wire_frame(const L2f__Envelope *env, struct evbuffer **out, const char **why);
int wire_send_frame(struct wire *w, struct evbuffer *frame);
/* Whether the peer has sent anything yet (for a TLS session: a handshake message). */
bool wire_heard(const struct wire *w);
enum wire_close_kind wire_close_kind(const struct wire *w);
/* Closes now (what is still queued is dropped): on_close is called with why. Safe from inside
 * this session's callbacks (from on_close it does nothing). */
void wire_close(struct wire *w, const char *why);
/* The peer's Hello, or NULL before it came. */
const L2f__Hello *wire_peer(const struct wire *w);
/* A TLS session's peer as its certificate proves it, once handshaken; NULL for a plain one
 * (a Unix socket, trusted by its file mode). */
const struct wire_ident *wire_ident(const struct wire *w);
/* The largest frame the peer may send from now on (at most WIRE_MAX_FRAME): what its role
 * needs. */
void wire_set_max_frame(struct wire *w, uint32_t max);
void *wire_ctx(const struct wire *w);
/* "ROLE id" of the peer, or the socket's peer address before its Hello, for log lines. */
const char *wire_name(const struct wire *w);

/* Checks what protobuf cannot: MACs 6 bytes, addresses 4 or 16, VNIs <= VNI_MAX, ids 1..64
 * printable ASCII bytes without space, enums known, exactly one member of each oneof set, no
 * field numbered 0. 0, or -EBADMSG with a reason. */
int wire_validate(const L2f__Envelope *env, const char **why);
/* The address in a validated message's bytes (4: IPv4, 16: IPv6). */
void wire_ipaddr(struct ipaddr *a, const ProtobufCBinaryData *b);
/* Decodes one frame's payload (no length prefix) and validates it: 0 and *out (free with
 * l2f__envelope__free_unpacked(*out, NULL)), or -EBADMSG with a reason. For fuzzing too. */
int wire_decode(const uint8_t *buf, size_t len, L2f__Envelope **out, const char **why);

/* Listening sockets whose accepted connections are handed to accept_cb (fd, peer addr text). */
typedef void (*wire_accept_cb)(int fd, const char *peer, void *ctx);
struct wire_listener;
/* addr: "198.18.0.2:7301" or "[2001:db8::2]:7301". NULL and *err = -errno on failure. */
struct wire_listener *wire_listen_tcp(struct event_base *base, const char *addr,
				      wire_accept_cb cb, void *ctx, int *err);
/* Creates the parent directory if missing, refuses a path a live server holds. */
struct wire_listener *wire_listen_unix(struct event_base *base, const char *path,
				       wire_accept_cb cb, void *ctx, int *err);
void wire_listener_free(struct wire_listener *l);
struct wire_listener_stats {
	uint64_t accepted;
	uint64_t accept_errors;
	uint64_t pauses;               /* out of descriptors: accepting paused for 100 ms */
};
const struct wire_listener_stats *wire_listener_stats(const struct wire_listener *l);

/* Non-blocking connect to "host:port": fd (the connect may still be in progress), or -errno. */
int wire_connect_tcp(const char *addr);
/* The same for "host:port" or "unix:/path" (a Unix socket, e.g. fabricd's API socket). */
#define WIRE_UNIX_PREFIX "unix:"
int wire_connect(const char *addr);
/* 0 when addr is a valid "host:port" (numeric, IPv6 in brackets) or "unix:/absolute/path",
 * else -EINVAL or -ENAMETOOLONG. */
int wire_addr_check(const char *addr);
/* An id as the protocol takes it: 1..WIRE_ID_MAX-1 bytes of printable ASCII, no space. 0 or -1. */
int wire_id_check(const char *s);

/* A CLI's call (client.c): connect to addr ("/path" or "unix:/path": a Unix socket, no TLS;
 * "host:port": TCP with tls, required), exchange Hellos (ours of role FABRICCTL, over TLS
 * with our certificate's id; the peer's a daemon's: fabricd, or a vipd or vtepd on its
 * control socket), send req (a Request envelope) and
 * hand each Reply to cb until one without `more` (a reply too large for one frame comes in
 * pages) or cb returns non-zero. Each page must come within timeout_ms. 0, or -errno with
 * *why set. */
typedef int (*wire_reply_cb)(const L2f__Reply *r, void *ctx);
int wire_call(const char *addr, const struct wire_tls *tls, const L2f__Envelope *req,
	      wire_reply_cb cb, void *ctx, int timeout_ms, const char **why);

/* The session an agent keeps with fabricd (client.c): connected to addr ("host:port" with TLS,
 * or "unix:/path" without), sending hello (kept by the caller for the client's life) first,
 * and reconnected after every close with backoff (100 ms doubling to 2 s, with jitter).
 * ops->on_hello runs once fabricd's Hello came (the peer's role is checked), on_msg for
 * every later message, on_close only for a session that had reached on_hello. */
struct wire_client_opts {
	const char *addr;
	const struct wire_tls *tls;
	const L2f__Hello *hello;
	const struct wire_ops *ops;
	void *ctx;
};

struct wire_client_status {
	bool connected;                /* the current session's Hellos are exchanged */
	struct monotime since;         /* connected, or not, since then */
	time_t since_wall;
	uint64_t sessions;             /* sessions that got as far as fabricd's Hello */
	uint64_t attempts;             /* connects tried */
	char last_error[160];          /* why the last attempt or session ended, "" if none */
};

struct wire_client;
/* Starts connecting at once. 0, -EINVAL (bad address), -EPERM (host:port without TLS) or
 * -ENOMEM. */
int wire_client_new(struct event_base *base, const struct wire_client_opts *o,
		    struct wire_client **out);
/* Closes the session (without calling on_close) and frees c; NULL is fine. */
void wire_client_free(struct wire_client *c, const char *why);
/* The session once fabricd's Hello came, else NULL (also for c NULL: not started yet). */
struct wire *wire_client_session(const struct wire_client *c);
/* Its state; for c NULL (not started yet) all zero. */
const struct wire_client_status *wire_client_status(const struct wire_client *c);
const char *wire_client_addr(const struct wire_client *c);

#endif
