/* test_strikes.c - vtepd's count of removals per entry (strikes.c): an entry is held once it
 * is removed more than `max` times within the window, the window starts again after it
 * passes, holds end (and are told of), keys of other kinds and VNIs are apart, and a full
 * table stops tracking instead of growing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "strikes.h"

#define SEC 1000000LL
#define T0 (1000 * SEC)         /* times are the caller's: any non-zero origin */

static struct strike_key key(uint32_t vni, enum strike_kind kind, uint32_t i)
{
	struct strike_key k;
	uint8_t b[4] = { 198, 18, (uint8_t)(i >> 8), (uint8_t)i };

	strike_key_set(&k, vni, kind, b, sizeof(b));
	return k;
}

static void test_hold_after_max(void **state)
{
	struct strikes s;
	struct strike_key k = key(100, STRIKE_NEIGH, 1);

	assert_int_equal(strikes_init(&s, 64, 5, 30 * SEC, 300 * SEC), 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(strikes_hit(&s, &k, T0 + i * SEC), STRIKE_REPAIR);
		assert_false(strikes_held(&s, &k, T0 + i * SEC));
	}
	assert_int_equal(strikes_hit(&s, &k, T0 + 5 * SEC), STRIKE_BACKOFF);
	assert_true(strikes_held(&s, &k, T0 + 5 * SEC));
	assert_int_equal(s.held, 1);
	assert_int_equal(strikes_hit(&s, &k, T0 + 6 * SEC), STRIKE_HELD);
	/* Held until 300 s after the strike that was one too many. */
	assert_true(strikes_held(&s, &k, T0 + 304 * SEC));
	assert_false(strikes_held(&s, &k, T0 + 305 * SEC));
	strikes_free(&s);
}

static void test_window_restarts(void **state)
{
	struct strikes s;
	struct strike_key k = key(100, STRIKE_FDB, 2);

	assert_int_equal(strikes_init(&s, 64, 5, 30 * SEC, 300 * SEC), 0);
	/* Five in the window, the sixth after it: counting starts again. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(strikes_hit(&s, &k, T0 + i * SEC), STRIKE_REPAIR);
	assert_int_equal(strikes_hit(&s, &k, T0 + 31 * SEC), STRIKE_REPAIR);
	for (int i = 0; i < 4; i++)
		assert_int_equal(strikes_hit(&s, &k, T0 + (32 + i) * SEC), STRIKE_REPAIR);
	assert_int_equal(strikes_hit(&s, &k, T0 + 40 * SEC), STRIKE_BACKOFF);
	strikes_free(&s);
}

static void test_keys_apart(void **state)
{
	struct strikes s;
	struct strike_key a = key(100, STRIKE_NEIGH, 3), b = key(200, STRIKE_NEIGH, 3);
	struct strike_key c = key(100, STRIKE_FLOOD, 3);

	assert_int_equal(strikes_init(&s, 64, 1, 30 * SEC, 300 * SEC), 0);
	assert_int_equal(strikes_hit(&s, &a, T0), STRIKE_REPAIR);
	assert_int_equal(strikes_hit(&s, &a, T0), STRIKE_BACKOFF);
	assert_false(strikes_held(&s, &b, T0));
	assert_false(strikes_held(&s, &c, T0));
	assert_int_equal(strikes_hit(&s, &b, T0), STRIKE_REPAIR);
	assert_int_equal(strikes_hit(&s, &c, T0), STRIKE_REPAIR);
	strikes_free(&s);
}

struct ended {
	int n;
	struct strike_key last;
};

static void on_ended(void *ctx, const struct strike_key *k)
{
	struct ended *e = ctx;

	e->n++;
	e->last = *k;
}

static void test_expire(void **state)
{
	struct strikes s;
	struct strike_key a = key(100, STRIKE_NEIGH, 4), b = key(100, STRIKE_NEIGH, 5);
	struct strike_key c = key(100, STRIKE_NEIGH, 6);
	struct ended e = { 0 };

	assert_int_equal(strikes_init(&s, 64, 1, 30 * SEC, 300 * SEC), 0);
	strikes_hit(&s, &a, T0);
	assert_int_equal(strikes_hit(&s, &a, T0), STRIKE_BACKOFF);        /* held until +300 */
	strikes_hit(&s, &b, T0 + 10 * SEC);
	assert_int_equal(strikes_hit(&s, &b, T0 + 10 * SEC), STRIKE_BACKOFF);  /* until +310 */
	strikes_hit(&s, &c, T0 + 20 * SEC);                                 /* one strike */
	assert_int_equal(s.n, 3);
	/* At +100: nothing ended; c's window has passed, so it is forgotten. */
	assert_int_equal(strikes_expire(&s, T0 + 100 * SEC, on_ended, &e), T0 + 300 * SEC);
	assert_int_equal(e.n, 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(strikes_expire(&s, T0 + 300 * SEC, on_ended, &e), T0 + 310 * SEC);
	assert_int_equal(e.n, 1);
	assert_memory_equal(&e.last, &a, sizeof(a));
	assert_false(strikes_held(&s, &a, T0 + 300 * SEC));
	assert_true(strikes_held(&s, &b, T0 + 300 * SEC));
	assert_int_equal(strikes_expire(&s, T0 + 310 * SEC, on_ended, &e), 0);
	assert_int_equal(e.n, 2);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.held, 0);
	/* After its hold, an entry starts from no strikes. */
	assert_int_equal(strikes_hit(&s, &a, T0 + 311 * SEC), STRIKE_REPAIR);
	strikes_free(&s);
}

static void test_full(void **state)
{
	struct strikes s;
	uint32_t i, tracked = 0;

	/* Capacity 16: at most 16 entries (a table of 32 slots, half used). */
	assert_int_equal(strikes_init(&s, 16, 5, 30 * SEC, 300 * SEC), 0);
	for (i = 0; i < 100; i++) {
		struct strike_key k = key(100, STRIKE_NEIGH, i);

		if (strikes_hit(&s, &k, T0) == STRIKE_REPAIR)
			tracked++;
	}
	assert_int_equal(tracked, 16);
	assert_int_equal(s.n, 16);
	/* A known entry is still counted when the table is full. */
	{
		struct strike_key k = key(100, STRIKE_NEIGH, 0);

		assert_int_equal(strikes_hit(&s, &k, T0 + SEC), STRIKE_REPAIR);
	}
	/* Once the window has passed, room is made again. */
	{
		struct strike_key k = key(100, STRIKE_NEIGH, 500);

		assert_int_equal(strikes_hit(&s, &k, T0 + 40 * SEC), STRIKE_REPAIR);
		assert_int_equal(s.n, 1);
	}
	strikes_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hold_after_max),
		cmocka_unit_test(test_window_restarts),
		cmocka_unit_test(test_keys_apart),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
