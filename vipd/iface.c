/*
 * iface.c - the interfaces vipd works on: one packet socket each (ARP, Neighbor
 * Solicitations and VRRP adverts, selected by a classic BPF filter), the addresses VRRP
 * needs (primary IPv4, IPv6 link-local), carrier, and frames dropped before dispatch.
 * Everything is re-read on any rtnetlink notification, so an interface that appears,
 * disappears, loses carrier or changes address is followed without a restart.
 */
#include <errno.h>
#include <event2/event.h>
#include <ifaddrs.h>
#include <linux/filter.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "log.h"
#include "pkt/ndisc.h"
#include "rawsock.h"
#include "vipd.h"

/* ARP; IPv4 protocol 112; IPv6 next header 112; IPv6 next header 58 with ICMPv6 type 135.
 * An ICMPv6 frame too short to hold the type is let through too: a load past the end would
 * drop it in the kernel, uncounted, and we want it counted as truncated. */
static const struct sock_filter vipd_filter[] = {
	/* 0 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
	/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0806, 11, 0),     /* ARP: accept */
	/* 2 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0800, 0, 2),      /* else to 5 */
	/* 3 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 9),             /* IPv4 protocol */
	/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 112, 8, 9),
	/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x86dd, 0, 8),      /* else drop */
	/* 6 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 6),             /* IPv6 next header */
	/* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 112, 5, 0),
	/* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 5),
	/* 9 */ BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
	/* 10 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 14 + 40 + 1, 0, 2), /* short: accept */
	/* 11 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 40),           /* ICMPv6 type */
	/* 12 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 135, 0, 1),
	/* 13 */ BPF_STMT(BPF_RET | BPF_K, 0xffff),
	/* 14 */ BPF_STMT(BPF_RET | BPF_K, 0),
};

#define RX_BUDGET 64

static void iface_close(struct iface *ifp)
{
	if (ifp->ev_rx) {
		event_free(ifp->ev_rx);
		ifp->ev_rx = NULL;
	}
	if (ifp->fd >= 0)
		close(ifp->fd);
	if (ifp->mfd4 >= 0)
		close(ifp->mfd4);
	if (ifp->mfd6 >= 0)
		close(ifp->mfd6);
	ifp->fd = ifp->mfd4 = ifp->mfd6 = -1;
}

struct iface *iface_get(struct vipd *d, const char *name)
{
	struct iface *ifp;

	for (ifp = d->ifaces; ifp; ifp = ifp->next) {
		if (strcmp(ifp->name, name) == 0) {
			ifp->refs++;
			return ifp;
		}
	}
	ifp = calloc(1, sizeof(*ifp));
	if (!ifp)
		return NULL;
	snprintf(ifp->name, sizeof(ifp->name), "%s", name);
	ifp->d = d;
	ifp->fd = ifp->mfd4 = ifp->mfd6 = -1;
	ifp->refs = 1;
	ifp->next = d->ifaces;
	d->ifaces = ifp;
	return ifp;
}

void iface_put(struct iface *ifp)
{
	struct iface **pp;

	if (--ifp->refs)
		return;
	for (pp = &ifp->d->ifaces; *pp; pp = &(*pp)->next) {
		if (*pp == ifp) {
			*pp = ifp->next;
			break;
		}
	}
	iface_close(ifp);
	free(ifp);
}

static void iface_rx(evutil_socket_t fd, short what, void *arg)
{
	struct iface *ifp = arg;
	uint8_t buf[2048];
	int i;

	for (i = 0; i < RX_BUDGET; i++) {
		struct frame f;
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
		int ret;

		if (n < 0)
			return;
		ifp->frames++;
		if ((size_t)n > sizeof(buf)) {
			ifp->drops[PKT_DROP_TRUNCATED]++;
			continue;
		}
		ret = frame_parse(buf, (size_t)n, &f);
		if (ret < 0) {
			ifp->drops[-ret]++;
			continue;
		}
		group_rx_frame(ifp, &f);
	}
}

int iface_send(struct iface *ifp, const void *frame, size_t len)
{
	if (ifp->fd < 0)
		return -ENETDOWN;
	return rawsock_send(ifp->fd, ifp->ifindex, frame, len);
}

/* Joins at the IP level, not just the NIC's MAC filter: the kernel then sends IGMP / MLD
 * reports, without which a snooping switch would not forward the VRRP groups or the
 * solicited-node group of a VIP that is not assigned to the interface. Joining a group
 * twice fails with EADDRINUSE, which is what a repeated call wants. */
