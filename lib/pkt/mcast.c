/*
 * mcast.c - IGMP (RFC 1112 / 2236 / 3376) and MLD (RFC 2710 / 3810) membership reports read
 * into joins and leaves; see mcast.h. Every read goes through one rbuf, every check in a fixed
 * order returns a named drop, and a report yields at most MCAST_MAX_RECORDS records.
 */
#include <string.h>
#include <arpa/inet.h>
#include "pkt/csum.h"
#include "pkt/drop.h"
#include "pkt/mcast.h"

#define IPPROTO_IGMP_NUM 2
#define IPPROTO_HOPOPTS_NUM 0
#define IPPROTO_ICMPV6_NUM 58

/* RFC 3376 4.2.12 / RFC 3810 5.2.12: record types */
enum { REC_IS_IN = 1, REC_IS_EX, REC_TO_IN, REC_TO_EX, REC_ALLOW, REC_BLOCK };

bool mcast_group_routable(const struct ipaddr *g)
{
	if (g->af == AF_INET)
		return (g->b[0] & 0xf0) == 0xe0 && !(g->b[0] == 224 && g->b[1] == 0 && g->b[2] == 0);
	if (g->af == AF_INET6)
		return g->b[0] == 0xff && (g->b[1] & 0x0f) > 2;
	return false;
}

static bool is_multicast(const struct ipaddr *g)
{
	return g->af == AF_INET ? (g->b[0] & 0xf0) == 0xe0 : g->b[0] == 0xff;
}

static void add(struct mcast_report *out, const struct ipaddr *g, bool join)
{
	if (!mcast_group_routable(g) || out->n >= MCAST_MAX_RECORDS) {
		out->skipped++;
		return;
	}
	out->rec[out->n].group = *g;
	out->rec[out->n++].join = join;
}

static void group_of(struct ipaddr *g, int af, const uint8_t *b)
{
	memset(g, 0, sizeof(*g));
	g->af = af;
	memcpy(g->b, b, af == AF_INET ? 4 : 16);
}

/* RFC 3376 4.2.4 / RFC 3810 5.2.4: the group records of a v3 / v2 report, after the 8-byte
 * header. Any-source: a record that leaves the group excluding nothing (or including some
 * sources) is a join; one that includes nothing is a leave; BLOCK_OLD_SOURCES changes no
 * any-source membership. */
static int records(struct rbuf *r, int af, uint16_t n, struct mcast_report *out)
{
	size_t alen = af == AF_INET ? 4 : 16;

	for (uint16_t i = 0; i < n; i++) {
		uint8_t type, aux, b[16];
		uint16_t nsrc;
		struct ipaddr g;

		if (rbuf_u8(r, &type) < 0 || rbuf_u8(r, &aux) < 0 || rbuf_u16(r, &nsrc) < 0 ||
		    rbuf_bytes(r, b, alen) < 0 || rbuf_skip(r, (size_t)nsrc * alen) < 0 ||
		    rbuf_skip(r, (size_t)aux * 4) < 0)
			return -PKT_DROP_TRUNCATED;
		group_of(&g, af, b);
		if (type < REC_IS_IN || type > REC_BLOCK || !is_multicast(&g))
			return -PKT_DROP_MCAST_RECORD;
		if (type == REC_BLOCK)
			out->skipped++;
		else if (type == REC_IS_EX || type == REC_TO_EX || nsrc > 0)
			add(out, &g, true);
		else
			add(out, &g, false);   /* IS_IN, TO_IN or ALLOW with no source */
	}
	return 0;
}

