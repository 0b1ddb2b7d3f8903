/*
 * agent.c - the vtepd role. An agent says Hello (its host id, VTEP and segments), gets its
 * full table (after the restart grace: once every known agent has reported what it learned),
 * reports what it learns on local ports (MAC mobility, RFC 7432 15, in directory.c), and gets
 * deltas (update.c).
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include "fabricd.h"
#include "log.h"

void addr_from(struct ipaddr *a, const ProtobufCBinaryData *b)
{
	memset(a, 0, sizeof(*a));
	a->af = b->len == 4 ? AF_INET : AF_INET6;
	memcpy(a->b, b->data, b->len);
}

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

static void agent_hello(struct session *s, const L2f__Hello *hello)
{
	struct fabricd *fd = s->fd;
	struct ipaddr vtep = { 0 };
	struct host *h;
	int idx = dir_host(&fd->dir, hello->id), err;

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
	if (hello->has_vtep)
		addr_from(&vtep, &hello->vtep);
	if (!ipaddr_eq(&vtep, &h->vtep) || !vnis_equal(h, hello->vnis, hello->n_vnis)) {
		err = dir_host_set_vnis(&fd->dir, (uint16_t)idx, hello->vnis, hello->n_vnis);
		if (err) {
			wire_close(s->w, err == -E2BIG ? "more segments than fabricd keeps per host" :
				   "cannot keep its segments: out of memory");
			return;
		}
		h->vtep = vtep;
		store_save(fd);
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
		addr_from(&ips[i], &l->ips[i]);
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

	if ((b->flags & B_SEEN) || !dir_learned_at(b, c->h)) {
		b->flags &= (uint8_t)~B_SEEN;
		return 0;
	}
	/* learned here and absent from the agent's full report: collected, removed below */
	c->vni[c->n] = b->vni;
	memcpy(c->mac[c->n], b->mac, MAC_LEN);
	return ++c->n == SWEEP_BATCH;
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
}

static void learned_one(struct fabricd *fd, uint16_t h, const L2f__Learned *l, bool full)
{
	uint32_t now_s = (uint32_t)(monotime_now().us / USEC_PER_SEC);
	struct ipaddr ips[DIR_MAX_IPS];
	struct binding *b;
	char mac[MAC_STRLEN];
	size_t nips;

	if (l->has_withdrawn && l->withdrawn) {
		if (dir_unlearn(&fd->dir, h, l->vni, l->mac.data))
			update_del(fd, l->vni, l->mac.data);
		return;
	}
	if (l->n_ips > DIR_MAX_IPS)
		return;
	nips = ips_of(l, ips);
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
	if (env->msg_case == L2F__ENVELOPE__MSG_REPORT)
		agent_report(s, env->report);
	else
		wire_close(s->w, "unexpected message for this role");
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
