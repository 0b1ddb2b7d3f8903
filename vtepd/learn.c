/*
 * learn.c - vtepd's local learning (see learn.h). Two sources:
 *  - the bridge's forwarding database, over an rtnetlink monitor (RTM_NEWNEIGH/RTM_DELNEIGH,
 *    AF_BRIDGE): an entry of one of our bridges (NDA_MASTER) on a port other than the VXLAN
 *    device, not the bridge's own (NUD_PERMANENT, "local"), not installed by a control plane
 *    (NTF_EXT_LEARNED), is a local MAC. The same entry showing up otherwise, or deleted,
 *    makes the MAC go. A dump at learner_add_segment, and again after the monitor lost
 *    notifications (ENOBUFS), reconciles: what the dump does not show any more goes.
 *  - ARP and Neighbor Discovery snooped on each segment's bridge device (learn_snoop.c):
 *    the addresses a local MAC claims as a sender. Frames whose MAC is not local came in
 *    over the overlay and teach nothing.
 * Tables: local MACs by (vni, mac) in a macmap; their addresses by (vni, ip) in a chained
 * table with a random seed (the keys come from guests), so that an address claimed by
 * another MAC moves to it in constant time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include "buf.h"
#include "learn_priv.h"
#include "nlq.h"
#include "log.h"
#include "macmap.h"
#include "nl.h"

#define MON_BUFSIZE (4 << 20)   /* a burst of FDB changes (a port going) fits */
#define MON_BUDGET 256
#define RS_PARTS_PER_TURN 4        /* resync dump parts read per loop turn (on_rs) */

/* --- the address index ----------------------------------------------------------------- */

static uint64_t mix64(uint64_t k)
{
	k ^= k >> 30;
	k *= 0xbf58476d1ce4e5b9ULL;
	k ^= k >> 27;
	k *= 0x94d049bb133111ebULL;
	return k ^ (k >> 31);
}

static size_t ip_bucket(const struct ipmap *im, uint32_t vni, const struct ipaddr *ip)
{
	uint64_t w[2];
	uint64_t h;

	memcpy(w, ip->b, sizeof(w));
	h = mix64(im->seed ^ ((uint64_t)vni << 8 | (uint64_t)ip->af));
	h = mix64(h ^ w[0]);
	h = mix64(h ^ w[1]);
	return (size_t)h & (im->nbuckets - 1);
}

static int ipmap_init(struct ipmap *im)
{
	memset(im, 0, sizeof(*im));
	if (getrandom(&im->seed, sizeof(im->seed), GRND_NONBLOCK) != sizeof(im->seed))
		im->seed = (uint64_t)(uintptr_t)im ^ (uint64_t)getpid() << 32;
	im->nbuckets = 64;
	im->buckets = calloc(im->nbuckets, sizeof(*im->buckets));
	return im->buckets ? 0 : -ENOMEM;
}

