/* ctlsrv.c - a daemon's control socket on proto/'s sessions; see ctlsrv.h. */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ctlsrv.h"
#include "log.h"
#include "metrics.h"
#include "monotime.h"
#include "wire.h"

struct csess {
	struct ctlsrv *srv;
	struct wire *w;
	struct event *deadline;
	TAILQ_ENTRY(csess) link;           /* oldest first */
	struct monotime since;             /* waiting since */
	struct monotime accepted;
	bool waiting;                      /* for a Hello or a whole request */
};

struct ctlsrv {
	struct event_base *base;
	struct wire_listener *l;
	L2f__Hello hello;
	char id[WIRE_ID_MAX];
	bool readonly;
	ctlsrv_handler handler;
	void *ctx;
	TAILQ_HEAD(, csess) sessions;
	unsigned int n;
	struct ctlsrv_stats stats;
	struct ratelimit rl;
};

/* --- the memory of a reply ------------------------------------------------------------------ */

struct ctlsrv_pool {
	void **p;
	size_t n, cap;
	bool failed;
};

static void pool_free(void *arg)
{
	struct ctlsrv_pool *pl = arg;

	for (size_t i = 0; i < pl->n; i++)
		free(pl->p[i]);
	free(pl->p);
	free(pl);
}

struct ctlsrv_pool *ctlsrv_pool_new(struct ctlsrv_cleanup *cleanup)
{
	struct ctlsrv_pool *pl = calloc(1, sizeof(*pl));

	if (pl) {
		cleanup->fn = pool_free;
		cleanup->arg = pl;
	}
	return pl;
}

int ctlsrv_pool_adopt(struct ctlsrv_pool *pl, void *m)
{
	if (pl->failed)
		return -ENOMEM;
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 64;
		void **p = realloc(pl->p, cap * sizeof(*p));

		if (!p) {
			pl->failed = true;
			return -ENOMEM;
		}
		pl->p = p;
		pl->cap = cap;
	}
	pl->p[pl->n++] = m;
	return 0;
}

void *ctlsrv_palloc(struct ctlsrv_pool *pl, size_t size)
{
	void *m = pl->failed ? NULL : calloc(1, size ? size : 1);

	if (!m) {
		pl->failed = true;
		return NULL;
	}
	if (ctlsrv_pool_adopt(pl, m) < 0) {
		free(m);
		return NULL;
	}
	return m;
}

bool ctlsrv_pool_failed(const struct ctlsrv_pool *pl)
{
	return pl->failed;
}

/* --- sessions -------------------------------------------------------------------------------- */

static void unlink_sess(struct csess *c)
{
	struct ctlsrv *s = c->srv;

	TAILQ_REMOVE(&s->sessions, c, link);
	s->n--;
}

static void arm(struct csess *c, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_add(c->deadline, &tv);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct csess *c = arg;

	if (c->waiting) {
		c->srv->stats.deadline++;
		log_rl(&c->srv->rl, LOG_LVL_WARN, "control: no whole request within %u ms, closing",
		       CTLSRV_REQUEST_MS);
	}
	wire_close(c->w, c->waiting ? "no request in time" : "reply not read in time");
}

static void on_hello(struct wire *w, void *ctx)
{
	struct csess *c = ctx;

	if (wire_peer(w)->role != L2F__ROLE__ROLE_FABRICCTL) {
		c->srv->stats.bad++;
		wire_close(w, "this socket serves fabricctl only");
		return;
	}
	wire_set_max_frame(w, CTLSRV_MAX_REQUEST);
	/* A client that sends requests and reads no reply: reading stops at the mark, and a
	 * session stuck over it is closed. */
	wire_set_hwm(w, CTLSRV_OUT_HWM, CTLSRV_WRITE_MS);
}

static void on_msg(struct wire *w, const L2f__Envelope *env, void *ctx)
{
	struct csess *c = ctx;
	struct ctlsrv *s = c->srv;
	L2f__Envelope out = L2F__ENVELOPE__INIT;
	L2f__Reply r = L2F__REPLY__INIT;
	struct ctlsrv_cleanup cleanup = { NULL, NULL };

	if (env->msg_case != L2F__ENVELOPE__MSG_REQUEST) {
		s->stats.bad++;
		wire_close(w, "fabricctl may send requests only");
		return;
	}
	s->stats.requests++;
	s->handler(s->ctx, env->request, s->readonly, &r, &cleanup);
	out.msg_case = L2F__ENVELOPE__MSG_REPLY;
	out.reply = &r;
	if (wire_send(w, &out) < 0) {
		L2f__Reply e = L2F__REPLY__INIT;

		e.error = "the reply could not be encoded";
		out.reply = &e;
		wire_send(w, &out);
	}
	if (cleanup.fn)
		cleanup.fn(cleanup.arg);
	/* The reply must be taken within CTLSRV_WRITE_MS (counted from the first request since
	 * the output was last empty: pipelining does not extend it); then the next request's
	 * deadline. */
	if (c->waiting) {
		c->waiting = false;
		arm(c, CTLSRV_WRITE_MS);
	}
}

