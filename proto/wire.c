/*
 * wire.c - sessions of the control protocol (see wire.h and docs/protocol.md; what a message
 * must satisfy is in validate.c).
 *
 * A session on a bufferevent (struct wire: Hello first, then envelopes delivered one by one,
 * each frame's length checked against the limit before anything is read or allocated for it),
 * plain or TLS, with backpressure. The sockets under it are in socket.c, the client ends
 * (wire_call, wire_client) in client.c.
 *
 * A session is freed only when no callback of its own is on the stack: wire_close() from
 * inside on_hello/on_msg calls on_close at once and leaves the free to the read loop that
 * invoked the callback, so the loop never touches freed memory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "log.h"
#include "monotime.h"
#include "wire.h"
#include "wire_int.h"

/* Before its Hello a peer is nobody: it may not make us buffer a 16 MiB frame. A Hello with
 * thousands of VNIs still fits. */
#define WIRE_MAX_HELLO (64u << 10)
#define FRAME_HDR 4

struct wire {
	struct bufferevent *bev;
	const struct wire_ops *ops;
	void *ctx;
	struct event *ev_stuck;      /* output over the high-water mark for too long: close */
	size_t hwm;                  /* 0: none */
	int stuck_ms;
	bool over_hwm;               /* reading paused until the output drains below hwm / 4 */
	bool held;                   /* reading paused by the daemon (wire_hold) */
	bool heard;                  /* a plain session got a byte (TLS: see wire_heard) */
	enum wire_close_kind close_kind;
	L2f__Envelope *peer_env;     /* the peer's Hello, kept for wire_peer() */
	uint32_t max_frame;          /* after the Hello: WIRE_MAX_FRAME or what the daemon set */
	int busy;                    /* own callbacks on the stack: defer the free */
	bool connecting;             /* a connect in progress when the session was made */
	bool tls;                    /* a TLS session: peer_ident is set once it handshook */
	bool handshaken;             /* TLS: the handshake is done, peer_ident holds the peer */
	bool closed;                 /* on_close has run */
	struct wire_ident peer_ident;
	char name[WIRE_ID_MAX + 64];
	char why[160];
};


/* Validates env and gives the size of its frame (length + encoding) in *size: 0, -EBADMSG or
 * -EMSGSIZE with *why set. */
static int frame_size(const L2f__Envelope *env, size_t *size, const char **why)
{
	size_t len;
	int ret;

	ret = wire_validate(env, why);
	if (ret)
		return ret;
	len = l2f__envelope__get_packed_size(env);
	if (len > WIRE_MAX_FRAME) {
		*why = "message over WIRE_MAX_FRAME";
		return -EMSGSIZE;
	}
	*size = FRAME_HDR + len;
	return 0;
}

/* Writes env's frame into out, `size` bytes as frame_size() said. */
static void frame_pack(const L2f__Envelope *env, uint8_t *out, size_t size)
{
	uint32_t be = htonl((uint32_t)(size - FRAME_HDR));

	memcpy(out, &be, FRAME_HDR);
	l2f__envelope__pack(env, out + FRAME_HDR);
}

/* --- sessions ------------------------------------------------------------------------------ */

/* The socket's peer address, until the Hello names the peer. */
static void name_from_socket(struct wire *w)
{
	int fd = bufferevent_getfd(w->bev);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		snprintf(w->name, sizeof(w->name), "(connecting)");
	else
		wire_peer_fmt(fd, (struct sockaddr *)&ss, w->name, sizeof(w->name));
}

static void wire_free(struct wire *w)
{
	if (w->ev_stuck)
		event_free(w->ev_stuck);
	if (w->peer_env)
		l2f__envelope__free_unpacked(w->peer_env, NULL);
	free(w);
}

