/* test_ldp.c - the LDP state machine of one switch (switchd/ldp.c) driven by hand under a
 * fake clock: Alg. 1's three level rules and its miswired-edge rule, the position handshake
 * of Alg. 2 from both ends (hold, deny, timeout, retry), the pod from the fabric manager,
 * liveness, and every drop and miswiring report. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>
#include "ldp.h"

#define K 4
#define MAX_SENT 64            /* the last ones sent are kept */

struct rec {
	struct ldp_msg sent[MAX_SENT];
	int sent_port[MAX_SENT];
	int nsent;
	int pod_requests;
	int located;
	struct ldp_location loc;
	int miswires;
	int miswire_port;
	enum ldp_miswire miswire_why;
	struct mac miswire_seen;
	uint32_t rnd[8];
	int nrnd;
};

static void rec_send(void *ctx, int port, const struct ldp_msg *m)
{
	struct rec *r = ctx;

	r->sent[r->nsent % MAX_SENT] = *m;
	r->sent_port[r->nsent++ % MAX_SENT] = port;
}

static void rec_request_pod(void *ctx)
{
	((struct rec *)ctx)->pod_requests++;
}

static void rec_located(void *ctx, const struct ldp_location *loc)
{
	struct rec *r = ctx;

	r->located++;
	r->loc = *loc;
}

static void rec_miswired(void *ctx, int port, enum ldp_miswire why, const struct ldp_msg *seen)
{
	struct rec *r = ctx;

	r->miswires++;
	r->miswire_port = port;
	r->miswire_why = why;
	r->miswire_seen = seen->switch_id;
}

/* Replays the values queued in rnd, then 0. */
static uint32_t rec_random(void *ctx)
{
	struct rec *r = ctx;

	return r->nrnd < 8 ? r->rnd[r->nrnd++] : 0;
}

static const struct ldp_ops ops = {
	rec_send, rec_request_pod, rec_located, rec_miswired, rec_random,
};

static const struct mac self = { { 0x02, 0, 0, 0, 0, 0x10 } };

static struct mac nb_id(int i)
{
	return (struct mac){ { 0x02, 0, 0, 0, 1, (uint8_t)i } };
}

static struct monotime at_ms(int64_t ms)
{
	return (struct monotime){ .us = USEC_PER_SEC + ms * USEC_PER_MSEC };
}

static struct ldp_msg ldm(int i, enum ldp_level level, enum ldp_dir dir, int pod, int pos)
{
	return (struct ldp_msg){
		.type = LDP_TYPE_LDM, .switch_id = nb_id(i), .level = level, .dir = dir,
		.port = (uint8_t)i, .pod = pod, .position = pos,
	};
}

static void start(struct ldp *l, struct rec *r)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(ldp_init(l, &self, K, at_ms(0), NULL, &ops, r), 0);
	for (int p = 0; p < K; p++)
		ldp_port_up(l, at_ms(0), p);
}

/* The last message sent on port, of type. */
static const struct ldp_msg *last_sent(const struct rec *r, int port, enum ldp_type type)
{
	for (int i = r->nsent - 1; i >= 0 && i >= r->nsent - MAX_SENT; i--)
		if (r->sent_port[i % MAX_SENT] == port && r->sent[i % MAX_SENT].type == type)
			return &r->sent[i % MAX_SENT];
	return NULL;
}

/* Ticks every period from `from` to `to` ms, the neighbours of `alive` ports sending `m[p]`. */
static void run(struct ldp *l, int64_t from, int64_t to, const struct ldp_msg *m, unsigned alive)
{
	for (int64_t t = from; t <= to; t += 10) {
		for (int p = 0; p < K; p++)
			if (alive & 1u << p)
				ldp_rx(l, at_ms(t), p, &m[p]);
		ldp_tick(l, at_ms(t));
	}
}

static void init_rejects(void **state)
{
	const struct mac mcast = { { 0x01, 0, 0, 0, 0, 1 } };
	struct ldp l;

	assert_int_equal(ldp_init(&l, &self, 3, at_ms(0), NULL, &ops, NULL), -EINVAL);
	assert_int_equal(ldp_init(&l, &self, 0, at_ms(0), NULL, &ops, NULL), -EINVAL);
	assert_int_equal(ldp_init(&l, &self, LDP_MAX_PORTS + 2, at_ms(0), NULL, &ops, NULL), -EINVAL);
	assert_int_equal(ldp_init(&l, &mcast, 4, at_ms(0), NULL, &ops, NULL), -EINVAL);
	assert_int_equal(ldp_init(&l, &mac_zero, 4, at_ms(0), NULL, &ops, NULL), -EINVAL);
	/* timers out of their bounds, each named */
	struct ldp_timers t = LDP_TIMERS_DEFAULT;

	assert_null(ldp_timers_why_not(&t));
	t.ldm_us = 500;
	assert_string_equal(ldp_timers_why_not(&t), "the LDM period must be 1 ms to 1 s");
	assert_int_equal(ldp_init(&l, &self, 4, at_ms(0), &t, &ops, NULL), -EINVAL);
	t = LDP_TIMERS_DEFAULT;
	t.dead_us = t.ldm_us;
	assert_non_null(ldp_timers_why_not(&t));
	assert_int_equal(ldp_init(&l, &self, 4, at_ms(0), &t, &ops, NULL), -EINVAL);
	t = LDP_TIMERS_DEFAULT;
	t.host_us = 5 * t.ldm_us;
	assert_non_null(ldp_timers_why_not(&t));
	t.host_us = 61 * USEC_PER_SEC;
	assert_non_null(ldp_timers_why_not(&t));
	t = (struct ldp_timers){ 30 * USEC_PER_MSEC, 90 * USEC_PER_MSEC, 300 * USEC_PER_MSEC };
	assert_int_equal(ldp_init(&l, &self, 4, at_ms(0), &t, &ops, NULL), 0);
	assert_int_equal(l.t.ldm_us, 30 * USEC_PER_MSEC);
}

