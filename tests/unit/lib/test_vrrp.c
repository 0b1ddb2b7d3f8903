/* test_vrrp.c - VRRPv3 advert parse checks (RFC 5798 5.2, 7.1) and frame building. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "frames.h"
#include "pkt/csum.h"
#include "pkt/drop.h"
#include "pkt/eth.h"
#include "pkt/ip.h"
#include "pkt/vrrp.h"

#define V4_LEN 16      /* 8 + 2 * 4 */
#define V6_LEN 24      /* 8 + 16 */

static const struct mac m1 = { { 0x02, 0, 0, 0, 0, 0x01 } };

/* A mutable copy of one of the two known adverts. */
struct adv {
	uint8_t f[128];
	int af;
	size_t len;            /* VRRP message length */
};

static void adv_v4(struct adv *a)
{
	memcpy(a->f, vrrp4_frame, sizeof(vrrp4_frame));
	a->af = AF_INET;
	a->len = V4_LEN;
}

static void adv_v6(struct adv *a)
{
	memcpy(a->f, vrrp6_frame, sizeof(vrrp6_frame));
	a->af = AF_INET6;
	a->len = V6_LEN;
}

static uint8_t *adv_msg(struct adv *a)
{
	return a->f + (a->af == AF_INET ? OFF_IP4_PAYLOAD : OFF_IP6_PAYLOAD);
}

static int adv_parse(struct adv *a, bool fix, struct vrrp_pkt *v)
{
	const uint8_t *ip = a->f + OFF_IP;

	if (fix)
		fix_l4_csum(a->f + OFF_IP, 6);
	if (a->af == AF_INET)
		return vrrp_parse(AF_INET, ip + 12, ip + 16, adv_msg(a), a->len, v);
	return vrrp_parse(AF_INET6, ip + 8, ip + 24, adv_msg(a), a->len, v);
}

static void test_parse_v4(void **state)
{
	char buf[IPADDR_STRLEN];
	struct vrrp_pkt v;
	struct ipaddr ip;
	struct adv a;

	adv_v4(&a);
	assert_int_equal(adv_parse(&a, false, &v), 0);
	assert_int_equal(v.af, AF_INET);
	assert_int_equal(v.vrid, 51);
	assert_int_equal(v.priority, 100);
	assert_int_equal(v.naddr, 2);
	assert_int_equal(v.max_adver_int_cs, 100);
	assert_ptr_equal(v.addrs, adv_msg(&a) + 8);
	vrrp_pkt_addr(&v, 0, &ip);
	assert_string_equal(ipaddr_fmt(&ip, buf), "198.51.100.10");
	vrrp_pkt_addr(&v, 1, &ip);
	assert_string_equal(ipaddr_fmt(&ip, buf), "198.51.100.11");
}

static void test_parse_v6(void **state)
{
	char buf[IPADDR_STRLEN];
	struct vrrp_pkt v;
	struct ipaddr ip;
	struct adv a;

	adv_v6(&a);
	assert_int_equal(adv_parse(&a, false, &v), 0);
	assert_int_equal(v.af, AF_INET6);
	assert_int_equal(v.vrid, 52);
	assert_int_equal(v.priority, 200);
	assert_int_equal(v.naddr, 1);
	assert_int_equal(v.max_adver_int_cs, 10);
	vrrp_pkt_addr(&v, 0, &ip);
	assert_int_equal(ip.af, AF_INET6);
	assert_string_equal(ipaddr_fmt(&ip, buf), "2001:db8::10");
}

static void test_truncated_and_length(void **state)
{
	struct vrrp_pkt v;
	struct adv a;

	for (int fam = 0; fam < 2; fam++) {
		fam ? adv_v6(&a) : adv_v4(&a);
		size_t full = a.len;

		for (size_t n = 0; n < full; n++) {
			a.len = n;
			assert_int_equal(adv_parse(&a, false, &v),
					 n < VRRP_HDR_LEN ? -PKT_DROP_TRUNCATED :
					 -PKT_DROP_VRRP_LENGTH);
		}
		/* one byte more than count says (e.g. IP length counting padding) */
		a.len = full + 1;
		assert_int_equal(adv_parse(&a, false, &v), -PKT_DROP_VRRP_LENGTH);
		/* count says more than is there */
		a.len = full;
		adv_msg(&a)[3]++;
		assert_int_equal(adv_parse(&a, true, &v), -PKT_DROP_VRRP_LENGTH);
	}
}

static void test_version_type(void **state)
{
	struct vrrp_pkt v;
	struct adv a;

	adv_v4(&a);
	adv_msg(&a)[0] = 0x21;             /* VRRPv2 */
	assert_int_equal(adv_parse(&a, true, &v), -PKT_DROP_VRRP_VERSION);
	adv_msg(&a)[0] = 0x32;             /* type 2 */
	assert_int_equal(adv_parse(&a, true, &v), -PKT_DROP_VRRP_TYPE);
	adv_v6(&a);
	adv_msg(&a)[0] = 0x41;
	assert_int_equal(adv_parse(&a, true, &v), -PKT_DROP_VRRP_VERSION);
	adv_msg(&a)[0] = 0x30;
	assert_int_equal(adv_parse(&a, true, &v), -PKT_DROP_VRRP_TYPE);
}

