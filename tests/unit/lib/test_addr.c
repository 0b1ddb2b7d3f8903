/* test_addr.c - MAC and IP address parsing, formatting, comparison, multicast mappings, and
 * the classes that can be no port's: each class and the addresses either side of its edges. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "addr.h"

static void test_mac_parse_and_fmt(void **state)
{
	const struct mac want = { { 0x02, 0xab, 0x00, 0x10, 0xfe, 0x9c } };
	char buf[MAC_STRLEN];
	struct mac m;

	assert_int_equal(mac_parse("02:ab:00:10:fe:9c", &m), 0);
	assert_memory_equal(m.b, want.b, MAC_LEN);
	assert_int_equal(mac_parse("02:AB:00:10:FE:9C", &m), 0);
	assert_memory_equal(m.b, want.b, MAC_LEN);
	assert_string_equal(mac_fmt(&m, buf), "02:ab:00:10:fe:9c");
	assert_string_equal(mac_fmt(&mac_broadcast, buf), "ff:ff:ff:ff:ff:ff");
	assert_string_equal(mac_fmt(&mac_zero, buf), "00:00:00:00:00:00");
}

static void test_mac_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"", "02", "02:ab:00:10:fe", "02:ab:00:10:fe:9", "02:ab:00:10:fe:9c:",
		"02:ab:00:10:fe:9c0", "2:ab:00:10:fe:9c0", "02-ab-00-10-fe-9c", "g2:ab:00:10:fe:9c",
		"02:ab:00:10:fe: c", "02ab:00:10:fe:9c:", " 02:ab:00:10:fe:9c",
	};
	const struct mac keep = { { 1, 2, 3, 4, 5, 6 } };
	struct mac m = keep;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(mac_parse(bad[i], &m), -EINVAL);
		assert_memory_equal(m.b, keep.b, MAC_LEN);
	}
}

static void test_mac_predicates(void **state)
{
	struct mac m;

	assert_true(mac_is_multicast(&mac_broadcast));
	assert_false(mac_is_multicast(&mac_zero));
	mac_parse("01:00:5e:00:00:12", &m);
	assert_true(mac_is_multicast(&m));
	mac_parse("02:00:00:00:00:01", &m);
	assert_false(mac_is_multicast(&m));
	assert_false(mac_eq(&m, &mac_zero));
	assert_true(mac_eq(&mac_zero, &mac_zero));
}

static void test_mac_from_multicast(void **state)
{
	struct in_addr g4;
	struct in6_addr g6;
	char buf[MAC_STRLEN];
	struct mac m;

	inet_pton(AF_INET, "224.0.0.18", &g4);
	mac_from_ip4_mcast(&g4, &m);
	assert_string_equal(mac_fmt(&m, buf), "01:00:5e:00:00:12");
	/* RFC 1112 6.4: only the low 23 bits are mapped */
	inet_pton(AF_INET, "239.129.2.3", &g4);
	mac_from_ip4_mcast(&g4, &m);
	assert_string_equal(mac_fmt(&m, buf), "01:00:5e:01:02:03");
	inet_pton(AF_INET6, "ff02::1:ff00:10", &g6);
	mac_from_ip6_mcast(&g6, &m);
	assert_string_equal(mac_fmt(&m, buf), "33:33:ff:00:00:10");
	inet_pton(AF_INET6, "ff02::12", &g6);
	mac_from_ip6_mcast(&g6, &m);
	assert_string_equal(mac_fmt(&m, buf), "33:33:00:00:00:12");
}

static void test_ipaddr_parse_fmt(void **state)
{
	char buf[IPADDR_STRLEN];
	struct ipaddr a, unset = { 0 };

	assert_int_equal(ipaddr_parse("198.51.100.10", &a), 0);
	assert_int_equal(a.af, AF_INET);
	assert_int_equal(ipaddr_len(&a), 4);
	assert_int_equal(a.b[0], 198);
	assert_int_equal(a.b[3], 10);
	assert_string_equal(ipaddr_fmt(&a, buf), "198.51.100.10");
	assert_int_equal(ipaddr_parse("2001:DB8:0:0::10", &a), 0);
	assert_int_equal(a.af, AF_INET6);
	assert_int_equal(ipaddr_len(&a), 16);
	assert_string_equal(ipaddr_fmt(&a, buf), "2001:db8::10");
	assert_int_equal(ipaddr_parse("::ffff:198.51.100.1", &a), 0);
	assert_int_equal(a.af, AF_INET6);
	assert_string_equal(ipaddr_fmt(&unset, buf), "-");
	assert_int_equal(ipaddr_len(&unset), 0);
	assert_int_equal(ipaddr_parse("198.51.100.10", &a), 0);
	assert_int_equal(ipaddr_parse("198.51.100.256", &a), -EINVAL);
	assert_int_equal(ipaddr_parse("2001:db8::10::1", &a), -EINVAL);
	assert_int_equal(ipaddr_parse("", &a), -EINVAL);
	assert_int_equal(ipaddr_parse("vip", &a), -EINVAL);
	assert_int_equal(a.af, AF_INET);
	assert_string_equal(ipaddr_fmt(&a, buf), "198.51.100.10");
}

