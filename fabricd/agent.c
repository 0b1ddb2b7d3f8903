/*
 * agent.c - the vtepd role. An agent says Hello (its host id, VTEP and segments), gets its
 * full table (after the restart grace: once every known agent has reported what it learned),
 * reports what it learns on local ports (MAC mobility, RFC 7432 15, in directory.c), and gets
 * deltas (update.c).
 *
 * Authorization: over TLS the host id is the certificate's (wire.c checked the Hello against
 * it), and the VTEP it announces must be one of its certificate's IP SANs and no other
 * connected host's: else the session is closed. A report can only place a MAC at the
 * reporter's own VTEP; an entry in a segment it did not announce, with a MAC no station has
 * or an address no host has, or withdrawing a MAC it does not hold, is refused and counted
 * per reason, and the session goes on (docs/protocol.md).
 *
 * Hosts learned from Hellos are forgotten (expiry) when they have had no session for
 * lim.host_expiry_s and no API port names them; what their agent had learned goes with them.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include "fabricd.h"
#include "log.h"

void agent_grace_over(struct fabricd *fd)
{
	fd->in_grace = false;
	for (uint16_t h = 0; h < fd->dir.nhosts; h++) {
		struct session *s = fd->dir.hosts[h].session;

		if (s && s->state == SESS_HELD)
			update_send_full(s);
	}
}

/* Every known host's agent is back and has reported what it learned: a full table sent now
 * holds the learned bindings as well as the API's, and takes nothing away an agent holds. */
static bool all_known_hosts_reported(const struct fabricd *fd)
{
	for (uint16_t h = 0; h < fd->dir.nhosts; h++) {
		const struct session *s = fd->dir.hosts[h].session;

		if (fd->dir.hosts[h].vtep.af && (!s || !s->reported))
			return false;
	}
	return true;
}

static bool vnis_equal(const struct host *h, const uint32_t *vnis, size_t n)
{
	if (h->nvnis != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!host_has_vni(h, vnis[i]))
			return false;
	return true;
}

/* Over TLS: the VTEP must be one the certificate names, and not another live host's. */
static bool vtep_allowed(struct session *s, const L2f__Hello *hello, const struct ipaddr *vtep)
{
	const struct wire_ident *id = wire_ident(s->w);
	struct fabricd *fd = s->fd;
	char a[IPADDR_STRLEN];
	bool named = false;

	if (!vtep->af)
		return true;
	for (size_t i = 0; id && i < id->nips; i++)
		named |= ipaddr_eq(&id->ips[i], vtep);
	if (id && !named) {
		fabricd_refuse(fd, REFUSE_VTEP_CERT, "%s: announces VTEP %s, which its certificate "
			       "does not name: closed", wire_name(s->w), ipaddr_fmt(vtep, a));
		wire_close(s->w, "announces a VTEP its certificate does not name");
		return false;
	}
	for (uint16_t o = 0; o < fd->dir.nhosts; o++) {
		const struct host *oh = &fd->dir.hosts[o];

		if (oh->session && ipaddr_eq(&oh->vtep, vtep) && strcmp(oh->id, hello->id) != 0) {
			fabricd_refuse(fd, REFUSE_VTEP_TAKEN, "%s: announces VTEP %s, which is %s's: "
				       "closed", wire_name(s->w), ipaddr_fmt(vtep, a), oh->id);
			wire_close(s->w, "announces another connected host's VTEP");
			return false;
		}
	}
	return true;
}

