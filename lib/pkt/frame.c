/*
 * frame.c - classifies an Ethernet frame read by vipd as ARP, a VRRPv3 advert (IPv4 or
 * IPv6) or a Neighbor Solicitation, checking every layer; anything else is a named drop.
 */
#include <string.h>
#include "pkt/drop.h"
#include "pkt/frame.h"
#include "pkt/ip.h"

static int frame_ip4(const uint8_t *p, size_t len, struct frame *out)
{
	struct ip4_info ip;
	int ret = ip4_parse(p, len, &ip);

	if (ret < 0)
		return ret;
	ipaddr_from_v4(&out->ip_src, &ip.src);
	ipaddr_from_v4(&out->ip_dst, &ip.dst);
	if (ip.proto != IPPROTO_VRRP_NUM)
		return -PKT_DROP_IP_PROTO;
	/* RFC 5798 7.1: TTL 255 */
	if (ip.ttl != VRRP_TTL)
		return -PKT_DROP_TTL;
	/* RFC 5798 5.1.1.2: sent to 224.0.0.18 */
	if (ip.dst.s_addr != vrrp_group4.s_addr)
		return -PKT_DROP_VRRP_DEST;
	out->kind = FRAME_VRRP;
	return vrrp_parse(AF_INET, &ip.src, &ip.dst, ip.payload, ip.payload_len, &out->vrrp);
}

static int frame_ip6(const uint8_t *p, size_t len, struct frame *out)
{
	struct ip6_info ip;
	int ret = ip6_parse(p, len, &ip);

	if (ret < 0)
		return ret;
	ipaddr_from_v6(&out->ip_src, &ip.src);
	ipaddr_from_v6(&out->ip_dst, &ip.dst);
	switch (ip.next_header) {
	case IPPROTO_VRRP_NUM:
		/* RFC 5798 7.1: hop limit 255 */
		if (ip.hop_limit != VRRP_TTL)
			return -PKT_DROP_TTL;
		/* RFC 5798 5.1.2.2: sent to ff02::12 */
		if (memcmp(&ip.dst, &vrrp_group6, sizeof(ip.dst)) != 0)
			return -PKT_DROP_VRRP_DEST;
		out->kind = FRAME_VRRP;
		return vrrp_parse(AF_INET6, &ip.src, &ip.dst, ip.payload, ip.payload_len,
				  &out->vrrp);
	case IPPROTO_ICMPV6:
		out->kind = FRAME_NS;
		return ndisc_parse_ns(&ip, &out->ns);
	default:
		return -PKT_DROP_IP_PROTO;
	}
}

int frame_parse(const uint8_t *p, size_t len, struct frame *out)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = eth_parse(p, len, &out->eth);
	if (ret < 0)
		return ret;
	p += ETH_HDR_LEN;
	len -= ETH_HDR_LEN;
	switch (out->eth.type) {
	case ETHERTYPE_ARP:
		out->kind = FRAME_ARP;
		return arp_parse(p, len, &out->arp);
	case ETHERTYPE_IPV4:
		return frame_ip4(p, len, out);
	case ETHERTYPE_IPV6:
		return frame_ip6(p, len, out);
	default:
		return -PKT_DROP_ETHERTYPE;
	}
}
