/* test_nlbatch.c - lib/nlbatch against the running kernel, with requests that change nothing:
 * RTM_GETLINK of the loopback device succeeds (its reply is not an answer), of an ifindex
 * that does not exist fails with -ENODEV. A batch of both, over several sendmsgs, has each
 * failure handed to on_error with its own request and tag, and its callback run from the
 * loop once, with the count; an error on_error excuses is not counted; batches complete in
 * order; with two chunks at most, the producer waits for answers and nothing is lost;
 * answers the kernel drops (a receive buffer too small for the replies) fail what was
 * pending with -ENOBUFS, or with -ETIMEDOUT when the socket is not told (NETLINK_NO_ENOBUFS). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/event.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include "nlbatch.h"

#define BOGUS 0x7ffffff0
#define MAX_GOT 4096

struct got {
	int n, errs;
	int err[MAX_GOT];
	intptr_t tag[MAX_GOT];
	int ifindex[MAX_GOT];
	intptr_t excuse;               /* on_error does not count this tag */
	int done;
	uint32_t refused[8];
	int first_err[8];
};

static bool on_error(void *ctx, int err, const struct nlmsghdr *req, void *tag)
{
	struct got *g = ctx;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(req);

	if (g->n < MAX_GOT) {
		g->err[g->n] = err;
		g->tag[g->n] = (intptr_t)tag;
		g->ifindex[g->n] = ifi->ifi_index;
		g->n++;
	}
	return (intptr_t)tag != g->excuse;
}

static void on_done(void *ctx, uint32_t refused, int first_err)
{
	struct got *g = ctx;

	g->refused[g->done] = refused;
	g->first_err[g->done] = first_err;
	g->done++;
}

static struct nlmsghdr *getlink(struct nl_batch *b, int ifindex, intptr_t tag)
{
	struct nlmsghdr *nlh = nl_batch_msg(b);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_GETLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	nl_batch_add(b, nlh, (void *)tag);
	return nlh;
}

static void run_until(struct event_base *base, struct got *g, int done)
{
	/* Bounded: 4 s of 10 ms turns covers the 2 s timeout. */
	struct timeval tv = { 0, 10000 };

	for (int i = 0; i < 400 && g->done < done; i++) {
		event_base_loopexit(base, &tv);
		event_base_loop(base, 0);
	}
}

static void test_failures_matched(void **state)
{
	struct event_base *base = event_base_new();
	struct got g = { .excuse = -1 };
	struct nl_batch *b;
	int nbad = 0;

	/* 256 bytes per sendmsg: 8 requests each, 300 requests. */
	assert_int_equal(nl_batch_new(base, 256, 64, 4 << 20, on_error, &g, &b), 0);
	for (int i = 0; i < 300; i++) {
		bool bad = i % 7 == 3;

		getlink(b, bad ? BOGUS - i : 1, i);
		nbad += bad;
	}
	nl_batch_commit(b, on_done, &g);
	getlink(b, BOGUS, 1000);
	nl_batch_commit(b, on_done, &g);
	assert_int_equal(g.done, 0);        /* nothing answered before the loop runs */
	assert_int_equal(nl_batch_pending(b), 301);
	run_until(base, &g, 2);
	assert_int_equal(g.done, 2);
	assert_int_equal(g.refused[0], nbad);
	assert_int_equal(g.first_err[0], -ENODEV);
	assert_int_equal(g.refused[1], 1);
	assert_int_equal(g.n, nbad + 1);
	for (int k = 0; k < nbad; k++) {
		assert_int_equal(g.err[k], -ENODEV);
		assert_int_equal(g.tag[k] % 7, 3);
		assert_int_equal(g.ifindex[k], BOGUS - g.tag[k]);
	}
	assert_int_equal(g.tag[nbad], 1000);
	assert_int_equal(nl_batch_pending(b), 0);
	assert_true(nl_batch_stats(b)->sendmsgs >= 300 / 8);
	assert_int_equal(nl_batch_stats(b)->refused, nbad + 1);
	assert_int_equal(nl_batch_stats(b)->lost + nl_batch_stats(b)->timeouts, 0);
	nl_batch_free(b);
	event_base_free(base);
}

