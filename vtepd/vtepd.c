/*
 * vtepd.c - the host agent of the overlay: owns one VXLAN device per segment on this host,
 * keeps the kernel's VXLAN FDB, flood lists and ARP/ND suppression neighbours equal to what
 * fabricd wants, and reports the MACs and addresses of local ports.
 *
 * vtepd [-i ID] -f FABRICD_ADDR:PORT --ca F --cert F --key F -l VTEP_ADDR [-u UNDERLAY_IF]
 *       -s VNI:BRIDGE [-s ...] [-c SOCKET] [-d]          (or -i ID -f unix:/PATH, no TLS)
 *
 * The session with fabricd is proto/client.c's wire_client: mutual TLS over TCP (our id is
 * our certificate's, and it must name our VTEP), reconnected with backoff after every close.
 * What fabricd wants is mirrored here (`want`, keyed by (vni, mac)). A full table (after
 * every (re)connect) replaces the mirror and is reconciled against the kernel (mark and
 * sweep); deltas are applied as incremental kernel operations, batched per message. While
 * fabricd is away nothing is removed: forwarding goes on with what the kernel holds.
 * Every list arrives within the validator's bounds (WIRE_MAX_*) and is kept whole: flood
 * lists and the set of the fabric's VTEPs live on the heap, sized by what came.
 * A control socket (lib/ctl, -c) answers "status" and "fdb" (status.c) for fabricctl agent.
 */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ctl.h"
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

/* The mirror holds a whole table: make the kernel hold exactly that. */
static void reconcile(struct vtepd *v)
{
	struct kdesired *d = kdesired_new();
	struct kstats st;
	int err;

	if (!d)
		return;
	for (size_t i = 0; i < v->nsegs; i++) {
		kdesired_vni(d, v->segs[i].vni);
		for (size_t k = 0; k < v->segs[i].nflood; k++)
			kdesired_flood(d, v->segs[i].vni, &v->segs[i].flood[k]);
	}
	macmap_foreach(&v->want, desired_one, d);
	err = kernel_reconcile(v->k, d, v->known.v, v->known.n, &st);
	kdesired_free(d);
	v->c.reconciles++;
	v->c.reconcile_err = err;
	v->c.reconcile_last = st;
	v->c.reconcile_at = time(NULL);
	log_info("reconciled %zu binding(s): fdb +%u ~%u -%u =%u, flood +%u -%u =%u, "
		 "neigh +%u ~%u -%u =%u, foreign kept %u, errors %u (%lld us)",
		 v->want.count, st.fdb.added, st.fdb.updated, st.fdb.removed, st.fdb.kept,
		 st.flood.added, st.flood.removed, st.flood.kept, st.neigh.added,
		 st.neigh.updated, st.neigh.removed, st.neigh.kept,
		 st.fdb.foreign + st.flood.foreign + st.neigh.foreign, st.errors,
		 (long long)(st.dump_us + st.program_us));
	if (err)
		log_warn("reconcile: %s", strerror(-err));
}

static void on_update(struct vtepd *v, const L2f__Update *u)
{
	bool full = u->has_full && u->full, more = u->has_more && u->more;
	int refused;

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
	if (v->in_full) {
		if (!more) {
			v->in_full = false;
			v->c.full_tables++;
			reconcile(v);
		}
		return;
	}
	refused = kernel_commit(v->k);
	if (refused)
		log_warn("update: the kernel refused %d operation(s)", refused);
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

static int fabric_start(struct vtepd *v)
{
	struct wire_client_opts o = { v->fabricd, v->tls, &v->hello, &ops, v };

	for (size_t i = 0; i < v->nsegs; i++)
		v->hello_vnis[i] = v->segs[i].vni;
	l2f__hello__init(&v->hello);
	v->hello.version = PROTO_VERSION;
	v->hello.role = L2F__ROLE__ROLE_VTEPD;
	v->hello.id = v->id;
	v->hello.has_vtep = true;
	v->hello.vtep.data = v->vtep.b;
	v->hello.vtep.len = ipaddr_len(&v->vtep);
	v->hello.vnis = v->hello_vnis;
	v->hello.n_vnis = v->nsegs;
	return wire_client_new(v->base, &o, &v->fc);
}

/* --- the control socket --------------------------------------------------------------- */

static char *error_json(const char *req, size_t len)
{
	char *out = NULL, shown[65];
	size_t n = 0;

	/* Printable ASCII only, at most 64 characters of it: the request is the client's. */
	for (size_t i = 0; i < len && n < sizeof(shown) - 1; i++)
		shown[n++] = req[i] >= 0x20 && req[i] < 0x7f && req[i] != '"' && req[i] != '\\'
			     ? req[i] : '?';
	shown[n] = '\0';
	if (asprintf(&out, "{\"error\": \"unknown request '%s%s'; vtepd answers status and fdb\"}",
		     shown, len > n ? "..." : "") < 0)
		return NULL;
	return out;
}

static int on_ctl_request(void *ctx, const char *req, size_t len, char **reply,
			  size_t *reply_len)
{
	struct vtepd *v = ctx;

	if (len == strlen("status") && memcmp(req, "status", len) == 0)
		*reply = vtepd_status_json(v);
	else if (len == strlen("fdb") && memcmp(req, "fdb", len) == 0)
		*reply = vtepd_fdb_json(v);
	else
		*reply = error_json(req, len);
	if (!*reply)
		return -1;
	*reply_len = strlen(*reply);
	return 0;
}

/* --- main ------------------------------------------------------------------------------ */

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct vtepd *v = arg;

	/* The kernel keeps every entry: a restarted vtepd reconciles, forwarding never stops. */
	log_info("signal %d: stopping, kernel entries kept", (int)sig);
	event_base_loopbreak(v->base);
}

