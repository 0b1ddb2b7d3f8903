/* metrics.c - vtepd's Prometheus metrics: the session with fabricd, bindings, kernel
 * requests, the last reconcile, learning, drift repair, the control socket. */
#include <stdio.h>
#include "ctlsrv.h"
#include "drift.h"
#include "learn.h"
#include "metrics.h"
#include "vtepd.h"

static void kcount(struct metrics_out *m, const char *table, const struct kcount *c)
{
	static const char *const what[] = { "added", "updated", "removed", "kept", "foreign",
					    "conflicts" };
	const uint32_t v[] = { c->added, c->updated, c->removed, c->kept, c->foreign, c->conflicts };

	for (int i = 0; i < 6; i++)
		metrics_value(m, "l2f_vtepd_reconcile_entries", v[i], "table", table, "result",
			      what[i], NULL);
}

void vtepd_metrics(struct metrics_out *m, void *ctx)
{
	struct vtepd *v = ctx;
	const struct wire_client_status *st = wire_client_status(v->fc);
	struct kcounters kc;
	struct learn_stats ls;

	metrics_one(m, "l2f_vtepd_fabricd_connected", "gauge",
		    "1 while the session with fabricd is up", st->connected);
	metrics_one(m, "l2f_vtepd_segments", "gauge", "segments served", v->nsegs);
	metrics_one(m, "l2f_vtepd_bindings", "gauge", "bindings fabricd wants programmed here",
		    v->want.count);
	metrics_one(m, "l2f_vtepd_known_vteps", "gauge", "the fabric's VTEPs", v->known.n);
	metrics_one(m, "l2f_vtepd_updates_received_total", "counter", "Updates from fabricd",
		    v->c.updates);
	metrics_one(m, "l2f_vtepd_full_tables_total", "counter", "full tables received",
		    v->c.full_tables);
	metrics_one(m, "l2f_vtepd_reports_sent_total", "counter", "Reports sent to fabricd",
		    v->c.reports);
	kernel_counters(v->k, &kc);
	metrics_one(m, "l2f_vtepd_kernel_requests_total", "counter", "netlink changes sent",
		    kc.requests);
	metrics_one(m, "l2f_vtepd_kernel_refused_total", "counter",
		    "netlink changes the kernel refused (answers lost or late included)", kc.refused);
	metrics_one(m, "l2f_vtepd_kernel_lost_total", "counter",
		    "of those, answers lost (ENOBUFS)", kc.lost);
	metrics_one(m, "l2f_vtepd_kernel_timeouts_total", "counter",
		    "of those, no answer within 2 s", kc.timeouts);
	metrics_one(m, "l2f_vtepd_kernel_in_flight", "gauge",
		    "netlink changes queued or not answered yet", kc.in_flight);
	metrics_one(m, "l2f_vtepd_reconciles_total", "counter", "full reconciles with the kernel",
		    v->c.reconciles);
	metrics_family(m, "l2f_vtepd_reconcile_entries", "gauge",
		       "entries of the last reconcile, by table and result");
	kcount(m, "fdb", &v->c.reconcile_last.fdb);
	kcount(m, "flood", &v->c.reconcile_last.flood);
	kcount(m, "neigh", &v->c.reconcile_last.neigh);
	learner_stats(v->lr, &ls);
	metrics_one(m, "l2f_vtepd_learn_frames_total", "counter", "frames read on local ports",
		    ls.frames);
	metrics_one(m, "l2f_vtepd_learn_macs", "gauge", "local MACs learned", ls.macs);
	metrics_family(m, "l2f_vtepd_learn_drops_total", "counter", "frames dropped, by reason");
	for (int i = 1; i < PKT_DROP_COUNT; i++)
		metrics_value(m, "l2f_vtepd_learn_drops_total", ls.drops[i], "reason",
			      pkt_drop_name(i), NULL);
	if (v->drift) {
		struct drift_stats ds;

		drift_stats(v->drift, &ds);
		metrics_family(m, "l2f_vtepd_drift_deleted_total", "counter",
			       "entries of vtepd's deleted while fabricd wants them, by cause");
		metrics_value(m, "l2f_vtepd_drift_deleted_total", ds.deleted_by_operator, "cause",
			      "operator", NULL);
		metrics_value(m, "l2f_vtepd_drift_deleted_total", ds.flushed_by_link_change,
			      "cause", "link_change", NULL);
		metrics_one(m, "l2f_vtepd_drift_not_wanted_total", "counter",
			    "entries of vtepd's deleted that fabricd does not want: not put back",
			    ds.not_wanted);
		metrics_one(m, "l2f_vtepd_drift_repairs_total", "counter", "repair batches",
			    ds.repairs);
		metrics_one(m, "l2f_vtepd_drift_repaired_total", "counter",
			    "entries put back or corrected", ds.repaired);
		metrics_one(m, "l2f_vtepd_drift_backed_off_total", "counter",
			    "times an entry deleted too often was held back", ds.backed_off);
		metrics_one(m, "l2f_vtepd_drift_held", "gauge", "entries held back now", ds.held);
		metrics_one(m, "l2f_vtepd_drift_events_lost_total", "counter",
			    "netlink notifications lost (every segment repaired)", ds.events_lost);
		metrics_one(m, "l2f_vtepd_bridges_unfixed", "gauge",
			    "segments whose bridge has no fixed MAC address", ds.bridges_unfixed);
	}
	if (v->ctl)
		ctlsrv_metrics(m, v->ctl, "vtepd");
}
