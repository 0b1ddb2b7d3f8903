/*
 * ndisc.c - IPv6 Neighbor Discovery (RFC 4861): Neighbor Solicitation parse with the
 * validity checks of 7.1.1, Neighbor Advertisement build (4.4, 7.2.4), solicited-node
 * addresses (RFC 4291 2.7.1).
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include "pkt/csum.h"
#include "pkt/drop.h"
#include "pkt/eth.h"
#include "pkt/ndisc.h"

#define ND_NA_LEN 32               /* NA header + one 8-byte TLLA option */
#define ND_NS_LEN 32               /* NS header + one 8-byte SLLA option */
#define ND_HOP_LIMIT 255

static const uint8_t solicited_prefix[13] = {
	0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff,
};

void ndisc_solicited_node(const struct in6_addr *a, struct in6_addr *out)
{
	memcpy(out->s6_addr, solicited_prefix, sizeof(solicited_prefix));
	memcpy(&out->s6_addr[13], &a->s6_addr[13], 3);
}

/* The checks NS (RFC 4861 7.1.1) and NA (7.1.2) share: type, hop limit 255, checksum, code
 * 0, a target that is not multicast, options of non-zero length that fit. Returns the
 * target, the flags byte (NA) and the first link-layer address option of type lla_opt. */
static int nd_parse(const struct ip6_info *ip, uint8_t want_type, uint8_t lla_opt,
		    struct in6_addr *target, uint8_t *flags, bool *has_lla, struct mac *lla)
{
	uint8_t type, code, opt_type, opt_len;
	struct rbuf r;

	*has_lla = false;
	rbuf_init(&r, ip->payload, ip->payload_len);
	if (rbuf_u8(&r, &type) < 0)
		return -PKT_DROP_TRUNCATED;
	/* RFC 4443 2.4: this reader handles the one type asked for */
	if (type != want_type)
		return -PKT_DROP_ICMP6_TYPE;
	/* RFC 4861 7.1.1, 7.1.2: IP Hop Limit is 255 (the sender is on link) */
	if (ip->hop_limit != ND_HOP_LIMIT)
		return -PKT_DROP_TTL;
	/* RFC 4443 2.1: type, code, checksum */
	if (rbuf_u8(&r, &code) < 0 || rbuf_skip(&r, 2) < 0)
		return -PKT_DROP_TRUNCATED;
	/* RFC 4443 2.3: checksum over the pseudo-header and the whole ICMPv6 message */
	if (csum_fold(csum_add(csum_pseudo6(&ip->src, &ip->dst, IPPROTO_ICMPV6,
					    ip->payload_len),
			       ip->payload, ip->payload_len)) != 0)
		return -PKT_DROP_ICMP6_CHECKSUM;
	/* RFC 4861 7.1.1, 7.1.2: ICMP Code is 0 */
	if (code != 0)
		return -PKT_DROP_ND_CODE;
	/* RFC 4861 7.1.1, 7.1.2: ICMP length is 24 or more octets (flags/reserved, target) */
	if (rbuf_u8(&r, flags) < 0 || rbuf_skip(&r, 3) < 0 ||
	    rbuf_bytes(&r, target, sizeof(*target)) < 0)
		return -PKT_DROP_TRUNCATED;
	/* RFC 4861 7.1.1, 7.1.2: Target Address is not a multicast address */
	if (IN6_IS_ADDR_MULTICAST(target))
		return -PKT_DROP_ND_TARGET;
	/* RFC 4861 7.1.1, 7.1.2: every option has a length greater than zero (and, 4.6, fits) */
	while (rbuf_left(&r)) {
		const uint8_t *opt = rbuf_cur(&r);

		if (rbuf_u8(&r, &opt_type) < 0 || rbuf_u8(&r, &opt_len) < 0 || opt_len == 0 ||
		    rbuf_skip(&r, (size_t)opt_len * 8 - 2) < 0)
			return -PKT_DROP_ND_OPTION;
		/* RFC 4861 4.6.1: the link-layer address (first one wins) */
		if (opt_type == lla_opt && !*has_lla) {
			*has_lla = true;
			memcpy(lla->b, opt + 2, MAC_LEN);
		}
	}
	return 0;
}

