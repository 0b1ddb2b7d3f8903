/*
 * status.c - vtepd's answers on its control socket (json-c), for `fabricctl agent`:
 *   "status": the agent, its session with fabricd, its segments and counters;
 *   "fdb":    what vtepd has programmed, read back from the kernel (kernel_dump: only what is
 *             ours), set against the mirror of what fabricd wants, so that drift shows; and
 *             the MACs learned on local ports.
 * Every kernel or mirror entry of the "fdb" answer carries `kernel` (the kernel holds it) and
 * `want` (fabricd wants exactly it); an entry with only one of the two is drift.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drift.h"
#include "learn.h"
#include "pkt/drop.h"
#include "vtepd.h"

static json_object *addr_json(const struct ipaddr *a)
{
	char buf[IPADDR_STRLEN];

	return a->af ? json_object_new_string(ipaddr_fmt(a, buf)) : NULL;
}

static json_object *mac_json(const struct mac *m)
{
	char buf[MAC_STRLEN];

	return json_object_new_string(mac_fmt(m, buf));
}

static json_object *time_json(time_t t)
{
	char buf[32];
	struct tm tm;

	if (!t || !gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return NULL;
	return json_object_new_string(buf);
}

static char *finish(json_object *root)
{
	char *out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(root);
	return out;
}

#define U64(o, name, val) json_object_object_add(o, name, json_object_new_uint64(val))

static json_object *kcount_json(const struct kcount *c)
{
	json_object *o = json_object_new_object();

	U64(o, "added", c->added);
	U64(o, "updated", c->updated);
	U64(o, "removed", c->removed);
	U64(o, "kept", c->kept);
	U64(o, "foreign", c->foreign);
	U64(o, "conflicts", c->conflicts);
	return o;
}

static json_object *reconcile_json(const struct vtepd_counters *c)
{
	json_object *o = json_object_new_object();
	const struct kstats *st = &c->reconcile_last;

	U64(o, "count", c->reconciles);
	if (!c->reconciles)
		return o;
	json_object_object_add(o, "at", time_json(c->reconcile_at));
	json_object_object_add(o, "result", json_object_new_string(
		c->reconcile_err ? strerror(-c->reconcile_err) : "ok"));
	json_object_object_add(o, "fdb", kcount_json(&st->fdb));
	json_object_object_add(o, "flood", kcount_json(&st->flood));
	json_object_object_add(o, "neigh", kcount_json(&st->neigh));
	U64(o, "fdb_flooded", st->fdb_flooded);
	U64(o, "errors", st->errors);
	json_object_object_add(o, "took_us", json_object_new_int64(st->dump_us + st->program_us));
	return o;
}

static json_object *learner_json(const struct learner *lr)
{
	json_object *o = json_object_new_object(), *drops = json_object_new_object();
	struct learn_stats ls;

	learner_stats(lr, &ls);
	U64(o, "fdb_events", ls.fdb_events);
	U64(o, "frames", ls.frames);
	U64(o, "frames_dropped", ls.frames_dropped);
	U64(o, "frames_foreign", ls.frames_foreign);
	U64(o, "macs", ls.macs);
	U64(o, "unpinned", ls.unpinned);
	for (int i = 1; i < PKT_DROP_COUNT; i++)
		if (ls.drops[i])
			U64(drops, pkt_drop_name(i), ls.drops[i]);
	json_object_object_add(o, "drops", drops);
	return o;
}

char *vtepd_status_json(struct vtepd *v)
{
	json_object *root = json_object_new_object(), *f = json_object_new_object();
	json_object *segs = json_object_new_array(), *c = json_object_new_object();
	const struct wire_client_status *st = wire_client_status(v->fc);
	struct kcounters kc;

	json_object_object_add(root, "id", json_object_new_string(v->id));
	json_object_object_add(root, "vtep", addr_json(&v->vtep));
	json_object_object_add(root, "underlay", v->underlay ? json_object_new_string(v->underlay)
							   : NULL);
	json_object_object_add(f, "address", json_object_new_string(v->fabricd));
	json_object_object_add(f, "tls", json_object_new_boolean(v->tls != NULL));
	json_object_object_add(f, "connected", json_object_new_boolean(st->connected));
	json_object_object_add(f, "since", time_json(st->since_wall));
	json_object_object_add(f, "for_ms", json_object_new_int64(
		monotime_diff_us(monotime_now(), st->since) / USEC_PER_MSEC));
	U64(f, "sessions", st->sessions);
	U64(f, "attempts", st->attempts);
	json_object_object_add(f, "last_error", st->last_error[0] ?
			       json_object_new_string(st->last_error) : NULL);
	json_object_object_add(f, "receiving_full_table", json_object_new_boolean(v->in_full));
	json_object_object_add(root, "fabricd", f);

	for (size_t i = 0; i < v->nsegs; i++) {
		const struct seg *s = &v->segs[i];
		json_object *so = json_object_new_object(), *fl = json_object_new_array();

		json_object_object_add(so, "vni", json_object_new_int64(s->vni));
		json_object_object_add(so, "bridge", json_object_new_string(s->bridge));
		json_object_object_add(so, "br_ifindex", json_object_new_int(s->br_ifindex));
		json_object_object_add(so, "vx_ifindex", json_object_new_int(s->vx_ifindex));
		drift_segment_json(v->drift, s->vni, so);
		for (size_t k = 0; k < s->nflood; k++)
			json_object_array_add(fl, addr_json(&s->flood[k]));
		json_object_object_add(so, "flood", fl);
		json_object_array_add(segs, so);
	}
	json_object_object_add(root, "segments", segs);
	json_object_object_add(root, "warnings", drift_warnings_json(v->drift));

	kernel_counters(v->k, &kc);
	U64(c, "bindings", v->want.count);
	U64(c, "known_vteps", v->known.n);
	U64(c, "updates_received", v->c.updates);
	U64(c, "full_tables", v->c.full_tables);
	U64(c, "reports_sent", v->c.reports);
	U64(c, "kernel_requests", kc.requests);
	U64(c, "kernel_done", kc.requests - kc.refused);
	U64(c, "kernel_refused", kc.refused);
	json_object_object_add(c, "reconcile", reconcile_json(&v->c));
	json_object_object_add(c, "learner", learner_json(v->lr));
	json_object_object_add(c, "drift", drift_counters_json(v->drift));
	json_object_object_add(root, "counters", c);
	return finish(root);
}

/* --- fdb -------------------------------------------------------------------------------- */

