/*
 * test_ldp_fattree.c - LDP (switchd/ldp.c) converging in a k-ary fat tree, in memory: every
 * switch is one state machine, links are a message queue with a fixed delay that carries the
 * frames ldp_build_frame makes (so the codec is on the path), the clock is simulated and the
 * fabric manager is a table handing out pod numbers. Each run starts the switches in a
 * random order (fixed seeds) with random port numbering, and checks what the paper says the
 * result must be: the right level everywhere, one pod number per pod shared by its edges and
 * aggregation switches, edge positions a permutation of 0..k/2-1 in every pod, no pod on a
 * core, the right direction on every port - within a bounded number of LDM periods, and
 * stable afterwards. A miswired fabric (two edges joined, through uplinks or host ports) is
 * reported on both ends and the rest still converges.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "ldp.h"
#include "pkt/eth.h"

#define SIM_MAX_SW 48          /* k = 6: 9 cores, 18 aggregation, 18 edge switches */
#define SIM_QUEUE (1 << 15)
#define SIM_LINK_DELAY_US 200
#define SIM_START_STEP_US (4 * USEC_PER_MSEC)
#define SIM_T0_US USEC_PER_SEC

struct sim;

struct sim_port {
	int peer;              /* switch index, -1: none */
	int peer_port;
	bool host;             /* a host is connected: up, and never sends an LDM */
	enum ldp_role want;
};

struct sim_sw {
	struct sim *sim;
	int idx;
	struct mac id;
	enum ldp_level want_level;
	int pod_idx;           /* which pod it was built in; -1 for a core */
	struct sim_port port[LDP_MAX_PORTS];
	int64_t start_at;
	bool started;
	uint32_t rng;
	struct ldp l;
	bool located;
	struct ldp_location loc, first_loc;
	int located_calls;
	int miswires;
	int miswire_port;
	enum ldp_miswire miswire_why;
	struct mac miswire_seen;
};

struct sim_event {
	int64_t at;
	int dst;
	int port;              /* -1: the fabric manager's answer */
	int pod;
	uint8_t frame[ETH_MIN_FRAME];
	size_t len;
};

struct sim {
	int k, n;
	int64_t now;
	struct sim_sw sw[SIM_MAX_SW];
	struct sim_event q[SIM_QUEUE];
	size_t head, tail;
	struct mac fm_ids[SIM_MAX_SW];
	int fm_pods[SIM_MAX_SW];
	int fm_n;
	uint32_t rng;
	uint64_t frames;
};

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void shuffle(int *a, int n, uint32_t *rng)
{
	for (int i = n - 1; i > 0; i--) {
		int j = (int)(xorshift(rng) % (uint32_t)(i + 1)), t = a[i];

		a[i] = a[j];
		a[j] = t;
	}
}

static void enqueue(struct sim *s, const struct sim_event *e)
{
	assert_true(s->tail - s->head < SIM_QUEUE);
	s->q[s->tail++ % SIM_QUEUE] = *e;
}

static void op_send(void *ctx, int port, const struct ldp_msg *m)
{
	struct sim_sw *sw = ctx;
	struct sim *s = sw->sim;
	const struct sim_port *sp = &sw->port[port];
	struct sim_event e = { .at = s->now + SIM_LINK_DELAY_US, .port = sp->peer_port };
	ssize_t n = ldp_build_frame(e.frame, sizeof(e.frame), &sw->id, m);

	assert_int_equal(n, ETH_MIN_FRAME);
	s->frames++;
	if (sp->peer < 0 || !s->sw[sp->peer].started)
		return;
	e.dst = sp->peer;
	e.len = (size_t)n;
	enqueue(s, &e);
}

