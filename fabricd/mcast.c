/*
 * mcast.c - PortLand's multicast (SIGCOMM 2009, §3.6 and Fig. 5; docs/switchd.md
 * "Multicast"): the edges report the groups their hosts joined, per host port; per group,
 * fabricd designates a
 * core by a hash of the group address among the located cores, and gives every switch on
 * the group's tree its own entries: for a frame of the group arriving on a port, the ports it
 * goes out of.
 *
 * The tree, for a group with member edges M and designated cores S (each member edge e
 * assigned one core asg(e) of S that reaches it), over links faults.c calls usable:
 *   edge E, from its hosts    its member host ports, and for each core C of S an up port to
 *                             the aggregation switch a(E, C) of its pod that links to C
 *   edge E in M, from up      its member host ports
 *   aggregation a, from edge E   up to each C of S with a(E, C) = a, and down to the member
 *                             edges of its pod (not E) assigned to those cores
 *   aggregation a, from core C   down to the member edges of its pod assigned to C
 *   core C, from pod X        down to every other pod with a member edge assigned to C
 * A frame goes up only from an edge's hosts or from an edge, down otherwise (the paper's
 * Constraint 1): no loop, and each member edge hears each frame once (through its core, or
 * from its own aggregation switch or edge on the way up). The sender's edge is not known in
 * advance: every edge gets its from-hosts entry.
 *
 * S is the core the group has, while it reaches every member edge (a tree moves only when
 * it must); else the first core, from a hash of the group address along the ring of cores
 * (every switch ever located as a core, in switch id order, so that one dropping out for a
 * moment does not move the other groups), that reaches them all; else a greedy set cover
 * (the paper's Fig. 5): the core that reaches most of the member edges not covered yet,
 * until none is left or no core reaches more. Member edges no core reaches are counted
 * (edges_unreached).
 *
 * Each switch's table is sent whole, only when it changed (a hash of it, per switch), and
 * again on its next session; cores first, edges last, so that the switches below a new path
 * are told before the sender's edge turns to it. Recomputed on each membership report taken
 * and each change faults.c hears of (faults_changed), coalesced into one recompute a turn of
 * the loop; a recompute is O(groups x switches x ports).
 *
 * Soft state: a fabricd that starts sends no table until its view is complete (faults.c's
 * faults_settled: every switch some report names has reported, or 5 s); the switches keep
 * their pinned tables meanwhile.
 *
 * Bounds: an edge's reports, PL_MCAST_REPORT_RATE a second (a burst of PL_MCAST_REPORT_BURST;
 * one past it is refused whole, counted and logged: the edge's last membership stays until
 * its next report within the rate, each report being the whole of it), so that the
 * recomputes one edge causes are bounded however fast it changes; PL_MAX_MCAST_GROUPS_PER_EDGE
 * groups an edge has members in and PL_MAX_MCAST_GROUPS in the fabric (a group past either is
 * refused for that edge and counted), so that one edge cannot take every group alone;
 * WIRE_MAX_MCAST_ENTRIES entries a switch (the rest counted). portland.h says why these.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include "hash.h"
#include "log.h"
#include "portland_priv.h"

#define EDGE L2F__SWITCH_LEVEL__LEVEL_EDGE
#define AGG L2F__SWITCH_LEVEL__LEVEL_AGGREGATION
#define CORE L2F__SWITCH_LEVEL__LEVEL_CORE

struct member {
	uint32_t sw;
	uint8_t port;
};

struct mentry {
	uint32_t sw;
	int16_t in;                        /* a port number, or -1: from the edge's hosts */
	uint16_t nout;
	uint8_t out[WIRE_MAX_SWITCH_PORTS];
};

struct mgroup {
	struct ipaddr group;
	struct member *m;
	size_t n;
	/* as last computed */
	uint32_t cores[WIRE_MAX_SWITCH_PORTS];
	size_t ncores;
	uint32_t unreached;
	struct mentry *e;
	size_t ne;
};

struct pl_mcast {
	struct event *ev;
	struct portland *pl;
	struct mgroup *g;
	size_t ng;
	struct {
		uint64_t reports, recomputes, held, messages, tables_changed, groups_over_cap;
		uint64_t entries_over_cap, covers, unreached, not_host_ports;
	} st;
};

