/*
 * ndisc.h - IPv6 Neighbor Discovery (RFC 4861): Neighbor Solicitation and Advertisement
 * parse with the checks of 7.1.1 / 7.1.2, Neighbor Solicitation and Advertisement build,
 * solicited-node addresses.
 */
#ifndef L2_PKT_NDISC_H
#define L2_PKT_NDISC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "addr.h"
#include "pkt/ip.h"

#define ICMP6_NS 135
#define ICMP6_NA 136
#define ND_OPT_SLLA 1
#define ND_OPT_TLLA 2
#define ND_NA_FLAG_ROUTER 0x80
#define ND_NA_FLAG_SOLICITED 0x40
#define ND_NA_FLAG_OVERRIDE 0x20

struct nd_ns {
	struct in6_addr target;
	bool has_slla;
	struct mac slla;
};

/* ip: the parsed IPv6 header whose payload is an ICMPv6 message with next_header 58.
 * 0 or -enum pkt_drop: TRUNCATED, TTL (hop limit), ICMP6_CHECKSUM, ICMP6_TYPE (not 135),
 * ND_CODE, ND_TARGET, ND_OPTION, ND_UNSPEC_SRC. */
int ndisc_parse_ns(const struct ip6_info *ip, struct nd_ns *out);

struct nd_na {
	struct in6_addr target;
	uint8_t flags;             /* ND_NA_FLAG_* */
	bool has_tlla;
	struct mac tlla;
};

/* The same for a Neighbor Advertisement, with the checks of RFC 4861 7.1.2. 0 or
 * -enum pkt_drop: TRUNCATED, ICMP6_TYPE (not 136), TTL, ICMP6_CHECKSUM, ND_CODE, ND_TARGET,
 * ND_OPTION. */
int ndisc_parse_na(const struct ip6_info *ip, struct nd_na *out);

struct nd_na_tx {
	struct mac eth_dst;
	struct mac eth_src;
	struct in6_addr src;
	struct in6_addr dst;
	struct in6_addr target;
	uint8_t flags;             /* ND_NA_FLAG_* */
	struct mac tlla;           /* sent as the target link-layer address option */
};

/* Whole Ethernet frame: IPv6 (hop limit 255) + NA with TLLA option and checksum.
 * Length, or -ENOSPC. */
ssize_t ndisc_build_na(uint8_t *buf, size_t cap, const struct nd_na_tx *tx);

struct nd_ns_tx {
	struct mac eth_dst;        /* 33:33:ff:XX:XX:XX for the solicited-node group */
	struct mac eth_src;
	struct in6_addr src;       /* the asking node's: the answer goes to it */
	struct in6_addr dst;       /* the target's solicited-node address */
	struct in6_addr target;
	struct mac slla;           /* sent as the source link-layer address option */
};

/* Whole Ethernet frame: IPv6 (hop limit 255) + NS with SLLA option and checksum (RFC 4861
 * 4.3, 7.2.2). Length, or -ENOSPC. */
ssize_t ndisc_build_ns(uint8_t *buf, size_t cap, const struct nd_ns_tx *tx);

/* ff02::1:ffXX:XXXX for a (RFC 4291 2.7.1). */
void ndisc_solicited_node(const struct in6_addr *a, struct in6_addr *out);

#endif