/* The fabric manager: one pod number per asking switch, the same one if it asks again. */
static void op_request_pod(void *ctx)
{
	struct sim_sw *sw = ctx;
	struct sim *s = sw->sim;
	struct sim_event e = { .at = s->now + SIM_LINK_DELAY_US, .dst = sw->idx, .port = -1 };
	int i;

	for (i = 0; i < s->fm_n && !mac_eq(&s->fm_ids[i], &sw->id); i++)
		;
	if (i == s->fm_n) {
		s->fm_ids[i] = sw->id;
		s->fm_pods[i] = 100 + 7 * i;   /* any numbers: nothing may assume 0..k-1 */
		s->fm_n++;
	}
	e.pod = s->fm_pods[i];
	enqueue(s, &e);
}

static void op_located(void *ctx, const struct ldp_location *loc)
{
	struct sim_sw *sw = ctx;

	sw->located = true;
	sw->loc = *loc;
	if (!sw->located_calls++)
		sw->first_loc = *loc;
}

static void op_miswired(void *ctx, int port, enum ldp_miswire why, const struct ldp_msg *seen)
{
	struct sim_sw *sw = ctx;

	sw->miswires++;
	sw->miswire_port = port;
	sw->miswire_why = why;
	sw->miswire_seen = seen->switch_id;
}

static uint32_t op_random(void *ctx)
{
	return xorshift(&((struct sim_sw *)ctx)->rng);
}

static const struct ldp_ops sim_ops = {
	op_send, op_request_pod, op_located, op_miswired, op_random,
};

static struct monotime sim_time(const struct sim *s)
{
	return (struct monotime){ .us = s->now };
}

/* ---- building the fat tree ---- */

static int add_switch(struct sim *s, enum ldp_level level, int pod_idx, int *slot_to_port)
{
	struct sim_sw *sw = &s->sw[s->n];
	int perm[LDP_MAX_PORTS];

	memset(sw, 0, sizeof(*sw));
	sw->sim = s;
	sw->idx = s->n;
	sw->want_level = level;
	sw->pod_idx = pod_idx;
	sw->rng = xorshift(&s->rng) | 1;
	sw->id = (struct mac){ { 0x02, 0x00, (uint8_t)(xorshift(&s->rng) & 0xff), 0x00,
				 (uint8_t)(s->n >> 8), (uint8_t)s->n } };
	for (int p = 0; p < s->k; p++) {
		perm[p] = p;
		sw->port[p].peer = -1;
	}
	/* random port numbering: nothing may depend on which port faces which way */
	shuffle(perm, s->k, &s->rng);
	memcpy(slot_to_port, perm, sizeof(int) * (size_t)s->k);
	return s->n++;
}

static void link_ports(struct sim *s, int a, int pa, int b, int pb, enum ldp_role wa,
		       enum ldp_role wb)
{
	s->sw[a].port[pa] = (struct sim_port){ .peer = b, .peer_port = pb, .want = wa };
	s->sw[b].port[pb] = (struct sim_port){ .peer = a, .peer_port = pa, .want = wb };
}

struct tree {
	int edge[8][4], agg[8][4], core[16];     /* switch index, by pod and position */
	int edge_port[8][4][8], agg_port[8][4][8], core_port[16][8];
};

/* k pods of k/2 edges and k/2 aggregation switches, (k/2)^2 cores; edge e of pod p has
 * slots 0..k/2-1 to the pod's aggregation switches and the rest to hosts; aggregation
 * switch a has slots 0..k/2-1 to the edges and k/2+i to core a*k/2+i; core c has slot p
 * to pod p. */
