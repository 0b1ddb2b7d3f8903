/*
 * group.c - a configured VIP group at run time: its VRRP instances (one per family), what a
 * master does on the segment (answer ARP and Neighbor Solicitations for the VIPs, announce
 * them, assign them to the interface) and the counters of all that.
 *
 * Announcements (on becoming master): a gratuitous ARP request in the RFC 5227 2.3 form and
 * a gratuitous reply for each IPv4 VIP, because some devices accept only one of the two, and
 * an unsolicited NA with O=1 (RFC 4861 7.2.6; O=0 would not replace a cached MAC, 7.2.5) for
 * each IPv6 VIP, with R=1 when the interface forwards. The burst is repeated announce_count
 * times announce_interval_ms apart (Linux ignores a second update within its 1 s locktime)
 * and then refreshed every refresh_interval_s, since routers and switches age entries.
 */
#include <errno.h>
#include <event2/event.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "nlq.h"
#include "pkt/arp.h"
#include "pkt/ndisc.h"
#include "pkt/vrrp.h"
#include "vipd.h"

#define FRAME_MAX 1600

static const struct in6_addr all_nodes = { .s6_addr = { 0xff, 0x02, [15] = 0x01 } };

static const char *af_name(int af)
{
	return af == AF_INET ? "ipv4" : "ipv6";
}

/* The MAC the group's frames and answers carry: its virtual MAC, or the interface's. */
static const struct mac *group_mac(const struct group *g)
{
	return g->cfg.has_vmac ? &g->cfg.vmac : &g->ifp->mac;
}

bool group_is_master(const struct group *g)
{
	for (int i = 0; i < 2; i++)
		if (g->inst[i].active && g->inst[i].vrrp.state == VRRP_MASTER)
			return true;
	return false;
}

struct instance *group_instance(struct group *g, int af)
{
	struct instance *inst = &g->inst[af == AF_INET ? 0 : 1];

	return inst->active ? inst : NULL;
}

static const struct ipaddr *instance_self(const struct instance *inst)
{
	const struct iface *ifp = inst->g->ifp;

	return inst->af == AF_INET ? &ifp->primary4 : &ifp->linklocal6;
}

static void instance_rearm(struct instance *inst)
{
	struct monotime next = vrrp_next_deadline(&inst->vrrp);
	struct timeval tv;
	int64_t us;

	if (!monotime_is_set(next)) {
		evtimer_del(inst->ev_timer);
		return;
	}
	us = monotime_diff_us(next, monotime_now());
	if (us < 0)
		us = 0;
	tv.tv_sec = us / USEC_PER_SEC;
	tv.tv_usec = us % USEC_PER_SEC;
	evtimer_add(inst->ev_timer, &tv);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct instance *inst = arg;

	/* An advert already queued must not be overtaken by the deadline it would have moved
	 * (a backup's Master_Down_Timer above all): read them first. */
	iface_read_vrrp(inst->g->ifp);
	vrrp_tick(&inst->vrrp, monotime_now());
	instance_rearm(inst);
}

/* true when the frame went out, on the VRRP socket or the segment's; failures are counted
 * and logged (rate-limited). */
static bool send_on(struct instance *inst, bool vrrp, const uint8_t *frame, ssize_t len)
{
	struct iface *ifp = inst->g->ifp;
	int err = len < 0 ? (int)len : vrrp ? iface_send_vrrp(ifp, frame, (size_t)len)
					    : iface_send(ifp, frame, (size_t)len);

	if (!err)
		return true;
	inst->c.send_errors++;
	log_rl(&inst->rl, LOG_LVL_WARN, "%s %s: send on %s: %s", inst->g->cfg.name,
	       af_name(inst->af), inst->g->ifp->name, strerror(-err));
	return false;
}

static bool send_frame(struct instance *inst, const uint8_t *frame, ssize_t len)
{
	return send_on(inst, false, frame, len);
}