/* An LDM on each port as it comes up, then one per port every period, none on a down port. */
static void ldms_every_period(void **state)
{
	struct ldp l;
	struct rec r;

	start(&l, &r);
	assert_int_equal(r.nsent, K);
	ldp_port_down(&l, at_ms(0), 3);
	r.nsent = 0;
	ldp_tick(&l, at_ms(0));
	assert_int_equal(r.nsent, 3);
	assert_int_equal(ldp_next_deadline(&l).us, at_ms(10).us);
	ldp_tick(&l, at_ms(9));
	assert_int_equal(r.nsent, 3);
	ldp_tick(&l, at_ms(10));
	assert_int_equal(r.nsent, 6);
	for (int i = 0; i < r.nsent && i < MAX_SENT; i++) {
		assert_int_not_equal(r.sent_port[i], 3);
		assert_int_equal(r.sent[i].level, LDP_LEVEL_UNKNOWN);
		assert_int_equal(r.sent[i].dir, LDP_DIR_UNKNOWN);
		assert_int_equal(r.sent[i].pod, LDP_NONE);
		assert_memory_equal(r.sent[i].switch_id.b, self.b, MAC_LEN);
		assert_int_equal(r.sent[i].port, r.sent_port[i]);
	}
	assert_int_equal(l.level, LDP_LEVEL_UNKNOWN);
}

/* Alg. 1 line 7: no more than k/2 switches for the host timeout makes an edge; its silent
 * ports are host ports, those that hear LDMs up ports. */
static void edge_after_timeout(void **state)
{
	struct ldp_msg m[K] = { ldm(1, 0, 0, LDP_NONE, LDP_NONE), ldm(2, 0, 0, LDP_NONE, LDP_NONE) };
	int64_t last = LDP_HOST_TIMEOUT_US / USEC_PER_MSEC;
	struct ldp l;
	struct rec r;

	start(&l, &r);
	run(&l, 0, last - 10, m, 0x3);
	assert_int_equal(l.level, LDP_LEVEL_UNKNOWN);
	run(&l, last, last, m, 0x3);
	assert_int_equal(l.level, LDP_LEVEL_EDGE);
	assert_int_equal(l.port[2].state, LDP_PORT_HOST);
	assert_int_equal(l.port[3].state, LDP_PORT_HOST);
	assert_int_equal(last_sent(&r, 0, LDP_TYPE_LDM)->level, LDP_LEVEL_EDGE);
	assert_int_equal(last_sent(&r, 0, LDP_TYPE_LDM)->dir, LDP_DIR_UP);
	assert_int_equal(last_sent(&r, 2, LDP_TYPE_LDM)->dir, LDP_DIR_UNKNOWN);
	/* neighbours of unknown level: no position proposed yet, not located */
	assert_null(last_sent(&r, 0, LDP_TYPE_PROPOSE));
	assert_int_equal(r.located, 0);
}

/* A switch that hears more than k/2 switches is no edge, however long it waits. */
static void many_switches_never_edge(void **state)
{
	struct ldp_msg m[K] = { ldm(1, 0, 0, LDP_NONE, LDP_NONE), ldm(2, 0, 0, LDP_NONE, LDP_NONE),
				ldm(3, 0, 0, LDP_NONE, LDP_NONE) };
	struct ldp l;
	struct rec r;

	start(&l, &r);
	run(&l, 0, 3000, m, 0x7);
	assert_int_equal(l.level, LDP_LEVEL_UNKNOWN);
}

/* Alg. 1 lines 10-11: hearing an edge makes an aggregation switch, that port down. */
static void aggregation_on_hearing_edge(void **state)
{
	struct ldp_msg m[K] = { ldm(1, 0, 0, LDP_NONE, LDP_NONE), ldm(2, 0, 0, LDP_NONE, LDP_NONE),
				ldm(3, 0, 0, LDP_NONE, LDP_NONE),
				ldm(4, LDP_LEVEL_EDGE, LDP_DIR_UP, LDP_NONE, LDP_NONE) };
	struct ldp l;
	struct rec r;

	start(&l, &r);
	run(&l, 0, 0, m, 0x7);
	assert_int_equal(l.level, LDP_LEVEL_UNKNOWN);
	run(&l, 10, 10, m, 0xf);
	assert_int_equal(l.level, LDP_LEVEL_AGG);
	assert_int_equal(last_sent(&r, 3, LDP_TYPE_LDM)->dir, LDP_DIR_DOWN);
	assert_int_equal(last_sent(&r, 0, LDP_TYPE_LDM)->dir, LDP_DIR_UNKNOWN);
	/* the edge's pod spreads to us; a core above marks that port up; then located */
	m[3].pod = 42;
	m[0] = ldm(1, LDP_LEVEL_CORE, LDP_DIR_DOWN, LDP_NONE, LDP_NONE);
	m[1] = ldm(2, LDP_LEVEL_CORE, LDP_DIR_DOWN, LDP_NONE, LDP_NONE);
	m[2] = ldm(3, LDP_LEVEL_EDGE, LDP_DIR_UP, 42, LDP_NONE);
	run(&l, 20, 20, m, 0xf);
	assert_int_equal(l.pod, 42);
	assert_int_equal(r.located, 1);
	assert_int_equal(r.loc.level, LDP_LEVEL_AGG);
	assert_int_equal(r.loc.pod, 42);
	assert_int_equal(r.loc.role[0], LDP_ROLE_UP);
	assert_int_equal(r.loc.role[1], LDP_ROLE_UP);
	assert_int_equal(r.loc.role[2], LDP_ROLE_DOWN);
	assert_int_equal(r.loc.role[3], LDP_ROLE_DOWN);
	assert_int_equal(last_sent(&r, 0, LDP_TYPE_LDM)->dir, LDP_DIR_UP);
	assert_int_equal(last_sent(&r, 0, LDP_TYPE_LDM)->pod, 42);
}

