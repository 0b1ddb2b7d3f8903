/* test_frame.c - whole-frame classification: every layer's checks and drop reasons. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "frames.h"
#include "pkt/drop.h"
#include "pkt/frame.h"

struct known {
	const uint8_t *f;
	size_t len;
	size_t min_len;        /* shortest prefix that parses (Ethernet padding is optional) */
};

static const struct known known[] = {
	{ vrrp4_frame, sizeof(vrrp4_frame), OFF_IP4_PAYLOAD + 16 },
	{ vrrp6_frame, sizeof(vrrp6_frame), sizeof(vrrp6_frame) },
	{ ns_slla_frame, sizeof(ns_slla_frame), sizeof(ns_slla_frame) },
	{ ns_unicast_frame, sizeof(ns_unicast_frame), sizeof(ns_unicast_frame) },
	{ ns_dad_frame, sizeof(ns_dad_frame), sizeof(ns_dad_frame) },
	{ garp_frame, sizeof(garp_frame), OFF_IP + 28 },
};

static int parse_copy(const uint8_t *f, size_t len, struct frame *fr)
{
	uint8_t copy[256];

	memcpy(copy, f, len);
	return frame_parse(copy, len, fr);
}

static void test_vrrp4(void **state)
{
	char buf[IPADDR_STRLEN];
	struct frame fr;

	assert_int_equal(frame_parse(vrrp4_frame, sizeof(vrrp4_frame), &fr), 0);
	assert_int_equal(fr.kind, FRAME_VRRP);
	assert_int_equal(fr.eth.type, ETHERTYPE_IPV4);
	assert_int_equal(fr.eth.dst.b[5], 0x12);
	assert_string_equal(ipaddr_fmt(&fr.ip_src, buf), "198.18.0.1");
	assert_string_equal(ipaddr_fmt(&fr.ip_dst, buf), "224.0.0.18");
	assert_int_equal(fr.vrrp.af, AF_INET);
	assert_int_equal(fr.vrrp.vrid, 51);
	assert_int_equal(fr.vrrp.naddr, 2);
	assert_ptr_equal(fr.vrrp.addrs, vrrp4_frame + OFF_IP4_PAYLOAD + 8);
}

static void test_vrrp6(void **state)
{
	char buf[IPADDR_STRLEN];
	struct frame fr;

	assert_int_equal(frame_parse(vrrp6_frame, sizeof(vrrp6_frame), &fr), 0);
	assert_int_equal(fr.kind, FRAME_VRRP);
	assert_string_equal(ipaddr_fmt(&fr.ip_src, buf), "fe80::1");
	assert_string_equal(ipaddr_fmt(&fr.ip_dst, buf), "ff02::12");
	assert_int_equal(fr.vrrp.af, AF_INET6);
	assert_int_equal(fr.vrrp.vrid, 52);
	assert_int_equal(fr.vrrp.priority, 200);
}

static void test_ns_and_arp(void **state)
{
	char buf[IPADDR_STRLEN];
	struct frame fr;

	assert_int_equal(frame_parse(ns_unicast_frame, sizeof(ns_unicast_frame), &fr), 0);
	assert_int_equal(fr.kind, FRAME_NS);
	assert_string_equal(ipaddr_fmt(&fr.ip_src, buf), "2001:db8::2");
	assert_string_equal(ipaddr_fmt(&fr.ip_dst, buf), "2001:db8::10");
	assert_false(fr.ns.has_slla);
	assert_int_equal(frame_parse(ns_slla_frame, sizeof(ns_slla_frame), &fr), 0);
	assert_int_equal(fr.kind, FRAME_NS);
	assert_true(fr.ns.has_slla);
	assert_int_equal(frame_parse(ns_dad_slla_frame, sizeof(ns_dad_slla_frame), &fr),
			 -PKT_DROP_ND_UNSPEC_SRC);
	assert_int_equal(frame_parse(garp_frame, sizeof(garp_frame), &fr), 0);
	assert_int_equal(fr.kind, FRAME_ARP);
	assert_int_equal(fr.arp.op, ARP_OP_REQUEST);
	assert_int_equal(fr.ip_src.af, 0);
}

static void test_truncated_at_every_length(void **state)
{
	struct frame fr;

	for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
		for (size_t n = 0; n < known[k].min_len; n++)
			assert_int_equal(parse_copy(known[k].f, n, &fr), -PKT_DROP_TRUNCATED);
		for (size_t n = known[k].min_len; n <= known[k].len; n++)
			assert_int_equal(parse_copy(known[k].f, n, &fr), 0);
	}
}

