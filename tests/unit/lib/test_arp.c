/* test_arp.c - ARP parse checks (RFC 826, RFC 5227 announcements) and frame building. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "frames.h"
#include "pkt/arp.h"
#include "pkt/drop.h"
#include "pkt/eth.h"

#define ARP_OFF OFF_IP
#define ARP_OFF_HLEN (ARP_OFF + 4)
#define ARP_OFF_OP (ARP_OFF + 7)
#define ARP_OFF_SHA (ARP_OFF + 8)

static const struct mac m1 = { { 0x02, 0, 0, 0, 0, 0x01 } };

static int parse_mutated(size_t at, uint8_t v, struct arp_pkt *a)
{
	uint8_t f[sizeof(garp_frame)];

	memcpy(f, garp_frame, sizeof(f));
	f[at] = v;
	return arp_parse(f + ARP_OFF, sizeof(f) - ARP_OFF, a);
}

static void test_parse_announcement(void **state)
{
	struct arp_pkt a;
	struct in_addr vip;

	inet_pton(AF_INET, "198.51.100.10", &vip);
	memset(&a, 0xee, sizeof(a));
	assert_int_equal(arp_parse(garp_frame + ARP_OFF, sizeof(garp_frame) - ARP_OFF, &a), 0);
	assert_int_equal(a.op, ARP_OP_REQUEST);
	assert_memory_equal(a.sha.b, m1.b, MAC_LEN);
	assert_int_equal(a.spa.s_addr, vip.s_addr);
	assert_memory_equal(a.tha.b, mac_zero.b, MAC_LEN);
	assert_int_equal(a.tpa.s_addr, vip.s_addr);
	/* exactly 28 bytes (no Ethernet padding) is enough */
	assert_int_equal(arp_parse(garp_frame + ARP_OFF, ARP_LEN, &a), 0);
}

static void test_truncated_at_every_length(void **state)
{
	struct arp_pkt a;

	for (size_t n = 0; n < ARP_LEN; n++)
		assert_int_equal(arp_parse(garp_frame + ARP_OFF, n, &a), -PKT_DROP_TRUNCATED);
}

static void test_bad_format(void **state)
{
	struct arp_pkt a;

	assert_int_equal(parse_mutated(ARP_OFF + 1, 6, &a), -PKT_DROP_ARP_FORMAT);   /* htype 6 */
	assert_int_equal(parse_mutated(ARP_OFF + 2, 0x86, &a), -PKT_DROP_ARP_FORMAT); /* ptype */
	assert_int_equal(parse_mutated(ARP_OFF_HLEN, 8, &a), -PKT_DROP_ARP_FORMAT);   /* hlen */
	assert_int_equal(parse_mutated(ARP_OFF_HLEN, 0, &a), -PKT_DROP_ARP_FORMAT);
	assert_int_equal(parse_mutated(ARP_OFF + 5, 16, &a), -PKT_DROP_ARP_FORMAT);   /* plen */
	/* the format is judged before the length: 8 bytes with hlen 8 is a format drop */
	assert_int_equal(arp_parse((const uint8_t[]){ 0, 1, 8, 0, 8, 4, 0, 1 }, 8, &a),
			 -PKT_DROP_ARP_FORMAT);
}

static void test_bad_op(void **state)
{
	struct arp_pkt a;

	assert_int_equal(parse_mutated(ARP_OFF_OP, 0, &a), -PKT_DROP_ARP_OP);
	assert_int_equal(parse_mutated(ARP_OFF_OP, 3, &a), -PKT_DROP_ARP_OP);
	assert_int_equal(parse_mutated(ARP_OFF_OP - 1, 1, &a), -PKT_DROP_ARP_OP);  /* op 0x0101 */
	assert_int_equal(parse_mutated(ARP_OFF_OP, 2, &a), 0);
	assert_int_equal(a.op, ARP_OP_REPLY);
}