struct kfdb_ent {
	struct mac mac;
	struct ipaddr dst;
};

struct kneigh_ent {
	struct ipaddr ip;
	struct mac mac;
};

/* What kernel_dump found for one VNI. */
struct dumped {
	struct kfdb_ent *fdb;
	struct ipaddr *flood;
	struct kneigh_ent *neigh;
	size_t nfdb, nflood, nneigh, capfdb, capflood, capneigh;
	int err;
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
	return (char *)*p + size * (*n)++;
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
	json_object *fdb, *flood, *neigh, *local;
	uint64_t drift;
};

static void entry_flags(struct fdb_view *fv, json_object *o, bool kernel, bool want)
{
	json_object_object_add(o, "kernel", json_object_new_boolean(kernel));
	json_object_object_add(o, "want", json_object_new_boolean(want));
	if (kernel != want)
		fv->drift++;
}

static void add_fdb(struct fdb_view *fv, const struct mac *mac, const struct ipaddr *dst,
		    bool kernel, bool want)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "vni", json_object_new_int64(fv->s->vni));
	json_object_object_add(o, "mac", mac_json(mac));
	json_object_object_add(o, "dst", addr_json(dst));
	entry_flags(fv, o, kernel, want);
	json_object_array_add(fv->fdb, o);
}

static void add_neigh(struct fdb_view *fv, const struct ipaddr *ip, const struct mac *mac,
		      bool kernel, bool want)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "vni", json_object_new_int64(fv->s->vni));
	json_object_object_add(o, "ip", addr_json(ip));
	json_object_object_add(o, "mac", mac_json(mac));
	entry_flags(fv, o, kernel, want);
	json_object_array_add(fv->neigh, o);
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
	for (size_t i = 0; i < d->nflood; i++) {
		json_object *o = json_object_new_object();
		/* s->flood is sorted too (vtepd.c): a flood list of thousands is no square */
		bool want = find(&d->flood[i], s->flood, s->nflood, sizeof(*s->flood), ip_cmp);

		json_object_object_add(o, "vni", json_object_new_int64(s->vni));
		json_object_object_add(o, "dst", addr_json(&d->flood[i]));
		entry_flags(fv, o, true, want);
		json_object_array_add(fv->flood, o);
	}
	for (size_t k = 0; k < s->nflood; k++) {
		json_object *o;

		if (find(&s->flood[k], d->flood, d->nflood, sizeof(*d->flood), ip_cmp))
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "vni", json_object_new_int64(s->vni));
		json_object_object_add(o, "dst", addr_json(&s->flood[k]));
		entry_flags(fv, o, false, true);
		json_object_array_add(fv->flood, o);
	}
}