static void test_ttl(void **state)
{
	uint8_t f[sizeof(vrrp6_frame)];
	struct frame fr;

	/* RFC 5798 7.1: an advert that crossed a router is dropped */
	memcpy(f, vrrp4_frame, sizeof(vrrp4_frame));
	f[OFF_IP4_TTL] = 254;
	fix_ip4_csum(f + OFF_IP);
	assert_int_equal(frame_parse(f, sizeof(vrrp4_frame), &fr), -PKT_DROP_TTL);
	memcpy(f, vrrp6_frame, sizeof(vrrp6_frame));
	f[OFF_IP6_HLIM] = 254;
	assert_int_equal(frame_parse(f, sizeof(vrrp6_frame), &fr), -PKT_DROP_TTL);
	memcpy(f, ns_unicast_frame, sizeof(ns_unicast_frame));
	f[OFF_IP6_HLIM] = 254;
	assert_int_equal(frame_parse(f, sizeof(ns_unicast_frame), &fr), -PKT_DROP_TTL);
}

static void test_vrrp_dest(void **state)
{
	uint8_t f[sizeof(vrrp6_frame)];
	struct frame fr;

	memcpy(f, vrrp4_frame, sizeof(vrrp4_frame));
	f[OFF_IP4_DST + 3] = 19;
	fix_ip4_csum(f + OFF_IP);
	fix_l4_csum(f + OFF_IP, 6);
	assert_int_equal(frame_parse(f, sizeof(vrrp4_frame), &fr), -PKT_DROP_VRRP_DEST);
	/* unicast to the router's own address */
	inet_pton(AF_INET, "198.18.0.2", f + OFF_IP4_DST);
	fix_ip4_csum(f + OFF_IP);
	fix_l4_csum(f + OFF_IP, 6);
	assert_int_equal(frame_parse(f, sizeof(vrrp4_frame), &fr), -PKT_DROP_VRRP_DEST);
	memcpy(f, vrrp6_frame, sizeof(vrrp6_frame));
	inet_pton(AF_INET6, "ff02::1", f + OFF_IP6_DST);
	fix_l4_csum(f + OFF_IP, 6);
	assert_int_equal(frame_parse(f, sizeof(vrrp6_frame), &fr), -PKT_DROP_VRRP_DEST);
}

static void test_ip4_header_checks(void **state)
{
	uint8_t f[sizeof(vrrp4_frame)];
	struct frame fr;

	memcpy(f, vrrp4_frame, sizeof(f));
	f[OFF_IP4_CSUM] ^= 0x01;
	assert_int_equal(frame_parse(f, sizeof(f), &fr), -PKT_DROP_IP_CHECKSUM);
	memcpy(f, vrrp4_frame, sizeof(f));
	f[OFF_IP] = 0x55;
	assert_int_equal(frame_parse(f, sizeof(f), &fr), -PKT_DROP_IP_VERSION);
	f[OFF_IP] = 0x44;
	assert_int_equal(frame_parse(f, sizeof(f), &fr), -PKT_DROP_IP_HEADER);
	/* total length 19 < header length 20 */
	memcpy(f, vrrp4_frame, sizeof(f));
	f[OFF_IP + 3] = 19;
	fix_ip4_csum(f + OFF_IP);
	assert_int_equal(frame_parse(f, sizeof(f), &fr), -PKT_DROP_IP_HEADER);
	/* a header longer than the whole frame */
	memcpy(f, vrrp4_frame, sizeof(f));
	f[OFF_IP] = 0x4f;
	assert_int_equal(frame_parse(f, sizeof(f), &fr), -PKT_DROP_IP_HEADER);
	/* MF set, then a fragment offset */
	memcpy(f, vrrp4_frame, sizeof(f));
	f[OFF_IP + 6] = 0x20;
	fix_ip4_csum(f + OFF_IP);
	assert_int_equal(frame_parse(f, sizeof(f), &fr), -PKT_DROP_IP_FRAGMENT);
	f[OFF_IP + 6] = 0x40;
	f[OFF_IP + 7] = 0x01;
	fix_ip4_csum(f + OFF_IP);
	assert_int_equal(frame_parse(f, sizeof(f), &fr), -PKT_DROP_IP_FRAGMENT);
	/* a UDP datagram */
	memcpy(f, vrrp4_frame, sizeof(f));
	f[OFF_IP4_PROTO] = 17;
	fix_ip4_csum(f + OFF_IP);
	assert_int_equal(frame_parse(f, sizeof(f), &fr), -PKT_DROP_IP_PROTO);
}

static void test_ip4_options_honoured(void **state)
{
	uint8_t f[80];
	struct frame fr;

	/* IHL 6: a Router Alert option (RFC 2113) between header and VRRP */
	memcpy(f, vrrp4_frame, OFF_IP4_PAYLOAD);
	memcpy(f + OFF_IP4_PAYLOAD, (const uint8_t[]){ 0x94, 0x04, 0, 0 }, 4);
	memcpy(f + OFF_IP4_PAYLOAD + 4, vrrp4_frame + OFF_IP4_PAYLOAD, 16);
	f[OFF_IP] = 0x46;
	f[OFF_IP + 3] = 40;
	fix_ip4_csum(f + OFF_IP);
	assert_int_equal(frame_parse(f, OFF_IP4_PAYLOAD + 20, &fr), 0);
	assert_int_equal(fr.kind, FRAME_VRRP);
	assert_int_equal(fr.vrrp.naddr, 2);
	assert_ptr_equal(fr.vrrp.addrs, f + OFF_IP4_PAYLOAD + 4 + 8);
}

