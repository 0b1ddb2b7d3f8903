/*
 * switchd.c - one PortLand switch (docs/switchd.md): it finds its ports, locates itself in
 * the fat tree with LDP (ldpio.c, ldp.c), programs the eBPF data plane from that (fwd.c),
 * and at an edge gives its hosts PMACs and answers their ARP and ND through fabricd (edge.c).
 * Its only configuration is who it is (its certificate) and where fabricd is.
 *
 * The session with fabricd (role ROLE_SWITCHD) carries Portland messages: our location after
 * every change and on each new session, the position-0 edge's pod request, an edge's hosts
 * and queries; fabricd's pod number, answers and floods. While fabricd is away the switch
 * forwards on what it has: only new hosts' addresses wait.
 *
 * On stop the data plane stays attached, its maps pinned: a restarted switchd takes them over
 * (fwd.c) and forwarding never stops.
 */
#include <errno.h>
#include <event2/event.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ctlsrv.h"
#include "dp.h"
#include "log.h"
#include "rawsock.h"
#include "switchd.h"
#include "tls.h"

/* --- fabricd ---------------------------------------------------------------------------- */

bool switchd_send(struct switchd *s, L2f__Portland *m)
{
	struct wire *w = wire_client_session(s->fc);
	L2f__Envelope env = L2F__ENVELOPE__INIT;

	if (!w)
		return false;
	env.msg_case = L2F__ENVELOPE__MSG_PORTLAND;
	env.portland = m;
	return wire_send(w, &env) == 0;
}

static L2f__SwitchLevel pb_level(enum ldp_level l)
{
	return l == LDP_LEVEL_EDGE ? L2F__SWITCH_LEVEL__LEVEL_EDGE :
	       l == LDP_LEVEL_AGG ? L2F__SWITCH_LEVEL__LEVEL_AGGREGATION :
	       l == LDP_LEVEL_CORE ? L2F__SWITCH_LEVEL__LEVEL_CORE : L2F__SWITCH_LEVEL__LEVEL_UNKNOWN;
}

static L2f__PortDirection pb_dir(const struct switchd *s, int i)
{
	if (!s->ports[i].carrier)
		return L2F__PORT_DIRECTION__DIR_DISCONNECTED;
	switch (s->located ? s->loc.role[i] : LDP_ROLE_NONE) {
	case LDP_ROLE_UP:
		return L2F__PORT_DIRECTION__DIR_UP;
	case LDP_ROLE_DOWN:
		return L2F__PORT_DIRECTION__DIR_DOWN;
	case LDP_ROLE_HOST:
		return L2F__PORT_DIRECTION__DIR_HOST;
	default:
		return L2F__PORT_DIRECTION__DIR_UNKNOWN;
	}
}

/* Our location as fabricd and fabricctl see it; points into s. */
struct loc_msg {
	L2f__SwitchLocation l;
	L2f__SwitchPort ports[SWITCHD_MAX_PORTS], *pp[SWITCHD_MAX_PORTS];
	L2f__Miswiring mis[SWITCHD_MAX_PORTS], *mp[SWITCHD_MAX_PORTS];
};

