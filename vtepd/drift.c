/*
 * drift.c - putting back vtepd's kernel entries that went (see drift.h): one rtnetlink
 * monitor (RTMGRP_NEIGH: neighbours and bridge FDB; RTMGRP_LINK), one timer for the repairs
 * of every segment, one for the end of holds, and the strike table (strikes.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <libmnl/libmnl.h>
#include <linux/filter.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "drift.h"
#include "log.h"
#include "nl.h"
#include "strikes.h"
#include "vtepd.h"
#include "drift_int.h"

/* --- repairs ------------------------------------------------------------------------------ */

struct build {
	struct drift *d;
	struct kdesired *kd[MAX_SEGS];    /* per segment to repair, else NULL */
	bool keyed[MAX_SEGS];             /* built from its deletions alone (build_keys) */
	int64_t now;
	int err;
};

static bool held(struct drift *d, uint32_t vni, enum strike_kind kind, const void *b,
		 size_t len, int64_t now)
{
	struct strike_key key;

	if (!d->strikes.held)
		return false;
	strike_key_set(&key, vni, kind, b, len);
	return strikes_held(&d->strikes, &key, now);
}

static int build_one(void *val, void *ctx)
{
	const struct want *w = val;
	struct build *b = ctx;
	struct drift *d = b->d;

	for (size_t i = 0; i < d->nsegs; i++) {
		struct kdesired *kd = b->kd[i];

		if (!kd || b->keyed[i] || d->segs[i].vni != w->vni)
			continue;
		if ((d->segs[i].dirty & KREPAIR_FDB) && w->has_dst &&
		    !held(d, w->vni, STRIKE_FDB, w->mac.b, MAC_LEN, b->now) &&
		    kdesired_fdb(kd, w->vni, &w->mac, &w->dst, 1) < 0)
			b->err = -ENOMEM;
		for (size_t k = 0; (d->segs[i].dirty & KREPAIR_NEIGH) && k < w->nips; k++)
			if (!held(d, w->vni, STRIKE_NEIGH, w->ips[k].b, ipaddr_len(&w->ips[k]),
				  b->now) &&
			    kdesired_neigh(kd, w->vni, &w->ips[k], &w->mac) < 0)
				b->err = -ENOMEM;
		break;
	}
	return 0;
}

static int pend_cmp(const void *x, const void *y)
{
	return memcmp(&((const struct pend *)x)->key, &((const struct pend *)y)->key,
		      sizeof(struct strike_key));
}

struct resolve {
	struct drift *d;
	bool seg[MAX_SEGS];           /* due, with unresolved deletions (keys sorted) */
};

/* Marks the unresolved deletions of key in s wanted (equal keys are neighbours when sorted). */
static void resolve_key(struct dseg *s, const struct strike_key *key, const struct mac *mac)
{
	struct pend k = { .key = *key };
	struct pend *p = bsearch(&k, s->keys, s->nkeys, sizeof(*s->keys), pend_cmp);

	if (!p)
		return;
	while (p > s->keys && !pend_cmp(p - 1, &k))
		p--;
	for (; p < s->keys + s->nkeys && !pend_cmp(p, &k); p++) {
		if (p->state != PEND_UNRESOLVED)
			continue;
		p->state = PEND_WANTED;
		p->mac = *mac;
		s->nunresolved--;
		s->pending++;
	}
}

static int resolve_one(void *val, void *ctx)
{
	const struct want *w = val;
	struct resolve *r = ctx;

	for (size_t i = 0; i < r->d->nsegs; i++) {
		struct dseg *s = &r->d->segs[i];
		struct strike_key key;

		if (!r->seg[i] || s->vni != w->vni)
			continue;
		for (size_t k = 0; k < w->nips && s->nunresolved; k++) {
			strike_key_set(&key, w->vni, STRIKE_NEIGH, w->ips[k].b,
				       ipaddr_len(&w->ips[k]));
			resolve_key(s, &key, &w->mac);
		}
		break;
	}
	return 0;
}

/* Which of the neighbours deleted without their MAC vtepd wants: one walk of the mirror for
 * every segment due. The others are not wanted (counted, no strikes). */
