/*
 * api_list.c - the API's listings (port list, host list, the table of one host), as Replies
 * of about REPLY_PAGE_BYTES each, every one but the last with `more`. A listing of ports
 * starts from the keys (vni, MAC) the directory held when the request came, and each page
 * shows those bindings as they are when it is made: one deleted meanwhile is left out, so a
 * page never points at freed memory and a listing of a million bindings never needs a
 * million-entry reply in memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "portland.h"

enum pager_kind { PAGE_PORTS, PAGE_HOSTS, PAGE_FDB, PAGE_PL_HOSTS };

struct key {
	uint32_t vni;
	uint8_t mac[MAC_LEN];
};

struct pager {
	struct fabricd *fd;            /* whose nlistings counts it */
	enum pager_kind kind;
	struct key *keys;              /* PAGE_PORTS, PAGE_FDB: the bindings to show */
	size_t nkeys, next;            /* ... and the next one (PAGE_HOSTS: next host index) */
	uint16_t host;                 /* PAGE_FDB: whose table */
	bool floods_sent;              /* PAGE_FDB: the flood lists went with the first page */
	struct ipaddr *ips;            /* PAGE_PL_HOSTS: the PortLand hosts to show */
};

L2f__Port *api_port_msg(const struct directory *d, const struct binding *b)
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

struct collect_ctx {
	struct pager *p;
	const struct directory *d;
};

static int collect_key(struct binding *b, void *arg)
{
	struct collect_ctx *c = arg;
	struct key *k = &c->p->keys[c->p->nkeys++];

	k->vni = b->vni;
	memcpy(k->mac, b->mac, MAC_LEN);
	return 0;
}

struct pager *pager_new(struct fabricd *fd, const L2f__Request *q, const char **why)
{
	const struct directory *d = &fd->dir;
	struct pager *p;
	struct collect_ctx c;
	int h = 0;

	/* each listing holds a snapshot of the keys (12 bytes a binding) until it is sent */
	if (fd->nlistings >= API_MAX_LISTINGS) {
		fabricd_bound(fd, BOUND_LISTINGS, "%u listings in progress: one more refused",
			      fd->nlistings);
		*why = "too many listings in progress: try again";
		return NULL;
	}
	if (q->op_case == L2F__REQUEST__OP_FDB_OF_HOST) {
		h = dir_host_find(d, q->fdb_of_host);
		if (h < 0) {
			*why = "unknown host";
			return NULL;
		}
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		*why = "out of memory";
		return NULL;
	}
	p->fd = fd;
	p->host = (uint16_t)h;
	if (q->op_case == L2F__REQUEST__OP_PL_HOSTS) {
		p->kind = PAGE_PL_HOSTS;
		if (portland_host_keys(fd->pl, &p->ips, &p->nkeys) < 0) {
			*why = "out of memory";
			free(p);
			return NULL;
		}
		fd->nlistings++;
		return p;
	}
	p->kind = q->op_case == L2F__REQUEST__OP_HOST_LIST ? PAGE_HOSTS :
		  q->op_case == L2F__REQUEST__OP_FDB_OF_HOST ? PAGE_FDB : PAGE_PORTS;
	if (p->kind != PAGE_HOSTS) {
		p->keys = malloc((dir_count(d) ? dir_count(d) : 1) * sizeof(*p->keys));
		if (!p->keys) {
			*why = "out of memory";
			free(p);
			return NULL;
		}
		c = (struct collect_ctx){ p, d };
		dir_foreach(d, collect_key, &c);
	}
	fd->nlistings++;
	return p;
}

void pager_free(struct pager *p)
{
	if (!p)
		return;
	p->fd->nlistings--;
	free(p->keys);
	free(p->ips);
	free(p);
}

static void reply_free(L2f__Reply *r)
{
	for (size_t i = 0; i < r->n_ports; i++)
		free(r->ports[i]);
	free(r->ports);
	for (size_t i = 0; i < r->n_hosts; i++)
		free(r->hosts[i]);
	free(r->hosts);
	for (size_t i = 0; i < r->n_pl_hosts; i++)
		free(r->pl_hosts[i]);
	free(r->pl_hosts);
	struct ubuild ub = { .add = r->fdb, .nadd = r->n_fdb, .flood = r->flood,
			     .nflood = r->n_flood };

	ub_free(&ub);
}