static void location_msg(struct switchd *s, struct loc_msg *m)
{
	struct ldp_location cur;

	ldp_location(&s->ldp, &cur);
	l2f__switch_location__init(&m->l);
	m->l.switch_id = (ProtobufCBinaryData){ MAC_LEN, s->switch_id.b };
	m->l.level = pb_level(cur.level);
	if ((m->l.has_pod = cur.pod >= 0))
		m->l.pod = (uint32_t)cur.pod;
	if ((m->l.has_position = cur.position >= 0))
		m->l.position = (uint32_t)cur.position;
	m->l.located = s->located;
	if (!s->located)
		m->l.why = cur.level == LDP_LEVEL_UNKNOWN ? "LDP: level not known yet" :
			   cur.level == LDP_LEVEL_EDGE && cur.position < 0 ? "LDP: no position yet" :
			   "LDP: no pod number yet";
	for (int i = 0; i < s->nports; i++) {
		L2f__SwitchPort *p = &m->ports[i];
		const struct ldp_port *lp = &s->ldp.port[i];

		l2f__switch_port__init(p);
		p->port = s->ports[i].num;
		p->dir = pb_dir(s, i);
		p->name = s->ports[i].name;
		const struct ldp_neigh *nb = NULL;

		if (lp->state == LDP_PORT_SWITCH || lp->state == LDP_PORT_LOST) {
			nb = &lp->nb;
			s->gone[i] = lp->nb;
			s->has_gone[i] = true;
			p->has_lost = p->lost = lp->state == LDP_PORT_LOST;
		} else if (lp->state == LDP_PORT_HOST) {
			s->has_gone[i] = false;   /* hosts there now: no link to report */
		} else if (s->has_gone[i]) {
			/* down, or up again without an LDM yet: the link is still dead */
			nb = &s->gone[i];
			p->has_lost = p->lost = true;
			p->has_down = p->down = lp->state == LDP_PORT_DOWN;
		}
		if (nb) {
			p->has_peer_id = p->has_peer_port = p->has_peer_level = true;
			p->peer_id = (ProtobufCBinaryData){ MAC_LEN, (uint8_t *)nb->id.b };
			p->peer_port = nb->port;
			p->peer_level = pb_level(nb->level);
		}
		m->pp[i] = p;
	}
	m->l.ports = m->pp;
	m->l.n_ports = (size_t)s->nports;
	m->l.n_miswirings = 0;
	for (int i = 0; i < s->nmis; i++) {
		L2f__Miswiring *w = &m->mis[m->l.n_miswirings];

		/* only while it holds: LDP clears it when the neighbour changes or is judged again */
		if (!(s->ldp.port[s->mis[i].port].miswired & 1u << s->mis[i].why))
			continue;
		l2f__miswiring__init(w);
		w->port = s->mis[i].port;
		w->reason = (char *)ldp_miswire_name(s->mis[i].why);
		w->has_peer_id = true;
		w->peer_id = (ProtobufCBinaryData){ MAC_LEN, s->mis[i].peer.b };
		m->mp[m->l.n_miswirings++] = w;
	}
	m->l.miswirings = m->mp;
}

static bool report(struct switchd *s, bool pod_request)
{
	struct loc_msg *lm = calloc(1, sizeof(*lm));
	L2f__Portland m = L2F__PORTLAND__INIT;
	bool sent;

	if (!lm)
		return false;
	location_msg(s, lm);
	m.location = &lm->l;
	m.has_pod_request = m.pod_request = pod_request;
	sent = switchd_send(s, &m);
	free(lm);
	return sent;
}

void switchd_report(struct switchd *s)
{
	report(s, false);
}

bool switchd_report_pod_request(struct switchd *s)
{
	return report(s, true);
}

static void on_port_sock(evutil_socket_t fd, short what, void *arg)
{
	struct port_sock *ps = arg;
	uint8_t buf[2048];

	for (int n = 0; n < 64; n++) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);

		if (len < 0)
			break;
		ps->fn(ps->s, ps->port, buf, (size_t)len);
	}
}

int port_sock_open(struct switchd *s, int port, uint16_t type, const struct sock_filter *f,
		   size_t nf, void (*fn)(struct switchd *s, int port, const uint8_t *f, size_t len),
		   struct port_sock *ps)
{
	*ps = (struct port_sock){ .s = s, .port = port, .fn = fn };
	ps->fd = rawsock_open_proto(s->ports[port].ifindex, type, f, nf);
	if (ps->fd < 0)
		return ps->fd;
	ps->ev = event_new(s->base, ps->fd, EV_READ | EV_PERSIST, on_port_sock, ps);
	return ps->ev && event_add(ps->ev, NULL) == 0 ? 0 : -ENOMEM;
}

