/*
 * vrrp.c - VRRPv3 advertisements (RFC 5798 5.1-5.2) over IPv4 and IPv6: parse with the
 * receive checks of 7.1 that need only the packet, and build whole Ethernet frames.
 * The checksum covers the IPv4 or IPv6 pseudo-header in both families (5.2.8).
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include "pkt/csum.h"
#include "pkt/drop.h"
#include "pkt/eth.h"
#include "pkt/ip.h"
#include "pkt/vrrp.h"

#define VRRP_INTERVAL_MASK 0x0fff

/* s_addr is in network order: 224.0.0.18 */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
const struct in_addr vrrp_group4 = { .s_addr = 0xe0000012u };
#else
const struct in_addr vrrp_group4 = { .s_addr = 0x120000e0u };
#endif
const struct in6_addr vrrp_group6 = {
	.s6_addr = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12 },
};

static size_t af_addr_len(int af)
{
	return af == AF_INET ? 4 : af == AF_INET6 ? 16 : 0;
}

/* RFC 5798 5.2.8: sum of the IPv4 or IPv6 pseudo-header with protocol 112 */
static uint32_t vrrp_pseudo(int af, const void *src, const void *dst, size_t len)
{
	if (af == AF_INET)
		return csum_pseudo4(src, dst, IPPROTO_VRRP_NUM, (uint16_t)len);
	return csum_pseudo6(src, dst, IPPROTO_VRRP_NUM, (uint32_t)len);
}

int vrrp_parse(int af, const void *src, const void *dst, const uint8_t *p, size_t len,
	       struct vrrp_pkt *out)
{
	size_t alen = af_addr_len(af);
	uint8_t ver_type, vrid, prio, count;
	uint16_t intv;
	struct rbuf r;

	if (!alen)
		return -PKT_DROP_IP_VERSION;
	rbuf_init(&r, p, len);
	rbuf_u8(&r, &ver_type);
	rbuf_u8(&r, &vrid);
	rbuf_u8(&r, &prio);
	rbuf_u8(&r, &count);
	rbuf_u16(&r, &intv);
	rbuf_skip(&r, 2);                  /* checksum */
	if (r.err)
		return -PKT_DROP_TRUNCATED;
	/* RFC 5798 7.1: the version is 3 (5.2.1) */
	if (ver_type >> 4 != VRRP_VERSION)
		return -PKT_DROP_VRRP_VERSION;
	/* RFC 5798 5.2.2: a packet with an unknown type is discarded */
	if ((ver_type & 0x0f) != VRRP_TYPE_ADVERT)
		return -PKT_DROP_VRRP_TYPE;
	/* RFC 5798 7.1: the packet holds exactly the fixed fields and count addresses; 5.2.5:
	 * at least one */
	if (count == 0 || rbuf_left(&r) != count * alen)
		return -PKT_DROP_VRRP_LENGTH;
	/* RFC 5798 7.1, 5.2.8: checksum over the pseudo-header and the VRRP message */
	if (csum_fold(csum_add(vrrp_pseudo(af, src, dst, len), p, len)) != 0)
		return -PKT_DROP_VRRP_CHECKSUM;
	/* RFC 5798 5.2.7: 4 reserved bits, then the interval; 0 would mean adverts without end */
	if ((intv & VRRP_INTERVAL_MASK) == 0)
		return -PKT_DROP_VRRP_INTERVAL;
	out->vrid = vrid;
	out->priority = prio;
	out->naddr = count;
	out->max_adver_int_cs = intv & VRRP_INTERVAL_MASK;
	out->af = af;
	out->addrs = rbuf_cur(&r);
	return 0;
}

void vrrp_pkt_addr(const struct vrrp_pkt *v, size_t i, struct ipaddr *out)
{
	size_t alen = af_addr_len(v->af);

	memset(out, 0, sizeof(*out));
	out->af = v->af;
	memcpy(out->b, v->addrs + i * alen, alen);
}

ssize_t vrrp_build_frame(uint8_t *buf, size_t cap, const struct vrrp_tx *tx)
{
	size_t alen = af_addr_len(tx->af), n = 0, vrrp, len, i;
	const void *group;
	struct mac dst;
	struct wbuf w;
	uint32_t sum;

	for (i = 0; i < tx->naddr; i++)
		n += tx->addrs[i].af == tx->af;
	if (!alen || !n || tx->src.af != tx->af || tx->max_adver_int_cs > VRRP_INTERVAL_MASK)
		return -EINVAL;
	/* more addresses than one advert carries */
	if (n > VRRP_MAX_ADDRS)
		return -ENOSPC;
	len = VRRP_HDR_LEN + n * alen;
	wbuf_init(&w, buf, cap);
	/* RFC 5798 5.1.1.2/5.1.2.2: to 224.0.0.18 or ff02::12, TTL / hop limit 255 */
	if (tx->af == AF_INET) {
		group = &vrrp_group4;
		mac_from_ip4_mcast(&vrrp_group4, &dst);
		eth_build(&w, &dst, &tx->eth_src, ETHERTYPE_IPV4);
		ip4_build(&w, &tx->src.v4, &vrrp_group4, IPPROTO_VRRP_NUM, VRRP_TTL, len);
	} else {
		group = &vrrp_group6;
		mac_from_ip6_mcast(&vrrp_group6, &dst);
		eth_build(&w, &dst, &tx->eth_src, ETHERTYPE_IPV6);
		ip6_build(&w, &tx->src.v6, &vrrp_group6, IPPROTO_VRRP_NUM, VRRP_TTL, len);
	}
	vrrp = w.off;
	/* RFC 5798 5.2: version 3 | type 1, VRID, priority, count, rsvd + interval, checksum */
	wbuf_u8(&w, VRRP_VERSION << 4 | VRRP_TYPE_ADVERT);
	wbuf_u8(&w, tx->vrid);
	wbuf_u8(&w, tx->priority);
	wbuf_u8(&w, (uint8_t)n);
	wbuf_u16(&w, tx->max_adver_int_cs);
	wbuf_u16(&w, 0);
	for (i = 0; i < tx->naddr; i++)
		if (tx->addrs[i].af == tx->af)
			wbuf_bytes(&w, tx->addrs[i].b, alen);
	eth_pad(&w);
	if (w.err)
		return -ENOSPC;
	/* RFC 5798 5.2.8 */
	sum = csum_add(vrrp_pseudo(tx->af, tx->src.b, group, len), w.p + vrrp, len);
	wbuf_patch_u16(&w, vrrp + 6, ntohs(csum_fold(sum)));
	return (ssize_t)w.off;
}
