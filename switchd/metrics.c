/* metrics.c - switchd's Prometheus metrics: its location, LDP, the edge's proxy ARP/ND, the
 * data plane's verdicts by reason and its map entries (what `fabricctl switch status` shows),
 * migration's events, and the control socket. */
#include <stdio.h>
#include <string.h>
#include "ctlsrv.h"
#include "dp.h"
#include "metrics.h"
#include "switchd.h"

static void migration_event(void *ctx, const char *name, uint64_t v)
{
	const char *dot = strchr(name, '.');

	metrics_value(ctx, "l2f_switchd_migration_events_total", v, "event",
		      dot ? dot + 1 : name, NULL);
}

void switchd_metrics(struct metrics_out *m, void *ctx)
{
	struct switchd *s = ctx;
	uint64_t v[SW_V_COUNT];
	struct dp_map_count maps[DP_COUNTED_MAPS];

	metrics_one(m, "l2f_switchd_located", "gauge", "1 once LDP has located the switch",
		    s->located);
	metrics_one(m, "l2f_switchd_level", "gauge",
		    "LDP's level: 0 unknown, 1 edge, 2 aggregation, 3 core", s->ldp.level);
	metrics_one(m, "l2f_switchd_ports", "gauge", "ports found", (uint64_t)s->nports);
	metrics_one(m, "l2f_switchd_ldm_received_total", "counter", "LDP frames received",
		    s->c.ldp_rx);
	metrics_one(m, "l2f_switchd_ldm_sent_total", "counter", "LDP frames sent", s->c.ldp_tx);
	metrics_one(m, "l2f_switchd_miswirings_total", "counter", "miswirings LDP reported",
		    s->c.miswirings);
	metrics_one(m, "l2f_switchd_neighbours_lost_total", "counter",
		    "neighbours whose LDMs stopped", s->ldp.c.neighbours_lost);
	metrics_one(m, "l2f_switchd_hosts", "gauge", "hosts below this edge", s->nhosts);
	metrics_one(m, "l2f_switchd_hosts_aged_total", "counter",
		    "hosts forgotten after host_age without a frame", s->c.hosts_aged);
	metrics_one(m, "l2f_switchd_hosts_refused_total", "counter",
		    "new hosts refused: the edge full, or no vmid free on their port",
		    s->c.hosts_refused);
	metrics_one(m, "l2f_switchd_vmids_held", "gauge",
		    "vmids held after their host left, given to no other host yet",
		    vmids_held(&s->vmids));
	metrics_one(m, "l2f_switchd_arp_answered_total", "counter",
		    "ARP requests answered with a PMAC", s->c.arp_answered);
	metrics_one(m, "l2f_switchd_nd_answered_total", "counter",
		    "Neighbor Solicitations answered with a PMAC", s->c.nd_answered);
	metrics_one(m, "l2f_switchd_queries_total", "counter", "addresses asked of fabricd",
		    s->c.queries_sent);
	metrics_one(m, "l2f_switchd_misses_total", "counter",
		    "addresses fabricd did not know (flooded to the edges)", s->c.misses);
	metrics_one(m, "l2f_switchd_floods_sent_total", "counter",
		    "ARP requests and NSs sent to our hosts for fabricd's misses", s->c.floods_sent);
	metrics_one(m, "l2f_switchd_frames_dropped_total", "counter",
		    "LDP, ARP and ND frames dropped (malformed, or not from a host port)",
		    s->c.frames_dropped);
	metrics_one(m, "l2f_switchd_mcast_groups", "gauge",
		    "multicast groups hosts below this edge joined", s->nmgroups);
	metrics_one(m, "l2f_switchd_mcast_reports_received_total", "counter",
		    "IGMP and MLD reports from hosts", s->c.mcast_reports_rx);
	metrics_one(m, "l2f_switchd_mcast_reports_dropped_total", "counter",
		    "IGMP and MLD reports that did not parse", s->c.mcast_reports_dropped);
	metrics_one(m, "l2f_switchd_mcast_reports_rate_limited_total", "counter",
		    "IGMP and MLD reports not read: over their host port's rate",
		    s->c.mcast_rate_limited);
	metrics_one(m, "l2f_switchd_mcast_refused_total", "counter",
		    "joins refused: groups or members over their bound",
		    s->c.mcast_groups_over_cap + s->c.mcast_members_over_cap);
	metrics_one(m, "l2f_switchd_mcast_tables_total", "counter",
		    "multicast tables fabricd sent", s->c.mcast_tables);
	metrics_one(m, "l2f_switchd_mcast_entries", "gauge",
		    "multicast entries in the data plane", s->c.mcast_entries);
	metrics_one(m, "l2f_switchd_mcast_entries_over_cap_total", "counter",
		    "multicast entries from fabricd not written: over a bound",
		    s->c.mcast_entries_over_cap);
	if (s->dp && dp_read_verdicts(s->dp, v) == 0) {
		metrics_family(m, "l2f_switchd_verdicts_total", "counter",
			       "frames the data plane handled, by verdict");
		for (unsigned i = 0; i < SW_V_COUNT; i++)
			metrics_value(m, "l2f_switchd_verdicts_total", v[i], "verdict",
				      dp_verdict_name(i), NULL);
	}
	if (s->dp && dp_count_entries(s->dp, maps) == 0) {
		metrics_family(m, "l2f_switchd_map_entries", "gauge",
			       "entries in the data plane's maps, by map");
		for (unsigned i = 0; i < DP_COUNTED_MAPS; i++)
			metrics_value(m, "l2f_switchd_map_entries", maps[i].entries, "map",
				      maps[i].name, NULL);
	}
	metrics_family(m, "l2f_switchd_migration_events_total", "counter",
		       "migration at an old edge: moves told by fabricd, moved PMACs redirected "
		       "and expired, senders trapped and told the new PMAC, bounds hit");
	moved_counters(s, migration_event, m);
	if (s->ctl)
		ctlsrv_metrics(m, s->ctl, "switchd");
}