void port_sock_close(struct port_sock *ps)
{
	if (ps->ev)
		event_free(ps->ev);
	if (ps->fd >= 0)
		close(ps->fd);
	ps->ev = NULL;
	ps->fd = -1;
}

static void on_fabric_hello(struct wire *w, void *ctx)
{
	struct switchd *s = ctx;

	s->c.fabric_sessions++;
	log_info("fabricd %s: session up", s->cfg.fabricd);
	switchd_report(s);
	edge_resend(s);
	if (s->nmgroups || s->mcast_unsent)
		mcast_report(s);   /* else: fabricd keeps what a previous run reported */
}

static void on_fabric_msg(struct wire *w, const L2f__Envelope *env, void *ctx)
{
	struct switchd *s = ctx;
	const L2f__Portland *m = env->portland;

	if (env->msg_case != L2F__ENVELOPE__MSG_PORTLAND)
		return;
	if (m->has_pod_assign)
		ldpio_pod(s, (int)m->pod_assign);
	if (m->avoid)
		avoid_table(s, m->avoid);
	if (m->answers)
		edge_answers(s, m->answers);
	if (m->n_floods)
		edge_floods(s, m->floods, m->n_floods);
	if (m->n_moved)
		moved_hosts(s, m->moved, m->n_moved);
	if (m->mcast_table)
		mcast_table(s, m->mcast_table);
}

static void on_fabric_close(struct wire *w, const char *why, void *ctx)
{
	struct switchd *s = ctx;

	log_warn("fabricd %s: session closed: %s", s->cfg.fabricd, why);
}

static const struct wire_ops fabric_ops = {
	.on_hello = on_fabric_hello,
	.on_msg = on_fabric_msg,
	.on_close = on_fabric_close,
};

static int fabric_start(struct switchd *s)
{
	struct wire_client_opts o = { s->cfg.fabricd, s->tls, &s->hello, &fabric_ops, s };

	l2f__hello__init(&s->hello);
	s->hello.version = PROTO_VERSION;
	s->hello.role = L2F__ROLE__ROLE_SWITCHD;
	s->hello.id = s->id;
	return wire_client_new(s->base, &o, &s->fc);
}

/* --- the control socket ------------------------------------------------------------------ */

struct counter_ctx {
	L2f__SwitchStatus *st;
	L2f__Counter *c, **cp;
	size_t max;
};

static void add_counter(void *ctx, const char *name, uint64_t v)
{
	struct counter_ctx *cc = ctx;
	L2f__Counter *c = &cc->c[cc->st->n_counters];

	if (cc->st->n_counters >= cc->max)
		return;
	l2f__counter__init(c);
	c->name = (char *)name;
	c->value = v;
	cc->cp[cc->st->n_counters++] = c;
}

