/*
 * learn_snoop.c - vtepd's learner, its second source (learn.h): ARP and Neighbor Discovery
 * snooped on each segment's bridge device (a packet socket), the addresses a local MAC claims
 * as a sender. Frames whose MAC is not local came in over the overlay and teach nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "learn_priv.h"
#include "pkt/arp.h"
#include "pkt/drop.h"
#include "pkt/eth.h"
#include "pkt/ip.h"
#include "pkt/ndisc.h"
#include "rawsock.h"

#define RX_BUDGET 64
#define RX_BUF 2048

/* ARP; IPv6 next header 58 with ICMPv6 type 135 or 136. Tagged frames belong to a VLAN
 * sub-interface, not to the segment. An ICMPv6 frame too short to hold the type is let
 * through so that it is counted as truncated, not dropped silently in the kernel. */
static const struct sock_filter learn_filter[] = {
	/* 0 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT),
	/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 11),         /* tagged: drop */
	/* 2 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
	/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0806, 8, 0),      /* ARP: accept */
	/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x86dd, 0, 8),      /* else drop */
	/* 5 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 6),             /* IPv6 next header */
	/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 6),
	/* 7 */ BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
	/* 8 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 14 + 40 + 1, 0, 3), /* short: accept */
	/* 9 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 40),            /* ICMPv6 type */
	/* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 135, 1, 0),
	/* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 136, 0, 1),
	/* 12 */ BPF_STMT(BPF_RET | BPF_K, 0xffff),
	/* 13 */ BPF_STMT(BPF_RET | BPF_K, 0),
};

/* --- snooped frames ---------------------------------------------------------------------- */

static struct lmac *local_mac_of(struct learner *l, struct segment *s, const struct mac *mac,
				 bool *mon_read_done)
{
	struct lmac *lm = macmap_get(&l->macs, s->vni, mac->b);

	/* The bridge learns a new MAC from the very frame we read: its notification may still
	 * wait on the monitor. Read it first (once per batch: foreign frames are common). */
	if (!lm && !*mon_read_done) {
		*mon_read_done = true;
		mon_read(l);
		lm = macmap_get(&l->macs, s->vni, mac->b);
	}
	return lm;
}

/* A learned address becomes a suppression entry on every hypervisor of the segment: only what
 * could be a port's (lib/addr: 0.0.0.0 and :: are RFC 5227 / DAD probes; multicast,
 * broadcast, "this network" and loopback are nobody's), and no IPv6 link-local (learn.h). */
static bool learnable(const struct ipaddr *a)
{
	return ipaddr_is_host(a) && !(a->af == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&a->v6));
}

static int rx_arp(struct learner *l, struct segment *s, const uint8_t *p, size_t len,
		  bool *mon_done)
{
	struct arp_pkt a;
	struct lmac *lm;
	struct ipaddr ip;
	int ret = arp_parse(p, len, &a);

	if (ret < 0)
		return ret;
	ipaddr_from_v4(&ip, &a.spa);
	if (!learnable(&ip))
		return 0;
	lm = local_mac_of(l, s, &a.sha, mon_done);
	if (!lm) {
		l->st.frames_foreign++;
		return 0;
	}
	lmac_learn_ip(l, lm, &ip);
	return 0;
}

static int rx_ip6(struct learner *l, struct segment *s, const struct eth_hdr *eth,
		  const uint8_t *p, size_t len, bool *mon_done)
{
	struct ip6_info ip;
	struct in6_addr addr;
	struct mac mac = eth->src;
	struct ipaddr a;
	struct lmac *lm;
	int ret = ip6_parse(p, len, &ip);

	if (ret < 0)
		return ret;
	/* Extension headers are not walked: the filter selected next header 58, and an ND
	 * message behind extension headers is not learnt from. */
	if (ip.next_header != IPPROTO_ICMPV6)
		return -PKT_DROP_IP_PROTO;
	if (ip.payload_len < 1)
		return -PKT_DROP_TRUNCATED;
	if (ip.payload[0] == ICMP6_NS) {
		struct nd_ns ns;

		ret = ndisc_parse_ns(&ip, &ns);
		if (ret < 0)
			return ret;
		/* The sender's own address: not a DAD probe (unspecified), not link-local */
		addr = ip.src;
	} else if (ip.payload[0] == ICMP6_NA) {
		struct nd_na na;

		ret = ndisc_parse_na(&ip, &na);
		if (ret < 0)
			return ret;
		addr = na.target;
		if (na.has_tlla)
			mac = na.tlla;
	} else {
		return -PKT_DROP_ICMP6_TYPE;
	}
	ipaddr_from_v6(&a, &addr);
	if (!learnable(&a) || !mac_is_port(&mac))
		return 0;
	lm = local_mac_of(l, s, &mac, mon_done);
	if (!lm) {
		l->st.frames_foreign++;
		return 0;
	}
	lmac_learn_ip(l, lm, &a);
	return 0;
}

static int rx_frame(struct learner *l, struct segment *s, const uint8_t *p, size_t len,
		    bool *mon_done)
{
	struct eth_hdr eth;
	int ret = eth_parse(p, len, &eth);

	if (ret < 0)
		return ret;
	p += ETH_HDR_LEN;
	len -= ETH_HDR_LEN;
	switch (eth.type) {
	case ETHERTYPE_ARP:
		return rx_arp(l, s, p, len, mon_done);
	case ETHERTYPE_IPV6:
		return rx_ip6(l, s, &eth, p, len, mon_done);
	default:
		return -PKT_DROP_ETHERTYPE;
	}
}

static void on_rx(evutil_socket_t fd, short what, void *arg)
{
	struct segment *s = arg;
	struct learner *l = s->l;
	bool mon_done = false;
	uint8_t buf[RX_BUF];

	for (int i = 0; i < RX_BUDGET; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
		int ret;

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_rl(&l->rl, LOG_LVL_WARN, "learn: vni %u: %s: %s", s->vni,
				       s->bridge, strerror(errno));
			return;
		}
		l->st.frames++;
		ret = (size_t)n > sizeof(buf) ? -PKT_DROP_TRUNCATED :
						rx_frame(l, s, buf, (size_t)n, &mon_done);
		if (ret < 0) {
			l->st.frames_dropped++;
			if (-ret < PKT_DROP_COUNT)
				l->st.drops[-ret]++;
			log_rl(&l->rl, LOG_LVL_DEBUG, "learn: vni %u: frame dropped: %s", s->vni,
			       pkt_drop_name(-ret));
		}
	}
}

/* The segment's packet socket on its bridge, read from the event loop: 0 or -errno. */
int learn_snoop_open(struct segment *s)
{
	s->fd = rawsock_open(s->br_ifindex, learn_filter, sizeof(learn_filter) / sizeof(learn_filter[0]));
	if (s->fd < 0)
		return s->fd;
	s->ev_rx = event_new(s->l->base, s->fd, EV_READ | EV_PERSIST, on_rx, s);
	if (!s->ev_rx || event_add(s->ev_rx, NULL) < 0) {
		if (s->ev_rx)
			event_free(s->ev_rx);
		close(s->fd);
		return -ENOMEM;
	}
	return 0;
}
