/* test_csum.c - the Internet checksum (RFC 1071) and the pseudo-header sums. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "frames.h"
#include "pkt/csum.h"

static uint16_t be16(uint16_t net)
{
	return ntohs(net);
}

static void test_rfc1071_example(void **state)
{
	/* RFC 1071 3: these bytes sum to 0xddf2, so the checksum is 0x220d */
	const uint8_t data[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	assert_int_equal(csum_add(0, data, sizeof(data)), 0xddf2);
	assert_int_equal(be16(csum_fold(csum_add(0, data, sizeof(data)))), 0x220d);
	/* sums chain: two halves give the same result */
	assert_int_equal(csum_add(csum_add(0, data, 4), data + 4, 4), 0xddf2);
}

static void test_odd_length_pads_with_zero(void **state)
{
	const uint8_t odd[] = { 0x12, 0x34, 0x56 };
	const uint8_t even[] = { 0x12, 0x34, 0x56, 0x00 };

	assert_int_equal(csum_add(0, odd, 3), 0x6834);
	assert_int_equal(csum_add(0, odd, 3), csum_add(0, even, 4));
}

static void test_carry_wraps(void **state)
{
	const uint8_t ff[] = { 0xff, 0xff, 0xff, 0xff, 0x00, 0x02 };

	/* 0xffff + 0xffff + 0x0002 = 0x20000 -> 0x0002 with end-around carry */
	assert_int_equal(csum_add(0, ff, sizeof(ff)), 0x0002);
	assert_int_equal(be16(csum_fold(0x0002)), 0xfffd);
	assert_int_equal(csum_fold(0xffff), 0);
}

static void test_ip4_header_of_known_frame(void **state)
{
	/* the scapy-made header carries 0xd543 and sums to zero as a whole */
	const uint8_t *ip = vrrp4_frame + OFF_IP;
	uint8_t hdr[20];

	assert_int_equal(csum_fold(csum_add(0, ip, 20)), 0);
	memcpy(hdr, ip, 20);
	hdr[10] = hdr[11] = 0;
	assert_int_equal(be16(csum_fold(csum_add(0, hdr, 20))), 0xd543);
}

static void test_pseudo_headers(void **state)
{
	struct in_addr s4, d4;
	struct in6_addr s6, d6;

	inet_pton(AF_INET, "198.18.0.1", &s4);
	inet_pton(AF_INET, "224.0.0.18", &d4);
	/* c612 + 0001 + e000 + 0012 + 0070 + 0010 */
	assert_int_equal(csum_pseudo4(&s4, &d4, 112, 16), (0xc612 + 0x0001 + 0xe000 + 0x0012 +
							   0x70 + 0x10) % 0xffff);
	inet_pton(AF_INET6, "fe80::1", &s6);
	inet_pton(AF_INET6, "ff02::12", &d6);
	/* fe80 + 0001 + ff02 + 0012 + length (upper and lower halves) + 003a */
	assert_int_equal(csum_pseudo6(&s6, &d6, 58, 0x10020),
			 (0xfe80 + 0x0001 + 0xff02 + 0x0012 + 0x0001 + 0x0020 + 0x3a) % 0xffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1071_example),
		cmocka_unit_test(test_odd_length_pads_with_zero),
		cmocka_unit_test(test_carry_wraps),
		cmocka_unit_test(test_ip4_header_of_known_frame),
		cmocka_unit_test(test_pseudo_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
