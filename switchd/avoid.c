/*
 * avoid.c - this switch's row of fabricd's fault matrix (fabricd/faults.c, docs/switchd.md
 * "Faults"): per destination edge (or every edge of a pod), the up neighbours that cannot
 * reach it any more. The data plane gets, per such destination, its own ECMP group: the up
 * group less the ports to those neighbours (sw_up_dest).
 *
 * The row names neighbours, not ports, and is turned into ports each time the data plane is
 * programmed (fwd_apply): the neighbour on a port can change, and a port that left the up
 * group by itself (local repair: its carrier or its LDMs went) is not in any group anyway.
 * Each row replaces the last whole; an empty row removes every destination group.
 *
 * Until the first row of this run comes, the groups a previous run pinned stay as they are:
 * a switchd restarted keeps routing around the faults fabricd told it of, and fabricd sends
 * the row again on each new session.
 */
#include <stdlib.h>
#include <string.h>
#include "dp.h"
#include "log.h"
#include "switchd.h"

void avoid_free(struct switchd *s)
{
	free(s->avoid);
	free(s->avoid_ids);
	s->avoid = NULL;
	s->avoid_ids = NULL;
	s->navoid = 0;
}

void avoid_table(struct switchd *s, const L2f__UplinkAvoidTable *t)
{
	size_t nids = 0;
	struct sw_avoid *e;
	struct mac *ids;

	for (size_t i = 0; i < t->n_entries; i++)
		nids += t->entries[i]->n_avoid;
	e = calloc(t->n_entries + 1, sizeof(*e));
	ids = calloc(nids + 1, sizeof(*ids));
	if (!e || !ids) {
		free(e);
		free(ids);
		log_err("fault matrix: out of memory: the row from fabricd is not taken");
		return;
	}
	nids = 0;
	for (size_t i = 0; i < t->n_entries; i++) {
		const L2f__UplinkAvoid *a = t->entries[i];

		/* the validator has bounded pod, position and the ids' lengths */
		e[i] = (struct sw_avoid){ (uint16_t)a->pod,
					  a->has_position ? (int16_t)a->position : -1,
					  (uint32_t)nids, (uint32_t)a->n_avoid };
		for (size_t k = 0; k < a->n_avoid; k++)
			memcpy(ids[nids++].b, a->avoid[k].data, MAC_LEN);
	}
	avoid_free(s);
	s->avoid = e;
	s->navoid = t->n_entries;
	s->avoid_ids = ids;
	s->avoid_known = true;
	s->c.avoid_tables++;
	log_info("fault matrix: %zu destination(s) to reach around faults", s->navoid);
	/* not located yet (a restart: fabricd's row may come first): the pinned maps stay as
	 * they are, and the row goes in with the location */
	if (s->located && fwd_apply(s) < 0)
		log_err("fault matrix: the data plane could not take the row");
}

/* The port whose neighbour is id, among the up ports (s->ports index), or -1. */
static int port_of_neighbour(const struct switchd *s, const struct mac *id)
{
	for (int i = 0; i < s->nports; i++) {
		const struct ldp_port *lp = &s->ldp.port[i];

		if (lp->state == LDP_PORT_SWITCH && mac_eq(&lp->nb.id, id))
			return i;
	}
	return -1;
}

int avoid_groups(struct switchd *s, const uint32_t *up, unsigned n_up, struct dp_dest_want *out,
		 unsigned max)
{
	unsigned n = 0;

	if (!s->avoid_known)
		return -1;
	for (size_t i = 0; i < s->navoid; i++) {
		const struct sw_avoid *a = &s->avoid[i];
		uint32_t skip[SW_MAX_UP];
		unsigned nskip = 0, k = 0;
		struct dp_dest_want *d;

		for (uint32_t j = 0; j < a->n && nskip < SW_MAX_UP; j++) {
			int p = port_of_neighbour(s, &s->avoid_ids[a->first + j]);

			if (p >= 0)
				skip[nskip++] = (uint32_t)s->ports[p].ifindex;
		}
		if (nskip == 0)
			continue;          /* none of them is in the group now */
		if (n == max) {
			s->c.avoid_over_cap++;
			log_warn("fault matrix: more than %u destination groups: the rest use the "
				 "whole up group", max);
			break;
		}
		d = &out[n];
		d->key = SW_DEST_KEY(a->pod, a->position < 0 ? SW_DEST_POD : (uint32_t)a->position);
		for (unsigned u = 0; u < n_up && k < SW_MAX_UP; u++) {
			bool avoided = false;

			for (unsigned q = 0; q < nskip && !avoided; q++)
				avoided = skip[q] == up[u];
			if (!avoided)
				d->ifindex[k++] = up[u];
		}
		d->n = k;
		if (k > 0 && k < n_up)
			n++;               /* else: all avoided (keep the whole group), or none */
	}
	return (int)n;
}

bool avoid_port(const struct switchd *s, uint16_t pod, uint8_t position, int port)
{
	const struct sw_avoid *edge = NULL, *whole_pod = NULL, *a;

	for (size_t i = 0; i < s->navoid; i++) {
		a = &s->avoid[i];
		if (a->pod == pod && a->position == position)
			edge = a;
		else if (a->pod == pod && a->position < 0)
			whole_pod = a;
	}
	a = edge ? edge : whole_pod;   /* as the data plane looks them up */
	for (uint32_t j = 0; a && j < a->n; j++)
		if (port_of_neighbour(s, &s->avoid_ids[a->first + j]) == port)
			return true;
	return false;
}
