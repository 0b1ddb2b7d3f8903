/*
 * faults.c - PortLand's fault matrix (SIGCOMM 2009, §3.6): from the links the switches
 * report, which up neighbour of each switch can still reach each edge, and to each switch
 * whose answer changed, its whole row (Portland.avoid): for a destination edge (or every edge
 * of a pod), the up neighbours it must not send that destination's frames to.
 *
 * A link is usable when both its ends name each other on those ports and neither says its
 * LDMs stopped or its carrier went: one end hearing the other is not enough (a link that
 * carries one way only is dead both ways). Reachability of a destination edge d = (pod X,
 * position P) follows the only paths a fat tree has, up then down (Constraint 1):
 *   an aggregation switch of pod X   a usable link to d
 *   a core                           a usable link to an aggregation switch of X that reaches d
 *   an aggregation switch elsewhere  a usable link up to a core that reaches d
 *   an edge                          a usable link up to an aggregation switch that reaches d
 * A switch that forwards d's frames up (an edge other than d, an aggregation switch outside X)
 * is told to avoid the up neighbours of its ECMP group that do not reach d, unless that would
 * be all of them: a destination nothing reaches keeps the whole group (best effort; that is
 * also what a restarting neighbour looks like while its data plane still forwards).
 *
 * The paper's matrix is per destination pod. Ours is per destination edge, merged into one
 * entry per pod wherever every edge of the pod gives the same answer (a dead core link does):
 * two failures on the two aggregation switches of one pod, each cutting a different edge,
 * leave a pod every core reaches only in part, which per-pod masks cannot route around.
 *
 * Soft state: nothing here is kept across a fabricd restart. A fabricd that starts sends no
 * row until its view is complete - every switch some report names has reported too - or
 * FAULTS_SETTLE_MS have passed (a switch that is gone never reports): a row computed from a
 * partial view would move traffic off links that are fine. Switches keep the rows they have
 * meanwhile (their pinned maps), so a fabricd restart changes no forwarding.
 *
 * Cost: a recompute is O(destinations x ports of the fabric); a change is coalesced into one
 * recompute per turn of the loop. Messages: one per switch whose row changed.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "portland_priv.h"

#define FAULTS_SETTLE_MS 5000

struct pl_faults {
	struct event *ev;                  /* recompute: activated, or the settle deadline */
	struct portland *pl;
	struct fabricd *fd;
	struct monotime started;
	bool complete;
	struct {
		uint64_t recomputes, messages, rows_changed, compute_us, compute_us_last;
		uint64_t entries, switches, links_dead;
	} st;
};

int faults_new(struct pl_faults **out)
{
	struct pl_faults *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->started = monotime_now();
	*out = f;
	return 0;
}

void faults_free(struct pl_faults *f)
{
	if (!f)
		return;
	if (f->ev)
		event_free(f->ev);
	free(f);
}

void faults_session_gone(struct pl_switch *w)
{
	w->avoid_sent = false;
}

/* --- the graph ---------------------------------------------------------------------------------- */

struct idx {
	uint8_t id[MAC_LEN];
	uint32_t sw;
};

static int idx_cmp(const void *a, const void *b)
{
	return memcmp(((const struct idx *)a)->id, ((const struct idx *)b)->id, MAC_LEN);
}

struct graph {
	const struct portland *pl;
	struct idx *by_id;                 /* the reported switches, by switch id */
	size_t nid;
	int32_t **nb;                      /* nb[i][p]: the switch port p of i reaches over a
					      usable link, or -1 */
	bool *reach;                       /* per switch, for the destination at hand */
};

static int32_t find(const struct graph *g, const uint8_t *id)
{
	struct idx key, *hit;

	memcpy(key.id, id, MAC_LEN);
	hit = bsearch(&key, g->by_id, g->nid, sizeof(key), idx_cmp);
	return hit ? (int32_t)hit->sw : -1;
}

static bool port_alive(const struct pl_port *p)
{
	return p->has_peer && !p->lost && !p->down;
}

static int32_t usable_peer(const struct graph *g, uint32_t i, const struct pl_port *p)
{
	const struct pl_switch *a = &g->pl->sw[i], *b;
	int32_t j;

	if (!port_alive(p) || (j = find(g, p->peer_id)) < 0)
		return -1;
	b = &g->pl->sw[j];
	for (size_t q = 0; q < b->nports; q++) {
		const struct pl_port *r = &b->ports[q];

		if (r->port == p->peer_port && port_alive(r) && !memcmp(r->peer_id, a->switch_id, MAC_LEN))
			return j;
	}
	return -1;
}