static void build_fattree(struct sim *s, struct tree *t, int k, uint32_t seed)
{
	int h = k / 2;

	memset(s, 0, sizeof(*s));
	s->k = k;
	s->rng = seed;
	s->now = SIM_T0_US;
	for (int c = 0; c < h * h; c++)
		t->core[c] = add_switch(s, LDP_LEVEL_CORE, -1, t->core_port[c]);
	for (int p = 0; p < k; p++) {
		for (int i = 0; i < h; i++) {
			t->edge[p][i] = add_switch(s, LDP_LEVEL_EDGE, p, t->edge_port[p][i]);
			t->agg[p][i] = add_switch(s, LDP_LEVEL_AGG, p, t->agg_port[p][i]);
		}
	}
	for (int p = 0; p < k; p++) {
		for (int e = 0; e < h; e++) {
			for (int a = 0; a < h; a++)
				link_ports(s, t->edge[p][e], t->edge_port[p][e][a], t->agg[p][a],
					   t->agg_port[p][a][e], LDP_ROLE_UP, LDP_ROLE_DOWN);
			for (int hp = h; hp < k; hp++) {
				struct sim_port *sp = &s->sw[t->edge[p][e]].port[t->edge_port[p][e][hp]];

				sp->host = true;
				sp->want = LDP_ROLE_HOST;
			}
		}
		for (int a = 0; a < h; a++)
			for (int i = 0; i < h; i++)
				link_ports(s, t->agg[p][a], t->agg_port[p][a][h + i], t->core[a * h + i],
					   t->core_port[a * h + i][p], LDP_ROLE_UP, LDP_ROLE_DOWN);
	}
}

static int64_t start_step_us = SIM_START_STEP_US;

/* Random start order: one switch every start_step_us (SIM_START_STEP_US: all within the host
 * timeout). */
static void schedule_starts(struct sim *s)
{
	int order[SIM_MAX_SW];

	for (int i = 0; i < s->n; i++)
		order[i] = i;
	shuffle(order, s->n, &s->rng);
	for (int r = 0; r < s->n; r++)
		s->sw[order[r]].start_at = SIM_T0_US + (int64_t)r * start_step_us +
					   xorshift(&s->rng) % start_step_us;
}

/* ---- running ---- */

static void start(struct sim *s, struct sim_sw *sw)
{
	assert_int_equal(ldp_init(&sw->l, &sw->id, s->k, sim_time(s), NULL, &sim_ops, sw), 0);
	sw->started = true;
	for (int p = 0; p < s->k; p++)
		if (sw->port[p].peer >= 0 || sw->port[p].host)
			ldp_port_up(&sw->l, sim_time(s), p);
}

static void deliver(struct sim *s, const struct sim_event *e)
{
	struct sim_sw *sw = &s->sw[e->dst];
	struct eth_hdr eth;

	if (e->port < 0) {
		ldp_pod_assigned(&sw->l, sim_time(s), e->pod);
		return;
	}
	assert_int_equal(eth_parse(e->frame, e->len, &eth), 0);
	assert_int_equal(eth.type, ETHERTYPE_LDP);
	ldp_rx_payload(&sw->l, sim_time(s), e->port, e->frame + ETH_HDR_LEN, e->len - ETH_HDR_LEN);
}

static int64_t next_event(const struct sim *s)
{
	int64_t t = INT64_MAX;

	if (s->head != s->tail)
		t = s->q[s->head % SIM_QUEUE].at;
	for (int i = 0; i < s->n; i++) {
		const struct sim_sw *sw = &s->sw[i];
		int64_t d = sw->started ? ldp_next_deadline(&sw->l).us : sw->start_at;

		if (d < t)
			t = d;
	}
	return t;
}

static void run_until(struct sim *s, int64_t until)
{
	for (int64_t t = next_event(s); t <= until; t = next_event(s)) {
		s->now = t;
		for (int i = 0; i < s->n; i++)
			if (!s->sw[i].started && s->sw[i].start_at <= t)
				start(s, &s->sw[i]);
		while (s->head != s->tail && s->q[s->head % SIM_QUEUE].at <= t)
			deliver(s, &s->q[s->head++ % SIM_QUEUE]);
		for (int i = 0; i < s->n; i++)
			if (s->sw[i].started && ldp_next_deadline(&s->sw[i].l).us <= t)
				ldp_tick(&s->sw[i].l, sim_time(s));
	}
	s->now = until;
}

/* ---- what the result must be ---- */