static void ipmap_free(struct ipmap *im)
{
	for (size_t i = 0; i < im->nbuckets; i++) {
		for (struct ipent *e = im->buckets[i], *next; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(im->buckets);
	im->buckets = NULL;
}

static struct ipent **ipmap_find(struct ipmap *im, uint32_t vni, const struct ipaddr *ip)
{
	struct ipent **pp = &im->buckets[ip_bucket(im, vni, ip)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->vni == vni && ipaddr_eq(&(*pp)->ip, ip))
			break;
	return pp;
}

static void ipmap_grow(struct ipmap *im)
{
	struct ipmap old = *im;

	im->buckets = calloc(old.nbuckets * 2, sizeof(*im->buckets));
	if (!im->buckets) {
		*im = old;     /* longer chains, still correct */
		return;
	}
	im->nbuckets = old.nbuckets * 2;
	for (size_t i = 0; i < old.nbuckets; i++) {
		for (struct ipent *e = old.buckets[i], *next; e; e = next) {
			size_t b = ip_bucket(im, e->vni, &e->ip);

			next = e->next;
			e->next = im->buckets[b];
			im->buckets[b] = e;
		}
	}
	free(old.buckets);
}

static struct lmac *ipmap_owner(struct ipmap *im, uint32_t vni, const struct ipaddr *ip)
{
	struct ipent *e = *ipmap_find(im, vni, ip);

	return e ? e->owner : NULL;
}

static int ipmap_set(struct ipmap *im, uint32_t vni, const struct ipaddr *ip, struct lmac *owner)
{
	struct ipent **pp = ipmap_find(im, vni, ip);

	if (*pp) {
		(*pp)->owner = owner;
		return 0;
	}
	*pp = calloc(1, sizeof(**pp));
	if (!*pp)
		return -ENOMEM;
	(*pp)->vni = vni;
	(*pp)->ip = *ip;
	(*pp)->owner = owner;
	if (++im->count > im->nbuckets)
		ipmap_grow(im);
	return 0;
}

static void ipmap_del(struct ipmap *im, uint32_t vni, const struct ipaddr *ip)
{
	struct ipent **pp = ipmap_find(im, vni, ip), *e = *pp;

	if (!e)
		return;
	*pp = e->next;
	free(e);
	im->count--;
}

/* --- local MACs ------------------------------------------------------------------------ */

static void lmac_remove_ip(struct learner *l, struct lmac *lm, size_t i)
{
	struct local_mac *m = &lm->m;

	ipmap_del(&l->ips, m->vni, &m->ips[i]);
	memmove(&m->ips[i], &m->ips[i + 1], (m->nips - i - 1) * sizeof(m->ips[0]));
	m->nips--;
}

static struct lmac *lmac_new(struct learner *l, struct segment *s, const struct mac *mac)
{
	struct lmac *lm = calloc(1, sizeof(*lm));

	if (!lm)
		return NULL;
	lm->m.vni = s->vni;
	lm->m.mac = *mac;
	lm->seg = s;
	if (macmap_put(&l->macs, s->vni, mac->b, lm) < 0) {
		free(lm);
		return NULL;
	}
	l->st.macs = l->macs.count;
	return lm;
}

/* The MAC is not local any more: its addresses are forgotten with it. */
static void lmac_gone(struct learner *l, struct lmac *lm)
{
	struct mac mac = lm->m.mac;
	uint32_t vni = lm->m.vni;

	while (lm->m.nips)
		lmac_remove_ip(l, lm, lm->m.nips - 1);
	macmap_del(&l->macs, vni, mac.b);
	l->st.macs = l->macs.count;
	free(lm);
	l->ops.gone(l->ctx, vni, &mac);
}

/* lm claims ip now: first in its list, taken from any other MAC of the segment. */
void lmac_learn_ip(struct learner *l, struct lmac *lm, const struct ipaddr *ip)
{
	struct local_mac *m = &lm->m;
	struct lmac *owner;
	size_t i;

	for (i = 0; i < m->nips; i++) {
		if (!ipaddr_eq(&m->ips[i], ip))
			continue;
		if (i == 0)
			return;    /* the common case: the same sender again */
		memmove(&m->ips[1], &m->ips[0], i * sizeof(m->ips[0]));
		m->ips[0] = *ip;
		l->ops.changed(l->ctx, m);
		return;
	}
	owner = ipmap_owner(&l->ips, m->vni, ip);
	if (owner) {
		/* The address moved (a VM migrated in, a floating IP, a failover's GARP). */
		for (i = 0; i < owner->m.nips && !ipaddr_eq(&owner->m.ips[i], ip); i++)
			;
		if (i < owner->m.nips)
			lmac_remove_ip(l, owner, i);
		l->ops.changed(l->ctx, &owner->m);
	}
	if (ipmap_set(&l->ips, m->vni, ip, lm) < 0) {
		log_rl(&l->rl, LOG_LVL_WARN, "learn: vni %u: out of memory", m->vni);
		return;
	}
	if (m->nips == LEARN_MAX_IPS) {
		/* The least recently claimed address goes. */
		ipmap_del(&l->ips, m->vni, &m->ips[LEARN_MAX_IPS - 1]);
		m->nips--;
	}
	memmove(&m->ips[1], &m->ips[0], m->nips * sizeof(m->ips[0]));
	m->ips[0] = *ip;
	m->nips++;
	l->ops.changed(l->ctx, m);
}

/* --- the forwarding database ------------------------------------------------------------ */

static struct segment *seg_by_bridge(const struct learner *l, int ifindex)
{
	for (size_t i = 0; i < l->nsegs; i++)
		if (l->segs[i]->br_ifindex == ifindex)
			return l->segs[i];
	return NULL;
}

static int fdb_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	switch (type) {
	case NDA_LLADDR:
		if (mnl_attr_get_payload_len(a) != MAC_LEN)
			return MNL_CB_ERROR;
		break;
	case NDA_MASTER:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	case NDA_VLAN:
		if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
			return MNL_CB_ERROR;
		break;
	default:
		return MNL_CB_OK;   /* unknown or unused: skipped */
	}
	tb[type] = a;
	return MNL_CB_OK;
}

static void unpin_done(void *ctx, int err, const struct nlmsghdr *req)
{
	struct learner *l = ctx;
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(req);

	if (err < 0 && err != -ENOENT && err != -ECANCELED)
		log_rl(&l->rl, LOG_LVL_WARN, "learn: cannot unpin a shared MAC from port %d: %s",
		       ndm->ndm_ifindex, strerror(-err));
}

/* Deletes the bridge's learned entry for mac on a local port, from the event loop (lib/nlq:
 * this runs inside the FDB notification's callback, which must not wait for rtnl). Failure
 * is only logged: the entry ages out, and the next notification for it tries again. */
static void unpin(struct learner *l, struct segment *s, int port, const struct mac *mac,
		  uint16_t vlan)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm;
	int ret;

	nlh->nlmsg_type = RTM_DELNEIGH;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_BRIDGE;
	ndm->ndm_ifindex = port;
	ndm->ndm_flags = NTF_MASTER;
	mnl_attr_put(nlh, NDA_LLADDR, MAC_LEN, mac->b);
	if (vlan)
		mnl_attr_put_u16(nlh, NDA_VLAN, vlan);
	ret = nlq_send(l->nlq, nlh, unpin_done, l);
	if (ret < 0)
		log_rl(&l->rl, LOG_LVL_WARN, "learn: vni %u: cannot unpin shared MAC from port %d: %s",
		       s->vni, port, strerror(-ret));
	l->st.unpinned++;
}