static void agent_hello(struct session *s, const L2f__Hello *hello)
{
	struct fabricd *fd = s->fd;
	struct ipaddr vtep = { 0 };
	struct host *h;
	int idx, err;

	if (hello->has_vtep)
		wire_ipaddr(&vtep, &hello->vtep);
	if (!vtep_allowed(s, hello, &vtep))
		return;
	idx = dir_host(&fd->dir, hello->id);
	if (idx < 0) {
		wire_close(s->w, idx == -ENOSPC ? "no room for another host" : "out of memory");
		return;
	}
	h = &fd->dir.hosts[idx];
	if (h->session) {
		/* The same agent reconnected before its old session timed out. */
		wire_close(((struct session *)h->session)->w, "replaced by a new session");
	}
	s->host = idx;
	h->session = s;
	h->connected_at = monotime_now();
	if (!ipaddr_eq(&vtep, &h->vtep) || !vnis_equal(h, hello->vnis, hello->n_vnis)) {
		err = dir_host_set_vnis(&fd->dir, (uint16_t)idx, hello->vnis, hello->n_vnis);
		if (err) {
			wire_close(s->w, err == -E2BIG ? "more segments than fabricd keeps per host" :
				   "cannot keep its segments: out of memory");
			return;
		}
		h->vtep = vtep;
		/* not acknowledged to anyone: a failed write only costs, after a restart of
		 * fabricd, the host's place in flood lists until its agent says Hello again */
		store_host_set(fd, (uint16_t)idx);
		update_host(fd, (uint16_t)idx);
	}
	log_info("%s: agent up, VTEP %s, %u segment(s)", wire_name(s->w),
		 ipaddr_fmt(&h->vtep, (char[IPADDR_STRLEN]){ 0 }), h->nvnis);
	s->state = SESS_HELD;
	if (!fd->in_grace)
		update_send_full(s);
}

static size_t ips_of(const L2f__Learned *l, struct ipaddr *ips)
{
	for (size_t i = 0; i < l->n_ips; i++)
		wire_ipaddr(&ips[i], &l->ips[i]);
	return l->n_ips;
}

#define B_SEEN (1 << 7)               /* transient: named by the full report being handled */
#define SWEEP_BATCH 64

struct sweep_ctx {
	uint16_t h;
	uint32_t vni[SWEEP_BATCH];
	uint8_t mac[SWEEP_BATCH][MAC_LEN];
	size_t n;
};

static int sweep_mark(struct binding *b, void *arg)
{
	struct sweep_ctx *c = arg;

	/* B_SEEN stays until the sweep is over: each pass starts again from the first slot */
	if ((b->flags & B_SEEN) || !dir_learned_at(b, c->h))
		return 0;
	/* learned here and absent from the agent's full report: collected, removed below */
	c->vni[c->n] = b->vni;
	memcpy(c->mac[c->n], b->mac, MAC_LEN);
	return ++c->n == SWEEP_BATCH;
}

static int unmark_seen(struct binding *b, void *arg)
{
	b->flags &= (uint8_t)~B_SEEN;
	return 0;
}

/* After a full report, what the agent learned before and no longer has goes. */
static void sweep_unreported(struct fabricd *fd, uint16_t h)
{
	struct sweep_ctx c = { .h = h };

	do {
		c.n = 0;
		dir_foreach(&fd->dir, sweep_mark, &c);
		for (size_t i = 0; i < c.n; i++) {
			struct binding *b;

			if (dir_unlearn(&fd->dir, h, c.vni[i], c.mac[i]))
				update_del(fd, c.vni[i], c.mac[i]);
			else if ((b = dir_find(&fd->dir, c.vni[i], c.mac[i])))
				update_binding(fd, b);
		}
	} while (c.n == SWEEP_BATCH);
	dir_foreach(&fd->dir, unmark_seen, NULL);
}

/* Whether the agent on h may report l (see the top of the file); refusals counted. */
static bool learned_allowed(struct fabricd *fd, uint16_t h, const L2f__Learned *l,
			    const struct ipaddr *ips, size_t nips)
{
	const struct host *hh = &fd->dir.hosts[h];
	char mac[MAC_STRLEN], a[IPADDR_STRLEN];
	const char *why;

	if (!host_has_vni(hh, l->vni)) {
		fabricd_refuse(fd, REFUSE_VNI, "%s: reported %s in segment %u, which it does not "
			       "serve: refused", hh->id, mac_fmt((const struct mac *)l->mac.data, mac),
			       l->vni);
		return false;
	}
	why = mac_port_why_not((const struct mac *)l->mac.data);
	if (why) {
		fabricd_refuse(fd, REFUSE_MAC, "%s: reported %s in segment %u: %s: refused", hh->id,
			       mac_fmt((const struct mac *)l->mac.data, mac), l->vni, why);
		return false;
	}
	for (size_t i = 0; i < nips; i++) {
		why = ipaddr_host_why_not(&ips[i]);
		if (why) {
			fabricd_refuse(fd, REFUSE_IP, "%s: reported %s with %s, %s: refused", hh->id,
				       mac_fmt((const struct mac *)l->mac.data, mac),
				       ipaddr_fmt(&ips[i], a), why);
			return false;
		}
	}
	return true;
}

