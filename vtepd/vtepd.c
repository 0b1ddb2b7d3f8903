/*
 * vtepd.c - the host agent of the overlay: owns one VXLAN device per segment on this host,
 * keeps the kernel's VXLAN FDB, flood lists and ARP/ND suppression neighbours equal to what
 * fabricd wants, and reports the MACs and addresses of local ports.
 *
 * vtepd [-c vtepd.yaml] [-i ID] -F FABRICD_ADDR:PORT --ca F --cert F --key F -l VTEP_ADDR
 *       [-u UNDERLAY_IF] -s VNI:BRIDGE [-s ...] [--control-socket SOCKET]
 *       (or -i ID -F unix:/PATH, no TLS); config.c has every option and key.
 *
 * The session with fabricd is proto/client.c's wire_client: mutual TLS over TCP (our id is
 * our certificate's, and it must name our VTEP), reconnected with backoff after every close.
 * What fabricd wants is mirrored here (`want`, keyed by (vni, mac)). A full table (after
 * every (re)connect) replaces the mirror and is reconciled against the kernel (mark and
 * sweep); deltas are applied as incremental kernel operations, batched per message. While
 * fabricd is away nothing is removed: forwarding goes on with what the kernel holds.
 * Every list arrives within the validator's bounds (WIRE_MAX_*) and is kept whole: flood
 * lists and the set of the fabric's VTEPs live on the heap, sized by what came.
 * A control socket (proto/ctlsrv, --control-socket; a read-only one beside it when
 * status_socket is set) answers AgentStatus and AgentFdb (status.c) for fabricctl agent. vtepd keeps CAP_NET_ADMIN and CAP_NET_RAW only, once set up.
 */
#include <errno.h>
#include <event2/event.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "conf.h"
#include "ctlsrv.h"
#include "drift.h"
#include "kernel.h"
#include "learn.h"
#include "log.h"
#include "vtepd.h"

/* What vtepd sends passes the validator, and what it keeps holds what the validator lets in. */
_Static_assert(MAX_SEGS <= WIRE_MAX_VNIS, "every segment fits in the Hello");
_Static_assert(LEARN_MAX_IPS <= WIRE_MAX_IPS, "a local MAC's addresses fit in a Learned");
_Static_assert(WIRE_MAX_IPS <= UINT8_MAX, "struct want's nips holds an Fdb's ips");

static struct seg *seg_of(struct vtepd *v, uint32_t vni)
{
	for (size_t i = 0; i < v->nsegs; i++)
		if (v->segs[i].vni == vni)
			return &v->segs[i];
	return NULL;
}

/* Every VTEP fabricd names is the fabric's: a flood remote to it is ours (kernel.h). */
static void learn_vtep(struct vtepd *v, const struct ipaddr *a)
{
	char buf[IPADDR_STRLEN];

	if (vtepset_add(&v->known, a) < 0)
		log_warn("out of memory: VTEP %s not recorded as the fabric's", ipaddr_fmt(a, buf));
}

static int ip_cmp(const void *x, const void *y)
{
	return ipaddr_cmp(x, y);
}

static bool in_sorted(const struct ipaddr *set, size_t n, const struct ipaddr *a)
{
	return n && bsearch(a, set, n, sizeof(*set), ip_cmp);
}

static void seg_flood_clear(struct seg *s)
{
	free(s->flood);
	s->flood = NULL;
	s->nflood = 0;
}

static void want_free(struct want *w)
{
	free(w->ips);
	free(w);
}

/* Frees w; a shared MAC stops being shared. */
static void want_drop(struct vtepd *v, struct want *w)
{
	if (w->flood && v->lr)
		learner_set_shared(v->lr, w->vni, &w->mac, false);
	want_free(w);
}

static int want_drop_one(void *val, void *ctx)
{
	want_drop(ctx, val);
	return 0;
}

static void want_clear(struct vtepd *v)
{
	macmap_foreach(&v->want, want_drop_one, v);
	macmap_free(&v->want);
	macmap_init(&v->want);
}

static bool has_ip(const struct ipaddr *ips, size_t n, const struct ipaddr *a)
{
	for (size_t i = 0; i < n; i++)
		if (ipaddr_eq(&ips[i], a))
			return true;
	return false;
}

