/*
 * ldp.c - PortLand's Location Discovery Protocol for one switch (SIGCOMM 2009, 3.4; see ldp.h).
 *
 * Level (Algorithm 1). A switch starts at level unknown and sends LDMs out every port, every
 * LDM period. It decides once, from what its neighbours say:
 *  - hearing an aggregation switch that has set the direction of the link: an edge if the
 *    aggregation switch has it down, a core if up. An aggregation switch knows the direction
 *    of a link to a switch of unknown level once the other side of it is complete: with
 *    k/2 cores heard its other switch ports face edges, with k/2 edges heard they face
 *    cores. So a switch that starts (or restarts) into a fabric already located needs one
 *    LDM, not the host timeout;
 *  - hearing an edge: a miswired edge if it also hears an aggregation switch, or most of
 *    its ports stayed silent (hosts) for the host timeout - the paper's rule for telling
 *    the two apart; else an aggregation switch if it hears more than k/2 switches and has
 *    no silent port (or none silent for less than twice the host timeout); else it waits;
 *  - core when more than k/2 switches are heard and every active port hears an aggregation
 *    switch that has not set a direction for the link (its edge-facing ports are down);
 *  - edge when it heard no more than k/2 switches, and at least one, for the host timeout
 *    ("sufficiently long"); its silent ports then become host-connected after the same timeout, and the
 *    ports that hear LDMs are up ports. Also an edge: a switch with such a silent port that
 *    hears no more than k/2 aggregation switches, so that an edge with a host port cabled
 *    to another switch (more than k/2 switches) still finds its level and reports the link.
 * An edge that hears k/2 switches has all the uplinks a fat tree gives it: its other ports
 * are host ports at once. LDMs on a host port are a miswiring, but for an edge short of its
 * k/2 uplinks on a port no host has spoken on (ldp_host_seen): that is a switch that started
 * after the host timeout, or booted (carrier up before its switchd spoke), and it is taken.
 * Directions follow from the neighbours' levels: an edge's switch ports are up, a core's
 * ports down, an aggregation switch's ports down to edges and up to cores.
 *
 * Position (Algorithm 2). An edge proposes a random position in 0..k/2-1 to the aggregation
 * switches it hears, with a fresh nonce. Each holds the position for the proposer for
 * LDP_HOLD_PERIODS and accepts, or denies if another edge holds it or has it for good. A majority
 * of the pod's k/2 aggregation switches makes it final (two majorities always share a switch,
 * which denies the second while it holds the first); the edge then announces it in its LDMs,
 * which turn the holds into final claims. A deny from too many to reach a majority, or no
 * majority in LDP_PROPOSE_PERIODS, starts a new attempt avoiding the denied positions.
 *
 * Pod. The edge at position 0 asks the fabric manager (again every LDP_POD_RETRY_PERIODS until
 * answered); aggregation switches take the pod from their edges' LDMs, and the other edges
 * from their aggregation switches'. A core never has one.
 *
 * Miswiring is reported once per port and reason while it holds (ldp_ops.miswired), counted,
 * and the port is given no role: an edge hearing an edge, levels that cannot face each other,
 * a neighbour in another pod, two edges claiming one position, LDMs on a host port (those are
 * also dropped), our own LDMs back.
 *
 * Every timeout is a multiple of the LDM period, so the machine wakes for the next LDM
 * (ldp_next_deadline) and checks the timeouts then: each fires at most one period late -
 * except a neighbour's dead time, which it wakes for on its own (silent-link detection is
 * the failover's floor: last LDM + miss x period, not a period more).
 */
#include <errno.h>
#include <string.h>
#include "ldp_priv.h"