static void send_advert(void *ctx, uint8_t priority)
{
	struct instance *inst = ctx;
	struct group *g = inst->g;
	/* The state machine's address, not the interface's current one: a goodbye sent because
	 * the address just went still carries the address the peers know. */
	struct vrrp_tx tx = {
		.af = inst->af,
		/* RFC 5798 7.3: from the virtual MAC when there is one */
		.eth_src = *group_mac(g),
		.src = inst->vrrp.self,
		.vrid = g->cfg.vrid,
		.priority = priority,
		.max_adver_int_cs = inst->vrrp.adver_int_cs,
		.addrs = g->cfg.addrs,
		.naddr = g->cfg.naddrs,
	};
	uint8_t frame[FRAME_MAX];

	if (!send_on(inst, true, frame, vrrp_build_frame(frame, sizeof(frame), &tx)))
		return;
	inst->c.adverts_sent++;
	if (priority == 0)
		inst->c.priority_zero_sent++;
}

static uint8_t na_flags(const struct instance *inst)
{
	return ND_NA_FLAG_OVERRIDE | (inst->g->ifp->forwarding6 ? ND_NA_FLAG_ROUTER : 0);
}

/* One Neighbor Advertisement for target from this interface (RFC 4861 7.2.4 / 7.2.6). */
static bool send_na(struct instance *inst, const struct in6_addr *target,
		    const struct in6_addr *dst, const struct mac *eth_dst, uint8_t flags)
{
	const struct mac *mac = group_mac(inst->g);
	struct nd_na_tx na = { .eth_dst = *eth_dst, .eth_src = *mac, .src = *target,
			       .dst = *dst, .target = *target, .tlla = *mac,
			       .flags = flags | na_flags(inst) };
	uint8_t frame[FRAME_MAX];

	return send_frame(inst, frame, ndisc_build_na(frame, sizeof(frame), &na));
}

static void announce_once(struct instance *inst)
{
	struct group *g = inst->g;
	const struct mac *mac = group_mac(g);
	uint8_t frame[FRAME_MAX];

	for (size_t i = 0; i < g->cfg.naddrs; i++) {
		const struct ipaddr *vip = &g->cfg.addrs[i];

		if (vip->af != inst->af)
			continue;
		if (vip->af == AF_INET) {
			/* RFC 5227 2.3: sender IP = target IP, target hardware zero. */
			struct arp_pkt a = { .op = ARP_OP_REQUEST, .sha = *mac, .spa = vip->v4,
					     .tha = mac_zero, .tpa = vip->v4 };

			inst->c.announcements_sent += send_frame(inst, frame,
				arp_build_frame(frame, sizeof(frame), &mac_broadcast, mac, &a));
			a.op = ARP_OP_REPLY;
			a.tha = *mac;
			inst->c.announcements_sent += send_frame(inst, frame,
				arp_build_frame(frame, sizeof(frame), &mac_broadcast, mac, &a));
		} else {
			struct mac all_nodes_mac;

			mac_from_ip6_mcast(&all_nodes, &all_nodes_mac);
			inst->c.announcements_sent += send_na(inst, &vip->v6, &all_nodes,
							      &all_nodes_mac, 0);
		}
	}
}

static void announce_schedule(struct instance *inst, int64_t after_us)
{
	struct timeval tv = { .tv_sec = after_us / USEC_PER_SEC,
			      .tv_usec = after_us % USEC_PER_SEC };

	evtimer_add(inst->ev_announce, &tv);
}

static void announce_cb(evutil_socket_t fd, short what, void *arg)
{
	struct instance *inst = arg;
	const struct vip_group_cfg *cfg = &inst->g->cfg;

	if (inst->vrrp.state != VRRP_MASTER)
		return;
	announce_once(inst);
	if (inst->announce_left > 0) {
		inst->announce_left--;
		announce_schedule(inst, (int64_t)cfg->announce_interval_ms * USEC_PER_MSEC);
	} else if (cfg->refresh_interval_s) {
		announce_schedule(inst, (int64_t)cfg->refresh_interval_s * USEC_PER_SEC);
	}
}

/* Starts a new burst: now, then announce_count - 1 repeats, then refreshes. */
static void announce_burst(struct instance *inst)
{
	inst->last_burst = monotime_now();
	inst->announce_left = inst->g->cfg.announce_count - 1;
	evtimer_del(inst->ev_announce);
	announce_cb(-1, 0, inst);
}

/* What an address request's answer needs to find its instance again: the group may be gone
 * (a reload, a stop) by the time the kernel answers. */