static void learned_one(struct fabricd *fd, uint16_t h, const L2f__Learned *l, bool full)
{
	uint32_t now_s = (uint32_t)(monotime_now().us / USEC_PER_SEC);
	struct ipaddr ips[WIRE_MAX_IPS];
	struct binding *b;
	char mac[MAC_STRLEN];
	size_t nips;

	if (l->has_withdrawn && l->withdrawn) {
		if (dir_unlearn(&fd->dir, h, l->vni, l->mac.data))
			update_del(fd, l->vni, l->mac.data);
		else if (!(b = dir_find(&fd->dir, l->vni, l->mac.data)) || !(b->flags & B_API) ||
			 b->hosts[0] != h)
			/* a MAC that moved on meanwhile is normal: counted, not logged loudly */
			fd->stats.refused[REFUSE_WITHDRAW]++;
		return;
	}
	nips = ips_of(l, ips);
	if (!learned_allowed(fd, h, l, ips, nips))
		return;
	b = dir_find(&fd->dir, l->vni, l->mac.data);
	if ((!b || !dir_learned_at(b, h)) && fd->dir.hosts[h].nlearned >= fd->lim.max_learned) {
		fabricd_refuse(fd, REFUSE_LEARNED_CAP, "%s: holds %u bindings, the most allowed: "
			       "%s refused", fd->dir.hosts[h].id, fd->dir.hosts[h].nlearned,
			       mac_fmt((const struct mac *)l->mac.data, mac));
		return;
	}
	switch (dir_learn(&fd->dir, h, l->vni, l->mac.data, ips, nips, l->has_seq ? l->seq : 0,
			  now_s, &b)) {
	case LEARN_NEW:
		fd->stats.learned_new++;
		update_binding(fd, b);
		break;
	case LEARN_MOVED:
		fd->stats.learned_moved++;
		log_info("vni %u %s moved to %s (seq %llu)", l->vni,
			 mac_fmt((const struct mac *)l->mac.data, mac), fd->dir.hosts[h].id,
			 (unsigned long long)b->seq);
		update_binding(fd, b);
		break;
	case LEARN_UPDATED:
		update_binding(fd, b);
		break;
	case LEARN_STALE:
		fd->stats.learned_stale++;
		break;
	case LEARN_DUPLICATE:
		fd->stats.learned_duplicate++;
		log_warn("vni %u %s: moved more than %u times in %u s, frozen as a duplicate",
			 l->vni, mac_fmt((const struct mac *)l->mac.data, mac), fd->dir.dup_moves,
			 fd->dir.dup_window_s);
		break;
	case LEARN_SAME:
	case LEARN_FROZEN:
	case LEARN_HA_IGNORED:
		break;
	}
	if (b && full)
		b->flags |= B_SEEN;
}

static void agent_report(struct session *s, const L2f__Report *r)
{
	struct fabricd *fd = s->fd;
	uint16_t h = (uint16_t)s->host;
	bool full = r->has_full && r->full;

	fd->stats.reports++;
	for (size_t i = 0; i < r->n_entries; i++)
		learned_one(fd, h, r->entries[i], full);
	if (!full)
		return;
	sweep_unreported(fd, h);
	s->reported = true;
	if (fd->in_grace && all_known_hosts_reported(fd)) {
		log_info("restart grace over: every known agent reported");
		event_del(fd->ev_grace);
		agent_grace_over(fd);
	}
}

static void agent_msg(struct session *s, const L2f__Envelope *env)
{
	if (env->msg_case == L2F__ENVELOPE__MSG_REPORT) {
		agent_report(s, env->report);
		return;
	}
	fabricd_refuse(s->fd, REFUSE_UNEXPECTED, "%s: a message vtepd does not send: closed",
		       wire_name(s->w));
	wire_close(s->w, "unexpected message for this role");
}

/* --- expiry ------------------------------------------------------------------------------ */

struct expiry_ctx {
	struct fabricd *fd;
	uint8_t *doomed;               /* per host index: 1 a candidate, 0 kept */
	uint32_t vni[64];
	uint8_t mac[64][MAC_LEN];
	uint16_t host[64];
	size_t n;
};

