/*
 * ldp_pos.c - LDP positions and the pod (SIGCOMM 2009, 3.4, Algorithm 2; ldp.c has the whole
 * machine's description): an aggregation switch holds and grants positions to its pod's edges,
 * an edge proposes one until a majority accepts, and the edge at position 0 asks the fabric
 * manager for the pod.
 */
#include <string.h>
#include "ldp_priv.h"

/* ---- aggregation switch: the positions of the pod's edges (Alg. 2) ---- */

void ldp_release_slots(struct ldp *l, const struct mac *edge, int keep)
{
	for (int i = 0; i < half_k(l); i++)
		if (i != keep && mac_eq(&l->slot[i].owner, edge))
			memset(&l->slot[i], 0, sizeof(l->slot[i]));
}

static bool slot_taken(const struct ldp_slot *s, const struct mac *edge, struct monotime now)
{
	if (mac_eq(&s->owner, &mac_zero) || mac_eq(&s->owner, edge))
		return false;
	return s->final || s->hold_until.us > now.us;
}

static enum ldp_verdict agg_decide(struct ldp *l, struct monotime now, const struct mac *edge,
				   int pos)
{
	struct ldp_slot *s;

	if (pos >= half_k(l))
		return LDP_DENY;
	/* a new proposal replaces whatever this edge claimed before (it restarted) */
	ldp_release_slots(l, edge, pos);
	s = &l->slot[pos];
	if (slot_taken(s, edge, now))
		return LDP_DENY;
	s->owner = *edge;
	s->final = false;
	s->hold_until = monotime_add_us(now, LDP_HOLD_PERIODS * l->t.ldm_us);
	return LDP_ACCEPT;
}

/* An edge's LDM announcing a final position turns the hold into a final claim. */
void ldp_agg_learn_position(struct ldp *l, int p)
{
	const struct ldp_neigh *nb = &l->port[p].nb;
	struct ldp_slot *s;

	if (l->level != LDP_LEVEL_AGG || nb->level != LDP_LEVEL_EDGE ||
	    nb->position == LDP_NONE || !usable(&l->port[p]))
		return;
	if (nb->position >= half_k(l)) {
		ldp_report_neigh(l, p, LDP_MISWIRE_POSITION);
		return;
	}
	s = &l->slot[nb->position];
	if (s->final && !mac_eq(&s->owner, &nb->id) && !mac_eq(&s->owner, &mac_zero)) {
		ldp_report_neigh(l, p, LDP_MISWIRE_POSITION);
		return;
	}
	ldp_release_slots(l, &nb->id, nb->position);
	s->owner = nb->id;
	s->final = true;
}

void ldp_on_propose(struct ldp *l, struct monotime now, int p, const struct ldp_msg *m)
{
	struct ldp_msg r;

	if (l->level != LDP_LEVEL_AGG || !usable(&l->port[p])) {
		l->c.drops[PKT_DROP_LDP_UNEXPECTED]++;
		return;
	}
	ldp_header(l, p, LDP_TYPE_REPLY, &r);
	r.proposal = m->proposal;
	r.nonce = m->nonce;
	r.proposer = m->switch_id;
	r.verdict = agg_decide(l, now, &m->switch_id, m->proposal);
	l->ops->send(l->ctx, p, &r);
}

/* ---- edge: proposing a position (Alg. 2) and asking for the pod ---- */

static void propose(struct ldp *l, struct monotime now)
{
	int cand[LDP_MAX_PORTS / 2], n = 0;
	struct ldp_msg m;

	for (int i = 0; i < half_k(l); i++)
		if (!(l->denied_positions & 1ull << i))
			cand[n++] = i;
	if (!n) {
		/* every position denied once: holds time out, start the round again */
		l->denied_positions = 0;
		for (int i = 0; i < half_k(l); i++)
			cand[n++] = i;
	}
	l->proposal = cand[l->ops->random(l->ctx) % (uint32_t)n];
	l->nonce = l->ops->random(l->ctx);
	l->accepts = l->denies = 0;
	l->proposal_deadline = monotime_add_us(now, LDP_PROPOSE_PERIODS * l->t.ldm_us);
	l->c.proposals++;
	for (int p = 0; p < l->nports; p++) {
		if (!usable(&l->port[p]) || l->port[p].nb.level != LDP_LEVEL_AGG)
			continue;
		ldp_header(l, p, LDP_TYPE_PROPOSE, &m);
		m.proposal = (uint8_t)l->proposal;
		m.nonce = l->nonce;
		l->ops->send(l->ctx, p, &m);
	}
}

void ldp_on_reply(struct ldp *l, struct monotime now, int p, const struct ldp_msg *m)
{
	if (l->level != LDP_LEVEL_EDGE || !mac_eq(&m->proposer, &l->id)) {
		l->c.drops[PKT_DROP_LDP_UNEXPECTED]++;
		return;
	}
	/* the answer to an attempt already decided, or replaced after a deny: normal while
	 * replies cross, and no evidence for the attempt under way */
	if (l->proposal == LDP_NONE || m->nonce != l->nonce || m->proposal != l->proposal ||
	    !usable(&l->port[p])) {
		l->c.stale_replies++;
		return;
	}
	if (m->verdict == LDP_ACCEPT)
		l->accepts |= 1ull << p;
	else
		l->denies |= 1ull << p;
	if (__builtin_popcountll(l->accepts) >= majority(l)) {
		l->position = l->proposal;
		l->proposal = LDP_NONE;
		l->denied_positions = 0;
		l->proposal_deadline = (struct monotime){ 0 };
	} else if (__builtin_popcountll(l->denies) > half_k(l) - majority(l)) {
		l->c.proposal_denied++;
		l->denied_positions |= 1ull << l->proposal;
		propose(l, now);
	}
}

void ldp_edge_position(struct ldp *l, struct monotime now)
{
	if (l->position != LDP_NONE)
		return;
	if (l->proposal == LDP_NONE) {
		if (usable_count(l, LDP_LEVEL_AGG) >= majority(l))
			propose(l, now);
		return;
	}
	if (due(l->proposal_deadline, now)) {
		l->c.proposal_timeouts++;
		propose(l, now);
	}
}

void ldp_edge_pod(struct ldp *l, struct monotime now)
{
	if (l->position != 0 || l->pod != LDP_NONE)
		return;
	if (monotime_is_set(l->pod_retry) && !due(l->pod_retry, now))
		return;
	l->pod_retry = monotime_add_us(now, LDP_POD_RETRY_PERIODS * l->t.ldm_us);
	l->c.pod_requests++;
	l->ops->request_pod(l->ctx);
}