static int parse_seg(struct vtepd *v, const char *arg)
{
	const char *colon = strchr(arg, ':');
	char *end;
	unsigned long vni;
	struct seg *s;

	if (!colon || v->nsegs == MAX_SEGS)
		return -EINVAL;
	errno = 0;
	vni = strtoul(arg, &end, 10);
	if (errno || end != colon || vni < 1 || vni > VNI_MAX || !colon[1] ||
	    strlen(colon + 1) >= IF_NAMESIZE || seg_of(v, (uint32_t)vni))
		return -EINVAL;
	s = &v->segs[v->nsegs++];
	s->vni = (uint32_t)vni;
	snprintf(s->bridge, sizeof(s->bridge), "%s", colon + 1);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vtepd [-i ID] -f FABRICD_ADDR:PORT --ca FILE --cert FILE --key FILE\n"
		   "             -l VTEP_ADDR [-u UNDERLAY_IF] -s VNI:BRIDGE [-s VNI:BRIDGE ...]\n"
		   "             [-c SOCKET] [-d]\n"
		   "  -f         fabricd: HOST:PORT over mutual TLS (--ca: the fabric's CA; --cert\n"
		   "             and --key: this host's, URI:urn:l2fabric:vtepd:ID with the VTEP\n"
		   "             address as an IP SAN), or unix:/path (no TLS)\n"
		   "  -i ID      this host's id (default: the certificate's)\n"
		   "  -c SOCKET  control socket for fabricctl agent (default %s)\n", VTEPD_SOCKET);
}