static void graph_free(struct graph *g)
{
	for (size_t i = 0; g->nb && i < g->pl->nsw; i++)
		free(g->nb[i]);
	free(g->nb);
	free(g->by_id);
	free(g->reach);
}

static int graph_build(struct graph *g, const struct portland *pl)
{
	memset(g, 0, sizeof(*g));
	g->pl = pl;
	g->by_id = calloc(pl->nsw + 1, sizeof(*g->by_id));
	g->nb = calloc(pl->nsw + 1, sizeof(*g->nb));
	g->reach = calloc(pl->nsw + 1, sizeof(*g->reach));
	if (!g->by_id || !g->nb || !g->reach)
		return -ENOMEM;
	for (size_t i = 0; i < pl->nsw; i++) {
		if (!pl->sw[i].reported)
			continue;
		memcpy(g->by_id[g->nid].id, pl->sw[i].switch_id, MAC_LEN);
		g->by_id[g->nid++].sw = (uint32_t)i;
	}
	qsort(g->by_id, g->nid, sizeof(*g->by_id), idx_cmp);
	for (size_t i = 0; i < pl->nsw; i++) {
		const struct pl_switch *w = &pl->sw[i];

		if (!(g->nb[i] = calloc(w->nports + 1, sizeof(int32_t))))
			return -ENOMEM;
		for (size_t p = 0; p < w->nports; p++)
			g->nb[i][p] = w->reported ? usable_peer(g, (uint32_t)i, &w->ports[p]) : -1;
	}
	return 0;
}

int32_t **faults_links(const struct portland *pl)
{
	struct graph g;
	int32_t **nb;

	if (graph_build(&g, pl) < 0) {
		graph_free(&g);
		return NULL;
	}
	nb = g.nb;
	g.nb = NULL;
	graph_free(&g);
	return nb;
}

void faults_links_free(const struct portland *pl, int32_t **nb)
{
	for (size_t i = 0; nb && i < pl->nsw; i++)
		free(nb[i]);
	free(nb);
}

static bool is_level(const struct pl_switch *w, int level)
{
	return w->reported && w->located && w->level == level;
}

#define EDGE L2F__SWITCH_LEVEL__LEVEL_EDGE
#define AGG L2F__SWITCH_LEVEL__LEVEL_AGGREGATION
#define CORE L2F__SWITCH_LEVEL__LEVEL_CORE

/* Does i have a usable link to a switch of that level (and pod, unless -1) that reaches? */
static bool reaches_via(const struct graph *g, size_t i, int level, int pod)
{
	const struct pl_switch *w = &g->pl->sw[i];

	for (size_t p = 0; p < w->nports; p++) {
		int32_t j = g->nb[i][p];

		if (j >= 0 && g->reach[j] && g->pl->sw[j].level == level &&
		    (pod < 0 || g->pl->sw[j].pod == pod))
			return true;
	}
	return false;
}

/* g->reach for destination edge d, level by level (the order matters: each uses the last). */
static void reach_of(struct graph *g, size_t d)
{
	const struct portland *pl = g->pl;
	int pod = pl->sw[d].pod;

	memset(g->reach, 0, pl->nsw * sizeof(*g->reach));
	g->reach[d] = true;
	for (size_t i = 0; i < pl->nsw; i++)
		if (is_level(&pl->sw[i], AGG) && pl->sw[i].pod == pod)
			g->reach[i] = reaches_via(g, i, EDGE, pod);
	for (size_t i = 0; i < pl->nsw; i++)
		if (is_level(&pl->sw[i], CORE))
			g->reach[i] = reaches_via(g, i, AGG, pod);
	for (size_t i = 0; i < pl->nsw; i++)
		if (is_level(&pl->sw[i], AGG) && pl->sw[i].pod != pod)
			g->reach[i] = reaches_via(g, i, CORE, -1);
	for (size_t i = 0; i < pl->nsw; i++)
		if (i != d && is_level(&pl->sw[i], EDGE))
			g->reach[i] = reaches_via(g, i, AGG, pl->sw[i].pod);
}

