/*
 * proptool.c - sends binding changes to fabricd's API and watches them land in the agents'
 * kernels, for bench/propagation.sh:
 *   proptool -s SOCKET -p PLAN [-t TIMEOUT_MS]
 * PLAN, one item a line (# comments, blank lines):
 *   host ID NETNS VTEP                  an agent: its host id, its namespace (/run/netns/NETNS)
 *                                       and its VTEP address
 *   add VNI MAC HOST IP4 IP6            a new port on HOST
 *   move VNI MAC HOST FROM IP4 IP6      the port, now on FROM, moves to HOST
 * Every change is one port_add Request (vni, mac, [IP4, IP6], [HOST]) on one fabricctl session
 * kept open for the whole run. One rtnetlink socket per host, opened inside its namespace
 * (setns), listens to RTNLGRP_NEIGH there. The next change is sent only once everything the
 * previous one must produce has been seen, or after TIMEOUT_MS (default 2000):
 *   fdb@X   every host X but HOST: the vxlan FDB entry MAC -> VTEP(HOST) appears
 *           (RTM_NEWNEIGH, AF_BRIDGE, NDA_LLADDR = MAC, NDA_DST = VTEP(HOST))
 *   gone@X  move, X = HOST: the entry MAC -> VTEP(FROM) is deleted (RTM_DELNEIGH)
 *   nb4@X   add, every host: the neighbour IP4 -> MAC appears (AF_INET)
 *   nb6@X   add, every host: the neighbour IP6 -> MAC appears (AF_INET6)
 * Times are CLOCK_MONOTONIC (one clock for every namespace): t0 right before the Request's
 * write(), an event's time right after the recv() that returned it. Output, one line per
 * change, times in microseconds from t0, -1 when not seen before the timeout:
 *   N KIND reply_us fdb_us all_us EVENT@HOST=us ...
 * fdb_us is the latest FDB event (fdb, gone), all_us the latest of all. At the end, on stderr:
 *   proptool: N changes, N complete, N timed out, N stray events, N overruns
 * Exit 0 when the run went through (timeouts included), 1 on a setup or session error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "addr.h"
#include "fabric.pb-c.h"
#include "wire.h"

#define MAX_HOSTS 16
#define MAX_EXPECT (4 * MAX_HOSTS)

enum { E_FDB, E_GONE, E_NB4, E_NB6 };
static const char *const ename[] = { "fdb", "gone", "nb4", "nb6" };

struct host {
	char id[WIRE_ID_MAX + 1];
	char ns[128];
	struct ipaddr vtep;
	struct mnl_socket *nl;
};

struct change {
	bool move;
	uint32_t vni;
	struct mac mac;
	int host, from;
	struct ipaddr ip4, ip6;
};

struct expect {
	int type, host;
	int64_t at;                    /* ns since t0, -1 until seen */
};

static struct host hosts[MAX_HOSTS];
static int nhosts;
static struct change *changes;
static size_t nchanges, capchanges;
static struct expect ex[MAX_EXPECT];
static int nex, nleft;
static const struct change *cur;
static int64_t t0;
static unsigned long stray, overruns;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int host_by_id(const char *id)
{
	for (int i = 0; i < nhosts; i++)
		if (strcmp(hosts[i].id, id) == 0)
			return i;
	return -1;
}

