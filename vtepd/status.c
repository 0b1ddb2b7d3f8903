/*
 * status.c - vtepd's answers on its control socket, typed (proto/fabric.proto's AgentStatus and
 * AgentFdb) for `fabricctl agent`, built on a ctlsrv pool freed once the reply is sent:
 *   status: the agent, its session with fabricd, its segments and counters;
 *   fdb:    what vtepd has programmed, read back from the kernel (kernel_dump: only what is
 *           ours), set against the mirror of what fabricd wants, so that drift shows; and
 *           the MACs learned on local ports.
 * Every kernel or mirror entry of the fdb answer carries `kernel` (the kernel holds it) and
 * `want` (fabricd wants exactly it); an entry with only one of the two is drift. Entries come
 * sorted by VNI, then by key (MAC, or address: IPv4 before IPv6, then by bytes).
 * A reply points into the daemon's own memory where it can: it is encoded before the handler's
 * caller returns to the loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctlsrv.h"
#include "drift.h"
#include "learn.h"
#include "pkt/drop.h"
#include "vtepd.h"

/* RFC 3339 UTC, in the pool; NULL for 0 (never). */
static char *time_text(struct ctlsrv_pool *pl, time_t t)
{
	char *buf;
	struct tm tm;

	if (!t || !gmtime_r(&t, &tm) || !(buf = ctlsrv_palloc(pl, 32)))
		return NULL;
	return strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) ? buf : NULL;
}

static L2f__AgentKernelCount *kcount_pb(struct ctlsrv_pool *pl, const struct kcount *c)
{
	L2f__AgentKernelCount *o = ctlsrv_palloc(pl, sizeof(*o));

	if (!o)
		return NULL;
	l2f__agent_kernel_count__init(o);
	o->added = c->added;
	o->updated = c->updated;
	o->removed = c->removed;
	o->kept = c->kept;
	o->foreign = c->foreign;
	o->conflicts = c->conflicts;
	return o;
}

static L2f__AgentReconcile *reconcile_pb(struct ctlsrv_pool *pl, const struct vtepd_counters *c)
{
	L2f__AgentReconcile *o = ctlsrv_palloc(pl, sizeof(*o));
	const struct kstats *st = &c->reconcile_last;

	if (!o)
		return NULL;
	l2f__agent_reconcile__init(o);
	o->count = c->reconciles;
	if (!c->reconciles)
		return o;
	o->at = time_text(pl, c->reconcile_at);
	o->result = c->reconcile_err ? strerror(-c->reconcile_err) : "ok";
	o->fdb = kcount_pb(pl, &st->fdb);
	o->flood = kcount_pb(pl, &st->flood);
	o->neigh = kcount_pb(pl, &st->neigh);
	o->has_fdb_flooded = o->has_errors = o->has_took_us = true;
	o->fdb_flooded = st->fdb_flooded;
	o->errors = st->errors;
	o->took_us = st->dump_us + st->program_us;
	return o;
}

static L2f__AgentLearner *learner_pb(struct ctlsrv_pool *pl, const struct learner *lr)
{
	L2f__AgentLearner *o = ctlsrv_palloc(pl, sizeof(*o));
	L2f__Counter *c = ctlsrv_palloc(pl, PKT_DROP_COUNT * sizeof(*c));
	L2f__Counter **drops = ctlsrv_palloc(pl, PKT_DROP_COUNT * sizeof(*drops));
	struct learn_stats ls;

	if (!o || !c || !drops)
		return NULL;
	learner_stats(lr, &ls);
	l2f__agent_learner__init(o);
	o->fdb_events = ls.fdb_events;
	o->frames = ls.frames;
	o->frames_dropped = ls.frames_dropped;
	o->frames_foreign = ls.frames_foreign;
	o->macs = ls.macs;
	o->unpinned = ls.unpinned;
	for (int i = 1; i < PKT_DROP_COUNT; i++) {
		if (!ls.drops[i])
			continue;
		l2f__counter__init(&c[o->n_drops]);
		c[o->n_drops].name = (char *)pkt_drop_name(i);
		c[o->n_drops].value = ls.drops[i];
		drops[o->n_drops] = &c[o->n_drops];
		o->n_drops++;
	}
	o->drops = drops;
	return o;
}

