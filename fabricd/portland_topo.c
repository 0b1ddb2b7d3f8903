/* portland_topo.c - `fabricctl topo`: every switch fabricd has a record of, as it last
 * reported itself (location, ports and neighbours, miswirings) with its session and its
 * fault matrix row; see portland.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "portland_priv.h"

/* One switch's location in one allocation. */
static L2f__SwitchLocation *location_msg(const struct pl_switch *w)
{
	size_t n = w->nports, k = w->nmis;
	L2f__SwitchLocation *l = calloc(1, sizeof(*l) + n * (sizeof(void *) + sizeof(L2f__SwitchPort)) +
					       k * (sizeof(void *) + sizeof(L2f__Miswiring)));
	L2f__SwitchPort *ps;
	L2f__Miswiring *ms;

	if (!l)
		return NULL;
	l2f__switch_location__init(l);
	l->ports = (L2f__SwitchPort **)(l + 1);
	l->miswirings = (L2f__Miswiring **)(l->ports + n);
	ps = (L2f__SwitchPort *)(l->miswirings + k);
	ms = (L2f__Miswiring *)(ps + n);
	l->name = (char *)w->name;
	l->has_connected = true;
	l->connected = w->s != NULL;
	l->switch_id = (ProtobufCBinaryData){ MAC_LEN, (uint8_t *)w->switch_id };
	l->level = w->level;
	if ((l->has_pod = w->pod >= 0))
		l->pod = (uint32_t)w->pod;
	if ((l->has_position = w->position >= 0))
		l->position = (uint32_t)w->position;
	l->located = w->located;
	l->why = w->why[0] ? (char *)w->why : NULL;
	for (size_t i = 0; i < n; i++) {
		const struct pl_port *p = &w->ports[i];
		L2f__SwitchPort *q = &ps[i];

		l2f__switch_port__init(q);
		q->port = p->port;
		q->dir = p->dir;
		q->name = p->name[0] ? (char *)p->name : NULL;
		if ((q->has_peer_id = p->has_peer)) {
			q->peer_id = (ProtobufCBinaryData){ MAC_LEN, (uint8_t *)p->peer_id };
			q->has_peer_port = q->has_peer_level = true;
			q->peer_port = p->peer_port;
			q->peer_level = p->peer_level;
		}
		if (p->lost) {
			q->has_lost = q->lost = q->has_lost_since_ms = true;
			q->lost_since_ms = (uint64_t)p->lost_since_ms;
			q->has_down = q->down = p->down;
		}
		l->ports[i] = q;
	}
	l->n_ports = n;
	if (faults_row_msg(w, &l->avoid, &l->n_avoid) < 0) {
		free(l);
		return NULL;
	}
	for (size_t i = 0; i < k; i++) {
		const struct pl_miswire *m = &w->mis[i];

		l2f__miswiring__init(&ms[i]);
		ms[i].port = m->port;
		ms[i].reason = (char *)m->reason;
		if ((ms[i].has_peer_id = m->has_peer))
			ms[i].peer_id = (ProtobufCBinaryData){ MAC_LEN, (uint8_t *)m->peer_id };
		l->miswirings[i] = &ms[i];
	}
	l->n_miswirings = k;
	return l;
}

int portland_topo(const struct portland *pl, L2f__Reply *r)
{
	r->switches = calloc(pl->nsw + 1, sizeof(*r->switches));
	if (!r->switches)
		return -ENOMEM;
	for (size_t i = 0; i < pl->nsw; i++) {
		if (!pl->sw[i].reported)
			continue;
		r->switches[r->n_switches] = location_msg(&pl->sw[i]);
		if (!r->switches[r->n_switches])
			return -ENOMEM;
		r->n_switches++;
	}
	return 0;
}

void portland_topo_free(L2f__Reply *r)
{
	for (size_t i = 0; i < r->n_switches; i++) {
		free(r->switches[i]->avoid);   /* faults_row_msg's one allocation */
		free(r->switches[i]);
	}
	free(r->switches);
	r->switches = NULL;
	r->n_switches = 0;
}