static int parse_plan(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int lineno = 0;

	if (!f) {
		fprintf(stderr, "proptool: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *w[8], *save = NULL;
		int n = 0;

		lineno++;
		for (char *t = strtok_r(line, " \t\r\n", &save); t && n < 8;
		     t = strtok_r(NULL, " \t\r\n", &save))
			w[n++] = t;
		if (!n || w[0][0] == '#')
			continue;
		if (strcmp(w[0], "host") == 0 && n == 4 && nhosts < MAX_HOSTS &&
		    strlen(w[1]) <= WIRE_ID_MAX && strlen(w[2]) < sizeof(hosts[0].ns) &&
		    ipaddr_parse(w[3], &hosts[nhosts].vtep) == 0) {
			strcpy(hosts[nhosts].id, w[1]);
			strcpy(hosts[nhosts].ns, w[2]);
			nhosts++;
			continue;
		}
		if ((strcmp(w[0], "add") == 0 && n == 6) || (strcmp(w[0], "move") == 0 && n == 7)) {
			struct change c = { .move = w[0][0] == 'm' };
			int k = c.move ? 5 : 4;

			c.vni = (uint32_t)strtoul(w[1], NULL, 10);
			c.host = host_by_id(w[3]);
			c.from = c.move ? host_by_id(w[4]) : -1;
			if (mac_parse(w[2], &c.mac) == 0 && c.host >= 0 && (!c.move || c.from >= 0) &&
			    ipaddr_parse(w[k], &c.ip4) == 0 && c.ip4.af == AF_INET &&
			    ipaddr_parse(w[k + 1], &c.ip6) == 0 && c.ip6.af == AF_INET6) {
				if (nchanges == capchanges) {
					capchanges = capchanges ? 2 * capchanges : 1024;
					changes = realloc(changes, capchanges * sizeof(*changes));
					if (!changes)
						return -1;
				}
				changes[nchanges++] = c;
				continue;
			}
		}
		fprintf(stderr, "proptool: %s:%d: bad line\n", path, lineno);
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

/* A neighbour-group rtnetlink socket inside host h's namespace. */
static int open_monitor(struct host *h, int home)
{
	char path[256];
	int nsfd, err = 0, sz = 8 << 20;

	snprintf(path, sizeof(path), "/run/netns/%s", h->ns);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "proptool: enter %s: %s\n", path, strerror(errno));
		if (nsfd >= 0)
			close(nsfd);
		return -1;
	}
	close(nsfd);
	h->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!h->nl || mnl_socket_bind(h->nl, RTMGRP_NEIGH, MNL_SOCKET_AUTOPID) < 0)
		err = -1;
	else if (setsockopt(mnl_socket_get_fd(h->nl), SOL_SOCKET, SO_RCVBUFFORCE, &sz,
			    sizeof(sz)) < 0)
		setsockopt(mnl_socket_get_fd(h->nl), SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setns(home, CLONE_NEWNET) < 0) {
		fprintf(stderr, "proptool: back to our namespace: %s\n", strerror(errno));
		return -1;
	}
	if (err)
		fprintf(stderr, "proptool: netlink socket in %s: %s\n", h->ns, strerror(errno));
	return err;
}

static bool addr_is(const struct ipaddr *a, const void *p, size_t len)
{
	return a->af && ipaddr_len(a) == len && memcmp(a->b, p, len) == 0;
}

/* One notification from host h, seen at time t. */
static void on_neigh(int h, const struct nlmsghdr *nlh, int64_t t)
{
	const struct ndmsg *ndm;
	const struct nlattr *a;
	const void *lladdr = NULL, *dst = NULL;
	size_t dstlen = 0;
	bool matched = false;

	if ((nlh->nlmsg_type != RTM_NEWNEIGH && nlh->nlmsg_type != RTM_DELNEIGH) ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ndm)))
		return;
	ndm = mnl_nlmsg_get_payload(nlh);
	mnl_attr_for_each(a, nlh, sizeof(*ndm)) {
		size_t len = mnl_attr_get_payload_len(a);

		if (mnl_attr_get_type(a) == NDA_LLADDR && len == MAC_LEN)
			lladdr = mnl_attr_get_payload(a);
		else if (mnl_attr_get_type(a) == NDA_DST && (len == 4 || len == 16)) {
			dst = mnl_attr_get_payload(a);
			dstlen = len;
		}
	}
	if (!cur || !lladdr || !dst || memcmp(lladdr, cur->mac.b, MAC_LEN) != 0)
		return;
	for (int i = 0; i < nex; i++) {
		struct expect *e = &ex[i];
		bool ok = false;

		if (e->host != h || e->at >= 0)
			continue;
		switch (e->type) {
		case E_FDB:
			ok = nlh->nlmsg_type == RTM_NEWNEIGH && ndm->ndm_family == AF_BRIDGE &&
			     addr_is(&hosts[cur->host].vtep, dst, dstlen);
			break;
		case E_GONE:
			ok = nlh->nlmsg_type == RTM_DELNEIGH && ndm->ndm_family == AF_BRIDGE &&
			     addr_is(&hosts[cur->from].vtep, dst, dstlen);
			break;
		case E_NB4:
			ok = nlh->nlmsg_type == RTM_NEWNEIGH && ndm->ndm_family == AF_INET &&
			     addr_is(&cur->ip4, dst, dstlen);
			break;
		case E_NB6:
			ok = nlh->nlmsg_type == RTM_NEWNEIGH && ndm->ndm_family == AF_INET6 &&
			     addr_is(&cur->ip6, dst, dstlen);
			break;
		}
		if (ok) {
			e->at = t - t0;
			nleft--;
			matched = true;
		}
	}
	if (!matched && ndm->ndm_family == AF_BRIDGE) {
		stray++;
		if (getenv("PROPTOOL_DEBUG")) {
			struct ipaddr d = { .af = dstlen == 4 ? AF_INET : AF_INET6 };
			char txt[IPADDR_STRLEN];

			memcpy(d.b, dst, dstlen);
			fprintf(stderr, "stray on %s: %s dst %s flags %#x\n", hosts[h].id,
				nlh->nlmsg_type == RTM_NEWNEIGH ? "new" : "del", ipaddr_fmt(&d, txt),
				ndm->ndm_flags);
		}
	}
}