/* TLS for fabricd over TCP, and the id and VTEP it must match. 0, or 2 after printing why. */
static int setup_tls(struct vtepd *v, const struct wire_tls_files *files)
{
	const struct wire_ident *me;
	char err[320];
	bool vtep_ok;

	if (!strncmp(v->fabricd, WIRE_UNIX_PREFIX, strlen(WIRE_UNIX_PREFIX)))
		return 0;
	if (wire_tls_new(files, false, &v->tls, err, sizeof(err)) < 0) {
		fprintf(stderr, "vtepd: -f %s: %s%s\n", v->fabricd, err,
			files->ca && files->cert && files->key ? "" : " (fabricd over TCP is TLS)");
		return 2;
	}
	me = wire_tls_self(v->tls);
	if (me->role != L2F__ROLE__ROLE_VTEPD) {
		fprintf(stderr, "vtepd: --cert %s names a %s, not a vtepd\n", files->cert,
			wire_role_name(me->role));
		return 2;
	}
	if (v->id[0] && strcmp(v->id, me->id) != 0) {
		fprintf(stderr, "vtepd: -i %s, but --cert %s names vtepd %s\n", v->id, files->cert,
			me->id);
		return 2;
	}
	snprintf(v->id, sizeof(v->id), "%s", me->id);
	vtep_ok = false;
	for (size_t i = 0; i < me->nips; i++)
		vtep_ok |= ipaddr_eq(&me->ips[i], &v->vtep);
	if (!vtep_ok) {
		fprintf(stderr, "vtepd: --cert %s does not name the VTEP address %s (IP SAN): "
			"fabricd would refuse it\n", files->cert,
			ipaddr_fmt(&v->vtep, (char[IPADDR_STRLEN]){ 0 }));
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct learn_ops lops = { learn_changed, learn_gone };
	static const struct option longopts[] = {
		{ "ca", required_argument, NULL, 'A' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vtepd v = { .ctl_path = VTEPD_SOCKET };
	struct wire_tls_files files = { 0 };
	struct event *sigs[2];
	static const int signums[2] = { SIGTERM, SIGINT };
	enum log_level level = LOG_LVL_INFO;
	bool ctl_given = false;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "i:f:l:u:s:c:dh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (!*optarg || strlen(optarg) > WIRE_ID_MAX) {
				fprintf(stderr, "vtepd: -i: 1 to %d characters\n", WIRE_ID_MAX);
				return 2;
			}
			snprintf(v.id, sizeof(v.id), "%s", optarg);
			break;
		case 'f':
			v.fabricd = optarg;
			break;
		case 'l':
			if (ipaddr_parse(optarg, &v.vtep) < 0) {
				fprintf(stderr, "vtepd: -l: '%s' is not an address\n", optarg);
				return 2;
			}
			break;
		case 'u':
			v.underlay = optarg;
			break;
		case 's':
			if (parse_seg(&v, optarg) < 0) {
				fprintf(stderr, "vtepd: -s: '%s' is not VNI:BRIDGE (VNI 1-%u, once each)\n",
					optarg, VNI_MAX);
				return 2;
			}
			break;
		case 'c':
			v.ctl_path = optarg;
			ctl_given = true;
			break;
		case 'd':
			level = LOG_LVL_DEBUG;
			break;
		case 'A':
			files.ca = optarg;
			break;
		case 'C':
			files.cert = optarg;
			break;
		case 'K':
			files.key = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!v.fabricd || !v.vtep.af || !v.nsegs || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (wire_addr_check(v.fabricd) < 0) {
		fprintf(stderr, "vtepd: -f %s: not HOST:PORT or unix:/path\n", v.fabricd);
		return 2;
	}
	err = setup_tls(&v, &files);
	if (err)
		return err;
	if (!v.id[0]) {
		fprintf(stderr, "vtepd: -i ID is needed without a certificate\n");
		return 2;
	}
	log_init("vtepd", level);
	signal(SIGPIPE, SIG_IGN);
	v.base = event_base_new();
	err = v.base ? kernel_open(&v.k) : -ENOMEM;
	if (!err)
		err = macmap_init(&v.want);
	if (err) {
		log_err("start: %s", strerror(-err));
		return 1;
	}
	/* Before any change to the kernel: a second vtepd given the same -c stops here. Without
	 * -c the agent forwards without its control socket rather than not at all. */
	v.ctl = ctl_server_open(v.base, v.ctl_path, on_ctl_request, &v, &err);
	if (!v.ctl && ctl_given) {
		log_err("control socket %s: %s", v.ctl_path, strerror(-err));
		return 1;
	}
	if (!v.ctl)
		log_warn("control socket %s: %s; going on without one (give -c)", v.ctl_path,
			 strerror(-err));
	v.lr = learner_new(v.base, &lops, &v, &err);
	if (!v.lr) {
		log_err("learning: %s", strerror(-err));
		return 1;
	}
	for (size_t i = 0; i < v.nsegs; i++) {
		struct seg *s = &v.segs[i];

		err = kernel_vxlan_ensure(v.k, s->vni, s->bridge, &v.vtep, v.underlay,
					  &s->vx_ifindex, &s->br_ifindex);
		if (err < 0) {
			log_err("segment %u on %s: %s", s->vni, s->bridge, strerror(-err));
			return 1;
		}
		log_info("segment %u: vx%u on %s%s", s->vni, s->vni, s->bridge,
			 err & KVX_CREATED ? " (created)" : err ? " (fixed)" : "");
		err = learner_add_segment(v.lr, s->vni, s->bridge, s->br_ifindex, s->vx_ifindex);
		if (err < 0) {
			log_err("segment %u: learning: %s", s->vni, strerror(-err));
			return 1;
		}
	}
	for (int i = 0; i < 2; i++) {
		sigs[i] = evsignal_new(v.base, signums[i], on_signal, &v);
		event_add(sigs[i], NULL);
	}
	err = fabric_start(&v);
	if (err) {
		log_err("fabricd %s: %s", v.fabricd, strerror(-err));
		return 1;
	}
	event_base_dispatch(v.base);

	wire_client_free(v.fc, "vtepd stopping");
	wire_tls_free(v.tls);
	for (int i = 0; i < 2; i++)
		event_free(sigs[i]);
	ctl_server_close(v.ctl);
	learner_free(v.lr);
	want_clear(&v);
	macmap_free(&v.want);
	for (size_t i = 0; i < v.nsegs; i++)
		seg_flood_clear(&v.segs[i]);
	vtepset_free(&v.known);
	kernel_close(v.k);
	event_base_free(v.base);
	return 0;
}
