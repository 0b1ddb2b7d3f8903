/*
 * reconcile.c - kernel_reconcile: per VNI, a sorted copy of the desired state against the
 * kernel's dump sorted by key, walked at once (mark and sweep, see kernel.h): add what is
 * missing or different, remove what is ours and not desired, count and keep the rest.
 * kernel_repair is the same walk over the tables asked for, without the removals.
 */
#include <stddef.h>
#include "kernel_int.h"
#include "monotime.h"

/* How reconcile_vni walks: the KREPAIR_* tables, and whether it may remove. */
#define SYNC_ADD_ONLY (1u << 8)

static int kd_fdb_cmp(const void *x, const void *y)
{
	const struct kd_fdb *a = x, *b = y;
	int c = mac_cmp(&a->mac, &b->mac);

	return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

static int kd_neigh_cmp(const void *x, const void *y)
{
	const struct kd_neigh *a = x, *b = y;
	int c = ipaddr_cmp(&a->ip, &b->ip);

	return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

/* Sorted copy, keeping the last of equal keys (sorted after the others by seq). */
static void *sorted_last(const void *src, size_t n, size_t size,
			 int (*cmp)(const void *, const void *),
			 bool (*same)(const void *, const void *), size_t *out_n)
{
	char *p = malloc(n ? n * size : 1);
	size_t m = 0;

	if (!p)
		return NULL;
	if (n)
		memcpy(p, src, n * size);
	sort(p, n, size, cmp);
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && same(p + i * size, p + (i + 1) * size))
			continue;
		memmove(p + m * size, p + i * size, size);
		m++;
	}
	*out_n = m;
	return p;
}

static bool kd_fdb_same(const void *a, const void *b)
{
	return mac_eq(&((const struct kd_fdb *)a)->mac, &((const struct kd_fdb *)b)->mac);
}

static bool kd_neigh_same(const void *a, const void *b)
{
	return ipaddr_eq(&((const struct kd_neigh *)a)->ip, &((const struct kd_neigh *)b)->ip);
}

static bool ip_same(const void *a, const void *b)
{
	return ipaddr_eq(a, b);
}

/* Everything the kernel holds for one MAC: the vx device's remotes, and the bridge's entry. */
struct fdb_group {
	const struct kfdb *self;     /* first remote on the vx device */
	size_t nself;
	bool self_ours;
	const struct kfdb *port;     /* the bridge's entry when it is on the vx port */
	bool port_ours;
	bool elsewhere;              /* the bridge has it on another port (learnt locally) */
};

static size_t fdb_group(const struct kfdb *have, size_t n, int vx, struct fdb_group *g)
{
	size_t i;

	memset(g, 0, sizeof(*g));
	for (i = 0; i < n && mac_eq(&have[i].mac, &have[0].mac); i++) {
		const struct kfdb *e = &have[i];

		if (e->odd && (e->flags & NTF_MASTER))
			continue;  /* another VLAN */
		if ((e->flags & NTF_MASTER) && e->ifindex == vx)
			g->port = e;
		else if (e->flags & NTF_MASTER)
			g->elsewhere = true;
		else if (e->ifindex == vx && g->nself++ == 0)
			g->self = e;
	}
	g->self_ours = g->self && ours_fdb(g->self);
	g->port_ours = g->port && ours_fdb(g->port);
	return i;
}

/* Removes our halves of one MAC; counted once, under counter. */
static void fdb_remove(struct kernel *k, int vx, const struct mac *mac, const struct fdb_group *g,
		       uint32_t *counter)
{
	if (g->self_ours)
		k_fdb_req(k, RTM_DELNEIGH, 0, NTF_SELF, vx, mac, NULL, counter);
	if (g->port_ours)
		k_fdb_req(k, RTM_DELNEIGH, 0, NTF_MASTER, vx, mac, NULL,
			g->self_ours ? NULL : counter);
}

/* The unicast part: desired (sorted, unique MACs) against the kernel's entries (sorted by
 * MAC). A unicast MAC of ours is two entries: the vx device's remote, which says which VTEP,
 * and the bridge's, on the vx port (ARP/ND suppression answers only for MACs the bridge
 * knows on a neigh_suppress port, and without it the bridge floods the MAC's frames to its
 * local ports as well). Both go in one request, bridge first. A MAC the bridge holds on
 * another port (learnt locally: the host is here now) or statically is not taken back. */
static void sync_fdb(struct kernel *k, int vx, const struct kd_vni *v, const struct kd_fdb *want,
		     size_t nwant, const struct kfdb *have, size_t nhave, bool add_only,
		     struct kstats *st)
{
	size_t i = 0, j = 0;

