/*
 * session.c - fabricd's sessions. vtepd agents say Hello (id, VTEP, segments), get their full
 * table (after the restart grace: once every known agent has reported what it learned),
 * report what they learn, and get deltas; vipd reports HA masters; fabricctl sends API
 * requests. Changes are collected per agent while one incoming message is handled and sent as
 * one Update per agent when it is done.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fabricd.h"
#include "log.h"

#define FULL_CHUNK_BYTES (4u << 20)   /* a full table is cut into Updates of about this size */

/* An Update being built for one agent. */
struct ubuild {
	L2f__Fdb **add, **del;
	L2f__Flood **flood;
	size_t nadd, ndel, nflood, cap_add, cap_del, cap_flood;
	size_t bytes;
};

struct session {
	struct fabricd *fd;
	struct wire *w;
	int host;                      /* vtepd: host index, else -1 */
	bool synced;                   /* vtepd: got its full table, deltas may follow */
	bool reported;                 /* vtepd: its full report arrived */
	struct ubuild pending;
	struct session *next_dirty;
	bool dirty;
};

static struct session *dirty_list;

static void ub_free(struct ubuild *ub)
{
	for (size_t i = 0; i < ub->nadd; i++)
		free(ub->add[i]);
	for (size_t i = 0; i < ub->ndel; i++)
		free(ub->del[i]);
	for (size_t i = 0; i < ub->nflood; i++)
		free(ub->flood[i]);
	free(ub->add);
	free(ub->del);
	free(ub->flood);
	memset(ub, 0, sizeof(*ub));
}

static int grow(void ***arr, size_t n, size_t *cap)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 16;
	void **na = realloc(*arr, ncap * sizeof(*na));

	if (!na)
		return -ENOMEM;
	*arr = na;
	*cap = ncap;
	return 0;
}

/* One allocation holds the Fdb, its arrays and the bytes they point to. */
static L2f__Fdb *fdb_new(uint32_t vni, const uint8_t mac[MAC_LEN], const struct ipaddr *vteps,
			 size_t nvteps, const struct ipaddr *ips, size_t nips, uint64_t seq,
			 bool flood)
{
	size_t n = nvteps + nips;
	L2f__Fdb *f = calloc(1, sizeof(*f) + n * (sizeof(ProtobufCBinaryData) + 16) + MAC_LEN);
	ProtobufCBinaryData *bd;
	uint8_t *raw;

	if (!f)
		return NULL;
	l2f__fdb__init(f);
	bd = (ProtobufCBinaryData *)(f + 1);
	raw = (uint8_t *)(bd + n);
	f->vni = vni;
	memcpy(raw, mac, MAC_LEN);
	f->mac.data = raw;
	f->mac.len = MAC_LEN;
	raw += MAC_LEN;
	f->vteps = bd;
	f->n_vteps = nvteps;
	f->ips = bd + nvteps;
	f->n_ips = nips;
	for (size_t i = 0; i < n; i++) {
		const struct ipaddr *a = i < nvteps ? &vteps[i] : &ips[i - nvteps];

		bd[i].len = ipaddr_len(a);
		bd[i].data = raw;
		memcpy(raw, a->b, bd[i].len);
		raw += 16;
	}
	if (seq) {
		f->has_seq = true;
		f->seq = seq;
	}
	if (flood)
		f->has_flood = f->flood = true;
	return f;
}

static int ub_add(struct ubuild *ub, const struct fdb_view *v)
{
	L2f__Fdb *f;

	if (grow((void ***)&ub->add, ub->nadd, &ub->cap_add) < 0)
		return -ENOMEM;
	f = fdb_new(v->vni, v->mac, v->vteps, v->nvteps, v->ips, v->nips, v->seq, v->flood);
	if (!f)
		return -ENOMEM;
	ub->add[ub->nadd++] = f;
	ub->bytes += 16 + 18 * (v->nvteps + v->nips);
	return 0;
}

static int ub_del(struct ubuild *ub, uint32_t vni, const uint8_t mac[MAC_LEN])
{
	L2f__Fdb *f;

	if (grow((void ***)&ub->del, ub->ndel, &ub->cap_del) < 0)
		return -ENOMEM;
	f = fdb_new(vni, mac, NULL, 0, NULL, 0, 0, false);
	if (!f)
		return -ENOMEM;
	ub->del[ub->ndel++] = f;
	ub->bytes += 16;
	return 0;
}

