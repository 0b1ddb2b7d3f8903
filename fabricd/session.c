/*
 * session.c - fabricd's session plumbing: a session per accepted connection, its Hello
 * dispatched to the role that serves it (the role table below: agent.c, ha.c, api.c), every
 * later message to that role, and the pending Updates flushed after each message.
 *
 * Every listener faces a hostile network, so what a peer can make fabricd hold is bounded
 * here: sessions in all and sessions without a Hello (the oldest silent one is evicted for a
 * newcomer), a deadline for the Hello (TLS handshake included), an idle timeout for API
 * sessions, a frame limit and an output high-water mark per role. Each bound hit is counted
 * and logged at most once per interval (fabricd_bound).
 *
 * A closed session's memory outlives its wire until the event loop turns, so that code still
 * on the stack after a wire_close (a fan-out that closed an agent, say) can look at
 * s->closed instead of freed memory.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "fabricd.h"
#include "log.h"

static const struct role *const roles[] = { &agent_role, &ha_role, &api_role, &switchd_role };

const char *const fabricd_bound_names[NBOUNDS] = {
	[BOUND_SESSIONS] = "sessions_refused_at_max",
	[BOUND_PRE_HELLO] = "pre_hello_evicted",
	[BOUND_HELLO_TIMEOUT] = "hello_timeouts",
	[BOUND_IDLE_TIMEOUT] = "idle_timeouts",
	[BOUND_OUTPUT] = "output_over_hwm",
	[BOUND_STUCK] = "output_stuck_closed",
	[BOUND_FRAME] = "frames_over_limit",
	[BOUND_LISTINGS] = "listings_refused",
};

const char *const fabricd_refusal_names[NREFUSALS] = {
	[REFUSE_VTEP_CERT] = "vtep_not_in_certificate",
	[REFUSE_VTEP_TAKEN] = "vtep_of_another_host",
	[REFUSE_VNI] = "segment_not_served",
	[REFUSE_MAC] = "mac_not_a_port",
	[REFUSE_IP] = "address_not_a_host",
	[REFUSE_WITHDRAW] = "withdraw_not_held",
	[REFUSE_MASTER_HOST] = "master_not_own_host",
	[REFUSE_TLS] = "tls_failed",
	[REFUSE_IDENTITY] = "identity_mismatch",
	[REFUSE_PROTOCOL] = "protocol_violation",
	[REFUSE_LEARNED_CAP] = "learned_over_cap",
	[REFUSE_UNEXPECTED] = "message_not_for_role",
	[REFUSE_ROLE] = "role_not_served",
	[REFUSE_READONLY] = "readonly_socket",
};

static void vlog_counted(uint64_t *counter, struct ratelimit *rl, const char *fmt, va_list ap)
{
	char line[256];

	(*counter)++;
	if (!ratelimit_ok(rl))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	log_warn("%s (%llu so far)", line, (unsigned long long)*counter);
}

void fabricd_bound(struct fabricd *fd, enum fabricd_bound b, const char *fmt, ...)
{
	static struct ratelimit rl[NBOUNDS];
	va_list ap;

	if (!rl[b].interval_ms)
		rl[b] = (struct ratelimit)RATELIMIT_INIT(10000, 1);
	va_start(ap, fmt);
	vlog_counted(&fd->stats.bounds[b], &rl[b], fmt, ap);
	va_end(ap);
}

void fabricd_refuse(struct fabricd *fd, enum fabricd_refusal r, const char *fmt, ...)
{
	static struct ratelimit rl[NREFUSALS];
	va_list ap;

	if (!rl[r].interval_ms)
		rl[r] = (struct ratelimit)RATELIMIT_INIT(10000, 1);
	va_start(ap, fmt);
	vlog_counted(&fd->stats.refused[r], &rl[r], fmt, ap);
	va_end(ap);
}

static const struct role *role_of(L2f__Role r)
{
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (roles[i]->role == r)
			return roles[i];
	return NULL;
}

static void timer_in(struct session *s, uint32_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(s->ev_timer, &tv);
}

void session_touch(struct session *s)
{
	if (s->role && s->role->idle_timeout && !s->closed)
		timer_in(s, s->fd->lim.idle_timeout_ms);
}

static void on_timer(evutil_socket_t sock, short what, void *arg)
{
	struct session *s = arg;
	struct fabricd *fd = s->fd;

	if (s->state == SESS_HELLO) {
		fabricd_bound(fd, BOUND_HELLO_TIMEOUT, "%s: no Hello within %u ms: closed",
			      wire_name(s->w), fd->lim.hello_timeout_ms);
		wire_close(s->w, "no Hello in time");
	} else {
		fabricd_bound(fd, BOUND_IDLE_TIMEOUT, "%s: idle for %u ms: closed", wire_name(s->w),
			      fd->lim.idle_timeout_ms);
		wire_close(s->w, "idle for too long");
	}
}

static void on_hello(struct wire *w, void *ctx)
{
	struct session *s = ctx;
	const L2f__Hello *hello = wire_peer(w);
	const struct role *role = role_of(hello->role);

	if (s->tcp)
		s->fd->npre_hello--;
	s->state = SESS_UP;
	evtimer_del(s->ev_timer);
	if (!role || (s->readonly && role != &api_role)) {
		fabricd_refuse(s->fd, REFUSE_ROLE, "%s: role not served here: closed", wire_name(w));
		wire_close(w, s->readonly ? "the status socket serves fabricctl's reads only"
					  : "role not served here");
		return;
	}
	s->role = role;
	wire_set_max_frame(w, role->max_frame);
	/* What anyone on the host can make fabricd queue on the status socket is small. */
	wire_set_hwm(w, s->readonly && role->out_hwm > STATUS_OUT_HWM ? STATUS_OUT_HWM : role->out_hwm,
		     role->stuck_ms);
	session_touch(s);
	role->on_hello(s, hello);
	update_flush(s->fd);
}

