/* metrics.c - the Prometheus endpoint; see metrics.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>
#include "conf.h"
#include "log.h"
#include "monotime.h"
#include "metrics.h"

struct client {
	struct bufferevent *bev;
	struct event *deadline;
	struct metrics_server *srv;
	TAILQ_ENTRY(client) link;          /* oldest first */
	struct monotime since;             /* accepted */
	bool heard;                        /* sent at least a byte */
	bool answered;
};

struct metrics_server {
	struct evconnlistener *listener;
	metrics_fn fn;
	void *ctx;
	TAILQ_HEAD(, client) clients;
	unsigned int n;
	struct metrics_stats stats;
	struct ratelimit rl;
};

static void client_free(struct client *c)
{
	struct metrics_server *s = c->srv;

	TAILQ_REMOVE(&s->clients, c, link);
	event_free(c->deadline);
	bufferevent_free(c->bev);
	free(c);
	s->n--;
}

static void respond(struct client *c, const char *status, struct evbuffer *body)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	evbuffer_add_printf(out, "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			    "Connection: close\r\n\r\n", status,
			    body ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain",
			    body ? evbuffer_get_length(body) : strlen(status) + 1);
	if (body)
		evbuffer_add_buffer(out, body);
	else
		evbuffer_add_printf(out, "%s\n", status);
	c->answered = true;
	bufferevent_disable(c->bev, EV_READ);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr end;
	char line[128];
	size_t len;
	char *req;

	if (c->answered)
		return;
	c->heard = true;
	end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (end.pos < 0)
		end = evbuffer_search(in, "\n\n", 2, NULL);
	if (end.pos < 0) {
		if (evbuffer_get_length(in) > METRICS_MAX_REQUEST) {
			c->srv->stats.bad_requests++;
			respond(c, "431 Request Header Fields Too Large", NULL);
		}
		return;
	}
	req = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
	snprintf(line, sizeof(line), "%s", req ? req : "");
	free(req);
	if (!strncmp(line, "GET /metrics ", 13) || !strcmp(line, "GET /metrics")) {
		struct evbuffer *body = evbuffer_new();
		struct metrics_out m = { body };

		if (!body) {
			respond(c, "500 Internal Server Error", NULL);
			return;
		}
		c->srv->fn(&m, c->srv->ctx);
		c->srv->stats.scrapes++;
		respond(c, "200 OK", body);
		evbuffer_free(body);
	} else if (!strncmp(line, "GET ", 4)) {
		respond(c, "404 Not Found", NULL);
	} else {
		c->srv->stats.bad_requests++;
		respond(c, "400 Bad Request", NULL);
	}
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

	if (c->answered)
		client_free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	client_free(arg);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	c->srv->stats.timeouts++;
	client_free(c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct metrics_server *s = arg;
	struct timeval tv = { METRICS_DEADLINE_MS / 1000, (METRICS_DEADLINE_MS % 1000) * 1000 };
	struct client *c;

	/* Full: the oldest client that has said nothing for METRICS_SILENT_MS makes room, so
	 * clients that connect and stay silent cannot keep a scraper out, and a scraper that
	 * has just connected is not pushed out by a burst of them; with none, the newcomer is
	 * closed. */
	if (s->n >= METRICS_MAX_CLIENTS) {
		struct monotime now = monotime_now();
		struct client *old;

		TAILQ_FOREACH(old, &s->clients, link)
			if (!old->heard && monotime_diff_us(now, old->since) >=
						   (int64_t)METRICS_SILENT_MS * USEC_PER_MSEC)
				break;
		s->stats.refused++;
		if (!old) {
			log_rl(&s->rl, LOG_LVL_WARN, "metrics: %u clients busy, refusing another",
			       s->n);
			close(fd);
			return;
		}
		log_rl(&s->rl, LOG_LVL_WARN, "metrics: %u clients, closing the oldest silent one",
		       s->n);
		client_free(old);
	}
	c = calloc(1, sizeof(*c));
	if (c)
		c->bev = bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
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
	TAILQ_INSERT_TAIL(&s->clients, c, link);
	s->n++;
	bufferevent_setwatermark(c->bev, EV_READ, 0, METRICS_MAX_REQUEST + 1);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_enable(c->bev, EV_READ);
	event_add(c->deadline, &tv);
}

int metrics_open(struct event_base *base, const char *listen, metrics_fn fn, void *ctx,
		 struct metrics_server **out)
{
	struct sockaddr_storage ss = { 0 };
	struct metrics_server *s;
	char host[64];
	uint16_t port;
	socklen_t len;

	if (conf_listen_split(listen, host, sizeof(host), &port) < 0)
		return -EINVAL;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		len = sizeof(struct sockaddr_in6);
	} else {
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	TAILQ_INIT(&s->clients);
	s->fn = fn;
	s->ctx = ctx;
	s->rl = (struct ratelimit)RATELIMIT_INIT(10000, 1);
	s->listener = evconnlistener_new_bind(base, on_accept, s,
					      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
					      LEV_OPT_REUSEABLE, 64, (struct sockaddr *)&ss, (int)len);
	if (!s->listener) {
		int err = -errno;

		free(s);
		return err ? err : -EADDRNOTAVAIL;
	}
	*out = s;
	return 0;
}

void metrics_close(struct metrics_server *s)
{
	if (!s)
		return;
	while (!TAILQ_EMPTY(&s->clients))
		client_free(TAILQ_FIRST(&s->clients));
	evconnlistener_free(s->listener);
	free(s);
}

const struct metrics_stats *metrics_stats(const struct metrics_server *s)
{
	return &s->stats;
}

void metrics_family(struct metrics_out *m, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(m->buf, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values: backslash, double quote and newline escaped (exposition format). */
static void put_label_value(struct evbuffer *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			evbuffer_add_printf(b, "\\%c", *v);
		else if (*v == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, v, 1);
	}
}

void metrics_value(struct metrics_out *m, const char *name, uint64_t value, ...)
{
	const char *k, *v;
	bool first = true;
	va_list ap;

	evbuffer_add_printf(m->buf, "%s", name);
	va_start(ap, value);
	while ((k = va_arg(ap, const char *)) && (v = va_arg(ap, const char *))) {
		evbuffer_add_printf(m->buf, "%s%s=\"", first ? "{" : ",", k);
		put_label_value(m->buf, v);
		evbuffer_add(m->buf, "\"", 1);
		first = false;
	}
	va_end(ap);
	evbuffer_add_printf(m->buf, "%s %llu\n", first ? "" : "}", (unsigned long long)value);
}

void metrics_value_us(struct metrics_out *m, const char *name, uint64_t us)
{
	evbuffer_add_printf(m->buf, "%s %llu.%06llu\n", name, (unsigned long long)(us / 1000000),
			    (unsigned long long)(us % 1000000));
}

void metrics_one(struct metrics_out *m, const char *name, const char *type, const char *help,
		 uint64_t value)
{
	metrics_family(m, name, type, help);
	metrics_value(m, name, value, NULL);
}