	while (i < nwant || j < nhave) {
		const struct kd_fdb *w = i < nwant ? &want[i] : NULL;
		const struct kfdb *h = j < nhave ? &have[j] : NULL;
		int c = !h ? -1 : !w ? 1 : mac_cmp(&w->mac, &h->mac);
		struct fdb_group g = { 0 };
		bool blocked, self_ok;

		if (h && mac_eq(&h->mac, &mac_zero)) {
			j++;
			continue;  /* the flood list */
		}
		if (c >= 0) {
			j += fdb_group(h, nhave - j, vx, &g);
			if (g.self && !g.self_ours)
				st->fdb.foreign += (uint32_t)g.nself;
			if (g.port && !g.port_ours)
				st->fdb.foreign++;
		}
		if (c > 0) {
			if (!add_only)
				fdb_remove(k, vx, &h->mac, &g, &st->fdb.removed);
			continue;
		}
		i++;
		if (g.self && !g.self_ours) {
			st->fdb.conflicts++;
			continue;
		}
		if (w->ndst > 1) {
			st->fdb_flooded++;
			if (!add_only)
				fdb_remove(k, vx, &w->mac, &g, &st->fdb.removed);
			continue;
		}
		blocked = g.elsewhere || (g.port && !g.port_ours);
		self_ok = g.self_ours && g.nself == 1 && !g.self->odd &&
			  ipaddr_eq(&g.self->dst, &v->dsts[w->dst]);
		if (self_ok && (g.port_ours || blocked)) {
			st->fdb.kept++;
			continue;
		}
		k_fdb_req(k, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE,
			NTF_SELF | NTF_EXT_LEARNED | (blocked ? 0 : NTF_MASTER), vx, &w->mac,
			&v->dsts[w->dst], g.self_ours || g.port_ours ? &st->fdb.updated : &st->fdb.added);
	}
}

static void sync_flood(struct kernel *k, int vx, const struct ipaddr *want, size_t nwant,
		       const struct ipaddr *known, size_t nknown, const struct kfdb *have,
		       size_t nhave, bool add_only, struct kstats *st)
{
	size_t nzero = 0;

	/* Sorted by MAC, remotes first: the flood list's remotes lead. */
	while (nzero < nhave && mac_eq(&have[nzero].mac, &mac_zero) &&
	       !(have[nzero].flags & NTF_MASTER))
		nzero++;
	for (size_t i = 0; i < nzero; i++) {
		const struct ipaddr *dst = &have[i].dst;

		if (have[i].ifindex != vx)
			continue;
		if (ip_in(want, nwant, dst))
			st->flood.kept++;
		else if (ip_in(known, nknown, dst) && !add_only)
			k_fdb_req(k, RTM_DELNEIGH, 0, NTF_SELF, vx, &mac_zero, dst, &st->flood.removed);
		else if (!ip_in(known, nknown, dst))
			st->flood.foreign++;
	}
	for (size_t i = 0; i < nwant; i++) {
		bool present = false;

		for (size_t h = 0; h < nzero && !present; h++)
			present = have[h].ifindex == vx && ipaddr_eq(&have[h].dst, &want[i]);
		if (!present)
			k_fdb_req(k, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_APPEND, NTF_SELF, vx,
				&mac_zero, &want[i], &st->flood.added);
	}
}

/* Configured by someone (admin, another daemon): never ours to change. Entries the kernel
 * resolved itself are its cache and may be replaced. */
static bool configured(const struct kneigh *h)
{
	return h->proto || (h->state & (NUD_PERMANENT | NUD_NOARP));
}

static void sync_neigh(struct kernel *k, int br, const struct kd_neigh *want, size_t nwant,
		       const struct kneigh *have, size_t nhave, bool add_only, struct kstats *st)
{
	size_t i = 0, j = 0;

	while (i < nwant || j < nhave) {
		const struct kneigh *h = j < nhave ? &have[j] : NULL;
		const struct kd_neigh *w = i < nwant ? &want[i] : NULL;
		int c = !h ? -1 : !w ? 1 : ipaddr_cmp(&w->ip, &h->ip);
		bool ours = h && h->proto == KERNEL_RTPROT;

		if (c >= 0) {
			j++;
			if (!ours)
				st->neigh.foreign++;
		}
		if (c > 0) {
			if (ours && !add_only)
				k_neigh_req(k, RTM_DELNEIGH, br, &h->ip, NULL, &st->neigh.removed);
			continue;
		}
		i++;
		if (c == 0 && ours && mac_eq(&h->mac, &w->mac) && h->state == NUD_NOARP &&
		    (h->flags & NTF_EXT_LEARNED)) {
			st->neigh.kept++;
			continue;
		}
		if (c == 0 && !ours && configured(h)) {
			st->neigh.conflicts++;
			continue;
		}
		if (c == 0 && !ours)
			st->neigh.foreign--;  /* taken over */
		k_neigh_req(k, RTM_NEWNEIGH, br, &w->ip, &w->mac,
			  c == 0 && ours ? &st->neigh.updated : &st->neigh.added);
	}
}

