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
#include "unixsock.h"

struct ctl_server {
	struct evconnlistener *listener;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ctl_handler handler;
	void *ctx;
	unsigned int sessions;
	struct ratelimit rl;
};

static void session_free(struct bufferevent *bev, struct ctl_server *s)
{
	bufferevent_free(bev);
	s->sessions--;
}

/* Handles one complete request if one is buffered: 1 when it did, 0 when more bytes are
 * needed, -1 when the session was closed. */
static int serve_one(struct bufferevent *bev, struct ctl_server *s)
{
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
		session_free(bev, s);
		return -1;
	}
	if (evbuffer_get_length(in) < 4 + (size_t)len)
		return 0;
	evbuffer_drain(in, 4);
	req = malloc(len + 1);
	if (!req) {
		session_free(bev, s);
		return -1;
	}
	evbuffer_remove(in, req, len);
	req[len] = '\0';
	ret = s->handler(s->ctx, req, len, &reply, &reply_len);
	free(req);
	if (ret) {
		free(reply);
		session_free(bev, s);
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
	if (serve_one(bev, arg) == 1)
		bufferevent_disable(bev, EV_READ);
}

static void session_written(struct bufferevent *bev, void *arg)
{
	int ret = serve_one(bev, arg);

	if (ret == 0)
		bufferevent_enable(bev, EV_READ);
	else if (ret == 1)
		bufferevent_disable(bev, EV_READ);
}

static void session_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		session_free(bev, arg);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct ctl_server *s = arg;
	struct timeval idle = { CTL_IDLE_S, 0 };
	struct bufferevent *bev;

	if (s->sessions >= CTL_MAX_SESSIONS) {
		log_rl(&s->rl, LOG_LVL_WARN, "control: %u sessions open, refusing another",
		       s->sessions);
		close(fd);
		return;
	}
	bev = bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		close(fd);
		return;
	}
	s->sessions++;
	bufferevent_setcb(bev, session_read, session_written, session_event, arg);
	bufferevent_set_timeouts(bev, &idle, &idle);
	bufferevent_enable(bev, EV_READ);
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
	chmod(path, 0660);
	return s;
}

void ctl_server_close(struct ctl_server *s)
{
	if (!s)
		return;
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
