/* ip.h - the IPv4 and IPv6 headers around VRRP and Neighbor Discovery: parse and build. */
#ifndef L2_PKT_IP_H
#define L2_PKT_IP_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "buf.h"

#define IP4_HDR_LEN 20
#define IP6_HDR_LEN 40
#define IPPROTO_VRRP_NUM 112

struct ip4_info {
	uint8_t ttl;
	uint8_t proto;
	struct in_addr src;
	struct in_addr dst;
	const uint8_t *payload;    /* points into the parsed buffer */
	size_t payload_len;        /* from total length, not from the buffer (padding ignored) */
};

struct ip6_info {
	uint8_t hop_limit;
	uint8_t next_header;
	struct in6_addr src;
	struct in6_addr dst;
	const uint8_t *payload;
	size_t payload_len;        /* from the payload length field */
};

/* p/len: the IP packet (after Ethernet). 0 or -enum pkt_drop: TRUNCATED, IP_VERSION,
 * IP_HEADER, IP_CHECKSUM, IP_FRAGMENT. Options are skipped (IHL honoured). */
int ip4_parse(const uint8_t *p, size_t len, struct ip4_info *out);
/* 0 or -enum pkt_drop: TRUNCATED, IP_VERSION. Extension headers are not walked: the caller
 * sees next_header as it is. */
int ip6_parse(const uint8_t *p, size_t len, struct ip6_info *out);

/* Writes a 20-byte IPv4 header (DF set, ID 0, header checksum filled). */
int ip4_build(struct wbuf *w, const struct in_addr *src, const struct in_addr *dst,
	      uint8_t proto, uint8_t ttl, uint16_t payload_len);
/* Writes a 40-byte IPv6 header (traffic class 0, flow label 0). */
int ip6_build(struct wbuf *w, const struct in6_addr *src, const struct in6_addr *dst,
	      uint8_t next_header, uint8_t hop_limit, uint16_t payload_len);

#endif