int mcast_new(struct pl_mcast **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void group_free(struct mgroup *g)
{
	free(g->m);
	free(g->e);
}

void mcast_free(struct pl_mcast *mc)
{
	if (!mc)
		return;
	if (mc->ev)
		event_free(mc->ev);
	for (size_t i = 0; i < mc->ng; i++)
		group_free(&mc->g[i]);
	free(mc->g);
	free(mc);
}

void mcast_session_gone(struct pl_switch *w)
{
	w->mcast_sent = false;
}

/* --- membership ---------------------------------------------------------------------------- */

static struct mgroup *group_get(struct pl_mcast *mc, const struct ipaddr *a, bool make)
{
	struct mgroup *n;

	for (size_t i = 0; i < mc->ng; i++)
		if (ipaddr_eq(&mc->g[i].group, a))
			return &mc->g[i];
	if (!make || mc->ng >= PL_MAX_MCAST_GROUPS)
		return NULL;
	n = realloc(mc->g, (mc->ng + 1) * sizeof(*n));
	if (!n)
		return NULL;
	mc->g = n;
	n = &mc->g[mc->ng++];
	memset(n, 0, sizeof(*n));
	n->group = *a;
	return n;
}

/* Edge sw's membership replaces what it reported before, if within its rate. */
bool mcast_members(struct portland *pl, struct session *s, uint32_t sw,
		   const L2f__McastMembership *mm)
{
	struct pl_mcast *mc = pl->mcast;
	size_t taken = 0, over = 0;

	if (!bucket_take(&pl->sw[sw].mcast_rate, monotime_now())) {
		pl_refuse(pl, PLR_MCAST_RATE, s, "a membership report refused: over the report rate", 1);
		return false;
	}
	mc->st.reports++;
	for (size_t i = 0; i < mc->ng; i++) {
		struct mgroup *g = &mc->g[i];
		size_t k = 0;

		for (size_t j = 0; j < g->n; j++)
			if (g->m[j].sw != sw)
				g->m[k++] = g->m[j];
		g->n = k;
	}
	for (size_t i = 0; i < mm->n_groups; i++) {
		const L2f__McastGroup *r = mm->groups[i];
		struct ipaddr a;
		struct mgroup *g;
		struct member *m;
		size_t before;

		wire_ipaddr(&a, &r->group);   /* validated: 4 or 16 bytes, routable */
		if (taken >= PL_MAX_MCAST_GROUPS_PER_EDGE) {
			over++;
			continue;
		}
		if (!(g = group_get(mc, &a, true))) {
			mc->st.groups_over_cap++;
			continue;
		}
		if (!(m = realloc(g->m, (g->n + r->n_ports) * sizeof(*m))))
			continue;
		g->m = m;
		before = g->n;
		/* only the edge's host ports: a switch port named as a member would send the
		 * group's frames back into the fabric (a loop) */
		for (size_t k = 0; k < r->n_ports; k++)
			if (pl_host_port(&pl->sw[sw], r->ports[k]))
				g->m[g->n++] = (struct member){ sw, (uint8_t)r->ports[k] };
			else
				mc->st.not_host_ports++;
		taken += g->n > before;
	}
	if (over)
		pl_refuse(pl, PLR_MCAST_EDGE_CAP, s,
			  "groups of a membership report refused: over the groups of an edge", over);
	for (size_t i = 0; i < mc->ng;) {
		if (mc->g[i].n == 0) {
			group_free(&mc->g[i]);
			mc->g[i] = mc->g[--mc->ng];
		} else {
			i++;
		}
	}
	return true;
}

/* --- the trees ------------------------------------------------------------------------------ */

struct ctx {
	const struct portland *pl;
	int32_t **nb;                      /* faults_links: usable links */
	struct mgroup *g;
	int32_t *asg;                      /* per switch: the core of S a member edge is given */
	bool *member;                      /* per switch: a member edge */
	struct mentry *e;                  /* the group's entries, being built */
	size_t ne, cap;
	int err;
};

static bool located(const struct pl_switch *w, int level)
{
	return w->reported && w->located && w->level == level;
}

/* The port index of i that reaches j over a usable link, or -1. */
static int port_to(const struct ctx *c, uint32_t i, uint32_t j)
{
	for (size_t p = 0; p < c->pl->sw[i].nports; p++)
		if (c->nb[i][p] == (int32_t)j)
			return (int)p;
	return -1;
}

/* The aggregation switch through which core C reaches edge e, or -1. */
static int32_t agg_between(const struct ctx *c, uint32_t core, uint32_t e)
{
	const struct pl_switch *w = &c->pl->sw[core];

	for (size_t p = 0; p < w->nports; p++) {
		int32_t a = c->nb[core][p];

		if (a >= 0 && located(&c->pl->sw[a], AGG) && c->pl->sw[a].pod == c->pl->sw[e].pod &&
		    port_to(c, (uint32_t)a, e) >= 0)
			return a;
	}
	return -1;
}

/* a(E, C): the aggregation switch of E's pod, up from E, that links to core C; or -1. */
static int32_t agg_up(const struct ctx *c, uint32_t e, uint32_t core)
{
	const struct pl_switch *w = &c->pl->sw[e];

	for (size_t p = 0; p < w->nports; p++) {
		int32_t a = c->nb[e][p];

		if (a >= 0 && located(&c->pl->sw[a], AGG) && port_to(c, (uint32_t)a, core) >= 0)
			return a;
	}
	return -1;
}

static bool in_s(const struct mgroup *g, int32_t core)
{
	for (size_t i = 0; i < g->ncores; i++)
		if ((int32_t)g->cores[i] == core)
			return true;
	return false;
}

static struct mentry *entry(struct ctx *c, uint32_t sw, int16_t in)
{
	struct mentry *e;

	if (c->err)
		return NULL;
	if (c->ne == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;

		if (!(e = realloc(c->e, cap * sizeof(*e)))) {
			c->err = -ENOMEM;
			return NULL;
		}
		c->e = e;
		c->cap = cap;
	}
	e = &c->e[c->ne];
	e->sw = sw;
	e->in = in;
	e->nout = 0;
	return e;
}

static void out_add(struct mentry *e, uint8_t port)
{
	for (uint16_t i = 0; i < e->nout; i++)
		if (e->out[i] == port)
			return;
	if (e->nout < WIRE_MAX_SWITCH_PORTS && (e->in < 0 || port != (uint8_t)e->in))
		e->out[e->nout++] = port;
}

/* The entry is kept when it sends somewhere. */
static void entry_done(struct ctx *c, struct mentry *e)
{
	if (e && e->nout)
		c->ne++;
}

static void host_ports(const struct ctx *c, uint32_t sw, struct mentry *e)
{
	/* a member port that is no host port any more (the location changed) is left out */
	for (size_t k = 0; e && k < c->g->n; k++)
		if (c->g->m[k].sw == sw && pl_host_port(&c->pl->sw[sw], c->g->m[k].port))
			out_add(e, c->g->m[k].port);
}

static uint8_t num(const struct ctx *c, uint32_t sw, int p)
{
	return c->pl->sw[sw].ports[p].port;
}

static void edge_entries(struct ctx *c, uint32_t E)
{
	const struct pl_switch *w = &c->pl->sw[E];
	struct mentry *e = entry(c, E, -1);

	host_ports(c, E, e);
	for (size_t i = 0; e && i < c->g->ncores; i++) {
		int32_t a = agg_up(c, E, c->g->cores[i]);

		if (a >= 0)
			out_add(e, num(c, E, port_to(c, E, (uint32_t)a)));
	}
	entry_done(c, e);
	if (!c->member[E])
		return;
	for (size_t p = 0; p < w->nports; p++)
		if (c->nb[E][p] >= 0 && located(&c->pl->sw[c->nb[E][p]], AGG)) {
			e = entry(c, E, num(c, E, (int)p));
			host_ports(c, E, e);
			entry_done(c, e);
		}
}

static void agg_entries(struct ctx *c, uint32_t A)
{
	const struct pl_switch *w = &c->pl->sw[A];

	for (size_t p = 0; p < w->nports; p++) {
		int32_t j = c->nb[A][p];
		struct mentry *e;

		if (j < 0)
			continue;
		e = entry(c, A, num(c, A, (int)p));
		if (located(&c->pl->sw[j], EDGE)) {
			/* from an edge below: up to the cores it goes to through us */
			for (size_t i = 0; e && i < c->g->ncores; i++)
				if (agg_up(c, (uint32_t)j, c->g->cores[i]) == (int32_t)A)
					out_add(e, num(c, A, port_to(c, A, c->g->cores[i])));
			for (size_t q = 0; e && e->nout && q < w->nports; q++) {
				int32_t d = c->nb[A][q];

				if (d >= 0 && d != j && c->member[d] && c->asg[d] >= 0 &&
				    agg_up(c, (uint32_t)j, (uint32_t)c->asg[d]) == (int32_t)A)
					out_add(e, num(c, A, (int)q));
			}
		} else if (located(&c->pl->sw[j], CORE) && in_s(c->g, j)) {
			for (size_t q = 0; e && q < w->nports; q++) {
				int32_t d = c->nb[A][q];

				if (d >= 0 && c->member[d] && c->asg[d] == j)
					out_add(e, num(c, A, (int)q));
			}
		}
		entry_done(c, e);
	}
}

static void core_entries(struct ctx *c, uint32_t C)
{
	const struct pl_switch *w = &c->pl->sw[C];

	for (size_t p = 0; p < w->nports; p++) {
		int32_t a = c->nb[C][p];
		struct mentry *e;

		if (a < 0 || !located(&c->pl->sw[a], AGG))
			continue;
		e = entry(c, C, num(c, C, (int)p));
		for (size_t i = 0; e && i < c->pl->nsw; i++) {
			int32_t via;

			if (!c->member[i] || c->asg[i] != (int32_t)C ||
			    c->pl->sw[i].pod == c->pl->sw[a].pod ||
			    (via = agg_between(c, C, (uint32_t)i)) < 0)
				continue;
			out_add(e, num(c, C, port_to(c, C, (uint32_t)via)));
		}
		entry_done(c, e);
	}
}

/* Deterministic (every fabricd picks the same core): FNV-1a over the address, then mixed. */
static uint64_t group_hash(const struct ipaddr *a)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < ipaddr_len(a); i++)
		h = (h ^ a->b[i]) * 0x100000001b3ULL;
	return hash_mix64(h);
}

