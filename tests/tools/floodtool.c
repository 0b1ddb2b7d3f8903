/*
 * floodtool.c - sends one kind of control frame on an interface, as fast as the packet socket
 * takes them or at a given rate, for a bounded time: the attacker of
 * tests/netns/test_vipd_attack.sh and bench/vipd_arpflood.sh.
 *
 *   floodtool -i IFACE -k arp|ns|vrrp [-r PPS] [-d SECONDS] [-n COUNT] [--src-mac MAC]
 *             [--dst-mac MAC] [--src-ip ADDR] [--target ADDR] [--vrid N] [--priority N]
 *             [--random-src]
 *
 *   arp   ARP requests for --target from --src-ip at --src-mac, to --dst-mac (broadcast by
 *         default; a unicast MAC aims the flood at one node of a bridged segment)
 *   ns    Neighbor Solicitations for --target (IPv6) from --src-ip with a source link-layer
 *         option, to its solicited-node group (or --dst-mac, still to that group's address)
 *   vrrp  VRRPv3 adverts for --vrid at --priority (0 by default: "the master is leaving")
 *         from --src-ip (IPv4, or an IPv6 link-local), listing --target as the address, to
 *         the VRRP group's MAC (or --dst-mac: one node only, still to the group's address)
 *
 * --src-mac defaults to the interface's MAC. --random-src gives every frame a source MAC and
 * sender address of its own (the last three / two bytes count up), to fill a per-source
 * table. -r 0 (the default) sends as fast as it can, in batches of 64 with sendmmsg; -r PPS
 * paces to that rate. The run stops after -d seconds (default 1, at most 60) or -n frames,
 * whichever comes first, and prints one line:
 *
 *   sent N frames in S s: R pps (E refusals)
 *
 * "refusals" counts the sends the socket turned down (ENOBUFS, EAGAIN: the device queue was
 * full); those frames are tried again. Exit: 0 sent something, 1 a send failed otherwise, 2 usage, 3 local setup failure.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "addr.h"
#include "buf.h"
#include "pkt/arp.h"
#include "pkt/csum.h"
#include "pkt/eth.h"
#include "pkt/ip.h"
#include "pkt/ndisc.h"
#include "pkt/vrrp.h"

#ifndef PACKET_QDISC_BYPASS
#define PACKET_QDISC_BYPASS 20
#endif

#define BATCH 64
#define FRAME_MAX 256
#define MAX_SECONDS 60

enum kind { K_ARP, K_NS, K_VRRP };

struct opts {
	const char *ifname;
	enum kind kind;
	double rate;
	double seconds;
	unsigned long long count;
	struct mac src_mac, dst_mac;
	bool has_src_mac, has_dst_mac;
	struct ipaddr src_ip, target;
	unsigned int vrid, priority;
	bool random_src;
};

struct frame {
	uint8_t b[FRAME_MAX];
	size_t len;
	size_t mac_off;            /* where the source MAC bytes sit besides the Ethernet header */
	size_t ip_off;             /* the sender address, 0: none to vary */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: floodtool -i IFACE -k arp|ns|vrrp [-r PPS] [-d SECONDS] [-n COUNT]\n"
		   "                 [--src-mac MAC] [--dst-mac MAC] [--src-ip ADDR] [--target ADDR]\n"
		   "                 [--vrid N] [--priority N] [--random-src]\n");
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int iface_mac(int fd, const char *ifname, struct mac *out)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return -errno;
	memcpy(out->b, ifr.ifr_hwaddr.sa_data, MAC_LEN);
	return 0;
}

static int build_arp(const struct opts *o, struct frame *f)
{
	struct arp_pkt a = { .op = ARP_OP_REQUEST, .sha = o->src_mac, .spa = o->src_ip.v4,
			     .tha = mac_zero, .tpa = o->target.v4 };
	ssize_t n;

	if (o->src_ip.af != AF_INET || o->target.af != AF_INET)
		return -EINVAL;
	n = arp_build_frame(f->b, sizeof(f->b), o->has_dst_mac ? &o->dst_mac : &mac_broadcast,
			    &o->src_mac, &a);
	if (n < 0)
		return (int)n;
	f->len = (size_t)n;
	f->mac_off = ETH_HDR_LEN + 8;           /* sender hardware address */
	f->ip_off = ETH_HDR_LEN + 14;           /* sender protocol address */
	return 0;
}

static void fix_ns_csum(struct frame *f)
{
	const size_t icmp = ETH_HDR_LEN + IP6_HDR_LEN, icmp_len = 32;
	struct in6_addr src, dst;
	uint16_t sum;

	memcpy(&src, f->b + ETH_HDR_LEN + 8, sizeof(src));
	memcpy(&dst, f->b + ETH_HDR_LEN + 24, sizeof(dst));
	f->b[icmp + 2] = f->b[icmp + 3] = 0;
	sum = csum_fold(csum_add(csum_pseudo6(&src, &dst, IPPROTO_ICMPV6, icmp_len),
				 f->b + icmp, icmp_len));
	memcpy(f->b + icmp + 2, &sum, sizeof(sum));
}