/* One FDB entry, from a notification or a dump. Always MNL_CB_OK: one bad message does not
 * stop the others. */
static int fdb_msg(const struct nlmsghdr *nlh, void *data)
{
	struct learner *l = data;
	const struct nlattr *tb[NDA_MAX + 1] = { 0 };
	const struct ndmsg *ndm;
	struct segment *s;
	struct lmac *lm;
	struct mac mac;
	uint16_t vlan = 0;
	bool local;

	if (nlh->nlmsg_type != RTM_NEWNEIGH && nlh->nlmsg_type != RTM_DELNEIGH)
		return MNL_CB_OK;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ndm)))
		return MNL_CB_OK;
	ndm = mnl_nlmsg_get_payload(nlh);
	if (ndm->ndm_family != AF_BRIDGE)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*ndm), fdb_attr, tb) < 0)
		return MNL_CB_OK;
	/* Entries without NDA_MASTER are a device's own (NTF_SELF): the VXLAN driver's remotes,
	 * a port's unicast and multicast filter. Only the bridge's entries say where a MAC is. */
	if (!tb[NDA_LLADDR] || !tb[NDA_MASTER])
		return MNL_CB_OK;
	s = seg_by_bridge(l, (int)mnl_attr_get_u32(tb[NDA_MASTER]));
	if (!s)
		return MNL_CB_OK;
	l->st.fdb_events++;
	memcpy(mac.b, mnl_attr_get_payload(tb[NDA_LLADDR]), MAC_LEN);
	if (tb[NDA_VLAN])
		vlan = mnl_attr_get_u16(tb[NDA_VLAN]);
	if (mac_is_multicast(&mac) || mac_eq(&mac, &mac_zero))
		return MNL_CB_OK;
	local = ndm->ndm_ifindex != s->br_ifindex && ndm->ndm_ifindex != s->vx_ifindex &&
		!(ndm->ndm_state & NUD_PERMANENT) && !(ndm->ndm_flags & NTF_EXT_LEARNED);
	lm = macmap_get(&l->macs, s->vni, mac.b);

	if (nlh->nlmsg_type == RTM_NEWNEIGH && local && macmap_get(&l->shared, s->vni, mac.b)) {
		/* An HA port in flood mode: its frames must reach every host of the port, so the
		 * bridge must not pin the MAC to the local port. */
		unpin(l, s, (int)ndm->ndm_ifindex, &mac, vlan);
		if (lm)
			lmac_gone(l, lm);
		return MNL_CB_OK;
	}
	if (nlh->nlmsg_type == RTM_NEWNEIGH && local) {
		if (!lm) {
			lm = lmac_new(l, s, &mac);
			if (!lm) {
				log_rl(&l->rl, LOG_LVL_WARN, "learn: vni %u: out of memory", s->vni);
				return MNL_CB_OK;
			}
			lm->vlan = vlan;
			lm->port = (int)ndm->ndm_ifindex;
			lm->seen = l->gen;
			l->ops.changed(l->ctx, &lm->m);
			return MNL_CB_OK;
		}
		/* Moved between local ports (or refreshed): nothing the caller reports. */
		lm->vlan = vlan;
		lm->port = (int)ndm->ndm_ifindex;
		lm->seen = l->gen;
		return MNL_CB_OK;
	}
	/* Deleted, or the bridge's entry for (mac, vlan) is now on the VXLAN port, the
	 * bridge's own, or a control plane's. Another VLAN's entry for the MAC is another
	 * entry. */
	if (lm && lm->vlan == vlan)
		lmac_gone(l, lm);
	return MNL_CB_OK;
}

