/*
 * wire.c - sessions of the control protocol (see wire.h and docs/protocol.md; what a message
 * must satisfy is in validate.c).
 *
 * A session on a bufferevent (struct wire: Hello first, then envelopes delivered one by one,
 * each frame's length checked against the limit before anything is read or allocated for it),
 * and the sockets around it (TCP and Unix listeners, non-blocking TCP connect, the blocking
 * wire_call for CLIs).
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
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "log.h"
#include "monotime.h"
#include "unixsock.h"
#include "wire.h"

/* Before its Hello a peer is nobody: it may not make us buffer a 16 MiB frame. A Hello with
 * thousands of VNIs still fits. */
#define WIRE_MAX_HELLO (64u << 10)
#define FRAME_HDR 4
/* Dead peers (a host that lost power sends no FIN): keepalive probes after 10 s idle, every
 * 5 s, 3 unanswered end it; unacknowledged data ends it after 30 s. */
#define TCP_IDLE_S 10
#define TCP_INTVL_S 5
#define TCP_CNT 3
#define TCP_USER_TIMEOUT_MS 30000

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

struct wire_listener {
	struct evconnlistener *lev;
	struct event *ev_resume;     /* accept paused (out of descriptors): retry later */
	wire_accept_cb cb;
	void *ctx;
	bool tcp;
	struct wire_listener_stats st;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* Accepting is paused this long when the process or system is out of descriptors: the
 * listener stays readable meanwhile, and retrying at once would spin. */
#define ACCEPT_PAUSE_MS 100

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

/* "198.18.0.2:7301", "[2001:db8::2]:7301", or for a Unix socket its peer's pid and uid. */
static void peer_fmt(int fd, const struct sockaddr *sa, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];
	struct ucred cred;
	socklen_t cl = sizeof(cred);

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0) {
		snprintf(buf, size, "unix pid %d uid %u", (int)cred.pid, (unsigned int)cred.uid);
	} else {
		snprintf(buf, size, "unix");
	}
}

