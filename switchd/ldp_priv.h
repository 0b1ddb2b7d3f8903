/*
 * ldp_priv.h - what ldp.c (levels, neighbours, the inputs) and ldp_pos.c (positions and the pod,
 * Algorithm 2) share of the LDP machine; nothing outside switchd/ldp*.c includes it.
 */
#ifndef SWITCHD_LDP_PRIV_H
#define SWITCHD_LDP_PRIV_H

#include "ldp.h"

static inline int half_k(const struct ldp *l)
{
	return l->nports / 2;
}

/* Of the pod's k/2 aggregation switches. */
static inline int majority(const struct ldp *l)
{
	return half_k(l) / 2 + 1;
}

static inline bool due(struct monotime deadline, struct monotime now)
{
	return monotime_is_set(deadline) && deadline.us <= now.us;
}

static inline bool was_switch(const struct ldp_port *pp)
{
	return pp->state == LDP_PORT_SWITCH || pp->state == LDP_PORT_LOST;
}

/* A live neighbour switch on a port with no miswiring: the ports the algorithms use. */
static inline bool usable(const struct ldp_port *pp)
{
	return pp->state == LDP_PORT_SWITCH && !pp->miswired;
}

static inline int usable_count(const struct ldp *l, enum ldp_level level)
{
	int n = 0;

	for (int p = 0; p < l->nports; p++)
		n += usable(&l->port[p]) && l->port[p].nb.level == level;
	return n;
}

/* ldp.c */
void ldp_header(const struct ldp *l, int p, enum ldp_type type, struct ldp_msg *m);
void ldp_report_neigh(struct ldp *l, int p, enum ldp_miswire why);

/* ldp_pos.c */
void ldp_release_slots(struct ldp *l, const struct mac *edge, int keep);
void ldp_agg_learn_position(struct ldp *l, int p);
void ldp_on_propose(struct ldp *l, struct monotime now, int p, const struct ldp_msg *m);
void ldp_on_reply(struct ldp *l, struct monotime now, int p, const struct ldp_msg *m);
void ldp_edge_position(struct ldp *l, struct monotime now);
void ldp_edge_pod(struct ldp *l, struct monotime now);

#endif
