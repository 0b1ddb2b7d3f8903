/* portland.c - the switchd role: locations, pods, hosts, proxy ARP/ND; see portland.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ipmap.h"
#include "log.h"
#include "portland_priv.h"

static int64_t now_unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One host: the key first (lib/ipmap). */
struct pl_host {
	struct ipaddr ip;
	uint8_t amac[MAC_LEN], pmac[MAC_LEN];
	uint16_t edge;                     /* index into pl->sw */
	uint8_t port;
	/* migration: how often it moved to another PMAC, and the last move's edge (-1: none),
	 * PMAC and time (Unix ms) */
	uint32_t moves;
	int32_t moved_from;
	uint8_t moved_from_pmac[MAC_LEN];
	int64_t moved_at_ms;
	bool untold;                       /* the old edge was away: told when it is back */
};

static const char *const plr_names[NPLR] = {
	[PLR_SWITCH_ID] = "portland.refused.switch_id_taken",
	[PLR_NOT_EDGE] = "portland.refused.not_a_located_edge",
	[PLR_PMAC] = "portland.refused.pmac_not_its_own",
	[PLR_POD] = "portland.refused.pod_request",
	[PLR_HOST_ADDR] = "portland.refused.address_not_a_host",
	[PLR_HOSTS_CAP] = "portland.refused.hosts_over_cap",
	[PLR_SWITCHES_CAP] = "portland.refused.switches_over_cap",
	[PLR_FLOOD_RATE] = "portland.flood_rate_limited",
	[PLR_MCAST_RATE] = "portland.mcast.reports_rate_limited",
	[PLR_MCAST_EDGE_CAP] = "portland.mcast.groups_over_edge_cap",
};

int portland_new(struct portland **out)
{
	struct portland *pl = calloc(1, sizeof(*pl));

	if (!pl || ipmap_init(&pl->hosts) < 0 || faults_new(&pl->faults) < 0 ||
	    mcast_new(&pl->mcast) < 0) {
		if (pl) {
			ipmap_free(&pl->hosts);
			faults_free(pl->faults);
		}
		free(pl);
		return -ENOMEM;
	}
	pl->rl = (struct ratelimit)RATELIMIT_INIT(10000, 3);
	*out = pl;
	return 0;
}

static int free_host(void *val, void *ctx)
{
	free(val);
	return 0;
}

void portland_free(struct portland *pl)
{
	if (!pl)
		return;
	ipmap_foreach(&pl->hosts, free_host, NULL);
	ipmap_free(&pl->hosts);
	for (size_t i = 0; i < pl->nsw; i++) {
		free(pl->sw[i].ports);
		free(pl->sw[i].mis);
		free(pl->sw[i].avoid);
		free(pl->sw[i].avoid_ids);
	}
	faults_free(pl->faults);
	mcast_free(pl->mcast);
	free(pl->sw);
	free(pl);
}

void pl_refuse(struct portland *pl, enum pl_refusal r, struct session *s, const char *what,
	       uint64_t n)
{
	pl->st.refused[r] += n;
	if (ratelimit_ok(&pl->rl))
		log_warn("%s: %s (%s: %llu so far)", wire_name(s->w), what, plr_names[r],
			 (unsigned long long)pl->st.refused[r]);
}

static void refuse(struct portland *pl, enum pl_refusal r, struct session *s, const char *what)
{
	pl_refuse(pl, r, s, what, 1);
}

static struct pl_switch *sw_of(struct session *s)
{
	struct portland *pl = s->fd->pl;
	intptr_t i = (intptr_t)s->role_state - 1;

	return i >= 0 && (size_t)i < pl->nsw ? &pl->sw[i] : NULL;
}

