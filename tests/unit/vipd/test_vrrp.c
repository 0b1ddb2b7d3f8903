/* test_vrrp.c - the VRRPv3 state machine (RFC 5798 6.4) driven by a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include "vrrp.h"

struct rec {
	int adverts;
	uint8_t last_prio;
	int changes;
	enum vrrp_state last_to;
	int lower_seen;
};

static void rec_advert(void *ctx, uint8_t prio)
{
	struct rec *r = ctx;

	r->adverts++;
	r->last_prio = prio;
}

static void rec_change(void *ctx, enum vrrp_state from, enum vrrp_state to)
{
	struct rec *r = ctx;

	r->changes++;
	r->last_to = to;
}

static void rec_lower(void *ctx)
{
	((struct rec *)ctx)->lower_seen++;
}

static const struct vrrp_ops ops = { rec_advert, rec_change, rec_lower };

static struct monotime at(int64_t ms)
{
	return (struct monotime){ .us = 1000000 + ms * 1000 };
}

static struct ipaddr ip4(const char *s)
{
	struct ipaddr a = { .af = AF_INET };

	inet_pton(AF_INET, s, &a.v4);
	return a;
}

/* priority 100, 100 ms: skew = 156 * 10 cs / 256 = 60.9375 ms, MDI = 360.9375 ms */
static void setup_backup(struct vrrp *v, struct rec *r, uint8_t prio, bool preempt)
{
	struct ipaddr self = ip4("198.18.0.11");

	vrrp_init(v, prio, preempt, 10, &ops, r);
	vrrp_startup(v, at(0), &self);
}

static void startup_waits_master_down_interval(void **state)
{
	struct vrrp v;
	struct rec r = { 0 };

	setup_backup(&v, &r, 100, true);
	assert_int_equal(v.state, VRRP_BACKUP);
	assert_int_equal(r.adverts, 0);
	assert_int_equal(vrrp_skew_us(&v), 60937);
	assert_int_equal(vrrp_master_down_us(&v), 360937);
	assert_int_equal(vrrp_next_deadline(&v).us, at(0).us + 360937);
	vrrp_tick(&v, at(360));
	assert_int_equal(v.state, VRRP_BACKUP);
	vrrp_tick(&v, (struct monotime){ at(0).us + 360937 });
	assert_int_equal(v.state, VRRP_MASTER);
	assert_int_equal(r.adverts, 1);
	assert_int_equal(r.last_prio, 100);
	assert_int_equal(r.last_to, VRRP_MASTER);
	assert_true(ipaddr_eq(&v.master, &v.self));
}

static void master_advertises_every_interval(void **state)
{
	struct vrrp v;
	struct rec r = { 0 };

	setup_backup(&v, &r, 100, true);
	vrrp_tick(&v, at(400));
	assert_int_equal(r.adverts, 1);
	assert_int_equal(vrrp_next_deadline(&v).us, at(500).us);
	vrrp_tick(&v, at(499));
	assert_int_equal(r.adverts, 1);
	vrrp_tick(&v, at(500));
	assert_int_equal(r.adverts, 2);
	assert_int_equal(vrrp_next_deadline(&v).us, at(600).us);
}

/* A late wake-up does not shift the adverts after it; a stall of more than half an interval
 * restarts the schedule from then, without a burst. */
static void master_keeps_its_advert_schedule(void **state)
{
	struct vrrp v;
	struct rec r = { 0 };

	setup_backup(&v, &r, 100, true);
	vrrp_tick(&v, at(400));
	assert_int_equal(vrrp_next_deadline(&v).us, at(500).us);
	vrrp_tick(&v, (struct monotime){ at(500).us + 700 });
	assert_int_equal(r.adverts, 2);
	assert_int_equal(vrrp_next_deadline(&v).us, at(600).us);
	vrrp_tick(&v, at(649));
	assert_int_equal(r.adverts, 3);
	assert_int_equal(vrrp_next_deadline(&v).us, at(700).us);
	vrrp_tick(&v, at(760));
	assert_int_equal(r.adverts, 4);
	assert_int_equal(vrrp_next_deadline(&v).us, at(860).us);
	vrrp_tick(&v, at(859));
	assert_int_equal(r.adverts, 4);
}