static void status_reply(struct switchd *s, L2f__Reply *r, struct ctlsrv_cleanup *cl)
{
	struct ctlsrv_pool *pl = ctlsrv_pool_new(cl);
	L2f__SwitchStatus *st = pl ? ctlsrv_palloc(pl, sizeof(*st)) : NULL;
	struct loc_msg *lm = pl ? ctlsrv_palloc(pl, sizeof(*lm)) : NULL;
	const struct wire_client_status *cs = wire_client_status(s->fc);
	/* at most 40 after LDP's (see below), 20 of the edge, faults and fwd_apply, 14 of
	 * multicast, the verdicts, the maps and migration's (C() stops at maxc: a counter
	 * added without its room here is missing from the list, never written past it) */
	size_t maxc = 40 + 20 + 14 + SW_V_COUNT + DP_COUNTED_MAPS + MOVED_COUNTERS;
	L2f__Counter *c = pl ? ctlsrv_palloc(pl, maxc * sizeof(*c)) : NULL;
	L2f__Counter **cp = pl ? ctlsrv_palloc(pl, maxc * sizeof(*cp)) : NULL;
	L2f__HostBinding *hb = pl ? ctlsrv_palloc(pl, (s->nhosts * EDGE_MAX_IPS + 1) * sizeof(*hb))
				  : NULL;
	L2f__HostBinding **hp = pl ? ctlsrv_palloc(pl, (s->nhosts * EDGE_MAX_IPS + 1) * sizeof(*hp))
				   : NULL;
	uint64_t verdicts[SW_V_COUNT] = { 0 };
	struct dp_map_count maps[DP_COUNTED_MAPS];

	if (!st || !lm || !c || !cp || !hb || !hp) {
		r->error = "out of memory";
		return;
	}
	l2f__switch_status__init(st);
	st->id = s->id;
	location_msg(s, lm);
	for (int i = 0; s->dp && i < s->nports; i++) {
		struct sw_port_stats ps;

		if (dp_read_port_tx(s->dp, s->ports[i].ifindex, &ps) < 0)
			continue;   /* not in the data plane (yet) */
		lm->ports[i].has_tx_frames = lm->ports[i].has_tx_bytes = true;
		lm->ports[i].tx_frames = ps.frames;
		lm->ports[i].tx_bytes = ps.bytes;
	}
	st->location = &lm->l;
	st->fabricd = s->cfg.fabricd;
	st->fabricd_connected = cs->connected;
	st->fabricd_last_error = cs->last_error[0] ? (char *)cs->last_error : NULL;
	st->control_interface = s->control[0] ? s->control : NULL;
#define C(n, v) do { if (st->n_counters >= maxc) break; \
		     l2f__counter__init(&c[st->n_counters]); c[st->n_counters].name = (char *)(n); \
		     c[st->n_counters].value = v; cp[st->n_counters] = &c[st->n_counters]; \
		     st->n_counters++; } while (0)
	C("ldp.rx", s->c.ldp_rx);
	C("ldp.tx", s->c.ldp_tx);
	C("ldp.tx_errors", s->c.ldp_tx_errors);
	C("ldp.miswirings", s->c.miswirings);
	C("ldp.proposals", s->ldp.c.proposals);
	C("ldp.proposal_denied", s->ldp.c.proposal_denied);
	C("ldp.proposal_timeouts", s->ldp.c.proposal_timeouts);
	C("ldp.pod_requests", s->ldp.c.pod_requests);
	C("ldp.neighbours_lost", s->ldp.c.neighbours_lost);
	C("ldp.stalls", s->ldp.c.stalls);
	C("ldp.late_switches", s->ldp.c.late_switches);
	C("ldp.level_resets", s->ldp.c.level_resets);
	for (int d = 1; d < PKT_DROP_COUNT; d++)
		if (s->ldp.c.drops[d] && st->n_counters < 40) {
			char *name = ctlsrv_palloc(pl, 48);

			if (name) {
				snprintf(name, 48, "ldp.dropped.%s", pkt_drop_name(d));
				C(name, s->ldp.c.drops[d]);
			}
		}
	C("edge.hosts", s->nhosts);
	C("edge.arp_rx", s->c.arp_rx);
	C("edge.nd_rx", s->c.nd_rx);
	C("edge.arp_answered", s->c.arp_answered);
	C("edge.nd_answered", s->c.nd_answered);
	C("edge.queries_sent", s->c.queries_sent);
	C("edge.misses", s->c.misses);
	C("edge.floods_received", s->c.floods_rx);
	C("edge.floods_sent", s->c.floods_sent);
	C("edge.unknown_sources", s->c.unknown_src);
	C("edge.hosts_aged", s->c.hosts_aged);
	C("edge.hosts_refused", s->c.hosts_refused);
	C("edge.vmids_held", vmids_held(&s->vmids));
	C("frames_dropped", s->c.frames_dropped);
	C("fwd.applies", s->c.fwd_applies);
	C("fwd.apply_us", s->c.fwd_apply_us);
	C("fwd.apply_us_max", s->c.fwd_apply_us_max);
	C("faults.avoid_rows", s->c.avoid_tables);
	C("faults.avoid_entries", s->navoid);
	C("faults.avoid_over_cap", s->c.avoid_over_cap);
	C("mcast.groups", s->nmgroups);
	C("mcast.reports_rx", s->c.mcast_reports_rx);
	C("mcast.reports_dropped", s->c.mcast_reports_dropped);
	C("mcast.reports_rate_limited", s->c.mcast_rate_limited);
	C("mcast.joins", s->c.mcast_joins);
	C("mcast.leaves", s->c.mcast_leaves);
	C("mcast.groups_over_cap", s->c.mcast_groups_over_cap);
	C("mcast.members_over_cap", s->c.mcast_members_over_cap);
	C("mcast.reports_sent", s->c.mcast_reports_sent);
	C("mcast.reports_coalesced", s->c.mcast_reports_coalesced);
	C("mcast.tables", s->c.mcast_tables);
	C("mcast.entries", s->c.mcast_entries);
	C("mcast.entries_over_cap", s->c.mcast_entries_over_cap);
	C("mcast.entries_removed", s->c.mcast_entries_removed);
	{
		struct counter_ctx cc = { st, c, cp, maxc };

		moved_counters(s, add_counter, &cc);
	}
	if (s->dp && dp_read_verdicts(s->dp, verdicts) == 0)
		for (unsigned v = 0; v < SW_V_COUNT; v++)
			C(dp_verdict_name(v), verdicts[v]);
	if (s->dp && dp_count_entries(s->dp, maps) == 0)
		for (unsigned k = 0; k < DP_COUNTED_MAPS; k++) {
			char *name = ctlsrv_palloc(pl, 40);

			if (name) {
				snprintf(name, 40, "map.%s", maps[k].name);
				C(name, maps[k].entries);
			}
		}