/* The socket's peer address, until the Hello names the peer. */
static void name_from_socket(struct wire *w)
{
	int fd = bufferevent_getfd(w->bev);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		snprintf(w->name, sizeof(w->name), "(connecting)");
	else
		peer_fmt(fd, (struct sockaddr *)&ss, w->name, sizeof(w->name));
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
	/* TLS: the ClientHello (or ServerHello) was taken in, so the peer has spoken */
	if (w->tls && !w->closed)
		return w->handshaken || !SSL_in_before(bufferevent_openssl_get_ssl(w->bev));
	return w->heard;
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

/* --- sockets ------------------------------------------------------------------------------- */

/* "198.18.0.2:7301" or "[2001:db8::2]:7301", numeric only (no DNS inside an event loop). */
static int parse_hostport(const char *addr, struct sockaddr_storage *ss, socklen_t *sl)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST,
	};
	char host[INET6_ADDRSTRLEN + 16];
	const char *colon = strrchr(addr, ':');
	const char *start = addr;
	struct addrinfo *res;
	unsigned long port = 0;
	size_t hlen;

	if (!colon || !colon[1] || strlen(colon + 1) > 5)
		return -EINVAL;
	/* getaddrinfo() would take "65536" as port 0 */
	for (const char *p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port == 0 || port > 65535)
		return -EINVAL;
	hlen = (size_t)(colon - addr);
	if (addr[0] == '[') {
		if (hlen < 2 || colon[-1] != ']')
			return -EINVAL;
		start++;
		hlen -= 2;
	} else if (memchr(addr, ':', hlen)) {
		return -EINVAL;    /* IPv6 without brackets */
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, start, hlen);
	host[hlen] = '\0';
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return -EINVAL;
	if (res->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(res);
		return -EINVAL;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	/* sin_port and sin6_port sit at the same offset */
	((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	return 0;
}

static void tcp_tune(int fd)
{
	static const int one = 1, idle = TCP_IDLE_S, intvl = TCP_INTVL_S, cnt = TCP_CNT;
	static const unsigned int user_timeout = TCP_USER_TIMEOUT_MS;

	/* small messages that someone is waiting for: no Nagle delay */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
}

static void listener_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
			    int salen, void *arg)
{
	struct wire_listener *l = arg;
	char peer[INET6_ADDRSTRLEN + 32];

	l->st.accepted++;
	if (l->tcp)
		tcp_tune(fd);
	peer_fmt(fd, sa, peer, sizeof(peer));
	l->cb(fd, peer, l->ctx);
}

static void listener_resume(evutil_socket_t fd, short what, void *arg)
{
	struct wire_listener *l = arg;

	evconnlistener_enable(l->lev);
}

static void listener_error(struct evconnlistener *lev, void *arg)
{
	static struct ratelimit rl = RATELIMIT_INIT(10000, 1);
	static const struct timeval pause = { 0, ACCEPT_PAUSE_MS * 1000 };
	struct wire_listener *l = arg;
	int err = EVUTIL_SOCKET_ERROR();
	bool out_of_fds = err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;

	l->st.accept_errors++;
	/* out of descriptors or memory: the pending connection stays queued, and accept would
	 * fail again at once: pause (as bgpd does) instead of spinning */
	if (out_of_fds) {
		l->st.pauses++;
		evconnlistener_disable(l->lev);
		evtimer_add(l->ev_resume, &pause);
	}
	log_rl(&rl, LOG_LVL_WARN, "control listener %s: accept: %s%s", l->tcp ? "tcp" : l->path,
	       strerror(err), out_of_fds ? ": accepting paused for 100 ms" : "");
}

const struct wire_listener_stats *wire_listener_stats(const struct wire_listener *l)
{
	return &l->st;
}

static struct wire_listener *listener_new(struct event_base *base, const struct sockaddr *sa,
					  socklen_t sl, wire_accept_cb cb, void *ctx, int *err)
{
	struct wire_listener *l = calloc(1, sizeof(*l));

	if (!l) {
		*err = -ENOMEM;
		return NULL;
	}
	l->cb = cb;
	l->ctx = ctx;
	l->tcp = sa->sa_family != AF_UNIX;
	l->lev = evconnlistener_new_bind(base, listener_accept, l,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
					 LEV_OPT_REUSEABLE, 64, sa, (int)sl);
	if (!l->lev) {
		*err = errno ? -errno : -EINVAL;
		free(l);
		return NULL;
	}
	evconnlistener_set_error_cb(l->lev, listener_error);
	l->ev_resume = evtimer_new(base, listener_resume, l);
	if (!l->ev_resume) {
		evconnlistener_free(l->lev);
		free(l);
		*err = -ENOMEM;
		return NULL;
	}
	*err = 0;
	return l;
}

struct wire_listener *wire_listen_tcp(struct event_base *base, const char *addr,
				      wire_accept_cb cb, void *ctx, int *err)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	*err = parse_hostport(addr, &ss, &sl);
	if (*err)
		return NULL;
	return listener_new(base, (struct sockaddr *)&ss, sl, cb, ctx, err);
}

struct wire_listener *wire_listen_unix(struct event_base *base, const char *path,
				       wire_accept_cb cb, void *ctx, int *err)
{
	struct wire_listener *l;
	struct sockaddr_un sun;

	*err = unixsock_prepare(path);
	if (!*err)
		*err = unixsock_addr(path, &sun);
	if (*err)
		return NULL;
	l = listener_new(base, (struct sockaddr *)&sun, sizeof(sun), cb, ctx, err);
	if (!l)
		return NULL;
	snprintf(l->path, sizeof(l->path), "%s", path);
	chmod(path, 0660);
	return l;
}

void wire_listener_free(struct wire_listener *l)
{
	if (!l)
		return;
	evconnlistener_free(l->lev);
	event_free(l->ev_resume);
	if (!l->tcp)
		unlink(l->path);
	free(l);
}

int wire_addr_check(const char *addr)
{
	struct sockaddr_storage ss;
	struct sockaddr_un sun;
	socklen_t sl;

	if (!strncmp(addr, WIRE_UNIX_PREFIX, strlen(WIRE_UNIX_PREFIX))) {
		addr += strlen(WIRE_UNIX_PREFIX);
		return addr[0] == '/' ? unixsock_addr(addr, &sun) : -EINVAL;
	}
	return parse_hostport(addr, &ss, &sl);
}

int wire_connect(const char *addr)
{
	if (!strncmp(addr, WIRE_UNIX_PREFIX, strlen(WIRE_UNIX_PREFIX)))
		return unixsock_connect(addr + strlen(WIRE_UNIX_PREFIX));
	return wire_connect_tcp(addr);
}

int wire_connect_tcp(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, ret;

	ret = parse_hostport(addr, &ss, &sl);
	if (ret)
		return ret;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	tcp_tune(fd);
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}