/* Records f in the mirror; with `program`, also queues the kernel operations that take the
 * kernel from the old value to the new one. */
static void apply_add(struct vtepd *v, const L2f__Fdb *f, bool program)
{
	struct want *w = macmap_get(&v->want, f->vni, f->mac.data);
	struct ipaddr dst = { 0 }, *ips = NULL;
	size_t nips = f->n_ips;
	bool flood = f->has_flood && f->flood;
	bool has_dst = !flood && f->n_vteps == 1;

	if (!seg_of(v, f->vni))
		return;
	for (size_t i = 0; i < f->n_vteps; i++) {
		struct ipaddr a;

		wire_ipaddr(&a, &f->vteps[i]);
		learn_vtep(v, &a);
		if (i == 0)
			dst = a;
	}
	if (nips && !(ips = malloc(nips * sizeof(*ips))))
		return;
	for (size_t i = 0; i < nips; i++)
		wire_ipaddr(&ips[i], &f->ips[i]);
	if (!w) {
		w = calloc(1, sizeof(*w));
		if (!w || macmap_put(&v->want, f->vni, f->mac.data, w) < 0) {
			free(w);
			free(ips);
			return;
		}
		w->vni = f->vni;
		memcpy(w->mac.b, f->mac.data, MAC_LEN);
	}
	if (program) {
		if (w->has_dst && (!has_dst || !ipaddr_eq(&w->dst, &dst)))
			kernel_fdb_del(v->k, w->vni, &w->mac, &w->dst);
		if (has_dst && (!w->has_dst || !ipaddr_eq(&w->dst, &dst)))
			kernel_fdb_set(v->k, w->vni, &w->mac, &dst);
		for (size_t i = 0; i < w->nips; i++)
			if (!has_ip(ips, nips, &w->ips[i]))
				kernel_neigh_del(v->k, w->vni, &w->ips[i]);
		for (size_t i = 0; i < nips; i++)
			if (!has_ip(w->ips, w->nips, &ips[i]))
				kernel_neigh_set(v->k, w->vni, &ips[i], &w->mac);
	}
	if (flood != w->flood && v->lr &&
	    learner_set_shared(v->lr, w->vni, &w->mac, flood) < 0)
		log_warn("vni %u: cannot mark an HA port's MAC shared", w->vni);
	w->flood = flood;
	w->has_dst = has_dst;
	w->dst = dst;
	free(w->ips);
	w->ips = ips;
	w->nips = (uint8_t)nips;
	w->seq = f->has_seq ? f->seq : 0;
}

static void apply_del(struct vtepd *v, const L2f__Fdb *f)
{
	struct want *w = macmap_del(&v->want, f->vni, f->mac.data);

	if (!w)
		return;
	if (w->has_dst)
		kernel_fdb_del(v->k, w->vni, &w->mac, &w->dst);
	for (size_t i = 0; i < w->nips; i++)
		kernel_neigh_del(v->k, w->vni, &w->ips[i]);
	want_drop(v, w);
}

/* The segment's flood list becomes fl's, whole (up to WIRE_MAX_FLOOD_VTEPS); with `program`,
 * the kernel gets the difference. Both lists are kept sorted so that the difference costs
 * n log n, not n^2, for thousands of VTEPs. */
static void apply_flood(struct vtepd *v, const L2f__Flood *fl, bool program)
{
	struct seg *s = seg_of(v, fl->vni);
	struct ipaddr *next;
	size_t n = 0;

	if (!s)
		return;
	next = malloc((fl->n_vteps + 1) * sizeof(*next));
	if (!next) {
		log_warn("vni %u: out of memory: flood list of %zu VTEP(s) not applied", s->vni,
			 fl->n_vteps);
		return;
	}
	for (size_t i = 0; i < fl->n_vteps; i++) {
		wire_ipaddr(&next[n], &fl->vteps[i]);
		if (ipaddr_eq(&next[n], &v->vtep))
			continue;               /* never flood to ourselves */
		learn_vtep(v, &next[n]);
		n++;
	}
	if (n > 1)
		qsort(next, n, sizeof(*next), ip_cmp);
	if (program) {
		for (size_t i = 0; i < s->nflood; i++)
			if (!in_sorted(next, n, &s->flood[i]))
				kernel_flood_del(v->k, s->vni, &s->flood[i]);
		for (size_t i = 0; i < n; i++)
			if (!in_sorted(s->flood, s->nflood, &next[i]))
				kernel_flood_add(v->k, s->vni, &next[i]);
	}
	free(s->flood);
	s->flood = next;
	s->nflood = n;
}

