/* ctl.c - control socket server (libevent bufferevents) and blocking client; see ctl.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "ctl.h"
#include "log.h"
#include "monotime.h"
#include "unixsock.h"

struct ctl_session {
	struct bufferevent *bev;
	struct event *deadline;
	struct ctl_server *srv;
	struct ctl_session *prev, *next;   /* oldest first */
	bool waiting;                      /* for a complete request (the deadline runs) */
	struct monotime since;             /* accepted */
};

struct ctl_server {
	struct evconnlistener *listener;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ctl_handler handler;
	void *ctx;
	unsigned int mode;
	unsigned int sessions;
	struct ctl_session *head, *tail;
	struct ctl_stats stats;
	struct ratelimit rl;
};

static void session_close(struct ctl_session *c)
{
	struct ctl_server *s = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->tail = c->prev;
	event_free(c->deadline);
	bufferevent_free(c->bev);
	free(c);
	s->sessions--;
}

/* From now on the client has CTL_REQUEST_MS to deliver one whole request, however it
 * trickles it. */
static void deadline_arm(struct ctl_session *c)
{
	struct timeval tv = { CTL_REQUEST_MS / 1000, (CTL_REQUEST_MS % 1000) * 1000 };

	c->waiting = true;
	event_add(c->deadline, &tv);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_session *c = arg;

	c->srv->stats.deadline++;
	log_rl(&c->srv->rl, LOG_LVL_WARN, "control: no whole request within %u ms, closing",
	       CTL_REQUEST_MS);
	session_close(c);
}

/* Handles one complete request if one is buffered: 1 when it did, 0 when more bytes are
 * needed, -1 when the session was closed. */
static int serve_one(struct ctl_session *c)
{
	struct bufferevent *bev = c->bev;
	struct ctl_server *s = c->srv;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *req, *reply = NULL;
	size_t reply_len = 0;
	uint32_t len, nlen;
	int ret;

	if (evbuffer_get_length(in) < 4)
		return 0;
	evbuffer_copyout(in, &len, 4);
	len = ntohl(len);
	if (len > CTL_MAX_REQUEST) {
		log_rl(&s->rl, LOG_LVL_WARN, "control: request of %u bytes, closing session", len);
		s->stats.too_large++;
		session_close(c);
		return -1;
	}
	if (evbuffer_get_length(in) < 4 + (size_t)len)
		return 0;
	evbuffer_drain(in, 4);
	req = malloc(len + 1);
	if (!req) {
		session_close(c);
		return -1;
	}
	c->waiting = false;
	event_del(c->deadline);
	s->stats.requests++;
	evbuffer_remove(in, req, len);
	req[len] = '\0';
	ret = s->handler(s->ctx, req, len, &reply, &reply_len);
	free(req);
	if (ret) {
		free(reply);
		session_close(c);
		return -1;
	}
	nlen = htonl((uint32_t)reply_len);
	bufferevent_write(bev, &nlen, 4);
	bufferevent_write(bev, reply, reply_len);
	free(reply);
	return 1;
}

/* One request per turn: after answering, reading stops until the reply is written out
 * (session_written), so pipelined requests cannot pile up replies in memory. */
static void session_read(struct bufferevent *bev, void *arg)
{
	if (serve_one(arg) == 1)
		bufferevent_disable(bev, EV_READ);
}

/* The reply is out: the next request, if buffered, or a new deadline for it. */
static void session_written(struct bufferevent *bev, void *arg)
{
	struct ctl_session *c = arg;
	int ret;

	if (c->waiting)
		return;
	ret = serve_one(c);
	if (ret == 0) {
		deadline_arm(c);
		bufferevent_enable(bev, EV_READ);
	} else if (ret == 1) {
		bufferevent_disable(bev, EV_READ);
	}
}