struct assign_req {
	struct vipd *d;
	char group[VIPD_NAME_MAX];
	int af;
	bool add;
};

static void assign_done(void *ctx, int err, const struct nlmsghdr *req)
{
	struct assign_req *a = ctx;
	char buf[IPADDR_STRLEN];
	struct ipaddr vip = { .af = a->af };
	struct nlattr *attr;

	if (err && !(!a->add && (err == -EADDRNOTAVAIL || err == -ENODEV))) {
		a->d->nl_async_failed++;
		mnl_attr_for_each(attr, req, sizeof(struct ifaddrmsg))
			if (mnl_attr_get_type(attr) == IFA_LOCAL &&
			    mnl_attr_get_payload_len(attr) <= sizeof(vip.b))
				memcpy(vip.b, mnl_attr_get_payload(attr), mnl_attr_get_payload_len(attr));
		log_warn("%s: %s %s: %s", a->group, a->add ? "adding" : "removing",
			 ipaddr_fmt(&vip, buf), strerror(-err));
		/* A removal that failed: the next interface scan tries again. */
		if (!a->add && err != -ECANCELED)
			for (struct group *g = a->d->groups; g; g = g->next)
				for (int i = 0; i < 2; i++)
					if (!strcmp(g->cfg.name, a->group) && g->inst[i].active &&
					    g->inst[i].af == a->af)
						g->inst[i].assigned = true;
	}
	free(a);
}

/* Adds or removes the instance's VIPs, from the event loop (lib/nlq): the requests go out
 * now and their answers come later. A removal that fails sets `assigned` again, and the next
 * interface scan tries again: a backup must not keep answering for a VIP. */
static void assign(struct instance *inst, bool add)
{
	struct group *g = inst->g;
	bool failed = false;

	int ifindex = g->cfg.has_vmac ? g->vmac_ifindex : g->ifp->ifindex;

	if (!g->cfg.assign)
		return;
	if (!ifindex) {
		/* Without its macvlan (gone with its parent) the group holds no address. */
		inst->assigned = false;
		return;
	}
	for (size_t i = 0; i < g->cfg.naddrs; i++) {
		const struct ipaddr *vip = &g->cfg.addrs[i];
		char buf[IPADDR_STRLEN];
		int err;

		if (vip->af != inst->af)
			continue;
		char msg[NL_ADDR_MSG_MAX];
		struct assign_req *a = malloc(sizeof(*a));

		err = -ENOMEM;
		if (a) {
			*a = (struct assign_req){ .d = g->d, .af = inst->af, .add = add };
			snprintf(a->group, sizeof(a->group), "%s", g->cfg.name);
			err = nlq_send(g->d->nlq, nl_addr_msg(msg, add ? RTM_NEWADDR : RTM_DELADDR,
							      ifindex, vip), assign_done, a);
			if (err)
				free(a);
		}
		if (!err)
			continue;
		failed = true;
		log_warn("%s: %s %s on %s: %s", g->cfg.name, add ? "adding" : "removing",
			 ipaddr_fmt(vip, buf), g->cfg.has_vmac ? g->cfg.vmac_ifname : g->ifp->name,
			 strerror(-err));
	}
	inst->assigned = add || failed;
}

static void state_change(void *ctx, enum vrrp_state from, enum vrrp_state to)
{
	struct instance *inst = ctx;
	char buf[IPADDR_STRLEN];

	inst->c.transitions++;
	if (inst->vrrp.master.af && to == VRRP_BACKUP)
		log_info("%s %s: %s -> backup (priority %u; master %s at %u)", inst->g->cfg.name,
			 af_name(inst->af), vrrp_state_name(from), inst->vrrp.priority,
			 ipaddr_fmt(&inst->vrrp.master, buf), inst->vrrp.master_priority);
	else
		log_info("%s %s: %s -> %s (priority %u)", inst->g->cfg.name, af_name(inst->af),
			 vrrp_state_name(from), vrrp_state_name(to), inst->vrrp.priority);
	if (to == VRRP_MASTER) {
		inst->c.became_master++;
		/* The announcement first (the advert went out already): it is what moves the
		 * segment's traffic here, and it waits on nothing. The virtual MAC and the
		 * addresses follow, netlink requests sent from the event loop (lib/nlq) whose
		 * acks come later, so a busy rtnl delays nothing here; a frame the announcement
		 * draws before they are in place is lost, as it would have been at the dead
		 * master. fabricd last, off the wire's path. */
		announce_burst(inst);
		vmac_set_up(inst->g, true);
		assign(inst, true);
		fabric_master(inst->g);
	} else if (from == VRRP_MASTER) {
		evtimer_del(inst->ev_announce);
		assign(inst, false);
		/* RFC 5798 6.4.2: a backup discards frames for the virtual MAC */
		if (!group_is_master(inst->g))
			vmac_set_up(inst->g, false);
	}
}