/* Alg. 1 lines 14-20: every port hears an aggregation switch that has not set the link's
 * direction: core, every port down, located at once, no pod. */
static void core_when_all_neighbours_undirected_aggs(void **state)
{
	struct ldp_msg m[K];
	struct ldp l;
	struct rec r;

	for (int p = 0; p < K; p++)
		m[p] = ldm(p + 1, LDP_LEVEL_AGG, LDP_DIR_UNKNOWN, 7 + p, LDP_NONE);
	m[3].dir = LDP_DIR_DOWN;                /* that one says the link faces an edge */
	start(&l, &r);
	run(&l, 0, 50, m, 0xf);
	assert_int_equal(l.level, LDP_LEVEL_UNKNOWN);
	m[3].dir = LDP_DIR_UNKNOWN;
	run(&l, 60, 60, m, 0xf);
	assert_int_equal(l.level, LDP_LEVEL_CORE);
	assert_int_equal(r.located, 1);
	assert_int_equal(r.loc.pod, LDP_NONE);
	for (int p = 0; p < K; p++) {
		assert_int_equal(r.loc.role[p], LDP_ROLE_DOWN);
		assert_int_equal(last_sent(&r, p, LDP_TYPE_LDM)->dir, LDP_DIR_DOWN);
		assert_int_equal(last_sent(&r, p, LDP_TYPE_LDM)->pod, LDP_NONE);
	}
	assert_int_equal(l.c.miswirings, 0);
}

/* Makes an edge with aggregation switches on ports 0 and 1 and hosts on 2 and 3, at t ms. */
static int64_t make_edge(struct ldp *l, struct rec *r, struct ldp_msg *m)
{
	int64_t t = LDP_HOST_TIMEOUT_US / USEC_PER_MSEC;

	m[0] = ldm(1, LDP_LEVEL_UNKNOWN, LDP_DIR_UNKNOWN, LDP_NONE, LDP_NONE);
	m[1] = ldm(2, LDP_LEVEL_UNKNOWN, LDP_DIR_UNKNOWN, LDP_NONE, LDP_NONE);
	start(l, r);
	run(l, 0, t, m, 0x3);
	assert_int_equal(l->level, LDP_LEVEL_EDGE);
	m[0] = ldm(1, LDP_LEVEL_AGG, LDP_DIR_UNKNOWN, LDP_NONE, LDP_NONE);
	m[1] = ldm(2, LDP_LEVEL_AGG, LDP_DIR_UNKNOWN, LDP_NONE, LDP_NONE);
	return t;
}

static struct ldp_msg reply_to(const struct ldp_msg *prop, int agg, enum ldp_verdict v)
{
	struct ldp_msg m = ldm(agg, LDP_LEVEL_AGG, LDP_DIR_DOWN, LDP_NONE, LDP_NONE);

	m.type = LDP_TYPE_REPLY;
	m.proposal = prop->proposal;
	m.nonce = prop->nonce;
	m.verdict = v;
	m.proposer = self;
	return m;
}

/* Alg. 2 at the edge: proposals to both aggregation switches; a deny (no majority left)
 * retries at once on the other position; two accepts make it final; position 0 asks the FM,
 * whose answer locates the edge. */
static void edge_position_and_pod(void **state)
{
	struct ldp_msg m[K], rep, p0, p1;
	struct ldp l;
	struct rec r;
	int64_t t;

	t = make_edge(&l, &r, m);
	r.rnd[0] = 1;                       /* position 1 */
	r.rnd[1] = 0xabcd;                  /* nonce */
	r.rnd[2] = 0;                       /* then position 0 (the only one not denied) */
	r.rnd[3] = 0x1234;
	run(&l, t + 10, t + 10, m, 0x3);
	assert_non_null(last_sent(&r, 0, LDP_TYPE_PROPOSE));
	assert_non_null(last_sent(&r, 1, LDP_TYPE_PROPOSE));
	p0 = *last_sent(&r, 0, LDP_TYPE_PROPOSE);
	p1 = *last_sent(&r, 1, LDP_TYPE_PROPOSE);
	assert_int_equal(p0.proposal, 1);
	assert_int_equal(p0.nonce, 0xabcd);
	assert_int_equal(p1.nonce, 0xabcd);
	assert_int_equal(l.c.proposals, 1);
	rep = reply_to(&p0, 1, LDP_ACCEPT);
	ldp_rx(&l, at_ms(t + 11), 0, &rep);
	assert_int_equal(l.position, LDP_NONE);
	rep = reply_to(&p1, 2, LDP_DENY);
	ldp_rx(&l, at_ms(t + 11), 1, &rep);
	assert_int_equal(l.c.proposal_denied, 1);
	assert_int_equal(l.c.proposals, 2);
	/* the late accept of the first attempt counts for nothing */
	rep = reply_to(&p0, 1, LDP_ACCEPT);
	ldp_rx(&l, at_ms(t + 12), 0, &rep);
	assert_int_equal(l.c.stale_replies, 1);
	p0 = *last_sent(&r, 0, LDP_TYPE_PROPOSE);
	assert_int_equal(p0.proposal, 0);
	assert_int_equal(p0.nonce, 0x1234);
	rep = reply_to(&p0, 1, LDP_ACCEPT);
	ldp_rx(&l, at_ms(t + 12), 0, &rep);
	assert_int_equal(l.position, LDP_NONE);
	rep = reply_to(&p0, 2, LDP_ACCEPT);
	ldp_rx(&l, at_ms(t + 12), 1, &rep);
	assert_int_equal(l.position, 0);
	assert_int_equal(r.pod_requests, 1);
	assert_int_equal(last_sent(&r, 0, LDP_TYPE_LDM)->position, 0);
	assert_int_equal(r.located, 0);
	/* asked again every LDP_POD_RETRY_US until answered */
	run(&l, t + 20, t + 20 + LDP_POD_RETRY_US / USEC_PER_MSEC, m, 0x3);
	assert_int_equal(r.pod_requests, 2);
	ldp_pod_assigned(&l, at_ms(t + 1100), 17);
	assert_int_equal(r.located, 1);
	assert_int_equal(r.loc.level, LDP_LEVEL_EDGE);
	assert_int_equal(r.loc.pod, 17);
	assert_int_equal(r.loc.position, 0);
	assert_int_equal(r.loc.role[0], LDP_ROLE_UP);
	assert_int_equal(r.loc.role[1], LDP_ROLE_UP);
	assert_int_equal(r.loc.role[2], LDP_ROLE_HOST);
	assert_int_equal(r.loc.role[3], LDP_ROLE_HOST);
	assert_int_equal(last_sent(&r, 1, LDP_TYPE_LDM)->pod, 17);
	/* a second answer changes nothing */
	ldp_pod_assigned(&l, at_ms(t + 1101), 18);
	assert_int_equal(l.pod, 17);
	assert_int_equal(l.c.pod_answers_ignored, 1);
	assert_int_equal(r.located, 1);
}

