/* nl.c - rtnetlink helpers on libmnl (see nl.h). */
#include <errno.h>
#include <stdlib.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/filter.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "nl.h"

int nl_open(struct nl *nl, unsigned int groups)
{
	int one = 1;

	memset(nl, 0, sizeof(*nl));
	nl->sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | (groups ? SOCK_NONBLOCK : 0));
	if (!nl->sk)
		return -errno;
	if (mnl_socket_bind(nl->sk, groups, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		mnl_socket_close(nl->sk);
		nl->sk = NULL;
		return err;
	}
	/* Errors come back with only the header of the failed request (less to copy). */
	mnl_socket_setsockopt(nl->sk, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sk, NETLINK_EXT_ACK, &one, sizeof(one));
	if (!groups) {
		/* A request waits for its ack in the caller's event loop: bound the wait. */
		struct timeval tv = { .tv_sec = 1 };

		setsockopt(mnl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	nl->portid = mnl_socket_get_portid(nl->sk);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

void nl_close(struct nl *nl)
{
	if (nl->sk)
		mnl_socket_close(nl->sk);
	nl->sk = NULL;
}

int nl_fd(const struct nl *nl)
{
	return mnl_socket_get_fd(nl->sk);
}

int nl_drain(struct nl *nl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int n = 0;

	for (;;) {
		ssize_t len = mnl_socket_recvfrom(nl->sk, buf, sizeof(buf));

		if (len < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return n;
			if (errno == ENOBUFS) {
				n++;
				continue;
			}
			return -errno;
		}
		n++;
	}
}

int nl_request(struct nl *nl, struct nlmsghdr *nlh)
{
	return nl_request_cb(nl, nlh, NULL, NULL);
}

int nl_request_cb(struct nl *nl, struct nlmsghdr *nlh, nl_msg_cb cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = ++nl->seq;
	ssize_t len;

	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		int ret;

		len = mnl_socket_recvfrom(nl->sk, buf, sizeof(buf));
		if (len < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)len, seq, nl->portid, cb, data);
		if (ret <= MNL_CB_STOP)
			return ret < 0 ? -errno : 0;
	}
}

int nl_addr(struct nl *nl, int cmd, int ifindex, const struct ipaddr *a)
{
	char buf[NL_ADDR_MSG_MAX];

	return nl_request(nl, nl_addr_msg(buf, cmd, ifindex, a));
}

struct nlmsghdr *nl_addr_msg(void *buf, int cmd, int ifindex, const struct ipaddr *a)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	size_t alen = ipaddr_len(a);

	nlh->nlmsg_type = (uint16_t)cmd;
	if (cmd == RTM_NEWADDR)
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)a->af;
	ifa->ifa_prefixlen = (uint8_t)(alen * 8);
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	if (a->af == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD;
	mnl_attr_put(nlh, IFA_LOCAL, alen, a->b);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, a->b);
	return nlh;
}

int nl_link_del(struct nl *nl, int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_DELLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = ifindex;
	return nl_request(nl, nlh);
}

int nl_filter_neigh_family(struct nl *nl, uint8_t family)
{
	/* A notification is one message per skb: ndm_family sits right after its header. */
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, NLMSG_HDRLEN + offsetof(struct ndmsg, ndm_family)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, family, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };

	if (setsockopt(nl_fd(nl), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		return -errno;
	return 0;
}

int nl_set_bufsize(struct nl *nl, int bytes)
{
	int fd = nl_fd(nl);

	/* The FORCE variants pass net.core.[rw]mem_max (CAP_NET_ADMIN); fall back to the
	 * capped ones without it. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes)) < 0)
		return -errno;
	return 0;
}

int nl_set_strict(struct nl *nl)
{
	int one = 1;

	if (mnl_socket_setsockopt(nl->sk, NETLINK_GET_STRICT_CHK, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

struct nl_dump_ctx {
	nl_msg_cb cb;
	void *data;
	bool intr;
};

static int nl_dump_msg(const struct nlmsghdr *nlh, void *data)
{
	struct nl_dump_ctx *d = data;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		d->intr = true;
	return d->cb(nlh, d->data);
}

int nl_dump(struct nl *nl, struct nlmsghdr *nlh, nl_msg_cb cb, void *data)
{
	/* A dump part is at most 32 KiB (netlink_dump's skb); a read never truncates it. */
	size_t bufsz = 64 * 1024;
	struct nl_dump_ctx d = { .cb = cb, .data = data };
	uint32_t seq = ++nl->seq;
	char *buf;
	int ret;

	buf = malloc(bufsz);
	if (!buf)
		return -ENOMEM;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_DUMP;
	if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		ssize_t len = mnl_socket_recvfrom(nl->sk, buf, bufsz);

		if (len < 0) {
			ret = -errno;
			goto out;
		}
		ret = mnl_cb_run(buf, (size_t)len, seq, nl->portid, nl_dump_msg, &d);
		if (ret < 0) {
			ret = -errno;
			goto out;
		}
		if (ret == MNL_CB_STOP)
			break;
	}
	ret = d.intr ? -EINTR : 0;
out:
	free(buf);
	return ret;
}