static L2f__AgentDrift *drift_pb(struct ctlsrv_pool *pl, const struct drift *d)
{
	L2f__AgentDrift *o;
	struct drift_stats st;

	if (!d || !(o = ctlsrv_palloc(pl, sizeof(*o))))
		return NULL;
	drift_stats(d, &st);
	l2f__agent_drift__init(o);
	o->deleted_by_operator = st.deleted_by_operator;
	o->flushed_by_link_change = st.flushed_by_link_change;
	o->not_wanted = st.not_wanted;
	o->repairs = st.repairs;
	o->repaired = st.repaired;
	o->conflicts = st.conflicts;
	o->backed_off = st.backed_off;
	o->held = st.held;
	o->link_changes = st.link_changes;
	o->events_lost = st.events_lost;
	o->errors = st.errors;
	o->last_repair_us = st.last_repair_us;
	o->max_repair_us = st.max_repair_us;
	return o;
}

static L2f__AgentFabricd *fabricd_pb(struct ctlsrv_pool *pl, const struct vtepd *v)
{
	L2f__AgentFabricd *o = ctlsrv_palloc(pl, sizeof(*o));
	const struct wire_client_status *st = wire_client_status(v->fc);

	if (!o)
		return NULL;
	l2f__agent_fabricd__init(o);
	o->address = (char *)v->fabricd;
	o->tls = v->tls != NULL;
	o->connected = st->connected;
	o->since = time_text(pl, st->since_wall);
	o->for_ms = monotime_diff_us(monotime_now(), st->since) / USEC_PER_MSEC;
	o->sessions = st->sessions;
	o->attempts = st->attempts;
	o->last_error = st->last_error[0] ? (char *)st->last_error : NULL;
	o->receiving_full_table = v->in_full;
	return o;
}

static L2f__AgentSegment *segment_pb(struct ctlsrv_pool *pl, const struct vtepd *v,
				     const struct seg *s)
{
	L2f__AgentSegment *o = ctlsrv_palloc(pl, sizeof(*o));
	ProtobufCBinaryData *fl = ctlsrv_palloc(pl, (s->nflood + 1) * sizeof(*fl));
	struct mac *br_mac = ctlsrv_palloc(pl, sizeof(*br_mac));
	int assign;

	if (!o || !fl || !br_mac)
		return NULL;
	l2f__agent_segment__init(o);
	o->vni = s->vni;
	o->bridge = (char *)s->bridge;
	o->br_ifindex = s->br_ifindex;
	o->vx_ifindex = s->vx_ifindex;
	if (drift_bridge(v->drift, s->vni, br_mac, &assign) == 0) {
		o->has_bridge_mac = true;
		o->bridge_mac = ctlsrv_mac(br_mac);
		if (assign >= 0) {
			o->has_bridge_mac_fixed = o->has_bridge_addr_assign_type = true;
			o->bridge_mac_fixed = assign == KERNEL_ADDR_SET;
			o->bridge_addr_assign_type = assign;
		}
	}
	for (size_t k = 0; k < s->nflood; k++)
		fl[k] = ctlsrv_addr(&s->flood[k]);
	o->flood = fl;
	o->n_flood = s->nflood;
	return o;
}

/* One warning per segment at most (drift.h). */
static void warnings_pb(struct ctlsrv_pool *pl, const struct vtepd *v, L2f__AgentStatus *st)
{
	char **w = ctlsrv_palloc(pl, (v->nsegs + 1) * sizeof(*w));

	for (size_t i = 0; w && i < v->nsegs; i++) {
		char *buf = ctlsrv_palloc(pl, 256);

		if (buf && drift_warning(v->drift, i, buf, 256) > 0)
			w[st->n_warnings++] = buf;
	}
	st->warnings = w;
}

static L2f__AgentCounters *counters_pb(struct ctlsrv_pool *pl, const struct vtepd *v)
{
	L2f__AgentCounters *c = ctlsrv_palloc(pl, sizeof(*c));
	struct kcounters kc;

	if (!c)
		return NULL;
	l2f__agent_counters__init(c);
	kernel_counters(v->k, &kc);
	c->bindings = v->want.count;
	c->known_vteps = v->known.n;
	c->updates_received = v->c.updates;
	c->full_tables = v->c.full_tables;
	c->reports_sent = v->c.reports;
	c->kernel_requests = kc.requests;
	c->kernel_done = kc.requests - kc.refused;
	c->kernel_refused = kc.refused;
	c->has_kernel_lost = c->has_kernel_timeouts = c->has_kernel_in_flight = true;
	c->kernel_lost = kc.lost;
	c->kernel_timeouts = kc.timeouts;
	c->kernel_in_flight = kc.in_flight;
	c->reconcile = reconcile_pb(pl, &v->c);
	c->learner = learner_pb(pl, v->lr);
	c->drift = drift_pb(pl, v->drift);
	return c;
}