static int desired_one(void *val, void *ctx)
{
	const struct want *w = val;
	struct kdesired *d = ctx;

	if (w->has_dst)
		kdesired_fdb(d, w->vni, &w->mac, &w->dst, 1);
	for (size_t i = 0; i < w->nips; i++)
		kdesired_neigh(d, w->vni, &w->ips[i], &w->mac);
	return 0;
}

/* The kernel has taken (or refused) what an Update or a reconcile queued: fabricd's next
 * messages are read again once the batch is no longer near its bound (kernel.h). */
static void fabric_hold(struct vtepd *v, bool hold)
{
	struct wire *w = wire_client_session(v->fc);

	if (w && (hold ? kernel_busy(v->k) : !kernel_busy(v->k)))
		wire_hold(w, hold);
}

static void reconciled(void *ctx, int err, const struct kstats *st)
{
	struct vtepd *v = ctx;

	v->c.reconciles++;
	v->c.reconcile_err = err;
	v->c.reconcile_last = *st;
	v->c.reconcile_at = time(NULL);
	log_info("reconciled %zu binding(s): fdb +%u ~%u -%u =%u, flood +%u -%u =%u, "
		 "neigh +%u ~%u -%u =%u, foreign kept %u, errors %u (%lld us)",
		 v->want.count, st->fdb.added, st->fdb.updated, st->fdb.removed, st->fdb.kept,
		 st->flood.added, st->flood.removed, st->flood.kept, st->neigh.added,
		 st->neigh.updated, st->neigh.removed, st->neigh.kept,
		 st->fdb.foreign + st->flood.foreign + st->neigh.foreign, st->errors,
		 (long long)(st->dump_us + st->program_us));
	if (err)
		log_warn("reconcile: %s", strerror(-err));
	fabric_hold(v, false);
}

/* The mirror holds a whole table: make the kernel hold exactly that. */
static void reconcile(struct vtepd *v)
{
	struct kdesired *d = kdesired_new();
	int err;

	if (!d)
		return;
	for (size_t i = 0; i < v->nsegs; i++) {
		kdesired_vni(d, v->segs[i].vni);
		for (size_t k = 0; k < v->segs[i].nflood; k++)
			kdesired_flood(d, v->segs[i].vni, &v->segs[i].flood[k]);
	}
	macmap_foreach(&v->want, desired_one, d);
	err = kernel_reconcile(v->k, d, v->known.v, v->known.n, reconciled, v);
	kdesired_free(d);
	if (err)
		log_warn("reconcile: %s", strerror(-err));
}

static void update_done(void *ctx, uint32_t refused, int first_err)
{
	struct vtepd *v = ctx;

	if (refused)
		log_warn("update: the kernel refused %u operation(s) (first: %s)", refused,
			 strerror(-first_err));
	fabric_hold(v, false);
}

static void on_update(struct vtepd *v, const L2f__Update *u)
{
	bool full = u->has_full && u->full, more = u->has_more && u->more;

	v->c.updates++;
	if (full) {
		want_clear(v);
		for (size_t i = 0; i < v->nsegs; i++)
			seg_flood_clear(&v->segs[i]);
		v->in_full = true;
	}
	for (size_t i = 0; i < u->n_flood; i++)
		apply_flood(v, u->flood[i], !v->in_full);
	for (size_t i = 0; i < u->n_add; i++)
		apply_add(v, u->add[i], !v->in_full);
	for (size_t i = 0; i < u->n_del; i++) {
		if (v->in_full) {
			struct want *w = macmap_del(&v->want, u->del[i]->vni, u->del[i]->mac.data);

			if (w)
				want_drop(v, w);
		} else {
			apply_del(v, u->del[i]);
		}
	}
	if (v->in_full && !more) {
		v->in_full = false;
		v->c.full_tables++;
		reconcile(v);
	} else if (!v->in_full) {
		kernel_commit(v->k, update_done, v);
	}
	/* Answered in order from the loop; meanwhile fabricd waits when too much is in flight. */
	fabric_hold(v, true);
}

