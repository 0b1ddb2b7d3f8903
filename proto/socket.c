/*
 * socket.c - the sockets under the control protocol's sessions: TCP and Unix listeners (each
 * accepted descriptor handed to the daemon; accepting paused when out of descriptors), the
 * non-blocking TCP connect, and numeric host:port parsing (no DNS inside an event loop).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "log.h"
#include "unixsock.h"
#include "wire.h"
#include "wire_int.h"

/* Dead peers (a host that lost power sends no FIN): keepalive probes after 10 s idle, every
 * 5 s, 3 unanswered end it; unacknowledged data ends it after 30 s. */
#define TCP_IDLE_S 10
#define TCP_INTVL_S 5
#define TCP_CNT 3
#define TCP_USER_TIMEOUT_MS 30000

struct wire_listener {
	struct evconnlistener *lev;
	struct event *ev_resume;     /* accept paused (out of descriptors): retry later */
	wire_accept_cb cb;
	void *ctx;
	bool tcp;
	struct wire_listener_stats st;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* Connections the kernel queues before fabricd accepts them (capped by net.core.somaxconn):
 * under a flood a short queue drops SYNs, an agent's among them, each then waiting a second
 * or more for its retransmission; what waits in it costs fabricd nothing. */
#define LISTEN_BACKLOG 4096

/* Accepting is paused this long when the process or system is out of descriptors: the
 * listener stays readable meanwhile, and retrying at once would spin. */
#define ACCEPT_PAUSE_MS 100

/* "198.18.0.2:7301", "[2001:db8::2]:7301", or for a Unix socket its peer's pid and uid. */
void wire_peer_fmt(int fd, const struct sockaddr *sa, char *buf, size_t size)
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
	wire_peer_fmt(fd, sa, peer, sizeof(peer));
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
					 LEV_OPT_REUSEABLE, LISTEN_BACKLOG, sa, (int)sl);
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
