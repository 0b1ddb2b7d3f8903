/* test_srclimit.c - per-source token buckets in a bounded table, on a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include "srclimit.h"

static struct monotime at_us(int64_t us)
{
	return (struct monotime){ .us = 1000000 + us };
}

static void source(uint32_t i, struct mac *mac, struct ipaddr *ip)
{
	*mac = (struct mac){ { 0x02, 0, (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8),
			       (uint8_t)i } };
	ip->af = AF_INET;
	ip->v4.s_addr = htonl(0xc6120000u | (i & 0xffff));   /* 198.18.x.y */
}

/* n requests from source i at now: how many were let through. */
static int take_n(struct srclimit *l, uint32_t i, struct monotime now, int n, uint32_t rate,
		  uint32_t burst)
{
	struct mac mac;
	struct ipaddr ip;
	int ok = 0;

	source(i, &mac, &ip);
	for (int k = 0; k < n; k++)
		ok += srclimit_take(l, &mac, &ip, now, rate, burst);
	return ok;
}

static void burst_then_rate(void **state)
{
	struct srclimit l;
	int ok = 0;

	assert_int_equal(srclimit_init(&l, 1), 0);
	assert_int_equal(take_n(&l, 1, at_us(0), 100, 10, 20), 20);
	/* one more every 100 ms */
	assert_int_equal(take_n(&l, 1, at_us(99999), 1, 10, 20), 0);
	assert_int_equal(take_n(&l, 1, at_us(100000), 5, 10, 20), 1);
	/* a flood of 10,000/s for 2 s more: 10 a second */
	for (int64_t t = 100100; t <= 2100000; t += 100)
		ok += take_n(&l, 1, at_us(t), 1, 10, 20);
	assert_int_equal(ok, 20);
	assert_int_equal(l.table_full, 0);
	assert_int_equal(srclimit_active(&l, at_us(2100000)), 1);
	srclimit_free(&l);
}

static void sources_are_independent(void **state)
{
	struct srclimit l;
	struct mac mac, mac3;
	struct ipaddr ip, ip3;

	assert_int_equal(srclimit_init(&l, 2), 0);
	assert_int_equal(take_n(&l, 1, at_us(0), 50, 10, 20), 20);
	assert_int_equal(take_n(&l, 2, at_us(0), 5, 10, 20), 5);
	/* the same MAC with another address is another asker */
	source(1, &mac, &ip);
	source(3, &mac3, &ip3);
	assert_false(srclimit_take(&l, &mac, &ip, at_us(0), 10, 20));
	assert_true(srclimit_take(&l, &mac, &ip3, at_us(0), 10, 20));
	srclimit_free(&l);
}

/* A source that stopped has its whole burst back after burst / rate; its slot is free for
 * another source SRCLIMIT_HOLD_US after that. */
static void refill_and_forget(void **state)
{
	struct srclimit l;

	assert_int_equal(srclimit_init(&l, 3), 0);
	assert_int_equal(take_n(&l, 1, at_us(0), 20, 10, 20), 20);
	assert_int_equal(take_n(&l, 1, at_us(2000000), 30, 10, 20), 20);
	assert_int_equal(srclimit_active(&l, at_us(2000000)), 1);
	assert_int_equal(srclimit_active(&l, at_us(4000000 + SRCLIMIT_HOLD_US - 1)), 1);
	assert_int_equal(srclimit_active(&l, at_us(4000000 + SRCLIMIT_HOLD_US)), 0);
	srclimit_free(&l);
}

/* A flood from ever-new sources fills the table; those that find no slot are counted and
 * share one bucket, so the whole flood gets at most a slot's worth each plus one burst. */
static void full_table_shares_one_bucket(void **state)
{
	struct srclimit l;
	int ok = 0;

	assert_int_equal(srclimit_init(&l, 4), 0);
	for (uint32_t i = 0; i < 5000; i++)
		ok += take_n(&l, 100 + i, at_us(i), 1, 10, 20);
	assert_true(srclimit_active(&l, at_us(5000)) <= SRCLIMIT_SLOTS);
	assert_true(l.table_full >= 5000 - SRCLIMIT_SLOTS);
	assert_int_equal(ok, (int)(5000 - l.table_full) + 20);
	/* A source that had a slot before the flood keeps it and its own bucket. */
	srclimit_free(&l);
	assert_int_equal(srclimit_init(&l, 4), 0);
	assert_int_equal(take_n(&l, 1, at_us(0), 1, 10, 20), 1);
	for (uint32_t i = 0; i < 5000; i++)
		take_n(&l, 100 + i, at_us(i), 1, 10, 20);
	assert_int_equal(take_n(&l, 1, at_us(5000), 30, 10, 20), 19);
	srclimit_free(&l);
}

/* New values (a reload): a new burst applies at once; a new rate to what is taken from then
 * on, the time a source already owes at the old rate being kept. */
static void new_values_apply(void **state)
{
	struct srclimit l;

	assert_int_equal(srclimit_init(&l, 5), 0);
	assert_int_equal(take_n(&l, 1, at_us(0), 10, 10, 5), 5);
	assert_int_equal(take_n(&l, 1, at_us(0), 10, 10, 8), 3);
	/* owed: 800 ms; at 100/s the tolerance of a burst of 8 is 70 ms */
	assert_int_equal(take_n(&l, 1, at_us(729999), 10, 100, 8), 0);
	assert_int_equal(take_n(&l, 1, at_us(730000), 10, 100, 8), 1);
	assert_int_equal(take_n(&l, 1, at_us(740000), 10, 100, 8), 1);
	srclimit_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_then_rate),
		cmocka_unit_test(sources_are_independent),
		cmocka_unit_test(refill_and_forget),
		cmocka_unit_test(full_table_shares_one_bucket),
		cmocka_unit_test(new_values_apply),
	};

	return cmocka_run_group_tests_name("srclimit", tests, NULL, NULL);
}