static void peer_master_lower(void *ctx)
{
	struct instance *inst = ctx;

	/* One burst per announce interval at most (> the 1 s locktime by default): a forged
	 * advert or GARP must not make us flood the segment. */
	if (monotime_diff_us(monotime_now(), inst->last_burst) >=
	    (int64_t)inst->g->cfg.announce_interval_ms * USEC_PER_MSEC)
		announce_burst(inst);
}

static const struct vrrp_ops instance_ops = {
	.send_advert = send_advert,
	.state_change = state_change,
	.peer_master_lower = peer_master_lower,
};

/* Starts the instance when its interface can carry it and stops it when it no longer can
 * (RFC 5798 6.4: Startup / Shutdown events). */
static void instance_evaluate(struct instance *inst)
{
	const struct iface *ifp = inst->g->ifp;
	const char *why = NULL;

	if (!ifp->ifindex)
		why = "interface missing";
	else if (!ifp->running)
		why = "interface down";
	else if (ifp->fd < 0 || ifp->vrrp_fd < 0)
		why = "no packet socket";
	else if (!instance_self(inst)->af)
		why = inst->af == AF_INET ? "no IPv4 address on interface"
					  : "no IPv6 link-local address on interface";
	else if (inst->g->cfg.has_vmac && !inst->g->vmac_ifindex)
		why = "no virtual MAC interface";
	inst->why_init = why;
	if (ifp->ifindex && !inst->stale_removed) {
		/* What a crashed predecessor assigned is not ours until we are master again. */
		assign(inst, false);
		inst->stale_removed = true;
	}
	if (!why && inst->vrrp.state == VRRP_INIT) {
		vrrp_startup(&inst->vrrp, monotime_now(), instance_self(inst));
	} else if (why && inst->vrrp.state != VRRP_INIT) {
		log_warn("%s %s: stopping: %s", inst->g->cfg.name, af_name(inst->af), why);
		vrrp_shutdown(&inst->vrrp);
	} else if (!why) {
		inst->vrrp.self = *instance_self(inst);
	}
	if (inst->vrrp.state != VRRP_MASTER && inst->assigned)
		assign(inst, false);    /* an earlier removal failed: try again */
	if (inst->vrrp.state == VRRP_MASTER && ifp->mac_changed)
		announce_burst(inst);   /* caches hold the old MAC */
	instance_rearm(inst);
}

void group_iface_stop(struct iface *ifp)
{
	for (struct group *g = ifp->d->groups; g; g = g->next) {
		if (g->ifp != ifp)
			continue;
		for (int i = 0; i < 2; i++) {
			struct instance *inst = &g->inst[i];

			if (inst->active && inst->vrrp.state != VRRP_INIT) {
				log_warn("%s %s: stopping: %s changed", g->cfg.name, af_name(inst->af),
					 ifp->name);
				vrrp_shutdown(&inst->vrrp);
				instance_rearm(inst);
			}
		}
	}
}

void group_iface_changed(struct group *g)
{
	vmac_ensure(g);
	for (int i = 0; i < 2; i++)
		if (g->inst[i].active)
			instance_evaluate(&g->inst[i]);
}

