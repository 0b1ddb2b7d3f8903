/*
 * client.c - the client ends of the control protocol: wire_call, one request and its replies
 * for CLIs (on a private event loop, over a Unix socket or TCP with TLS; a reply too large
 * for one frame comes in pages, each handed to the caller as it arrives), and wire_client,
 * the session that agents (vtepd, vipd) keep with fabricd: reconnected with backoff and
 * jitter under one ceiling, its state (connected, since, sessions, last error) for status.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "unixsock.h"
#include "wire.h"

struct call {
	struct event_base *base;
	struct wire *w;
	struct event *timer;
	struct timeval timeout;
	const L2f__Envelope *req;
	wire_reply_cb cb;
	void *ctx;
	int err;
	bool done;
	const char *why;
};

/* wire_call's *why outlives the call: a CLI makes one call at a time */
static char call_why[192];

static void call_end(struct call *c, int err, const char *why)
{
	if (!c->done) {
		c->done = true;
		c->err = err;
		c->why = why;
	}
	if (c->w)
		wire_close(c->w, "call over");
	event_base_loopbreak(c->base);
}

static void call_hello(struct wire *w, void *ctx)
{
	struct call *c = ctx;
	int err;

	/* fabricd, or a vipd or vtepd on its control socket (ctlsrv.c) */
	if (wire_peer(w)->role == L2F__ROLE__ROLE_FABRICCTL) {
		call_end(c, -EPROTO, "peer is not a daemon");
		return;
	}
	err = wire_send(w, c->req);
	if (err)
		call_end(c, err, "cannot send the request");
}

static void call_msg(struct wire *w, const L2f__Envelope *env, void *ctx)
{
	struct call *c = ctx;
	const L2f__Reply *r = env->reply;

	if (env->msg_case != L2F__ENVELOPE__MSG_REPLY) {
		call_end(c, -EPROTO, "answer is not a Reply");
		return;
	}
	evtimer_add(c->timer, &c->timeout);       /* the deadline is per page */
	if (c->cb(r, c->ctx) != 0 || !(r->has_more && r->more))
		call_end(c, 0, NULL);
}

static void call_close(struct wire *w, const char *why, void *ctx)
{
	struct call *c = ctx;

	c->w = NULL;
	if (!c->done) {
		snprintf(call_why, sizeof(call_why), "the daemon closed the connection: %s", why);
		call_end(c, -ECONNRESET, call_why);
	}
}

static void call_timeout(evutil_socket_t fd, short what, void *arg)
{
	call_end(arg, -ETIMEDOUT, "no answer from fabricd");
}

static const struct wire_ops call_ops = {
	.on_hello = call_hello,
	.on_msg = call_msg,
	.on_close = call_close,
};

static bool is_unix(const char *addr)
{
	return addr[0] == '/' || !strncmp(addr, WIRE_UNIX_PREFIX, strlen(WIRE_UNIX_PREFIX));
}

/* Connects to addr: a Unix socket path (absolute, or unix:/path) or host:port (needs TLS). */
static int call_connect(const char *addr, const struct wire_tls *tls, const char **why)
{
	int fd;

	if (!is_unix(addr) && !tls) {
		*why = "a TCP address needs TLS (a CA file, a certificate and a key)";
		return -EINVAL;
	}
	fd = addr[0] == '/' ? unixsock_connect(addr) : wire_connect(addr);
	if (fd < 0)
		*why = fd == -ENAMETOOLONG ? "socket path empty or too long" :
		       fd == -EAGAIN ? "fabricd is not accepting connections" :
		       fd == -EINVAL ? "not an address (host:port or a socket path)" :
				       "cannot connect to fabricd";
	return fd;
}

int wire_call(const char *addr, const struct wire_tls *tls, const L2f__Envelope *req,
	      wire_reply_cb cb, void *ctx, int timeout_ms, const char **why)
{
	struct call c = { .req = req, .cb = cb, .ctx = ctx };
	L2f__Hello hello = L2F__HELLO__INIT;
	char id[WIRE_ID_MAX + 1];
	int fd;

	/* a Unix socket is trusted by its file mode: no TLS there */
	if (is_unix(addr))
		tls = NULL;
	if (req->msg_case != L2F__ENVELOPE__MSG_REQUEST) {
		*why = "not a Request";
		return -EINVAL;
	}
	if (wire_validate(req, why) < 0)
		return -EBADMSG;
	fd = call_connect(addr, tls, why);
	if (fd < 0)
		return fd;
	c.base = event_base_new();
	c.timer = c.base ? evtimer_new(c.base, call_timeout, &c) : NULL;
	if (!c.timer) {
		close(fd);
		if (c.base)
			event_base_free(c.base);
		*why = "out of memory";
		return -ENOMEM;
	}
	/* over TLS the Hello names what the certificate does */
	if (tls)
		snprintf(id, sizeof(id), "%s", wire_tls_self(tls)->id);
	else
		snprintf(id, sizeof(id), "fabricctl.%d", (int)getpid());
	hello.version = PROTO_VERSION;
	hello.role = L2F__ROLE__ROLE_FABRICCTL;
	hello.id = id;
	c.timeout.tv_sec = timeout_ms / 1000;
	c.timeout.tv_usec = (timeout_ms % 1000) * 1000;
	c.w = wire_new_tls(c.base, fd, tls, &hello, &call_ops, &c);
	if (!c.w) {
		c.err = -ENOMEM;
		c.why = "cannot start a session";
	} else {
		evtimer_add(c.timer, &c.timeout);
		event_base_dispatch(c.base);
		if (c.w)
			wire_close(c.w, "call over");
	}
	event_free(c.timer);
	event_base_free(c.base);
	*why = c.why;
	return c.err;
}