/* No majority in LDP_PROPOSE_TIMEOUT_US: a new attempt, a new nonce. */
static void edge_proposal_times_out(void **state)
{
	struct ldp_msg m[K];
	struct ldp l;
	struct rec r;
	int64_t t;

	t = make_edge(&l, &r, m);
	r.rnd[1] = 1;
	r.rnd[3] = 2;
	run(&l, t + 10, t + 10, m, 0x3);
	assert_int_equal(last_sent(&r, 0, LDP_TYPE_PROPOSE)->nonce, 1);
	run(&l, t + 20, t + 10 + LDP_PROPOSE_TIMEOUT_US / USEC_PER_MSEC - 10, m, 0x3);
	assert_int_equal(l.c.proposals, 1);
	run(&l, t + 10 + LDP_PROPOSE_TIMEOUT_US / USEC_PER_MSEC, t + 10 +
	    LDP_PROPOSE_TIMEOUT_US / USEC_PER_MSEC, m, 0x3);
	assert_int_equal(l.c.proposal_timeouts, 1);
	assert_int_equal(l.c.proposals, 2);
	assert_int_equal(last_sent(&r, 0, LDP_TYPE_PROPOSE)->nonce, 2);
}

/* The edge learns its pod from an aggregation switch, not the FM, at a position other than 0. */
static void edge_pod_from_aggregation(void **state)
{
	struct ldp_msg m[K], rep;
	struct ldp l;
	struct rec r;
	int64_t t;

	t = make_edge(&l, &r, m);
	r.rnd[0] = 1;
	run(&l, t + 10, t + 10, m, 0x3);
	for (int p = 0; p < 2; p++) {
		rep = reply_to(last_sent(&r, p, LDP_TYPE_PROPOSE), p + 1, LDP_ACCEPT);
		ldp_rx(&l, at_ms(t + 11), p, &rep);
	}
	assert_int_equal(l.position, 1);
	assert_int_equal(r.pod_requests, 0);
	m[0].pod = 9;
	run(&l, t + 20, t + 20, m, 0x3);
	assert_int_equal(r.located, 1);
	assert_int_equal(r.loc.pod, 9);
	assert_int_equal(r.pod_requests, 0);
	/* the other aggregation switch says another pod: miswired, that port out */
	m[1].pod = 10;
	run(&l, t + 30, t + 30, m, 0x3);
	assert_int_equal(r.miswires, 1);
	assert_int_equal(r.miswire_port, 1);
	assert_int_equal(r.miswire_why, LDP_MISWIRE_POD);
	assert_int_equal(r.loc.role[1], LDP_ROLE_MISWIRED);
	assert_int_equal(r.located, 2);
	run(&l, t + 40, t + 100, m, 0x3);
	assert_int_equal(r.miswires, 1);
}

/* Makes an aggregation switch hearing edges on ports 0 and 1 (ids 1, 2), unknown switches
 * on 2 and 3. */
static void make_agg(struct ldp *l, struct rec *r, struct ldp_msg *m)
{
	m[0] = ldm(1, LDP_LEVEL_EDGE, LDP_DIR_UP, LDP_NONE, LDP_NONE);
	m[1] = ldm(2, LDP_LEVEL_EDGE, LDP_DIR_UP, LDP_NONE, LDP_NONE);
	m[2] = ldm(3, LDP_LEVEL_UNKNOWN, LDP_DIR_UNKNOWN, LDP_NONE, LDP_NONE);
	m[3] = ldm(4, LDP_LEVEL_UNKNOWN, LDP_DIR_UNKNOWN, LDP_NONE, LDP_NONE);
	start(l, r);
	run(l, 0, 0, m, 0xf);
	assert_int_equal(l->level, LDP_LEVEL_AGG);
}

static enum ldp_verdict propose_to(struct ldp *l, struct rec *r, int64_t t, int edge, int pos)
{
	struct ldp_msg m = ldm(edge, LDP_LEVEL_EDGE, LDP_DIR_UP, LDP_NONE, LDP_NONE);
	const struct ldp_msg *rep;

