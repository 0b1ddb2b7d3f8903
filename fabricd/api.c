/*
 * api.c - the fabricctl role: one Reply per Request, in order. Ports as an orchestrator
 * creates them (port add/del/master), listings (api_list.c, page by page), and fabricd's
 * status (counters and limits).
 *
 * A change is refused with a clear error when it is not one a network could hold (a port MAC
 * that is no station's, an address no host has). Otherwise its record goes to the store
 * first (write-ahead: a failed write, a full disk, refuses the change and applies nothing),
 * then into the directory and out to the agents, and its reply waits in the session's queue
 * until the store says the record is on disk (group commit: every change of one loop turn
 * shares one fdatasync). A reply is an acknowledgement only once it is durable; a failed
 * fdatasync turns the replies waiting on it into errors.
 *
 * Replies leave in the order their requests came: each session has a queue of them (ready,
 * waiting for the disk, or a listing still being produced). A client that pipelines more
 * than API_MAX_QUEUED requests is not read until its queue shrinks.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "portland.h"
#include "journal.h"
#include "log.h"

#define API_MAX_QUEUED 64

struct queued {
	struct queued *next;
	uint64_t seq;                  /* the store's record it waits for, 0: none */
	struct evbuffer *frame;        /* the encoded reply, or NULL for a listing */
	struct pager *pager;
};

struct api_state {
	struct queued *head, *tail;
	size_t n;
};

static void queued_free(struct queued *q)
{
	if (q->frame)
		evbuffer_free(q->frame);
	pager_free(q->pager);
	free(q);
}

/* A Reply encoded into q->frame: 0, or -errno. */
static int encode(struct queued *q, const L2f__Reply *r)
{
	L2f__Envelope env = L2F__ENVELOPE__INIT;
	const char *why = NULL;

	env.msg_case = L2F__ENVELOPE__MSG_REPLY;
	env.reply = (L2f__Reply *)r;
	if (q->frame) {
		evbuffer_free(q->frame);
		q->frame = NULL;
	}
	return wire_frame(&env, &q->frame, &why);
}

static int encode_error(struct queued *q, const char *error)
{
	L2f__Reply r = L2F__REPLY__INIT;

	r.error = (char *)error;
	return encode(q, &r);
}

/* Sends what is ready at the head of s's queue, in order. */
static void pump(struct session *s)
{
	struct api_state *a = s->role_state;
	const struct fabricd *fd = s->fd;

	while (a->head && !s->closed) {
		struct queued *q = a->head;

		if (q->frame) {
			if (q->seq > fd->store_durable)
				break;                 /* not on disk yet */
			if (wire_send_frame(s->w, q->frame) < 0) {
				wire_close(s->w, "a reply could not be queued");
				return;
			}
		} else {
			int ret = 0;

			/* a page at a time, while the output is below a quarter of its mark */
			while (wire_pending(s->w) < s->role->out_hwm / 4 &&
			       (ret = pager_next(q->pager, fd, s->w)) == 0)
				;
			if (ret < 0) {
				wire_close(s->w, "a listing could not be sent");
				return;
			}
			if (ret == 0)
				break;                 /* on_drain goes on with it */
			session_touch(s);
		}
		a->head = q->next;
		if (!a->head)
			a->tail = NULL;
		a->n--;
		queued_free(q);
	}
	if (!s->closed && a->n < API_MAX_QUEUED)
		wire_hold(s->w, false);
}

static void enqueue(struct session *s, struct queued *q)
{
	struct api_state *a = s->role_state;

	if (a->tail)
		a->tail->next = q;
	else
		a->head = q;
	a->tail = q;
	if (++a->n >= API_MAX_QUEUED)
		wire_hold(s->w, true);
	pump(s);
}