static void test_ipaddr_from_and_cmp(void **state)
{
	struct ipaddr a, b, c, d;
	struct in_addr v4;
	struct in6_addr v6;

	inet_pton(AF_INET, "198.51.100.10", &v4);
	memset(&a, 0xff, sizeof(a));
	ipaddr_from_v4(&a, &v4);
	ipaddr_parse("198.51.100.10", &b);
	assert_true(ipaddr_eq(&a, &b));
	assert_int_equal(ipaddr_cmp(&a, &b), 0);
	ipaddr_parse("198.51.100.9", &c);
	assert_true(ipaddr_cmp(&c, &a) < 0);
	assert_true(ipaddr_cmp(&a, &c) > 0);
	/* network byte order, not host order: 198.18.0.2 < 198.19.0.1 */
	ipaddr_parse("198.18.0.2", &c);
	ipaddr_parse("198.19.0.1", &d);
	assert_true(ipaddr_cmp(&c, &d) < 0);
	inet_pton(AF_INET6, "::1", &v6);
	ipaddr_from_v6(&d, &v6);
	assert_int_equal(d.af, AF_INET6);
	/* family first: any IPv4 sorts before any IPv6 */
	assert_true(ipaddr_cmp(&a, &d) < 0);
	assert_true(ipaddr_cmp(&d, &a) > 0);
	assert_false(ipaddr_eq(&a, &d));
}

struct class_case {
	const char *text;
	const char *why_not;             /* NULL: a port may have it */
};