int ndisc_parse_ns(const struct ip6_info *ip, struct nd_ns *out)
{
	struct nd_ns ns = { 0 };
	uint8_t reserved;
	int ret = nd_parse(ip, ICMP6_NS, ND_OPT_SLLA, &ns.target, &reserved, &ns.has_slla,
			   &ns.slla);

	if (ret < 0)
		return ret;
	/* RFC 4861 7.1.1: from the unspecified address (DAD), the destination is a
	 * solicited-node address and there is no source link-layer address option */
	if (IN6_IS_ADDR_UNSPECIFIED(&ip->src) &&
	    (memcmp(ip->dst.s6_addr, solicited_prefix, sizeof(solicited_prefix)) != 0 ||
	     ns.has_slla))
		return -PKT_DROP_ND_UNSPEC_SRC;
	*out = ns;
	return 0;
}

int ndisc_parse_na(const struct ip6_info *ip, struct nd_na *out)
{
	struct nd_na na = { 0 };
	int ret = nd_parse(ip, ICMP6_NA, ND_OPT_TLLA, &na.target, &na.flags, &na.has_tlla,
			   &na.tlla);

	if (ret < 0)
		return ret;
	*out = na;
	return 0;
}

ssize_t ndisc_build_ns(uint8_t *buf, size_t cap, const struct nd_ns_tx *tx)
{
	struct wbuf w;
	uint32_t sum;
	size_t icmp;

	wbuf_init(&w, buf, cap);
	eth_build(&w, &tx->eth_dst, &tx->eth_src, ETHERTYPE_IPV6);
	/* RFC 4861 7.1.1: a receiver drops an NS whose hop limit is not 255 */
	ip6_build(&w, &tx->src, &tx->dst, IPPROTO_ICMPV6, ND_HOP_LIMIT, ND_NS_LEN);
	icmp = w.off;
	/* RFC 4861 4.3: type, code 0, checksum, 32 reserved bits, target */
	wbuf_u8(&w, ICMP6_NS);
	wbuf_u8(&w, 0);
	wbuf_u16(&w, 0);
	wbuf_zero(&w, 4);
	wbuf_bytes(&w, &tx->target, sizeof(tx->target));
	/* RFC 4861 4.6.1: Source Link-Layer Address option (not with an unspecified source) */
	wbuf_u8(&w, ND_OPT_SLLA);
	wbuf_u8(&w, 1);
	wbuf_bytes(&w, tx->slla.b, MAC_LEN);
	eth_pad(&w);
	if (w.err)
		return -ENOSPC;
	sum = csum_pseudo6(&tx->src, &tx->dst, IPPROTO_ICMPV6, ND_NS_LEN);
	wbuf_patch_u16(&w, icmp + 2, ntohs(csum_fold(csum_add(sum, w.p + icmp, ND_NS_LEN))));
	return (ssize_t)w.off;
}

ssize_t ndisc_build_na(uint8_t *buf, size_t cap, const struct nd_na_tx *tx)
{
	struct wbuf w;
	uint32_t sum;
	size_t icmp;

	wbuf_init(&w, buf, cap);
	eth_build(&w, &tx->eth_dst, &tx->eth_src, ETHERTYPE_IPV6);
	/* RFC 4861 7.2.4: Hop Limit 255 so that the receiver's 7.1.2 check passes */
	ip6_build(&w, &tx->src, &tx->dst, IPPROTO_ICMPV6, ND_HOP_LIMIT, ND_NA_LEN);
	icmp = w.off;
	/* RFC 4861 4.4: type, code 0, checksum, R|S|O flags + 29 reserved bits, target */
	wbuf_u8(&w, ICMP6_NA);
	wbuf_u8(&w, 0);
	wbuf_u16(&w, 0);
	wbuf_u8(&w, tx->flags);
	wbuf_zero(&w, 3);
	wbuf_bytes(&w, &tx->target, sizeof(tx->target));
	/* RFC 4861 4.6.1: Target Link-Layer Address option, length 1 (8 octets) */
	wbuf_u8(&w, ND_OPT_TLLA);
	wbuf_u8(&w, 1);
	wbuf_bytes(&w, tx->tlla.b, MAC_LEN);
	eth_pad(&w);
	if (w.err)
		return -ENOSPC;
	/* RFC 4443 2.3 */
	sum = csum_pseudo6(&tx->src, &tx->dst, IPPROTO_ICMPV6, ND_NA_LEN);
	wbuf_patch_u16(&w, icmp + 2, ntohs(csum_fold(csum_add(sum, w.p + icmp, ND_NA_LEN))));
	return (ssize_t)w.off;
}