static void test_checksum(void **state)
{
	struct vrrp_pkt v;
	struct adv a;
	uint16_t c;

	for (int fam = 0; fam < 2; fam++) {
		fam ? adv_v6(&a) : adv_v4(&a);
		adv_msg(&a)[6] ^= 0x80;
		assert_int_equal(adv_parse(&a, false, &v), -PKT_DROP_VRRP_CHECKSUM);
		/* an address changed under the same checksum */
		fam ? adv_v6(&a) : adv_v4(&a);
		adv_msg(&a)[a.len - 1] ^= 0x01;
		assert_int_equal(adv_parse(&a, false, &v), -PKT_DROP_VRRP_CHECKSUM);
		/* RFC 5798 5.2.8: the pseudo-header counts, in both families */
		fam ? adv_v6(&a) : adv_v4(&a);
		a.f[OFF_IP + (fam ? 8 + 15 : 12 + 3)] ^= 0x02;
		assert_int_equal(adv_parse(&a, false, &v), -PKT_DROP_VRRP_CHECKSUM);
	}
	/* a VRRPv3-over-IPv4 checksum without the pseudo-header (some old peers) is refused */
	adv_v4(&a);
	memset(adv_msg(&a) + 6, 0, 2);
	c = csum_fold(csum_add(0, adv_msg(&a), a.len));
	memcpy(adv_msg(&a) + 6, &c, 2);
	assert_int_equal(adv_parse(&a, false, &v), -PKT_DROP_VRRP_CHECKSUM);
}

static void test_interval(void **state)
{
	struct vrrp_pkt v;
	struct adv a;

	adv_v4(&a);
	adv_msg(&a)[4] = 0;
	adv_msg(&a)[5] = 0;
	assert_int_equal(adv_parse(&a, true, &v), -PKT_DROP_VRRP_INTERVAL);
	/* the 4 reserved bits are ignored, in and out */
	adv_msg(&a)[4] = 0xf0;
	assert_int_equal(adv_parse(&a, true, &v), -PKT_DROP_VRRP_INTERVAL);
	adv_msg(&a)[4] = 0xff;
	adv_msg(&a)[5] = 0xff;
	assert_int_equal(adv_parse(&a, true, &v), 0);
	assert_int_equal(v.max_adver_int_cs, 0xfff);
}

static void test_bad_family(void **state)
{
	struct vrrp_pkt v;
	struct adv a;

	adv_v4(&a);
	assert_int_equal(vrrp_parse(AF_UNSPEC, a.f + OFF_IP + 12, a.f + OFF_IP + 16, adv_msg(&a),
				    a.len, &v), -PKT_DROP_IP_VERSION);
}

static void tx_init(struct vrrp_tx *tx, int af, struct ipaddr *addrs, size_t n)
{
	memset(tx, 0, sizeof(*tx));
	tx->af = af;
	tx->eth_src = m1;
	tx->addrs = addrs;
	tx->naddr = n;
	if (af == AF_INET) {
		ipaddr_parse("198.18.0.1", &tx->src);
		tx->vrid = 51;
		tx->priority = 100;
		tx->max_adver_int_cs = 100;
	} else {
		ipaddr_parse("fe80::1", &tx->src);
		tx->vrid = 52;
		tx->priority = 200;
		tx->max_adver_int_cs = 10;
	}
}

static void test_build_matches_scapy(void **state)
{
	struct ipaddr addrs[4];
	struct vrrp_tx tx;
	uint8_t buf[256];

	/* a mixed list: only the addresses of the advert's family go out, in order */
	ipaddr_parse("198.51.100.10", &addrs[0]);
	ipaddr_parse("2001:db8::10", &addrs[1]);
	ipaddr_parse("198.51.100.11", &addrs[2]);
	tx_init(&tx, AF_INET, addrs, 3);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(vrrp_build_frame(buf, sizeof(buf), &tx), sizeof(vrrp4_frame));
	assert_memory_equal(buf, vrrp4_frame, sizeof(vrrp4_frame));
	assert_int_equal(buf[sizeof(vrrp4_frame)], 0xee);

	tx_init(&tx, AF_INET6, addrs, 3);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(vrrp_build_frame(buf, sizeof(buf), &tx), sizeof(vrrp6_frame));
	assert_memory_equal(buf, vrrp6_frame, sizeof(vrrp6_frame));
	assert_int_equal(buf[sizeof(vrrp6_frame)], 0xee);

	for (size_t cap = 0; cap < sizeof(vrrp6_frame); cap++)
		assert_int_equal(vrrp_build_frame(buf, cap, &tx), -ENOSPC);
}