/* Reads at most MON_BUDGET datagrams: the event fires again for the rest, and frames and
 * timers get their turn during a flush of thousands of entries. */
void mon_read(struct learner *l)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	for (int i = 0; i < MON_BUDGET; i++) {
		ssize_t len = mnl_socket_recvfrom(l->mon.sk, buf, sizeof(buf));

		if (len < 0) {
			if (errno == ENOBUFS) {
				/* Notifications were lost: the dump says what the bridge holds. */
				log_rl(&l->rl, LOG_LVL_WARN, "learn: FDB notifications lost, resyncing");
				event_active(l->ev_resync, 0, 0);
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_rl(&l->rl, LOG_LVL_WARN, "learn: netlink monitor: %s",
				       strerror(errno));
			return;
		}
		/* seq 0, portid 0: notifications are not checked against a request. */
		mnl_cb_run(buf, (size_t)len, 0, 0, fdb_msg, l);
	}
}

static void on_mon(evutil_socket_t fd, short what, void *arg)
{
	mon_read(arg);
}

static void seg_dump_msg(struct nlmsghdr *nlh, const struct segment *s)
{
	struct ndmsg *ndm;

	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_BRIDGE;
	/* With strict checking, the kernel dumps only this bridge's FDB (and its ports'). */
	mnl_attr_put_u32(nlh, NDA_MASTER, (uint32_t)s->br_ifindex);
}

static int seg_dump(struct learner *l, struct segment *s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	seg_dump_msg(nlh, s);
	return nl_dump(&l->req, nlh, fdb_msg, l);
}

struct sweep_ctx {
	struct learner *l;
	const struct segment *only;    /* every MAC of this segment, stale or not */
	struct lmac **stale;
	size_t n, cap;
};

static int sweep_collect(void *val, void *arg)
{
	struct sweep_ctx *c = arg;
	struct lmac *lm = val;

	if (c->only ? lm->seg != c->only : !lm->seg->dumped || lm->seen == c->l->gen)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct lmac **p = realloc(c->stale, cap * sizeof(*p));

		if (!p)
			return 1;  /* a partial sweep; the next resync finishes it */
		c->stale = p;
		c->cap = cap;
	}
	c->stale[c->n++] = lm;
	return 0;
}

/* Mark and sweep: every dumped segment's MACs the dumps did not show are gone. */
static void sweep(struct learner *l)
{
	struct sweep_ctx c = { .l = l };

	macmap_foreach(&l->macs, sweep_collect, &c);
	for (size_t i = 0; i < c.n; i++)
		lmac_gone(l, c.stale[i]);
	free(c.stale);
	if (c.n)
		log_info("learn: resync: %zu MAC(s) gone while notifications were lost", c.n);
}

static void resync(struct learner *l);

/* Starts the dump of the next segment, or sweeps once every one is dumped. */
static void rs_next(struct learner *l)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	for (; l->rsy.seg < l->nsegs; l->rsy.seg++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

		seg_dump_msg(nlh, l->segs[l->rsy.seg]);
		nlh->nlmsg_seq = l->rsy.seq = ++l->rs.seq;
		l->rsy.intr = false;
		if (mnl_socket_sendto(l->rs.sk, nlh, nlh->nlmsg_len) >= 0)
			return;
		l->segs[l->rsy.seg]->dumped = false;
		log_warn("learn: vni %u: dump of %s: %s", l->segs[l->rsy.seg]->vni,
			 l->segs[l->rsy.seg]->bridge, strerror(errno));
	}
	sweep(l);
	l->rsy.busy = false;
	if (l->rsy.again) {
		l->rsy.again = false;
		resync(l);
	}
}

