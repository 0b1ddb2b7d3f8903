/*
 * update.c - what agents (vtepd) are told: the Update builder (struct ubuild: Fdb, deletions
 * and flood lists, each Fdb in one allocation) and the fan-out of directory changes to every
 * agent that serves the binding's segment. Changes are collected per agent while one incoming
 * message is handled and sent as one Update per agent by update_flush. A full table (after a
 * (re)connect) is cut into Updates of about FULL_CHUNK_BYTES.
 *
 * Errors are not dropped: an Update that cannot be built (no memory) or queued marks the
 * agent, which is then closed; it reconnects and gets a full table, so what it holds never
 * silently falls behind the directory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "fabricd.h"
#include "log.h"

#define FULL_CHUNK_BYTES (4u << 20)   /* a full table is cut into Updates of about this size */

void ub_free(struct ubuild *ub)
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

/* Room for one more pointer in *arr (n used of *cap): 0 or -ENOMEM. */
static int grow(void ***arr, size_t n, size_t *cap)
{
	size_t ncap;
	void **na;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	na = realloc(*arr, ncap * sizeof(*na));
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

/* Appends f (NULL: allocation failed) to one of ub's lists; errors stick in ub->err. */
static void ub_push(struct ubuild *ub, L2f__Fdb ***arr, size_t *n, size_t *cap, L2f__Fdb *f,
		    size_t bytes)
{
	if (!f || grow((void ***)arr, *n, cap) < 0) {
		free(f);
		ub->err = -ENOMEM;
		return;
	}
	(*arr)[(*n)++] = f;
	ub->bytes += bytes;
}

static void ub_add(struct ubuild *ub, const struct fdb_view *v)
{
	ub_push(ub, &ub->add, &ub->nadd, &ub->cap_add,
		fdb_new(v->vni, v->mac, v->vteps, v->nvteps, v->ips, v->nips, v->seq, v->flood),
		16 + 18 * (v->nvteps + v->nips));
}

static void ub_del(struct ubuild *ub, uint32_t vni, const uint8_t mac[MAC_LEN])
{
	ub_push(ub, &ub->del, &ub->ndel, &ub->cap_del, fdb_new(vni, mac, NULL, 0, NULL, 0, 0, false),
		16);
}

/* The flood list of vni for host h: every other host of the segment with a VTEP. */
static void ub_flood(struct ubuild *ub, const struct directory *d, uint32_t vni, uint16_t h)
{
	size_t n = 0;
	L2f__Flood *fl;
	uint8_t *raw;

	for (uint16_t o = 0; o < d->nhosts; o++)
		n += o != h && d->hosts[o].vtep.af && host_has_vni(&d->hosts[o], vni);
	fl = calloc(1, sizeof(*fl) + n * (sizeof(ProtobufCBinaryData) + 16));
	if (!fl || grow((void ***)&ub->flood, ub->nflood, &ub->cap_flood) < 0) {
		free(fl);
		ub->err = -ENOMEM;
		return;
	}
	l2f__flood__init(fl);
	fl->vni = vni;
	fl->vteps = (ProtobufCBinaryData *)(fl + 1);
	raw = (uint8_t *)(fl->vteps + n);
	for (uint16_t o = 0; o < d->nhosts && fl->n_vteps < n; o++) {
		const struct host *oh = &d->hosts[o];
		ProtobufCBinaryData *v = &fl->vteps[fl->n_vteps];

		if (o == h || !oh->vtep.af || !host_has_vni(oh, vni))
			continue;
		v->len = ipaddr_len(&oh->vtep);
		v->data = raw + 16 * fl->n_vteps++;
		memcpy(v->data, oh->vtep.b, v->len);
	}
	ub->flood[ub->nflood++] = fl;
	ub->bytes += 8 + 18 * n;
}

/* Sends ub to s and empties it. A failure closes s (it will resync): false then. */
static bool ub_send(struct session *s, struct ubuild *ub, bool full, bool more)
{
	L2f__Envelope env = L2F__ENVELOPE__INIT;
	L2f__Update u = L2F__UPDATE__INIT;
	int err = ub->err;

	if (s->closed) {
		ub_free(ub);
		return false;
	}
	if (!err) {
		u.has_full = u.full = full;
		u.has_more = u.more = more;
		u.add = ub->add;
		u.n_add = ub->nadd;
		u.del = ub->del;
		u.n_del = ub->ndel;
		u.flood = ub->flood;
		u.n_flood = ub->nflood;
		env.msg_case = L2F__ENVELOPE__MSG_UPDATE;
		env.update = &u;
		err = wire_send(s->w, &env);
	}
	ub_free(ub);
	if (err) {
		static struct ratelimit rl = RATELIMIT_INIT(10000, 5);

		s->fd->stats.updates_failed++;
		log_rl(&rl, LOG_LVL_WARN, "%s: update not sent (%s): closing it so that it resyncs",
		       wire_name(s->w), strerror(-err));
		wire_close(s->w, "an update could not be sent: closed to resync");
		return false;
	}
	s->fd->stats.updates_sent++;
	return true;
}

static struct session *agent_of(const struct fabricd *fd, uint16_t h)
{
	return fd->dir.hosts[h].session;
}

/* An agent that is sent deltas: its table went out (agents held in the grace get theirs
 * later, whole). */
static struct session *live_agent(const struct fabricd *fd, uint16_t h)
{
	struct session *s = agent_of(fd, h);

	return s && s->state == SESS_UP ? s : NULL;
}

static void mark_dirty(struct session *s)
{
	if (!s->dirty) {
		s->dirty = true;
		s->next_dirty = s->fd->dirty;
		s->fd->dirty = s;
	}
}

void update_flush(struct fabricd *fd)
{
	while (fd->dirty) {
		struct session *s = fd->dirty;

		fd->dirty = s->next_dirty;
		s->dirty = false;
		ub_send(s, &s->pending, false, false);
	}
}

void update_forget(struct session *s)
{
	struct session **pp;

	for (pp = &s->fd->dirty; *pp; pp = &(*pp)->next_dirty) {
		if (*pp == s) {
			*pp = s->next_dirty;
			break;
		}
	}
	s->dirty = false;
	ub_free(&s->pending);
}

void update_binding(struct fabricd *fd, const struct binding *b)
{
	struct directory *d = &fd->dir;

	for (uint16_t h = 0; h < d->nhosts; h++) {
		struct session *s = live_agent(fd, h);
		struct fdb_view v;

		if (!s || !host_has_vni(&d->hosts[h], b->vni))
			continue;
		dir_fdb_for(d, b, h, &v);
		if (v.nvteps || v.nips)
			ub_add(&s->pending, &v);
		else
			ub_del(&s->pending, b->vni, b->mac);
		mark_dirty(s);
	}
}

void update_del(struct fabricd *fd, uint32_t vni, const uint8_t mac[MAC_LEN])
{
	struct directory *d = &fd->dir;

	for (uint16_t h = 0; h < d->nhosts; h++) {
		struct session *s = live_agent(fd, h);

		if (s && host_has_vni(&d->hosts[h], vni)) {
			ub_del(&s->pending, vni, mac);
			mark_dirty(s);
		}
	}
}

struct host_bindings_ctx {
	struct fabricd *fd;
	uint16_t h;
};

static int update_if_on_host(struct binding *b, void *arg)
{
	struct host_bindings_ctx *c = arg;

	for (uint8_t i = 0; i < b->nhosts; i++) {
		if (b->hosts[i] == c->h) {
			update_binding(c->fd, b);
			break;
		}
	}
	return 0;
}

void update_host(struct fabricd *fd, uint16_t h)
{
	struct directory *d = &fd->dir;
	const struct host *hh = &d->hosts[h];
	struct host_bindings_ctx c = { fd, h };

	for (uint16_t o = 0; o < d->nhosts; o++) {
		struct session *s = live_agent(fd, o);

		if (o == h || !s)
			continue;
		for (uint16_t k = 0; k < hh->nvnis; k++) {
			if (host_has_vni(&d->hosts[o], hh->vnis[k])) {
				ub_flood(&s->pending, d, hh->vnis[k], o);
				mark_dirty(s);
			}
		}
	}
	dir_foreach(d, update_if_on_host, &c);
}

void update_host_floods(const struct directory *d, uint16_t h, struct ubuild *ub)
{
	for (uint16_t k = 0; k < d->hosts[h].nvnis; k++)
		ub_flood(ub, d, d->hosts[h].vnis[k], h);
}

bool update_host_binding(const struct directory *d, uint16_t h, const struct binding *b,
			 struct ubuild *ub)
{
	struct fdb_view v;

	if (!host_has_vni(&d->hosts[h], b->vni))
		return false;
	dir_fdb_for(d, b, h, &v);
	if (!v.nvteps && !v.nips)
		return false;
	ub_add(ub, &v);
	return true;
}

struct host_table_ctx {
	const struct directory *d;
	uint16_t h;
	struct ubuild *ub;
	struct session *chunk_to;      /* send full-table chunks to it as ub fills up */
	bool first;                    /* the next chunk sent is the first of the table */
};

static int host_table_one(struct binding *b, void *arg)
{
	struct host_table_ctx *c = arg;

	if (!update_host_binding(c->d, c->h, b, c->ub))
		return 0;
	if (c->ub->err || c->ub->bytes >= FULL_CHUNK_BYTES) {
		if (!ub_send(c->chunk_to, c->ub, c->first, true))
			return 1;      /* closed: stop */
		c->first = false;
	}
	return 0;
}

void update_send_full(struct session *s)
{
	struct ubuild ub = { 0 };
	struct host_table_ctx c = { &s->fd->dir, (uint16_t)s->host, &ub, s, true };

	update_host_floods(c.d, c.h, &ub);
	dir_foreach(c.d, host_table_one, &c);
	if (s->closed || !ub_send(s, &ub, c.first, false)) {
		ub_free(&ub);
		return;
	}
	s->state = SESS_UP;
	log_info("%s: full table sent (%zu bindings in the directory)", wire_name(s->w),
		 dir_count(&s->fd->dir));
}