/* --- rows ------------------------------------------------------------------------------------- */

/* A row being built: entries in destination order, ids in one pool. */
struct row {
	struct pl_avoid *e;
	size_t n, cap;
	uint8_t (*ids)[MAC_LEN];
	size_t nids, capids;
	int err;
};

static void row_add(struct row *r, uint16_t pod, int16_t position, const uint8_t (*ids)[MAC_LEN],
		    size_t n)
{
	if (r->err)
		return;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		struct pl_avoid *e = realloc(r->e, cap * sizeof(*e));

		if (!e) {
			r->err = -ENOMEM;
			return;
		}
		r->e = e;
		r->cap = cap;
	}
	if (r->nids + n > r->capids) {
		size_t cap = (r->capids + n) * 2;
		uint8_t (*ids2)[MAC_LEN] = realloc(r->ids, cap * sizeof(*ids2));

		if (!ids2) {
			r->err = -ENOMEM;
			return;
		}
		r->ids = ids2;
		r->capids = cap;
	}
	r->e[r->n++] = (struct pl_avoid){ pod, position, (uint32_t)r->nids, (uint32_t)n };
	memcpy(r->ids + r->nids, ids, n * MAC_LEN);
	r->nids += n;
}

static bool same_ids(const struct row *r, const struct pl_avoid *a, const struct pl_avoid *b)
{
	return a->n == b->n && !memcmp(r->ids[a->first], r->ids[b->first], a->n * MAC_LEN);
}

/* Where every edge of a pod gives the same answer, one entry for the pod: edges_of_pod[] counts
 * the destinations of each pod (sorted by pod and position, so a pod's entries are adjacent). */
static void row_merge(struct row *r, const size_t *edges_of_pod)
{
	size_t out = 0;

	for (size_t i = 0, j; i < r->n; i = j) {
		for (j = i + 1; j < r->n && r->e[j].pod == r->e[i].pod &&
				same_ids(r, &r->e[i], &r->e[j]); j++)
			;
		if (j - i == edges_of_pod[r->e[i].pod]) {
			r->e[out] = r->e[i];
			r->e[out++].position = -1;
		} else {
			for (size_t k = i; k < j; k++)
				r->e[out++] = r->e[k];
		}
	}
	r->n = out;
}

static uint64_t row_hash(const struct row *r)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < r->n; i++) {
		const struct pl_avoid *a = &r->e[i];
		uint64_t v = (uint64_t)a->pod << 40 | (uint64_t)(uint16_t)a->position << 24 | a->n;

		h = (h ^ v) * 1099511628211ull;
		for (uint32_t k = 0; k < a->n; k++)
			for (int b = 0; b < MAC_LEN; b++)
				h = (h ^ r->ids[a->first + k][b]) * 1099511628211ull;
	}
	return h;
}

/* The row's UplinkAvoid messages, pointing into the row's ids, in one allocation. */
static int row_msgs(const struct pl_avoid *e, size_t n, uint8_t (*ids)[MAC_LEN],
		    L2f__UplinkAvoid ***out)
{
	size_t nids = 0;
	uint8_t *mem;
	L2f__UplinkAvoid **pp, *m;
	ProtobufCBinaryData *b;

	for (size_t i = 0; i < n; i++)
		nids += e[i].n;
	mem = calloc(1, n * (sizeof(*pp) + sizeof(*m)) + nids * sizeof(*b) + 1);
	if (!mem)
		return -ENOMEM;
	pp = (L2f__UplinkAvoid **)mem;
	m = (L2f__UplinkAvoid *)(pp + n);
	b = (ProtobufCBinaryData *)(m + n);
	for (size_t i = 0; i < n; i++) {
		l2f__uplink_avoid__init(&m[i]);
		m[i].pod = e[i].pod;
		if ((m[i].has_position = e[i].position >= 0))
			m[i].position = (uint32_t)e[i].position;
		m[i].n_avoid = e[i].n;
		m[i].avoid = b;
		for (uint32_t k = 0; k < e[i].n; k++)
			*b++ = (ProtobufCBinaryData){ MAC_LEN, ids[e[i].first + k] };
		pp[i] = &m[i];
	}
	*out = pp;
	return 0;
}

