/* test_buf.c - the bounds-checked reader and writer: network order, short reads and writes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "buf.h"

static void test_rbuf_reads_network_order(void **state)
{
	const uint8_t in[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0xaa, 0xbb };
	uint8_t u8, two[2];
	uint16_t u16;
	uint32_t u32;
	struct rbuf r;

	rbuf_init(&r, in, sizeof(in));
	assert_int_equal(rbuf_u8(&r, &u8), 0);
	assert_int_equal(u8, 0x01);
	assert_int_equal(rbuf_u16(&r, &u16), 0);
	assert_int_equal(u16, 0x0203);
	assert_int_equal(rbuf_u32(&r, &u32), 0);
	assert_int_equal(u32, 0x04050607);
	assert_int_equal(rbuf_left(&r), 2);
	assert_ptr_equal(rbuf_cur(&r), in + 7);
	assert_int_equal(rbuf_bytes(&r, two, 2), 0);
	assert_int_equal(two[0], 0xaa);
	assert_int_equal(two[1], 0xbb);
	assert_int_equal(rbuf_left(&r), 0);
	assert_false(r.err);
}

static void test_rbuf_short_read_leaves_output(void **state)
{
	const uint8_t in[] = { 0x11, 0x22, 0x33 };
	uint8_t bytes[4] = { 0x5a, 0x5a, 0x5a, 0x5a };
	uint16_t u16 = 0xbeef;
	uint32_t u32 = 0xdeadbeef;
	uint8_t u8 = 0x77;
	struct rbuf r;

	rbuf_init(&r, in, sizeof(in));
	assert_int_equal(rbuf_u32(&r, &u32), -1);
	assert_true(r.err);
	assert_int_equal(u32, 0xdeadbeef);
	assert_int_equal(r.off, 0);
	assert_int_equal(rbuf_bytes(&r, bytes, 4), -1);
	assert_int_equal(bytes[0], 0x5a);
	assert_int_equal(rbuf_skip(&r, 4), -1);
	assert_int_equal(r.off, 0);
	/* the reader stays usable: err is sticky, the position is not moved */
	assert_int_equal(rbuf_skip(&r, 2), 0);
	assert_int_equal(rbuf_u16(&r, &u16), -1);
	assert_int_equal(u16, 0xbeef);
	assert_int_equal(rbuf_u8(&r, &u8), 0);
	assert_int_equal(u8, 0x33);
	assert_int_equal(rbuf_u8(&r, &u8), -1);
	assert_int_equal(u8, 0x33);
	assert_true(r.err);
}

static void test_rbuf_empty(void **state)
{
	struct rbuf r;
	uint8_t u8 = 9;

	rbuf_init(&r, NULL, 0);
	assert_int_equal(rbuf_left(&r), 0);
	assert_int_equal(rbuf_bytes(&r, &u8, 0), 0);
	assert_false(r.err);
	assert_int_equal(rbuf_u8(&r, &u8), -1);
	assert_int_equal(u8, 9);
	assert_true(r.err);
}

static void test_wbuf_writes_network_order(void **state)
{
	const uint8_t want[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0xaa, 0x00, 0x00 };
	const uint8_t aa = 0xaa;
	uint8_t out[sizeof(want)];
	struct wbuf w;

	memset(out, 0xee, sizeof(out));
	wbuf_init(&w, out, sizeof(out));
	assert_int_equal(wbuf_u8(&w, 0x01), 0);
	assert_int_equal(wbuf_u16(&w, 0x0203), 0);
	assert_int_equal(wbuf_u32(&w, 0x04050607), 0);
	assert_int_equal(wbuf_bytes(&w, &aa, 1), 0);
	assert_int_equal(wbuf_zero(&w, 2), 0);
	assert_false(w.err);
	assert_int_equal(w.off, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
}

static void test_wbuf_overflow_is_sticky(void **state)
{
	uint8_t out[5] = { 0 };
	struct wbuf w;

	wbuf_init(&w, out, 3);
	assert_int_equal(wbuf_u16(&w, 0x0102), 0);
	assert_int_equal(wbuf_u16(&w, 0x0304), -1);
	assert_true(w.err);
	assert_int_equal(w.off, 2);
	assert_int_equal(out[2], 0);
	assert_int_equal(wbuf_zero(&w, 2), -1);
	assert_int_equal(wbuf_u32(&w, 1), -1);
	/* a field that still fits is written, but err stays set for the final check */
	assert_int_equal(wbuf_u8(&w, 0x05), 0);
	assert_true(w.err);
	assert_int_equal(out[2], 0x05);
	assert_int_equal(out[3], 0);
}

static void test_wbuf_patch(void **state)
{
	uint8_t out[8] = { 0 };
	struct wbuf w;

	wbuf_init(&w, out, sizeof(out));
	wbuf_zero(&w, 4);
	assert_int_equal(wbuf_patch_u16(&w, 2, 0xabcd), 0);
	assert_int_equal(out[2], 0xab);
	assert_int_equal(out[3], 0xcd);
	assert_false(w.err);
	/* only bytes already written may be patched */
	assert_int_equal(wbuf_patch_u16(&w, 3, 0x1111), -1);
	assert_true(w.err);
	assert_int_equal(wbuf_patch_u16(&w, 100, 0x1111), -1);
	assert_int_equal(out[3], 0xcd);
	assert_int_equal(out[4], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rbuf_reads_network_order),
		cmocka_unit_test(test_rbuf_short_read_leaves_output),
		cmocka_unit_test(test_rbuf_empty),
		cmocka_unit_test(test_wbuf_writes_network_order),
		cmocka_unit_test(test_wbuf_overflow_is_sticky),
		cmocka_unit_test(test_wbuf_patch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