static int ub_flood(struct ubuild *ub, const struct directory *d, uint32_t vni, uint16_t h)
{
	struct ipaddr vteps[DIR_MAX_HOSTS > 256 ? 256 : DIR_MAX_HOSTS];
	size_t n = dir_flood_for(d, vni, h, vteps, sizeof(vteps) / sizeof(vteps[0]));
	L2f__Flood *fl;
	uint8_t *raw;

	if (grow((void ***)&ub->flood, ub->nflood, &ub->cap_flood) < 0)
		return -ENOMEM;
	fl = calloc(1, sizeof(*fl) + n * (sizeof(ProtobufCBinaryData) + 16));
	if (!fl)
		return -ENOMEM;
	l2f__flood__init(fl);
	fl->vni = vni;
	fl->vteps = (ProtobufCBinaryData *)(fl + 1);
	fl->n_vteps = n;
	raw = (uint8_t *)(fl->vteps + n);
	for (size_t i = 0; i < n; i++) {
		fl->vteps[i].len = ipaddr_len(&vteps[i]);
		fl->vteps[i].data = raw + 16 * i;
		memcpy(raw + 16 * i, vteps[i].b, fl->vteps[i].len);
	}
	ub->flood[ub->nflood++] = fl;
	return 0;
}

static void ub_send(struct session *s, struct ubuild *ub, bool full, bool more)
{
	L2f__Envelope env = L2F__ENVELOPE__INIT;
	L2f__Update u = L2F__UPDATE__INIT;
	int err;

	u.has_full = full;
	u.full = full;
	u.has_more = more;
	u.more = more;
	u.add = ub->add;
	u.n_add = ub->nadd;
	u.del = ub->del;
	u.n_del = ub->ndel;
	u.flood = ub->flood;
	u.n_flood = ub->nflood;
	env.msg_case = L2F__ENVELOPE__MSG_UPDATE;
	env.update = &u;
	err = wire_send(s->w, &env);
	if (err)
		log_warn("%s: update not sent: %s", wire_name(s->w), strerror(-err));
	else
		s->fd->stats.updates_sent++;
	ub_free(ub);
}

static struct session *agent_of(const struct fabricd *fd, uint16_t h)
{
	return fd->dir.hosts[h].session;
}

static void mark_dirty(struct session *s)
{
	if (!s->dirty) {
		s->dirty = true;
		s->next_dirty = dirty_list;
		dirty_list = s;
	}
}

/* Sends what was collected while handling one message: one Update per agent. */
static void flush_dirty(void)
{
	while (dirty_list) {
		struct session *s = dirty_list;

		dirty_list = s->next_dirty;
		s->dirty = false;
		ub_send(s, &s->pending, false, false);
	}
}

/* Sends the pending deltas and writes them to the agents' sockets now, not at the event
 * loop's next turn: the caller is about to block (the store's fsync). */
static void push_now(struct fabricd *fd)
{
	flush_dirty();
	for (uint16_t h = 0; h < fd->dir.nhosts; h++) {
		struct session *s = agent_of(fd, h);

		if (s)
			wire_flush(s->w);
	}
}

/* A binding changed: every synced agent of its segment gets its new view of it. */
static void push_binding(struct fabricd *fd, const struct binding *b)
{
	struct directory *d = &fd->dir;

	for (uint16_t h = 0; h < d->nhosts; h++) {
		struct session *s = agent_of(fd, h);
		struct fdb_view v;

		if (!s || !s->synced || !host_has_vni(&d->hosts[h], b->vni))
			continue;
		dir_fdb_for(d, b, h, &v);
		if (v.nvteps || v.nips)
			ub_add(&s->pending, &v);
		else
			ub_del(&s->pending, b->vni, b->mac);
		mark_dirty(s);
	}
}

static void push_del(struct fabricd *fd, uint32_t vni, const uint8_t mac[MAC_LEN])
{
	struct directory *d = &fd->dir;

	for (uint16_t h = 0; h < d->nhosts; h++) {
		struct session *s = agent_of(fd, h);

		if (s && s->synced && host_has_vni(&d->hosts[h], vni)) {
			ub_del(&s->pending, vni, mac);
			mark_dirty(s);
		}
	}
}