int faults_row_msg(const struct pl_switch *w, L2f__UplinkAvoid ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!w->navoid)
		return 0;
	*n = w->navoid;
	return row_msgs(w->avoid, w->navoid, w->avoid_ids, out);
}

static void send_row(struct pl_faults *f, struct pl_switch *w)
{
	L2f__UplinkAvoidTable t = L2F__UPLINK_AVOID_TABLE__INIT;
	L2f__Portland m = L2F__PORTLAND__INIT;
	L2f__Envelope env = L2F__ENVELOPE__INIT;
	L2f__UplinkAvoid **pp = NULL;

	if (row_msgs(w->avoid, w->navoid, w->avoid_ids, &pp) < 0)
		return;
	t.entries = pp;
	t.n_entries = w->navoid;
	m.avoid = &t;
	env.msg_case = L2F__ENVELOPE__MSG_PORTLAND;
	env.portland = &m;
	if (wire_send(w->s->w, &env) == 0) {
		w->avoid_sent = true;
		f->st.messages++;
	}
	free(pp);
}

/* --- the recompute ------------------------------------------------------------------------------ */

static int dest_cmp(const void *a, const void *b, void *arg)
{
	const struct portland *pl = arg;
	const struct pl_switch *x = &pl->sw[*(const uint32_t *)a], *y = &pl->sw[*(const uint32_t *)b];

	return x->pod != y->pod ? x->pod - y->pod : x->position - y->position;
}

/* Is the view complete: has every switch a report names reported itself? */
static bool view_complete(const struct graph *g)
{
	for (size_t i = 0; i < g->pl->nsw; i++) {
		const struct pl_switch *w = &g->pl->sw[i];

		for (size_t p = 0; w->reported && p < w->nports; p++)
			if (w->ports[p].has_peer && find(g, w->ports[p].peer_id) < 0)
				return false;
	}
	return true;
}

bool faults_settled(struct portland *pl)
{
	struct pl_faults *f = pl->faults;
	struct graph g;
	bool done;

	if (!f || f->complete ||
	    monotime_diff_us(monotime_now(), f->started) / USEC_PER_MSEC >= FAULTS_SETTLE_MS)
		return true;
	if (graph_build(&g, pl) < 0)
		return false;
	done = view_complete(&g);
	graph_free(&g);
	return done;
}