static int core_cmp(const void *x, const void *y, void *arg)
{
	const struct portland *pl = arg;

	return memcmp(pl->sw[*(const uint32_t *)x].switch_id, pl->sw[*(const uint32_t *)y].switch_id,
		      MAC_LEN);
}

/* Does core C (located now) reach every member edge? */
static bool reaches_all(const struct ctx *c, uint32_t C)
{
	if (!located(&c->pl->sw[C], CORE))
		return false;
	for (size_t i = 0; i < c->pl->nsw; i++)
		if (c->member[i] && agg_between(c, C, (uint32_t)i) < 0)
			return false;
	return true;
}

/* S and asg for the group (see the top of the file). */
static void choose(struct ctx *c, const uint32_t *cores, size_t ncores)
{
	const struct portland *pl = c->pl;
	struct mgroup *g = c->g;
	size_t start = ncores ? group_hash(&g->group) % ncores : 0, nm = 0, left;
	bool *covered = calloc(pl->nsw + 1, sizeof(*covered));

	for (size_t i = 0; i < pl->nsw; i++)
		nm += c->member[i];
	/* a single core that still reaches every member edge stays: a tree moves only when
	 * it must (a repaired link does not move it back) */
	if (g->ncores != 1 || !reaches_all(c, g->cores[0]))
		g->ncores = 0;
	g->unreached = 0;
	for (size_t r = 0; r < ncores && g->ncores == 0; r++)
		if (reaches_all(c, cores[(start + r) % ncores]))
			g->cores[g->ncores++] = cores[(start + r) % ncores];
	for (left = g->ncores ? 0 : nm; covered && left > 0;) {
		size_t best = 0, best_n = 0;

		for (size_t r = 0; r < ncores; r++) {
			uint32_t C = cores[(start + r) % ncores];
			size_t n = 0;

			for (size_t i = 0; located(&pl->sw[C], CORE) && i < pl->nsw; i++)
				n += c->member[i] && !covered[i] && agg_between(c, C, (uint32_t)i) >= 0;
			if (n > best_n) {
				best_n = n;
				best = (start + r) % ncores;
			}
		}
		if (best_n == 0)
			break;
		g->cores[g->ncores++] = cores[best];
		for (size_t i = 0; i < pl->nsw; i++)
			if (c->member[i] && agg_between(c, cores[best], (uint32_t)i) >= 0)
				covered[i] = true;
		left -= best_n;
	}
	free(covered);
	for (size_t i = 0; i < pl->nsw; i++) {
		c->asg[i] = -1;
		for (size_t k = 0; c->member[i] && k < g->ncores && c->asg[i] < 0; k++)
			if (agg_between(c, g->cores[k], (uint32_t)i) >= 0)
				c->asg[i] = (int32_t)g->cores[k];
		g->unreached += c->member[i] && c->asg[i] < 0;
	}
}

