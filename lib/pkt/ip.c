/*
 * ip.c - IPv4 (RFC 791) and IPv6 (RFC 8200) headers: parse with the checks a receiver of
 * VRRP and Neighbor Discovery needs, and build the fixed headers those senders use.
 */
#include <arpa/inet.h>
#include "pkt/csum.h"
#include "pkt/drop.h"
#include "pkt/ip.h"

#define IP4_FLAG_DF 0x4000
#define IP4_FLAG_MF 0x2000
#define IP4_FRAG_OFFSET 0x1fff

int ip4_parse(const uint8_t *p, size_t len, struct ip4_info *out)
{
	uint8_t ver_ihl, tos;
	uint16_t total, id, frag, sum;
	size_t hlen;
	struct rbuf r;

	rbuf_init(&r, p, len);
	rbuf_u8(&r, &ver_ihl);
	rbuf_u8(&r, &tos);
	rbuf_u16(&r, &total);
	rbuf_u16(&r, &id);
	rbuf_u16(&r, &frag);
	rbuf_u8(&r, &out->ttl);
	rbuf_u8(&r, &out->proto);
	rbuf_u16(&r, &sum);
	rbuf_bytes(&r, &out->src, 4);
	rbuf_bytes(&r, &out->dst, 4);
	if (r.err)
		return -PKT_DROP_TRUNCATED;
	/* RFC 791 3.1: version 4, IHL at least 5 words, total length covers the header */
	if (ver_ihl >> 4 != 4)
		return -PKT_DROP_IP_VERSION;
	hlen = (size_t)(ver_ihl & 0x0f) * 4;
	if (hlen < IP4_HDR_LEN || total < hlen)
		return -PKT_DROP_IP_HEADER;
	if (total > len)
		return -PKT_DROP_TRUNCATED;
	/* RFC 1071: the header, options included, sums to zero */
	if (csum_fold(csum_add(0, p, hlen)) != 0)
		return -PKT_DROP_IP_CHECKSUM;
	/* VRRP is never fragmented: refuse fragments rather than reassemble them */
	if (frag & (IP4_FLAG_MF | IP4_FRAG_OFFSET))
		return -PKT_DROP_IP_FRAGMENT;
	out->payload = p + hlen;
	out->payload_len = total - hlen;
	return 0;
}

int ip6_parse(const uint8_t *p, size_t len, struct ip6_info *out)
{
	uint32_t vtf;
	uint16_t plen;
	struct rbuf r;

	rbuf_init(&r, p, len);
	rbuf_u32(&r, &vtf);
	rbuf_u16(&r, &plen);
	rbuf_u8(&r, &out->next_header);
	rbuf_u8(&r, &out->hop_limit);
	rbuf_bytes(&r, &out->src, 16);
	rbuf_bytes(&r, &out->dst, 16);
	if (r.err)
		return -PKT_DROP_TRUNCATED;
	/* RFC 8200 3: version 6; the payload length must fit in what was received */
	if (vtf >> 28 != 6)
		return -PKT_DROP_IP_VERSION;
	if (plen > rbuf_left(&r))
		return -PKT_DROP_TRUNCATED;
	out->payload = rbuf_cur(&r);
	out->payload_len = plen;
	return 0;
}

int ip4_build(struct wbuf *w, const struct in_addr *src, const struct in_addr *dst,
	      uint8_t proto, uint8_t ttl, uint16_t payload_len)
{
	size_t start = w->off;

	if (payload_len > UINT16_MAX - IP4_HDR_LEN) {
		w->err = true;
		return -1;
	}
	wbuf_u8(w, 0x45);
	wbuf_u8(w, 0);
	wbuf_u16(w, IP4_HDR_LEN + payload_len);
	wbuf_u16(w, 0);
	wbuf_u16(w, IP4_FLAG_DF);
	wbuf_u8(w, ttl);
	wbuf_u8(w, proto);
	wbuf_u16(w, 0);
	wbuf_bytes(w, src, 4);
	wbuf_bytes(w, dst, 4);
	if (w->err)
		return -1;
	return wbuf_patch_u16(w, start + 10,
			      ntohs(csum_fold(csum_add(0, w->p + start, IP4_HDR_LEN))));
}

int ip6_build(struct wbuf *w, const struct in6_addr *src, const struct in6_addr *dst,
	      uint8_t next_header, uint8_t hop_limit, uint16_t payload_len)
{
	wbuf_u32(w, 6u << 28);
	wbuf_u16(w, payload_len);
	wbuf_u8(w, next_header);
	wbuf_u8(w, hop_limit);
	wbuf_bytes(w, src, 16);
	wbuf_bytes(w, dst, 16);
	return w->err ? -1 : 0;
}