struct group *group_new(struct vipd *d, const struct vip_group_cfg *cfg)
{
	struct group *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->d = d;
	g->cfg = *cfg;
	g->ifp = iface_get(d, cfg->ifname);
	if (!g->ifp) {
		free(g);
		return NULL;
	}
	for (int i = 0; i < 2; i++) {
		struct instance *inst = &g->inst[i];

		inst->g = g;
		inst->af = i == 0 ? AF_INET : AF_INET6;
		for (size_t k = 0; k < cfg->naddrs; k++)
			if (cfg->addrs[k].af == inst->af)
				inst->active = true;
		vrrp_init(&inst->vrrp, cfg->priority, cfg->preempt,
			  (uint16_t)(cfg->advert_interval_ms / 10), &instance_ops, inst);
		inst->ev_timer = evtimer_new(d->base, timer_cb, inst);
		inst->ev_announce = evtimer_new(d->base, announce_cb, inst);
		inst->why_init = "starting";
		inst->rl = (struct ratelimit)RATELIMIT_INIT(10000, 3);
	}
	/* Appended, so the list stays in configuration order for status. */
	struct group **tail = &d->groups;

	while (*tail)
		tail = &(*tail)->next;
	*tail = g;
	iface_sync_mcast(g->ifp);
	return g;
}

void group_free(struct group *g)
{
	struct group **pp;

	for (int i = 0; i < 2; i++) {
		struct instance *inst = &g->inst[i];

		if (inst->active && inst->vrrp.state != VRRP_INIT)
			vrrp_shutdown(&inst->vrrp);
		event_free(inst->ev_timer);
		event_free(inst->ev_announce);
	}
	vmac_destroy(g);
	for (pp = &g->d->groups; *pp; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	}
	iface_put(g->ifp);
	free(g);
}

/* The master instance on ifp that owns vip, if any. */
static struct instance *vip_master(struct iface *ifp, const struct ipaddr *vip)
{
	for (struct group *g = ifp->d->groups; g; g = g->next) {
		struct instance *inst;

		if (g->ifp != ifp)
			continue;
		inst = group_instance(g, vip->af);
		if (!inst || inst->vrrp.state != VRRP_MASTER)
			continue;
		for (size_t i = 0; i < g->cfg.naddrs; i++)
			if (ipaddr_eq(&g->cfg.addrs[i], vip))
				return inst;
	}
	return NULL;
}

static bool addr_list_matches(const struct group *g, const struct vrrp_pkt *v)
{
	size_t mine = 0;

	for (size_t i = 0; i < g->cfg.naddrs; i++)
		if (g->cfg.addrs[i].af == v->af)
			mine++;
	if (mine != v->naddr)
		return false;
	for (size_t i = 0; i < v->naddr; i++) {
		struct ipaddr a;
		bool found = false;

		vrrp_pkt_addr(v, i, &a);
		for (size_t k = 0; k < g->cfg.naddrs && !found; k++)
			found = ipaddr_eq(&g->cfg.addrs[k], &a);
		if (!found)
			return false;
	}
	return true;
}

static void rx_vrrp(struct iface *ifp, const struct frame *f)
{
	struct instance *inst = NULL;
	struct group *g;

	/* Our own advert come back (a reflecting switch, a loop): not a peer. Answering it as
	 * one would make us advertise at the rate it comes back. */
	if (mac_eq(&f->eth.src, &ifp->mac) ||
	    ipaddr_eq(&f->ip_src, f->vrrp.af == AF_INET ? &ifp->primary4 : &ifp->linklocal6)) {
		ifp->drops[PKT_DROP_OWN_FRAME]++;
		return;
	}
	/* RFC 5798 5.1.2.1: an IPv6 advert comes from the sender's link-local address. */
	if (f->vrrp.af == AF_INET6 && !IN6_IS_ADDR_LINKLOCAL(&f->ip_src.v6)) {
		ifp->drops[PKT_DROP_VRRP_SOURCE]++;
		return;
	}
	for (g = ifp->d->groups; g && !inst; g = g->next)
		if (g->ifp == ifp && g->cfg.vrid == f->vrrp.vrid)
			inst = group_instance(g, f->vrrp.af);
	/* RFC 5798 7.1: the VRID must be configured on the receiving interface. */
	if (!inst) {
		ifp->drops[PKT_DROP_VRRP_VRID]++;
		return;
	}
	g = inst->g;
	inst->c.adverts_received++;
	if (f->vrrp.priority == 0)
		inst->c.priority_zero_received++;
	/* 7.1: MAY check the address list; a mismatch is logged, the advert still counts. */
	if (!addr_list_matches(g, &f->vrrp)) {
		char buf[IPADDR_STRLEN];

		inst->c.addr_list_mismatch++;
		log_rl(&inst->rl, LOG_LVL_WARN, "%s %s: advert from %s lists other addresses than ours",
		       g->cfg.name, af_name(inst->af), ipaddr_fmt(&f->ip_src, buf));
	}
	if (inst->vrrp.state == VRRP_INIT)
		return;
	vrrp_rx_advert(&inst->vrrp, monotime_now(), &f->ip_src, f->vrrp.priority,
		       f->vrrp.max_adver_int_cs);
	instance_rearm(inst);
}