/* --- reports --------------------------------------------------------------------------- */

static void fill_learned(L2f__Learned *l, ProtobufCBinaryData *ips, const struct local_mac *m,
			 uint64_t seq)
{
	l2f__learned__init(l);
	l->vni = m->vni;
	l->mac.data = (uint8_t *)m->mac.b;
	l->mac.len = MAC_LEN;
	for (size_t i = 0; i < m->nips; i++) {
		ips[i].data = (uint8_t *)m->ips[i].b;
		ips[i].len = ipaddr_len(&m->ips[i]);
	}
	l->ips = ips;
	l->n_ips = m->nips;
	/* RFC 7432 15: a MAC we know at another VTEP with sequence s moved here: s + 1. */
	l->has_seq = true;
	l->seq = seq;
}

static uint64_t seq_for(struct vtepd *v, uint32_t vni, const struct mac *mac)
{
	const struct want *w = macmap_get(&v->want, vni, mac->b);

	/* RFC 7432 15: seq + 1 only for a MAC fabricd has elsewhere (a move); a binding already
	 * here (no remote VTEP) keeps its number when, say, an address is learned. */
	if (!w)
		return 0;
	if (!w->has_dst && !w->flood)
		return w->seq;
	return w->seq < UINT64_MAX ? w->seq + 1 : w->seq;       /* never wraps to 0 */
}

static void send_report(struct vtepd *v, L2f__Learned **entries, size_t n, bool full)
{
	L2f__Envelope env = L2F__ENVELOPE__INIT;
	L2f__Report r = L2F__REPORT__INIT;

	struct wire *w = wire_client_session(v->fc);

	if (!w)
		return;
	r.entries = entries;
	r.n_entries = n;
	r.has_full = full;
	r.full = full;
	env.msg_case = L2F__ENVELOPE__MSG_REPORT;
	env.report = &r;
	if (wire_send(w, &env) == 0)
		v->c.reports++;
}

static void learn_changed(void *ctx, const struct local_mac *m)
{
	struct vtepd *v = ctx;
	ProtobufCBinaryData ips[LEARN_MAX_IPS];
	L2f__Learned l, *lp = &l;

	fill_learned(&l, ips, m, seq_for(v, m->vni, &m->mac));
	send_report(v, &lp, 1, false);
}

static void learn_gone(void *ctx, uint32_t vni, const struct mac *mac)
{
	struct vtepd *v = ctx;
	L2f__Learned l = L2F__LEARNED__INIT, *lp = &l;

	l.vni = vni;
	l.mac.data = (uint8_t *)mac->b;
	l.mac.len = MAC_LEN;
	l.has_withdrawn = l.withdrawn = true;
	send_report(v, &lp, 1, false);
}

struct full_report {
	struct vtepd *v;
	L2f__Learned *l;
	L2f__Learned **lp;
	ProtobufCBinaryData *ips;
	struct local_mac *macs;
	size_t n, cap;
};

static int collect_local(const struct local_mac *m, void *arg)
{
	struct full_report *c = arg;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct local_mac *nm = realloc(c->macs, cap * sizeof(*nm));

		if (!nm)
			return -ENOMEM;
		c->macs = nm;
		c->cap = cap;
	}
	c->macs[c->n++] = *m;
	return 0;
}

/* After a (re)connect: everything local, so fabricd can also drop what went meanwhile. */
static void send_full_report(struct vtepd *v)
{
	struct full_report c = { .v = v };

	learner_foreach(v->lr, collect_local, &c);
	c.l = calloc(c.n + 1, sizeof(*c.l));
	c.lp = calloc(c.n + 1, sizeof(*c.lp));
	c.ips = calloc((c.n + 1) * LEARN_MAX_IPS, sizeof(*c.ips));
	if (c.l && c.lp && c.ips) {
		for (size_t i = 0; i < c.n; i++) {
			fill_learned(&c.l[i], &c.ips[i * LEARN_MAX_IPS], &c.macs[i],
				     seq_for(v, c.macs[i].vni, &c.macs[i].mac));
			c.lp[i] = &c.l[i];
		}
		send_report(v, c.lp, c.n, true);
	}
	free(c.l);
	free(c.lp);
	free(c.ips);
	free(c.macs);
}