	m.type = LDP_TYPE_PROPOSE;
	m.proposal = (uint8_t)pos;
	m.nonce = 1000u + (uint32_t)edge;
	ldp_rx(l, at_ms(t), edge - 1, &m);
	rep = last_sent(r, edge - 1, LDP_TYPE_REPLY);
	assert_non_null(rep);
	assert_int_equal(rep->nonce, m.nonce);
	assert_int_equal(rep->proposal, pos);
	assert_memory_equal(rep->proposer.b, m.switch_id.b, MAC_LEN);
	assert_int_equal(rep->level, LDP_LEVEL_AGG);
	return rep->verdict;
}

/* Alg. 2 at an aggregation switch: a position held for one edge is denied to another until
 * the hold runs out; a final one (announced in the edge's LDM) is denied for good; positions
 * past k/2 are denied. */
static void aggregation_holds_and_denies(void **state)
{
	struct ldp_msg m[K];
	int64_t hold = LDP_HOLD_US / USEC_PER_MSEC;
	struct ldp l;
	struct rec r;

	make_agg(&l, &r, m);
	assert_int_equal(propose_to(&l, &r, 1, 1, 0), LDP_ACCEPT);
	assert_int_equal(propose_to(&l, &r, 2, 2, 0), LDP_DENY);
	assert_int_equal(propose_to(&l, &r, 3, 2, K / 2), LDP_DENY);
	assert_int_equal(propose_to(&l, &r, 1 + hold - 1, 2, 0), LDP_DENY);
	assert_int_equal(propose_to(&l, &r, 1 + hold, 2, 0), LDP_ACCEPT);
	/* edge 2 announces position 0 as final; edge 1 cannot have it, even after the hold */
	m[1].position = 0;
	ldp_rx(&l, at_ms(1 + hold), 1, &m[1]);
	assert_int_equal(propose_to(&l, &r, 10 * hold, 1, 0), LDP_DENY);
	assert_int_equal(propose_to(&l, &r, 10 * hold, 1, 1), LDP_ACCEPT);
	/* edge 1 claiming position 0 too: reported, not taken */
	m[0].position = 0;
	ldp_rx(&l, at_ms(10 * hold), 0, &m[0]);
	assert_int_equal(r.miswires, 1);
	assert_int_equal(r.miswire_port, 0);
	assert_int_equal(r.miswire_why, LDP_MISWIRE_POSITION);
	assert_memory_equal(l.slot[0].owner.b, nb_id(2).b, MAC_LEN);
	/* edge 2's port goes down: its position is free again */
	ldp_port_down(&l, at_ms(10 * hold), 1);
	assert_true(mac_eq(&l.slot[0].owner, &mac_zero));
	assert_int_equal(l.c.drops[PKT_DROP_LDP_UNEXPECTED], 0);
}

/* A proposal to a switch that is not aggregation, and a reply for someone else. */
static void unexpected_dropped(void **state)
{
	struct ldp_msg m[K], p = ldm(1, LDP_LEVEL_EDGE, LDP_DIR_UP, LDP_NONE, LDP_NONE), rep;
	struct ldp l;
	struct rec r;

	start(&l, &r);
	p.type = LDP_TYPE_PROPOSE;
	ldp_rx(&l, at_ms(0), 0, &p);
	assert_int_equal(l.c.drops[PKT_DROP_LDP_UNEXPECTED], 1);
	assert_null(last_sent(&r, 0, LDP_TYPE_REPLY));
	make_edge(&l, &r, m);
	rep = reply_to(&p, 1, LDP_ACCEPT);
	rep.proposer = nb_id(9);
	ldp_rx(&l, at_ms(1000), 0, &rep);
	assert_int_equal(l.c.drops[PKT_DROP_LDP_UNEXPECTED], 1);
}

/* The paper's miswired edge: it hears an edge and an aggregation switch. */
static void miswired_edge_hears_edge_and_agg(void **state)
{
	struct ldp_msg m[K] = {
		ldm(1, LDP_LEVEL_AGG, LDP_DIR_UNKNOWN, LDP_NONE, LDP_NONE),
		ldm(2, LDP_LEVEL_EDGE, LDP_DIR_UP, LDP_NONE, LDP_NONE),
	};
	struct ldp l;
	struct rec r;

	start(&l, &r);
	run(&l, 0, 0, m, 0x3);
	assert_int_equal(l.level, LDP_LEVEL_EDGE);
	assert_int_equal(r.miswires, 1);
	assert_int_equal(r.miswire_port, 1);
	assert_int_equal(r.miswire_why, LDP_MISWIRE_EDGE_EDGE);
	assert_memory_equal(r.miswire_seen.b, nb_id(2).b, MAC_LEN);
	assert_int_equal(l.c.miswirings, 1);
	/* reported once while it holds */
	run(&l, 10, 200, m, 0x3);
	assert_int_equal(r.miswires, 1);
	/* no proposal over the miswired port */
	assert_null(last_sent(&r, 1, LDP_TYPE_PROPOSE));
}

/* Hearing an edge with a port still silent: an edge cabled to another edge's host port
 * looks like that until its own aggregation switches decide, so it waits two host timeouts
 * before concluding aggregation (an aggregation switch with a dead neighbour). */
