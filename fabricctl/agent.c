/*
 * agent.c - `fabricctl agent status|fdb [--json]`: a host's vtepd as it sees itself, over its
 * control socket (-s, default /run/l2fabric/vtepd.sock), where `fabricctl fdb HOST` shows what
 * fabricd wants that agent to hold. The replies are typed (AgentStatus, AgentFdb in
 * proto/fabric.proto); --json is that message, by pbjson.c.
 *   status  the agent, its session with fabricd, its segments, counters
 *   fdb     what it has programmed, read back from the kernel, each entry against what fabricd
 *           wants (ok, MISSING from the kernel, EXTRA in it); the MACs of local ports
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "fabricctl.h"
#include "paths.h"
#include "pbjson.h"

#define U(x) ((unsigned long long)(x))

static const char *text(const char *s)
{
	return s ? s : "-";
}

/* The last column of a row: the whole list, joined by commas ("-" for none), however long
 * (a segment's flood list may name thousands of VTEPs). */
static void put_addrs(const ProtobufCBinaryData *v, size_t n)
{
	char a[IPADDR_STRLEN];

	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? "," : "", pb_addr_text(&v[i], a));
	if (!n)
		printf("-");
}

static const char *state(bool kernel, bool want)
{
	return kernel && want ? "ok" : kernel ? "EXTRA" : "MISSING";
}

static void print_count(const char *what, const L2f__AgentKernelCount *c)
{
	if (c)
		printf("  %-6s +%llu ~%llu -%llu =%llu, foreign %llu, conflicts %llu\n", what,
		       U(c->added), U(c->updated), U(c->removed), U(c->kept), U(c->foreign),
		       U(c->conflicts));
}

static void print_status(const L2f__AgentStatus *st)
{
	const L2f__AgentFabricd *f = st->fabricd;
	const L2f__AgentCounters *c = st->counters;
	const L2f__AgentReconcile *r = c->reconcile;
	const L2f__AgentLearner *l = c->learner;
	const L2f__AgentDrift *dr = c->drift;
	char a[IPADDR_STRLEN], m[MAC_STRLEN];

	printf("agent %s  vtep %s  underlay %s\n", st->id,
	       st->has_vtep ? pb_addr_text(&st->vtep, a) : "-", text(st->underlay));
	printf("fabricd %s: %s since %s (%.1fs), %llu session(s)%s%s%s\n", f->address,
	       f->connected ? "connected" : "not connected", text(f->since), f->for_ms / 1000.0,
	       U(f->sessions), f->last_error ? "; last error: " : "",
	       f->last_error ? f->last_error : "",
	       f->receiving_full_table ? "; receiving a full table" : "");
	printf("\n%-8s %-16s %-29s %10s %s\n", "VNI", "BRIDGE", "BRIDGE MAC", "VX IFINDEX",
	       "FLOOD");
	for (size_t i = 0; i < st->n_segments; i++) {
		const L2f__AgentSegment *s = st->segments[i];
		char mac[40];

		snprintf(mac, sizeof(mac), "%s%s",
			 s->has_bridge_mac ? pb_mac_text(&s->bridge_mac, m) : "-",
			 !s->has_bridge_mac_fixed ? "" : s->bridge_mac_fixed ? " (fixed)"
									     : " (NOT FIXED)");
		printf("%-8u %-16s %-29s %10d ", s->vni, s->bridge, mac, s->vx_ifindex);
		put_addrs(s->flood, s->n_flood);
		printf("\n");
	}
	printf("\nbindings %llu, updates %llu (full tables %llu), reports %llu\n",
	       U(c->bindings), U(c->updates_received), U(c->full_tables), U(c->reports_sent));
	printf("kernel requests %llu: done %llu, refused %llu (answers lost %llu, late %llu), "
	       "in flight %llu\n", U(c->kernel_requests), U(c->kernel_done), U(c->kernel_refused),
	       U(c->kernel_lost), U(c->kernel_timeouts), U(c->kernel_in_flight));
	printf("reconciles %llu", U(r->count));
	if (r->count) {
		printf(", last at %s: %s, %llu error(s), %llu us\n", text(r->at), text(r->result),
		       U(r->errors), U(r->took_us));
		print_count("fdb", r->fdb);
		print_count("flood", r->flood);
		print_count("neigh", r->neigh);
	} else {
		printf("\n");
	}
	printf("learner: fdb events %llu, frames %llu (dropped %llu, foreign %llu), macs %llu, "
	       "unpinned %llu, drops:", U(l->fdb_events), U(l->frames), U(l->frames_dropped),
	       U(l->frames_foreign), U(l->macs), U(l->unpinned));
	for (size_t i = 0; i < l->n_drops; i++)
		printf(" %s=%llu", l->drops[i]->name, U(l->drops[i]->value));
	printf("%s\n", l->n_drops ? "" : " none");
	if (dr)
		printf("drift: deleted by operator %llu, flushed by link change %llu, not wanted %llu; "
		       "repaired %llu in %llu repair(s) (last %.1f ms, max %.1f ms), conflicts %llu, "
		       "errors %llu; backed off %llu (held now %llu); link changes %llu, "
		       "notifications lost %llu\n",
		       U(dr->deleted_by_operator), U(dr->flushed_by_link_change), U(dr->not_wanted),
		       U(dr->repaired), U(dr->repairs), dr->last_repair_us / 1000.0,
		       dr->max_repair_us / 1000.0, U(dr->conflicts), U(dr->errors),
		       U(dr->backed_off), U(dr->held), U(dr->link_changes), U(dr->events_lost));
	for (size_t i = 0; i < st->n_warnings; i++)
		printf("warning: %s\n", st->warnings[i]);
}