/* --- the session with fabricd ---------------------------------------------------------- */

static void on_hello(struct wire *w, void *ctx)
{
	log_info("connected to %s", wire_name(w));
	send_full_report(ctx);
}

static void on_msg(struct wire *w, const L2f__Envelope *env, void *ctx)
{
	struct vtepd *v = ctx;

	if (env->msg_case == L2F__ENVELOPE__MSG_UPDATE)
		on_update(v, env->update);
	else
		wire_close(w, "unexpected message from fabricd");
}

static void on_close(struct wire *w, const char *why, void *ctx)
{
	struct vtepd *v = ctx;

	log_warn("session with fabricd closed: %s; the kernel keeps its entries", why);
	v->in_full = false;
}

static const struct wire_ops ops = {
	.on_hello = on_hello,
	.on_msg = on_msg,
	.on_close = on_close,
};

static void hello_set_vnis(struct vtepd *v)
{
	for (size_t i = 0; i < v->nsegs; i++)
		v->hello_vnis[i] = v->segs[i].vni;
	v->hello.vnis = v->hello_vnis;
	v->hello.n_vnis = v->nsegs;
}

static int fabric_start(struct vtepd *v)
{
	struct wire_client_opts o = { v->fabricd, v->tls, &v->hello, &ops, v };

	l2f__hello__init(&v->hello);
	v->hello.version = PROTO_VERSION;
	v->hello.role = L2F__ROLE__ROLE_VTEPD;
	v->hello.id = v->id;
	v->hello.has_vtep = true;
	v->hello.vtep.data = v->vtep.b;
	v->hello.vtep.len = ipaddr_len(&v->vtep);
	hello_set_vnis(v);
	return wire_client_new(v->base, &o, &v->fc);
}

/* --- the control socket --------------------------------------------------------------- */

/* Both sockets answer the same two reads; nothing on them changes anything. */
static void on_ctl_request(void *ctx, const L2f__Request *req, bool readonly, L2f__Reply *r,
			   struct ctlsrv_cleanup *cl)
{
	struct vtepd *v = ctx;

	if (req->op_case == L2F__REQUEST__OP_AGENT_STATUS)
		vtepd_status_reply(v, r, cl);
	else if (req->op_case == L2F__REQUEST__OP_AGENT_FDB)
		vtepd_fdb_reply(v, r, cl);
	else
		r->error = "vtepd answers agent status and agent fdb only";
}

/* --- main ------------------------------------------------------------------------------ */

/* The kernel keeps every entry on stop: a restarted vtepd reconciles, forwarding never
 * stops. */
static void on_stop(void *arg)
{
	log_info("kernel entries kept");
}

/* A segment's VXLAN device on its bridge, and learning on its ports. 0 or -errno. */
static int seg_setup(struct vtepd *v, struct seg *s)
{
	int err = kernel_vxlan_ensure(v->k, s->vni, s->bridge, &v->vtep, v->underlay,
				      &s->vx_ifindex, &s->br_ifindex);

	if (err < 0) {
		log_err("segment %u on %s: %s", s->vni, s->bridge, strerror(-err));
		return err;
	}
	log_info("segment %u: vx%u on %s%s", s->vni, s->vni, s->bridge,
		 err & KVX_CREATED ? " (created)" : err ? " (fixed)" : "");
	err = learner_add_segment(v->lr, s->vni, s->bridge, s->br_ifindex, s->vx_ifindex);
	if (err < 0)
		log_err("segment %u: learning: %s", s->vni, strerror(-err));
	return err < 0 ? err : 0;
}

/* SIGHUP: the file again, with the same flags over it. New segments start (the session
 * with fabricd is renewed so its Hello names them; nothing in the kernel is removed
 * meanwhile), the log level changes; a segment removed or moved to another bridge, and the
 * rest, are named and wait for a restart. */
