/*
 * iface.c - the interfaces vipd works on: two packet sockets each, one for VRRP adverts and
 * one for the segment's ARP and Neighbor Solicitations (each selected by a classic BPF
 * filter), the addresses VRRP needs (primary IPv4, IPv6 link-local), carrier, and frames
 * dropped before dispatch. Everything is re-read on any rtnetlink notification, so an
 * interface that appears, disappears, loses carrier or changes address is followed without a
 * restart.
 *
 * Why two sockets: a packet socket's queue is one FIFO, and a flood of ARP requests (which
 * anyone on the segment can send, at 100k+ frames/s) overruns it, so the kernel drops
 * whatever comes next, adverts included, and a backup that misses three adverts takes over
 * from a healthy master. Adverts have their own socket, with a larger queue, that no ARP or
 * NS frame reaches, and it is read first: before each batch of the segment socket and before
 * an instance's timer acts.
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
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include "log.h"
#include "pkt/ndisc.h"
#include "rawsock.h"
#include "vipd.h"

/* Frames that carried a VLAN tag are not ours: with VLAN offload the kernel hands a VLAN
 * sub-interface's frames, tag stripped, to a packet socket bound to the parent too. */

/* IPv4 protocol 112; IPv6 next header 112. */
static const struct sock_filter vrrp_filter[] = {
	/* 0 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT),
	/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 8),          /* tagged: drop */
	/* 2 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
	/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0800, 0, 2),      /* else to 6 */
	/* 4 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 9),             /* IPv4 protocol */
	/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 112, 3, 4),
	/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x86dd, 0, 3),      /* else drop */
	/* 7 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 6),             /* IPv6 next header */
	/* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 112, 0, 1),
	/* 9 */ BPF_STMT(BPF_RET | BPF_K, 0xffff),
	/* 10 */ BPF_STMT(BPF_RET | BPF_K, 0),
};

/* ARP; IPv6 next header 58 with ICMPv6 type 135. An ICMPv6 frame too short to hold the type
 * is let through: a load past the end would drop it in the kernel, uncounted, and we want it
 * counted as truncated. */
static const struct sock_filter segment_filter[] = {
	/* 0 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT),
	/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 10),         /* tagged: drop */
	/* 2 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
	/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0806, 7, 0),      /* ARP: accept */
	/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x86dd, 0, 7),      /* else drop */
	/* 5 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 6),             /* IPv6 next header */
	/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 5),
	/* 7 */ BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
	/* 8 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 14 + 40 + 1, 0, 2), /* short: accept */
	/* 9 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 40),            /* ICMPv6 type */
	/* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 135, 0, 1),
	/* 11 */ BPF_STMT(BPF_RET | BPF_K, 0xffff),
	/* 12 */ BPF_STMT(BPF_RET | BPF_K, 0),
};

#define NFILTER(f) (sizeof(f) / sizeof((f)[0]))

/* Frames read per callback: the segment socket yields to the rest of the loop after a batch
 * even in a flood; the VRRP socket's bound is its queue's worth of adverts. */
#define RX_BUDGET 64
#define VRRP_RX_BUDGET 512
/* Room for ~1000 queued adverts (a frame costs ~1 KiB of buffer): what a segment of many
 * virtual routers at 10 ms sends while vipd is held up for a few ms. */
#define VRRP_RCVBUF (1 << 20)

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void free_event(struct event **ev)
{
	if (*ev)
		event_free(*ev);
	*ev = NULL;
}

void iface_update_queue_drops(struct iface *ifp)
{
	uint64_t n;

	if (ifp->fd >= 0 && rawsock_queue_drops(ifp->fd, &n) == 0)
		ifp->seg.queue_drops += n;
	if (ifp->vrrp_fd >= 0 && rawsock_queue_drops(ifp->vrrp_fd, &n) == 0)
		ifp->vrrp.queue_drops += n;
}

static void iface_close(struct iface *ifp)
{
	iface_update_queue_drops(ifp);
	free_event(&ifp->ev_rx);
	free_event(&ifp->ev_vrrp);
	close_fd(&ifp->fd);
	close_fd(&ifp->vrrp_fd);
	close_fd(&ifp->mfd4);
	close_fd(&ifp->mfd6);
}