void iface_sync_mcast(struct iface *ifp)
{
	struct ip_mreqn m4 = { .imr_multiaddr = vrrp_group4, .imr_ifindex = ifp->ifindex };
	struct ipv6_mreq m6 = { .ipv6mr_multiaddr = vrrp_group6,
				.ipv6mr_interface = (unsigned int)ifp->ifindex };
	struct group *g;

	if (ifp->fd < 0)
		return;
	setsockopt(ifp->mfd4, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m4, sizeof(m4));
	setsockopt(ifp->mfd6, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &m6, sizeof(m6));
	for (g = ifp->d->groups; g; g = g->next) {
		if (g->ifp != ifp)
			continue;
		for (size_t i = 0; i < g->cfg.naddrs; i++) {
			if (g->cfg.addrs[i].af != AF_INET6)
				continue;
			ndisc_solicited_node(&g->cfg.addrs[i].v6, &m6.ipv6mr_multiaddr);
			setsockopt(ifp->mfd6, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &m6, sizeof(m6));
		}
	}
}

static bool is_vip(const struct vipd *d, const struct ipaddr *a)
{
	const struct group *g;

	for (g = d->groups; g; g = g->next)
		for (size_t i = 0; i < g->cfg.naddrs; i++)
			if (ipaddr_eq(&g->cfg.addrs[i], a))
				return true;
	return false;
}

static bool read_forwarding6(const char *name)
{
	char path[128], c = '0';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/forwarding", name);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fread(&c, 1, 1, f) != 1)
		c = '0';
	fclose(f);
	return c == '1';
}

/* Reads flags and MAC by ioctl and the addresses by getifaddrs: the interface's primary
 * IPv4 address is its first one that is not a VIP of ours (kernel order keeps the oldest
 * primary first). */
static void iface_read(struct iface *ifp, struct ifaddrs *all)
{
	struct ifreq ifr;
	struct ifaddrs *ia;
	int s;

	ifp->ifindex = (int)if_nametoindex(ifp->name);
	ifp->running = false;
	ifp->primary4 = (struct ipaddr){ 0 };
	ifp->linklocal6 = (struct ipaddr){ 0 };
	if (!ifp->ifindex)
		return;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifp->name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0)
		ifp->running = (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
	if (ioctl(s, SIOCGIFHWADDR, &ifr) == 0)
		memcpy(ifp->mac.b, ifr.ifr_hwaddr.sa_data, MAC_LEN);
	close(s);
	ifp->forwarding6 = read_forwarding6(ifp->name);
	for (ia = all; ia; ia = ia->ifa_next) {
		struct ipaddr a;

		if (!ia->ifa_addr || strcmp(ia->ifa_name, ifp->name) != 0)
			continue;
		if (ia->ifa_addr->sa_family == AF_INET && !ifp->primary4.af) {
			ipaddr_from_v4(&a, &((struct sockaddr_in *)ia->ifa_addr)->sin_addr);
			if (!is_vip(ifp->d, &a))
				ifp->primary4 = a;
		} else if (ia->ifa_addr->sa_family == AF_INET6 && !ifp->linklocal6.af) {
			const struct in6_addr *a6 = &((struct sockaddr_in6 *)ia->ifa_addr)->sin6_addr;

			if (IN6_IS_ADDR_LINKLOCAL(a6))
				ipaddr_from_v6(&ifp->linklocal6, a6);
		}
	}
}

static void iface_update(struct iface *ifp, struct ifaddrs *all)
{
	int old_index = ifp->ifindex;

	iface_read(ifp, all);
	if (ifp->fd >= 0 && (ifp->ifindex != old_index || !ifp->ifindex))
		iface_close(ifp);
	if (ifp->fd < 0 && ifp->ifindex) {
		int fd = rawsock_open(ifp->ifindex, vipd_filter,
				      sizeof(vipd_filter) / sizeof(vipd_filter[0]));

		if (fd < 0) {
			log_err("%s: packet socket: %s", ifp->name, strerror(-fd));
			return;
		}
		ifp->fd = fd;
		/* Memberships live as long as these sockets; closing them leaves the groups. */
		ifp->mfd4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		ifp->mfd6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		ifp->ev_rx = event_new(ifp->d->base, fd, EV_READ | EV_PERSIST, iface_rx, ifp);
		event_add(ifp->ev_rx, NULL);
		iface_sync_mcast(ifp);
	}
}

void iface_rescan_all(struct vipd *d)
{
	struct ifaddrs *all = NULL;
	struct iface *ifp;
	struct group *g;

	if (getifaddrs(&all) < 0)
		all = NULL;
	for (ifp = d->ifaces; ifp; ifp = ifp->next)
		iface_update(ifp, all);
	freeifaddrs(all);
	for (g = d->groups; g; g = g->next)
		group_iface_changed(g);
}

static void rescan_cb(evutil_socket_t fd, short what, void *arg)
{
	iface_rescan_all(arg);
}

/* Coalesces a burst of notifications (our own address changes come back as several) into
 * one rescan on the next loop iteration. */
void iface_schedule_rescan(struct vipd *d)
{
	if (!d->ev_rescan)
		d->ev_rescan = evtimer_new(d->base, rescan_cb, d);
	if (!evtimer_pending(d->ev_rescan, NULL)) {
		struct timeval now = { 0, 0 };

		evtimer_add(d->ev_rescan, &now);
	}
}