void wire_close(struct wire *w, const char *why)
{
	if (w->closed)
		return;
	w->closed = true;
	if (why != w->why)
		snprintf(w->why, sizeof(w->why), "%s", why);
	w->ops->on_close(w, w->why, w->ctx);
	/* a TLS peer gets a close_notify (best effort, the socket is non-blocking) */
	if (w->tls && w->handshaken)
		SSL_shutdown(bufferevent_openssl_get_ssl(w->bev));
	/* drops what is queued and closes the fd: the peer sees the end now */
	bufferevent_free(w->bev);
	w->bev = NULL;
	if (!w->busy)
		wire_free(w);
}

static void close_fmt(struct wire *w, enum wire_close_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void close_fmt(struct wire *w, enum wire_close_kind kind, const char *fmt, ...)
{
	va_list ap;

	w->close_kind = kind;
	va_start(ap, fmt);
	vsnprintf(w->why, sizeof(w->why), fmt, ap);
	va_end(ap);
	wire_close(w, w->why);
}

static const char *msg_name(L2f__Envelope__MsgCase c)
{
	switch (c) {
	case L2F__ENVELOPE__MSG_HELLO: return "Hello";
	case L2F__ENVELOPE__MSG_UPDATE: return "Update";
	case L2F__ENVELOPE__MSG_REPORT: return "Report";
	case L2F__ENVELOPE__MSG_MASTER: return "Master";
	case L2F__ENVELOPE__MSG_REQUEST: return "Request";
	case L2F__ENVELOPE__MSG_REPLY: return "Reply";
	default: return "nothing";
	}
}

/* One decoded, valid envelope: the Hello first, then anything but a Hello. Takes env. */
static void deliver(struct wire *w, L2f__Envelope *env)
{
	if (!w->peer_env) {
		if (env->msg_case != L2F__ENVELOPE__MSG_HELLO) {
			close_fmt(w, WIRE_CLOSE_PROTOCOL, "%s before Hello", msg_name(env->msg_case));
		} else if (env->hello->version != PROTO_VERSION) {
			close_fmt(w, WIRE_CLOSE_PROTOCOL, "protocol version %u, we speak %u",
				  env->hello->version, PROTO_VERSION);
		} else if (w->tls && (env->hello->role != w->peer_ident.role ||
				      strcmp(env->hello->id, w->peer_ident.id) != 0)) {
			close_fmt(w, WIRE_CLOSE_IDENTITY, "Hello says %s %s, its certificate %s %s",
				  wire_role_name(env->hello->role), env->hello->id,
				  wire_role_name(w->peer_ident.role), w->peer_ident.id);
		} else {
			w->peer_env = env;
			w->max_frame = WIRE_MAX_FRAME;
			snprintf(w->name, sizeof(w->name), "%s %s", wire_role_name(env->hello->role),
				 env->hello->id);
			w->ops->on_hello(w, w->ctx);
			return;
		}
	} else if (env->msg_case == L2F__ENVELOPE__MSG_HELLO) {
		close_fmt(w, WIRE_CLOSE_PROTOCOL, "second Hello");
	} else {
		w->ops->on_msg(w, env, w->ctx);
	}
	l2f__envelope__free_unpacked(env, NULL);
}

static void wire_read(struct bufferevent *bev, void *arg)
{
	struct wire *w = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	w->heard = true;
	w->busy++;
	/* over_hwm: a message handled here queued past the high-water mark; the rest waits */
	while (!w->closed && !w->over_hwm && !w->held) {
		size_t have = evbuffer_get_length(in);
		uint32_t len, limit = w->peer_env ? w->max_frame : WIRE_MAX_HELLO;
		L2f__Envelope *env;
		const char *why;
		uint8_t *frame;

		if (have < FRAME_HDR)
			break;
		evbuffer_copyout(in, &len, FRAME_HDR);
		len = ntohl(len);
		if (len > limit) {
			close_fmt(w, WIRE_CLOSE_LIMIT, "frame of %u bytes over the limit of %u", len,
				  limit);
			break;
		}
		if (have - FRAME_HDR < len)
			break;
		frame = evbuffer_pullup(in, FRAME_HDR + (ssize_t)len);
		if (!frame) {
			wire_close(w, "out of memory");
			break;
		}
		if (wire_decode(frame + FRAME_HDR, len, &env, &why)) {
			close_fmt(w, WIRE_CLOSE_PROTOCOL, "bad message: %s", why);
			break;
		}
		evbuffer_drain(in, FRAME_HDR + len);
		deliver(w, env);
	}
	w->busy--;
	if (w->closed && !w->busy)
		wire_free(w);
}

/* TLS handshake done: the peer's identity comes from its certificate. */
static void handshaken(struct wire *w)
{
	const char *why = NULL;

	if (wire_tls_peer(bufferevent_openssl_get_ssl(w->bev), &w->peer_ident, &why) < 0) {
		close_fmt(w, WIRE_CLOSE_IDENTITY, "TLS: %s", why);
		return;
	}
	w->handshaken = true;
	snprintf(w->name + strlen(w->name), sizeof(w->name) - strlen(w->name), " (%s %s)",
		 wire_role_name(w->peer_ident.role), w->peer_ident.id);
}

/* What went wrong, for a session that got BEV_EVENT_ERROR. */
static void close_error(struct wire *w, short what)
{
	unsigned long e = w->tls ? bufferevent_get_openssl_error(w->bev) : 0;
	int err = EVUTIL_SOCKET_ERROR();
	char buf[128];

	if (e)
		close_fmt(w, WIRE_CLOSE_TLS, "TLS: %s", wire_tls_errstr(e, buf, sizeof(buf)));
	else
		close_fmt(w, WIRE_CLOSE_PEER, "%s: %s", w->connecting ? "connect" :
			  w->tls && !w->handshaken ? "TLS handshake" :
			  (what & BEV_EVENT_READING) ? "read" :
			  (what & BEV_EVENT_WRITING) ? "write" : "socket",
			  err ? strerror(err) : "connection lost");
}

static void wire_event(struct bufferevent *bev, short what, void *arg)
{
	struct wire *w = arg;

	if (what & BEV_EVENT_CONNECTED) {
		w->connecting = false;
		name_from_socket(w);
		if (w->tls)
			handshaken(w);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		w->close_kind = WIRE_CLOSE_PEER;
		wire_close(w, w->tls && !w->handshaken ? "peer closed during the TLS handshake" :
			   "peer closed the connection");
	}
	else if (what & BEV_EVENT_ERROR)
		close_error(w, what);
}

/* --- backpressure ---------------------------------------------------------------------- */

static void stuck(evutil_socket_t fd, short what, void *arg)
{
	struct wire *w = arg;

	close_fmt(w, WIRE_CLOSE_STUCK, "not reading: %zu bytes queued for it for %d ms",
		  wire_pending(w), w->stuck_ms);
}

/* Output past the high-water mark: stop reading the peer's requests (the next message could
 * queue more) and give it stuck_ms to drain, else close it. */
static void check_hwm(struct wire *w)
{
	struct timeval tv;

	if (!w->hwm || w->over_hwm || wire_pending(w) <= w->hwm)
		return;
	w->over_hwm = true;
	bufferevent_disable(w->bev, EV_READ);
	if (!w->ev_stuck)
		w->ev_stuck = evtimer_new(bufferevent_get_base(w->bev), stuck, w);
	tv.tv_sec = w->stuck_ms / 1000;
	tv.tv_usec = (w->stuck_ms % 1000) * 1000;
	if (w->ev_stuck)
		evtimer_add(w->ev_stuck, &tv);
	if (w->ops->on_hwm)
		w->ops->on_hwm(w, true, w->ctx);
}

/* The output drained to the low-water mark (libevent calls this when it is at or below it). */
static void wire_write(struct bufferevent *bev, void *arg)
{
	struct wire *w = arg;

	if (w->closed)
		return;
	w->busy++;
	if (w->over_hwm) {
		w->over_hwm = false;
		if (w->ev_stuck)
			evtimer_del(w->ev_stuck);
		if (!w->held)
			bufferevent_enable(w->bev, EV_READ);
		if (w->ops->on_hwm)
			w->ops->on_hwm(w, false, w->ctx);
		/* what arrived while paused is already in the input buffer: go on with it */
		if (!w->closed && evbuffer_get_length(bufferevent_get_input(w->bev)))
			wire_read(w->bev, w);
	}
	if (!w->closed && w->ops->on_drain)
		w->ops->on_drain(w, w->ctx);
	w->busy--;
	if (w->closed && !w->busy)
		wire_free(w);
}

void wire_hold(struct wire *w, bool hold)
{
	if (w->closed || w->held == hold)
		return;
	w->held = hold;
	if (hold) {
		bufferevent_disable(w->bev, EV_READ);
		return;
	}
	if (!w->over_hwm)
		bufferevent_enable(w->bev, EV_READ);
	/* what arrived meanwhile waits in the input buffer: the caller may be inside one of our
	 * callbacks, so take it from the next loop turn by faking a read event */
	if (evbuffer_get_length(bufferevent_get_input(w->bev)))
		bufferevent_trigger(w->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

void wire_set_hwm(struct wire *w, size_t hwm, int stuck_ms)
{
	w->hwm = hwm;
	w->stuck_ms = stuck_ms;
	bufferevent_setwatermark(w->bev, EV_WRITE, hwm / 4, 0);
}

static int queue(struct wire *w, const L2f__Envelope *env, const char **why)
{
	struct evbuffer *out = bufferevent_get_output(w->bev);
	struct evbuffer_iovec vec;
	size_t size;
	int ret;

	ret = frame_size(env, &size, why);
	if (ret)
		return ret;
	if (evbuffer_reserve_space(out, (ssize_t)size, &vec, 1) != 1 || vec.iov_len < size)
		return -ENOMEM;
	frame_pack(env, vec.iov_base, size);
	vec.iov_len = size;
	return evbuffer_commit_space(out, &vec, 1) ? -ENOMEM : 0;
}

/* A bufferevent for fd: TLS (accepting or connecting by t's side) or plain. */
static struct bufferevent *bev_new(struct event_base *base, int fd, const struct wire_tls *t)
{
	struct bufferevent *bev;
	SSL *ssl;

	if (!t)
		return bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	ssl = wire_tls_ssl(t);
	if (!ssl)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, fd, ssl, wire_tls_is_server(t) ?
					     BUFFEREVENT_SSL_ACCEPTING :
					     BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	/* a peer that closes without close_notify ends the session like a FIN: frames are
	 * length-prefixed, so a cut is never mistaken for a message */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

struct wire *wire_new_tls(struct event_base *base, int fd, const struct wire_tls *tls,
			  const L2f__Hello *hello, const struct wire_ops *ops, void *ctx)
{
	L2f__Envelope env = L2F__ENVELOPE__INIT;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	const char *why = NULL;
	struct wire *w;
	int ret;

	w = calloc(1, sizeof(*w));
	if (!w || evutil_make_socket_nonblocking(fd) < 0)
		goto fail;
	w->ops = ops;
	w->ctx = ctx;
	w->tls = tls != NULL;
	w->bev = bev_new(base, fd, tls);
	if (!w->bev)
		goto fail;
	fd = -1;
	bufferevent_setcb(w->bev, wire_read, wire_write, wire_event, w);
	/* A plain connect still in progress: let libevent finish it and report
	 * BEV_EVENT_CONNECTED (or the error) instead of taking the first writable event for a
	 * connected socket. A TLS session's handshake waits for the connect by itself and
	 * reports BEV_EVENT_CONNECTED when done. */
	if (getpeername(bufferevent_getfd(w->bev), (struct sockaddr *)&ss, &sl) < 0 &&
	    errno == ENOTCONN) {
		if (!tls && bufferevent_socket_connect(w->bev, NULL, 0) < 0)
			goto fail;
		w->connecting = true;
	}
	name_from_socket(w);
	env.msg_case = L2F__ENVELOPE__MSG_HELLO;
	env.hello = (L2f__Hello *)hello;
	ret = queue(w, &env, &why);
	if (ret) {
		log_err("control session %s: cannot send our Hello: %s", w->name,
			why ? why : strerror(-ret));
		goto fail;
	}
	if (bufferevent_enable(w->bev, EV_READ | EV_WRITE) < 0)
		goto fail;
	return w;
fail:
	if (w && w->bev)
		bufferevent_free(w->bev);
	if (fd >= 0)
		close(fd);
	free(w);
	return NULL;
}

struct wire *wire_new(struct event_base *base, int fd, const L2f__Hello *hello,
		      const struct wire_ops *ops, void *ctx)
{
	return wire_new_tls(base, fd, NULL, hello, ops, ctx);
}

int wire_send(struct wire *w, const L2f__Envelope *env)
{
	const char *why = NULL;
	int ret;

	if (w->closed)
		return -ENOTCONN;
	if (env->msg_case == L2F__ENVELOPE__MSG_HELLO) {
		log_err("control session %s: Hello sent twice", w->name);
		return -EBADMSG;
	}
	ret = queue(w, env, &why);
	if (ret && why)
		log_err("control session %s: not sending %s: %s", w->name,
			msg_name(env->msg_case), why);
	if (!ret)
		check_hwm(w);
	return ret;
}

int wire_frame(const L2f__Envelope *env, struct evbuffer **out, const char **why)
{
	struct evbuffer *b;
	struct evbuffer_iovec vec;
	size_t size;
	int ret = frame_size(env, &size, why);

	if (ret)
		return ret;
	b = evbuffer_new();
	if (!b || evbuffer_reserve_space(b, (ssize_t)size, &vec, 1) != 1 || vec.iov_len < size) {
		if (b)
			evbuffer_free(b);
		*why = "out of memory";
		return -ENOMEM;
	}
	frame_pack(env, vec.iov_base, size);
	vec.iov_len = size;
	if (evbuffer_commit_space(b, &vec, 1) < 0) {
		evbuffer_free(b);
		*why = "out of memory";
		return -ENOMEM;
	}
	*out = b;
	return 0;
}

int wire_send_frame(struct wire *w, struct evbuffer *frame)
{
	int ret;

	if (w->closed)
		return -ENOTCONN;
	ret = evbuffer_add_buffer(bufferevent_get_output(w->bev), frame) < 0 ? -ENOMEM : 0;
	if (!ret)
		check_hwm(w);
	return ret;
}

size_t wire_pending(const struct wire *w)
{
	return w->closed ? 0 : evbuffer_get_length(bufferevent_get_output(w->bev));
}

const L2f__Hello *wire_peer(const struct wire *w)
{
	return w->peer_env ? w->peer_env->hello : NULL;
}

const struct wire_ident *wire_ident(const struct wire *w)
{
	return w->tls && w->handshaken ? &w->peer_ident : NULL;
}

bool wire_heard(const struct wire *w)
{
	int pending = 0;

	if (w->closed)
		return false;
	/* the peer has spoken: a plain session got a byte, a TLS one its handshake message */
	/* (TLS: bytes read off the socket by OpenSSL; SSL_in_before() turns false as soon as
	 * our own side of the handshake starts, before the peer has said anything) */
	if (w->heard || (w->tls && (w->handshaken ||
				    BIO_number_read(SSL_get_rbio(bufferevent_openssl_get_ssl(w->bev))))))
		return true;
	/* or its bytes wait in the socket for the loop to read them */
	return ioctl(bufferevent_getfd(w->bev), FIONREAD, &pending) == 0 && pending > 0;
}

enum wire_close_kind wire_close_kind(const struct wire *w)
{
	return w->close_kind;
}

void wire_set_max_frame(struct wire *w, uint32_t max)
{
	w->max_frame = max < WIRE_MAX_FRAME ? max : WIRE_MAX_FRAME;
}

void *wire_ctx(const struct wire *w)
{
	return w->ctx;
}

const char *wire_name(const struct wire *w)
{
	return w->name;
}