static void on_msg(struct wire *w, const L2f__Envelope *env, void *ctx)
{
	struct session *s = ctx;

	session_touch(s);
	s->role->on_msg(s, env);
	update_flush(s->fd);
}

static void on_hwm(struct wire *w, bool over, void *ctx)
{
	struct session *s = ctx;

	if (over)
		fabricd_bound(s->fd, BOUND_OUTPUT, "%s: %zu bytes queued, over %zu: not reading it "
			      "until it drains", wire_name(w), wire_pending(w), s->role->out_hwm);
}

static void on_drain(struct wire *w, void *ctx)
{
	struct session *s = ctx;

	if (s->role && s->role->on_drain)
		s->role->on_drain(s);
}

static void session_free(evutil_socket_t fd, short what, void *arg)
{
	free(arg);
}

/* How the wire ended, into the counters. */
static void count_close(struct fabricd *fd, struct wire *w, const char *why)
{
	switch (wire_close_kind(w)) {
	case WIRE_CLOSE_TLS:
		fabricd_refuse(fd, REFUSE_TLS, "%s: %s", wire_name(w), why);
		break;
	case WIRE_CLOSE_IDENTITY:
		fabricd_refuse(fd, REFUSE_IDENTITY, "%s: %s", wire_name(w), why);
		break;
	case WIRE_CLOSE_PROTOCOL:
		fd->stats.sessions_closed_bad++;
		fabricd_refuse(fd, REFUSE_PROTOCOL, "%s: %s", wire_name(w), why);
		break;
	case WIRE_CLOSE_LIMIT:
		fd->stats.sessions_closed_bad++;
		fabricd_bound(fd, BOUND_FRAME, "%s: %s", wire_name(w), why);
		break;
	case WIRE_CLOSE_STUCK:
		fabricd_bound(fd, BOUND_STUCK, "%s: %s", wire_name(w), why);
		break;
	case WIRE_CLOSE_LOCAL:
	case WIRE_CLOSE_PEER:
		break;
	}
}

static void on_close(struct wire *w, const char *why, void *ctx)
{
	struct session *s = ctx;
	struct fabricd *fd = s->fd;
	static const struct timeval now = { 0, 0 };

	/* A CLI session ends after every command: not worth an info line. */
	log_msg(s->role == &api_role ? LOG_LVL_DEBUG : LOG_LVL_INFO, "%s: session closed: %s",
		wire_name(w), why);
	count_close(fd, w, why);
	if (s->role && s->role->on_close)
		s->role->on_close(s);
	update_forget(s);
	if (s->tcp && s->state == SESS_HELLO)
		fd->npre_hello--;
	if (s->tcp)
		fd->nsessions--;
	else if (s->readonly)
		fd->nstatus--;
	else
		fd->nunix--;
	if (s->prev)
		s->prev->next = s->next;
	else
		fd->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	event_free(s->ev_timer);
	s->ev_timer = NULL;
	s->closed = true;
	s->w = NULL;
	if (event_base_once(fd->base, -1, EV_TIMEOUT, session_free, s, &now) < 0)
		log_err("session %p: cannot schedule its free: leaked", (void *)s);
}

static const struct wire_ops session_ops = {
	.on_hello = on_hello,
	.on_msg = on_msg,
	.on_close = on_close,
	.on_hwm = on_hwm,
	.on_drain = on_drain,
};