static void on_reload(void *arg)
{
	struct vtepd *v = arg;
	struct vtepd_cfg *c = malloc(sizeof(*c));
	char err[512];
	size_t added = 0;

	if (!c) {
		log_err("reload: out of memory");
		return;
	}
	if (!v->dm.config) {
		log_info("reload: no configuration file (-c): nothing to reload");
		goto out;
	}
	if (vtepd_cfg_load(v->dm.config, &v->dm, c, err, sizeof(err)) < 0) {
		log_err("reload refused, keeping the running configuration: %s", err);
		goto out;
	}
	log_info("reloading %s", v->dm.config);
	log_set_level(daemon_log_level(&v->dm, c->log_level));
	if (strcmp(c->id, v->cfg.id) || strcmp(c->fabricd, v->cfg.fabricd) ||
	    memcmp(&c->tls, &v->cfg.tls, sizeof(c->tls)) || !ipaddr_eq(&c->vtep, &v->cfg.vtep) ||
	    strcmp(c->underlay, v->cfg.underlay) || strcmp(c->control_socket, v->cfg.control_socket) ||
	    strcmp(c->status_socket, v->cfg.status_socket) || strcmp(c->metrics, v->cfg.metrics) ||
	    strcmp(c->log_file, v->cfg.log_file))
		log_warn("reload: id, fabricd, tls, vtep, underlay, sockets, metrics and log_file "
			 "change at restart only");
	for (size_t i = 0; i < v->nsegs; i++) {
		size_t j;

		for (j = 0; j < c->nsegs && c->segs[j].vni != v->segs[i].vni; j++)
			;
		if (j == c->nsegs)
			log_warn("reload: segment %u is no longer configured: it stays until a "
				 "restart", v->segs[i].vni);
		else if (strcmp(c->segs[j].bridge, v->segs[i].bridge))
			log_warn("reload: segment %u moves from %s to %s at restart only",
				 v->segs[i].vni, v->segs[i].bridge, c->segs[j].bridge);
	}
	for (size_t j = 0; j < c->nsegs; j++) {
		struct seg *s;

		if (seg_of(v, c->segs[j].vni))
			continue;
		if (v->nsegs == MAX_SEGS) {
			log_err("reload: segment %u: already %d segments", c->segs[j].vni, MAX_SEGS);
			continue;
		}
		s = &v->segs[v->nsegs];
		*s = (struct seg){ .vni = c->segs[j].vni };
		snprintf(s->bridge, sizeof(s->bridge), "%s", c->segs[j].bridge);
		if (seg_setup(v, s) < 0)
			continue;
		v->nsegs++;
		added++;
	}
	if (added) {
		drift_segments_added(v->drift);
		log_info("reload: %zu new segment(s): renewing the session so fabricd hears of them",
			 added);
		hello_set_vnis(v);
		if (wire_client_session(v->fc))
			wire_close(wire_client_session(v->fc), "new segments");
	}
out:
	free(c);
}

