/*
 * arp.c - ARP for IPv4 over Ethernet (RFC 826): parse with the format checks a responder
 * needs, and build whole frames (requests, replies and RFC 5227 announcements).
 */
#include <errno.h>
#include "pkt/arp.h"
#include "pkt/drop.h"
#include "pkt/eth.h"

#define ARP_HTYPE_ETHER 1

int arp_parse(const uint8_t *p, size_t len, struct arp_pkt *out)
{
	uint16_t htype, ptype;
	uint8_t hlen, plen;
	struct rbuf r;

	rbuf_init(&r, p, len);
	rbuf_u16(&r, &htype);
	rbuf_u16(&r, &ptype);
	rbuf_u8(&r, &hlen);
	rbuf_u8(&r, &plen);
	rbuf_u16(&r, &out->op);
	if (r.err)
		return -PKT_DROP_TRUNCATED;
	/* RFC 826 "Packet Reception": only Ethernet hardware and IPv4 protocol addresses */
	if (htype != ARP_HTYPE_ETHER || ptype != ETHERTYPE_IPV4 || hlen != MAC_LEN || plen != 4)
		return -PKT_DROP_ARP_FORMAT;
	rbuf_bytes(&r, out->sha.b, MAC_LEN);
	rbuf_bytes(&r, &out->spa, 4);
	rbuf_bytes(&r, out->tha.b, MAC_LEN);
	rbuf_bytes(&r, &out->tpa, 4);
	if (r.err)
		return -PKT_DROP_TRUNCATED;
	/* RFC 826: opcodes ares_op$REQUEST and ares_op$REPLY only */
	if (out->op != ARP_OP_REQUEST && out->op != ARP_OP_REPLY)
		return -PKT_DROP_ARP_OP;
	/* A sender must be one station (RFC 1812 3.3.2: never a multicast/broadcast MAC);
	 * a zero MAC would poison the cache */
	if (mac_is_multicast(&out->sha) || mac_eq(&out->sha, &mac_zero))
		return -PKT_DROP_ARP_SENDER;
	return 0;
}

ssize_t arp_build_frame(uint8_t *buf, size_t cap, const struct mac *eth_dst,
			const struct mac *eth_src, const struct arp_pkt *a)
{
	struct wbuf w;

	wbuf_init(&w, buf, cap);
	eth_build(&w, eth_dst, eth_src, ETHERTYPE_ARP);
	wbuf_u16(&w, ARP_HTYPE_ETHER);
	wbuf_u16(&w, ETHERTYPE_IPV4);
	wbuf_u8(&w, MAC_LEN);
	wbuf_u8(&w, 4);
	wbuf_u16(&w, a->op);
	wbuf_bytes(&w, a->sha.b, MAC_LEN);
	wbuf_bytes(&w, &a->spa, 4);
	wbuf_bytes(&w, a->tha.b, MAC_LEN);
	wbuf_bytes(&w, &a->tpa, 4);
	eth_pad(&w);
	return w.err ? -ENOSPC : (ssize_t)w.off;
}
