/* status.c - the daemon's state as a typed VipStatus (proto/fabric.proto) for `fabricctl vip
 * status`, built on a pool freed once the reply is sent. */
#include <stdlib.h>
#include <string.h>
#include "ctlsrv.h"
#include "vipd.h"
#include "wire.h"

_Static_assert(VIPD_MAX_GROUPS <= WIRE_MAX_VIP_GROUPS, "every group (and its interface) fits a VipStatus");
_Static_assert(VIPD_MAX_ADDRS <= WIRE_MAX_VIP_ADDRS, "every address of a group fits");

static L2f__VipSocket *sock_pb(struct ctlsrv_pool *pl, const struct iface_sock_counters *sc)
{
	L2f__VipSocket *s = ctlsrv_palloc(pl, sizeof(*s));

	if (!s)
		return NULL;
	l2f__vip_socket__init(s);
	s->frames = sc->frames;
	s->queue_drops = sc->queue_drops;
	return s;
}

static L2f__VipInterface *iface_pb(struct ctlsrv_pool *pl, const struct iface *ifp)
{
	L2f__VipInterface *o = ctlsrv_palloc(pl, sizeof(*o));
	L2f__VipSockets *ss = ctlsrv_palloc(pl, sizeof(*ss));
	L2f__VipAnswerLimit *al = ctlsrv_palloc(pl, sizeof(*al));
	L2f__Counter *c = ctlsrv_palloc(pl, PKT_DROP_COUNT * sizeof(*c));
	L2f__Counter **cp = ctlsrv_palloc(pl, PKT_DROP_COUNT * sizeof(*cp));

	if (!o || !ss || !al || !c || !cp)
		return NULL;
	l2f__vip_interface__init(o);
	l2f__vip_sockets__init(ss);
	l2f__vip_answer_limit__init(al);
	o->name = (char *)ifp->name;
	o->ifindex = ifp->ifindex;
	o->running = ifp->running;
	o->mac = ctlsrv_mac(&ifp->mac);
	if ((o->has_primary_ipv4 = ifp->primary4.af != 0))
		o->primary_ipv4 = ctlsrv_addr(&ifp->primary4);
	if ((o->has_link_local_ipv6 = ifp->linklocal6.af != 0))
		o->link_local_ipv6 = ctlsrv_addr(&ifp->linklocal6);
	o->frames = ifp->frames;
	ss->vrrp = sock_pb(pl, &ifp->vrrp);
	ss->segment = sock_pb(pl, &ifp->seg);
	o->sockets = ss;
	al->rate = ifp->d->cfg.answer_rate;
	al->burst = ifp->d->cfg.answer_burst;
	al->sources = srclimit_active(&ifp->answers, monotime_now());
	al->capacity = SRCLIMIT_SLOTS;
	al->table_full = ifp->answers.table_full;
	o->answer_limit = al;
	for (int i = 1; i < PKT_DROP_COUNT; i++) {
		l2f__counter__init(&c[o->n_drops]);
		c[o->n_drops].name = (char *)pkt_drop_name(i);
		c[o->n_drops].value = ifp->drops[i];
		cp[o->n_drops] = &c[o->n_drops];
		o->n_drops++;
	}
	o->drops = cp;
	return o;
}

static L2f__VipInstance *instance_pb(struct ctlsrv_pool *pl, const struct instance *inst)
{
	L2f__VipInstance *o = ctlsrv_palloc(pl, sizeof(*o));
	L2f__VipCounters *c = ctlsrv_palloc(pl, sizeof(*c));
	const struct vrrp *v = &inst->vrrp;

	if (!o || !c)
		return NULL;
	l2f__vip_instance__init(o);
	l2f__vip_counters__init(c);
	o->family = inst->af == AF_INET ? "ipv4" : "ipv6";
	o->state = (char *)vrrp_state_name(v->state);
	if (v->state == VRRP_INIT)
		o->reason = (char *)inst->why_init;
	if ((o->has_master = v->master.af != 0)) {
		o->master = ctlsrv_addr(&v->master);
		o->has_master_priority = true;
		o->master_priority = v->master_priority;
	}
	o->master_adver_interval_ms = v->master_adver_int_cs * 10u;
	o->master_down_interval_us = vrrp_master_down_us(v);
	o->assigned = inst->assigned;
	c->adverts_sent = inst->c.adverts_sent;
	c->adverts_received = inst->c.adverts_received;
	c->priority_zero_sent = inst->c.priority_zero_sent;
	c->priority_zero_received = inst->c.priority_zero_received;
	c->priority_zero_suppressed = v->priority_zero_suppressed;
	c->addr_list_mismatch = inst->c.addr_list_mismatch;
	c->arp_answered = inst->c.arp_answered;
	c->ns_answered = inst->c.ns_answered;
	c->arp_rate_limited = inst->c.arp_rate_limited;
	c->ns_rate_limited = inst->c.ns_rate_limited;
	c->announcements_sent = inst->c.announcements_sent;
	c->conflicts = inst->c.conflicts;
	c->transitions = inst->c.transitions;
	c->became_master = inst->c.became_master;
	c->send_errors = inst->c.send_errors;
	o->counters = c;
	return o;
}