/* One more answer to this asker (the frame's source MAC and its sender address) is within
 * answer_rate / answer_burst: a flood from one source gets that many answers, not one each. */
static bool answer_allowed(struct iface *ifp, const struct mac *src, const struct ipaddr *ip)
{
	const struct vipd_cfg *c = &ifp->d->cfg;

	return srclimit_take(&ifp->answers, src, ip, monotime_now(), c->answer_rate,
			     c->answer_burst);
}

static void rx_arp(struct iface *ifp, const struct frame *f)
{
	const struct arp_pkt *req = &f->arp;
	struct ipaddr vip, asker;
	struct instance *inst;
	uint8_t frame[FRAME_MAX];

	ipaddr_from_v4(&vip, &req->tpa);
	inst = vip_master(ifp, &vip);
	if (!inst || mac_eq(&req->sha, &ifp->mac) || mac_eq(&f->eth.src, &ifp->mac) ||
	    mac_eq(&req->sha, group_mac(inst->g)))
		return;
	if (req->spa.s_addr == req->tpa.s_addr) {
		/* Another MAC announces our VIP (RFC 5227 2.4): count it and defend, by a new
		 * announcement burst, at most once per announce interval. */
		inst->c.conflicts++;
		peer_master_lower(inst);
		return;
	}
	if (req->op != ARP_OP_REQUEST)
		return;
	ipaddr_from_v4(&asker, &req->spa);
	if (!answer_allowed(ifp, &f->eth.src, &asker)) {
		inst->c.arp_rate_limited++;
		return;
	}
	const struct mac *mac = group_mac(inst->g);
	struct arp_pkt rep = { .op = ARP_OP_REPLY, .sha = *mac, .spa = req->tpa,
			       .tha = req->sha, .tpa = req->spa };

	inst->c.arp_answered += send_frame(inst, frame, arp_build_frame(frame, sizeof(frame),
									&req->sha, mac, &rep));
}

static void rx_ns(struct iface *ifp, const struct frame *f)
{
	struct ipaddr vip;
	struct instance *inst;
	struct mac eth_dst;
	bool sent;

	ipaddr_from_v6(&vip, &f->ns.target);
	inst = vip_master(ifp, &vip);
	if (!inst || mac_eq(&f->eth.src, &ifp->mac))
		return;
	if (!answer_allowed(ifp, &f->eth.src, &f->ip_src)) {
		inst->c.ns_rate_limited++;
		return;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(&f->ip_src.v6)) {
		/* RFC 4861 7.2.4: a DAD probe is answered to all-nodes, S=0. */
		mac_from_ip6_mcast(&all_nodes, &eth_dst);
		sent = send_na(inst, &f->ns.target, &all_nodes, &eth_dst, 0);
	} else {
		/* RFC 4861 7.2.4, S=1, unicast to the source. A unicast NS may omit the source
		 * link-layer option (4.3): then the frame's source MAC is where to answer. */
		eth_dst = f->ns.has_slla ? f->ns.slla : f->eth.src;
		sent = send_na(inst, &f->ns.target, &f->ip_src.v6, &eth_dst, ND_NA_FLAG_SOLICITED);
	}
	inst->c.ns_answered += sent;
}

void group_rx_frame(struct iface *ifp, const struct frame *f)
{
	switch (f->kind) {
	case FRAME_VRRP:
		rx_vrrp(ifp, f);
		break;
	case FRAME_ARP:
		rx_arp(ifp, f);
		break;
	case FRAME_NS:
		rx_ns(ifp, f);
		break;
	}
}