static int group_tree(struct ctx *c, const uint32_t *cores, size_t ncores)
{
	const struct portland *pl = c->pl;

	memset(c->member, 0, pl->nsw * sizeof(*c->member));
	for (size_t k = 0; k < c->g->n; k++)
		c->member[c->g->m[k].sw] = located(&pl->sw[c->g->m[k].sw], EDGE);
	choose(c, cores, ncores);
	c->e = NULL;
	c->ne = c->cap = 0;
	for (size_t i = 0; i < pl->nsw; i++) {
		if (located(&pl->sw[i], EDGE))
			edge_entries(c, (uint32_t)i);
		else if (located(&pl->sw[i], AGG))
			agg_entries(c, (uint32_t)i);
		else if (located(&pl->sw[i], CORE) && in_s(c->g, (int32_t)i))
			core_entries(c, (uint32_t)i);
	}
	free(c->g->e);
	c->g->e = c->e;
	c->g->ne = c->ne;
	return c->err;
}

/* --- tables to the switches ----------------------------------------------------------------- */

static uint64_t table_hash(const struct pl_mcast *mc, uint32_t sw, size_t *n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL;

	*n = 0;
	for (size_t i = 0; i < mc->ng; i++)
		for (size_t k = 0; k < mc->g[i].ne; k++) {
			const struct mentry *e = &mc->g[i].e[k];

			if (e->sw != sw)
				continue;
			(*n)++;
			for (size_t b = 0; b < 16; b++)
				h = hash_mix64(h ^ mc->g[i].group.b[b] ^ (uint64_t)mc->g[i].group.af << 8);
			h = hash_mix64(h ^ (uint64_t)(uint16_t)e->in << 16 ^ e->nout);
			for (uint16_t o = 0; o < e->nout; o++)
				h = hash_mix64(h ^ e->out[o]);
		}
	return h;
}