static L2f__VipGroup *group_pb(struct ctlsrv_pool *pl, const struct group *g)
{
	L2f__VipGroup *o = ctlsrv_palloc(pl, sizeof(*o));
	ProtobufCBinaryData *addrs = ctlsrv_palloc(pl, (g->cfg.naddrs + 1) * sizeof(*addrs));
	L2f__VipInstance **insts = ctlsrv_palloc(pl, 2 * sizeof(*insts));

	if (!o || !addrs || !insts)
		return NULL;
	l2f__vip_group__init(o);
	o->name = (char *)g->cfg.name;
	o->interface = (char *)g->cfg.ifname;
	o->vrid = g->cfg.vrid;
	o->priority = g->cfg.priority;
	o->priority_auto = g->cfg.priority_auto;
	o->advert_interval_ms = g->cfg.advert_interval_ms;
	o->preempt = g->cfg.preempt;
	o->assign = g->cfg.assign;
	for (size_t i = 0; i < g->cfg.naddrs; i++)
		addrs[i] = ctlsrv_addr(&g->cfg.addrs[i]);
	o->addresses = addrs;
	o->n_addresses = g->cfg.naddrs;
	if (g->cfg.has_vmac) {
		L2f__VipVirtualMac *v = ctlsrv_palloc(pl, sizeof(*v));

		if (!v)
			return NULL;
		l2f__vip_virtual_mac__init(v);
		v->mac = ctlsrv_mac(&g->cfg.vmac);
		v->interface = (char *)g->cfg.vmac_ifname;
		v->ifindex = g->vmac_ifindex;
		v->up = g->vmac_up;
		o->virtual_mac = v;
	}
	if ((o->has_fabric_vni = g->cfg.fabric_vni != 0))
		o->fabric_vni = g->cfg.fabric_vni;
	for (int i = 0; i < 2; i++)
		if (g->inst[i].active && (insts[o->n_instances] = instance_pb(pl, &g->inst[i])))
			o->n_instances++;
	o->instances = insts;
	return o;
}

void vipd_status_reply(struct vipd *d, L2f__Reply *r, struct ctlsrv_cleanup *cl)
{
	struct ctlsrv_pool *pl = ctlsrv_pool_new(cl);
	L2f__VipStatus *st = pl ? ctlsrv_palloc(pl, sizeof(*st)) : NULL;
	size_t nifs = 0, ngroups = 0;

	if (!st) {
		r->error = "out of memory";
		return;
	}
	l2f__vip_status__init(st);
	st->node = d->cfg.node;
	for (struct iface *ifp = d->ifaces; ifp; ifp = ifp->next)
		nifs++;
	for (const struct group *g = d->groups; g; g = g->next)
		ngroups++;
	st->interfaces = ctlsrv_palloc(pl, (nifs + 1) * sizeof(*st->interfaces));
	st->groups = ctlsrv_palloc(pl, (ngroups + 1) * sizeof(*st->groups));
	if (st->interfaces)
		for (struct iface *ifp = d->ifaces; ifp; ifp = ifp->next) {
			iface_update_queue_drops(ifp);
			if ((st->interfaces[st->n_interfaces] = iface_pb(pl, ifp)))
				st->n_interfaces++;
		}
	if (st->groups)
		for (const struct group *g = d->groups; g; g = g->next)
			if ((st->groups[st->n_groups] = group_pb(pl, g)))
				st->n_groups++;
	if (d->fabric) {
		struct fabric_status *fs = ctlsrv_palloc(pl, sizeof(*fs));
		L2f__VipFabric *f = ctlsrv_palloc(pl, sizeof(*f));

		if (fs && f) {
			fabric_status(d, fs);
			l2f__vip_fabric__init(f);
			f->connect = (char *)fs->connect;
			f->host = d->cfg.fabric.host;
			f->connected = fs->connected;
			f->sessions = fs->sessions;
			f->reports_sent = fs->reports_sent;
			f->reports_failed = fs->reports_failed;
			if (fs->last_error && fs->last_error[0])
				f->last_error = (char *)fs->last_error;
			st->fabric = f;
		}
	}
	if (ctlsrv_pool_failed(pl)) {
		r->error = "out of memory";
		return;
	}
	r->vip_status = st;
}