#undef C
	st->counters = cp;
	for (size_t i = 0; i < s->nhosts; i++)
		for (uint8_t k = 0; k < s->hosts[i].nips; k++) {
			L2f__HostBinding *b = &hb[st->n_hosts];

			l2f__host_binding__init(b);
			b->ip = (ProtobufCBinaryData){ ipaddr_len(&s->hosts[i].ips[k]),
						       s->hosts[i].ips[k].b };
			b->amac = (ProtobufCBinaryData){ MAC_LEN, s->hosts[i].amac.b };
			b->pmac = (ProtobufCBinaryData){ MAC_LEN, s->hosts[i].pmac.b };
			b->port = s->hosts[i].port;
			hp[st->n_hosts++] = b;
		}
	st->hosts = hp;
	r->switch_status = st;
}

static void on_ctl_request(void *ctx, const L2f__Request *req, bool readonly, L2f__Reply *r,
			   struct ctlsrv_cleanup *cl)
{
	if (req->op_case == L2F__REQUEST__OP_SWITCH_STATUS)
		status_reply(ctx, r, cl);
	else
		r->error = "switchd answers switch status only";
}

/* --- main --------------------------------------------------------------------------------- */

static void on_stop(void *arg)
{
	log_info("data plane left attached: forwarding goes on until switchd is back");
}

static void on_reload(void *arg)
{
	log_info("reload: switchd has nothing to reload (its ports and place it finds itself)");
}