/* Host h's segments or VTEP changed: the other agents of those segments get new flood
 * lists. */
static void push_flood_around(struct fabricd *fd, uint16_t h)
{
	struct directory *d = &fd->dir;
	const struct host *hh = &d->hosts[h];

	for (uint16_t o = 0; o < d->nhosts; o++) {
		struct session *s = agent_of(fd, o);

		if (o == h || !s || !s->synced)
			continue;
		for (uint8_t k = 0; k < hh->nvnis; k++) {
			if (host_has_vni(&d->hosts[o], hh->vnis[k])) {
				ub_flood(&s->pending, d, hh->vnis[k], o);
				mark_dirty(s);
			}
		}
	}
}

struct host_table_ctx {
	const struct directory *d;
	uint16_t h;
	struct ubuild *ub;
	struct session *chunk_to;      /* send full-table chunks to it as ub fills up, or NULL */
	bool first;                    /* the next chunk sent is the first of the table */
};

static int host_table_one(struct binding *b, void *arg)
{
	struct host_table_ctx *c = arg;
	struct fdb_view v;

	if (!host_has_vni(&c->d->hosts[c->h], b->vni))
		return 0;
	dir_fdb_for(c->d, b, c->h, &v);
	if (!v.nvteps && !v.nips)
		return 0;
	ub_add(c->ub, &v);
	if (c->chunk_to && c->ub->bytes >= FULL_CHUNK_BYTES) {
		ub_send(c->chunk_to, c->ub, c->first, true);
		c->first = false;
	}
	return 0;
}

/* Everything host h's agent must hold - flood lists first, then the bindings - added to
 * ub; with chunk_to, the parts that filled ub are sent to it on the way (a full table).
 * Returns whether nothing was sent yet (the rest is then the table's first Update). */
static bool host_table(const struct directory *d, uint16_t h, struct ubuild *ub,
		       struct session *chunk_to)
{
	struct host_table_ctx c = { d, h, ub, chunk_to, true };

	for (uint8_t k = 0; k < d->hosts[h].nvnis; k++)
		ub_flood(ub, d, d->hosts[h].vnis[k], h);
	dir_foreach(d, host_table_one, &c);
	return c.first;
}

struct host_bindings_ctx {
	struct fabricd *fd;
	uint16_t h;
};

static int push_if_on_host(struct binding *b, void *arg)
{
	struct host_bindings_ctx *c = arg;

	for (uint8_t i = 0; i < b->nhosts; i++) {
		if (b->hosts[i] == c->h) {
			push_binding(c->fd, b);
			break;
		}
	}
	return 0;
}

/* Host h's VTEP became known or changed: every binding living there is reached at a new
 * address now, for every other agent. */
static void push_bindings_of_host(struct fabricd *fd, uint16_t h)
{
	struct host_bindings_ctx c = { fd, h };

	dir_foreach(&fd->dir, push_if_on_host, &c);
}

/* The agent's whole table, in chunks. */
static void send_full(struct session *s)
{
	struct ubuild ub = { 0 };
	bool first = host_table(&s->fd->dir, (uint16_t)s->host, &ub, s);

	ub_send(s, &ub, first, false);
	s->synced = true;
	log_info("%s: full table sent (%zu bindings in the directory)", wire_name(s->w),
		 dir_count(&s->fd->dir));
}