static void session_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		session_close(arg);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct ctl_server *s = arg;
	struct timeval out = { CTL_WRITE_S, 0 };
	struct ctl_session *c, *old;

	/* Full: the oldest session still short of a whole request, and older than
	 * CTL_EVICT_AFTER_MS, makes room (a client that trickles cannot keep others out, and a
	 * burst of newcomers cannot push out one that has just connected); else refuse. */
	if (s->sessions >= CTL_MAX_SESSIONS) {
		struct monotime now = monotime_now();

		for (old = s->head; old && (!old->waiting ||
					    monotime_diff_us(now, old->since) <
						    CTL_EVICT_AFTER_MS * USEC_PER_MSEC);
		     old = old->next)
			;
		if (!old) {
			s->stats.refused++;
			log_rl(&s->rl, LOG_LVL_WARN, "control: %u sessions busy, refusing another",
			       s->sessions);
			close(fd);
			return;
		}
		s->stats.evicted++;
		log_rl(&s->rl, LOG_LVL_WARN, "control: %u sessions open, closing the oldest waiting "
		       "one", s->sessions);
		session_close(old);
	}
	c = calloc(1, sizeof(*c));
	if (c)
		c->bev = bufferevent_socket_new(evconnlistener_get_base(l), fd,
						BEV_OPT_CLOSE_ON_FREE);
	if (c && c->bev)
		c->deadline = evtimer_new(evconnlistener_get_base(l), on_deadline, c);
	if (!c || !c->bev || !c->deadline) {
		if (c && c->bev)
			bufferevent_free(c->bev);
		else
			close(fd);
		free(c);
		return;
	}
	c->srv = s;
	c->since = monotime_now();
	c->prev = s->tail;
	if (s->tail)
		s->tail->next = c;
	else
		s->head = c;
	s->tail = c;
	s->sessions++;
	s->stats.accepted++;
	bufferevent_setcb(c->bev, session_read, session_written, session_event, c);
	bufferevent_set_timeouts(c->bev, NULL, &out);
	deadline_arm(c);
	bufferevent_enable(c->bev, EV_READ);
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
	struct ctl_server *s = arg;

	/* EMFILE and the like: log (rate-limited) and go on; the listener stays. */
	log_rl(&s->rl, LOG_LVL_WARN, "control: accept: %s", strerror(errno));
}

struct ctl_server *ctl_server_open(struct event_base *base, const char *path, ctl_handler h,
				   void *ctx, int *err)
{
	return ctl_server_open_mode(base, path, 0660, h, ctx, err);
}

struct ctl_server *ctl_server_open_mode(struct event_base *base, const char *path,
					unsigned int mode, ctl_handler h, void *ctx, int *err)
{
	struct ctl_server *s;
	struct sockaddr_un sun;

	*err = unixsock_prepare(path);
	if (!*err)
		*err = unixsock_addr(path, &sun);
	if (*err)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		*err = -ENOMEM;
		return NULL;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->handler = h;
	s->ctx = ctx;
	s->rl = (struct ratelimit)RATELIMIT_INIT(5000, 3);
	s->listener = evconnlistener_new_bind(base, on_accept, s,
					      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
					      (struct sockaddr *)&sun, sizeof(sun));
	if (!s->listener) {
		*err = -errno;
		free(s);
		return NULL;
	}
	evconnlistener_set_error_cb(s->listener, on_accept_error);
	chmod(path, (mode_t)mode);
	return s;
}

const struct ctl_stats *ctl_server_stats(const struct ctl_server *s)
{
	return &s->stats;
}

void ctl_server_close(struct ctl_server *s)
{
	if (!s)
		return;
	while (s->head)
		session_close(s->head);
	evconnlistener_free(s->listener);
	unlink(s->path);
	free(s);
}

int ctl_request(const char *path, const void *req, size_t req_len, char **reply,
		size_t *reply_len, int timeout_ms)
{
	struct sockaddr_un sun;
	struct monotime deadline = monotime_add_us(monotime_now(), timeout_ms * USEC_PER_MSEC);
	uint32_t len = htonl((uint32_t)req_len);
	char *buf;
	int fd, err;

	err = unixsock_addr(path, &sun);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		err = -errno;
		goto out;
	}
	err = unixsock_io(fd, &len, 4, true, deadline);
	if (!err)
		err = unixsock_io(fd, (void *)req, req_len, true, deadline);
	if (!err)
		err = unixsock_io(fd, &len, 4, false, deadline);
	if (err)
		goto out;
	len = ntohl(len);
	if (len > CTL_MAX_REPLY) {
		err = -EMSGSIZE;
		goto out;
	}
	buf = malloc(len + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	err = unixsock_io(fd, buf, len, false, deadline);
	if (err) {
		free(buf);
		goto out;
	}
	buf[len] = '\0';
	*reply = buf;
	*reply_len = len;
out:
	close(fd);
	return err;
}
