/* test_mcast.c - IGMP v1/v2/v3 and MLD v1/v2 reports read into joins and leaves, and each
 * named drop (lib/pkt/mcast.c). Packets are built here, checksums computed by lib/pkt/csum. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "pkt/csum.h"
#include "pkt/drop.h"
#include "pkt/mcast.h"

struct pkt {
	uint8_t b[1024];
	size_t len;
};

/* An IGMP message in an ip4_info (ttl 1), checksum filled at offset 2 unless bad. */
static void igmp(struct ip4_info *ip, struct pkt *p, bool bad_csum)
{
	uint16_t c;

	p->b[2] = p->b[3] = 0;
	c = csum_fold(csum_add(0, p->b, p->len));
	memcpy(p->b + 2, &c, 2);
	if (bad_csum)
		p->b[2] ^= 1;
	memset(ip, 0, sizeof(*ip));
	ip->ttl = 1;
	ip->proto = 2;
	ip->payload = p->b;
	ip->payload_len = p->len;
}

static void put4(uint8_t *b, const char *a)
{
	assert_int_equal(inet_pton(AF_INET, a, b), 1);
}

static void put6(uint8_t *b, const char *a)
{
	assert_int_equal(inet_pton(AF_INET6, a, b), 1);
}

static void assert_rec(const struct mcast_report *r, int i, const char *group, bool join)
{
	char s[INET6_ADDRSTRLEN];

	assert_true(i < r->n);
	inet_ntop(r->rec[i].group.af, r->rec[i].group.b, s, sizeof(s));
	assert_string_equal(s, group);
	assert_int_equal(r->rec[i].join, join);
}

static void v2(struct pkt *p, uint8_t type, const char *group)
{
	memset(p, 0, sizeof(*p));
	p->b[0] = type;
	put4(p->b + 4, group);
	p->len = 8;
}

static void test_igmp_v2(void **state)
{
	struct mcast_report r;
	struct ip4_info ip;
	struct pkt p;

	v2(&p, IGMP_V2_REPORT, "239.1.2.3");
	igmp(&ip, &p, false);
	assert_int_equal(igmp_parse(&ip, &r), 0);
	assert_int_equal(r.n, 1);
	assert_rec(&r, 0, "239.1.2.3", true);
	v2(&p, IGMP_V2_LEAVE, "239.1.2.3");
	igmp(&ip, &p, false);
	assert_int_equal(igmp_parse(&ip, &r), 0);
	assert_rec(&r, 0, "239.1.2.3", false);
	v2(&p, IGMP_V1_REPORT, "224.0.1.1");
	igmp(&ip, &p, false);
	assert_int_equal(igmp_parse(&ip, &r), 0);
	assert_rec(&r, 0, "224.0.1.1", true);
}

static void test_igmp_drops(void **state)
{
	struct mcast_report r;
	struct ip4_info ip;
	struct pkt p;

	v2(&p, IGMP_V2_REPORT, "239.1.2.3");
	igmp(&ip, &p, true);
	assert_int_equal(igmp_parse(&ip, &r), -PKT_DROP_MCAST_CHECKSUM);
	igmp(&ip, &p, false);
	ip.ttl = 2;
	assert_int_equal(igmp_parse(&ip, &r), -PKT_DROP_TTL);
	igmp(&ip, &p, false);
	ip.proto = 17;
	assert_int_equal(igmp_parse(&ip, &r), -PKT_DROP_IP_PROTO);
	igmp(&ip, &p, false);
	ip.payload_len = 7;
	assert_int_equal(igmp_parse(&ip, &r), -PKT_DROP_TRUNCATED);
	v2(&p, 0x11, "0.0.0.0");   /* a query */
	igmp(&ip, &p, false);
	assert_int_equal(igmp_parse(&ip, &r), -PKT_DROP_MCAST_TYPE);
	v2(&p, IGMP_V2_REPORT, "198.18.0.1");
	igmp(&ip, &p, false);
	assert_int_equal(igmp_parse(&ip, &r), -PKT_DROP_MCAST_GROUP);
	/* link-local: accepted, but nothing to forward */
	v2(&p, IGMP_V2_REPORT, "224.0.0.251");
	igmp(&ip, &p, false);
	assert_int_equal(igmp_parse(&ip, &r), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.skipped, 1);
}

/* v3: records of (type, group, sources), after the 8-byte header. */
static size_t v3_rec(uint8_t *b, uint8_t type, const char *group, uint16_t nsrc, bool v6)
{
	size_t alen = v6 ? 16 : 4;

	b[0] = type;
	b[1] = 0;
	b[2] = (uint8_t)(nsrc >> 8);
	b[3] = (uint8_t)nsrc;
	if (v6)
		put6(b + 4, group);
	else
		put4(b + 4, group);
	memset(b + 4 + alen, 0x11, nsrc * alen);
	return 4 + alen + nsrc * alen;
}

