/*
 * neighwatch.c - timestamps the neighbour and FDB notifications of the namespace it runs in,
 * for bench/vtepd_drift.sh:
 *   neighwatch [-t SECONDS]
 * One rtnetlink socket on RTNLGRP_NEIGH with a 64 MiB receive buffer (SO_RCVBUFFORCE), read
 * with recvmmsg; what it sees is kept in memory and printed when it ends, one line per
 * notification on stdout:
 *   T_US new|del FAMILY IFINDEX KEY PROTO STATE
 * T_US is CLOCK_REALTIME in microseconds right after the recvmmsg() that returned it (the
 * clock of bash's EPOCHREALTIME, so that a script can time from its own command); FAMILY
 * inet, inet6 or bridge; KEY the neighbour's IP, or an FDB entry's MAC (then its dst after a
 * comma when there is one: 02:00:00:00:00:01,198.18.0.12); PROTO the NDA_PROTOCOL, 0 if none;
 * STATE the NUD state in hex (0x20: FAILED, what `ip neigh del` makes an entry before it goes).
 * Lost notifications (ENOBUFS) print "T_US lost". On stderr "listening" once the socket is
 * bound. Ends on SIGTERM or SIGINT, or after SECONDS (default 600).
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "addr.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct rec {
	long long t;
	uint16_t type;            /* RTM_NEWNEIGH, RTM_DELNEIGH, or 0: lost */
	uint8_t family, proto;
	uint16_t state;
	int ifindex;
	struct ipaddr ip;
	struct mac mac;
	bool has_mac;
};

static struct rec *recs;
static size_t nrecs, caprecs;

static struct rec *rec_new(long long t)
{
	if (nrecs == caprecs) {
		size_t cap = caprecs ? 2 * caprecs : 65536;
		struct rec *p = realloc(recs, cap * sizeof(*p));

		if (!p)
			return NULL;
		recs = p;
		caprecs = cap;
	}
	memset(&recs[nrecs], 0, sizeof(*recs));
	recs[nrecs].t = t;
	return &recs[nrecs++];
}

static int on_msg(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	struct rec *r;

	if ((nlh->nlmsg_type != RTM_NEWNEIGH && nlh->nlmsg_type != RTM_DELNEIGH) ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ndm)))
		return MNL_CB_OK;
	r = rec_new(*(const long long *)data);
	if (!r)
		return MNL_CB_ERROR;
	r->type = nlh->nlmsg_type;
	r->family = ndm->ndm_family;
	r->ifindex = ndm->ndm_ifindex;
	r->state = ndm->ndm_state;
	mnl_attr_for_each(a, nlh, sizeof(*ndm)) {
		uint16_t len = mnl_attr_get_payload_len(a);

		if (mnl_attr_get_type(a) == NDA_DST && (len == 4 || len == 16)) {
			r->ip.af = len == 4 ? AF_INET : AF_INET6;
			memcpy(r->ip.b, mnl_attr_get_payload(a), len);
		} else if (mnl_attr_get_type(a) == NDA_LLADDR && len == MAC_LEN) {
			memcpy(r->mac.b, mnl_attr_get_payload(a), MAC_LEN);
			r->has_mac = true;
		} else if (mnl_attr_get_type(a) == NDA_PROTOCOL && len == 1) {
			r->proto = mnl_attr_get_u8(a);
		}
	}
	return MNL_CB_OK;
}

static void print_recs(void)
{
	for (size_t i = 0; i < nrecs; i++) {
		const struct rec *r = &recs[i];
		char key[MAC_STRLEN + IPADDR_STRLEN + 1] = "-", mac[MAC_STRLEN] = "-";
		char ip[IPADDR_STRLEN] = "";

		if (!r->type) {
			printf("%lld lost\n", r->t);
			continue;
		}
		if (r->has_mac)
			mac_fmt(&r->mac, mac);
		if (r->ip.af)
			ipaddr_fmt(&r->ip, ip);
		if (r->family == AF_BRIDGE)
			snprintf(key, sizeof(key), "%s%s%s", mac, ip[0] ? "," : "", ip);
		else if (ip[0])
			snprintf(key, sizeof(key), "%s", ip);
		printf("%lld %s %s %d %s %u 0x%02x\n", r->t, r->type == RTM_NEWNEIGH ? "new" : "del",
		       r->family == AF_BRIDGE ? "bridge" : r->family == AF_INET ? "inet" :
		       r->family == AF_INET6 ? "inet6" : "other", r->ifindex, key, r->proto,
		       r->state);
	}
}

#define BATCH 256
#define MSG_BYTES 8192

int main(int argc, char **argv)
{
	static char bufs[BATCH][MSG_BYTES];
	static struct mmsghdr msgs[BATCH];
	static struct iovec iov[BATCH];
	int bytes = 64 << 20, opt, seconds = 600;
	struct mnl_socket *nl;
	struct sigaction sa = { .sa_handler = on_signal };
	long long end;

	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt != 't' || (seconds = atoi(optarg)) <= 0) {
			fprintf(stderr, "usage: neighwatch [-t SECONDS]\n");
			return 2;
		}
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl || mnl_socket_bind(nl, RTMGRP_NEIGH, MNL_SOCKET_AUTOPID) < 0) {
		perror("neighwatch: netlink");
		return 1;
	}
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0)
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], MSG_BYTES };
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	fprintf(stderr, "neighwatch: listening\n");
	end = now_us() + (long long)seconds * 1000000;
	while (!stop && now_us() < end) {
		struct pollfd p = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };
		long long t;
		int n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		/* Each notification is one datagram: many per syscall, one time for the batch
		 * (taken right after it returns), so that the watcher keeps up with a flush. */
		n = recvmmsg(p.fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		t = now_us();
		if (n < 0) {
			struct rec *r;

			if (errno == ENOBUFS && (r = rec_new(t)))
				r->type = 0;
			continue;
		}
		for (int i = 0; i < n; i++)
			mnl_cb_run(bufs[i], msgs[i].msg_len, 0, 0, on_msg, &t);
	}
	mnl_socket_close(nl);
	print_recs();
	fflush(stdout);
	free(recs);
	return 0;
}
