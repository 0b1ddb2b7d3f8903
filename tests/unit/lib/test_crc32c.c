/* test_crc32c.c - lib/crc32c: the table path and the SSE4.2 path against the check value and
 * the RFC 3720 B.4 vectors, against a bit-at-a-time reference on every length and offset, and
 * chained over split buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "crc32c.h"

typedef uint32_t (*crc_fn)(uint32_t crc, const void *buf, size_t len);

/* The definition itself, one bit at a time: the oracle the fast paths are compared with. */
static uint32_t crc32c_bitwise(uint32_t crc, const uint8_t *p, size_t len)
{
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (crc & 1 ? 0x82F63B78u : 0);
	}
	return ~crc;
}

static void check_vectors(crc_fn fn)
{
	/* RFC 3720 B.4: an iSCSI read command PDU */
	static const uint8_t pdu[48] = {
		0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
		0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	uint8_t b[32];

	assert_int_equal(fn(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(fn(0, "", 0), 0);
	memset(b, 0, sizeof(b));
	assert_int_equal(fn(0, b, sizeof(b)), 0x8A9136AAu);
	memset(b, 0xff, sizeof(b));
	assert_int_equal(fn(0, b, sizeof(b)), 0x62A8AB43u);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)i;
	assert_int_equal(fn(0, b, sizeof(b)), 0x46DD794Eu);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)(31 - i);
	assert_int_equal(fn(0, b, sizeof(b)), 0x113FDB5Cu);
	assert_int_equal(fn(0, pdu, sizeof(pdu)), 0xD9963A56u);
}

/* Every length up to a few words at every start offset (the 8-byte loops and their tails),
 * and every split point of a chained computation. */
static void check_against_bitwise(crc_fn fn)
{
	uint8_t buf[160];
	uint32_t x = 0x12345678;

	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; off + len <= sizeof(buf); len++)
			assert_int_equal(fn(0, buf + off, len), crc32c_bitwise(0, buf + off, len));
	for (size_t cut = 0; cut <= sizeof(buf); cut++)
		assert_int_equal(fn(fn(0, buf, cut), buf + cut, sizeof(buf) - cut),
				 crc32c_bitwise(0, buf, sizeof(buf)));
}

static void table_path(void **state)
{
	check_vectors(crc32c_sw);
	check_against_bitwise(crc32c_sw);
}

static void sse42_path(void **state)
{
	if (!crc32c_hw_available()) {
		print_message("skipped: this CPU has no SSE4.2 crc32 instruction\n");
		skip();
	}
	check_vectors(crc32c_hw);
	check_against_bitwise(crc32c_hw);
}

static void dispatch_agrees(void **state)
{
	check_vectors(crc32c);
	check_against_bitwise(crc32c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_path),
		cmocka_unit_test(sse42_path),
		cmocka_unit_test(dispatch_agrees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