/* What kernel_repair_keys asks about (sorted, unique), instead of dumps. */
struct keys {
	struct ipaddr *ips;
	struct mac *macs;
	size_t nips, nmacs;
};

static int mac_cmp_v(const void *x, const void *y)
{
	return mac_cmp(x, y);
}

static bool mac_same(const void *a, const void *b)
{
	return mac_eq(a, b);
}

/* The kernel's entries for the keys only: the neighbours on the bridge, and for each MAC the
 * vxlan driver's entry and the bridge's (on whichever port it is). */
static int get_keys(struct kernel *k, int vx, int br, const struct keys *only, struct vec *fdb,
		    struct vec *neigh)
{
	int ret = 0;

	for (size_t i = 0; i < only->nmacs && !ret; i++) {
		ret = k_get(k, AF_BRIDGE, vx, NTF_SELF, &only->macs[i], NULL, k_fdb_msg, fdb);
		if (!ret)
			ret = k_get(k, AF_BRIDGE, vx, NTF_MASTER, &only->macs[i], NULL, k_fdb_msg, fdb);
	}
	for (size_t i = 0; i < only->nips && !ret; i++)
		ret = k_get(k, only->ips[i].af, br, 0, NULL, &only->ips[i], k_neigh_msg, neigh);
	return ret;
}

/* Keeps, of a sorted desired array, the entries whose key is in the sorted set. */
static size_t keep_keys(void *p, size_t n, size_t size, size_t key_off, const void *set,
			size_t nset, size_t key_size, int (*cmp)(const void *, const void *))
{
	char *a = p;
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		if (!nset || !bsearch(a + i * size + key_off, set, nset, key_size, cmp))
			continue;
		memmove(a + m * size, a + i * size, size);
		m++;
	}
	return m;
}

static int reconcile_vni(struct kernel *k, const struct kd_vni *v, const struct ipaddr *known,
			 size_t nknown, unsigned how, const struct keys *only, struct kstats *st)
{
	bool add_only = how & SYNC_ADD_ONLY;
	struct vec fdb = { .size = sizeof(struct kfdb) }, neigh = { .size = sizeof(struct kneigh) };
	struct kd_fdb *want_fdb = NULL;
	struct kd_neigh *want_neigh = NULL;
	struct ipaddr *want_flood = NULL, *all_known = NULL;
	size_t nfdb, nneigh, nflood, nall;
	struct monotime t0 = monotime_now(), t1;
	int vx, br, ret;

	ret = k_dev_resolve(k, v->vni, true, &vx, &br);
	if (ret < 0) {
		log_err("kernel: vx%u: %s", v->vni, strerror(-ret));
		goto out;
	}
	if (only)
		ret = get_keys(k, vx, br, only, &fdb, &neigh);
	if (!only && (how & KREPAIR_FDB))
		ret = k_dump(k, AF_BRIDGE, br, k_fdb_msg, &fdb);
	if (!only && ret == 0 && (how & KREPAIR_NEIGH))
		ret = k_dump(k, AF_UNSPEC, br, k_neigh_msg, &neigh);
	if (ret < 0) {
		log_err("kernel: vx%u: dump: %s", v->vni, strerror(-ret));
		goto out;
	}
	sort(fdb.p, fdb.n, fdb.size, kfdb_cmp);
	sort(neigh.p, neigh.n, neigh.size, kneigh_cmp);
	want_fdb = sorted_last(v->fdb, v->nfdb, sizeof(*v->fdb), kd_fdb_cmp, kd_fdb_same, &nfdb);
	want_neigh = sorted_last(v->neigh, v->nneigh, sizeof(*v->neigh), kd_neigh_cmp,
				 kd_neigh_same, &nneigh);
	want_flood = sorted_last(v->flood, v->nflood, sizeof(*v->flood), ip_cmp, ip_same, &nflood);
	all_known = malloc((nknown + v->nflood + 1) * sizeof(*all_known));
	if (!want_fdb || !want_neigh || !want_flood || !all_known) {
		ret = -ENOMEM;
		goto out;
	}
	if (only) {
		nfdb = keep_keys(want_fdb, nfdb, sizeof(*want_fdb), offsetof(struct kd_fdb, mac),
				 only->macs, only->nmacs, sizeof(*only->macs), mac_cmp_v);
		nneigh = keep_keys(want_neigh, nneigh, sizeof(*want_neigh),
				   offsetof(struct kd_neigh, ip), only->ips, only->nips,
				   sizeof(*only->ips), ip_cmp);
	}
	nall = nknown + v->nflood;
	if (nknown)
		memcpy(all_known, known, nknown * sizeof(*known));
	if (v->nflood)
		memcpy(all_known + nknown, v->flood, v->nflood * sizeof(*v->flood));
	sort(all_known, nall, sizeof(*all_known), ip_cmp);

	t1 = monotime_now();
	st->dump_us += monotime_diff_us(t1, t0);
	if (how & KREPAIR_FDB) {
		sync_fdb(k, vx, v, want_fdb, nfdb, fdb.p, fdb.n, add_only, st);
		if (!only)
			sync_flood(k, vx, want_flood, nflood, all_known, nall, fdb.p, fdb.n,
				   add_only, st);
	}
	if (how & KREPAIR_NEIGH)
		sync_neigh(k, br, want_neigh, nneigh, neigh.p, neigh.n, add_only, st);
	st->program_us += monotime_diff_us(monotime_now(), t1);
out:
	if (ret < 0)
		st->errors++;
	free(fdb.p);
	free(neigh.p);
	free(want_fdb);
	free(want_neigh);
	free(want_flood);
	free(all_known);
	return ret;
}