/* Up to a page of the listed ports into r; bytes counted roughly, as they encode. */
static int page_ports(struct pager *p, const struct directory *d, L2f__Reply *r)
{
	size_t bytes = 0, cap = 0;

	while (p->next < p->nkeys && bytes < REPLY_PAGE_BYTES) {
		const struct key *k = &p->keys[p->next++];
		const struct binding *b = dir_find(d, k->vni, k->mac);
		L2f__Port *m;

		if (!b)
			continue;              /* deleted since the listing began */
		if (r->n_ports == cap) {
			L2f__Port **np = realloc(r->ports, (cap = cap ? cap * 2 : 256) * sizeof(*np));

			if (!np)
				return -ENOMEM;
			r->ports = np;
		}
		m = api_port_msg(d, b);
		if (!m)
			return -ENOMEM;
		r->ports[r->n_ports++] = m;
		bytes += 40 + 18 * b->nips + 16 * b->nhosts + (b->name ? strlen(b->name) : 0);
	}
	return 0;
}

static int page_hosts(struct pager *p, const struct directory *d, L2f__Reply *r)
{
	size_t bytes = 0;

	r->hosts = calloc(d->nhosts ? d->nhosts : 1, sizeof(*r->hosts));
	if (!r->hosts)
		return -ENOMEM;
	for (; p->next < d->nhosts && bytes < REPLY_PAGE_BYTES; p->next++) {
		const struct host *h = &d->hosts[p->next];
		L2f__Host *m;

		if (!h->id[0])
			continue;              /* a free slot */
		m = calloc(1, sizeof(*m) + 16);
		if (!m)
			return -ENOMEM;
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
		m->vnis = h->vnis;
		m->n_vnis = h->nvnis;
		if (h->session) {
			m->has_connected_for_ms = true;
			m->connected_for_ms =
				(uint64_t)monotime_diff_us(monotime_now(), h->connected_at) / 1000;
		}
		r->hosts[r->n_hosts++] = m;
		bytes += 32 + strlen(h->id) + 6 * h->nvnis;
	}
	return 0;
}

/* Up to a page of what host p->host's agent must hold: its flood lists first. */
static int page_fdb(struct pager *p, const struct directory *d, L2f__Reply *r)
{
	struct ubuild ub = { 0 };

	if (!p->floods_sent) {
		update_host_floods(d, p->host, &ub);
		p->floods_sent = true;
	}
	while (p->next < p->nkeys && ub.bytes < REPLY_PAGE_BYTES && !ub.err) {
		const struct key *k = &p->keys[p->next++];
		const struct binding *b = dir_find(d, k->vni, k->mac);

		if (b)
			update_host_binding(d, p->host, b, &ub);
	}
	r->fdb = ub.add;
	r->n_fdb = ub.nadd;
	r->flood = ub.flood;
	r->n_flood = ub.nflood;
	return ub.err;
}

/* Up to a page of the PortLand hosts listed; one gone meanwhile is left out. */
static int page_pl_hosts(struct pager *p, const struct fabricd *fd, L2f__Reply *r)
{
	size_t bytes = 0, cap = REPLY_PAGE_BYTES / 40 + 1;

	r->pl_hosts = calloc(cap, sizeof(*r->pl_hosts));
	if (!r->pl_hosts)
		return -ENOMEM;
	while (p->next < p->nkeys && r->n_pl_hosts < cap && bytes < REPLY_PAGE_BYTES) {
		L2f__HostBinding *h = portland_host_msg(fd->pl, &p->ips[p->next++]);

		if (!h)
			continue;
		r->pl_hosts[r->n_pl_hosts++] = h;
		bytes += 40 + strlen(h->edge) + (h->has_moves ? 32 : 0) +
			 (h->moved_from ? strlen(h->moved_from) : 0);
	}
	return 0;
}

int pager_next(struct pager *p, const struct fabricd *fd, struct wire *w)
{
	L2f__Envelope env = L2F__ENVELOPE__INIT;
	L2f__Reply r = L2F__REPLY__INIT;
	int err;
	bool last;

	switch (p->kind) {
	case PAGE_PORTS:
		err = page_ports(p, &fd->dir, &r);
		last = p->next == p->nkeys;
		break;
	case PAGE_HOSTS:
		err = page_hosts(p, &fd->dir, &r);
		last = p->next >= fd->dir.nhosts;
		break;
	case PAGE_PL_HOSTS:
		err = page_pl_hosts(p, fd, &r);
		last = p->next == p->nkeys;
		break;
	case PAGE_FDB:
	default:
		err = page_fdb(p, &fd->dir, &r);
		last = p->next == p->nkeys;
		break;
	}
	if (!err) {
		r.has_more = r.more = !last;
		env.msg_case = L2F__ENVELOPE__MSG_REPLY;
		env.reply = &r;
		err = wire_send(w, &env);
	}
	reply_free(&r);
	return err < 0 ? err : last;
}
