/* groups.c - fabricctl groups: PortLand's multicast groups as fabricd placed them (fabricd/
 * mcast.c): each group's members (edge, port), its designated core(s), and its tree, one
 * line per (switch, in port) entry. */
#include <stdio.h>
#include "addr.h"
#include "fabricctl.h"
#include "paths.h"
#include "pbjson.h"

static void print_group(const L2f__McastGroupInfo *g)
{
	char a[IPADDR_STRLEN];

	printf("group %s\n  members:", pb_addr_text(&g->group, a));
	for (size_t k = 0; k < g->n_members; k++)
		printf(" %s:%u", g->members[k]->switch_name, g->members[k]->port);
	printf("\n  cores:  ");
	for (size_t k = 0; k < g->n_cores; k++)
		printf(" %s", g->cores[k]);
	if (g->n_cores > 1)
		printf("  (set cover)");
	if (g->edges_unreached)
		printf("  (%u member edge(s) unreached)", g->edges_unreached);
	printf("\n  %-16s %-8s %s\n", "SWITCH", "IN", "OUT");
	for (size_t k = 0; k < g->n_tree; k++) {
		const L2f__McastEntry *e = g->tree[k];
		char in[12];

		if (e->has_in_port)
			snprintf(in, sizeof(in), "%u", e->in_port);
		else
			snprintf(in, sizeof(in), "hosts");
		printf("  %-16s %-8s", e->switch_name ? e->switch_name : "-", in);
		for (size_t j = 0; j < e->n_out_ports; j++)
			printf("%s%u", j ? "," : " ", e->out_ports[j]);
		printf("\n");
	}
}

static int groups_page(const L2f__Reply *r, bool first, void *ctx)
{
	const struct fabricctl_opts *o = ctx;

	if (o->json) {
		bool none = true;

		for (size_t i = 0; i < r->n_mcast_groups; i++)
			pbjson_element(pbjson(&r->mcast_groups[i]->base), &none);
		pbjson_end(none);
		return 0;
	}
	for (size_t i = 0; i < r->n_mcast_groups; i++)
		print_group(r->mcast_groups[i]);
	printf("%zu group(s)\n", r->n_mcast_groups);
	return 0;
}

int cmd_groups(const struct fabricctl_opts *o, int argc, char **argv)
{
	L2f__Request q = L2F__REQUEST__INIT;

	if (argc) {
		fprintf(stderr, "usage: fabricctl groups [--json]\n");
		return 2;
	}
	q.op_case = L2F__REQUEST__OP_MCAST_GROUPS;
	q.mcast_groups = true;
	return fabricctl_call(o, FABRICD_SOCKET, &q, groups_page, (void *)o);
}
