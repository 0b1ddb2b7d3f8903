/*
 * fwd.c - the data plane (dp.c) programmed from what LDP found: the switch's level, pod and
 * position, each port's direction, and the routes its neighbours' LDMs give - a core's down
 * port towards each pod, an aggregation switch's down port towards each edge position of its
 * pod - plus the up ports' ECMP group and, at an edge, its hosts (edge.c).
 *
 * On start the maps pinned by the previous run stay in force (dp_open reuses them): the
 * switch forwards as it did until LDP has located it again, and then dp_reconcile writes what
 * is wanted and removes the rest without a moment where a wanted entry is missing.
 *
 * A neighbour whose LDMs stop (its switchd restarting, or dead) or that has not located
 * itself again yet keeps the port's last role and route while the carrier stays: its data
 * plane may well be forwarding still, and there is no other way to the edge position or pod
 * behind a down port. Only an up port leaves the ECMP group meanwhile (the other cores carry
 * its share), unless no up port is heard at all (then the kept ones stay in it). The
 * carrier going, a miswiring, or LDP deciding otherwise ends what was kept.
 */
#include <errno.h>
#include <event2/event.h>
#include <bpf/libbpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "dp.h"
#include "log.h"
#include "switchd.h"

void edge_unknown(struct switchd *s, int ifindex, const struct mac *amac);

static int on_unknown(void *ctx, void *data, size_t len)
{
	struct switchd *s = ctx;
	const struct sw_unknown_src *u = data;
	struct mac amac;

	if (len < sizeof(*u))
		return 0;
	memcpy(amac.b, u->amac, MAC_LEN);
	edge_unknown(s, (int)u->ifindex, &amac);
	return 0;
}

static void on_ring(evutil_socket_t fd, short what, void *arg)
{
	struct switchd *s = arg;

	ring_buffer__consume(s->unknown);
}

static int port_index(const struct switchd *s, int ifindex)
{
	for (int i = 0; i < s->nports; i++)
		if (s->ports[i].ifindex == ifindex)
			return i;
	return -1;
}

static int keep_route(void *ctx, bool pod, uint32_t key, int ifindex)
{
	struct switchd *s = ctx;
	int i = port_index(s, ifindex);

	if (i >= 0 && key <= INT32_MAX)
		s->kept_route[i] = (int32_t)key;
	return 0;
}

/* What the previous run pinned is what each port keeps until its neighbour is heard (see
 * above): a core that restarts and locates on its first neighbour's LDM must not drop its
 * routes to the pods it has not heard from yet in that moment. */
static void keep_pinned(struct switchd *s)
{
	for (int i = 0; i < s->nports; i++) {
		struct sw_port p;

		if (dp_get_port(s->dp, s->ports[i].ifindex, &p) < 0)
			continue;
		s->kept_role[i] = p.dir == SW_DIR_UP ? LDP_ROLE_UP : p.dir == SW_DIR_DOWN ?
				  LDP_ROLE_DOWN : p.dir == SW_DIR_HOST ? LDP_ROLE_HOST : LDP_ROLE_NONE;
	}
	dp_walk_routes(s->dp, keep_route, s);
}

int fwd_open(struct switchd *s)
{
	struct sw_config pinned;
	int err;

	snprintf(s->pin_dir, sizeof(s->pin_dir), "%s/%s", s->cfg.bpf_dir, s->id);
	err = dp_open(s->pin_dir, &s->dp);
	if (err < 0)
		return err;
	for (int i = 0; i < s->nports; i++) {
		err = dp_attach(s->dp, s->ports[i].ifindex);
		if (err < 0)
			return err;
	}
	keep_pinned(s);
	/* the previous run's ECMP salt, so that a restart moves no flow to another path */
	if (dp_get_config(s->dp, &pinned) == 0 && pinned.salt)
		s->salt = pinned.salt;
	else if (getrandom(&s->salt, sizeof(s->salt), 0) != sizeof(s->salt))
		s->salt = (uint32_t)random();
	s->unknown = ring_buffer__new(dp_unknown_src_fd(s->dp), on_unknown, s, NULL);
	if (!s->unknown)
		return -errno ? -errno : -ENOMEM;
	s->unknown_ev = event_new(s->base, ring_buffer__epoll_fd(s->unknown), EV_READ | EV_PERSIST,
				  on_ring, s);
	if (!s->unknown_ev || event_add(s->unknown_ev, NULL) < 0)
		return -ENOMEM;
	log_info("data plane: attached to %d port(s), maps pinned under %s", s->nports,
		 s->pin_dir);
	return 0;
}

static uint8_t dp_level(enum ldp_level l)
{
	return l == LDP_LEVEL_CORE ? SW_LEVEL_CORE : l == LDP_LEVEL_AGG ? SW_LEVEL_AGGREGATION
								: SW_LEVEL_EDGE;
}

/* What the routes depend on besides our own location: each port's neighbour, its pod and
 * position (a core's pods and an aggregation switch's positions are learnt from the LDMs
 * after we located). */
static uint64_t routes_key(const struct switchd *s)
{
	uint64_t k = 1469598103934665603ull;

	for (int i = 0; i < s->nports; i++) {
		const struct ldp_neigh *nb = &s->ldp.port[i].nb;
		uint64_t v = (uint64_t)(uint32_t)nb->pod << 32 | (uint32_t)nb->position << 8 |
			     (uint64_t)s->ldp.port[i].state;

		k = (k ^ v) * 1099511628211ull;
	}
	return k;
}

void fwd_check_routes(struct switchd *s)
{
	if (s->located && routes_key(s) != s->routes_key && fwd_apply(s) < 0)
		log_err("data plane: the routes could not be updated");
}