const char *ldp_role_name(enum ldp_role r)
{
	static const char *const names[] = {
		[LDP_ROLE_NONE] = "none", [LDP_ROLE_UP] = "up", [LDP_ROLE_DOWN] = "down",
		[LDP_ROLE_HOST] = "host", [LDP_ROLE_MISWIRED] = "miswired",
	};

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

const char *ldp_miswire_name(enum ldp_miswire w)
{
	static const char *const names[LDP_MISWIRE_COUNT] = {
		[LDP_MISWIRE_EDGE_EDGE] = "edge_to_edge", [LDP_MISWIRE_LEVEL] = "level",
		[LDP_MISWIRE_POD] = "pod", [LDP_MISWIRE_POSITION] = "position",
		[LDP_MISWIRE_HOST_PORT] = "ldm_on_host_port", [LDP_MISWIRE_SELF] = "own_ldm",
	};

	return (unsigned)w < LDP_MISWIRE_COUNT ? names[w] : "?";
}

const char *ldp_port_state_name(enum ldp_port_state s)
{
	static const char *const names[] = {
		[LDP_PORT_DOWN] = "down", [LDP_PORT_SILENT] = "silent", [LDP_PORT_HOST] = "host",
		[LDP_PORT_SWITCH] = "switch", [LDP_PORT_LOST] = "lost",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static int switch_count(const struct ldp *l)
{
	int n = 0;

	for (int p = 0; p < l->nports; p++)
		n += was_switch(&l->port[p]);
	return n;
}

static bool silent_too_long(const struct ldp *l, const struct ldp_port *pp, struct monotime now)
{
	return pp->state == LDP_PORT_SILENT &&
	       monotime_diff_us(now, pp->up_since) >= l->t.host_us;
}

static enum ldp_dir port_dir(const struct ldp *l, int p)
{
	const struct ldp_port *pp = &l->port[p];

	if (l->level == LDP_LEVEL_CORE)
		return LDP_DIR_DOWN;
	if (!usable(pp))
		return LDP_DIR_UNKNOWN;
	if (l->level == LDP_LEVEL_EDGE)
		return LDP_DIR_UP;
	if (l->level == LDP_LEVEL_AGG && pp->nb.level == LDP_LEVEL_EDGE)
		return LDP_DIR_DOWN;
	if (l->level == LDP_LEVEL_AGG && pp->nb.level == LDP_LEVEL_CORE)
		return LDP_DIR_UP;
	/* a neighbour of unknown level on the side that is not yet complete */
	if (l->level == LDP_LEVEL_AGG && pp->nb.level == LDP_LEVEL_UNKNOWN) {
		if (usable_count(l, LDP_LEVEL_CORE) >= half_k(l))
			return LDP_DIR_DOWN;
		if (usable_count(l, LDP_LEVEL_EDGE) >= half_k(l))
			return LDP_DIR_UP;
	}
	return LDP_DIR_UNKNOWN;
}

static enum ldp_role port_role(const struct ldp *l, int p)
{
	const struct ldp_port *pp = &l->port[p];

	if (pp->state == LDP_PORT_HOST)
		return LDP_ROLE_HOST;
	if (pp->state != LDP_PORT_SWITCH)
		return LDP_ROLE_NONE;
	if (pp->miswired)
		return LDP_ROLE_MISWIRED;
	switch (port_dir(l, p)) {
	case LDP_DIR_UP:
		return LDP_ROLE_UP;
	case LDP_DIR_DOWN:
		return LDP_ROLE_DOWN;
	default:
		return LDP_ROLE_NONE;
	}
}

void ldp_location(const struct ldp *l, struct ldp_location *out)
{
	memset(out, 0, sizeof(*out));
	out->located = l->located;
	out->level = l->level;
	out->pod = l->pod;
	out->position = l->position;
	out->nports = l->nports;
	for (int p = 0; p < l->nports; p++)
		out->role[p] = port_role(l, p);
}

void ldp_header(const struct ldp *l, int p, enum ldp_type type, struct ldp_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->switch_id = l->id;
	m->level = l->level;
	m->dir = port_dir(l, p);
	m->port = (uint8_t)p;
	m->pod = l->pod;
	m->position = l->position;
}

static void send_ldm(struct ldp *l, int p)
{
	struct ldp_msg m;

	ldp_header(l, p, LDP_TYPE_LDM, &m);
	l->ops->send(l->ctx, p, &m);
}

static void send_ldms(struct ldp *l)
{
	for (int p = 0; p < l->nports; p++)
		if (l->port[p].state != LDP_PORT_DOWN)
			send_ldm(l, p);
}

static void neigh_msg(const struct ldp_port *pp, struct ldp_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = LDP_TYPE_LDM;
	m->switch_id = pp->nb.id;
	m->level = pp->nb.level;
	m->dir = pp->nb.dir;
	m->port = pp->nb.port;
	m->pod = pp->nb.pod;
	m->position = pp->nb.position;
}

static void report(struct ldp *l, int p, enum ldp_miswire why, const struct ldp_msg *seen)
{
	struct ldp_port *pp = &l->port[p];

	if (pp->miswired & 1u << why)
		return;
	pp->miswired |= 1u << why;
	l->c.miswirings++;
	l->ops->miswired(l->ctx, p, why, seen);
}

void ldp_report_neigh(struct ldp *l, int p, enum ldp_miswire why)
{
	struct ldp_msg seen;

	neigh_msg(&l->port[p], &seen);
	report(l, p, why, &seen);
}

/* ---- level (Alg. 1) ---- */

static void classify_hosts(struct ldp *l, struct monotime now)
{
	bool uplinks_complete;

	if (l->level != LDP_LEVEL_EDGE)
		return;
	uplinks_complete = switch_count(l) >= half_k(l);
	for (int p = 0; p < l->nports; p++)
		if (l->port[p].state == LDP_PORT_SILENT &&
		    (uplinks_complete || silent_too_long(l, &l->port[p], now)))
			l->port[p].state = LDP_PORT_HOST;
}

/* Ports up and silent for at least `us`. */
static int silent_for(const struct ldp *l, struct monotime now, int64_t us)
{
	int n = 0;

	for (int p = 0; p < l->nports; p++)
		n += l->port[p].state == LDP_PORT_SILENT &&
		     monotime_diff_us(now, l->port[p].up_since) >= us;
	return n;
}

/* Alg. 1 lines 14-18: every active port hears an aggregation switch that has not set the
 * direction of the link. */
static bool all_ports_undirected_aggs(const struct ldp *l)
{
	for (int p = 0; p < l->nports; p++) {
		const struct ldp_port *pp = &l->port[p];

		if (pp->state == LDP_PORT_DOWN)
			continue;
		if (pp->state != LDP_PORT_SWITCH || pp->nb.level != LDP_LEVEL_AGG ||
		    pp->nb.dir != LDP_DIR_UNKNOWN)
			return false;
	}
	return true;
}

/* Of the aggregation switches heard, how many have the link down (we are below them) and up. */
static void agg_dirs(const struct ldp *l, int *down, int *up)
{
	*down = *up = 0;
	for (int p = 0; p < l->nports; p++) {
		const struct ldp_port *pp = &l->port[p];

		if (!usable(pp) || pp->nb.level != LDP_LEVEL_AGG)
			continue;
		*down += pp->nb.dir == LDP_DIR_DOWN;
		*up += pp->nb.dir == LDP_DIR_UP;
	}
}

static enum ldp_level infer_level(struct ldp *l, struct monotime now)
{
	int n = switch_count(l), aggs = usable_count(l, LDP_LEVEL_AGG), below, above;
	bool edge = usable_count(l, LDP_LEVEL_EDGE) > 0, agg = aggs > 0;

	agg_dirs(l, &below, &above);
	/* an aggregation switch told us which side of it we are on (and none said otherwise;
	 * an edge has no more than k/2 of them) */
	if (below && !above && !edge && aggs <= half_k(l))
		return LDP_LEVEL_EDGE;
	if (above && !below && !edge)
		return LDP_LEVEL_CORE;

	/* an edge has an uplink: a switch that hears none waits for one (its neighbours are
	 * all late, or it is a core whose aggregation switches have not started) */
	if (n > half_k(l) || n == 0)
		l->edge_since = (struct monotime){ 0 };
	else if (!monotime_is_set(l->edge_since) || n != l->edge_n)
		l->edge_since = now;
	l->edge_n = n;
	if (!(n > half_k(l) && agg && aggs <= half_k(l) && silent_for(l, now, 0)))
		l->mixed_since = (struct monotime){ 0 };
	else if (!monotime_is_set(l->mixed_since))
		l->mixed_since = now;
	/* Host ports and no more than k/2 aggregation switches, for the host timeout: an edge,
	 * even one with more than k/2 switches because a host port is cabled to another switch.
	 * Held that long, not merely true once: a core has k aggregation switches and a silent
	 * port only where one has not started, and while its pods come up it hears them turn
	 * aggregation one by one - for a moment no more than k/2 of them. */
	if (monotime_is_set(l->mixed_since) &&
	    monotime_diff_us(now, l->mixed_since) >= l->t.host_us)
		return LDP_LEVEL_EDGE;
	if (edge) {
		/* the paper's test for a miswired edge: it hears an aggregation switch too, or
		 * most of its ports are host-connected */
		if (agg || silent_for(l, now, l->t.host_us) >= half_k(l))
			return LDP_LEVEL_EDGE;
		/* An aggregation switch hears only switches. One with silent ports may be an
		 * edge cabled to another: it waits a second host timeout, in which the other
		 * edges of its pod decide and its aggregation switches tell it what it is. */
		if (n > half_k(l) &&
		    silent_for(l, now, 0) == silent_for(l, now, 2 * l->t.host_us))
			return LDP_LEVEL_AGG;
		return LDP_LEVEL_UNKNOWN;
	}
	if (n > half_k(l) && all_ports_undirected_aggs(l))
		return LDP_LEVEL_CORE;
	if (monotime_is_set(l->edge_since) &&
	    monotime_diff_us(now, l->edge_since) >= l->t.host_us)
		return LDP_LEVEL_EDGE;
	return LDP_LEVEL_UNKNOWN;
}

/* ---- neighbours: miswiring and the pod ---- */

static bool levels_can_face(enum ldp_level a, enum ldp_level b)
{
	if (a == LDP_LEVEL_UNKNOWN || b == LDP_LEVEL_UNKNOWN)
		return true;
	if (a == LDP_LEVEL_AGG)
		return b != LDP_LEVEL_AGG;
	return b == LDP_LEVEL_AGG;          /* an edge or a core faces aggregation only */
}

static bool has_pod(enum ldp_level level)
{
	return level == LDP_LEVEL_EDGE || level == LDP_LEVEL_AGG;
}

static void check_port(struct ldp *l, int p)
{
	const struct ldp_port *pp = &l->port[p];

	if (pp->state != LDP_PORT_SWITCH)
		return;
	if (l->level == LDP_LEVEL_EDGE && pp->nb.level == LDP_LEVEL_EDGE)
		ldp_report_neigh(l, p, LDP_MISWIRE_EDGE_EDGE);
	else if (!levels_can_face(l->level, pp->nb.level))
		ldp_report_neigh(l, p, LDP_MISWIRE_LEVEL);
	else if (has_pod(l->level) && has_pod(pp->nb.level) && l->pod != LDP_NONE &&
		 pp->nb.pod != LDP_NONE && pp->nb.pod != l->pod && !pp->miswired)
		ldp_report_neigh(l, p, LDP_MISWIRE_POD);
}

/* An edge takes the pod from its aggregation switches, an aggregation switch from its edges. */
static void adopt_pod(struct ldp *l)
{
	enum ldp_level from = l->level == LDP_LEVEL_EDGE ? LDP_LEVEL_AGG : LDP_LEVEL_EDGE;

	if (!has_pod(l->level) || l->pod != LDP_NONE)
		return;
	for (int p = 0; p < l->nports; p++) {
		const struct ldp_port *pp = &l->port[p];

		if (usable(pp) && pp->nb.level == from && pp->nb.pod != LDP_NONE) {
			l->pod = pp->nb.pod;
			return;
		}
	}
}

static bool is_located(const struct ldp *l)
{
	switch (l->level) {
	case LDP_LEVEL_EDGE:
		/* and every port decided: a silent one is a host port or an uplink still to be
		 * heard, and its hosts would be dropped until the next report */
		if (l->position == LDP_NONE || l->pod == LDP_NONE)
			return false;
		for (int p = 0; p < l->nports; p++)
			if (l->port[p].state == LDP_PORT_SILENT)
				return false;
		return true;
	case LDP_LEVEL_AGG:
		if (l->pod == LDP_NONE)
			return false;
		for (int p = 0; p < l->nports; p++)
			if (usable(&l->port[p]) && port_dir(l, p) == LDP_DIR_UNKNOWN)
				return false;
		return true;
	case LDP_LEVEL_CORE:
		return true;
	default:
		return false;
	}
}

/* Once located, every change of the location is reported, even one that undoes it. */
static void report_location(struct ldp *l)
{
	struct ldp_location loc;

	if (!l->located && !is_located(l))
		return;
	ldp_location(l, &loc);
	loc.located = true;
	if (l->located && memcmp(&loc, &l->last, sizeof(loc)) == 0)
		return;
	l->located = true;
	l->last = loc;
	l->ops->located(l->ctx, &loc);
}

/* An edge decision taken back: the level, position and pod are sought again from scratch,
 * with every port's timers restarted; a located switch reports that it is no more. */
static void reset_level(struct ldp *l, struct monotime now)
{
	l->c.level_resets++;
	l->level = LDP_LEVEL_UNKNOWN;
	l->pod = l->position = l->proposal = LDP_NONE;
	l->denied_positions = 0;
	l->accepts = l->denies = 0;
	l->proposal_deadline = l->pod_retry = (struct monotime){ 0 };
	l->edge_since = now;
	l->mixed_since = (struct monotime){ 0 };
	for (int p = 0; p < l->nports; p++) {
		struct ldp_port *pp = &l->port[p];

		pp->miswired = 0;
		if (pp->state == LDP_PORT_HOST) {
			pp->state = LDP_PORT_SILENT;
			pp->up_since = now;
		}
	}
	if (l->located) {
		l->located = false;
		ldp_location(l, &l->last);
		l->ops->located(l->ctx, &l->last);
	}
}

/*
 * An edge hears LDMs on a host port no host has spoken on, with its k/2 uplinks there: a
 * miswired host port, or no edge at all - an aggregation or core switch whose neighbours on
 * one side started more than the host timeout after it. It is no edge if, with this one, it
 * hears more than k/2 aggregation switches (a core), or its uplinks are all edges (an
 * aggregation switch whose cores were late: each end took the other for its uplink).
 */
static bool not_an_edge(const struct ldp *l, const struct ldp_msg *m)
{
	int aggs = usable_count(l, LDP_LEVEL_AGG) + (m->level == LDP_LEVEL_AGG);
	int edges = 0, n = 0;

	if (l->level != LDP_LEVEL_EDGE)
		return false;
	for (int p = 0; p < l->nports; p++) {
		if (l->port[p].host_seen)
			return false;
		if (l->port[p].state == LDP_PORT_SWITCH) {
			n++;
			edges += l->port[p].nb.level == LDP_LEVEL_EDGE;
		}
	}
	return aggs > half_k(l) || (n > 0 && edges == n && m->level != LDP_LEVEL_EDGE);
}

/* What our LDMs announce beyond the per-port direction. */
struct advert {
	enum ldp_level level;
	int pod, position;
};

static struct advert advert_of(const struct ldp *l)
{
	return (struct advert){ l->level, l->pod, l->position };
}

/* Runs the rules after an input; `before` is what we announced before it. True when that
 * changed and our LDMs went out at once. */
static bool settle(struct ldp *l, struct monotime now, const struct advert *before)
{
	if (l->level == LDP_LEVEL_UNKNOWN)
		l->level = infer_level(l, now);
	/* at every input, not only at the level's decision: an edge that hears its last uplink
	 * in the same message that locates it must report its host ports with the location
	 * (else its data plane drops them until the next tick) */
	classify_hosts(l, now);
	for (int p = 0; p < l->nports; p++)
		check_port(l, p);
	adopt_pod(l);
	if (l->level == LDP_LEVEL_EDGE) {
		ldp_edge_position(l, now);
		ldp_edge_pod(l, now);
	}
	report_location(l);
	if (before->level == l->level && before->pod == l->pod &&
	    before->position == l->position)
		return false;
	/* triggered LDMs: neighbours learn a level, a pod or a position within one link delay */
	send_ldms(l);
	return true;
}

/* ---- inputs ---- */

const char *ldp_timers_why_not(const struct ldp_timers *t)
{
	if (t->ldm_us < LDP_PERIOD_MIN_US || t->ldm_us > LDP_PERIOD_MAX_US)
		return "the LDM period must be 1 ms to 1 s";
	if (t->dead_us < 2 * t->ldm_us || t->dead_us > 1000 * t->ldm_us)
		return "a neighbour must be lost after 2 to 1000 LDM periods";
	if (t->host_us < 10 * t->ldm_us || t->host_us > LDP_HOST_TIMEOUT_MAX_US)
		return "the host timeout must be at least 10 LDM periods and at most 60 s";
	return NULL;
}

int ldp_init(struct ldp *l, const struct mac *id, int nports, struct monotime now,
	     const struct ldp_timers *t, const struct ldp_ops *ops, void *ctx)
{
	struct ldp_timers def = LDP_TIMERS_DEFAULT;

	if (!t)
		t = &def;
	if (nports < 2 || nports > LDP_MAX_PORTS || nports % 2 || !mac_is_port(id) ||
	    ldp_timers_why_not(t))
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	l->t = *t;
	l->id = *id;
	l->nports = nports;
	l->level = LDP_LEVEL_UNKNOWN;
	l->pod = LDP_NONE;
	l->position = LDP_NONE;
	l->proposal = LDP_NONE;
	l->edge_since = now;
	l->next_ldm = now;
	l->ops = ops;
	l->ctx = ctx;
	return 0;
}

static bool valid_port(const struct ldp *l, int port)
{
	return port >= 0 && port < l->nports;
}

void ldp_port_up(struct ldp *l, struct monotime now, int port)
{
	struct ldp_port *pp;
	struct advert before;

	if (!valid_port(l, port) || l->port[port].state != LDP_PORT_DOWN)
		return;
	before = advert_of(l);
	pp = &l->port[port];
	memset(pp, 0, sizeof(*pp));
	pp->state = LDP_PORT_SILENT;
	pp->up_since = now;
	send_ldm(l, port);
	settle(l, now, &before);
}

void ldp_port_down(struct ldp *l, struct monotime now, int port)
{
	struct advert before = advert_of(l);
	struct ldp_port *pp;

	if (!valid_port(l, port) || l->port[port].state == LDP_PORT_DOWN)
		return;
	pp = &l->port[port];
	if (was_switch(pp))
		ldp_release_slots(l, &pp->nb.id, -1);
	memset(pp, 0, sizeof(*pp));
	settle(l, now, &before);
}

static void learn(struct ldp *l, struct monotime now, int p, const struct ldp_msg *m)
{
	struct ldp_port *pp = &l->port[p];

	if (!was_switch(pp) || !mac_eq(&pp->nb.id, &m->switch_id)) {
		/* another switch on this port: what was reported of the last one is void */
		if (was_switch(pp))
			ldp_release_slots(l, &pp->nb.id, -1);
		pp->miswired = 0;
	} else if (pp->nb.level != m->level) {
		/* the neighbour took its level back (or found it): judged again; no edge any
		 * more, it holds no position */
		if (pp->nb.level == LDP_LEVEL_EDGE)
			ldp_release_slots(l, &pp->nb.id, -1);
		pp->miswired = 0;
	}
	pp->state = LDP_PORT_SWITCH;
	pp->last_rx = now;
	pp->nb.id = m->switch_id;
	pp->nb.level = m->level;
	pp->nb.dir = m->dir;
	pp->nb.pod = m->pod;
	pp->nb.position = m->position;
	pp->nb.port = m->port;
}

void ldp_rx(struct ldp *l, struct monotime now, int port, const struct ldp_msg *m)
{
	struct advert before = advert_of(l);
	struct ldp_port *pp;

	if (!valid_port(l, port) || l->port[port].state == LDP_PORT_DOWN) {
		l->c.drops[PKT_DROP_LDP_PORT]++;
		return;
	}
	pp = &l->port[port];
	if (mac_eq(&m->switch_id, &l->id)) {
		l->c.drops[PKT_DROP_OWN_FRAME]++;
		report(l, port, LDP_MISWIRE_SELF, m);
		return;
	}
	if (pp->state == LDP_PORT_HOST && not_an_edge(l, m))
		reset_level(l, now);
	if (pp->state == LDP_PORT_HOST) {
		if (pp->host_seen || switch_count(l) >= half_k(l)) {
			l->c.drops[PKT_DROP_LDP_HOST_PORT]++;
			report(l, port, LDP_MISWIRE_HOST_PORT, m);
			return;
		}
		/* no host spoke here, and an uplink is missing: a switch that started late */
		l->c.late_switches++;
		pp->miswired = 0;
	}
	learn(l, now, port, m);
	/* the position an edge announces counts before its proposal is weighed */
	ldp_agg_learn_position(l, port);
	if (m->type == LDP_TYPE_PROPOSE)
		ldp_on_propose(l, now, port, m);
	else if (m->type == LDP_TYPE_REPLY)
		ldp_on_reply(l, now, port, m);
	settle(l, now, &before);
}

void ldp_rx_payload(struct ldp *l, struct monotime now, int port, const uint8_t *p, size_t len)
{
	struct ldp_msg m;
	int ret = ldp_parse(p, len, &m);

	if (ret < 0) {
		l->c.drops[-ret]++;
		return;
	}
	ldp_rx(l, now, port, &m);
}

void ldp_host_seen(struct ldp *l, int port)
{
	if (valid_port(l, port) && l->port[port].state == LDP_PORT_HOST)
		l->port[port].host_seen = true;
}

void ldp_pod_assigned(struct ldp *l, struct monotime now, int pod)
{
	struct advert before = advert_of(l);

	if (pod < 0 || pod > PMAC_POD_MAX || l->level != LDP_LEVEL_EDGE || l->position != 0 ||
	    l->pod != LDP_NONE) {
		l->c.pod_answers_ignored++;
		return;
	}
	l->pod = pod;
	settle(l, now, &before);
}

bool ldp_dead_due(const struct ldp *l, int port, struct monotime now)
{
	return valid_port(l, port) && l->port[port].state == LDP_PORT_SWITCH &&
	       monotime_diff_us(now, l->port[port].last_rx) >= l->t.dead_us;
}

static void check_liveness(struct ldp *l, struct monotime now)
{
	for (int p = 0; p < l->nports; p++) {
		if (ldp_dead_due(l, p, now)) {
			l->port[p].state = LDP_PORT_LOST;
			l->c.neighbours_lost++;
		}
	}
}

/* The next LDM is due a period after the last was due, not after the loop got round to it,
 * unless more than half a period late (a stall): then a period from now, with no burst. */
static void schedule_ldm(struct ldp *l, struct monotime now)
{
	struct monotime next = monotime_add_us(l->next_ldm, l->t.ldm_us);

	if (monotime_diff_us(now, l->next_ldm) > l->t.ldm_us / 2)
		next = monotime_add_us(now, l->t.ldm_us);
	l->next_ldm = next;
}

/* The tick came more than a period after it was due: this process, or the whole machine, did
 * not run meanwhile (a VM here stalls every process 10-15 ms a few times a minute, idle).
 * The neighbours' LDMs of that time are late for the same reason, not lost: each gets one
 * period from now before its dead time is up. A link that died during the stall is found
 * one period later than otherwise. One grace a dead time at most: under a load that makes
 * every tick late, a neighbour whose LDMs really stopped is still lost, a period late. */
static void stall_grace(struct ldp *l, struct monotime now)
{
	struct monotime floor = monotime_add_us(now, l->t.ldm_us - l->t.dead_us);

	l->c.stalls++;
	if (monotime_is_set(l->graced) && monotime_diff_us(now, l->graced) < l->t.dead_us)
		return;
	l->graced = now;
	for (int p = 0; p < l->nports; p++) {
		struct ldp_port *pp = &l->port[p];

		if (pp->state == LDP_PORT_SWITCH && monotime_diff_us(pp->last_rx, floor) < 0)
			pp->last_rx = floor;
	}
}

void ldp_tick(struct ldp *l, struct monotime now)
{
	struct advert before = advert_of(l);
	bool sent;

	if (monotime_diff_us(now, ldp_next_deadline(l)) > l->t.ldm_us)
		stall_grace(l, now);
	check_liveness(l, now);
	classify_hosts(l, now);
	sent = settle(l, now, &before);
	if (!due(l->next_ldm, now))
		return;
	if (!sent)
		send_ldms(l);
	schedule_ldm(l, now);
}

/* The next LDM, or a neighbour's last LDM plus the dead time when that comes first: a
 * silent link is found dead_us after the last LDM it carried, not up to a period later. */
struct monotime ldp_next_deadline(const struct ldp *l)
{
	struct monotime at = l->next_ldm;

	for (int p = 0; p < l->nports; p++) {
		const struct ldp_port *pp = &l->port[p];
		struct monotime dead;

		if (pp->state != LDP_PORT_SWITCH)
			continue;
		dead = monotime_add_us(pp->last_rx, l->t.dead_us);
		if (monotime_diff_us(dead, at) < 0)
			at = dead;
	}
	return at;
}