static void test_excused_and_empty(void **state)
{
	struct event_base *base = event_base_new();
	struct got g = { .excuse = 5 };
	struct nl_batch *b;

	assert_int_equal(nl_batch_new(base, 4096, 4, 1 << 20, on_error, &g, &b), 0);
	nl_batch_commit(b, on_done, &g);     /* empty: answered too, from the loop */
	getlink(b, BOGUS, 5);
	getlink(b, BOGUS, 6);
	getlink(b, 1, 7);
	nl_batch_commit(b, on_done, &g);
	assert_int_equal(g.done, 0);
	run_until(base, &g, 2);
	assert_int_equal(g.done, 2);
	assert_int_equal(g.refused[0], 0);
	assert_int_equal(g.first_err[0], 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.refused[1], 1);
	assert_int_equal(g.first_err[1], -ENODEV);
	nl_batch_free(b);
	event_base_free(base);
}

static void test_bounded_chunks(void **state)
{
	struct event_base *base = event_base_new();
	struct got g = { .excuse = -1 };
	struct nl_batch *b;

	/* Two chunks of 8 requests at most: the producer waits for answers, none is lost. */
	assert_int_equal(nl_batch_new(base, 256, 2, 1 << 20, on_error, &g, &b), 0);
	for (int i = 0; i < 200; i++) {
		getlink(b, i % 10 ? 1 : BOGUS, i);
		assert_true(nl_batch_chunks(b) <= 2);
	}
	nl_batch_commit(b, on_done, &g);
	assert_true(nl_batch_stats(b)->waits > 0);
	nl_batch_wait(b);                   /* blocking: the callback ran */
	assert_int_equal(g.done, 1);
	assert_int_equal(g.refused[0], 20);
	for (int k = 0; k < 20; k++)
		assert_int_equal(g.tag[k], k * 10);
	assert_int_equal(nl_batch_stats(b)->lost + nl_batch_stats(b)->timeouts, 0);
	nl_batch_free(b);
	event_base_free(base);
}

/* Replies to 2000 GETLINKs do not fit an 8 KiB receive buffer: the kernel drops them and the
 * ack of each sendmsg. */
static void lost(bool tell)
{
	struct event_base *base = event_base_new();
	struct got g = { .excuse = -1 };
	struct nl_batch *b;
	int one = 1, small = 4096, nlost = 0;

	assert_int_equal(nl_batch_new(base, 16384, 64, 1 << 20, on_error, &g, &b), 0);
	assert_int_equal(setsockopt(nl_batch_fd(b), SOL_SOCKET, SO_RCVBUFFORCE, &small,
				    sizeof(small)), 0);
	if (!tell)
		assert_int_equal(setsockopt(nl_batch_fd(b), SOL_NETLINK, NETLINK_NO_ENOBUFS, &one,
					    sizeof(one)), 0);
	for (int i = 0; i < 2000; i++)
		getlink(b, 1, i);
	nl_batch_commit(b, on_done, &g);
	run_until(base, &g, 1);
	assert_int_equal(g.done, 1);
	/* Some replies the kernel could not deliver are answered with their own error
	 * (-EAGAIN); what is lost is failed as such. */
	for (int k = 0; k < g.n; k++)
		nlost += g.err[k] == (tell ? -ENOBUFS : -ETIMEDOUT);
	assert_true(nlost > 0);
	assert_int_equal(g.refused[0], g.n);
	if (tell)
		assert_int_equal(nl_batch_stats(b)->lost, nlost);
	else
		assert_int_equal(nl_batch_stats(b)->timeouts, nlost);
	assert_int_equal(nl_batch_pending(b), 0);
	nl_batch_free(b);
	event_base_free(base);
}

static void test_enobufs(void **state)
{
	lost(true);
}

static void test_timeout(void **state)
{
	lost(false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failures_matched),
		cmocka_unit_test(test_excused_and_empty),
		cmocka_unit_test(test_bounded_chunks),
		cmocka_unit_test(test_enobufs),
		cmocka_unit_test(test_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