static int setup_tls(struct switchd *s)
{
	const struct switchd_cfg *c = &s->cfg;
	struct wire_tls_files files = { c->tls.ca, c->tls.cert, c->tls.key };
	char err[320];

	snprintf(s->id, sizeof(s->id), "%s", c->id);
	if (!strncmp(c->fabricd, WIRE_UNIX_PREFIX, strlen(WIRE_UNIX_PREFIX)))
		return 0;
	if (wire_tls_for(&files, false, L2F__ROLE__ROLE_SWITCHD, s->id, sizeof(s->id), &s->tls,
			 err, sizeof(err)) < 0) {
		fprintf(stderr, "switchd: fabricd %s: %s\n", c->fabricd, err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct switchd s;
	char why[512];
	int err;

	for (int i = 0; i < SWITCHD_MAX_PORTS; i++) {
		s.io[i] = (struct sw_io){ .ldp_fd = -1, .arp.fd = -1, .nd.fd = -1, .igmp.fd = -1,
					  .mld.fd = -1 };
		s.kept_route[i] = -1;
	}
	err = daemon_args(&s.dm, &switchd_spec, argc, argv);
	if (err >= 0)
		return err;
	if (switchd_cfg_load(s.dm.config, &s.dm, &s.cfg, why, sizeof(why)) < 0) {
		fprintf(stderr, "switchd: %s\n", why);
		return EXIT_CONFIG;
	}
	if (s.dm.check) {
		switchd_cfg_print(&s.cfg, stdout);
		return 0;
	}
	if (setup_tls(&s) < 0)
		return EXIT_CONFIG;
	if (daemon_start(&s.dm, s.cfg.log_level, s.cfg.log_file[0] ? s.cfg.log_file : NULL, on_stop,
			 on_reload, &s) < 0)
		return 1;
	s.base = s.dm.base;
	err = nl_open(&s.nl, 0);
	if (!err)
		err = nl_open(&s.mon, RTMGRP_LINK);
	if (err) {
		log_err("netlink: %s", strerror(-err));
		return 1;
	}
	err = ports_discover(&s.nl, s.cfg.fabricd, s.ports, SWITCHD_MAX_PORTS, s.control);
	if (err < 0) {
		log_err("ports: %s", err == -ENODEV ? "no Ethernet port besides the control "
			"interface" : strerror(-err));
		return 1;
	}
	s.nports = err;
	ports_switch_id(s.ports, (size_t)s.nports, &s.switch_id);
	log_info("switch %s: %d port(s) (%s ... %s), switch id %s, fabricd via %s", s.id, s.nports,
		 s.ports[0].name, s.ports[s.nports - 1].name,
		 mac_fmt(&s.switch_id, (char[MAC_STRLEN]){ 0 }), s.control[0] ? s.control : "-");
	err = fwd_open(&s);
	if (err < 0) {
		log_err("data plane: %s", strerror(-err));
		return 1;
	}
	if (edge_start(&s) < 0 || moved_start(&s) < 0 || mcast_start(&s) < 0 ||
	    ldpio_start(&s) < 0)
		return 1;
	if (fabric_start(&s) < 0) {
		log_err("fabricd %s: cannot start the session", s.cfg.fabricd);
		return 1;
	}
	s.ctl = ctlsrv_open(s.base, s.cfg.control_socket, 0660, s.id, L2F__ROLE__ROLE_SWITCHD,
			    false, on_ctl_request, &s, &err);
	if (!s.ctl && s.cfg.control_socket_set) {
		log_err("control socket %s: %s", s.cfg.control_socket, strerror(-err));
		return 1;
	}
	if (!s.ctl)
		log_warn("control socket %s: %s; going on without one (give --control-socket)",
			 s.cfg.control_socket, strerror(-err));
	if (s.cfg.status_socket[0]) {
		s.ctl_status = ctlsrv_open(s.base, s.cfg.status_socket, 0666, s.id,
					   L2F__ROLE__ROLE_SWITCHD, true, on_ctl_request, &s, &err);
		if (!s.ctl_status) {
			log_err("status socket %s: %s", s.cfg.status_socket, strerror(-err));
			return 1;
		}
	}
	if (daemon_metrics(&s.dm, s.cfg.metrics, switchd_metrics, &s) < 0)
		return 1;
	if (daemon_ready(&s.dm, "locating") < 0)
		return 1;
	event_base_dispatch(s.base);

	wire_client_free(s.fc, "switchd stopping");
	wire_tls_free(s.tls);
	ctlsrv_close(s.ctl);
	ctlsrv_close(s.ctl_status);
	ldpio_stop(&s);
	edge_stop(&s);
	moved_stop(&s);
	mcast_stop(&s);
	fwd_close(&s);
	avoid_free(&s);
	nl_close(&s.mon);
	nl_close(&s.nl);
	daemon_finish(&s.dm);
	return 0;
}