static void test_igmp_v3(void **state)
{
	struct mcast_report r;
	struct ip4_info ip;
	struct pkt p;

	memset(&p, 0, sizeof(p));
	p.b[0] = IGMP_V3_REPORT;
	p.b[7] = 5;
	p.len = 8;
	p.len += v3_rec(p.b + p.len, 4, "239.0.0.1", 0, false);   /* TO_EX {}: join */
	p.len += v3_rec(p.b + p.len, 3, "239.0.0.2", 0, false);   /* TO_IN {}: leave */
	p.len += v3_rec(p.b + p.len, 5, "239.0.0.3", 2, false);   /* ALLOW {s,s}: join */
	p.len += v3_rec(p.b + p.len, 6, "239.0.0.4", 1, false);   /* BLOCK: skipped */
	p.len += v3_rec(p.b + p.len, 4, "224.0.0.22", 0, false);  /* link-local: skipped */
	igmp(&ip, &p, false);
	assert_int_equal(igmp_parse(&ip, &r), 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.skipped, 2);
	assert_rec(&r, 0, "239.0.0.1", true);
	assert_rec(&r, 1, "239.0.0.2", false);
	assert_rec(&r, 2, "239.0.0.3", true);
	/* one record more than there is */
	p.b[7] = 6;
	igmp(&ip, &p, false);
	assert_int_equal(igmp_parse(&ip, &r), -PKT_DROP_TRUNCATED);
	p.b[7] = 1;
	p.b[8] = 7;
	igmp(&ip, &p, false);
	assert_int_equal(igmp_parse(&ip, &r), -PKT_DROP_MCAST_RECORD);
}

static void test_igmp_v3_many(void **state)
{
	struct mcast_report r;
	struct ip4_info ip;
	struct pkt p;
	uint16_t n = (sizeof(p.b) - 8) / 8;

	memset(&p, 0, sizeof(p));
	p.b[0] = IGMP_V3_REPORT;
	p.b[6] = (uint8_t)(n >> 8);
	p.b[7] = (uint8_t)n;
	p.len = 8;
	for (uint16_t i = 0; i < n; i++)
		p.len += v3_rec(p.b + p.len, 4, "239.9.9.9", 0, false);
	igmp(&ip, &p, false);
	assert_int_equal(igmp_parse(&ip, &r), 0);
	assert_int_equal(r.n, MCAST_MAX_RECORDS);
	assert_int_equal(r.skipped, n - MCAST_MAX_RECORDS);
}

/* MLD behind a Hop-by-Hop header with Router Alert (RFC 2711), hop limit 1. */
static void mld(struct ip6_info *ip, struct pkt *p, const uint8_t *icmp, size_t n, bool hbh)
{
	static const uint8_t ra[8] = { 58, 0, 5, 2, 0, 0, 1, 0 };
	size_t off = hbh ? 8 : 0;
	uint16_t c;

	memset(ip, 0, sizeof(*ip));
	put6(ip->src.s6_addr, "fe80::1");
	put6(ip->dst.s6_addr, "ff02::16");
	ip->hop_limit = 1;
	ip->next_header = hbh ? 0 : 58;
	memcpy(p->b, ra, 8);
	memcpy(p->b + off, icmp, n);
	p->b[off + 2] = p->b[off + 3] = 0;
	c = csum_fold(csum_add(csum_pseudo6(&ip->src, &ip->dst, 58, (uint32_t)n), p->b + off, n));
	memcpy(p->b + off + 2, &c, 2);
	p->len = off + n;
	ip->payload = p->b;
	ip->payload_len = p->len;
}

static void test_mld(void **state)
{
	uint8_t m[256] = { 0 };
	struct mcast_report r;
	struct ip6_info ip;
	struct pkt p;
	size_t n;

	m[0] = MLD_V1_REPORT;
	put6(m + 8, "ff0e::1:2");
	mld(&ip, &p, m, 24, true);
	assert_int_equal(mld_parse(&ip, &r), 0);
	assert_rec(&r, 0, "ff0e::1:2", true);
	m[0] = MLD_V1_DONE;
	mld(&ip, &p, m, 24, false);
	assert_int_equal(mld_parse(&ip, &r), 0);
	assert_rec(&r, 0, "ff0e::1:2", false);
	mld(&ip, &p, m, 24, true);
	p.b[10] ^= 1;
	assert_int_equal(mld_parse(&ip, &r), -PKT_DROP_ICMP6_CHECKSUM);
	mld(&ip, &p, m, 24, true);
	ip.hop_limit = 255;
	assert_int_equal(mld_parse(&ip, &r), -PKT_DROP_TTL);
	mld(&ip, &p, m, 20, true);   /* checksummed, but the address cut */
	assert_int_equal(mld_parse(&ip, &r), -PKT_DROP_TRUNCATED);

	memset(m, 0, sizeof(m));
	m[0] = MLD_V2_REPORT;
	m[7] = 3;
	n = 8;
	n += v3_rec(m + n, 4, "ff05::7", 0, true);
	n += v3_rec(m + n, 3, "ff0e::8", 0, true);
	n += v3_rec(m + n, 4, "ff02::fb", 0, true);   /* link-local scope */
	mld(&ip, &p, m, n, true);
	assert_int_equal(mld_parse(&ip, &r), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.skipped, 1);
	assert_rec(&r, 0, "ff05::7", true);
	assert_rec(&r, 1, "ff0e::8", false);
	m[0] = 130;   /* a query */
	mld(&ip, &p, m, n, true);
	assert_int_equal(mld_parse(&ip, &r), -PKT_DROP_MCAST_TYPE);
	m[0] = MLD_V2_REPORT;
	mld(&ip, &p, m, n, true);
	p.b[0] = 17;   /* HBH followed by UDP */
	assert_int_equal(mld_parse(&ip, &r), -PKT_DROP_IP_PROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_igmp_v2),
		cmocka_unit_test(test_igmp_drops),
		cmocka_unit_test(test_igmp_v3),
		cmocka_unit_test(test_igmp_v3_many),
		cmocka_unit_test(test_mld),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
