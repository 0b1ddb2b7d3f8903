/* vip.c - `fabricctl vip status [--json]`: vipd's groups, who is master, and counters, from
 * the typed VipStatus vipd sends (--json is that message, by pbjson.c). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "fabricctl.h"
#include "pbjson.h"

#include "paths.h"

static void print_table(const L2f__VipStatus *st)
{
	char a[IPADDR_STRLEN], m[MAC_STRLEN];

	printf("node %s\n\n", st->node);
	printf("%-16s %-10s %4s %-6s %-7s %4s %-26s %s\n", "GROUP", "INTERFACE", "VRID", "FAMILY",
	       "STATE", "PRIO", "MASTER", "ADDRESSES");
	for (size_t i = 0; i < st->n_groups; i++) {
		const L2f__VipGroup *g = st->groups[i];

		for (size_t k = 0; k < g->n_instances; k++) {
			const L2f__VipInstance *in = g->instances[k];
			bool v6 = !strcmp(in->family, "ipv6");

			printf("%-16s %-10s %4u %-6s %-7s %4u %-26s", g->name, g->interface, g->vrid,
			       in->family, in->state, g->priority,
			       in->has_master ? pb_addr_text(&in->master, a) : "-");
			for (size_t x = 0; x < g->n_addresses; x++)
				if ((g->addresses[x].len == 16) == v6)
					printf(" %s", pb_addr_text(&g->addresses[x], a));
			if (!strcmp(in->state, "init"))
				printf("  (%s)", in->reason ? in->reason : "-");
			printf("\n");
		}
	}
	printf("\n%-16s %-6s %9s %9s %6s %6s %9s %6s %9s %9s %9s\n", "GROUP", "FAMILY",
	       "ADV-SENT", "ADV-RECV", "ARP", "NS", "ANNOUNCE", "TRANS", "CONFLICTS", "LIMITED",
	       "P0-SUPP");
	for (size_t i = 0; i < st->n_groups; i++) {
		const L2f__VipGroup *g = st->groups[i];

		for (size_t k = 0; k < g->n_instances; k++) {
			const L2f__VipCounters *c = g->instances[k]->counters;

			printf("%-16s %-6s %9llu %9llu %6llu %6llu %9llu %6llu %9llu %9llu %9llu\n",
			       g->name, g->instances[k]->family,
			       (unsigned long long)c->adverts_sent,
			       (unsigned long long)c->adverts_received,
			       (unsigned long long)c->arp_answered, (unsigned long long)c->ns_answered,
			       (unsigned long long)c->announcements_sent,
			       (unsigned long long)c->transitions, (unsigned long long)c->conflicts,
			       (unsigned long long)(c->arp_rate_limited + c->ns_rate_limited),
			       (unsigned long long)c->priority_zero_suppressed);
		}
	}
	for (size_t i = 0; i < st->n_interfaces; i++) {
		const L2f__VipInterface *f = st->interfaces[i];
		const L2f__VipSocket *v = f->sockets->vrrp, *sg = f->sockets->segment;
		const L2f__VipAnswerLimit *al = f->answer_limit;
		bool any = false;

		printf("\ninterface %s  mac %s  frames %llu  drops:", f->name, pb_mac_text(&f->mac, m),
		       (unsigned long long)f->frames);
		for (size_t k = 0; k < f->n_drops; k++)
			if (f->drops[k]->value) {
				printf(" %s=%llu", f->drops[k]->name,
				       (unsigned long long)f->drops[k]->value);
				any = true;
			}
		printf("%s\n", any ? "" : " none");
		printf("  sockets: vrrp read %llu, queue drops %llu; arp/ns read %llu, queue drops "
		       "%llu\n", (unsigned long long)v->frames, (unsigned long long)v->queue_drops,
		       (unsigned long long)sg->frames, (unsigned long long)sg->queue_drops);
		printf("  answer limit: %u/s, burst %u; %llu of %u sources, table full %llu\n",
		       al->rate, al->burst, (unsigned long long)al->sources, al->capacity,
		       (unsigned long long)al->table_full);
	}
	for (size_t i = 0; i < st->n_groups; i++) {
		const L2f__VipGroup *g = st->groups[i];
		const L2f__VipVirtualMac *v = g->virtual_mac;
		char vni[32] = "";

		if (!v)
			continue;
		if (g->has_fabric_vni)
			snprintf(vni, sizeof(vni), "  fabric vni %u", g->fabric_vni);
		printf("\ngroup %s  virtual mac %s on %s (%s)%s\n", g->name, pb_mac_text(&v->mac, m),
		       v->interface, v->up ? "up" : "down", vni);
	}
	if (st->fabric) {
		const L2f__VipFabric *f = st->fabric;

		printf("\nfabric %s as host %s: %s, %llu session(s), %llu master report(s)%s%s\n",
		       f->connect, f->host, f->connected ? "connected" : "not connected",
		       (unsigned long long)f->sessions, (unsigned long long)f->reports_sent,
		       f->last_error ? "; last error: " : "", f->last_error ? f->last_error : "");
	}
}

struct vip_out {
	bool json;
	bool printed;
};

/* The reply is freed once this returns: print it now. */
static int vip_page(const L2f__Reply *r, bool first, void *ctx)
{
	struct vip_out *o = ctx;

	if (!r->vip_status) {
		fprintf(stderr, "fabricctl: the reply holds no vip status (not vipd's socket?)\n");
		return 1;
	}
	if (o->json)
		pbjson_print(&r->vip_status->base);
	else
		print_table(r->vip_status);
	o->printed = true;
	return 0;
}

int cmd_vip(const struct fabricctl_opts *o, int argc, char **argv)
{
	L2f__Request q = L2F__REQUEST__INIT;
	struct vip_out out = { o->json, false };
	int ret;

	if (argc != 1 || strcmp(argv[0], "status") != 0) {
		fprintf(stderr, "usage: fabricctl [-s SOCKET] vip status [--json]\n");
		return 2;
	}
	q.op_case = L2F__REQUEST__OP_VIP_STATUS;
	q.vip_status = true;
	ret = fabricctl_call(o, VIPD_SOCKET, &q, vip_page, &out);
	return ret ? ret : out.printed ? 0 : 1;
}