static void resolve(struct drift *d, const bool *due)
{
	struct resolve r = { .d = d };
	bool any = false;

	for (size_t i = 0; i < d->nsegs; i++) {
		struct dseg *s = &d->segs[i];

		if (!due[i] || !s->nunresolved)
			continue;
		if (s->nkeys > 1)
			qsort(s->keys, s->nkeys, sizeof(*s->keys), pend_cmp);
		r.seg[i] = any = true;
	}
	if (!any)
		return;
	macmap_foreach(&d->v->want, resolve_one, &r);
	for (size_t i = 0; i < d->nsegs; i++) {
		struct dseg *s = &d->segs[i];

		if (!r.seg[i])
			continue;
		for (size_t k = 0; k < s->nkeys; k++)
			if (s->keys[k].state == PEND_UNRESOLVED)
				s->keys[k].state = PEND_NOT_WANTED;
		d->c.not_wanted += s->nunresolved;
		s->nunresolved = 0;
	}
}

/* Few deletions and nothing else to look at: the repair asks the kernel about those entries
 * only (kernel_repair_keys), and their desired state comes from the mirror by MAC, without a
 * walk. Flood remotes take the dump. */
static bool keyed_ok(const struct dseg *s)
{
	size_t n = 0;

	if (s->forced || s->overflow)
		return false;
	for (size_t i = 0; i < s->nkeys; i++) {
		if (s->keys[i].state != PEND_WANTED)
			continue;
		if (s->keys[i].key.kind == STRIKE_FLOOD || ++n > REPAIR_KEYS_MAX)
			return false;
	}
	return n > 0;
}

static struct ipaddr key_ip(const struct strike_key *k)
{
	struct ipaddr a = { .af = k->len == 4 ? AF_INET : AF_INET6 };

	memcpy(a.b, k->b, k->len);
	return a;
}