void api_durable(struct fabricd *fd, uint64_t seq, int err)
{
	char why[160];

	if (err) {
		snprintf(why, sizeof(why), "store: the write was not made durable (%s): fabricd "
			 "refuses changes until it is restarted", strerror(-err));
		log_err("store %s: fdatasync: %s: every change from now on is refused",
			fd->store_path, strerror(-err));
	}
	for (struct session *s = fd->sessions; s; s = s->next) {
		struct api_state *a = s->role == &api_role ? s->role_state : NULL;

		if (!a)
			continue;
		for (struct queued *q = a->head; err && q; q = q->next) {
			if (q->seq && q->seq <= seq && q->seq > fd->store_durable &&
			    encode_error(q, why) == 0)
				q->seq = 0;
		}
	}
	if (!err && seq > fd->store_durable)
		fd->store_durable = seq;
	for (struct session *s = fd->sessions; s; s = s->next)
		if (s->role == &api_role && !s->closed)
			pump(s);
}

/* --- changes ------------------------------------------------------------------------------ */

/* Why this port is not one a network could hold, or NULL. */
static const char *port_problem(const L2f__Port *p, char *buf, size_t len)
{
	struct ipaddr a;
	const char *why = mac_port_why_not((const struct mac *)p->mac.data);
	char text[IPADDR_STRLEN];

	if (why) {
		snprintf(buf, len, "a port's MAC cannot be %s", why);
		return buf;
	}
	for (size_t i = 0; i < p->n_ips; i++) {
		wire_ipaddr(&a, &p->ips[i]);
		why = ipaddr_host_why_not(&a);
		if (why) {
			snprintf(buf, len, "%s: %s cannot be a port's address", ipaddr_fmt(&a, text),
				 why);
			return buf;
		}
	}
	return NULL;
}

/* The store's record for (vni, mac) says what the directory holds again: after a change that
 * was written but could not be applied. */
static void store_resync(struct fabricd *fd, const L2f__Port *p)
{
	struct binding *b = dir_find(&fd->dir, p->vni, p->mac.data);
	L2f__Port *now = b && (b->flags & B_API) ? api_port_msg(&fd->dir, b) : NULL;

	if (now)
		store_port_set(fd, now);
	else
		store_port_del(fd, p->vni, p->mac.data);
	free(now);
}

static int port_add(struct fabricd *fd, const L2f__Port *p, struct queued *q, const char **why)
{
	static char problem[128];
	struct ipaddr ips[DIR_MAX_IPS];
	uint16_t hosts[DIR_MAX_PORT_HOSTS];
	L2f__Reply r = L2F__REPLY__INIT;
	L2f__Port *m;
	struct binding *b;
	int64_t seq;
	int err;

	if (p->n_hosts < 1) {
		*why = "a port needs a host";
		return -EINVAL;
	}
	if ((*why = port_problem(p, problem, sizeof(problem))))
		return -EINVAL;
	for (size_t i = 0; i < p->n_ips; i++)
		wire_ipaddr(&ips[i], &p->ips[i]);
	for (size_t i = 0; i < p->n_hosts; i++) {
		int h = dir_host(&fd->dir, p->hosts[i]);

		if (h < 0) {
			*why = "no room for another host";
			return h;
		}
		hosts[i] = (uint16_t)h;
	}
	seq = store_port_set(fd, p);
	if (seq < 0) {
		snprintf(problem, sizeof(problem), "store: %s: the port is not added",
			 strerror((int)-seq));
		*why = problem;
		return (int)seq;
	}
	err = dir_port_set(&fd->dir, p->vni, p->mac.data, ips, p->n_ips, hosts, p->n_hosts,
			   p->has_mode && p->mode == L2F__HA_MODE__HA_FLOOD, p->name, &b);
	if (err) {
		store_resync(fd, p);
		*why = "out of memory: the port is not added";
		return err;
	}
	update_binding(fd, b);
	m = api_port_msg(&fd->dir, b);
	r.ports = &m;
	r.n_ports = m ? 1 : 0;
	err = encode(q, &r);
	free(m);
	q->seq = (uint64_t)seq;
	return err;
}

/* The port goes from the API. A MAC its host's agent reported stays, learned: that agent
 * will not report it again until it changes, and the other hosts must keep reaching it. */