static void test_build_invalid(void **state)
{
	struct ipaddr addrs[VRRP_MAX_ADDRS + 1];
	struct vrrp_tx tx;
	uint8_t buf[2048];

	ipaddr_parse("2001:db8::10", &addrs[0]);
	tx_init(&tx, AF_INET, addrs, 1);
	assert_int_equal(vrrp_build_frame(buf, sizeof(buf), &tx), -EINVAL);
	tx_init(&tx, AF_INET, addrs, 0);
	assert_int_equal(vrrp_build_frame(buf, sizeof(buf), &tx), -EINVAL);
	tx_init(&tx, AF_INET6, addrs, 1);
	tx.max_adver_int_cs = 0x1000;
	assert_int_equal(vrrp_build_frame(buf, sizeof(buf), &tx), -EINVAL);
	tx_init(&tx, AF_INET6, addrs, 1);
	ipaddr_parse("198.18.0.1", &tx.src);
	assert_int_equal(vrrp_build_frame(buf, sizeof(buf), &tx), -EINVAL);

	for (size_t i = 0; i <= VRRP_MAX_ADDRS; i++) {
		struct in6_addr a6;

		inet_pton(AF_INET6, "2001:db8::", &a6);
		a6.s6_addr[15] = (uint8_t)i;
		ipaddr_from_v6(&addrs[i], &a6);
	}
	tx_init(&tx, AF_INET6, addrs, VRRP_MAX_ADDRS + 1);
	assert_int_equal(vrrp_build_frame(buf, sizeof(buf), &tx), -ENOSPC);
	tx_init(&tx, AF_INET6, addrs, VRRP_MAX_ADDRS);
	assert_int_equal(vrrp_build_frame(buf, sizeof(buf), &tx),
			 14 + 40 + 8 + 16 * VRRP_MAX_ADDRS);
}

static void test_round_trip(void **state)
{
	struct ipaddr addrs[3], got;
	struct vrrp_pkt v;
	struct ip6_info ip6;
	struct ip4_info ip4;
	struct vrrp_tx tx;
	uint8_t buf[256];
	ssize_t n;

	ipaddr_parse("203.0.113.1", &addrs[0]);
	ipaddr_parse("203.0.113.2", &addrs[1]);
	ipaddr_parse("2001:db8::1:2", &addrs[2]);
	tx_init(&tx, AF_INET, addrs, 3);
	tx.vrid = 255;
	tx.priority = VRRP_PRIO_STOP;
	tx.max_adver_int_cs = 0xfff;
	n = vrrp_build_frame(buf, sizeof(buf), &tx);
	assert_int_equal(n, ETH_MIN_FRAME);
	assert_int_equal(ip4_parse(buf + OFF_IP, (size_t)n - OFF_IP, &ip4), 0);
	assert_int_equal(ip4.ttl, 255);
	assert_int_equal(ip4.proto, IPPROTO_VRRP_NUM);
	assert_int_equal(ip4.dst.s_addr, vrrp_group4.s_addr);
	assert_int_equal(vrrp_parse(AF_INET, &ip4.src, &ip4.dst, ip4.payload, ip4.payload_len,
				    &v), 0);
	assert_int_equal(v.vrid, 255);
	assert_int_equal(v.priority, VRRP_PRIO_STOP);
	assert_int_equal(v.naddr, 2);
	assert_int_equal(v.max_adver_int_cs, 0xfff);
	vrrp_pkt_addr(&v, 1, &got);
	assert_true(ipaddr_eq(&got, &addrs[1]));

	tx_init(&tx, AF_INET6, addrs, 3);
	tx.priority = VRRP_PRIO_OWNER;
	n = vrrp_build_frame(buf, sizeof(buf), &tx);
	assert_int_equal(n, 14 + 40 + 8 + 16);
	assert_int_equal(ip6_parse(buf + OFF_IP, (size_t)n - OFF_IP, &ip6), 0);
	assert_int_equal(ip6.hop_limit, 255);
	assert_int_equal(ip6.next_header, IPPROTO_VRRP_NUM);
	assert_memory_equal(&ip6.dst, &vrrp_group6, 16);
	assert_int_equal(vrrp_parse(AF_INET6, &ip6.src, &ip6.dst, ip6.payload, ip6.payload_len,
				    &v), 0);
	assert_int_equal(v.priority, VRRP_PRIO_OWNER);
	assert_int_equal(v.naddr, 1);
	vrrp_pkt_addr(&v, 0, &got);
	assert_true(ipaddr_eq(&got, &addrs[2]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_v4),
		cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_truncated_and_length),
		cmocka_unit_test(test_version_type),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_interval),
		cmocka_unit_test(test_bad_family),
		cmocka_unit_test(test_build_matches_scapy),
		cmocka_unit_test(test_build_invalid),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