static void test_ip6_checks(void **state)
{
	uint8_t f[sizeof(ns_slla_frame)];
	struct frame fr;

	memcpy(f, vrrp6_frame, sizeof(vrrp6_frame));
	f[OFF_IP] = 0x40;
	assert_int_equal(frame_parse(f, sizeof(vrrp6_frame), &fr), -PKT_DROP_IP_VERSION);
	memcpy(f, vrrp6_frame, sizeof(vrrp6_frame));
	f[OFF_IP6_NEXT] = 0;               /* hop-by-hop options: not walked */
	assert_int_equal(frame_parse(f, sizeof(vrrp6_frame), &fr), -PKT_DROP_IP_PROTO);
	/* an echo request, an NA: ICMPv6 that is not an NS */
	memcpy(f, ns_unicast_frame, sizeof(ns_unicast_frame));
	f[OFF_IP6_PAYLOAD] = 128;
	fix_l4_csum(f + OFF_IP, 2);
	assert_int_equal(frame_parse(f, sizeof(ns_unicast_frame), &fr), -PKT_DROP_ICMP6_TYPE);
	assert_int_equal(frame_parse(na_frame, sizeof(na_frame), &fr), -PKT_DROP_ICMP6_TYPE);
	memcpy(f, ns_slla_frame, sizeof(ns_slla_frame));
	f[OFF_IP6_PAYLOAD + 3] ^= 0xff;
	assert_int_equal(frame_parse(f, sizeof(ns_slla_frame), &fr), -PKT_DROP_ICMP6_CHECKSUM);
}

static void test_ethertype_and_vrrp_errors(void **state)
{
	uint8_t f[sizeof(vrrp4_frame)];
	struct frame fr;

	memcpy(f, vrrp4_frame, sizeof(f));
	f[12] = 0x88;
	f[13] = 0xcc;                       /* LLDP */
	assert_int_equal(frame_parse(f, sizeof(f), &fr), -PKT_DROP_ETHERTYPE);
	f[12] = 0x81;
	f[13] = 0x00;                       /* a VLAN tag is not expected */
	assert_int_equal(frame_parse(f, sizeof(f), &fr), -PKT_DROP_ETHERTYPE);
	memcpy(f, vrrp4_frame, sizeof(f));
	f[OFF_IP4_PAYLOAD + 6] ^= 0x10;
	assert_int_equal(frame_parse(f, sizeof(f), &fr), -PKT_DROP_VRRP_CHECKSUM);
	assert_int_equal(fr.kind, FRAME_VRRP);
	memcpy(f, garp_frame, sizeof(f));
	f[OFF_IP + 4] = 8;
	assert_int_equal(frame_parse(f, sizeof(f), &fr), -PKT_DROP_ARP_FORMAT);
	assert_int_equal(fr.kind, FRAME_ARP);
}

static void test_drop_names(void **state)
{
	assert_string_equal(pkt_drop_name(PKT_OK), "ok");
	assert_string_equal(pkt_drop_name(PKT_DROP_TRUNCATED), "truncated");
	assert_string_equal(pkt_drop_name(PKT_DROP_ARP_FORMAT), "arp_format");
	assert_string_equal(pkt_drop_name(PKT_DROP_TTL), "ttl");
	assert_string_equal(pkt_drop_name(PKT_DROP_ICMP6_CHECKSUM), "icmp6_checksum");
	assert_string_equal(pkt_drop_name(PKT_DROP_ND_UNSPEC_SRC), "nd_unspec_src");
	assert_string_equal(pkt_drop_name(PKT_DROP_VRRP_CHECKSUM), "vrrp_checksum");
	assert_string_equal(pkt_drop_name(PKT_DROP_VRRP_DEST), "vrrp_dest");
	assert_string_equal(pkt_drop_name(PKT_DROP_COUNT), "unknown");
	assert_string_equal(pkt_drop_name((enum pkt_drop)-1), "unknown");
	/* every reason has its own name */
	for (int i = 0; i < PKT_DROP_COUNT; i++) {
		assert_string_not_equal(pkt_drop_name(i), "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(pkt_drop_name(i), pkt_drop_name(j));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vrrp4),
		cmocka_unit_test(test_vrrp6),
		cmocka_unit_test(test_ns_and_arp),
		cmocka_unit_test(test_truncated_at_every_length),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_vrrp_dest),
		cmocka_unit_test(test_ip4_header_checks),
		cmocka_unit_test(test_ip4_options_honoured),
		cmocka_unit_test(test_ip6_checks),
		cmocka_unit_test(test_ethertype_and_vrrp_errors),
		cmocka_unit_test(test_drop_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
