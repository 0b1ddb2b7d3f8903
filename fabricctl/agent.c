/*
 * agent.c - `fabricctl agent status|fdb [--json]`: a host's vtepd as it sees itself, over its
 * control socket (-s, default /run/l2fabric/vtepd.sock), where `fabricctl fdb HOST` shows what
 * fabricd wants that agent to hold.
 *   status  the agent, its session with fabricd, its segments, counters
 *   fdb     what it has programmed, read back from the kernel, each entry against what fabricd
 *           wants (ok, MISSING from the kernel, EXTRA in it); the MACs of local ports
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fabricctl.h"

#include "paths.h"

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return "-";
	return json_object_get_string(v);
}

static unsigned long long num(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? (unsigned long long)json_object_get_int64(v)
						     : 0;
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static size_t len(json_object *a)
{
	return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* The last column of a row: the whole list, joined by commas ("-" for none), however long
 * (a segment's flood list may name thousands of VTEPs). */
static void put_list(json_object *arr)
{
	for (size_t i = 0; i < len(arr); i++)
		printf("%s%s", i ? "," : "",
		       json_object_get_string(json_object_array_get_idx(arr, i)));
	if (!len(arr))
		printf("-");
}

static const char *state(json_object *e)
{
	bool k = json_object_get_boolean(get(e, "kernel"));
	bool w = json_object_get_boolean(get(e, "want"));

	return k && w ? "ok" : k ? "EXTRA" : "MISSING";
}

static void print_count(const char *what, json_object *c)
{
	printf("  %-6s +%llu ~%llu -%llu =%llu, foreign %llu, conflicts %llu\n", what,
	       num(c, "added"), num(c, "updated"), num(c, "removed"), num(c, "kept"),
	       num(c, "foreign"), num(c, "conflicts"));
}

static void print_status(json_object *root)
{
	json_object *f = get(root, "fabricd"), *segs = get(root, "segments");
	json_object *c = get(root, "counters"), *r = get(c, "reconcile"), *l = get(c, "learner");
	json_object *drops = get(l, "drops"), *dr = get(c, "drift");
	json_object *warnings = get(root, "warnings");
	int any = 0;

	printf("agent %s  vtep %s  underlay %s\n", str(root, "id"), str(root, "vtep"),
	       str(root, "underlay"));
	printf("fabricd %s: %s since %s (%.1fs), %llu session(s)%s%s%s\n", str(f, "address"),
	       json_object_get_boolean(get(f, "connected")) ? "connected" : "not connected",
	       str(f, "since"), num(f, "for_ms") / 1000.0, num(f, "sessions"),
	       get(f, "last_error") ? "; last error: " : "",
	       get(f, "last_error") ? str(f, "last_error") : "",
	       json_object_get_boolean(get(f, "receiving_full_table")) ? "; receiving a full table"
								       : "");
	printf("\n%-8s %-16s %-29s %10s %s\n", "VNI", "BRIDGE", "BRIDGE MAC", "VX IFINDEX",
	       "FLOOD");
	for (size_t i = 0; i < len(segs); i++) {
		json_object *s = json_object_array_get_idx(segs, i);
		json_object *fixed = get(s, "bridge_mac_fixed");
		char mac[40];

		snprintf(mac, sizeof(mac), "%s%s", str(s, "bridge_mac"),
			 !fixed ? "" : json_object_get_boolean(fixed) ? " (fixed)" : " (NOT FIXED)");
		printf("%-8s %-16s %-29s %10s ", str(s, "vni"), str(s, "bridge"), mac,
		       str(s, "vx_ifindex"));
		put_list(get(s, "flood"));
		printf("\n");
	}
	printf("\nbindings %llu, updates %llu (full tables %llu), reports %llu\n",
	       num(c, "bindings"), num(c, "updates_received"), num(c, "full_tables"),
	       num(c, "reports_sent"));
	printf("kernel requests %llu: done %llu, refused %llu\n", num(c, "kernel_requests"),
	       num(c, "kernel_done"), num(c, "kernel_refused"));
	printf("reconciles %llu", num(r, "count"));
	if (num(r, "count")) {
		printf(", last at %s: %s, %llu error(s), %llu us\n", str(r, "at"), str(r, "result"),
		       num(r, "errors"), num(r, "took_us"));
		print_count("fdb", get(r, "fdb"));
		print_count("flood", get(r, "flood"));
		print_count("neigh", get(r, "neigh"));
	} else {
		printf("\n");
	}
	printf("learner: fdb events %llu, frames %llu (dropped %llu, foreign %llu), macs %llu, "
	       "unpinned %llu, drops:", num(l, "fdb_events"), num(l, "frames"),
	       num(l, "frames_dropped"), num(l, "frames_foreign"), num(l, "macs"),
	       num(l, "unpinned"));
	if (json_object_is_type(drops, json_type_object)) {
		json_object_object_foreach(drops, reason, val) {
			printf(" %s=%lld", reason, (long long)json_object_get_int64(val));
			any = 1;
		}
	}
	printf("%s\n", any ? "" : " none");
	if (dr)
		printf("drift: deleted by operator %llu, flushed by link change %llu, not wanted %llu; "
		       "repaired %llu in %llu repair(s) (last %.1f ms, max %.1f ms), conflicts %llu, "
		       "errors %llu; backed off %llu (held now %llu); link changes %llu, "
		       "notifications lost %llu\n",
		       num(dr, "deleted_by_operator"), num(dr, "flushed_by_link_change"),
		       num(dr, "not_wanted"), num(dr, "repaired"), num(dr, "repairs"),
		       num(dr, "last_repair_us") / 1000.0, num(dr, "max_repair_us") / 1000.0,
		       num(dr, "conflicts"), num(dr, "errors"), num(dr, "backed_off"),
		       num(dr, "held"), num(dr, "link_changes"), num(dr, "events_lost"));
	for (size_t i = 0; i < len(warnings); i++)
		printf("warning: %s\n",
		       json_object_get_string(json_object_array_get_idx(warnings, i)));
}