/* --- the reconnecting client of agents ------------------------------------------------------ */

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000

struct wire_client {
	struct event_base *base;
	struct wire_client_opts o;
	struct wire *w;
	struct event *ev_retry;
	int backoff_ms;
	struct wire_client_status st;
};

static void client_retry_later(struct wire_client *c)
{
	/* "equal jitter": half the backoff fixed, half random, so that agents restarted together
	 * (or cut off by one fabricd restart) do not come back in lockstep */
	long ms = c->backoff_ms / 2 + random() % (c->backoff_ms / 2 + 1);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(c->ev_retry, &tv);
	c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
}

static void client_state(struct wire_client *c, bool connected)
{
	c->st.connected = connected;
	c->st.since = monotime_now();
	c->st.since_wall = time(NULL);
}

static void client_hello(struct wire *w, void *ctx)
{
	struct wire_client *c = ctx;

	if (wire_peer(w)->role != L2F__ROLE__ROLE_FABRICD) {
		wire_close(w, "peer is not fabricd");
		return;
	}
	c->backoff_ms = BACKOFF_MIN_MS;
	c->st.sessions++;
	c->st.last_error[0] = '\0';
	client_state(c, true);
	c->o.ops->on_hello(w, c->o.ctx);
}

static void client_msg(struct wire *w, const L2f__Envelope *env, void *ctx)
{
	struct wire_client *c = ctx;

	c->o.ops->on_msg(w, env, c->o.ctx);
}

static void client_close(struct wire *w, const char *why, void *ctx)
{
	struct wire_client *c = ctx;
	bool was_up = c->st.connected;

	snprintf(c->st.last_error, sizeof(c->st.last_error), "%s", why);
	c->w = NULL;
	if (was_up)
		client_state(c, false);
	client_retry_later(c);
	if (was_up)
		c->o.ops->on_close(w, why, c->o.ctx);
}

static const struct wire_ops client_ops = {
	.on_hello = client_hello,
	.on_msg = client_msg,
	.on_close = client_close,
};

static void client_connect(evutil_socket_t s, short what, void *arg)
{
	struct wire_client *c = arg;
	bool tcp = !is_unix(c->o.addr);
	int fd = wire_connect(c->o.addr);

	c->st.attempts++;
	if (fd < 0) {
		snprintf(c->st.last_error, sizeof(c->st.last_error), "connect: %s", strerror(-fd));
		client_retry_later(c);
		return;
	}
	c->w = wire_new_tls(c->base, fd, tcp ? c->o.tls : NULL, c->o.hello, &client_ops, c);
	if (!c->w) {
		snprintf(c->st.last_error, sizeof(c->st.last_error), "cannot start a session");
		client_retry_later(c);
	}
}

int wire_client_new(struct event_base *base, const struct wire_client_opts *o,
		    struct wire_client **out)
{
	struct wire_client *c;
	int err = wire_addr_check(o->addr);

	if (err)
		return err;
	if (!is_unix(o->addr) && !o->tls)
		return -EPERM;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->base = base;
	c->o = *o;
	c->backoff_ms = BACKOFF_MIN_MS;
	c->ev_retry = evtimer_new(base, client_connect, c);
	if (!c->ev_retry) {
		free(c);
		return -ENOMEM;
	}
	client_state(c, false);
	client_connect(-1, 0, c);
	*out = c;
	return 0;
}

void wire_client_free(struct wire_client *c, const char *why)
{
	if (!c)
		return;
	if (c->w) {
		/* the owner is going away: no on_close into it */
		c->st.connected = false;
		wire_close(c->w, why);
	}
	event_free(c->ev_retry);
	free(c);
}

struct wire *wire_client_session(const struct wire_client *c)
{
	return c && c->st.connected ? c->w : NULL;
}

const struct wire_client_status *wire_client_status(const struct wire_client *c)
{
	static const struct wire_client_status none;

	return c ? &c->st : &none;
}

const char *wire_client_addr(const struct wire_client *c)
{
	return c->o.addr;
}
