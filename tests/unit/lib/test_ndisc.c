/* test_ndisc.c - Neighbor Solicitation checks (RFC 4861 7.1.1), NA building, solicited-node. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "frames.h"
#include "pkt/drop.h"
#include "pkt/ndisc.h"

#define NS_OFF_CODE 1
#define NS_OFF_TARGET 8
#define NS_OFF_OPT 24

static const struct mac m1 = { { 0x02, 0, 0, 0, 0, 0x01 } };
static const struct mac m2 = { { 0x02, 0, 0, 0, 0, 0x02 } };

/* Parses the IPv6 packet of a frame, then the NS in it. */
static int parse_frame(const uint8_t *f, size_t len, struct nd_ns *ns)
{
	struct ip6_info ip;

	assert_int_equal(ip6_parse(f + OFF_IP, len - OFF_IP, &ip), 0);
	assert_int_equal(ip.next_header, 58);
	return ndisc_parse_ns(&ip, ns);
}

/* A copy of a frame's packet whose ICMPv6 message is edited, then re-checksummed. */
struct pkt {
	uint8_t b[256];
	size_t len;
};

static void pkt_from(struct pkt *p, const uint8_t *frame, size_t len)
{
	memcpy(p->b, frame, len);
	p->len = len;
}

/* Sets the ICMPv6 length to n (the IPv6 payload length) and fixes the checksum. */
static void pkt_icmp_len(struct pkt *p, size_t n)
{
	p->len = OFF_IP6_PAYLOAD + n;
	p->b[OFF_IP6_PLEN] = (uint8_t)(n >> 8);
	p->b[OFF_IP6_PLEN + 1] = (uint8_t)n;
	if (n >= 4)
		fix_l4_csum(p->b + OFF_IP, 2);
}

/* Appends options after the NS header (any options already there are cut). */
static void pkt_set_options(struct pkt *p, const uint8_t *opts, size_t len)
{
	memcpy(p->b + OFF_IP6_PAYLOAD + NS_OFF_OPT, opts, len);
	pkt_icmp_len(p, NS_OFF_OPT + len);
}

static int pkt_parse(struct pkt *p, struct nd_ns *ns, bool fix)
{
	if (fix)
		fix_l4_csum(p->b + OFF_IP, 2);
	return parse_frame(p->b, p->len, ns);
}

static void test_ns_with_slla(void **state)
{
	struct in6_addr tgt;
	struct nd_ns ns;

	inet_pton(AF_INET6, "2001:db8::10", &tgt);
	memset(&ns, 0xee, sizeof(ns));
	assert_int_equal(parse_frame(ns_slla_frame, sizeof(ns_slla_frame), &ns), 0);
	assert_memory_equal(&ns.target, &tgt, sizeof(tgt));
	assert_true(ns.has_slla);
	assert_memory_equal(ns.slla.b, m2.b, MAC_LEN);
}

static void test_unicast_ns_without_slla_is_valid(void **state)
{
	struct in6_addr tgt;
	struct nd_ns ns;

	/* RFC 4861 4.3: a unicast NS may omit the option and must still be answered */
	inet_pton(AF_INET6, "2001:db8::10", &tgt);
	memset(&ns, 0xee, sizeof(ns));
	assert_int_equal(parse_frame(ns_unicast_frame, sizeof(ns_unicast_frame), &ns), 0);
	assert_memory_equal(&ns.target, &tgt, sizeof(tgt));
	assert_false(ns.has_slla);
}

static void test_dad(void **state)
{
	struct pkt p;
	struct nd_ns ns;

	assert_int_equal(parse_frame(ns_dad_frame, sizeof(ns_dad_frame), &ns), 0);
	assert_false(ns.has_slla);
	assert_int_equal(parse_frame(ns_dad_slla_frame, sizeof(ns_dad_slla_frame), &ns),
			 -PKT_DROP_ND_UNSPEC_SRC);
	/* from :: to a destination that is not solicited-node: ff02::1 */
	pkt_from(&p, ns_dad_frame, sizeof(ns_dad_frame));
	inet_pton(AF_INET6, "ff02::1", p.b + OFF_IP6_DST);
	assert_int_equal(pkt_parse(&p, &ns, true), -PKT_DROP_ND_UNSPEC_SRC);
	/* ... nor to the unicast target itself */
	inet_pton(AF_INET6, "2001:db8::10", p.b + OFF_IP6_DST);
	assert_int_equal(pkt_parse(&p, &ns, true), -PKT_DROP_ND_UNSPEC_SRC);
	/* ff02::1:ff00:0/104 is the whole prefix: ff02::1:fe00:10 is not in it */
	inet_pton(AF_INET6, "ff02::1:fe00:10", p.b + OFF_IP6_DST);
	assert_int_equal(pkt_parse(&p, &ns, true), -PKT_DROP_ND_UNSPEC_SRC);
}