static bool switch_right(const struct sim_sw *sw)
{
	if (!sw->located || sw->loc.level != sw->want_level)
		return false;
	if ((sw->want_level == LDP_LEVEL_CORE) != (sw->loc.pod == LDP_NONE))
		return false;
	if ((sw->want_level == LDP_LEVEL_EDGE) != (sw->loc.position != LDP_NONE))
		return false;
	for (int p = 0; p < sw->loc.nports; p++)
		if (sw->loc.role[p] != sw->port[p].want)
			return false;
	return true;
}

/* One pod number per pod, distinct between pods; positions a permutation of 0..k/2-1. */
static bool pods_right(const struct sim *s, const struct tree *t)
{
	int h = s->k / 2, pods[8];

	for (int p = 0; p < s->k; p++) {
		unsigned positions = 0;

		pods[p] = s->sw[t->edge[p][0]].loc.pod;
		for (int i = 0; i < h; i++) {
			const struct sim_sw *e = &s->sw[t->edge[p][i]], *a = &s->sw[t->agg[p][i]];

			if (e->loc.pod != pods[p] || a->loc.pod != pods[p] || e->loc.position < 0 ||
			    e->loc.position >= h)
				return false;
			positions |= 1u << e->loc.position;
		}
		if (positions != (1u << h) - 1)
			return false;
		for (int q = 0; q < p; q++)
			if (pods[q] == pods[p])
				return false;
	}
	return true;
}

static bool converged(const struct sim *s, const struct tree *t)
{
	for (int i = 0; i < s->n; i++)
		if (!switch_right(&s->sw[i]))
			return false;
	return pods_right(s, t);
}

static uint64_t drops(const struct sim_sw *sw)
{
	uint64_t n = 0;

	for (int i = 0; i < PKT_DROP_COUNT; i++)
		n += sw->l.c.drops[i];
	return n;
}

/* Bound: the start window, the host timeout (the edges' decision), and 50 periods for the
 * levels to climb the tree, the positions to settle and the pods to spread. */
static int64_t bound_periods(const struct sim *s)
{
	return ((int64_t)s->n * start_step_us + LDP_HOST_TIMEOUT_US) / LDP_LDM_PERIOD_US + 50;
}

/* Runs period by period until converged; returns the periods it took, or -1. */
static int64_t run_to_convergence(struct sim *s, const struct tree *t)
{
	int64_t limit = 3 * bound_periods(s);

	for (int64_t n = 1; n <= limit; n++) {
		run_until(s, SIM_T0_US + n * LDP_LDM_PERIOD_US);
		if (converged(s, t))
			return n;
	}
	return -1;
}

static void check_fattree(int k, uint32_t seed)
{
	struct sim *s = calloc(1, sizeof(*s));
	struct tree t;
	int64_t periods;
	int calls[SIM_MAX_SW];

	assert_non_null(s);
	build_fattree(s, &t, k, seed);
	schedule_starts(s);
	periods = run_to_convergence(s, &t);
	print_message("k=%d seed=%u: converged in %lld LDM periods (bound %lld), %llu frames\n",
		      k, seed, (long long)periods, (long long)bound_periods(s),
		      (unsigned long long)s->frames);
	assert_true(periods > 0);
	assert_true(periods <= bound_periods(s));
	for (int i = 0; i < s->n; i++)
		calls[i] = s->sw[i].located_calls;
	/* stable: 100 more periods change no location, and nothing was ever miswired or dropped */
	run_until(s, s->now + 100 * LDP_LDM_PERIOD_US);
	assert_true(converged(s, &t));
	for (int i = 0; i < s->n; i++) {
		const struct sim_sw *sw = &s->sw[i];

		assert_int_equal(sw->located_calls, calls[i]);
		assert_int_equal(sw->miswires, 0);
		assert_int_equal(sw->l.c.miswirings, 0);
		assert_int_equal(drops(sw), 0);
		assert_int_equal(sw->l.c.neighbours_lost, 0);
	}
	/* exactly one edge per pod (position 0) asked the fabric manager */
	assert_int_equal(s->fm_n, k);
	free(s);
}

