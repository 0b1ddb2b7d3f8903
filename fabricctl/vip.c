/* vip.c - `fabricctl vip status [--json]`: vipd's groups, who is master, and counters, from
 * the typed VipStatus vipd sends (--json is that message, by pbjson.c). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fabricctl.h"
#include "pbjson.h"

#include "paths.h"

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return "-";
	return json_object_get_string(v);
}

static uint64_t num(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? (uint64_t)json_object_get_int64(v) : 0;
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

/* What each packet socket read and the kernel dropped from its full queue, and the table of
 * the per-asker answer limit. */
static void print_sockets(json_object *ifo)
{
	json_object *socks = get(ifo, "sockets"), *al = get(ifo, "answer_limit");
	json_object *v = get(socks, "vrrp"), *s = get(socks, "segment");

	if (socks)
		printf("  sockets: vrrp read %llu, queue drops %llu; arp/ns read %llu, queue drops "
		       "%llu\n", (unsigned long long)num(v, "frames"),
		       (unsigned long long)num(v, "queue_drops"), (unsigned long long)num(s, "frames"),
		       (unsigned long long)num(s, "queue_drops"));
	if (al)
		printf("  answer limit: %s/s, burst %s; %llu of %llu sources, table full %llu\n",
		       str(al, "rate"), str(al, "burst"), (unsigned long long)num(al, "sources"),
		       (unsigned long long)num(al, "capacity"),
		       (unsigned long long)num(al, "table_full"));
}

static void print_table(json_object *root)
{
	json_object *groups = get(root, "groups"), *ifs = get(root, "interfaces");

	printf("node %s\n\n", str(root, "node"));
	printf("%-16s %-10s %4s %-6s %-7s %4s %-26s %s\n", "GROUP", "INTERFACE", "VRID", "FAMILY",
	       "STATE", "PRIO", "MASTER", "ADDRESSES");
	for (size_t i = 0; groups && i < json_object_array_length(groups); i++) {
		json_object *g = json_object_array_get_idx(groups, i);
		json_object *insts = get(g, "instances"), *addrs = get(g, "addresses");

		for (size_t k = 0; insts && k < json_object_array_length(insts); k++) {
			json_object *in = json_object_array_get_idx(insts, k);
			const char *fam = str(in, "family");
			char state[48];

			snprintf(state, sizeof(state), "%s", str(in, "state"));
			printf("%-16s %-10s %4s %-6s %-7s %4s %-26s", str(g, "name"),
			       str(g, "interface"), str(g, "vrid"), fam, state, str(g, "priority"),
			       str(in, "master"));
			for (size_t a = 0; addrs && a < json_object_array_length(addrs); a++) {
				const char *s = json_object_get_string(
					json_object_array_get_idx(addrs, a));

				if (s && (strchr(s, ':') != NULL) == (strcmp(fam, "ipv6") == 0))
					printf(" %s", s);
			}
			if (strcmp(state, "init") == 0)
				printf("  (%s)", str(in, "reason"));
			printf("\n");
		}
	}
	printf("\n%-16s %-6s %9s %9s %6s %6s %9s %6s %9s %9s %9s\n", "GROUP", "FAMILY",
	       "ADV-SENT", "ADV-RECV", "ARP", "NS", "ANNOUNCE", "TRANS", "CONFLICTS", "LIMITED",
	       "P0-SUPP");
	for (size_t i = 0; groups && i < json_object_array_length(groups); i++) {
		json_object *g = json_object_array_get_idx(groups, i);
		json_object *insts = get(g, "instances");

		for (size_t k = 0; insts && k < json_object_array_length(insts); k++) {
			json_object *in = json_object_array_get_idx(insts, k);
			json_object *c = get(in, "counters");

			printf("%-16s %-6s %9llu %9llu %6llu %6llu %9llu %6llu %9llu %9llu %9llu\n",
			       str(g, "name"), str(in, "family"),
			       (unsigned long long)num(c, "adverts_sent"),
			       (unsigned long long)num(c, "adverts_received"),
			       (unsigned long long)num(c, "arp_answered"),
			       (unsigned long long)num(c, "ns_answered"),
			       (unsigned long long)num(c, "announcements_sent"),
			       (unsigned long long)num(c, "transitions"),
			       (unsigned long long)num(c, "conflicts"),
			       (unsigned long long)(num(c, "arp_rate_limited") +
						    num(c, "ns_rate_limited")),
			       (unsigned long long)num(c, "priority_zero_suppressed"));
		}
	}
	for (size_t i = 0; ifs && i < json_object_array_length(ifs); i++) {
		json_object *ifo = json_object_array_get_idx(ifs, i);
		json_object *drops = get(ifo, "drops");

		printf("\ninterface %s  mac %s  frames %llu  drops:", str(ifo, "name"),
		       str(ifo, "mac"), (unsigned long long)num(ifo, "frames"));
		int any = 0;

		if (json_object_is_type(drops, json_type_object)) {
			json_object_object_foreach(drops, reason, val) {
				if (json_object_get_int64(val)) {
					printf(" %s=%lld", reason,
					       (long long)json_object_get_int64(val));
					any = 1;
				}
			}
		}
		printf("%s\n", any ? "" : " none");
		print_sockets(ifo);
	}
	for (size_t i = 0; groups && i < json_object_array_length(groups); i++) {
		json_object *g = json_object_array_get_idx(groups, i);
		json_object *v = get(g, "virtual_mac");

		if (v)
			printf("\ngroup %s  virtual mac %s on %s (%s)%s%s", str(g, "name"),
			       str(v, "mac"), str(v, "interface"),
			       json_object_get_boolean(get(v, "up")) ? "up" : "down",
			       get(g, "fabric_vni") ? "  fabric vni " : "",
			       get(g, "fabric_vni") ? str(g, "fabric_vni") : "");
		if (v)
			printf("\n");
	}
	json_object *f = get(root, "fabric");

	if (f)
		printf("\nfabric %s as host %s: %s, %llu session(s), %llu master report(s)%s%s\n",
		       str(f, "connect"), str(f, "host"),
		       json_object_get_boolean(get(f, "connected")) ? "connected" : "not connected",
		       (unsigned long long)num(f, "sessions"),
		       (unsigned long long)num(f, "reports_sent"),
		       get(f, "last_error") ? "; last error: " : "",
		       get(f, "last_error") ? str(f, "last_error") : "");
}

static int vip_page(const L2f__Reply *r, bool first, void *ctx)
{
	json_object **root = ctx;

	if (!r->vip_status) {
		fprintf(stderr, "fabricctl: the reply holds no vip status (not vipd's socket?)\n");
		return 1;
	}
	*root = pbjson(&r->vip_status->base);
	return 0;
}

int cmd_vip(const struct fabricctl_opts *o, int argc, char **argv)
{
	L2f__Request q = L2F__REQUEST__INIT;
	json_object *root = NULL;
	int ret;

	if (argc != 1 || strcmp(argv[0], "status") != 0) {
		fprintf(stderr, "usage: fabricctl [-s SOCKET] vip status [--json]\n");
		return 2;
	}
	q.op_case = L2F__REQUEST__OP_VIP_STATUS;
	q.vip_status = true;
	ret = fabricctl_call(o, VIPD_SOCKET, &q, vip_page, &root);
	if (ret || !root) {
		json_object_put(root);
		return ret ? ret : 1;
	}
	if (o->json)
		printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		print_table(root);
	json_object_put(root);
	return 0;
}