static void drain_monitor(int h)
{
	static uint8_t buf[1 << 16];

	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(hosts[h].nl), buf, sizeof(buf), 0);
		int64_t t = now_ns();

		if (n < 0) {
			if (errno == ENOBUFS) {
				overruns++;
				continue;
			}
			return;         /* EAGAIN: drained */
		}
		for (const struct nlmsghdr *nlh = (const void *)buf; mnl_nlmsg_ok(nlh, (int)n);
		     nlh = mnl_nlmsg_next(nlh, (int *)&n))
			on_neigh(h, nlh, t);
	}
}

/* --- the API session ------------------------------------------------------------------ */

static int api_fd = -1;
static uint8_t rbuf[1 << 20];
static size_t rlen;

static int send_env(const L2f__Envelope *env)
{
	size_t len = l2f__envelope__get_packed_size(env), off = 0;
	uint8_t *buf = malloc(len + 4);

	if (!buf)
		return -1;
	buf[0] = (uint8_t)(len >> 24);
	buf[1] = (uint8_t)(len >> 16);
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	l2f__envelope__pack(env, buf + 4);
	while (off < len + 4) {
		ssize_t n = write(api_fd, buf + off, len + 4 - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return -1;
		}
		off += (size_t)n;
	}
	free(buf);
	return 0;
}

/* Reads what is there; returns the next whole envelope, NULL when none yet. *err on EOF. */
static L2f__Envelope *recv_env(bool *err)
{
	ssize_t n = read(api_fd, rbuf + rlen, sizeof(rbuf) - rlen);
	L2f__Envelope *env;
	uint32_t flen;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		*err = true;
		return NULL;
	}
	if (n > 0)
		rlen += (size_t)n;
	if (rlen < 4)
		return NULL;
	flen = (uint32_t)rbuf[0] << 24 | (uint32_t)rbuf[1] << 16 | (uint32_t)rbuf[2] << 8 | rbuf[3];
	if (flen > sizeof(rbuf) - 4) {
		*err = true;
		return NULL;
	}
	if (rlen < 4 + flen)
		return NULL;
	env = l2f__envelope__unpack(NULL, flen, rbuf + 4);
	memmove(rbuf, rbuf + 4 + flen, rlen - 4 - flen);
	rlen -= 4 + flen;
	if (!env)
		*err = true;
	return env;
}

static int api_open(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	L2f__Envelope env = L2F__ENVELOPE__INIT, *in = NULL;
	L2f__Hello hello = L2F__HELLO__INIT;
	char id[WIRE_ID_MAX + 1];
	int64_t deadline = now_ns() + 5000000000LL;
	bool err = false;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	api_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (api_fd < 0 || connect(api_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "proptool: connect %s: %s\n", path, strerror(errno));
		return -1;
	}
	snprintf(id, sizeof(id), "proptool.%d", (int)getpid());
	hello.version = PROTO_VERSION;
	hello.role = L2F__ROLE__ROLE_FABRICCTL;
	hello.id = id;
	env.msg_case = L2F__ENVELOPE__MSG_HELLO;
	env.hello = &hello;
	if (send_env(&env) < 0)
		return -1;
	fcntl(api_fd, F_SETFL, O_NONBLOCK);
	while (!in && !err && now_ns() < deadline) {
		struct pollfd p = { .fd = api_fd, .events = POLLIN };

		if (poll(&p, 1, 100) > 0)
			in = recv_env(&err);
	}
	if (!in || in->msg_case != L2F__ENVELOPE__MSG_HELLO ||
	    in->hello->role != L2F__ROLE__ROLE_FABRICD) {
		fprintf(stderr, "proptool: no Hello from fabricd\n");
		if (in)
			l2f__envelope__free_unpacked(in, NULL);
		return -1;
	}
	l2f__envelope__free_unpacked(in, NULL);
	return 0;
}

static int send_change(const struct change *c, size_t idx)
{
	L2f__Envelope env = L2F__ENVELOPE__INIT;
	L2f__Request req = L2F__REQUEST__INIT;
	L2f__Port port = L2F__PORT__INIT;
	ProtobufCBinaryData ips[2] = {
		{ 4, (uint8_t *)c->ip4.b },
		{ 16, (uint8_t *)c->ip6.b },
	};
	char name[32], *hostp = hosts[c->host].id;

	snprintf(name, sizeof(name), "pb%zu", idx);
	port.name = name;
	port.vni = c->vni;
	port.mac.data = (uint8_t *)c->mac.b;
	port.mac.len = MAC_LEN;
	port.ips = ips;
	port.n_ips = 2;
	port.hosts = &hostp;
	port.n_hosts = 1;
	req.op_case = L2F__REQUEST__OP_PORT_ADD;
	req.port_add = &port;
	env.msg_case = L2F__ENVELOPE__MSG_REQUEST;
	env.request = &req;
	t0 = now_ns();
	return send_env(&env);
}