void vtepd_status_reply(struct vtepd *v, L2f__Reply *r, struct ctlsrv_cleanup *cl)
{
	struct ctlsrv_pool *pl = ctlsrv_pool_new(cl);
	L2f__AgentStatus *st = pl ? ctlsrv_palloc(pl, sizeof(*st)) : NULL;
	L2f__AgentSegment **segs = pl ? ctlsrv_palloc(pl, (v->nsegs + 1) * sizeof(*segs)) : NULL;

	if (!st || !segs) {
		r->error = "out of memory";
		return;
	}
	l2f__agent_status__init(st);
	st->id = v->id;
	if ((st->has_vtep = v->vtep.af != 0))
		st->vtep = ctlsrv_addr(&v->vtep);
	st->underlay = (char *)v->underlay;
	st->fabricd = fabricd_pb(pl, v);
	for (size_t i = 0; i < v->nsegs; i++)
		if ((segs[st->n_segments] = segment_pb(pl, v, &v->segs[i])))
			st->n_segments++;
	st->segments = segs;
	warnings_pb(pl, v, st);
	st->counters = counters_pb(pl, v);
	if (ctlsrv_pool_failed(pl)) {
		r->error = "out of memory";
		return;
	}
	r->agent_status = st;
}

/* --- fdb -------------------------------------------------------------------------------- */

/* What kernel_dump found for one VNI, sorted (the mirror is looked up in it). */
struct kfdb_ent {
	struct mac mac;
	struct ipaddr dst;
};

struct kneigh_ent {
	struct ipaddr ip;
	struct mac mac;
};

struct dumped {
	struct kfdb_ent *fdb;
	struct ipaddr *flood;
	struct kneigh_ent *neigh;
	size_t nfdb, nflood, nneigh, capfdb, capflood, capneigh;
	int err;
};

/* The answer's entries, each with the bytes its message points to; sorted, then handed to
 * the pool. */
struct flood_row {
	L2f__AgentFlood pb;
	struct ipaddr dst;
};

struct fdb_row {
	L2f__AgentFdbEntry pb;
	struct mac mac;
	struct ipaddr dst;
};

struct neigh_row {
	L2f__AgentNeigh pb;
	struct ipaddr ip;
	struct mac mac;
};

struct local_row {
	L2f__AgentLocal pb;
	struct mac mac;
	ProtobufCBinaryData ips[LEARN_MAX_IPS];
	struct ipaddr ip[LEARN_MAX_IPS];
};

struct rows {
	void *v;
	size_t n, cap;
};

static void *push(void *pp, size_t *n, size_t *cap, size_t size, int *err)
{
	void **p = pp;

	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		void *q = realloc(*p, c * size);

		if (!q) {
			*err = -ENOMEM;
			return NULL;
		}
		*p = q;
		*cap = c;
	}
	return memset((char *)*p + size * (*n)++, 0, size);
}

static int on_fdb(void *ctx, uint32_t vni, const struct mac *mac, const struct ipaddr *dsts,
		  size_t ndst)
{
	struct dumped *d = ctx;

	for (size_t i = 0; i < ndst; i++) {
		struct kfdb_ent *e = push(&d->fdb, &d->nfdb, &d->capfdb, sizeof(*e), &d->err);

		if (!e)
			return d->err;
		*e = (struct kfdb_ent){ *mac, dsts[i] };
	}
	return 0;
}

static int on_flood(void *ctx, uint32_t vni, const struct ipaddr *dst)
{
	struct dumped *d = ctx;
	struct ipaddr *e = push(&d->flood, &d->nflood, &d->capflood, sizeof(*e), &d->err);

	if (!e)
		return d->err;
	*e = *dst;
	return 0;
}

static int on_neigh(void *ctx, uint32_t vni, const struct ipaddr *ip, const struct mac *mac)
{
	struct dumped *d = ctx;
	struct kneigh_ent *e = push(&d->neigh, &d->nneigh, &d->capneigh, sizeof(*e), &d->err);

	if (!e)
		return d->err;
	*e = (struct kneigh_ent){ *ip, *mac };
	return 0;
}

static int kfdb_ent_cmp(const void *x, const void *y)
{
	const struct kfdb_ent *a = x, *b = y;
	int c = memcmp(a->mac.b, b->mac.b, MAC_LEN);

	return c ? c : ipaddr_cmp(&a->dst, &b->dst);
}