static void backup_follows_master_and_its_interval(void **state)
{
	struct vrrp v;
	struct rec r = { 0 };
	struct ipaddr peer = ip4("198.18.0.12");

	setup_backup(&v, &r, 100, true);
	/* A master at priority 200 advertising every 1 s (100 cs). */
	vrrp_rx_advert(&v, at(100), &peer, 200, 100);
	assert_int_equal(v.state, VRRP_BACKUP);
	assert_int_equal(v.master_adver_int_cs, 100);
	assert_true(ipaddr_eq(&v.master, &peer));
	/* MDI = 3 s + 156 * 1 s / 256 = 3.609375 s */
	assert_int_equal(vrrp_next_deadline(&v).us, at(100).us + 3609375);
	vrrp_tick(&v, at(3000));
	assert_int_equal(v.state, VRRP_BACKUP);
}

static void backup_takes_over_after_skew_on_priority_zero(void **state)
{
	struct vrrp v;
	struct rec r = { 0 };
	struct ipaddr peer = ip4("198.18.0.12");

	setup_backup(&v, &r, 100, true);
	vrrp_rx_advert(&v, at(50), &peer, 200, 10);
	vrrp_rx_advert(&v, at(100), &peer, 0, 10);
	assert_int_equal(vrrp_next_deadline(&v).us, at(100).us + 60937);
	vrrp_tick(&v, (struct monotime){ at(100).us + 60937 });
	assert_int_equal(v.state, VRRP_MASTER);
}

static void preempting_backup_ignores_lower_priority(void **state)
{
	struct vrrp v;
	struct rec r = { 0 };
	struct ipaddr peer = ip4("198.18.0.12");

	setup_backup(&v, &r, 150, true);
	int64_t deadline = vrrp_next_deadline(&v).us;

	vrrp_rx_advert(&v, at(100), &peer, 100, 10);
	assert_int_equal(vrrp_next_deadline(&v).us, deadline);
	vrrp_tick(&v, (struct monotime){ deadline });
	assert_int_equal(v.state, VRRP_MASTER);
}

static void non_preempting_backup_follows_lower_priority(void **state)
{
	struct vrrp v;
	struct rec r = { 0 };
	struct ipaddr peer = ip4("198.18.0.12");

	setup_backup(&v, &r, 150, false);
	int64_t deadline = vrrp_next_deadline(&v).us;

	vrrp_rx_advert(&v, at(100), &peer, 100, 10);
	assert_true(vrrp_next_deadline(&v).us > deadline);
	vrrp_tick(&v, (struct monotime){ deadline });
	assert_int_equal(v.state, VRRP_BACKUP);
}

static struct vrrp make_master(struct rec *r, uint8_t prio)
{
	struct vrrp v;

	setup_backup(&v, r, prio, true);
	vrrp_tick(&v, at(1000));
	assert_int_equal(v.state, VRRP_MASTER);
	r->adverts = 0;
	return v;
}

static void master_yields_to_higher_priority(void **state)
{
	struct rec r = { 0 };
	struct vrrp v = make_master(&r, 100);
	struct ipaddr peer = ip4("198.18.0.10");

	vrrp_rx_advert(&v, at(1010), &peer, 101, 10);
	assert_int_equal(v.state, VRRP_BACKUP);
	assert_int_equal(r.adverts, 0);
	assert_false(monotime_is_set(v.adver_timer));
}

static void master_tie_broken_by_primary_address(void **state)
{
	struct rec r = { 0 };
	struct vrrp v = make_master(&r, 100);
	struct ipaddr lower = ip4("198.18.0.10"), higher = ip4("198.18.0.12");

	/* RFC 5798 6.4.3: equal priority, the higher primary address wins. */
	vrrp_rx_advert(&v, at(1060), &lower, 100, 10);
	assert_int_equal(v.state, VRRP_MASTER);
	assert_int_equal(r.adverts, 1);
	assert_int_equal(r.lower_seen, 1);
	vrrp_rx_advert(&v, at(1020), &higher, 100, 10);
	assert_int_equal(v.state, VRRP_BACKUP);
}

static void reflected_or_forged_adverts_cannot_drive_our_rate(void **state)
{
	struct rec r = { 0 };
	struct vrrp v = make_master(&r, 100);
	struct ipaddr self = v.self;

	/* Our own advert coming back (equal priority, our address), a thousand times within
	 * 10 ms: at most one extra advert, not one per copy. */
	for (int i = 0; i < 1000; i++)
		vrrp_rx_advert(&v, (struct monotime){ at(1050).us + i * 10 }, &self, 100, 10);
	assert_int_equal(v.state, VRRP_MASTER);
	assert_int_equal(r.adverts, 1);
}