static void dump_wrong(const struct sim *s);

/* Of 40 seeds at k = 4 and at k = 6 (random orders, random port numbering), how many converge
 * when the switches start spread over window_ms (SIM_DUMP=1: what is wrong in the others). */
static int converge_count(int window_ms, int *runs)
{
	int ok = 0;

	*runs = 0;
	for (uint32_t seed = 1; seed <= 40; seed++) {
		for (int k = 4; k <= 6; k += 2) {
			struct sim *s = calloc(1, sizeof(*s));
			struct tree t;
			int64_t periods;

			assert_non_null(s);
			build_fattree(s, &t, k, seed * 2654435761u);
			start_step_us = (int64_t)window_ms * USEC_PER_MSEC / s->n;
			schedule_starts(s);
			periods = run_to_convergence(s, &t);
			start_step_us = SIM_START_STEP_US;
			(*runs)++;
			ok += periods > 0;
			if (periods < 0 && getenv("SIM_DUMP")) {
				print_message("k=%d seed %u: not converged\n", k, seed);
				dump_wrong(s);
			}
			free(s);
		}
	}
	return ok;
}

/* Eighty start orders spread over half the host timeout all converge. With SIM_WINDOW_MS set,
 * also how many do over that window (a start window longer than the host timeout can make a
 * switch decide before its neighbours speak: docs/switchd.md, "Cold start"). */
static void fattree_eighty_orders(void **state)
{
	const char *w = getenv("SIM_WINDOW_MS");
	int runs, ok = converge_count((int)(LDP_HOST_TIMEOUT_US / USEC_PER_MSEC / 2), &runs);

	assert_int_equal(ok, runs);
	if (w) {
		ok = converge_count(atoi(w), &runs);
		print_message("start window %s ms: %d of %d converged\n", w, ok, runs);
	}
}

static void fattree_k4_three_orders(void **state)
{
	check_fattree(4, 0x1badb002);
	check_fattree(4, 0xc0ffee11);
	check_fattree(4, 0x5eed0003);
}

static void fattree_k6_three_orders(void **state)
{
	check_fattree(6, 0x0ddba115);
	check_fattree(6, 0xfeedf00d);
	check_fattree(6, 0x12345679);
}

/* What is wrong, when a check is about to fail. */
static void dump_wrong(const struct sim *s)
{
	for (int i = 0; i < s->n; i++) {
		const struct sim_sw *sw = &s->sw[i];
		char ports[3 * LDP_MAX_PORTS + 1] = "";

		if (switch_right(sw))
			continue;
		for (int p = 0; p < s->k; p++)
			snprintf(ports + strlen(ports), sizeof(ports) - strlen(ports), "%c%c%d ",
				 "dshwl"[sw->l.port[p].state], "0udhm"[sw->loc.role[p]],
				 sw->port[p].want);
		print_message("  switch %d want %s: located %d level %s pod %d pos %d ports %s\n",
			      i, ldp_level_name(sw->want_level), sw->located,
			      ldp_level_name(sw->l.level), sw->l.pod, sw->l.position, ports);
	}
}

/* A switch that starts (or restarts) into a located fabric: the rest converge without it,
 * then it starts and must locate itself in a few LDM periods, not the host timeout - its
 * aggregation neighbours tell it which side of them it is on (ldp.c, "Level"). For each
 * level, k = 4 and 6. */