static int kneigh_ent_cmp(const void *x, const void *y)
{
	const struct kneigh_ent *a = x, *b = y;
	int c = ipaddr_cmp(&a->ip, &b->ip);

	return c ? c : memcmp(a->mac.b, b->mac.b, MAC_LEN);
}

static int ip_cmp(const void *x, const void *y)
{
	return ipaddr_cmp(x, y);
}

static void *find(const void *key, const void *base, size_t n, size_t size,
		  int (*cmp)(const void *, const void *))
{
	return n ? bsearch(key, base, n, size, cmp) : NULL;
}

/* Reads back what is ours on vx<vni> and its bridge, sorted. Flood remotes are ours when
 * their dst is a VTEP of the fabric or of the segment's flood list, as for reconcile. */
static int dump_seg(struct vtepd *v, const struct seg *s, struct dumped *d)
{
	static const struct kdesired_visitor vis = { NULL, on_fdb, on_flood, on_neigh };
	struct kdesired *kd = kdesired_new();
	struct ipaddr *known = malloc((v->known.n + s->nflood + 1) * sizeof(*known));
	int ret = kd && known ? 0 : -ENOMEM;

	if (!ret) {
		/* either may be empty, and then NULL */
		if (v->known.n)
			memcpy(known, v->known.v, v->known.n * sizeof(*known));
		if (s->nflood)
			memcpy(known + v->known.n, s->flood, s->nflood * sizeof(*known));
		ret = kernel_dump(v->k, s->vni, known, v->known.n + s->nflood, kd);
	}
	if (!ret)
		ret = kdesired_walk(kd, &vis, d);
	kdesired_free(kd);
	free(known);
	if (ret)
		return ret;
	if (d->nfdb > 1)
		qsort(d->fdb, d->nfdb, sizeof(*d->fdb), kfdb_ent_cmp);
	if (d->nflood > 1)
		qsort(d->flood, d->nflood, sizeof(*d->flood), ip_cmp);
	if (d->nneigh > 1)
		qsort(d->neigh, d->nneigh, sizeof(*d->neigh), kneigh_ent_cmp);
	return 0;
}

struct fdb_view {
	struct vtepd *v;
	const struct seg *s;
	const struct dumped *d;
	struct rows flood, fdb, neigh, local;
	uint64_t drift;
	int err;
};

static void add_flood(struct fdb_view *fv, const struct ipaddr *dst, bool kernel, bool want)
{
	struct flood_row *e = push(&fv->flood.v, &fv->flood.n, &fv->flood.cap, sizeof(*e),
				   &fv->err);

	if (!e)
		return;
	l2f__agent_flood__init(&e->pb);
	e->pb.vni = fv->s->vni;
	e->dst = *dst;
	e->pb.kernel = kernel;
	e->pb.want = want;
	fv->drift += kernel != want;
}

static void add_fdb(struct fdb_view *fv, const struct mac *mac, const struct ipaddr *dst,
		    bool kernel, bool want)
{
	struct fdb_row *e = push(&fv->fdb.v, &fv->fdb.n, &fv->fdb.cap, sizeof(*e), &fv->err);

	if (!e)
		return;
	l2f__agent_fdb_entry__init(&e->pb);
	e->pb.vni = fv->s->vni;
	e->mac = *mac;
	e->dst = *dst;
	e->pb.kernel = kernel;
	e->pb.want = want;
	fv->drift += kernel != want;
}

static void add_neigh(struct fdb_view *fv, const struct ipaddr *ip, const struct mac *mac,
		      bool kernel, bool want)
{
	struct neigh_row *e = push(&fv->neigh.v, &fv->neigh.n, &fv->neigh.cap, sizeof(*e),
				   &fv->err);

	if (!e)
		return;
	l2f__agent_neigh__init(&e->pb);
	e->pb.vni = fv->s->vni;
	e->ip = *ip;
	e->mac = *mac;
	e->pb.kernel = kernel;
	e->pb.want = want;
	fv->drift += kernel != want;
}

/* The mirror's entries for this VNI the kernel lacks. */
static int missing_one(void *val, void *ctx)
{
	const struct want *w = val;
	struct fdb_view *fv = ctx;
	const struct dumped *d = fv->d;

	if (w->vni != fv->s->vni)
		return 0;
	if (w->has_dst) {
		struct kfdb_ent key = { w->mac, w->dst };

		if (!find(&key, d->fdb, d->nfdb, sizeof(key), kfdb_ent_cmp))
			add_fdb(fv, &w->mac, &w->dst, false, true);
	}
	for (size_t i = 0; i < w->nips; i++) {
		struct kneigh_ent key = { w->ips[i], w->mac };

		if (!find(&key, d->neigh, d->nneigh, sizeof(key), kneigh_ent_cmp))
			add_neigh(fv, &w->ips[i], &w->mac, false, true);
	}
	return 0;
}

