/* metrics.c - vipd's Prometheus metrics: per group and family the VRRP state and its
 * counters (as `fabricctl vip status` shows them), per interface the frames and drops by
 * reason, what each packet socket read and lost, the answer limit's table, the fabricd
 * session, the control socket. */
#include <stdio.h>
#include "ctlsrv.h"
#include "metrics.h"
#include "nlq.h"
#include "vipd.h"

#define INST(field, help) INST_AS(field, field, help)
#define INST_AS(name, field, help)                                                         \
	{ "l2f_vipd_" #name "_total", help, offsetof(struct instance_counters, field) }

static const struct {
	const char *name, *help;
	size_t off;
} inst_counters[] = {
	INST(adverts_sent, "VRRP adverts sent"),
	INST(adverts_received, "VRRP adverts received and accepted"),
	INST(priority_zero_sent, "adverts of priority 0 sent (stepping down)"),
	INST(priority_zero_received, "adverts of priority 0 received"),
	INST(addr_list_mismatch, "adverts whose address list differs from ours (RFC 5798 7.1)"),
	INST(arp_answered, "ARP requests for a VIP answered"),
	INST_AS(neighbor_solicitations_answered, ns_answered,
		"Neighbor Solicitations for a VIP answered"),
	INST(arp_rate_limited, "ARP requests for a VIP not answered: the asker's bucket was empty"),
	INST_AS(neighbor_solicitations_rate_limited, ns_rate_limited,
		"Neighbor Solicitations for a VIP not answered: the asker's bucket was empty"),
	INST(announcements_sent, "gratuitous ARPs and unsolicited NAs sent"),
	INST(conflicts, "another MAC announcing our VIP while we were master"),
	INST(transitions, "VRRP state changes"),
	INST(became_master, "transitions to master"),
	INST(send_errors, "frames that could not be sent"),
};

static const char *fam(const struct instance *inst)
{
	return inst->af == AF_INET ? "ipv4" : "ipv6";
}

void vipd_metrics(struct metrics_out *m, void *ctx)
{
	struct vipd *d = ctx;
	static const enum vrrp_state states[] = { VRRP_INIT, VRRP_BACKUP, VRRP_MASTER };
	const struct group *g;

	metrics_family(m, "l2f_vipd_vrrp_state", "gauge",
		       "1 for the instance's VRRP state, 0 for the others");
	for (g = d->groups; g; g = g->next)
		for (int i = 0; i < 2; i++) {
			const struct instance *inst = &g->inst[i];

			if (!inst->active)
				continue;
			for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++)
				metrics_value(m, "l2f_vipd_vrrp_state", inst->vrrp.state == states[s],
					      "group", g->cfg.name, "family", fam(inst), "state",
					      vrrp_state_name(states[s]), NULL);
		}
	metrics_family(m, "l2f_vipd_vrrp_priority", "gauge", "the group's priority on this node");
	for (g = d->groups; g; g = g->next)
		metrics_value(m, "l2f_vipd_vrrp_priority", g->cfg.priority, "group", g->cfg.name,
			      NULL);
	for (size_t c = 0; c < sizeof(inst_counters) / sizeof(inst_counters[0]); c++) {
		metrics_family(m, inst_counters[c].name, "counter", inst_counters[c].help);
		for (g = d->groups; g; g = g->next)
			for (int i = 0; i < 2; i++) {
				const struct instance *inst = &g->inst[i];

				if (inst->active)
					metrics_value(m, inst_counters[c].name,
						      *(const uint64_t *)((const char *)&inst->c +
									  inst_counters[c].off),
						      "group", g->cfg.name, "family", fam(inst), NULL);
			}
	}
	metrics_family(m, "l2f_vipd_priority_zero_suppressed_total", "counter",
		       "priority-0 adverts not answered: within half an interval of our last advert");
	for (g = d->groups; g; g = g->next)
		for (int i = 0; i < 2; i++)
			if (g->inst[i].active)
				metrics_value(m, "l2f_vipd_priority_zero_suppressed_total",
					      g->inst[i].vrrp.priority_zero_suppressed, "group",
					      g->cfg.name, "family", fam(&g->inst[i]), NULL);
	metrics_family(m, "l2f_vipd_frames_total", "counter",
		       "ARP, NS and VRRP frames read on the interface");
	for (const struct iface *ifp = d->ifaces; ifp; ifp = ifp->next)
		metrics_value(m, "l2f_vipd_frames_total", ifp->frames, "interface", ifp->name, NULL);
	metrics_family(m, "l2f_vipd_socket_frames_total", "counter",
		       "frames read, by packet socket (vrrp, segment: ARP and NS)");
	for (const struct iface *ifp = d->ifaces; ifp; ifp = ifp->next) {
		metrics_value(m, "l2f_vipd_socket_frames_total", ifp->vrrp.frames, "interface",
			      ifp->name, "socket", "vrrp", NULL);
		metrics_value(m, "l2f_vipd_socket_frames_total", ifp->seg.frames, "interface",
			      ifp->name, "socket", "segment", NULL);
	}
	metrics_family(m, "l2f_vipd_socket_queue_drops_total", "counter",
		       "frames the kernel dropped because the socket's queue was full");
	for (struct iface *ifp = d->ifaces; ifp; ifp = ifp->next) {
		iface_update_queue_drops(ifp);
		metrics_value(m, "l2f_vipd_socket_queue_drops_total", ifp->vrrp.queue_drops,
			      "interface", ifp->name, "socket", "vrrp", NULL);
		metrics_value(m, "l2f_vipd_socket_queue_drops_total", ifp->seg.queue_drops,
			      "interface", ifp->name, "socket", "segment", NULL);
	}
	metrics_family(m, "l2f_vipd_answer_table_full_total", "counter",
		       "answers asked by a source that found no slot in the per-asker table");
	for (const struct iface *ifp = d->ifaces; ifp; ifp = ifp->next)
		metrics_value(m, "l2f_vipd_answer_table_full_total", ifp->answers.table_full,
			      "interface", ifp->name, NULL);
	metrics_family(m, "l2f_vipd_drops_total", "counter", "frames dropped, by reason");
	for (const struct iface *ifp = d->ifaces; ifp; ifp = ifp->next)
		for (int i = 1; i < PKT_DROP_COUNT; i++)
			metrics_value(m, "l2f_vipd_drops_total", ifp->drops[i], "interface",
				      ifp->name, "reason", pkt_drop_name(i), NULL);
	if (d->fabric) {
		struct fabric_status fs;

		fabric_status(d, &fs);
		metrics_one(m, "l2f_vipd_fabric_connected", "gauge",
			    "1 while the session with fabricd is up", fs.connected);
		metrics_one(m, "l2f_vipd_fabric_reports_sent_total", "counter",
			    "master changes reported to fabricd", fs.reports_sent);
		metrics_one(m, "l2f_vipd_fabric_reports_failed_total", "counter",
			    "master changes that could not be reported", fs.reports_failed);
	}
	if (d->nlq) {
		const struct nlq_stats *ns = nlq_stats(d->nlq);

		metrics_one(m, "l2f_vipd_netlink_requests_total", "counter",
			    "address and virtual MAC changes sent from the event loop", ns->sent);
		metrics_one(m, "l2f_vipd_netlink_failed_total", "counter",
			    "of those, refused by the kernel or unanswered", d->nl_async_failed);
	}
	if (d->ctl)
		ctlsrv_metrics(m, d->ctl, "vipd");
}