struct iface *iface_get(struct vipd *d, const char *name)
{
	struct iface *ifp;
	uint32_t seed;

	for (ifp = d->ifaces; ifp; ifp = ifp->next) {
		if (strcmp(ifp->name, name) == 0) {
			ifp->refs++;
			return ifp;
		}
	}
	ifp = calloc(1, sizeof(*ifp));
	if (!ifp)
		return NULL;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint32_t)monotime_now().us;
	if (srclimit_init(&ifp->answers, seed) < 0) {
		free(ifp);
		return NULL;
	}
	snprintf(ifp->name, sizeof(ifp->name), "%s", name);
	ifp->d = d;
	ifp->fd = ifp->vrrp_fd = ifp->mfd4 = ifp->mfd6 = -1;
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
	srclimit_free(&ifp->answers);
	free(ifp);
}

/* Reads up to budget frames from fd and hands them to the groups. */
static void read_frames(struct iface *ifp, int fd, struct iface_sock_counters *sc, int budget)
{
	uint8_t buf[2048];

	for (int i = 0; i < budget; i++) {
		struct frame f;
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
		int ret;

		if (n < 0)
			return;
		ifp->frames++;
		sc->frames++;
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

void iface_read_vrrp(struct iface *ifp)
{
	if (ifp->vrrp_fd >= 0)
		read_frames(ifp, ifp->vrrp_fd, &ifp->vrrp, VRRP_RX_BUDGET);
}

static void vrrp_rx(evutil_socket_t fd, short what, void *arg)
{
	iface_read_vrrp(arg);
}

static void segment_rx(evutil_socket_t fd, short what, void *arg)
{
	struct iface *ifp = arg;

	/* Adverts first: within a loop iteration libevent runs callbacks in no order of ours. */
	iface_read_vrrp(ifp);
	read_frames(ifp, (int)fd, &ifp->seg, RX_BUDGET);
}

int iface_send(struct iface *ifp, const void *frame, size_t len)
{
	if (ifp->fd < 0)
		return -ENETDOWN;
	return rawsock_send(ifp->fd, ifp->ifindex, frame, len);
}

int iface_send_vrrp(struct iface *ifp, const void *frame, size_t len)
{
	if (ifp->vrrp_fd < 0)
		return -ENETDOWN;
	return rawsock_send(ifp->vrrp_fd, ifp->ifindex, frame, len);
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

/* The interface's index: > 0, 0 when it does not exist, or -errno when that cannot be told
 * now (if_nametoindex opens a socket: EMFILE must not read as "interface gone"). */
static int read_index(const char *name)
{
	unsigned int idx = if_nametoindex(name);

	if (idx)
		return (int)idx;
	return errno == ENODEV || errno == ENXIO ? 0 : -errno;
}

/* Reads flags and MAC by ioctl and the addresses by getifaddrs: the interface's primary
 * IPv4 address is its first one that is not a VIP of ours (kernel order keeps the oldest
 * primary first). A transient failure returns -errno and leaves *ifp as it was. */
static int iface_read(struct iface *ifp, int ifindex, struct ifaddrs *all)
{
	struct ifreq ifr;
	struct ifaddrs *ia;
	int s;

	if (!ifindex) {
		ifp->ifindex = 0;
		ifp->running = false;
		ifp->primary4 = ifp->linklocal6 = (struct ipaddr){ 0 };
		return 0;
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifp->name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		int err = -errno;

		close(s);
		return err == -ENODEV ? iface_read(ifp, 0, all) : err;
	}
	ifp->ifindex = ifindex;
	ifp->running = (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
	if (ioctl(s, SIOCGIFHWADDR, &ifr) == 0) {
		if (memcmp(ifp->mac.b, ifr.ifr_hwaddr.sa_data, MAC_LEN) != 0 &&
		    !mac_eq(&ifp->mac, &mac_zero))
			ifp->mac_changed = true;
		memcpy(ifp->mac.b, ifr.ifr_hwaddr.sa_data, MAC_LEN);
	}
	close(s);
	ifp->primary4 = ifp->linklocal6 = (struct ipaddr){ 0 };
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
	return 0;
}

/* Both packet sockets and the membership holders, or none. 0 or -errno (logged). */
static int iface_open(struct iface *ifp)
{
	int err;

	ifp->vrrp_fd = rawsock_open(ifp->ifindex, vrrp_filter, NFILTER(vrrp_filter));
	if (ifp->vrrp_fd < 0) {
		err = ifp->vrrp_fd;
		ifp->vrrp_fd = -1;
		log_err("%s: VRRP packet socket: %s", ifp->name, strerror(-err));
		return err;
	}
	err = rawsock_set_rcvbuf(ifp->vrrp_fd, VRRP_RCVBUF);
	if (err)
		log_warn("%s: VRRP socket buffer of %d bytes: %s", ifp->name, VRRP_RCVBUF,
			 strerror(-err));
	ifp->fd = rawsock_open(ifp->ifindex, segment_filter, NFILTER(segment_filter));
	if (ifp->fd < 0) {
		err = ifp->fd;
		ifp->fd = -1;
		log_err("%s: ARP/NS packet socket: %s", ifp->name, strerror(-err));
		close_fd(&ifp->vrrp_fd);
		return err;
	}
	/* Memberships live as long as these sockets; closing them leaves the groups. */
	ifp->mfd4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ifp->mfd6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ifp->ev_vrrp = event_new(ifp->d->base, ifp->vrrp_fd, EV_READ | EV_PERSIST, vrrp_rx, ifp);
	ifp->ev_rx = event_new(ifp->d->base, ifp->fd, EV_READ | EV_PERSIST, segment_rx, ifp);
	event_add(ifp->ev_vrrp, NULL);
	event_add(ifp->ev_rx, NULL);
	return 0;
}

static void iface_update(struct iface *ifp, struct ifaddrs *all)
{
	int idx = read_index(ifp->name), err;

	if (idx < 0) {
		log_warn("%s: cannot read the interface now (%s), keeping its last state",
			 ifp->name, strerror(-idx));
		return;
	}
	if (ifp->fd >= 0 && idx != ifp->ifindex) {
		/* Gone, or re-created under the same name: the instances stop while the old
		 * socket and index still stand (goodbye sent, VIPs removed), and start again on
		 * the new interface. */
		group_iface_stop(ifp);
		iface_close(ifp);
	}
	err = iface_read(ifp, idx, all);
	if (err) {
		log_warn("%s: cannot read the interface now (%s), keeping its last state",
			 ifp->name, strerror(-err));
		return;
	}
	if (ifp->fd < 0 && ifp->ifindex && iface_open(ifp) < 0)
		return;
	/* Again at every scan: an interface whose IPv6 was reset lost its memberships. */
	iface_sync_mcast(ifp);
}

void iface_rescan_all(struct vipd *d)
{
	struct ifaddrs *all = NULL;
	struct iface *ifp;
	struct group *g;

	if (getifaddrs(&all) < 0) {
		/* Without addresses every instance would look unable to run: try again soon. */
		log_warn("reading interface addresses: %s; retrying", strerror(errno));
		iface_schedule_rescan(d, RESCAN_RETRY_US);
		return;
	}
	for (ifp = d->ifaces; ifp; ifp = ifp->next)
		iface_update(ifp, all);
	freeifaddrs(all);
	for (g = d->groups; g; g = g->next)
		group_iface_changed(g);
	for (ifp = d->ifaces; ifp; ifp = ifp->next)
		ifp->mac_changed = false;
}

static void rescan_cb(evutil_socket_t fd, short what, void *arg)
{
	iface_rescan_all(arg);
}

/* Coalesces a burst of notifications (our own address changes come back as several, a
 * host starting containers sends many) into one rescan after after_us. */
void iface_schedule_rescan(struct vipd *d, int64_t after_us)
{
	if (!d->ev_rescan)
		d->ev_rescan = evtimer_new(d->base, rescan_cb, d);
	if (!evtimer_pending(d->ev_rescan, NULL)) {
		struct timeval tv = { after_us / USEC_PER_SEC, after_us % USEC_PER_SEC };

		evtimer_add(d->ev_rescan, &tv);
	}
}