static void test_hop_limit(void **state)
{
	struct pkt p;
	struct nd_ns ns;

	pkt_from(&p, ns_slla_frame, sizeof(ns_slla_frame));
	p.b[OFF_IP6_HLIM] = 254;
	assert_int_equal(pkt_parse(&p, &ns, false), -PKT_DROP_TTL);
	p.b[OFF_IP6_HLIM] = 1;
	assert_int_equal(pkt_parse(&p, &ns, false), -PKT_DROP_TTL);
}

static void test_bad_checksum(void **state)
{
	struct pkt p;
	struct nd_ns ns;

	pkt_from(&p, ns_slla_frame, sizeof(ns_slla_frame));
	p.b[OFF_IP6_PAYLOAD + 2] ^= 0x01;
	assert_int_equal(pkt_parse(&p, &ns, false), -PKT_DROP_ICMP6_CHECKSUM);
	/* the pseudo-header counts: same message, other source */
	pkt_from(&p, ns_slla_frame, sizeof(ns_slla_frame));
	p.b[OFF_IP6_SRC + 15] = 3;
	assert_int_equal(pkt_parse(&p, &ns, false), -PKT_DROP_ICMP6_CHECKSUM);
	/* a changed option byte too */
	pkt_from(&p, ns_slla_frame, sizeof(ns_slla_frame));
	p.b[OFF_IP6_PAYLOAD + NS_OFF_OPT + 7] = 3;
	assert_int_equal(pkt_parse(&p, &ns, false), -PKT_DROP_ICMP6_CHECKSUM);
}

static void test_code_type_target(void **state)
{
	struct pkt p;
	struct nd_ns ns;

	pkt_from(&p, ns_slla_frame, sizeof(ns_slla_frame));
	p.b[OFF_IP6_PAYLOAD + NS_OFF_CODE] = 1;
	assert_int_equal(pkt_parse(&p, &ns, true), -PKT_DROP_ND_CODE);
	pkt_from(&p, ns_slla_frame, sizeof(ns_slla_frame));
	inet_pton(AF_INET6, "ff02::1", p.b + OFF_IP6_PAYLOAD + NS_OFF_TARGET);
	assert_int_equal(pkt_parse(&p, &ns, true), -PKT_DROP_ND_TARGET);
	/* an NA, an echo request: not handled here, whatever their hop limit */
	pkt_from(&p, ns_slla_frame, sizeof(ns_slla_frame));
	p.b[OFF_IP6_PAYLOAD] = ICMP6_NA;
	assert_int_equal(pkt_parse(&p, &ns, true), -PKT_DROP_ICMP6_TYPE);
	p.b[OFF_IP6_PAYLOAD] = 128;
	p.b[OFF_IP6_HLIM] = 64;
	assert_int_equal(pkt_parse(&p, &ns, true), -PKT_DROP_ICMP6_TYPE);
}

static void test_truncated_at_every_length(void **state)
{
	struct pkt p;
	struct nd_ns ns;

	/* the IPv6 payload length says less each time; checksums are fixed to reach each check */
	for (size_t n = 0; n < 32; n++) {
		pkt_from(&p, ns_slla_frame, sizeof(ns_slla_frame));
		pkt_icmp_len(&p, n);
		if (n < NS_OFF_OPT)
			assert_int_equal(pkt_parse(&p, &ns, false), -PKT_DROP_TRUNCATED);
		else if (n == NS_OFF_OPT)
			assert_int_equal(pkt_parse(&p, &ns, false), 0);
		else
			assert_int_equal(pkt_parse(&p, &ns, false), -PKT_DROP_ND_OPTION);
	}
	/* and the buffer shorter than the IPv6 payload length says */
	for (size_t n = OFF_IP + 40; n < sizeof(ns_slla_frame); n++) {
		struct ip6_info ip;

		assert_int_equal(ip6_parse(ns_slla_frame + OFF_IP, n - OFF_IP, &ip),
				 -PKT_DROP_TRUNCATED);
	}
}