static void on_drain(struct wire *w, void *ctx)
{
	struct csess *c = ctx;

	if (!c->waiting && wire_pending(w) == 0) {
		c->waiting = true;
		c->since = monotime_now();
		arm(c, CTLSRV_REQUEST_MS);
	}
}

static void on_close(struct wire *w, const char *why, void *ctx)
{
	struct csess *c = ctx;

	unlink_sess(c);
	event_free(c->deadline);
	free(c);
}

static const struct wire_ops ops = {
	.on_hello = on_hello,
	.on_msg = on_msg,
	.on_close = on_close,
	.on_drain = on_drain,
};

static void on_accept(int fd, const char *peer, void *ctx)
{
	struct ctlsrv *s = ctx;
	struct csess *c, *old;

	if (s->n >= CTLSRV_MAX_SESSIONS) {
		struct monotime now = monotime_now();

		for (old = TAILQ_FIRST(&s->sessions); old && (!old->waiting ||
					    monotime_diff_us(now, old->since) <
						    CTLSRV_EVICT_AFTER_MS * USEC_PER_MSEC);
		     old = TAILQ_NEXT(old, link))
			;
		/* None waiting: the oldest session by accept time, once it has had its time
		 * (a fabricctl call takes milliseconds; one that keeps a session busy for
		 * seconds does not keep the others out). */
		if (!old && (old = TAILQ_FIRST(&s->sessions)) &&
		    monotime_diff_us(now, old->accepted) < CTLSRV_EVICT_BUSY_MS * USEC_PER_MSEC)
			old = NULL;
		if (!old) {
			s->stats.refused++;
			log_rl(&s->rl, LOG_LVL_WARN, "control: %u sessions busy, refusing another",
			       s->n);
			close(fd);
			return;
		}
		s->stats.evicted++;
		log_rl(&s->rl, LOG_LVL_WARN, "control: %u sessions open, closing the oldest "
		       "waiting one", s->n);
		wire_close(old->w, "making room for a newcomer");
	}
	c = calloc(1, sizeof(*c));
	if (c)
		c->deadline = evtimer_new(s->base, on_deadline, c);
	if (!c || !c->deadline) {
		free(c);
		close(fd);
		return;
	}
	c->srv = s;
	c->since = c->accepted = monotime_now();
	c->waiting = true;
	TAILQ_INSERT_TAIL(&s->sessions, c, link);
	s->n++;
	c->w = wire_new_tls(s->base, fd, NULL, &s->hello, &ops, c);
	if (!c->w) {
		unlink_sess(c);
		event_free(c->deadline);
		free(c);
		return;
	}
	s->stats.accepted++;
	arm(c, CTLSRV_REQUEST_MS);
}

struct ctlsrv *ctlsrv_open(struct event_base *base, const char *path, unsigned int mode,
			   const char *id, L2f__Role role, bool readonly, ctlsrv_handler h,
			   void *ctx, int *err)
{
	struct ctlsrv *s = calloc(1, sizeof(*s));

	if (!s) {
		*err = -ENOMEM;
		return NULL;
	}
	s->base = base;
	TAILQ_INIT(&s->sessions);
	s->readonly = readonly;
	s->handler = h;
	s->ctx = ctx;
	s->rl = (struct ratelimit)RATELIMIT_INIT(5000, 3);
	snprintf(s->id, sizeof(s->id), "%s", id);
	l2f__hello__init(&s->hello);
	s->hello.version = PROTO_VERSION;
	s->hello.role = role;
	s->hello.id = s->id;
	s->l = wire_listen_unix(base, path, on_accept, s, err);
	if (!s->l) {
		free(s);
		return NULL;
	}
	chmod(path, (mode_t)mode);
	return s;
}

void ctlsrv_close(struct ctlsrv *s)
{
	if (!s)
		return;
	while (!TAILQ_EMPTY(&s->sessions))
		wire_close(TAILQ_FIRST(&s->sessions)->w, "daemon stopping");
	wire_listener_free(s->l);
	free(s);
}

const struct ctlsrv_stats *ctlsrv_stats(const struct ctlsrv *s)
{
	return &s->stats;
}

void ctlsrv_metrics(struct metrics_out *m, const struct ctlsrv *s, const char *daemon)
{
	char req[64], closed[64];

	snprintf(req, sizeof(req), "l2f_%s_control_requests_total", daemon);
	snprintf(closed, sizeof(closed), "l2f_%s_control_closed_total", daemon);
	metrics_one(m, req, "counter", "control socket requests answered", s->stats.requests);
	metrics_family(m, closed, "counter", "control socket sessions closed or refused, by reason");
	metrics_value(m, closed, s->stats.deadline, "reason", "deadline", NULL);
	metrics_value(m, closed, s->stats.evicted, "reason", "evicted", NULL);
	metrics_value(m, closed, s->stats.refused, "reason", "refused", NULL);
	metrics_value(m, closed, s->stats.bad, "reason", "bad_request", NULL);
}