static void aggregation_with_silent_port_waits(void **state)
{
	struct ldp_msg m[K] = {
		ldm(1, LDP_LEVEL_EDGE, LDP_DIR_UP, LDP_NONE, LDP_NONE),
		ldm(2, LDP_LEVEL_UNKNOWN, LDP_DIR_UNKNOWN, LDP_NONE, LDP_NONE),
		ldm(3, LDP_LEVEL_UNKNOWN, LDP_DIR_UNKNOWN, LDP_NONE, LDP_NONE),
	};
	int64_t two = 2 * LDP_HOST_TIMEOUT_US / USEC_PER_MSEC;
	struct ldp l;
	struct rec r;

	start(&l, &r);
	run(&l, 0, two - 10, m, 0x7);
	assert_int_equal(l.level, LDP_LEVEL_UNKNOWN);
	run(&l, two, two, m, 0x7);
	assert_int_equal(l.level, LDP_LEVEL_AGG);
	assert_int_equal(l.c.miswirings, 0);
}

/* More than k/2 switches, but only k/2 of them aggregation and a host port: an edge with a
 * host port cabled to a switch, which it reports once that switch says it is an edge. */
static void edge_with_host_port_to_switch(void **state)
{
	struct ldp_msg m[K] = {
		ldm(1, LDP_LEVEL_AGG, LDP_DIR_UNKNOWN, LDP_NONE, LDP_NONE),
		ldm(2, LDP_LEVEL_AGG, LDP_DIR_UNKNOWN, LDP_NONE, LDP_NONE),
		ldm(3, LDP_LEVEL_UNKNOWN, LDP_DIR_UNKNOWN, LDP_NONE, LDP_NONE),
	};
	int64_t t = LDP_HOST_TIMEOUT_US / USEC_PER_MSEC;
	struct ldp l;
	struct rec r;

	start(&l, &r);
	run(&l, 0, t - 10, m, 0x7);
	assert_int_equal(l.level, LDP_LEVEL_UNKNOWN);
	run(&l, t, t, m, 0x7);
	assert_int_equal(l.level, LDP_LEVEL_EDGE);
	assert_int_equal(l.port[3].state, LDP_PORT_HOST);
	assert_int_equal(r.miswires, 0);
	m[2] = ldm(3, LDP_LEVEL_EDGE, LDP_DIR_UP, LDP_NONE, LDP_NONE);
	run(&l, t + 10, t + 10, m, 0x7);
	assert_int_equal(r.miswires, 1);
	assert_int_equal(r.miswire_port, 2);
	assert_int_equal(r.miswire_why, LDP_MISWIRE_EDGE_EDGE);
}

/* An edge that decided with one of its k/2 aggregation switches silent (not started yet) took
 * that port for a host; the switch starts later: its LDMs make the port an uplink, unless a
 * host has spoken on it (then they are a miswiring). */
static void late_switch_on_host_port(void **state)
{
	struct ldp_msg m[K] = {
		ldm(1, LDP_LEVEL_AGG, LDP_DIR_UNKNOWN, LDP_NONE, LDP_NONE),
	};
	int64_t t = LDP_HOST_TIMEOUT_US / USEC_PER_MSEC;
	struct ldp_msg late = ldm(2, LDP_LEVEL_AGG, LDP_DIR_DOWN, LDP_NONE, LDP_NONE);
	struct ldp l;
	struct rec r;

	start(&l, &r);
	run(&l, 0, t, m, 0x1);
	assert_int_equal(l.level, LDP_LEVEL_EDGE);
	assert_int_equal(l.port[1].state, LDP_PORT_HOST);
	assert_int_equal(l.port[2].state, LDP_PORT_HOST);
	/* a host speaks on port 2 only */
	ldp_host_seen(&l, 2);
	late.port = 1;
	ldp_rx(&l, at_ms(t + 5), 1, &late);
	assert_int_equal(l.port[1].state, LDP_PORT_SWITCH);
	assert_int_equal(l.c.late_switches, 1);
	assert_int_equal(r.miswires, 0);
	/* with both uplinks, no other host port is taken, spoken on or not */
	late.switch_id.b[5] = 9;
	ldp_rx(&l, at_ms(t + 6), 3, &late);
	assert_int_equal(l.port[3].state, LDP_PORT_HOST);
	assert_int_equal(r.miswires, 1);
	assert_int_equal(r.miswire_why, LDP_MISWIRE_HOST_PORT);
	assert_int_equal(l.c.late_switches, 1);
	/* and an edge short of uplinks still refuses LDMs where a host has spoken */
	start(&l, &r);
	run(&l, 0, t, m, 0x1);
	ldp_host_seen(&l, 1);
	ldp_rx(&l, at_ms(t + 5), 1, &late);
	assert_int_equal(l.port[1].state, LDP_PORT_HOST);
	assert_int_equal(l.c.drops[PKT_DROP_LDP_HOST_PORT], 1);
	assert_int_equal(r.miswire_why, LDP_MISWIRE_HOST_PORT);
}

/* An aggregation switch whose cores started late took itself for an edge: its k/2 "uplinks"
 * are edges. A core's LDM on a "host port" takes the decision back: level unknown again,
 * located no more (reported), host ports silent with their timers restarted, miswirings
 * cleared; then it finds it is an aggregation switch. */