static int recompute(struct pl_faults *f)
{
	struct portland *pl = f->pl;
	struct graph g;
	struct row *rows = calloc(pl->nsw + 1, sizeof(*rows));
	uint32_t *dest = calloc(pl->nsw + 1, sizeof(*dest));
	size_t *edges_of_pod = calloc(PMAC_POD_MAX + 1, sizeof(*edges_of_pod));
	uint8_t (*ids)[MAC_LEN] = calloc(WIRE_MAX_SWITCH_PORTS, MAC_LEN);
	size_t ndest = 0, entries = 0, switches = 0, dead = 0;
	int err = graph_build(&g, pl);

	if (!rows || !dest || !edges_of_pod || !ids)
		err = -ENOMEM;
	if (err < 0)
		goto out;
	if (!f->complete) {
		int64_t ms = monotime_diff_us(monotime_now(), f->started) / USEC_PER_MSEC;

		if (view_complete(&g) || ms >= FAULTS_SETTLE_MS) {
			f->complete = true;
			log_info("portland: fault matrix: %s after %lld ms: rows are sent from now",
				 ms >= FAULTS_SETTLE_MS ? "view still incomplete (a switch named in "
				 "reports has not reported)" : "view complete", (long long)ms);
			mcast_changed(pl, f->fd);   /* the trees were held for it too */
		}
	}
	for (size_t i = 0; i < pl->nsw; i++) {
		const struct pl_switch *w = &pl->sw[i];

		for (size_t p = 0; w->reported && p < w->nports; p++)
			dead += w->ports[p].has_peer && (w->ports[p].lost || w->ports[p].down);
		if (is_level(w, EDGE) && w->pod >= 0 && w->pod <= PMAC_POD_MAX && w->position >= 0) {
			dest[ndest++] = (uint32_t)i;
			edges_of_pod[w->pod]++;
		}
	}
	qsort_r(dest, ndest, sizeof(*dest), dest_cmp, pl);
	for (size_t di = 0; di < ndest; di++) {
		size_t d = dest[di];
		int pod = pl->sw[d].pod;

		reach_of(&g, d);
		for (size_t i = 0; i < pl->nsw; i++) {
			const struct pl_switch *w = &pl->sw[i];
			size_t up = 0, n = 0;

			if (i == d || !(is_level(w, EDGE) || (is_level(w, AGG) && w->pod != pod)))
				continue;
			for (size_t p = 0; p < w->nports; p++) {
				const struct pl_port *q = &w->ports[p];
				int32_t j = g.nb[i][p];

				/* its ECMP group: the up ports it reports, their neighbours alive */
				if (q->dir != L2F__PORT_DIRECTION__DIR_UP || !port_alive(q))
					continue;
				up++;
				if (j < 0 || !g.reach[j])
					memcpy(ids[n++], q->peer_id, MAC_LEN);
			}
			if (n > 0 && n < up)
				row_add(&rows[i], (uint16_t)pod, (int16_t)pl->sw[d].position, ids, n);
		}
	}
	for (size_t i = 0; i < pl->nsw; i++) {
		struct pl_switch *w = &pl->sw[i];
		struct row *r = &rows[i];
		uint64_t h;

		if (r->err) {
			err = r->err;
			continue;
		}
		row_merge(r, edges_of_pod);
		h = row_hash(r);
		entries += r->n;
		switches += r->n > 0;
		if (h != w->avoid_hash || !w->avoid_known) {
			free(w->avoid);
			free(w->avoid_ids);
			w->avoid_known = true;
			w->avoid = r->e;
			w->navoid = r->n;
			w->avoid_ids = r->ids;
			r->e = NULL;
			r->ids = NULL;
			if (h != w->avoid_hash)
				f->st.rows_changed++;
			w->avoid_hash = h;
			w->avoid_sent = false;
		}
		if (f->complete && !w->avoid_sent && w->s && w->reported)
			send_row(f, w);
	}
	f->st.entries = entries;
	f->st.switches = switches;
	f->st.links_dead = dead;
out:
	for (size_t i = 0; rows && i < pl->nsw; i++) {
		free(rows[i].e);
		free(rows[i].ids);
	}
	free(rows);
	free(dest);
	free(edges_of_pod);
	free(ids);
	graph_free(&g);
	return err;
}

static void on_recompute(evutil_socket_t fd, short what, void *arg)
{
	struct pl_faults *f = arg;
	struct timespec a, b;
	uint64_t us;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	if (recompute(f) < 0)
		log_err("portland: fault matrix: out of memory: rows not updated");
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	us = (uint64_t)((b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000);
	f->st.recomputes++;
	f->st.compute_us += us;
	f->st.compute_us_last = us;
	if (!f->complete) {
		/* again at the settle deadline, reports or not */
		int64_t left = FAULTS_SETTLE_MS * USEC_PER_MSEC -
			       monotime_diff_us(monotime_now(), f->started);
		struct timeval tv = { left > 0 ? left / 1000000 : 0, left > 0 ? left % 1000000 : 0 };

		evtimer_add(f->ev, &tv);
	}
}

void faults_changed(struct portland *pl, struct fabricd *fd)
{
	struct pl_faults *f = pl->faults;

	if (!f)
		return;
	if (!f->ev) {
		f->pl = pl;
		f->fd = fd;
		if (!(f->ev = evtimer_new(fd->base, on_recompute, f)))
			return;
	}
	event_active(f->ev, EV_TIMEOUT, 0);
	mcast_changed(pl, fd);   /* the trees use the same links */
}

void faults_counters(const struct pl_faults *f, fabricd_counter_fn fn, void *ctx)
{
	fn(ctx, "portland.faults.links_dead", f->st.links_dead, false);
	fn(ctx, "portland.faults.switches_avoiding", f->st.switches, false);
	fn(ctx, "portland.faults.entries", f->st.entries, false);
	fn(ctx, "portland.faults.recomputes", f->st.recomputes, false);
	fn(ctx, "portland.faults.rows_changed", f->st.rows_changed, false);
	fn(ctx, "portland.faults.messages", f->st.messages, false);
	fn(ctx, "portland.faults.compute_us", f->st.compute_us, false);
	fn(ctx, "portland.faults.compute_us_last", f->st.compute_us_last, false);
	fn(ctx, "portland.faults.view_complete", f->complete, false);
}