static void expect(int type, int host)
{
	ex[nex].type = type;
	ex[nex].host = host;
	ex[nex].at = -1;
	nex++;
	nleft++;
}

static int usage(void)
{
	fprintf(stderr, "usage: proptool -s SOCKET -p PLAN [-t TIMEOUT_MS]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *plan = NULL;
	int64_t timeout_ns = 2000000000LL;
	unsigned long complete = 0, timedout = 0;
	int opt, home;

	while ((opt = getopt(argc, argv, "s:p:t:")) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'p': plan = optarg; break;
		case 't': timeout_ns = strtoll(optarg, NULL, 10) * 1000000LL; break;
		default: return usage();
		}
	}
	if (!sock || !plan || timeout_ns <= 0)
		return usage();
	if (parse_plan(plan) < 0 || nhosts < 1)
		return 1;
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return 1;
	for (int h = 0; h < nhosts; h++)
		if (open_monitor(&hosts[h], home) < 0)
			return 1;
	if (api_open(sock) < 0)
		return 1;
	for (size_t i = 0; i < nchanges; i++) {
		const struct change *c = &changes[i];
		struct pollfd pfd[MAX_HOSTS + 1];
		int64_t reply = -1, deadline;
		bool err = false;

		nex = nleft = 0;
		for (int h = 0; h < nhosts; h++) {
			if (h != c->host)
				expect(E_FDB, h);
			if (c->move && h == c->host)
				expect(E_GONE, h);
			if (!c->move) {
				expect(E_NB4, h);
				expect(E_NB6, h);
			}
		}
		/* Whatever arrived before this change is not part of it. */
		cur = NULL;
		for (int h = 0; h < nhosts; h++)
			drain_monitor(h);
		cur = c;
		if (send_change(c, i) < 0) {
			fprintf(stderr, "proptool: change %zu: send failed\n", i);
			return 1;
		}
		deadline = t0 + timeout_ns;
		while ((nleft > 0 || reply < 0) && !err) {
			int64_t left = deadline - now_ns();

			if (left <= 0)
				break;
			for (int h = 0; h < nhosts; h++)
				pfd[h] = (struct pollfd){ .fd = mnl_socket_get_fd(hosts[h].nl), .events = POLLIN };
			pfd[nhosts] = (struct pollfd){ .fd = api_fd, .events = POLLIN };
			if (poll(pfd, (nfds_t)nhosts + 1, (int)(left / 1000000) + 1) <= 0)
				continue;
			for (int h = 0; h < nhosts; h++)
				if (pfd[h].revents)
					drain_monitor(h);
			if (pfd[nhosts].revents) {
				int64_t t = now_ns();
				L2f__Envelope *in;

				while ((in = recv_env(&err))) {
					if (in->msg_case != L2F__ENVELOPE__MSG_REPLY)
						err = true;
					else if (in->reply->error)
						fprintf(stderr, "proptool: change %zu: %s\n", i, in->reply->error);
					else
						reply = t - t0;
					l2f__envelope__free_unpacked(in, NULL);
				}
			}
		}
		if (err) {
			fprintf(stderr, "proptool: change %zu: the API session broke\n", i);
			return 1;
		}
		int64_t fdb = 0, all = 0;
		bool missing = reply < 0;

		for (int k = 0; k < nex; k++) {
			if (ex[k].at < 0) {
				missing = true;
				continue;
			}
			if (ex[k].type == E_FDB || ex[k].type == E_GONE)
				fdb = ex[k].at > fdb ? ex[k].at : fdb;
			all = ex[k].at > all ? ex[k].at : all;
		}
		if (missing)
			timedout++;
		else
			complete++;
		printf("%zu %s %" PRId64 " %" PRId64 " %" PRId64, i, c->move ? "move" : "add",
		       reply < 0 ? -1 : reply / 1000, missing ? -1 : fdb / 1000,
		       missing ? -1 : all / 1000);
		for (int k = 0; k < nex; k++)
			printf(" %s@%s=%" PRId64, ename[ex[k].type], hosts[ex[k].host].id,
			       ex[k].at < 0 ? -1 : ex[k].at / 1000);
		putchar('\n');
	}
	fflush(stdout);
	fprintf(stderr, "proptool: %zu changes, %lu complete, %lu timed out, %lu stray events, "
			"%lu overruns\n", nchanges, complete, timedout, stray, overruns);
	return 0;
}
