/* status.c - the daemon's state as JSON for `fabricctl vip status` (json-c). */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include "vipd.h"

static json_object *addr_json(const struct ipaddr *a)
{
	char buf[IPADDR_STRLEN];

	return a->af ? json_object_new_string(ipaddr_fmt(a, buf)) : NULL;
}

static json_object *sock_json(const struct iface_sock_counters *sc)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "frames", json_object_new_uint64(sc->frames));
	json_object_object_add(o, "queue_drops", json_object_new_uint64(sc->queue_drops));
	return o;
}

static json_object *answer_limit_json(const struct iface *ifp)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "rate", json_object_new_int64(ifp->d->cfg.answer_rate));
	json_object_object_add(o, "burst", json_object_new_int64(ifp->d->cfg.answer_burst));
	json_object_object_add(o, "sources", json_object_new_uint64(
		srclimit_active(&ifp->answers, monotime_now())));
	json_object_object_add(o, "capacity", json_object_new_int(SRCLIMIT_SLOTS));
	json_object_object_add(o, "table_full", json_object_new_uint64(ifp->answers.table_full));
	return o;
}

static json_object *iface_json(const struct iface *ifp)
{
	json_object *o = json_object_new_object(), *drops = json_object_new_object();
	json_object *sockets = json_object_new_object();
	char buf[MAC_STRLEN];

	json_object_object_add(o, "name", json_object_new_string(ifp->name));
	json_object_object_add(o, "ifindex", json_object_new_int(ifp->ifindex));
	json_object_object_add(o, "running", json_object_new_boolean(ifp->running));
	json_object_object_add(o, "mac", json_object_new_string(mac_fmt(&ifp->mac, buf)));
	json_object_object_add(o, "primary_ipv4", addr_json(&ifp->primary4));
	json_object_object_add(o, "link_local_ipv6", addr_json(&ifp->linklocal6));
	json_object_object_add(o, "frames", json_object_new_uint64(ifp->frames));
	json_object_object_add(sockets, "vrrp", sock_json(&ifp->vrrp));
	json_object_object_add(sockets, "segment", sock_json(&ifp->seg));
	json_object_object_add(o, "sockets", sockets);
	json_object_object_add(o, "answer_limit", answer_limit_json(ifp));
	for (int i = 1; i < PKT_DROP_COUNT; i++)
		json_object_object_add(drops, pkt_drop_name(i), json_object_new_uint64(ifp->drops[i]));
	json_object_object_add(o, "drops", drops);
	return o;
}

#define COUNTER(o, c, name) json_object_object_add(o, #name, json_object_new_uint64((c)->name))

static json_object *instance_json(const struct instance *inst)
{
	json_object *o = json_object_new_object(), *c = json_object_new_object();
	const struct vrrp *v = &inst->vrrp;

	json_object_object_add(o, "family", json_object_new_string(inst->af == AF_INET ? "ipv4"
											: "ipv6"));
	json_object_object_add(o, "state", json_object_new_string(vrrp_state_name(v->state)));
	if (v->state == VRRP_INIT)
		json_object_object_add(o, "reason", json_object_new_string(inst->why_init));
	json_object_object_add(o, "master", addr_json(&v->master));
	json_object_object_add(o, "master_priority",
			       v->master.af ? json_object_new_int(v->master_priority) : NULL);
	json_object_object_add(o, "master_adver_interval_ms",
			       json_object_new_int(v->master_adver_int_cs * 10));
	json_object_object_add(o, "master_down_interval_us",
			       json_object_new_int64(vrrp_master_down_us(v)));
	json_object_object_add(o, "assigned", json_object_new_boolean(inst->assigned));
	COUNTER(c, &inst->c, adverts_sent);
	COUNTER(c, &inst->c, adverts_received);
	COUNTER(c, &inst->c, priority_zero_sent);
	COUNTER(c, &inst->c, priority_zero_received);
	COUNTER(c, v, priority_zero_suppressed);
	COUNTER(c, &inst->c, addr_list_mismatch);
	COUNTER(c, &inst->c, arp_answered);
	COUNTER(c, &inst->c, ns_answered);
	COUNTER(c, &inst->c, arp_rate_limited);
	COUNTER(c, &inst->c, ns_rate_limited);
	COUNTER(c, &inst->c, announcements_sent);
	COUNTER(c, &inst->c, conflicts);
	COUNTER(c, &inst->c, transitions);
	COUNTER(c, &inst->c, became_master);
	COUNTER(c, &inst->c, send_errors);
	json_object_object_add(o, "counters", c);
	return o;
}