int igmp_parse(const struct ip4_info *ip, struct mcast_report *out)
{
	uint8_t type, b[4];
	uint16_t n;
	struct ipaddr g;
	struct rbuf r;

	memset(out, 0, sizeof(*out));
	if (ip->proto != IPPROTO_IGMP_NUM)
		return -PKT_DROP_IP_PROTO;
	/* RFC 2236 2, RFC 3376 4: sent with IP TTL 1 */
	if (ip->ttl != 1)
		return -PKT_DROP_TTL;
	rbuf_init(&r, ip->payload, ip->payload_len);
	if (rbuf_u8(&r, &type) < 0 || rbuf_skip(&r, 3) < 0 || rbuf_bytes(&r, b, 4) < 0)
		return -PKT_DROP_TRUNCATED;
	/* RFC 2236 2.3: the 16-bit one's complement sum of the whole IGMP message */
	if (csum_fold(csum_add(0, ip->payload, ip->payload_len)) != 0)
		return -PKT_DROP_MCAST_CHECKSUM;
	out->type = type;
	switch (type) {
	case IGMP_V1_REPORT:
	case IGMP_V2_REPORT:
	case IGMP_V2_LEAVE:
		group_of(&g, AF_INET, b);
		if (!is_multicast(&g))
			return -PKT_DROP_MCAST_GROUP;
		add(out, &g, type != IGMP_V2_LEAVE);
		return 0;
	case IGMP_V3_REPORT:
		/* RFC 3376 4.2: type, reserved, checksum, reserved (2), number of records (2) */
		n = (uint16_t)(b[2] << 8 | b[3]);
		return records(&r, AF_INET, n, out);
	default:
		return -PKT_DROP_MCAST_TYPE;   /* queries (0x11) are not a host's to send here */
	}
}

/* RFC 8200 4.3: one Hop-by-Hop Options header, the only one MLD is sent with. */
static int skip_hbh(const struct ip6_info *ip, const uint8_t **p, size_t *len)
{
	uint8_t next, hlen;
	struct rbuf r;

	*p = ip->payload;
	*len = ip->payload_len;
	if (ip->next_header == IPPROTO_ICMPV6_NUM)
		return 0;
	if (ip->next_header != IPPROTO_HOPOPTS_NUM)
		return -PKT_DROP_IP_PROTO;
	rbuf_init(&r, ip->payload, ip->payload_len);
	if (rbuf_u8(&r, &next) < 0 || rbuf_u8(&r, &hlen) < 0 ||
	    rbuf_skip(&r, (size_t)hlen * 8 + 6) < 0)
		return -PKT_DROP_TRUNCATED;
	if (next != IPPROTO_ICMPV6_NUM)
		return -PKT_DROP_IP_PROTO;
	*p = rbuf_cur(&r);
	*len = rbuf_left(&r);
	return 0;
}

int mld_parse(const struct ip6_info *ip, struct mcast_report *out)
{
	uint8_t type, b[16];
	uint16_t n;
	const uint8_t *p;
	size_t len;
	struct ipaddr g;
	struct rbuf r;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = skip_hbh(ip, &p, &len)) < 0)
		return ret;
	/* RFC 2710 3, RFC 3810 5: sent with Hop Limit 1 */
	if (ip->hop_limit != 1)
		return -PKT_DROP_TTL;
	rbuf_init(&r, p, len);
	if (rbuf_u8(&r, &type) < 0 || rbuf_skip(&r, 3) < 0)
		return -PKT_DROP_TRUNCATED;
	/* RFC 4443 2.3: over the pseudo-header (upper-layer length: the ICMPv6 message) */
	if (csum_fold(csum_add(csum_pseudo6(&ip->src, &ip->dst, IPPROTO_ICMPV6_NUM, (uint32_t)len),
			       p, len)) != 0)
		return -PKT_DROP_ICMP6_CHECKSUM;
	out->type = type;
	switch (type) {
	case MLD_V1_REPORT:
	case MLD_V1_DONE:
		/* RFC 2710 3: max response delay (2), reserved (2), multicast address */
		if (rbuf_skip(&r, 4) < 0 || rbuf_bytes(&r, b, 16) < 0)
			return -PKT_DROP_TRUNCATED;
		group_of(&g, AF_INET6, b);
		if (!is_multicast(&g))
			return -PKT_DROP_MCAST_GROUP;
		add(out, &g, type == MLD_V1_REPORT);
		return 0;
	case MLD_V2_REPORT:
		/* RFC 3810 5.2: reserved (2), number of records (2) */
		if (rbuf_skip(&r, 2) < 0 || rbuf_u16(&r, &n) < 0)
			return -PKT_DROP_TRUNCATED;
		return records(&r, AF_INET6, n, out);
	default:
		return -PKT_DROP_MCAST_TYPE;
	}
}
