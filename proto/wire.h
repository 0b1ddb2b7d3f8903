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
#include "fabric.pb-c.h"

#define PROTO_VERSION 1
#define WIRE_MAX_FRAME (16u << 20)
#define WIRE_ID_MAX 64
#define VNI_MAX 0xffffffu

struct event_base;
struct wire;

struct wire_ops {
	/* The peer's Hello arrived and was accepted (wire_peer() now returns it). */
	void (*on_hello)(struct wire *w, void *ctx);
	/* Any later message; the envelope is freed after the callback returns. */
	void (*on_msg)(struct wire *w, const L2f__Envelope *env, void *ctx);
	/* The session is over (peer closed, error, protocol violation); `why` says which. The
	 * wire is freed right after this returns: do not touch it afterwards. */
	void (*on_close)(struct wire *w, const char *why, void *ctx);
};

/* Takes ownership of fd (connected, or connecting when non-blocking), sends `hello` at once.
 * NULL on allocation failure or a hello that fails wire_validate (fd is closed then). */
struct wire *wire_new(struct event_base *base, int fd, const L2f__Hello *hello,
		      const struct wire_ops *ops, void *ctx);
/* Encodes and queues env: 0, or -EMSGSIZE / -ENOMEM; -EBADMSG (logged with the reason) when env
 * fails wire_validate or is a Hello (sent by wire_new only); -ENOTCONN after wire_close. */
int wire_send(struct wire *w, const L2f__Envelope *env);
/* Writes what is queued now, as far as the socket takes it without blocking, instead of at
 * the event loop's next turn: for a caller about to block (an fsync) that must not delay
 * the peer. */
void wire_flush(struct wire *w);
/* Bytes queued for the peer and not yet written (backpressure). */
size_t wire_pending(const struct wire *w);
/* Closes now (what is still queued is dropped): on_close is called with why. Safe from inside
 * this session's callbacks (from on_close it does nothing). */
void wire_close(struct wire *w, const char *why);
/* The peer's Hello, or NULL before it came. */
const L2f__Hello *wire_peer(const struct wire *w);
void *wire_ctx(const struct wire *w);
/* "ROLE id" of the peer, or the socket's peer address before its Hello, for log lines. */
const char *wire_name(const struct wire *w);

/* Checks what protobuf cannot: MACs 6 bytes, addresses 4 or 16, VNIs <= VNI_MAX, ids 1..64
 * printable ASCII bytes without space, enums known, exactly one member of each oneof set, no
 * field numbered 0. 0, or -EBADMSG with a reason. */
int wire_validate(const L2f__Envelope *env, const char **why);
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

/* Non-blocking connect to "host:port": fd (the connect may still be in progress), or -errno. */
int wire_connect_tcp(const char *addr);
/* The same for "host:port" or "unix:/path" (a Unix socket, e.g. fabricd's API socket). */
#define WIRE_UNIX_PREFIX "unix:"
int wire_connect(const char *addr);
/* 0 when addr is a valid "host:port" (numeric, IPv6 in brackets) or "unix:/absolute/path",
 * else -EINVAL or -ENAMETOOLONG. */
int wire_addr_check(const char *addr);

/* Blocking client for CLIs: connect to a Unix socket, exchange Hellos (role FABRICCTL, the
 * peer's must be FABRICD), send req (a Request envelope), wait for one Reply envelope, all
 * within timeout_ms. 0 and *reply (free with
 * l2f__envelope__free_unpacked), or -errno with *why set. */
int wire_call(const char *path, const L2f__Envelope *req, L2f__Envelope **reply,
	      int timeout_ms, const char **why);

#endif