static json_object *group_json(const struct group *g)
{
	json_object *o = json_object_new_object(), *addrs = json_object_new_array();
	json_object *insts = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string(g->cfg.name));
	json_object_object_add(o, "interface", json_object_new_string(g->cfg.ifname));
	json_object_object_add(o, "vrid", json_object_new_int(g->cfg.vrid));
	json_object_object_add(o, "priority", json_object_new_int(g->cfg.priority));
	json_object_object_add(o, "priority_auto", json_object_new_boolean(g->cfg.priority_auto));
	json_object_object_add(o, "advert_interval_ms",
			       json_object_new_int((int)g->cfg.advert_interval_ms));
	json_object_object_add(o, "preempt", json_object_new_boolean(g->cfg.preempt));
	json_object_object_add(o, "assign", json_object_new_boolean(g->cfg.assign));
	for (size_t i = 0; i < g->cfg.naddrs; i++)
		json_object_array_add(addrs, addr_json(&g->cfg.addrs[i]));
	json_object_object_add(o, "addresses", addrs);
	if (g->cfg.has_vmac) {
		json_object *v = json_object_new_object();
		char buf[MAC_STRLEN];

		json_object_object_add(v, "mac", json_object_new_string(mac_fmt(&g->cfg.vmac, buf)));
		json_object_object_add(v, "interface", json_object_new_string(g->cfg.vmac_ifname));
		json_object_object_add(v, "ifindex", json_object_new_int(g->vmac_ifindex));
		json_object_object_add(v, "up", json_object_new_boolean(g->vmac_up));
		json_object_object_add(o, "virtual_mac", v);
	}
	if (g->cfg.fabric_vni)
		json_object_object_add(o, "fabric_vni", json_object_new_int64(g->cfg.fabric_vni));
	for (int i = 0; i < 2; i++)
		if (g->inst[i].active)
			json_object_array_add(insts, instance_json(&g->inst[i]));
	json_object_object_add(o, "instances", insts);
	return o;
}

char *status_json(struct vipd *d)
{
	json_object *root = json_object_new_object(), *ifs = json_object_new_array();
	json_object *groups = json_object_new_array();
	const struct group *g;
	char *out;

	json_object_object_add(root, "node", json_object_new_string(d->cfg.node));
	for (struct iface *ifp = d->ifaces; ifp; ifp = ifp->next) {
		iface_update_queue_drops(ifp);
		json_object_array_add(ifs, iface_json(ifp));
	}
	json_object_object_add(root, "interfaces", ifs);
	for (g = d->groups; g; g = g->next)
		json_object_array_add(groups, group_json(g));
	json_object_object_add(root, "groups", groups);
	if (d->fabric) {
		struct fabric_status fs;
		json_object *f = json_object_new_object();

		fabric_status(d, &fs);
		json_object_object_add(f, "connect", json_object_new_string(fs.connect));
		json_object_object_add(f, "host", json_object_new_string(d->cfg.fabric.host));
		json_object_object_add(f, "connected", json_object_new_boolean(fs.connected));
		json_object_object_add(f, "sessions", json_object_new_uint64(fs.sessions));
		json_object_object_add(f, "reports_sent", json_object_new_uint64(fs.reports_sent));
		json_object_object_add(f, "reports_failed",
				       json_object_new_uint64(fs.reports_failed));
		if (fs.last_error[0])
			json_object_object_add(f, "last_error",
					       json_object_new_string(fs.last_error));
		json_object_object_add(root, "fabric", f);
	}
	out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return out;
}