static void check_late(int k, uint32_t seed, enum ldp_level level)
{
	struct sim *s = calloc(1, sizeof(*s));
	struct tree t;
	int late, h = k / 2;
	int64_t start;

	assert_non_null(s);
	build_fattree(s, &t, k, seed);
	schedule_starts(s);
	late = level == LDP_LEVEL_EDGE ? t.edge[1][h - 1] :
	       level == LDP_LEVEL_AGG ? t.agg[k - 1][0] : t.core[h * h - 1];
	s->sw[late].start_at = INT64_MAX;
	/* the others settle as far as they can without it: without a core all do; without an
	 * aggregation switch its cores wait for it (a silent port) and, at k = 4, its pod's
	 * edges (no majority); a pod whose position-0 edge is late has no number yet */
	run_until(s, SIM_T0_US + 3 * bound_periods(s) * LDP_LDM_PERIOD_US);
	if (level == LDP_LEVEL_CORE)
		for (int i = 0; i < s->n; i++)
			if (i != late)
				assert_true(s->sw[i].located);
	start = s->now;
	s->sw[late].start_at = start;
	for (int n = 1; n <= 10 && !converged(s, &t); n++)
		run_until(s, start + n * LDP_LDM_PERIOD_US);
	print_message("k=%d late %s: located and converged in %lld ms\n", k, ldp_level_name(level),
		      (long long)((s->now - start) / USEC_PER_MSEC));
	dump_wrong(s);
	assert_true(converged(s, &t));
	assert_true(s->now - start < LDP_HOST_TIMEOUT_US / 10);
	/* its host ports in its very first location: reported undecided, they would have the
	 * data plane drop their hosts until the next report */
	for (int p = 0; p < s->k; p++)
		if (s->sw[late].port[p].host)
			assert_int_equal(s->sw[late].first_loc.role[p], LDP_ROLE_HOST);
	for (int i = 0; i < s->n; i++)
		assert_int_equal(s->sw[i].miswires, 0);
	free(s);
}

static void fattree_late_starters(void **state)
{
	static const enum ldp_level levels[] = { LDP_LEVEL_EDGE, LDP_LEVEL_AGG, LDP_LEVEL_CORE };

	for (int i = 0; i < 3; i++) {
		check_late(4, 0x1badb002, levels[i]);
		check_late(6, 0xfeedf00d, levels[i]);
	}
}

/* A whole level starts 1.5 host timeouts after the rest. Without cores, aggregation
 * switches hear no more than k/2 switches and take themselves for edges (so do their real
 * edges, each taking the other for an uplink); when the cores speak on their "host ports"
 * the wrong edges take the decision back (ldp.c, not_an_edge). Without aggregation switches
 * nobody is misled: edges and cores hear no switch, and wait for one. Either way it converges
 * to the right answer with no miswiring left. */
static void check_staggered(int k, uint32_t seed, enum ldp_level late, bool misled)
{
	struct sim *s = calloc(1, sizeof(*s));
	struct tree t;
	int64_t periods, delay = LDP_HOST_TIMEOUT_US * 3 / 2;
	uint64_t resets = 0;

	assert_non_null(s);
	build_fattree(s, &t, k, seed);
	schedule_starts(s);
	for (int i = 0; i < s->n; i++)
		if (s->sw[i].want_level == late)
			s->sw[i].start_at += delay;
	periods = run_to_convergence(s, &t);
	for (int i = 0; i < s->n; i++)
		resets += s->sw[i].l.c.level_resets;
	print_message("k=%d %s late by %lld ms: converged in %lld LDM periods, %llu level resets\n",
		      k, ldp_level_name(late), (long long)(delay / USEC_PER_MSEC), (long long)periods,
		      (unsigned long long)resets);
	if (periods < 0) {
		dump_wrong(s);
		for (int p = 0; p < k; p++)
			for (int i = 0; i < k / 2; i++)
				print_message("  pod %d: edge %d pod %d pos %d, agg %d pod %d\n", p, i,
					      s->sw[t.edge[p][i]].loc.pod, s->sw[t.edge[p][i]].loc.position,
					      i, s->sw[t.agg[p][i]].loc.pod);
	}
	assert_true(periods > 0);
	assert_true(misled ? resets > 0 : resets == 0);
	run_until(s, s->now + 100 * LDP_LDM_PERIOD_US);
	assert_true(converged(s, &t));
	for (int i = 0; i < s->n; i++)
		for (int p = 0; p < s->k; p++)
			assert_int_equal(s->sw[i].l.port[p].miswired, 0);
	free(s);
}