static int rs_msg(const struct nlmsghdr *nlh, void *data)
{
	struct learner *l = data;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		l->rsy.intr = true;
	return fdb_msg(nlh, l);
}

/* A few parts of the dump under way per loop turn: the kernel fills each as it is read, and
 * a part late in a big FDB costs it milliseconds (kdump.c: O(n^2)). */
static void on_rs(evutil_socket_t fd, short what, void *arg)
{
	struct learner *l = arg;
	char buf[64 * 1024];

	for (int i = 0; i < RS_PARTS_PER_TURN && l->rsy.busy; i++) {
		ssize_t len = recv(nl_fd(&l->rs), buf, sizeof(buf), MSG_DONTWAIT);
		struct segment *s;
		int ret;

		if (len < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		s = l->segs[l->rsy.seg];
		ret = len < 0 ? -errno : mnl_cb_run(buf, (size_t)len, l->rsy.seq, l->rs.portid,
						     rs_msg, l);
		if (ret == MNL_CB_OK)
			continue;
		if (ret < 0 && len >= 0)
			ret = -errno;
		if (ret == MNL_CB_STOP && l->rsy.intr)
			ret = -EINTR;
		s->dumped = ret == MNL_CB_STOP;
		if (ret < 0)
			log_warn("learn: vni %u: dump of %s: %s", s->vni, s->bridge, strerror(-ret));
		l->rsy.seg++;
		rs_next(l);
	}
}

/* After lost notifications: dumps of every segment, read from the loop, then the sweep. A
 * resync asked for while one is under way runs after it. */
static void resync(struct learner *l)
{
	if (l->rsy.busy) {
		l->rsy.again = true;
		return;
	}
	/* What is still queued predates the dumps, which show its outcome: applied after them
	 * (a NEW whose DEL was lost) it would bring back what is gone. What comes from now on
	 * is newer than the start of the dumps: applied in order with them (notifications are
	 * read meanwhile), it converges. */
	nl_drain(&l->mon);
	l->gen++;
	l->rsy.busy = true;
	l->rsy.seg = 0;
	rs_next(l);
}

static void on_resync(evutil_socket_t fd, short what, void *arg)
{
	resync(arg);
}

/* --- the API ----------------------------------------------------------------------------- */

struct learner *learner_new(struct event_base *base, const struct learn_ops *ops, void *ctx,
			    int *err)
{
	struct learner *l;
	int ret;

	if (!ops || !ops->changed || !ops->gone) {
		*err = -EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		*err = -ENOMEM;
		return NULL;
	}
	l->base = base;
	l->ops = *ops;
	l->ctx = ctx;
	l->rl = (struct ratelimit)RATELIMIT_INIT(1000, 10);
	ret = macmap_init(&l->macs);
	if (!ret)
		ret = macmap_init(&l->shared);
	if (!ret)
		ret = ipmap_init(&l->ips);
	if (!ret)
		ret = nl_open(&l->mon, RTMGRP_NEIGH);
	if (!ret) {
		/* Best effort: without it a port's flush is more likely to overflow (and cost a
		 * resync). */
		nl_set_bufsize(&l->mon, MON_BUFSIZE);
		/* Only the bridges' FDB: a flush of thousands of IPv4/IPv6 neighbours (a bridge
		 * whose MAC changed) would otherwise overflow it and cost a full resync. */
		nl_filter_neigh_family(&l->mon, AF_BRIDGE);
		ret = nl_open(&l->req, 0);
	}
	if (!ret)
		ret = nl_set_strict(&l->req);
	if (!ret)
		ret = nl_open(&l->rs, 0);
	if (!ret)
		ret = nl_set_strict(&l->rs);
	if (!ret)
		ret = nlq_new(base, &l->nlq);
	if (!ret) {
		l->ev_mon = event_new(base, nl_fd(&l->mon), EV_READ | EV_PERSIST, on_mon, l);
		l->ev_resync = event_new(base, -1, 0, on_resync, l);
		l->ev_rs = event_new(base, nl_fd(&l->rs), EV_READ | EV_PERSIST, on_rs, l);
		if (!l->ev_mon || !l->ev_resync || !l->ev_rs || event_add(l->ev_mon, NULL) < 0 ||
		    event_add(l->ev_rs, NULL) < 0)
			ret = -ENOMEM;
	}
	if (ret) {
		learner_free(l);
		*err = ret;
		return NULL;
	}
	return l;
}

static int free_lmac(void *val, void *ctx)
{
	free(val);
	return 0;
}

void learner_free(struct learner *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nsegs; i++) {
		struct segment *s = l->segs[i];

		if (s->ev_rx)
			event_free(s->ev_rx);
		if (s->fd >= 0)
			close(s->fd);
		free(s);
	}
	free(l->segs);
	if (l->ev_mon)
		event_free(l->ev_mon);
	if (l->ev_resync)
		event_free(l->ev_resync);
	if (l->ev_rs)
		event_free(l->ev_rs);
	nlq_free(l->nlq);
	nl_close(&l->mon);
	nl_close(&l->req);
	nl_close(&l->rs);
	if (l->macs.slots)
		macmap_foreach(&l->macs, free_lmac, NULL);
	macmap_free(&l->macs);
	macmap_free(&l->shared);
	if (l->ips.buckets)
		ipmap_free(&l->ips);
	free(l);
}