int fwd_apply(struct switchd *s)
{
	struct dp_port_want ports[SWITCHD_MAX_PORTS];
	struct dp_route_want routes[SWITCHD_MAX_PORTS];
	uint32_t up[SWITCHD_MAX_PORTS], kept_up[SWITCHD_MAX_PORTS];
	struct dp_host_want *hosts = calloc(s->nhosts + 1, sizeof(*hosts));
	unsigned maxdests = s->navoid < SW_MAX_DESTS ? (unsigned)s->navoid : SW_MAX_DESTS;
	struct dp_dest_want *dests = calloc(maxdests + 1, sizeof(*dests));
	struct dp_want w = { .ports = ports, .up = up, .hosts = hosts, .dests = dests };
	const struct ldp_location *l = &s->loc;
	struct monotime t0 = monotime_now();
	unsigned nroutes = 0, n_kept_up = 0;
	int64_t us;
	int ret;

	if (!s->dp || !hosts || !dests) {
		free(hosts);
		free(dests);
		return s->dp ? -ENOMEM : 0;
	}
	w.config.level = dp_level(l->level);
	w.config.located = s->located;
	w.config.pod = l->pod >= 0 ? (uint16_t)l->pod : 0;
	w.config.position = l->position >= 0 ? (uint8_t)l->position : 0;
	w.config.salt = s->salt;
	for (int i = 0; i < s->nports && i < l->nports; i++) {
		const struct ldp_port *lp = &s->ldp.port[i];
		const struct ldp_neigh *nb = &lp->nb;
		int ifindex = s->ports[i].ifindex, role = l->role[i], key = -1;
		bool kept = false;

		if (role == LDP_ROLE_NONE && s->ports[i].carrier && lp->state != LDP_PORT_DOWN &&
		    s->kept_role[i] != LDP_ROLE_NONE) {
			role = s->kept_role[i];
			kept = true;
		}
		if (role == LDP_ROLE_DOWN) {
			/* a core reaches each pod, an aggregation switch each edge of its pod, on
			 * the port its LDMs came from */
			key = kept ? -1 : l->level == LDP_LEVEL_CORE ? nb->pod :
			      l->level == LDP_LEVEL_AGG ? nb->position : -1;
			/* a kept role keeps its route: its neighbour is not heard (a port not
			 * heard since a restart has no neighbour at all, nb all zero) */
			if (key < 0 && lp->state != LDP_PORT_DOWN)
				key = s->kept_route[i];
		}
		s->kept_role[i] = (int8_t)role;
		s->kept_route[i] = key;
		switch (role) {
		case LDP_ROLE_UP:
			ports[w.n_ports++] = (struct dp_port_want){ ifindex, SW_DIR_UP };
			if (!kept)
				up[w.n_up++] = (uint32_t)ifindex;
			else
				kept_up[n_kept_up++] = (uint32_t)ifindex;
			break;
		case LDP_ROLE_DOWN:
			ports[w.n_ports++] = (struct dp_port_want){ ifindex, SW_DIR_DOWN };
			if (key >= 0)
				routes[nroutes++] = (struct dp_route_want){ (uint32_t)key, ifindex };
			break;
		case LDP_ROLE_HOST:
			ports[w.n_ports++] = (struct dp_port_want){ ifindex, SW_DIR_HOST };
			break;
		default:
			break;             /* not forwarding: miswired, lost or undecided */
		}
	}
	/* no up neighbour heard (a restart that located on its down neighbours' LDMs first):
	 * the kept ones stay in the group rather than none, their data planes may forward */
	if (!w.n_up) {
		memcpy(up, kept_up, n_kept_up * sizeof(*up));
		w.n_up = n_kept_up;
	}
	if (l->level == LDP_LEVEL_CORE) {
		w.pods = routes;
		w.n_pods = nroutes;
	} else {
		w.positions = routes;
		w.n_positions = nroutes;
	}
	/* around faults fabricd told of: per destination, the up group less what cannot reach it */
	ret = avoid_groups(s, up, w.n_up, dests, maxdests);
	if (ret < 0)
		w.keep_dests = true;
	else
		w.n_dests = (unsigned)ret;
	for (size_t i = 0; l->level == LDP_LEVEL_EDGE && i < s->nhosts; i++)
		hosts[w.n_hosts++] = (struct dp_host_want){ s->hosts[i].pmac, s->hosts[i].amac,
							     s->ports[s->hosts[i].port].ifindex };
	ret = dp_reconcile(s->dp, &w);
	free(hosts);
	free(dests);
	us = monotime_diff_us(monotime_now(), t0);
	s->c.fwd_applies++;
	s->c.fwd_apply_us += us > 0 ? (uint64_t)us : 0;
	if (us > 0 && (uint64_t)us > s->c.fwd_apply_us_max)
		s->c.fwd_apply_us_max = (uint64_t)us;
	if (ret >= 0)
		s->routes_key = routes_key(s);
	if (ret > 0)
		log_info("data plane: %d stale entr%s removed", ret, ret == 1 ? "y" : "ies");
	return ret < 0 ? ret : 0;
}

int fwd_host(struct switchd *s, const struct edge_host *h, bool add)
{
	if (!s->dp)
		return 0;
	if (add)
		moved_pmac_taken(s, &h->pmac);
	return add ? dp_set_host(s->dp, &h->pmac, &h->amac, s->ports[h->port].ifindex)
		   : dp_del_host(s->dp, &h->pmac);
}

void fwd_close(struct switchd *s)
{
	if (s->unknown_ev)
		event_free(s->unknown_ev);
	if (s->unknown)
		ring_buffer__free(s->unknown);
	dp_close(s->dp);
	s->unknown_ev = NULL;
	s->unknown = NULL;
	s->dp = NULL;
}