static int port_del(struct fabricd *fd, const L2f__Port *p, struct queued *q, const char **why)
{
	static char problem[128];
	struct binding *b = dir_find(&fd->dir, p->vni, p->mac.data);
	L2f__Reply r = L2F__REPLY__INIT;
	char mac[MAC_STRLEN];
	int64_t seq;
	int ret;

	if (!b) {
		*why = "no such port";
		return -ENOENT;
	}
	if (!(b->flags & B_API)) {
		*why = "not an API port: learned from its host's agent, which reports when it goes";
		return -EINVAL;
	}
	seq = store_port_del(fd, p->vni, p->mac.data);
	if (seq < 0) {
		snprintf(problem, sizeof(problem), "store: %s: the port is not deleted",
			 strerror((int)-seq));
		*why = problem;
		return (int)seq;
	}
	ret = dir_port_del(&fd->dir, p->vni, p->mac.data, &b);
	if (ret == 0) {
		update_del(fd, p->vni, p->mac.data);
	} else {
		log_info("vni %u %s: API port deleted, still learned on %s", p->vni,
			 mac_fmt((const struct mac *)p->mac.data, mac), fd->dir.hosts[b->hosts[0]].id);
		update_binding(fd, b);
	}
	q->seq = (uint64_t)seq;
	return encode(q, &r);
}

static int master(struct fabricd *fd, const L2f__Master *m, struct queued *q, const char **why)
{
	L2f__Reply r = L2F__REPLY__INIT;
	int ret = ha_master_change(fd, m, why);

	return ret < 0 ? ret : encode(q, &r);
}

/* --- status ------------------------------------------------------------------------------- */

struct counters {
	L2f__Counter *c;
	L2f__Counter **p;
	size_t n, cap;
};

static void put(struct counters *cs, const char *name, uint64_t v)
{
	if (cs->n == cs->cap)
		return;
	l2f__counter__init(&cs->c[cs->n]);
	cs->c[cs->n].name = (char *)name;
	cs->c[cs->n].value = v;
	cs->p[cs->n] = &cs->c[cs->n];
	cs->n++;
}