static void test_bad_sender(void **state)
{
	uint8_t f[sizeof(garp_frame)];
	struct arp_pkt a;

	memcpy(f, garp_frame, sizeof(f));
	memcpy(f + ARP_OFF_SHA, mac_broadcast.b, MAC_LEN);
	assert_int_equal(arp_parse(f + ARP_OFF, ARP_LEN, &a), -PKT_DROP_ARP_SENDER);
	memcpy(f + ARP_OFF_SHA, mac_zero.b, MAC_LEN);
	assert_int_equal(arp_parse(f + ARP_OFF, ARP_LEN, &a), -PKT_DROP_ARP_SENDER);
	/* any group bit: 01:00:5e:00:00:12 and 03:00:00:00:00:00 */
	memcpy(f + ARP_OFF_SHA, (const uint8_t[]){ 0x01, 0, 0x5e, 0, 0, 0x12 }, MAC_LEN);
	assert_int_equal(arp_parse(f + ARP_OFF, ARP_LEN, &a), -PKT_DROP_ARP_SENDER);
	memcpy(f + ARP_OFF_SHA, (const uint8_t[]){ 0x03, 0, 0, 0, 0, 0 }, MAC_LEN);
	assert_int_equal(arp_parse(f + ARP_OFF, ARP_LEN, &a), -PKT_DROP_ARP_SENDER);
	/* a locally administered unicast sender is fine */
	memcpy(f + ARP_OFF_SHA, (const uint8_t[]){ 0x02, 0, 0, 0, 0, 0 }, MAC_LEN);
	assert_int_equal(arp_parse(f + ARP_OFF, ARP_LEN, &a), 0);
}

static void test_build_announcement_matches_scapy(void **state)
{
	struct arp_pkt a = { .op = ARP_OP_REQUEST, .sha = m1 };
	uint8_t buf[128];

	inet_pton(AF_INET, "198.51.100.10", &a.spa);
	a.tpa = a.spa;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(arp_build_frame(buf, sizeof(buf), &mac_broadcast, &m1, &a),
			 sizeof(garp_frame));
	assert_memory_equal(buf, garp_frame, sizeof(garp_frame));
	assert_int_equal(buf[sizeof(garp_frame)], 0xee);
}

static void test_build_reply_round_trip(void **state)
{
	const struct mac m2 = { { 0x02, 0, 0, 0, 0, 0x02 } };
	struct arp_pkt a = { .op = ARP_OP_REPLY, .sha = m1, .tha = m2 }, b;
	struct eth_hdr eth;
	uint8_t buf[ETH_MIN_FRAME];

	inet_pton(AF_INET, "198.51.100.10", &a.spa);
	inet_pton(AF_INET, "198.18.0.2", &a.tpa);
	assert_int_equal(arp_build_frame(buf, sizeof(buf), &m2, &m1, &a), ETH_MIN_FRAME);
	assert_int_equal(eth_parse(buf, sizeof(buf), &eth), 0);
	assert_int_equal(eth.type, ETHERTYPE_ARP);
	assert_memory_equal(eth.dst.b, m2.b, MAC_LEN);
	assert_memory_equal(eth.src.b, m1.b, MAC_LEN);
	assert_int_equal(arp_parse(buf + ETH_HDR_LEN, sizeof(buf) - ETH_HDR_LEN, &b), 0);
	assert_int_equal(b.op, ARP_OP_REPLY);
	assert_memory_equal(b.sha.b, m1.b, MAC_LEN);
	assert_memory_equal(b.tha.b, m2.b, MAC_LEN);
	assert_int_equal(b.spa.s_addr, a.spa.s_addr);
	assert_int_equal(b.tpa.s_addr, a.tpa.s_addr);
}

static void test_build_no_space(void **state)
{
	struct arp_pkt a = { .op = ARP_OP_REQUEST, .sha = m1 };
	uint8_t buf[ETH_MIN_FRAME];

	for (size_t cap = 0; cap < ETH_MIN_FRAME; cap++)
		assert_int_equal(arp_build_frame(buf, cap, &mac_broadcast, &m1, &a), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_announcement),
		cmocka_unit_test(test_truncated_at_every_length),
		cmocka_unit_test(test_bad_format),
		cmocka_unit_test(test_bad_op),
		cmocka_unit_test(test_bad_sender),
		cmocka_unit_test(test_build_announcement_matches_scapy),
		cmocka_unit_test(test_build_reply_round_trip),
		cmocka_unit_test(test_build_no_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