static void wrong_edge_takes_it_back(void **state)
{
	struct ldp_msg m[K] = {
		ldm(1, LDP_LEVEL_UNKNOWN, LDP_DIR_UNKNOWN, LDP_NONE, LDP_NONE),
		ldm(2, LDP_LEVEL_UNKNOWN, LDP_DIR_UNKNOWN, LDP_NONE, LDP_NONE),
	};
	int64_t t = LDP_HOST_TIMEOUT_US / USEC_PER_MSEC;
	struct ldp l;
	struct rec r;

	start(&l, &r);
	run(&l, 0, t, m, 0x3);
	assert_int_equal(l.level, LDP_LEVEL_EDGE);
	/* its "uplinks" decide they are edges too: each end reports the other */
	m[0] = ldm(1, LDP_LEVEL_EDGE, LDP_DIR_UP, LDP_NONE, LDP_NONE);
	m[1] = ldm(2, LDP_LEVEL_EDGE, LDP_DIR_UP, LDP_NONE, LDP_NONE);
	run(&l, t + 10, t + 20, m, 0x3);
	assert_int_equal(r.miswires, 2);
	assert_int_equal(r.miswire_why, LDP_MISWIRE_EDGE_EDGE);
	/* a core speaks on port 2 */
	m[2] = ldm(3, LDP_LEVEL_UNKNOWN, LDP_DIR_UNKNOWN, LDP_NONE, LDP_NONE);
	m[3] = ldm(4, LDP_LEVEL_UNKNOWN, LDP_DIR_UNKNOWN, LDP_NONE, LDP_NONE);
	ldp_rx(&l, at_ms(t + 25), 2, &m[2]);
	assert_int_equal(l.c.level_resets, 1);
	assert_int_equal(l.port[2].state, LDP_PORT_SWITCH);
	assert_int_equal(l.port[3].state, LDP_PORT_SILENT);
	assert_int_equal(l.port[0].miswired, 0);
	/* k switches, edges among them, no silent port: an aggregation switch at once */
	run(&l, t + 30, t + 30, m, 0xf);
	assert_int_equal(l.level, LDP_LEVEL_AGG);
	assert_int_equal(l.c.level_resets, 1);
	for (int p = 0; p < K; p++)
		assert_int_equal(l.port[p].miswired, 0);
}

/* Levels that cannot face each other: an aggregation switch hearing another. */
static void miswired_levels(void **state)
{
	struct ldp_msg m[K];
	struct ldp l;
	struct rec r;

	make_agg(&l, &r, m);
	m[2] = ldm(3, LDP_LEVEL_AGG, LDP_DIR_UNKNOWN, LDP_NONE, LDP_NONE);
	run(&l, 10, 10, m, 0xf);
	assert_int_equal(r.miswires, 1);
	assert_int_equal(r.miswire_port, 2);
	assert_int_equal(r.miswire_why, LDP_MISWIRE_LEVEL);
}

/* LDMs on a host port are dropped, counted and reported; malformed payloads are counted by
 * reason; our own LDMs back on a port are a loop. None changes the location. */
static void drops_counted(void **state)
{
	static const uint8_t short_ldm[10] = { 1, 1, 0, 20 };
	uint8_t bad_version[LDP_HDR_LEN];
	struct ldp_msg m[K], own = ldm(1, 0, 0, LDP_NONE, LDP_NONE), host;
	struct ldp_location before, after;
	struct ldp l;
	struct rec r;

	make_edge(&l, &r, m);
	ldp_location(&l, &before);
	host = ldm(7, LDP_LEVEL_EDGE, LDP_DIR_UP, LDP_NONE, LDP_NONE);
	ldp_rx(&l, at_ms(1000), 2, &host);
	ldp_rx(&l, at_ms(1001), 2, &host);
	assert_int_equal(l.c.drops[PKT_DROP_LDP_HOST_PORT], 2);
	assert_int_equal(r.miswires, 1);
	assert_int_equal(r.miswire_port, 2);
	assert_int_equal(r.miswire_why, LDP_MISWIRE_HOST_PORT);
	assert_int_equal(l.port[2].state, LDP_PORT_HOST);

	ldp_rx_payload(&l, at_ms(1002), 3, short_ldm, sizeof(short_ldm));
	assert_int_equal(ldp_build(bad_version, sizeof(bad_version), &host), LDP_HDR_LEN);
	bad_version[0] = 2;
	ldp_rx_payload(&l, at_ms(1002), 3, bad_version, sizeof(bad_version));
	assert_int_equal(l.c.drops[PKT_DROP_TRUNCATED], 1);
	assert_int_equal(l.c.drops[PKT_DROP_LDP_VERSION], 1);
	ldp_rx(&l, at_ms(1002), K, &host);
	assert_int_equal(l.c.drops[PKT_DROP_LDP_PORT], 1);

	own.switch_id = self;
	ldp_rx(&l, at_ms(1003), 3, &own);
	assert_int_equal(l.c.drops[PKT_DROP_OWN_FRAME], 1);
	assert_int_equal(r.miswire_why, LDP_MISWIRE_SELF);
	assert_int_equal(r.miswires, 2);
	ldp_location(&l, &after);
	assert_memory_equal(&before, &after, sizeof(before));
}

/* Started, its K ports hearing aggregation switches of pod 3 (m), and located (a core). */
static void start_among_aggs(struct ldp *l, struct rec *r, struct ldp_msg m[K])
{
	for (int p = 0; p < K; p++)
		m[p] = ldm(p + 1, LDP_LEVEL_AGG, LDP_DIR_UNKNOWN, 3, LDP_NONE);
	start(l, r);
	run(l, 0, 0, m, 0xf);
	assert_int_equal(r->located, 1);
}

/* A neighbour silent for LDP_DEAD_US is lost: its port has no role until it speaks again. */
static void neighbour_lost_and_back(void **state)
{
	struct ldp_msg m[K];
	int64_t dead = LDP_DEAD_US / USEC_PER_MSEC;
	struct ldp l;
	struct rec r;

	start_among_aggs(&l, &r, m);
	run(&l, 10, dead - 10, m, 0x7);
	assert_int_equal(l.port[3].state, LDP_PORT_SWITCH);
	run(&l, dead, dead, m, 0x7);
	assert_int_equal(l.port[3].state, LDP_PORT_LOST);
	assert_int_equal(l.c.neighbours_lost, 1);
	assert_int_equal(r.located, 2);
	assert_int_equal(r.loc.role[3], LDP_ROLE_NONE);
	m[3].dir = LDP_DIR_UP;
	run(&l, 20 + dead, 20 + dead, m, 0xf);
	assert_int_equal(r.located, 3);
	assert_int_equal(r.loc.role[3], LDP_ROLE_DOWN);
	assert_int_equal(l.level, LDP_LEVEL_CORE);
}