/* RFC 4861 4.3: type 135, code 0, checksum, reserved, target, then the source link-layer
 * address option (4.6.1); hop limit 255, to the target's solicited-node group. */
static int build_ns(const struct opts *o, struct frame *f)
{
	const size_t icmp_len = 4 + 4 + 16 + 8;
	struct in6_addr dst;
	struct mac dst_mac;
	struct wbuf w;
	size_t icmp;

	if (o->src_ip.af != AF_INET6 || o->target.af != AF_INET6)
		return -EINVAL;
	ndisc_solicited_node(&o->target.v6, &dst);
	mac_from_ip6_mcast(&dst, &dst_mac);
	wbuf_init(&w, f->b, sizeof(f->b));
	eth_build(&w, o->has_dst_mac ? &o->dst_mac : &dst_mac, &o->src_mac, ETHERTYPE_IPV6);
	ip6_build(&w, &o->src_ip.v6, &dst, IPPROTO_ICMPV6, 255, (uint16_t)icmp_len);
	icmp = w.off;
	wbuf_u8(&w, ICMP6_NS);
	wbuf_u8(&w, 0);
	wbuf_u16(&w, 0);
	wbuf_zero(&w, 4);
	wbuf_bytes(&w, &o->target.v6, sizeof(o->target.v6));
	wbuf_u8(&w, ND_OPT_SLLA);
	wbuf_u8(&w, 1);
	wbuf_bytes(&w, o->src_mac.b, MAC_LEN);
	eth_pad(&w);
	if (w.err)
		return -ENOSPC;
	f->len = w.off;
	f->mac_off = icmp + 4 + 4 + 16 + 2;     /* the option's address */
	f->ip_off = 0;                          /* not varied */
	fix_ns_csum(f);
	return 0;
}

static int build_vrrp(const struct opts *o, struct frame *f)
{
	struct vrrp_tx tx = { .af = o->src_ip.af, .eth_src = o->src_mac, .src = o->src_ip,
			      .vrid = (uint8_t)o->vrid, .priority = (uint8_t)o->priority,
			      .max_adver_int_cs = 100, .addrs = &o->target, .naddr = 1 };
	ssize_t n;

	if (!o->src_ip.af || o->target.af != o->src_ip.af)
		return -EINVAL;
	n = vrrp_build_frame(f->b, sizeof(f->b), &tx);
	if (n < 0)
		return (int)n;
	if (o->has_dst_mac)
		memcpy(f->b, o->dst_mac.b, MAC_LEN);   /* still to 224.0.0.18 / ff02::12 */
	f->len = (size_t)n;
	f->mac_off = 0;                         /* the checksum covers the source: kept */
	f->ip_off = 0;
	return 0;
}

static int build(const struct opts *o, struct frame *f)
{
	switch (o->kind) {
	case K_ARP:
		return build_arp(o, f);
	case K_NS:
		return build_ns(o, f);
	case K_VRRP:
		return build_vrrp(o, f);
	}
	return -EINVAL;
}