/* The McastEntry of e (of group g) into m; out points into e. */
static void entry_msg(const struct mgroup *g, const struct mentry *e, L2f__McastEntry *m,
		      uint32_t *ports)
{
	l2f__mcast_entry__init(m);
	m->group = (ProtobufCBinaryData){ ipaddr_len(&g->group), (uint8_t *)g->group.b };
	if ((m->has_in_port = e->in >= 0))
		m->in_port = (uint32_t)e->in;
	for (uint16_t o = 0; o < e->nout; o++)
		ports[o] = e->out[o];
	m->out_ports = ports;
	m->n_out_ports = e->nout;
}

static void send_table(struct pl_mcast *mc, struct pl_switch *w, uint32_t sw, size_t n)
{
	L2f__McastTable t = L2F__MCAST_TABLE__INIT;
	L2f__Portland m = L2F__PORTLAND__INIT;
	L2f__Envelope env = L2F__ENVELOPE__INIT;
	L2f__McastEntry *e, **ep;
	uint32_t *ports;
	size_t k = 0;

	if (n > WIRE_MAX_MCAST_ENTRIES) {
		mc->st.entries_over_cap += n - WIRE_MAX_MCAST_ENTRIES;
		n = WIRE_MAX_MCAST_ENTRIES;
	}
	e = calloc(n + 1, sizeof(*e));
	ep = calloc(n + 1, sizeof(*ep));
	ports = calloc((n + 1) * WIRE_MAX_SWITCH_PORTS, sizeof(*ports));
	for (size_t i = 0; e && ep && ports && i < mc->ng; i++)
		for (size_t j = 0; j < mc->g[i].ne && k < n; j++)
			if (mc->g[i].e[j].sw == sw) {
				entry_msg(&mc->g[i], &mc->g[i].e[j], &e[k],
					  ports + k * WIRE_MAX_SWITCH_PORTS);
				ep[k] = &e[k];
				k++;
			}
	if (e && ep && ports) {
		t.entries = ep;
		t.n_entries = k;
		m.mcast_table = &t;
		env.msg_case = L2F__ENVELOPE__MSG_PORTLAND;
		env.portland = &m;
		if (wire_send(w->s->w, &env) == 0) {
			w->mcast_sent = true;
			mc->st.messages++;
		}
	}
	free(e);
	free(ep);
	free(ports);
}