/* TLS for fabricd over TCP, and the id and VTEP it must match. 0, or -1 after printing why. */
static int setup_tls(struct vtepd *v)
{
	const struct vtepd_cfg *c = &v->cfg;
	struct wire_tls_files files = { c->tls.ca, c->tls.cert, c->tls.key };
	const struct wire_ident *me;
	char err[320];
	bool vtep_ok;

	if (!strncmp(v->fabricd, WIRE_UNIX_PREFIX, strlen(WIRE_UNIX_PREFIX)))
		return 0;
	if (wire_tls_for(&files, false, L2F__ROLE__ROLE_VTEPD, v->id, sizeof(v->id), &v->tls, err,
			 sizeof(err)) < 0) {
		fprintf(stderr, "vtepd: fabricd %s: %s\n", v->fabricd, err);
		return -1;
	}
	me = wire_tls_self(v->tls);
	vtep_ok = false;
	for (size_t i = 0; i < me->nips; i++)
		vtep_ok |= ipaddr_eq(&me->ips[i], &v->vtep);
	if (!vtep_ok) {
		fprintf(stderr, "vtepd: cert %s does not name the VTEP address %s (IP SAN): "
			"fabricd would refuse it\n", files.cert,
			ipaddr_fmt(&v->vtep, (char[IPADDR_STRLEN]){ 0 }));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct learn_ops lops = { learn_changed, learn_gone };
	static struct vtepd v;
	const struct vtepd_cfg *c = &v.cfg;
	char why[512];
	int err;

	err = daemon_args(&v.dm, &vtepd_spec, argc, argv);
	if (err >= 0)
		return err;
	if (vtepd_cfg_load(v.dm.config, &v.dm, &v.cfg, why, sizeof(why)) < 0) {
		fprintf(stderr, "vtepd: %s\n", why);
		return EXIT_CONFIG;
	}
	if (v.dm.check) {
		vtepd_cfg_print(c, stdout);
		return 0;
	}
	snprintf(v.id, sizeof(v.id), "%s", c->id);
	v.fabricd = c->fabricd;
	v.vtep = c->vtep;
	v.underlay = c->underlay[0] ? c->underlay : NULL;
	v.ctl_path = c->control_socket;
	for (size_t i = 0; i < c->nsegs; i++) {
		v.segs[i] = (struct seg){ .vni = c->segs[i].vni };
		snprintf(v.segs[i].bridge, sizeof(v.segs[i].bridge), "%s", c->segs[i].bridge);
	}
	v.nsegs = c->nsegs;
	if (setup_tls(&v) < 0)
		return EXIT_CONFIG;
	if (daemon_start(&v.dm, c->log_level, c->log_file[0] ? c->log_file : NULL, on_stop,
			 on_reload, &v) < 0)
		return 1;
	v.base = v.dm.base;
	err = kernel_open(v.base, &v.k);
	if (!err)
		err = macmap_init(&v.want);
	if (err) {
		log_err("start: %s", strerror(-err));
		return 1;
	}
	/* Before any change to the kernel: a second vtepd given the same socket stops here.
	 * With the default socket the agent forwards without its control socket rather than
	 * not at all. */
	v.ctl = ctlsrv_open(v.base, v.ctl_path, 0660, v.id, L2F__ROLE__ROLE_VTEPD, false,
			    on_ctl_request, &v, &err);
	if (!v.ctl && c->control_socket_set) {
		log_err("control socket %s: %s", v.ctl_path, strerror(-err));
		return 1;
	}
	if (!v.ctl)
		log_warn("control socket %s: %s; going on without one (give --control-socket)",
			 v.ctl_path, strerror(-err));
	if (c->status_socket[0]) {
		v.ctl_status = ctlsrv_open(v.base, c->status_socket, 0666, v.id,
					   L2F__ROLE__ROLE_VTEPD, true, on_ctl_request, &v, &err);
		if (!v.ctl_status) {
			log_err("status socket %s: %s", c->status_socket, strerror(-err));
			return 1;
		}
	}
	v.lr = learner_new(v.base, &lops, &v, &err);
	if (!v.lr) {
		log_err("learning: %s", strerror(-err));
		return 1;
	}
	for (size_t i = 0; i < v.nsegs; i++)
		if (seg_setup(&v, &v.segs[i]) < 0)
			return 1;
	v.drift = drift_new(&v, &err);
	if (!v.drift) {
		log_err("drift repair: %s", strerror(-err));
		return 1;
	}
	err = fabric_start(&v);
	if (err) {
		log_err("fabricd %s: %s", v.fabricd, strerror(-err));
		return 1;
	}
	if (daemon_metrics(&v.dm, c->metrics, vtepd_metrics, &v) < 0)
		return 1;
	if (daemon_ready(&v.dm, "running") < 0)
		return 1;
	event_base_dispatch(v.base);

	kernel_wait(v.k);  /* the callbacks of what is in flight, while what they use exists */
	wire_client_free(v.fc, "vtepd stopping");
	wire_tls_free(v.tls);
	ctlsrv_close(v.ctl);
	ctlsrv_close(v.ctl_status);
	drift_free(v.drift);
	learner_free(v.lr);
	want_clear(&v);
	macmap_free(&v.want);
	for (size_t i = 0; i < v.nsegs; i++)
		seg_flood_clear(&v.segs[i]);
	vtepset_free(&v.known);
	kernel_close(v.k);
	daemon_finish(&v.dm);
	return 0;
}