static int sw_find(const struct portland *pl, const char *name)
{
	for (size_t i = 0; i < pl->nsw; i++)
		if (strcmp(pl->sw[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* --- sessions -------------------------------------------------------------------------------- */

/* One session per switch name: the newest replaces the older (a switchd that restarted
 * before its old session timed out). The switch's record outlives its sessions. */
static void pl_hello(struct session *s, const L2f__Hello *hello)
{
	struct portland *pl = s->fd->pl;
	int i = sw_find(pl, hello->id);

	if (i < 0) {
		struct pl_switch *n;

		if (pl->nsw >= PL_MAX_SWITCHES) {
			refuse(pl, PLR_SWITCHES_CAP, s, "one switch too many: closed");
			wire_close(s->w, "too many switches");
			return;
		}
		if (pl->nsw == pl->capsw) {
			size_t cap = pl->capsw ? pl->capsw * 2 : 64;

			n = realloc(pl->sw, cap * sizeof(*n));
			if (!n) {
				wire_close(s->w, "out of memory");
				return;
			}
			pl->sw = n;
			pl->capsw = cap;
		}
		n = &pl->sw[pl->nsw];
		memset(n, 0, sizeof(*n));
		snprintf(n->name, sizeof(n->name), "%s", hello->id);
		n->pod = n->position = n->assigned_pod = -1;
		bucket_init(&n->flood_rate, PL_FLOOD_RATE, PL_FLOOD_BURST, monotime_now());
		bucket_init(&n->mcast_rate, PL_MCAST_REPORT_RATE, PL_MCAST_REPORT_BURST,
			    monotime_now());
		i = (int)pl->nsw++;
	} else if (pl->sw[i].s) {
		struct session *old = pl->sw[i].s;

		pl->sw[i].s = NULL;
		old->role_state = NULL;
		wire_close(old->w, "replaced by a new session");
	}
	pl->sw[i].s = s;
	s->role_state = (void *)(intptr_t)(i + 1);
	s->state = SESS_UP;
	log_info("%s: switch %s connected", wire_name(s->w), hello->id);
}

static void pl_close(struct session *s)
{
	struct pl_switch *w = sw_of(s);

	if (w && w->s == s) {
		w->s = NULL;
		faults_session_gone(w);
		mcast_session_gone(w);
	}
	s->role_state = NULL;
}

static bool is_located_edge(const struct pl_switch *w)
{
	return w->located && w->level == L2F__SWITCH_LEVEL__LEVEL_EDGE && w->pod >= 0 &&
	       w->position >= 0;
}

/* --- location --------------------------------------------------------------------------------- */

/* A located edge's pod, which fabricd gave it (this run or an earlier one): after a restart
 * the pods come back from the switches' reports (soft state), so the next pod handed out is
 * above every pod a switch has, and the position-0 edge that has a pod keeps it. */
static void adopt_pod(struct portland *pl, struct pl_switch *w)
{
	if (!is_located_edge(w) || w->pod > PMAC_POD_MAX)
		return;
	if ((uint64_t)w->pod >= pl->st.pods_assigned)
		pl->st.pods_assigned = (uint64_t)w->pod + 1;
	if (w->position == 0 && w->assigned_pod < 0) {
		w->assigned_pod = w->pod;
		pl->st.pods_adopted++;
	}
}

static int take_location(struct portland *pl, struct session *s, struct pl_switch *w,
			 const L2f__SwitchLocation *l)
{
	struct pl_port *ports = calloc(l->n_ports + 1, sizeof(*ports));
	struct pl_miswire *mis = calloc(l->n_miswirings + 1, sizeof(*mis));

	for (size_t i = 0; i < pl->nsw; i++) {
		const struct pl_switch *o = &pl->sw[i];

		if (o != w && o->s && o->reported && !memcmp(o->switch_id, l->switch_id.data, MAC_LEN)) {
			free(ports);
			free(mis);
			refuse(pl, PLR_SWITCH_ID, s, "a location with another switch's id");
			return -EEXIST;
		}
	}
	if (!ports || !mis) {
		free(ports);
		free(mis);
		return -ENOMEM;
	}
	for (size_t i = 0; i < l->n_ports; i++) {
		const L2f__SwitchPort *p = l->ports[i];
		struct pl_port *q = &ports[i];

		q->port = (uint8_t)p->port;
		q->dir = (uint8_t)p->dir;
		if ((q->has_peer = p->has_peer_id))
			memcpy(q->peer_id, p->peer_id.data, MAC_LEN);
		q->peer_port = p->has_peer_port ? (uint8_t)p->peer_port : 0;
		q->peer_level = p->has_peer_level ? (uint8_t)p->peer_level : 0;
		snprintf(q->name, sizeof(q->name), "%s", p->name ? p->name : "");
		q->lost = p->has_lost && p->lost && q->has_peer;
		q->down = q->lost && p->has_down && p->down;
		if (q->lost) {
			/* the same loss reported again keeps its time */
			const struct pl_port *o = i < w->nports ? &w->ports[i] : NULL;

			q->lost_since_ms = o && o->lost && o->port == q->port &&
					   !memcmp(o->peer_id, q->peer_id, MAC_LEN) ? o->lost_since_ms
										   : now_unix_ms();
		}
	}
	for (size_t i = 0; i < l->n_miswirings; i++) {
		const L2f__Miswiring *m = l->miswirings[i];

		mis[i].port = (uint8_t)m->port;
		if ((mis[i].has_peer = m->has_peer_id))
			memcpy(mis[i].peer_id, m->peer_id.data, MAC_LEN);
		snprintf(mis[i].reason, sizeof(mis[i].reason), "%s", m->reason);
	}
	free(w->ports);
	free(w->mis);
	w->ports = ports;
	w->nports = l->n_ports;
	w->mis = mis;
	w->nmis = l->n_miswirings;
	memcpy(w->switch_id, l->switch_id.data, MAC_LEN);
	w->level = l->level;
	w->pod = l->has_pod ? (int)l->pod : -1;
	w->position = l->has_position ? (int)l->position : -1;
	if (w->located != l->located || !w->reported)
		log_info("%s: switch %s %s (level %d, pod %d, position %d)%s%s", wire_name(s->w),
			 w->name, l->located ? "located" : "not located", w->level, w->pod,
			 w->position, l->why ? ": " : "", l->why ? l->why : "");
	w->located = l->located;
	adopt_pod(pl, w);
	snprintf(w->why, sizeof(w->why), "%s", l->why ? l->why : "");
	w->reported = true;
	pl->st.locations++;
	if (l->n_miswirings && ratelimit_ok(&pl->rl))
		log_warn("%s: switch %s reports %zu miswired port(s), first: port %u: %s",
			 wire_name(s->w), w->name, l->n_miswirings, l->miswirings[0]->port,
			 l->miswirings[0]->reason);
	return 0;
}

/* The lowest pod no other switch holds; the same one again for the switch that has it. A pod
 * is never taken back (the switch's record outlives its sessions), so the pods given are
 * 0..pods_assigned-1 and the next is pods_assigned: no search over the switches (after a
 * restart, pods_assigned is above every pod reported: adopt_pod). At most
 * PMAC_POD_MAX + 1 pods, what a PMAC can carry. */
static int assign_pod(struct portland *pl, struct pl_switch *w)
{
	if (w->assigned_pod >= 0)
		return w->assigned_pod;
	if (pl->st.pods_assigned > PMAC_POD_MAX)
		return -ENOSPC;
	w->assigned_pod = (int)pl->st.pods_assigned++;
	return w->assigned_pod;
}

/* --- hosts ------------------------------------------------------------------------------------ */

/* A PMAC (pod.position.port.vmid, 16.8.8.16) of w's pod and position, on a host port of w. */
static bool pmac_ours(const struct pl_switch *w, const L2f__HostBinding *h)
{
	struct mac m;
	struct pmac p;

	memcpy(m.b, h->pmac.data, MAC_LEN);
	return pmac_unpack(&m, &p) == 0 && p.pod == w->pod && p.position == w->position &&
	       p.port == h->port && pl_host_port(w, h->port);
}

bool pl_host_port(const struct pl_switch *w, uint32_t port)
{
	for (size_t i = 0; i < w->nports; i++)
		if (w->ports[i].port == port)
			return w->ports[i].dir == L2F__PORT_DIRECTION__DIR_HOST;
	return false;
}

/* The edge w is told that n moved away from it (from n's moved_from_pmac): false when it
 * cannot be now. */
static bool tell_moved(struct portland *pl, struct pl_switch *w, const struct pl_host *n)
{
	L2f__HostMoved hm = L2F__HOST_MOVED__INIT, *hp = &hm;
	L2f__Portland m = L2F__PORTLAND__INIT;
	L2f__Envelope env = L2F__ENVELOPE__INIT;

	hm.ip = (ProtobufCBinaryData){ ipaddr_len(&n->ip), (uint8_t *)n->ip.b };
	hm.old_pmac = (ProtobufCBinaryData){ MAC_LEN, (uint8_t *)n->moved_from_pmac };
	hm.new_pmac = (ProtobufCBinaryData){ MAC_LEN, (uint8_t *)n->pmac };
	hm.amac = (ProtobufCBinaryData){ MAC_LEN, (uint8_t *)n->amac };
	m.moved = &hp;
	m.n_moved = 1;
	env.msg_case = L2F__ENVELOPE__MSG_PORTLAND;
	env.portland = &m;
	return w->s && wire_send(w->s->w, &env) == 0;
}

/* The host moved from old (at edge from) to n: the move recorded in n, and the old edge told,
 * when it is the same host (AMAC) that moved: it invalidates the old PMAC (PortLand §3.5). An
 * address taken over by another host is recorded as a move but not told: the old PMAC is
 * still that other host's. An old edge that is away is told when it registers the host
 * again (host_add). */
static void host_moved(struct portland *pl, uint16_t from, const struct pl_host *old,
		       struct pl_host *n)
{
	struct pl_switch *w = &pl->sw[from];

	n->moves = old->moves + 1;
	n->moved_from = from;
	memcpy(n->moved_from_pmac, old->pmac, MAC_LEN);
	n->moved_at_ms = now_unix_ms();
	n->untold = false;
	pl->st.hosts_moved++;
	if (memcmp(old->amac, n->amac, MAC_LEN))
		return;
	if (tell_moved(pl, w, n)) {
		pl->st.moves_told++;
		return;
	}
	n->untold = true;
	pl->st.moves_untold++;
	if (ratelimit_ok(&pl->rl))
		log_warn("portland: a host moved from %s, which cannot be told now (%llu so far)",
			 w->name, (unsigned long long)pl->st.moves_untold);
}

/* The old edge of an untold move, back, registers the host it had as it was (its resend of
 * every host on a new session): not a move back, but the move it missed, told now. */
static bool stale_after_move(struct portland *pl, struct pl_switch *w, struct pl_host *old,
			     const L2f__HostBinding *h)
{
	if (!old || !old->untold || old->moved_from != (int32_t)(w - pl->sw) ||
	    memcmp(old->amac, h->amac.data, MAC_LEN) || memcmp(old->moved_from_pmac, h->pmac.data,
								MAC_LEN))
		return false;
	if (tell_moved(pl, w, old)) {
		old->untold = false;
		pl->st.moves_told_late++;
	}
	return true;
}

static void host_add(struct portland *pl, struct session *s, struct pl_switch *w,
		     const L2f__HostBinding *h)
{
	uint16_t edge = (uint16_t)(w - pl->sw);
	struct ipaddr ip;
	struct pl_host *old, *n;
	int err;

	wire_ipaddr(&ip, &h->ip);
	if (!pmac_ours(w, h)) {
		refuse(pl, PLR_PMAC, s, "a host with a PMAC not of its pod, position and host ports");
		return;
	}
	if (ipaddr_host_why_not(&ip)) {
		refuse(pl, PLR_HOST_ADDR, s, "a host with an address no host has");
		return;
	}
	old = ipmap_get(&pl->hosts, &ip);
	if (stale_after_move(pl, w, old, h))
		return;
	if (old && old->edge == edge) {
		if (memcmp(old->pmac, h->pmac.data, MAC_LEN)) {
			/* another port of the same edge: a move all the same */
			struct pl_host was = *old;

			memcpy(old->amac, h->amac.data, MAC_LEN);
			memcpy(old->pmac, h->pmac.data, MAC_LEN);
			host_moved(pl, edge, &was, old);
		}
		memcpy(old->amac, h->amac.data, MAC_LEN);
		old->port = (uint8_t)h->port;
		return;
	}
	if (w->nhosts >= PL_MAX_HOSTS_PER_EDGE || (!old && pl->hosts.count >= PL_MAX_HOSTS)) {
		refuse(pl, PLR_HOSTS_CAP, s, "a host over the cap");
		return;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return;
	n->ip = ip;
	memcpy(n->amac, h->amac.data, MAC_LEN);
	memcpy(n->pmac, h->pmac.data, MAC_LEN);
	n->edge = edge;
	n->port = (uint8_t)h->port;
	n->moved_from = -1;
	old = ipmap_put(&pl->hosts, n, &err);
	if (err < 0) {
		free(n);
		return;
	}
	w->nhosts++;
	if (old) {
		pl->sw[old->edge].nhosts--;
		host_moved(pl, old->edge, old, n);
		free(old);
	} else {
		pl->st.hosts_added++;
	}
}

static void host_del(struct portland *pl, struct pl_switch *w, const ProtobufCBinaryData *b)
{
	struct ipaddr ip;
	struct pl_host *h;

	wire_ipaddr(&ip, b);
	h = ipmap_get(&pl->hosts, &ip);
	if (!h || h->edge != (uint16_t)(w - pl->sw))
		return;             /* not its own: already moved elsewhere, or never here */
	ipmap_del(&pl->hosts, &ip);
	w->nhosts--;
	pl->st.hosts_deleted++;
	free(h);
}

/* --- queries ---------------------------------------------------------------------------------- */

/* The misses of one message that its edge may have flooded, to every located edge, in one
 * Portland each. */
static void flood(struct portland *pl, struct session *s, struct pl_switch *w,
		  const L2f__Portland *in)
{
	L2f__ArpMiss **fl = calloc(in->n_misses, sizeof(*fl));
	L2f__Portland m = L2F__PORTLAND__INIT;
	L2f__Envelope env = L2F__ENVELOPE__INIT;

	if (!fl)
		return;
	for (size_t i = 0; i < in->n_misses; i++) {
		if (bucket_take(&w->flood_rate, monotime_now()))
			fl[m.n_floods++] = in->misses[i];
		else
			refuse(pl, PLR_FLOOD_RATE, s, "a miss not flooded: over the flood rate");
	}
	m.floods = fl;
	env.msg_case = L2F__ENVELOPE__MSG_PORTLAND;
	env.portland = &m;
	for (size_t i = 0; m.n_floods && i < pl->nsw; i++) {
		struct pl_switch *e = &pl->sw[i];

		if (e->s && is_located_edge(e) && wire_send(e->s->w, &env) == 0)
			pl->st.floods_sent += m.n_floods;
	}
	free(fl);
}

/* The PMAC as the low 48 bits of a number, 0 for none. */
static uint64_t pmac_num(const struct pl_host *h)
{
	uint64_t v = 0;

	for (int i = 0; h && i < MAC_LEN; i++)
		v = v << 8 | h->pmac[i];
	return v;
}

/* Answers a batch of queries from memory, in one Portland, in the batch's order. */
static void answer(struct portland *pl, struct session *s, const L2f__ArpBatch *q)
{
	L2f__ArpBatchAnswer a = L2F__ARP_BATCH_ANSWER__INIT;
	L2f__Portland m = L2F__PORTLAND__INIT;
	L2f__Envelope env = L2F__ENVELOPE__INIT;
	size_t n6 = q->ipv6.len / 16;
	uint64_t *v = malloc((q->n_ipv4 + n6 + 1) * sizeof(*v)), hits = 0;
	struct ipaddr ip = { .af = AF_INET };

	if (!v) {
		wire_close(s->w, "out of memory");
		return;
	}
	for (size_t i = 0; i < q->n_ipv4; i++) {
		uint32_t be = htonl(q->ipv4[i]);

		memcpy(ip.b, &be, 4);
		v[i] = pmac_num(ipmap_get(&pl->hosts, &ip));
		hits += v[i] != 0;
	}
	ip.af = AF_INET6;
	for (size_t i = 0; i < n6; i++) {
		memcpy(ip.b, q->ipv6.data + 16 * i, 16);
		v[q->n_ipv4 + i] = pmac_num(ipmap_get(&pl->hosts, &ip));
		hits += v[q->n_ipv4 + i] != 0;
	}
	pl->st.queries += q->n_ipv4 + n6;
	pl->st.hits += hits;
	pl->st.misses += q->n_ipv4 + n6 - hits;
	a.id = q->id;
	a.pmac4 = v;
	a.n_pmac4 = q->n_ipv4;
	a.pmac6 = v + q->n_ipv4;
	a.n_pmac6 = n6;
	m.answers = &a;
	env.msg_case = L2F__ENVELOPE__MSG_PORTLAND;
	env.portland = &m;
	if (wire_send(s->w, &env) < 0)
		wire_close(s->w, "answers could not be queued");
	free(v);
}

static void pl_msg(struct session *s, const L2f__Envelope *env)
{
	struct portland *pl = s->fd->pl;
	struct pl_switch *w = sw_of(s);
	const L2f__Portland *m = env->portland;

	if (!w)
		return;
	if (env->msg_case != L2F__ENVELOPE__MSG_PORTLAND || m->has_pod_assign || m->answers ||
	    m->n_floods || m->avoid || m->n_moved || m->mcast_table) {
		fabricd_refuse(s->fd, REFUSE_UNEXPECTED, "%s: a message switchd does not send: closed",
			       wire_name(s->w));
		wire_close(s->w, "unexpected message for this role");
		return;
	}
	if (m->location) {
		if (take_location(pl, s, w, m->location) == -EEXIST) {
			wire_close(s->w, "its switch id is another switch's");
			return;
		}
		faults_changed(pl, s->fd);
	}
	if (m->has_pod_request && m->pod_request) {
		if (w->level != L2F__SWITCH_LEVEL__LEVEL_EDGE || w->position != 0) {
			refuse(pl, PLR_POD, s, "a pod asked by a switch that is not the position-0 edge");
		} else if (w->assigned_pod < 0 && !faults_settled(pl)) {
			/* after a restart, a pod is given only once every switch some report names
			 * has reported (its pod taken back): the edge asks again */
			pl->st.pod_requests_held++;
			if (ratelimit_ok(&pl->rl))
				log_info("%s: pod for switch %s held: not every switch has reported "
					 "since fabricd started", wire_name(s->w), w->name);
		} else {
			L2f__Portland a = L2F__PORTLAND__INIT;
			L2f__Envelope out = L2F__ENVELOPE__INIT;
			int pod = assign_pod(pl, w);

			if (pod >= 0) {
				a.has_pod_assign = true;
				a.pod_assign = (uint32_t)pod;
				out.msg_case = L2F__ENVELOPE__MSG_PORTLAND;
				out.portland = &a;
				wire_send(s->w, &out);
				log_info("%s: pod %d for switch %s", wire_name(s->w), pod, w->name);
			}
		}
	}
	if ((m->n_hosts_add || m->n_hosts_del || m->queries || m->n_misses || m->mcast_members) &&
	    !is_located_edge(w)) {
		refuse(pl, PLR_NOT_EDGE, s, "hosts or queries from a switch that is not a located edge");
		return;
	}
	for (size_t i = 0; i < m->n_hosts_add; i++)
		host_add(pl, s, w, m->hosts_add[i]);
	for (size_t i = 0; i < m->n_hosts_del; i++)
		host_del(pl, w, &m->hosts_del[i]);
	if (m->queries)
		answer(pl, s, m->queries);
	if (m->n_misses)
		flood(pl, s, w, m);
	if (m->mcast_members && mcast_members(pl, s, (uint32_t)(w - pl->sw), m->mcast_members))
		mcast_changed(pl, s->fd);
}

/* A batch of WIRE_MAX_PL_BATCH IPv6 queries is about 1.2 MiB; its answers half that. */
const struct role switchd_role = {
	.role = L2F__ROLE__ROLE_SWITCHD,
	.name = "switchd",
	.max_frame = 4u << 20,
	.out_hwm = 16u << 20,
	.stuck_ms = 10000,
	.on_hello = pl_hello,
	.on_msg = pl_msg,
	.on_close = pl_close,
};

/* --- status and the API ----------------------------------------------------------------------- */

void portland_counters(const struct portland *pl, fabricd_counter_fn fn, void *ctx)
{
	size_t connected = 0, located = 0, miswired = 0, mis_ports = 0;

	for (size_t i = 0; i < pl->nsw; i++) {
		connected += pl->sw[i].s != NULL;
		located += pl->sw[i].s && pl->sw[i].located;
		miswired += pl->sw[i].s && pl->sw[i].nmis > 0;
		mis_ports += pl->sw[i].s ? pl->sw[i].nmis : 0;
	}
	fn(ctx, "portland.switches", pl->nsw, false);
	fn(ctx, "portland.switches_connected", connected, false);
	fn(ctx, "portland.switches_located", located, false);
	fn(ctx, "portland.switches_miswired", miswired, false);   /* as they report it now */
	fn(ctx, "portland.miswirings", mis_ports, false);
	fn(ctx, "portland.hosts", pl->hosts.count, false);
	fn(ctx, "portland.locations", pl->st.locations, false);
	fn(ctx, "portland.pods_assigned", pl->st.pods_assigned, false);
	fn(ctx, "portland.pods_adopted", pl->st.pods_adopted, false);
	fn(ctx, "portland.pod_requests_held", pl->st.pod_requests_held, false);
	fn(ctx, "portland.hosts_added", pl->st.hosts_added, false);
	fn(ctx, "portland.hosts_moved", pl->st.hosts_moved, false);
	fn(ctx, "portland.moves_told", pl->st.moves_told, false);
	fn(ctx, "portland.moves_untold", pl->st.moves_untold, false);
	fn(ctx, "portland.moves_told_late", pl->st.moves_told_late, false);
	fn(ctx, "portland.hosts_deleted", pl->st.hosts_deleted, false);
	fn(ctx, "portland.queries", pl->st.queries, false);
	fn(ctx, "portland.hits", pl->st.hits, false);
	fn(ctx, "portland.misses", pl->st.misses, false);
	fn(ctx, "portland.floods_sent", pl->st.floods_sent, false);
	faults_counters(pl->faults, fn, ctx);
	mcast_counters(pl->mcast, fn, ctx);
	for (int r = 0; r < NPLR; r++)
		fn(ctx, plr_names[r], pl->st.refused[r], false);
}

void portland_limits(fabricd_counter_fn fn, void *ctx)
{
	fn(ctx, "portland_max_hosts", PL_MAX_HOSTS, true);
	fn(ctx, "portland_max_hosts_per_edge", PL_MAX_HOSTS_PER_EDGE, true);
	fn(ctx, "portland_flood_rate", PL_FLOOD_RATE, true);
	fn(ctx, "portland_max_mcast_groups", PL_MAX_MCAST_GROUPS, true);
	fn(ctx, "portland_max_mcast_groups_per_edge", PL_MAX_MCAST_GROUPS_PER_EDGE, true);
	fn(ctx, "portland_mcast_report_rate", PL_MCAST_REPORT_RATE, true);
}

struct keys_ctx {
	struct ipaddr *v;
	size_t n;
};

static int collect_ip(void *val, void *arg)
{
	struct keys_ctx *c = arg;

	c->v[c->n++] = ((const struct pl_host *)val)->ip;
	return 0;
}

int portland_host_keys(const struct portland *pl, struct ipaddr **out, size_t *n)
{
	struct keys_ctx c = { malloc((pl->hosts.count + 1) * sizeof(*c.v)), 0 };

	if (!c.v)
		return -ENOMEM;
	ipmap_foreach(&pl->hosts, collect_ip, &c);
	*out = c.v;
	*n = c.n;
	return 0;
}

L2f__HostBinding *portland_host_msg(const struct portland *pl, const struct ipaddr *ip)
{
	const struct pl_host *h = ipmap_get(&pl->hosts, ip);
	L2f__HostBinding *m;

	if (!h || !(m = calloc(1, sizeof(*m))))
		return NULL;
	l2f__host_binding__init(m);
	m->ip = (ProtobufCBinaryData){ ipaddr_len(&h->ip), (uint8_t *)h->ip.b };
	m->amac = (ProtobufCBinaryData){ MAC_LEN, (uint8_t *)h->amac };
	m->pmac = (ProtobufCBinaryData){ MAC_LEN, (uint8_t *)h->pmac };
	m->port = h->port;
	m->edge = (char *)pl->sw[h->edge].name;
	if (h->moves) {
		m->has_moves = m->has_moved_at_ms = m->has_moved_from_pmac = true;
		m->moves = h->moves;
		m->moved_at_ms = (uint64_t)h->moved_at_ms;
		m->moved_from_pmac = (ProtobufCBinaryData){ MAC_LEN, (uint8_t *)h->moved_from_pmac };
		m->moved_from = h->moved_from >= 0 ? (char *)pl->sw[h->moved_from].name : NULL;
	}
	return m;
}