/* Room for one more session without a Hello: the oldest one that has not said a word yet
 * goes (an idle connection), else the oldest one (a slow one). A peer that talks at once, as
 * vtepd does, is never the one evicted by a flood of silent connections. */
static void evict_pre_hello(struct fabricd *fd)
{
	struct session *oldest = NULL, *silent = NULL;

	for (struct session *s = fd->sessions; s; s = s->next) {
		if (!s->tcp || s->state != SESS_HELLO)
			continue;
		oldest = s;
		if (!wire_heard(s->w))
			silent = s;
	}
	if (silent)
		oldest = silent;
	if (!oldest)
		return;
	fabricd_bound(fd, BOUND_PRE_HELLO, "%u sessions without a Hello: evicted %s (%s)",
		      fd->npre_hello, wire_name(oldest->w), silent ? "silent" : "the oldest");
	wire_close(oldest->w, "evicted: too many sessions without a Hello");
}

static void session_accept(struct fabricd *fd, int sock, const struct wire_tls *tls,
			   const char *peer, bool readonly)
{
	L2f__Hello hello = L2F__HELLO__INIT;
	struct session *s;

	if (tls && fd->nsessions >= fd->lim.max_sessions && fd->npre_hello == 0) {
		fabricd_bound(fd, BOUND_SESSIONS, "%s: refused: %u sessions open, the most allowed",
			      peer, fd->nsessions);
		close(sock);
		return;
	}
	/* The status socket (mode 0666) has a cap of its own: anyone on the host can reach it,
	 * and it must not lock fabricctl out of the control socket. When it is full, the oldest
	 * session there makes room once it has had STATUS_EVICT_MS (a read takes milliseconds). */
	if (readonly && fd->nstatus >= STATUS_MAX_SESSIONS) {
		struct session *old = NULL;

		for (struct session *o = fd->sessions; o; o = o->next)
			if (o->readonly)
				old = o;            /* newest first: the last one is the oldest */
		if (!old || monotime_diff_us(monotime_now(), old->opened) <
				    (int64_t)STATUS_EVICT_MS * USEC_PER_MSEC) {
			fabricd_bound(fd, BOUND_SESSIONS, "%s: refused: %u sessions on the status "
				      "socket, the most allowed", peer, fd->nstatus);
			close(sock);
			return;
		}
		fabricd_bound(fd, BOUND_SESSIONS, "%u sessions on the status socket: evicted %s, "
			      "the oldest", fd->nstatus, wire_name(old->w));
		wire_close(old->w, "evicted: the status socket is full");
	}
	if (!tls && !readonly && fd->nunix >= fd->lim.max_unix_sessions) {
		fabricd_bound(fd, BOUND_SESSIONS, "%s: refused: %u sessions on the Unix socket, the "
			      "most allowed", peer, fd->nunix);
		close(sock);
		return;
	}
	/* a stranger that has not said Hello yet makes room for a newcomer, at either bound */
	if (tls && (fd->npre_hello >= fd->lim.max_pre_hello ||
		    fd->nsessions >= fd->lim.max_sessions))
		evict_pre_hello(fd);
	s = calloc(1, sizeof(*s));
	if (s)
		s->ev_timer = evtimer_new(fd->base, on_timer, s);
	if (!s || !s->ev_timer) {
		free(s);
		close(sock);
		return;
	}
	s->fd = fd;
	s->host = -1;
	s->tcp = tls != NULL;
	s->readonly = readonly;
	s->opened = monotime_now();
	hello.version = PROTO_VERSION;
	hello.role = L2F__ROLE__ROLE_FABRICD;
	hello.id = fd->id;
	s->w = wire_new_tls(fd->base, sock, tls, &hello, &session_ops, s);
	if (!s->w) {
		event_free(s->ev_timer);
		free(s);
		return;
	}
	s->next = fd->sessions;
	if (fd->sessions)
		fd->sessions->prev = s;
	fd->sessions = s;
	if (tls) {
		fd->nsessions++;
		fd->npre_hello++;
	} else if (readonly) {
		fd->nstatus++;
	} else {
		fd->nunix++;
	}
	timer_in(s, fd->lim.hello_timeout_ms);
	fd->stats.sessions_opened++;
}

void session_accept_tcp(int sock, const char *peer, void *ctx)
{
	struct fabricd *fd = ctx;

	session_accept(fd, sock, fd->tls, peer, false);
}

void session_accept_unix(int sock, const char *peer, void *ctx)
{
	session_accept(ctx, sock, NULL, peer, false);
}

void session_accept_status(int sock, const char *peer, void *ctx)
{
	session_accept(ctx, sock, NULL, peer, true);
}