/* An API port keeps its hosts; what a candidate's agent learned is collected to go. */
static int expiry_scan(struct binding *b, void *arg)
{
	struct expiry_ctx *c = arg;

	if (b->flags & B_API)
		for (uint8_t i = 0; i < b->nhosts; i++)
			c->doomed[b->hosts[i]] = 0;
	return 0;
}

static int expiry_collect(struct binding *b, void *arg)
{
	struct expiry_ctx *c = arg;

	if (!(b->flags & B_LEARNED) || !c->doomed[b->lhost])
		return 0;
	c->vni[c->n] = b->vni;
	memcpy(c->mac[c->n], b->mac, MAC_LEN);
	c->host[c->n] = b->lhost;
	return ++c->n == 64;
}

static void expire_host(struct fabricd *fd, uint16_t h)
{
	struct host *hh = &fd->dir.hosts[h];
	char id[DIR_HOST_ID_MAX + 1];

	snprintf(id, sizeof(id), "%s", hh->id);
	/* out of every flood list first: the other agents of its segments get lists built
	 * without it, since it has no VTEP any more */
	memset(&hh->vtep, 0, sizeof(hh->vtep));
	update_host(fd, h);
	dir_host_set_vnis(&fd->dir, h, NULL, 0);
	store_host_del(fd, id);
	dir_host_del(&fd->dir, h);
	fd->stats.hosts_expired++;
	log_info("host %s: no session for %u s and no API port: forgotten", id,
		 fd->lim.host_expiry_s);
}

static void expiry_sweep(evutil_socket_t sock, short what, void *arg)
{
	struct fabricd *fd = arg;
	struct directory *d = &fd->dir;
	struct expiry_ctx c = { .fd = fd };
	struct monotime now = monotime_now();
	int64_t after_us = (int64_t)fd->lim.host_expiry_s * USEC_PER_SEC;
	bool any = false;

	c.doomed = calloc(d->nhosts ? d->nhosts : 1, 1);
	if (!c.doomed)
		return;
	for (uint16_t h = 0; h < d->nhosts; h++) {
		struct host *hh = &d->hosts[h];

		if (!hh->id[0] || hh->session)
			continue;
		if (!hh->gone_at.us)
			hh->gone_at = now;     /* loaded, or named by the API only: from now */
		else if (monotime_diff_us(now, hh->gone_at) >= after_us)
			any = (c.doomed[h] = 1);
	}
	if (any)
		dir_foreach(d, expiry_scan, &c);
	do {
		c.n = 0;
		if (any)
			dir_foreach(d, expiry_collect, &c);
		for (size_t i = 0; i < c.n; i++)
			if (dir_unlearn(d, c.host[i], c.vni[i], c.mac[i]))
				update_del(fd, c.vni[i], c.mac[i]);
	} while (c.n == 64);
	for (uint16_t h = 0; any && h < d->nhosts; h++)
		if (c.doomed[h])
			expire_host(fd, h);
	free(c.doomed);
	update_flush(fd);
}

void agent_expiry_start(struct fabricd *fd)
{
	uint32_t every_s = fd->lim.host_expiry_s / 4;
	struct timeval tv;

	if (!fd->lim.host_expiry_s)
		return;
	every_s = every_s < 1 ? 1 : every_s > 60 ? 60 : every_s;
	tv.tv_sec = every_s;
	tv.tv_usec = 0;
	fd->ev_expiry = event_new(fd->base, -1, EV_PERSIST, expiry_sweep, fd);
	if (fd->ev_expiry)
		event_add(fd->ev_expiry, &tv);
}

static void agent_close(struct session *s)
{
	struct host *h = &s->fd->dir.hosts[s->host];

	if (h->session == s) {
		h->session = NULL;
		h->gone_at = monotime_now();
	}
}

/* A full report of a busy host is large, and so is the full table it gets back. */
const struct role agent_role = {
	.role = L2F__ROLE__ROLE_VTEPD,
	.name = "vtepd",
	.max_frame = WIRE_MAX_FRAME,
	.out_hwm = 64u << 20,
	.stuck_ms = 30000,
	.on_hello = agent_hello,
	.on_msg = agent_msg,
	.on_close = agent_close,
};