static void master_answers_priority_zero_at_once(void **state)
{
	struct rec r = { 0 };
	struct vrrp v = make_master(&r, 100);
	struct ipaddr peer = ip4("198.18.0.12");

	vrrp_rx_advert(&v, at(1050), &peer, 0, 10);
	assert_int_equal(v.state, VRRP_MASTER);
	assert_int_equal(r.adverts, 1);
	assert_int_equal(r.lower_seen, 0);
	assert_int_equal(vrrp_next_deadline(&v).us, at(1150).us);
}

/* Forged priority-0 adverts, 1000 in one second: one advert per half interval at most (each
 * also restarts the Adver_Timer), the others counted as suppressed. */
static void priority_zero_answers_are_rate_limited(void **state)
{
	struct rec r = { 0 };
	struct vrrp v = make_master(&r, 100);
	struct ipaddr peer = ip4("198.18.0.12");

	/* 1 ms after becoming master: within half an interval of that advert */
	vrrp_rx_advert(&v, at(1001), &peer, 0, 10);
	assert_int_equal(r.adverts, 0);
	assert_int_equal(v.priority_zero_suppressed, 1);
	for (int i = 0; i < 1000; i++) {
		struct monotime t = { at(1002).us + i * 1000 };

		vrrp_tick(&v, t);
		vrrp_rx_advert(&v, t, &peer, 0, 10);
	}
	assert_int_equal(v.state, VRRP_MASTER);
	/* at 1050, 1100, ..., 2000: 20 adverts, 50 ms apart */
	assert_int_equal(r.adverts, 20);
	assert_int_equal(v.priority_zero_suppressed, 1001 - 20);
	assert_int_equal(r.last_prio, 100);
}

static void shutdown_sends_priority_zero(void **state)
{
	struct rec r = { 0 };
	struct vrrp v = make_master(&r, 100);

	vrrp_shutdown(&v);
	assert_int_equal(v.state, VRRP_INIT);
	assert_int_equal(r.adverts, 1);
	assert_int_equal(r.last_prio, 0);
	assert_false(monotime_is_set(vrrp_next_deadline(&v)));
	/* A backup leaving sends nothing. */
	struct rec r2 = { 0 };
	struct vrrp b;

	setup_backup(&b, &r2, 100, true);
	vrrp_shutdown(&b);
	assert_int_equal(r2.adverts, 0);
	assert_int_equal(b.state, VRRP_INIT);
}

static void skew_orders_backups_at_small_intervals(void **state)
{
	struct vrrp hi, lo;
	struct rec r = { 0 };

	/* At 10 ms the RFC's whole-centisecond skew is 0 for both; ours keeps them apart. */
	vrrp_init(&hi, 254, true, 1, &ops, &r);
	vrrp_init(&lo, 204, true, 1, &ops, &r);
	assert_true(vrrp_master_down_us(&hi) < vrrp_master_down_us(&lo));
	assert_int_equal(vrrp_master_down_us(&hi), 30078);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(startup_waits_master_down_interval),
		cmocka_unit_test(master_advertises_every_interval),
		cmocka_unit_test(master_keeps_its_advert_schedule),
		cmocka_unit_test(backup_follows_master_and_its_interval),
		cmocka_unit_test(backup_takes_over_after_skew_on_priority_zero),
		cmocka_unit_test(preempting_backup_ignores_lower_priority),
		cmocka_unit_test(non_preempting_backup_follows_lower_priority),
		cmocka_unit_test(master_yields_to_higher_priority),
		cmocka_unit_test(master_tie_broken_by_primary_address),
		cmocka_unit_test(reflected_or_forged_adverts_cannot_drive_our_rate),
		cmocka_unit_test(master_answers_priority_zero_at_once),
		cmocka_unit_test(priority_zero_answers_are_rate_limited),
		cmocka_unit_test(shutdown_sends_priority_zero),
		cmocka_unit_test(skew_orders_backups_at_small_intervals),
	};

	return cmocka_run_group_tests_name("vrrp", tests, NULL, NULL);
}
