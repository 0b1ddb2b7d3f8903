/*
 * session.c - fabricd's session plumbing: a session per accepted connection, its Hello
 * dispatched to the role that serves it (the role table below: agent.c, ha.c, api.c), every
 * later message to that role, and the pending Updates flushed after each message.
 *
 * A closed session's memory outlives its wire until the event loop turns, so that code still
 * on the stack after a wire_close (a fan-out that closed an agent, say) can look at
 * s->closed instead of freed memory.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <unistd.h>
#include "fabricd.h"
#include "log.h"

static const struct role *const roles[] = { &agent_role, &ha_role, &api_role };

static const struct role *role_of(L2f__Role r)
{
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (roles[i]->role == r)
			return roles[i];
	return NULL;
}

static void on_hello(struct wire *w, void *ctx)
{
	struct session *s = ctx;
	const L2f__Hello *hello = wire_peer(w);
	const struct role *role = role_of(hello->role);

	if (!role) {
		wire_close(w, "role not served here");
		return;
	}
	s->role = role;
	role->on_hello(s, hello);
	update_flush(s->fd);
}

static void on_msg(struct wire *w, const L2f__Envelope *env, void *ctx)
{
	struct session *s = ctx;

	s->role->on_msg(s, env);
	update_flush(s->fd);
}

static void session_free(evutil_socket_t fd, short what, void *arg)
{
	free(arg);
}

static void on_close(struct wire *w, const char *why, void *ctx)
{
	struct session *s = ctx;
	static const struct timeval now = { 0, 0 };

	/* A CLI session ends after every command: not worth an info line. */
	log_msg(s->role == &api_role ? LOG_LVL_DEBUG : LOG_LVL_INFO, "%s: session closed: %s",
		wire_name(w), why);
	if (s->role && s->role->on_close)
		s->role->on_close(s);
	update_forget(s);
	s->closed = true;
	s->w = NULL;
	if (event_base_once(s->fd->base, -1, EV_TIMEOUT, session_free, s, &now) < 0)
		log_err("session %p: cannot schedule its free: leaked", (void *)s);
}

static const struct wire_ops session_ops = {
	.on_hello = on_hello,
	.on_msg = on_msg,
	.on_close = on_close,
};

static void session_accept(struct fabricd *fd, int sock, const struct wire_tls *tls)
{
	struct session *s = calloc(1, sizeof(*s));
	L2f__Hello hello = L2F__HELLO__INIT;

	if (!s) {
		close(sock);
		return;
	}
	s->fd = fd;
	s->host = -1;
	hello.version = PROTO_VERSION;
	hello.role = L2F__ROLE__ROLE_FABRICD;
	hello.id = fd->id;
	s->w = wire_new_tls(fd->base, sock, tls, &hello, &session_ops, s);
	if (!s->w) {
		free(s);
		return;
	}
	fd->stats.sessions_opened++;
}

void session_accept_tcp(int sock, const char *peer, void *ctx)
{
	struct fabricd *fd = ctx;

	session_accept(fd, sock, fd->tls);
}

void session_accept_unix(int sock, const char *peer, void *ctx)
{
	session_accept(ctx, sock, NULL);
}