static void test_options(void **state)
{
	const uint8_t zero_len[8] = { 14, 0 };
	const uint8_t slla_nonce_slla[24] = {
		1, 1, 0x02, 0, 0, 0, 0, 0x02,     /* SLLA */
		14, 1, 1, 2, 3, 4, 5, 6,          /* RFC 3971 nonce: skipped */
		1, 1, 0x02, 0, 0, 0, 0, 0x07,     /* a second SLLA: the first one counts */
	};
	const uint8_t too_long[8] = { 14, 2, 0, 0, 0, 0, 0, 0 };
	struct pkt p;
	struct nd_ns ns;

	pkt_from(&p, ns_slla_frame, sizeof(ns_slla_frame));
	pkt_set_options(&p, zero_len, sizeof(zero_len));
	assert_int_equal(pkt_parse(&p, &ns, false), -PKT_DROP_ND_OPTION);
	pkt_from(&p, ns_slla_frame, sizeof(ns_slla_frame));
	pkt_set_options(&p, too_long, sizeof(too_long));
	assert_int_equal(pkt_parse(&p, &ns, false), -PKT_DROP_ND_OPTION);
	pkt_from(&p, ns_slla_frame, sizeof(ns_slla_frame));
	pkt_set_options(&p, slla_nonce_slla, sizeof(slla_nonce_slla));
	assert_int_equal(pkt_parse(&p, &ns, false), 0);
	assert_true(ns.has_slla);
	assert_memory_equal(ns.slla.b, m2.b, MAC_LEN);
	/* zero-length option as the only option, in an otherwise valid unicast NS */
	pkt_from(&p, ns_unicast_frame, sizeof(ns_unicast_frame));
	pkt_set_options(&p, zero_len, sizeof(zero_len));
	assert_int_equal(pkt_parse(&p, &ns, false), -PKT_DROP_ND_OPTION);
}

static void test_build_na_matches_scapy(void **state)
{
	struct nd_na_tx tx = {
		.eth_src = m1,
		.tlla = m1,
		.flags = ND_NA_FLAG_ROUTER | ND_NA_FLAG_OVERRIDE,
	};
	uint8_t buf[128];

	mac_parse("33:33:00:00:00:01", &tx.eth_dst);
	inet_pton(AF_INET6, "fe80::1", &tx.src);
	inet_pton(AF_INET6, "ff02::1", &tx.dst);
	inet_pton(AF_INET6, "2001:db8::10", &tx.target);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(ndisc_build_na(buf, sizeof(buf), &tx), sizeof(na_frame));
	assert_memory_equal(buf, na_frame, sizeof(na_frame));
	assert_int_equal(buf[sizeof(na_frame)], 0xee);
	for (size_t cap = 0; cap < sizeof(na_frame); cap++)
		assert_int_equal(ndisc_build_na(buf, cap, &tx), -ENOSPC);
}

static void test_build_na_solicited(void **state)
{
	struct nd_na_tx tx = { .eth_dst = m2, .eth_src = m1, .tlla = m1,
			       .flags = ND_NA_FLAG_SOLICITED | ND_NA_FLAG_OVERRIDE };
	const uint8_t tlla_opt[8] = { ND_OPT_TLLA, 1, 0x02, 0, 0, 0, 0, 0x01 };
	struct ip6_info ip;
	uint8_t buf[128], copy[86];
	ssize_t n;

	inet_pton(AF_INET6, "2001:db8::10", &tx.src);
	inet_pton(AF_INET6, "2001:db8::2", &tx.dst);
	tx.target = tx.src;
	n = ndisc_build_na(buf, sizeof(buf), &tx);
	assert_int_equal(n, 86);
	assert_int_equal(ip6_parse(buf + OFF_IP, (size_t)n - OFF_IP, &ip), 0);
	assert_int_equal(ip.hop_limit, 255);
	assert_int_equal(ip.next_header, 58);
	assert_int_equal(ip.payload_len, 32);
	assert_int_equal(ip.payload[0], ICMP6_NA);
	assert_int_equal(ip.payload[4], 0x60);
	assert_memory_equal(ip.payload + 8, &tx.target, 16);
	assert_memory_equal(ip.payload + 24, tlla_opt, sizeof(tlla_opt));
	/* the checksum is the one computed independently of the builder */
	memcpy(copy, buf, sizeof(copy));
	fix_l4_csum(copy + OFF_IP, 2);
	assert_memory_equal(copy, buf, sizeof(copy));
}

/* The NS builder's frame: what ndisc_parse_ns reads back (target, SLLA), hop limit 255, and
 * a checksum computed independently. */