static void print_fdb(const L2f__AgentFdb *f)
{
	char a[IPADDR_STRLEN], m[MAC_STRLEN];

	printf("agent %s (%s)\n\n", f->id,
	       f->connected ? "connected to fabricd" : "not connected to fabricd");
	printf("%-8s %-17s %-34s %s\n", "VNI", "MAC", "VTEP", "STATE");
	for (size_t i = 0; i < f->n_flood; i++) {
		const L2f__AgentFlood *e = f->flood[i];

		printf("%-8u %-17s %-34s %s\n", e->vni, "(flood)", pb_addr_text(&e->dst, a),
		       state(e->kernel, e->want));
	}
	for (size_t i = 0; i < f->n_fdb; i++) {
		const L2f__AgentFdbEntry *e = f->fdb[i];

		printf("%-8u %-17s %-34s %s\n", e->vni, pb_mac_text(&e->mac, m), pb_addr_text(&e->dst, a),
		       state(e->kernel, e->want));
	}
	printf("\n%-8s %-17s %-34s %s\n", "VNI", "MAC", "ADDRESS (suppression)", "STATE");
	for (size_t i = 0; i < f->n_neigh; i++) {
		const L2f__AgentNeigh *e = f->neigh[i];

		printf("%-8u %-17s %-34s %s\n", e->vni, pb_mac_text(&e->mac, m), pb_addr_text(&e->ip, a),
		       state(e->kernel, e->want));
	}
	printf("\n%-8s %-17s %s\n", "VNI", "MAC (local)", "ADDRESSES");
	for (size_t i = 0; i < f->n_local; i++) {
		const L2f__AgentLocal *e = f->local[i];

		printf("%-8u %-17s ", e->vni, pb_mac_text(&e->mac, m));
		put_addrs(e->ips, e->n_ips);
		printf("\n");
	}
	for (size_t i = 0; i < f->n_errors; i++)
		printf("\nerror: %s", f->errors[i]);
	printf("\n%s: %llu entr%s differ from what fabricd wants\n",
	       f->drift ? "DRIFT" : "in sync", U(f->drift), f->drift == 1 ? "y" : "ies");
}

struct agent_out {
	bool json, status, printed;
};

/* The reply is freed once this returns: print it now. */
static int agent_page(const L2f__Reply *r, bool first, void *ctx)
{
	struct agent_out *o = ctx;
	const ProtobufCMessage *m = o->status ? (const ProtobufCMessage *)r->agent_status
					      : (const ProtobufCMessage *)r->agent_fdb;

	if (!m) {
		fprintf(stderr, "fabricctl: the reply holds no agent %s (not vtepd's socket?)\n",
			o->status ? "status" : "fdb");
		return 1;
	}
	if (o->json)
		pbjson_print(m);
	else if (o->status)
		print_status(r->agent_status);
	else
		print_fdb(r->agent_fdb);
	o->printed = true;
	return 0;
}

int cmd_agent(const struct fabricctl_opts *o, int argc, char **argv)
{
	L2f__Request q = L2F__REQUEST__INIT;
	struct agent_out out = { o->json, false, false };
	int ret;

	if (argc != 1 || (strcmp(argv[0], "status") && strcmp(argv[0], "fdb"))) {
		fprintf(stderr, "usage: fabricctl [-s SOCKET] agent status|fdb [--json]\n");
		return 2;
	}
	out.status = argv[0][0] == 's';
	if (out.status) {
		q.op_case = L2F__REQUEST__OP_AGENT_STATUS;
		q.agent_status = true;
	} else {
		q.op_case = L2F__REQUEST__OP_AGENT_FDB;
		q.agent_fdb = true;
	}
	ret = fabricctl_call(o, VTEPD_SOCKET, &q, agent_page, &out);
	return ret ? ret : out.printed ? 0 : 1;
}