static int local_one(const struct local_mac *m, void *ctx)
{
	struct fdb_view *fv = ctx;
	json_object *o = json_object_new_object(), *ips = json_object_new_array();

	json_object_object_add(o, "vni", json_object_new_int64(m->vni));
	json_object_object_add(o, "mac", mac_json(&m->mac));
	for (size_t i = 0; i < m->nips; i++)
		json_object_array_add(ips, addr_json(&m->ips[i]));
	json_object_object_add(o, "ips", ips);
	json_object_array_add(fv->local, o);
	return 0;
}

/* Entries by VNI, then by their key's text (a MAC, or an address) and their second field. */
static int entry_cmp2(const void *x, const void *y, const char *k1, const char *k2)
{
	json_object *a = *(json_object *const *)x, *b = *(json_object *const *)y, *fa, *fb;
	int64_t va = 0, vb = 0;
	int c;

	if (json_object_object_get_ex(a, "vni", &fa))
		va = json_object_get_int64(fa);
	if (json_object_object_get_ex(b, "vni", &fb))
		vb = json_object_get_int64(fb);
	if (va != vb)
		return va < vb ? -1 : 1;
	for (int i = 0; i < 2; i++) {
		const char *k = i ? k2 : k1;

		if (!k || !json_object_object_get_ex(a, k, &fa) ||
		    !json_object_object_get_ex(b, k, &fb))
			continue;
		c = strcmp(json_object_get_string(fa) ? json_object_get_string(fa) : "",
			   json_object_get_string(fb) ? json_object_get_string(fb) : "");
		if (c)
			return c;
	}
	return 0;
}

static int fdb_cmp(const void *x, const void *y)
{
	return entry_cmp2(x, y, "mac", "dst");
}

static int flood_cmp(const void *x, const void *y)
{
	return entry_cmp2(x, y, "dst", NULL);
}

static int neigh_cmp(const void *x, const void *y)
{
	return entry_cmp2(x, y, "mac", "ip");
}

char *vtepd_fdb_json(struct vtepd *v)
{
	json_object *root = json_object_new_object(), *errors = json_object_new_array();
	struct fdb_view fv = { .v = v };

	fv.fdb = json_object_new_array();
	fv.flood = json_object_new_array();
	fv.neigh = json_object_new_array();
	fv.local = json_object_new_array();
	for (size_t i = 0; i < v->nsegs; i++) {
		struct dumped d = { 0 };
		int err;

		fv.s = &v->segs[i];
		fv.d = &d;
		err = dump_seg(v, fv.s, &d);
		if (err) {
			char buf[128];

			snprintf(buf, sizeof(buf), "vni %u: reading the kernel: %s", fv.s->vni,
				 strerror(-err));
			json_object_array_add(errors, json_object_new_string(buf));
		} else {
			seg_view(&fv);
		}
		free(d.fdb);
		free(d.flood);
		free(d.neigh);
	}
	learner_foreach(v->lr, local_one, &fv);
	json_object_array_sort(fv.fdb, fdb_cmp);
	json_object_array_sort(fv.flood, flood_cmp);
	json_object_array_sort(fv.neigh, neigh_cmp);
	json_object_array_sort(fv.local, fdb_cmp);
	json_object_object_add(root, "id", json_object_new_string(v->id));
	json_object_object_add(root, "vtep", addr_json(&v->vtep));
	json_object_object_add(root, "connected",
			       json_object_new_boolean(wire_client_session(v->fc) != NULL));
	json_object_object_add(root, "receiving_full_table", json_object_new_boolean(v->in_full));
	json_object_object_add(root, "drift", json_object_new_uint64(fv.drift));
	json_object_object_add(root, "flood", fv.flood);
	json_object_object_add(root, "fdb", fv.fdb);
	json_object_object_add(root, "neigh", fv.neigh);
	json_object_object_add(root, "local", fv.local);
	json_object_object_add(root, "errors", errors);
	return finish(root);
}