/* A reconcile or repair whose requests are in flight: its counts are the requests' tags. */
struct ksync {
	struct kstats st;
	int ret;
	struct monotime queued;        /* when its last request was queued */
	kernel_sync_done done;
	void *ctx;
};

static void sync_done(void *ctx, uint32_t refused, int first_err)
{
	struct ksync *s = ctx;

	s->st.errors += refused;
	if (!s->ret)
		s->ret = first_err;
	s->st.program_us += monotime_diff_us(monotime_now(), s->queued);
	if (s->done)
		s->done(s->ctx, s->ret, &s->st);
	free(s);
}

static int sync_all(struct kernel *k, const struct kdesired *d, const struct ipaddr *known,
		    size_t n_known, unsigned how, const struct keys *only, kernel_sync_done done,
		    void *ctx)
{
	struct ksync *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->done = done;
	s->ctx = ctx;
	/* Whatever incremental operations are queued go first, in a batch of their own (the
	 * dumps send them before they read). */
	kernel_commit(k, NULL, NULL);
	for (size_t i = 0; i < d->n; i++) {
		int r = reconcile_vni(k, &d->v[i], known, n_known, how, only, &s->st);

		if (r < 0 && !s->ret)
			s->ret = r;
	}
	s->queued = monotime_now();
	kernel_commit(k, sync_done, s);
	return 0;
}

int kernel_reconcile(struct kernel *k, const struct kdesired *d, const struct ipaddr *known,
		     size_t n_known, kernel_sync_done done, void *ctx)
{
	return sync_all(k, d, known, n_known, KREPAIR_FDB | KREPAIR_NEIGH, NULL, done, ctx);
}

int kernel_repair(struct kernel *k, const struct kdesired *d, unsigned tables,
		  kernel_sync_done done, void *ctx)
{
	/* Nothing is removed: which flood remotes are the fabric's does not matter. */
	return sync_all(k, d, NULL, 0, (tables & (KREPAIR_FDB | KREPAIR_NEIGH)) | SYNC_ADD_ONLY,
			NULL, done, ctx);
}

int kernel_repair_keys(struct kernel *k, const struct kdesired *d, const struct ipaddr *ips,
		       size_t nips, const struct mac *macs, size_t nmacs, kernel_sync_done done,
		       void *ctx)
{
	struct keys only = { 0 };
	int ret;

	only.ips = sorted_last(ips, nips, sizeof(*ips), ip_cmp, ip_same, &only.nips);
	only.macs = sorted_last(macs, nmacs, sizeof(*macs), mac_cmp_v, mac_same, &only.nmacs);
	if (!only.ips || !only.macs)
		ret = -ENOMEM;
	else
		ret = sync_all(k, d, NULL, 0, (only.nmacs ? KREPAIR_FDB : 0) |
			       (only.nips ? KREPAIR_NEIGH : 0) | SYNC_ADD_ONLY, &only, done, ctx);
	free(only.ips);
	free(only.macs);
	return ret;
}