static void fattree_level_starts_late(void **state)
{
	check_staggered(4, 0x1badb002, LDP_LEVEL_CORE, true);
	check_staggered(4, 0xc0ffee11, LDP_LEVEL_AGG, false);
	check_staggered(6, 0xfeedf00d, LDP_LEVEL_CORE, true);
	check_staggered(6, 0x0ddba115, LDP_LEVEL_AGG, false);
}

/* Edge 0 of pod 0 and edge 0 of pod 1 joined by a link, in a k = 6 fat tree: either their
 * uplinks to aggregation switch 0 of their pod moved onto each other (each edge then has
 * k/2 switches, two aggregation switches: still a majority for its position), or one host
 * port of each cabled to the other (each edge then has more than k/2 switches). */
static void check_miswired(uint32_t seed, bool host_ports)
{
	struct sim *s = calloc(1, sizeof(*s));
	int a, b, pa, pb, h = 3;
	struct tree t;

	assert_non_null(s);
	build_fattree(s, &t, 2 * h, seed);
	a = t.edge[0][0];
	b = t.edge[1][0];
	pa = t.edge_port[0][0][host_ports ? h : 0];
	pb = t.edge_port[1][0][host_ports ? h : 0];
	if (!host_ports) {
		s->sw[t.agg[0][0]].port[t.agg_port[0][0][0]] = (struct sim_port){ .peer = -1 };
		s->sw[t.agg[1][0]].port[t.agg_port[1][0][0]] = (struct sim_port){ .peer = -1 };
	}
	link_ports(s, a, pa, b, pb, LDP_ROLE_MISWIRED, LDP_ROLE_MISWIRED);
	schedule_starts(s);
	assert_true(run_to_convergence(s, &t) > 0);
	run_until(s, s->now + 100 * LDP_LDM_PERIOD_US);
	assert_true(converged(s, &t));
	/* reported on both ends, once, naming the other edge */
	assert_int_equal(s->sw[a].miswires, 1);
	assert_int_equal(s->sw[a].miswire_port, pa);
	assert_int_equal(s->sw[a].miswire_why, LDP_MISWIRE_EDGE_EDGE);
	assert_memory_equal(s->sw[a].miswire_seen.b, s->sw[b].id.b, MAC_LEN);
	assert_int_equal(s->sw[b].miswires, 1);
	assert_int_equal(s->sw[b].miswire_port, pb);
	assert_int_equal(s->sw[b].miswire_why, LDP_MISWIRE_EDGE_EDGE);
	assert_memory_equal(s->sw[b].miswire_seen.b, s->sw[a].id.b, MAC_LEN);
	assert_int_equal(s->sw[a].l.c.miswirings, 1);
	assert_int_equal(s->sw[b].l.c.miswirings, 1);
	for (int i = 0; i < s->n; i++)
		if (i != a && i != b)
			assert_int_equal(s->sw[i].miswires, 0);
	free(s);
}

static void fattree_miswired_edges(void **state)
{
	check_miswired(0xbadc0ffe, false);
	check_miswired(0x00c0ffee, false);
	check_miswired(0x31415927, false);
}

static void fattree_miswired_host_ports(void **state)
{
	check_miswired(0xbadc0ffe, true);
	check_miswired(0x00c0ffee, true);
	check_miswired(0x31415927, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fattree_k4_three_orders),
		cmocka_unit_test(fattree_eighty_orders),
		cmocka_unit_test(fattree_k6_three_orders),
		cmocka_unit_test(fattree_late_starters),
		cmocka_unit_test(fattree_level_starts_late),
		cmocka_unit_test(fattree_miswired_edges),
		cmocka_unit_test(fattree_miswired_host_ports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