void fabricd_counters(struct fabricd *fd, fabricd_counter_fn fn, void *ctx)
{
	static char names[NBOUNDS + NREFUSALS][64];
	const struct fabricd_stats *st = &fd->stats;
	uint32_t roles[4] = { 0 }, connected = 0;

	for (const struct session *s = fd->sessions; s; s = s->next)
		roles[s->role == &agent_role ? 0 : s->role == &ha_role ? 1 :
		      s->role == &api_role ? 2 : 3] += s->role != NULL;
	for (uint16_t h = 0; h < fd->dir.nhosts; h++)
		connected += fd->dir.hosts[h].session != NULL;
	fn(ctx, "sessions.open", fd->nsessions + fd->nunix + fd->nstatus, false);
	fn(ctx, "sessions.tcp", fd->nsessions, false);
	fn(ctx, "sessions.unix", fd->nunix, false);
	fn(ctx, "sessions.status", fd->nstatus, false);
	fn(ctx, "sessions.pre_hello", fd->npre_hello, false);
	fn(ctx, "sessions.vtepd", roles[0], false);
	fn(ctx, "sessions.vipd", roles[1], false);
	fn(ctx, "sessions.fabricctl", roles[2], false);
	fn(ctx, "sessions.switchd", roles[3], false);
	fn(ctx, "sessions.opened", st->sessions_opened, false);
	fn(ctx, "sessions.closed_bad", st->sessions_closed_bad, false);
	for (int i = 0; i < NBOUNDS; i++) {
		snprintf(names[i], sizeof(names[i]), "bound.%s", fabricd_bound_names[i]);
		fn(ctx, names[i], st->bounds[i], false);
	}
	for (int i = 0; i < NREFUSALS; i++) {
		snprintf(names[NBOUNDS + i], sizeof(names[0]), "refused.%s", fabricd_refusal_names[i]);
		fn(ctx, names[NBOUNDS + i], st->refused[i], false);
	}
	if (fd->pl)
		portland_counters(fd->pl, fn, ctx);
	if (fd->tcp) {
		const struct wire_listener_stats *ls_tcp = wire_listener_stats(fd->tcp);

		fn(ctx, "listener.tcp.accepted", ls_tcp->accepted, false);
		fn(ctx, "listener.tcp.accept_errors", ls_tcp->accept_errors, false);
		fn(ctx, "listener.tcp.accept_paused", ls_tcp->pauses, false);
	}
	fn(ctx, "listener.unix.accepted", wire_listener_stats(fd->unix_api)->accepted, false);
	fn(ctx, "listener.unix.accept_errors", wire_listener_stats(fd->unix_api)->accept_errors, false);
	fn(ctx, "listener.unix.accept_paused", wire_listener_stats(fd->unix_api)->pauses, false);
	fn(ctx, "directory.bindings", dir_count(&fd->dir), false);
	fn(ctx, "directory.hosts", fd->dir.nhosts, false);
	fn(ctx, "directory.hosts_connected", connected, false);
	fn(ctx, "directory.hosts_expired", st->hosts_expired, false);
	fn(ctx, "agents.reports", st->reports, false);
	fn(ctx, "agents.learned_new", st->learned_new, false);
	fn(ctx, "agents.learned_moved", st->learned_moved, false);
	fn(ctx, "agents.learned_stale", st->learned_stale, false);
	fn(ctx, "agents.learned_duplicate", st->learned_duplicate, false);
	fn(ctx, "agents.updates_sent", st->updates_sent, false);
	fn(ctx, "agents.updates_failed", st->updates_failed, false);
	fn(ctx, "api.requests", st->api_requests, false);
	if (fd->journal) {
		struct journal_stats js;

		journal_stats(fd->journal, &js);
		fn(ctx, "store.records", js.records, false);
		fn(ctx, "store.bytes", js.bytes, false);
		fn(ctx, "store.seq_durable", js.seq_durable, false);
		fn(ctx, "store.syncs", js.syncs, false);
		fn(ctx, "store.sync_records_max", js.sync_records_max, false);
		fn(ctx, "store.refused_nospace", js.refused_nospace, false);
		fn(ctx, "store.refused_io", js.refused_io + js.refused_fbig + js.refused_size, false);
		fn(ctx, "store.refused_failed", js.refused_failed, false);
		fn(ctx, "store.compactions", js.compactions_ok, false);
		fn(ctx, "store.compactions_failed", js.compactions_failed, false);
		fn(ctx, "store.failed", js.failed, false);
	}
	fn(ctx, "max_sessions", fd->lim.max_sessions, true);
	fn(ctx, "max_unix_sessions", fd->lim.max_unix_sessions, true);
	fn(ctx, "max_learned_per_host", fd->lim.max_learned, true);
	fn(ctx, "max_pre_hello", fd->lim.max_pre_hello, true);
	fn(ctx, "hello_timeout_ms", fd->lim.hello_timeout_ms, true);
	fn(ctx, "idle_timeout_ms", fd->lim.idle_timeout_ms, true);
	fn(ctx, "host_expiry_s", fd->lim.host_expiry_s, true);
	portland_limits(fn, ctx);
}

struct status_lists {
	struct counters cs, ls;
};

static void status_put(void *ctx, const char *name, uint64_t v, bool limit)
{
	struct status_lists *l = ctx;

	put(limit ? &l->ls : &l->cs, name, v);
}

static int status(struct fabricd *fd, struct queued *q)
{
	L2f__Counter c[160], *p[160], lc[16], *lp[16];
	struct status_lists l = { { c, p, 0, 160 }, { lc, lp, 0, 16 } };
	L2f__Status m = L2F__STATUS__INIT;
	L2f__Reply r = L2F__REPLY__INIT;

	fabricd_counters(fd, status_put, &l);
	m.id = fd->id;
	m.has_uptime_ms = true;
	m.uptime_ms = (uint64_t)monotime_diff_us(monotime_now(), fd->started) / 1000;
	m.counters = l.cs.p;
	m.n_counters = l.cs.n;
	m.limits = l.ls.p;
	m.n_limits = l.ls.n;
	r.status = &m;
	return encode(q, &r);
}