static int recompute(struct pl_mcast *mc)
{
	struct portland *pl = mc->pl;
	struct ctx c = { .pl = pl };
	uint32_t *cores = calloc(pl->nsw + 1, sizeof(*cores));
	size_t ncores = 0;
	uint32_t covers = 0, unreached = 0;

	c.nb = faults_links(pl);
	c.asg = calloc(pl->nsw + 1, sizeof(*c.asg));
	c.member = calloc(pl->nsw + 1, sizeof(*c.member));
	if (!cores || !c.nb || !c.asg || !c.member) {
		c.err = -ENOMEM;
		goto out;
	}
	/* the ring the hash picks from: every switch ever located as a core, so that one that
	 * drops out for a moment (its session, its LDP) does not move every other group */
	for (size_t i = 0; i < pl->nsw; i++) {
		pl->sw[i].mcast_core |= located(&pl->sw[i], CORE);
		if (pl->sw[i].mcast_core)
			cores[ncores++] = (uint32_t)i;
	}
	qsort_r(cores, ncores, sizeof(*cores), core_cmp, pl);
	for (size_t i = 0; i < mc->ng && !c.err; i++) {
		c.g = &mc->g[i];
		group_tree(&c, cores, ncores);
		covers += c.g->ncores > 1;
		unreached += c.g->unreached;
	}
	mc->st.covers = covers;
	mc->st.unreached = unreached;
	/* cores first, edges last: the switches below a new path have their entries before
	 * the sender's edge turns to it (as far as the order of messages goes) */
	for (size_t k = 0; k < 3 * pl->nsw && !c.err; k++) {
		static const int order[3] = { CORE, AGG, EDGE };
		size_t i = k % pl->nsw;
		struct pl_switch *w = &pl->sw[i];
		size_t n;
		uint64_t h;

		if (!w->reported || !w->located || w->level != order[k / pl->nsw])
			continue;
		h = table_hash(mc, (uint32_t)i, &n);
		if (h != w->mcast_hash || !w->mcast_known) {
			if (w->mcast_known || n)
				mc->st.tables_changed++;
			w->mcast_known = true;
			w->mcast_hash = h;
			w->mcast_sent = false;
		}
		/* a switch with nothing, never told anything in this session, needs no message */
		if (!w->mcast_sent && w->s && (n || w->mcast_told))
			send_table(mc, w, (uint32_t)i, n);
		w->mcast_told |= w->mcast_sent && n;
	}
out:
	faults_links_free(pl, c.nb);
	free(cores);
	free(c.asg);
	free(c.member);
	return c.err;
}

static void on_recompute(evutil_socket_t fd, short what, void *arg)
{
	struct pl_mcast *mc = arg;

	/* a fabricd that starts sends no table until its view is complete (faults.c; it calls
	 * mcast_changed then): a tree computed from the first switches to reconnect would move
	 * groups to whichever core reported first and leave the switches still to report on the
	 * old tree - they keep their pinned tables meanwhile, and so keep forwarding */
	if (!faults_settled(mc->pl)) {
		mc->st.held++;
		return;
	}
	mc->st.recomputes++;
	if (recompute(mc) < 0)
		log_err("portland: multicast: out of memory: trees not updated");
}

void mcast_changed(struct portland *pl, struct fabricd *fd)
{
	struct pl_mcast *mc = pl->mcast;

	if (!mc)
		return;
	if (!mc->ev) {
		mc->pl = pl;
		if (!(mc->ev = evtimer_new(fd->base, on_recompute, mc)))
			return;
	}
	event_active(mc->ev, EV_TIMEOUT, 0);
}

