/* test_nlq.c - lib/nlq against the running kernel, with requests that change nothing:
 * RTM_GETLINK (with NLM_F_ACK) of the loopback device is acknowledged with 0, of an ifindex
 * that does not exist with -ENODEV; a burst of them is answered, each to its own request, in
 * order; nlq_free answers what is still pending with -ECANCELED. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/event.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include "nlq.h"

struct got {
	int n;
	int err[512];
	int ifindex[512];
};

static void done(void *ctx, int err, const struct nlmsghdr *req)
{
	struct got *g = ctx;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(req);

	g->err[g->n] = err;
	g->ifindex[g->n] = ifi->ifi_index;
	g->n++;
}

static void getlink(struct nlq *q, int ifindex, struct got *g)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_GETLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	assert_int_equal(nlq_send(q, nlh, done, g), 0);
}

static void run_until(struct event_base *base, struct got *g, int n)
{
	for (int i = 0; i < 200 && g->n < n; i++)
		event_base_loop(base, EVLOOP_ONCE);
}

static void test_acks_in_order(void **state)
{
	struct event_base *base = event_base_new();
	struct got g = { 0 };
	struct nlq *q;

	assert_int_equal(nlq_new(base, &q), 0);
	getlink(q, 1, &g);
	getlink(q, 0x7ffffff0, &g);
	assert_int_equal(g.n, 0);           /* nothing answered before the loop runs */
	assert_int_equal(nlq_pending(q), 2);
	run_until(base, &g, 2);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.err[0], 0);
	assert_int_equal(g.ifindex[0], 1);
	assert_int_equal(g.err[1], -ENODEV);
	assert_int_equal(g.ifindex[1], 0x7ffffff0);
	assert_int_equal(nlq_pending(q), 0);
	assert_int_equal(nlq_stats(q)->acked, 1);
	assert_int_equal(nlq_stats(q)->refused, 1);

	/* A burst, alternating: each answer goes to its own request. */
	g.n = 0;
	for (int i = 0; i < 400; i++)
		getlink(q, i % 2 ? 0x7ffffff0 - i : 1, &g);
	run_until(base, &g, 400);
	assert_int_equal(g.n, 400);
	for (int i = 0; i < 400; i++) {
		assert_int_equal(g.ifindex[i], i % 2 ? 0x7ffffff0 - i : 1);
		assert_int_equal(g.err[i], i % 2 ? -ENODEV : 0);
	}
	nlq_free(q);
	event_base_free(base);
}

static void test_free_cancels(void **state)
{
	struct event_base *base = event_base_new();
	struct got g = { 0 };
	struct nlq *q;

	assert_int_equal(nlq_new(base, &q), 0);
	getlink(q, 1, &g);
	getlink(q, 1, &g);
	nlq_free(q);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.err[0], -ECANCELED);
	assert_int_equal(g.err[1], -ECANCELED);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acks_in_order),
		cmocka_unit_test(test_free_cancels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