/* Undoes a segment whose dump failed: the MACs it announced go again. */
static void seg_forget(struct learner *l, struct segment *s)
{
	struct sweep_ctx c = { .l = l, .only = s };

	macmap_foreach(&l->macs, sweep_collect, &c);
	for (size_t i = 0; i < c.n; i++)
		lmac_gone(l, c.stale[i]);
	free(c.stale);
	event_free(s->ev_rx);
	close(s->fd);
	free(s);
}

int learner_add_segment(struct learner *l, uint32_t vni, const char *bridge, int br_ifindex,
			int vx_ifindex)
{
	struct segment *s, **segs;
	int ret;

	if (br_ifindex <= 0 || !bridge)
		return -EINVAL;
	for (size_t i = 0; i < l->nsegs; i++)
		if (l->segs[i]->vni == vni || l->segs[i]->br_ifindex == br_ifindex)
			return -EEXIST;
	segs = realloc(l->segs, (l->nsegs + 1) * sizeof(*segs));
	if (!segs)
		return -ENOMEM;
	l->segs = segs;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->l = l;
	s->vni = vni;
	snprintf(s->bridge, sizeof(s->bridge), "%s", bridge);
	s->br_ifindex = br_ifindex;
	s->vx_ifindex = vx_ifindex;
	/* The socket first: a frame sent while we dump is queued, not lost. */
	ret = learn_snoop_open(s);
	if (ret < 0) {
		free(s);
		return ret;
	}
	l->segs[l->nsegs++] = s;
	/* Notifications queued before the segment existed were ignored; the dump covers them
	 * (an entry seen twice is announced once). */
	ret = seg_dump(l, s);
	if (ret == -EINTR) {
		/* The FDB changed under the dump: what it showed was announced; a resync from
		 * the event loop finds what it missed. */
		event_active(l->ev_resync, 0, 0);
		ret = 0;
	}
	if (ret < 0) {
		l->nsegs--;
		seg_forget(l, s);
		return ret;
	}
	s->dumped = true;
	return 0;
}

struct foreach_ctx {
	int (*cb)(const struct local_mac *m, void *ctx);
	void *ctx;
};

static int foreach_one(void *val, void *arg)
{
	const struct foreach_ctx *c = arg;
	const struct lmac *lm = val;

	return c->cb(&lm->m, c->ctx);
}

void learner_foreach(const struct learner *l, int (*cb)(const struct local_mac *m, void *ctx),
		     void *ctx)
{
	struct foreach_ctx c = { .cb = cb, .ctx = ctx };

	macmap_foreach(&l->macs, foreach_one, &c);
}

void learner_stats(const struct learner *l, struct learn_stats *out)
{
	*out = l->st;
	out->macs = l->macs.count;
}

int learner_set_shared(struct learner *l, uint32_t vni, const struct mac *mac, bool shared)
{
	static char marker;
	struct lmac *lm;
	int ret;

	if (!shared) {
		macmap_del(&l->shared, vni, mac->b);
		return 0;
	}
	if (macmap_get(&l->shared, vni, mac->b))
		return 0;
	ret = macmap_put(&l->shared, vni, mac->b, &marker);
	if (ret < 0)
		return ret;
	lm = macmap_get(&l->macs, vni, mac->b);
	if (lm) {
		unpin(l, lm->seg, lm->port, mac, lm->vlan);
		lmac_gone(l, lm);
	}
	return 0;
}