static void print_fdb(json_object *root)
{
	json_object *fdb = get(root, "fdb"), *flood = get(root, "flood");
	json_object *neigh = get(root, "neigh");
	json_object *local = get(root, "local"), *errors = get(root, "errors");

	printf("agent %s (%s)\n\n", str(root, "id"),
	       json_object_get_boolean(get(root, "connected")) ? "connected to fabricd"
							       : "not connected to fabricd");
	printf("%-8s %-17s %-34s %s\n", "VNI", "MAC", "VTEP", "STATE");
	for (size_t i = 0; i < len(flood); i++) {
		json_object *e = json_object_array_get_idx(flood, i);

		printf("%-8s %-17s %-34s %s\n", str(e, "vni"), "(flood)", str(e, "dst"), state(e));
	}
	for (size_t i = 0; i < len(fdb); i++) {
		json_object *e = json_object_array_get_idx(fdb, i);

		printf("%-8s %-17s %-34s %s\n", str(e, "vni"), str(e, "mac"), str(e, "dst"),
		       state(e));
	}
	printf("\n%-8s %-17s %-34s %s\n", "VNI", "MAC", "ADDRESS (suppression)", "STATE");
	for (size_t i = 0; i < len(neigh); i++) {
		json_object *e = json_object_array_get_idx(neigh, i);

		printf("%-8s %-17s %-34s %s\n", str(e, "vni"), str(e, "mac"), str(e, "ip"),
		       state(e));
	}
	printf("\n%-8s %-17s %s\n", "VNI", "MAC (local)", "ADDRESSES");
	for (size_t i = 0; i < len(local); i++) {
		json_object *e = json_object_array_get_idx(local, i);

		printf("%-8s %-17s ", str(e, "vni"), str(e, "mac"));
		put_list(get(e, "ips"));
		printf("\n");
	}
	for (size_t i = 0; i < len(errors); i++)
		printf("\nerror: %s", json_object_get_string(json_object_array_get_idx(errors, i)));
	printf("\n%s: %llu entr%s differ from what fabricd wants\n",
	       num(root, "drift") ? "DRIFT" : "in sync", num(root, "drift"),
	       num(root, "drift") == 1 ? "y" : "ies");
}

int cmd_agent(const struct fabricctl_opts *o, int argc, char **argv)
{
	json_object *root, *err;
	char *reply;

	if (argc != 1 || (strcmp(argv[0], "status") && strcmp(argv[0], "fdb"))) {
		fprintf(stderr, "usage: fabricctl [-s SOCKET] agent status|fdb [--json]\n");
		return 2;
	}
	reply = fabricctl_request(o->socket ? o->socket : VTEPD_SOCKET, argv[0]);
	if (!reply)
		return 1;
	root = json_tokener_parse(reply);
	if (!root) {
		fprintf(stderr, "fabricctl: vtepd sent a reply that is not JSON\n");
		free(reply);
		return 1;
	}
	if ((err = get(root, "error"))) {
		fprintf(stderr, "fabricctl: vtepd: %s\n", json_object_get_string(err));
		json_object_put(root);
		free(reply);
		return 1;
	}
	if (o->json)
		printf("%s\n", reply);
	else if (argv[0][0] == 's')
		print_status(root);
	else
		print_fdb(root);
	json_object_put(root);
	free(reply);
	return 0;
}