static bool want_neigh(const struct vtepd *v, uint32_t vni, const struct ipaddr *ip,
		       const struct mac *mac)
{
	const struct want *w = macmap_get(&v->want, vni, mac->b);

	for (size_t i = 0; w && i < w->nips; i++)
		if (ipaddr_eq(&w->ips[i], ip))
			return true;
	return false;
}

static void seg_view(struct fdb_view *fv)
{
	const struct dumped *d = fv->d;
	const struct seg *s = fv->s;

	for (size_t i = 0; i < d->nfdb; i++) {
		const struct want *w = macmap_get(&fv->v->want, s->vni, d->fdb[i].mac.b);

		add_fdb(fv, &d->fdb[i].mac, &d->fdb[i].dst, true,
			w && w->has_dst && ipaddr_eq(&w->dst, &d->fdb[i].dst));
	}
	for (size_t i = 0; i < d->nneigh; i++)
		add_neigh(fv, &d->neigh[i].ip, &d->neigh[i].mac, true,
			  want_neigh(fv->v, s->vni, &d->neigh[i].ip, &d->neigh[i].mac));
	macmap_foreach(&fv->v->want, missing_one, fv);
	/* s->flood is sorted too (vtepd.c): a flood list of thousands is no square */
	for (size_t i = 0; i < d->nflood; i++)
		add_flood(fv, &d->flood[i], true,
			  find(&d->flood[i], s->flood, s->nflood, sizeof(*s->flood), ip_cmp));
	for (size_t k = 0; k < s->nflood; k++)
		if (!find(&s->flood[k], d->flood, d->nflood, sizeof(*d->flood), ip_cmp))
			add_flood(fv, &s->flood[k], false, true);
}

static int local_one(const struct local_mac *m, void *ctx)
{
	struct fdb_view *fv = ctx;
	struct local_row *e = push(&fv->local.v, &fv->local.n, &fv->local.cap, sizeof(*e),
				   &fv->err);

	if (!e)
		return fv->err;
	l2f__agent_local__init(&e->pb);
	e->pb.vni = m->vni;
	e->mac = m->mac;
	for (size_t i = 0; i < m->nips && i < LEARN_MAX_IPS; i++)
		e->ip[e->pb.n_ips++] = m->ips[i];
	return 0;
}

/* By VNI, then the rows' keys. */
#define VNI_CMP(a, b) ((a)->pb.vni != (b)->pb.vni ? ((a)->pb.vni < (b)->pb.vni ? -1 : 1) : 0)

static int flood_row_cmp(const void *x, const void *y)
{
	const struct flood_row *a = x, *b = y;
	int c = VNI_CMP(a, b);

	return c ? c : ipaddr_cmp(&a->dst, &b->dst);
}

static int fdb_row_cmp(const void *x, const void *y)
{
	const struct fdb_row *a = x, *b = y;
	int c = VNI_CMP(a, b);

	if (!c)
		c = memcmp(a->mac.b, b->mac.b, MAC_LEN);
	return c ? c : ipaddr_cmp(&a->dst, &b->dst);
}

static int neigh_row_cmp(const void *x, const void *y)
{
	const struct neigh_row *a = x, *b = y;
	int c = VNI_CMP(a, b);

	if (!c)
		c = memcmp(a->mac.b, b->mac.b, MAC_LEN);
	return c ? c : ipaddr_cmp(&a->ip, &b->ip);
}

static int local_row_cmp(const void *x, const void *y)
{
	const struct local_row *a = x, *b = y;
	int c = VNI_CMP(a, b);

	return c ? c : memcmp(a->mac.b, b->mac.b, MAC_LEN);
}

/* Sorts the rows, points each message at its row's bytes and returns the list of messages
 * (in the pool, which also takes the rows); NULL when out of memory. */
static void **finish_rows(struct ctlsrv_pool *pl, struct rows *r, size_t size,
			  int (*cmp)(const void *, const void *))
{
	void **list = ctlsrv_palloc(pl, (r->n + 1) * sizeof(*list));

	if (!list || (r->n && ctlsrv_pool_adopt(pl, r->v) < 0)) {
		free(r->v);
		r->v = NULL;
		return NULL;
	}
	if (r->n > 1)
		qsort(r->v, r->n, size, cmp);
	for (size_t i = 0; i < r->n; i++)
		list[i] = (char *)r->v + i * size;
	if (!r->n)
		free(r->v);
	r->v = NULL;
	return list;
}

