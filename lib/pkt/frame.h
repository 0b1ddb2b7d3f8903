/*
 * frame.h - one entry point for what vipd reads off an interface: an Ethernet frame is
 * classified as ARP, a VRRPv3 advert (IPv4 or IPv6) or a Neighbor Solicitation, with every
 * layer checked; anything else is a counted drop. Pure: no I/O, fuzzed as a whole.
 */
#ifndef L2_PKT_FRAME_H
#define L2_PKT_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include "addr.h"
#include "pkt/arp.h"
#include "pkt/eth.h"
#include "pkt/ndisc.h"
#include "pkt/vrrp.h"

enum frame_kind {
	FRAME_ARP = 1,
	FRAME_VRRP,
	FRAME_NS,
};

struct frame {
	enum frame_kind kind;
	struct eth_hdr eth;
	struct ipaddr ip_src;      /* FRAME_VRRP, FRAME_NS */
	struct ipaddr ip_dst;
	union {
		struct arp_pkt arp;
		struct vrrp_pkt vrrp;
		struct nd_ns ns;
	};
};

/* 0 or -enum pkt_drop. VRRP: TTL/hop limit must be 255 (RFC 5798 7.1) and the destination
 * 224.0.0.18 / ff02::12 (DROP_VRRP_DEST); NS: the checks of ndisc_parse_ns. */
int frame_parse(const uint8_t *p, size_t len, struct frame *out);

#endif
