/* test_bucket.c - lib/bucket under a fake clock: a full bucket lets a burst through and then
 * nothing, it refills at its rate and never above its burst, and a clock that did not move
 * (or stepped back) gives nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "bucket.h"

static struct monotime at_ms(int64_t ms)
{
	return (struct monotime){ .us = 1000000 + ms * USEC_PER_MSEC };
}

static int taken(struct bucket *b, struct monotime now, int tries)
{
	int n = 0;

	for (int i = 0; i < tries; i++)
		n += bucket_take(b, now);
	return n;
}

static void burst_then_nothing(void **state)
{
	struct bucket b;

	bucket_init(&b, 20, 40, at_ms(0));
	assert_int_equal(taken(&b, at_ms(0), 100), 40);
	assert_false(bucket_take(&b, at_ms(0)));
}

static void refills_at_its_rate(void **state)
{
	struct bucket b;

	bucket_init(&b, 20, 40, at_ms(0));
	taken(&b, at_ms(0), 40);
	/* 20 a second: one every 50 ms (0.8 of one at 40, 1.2 at 60) */
	assert_false(bucket_take(&b, at_ms(40)));
	assert_true(bucket_take(&b, at_ms(60)));
	assert_false(bucket_take(&b, at_ms(60)));
	assert_int_equal(taken(&b, at_ms(1060), 100), 20);
}

static void never_above_its_burst(void **state)
{
	struct bucket b;

	bucket_init(&b, 20, 40, at_ms(0));
	taken(&b, at_ms(0), 40);
	assert_int_equal(taken(&b, at_ms(3600 * 1000), 1000), 40);
}

static void a_clock_that_steps_back_gives_nothing(void **state)
{
	struct bucket b;

	bucket_init(&b, 20, 5, at_ms(1000));
	taken(&b, at_ms(1000), 5);
	assert_false(bucket_take(&b, at_ms(0)));
	/* the refill counts from the last time it moved forward: 1.5 tokens at 1075 */
	assert_true(bucket_take(&b, at_ms(1075)));
	assert_false(bucket_take(&b, at_ms(1075)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_then_nothing),
		cmocka_unit_test(refills_at_its_rate),
		cmocka_unit_test(never_above_its_burst),
		cmocka_unit_test(a_clock_that_steps_back_gives_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