static int build_keys(struct drift *d, const struct dseg *s, struct kdesired *kd, int64_t now)
{
	for (size_t i = 0; i < s->nkeys; i++) {
		const struct pend *p = &s->keys[i];
		bool fdb = p->key.kind == STRIKE_FDB;
		const struct want *w;
		struct ipaddr ip;

		if (p->state != PEND_WANTED)
			continue;
		w = macmap_get(&d->v->want, s->vni, fdb ? p->key.b : p->mac.b);
		if (!w || held(d, s->vni, p->key.kind, p->key.b, p->key.len, now))
			continue;
		ip = key_ip(&p->key);
		if (fdb && w->has_dst && kdesired_fdb(kd, s->vni, &w->mac, &w->dst, 1) < 0)
			return -ENOMEM;
		if (!fdb && drift_want_has_ip(w, &ip) && kdesired_neigh(kd, s->vni, &ip, &w->mac) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int repair_keys(struct drift *d, const struct dseg *s, const struct kdesired *kd,
		       kernel_sync_done done, void *ctx)
{
	struct ipaddr ips[REPAIR_KEYS_MAX];
	struct mac macs[REPAIR_KEYS_MAX];
	size_t nips = 0, nmacs = 0;

	for (size_t i = 0; i < s->nkeys && nips + nmacs < REPAIR_KEYS_MAX; i++) {
		const struct pend *p = &s->keys[i];

		if (p->state != PEND_WANTED)
			continue;
		if (p->key.kind == STRIKE_FDB)
			memcpy(macs[nmacs++].b, p->key.b, MAC_LEN);
		else
			ips[nips++] = key_ip(&p->key);
	}
	return kernel_repair_keys(d->v->k, kd, ips, nips, macs, nmacs, done, ctx);
}

static uint64_t kc_repaired(const struct kcount *c)
{
	return (uint64_t)c->added + c->updated;
}

static const char *key_fmt(const struct strike_key *k, char *buf)
{
	struct ipaddr a = key_ip(k);

	if (k->kind == STRIKE_FDB)
		return mac_fmt((const struct mac *)k->b, buf);
	return ipaddr_fmt(&a, buf);
}

/* Who deleted what the repair is for; strikes for someone else's deletions. True: the
 * kernel, with a link change. */
static bool attribute(struct drift *d, struct dseg *s, int64_t now)
{
	bool link = monotime_is_set(s->link_at) &&
		    monotime_diff_us(s->link_at, s->first) >= -LINK_WINDOW_US;
	char buf[IPADDR_STRLEN];

	if (link) {
		d->c.flushed_by_link_change += s->pending;
		return true;
	}
	d->c.deleted_by_operator += s->pending;
	for (size_t i = 0; i < s->nkeys; i++) {
		const struct strike_key *k = &s->keys[i].key;

		if (s->keys[i].state != PEND_WANTED ||
		    strikes_hit(&d->strikes, k, now) != STRIKE_BACKOFF)
			continue;
		d->c.backed_off++;
		log_warn("drift: vni %u: %s %s was deleted more than %d times in %d s: not put "
			 "back for %d s", k->vni, k->kind == STRIKE_NEIGH ? "neighbour" :
			 k->kind == STRIKE_FDB ? "FDB entry" : "flood remote", key_fmt(k, buf),
			 STRIKES_MAX, (int)(STRIKES_WINDOW_US / USEC_PER_SEC),
			 (int)(HOLD_US / USEC_PER_SEC));
		if (!event_pending(d->ev_hold, EV_TIMEOUT, NULL)) {
			struct timeval tv = drift_tv_us(HOLD_US);

			event_add(d->ev_hold, &tv);
		}
	}
	return false;
}

/* A segment's repair in flight: what its callback counts and logs. */
struct repair {
	struct drift *d;
	uint32_t vni;
	uint64_t pending;              /* deletions it answers */
	bool link, keyed;
	struct monotime first;         /* the first deletion */
	int64_t walk_us;
};

static void repair_count(const struct repair *r, int ret, const struct kstats *st)
{
	struct drift *d = r->d;
	uint64_t fixed = kc_repaired(&st->fdb) + kc_repaired(&st->flood) + kc_repaired(&st->neigh);
	int64_t took = monotime_diff_us(monotime_now(), r->first);

	d->c.repairs++;
	d->c.repaired += fixed;
	d->c.conflicts += st->fdb.conflicts + st->flood.conflicts + st->neigh.conflicts;
	if (ret < 0 || st->errors)
		d->c.errors++;
	d->c.last_repair_us = took;
	if (took > d->c.max_repair_us)
		d->c.max_repair_us = took;
	if (fixed || r->pending || ret < 0)
		log_rl(&d->rl, ret < 0 ? LOG_LVL_WARN : LOG_LVL_INFO,
		       "drift: vni %u: put back %llu entr%s (%llu deleted%s): %s, %lld us "
		       "after the first (mirror %lld us, %s %lld us, requests %lld us)",
		       r->vni, (unsigned long long)fixed, fixed == 1 ? "y" : "ies",
		       (unsigned long long)r->pending,
		       !r->pending ? "" : r->link ? " with a link change" : " by someone",
		       ret < 0 ? strerror(-ret) : "ok", (long long)took, (long long)r->walk_us,
		       r->keyed ? "lookups" : "dump", (long long)st->dump_us,
		       (long long)st->program_us);
}

static void repaired(void *ctx, int ret, const struct kstats *st)
{
	repair_count(ctx, ret, st);
	free(ctx);
}

/* Repairs every segment that is due, in one walk of the mirror. */
static void repair_due(struct drift *d, struct monotime now)
{
	struct build b = { .d = d, .now = now.us };
	struct vtepd *v = d->v;
	bool due[MAX_SEGS] = { false }, link[MAX_SEGS] = { false }, any = false, walk = false;
	struct monotime walk_t0;
	int64_t walk_us;

	for (size_t i = 0; i < d->nsegs; i++) {
		struct dseg *s = &d->segs[i];

		due[i] = s->dirty && monotime_diff_us(s->due, now) <= 0;
		/* A flush still under way (deletions less than QUIET_US ago) is waited for, so that
		 * it is one batch, up to COALESCE_MAX_US after its first deletion. */
		if (due[i] && monotime_is_set(s->last) &&
		    monotime_diff_us(now, s->last) < QUIET_US &&
		    monotime_diff_us(now, s->first) < COALESCE_MAX_US) {
			s->due = monotime_min(monotime_add_us(s->last, QUIET_US),
					      monotime_add_us(s->first, COALESCE_MAX_US));
			due[i] = false;
		}
		any |= due[i];
	}
	if (!any)
		return;
	/* The walks of the mirror (a neighbour's MAC, the desired state) count in each segment's
	 * share too. */
	walk_t0 = monotime_now();
	resolve(d, due);
	/* Only deletions vtepd does not want: nothing to put back, no dump. */
	for (size_t i = 0; i < d->nsegs; i++) {
		struct dseg *s = &d->segs[i];

		if (due[i] && !s->pending && !s->forced) {
			due[i] = false;
			s->dirty = 0;
			s->nkeys = 0;
			s->overflow = false;
			s->last = (struct monotime){ 0 };
		}
	}
	for (size_t i = 0; i < d->nsegs; i++) {
		struct dseg *s = &d->segs[i];
		const struct seg *vs = &v->segs[i];

		if (!due[i])
			continue;
		link[i] = attribute(d, s, now.us);
		b.kd[i] = kdesired_new();
		if (!b.kd[i] || kdesired_vni(b.kd[i], s->vni) < 0) {
			b.err = -ENOMEM;
			continue;
		}
		b.keyed[i] = keyed_ok(s);
		if (b.keyed[i]) {
			if (build_keys(d, s, b.kd[i], now.us) < 0)
				b.err = -ENOMEM;
			continue;
		}
		walk = true;
		for (size_t k = 0; (s->dirty & KREPAIR_FDB) && k < vs->nflood; k++)
			if (!held(d, s->vni, STRIKE_FLOOD, vs->flood[k].b,
				  ipaddr_len(&vs->flood[k]), now.us) &&
			    kdesired_flood(b.kd[i], s->vni, &vs->flood[k]) < 0)
				b.err = -ENOMEM;
	}
	if (!b.err && walk)
		macmap_foreach(&v->want, build_one, &b);
	walk_us = monotime_diff_us(monotime_now(), walk_t0);
	for (size_t i = 0; i < d->nsegs; i++) {
		struct dseg *s = &d->segs[i];
		struct repair one, *r;
		struct monotime t0;
		int ret = b.err;

		if (!due[i])
			continue;
		one = (struct repair){ .d = d, .vni = s->vni, .pending = s->pending,
				       .link = link[i], .keyed = b.keyed[i], .first = s->first,
				       .walk_us = walk_us };
		r = malloc(sizeof(*r));
		if (!r)
			ret = -ENOMEM;
		else
			*r = one;
		/* Out of memory: this batch is given up (counted); the next deletion, or the next
		 * full table, tries again. */
		t0 = monotime_now();
		if (!ret)
			ret = one.keyed ? repair_keys(d, s, b.kd[i], repaired, r) :
					  kernel_repair(v->k, b.kd[i], s->dirty, repaired, r);
		/* The loop's own share: the walk, the dump or lookups, queueing the requests. */
		s->took_us = walk_us + monotime_diff_us(monotime_now(), t0);
		kdesired_free(b.kd[i]);
		if (ret < 0) {
			free(r);
			repair_count(&one, ret, &(struct kstats){ 0 });
		}
		s->dirty = 0;
		s->pending = 0;
		s->nkeys = 0;
		s->overflow = false;
		s->last = (struct monotime){ 0 };
		s->last_done = monotime_now();
	}
}

static void on_repair(evutil_socket_t fd, short what, void *arg)
{
	struct drift *d = arg;
	struct monotime now;

	/* What is queued first: the rest of a flush belongs to this batch. */
	drift_mon_read(d, DRAIN_MAX);
	now = monotime_now();
	if (d->v->in_full) {
		for (size_t i = 0; i < d->nsegs; i++)
			if (d->segs[i].dirty)
				d->segs[i].due = monotime_add_us(now, FULL_TABLE_WAIT_US);
		drift_arm(d);
		return;
	}
	repair_due(d, now);
	drift_arm(d);
}

static void hold_ended(void *ctx, const struct strike_key *k)
{
	struct drift *d = ctx;

	for (size_t i = 0; i < d->nsegs; i++)
		if (d->segs[i].vni == k->vni && !d->segs[i].gone)
			drift_schedule_forced(d, &d->segs[i],
					k->kind == STRIKE_NEIGH ? KREPAIR_NEIGH : KREPAIR_FDB,
					monotime_now());
}

static void on_hold(evutil_socket_t fd, short what, void *arg)
{
	struct drift *d = arg;
	struct monotime now = monotime_now();
	int64_t next = strikes_expire(&d->strikes, now.us, hold_ended, d);

	if (next) {
		struct timeval tv = drift_tv_us(next - now.us);

		event_add(d->ev_hold, &tv);
	}
}

/* --- the API --------------------------------------------------------------------------------- */

int drift_segments_added(struct drift *d)
{
	const struct vtepd *v = d->v;

	while (d->nsegs < v->nsegs) {
		struct dseg *s = &d->segs[d->nsegs];
		const struct seg *vs = &v->segs[d->nsegs];
		struct linkstate br, vx;
		int ret;

		*s = (struct dseg){ .vni = vs->vni, .br = vs->br_ifindex, .vx = vs->vx_ifindex };
		snprintf(s->bridge, sizeof(s->bridge), "%s", vs->bridge);
		ret = drift_link_get(d, s->br, &br);
		if (!ret)
			ret = drift_link_get(d, s->vx, &vx);
		if (ret) {
			log_rl(&d->rl, LOG_LVL_ERR, "drift: vni %u: reading its devices: %s", s->vni,
			       strerror(-ret));
			return ret;
		}
		s->br_mac = br.mac;
		s->br_up = br.up;
		s->vx_master = vx.master;
		s->vx_up = vx.up;
		s->assign_type = -ENODATA;
		drift_bridge_check(s, false);
		d->nsegs++;
	}
	return 0;
}

struct drift *drift_new(struct vtepd *v, int *err)
{
	struct drift *d = calloc(1, sizeof(*d));
	int ret;

	if (!d) {
		*err = -ENOMEM;
		return NULL;
	}
	d->v = v;
	d->rl = (struct ratelimit)RATELIMIT_INIT(1000, 20);
	for (int i = 0; i < RECV_BATCH; i++) {
		d->rx.iov[i] = (struct iovec){ d->rx.bufs[i], RECV_BYTES };
		d->rx.msgs[i].msg_hdr.msg_iov = &d->rx.iov[i];
		d->rx.msgs[i].msg_hdr.msg_iovlen = 1;
	}
	ret = strikes_init(&d->strikes, STRIKES_CAPACITY, STRIKES_MAX, STRIKES_WINDOW_US, HOLD_US);
	if (!ret)
		ret = nl_open(&d->req, 0);
	if (!ret)
		ret = nl_open(&d->mon, RTMGRP_NEIGH | RTMGRP_LINK);
	if (!ret && nl_set_bufsize(&d->mon, MON_BUFSIZE) < 0)
		log_warn("drift: no large netlink buffer: a big flush may overflow it (then every "
			 "segment is repaired)");
	if (!ret && drift_mon_filter(&d->mon) < 0)
		log_warn("drift: no socket filter: every neighbour notification is read");
	if (!ret)
		ret = drift_segments_added(d);
	if (!ret) {
		d->ev_mon = event_new(v->base, nl_fd(&d->mon), EV_READ | EV_PERSIST, drift_on_mon, d);
		d->ev_repair = evtimer_new(v->base, on_repair, d);
		d->ev_hold = evtimer_new(v->base, on_hold, d);
		if (!d->ev_mon || !d->ev_repair || !d->ev_hold || event_add(d->ev_mon, NULL) < 0)
			ret = -ENOMEM;
	}
	if (ret) {
		drift_free(d);
		*err = ret;
		return NULL;
	}
	return d;
}

void drift_free(struct drift *d)
{
	if (!d)
		return;
	if (d->ev_mon)
		event_free(d->ev_mon);
	if (d->ev_repair)
		event_free(d->ev_repair);
	if (d->ev_hold)
		event_free(d->ev_hold);
	nl_close(&d->mon);
	nl_close(&d->req);
	for (size_t i = 0; i < d->nsegs; i++)
		free(d->segs[i].keys);
	strikes_free(&d->strikes);
	free(d);
}

void drift_stats(const struct drift *d, struct drift_stats *out)
{
	*out = d->c;
	out->held = d->strikes.held;
	out->bridges_unfixed = 0;
	for (size_t i = 0; i < d->nsegs; i++)
		out->bridges_unfixed += !d->segs[i].gone && d->segs[i].assign_type >= 0 &&
					d->segs[i].assign_type != KERNEL_ADDR_SET;
}

static const struct dseg *dseg_of(const struct drift *d, uint32_t vni)
{
	for (size_t i = 0; d && i < d->nsegs; i++)
		if (d->segs[i].vni == vni)
			return &d->segs[i];
	return NULL;
}

int drift_bridge(const struct drift *d, uint32_t vni, struct mac *mac, int *assign_type)
{
	const struct dseg *s = dseg_of(d, vni);

	if (!s)
		return -ENOENT;
	*mac = s->br_mac;
	*assign_type = s->assign_type;
	return 0;
}

int drift_warning(const struct drift *d, size_t i, char *buf, size_t len)
{
	const struct dseg *s;

	if (!d || i >= d->nsegs)
		return -1;
	s = &d->segs[i];
	if (s->gone)
		snprintf(buf, len, "vni %u: a device of the segment was deleted; nothing is put "
			 "back on it until vtepd starts again", s->vni);
	else if (s->assign_type < 0)
		snprintf(buf, len, "bridge %s: cannot tell whether its address is fixed (%s)",
			 s->bridge, strerror(-s->assign_type));
	else if (s->assign_type != KERNEL_ADDR_SET)
		snprintf(buf, len, "bridge %s has no fixed MAC address (%s): a port that comes or "
			 "goes can change it, and the kernel then flushes its neighbours", s->bridge,
			 drift_assign_name(s->assign_type));
	else
		return 0;
	return 1;
}