void session_grace_over(struct fabricd *fd)
{
	fd->in_grace = false;
	for (uint16_t h = 0; h < fd->dir.nhosts; h++) {
		struct session *s = agent_of(fd, h);

		if (s && !s->synced)
			send_full(s);
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

static void addr_from(struct ipaddr *a, const ProtobufCBinaryData *b)
{
	memset(a, 0, sizeof(*a));
	a->af = b->len == 4 ? AF_INET : AF_INET6;
	memcpy(a->b, b->data, b->len);
}

static void agent_hello(struct session *s, const L2f__Hello *hello)
{
	struct fabricd *fd = s->fd;
	struct host *h;
	struct ipaddr vtep = { 0 };
	bool changed = false;
	int idx = dir_host(&fd->dir, hello->id);

	if (idx < 0) {
		wire_close(s->w, "no room for another host");
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
	if (!ipaddr_eq(&vtep, &h->vtep) || h->nvnis != hello->n_vnis ||
	    memcmp(h->vnis, hello->vnis, hello->n_vnis * sizeof(uint32_t)) != 0) {
		h->vtep = vtep;
		h->nvnis = (uint8_t)(hello->n_vnis < DIR_MAX_VNIS ? hello->n_vnis : DIR_MAX_VNIS);
		memcpy(h->vnis, hello->vnis, h->nvnis * sizeof(uint32_t));
		changed = true;
	}
	log_info("%s: agent up, VTEP %s, %u segment(s)", wire_name(s->w),
		 ipaddr_fmt(&h->vtep, (char[IPADDR_STRLEN]){ 0 }), h->nvnis);
	if (changed) {
		store_save(fd);
		push_flood_around(fd, (uint16_t)idx);
		push_bindings_of_host(fd, (uint16_t)idx);
	}
	if (!fd->in_grace)
		send_full(s);
}

static size_t ips_of(const L2f__Learned *l, struct ipaddr *ips)
{
	size_t n = l->n_ips < DIR_MAX_IPS ? l->n_ips : DIR_MAX_IPS;

	for (size_t i = 0; i < n; i++)
		addr_from(&ips[i], &l->ips[i]);
	return n;
}

#define B_SEEN (1 << 7)               /* transient: named by the full report being handled */

struct sweep_ctx {
	struct fabricd *fd;
	uint16_t h;
	uint32_t vni[64];
	uint8_t mac[64][MAC_LEN];
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
	return ++c->n == 64;
}

/* After a full report, what the agent learned before and no longer has goes. */
static void sweep_unreported(struct fabricd *fd, uint16_t h)
{
	struct sweep_ctx c = { .fd = fd, .h = h };

	do {
		c.n = 0;
		dir_foreach(&fd->dir, sweep_mark, &c);
		for (size_t i = 0; i < c.n; i++) {
			struct binding *b;

			if (dir_unlearn(&fd->dir, h, c.vni[i], c.mac[i])) {
				push_del(fd, c.vni[i], c.mac[i]);
			} else if ((b = dir_find(&fd->dir, c.vni[i], c.mac[i]))) {
				push_binding(fd, b);
			}
		}
	} while (c.n == 64);
}

static void agent_report(struct session *s, const L2f__Report *r)
{
	struct fabricd *fd = s->fd;
	uint32_t now_s = (uint32_t)(monotime_now().us / USEC_PER_SEC);
	uint16_t h = (uint16_t)s->host;

	fd->stats.reports++;
	for (size_t i = 0; i < r->n_entries; i++) {
		const L2f__Learned *l = r->entries[i];
		struct ipaddr ips[DIR_MAX_IPS];
		size_t nips = ips_of(l, ips);
		struct binding *b;
		char mac[MAC_STRLEN];

		if (l->has_withdrawn && l->withdrawn) {
			if (dir_unlearn(&fd->dir, h, l->vni, l->mac.data))
				push_del(fd, l->vni, l->mac.data);
			continue;
		}
		switch (dir_learn(&fd->dir, h, l->vni, l->mac.data, ips, nips,
				  l->has_seq ? l->seq : 0, now_s, &b)) {
		case LEARN_NEW:
			fd->stats.learned_new++;
			push_binding(fd, b);
			break;
		case LEARN_MOVED:
			fd->stats.learned_moved++;
			log_info("vni %u %s moved to %s (seq %llu)", l->vni,
				 mac_fmt((const struct mac *)l->mac.data, mac),
				 fd->dir.hosts[h].id, (unsigned long long)b->seq);
			push_binding(fd, b);
			break;
		case LEARN_UPDATED:
			push_binding(fd, b);
			break;
		case LEARN_STALE:
			fd->stats.learned_stale++;
			break;
		case LEARN_DUPLICATE:
			fd->stats.learned_duplicate++;
			log_warn("vni %u %s: moved more than %u times in %u s, frozen as a duplicate",
				 l->vni, mac_fmt((const struct mac *)l->mac.data, mac),
				 fd->dir.dup_moves, fd->dir.dup_window_s);
			break;
		case LEARN_SAME:
		case LEARN_FROZEN:
		case LEARN_HA_IGNORED:
			break;
		}
		if (b && r->has_full && r->full)
			b->flags |= B_SEEN;
	}
	if (!(r->has_full && r->full))
		return;
	sweep_unreported(fd, h);
	s->reported = true;
	if (fd->in_grace && all_known_hosts_reported(fd)) {
		log_info("restart grace over: every known agent reported");
		event_del(fd->ev_grace);
		session_grace_over(fd);
	}
}

static int master_change(struct fabricd *fd, const L2f__Master *m, const char **why)
{
	struct binding *b = dir_find(&fd->dir, m->vni, m->mac.data);
	int h = dir_host_find(&fd->dir, m->host), ret;

	if (!b || !(b->flags & B_API)) {
		*why = "no such port";
		return -ENOENT;
	}
	if (h < 0) {
		*why = "unknown host";
		return -ENOENT;
	}
	ret = dir_set_master(&fd->dir, b, (uint16_t)h);
	if (ret < 0) {
		*why = "not an HA port of that host";
		return ret;
	}
	if (ret == 0) {
		log_info("vni %u HA port %s: master now %s", b->vni,
			 b->name ? b->name : "-", fd->dir.hosts[h].id);
		push_binding(fd, b);
	}
	return 0;
}

/* --- API -------------------------------------------------------------------------------- */

static L2f__Port *port_msg(const struct directory *d, const struct binding *b)
{
	L2f__Port *p = calloc(1, sizeof(*p) + b->nips * sizeof(ProtobufCBinaryData) +
				      b->nhosts * sizeof(char *) + MAC_LEN);

	if (!p)
		return NULL;
	l2f__port__init(p);
	p->vni = b->vni;
	p->ips = (ProtobufCBinaryData *)(p + 1);
	p->hosts = (char **)(p->ips + b->nips);
	p->mac.data = (uint8_t *)(p->hosts + b->nhosts);
	memcpy(p->mac.data, b->mac, MAC_LEN);
	p->mac.len = MAC_LEN;
	p->n_ips = b->nips;
	for (size_t i = 0; i < b->nips; i++) {
		p->ips[i].data = (uint8_t *)b->ips[i].b;
		p->ips[i].len = ipaddr_len(&b->ips[i]);
	}
	p->n_hosts = b->nhosts;
	for (size_t i = 0; i < b->nhosts; i++)
		p->hosts[i] = (char *)d->hosts[b->hosts[i]].id;
	p->name = b->name;
	if (b->nhosts > 1) {
		p->has_mode = true;
		p->mode = b->flags & B_HA_FLOOD ? L2F__HA_MODE__HA_FLOOD : L2F__HA_MODE__HA_TRACK;
		if (b->master != DIR_NO_HOST)
			p->master = (char *)d->hosts[b->master].id;
	}
	p->has_seq = p->has_duplicate = p->has_learned = true;
	p->seq = b->seq;
	p->duplicate = !!(b->flags & B_DUPLICATE);
	p->learned = !(b->flags & B_API);
	return p;
}

struct list_ctx {
	const struct directory *d;
	L2f__Reply *r;
	size_t cap;
	int err;
};

static int list_one(struct binding *b, void *arg)
{
	struct list_ctx *c = arg;
	L2f__Port *p;

	if (grow((void ***)&c->r->ports, c->r->n_ports, &c->cap) < 0 || !(p = port_msg(c->d, b)))
		return c->err = -ENOMEM;
	c->r->ports[c->r->n_ports++] = p;
	return 0;
}

static void reply_free(L2f__Reply *r)
{
	for (size_t i = 0; i < r->n_ports; i++)
		free(r->ports[i]);
	free(r->ports);
	for (size_t i = 0; i < r->n_hosts; i++)
		free(r->hosts[i]);
	free(r->hosts);
	for (size_t i = 0; i < r->n_fdb; i++)
		free(r->fdb[i]);
	free(r->fdb);
	for (size_t i = 0; i < r->n_flood; i++)
		free(r->flood[i]);
	free(r->flood);
}

static int api_port_add(struct fabricd *fd, const L2f__Port *p, L2f__Reply *r, const char **why)
{
	struct ipaddr ips[DIR_MAX_IPS];
	uint16_t hosts[DIR_MAX_PORT_HOSTS];
	struct binding *b;
	int err;

	if (p->n_hosts < 1 || p->n_hosts > DIR_MAX_PORT_HOSTS) {
		*why = "a port needs 1 to 8 hosts";
		return -EINVAL;
	}
	if (p->n_ips > DIR_MAX_IPS) {
		*why = "a port has at most 16 addresses";
		return -EINVAL;
	}
	for (size_t i = 0; i < p->n_ips; i++)
		addr_from(&ips[i], &p->ips[i]);
	for (size_t i = 0; i < p->n_hosts; i++) {
		int h = dir_host(&fd->dir, p->hosts[i]);

		if (h < 0) {
			*why = "no room for another host";
			return h;
		}
		hosts[i] = (uint16_t)h;
	}
	err = dir_port_set(&fd->dir, p->vni, p->mac.data, ips, p->n_ips, hosts, p->n_hosts,
			   p->has_mode && p->mode == L2F__HA_MODE__HA_FLOOD, p->name, &b);
	if (err) {
		*why = "cannot store the port";
		return err;
	}
	push_binding(fd, b);
	/* The agents first: the store's write (fsync) must not delay forwarding. The reply
	 * still waits for it, so a reply means the port is on disk. */
	push_now(fd);
	store_save(fd);
	r->ports = calloc(1, sizeof(*r->ports));
	if (r->ports && (r->ports[0] = port_msg(&fd->dir, b)))
		r->n_ports = 1;
	return 0;
}

/* The port goes from the API. A MAC its host's agent reported stays, learned: that agent
 * will not report it again until it changes, and the other hosts must keep reaching it. */
static int api_port_del(struct fabricd *fd, const L2f__Port *p, const char **why)
{
	struct binding *b;
	char mac[MAC_STRLEN];
	int ret = dir_port_del(&fd->dir, p->vni, p->mac.data, &b);

	switch (ret) {
	case -ENOENT:
		*why = "no such port";
		return ret;
	case -EINVAL:
		*why = "not an API port: learned from its host's agent, which reports when it goes";
		return ret;
	case 0:
		push_del(fd, p->vni, p->mac.data);
		break;
	default:
		log_info("vni %u %s: API port deleted, still learned on %s", p->vni,
			 mac_fmt((const struct mac *)p->mac.data, mac),
			 fd->dir.hosts[b->hosts[0]].id);
		push_binding(fd, b);
		break;
	}
	push_now(fd);                  /* the agents before the store, as for port add */
	store_save(fd);
	return 0;
}

static int api_request(struct fabricd *fd, const L2f__Request *q, L2f__Reply *r, const char **why)
{
	struct directory *d = &fd->dir;

	fd->stats.api_requests++;
	switch (q->op_case) {
	case L2F__REQUEST__OP_PORT_ADD:
		return api_port_add(fd, q->port_add, r, why);
	case L2F__REQUEST__OP_PORT_DEL:
		return api_port_del(fd, q->port_del, why);
	case L2F__REQUEST__OP_PORT_LIST: {
		struct list_ctx c = { .d = d, .r = r };

		dir_foreach(d, list_one, &c);
		if (c.err)
			*why = "out of memory";
		return c.err;
	}
	case L2F__REQUEST__OP_PORT_MASTER:
		return master_change(fd, q->port_master, why);
	case L2F__REQUEST__OP_HOST_LIST:
		r->hosts = calloc(d->nhosts ? d->nhosts : 1, sizeof(*r->hosts));
		for (uint16_t i = 0; r->hosts && i < d->nhosts; i++) {
			const struct host *h = &d->hosts[i];
			L2f__Host *m = calloc(1, sizeof(*m) + 16);

			if (!m)
				break;
			l2f__host__init(m);
			m->id = (char *)h->id;
			if (h->vtep.af) {
				m->has_vtep = true;
				m->vtep.data = (uint8_t *)(m + 1);
				m->vtep.len = ipaddr_len(&h->vtep);
				memcpy(m->vtep.data, h->vtep.b, m->vtep.len);
			}
			m->has_connected = true;
			m->connected = h->session != NULL;
			m->vnis = (uint32_t *)h->vnis;
			m->n_vnis = h->nvnis;
			if (h->session) {
				m->has_connected_for_ms = true;
				m->connected_for_ms = (uint64_t)monotime_diff_us(monotime_now(),
										 h->connected_at) / 1000;
			}
			r->hosts[r->n_hosts++] = m;
		}
		return 0;
	case L2F__REQUEST__OP_FDB_OF_HOST: {
		int h = dir_host_find(d, q->fdb_of_host);
		struct ubuild ub = { 0 };

		if (h < 0) {
			*why = "unknown host";
			return -ENOENT;
		}
		host_table(d, (uint16_t)h, &ub, NULL);
		r->fdb = ub.add;
		r->n_fdb = ub.nadd;
		r->flood = ub.flood;
		r->n_flood = ub.nflood;
		return 0;
	}
	case L2F__REQUEST__OP__NOT_SET:
	default:
		*why = "empty request";
		return -EINVAL;
	}
}

static void api_message(struct session *s, const L2f__Envelope *env)
{
	L2f__Envelope out = L2F__ENVELOPE__INIT;
	L2f__Reply r = L2F__REPLY__INIT;
	const char *why = NULL;

	if (env->msg_case != L2F__ENVELOPE__MSG_REQUEST) {
		wire_close(s->w, "fabricctl may send requests only");
		return;
	}
	if (api_request(s->fd, env->request, &r, &why) < 0)
		r.error = (char *)(why ? why : "failed");
	out.msg_case = L2F__ENVELOPE__MSG_REPLY;
	out.reply = &r;
	wire_send(s->w, &out);
	reply_free(&r);
}

/* --- session plumbing --------------------------------------------------------------------- */

static void on_hello(struct wire *w, void *ctx)
{
	struct session *s = ctx;
	const L2f__Hello *hello = wire_peer(w);

	switch (hello->role) {
	case L2F__ROLE__ROLE_VTEPD:
		agent_hello(s, hello);
		break;
	case L2F__ROLE__ROLE_FABRICCTL:
	case L2F__ROLE__ROLE_VIPD:
		break;
	default:
		wire_close(w, "role not served here");
		return;
	}
	flush_dirty();
}

static void on_msg(struct wire *w, const L2f__Envelope *env, void *ctx)
{
	struct session *s = ctx;
	const L2f__Hello *hello = wire_peer(w);
	const char *why = NULL;

	if (hello->role == L2F__ROLE__ROLE_FABRICCTL) {
		api_message(s, env);
	} else if (env->msg_case == L2F__ENVELOPE__MSG_REPORT && s->host >= 0) {
		agent_report(s, env->report);
	} else if (env->msg_case == L2F__ENVELOPE__MSG_MASTER) {
		if (master_change(s->fd, env->master, &why) < 0)
			log_warn("%s: master report refused: %s", wire_name(w), why);
	} else {
		wire_close(w, "unexpected message for this role");
		return;
	}
	flush_dirty();
}

static void on_close(struct wire *w, const char *why, void *ctx)
{
	struct session *s = ctx;
	struct session **pp;

	const L2f__Hello *peer = wire_peer(w);

	/* A CLI session ends after every command: not worth an info line. */
	log_msg(peer && peer->role == L2F__ROLE__ROLE_FABRICCTL ? LOG_LVL_DEBUG : LOG_LVL_INFO,
		"%s: session closed: %s", wire_name(w), why);
	if (s->host >= 0 && s->fd->dir.hosts[s->host].session == s)
		s->fd->dir.hosts[s->host].session = NULL;
	for (pp = &dirty_list; *pp; pp = &(*pp)->next_dirty) {
		if (*pp == s) {
			*pp = s->next_dirty;
			break;
		}
	}
	ub_free(&s->pending);
	free(s);
}

static const struct wire_ops session_ops = {
	.on_hello = on_hello,
	.on_msg = on_msg,
	.on_close = on_close,
};

void session_accept(int sock, const char *peer, void *ctx)
{
	struct fabricd *fd = ctx;
	struct session *s = calloc(1, sizeof(*s));
	L2f__Hello hello = L2F__HELLO__INIT;

	if (!s) {
		close(sock);
		return;
	}
	s->fd = fd;
	s->host = -1;
	hello.version = PROTO_VERSION;
	hello.role = L2F__ROLE__ROLE_FABRICD;
	hello.id = fd->id;
	s->w = wire_new(fd->base, sock, &hello, &session_ops, s);
	if (!s->w) {
		free(s);
		return;
	}
	fd->stats.sessions_opened++;
}