static void test_build_ns(void **state)
{
	struct nd_ns_tx tx = { .eth_src = m1, .slla = m2 };
	struct ip6_info ip;
	struct nd_ns ns;
	uint8_t buf[128], copy[86];
	ssize_t n;

	inet_pton(AF_INET6, "2001:db8::10", &tx.src);
	inet_pton(AF_INET6, "2001:db8::2", &tx.target);
	ndisc_solicited_node(&tx.target, &tx.dst);
	memcpy(tx.eth_dst.b, (uint8_t[]){ 0x33, 0x33, 0xff, 0, 0, 2 }, MAC_LEN);
	n = ndisc_build_ns(buf, sizeof(buf), &tx);
	assert_int_equal(n, 86);
	assert_int_equal(ndisc_build_ns(buf, 85, &tx), -ENOSPC);
	n = ndisc_build_ns(buf, sizeof(buf), &tx);
	assert_int_equal(ip6_parse(buf + OFF_IP, (size_t)n - OFF_IP, &ip), 0);
	assert_int_equal(ip.hop_limit, 255);
	assert_int_equal(ndisc_parse_ns(&ip, &ns), 0);
	assert_memory_equal(&ns.target, &tx.target, 16);
	assert_true(ns.has_slla);
	assert_memory_equal(ns.slla.b, m2.b, MAC_LEN);
	memcpy(copy, buf, sizeof(copy));
	fix_l4_csum(copy + OFF_IP, 2);
	assert_memory_equal(copy, buf, sizeof(copy));
}

/* What the builder sends, the NA parser reads back; and it applies RFC 4861 7.1.2. */
static void test_parse_na(void **state)
{
	struct nd_na_tx tx = { .eth_dst = m2, .eth_src = m1, .tlla = m1,
			       .flags = ND_NA_FLAG_OVERRIDE };
	struct ip6_info ip;
	struct nd_na na;
	uint8_t buf[128];
	ssize_t n;

	inet_pton(AF_INET6, "2001:db8::10", &tx.src);
	inet_pton(AF_INET6, "ff02::1", &tx.dst);
	tx.target = tx.src;
	n = ndisc_build_na(buf, sizeof(buf), &tx);
	assert_int_equal(ip6_parse(buf + OFF_IP, (size_t)n - OFF_IP, &ip), 0);
	assert_int_equal(ndisc_parse_na(&ip, &na), 0);
	assert_memory_equal(&na.target, &tx.target, 16);
	assert_int_equal(na.flags, ND_NA_FLAG_OVERRIDE);
	assert_true(na.has_tlla);
	assert_memory_equal(na.tlla.b, m1.b, MAC_LEN);
	/* an NA is not an NS, and the other way round */
	{
		struct nd_ns ns;

		assert_int_equal(ndisc_parse_ns(&ip, &ns), -PKT_DROP_ICMP6_TYPE);
	}
	/* hop limit other than 255: off link */
	ip.hop_limit = 64;
	assert_int_equal(ndisc_parse_na(&ip, &na), -PKT_DROP_TTL);
	ip.hop_limit = 255;
	/* cut short: the target does not fit */
	ip.payload_len = 20;
	assert_int_equal(ndisc_parse_na(&ip, &na), -PKT_DROP_ICMP6_CHECKSUM);
}

static void test_solicited_node(void **state)
{
	struct in6_addr a, sn, want;

	inet_pton(AF_INET6, "2001:db8::abcd:12:3456", &a);
	inet_pton(AF_INET6, "ff02::1:ff12:3456", &want);
	memset(&sn, 0xee, sizeof(sn));
	ndisc_solicited_node(&a, &sn);
	assert_memory_equal(&sn, &want, sizeof(want));
	inet_pton(AF_INET6, "2001:db8::10", &a);
	inet_pton(AF_INET6, "ff02::1:ff00:10", &want);
	ndisc_solicited_node(&a, &sn);
	assert_memory_equal(&sn, &want, sizeof(want));
	/* the DAD frame was sent to exactly this address */
	assert_memory_equal(ns_dad_frame + OFF_IP6_DST, &want, sizeof(want));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ns_with_slla),
		cmocka_unit_test(test_unicast_ns_without_slla_is_valid),
		cmocka_unit_test(test_dad),
		cmocka_unit_test(test_hop_limit),
		cmocka_unit_test(test_bad_checksum),
		cmocka_unit_test(test_code_type_target),
		cmocka_unit_test(test_truncated_at_every_length),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_build_na_matches_scapy),
		cmocka_unit_test(test_build_na_solicited),
		cmocka_unit_test(test_parse_na),
		cmocka_unit_test(test_build_ns),
		cmocka_unit_test(test_solicited_node),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
