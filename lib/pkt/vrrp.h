/*
 * vrrp.h - VRRPv3 advertisements (RFC 5798 5.1-5.2) over IPv4 and IPv6: parse with the
 * checks of 7.1 that need only the packet, and build whole Ethernet frames.
 */
#ifndef L2_PKT_VRRP_H
#define L2_PKT_VRRP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "addr.h"

#define VRRP_VERSION 3
#define VRRP_TYPE_ADVERT 1
#define VRRP_HDR_LEN 8
#define VRRP_MAX_ADDRS 64          /* per advert; keeps an IPv6 advert within 1500 bytes */
#define VRRP_TTL 255               /* TTL / hop limit of every advert (5.1.1.3, 5.1.2.3) */
#define VRRP_PRIO_STOP 0
#define VRRP_PRIO_OWNER 255

extern const struct in_addr vrrp_group4;   /* 224.0.0.18 */
extern const struct in6_addr vrrp_group6;  /* ff02::12 */

struct vrrp_pkt {
	uint8_t vrid;
	uint8_t priority;
	uint8_t naddr;
	uint16_t max_adver_int_cs; /* 12 bits, centiseconds */
	int af;
	const uint8_t *addrs;      /* naddr * (4 or 16) bytes, in the parsed buffer */
};

/* p/len: the VRRP message (IP payload). src/dst: the IP header's addresses (same family as
 * af), for the pseudo-header checksum (RFC 5798 5.2.8). The caller checks TTL / hop limit.
 * 0 or -enum pkt_drop: TRUNCATED, VRRP_VERSION, VRRP_TYPE, VRRP_LENGTH, VRRP_CHECKSUM,
 * VRRP_INTERVAL. */
int vrrp_parse(int af, const void *src, const void *dst, const uint8_t *p, size_t len,
	       struct vrrp_pkt *out);
/* The i-th address of a parsed advert. */
void vrrp_pkt_addr(const struct vrrp_pkt *v, size_t i, struct ipaddr *out);

struct vrrp_tx {
	int af;
	struct mac eth_src;
	struct ipaddr src;         /* interface primary IPv4 / link-local IPv6 */
	uint8_t vrid;
	uint8_t priority;
	uint16_t max_adver_int_cs;
	const struct ipaddr *addrs;    /* only those of family af are sent */
	size_t naddr;
};

/* Whole Ethernet frame to 01:00:5e:00:00:12 / 33:33:00:00:00:12, TTL / hop limit 255,
 * checksum over the pseudo-header. Length, or -ENOSPC, or -EINVAL (no address of af). */
ssize_t vrrp_build_frame(uint8_t *buf, size_t cap, const struct vrrp_tx *tx);

#endif