void mcast_counters(const struct pl_mcast *mc, fabricd_counter_fn fn, void *ctx)
{
	size_t members = 0;

	for (size_t i = 0; i < mc->ng; i++)
		members += mc->g[i].n;
	fn(ctx, "portland.mcast.groups", mc->ng, false);
	fn(ctx, "portland.mcast.members", members, false);
	fn(ctx, "portland.mcast.reports", mc->st.reports, false);
	fn(ctx, "portland.mcast.recomputes", mc->st.recomputes, false);
	fn(ctx, "portland.mcast.recomputes_held", mc->st.held, false);
	fn(ctx, "portland.mcast.tables_changed", mc->st.tables_changed, false);
	fn(ctx, "portland.mcast.messages", mc->st.messages, false);
	fn(ctx, "portland.mcast.set_covers", mc->st.covers, false);
	fn(ctx, "portland.mcast.edges_unreached", mc->st.unreached, false);
	fn(ctx, "portland.mcast.groups_over_cap", mc->st.groups_over_cap, false);
	fn(ctx, "portland.mcast.entries_over_cap", mc->st.entries_over_cap, false);
	fn(ctx, "portland.refused.mcast_not_a_host_port", mc->st.not_host_ports, false);
}

/* --- fabricctl groups ------------------------------------------------------------------------ */

int mcast_groups_reply(const struct portland *pl, L2f__Reply *r)
{
	const struct pl_mcast *mc = pl->mcast;
	size_t ne = 0, nm = 0, nc = 0;
	L2f__McastGroupInfo *gi, **gp;
	L2f__McastMember *mm, **mp;
	L2f__McastEntry *me, **mep;
	char **cp;
	uint32_t *ports;
	uint8_t *base;

	for (size_t i = 0; i < mc->ng; i++) {
		ne += mc->g[i].ne;
		nm += mc->g[i].n;
		nc += mc->g[i].ncores;
	}
	/* one allocation, the group array first (mcast_groups_free frees it) */
	base = calloc(1, (mc->ng + 1) * (sizeof(*gi) + sizeof(*gp)) +
			 nm * (sizeof(*mm) + sizeof(*mp)) + nc * sizeof(*cp) +
			 ne * (sizeof(*me) + sizeof(*mep) + WIRE_MAX_SWITCH_PORTS * sizeof(*ports)));
	if (!base)
		return -ENOMEM;
	gp = (L2f__McastGroupInfo **)base;
	gi = (L2f__McastGroupInfo *)(gp + mc->ng + 1);
	mm = (L2f__McastMember *)(gi + mc->ng + 1);
	mp = (L2f__McastMember **)(mm + nm);
	me = (L2f__McastEntry *)(mp + nm);
	mep = (L2f__McastEntry **)(me + ne);
	cp = (char **)(mep + ne);
	ports = (uint32_t *)(cp + nc);
	for (size_t i = 0; i < mc->ng; i++) {
		const struct mgroup *g = &mc->g[i];
		L2f__McastGroupInfo *o = &gi[i];

		l2f__mcast_group_info__init(o);
		o->group = (ProtobufCBinaryData){ ipaddr_len(&g->group), (uint8_t *)g->group.b };
		o->members = mp;
		for (size_t k = 0; k < g->n; k++, mm++) {
			l2f__mcast_member__init(mm);
			mm->switch_name = (char *)pl->sw[g->m[k].sw].name;
			mm->port = g->m[k].port;
			mp[o->n_members++] = mm;
		}
		mp += o->n_members;
		o->cores = cp;
		for (size_t k = 0; k < g->ncores; k++)
			cp[o->n_cores++] = (char *)pl->sw[g->cores[k]].name;
		cp += o->n_cores;
		o->tree = mep;
		for (size_t k = 0; k < g->ne; k++, me++, ports += WIRE_MAX_SWITCH_PORTS) {
			entry_msg(g, &g->e[k], me, ports);
			me->switch_name = (char *)pl->sw[g->e[k].sw].name;
			mep[o->n_tree++] = me;
		}
		mep += o->n_tree;
		o->has_edges_unreached = true;
		o->edges_unreached = g->unreached;
		gp[i] = o;
	}
	r->mcast_groups = gp;
	r->n_mcast_groups = mc->ng;
	return 0;
}

void mcast_groups_free(L2f__Reply *r)
{
	free(r->mcast_groups);
	r->mcast_groups = NULL;
	r->n_mcast_groups = 0;
}