/* The machine wakes for a neighbour's dead time on its own: a neighbour last heard between
 * two periods is lost LDP_DEAD_US after that LDM, not at the next period after it. */
static void neighbour_lost_at_its_deadline(void **state)
{
	struct ldp_msg m[K];
	int64_t dead = LDP_DEAD_US / USEC_PER_MSEC;
	struct ldp l;
	struct rec r;

	start_among_aggs(&l, &r, m);
	ldp_rx(&l, at_ms(3), 3, &m[3]);
	run(&l, 10, dead, m, 0x7);
	assert_int_equal(l.port[3].state, LDP_PORT_SWITCH);
	assert_int_equal(ldp_next_deadline(&l).us, at_ms(3 + dead).us);
	ldp_tick(&l, at_ms(3 + dead));
	assert_int_equal(l.port[3].state, LDP_PORT_LOST);
	assert_int_equal(l.c.neighbours_lost, 1);
	assert_int_equal(r.loc.role[3], LDP_ROLE_NONE);
	/* no neighbour left to wait for: the next LDM again */
	assert_int_equal(ldp_next_deadline(&l).us, at_ms(dead + 10).us);
}

/* A tick more than a period late is a stall of our own (or of the machine): the neighbours
 * are given one period from then, and only one whose LDMs still do not come is lost. */
static void stall_is_no_loss(void **state)
{
	struct ldp_msg m[K];
	int64_t dead = LDP_DEAD_US / USEC_PER_MSEC;
	struct ldp l;
	struct rec r;

	start_among_aggs(&l, &r, m);
	ldp_tick(&l, at_ms(dead + 10));       /* nothing ran for dead + 10 ms */
	assert_int_equal(l.c.stalls, 1);
	assert_int_equal(l.c.neighbours_lost, 0);
	for (int p = 0; p < K; p++)
		assert_int_equal(l.port[p].state, LDP_PORT_SWITCH);
	for (int p = 0; p < 3; p++)
		ldp_rx(&l, at_ms(dead + 11), p, &m[p]);
	assert_int_equal(ldp_next_deadline(&l).us, at_ms(dead + 20).us);
	ldp_tick(&l, at_ms(dead + 20));       /* a period on: port 3's neighbour still silent */
	assert_int_equal(l.c.stalls, 1);
	assert_int_equal(l.port[3].state, LDP_PORT_LOST);
	assert_int_equal(l.c.neighbours_lost, 1);
	for (int p = 0; p < 3; p++)
		assert_int_equal(l.port[p].state, LDP_PORT_SWITCH);
}

/* Every tick late (a load that never lets the loop keep time): one grace a dead time, no
 * more - a neighbour whose LDMs stopped is lost all the same. */
static void stalls_do_not_keep_the_dead(void **state)
{
	struct ldp_msg m[K];
	struct ldp l;
	struct rec r;
	int64_t t = 0;

	start_among_aggs(&l, &r, m);
	for (int i = 0; i < 20 && l.port[3].state == LDP_PORT_SWITCH; i++) {
		t = ldp_next_deadline(&l).us / USEC_PER_MSEC - at_ms(0).us / USEC_PER_MSEC + 15;
		for (int p = 0; p < 3; p++)
			ldp_rx(&l, at_ms(t - 1), p, &m[p]);
		ldp_tick(&l, at_ms(t));     /* each tick 15 ms (1.5 periods) late */
	}
	assert_int_equal(l.port[3].state, LDP_PORT_LOST);
	assert_true(l.c.stalls >= 2);
	assert_true(t <= 2 * LDP_DEAD_US / USEC_PER_MSEC + 30);
	for (int p = 0; p < 3; p++)
		assert_int_equal(l.port[p].state, LDP_PORT_SWITCH);
}

static void names(void **state)
{
	assert_string_equal(ldp_role_name(LDP_ROLE_HOST), "host");
	assert_string_equal(ldp_miswire_name(LDP_MISWIRE_EDGE_EDGE), "edge_to_edge");
	assert_string_equal(ldp_miswire_name(LDP_MISWIRE_COUNT), "?");
	assert_string_equal(ldp_port_state_name(LDP_PORT_LOST), "lost");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_rejects),
		cmocka_unit_test(ldms_every_period),
		cmocka_unit_test(edge_after_timeout),
		cmocka_unit_test(many_switches_never_edge),
		cmocka_unit_test(aggregation_on_hearing_edge),
		cmocka_unit_test(core_when_all_neighbours_undirected_aggs),
		cmocka_unit_test(edge_position_and_pod),
		cmocka_unit_test(edge_proposal_times_out),
		cmocka_unit_test(edge_pod_from_aggregation),
		cmocka_unit_test(aggregation_holds_and_denies),
		cmocka_unit_test(unexpected_dropped),
		cmocka_unit_test(miswired_edge_hears_edge_and_agg),
		cmocka_unit_test(aggregation_with_silent_port_waits),
		cmocka_unit_test(edge_with_host_port_to_switch),
		cmocka_unit_test(late_switch_on_host_port),
		cmocka_unit_test(wrong_edge_takes_it_back),
		cmocka_unit_test(miswired_levels),
		cmocka_unit_test(drops_counted),
		cmocka_unit_test(neighbour_lost_and_back),
		cmocka_unit_test(neighbour_lost_at_its_deadline),
		cmocka_unit_test(stall_is_no_loss),
		cmocka_unit_test(stalls_do_not_keep_the_dead),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