/* The PortLand switches, as they last said where they are. */
static int topo(struct fabricd *fd, struct queued *q, const char **why)
{
	L2f__Reply r = L2F__REPLY__INIT;
	int err = portland_topo(fd->pl, &r);

	if (!err)
		err = encode(q, &r);
	portland_topo_free(&r);
	if (err)
		*why = "the topology could not be encoded";
	return err;
}

/* The multicast groups and their trees. */
static int groups(struct fabricd *fd, struct queued *q, const char **why)
{
	L2f__Reply r = L2F__REPLY__INIT;
	int err = mcast_groups_reply(fd->pl, &r);

	if (!err)
		err = encode(q, &r);
	mcast_groups_free(&r);
	if (err)
		*why = "the multicast groups could not be encoded";
	return err;
}

/* --- requests ------------------------------------------------------------------------------ */

static int request(struct fabricd *fd, const L2f__Request *req, struct queued *q,
		   const char **why, bool readonly)
{
	fd->stats.api_requests++;
	if (readonly && (req->op_case == L2F__REQUEST__OP_PORT_ADD ||
			 req->op_case == L2F__REQUEST__OP_PORT_DEL ||
			 req->op_case == L2F__REQUEST__OP_PORT_MASTER)) {
		fd->stats.refused[REFUSE_READONLY]++;
		*why = "the status socket is read-only: changes go through the control socket";
		return -EPERM;
	}
	switch (req->op_case) {
	case L2F__REQUEST__OP_PORT_ADD:
		return port_add(fd, req->port_add, q, why);
	case L2F__REQUEST__OP_PORT_DEL:
		return port_del(fd, req->port_del, q, why);
	case L2F__REQUEST__OP_PORT_MASTER:
		return master(fd, req->port_master, q, why);
	case L2F__REQUEST__OP_PORT_LIST:
	case L2F__REQUEST__OP_HOST_LIST:
	case L2F__REQUEST__OP_FDB_OF_HOST:
	case L2F__REQUEST__OP_PL_HOSTS:
		q->pager = pager_new(fd, req, why);
		return q->pager ? 0 : -EINVAL;
	case L2F__REQUEST__OP_STATUS:
		return status(fd, q);
	case L2F__REQUEST__OP_TOPO:
		return topo(fd, q, why);
	case L2F__REQUEST__OP_MCAST_GROUPS:
		return groups(fd, q, why);
	case L2F__REQUEST__OP__NOT_SET:
	default:
		*why = "empty request";
		return -EINVAL;
	}
}

static void api_hello(struct session *s, const L2f__Hello *hello)
{
	s->role_state = calloc(1, sizeof(struct api_state));
	if (!s->role_state)
		wire_close(s->w, "out of memory");
}

static void api_msg(struct session *s, const L2f__Envelope *env)
{
	struct queued *q;
	const char *why = NULL;

	if (env->msg_case != L2F__ENVELOPE__MSG_REQUEST) {
		fabricd_refuse(s->fd, REFUSE_UNEXPECTED, "%s: not a Request: closed", wire_name(s->w));
		wire_close(s->w, "fabricctl may send requests only");
		return;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		wire_close(s->w, "out of memory");
		return;
	}
	if (request(s->fd, env->request, q, &why, s->readonly) < 0) {
		q->seq = 0;
		if (encode_error(q, why ? why : "failed") < 0) {
			queued_free(q);
			wire_close(s->w, "a reply could not be encoded");
			return;
		}
	}
	enqueue(s, q);
}

static void api_close(struct session *s)
{
	struct api_state *a = s->role_state;

	while (a && a->head) {
		struct queued *q = a->head;

		a->head = q->next;
		queued_free(q);
	}
	free(a);
	s->role_state = NULL;
}

static void api_drain(struct session *s)
{
	pump(s);
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
	.on_close = api_close,
	.on_drain = api_drain,
};