static void fill_fdb(struct ctlsrv_pool *pl, struct fdb_view *fv, L2f__AgentFdb *o)
{
	size_t nflood = fv->flood.n, nfdb = fv->fdb.n, nneigh = fv->neigh.n, nlocal = fv->local.n;

	o->flood = (L2f__AgentFlood **)finish_rows(pl, &fv->flood, sizeof(struct flood_row),
						   flood_row_cmp);
	o->fdb = (L2f__AgentFdbEntry **)finish_rows(pl, &fv->fdb, sizeof(struct fdb_row),
						    fdb_row_cmp);
	o->neigh = (L2f__AgentNeigh **)finish_rows(pl, &fv->neigh, sizeof(struct neigh_row),
						   neigh_row_cmp);
	o->local = (L2f__AgentLocal **)finish_rows(pl, &fv->local, sizeof(struct local_row),
						   local_row_cmp);
	if (!o->flood || !o->fdb || !o->neigh || !o->local)
		return;
	/* each message is the first member of its row */
	for (size_t i = 0; i < (o->n_flood = nflood); i++) {
		struct flood_row *e = (struct flood_row *)o->flood[i];

		e->pb.dst = ctlsrv_addr(&e->dst);
	}
	for (size_t i = 0; i < (o->n_fdb = nfdb); i++) {
		struct fdb_row *e = (struct fdb_row *)o->fdb[i];

		e->pb.mac = ctlsrv_mac(&e->mac);
		e->pb.dst = ctlsrv_addr(&e->dst);
	}
	for (size_t i = 0; i < (o->n_neigh = nneigh); i++) {
		struct neigh_row *e = (struct neigh_row *)o->neigh[i];

		e->pb.ip = ctlsrv_addr(&e->ip);
		e->pb.mac = ctlsrv_mac(&e->mac);
	}
	for (size_t i = 0; i < (o->n_local = nlocal); i++) {
		struct local_row *e = (struct local_row *)o->local[i];

		e->pb.mac = ctlsrv_mac(&e->mac);
		for (size_t k = 0; k < e->pb.n_ips; k++)
			e->ips[k] = ctlsrv_addr(&e->ip[k]);
		e->pb.ips = e->ips;
	}
}

void vtepd_fdb_reply(struct vtepd *v, L2f__Reply *r, struct ctlsrv_cleanup *cl)
{
	struct ctlsrv_pool *pl = ctlsrv_pool_new(cl);
	L2f__AgentFdb *o = pl ? ctlsrv_palloc(pl, sizeof(*o)) : NULL;
	char **errors = pl ? ctlsrv_palloc(pl, (v->nsegs + 1) * sizeof(*errors)) : NULL;
	struct fdb_view fv = { .v = v };

	if (!o || !errors) {
		r->error = "out of memory";
		return;
	}
	l2f__agent_fdb__init(o);
	o->errors = errors;
	for (size_t i = 0; i < v->nsegs && !fv.err; i++) {
		struct dumped d = { 0 };
		int err;

		fv.s = &v->segs[i];
		fv.d = &d;
		err = dump_seg(v, fv.s, &d);
		if (err) {
			char *buf = ctlsrv_palloc(pl, 128);

			if (buf) {
				snprintf(buf, 128, "vni %u: reading the kernel: %s", fv.s->vni,
					 strerror(-err));
				errors[o->n_errors++] = buf;
			}
		} else {
			seg_view(&fv);
		}
		free(d.fdb);
		free(d.flood);
		free(d.neigh);
	}
	if (!fv.err)
		learner_foreach(v->lr, local_one, &fv);
	fill_fdb(pl, &fv, o);
	free(fv.flood.v);
	free(fv.fdb.v);
	free(fv.neigh.v);
	free(fv.local.v);
	if (fv.err || ctlsrv_pool_failed(pl)) {
		r->error = "out of memory";
		return;
	}
	o->id = v->id;
	if ((o->has_vtep = v->vtep.af != 0))
		o->vtep = ctlsrv_addr(&v->vtep);
	o->connected = wire_client_session(v->fc) != NULL;
	o->receiving_full_table = v->in_full;
	o->drift = fv.drift;
	r->agent_fdb = o;
}