static void test_mac_is_port(void **state)
{
	static const struct class_case cases[] = {
		{ "00:00:00:00:00:00", "the all-zero MAC" },
		{ "00:00:00:00:00:01", NULL },
		{ "02:00:00:00:00:00", NULL },   /* locally administered unicast */
		{ "fe:ff:ff:ff:ff:ff", NULL },   /* I/G bit clear */
		{ "ff:ff:ff:ff:ff:ff", "the broadcast MAC" },
		{ "ff:ff:ff:ff:ff:fe", "a multicast MAC" },
		{ "01:00:00:00:00:00", "a multicast MAC" },
		{ "01:00:5e:00:00:05", "a multicast MAC" },
		{ "33:33:00:00:00:01", "a multicast MAC" },
		{ "03:00:00:00:00:00", "a multicast MAC" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct class_case *c = &cases[i];
		struct mac m;

		assert_int_equal(mac_parse(c->text, &m), 0);
		if (c->why_not)
			assert_string_equal(mac_port_why_not(&m), c->why_not);
		else
			assert_null(mac_port_why_not(&m));
		assert_int_equal(mac_is_port(&m), !c->why_not);
	}
}

static void test_ipaddr_is_host(void **state)
{
	static const struct class_case cases[] = {
		/* RFC 1122 3.2.1.3, RFC 6890: 0.0.0.0/8 */
		{ "0.0.0.0", "an unspecified address" },
		{ "0.0.0.1", "a \"this network\" address" },
		{ "0.255.255.255", "a \"this network\" address" },
		{ "1.0.0.0", NULL },
		/* 127.0.0.0/8 */
		{ "126.255.255.255", NULL },
		{ "127.0.0.0", "a loopback address" },
		{ "127.0.0.1", "a loopback address" },
		{ "127.255.255.255", "a loopback address" },
		{ "128.0.0.0", NULL },
		/* 224.0.0.0/4 */
		{ "223.255.255.255", NULL },
		{ "224.0.0.0", "a multicast address" },
		{ "224.0.0.5", "a multicast address" },
		{ "239.255.255.255", "a multicast address" },
		{ "240.0.0.0", NULL },           /* reserved (class E), not a class refused here */
		/* limited broadcast */
		{ "255.255.255.254", NULL },
		{ "255.255.255.255", "the limited broadcast address" },
		{ "198.18.0.1", NULL },
		/* RFC 4291 2.5.2, 2.5.3, 2.7 */
		{ "::", "an unspecified address" },
		{ "::1", "a loopback address" },
		{ "::2", NULL },
		{ "fe80::1", NULL },
		{ "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL },
		{ "ff00::", "a multicast address" },
		{ "ff02::1", "a multicast address" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "a multicast address" },
		{ "2001:db8::1", NULL },
	};
	const struct ipaddr unset = { 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct class_case *c = &cases[i];
		struct ipaddr a;

		assert_int_equal(ipaddr_parse(c->text, &a), 0);
		if (c->why_not)
			assert_string_equal(ipaddr_host_why_not(&a), c->why_not);
		else
			assert_null(ipaddr_host_why_not(&a));
		assert_int_equal(ipaddr_is_host(&a), !c->why_not);
	}
	assert_string_equal(ipaddr_host_why_not(&unset), "no address");
	assert_false(ipaddr_is_host(&unset));
}

/* PortLand 3.2: pod.position.port.vmid, 16.8.8.16; every PMAC unicast and locally
 * administered, the pod's 14 bits around the two fixed ones. */
static void test_pmac_pack_unpack(void **state)
{
	static const struct {
		struct pmac p;
		const char *mac;
		const char *text;
	} cases[] = {
		{ { 0, 0, 0, 0 }, "02:00:00:00:00:00", "0.0.0.0" },
		{ { 1, 2, 3, 4 }, "02:01:02:03:00:04", "1.2.3.4" },
		{ { 255, 1, 2, 0x1234 }, "02:ff:01:02:12:34", "255.1.2.4660" },
		{ { 256, 0, 0, 0 }, "06:00:00:00:00:00", "256.0.0.0" },
		{ { 0x1234, 7, 9, 1 }, "4a:34:07:09:00:01", "4660.7.9.1" },
		{ { PMAC_POD_MAX, 255, 255, 65535 }, "fe:ff:ff:ff:ff:ff", "16383.255.255.65535" },
	};
	char buf[MAC_STRLEN], text[PMAC_STRLEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pmac back;
		struct mac m;

		assert_int_equal(pmac_pack(&cases[i].p, &m), 0);
		assert_string_equal(mac_fmt(&m, buf), cases[i].mac);
		assert_true(mac_is_port(&m));
		assert_int_equal(m.b[0] & 0x02, 0x02);
		assert_int_equal(pmac_pod_field(cases[i].p.pod), m.b[0] << 8 | m.b[1]);
		assert_int_equal(pmac_unpack(&m, &back), 0);
		assert_memory_equal(&back, &cases[i].p, sizeof(back));
		assert_string_equal(pmac_fmt(&back, text), cases[i].text);
	}
}

static void test_pmac_rejects(void **state)
{
	const struct pmac big = { PMAC_POD_MAX + 1, 0, 0, 0 };
	const struct pmac keep = { 9, 9, 9, 9 };
	static const char *const not_pmac[] = {
		"00:00:00:00:00:01", "01:00:5e:00:00:12", "03:00:00:00:00:01", "ff:ff:ff:ff:ff:ff",
		"fd:00:00:00:00:00",
	};
	struct pmac p = keep;
	struct mac m = mac_zero;

	assert_int_equal(pmac_pack(&big, &m), -EINVAL);
	assert_memory_equal(m.b, mac_zero.b, MAC_LEN);
	for (size_t i = 0; i < sizeof(not_pmac) / sizeof(not_pmac[0]); i++) {
		assert_int_equal(mac_parse(not_pmac[i], &m), 0);
		assert_int_equal(pmac_unpack(&m, &p), -EINVAL);
		assert_memory_equal(&p, &keep, sizeof(p));
	}
}

/* Distinct pods never share a pod field, and no field has the I/G bit. */
static void test_pmac_pod_field_unique(void **state)
{
	static uint8_t seen[65536 / 8];

	for (unsigned pod = 0; pod <= PMAC_POD_MAX; pod++) {
		uint16_t f = pmac_pod_field((uint16_t)pod);

		assert_int_equal(f & 0x0300, 0x0200);
		assert_false(seen[f / 8] & (1u << (f % 8)));
		seen[f / 8] |= (uint8_t)(1u << (f % 8));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mac_parse_and_fmt),
		cmocka_unit_test(test_mac_parse_rejects),
		cmocka_unit_test(test_mac_predicates),
		cmocka_unit_test(test_mac_from_multicast),
		cmocka_unit_test(test_ipaddr_parse_fmt),
		cmocka_unit_test(test_ipaddr_from_and_cmp),
		cmocka_unit_test(test_mac_is_port),
		cmocka_unit_test(test_ipaddr_is_host),
		cmocka_unit_test(test_pmac_pack_unpack),
		cmocka_unit_test(test_pmac_rejects),
		cmocka_unit_test(test_pmac_pod_field_unique),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
