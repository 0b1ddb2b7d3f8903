/* test_vtepset.c - vtepd's set of the fabric's VTEPs: membership through growth, insertion
 * order kept in the dense array, IPv4 and IPv6 kept apart, the zeroed set empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "vtepset.h"

#define MANY 5000

/* The i-th test address: 198.18.0.0/15 or 2001:db8::/32 with i in the last bytes. */
static struct ipaddr nth(size_t i, int af)
{
	struct ipaddr a = { .af = af };

	if (af == AF_INET) {
		a.b[0] = 198;
		a.b[1] = (uint8_t)(18 + (i >> 16));
		a.b[2] = (uint8_t)(i >> 8);
		a.b[3] = (uint8_t)i;
	} else {
		a.b[0] = 0x20, a.b[1] = 0x01, a.b[2] = 0x0d, a.b[3] = 0xb8;
		a.b[14] = (uint8_t)(i >> 8);
		a.b[15] = (uint8_t)i;
	}
	return a;
}

static void test_empty(void **state)
{
	struct vtepset s = { 0 };
	struct ipaddr a = nth(1, AF_INET);

	assert_false(vtepset_has(&s, &a));
	assert_int_equal(s.n, 0);
	vtepset_free(&s);
	assert_false(vtepset_has(&s, &a));
}

static void test_add_once(void **state)
{
	struct vtepset s = { 0 };
	struct ipaddr a = nth(1, AF_INET), b = nth(2, AF_INET);

	assert_int_equal(vtepset_add(&s, &a), 1);
	assert_int_equal(vtepset_add(&s, &a), 0);
	assert_true(vtepset_has(&s, &a));
	assert_false(vtepset_has(&s, &b));
	assert_int_equal(s.n, 1);
	vtepset_free(&s);
	assert_int_equal(s.n, 0);
	assert_false(vtepset_has(&s, &a));
}

/* Through many doublings of the index: every member found, nothing else, in the order added. */
static void test_many(void **state)
{
	struct vtepset s = { 0 };

	for (size_t i = 0; i < MANY; i++) {
		struct ipaddr a4 = nth(i, AF_INET), a6 = nth(i, AF_INET6);

		assert_int_equal(vtepset_add(&s, &a4), 1);
		assert_int_equal(vtepset_add(&s, &a6), 1);
	}
	assert_int_equal(s.n, 2 * MANY);
	for (size_t i = 0; i < MANY; i++) {
		struct ipaddr a4 = nth(i, AF_INET), a6 = nth(i, AF_INET6);
		struct ipaddr o4 = nth(i + MANY, AF_INET), o6 = nth(i + MANY, AF_INET6);

		assert_true(vtepset_has(&s, &a4));
		assert_true(vtepset_has(&s, &a6));
		assert_false(vtepset_has(&s, &o4));
		assert_false(vtepset_has(&s, &o6));
		assert_true(ipaddr_eq(&s.v[2 * i], &a4));
		assert_true(ipaddr_eq(&s.v[2 * i + 1], &a6));
		assert_int_equal(vtepset_add(&s, &a6), 0);
	}
	assert_int_equal(s.n, 2 * MANY);
	vtepset_free(&s);
}

/* The same first four bytes in both families are two members. */
static void test_families_apart(void **state)
{
	struct vtepset s = { 0 };
	struct ipaddr a4 = nth(7, AF_INET), a6 = a4;

	a6.af = AF_INET6;
	assert_int_equal(vtepset_add(&s, &a4), 1);
	assert_false(vtepset_has(&s, &a6));
	assert_int_equal(vtepset_add(&s, &a6), 1);
	assert_int_equal(s.n, 2);
	vtepset_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_add_once),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_families_apart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
