/*
 * api.c - the fabricctl role: one Reply per Request, in order. Ports as an orchestrator
 * creates them (port add/del/list/master), the hosts (agents, their VTEPs and sessions), and
 * what fabricd wants one host's agent to hold (fdb_of_host). A change reaches the agents
 * first and the store second; the reply waits for the store, so a reply means the change is
 * on disk.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "fabricd.h"
#include "log.h"

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

	if (c->r->n_ports == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		L2f__Port **np = realloc(c->r->ports, cap * sizeof(*np));

		if (!np)
			return c->err = -ENOMEM;
		c->r->ports = np;
		c->cap = cap;
	}
	p = port_msg(c->d, b);
	if (!p)
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

static int port_add(struct fabricd *fd, const L2f__Port *p, L2f__Reply *r, const char **why)
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
	update_binding(fd, b);
	update_flush(fd);
	store_save(fd);
	r->ports = calloc(1, sizeof(*r->ports));
	if (r->ports && (r->ports[0] = port_msg(&fd->dir, b)))
		r->n_ports = 1;
	return 0;
}

/* The port goes from the API. A MAC its host's agent reported stays, learned: that agent
 * will not report it again until it changes, and the other hosts must keep reaching it. */
static int port_del(struct fabricd *fd, const L2f__Port *p, const char **why)
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
		update_del(fd, p->vni, p->mac.data);
		break;
	default:
		log_info("vni %u %s: API port deleted, still learned on %s", p->vni,
			 mac_fmt((const struct mac *)p->mac.data, mac), fd->dir.hosts[b->hosts[0]].id);
		update_binding(fd, b);
		break;
	}
	update_flush(fd);
	store_save(fd);
	return 0;
}

static int port_list(const struct directory *d, L2f__Reply *r, const char **why)
{
	struct list_ctx c = { .d = d, .r = r };

	dir_foreach(d, list_one, &c);
	if (c.err)
		*why = "out of memory";
	return c.err;
}

static int host_list(const struct directory *d, L2f__Reply *r, const char **why)
{
	r->hosts = calloc(d->nhosts ? d->nhosts : 1, sizeof(*r->hosts));
	if (!r->hosts) {
		*why = "out of memory";
		return -ENOMEM;
	}
	for (uint16_t i = 0; i < d->nhosts; i++) {
		const struct host *h = &d->hosts[i];
		L2f__Host *m;

		if (!h->id[0])
			continue;
		m = calloc(1, sizeof(*m) + 16);
		if (!m) {
			*why = "out of memory";
			return -ENOMEM;
		}
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
	}
	return 0;
}

static int fdb_of_host(const struct directory *d, const char *id, L2f__Reply *r,
		       const char **why)
{
	int h = dir_host_find(d, id);
	struct ubuild ub = { 0 };

	if (h < 0) {
		*why = "unknown host";
		return -ENOENT;
	}
	update_host_table(d, (uint16_t)h, &ub);
	r->fdb = ub.add;
	r->n_fdb = ub.nadd;
	r->flood = ub.flood;
	r->n_flood = ub.nflood;
	if (ub.err) {
		*why = "out of memory";
		return ub.err;
	}
	return 0;
}

static int request(struct fabricd *fd, const L2f__Request *q, L2f__Reply *r, const char **why)
{
	fd->stats.api_requests++;
	switch (q->op_case) {
	case L2F__REQUEST__OP_PORT_ADD:
		return port_add(fd, q->port_add, r, why);
	case L2F__REQUEST__OP_PORT_DEL:
		return port_del(fd, q->port_del, why);
	case L2F__REQUEST__OP_PORT_LIST:
		return port_list(&fd->dir, r, why);
	case L2F__REQUEST__OP_PORT_MASTER:
		return ha_master_change(fd, q->port_master, why);
	case L2F__REQUEST__OP_HOST_LIST:
		return host_list(&fd->dir, r, why);
	case L2F__REQUEST__OP_FDB_OF_HOST:
		return fdb_of_host(&fd->dir, q->fdb_of_host, r, why);
	case L2F__REQUEST__OP__NOT_SET:
	default:
		*why = "empty request";
		return -EINVAL;
	}
}

static void api_hello(struct session *s, const L2f__Hello *hello)
{
	s->state = SESS_UP;
}

static void api_msg(struct session *s, const L2f__Envelope *env)
{
	L2f__Envelope out = L2F__ENVELOPE__INIT;
	L2f__Reply r = L2F__REPLY__INIT;
	const char *why = NULL;

	if (env->msg_case != L2F__ENVELOPE__MSG_REQUEST) {
		wire_close(s->w, "fabricctl may send requests only");
		return;
	}
	if (request(s->fd, env->request, &r, &why) < 0) {
		reply_free(&r);
		r = (L2f__Reply)L2F__REPLY__INIT;
		r.error = (char *)(why ? why : "failed");
	}
	out.msg_case = L2F__ENVELOPE__MSG_REPLY;
	out.reply = &r;
	if (wire_send(s->w, &out) < 0)
		wire_close(s->w, "the reply could not be sent");
	reply_free(&r);
}

/* Requests are small; replies come in pages of REPLY_PAGE_BYTES, the next one queued once
 * the output drained (on_drain), so a client that does not read holds at most out_hwm. */
const struct role api_role = {
	.role = L2F__ROLE__ROLE_FABRICCTL,
	.name = "fabricctl",
	.max_frame = 64u << 10,
	.out_hwm = 4u << 20,
	.stuck_ms = 10000,
	.idle_timeout = true,
	.on_hello = api_hello,
	.on_msg = api_msg,
};