/* Frame number i gets source MAC xx:xx:xx:<i> and, for ARP, sender address a.b.<i>. */
static void vary_source(const struct opts *o, struct frame *f, uint32_t i)
{
	uint8_t m[3] = { (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };

	memcpy(f->b + 6 + 3, m, 3);             /* Ethernet source */
	if (f->mac_off)
		memcpy(f->b + f->mac_off + 3, m, 3);
	if (f->ip_off)
		memcpy(f->b + f->ip_off + 2, m + 1, 2);
	if (o->kind == K_NS)
		fix_ns_csum(f);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_SRC_MAC = 256, O_DST_MAC, O_SRC_IP, O_TARGET, O_VRID, O_PRIO, O_RANDOM };
	static const struct option lo[] = {
		{ "src-mac", required_argument, NULL, O_SRC_MAC },
		{ "dst-mac", required_argument, NULL, O_DST_MAC },
		{ "src-ip", required_argument, NULL, O_SRC_IP },
		{ "target", required_argument, NULL, O_TARGET },
		{ "vrid", required_argument, NULL, O_VRID },
		{ "priority", required_argument, NULL, O_PRIO },
		{ "random-src", no_argument, NULL, O_RANDOM },
		{ 0 },
	};
	const char *kind = NULL;
	int c;

	*o = (struct opts){ .seconds = 1, .vrid = 51 };
	while ((c = getopt_long(argc, argv, "i:k:r:d:n:h", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->ifname = optarg;
			break;
		case 'k':
			kind = optarg;
			break;
		case 'r':
			o->rate = atof(optarg);
			break;
		case 'd':
			o->seconds = atof(optarg);
			break;
		case 'n':
			o->count = strtoull(optarg, NULL, 10);
			break;
		case O_SRC_MAC:
			o->has_src_mac = mac_parse(optarg, &o->src_mac) == 0;
			if (!o->has_src_mac)
				return -1;
			break;
		case O_DST_MAC:
			o->has_dst_mac = mac_parse(optarg, &o->dst_mac) == 0;
			if (!o->has_dst_mac)
				return -1;
			break;
		case O_SRC_IP:
			if (ipaddr_parse(optarg, &o->src_ip) < 0)
				return -1;
			break;
		case O_TARGET:
			if (ipaddr_parse(optarg, &o->target) < 0)
				return -1;
			break;
		case O_VRID:
			o->vrid = (unsigned int)atoi(optarg);
			break;
		case O_PRIO:
			o->priority = (unsigned int)atoi(optarg);
			break;
		case O_RANDOM:
			o->random_src = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (!o->ifname || !kind || optind != argc || o->rate < 0 || o->seconds <= 0 ||
	    o->seconds > MAX_SECONDS || o->vrid < 1 || o->vrid > 255 || o->priority > 255)
		return -1;
	if (!strcmp(kind, "arp"))
		o->kind = K_ARP;
	else if (!strcmp(kind, "ns"))
		o->kind = K_NS;
	else if (!strcmp(kind, "vrrp"))
		o->kind = K_VRRP;
	else
		return -1;
	return 0;
}

static int open_socket(const struct opts *o, struct sockaddr_ll *sll)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	int one = 1, sndbuf = 4 << 20;

	if (fd < 0)
		return -errno;
	memset(sll, 0, sizeof(*sll));
	sll->sll_family = AF_PACKET;
	sll->sll_ifindex = (int)if_nametoindex(o->ifname);
	if (!sll->sll_ifindex) {
		close(fd);
		return -ENODEV;
	}
	/* Straight to the driver: no qdisc in the way of the rate. */
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	return fd;
}

int main(int argc, char **argv)
{
	static struct frame frames[BATCH];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_ll sll;
	unsigned long long sent = 0, refused = 0;
	struct opts o;
	int64_t start, end, deadline;
	uint32_t seq = 1;
	int fd, err;

	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	fd = open_socket(&o, &sll);
	if (fd < 0) {
		fprintf(stderr, "floodtool: %s: %s\n", o.ifname, strerror(-fd));
		return 3;
	}
	if (!o.has_src_mac && (err = iface_mac(fd, o.ifname, &o.src_mac)) < 0) {
		fprintf(stderr, "floodtool: %s: MAC: %s\n", o.ifname, strerror(-err));
		return 3;
	}
	err = build(&o, &frames[0]);
	if (err < 0) {
		fprintf(stderr, "floodtool: cannot build the frame (%s): check --src-ip and "
			"--target\n", strerror(-err));
		return 2;
	}
	sll.sll_protocol = htons((uint16_t)(frames[0].b[12] << 8 | frames[0].b[13]));
	sll.sll_halen = MAC_LEN;
	memcpy(sll.sll_addr, frames[0].b, MAC_LEN);
	for (int i = 0; i < BATCH; i++) {
		frames[i] = frames[0];
		iov[i] = (struct iovec){ .iov_base = frames[i].b, .iov_len = frames[i].len };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &sll, .msg_namelen = sizeof(sll),
							  .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	start = now_ns();
	deadline = start + (int64_t)(o.seconds * 1e9);
	for (;;) {
		int64_t t = now_ns();
		unsigned long long due = BATCH;
		int n;

		if (t >= deadline || (o.count && sent >= o.count))
			break;
		if (o.rate > 0) {
			unsigned long long want = (unsigned long long)((double)(t - start) * o.rate / 1e9) + 1;

			if (want <= sent) {
				struct timespec ts = { 0, (long)(1e9 / o.rate) };

				if (ts.tv_nsec > 1000000)
					ts.tv_nsec = 1000000;
				nanosleep(&ts, NULL);
				continue;
			}
			due = want - sent;
		}
		if (o.count && due > o.count - sent)
			due = o.count - sent;
		if (due > BATCH)
			due = BATCH;
		if (o.random_src)
			for (unsigned long long i = 0; i < due; i++)
				vary_source(&o, &frames[i], seq++);
		n = sendmmsg(fd, msgs, (unsigned int)due, 0);
		if (n < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
				refused++;
				continue;
			}
			fprintf(stderr, "floodtool: send: %s\n", strerror(errno));
			close(fd);
			return 1;
		}
		sent += (unsigned long long)n;
	}
	end = now_ns();
	close(fd);
	printf("sent %llu frames in %.3f s: %.0f pps (%llu refusals)\n", sent,
	       (double)(end - start) / 1e9, (double)sent * 1e9 / (double)(end - start), refused);
	return sent ? 0 : 1;
}
