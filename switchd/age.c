/*
 * age.c - an edge's host aging and the vmids it frees ("vmids per port, reused after a
 * timeout", PortLand §3.2).
 *
 * A host quiet for host_age - no frame through the data plane's source rewrite, which notes
 * the second of each host's last one, and no ARP or ND to switchd (edge.c notes those) - is
 * forgotten: deregistered at fabricd first (hosts_del), then its data plane entries and its
 * addresses dropped, logged and counted; its vmid is held for vmid_hold before another host
 * of its port may have it (vmid.h says why). A timer looks at EDGE_AGE_BATCH hosts a second,
 * one map lookup each, so a full edge takes 16 s a round. Nothing ages while the switch is
 * not a located edge (the data plane forwards nothing then, so every host looks quiet) or
 * fabricd is away (it must hear of each host forgotten, or it would go on answering with its
 * PMAC); when that ends, every host's clock starts again.
 *
 * Holds are copied into the pinned sw_vmid_holds as they start and end, and taken over from
 * there on a restart, after the hosts (whose vmids are reserved then).
 */
#include <event2/event.h>
#include <stdlib.h>
#include "dp.h"
#include "log.h"
#include "switchd.h"

#define EDGE_AGE_TICK_MS 1000  /* the timer (the data plane notes whole seconds) */
#define EDGE_AGE_BATCH 256     /* hosts it looks at a tick: one map lookup each */

/* When h was last heard of: its last ARP or ND here, or its last frame in the data plane
 * (that second taken at its end: the frame may have come late in it), but not before aging
 * was last off. */
static struct monotime last_heard(struct switchd *s, const struct edge_host *h)
{
	struct monotime last = h->seen;
	uint32_t seen_s;

	if (s->dp && dp_host_seen(s->dp, &h->amac, &seen_s) == 0 &&
	    ((int64_t)seen_s + 1) * USEC_PER_SEC > last.us)
		last.us = ((int64_t)seen_s + 1) * USEC_PER_SEC;
	return last.us > s->age_from.us ? last : s->age_from;
}

void age_drop_host(struct switchd *s, size_t i, struct monotime now)
{
	struct edge_host *h = &s->hosts[i];
	size_t last;

	if (fwd_host(s, h, false) < 0)
		log_warn("edge: host %s: its data plane entries could not be removed",
			 mac_fmt(&h->amac, (char[MAC_STRLEN]){ 0 }));
	for (uint8_t k = 0; k < h->nips; k++) {
		struct edge_ip *e = ipmap_get(&s->by_ip, &h->ips[k]);

		if (e && e->h == h)
			free(ipmap_del(&s->by_ip, &h->ips[k]));
	}
	vmid_release(&s->vmids, h->port, h->vmid, &h->amac, now);
	last = --s->nhosts;
	if (i != last) {
		s->hosts[i] = s->hosts[last];
		edge_repoint(s, s->hosts, i);
	}
}

/* hosts[i] is forgotten: at fabricd first (false when that cannot be said now: it stays,
 * for the next round), then here; the last host takes its place. */
static bool host_forget(struct switchd *s, size_t i, struct monotime now, int64_t quiet_us)
{
	struct edge_host *h = &s->hosts[i];
	ProtobufCBinaryData ips[EDGE_MAX_IPS];
	L2f__Portland m = L2F__PORTLAND__INIT;

	for (uint8_t k = 0; k < h->nips; k++)
		ips[k] = (ProtobufCBinaryData){ ipaddr_len(&h->ips[k]), h->ips[k].b };
	m.hosts_del = ips;
	m.n_hosts_del = h->nips;
	if (h->nips && !switchd_send(s, &m))
		return false;
	s->c.hosts_aged++;
	log_info("edge: host %s on %s (PMAC %s, %u address%s) quiet for %lld s: forgotten, its "
		 "vmid held %u s", mac_fmt(&h->amac, (char[MAC_STRLEN]){ 0 }),
		 s->ports[h->port].name, mac_fmt(&h->pmac, (char[MAC_STRLEN]){ 0 }), h->nips,
		 h->nips == 1 ? "" : "es", (long long)(quiet_us / USEC_PER_SEC), s->cfg.vmid_hold_s);
	age_drop_host(s, i, now);
	return true;
}

void age_forget_all(struct switchd *s)
{
	struct monotime now = monotime_now();
	size_t kept = 0;

	while (s->nhosts > kept)
		if (!host_forget(s, kept, now, 0))
			kept++;   /* fabricd cannot be told now: kept for aging to finish */
	s->age_next = 0;
}

/* Aging can go on: hosts' frames reach the data plane (a located edge) and fabricd hears
 * of each host forgotten. */
static bool can_age(const struct switchd *s)
{
	return s->cfg.host_age_s && s->located && s->loc.level == LDP_LEVEL_EDGE &&
	       wire_client_session(s->fc);
}

/* Holds that are over end; then up to EDGE_AGE_BATCH hosts, from where the last tick
 * stopped, are looked at and forgotten when quiet for host_age. */
static void on_age(evutil_socket_t fd, short what, void *arg)
{
	struct switchd *s = arg;
	struct monotime now = monotime_now();
	int64_t age_us = (int64_t)s->cfg.host_age_s * USEC_PER_SEC;
	size_t todo = s->nhosts < EDGE_AGE_BATCH ? s->nhosts : EDGE_AGE_BATCH;

	vmids_expire(&s->vmids, now);
	if (!can_age(s)) {
		s->age_from = now;
		return;
	}
	while (todo-- && s->nhosts) {
		int64_t quiet;

		if (s->age_next >= s->nhosts)
			s->age_next = 0;
		quiet = monotime_diff_us(now, last_heard(s, &s->hosts[s->age_next]));
		/* forgotten: the last host is in its place now, looked at next */
		if (quiet < age_us || !host_forget(s, s->age_next, now, quiet))
			s->age_next++;
	}
}

/* vmid.c's holds, copied to the pinned maps so that a restart keeps them (seconds rounded
 * up: a hold restored is never shorter). */
static void vmid_held(void *ctx, const struct vmid_hold *h)
{
	struct switchd *s = ctx;

	if (s->dp)
		dp_set_vmid_hold(s->dp, h->port, h->vmid, &h->amac,
				 (uint32_t)((h->until.us + USEC_PER_SEC - 1) / USEC_PER_SEC));
}

static void vmid_unheld(void *ctx, const struct vmid_hold *h)
{
	struct switchd *s = ctx;

	if (s->dp)
		dp_del_vmid_hold(s->dp, h->port, h->vmid);
}

static const struct vmid_ops vmid_ops = { vmid_held, vmid_unheld };

/* A hold of the previous run: kept until it ends, unless it has or its vmid is in use. */
static int recover_hold(void *ctx, uint8_t port, uint16_t vmid, const struct mac *amac,
			uint32_t until_s)
{
	struct switchd *s = ctx;
	struct vmid_hold h = { { (int64_t)until_s * USEC_PER_SEC }, *amac, port, vmid };

	if (vmid_restore(&s->vmids, &h, monotime_now()) < 0)
		dp_del_vmid_hold(s->dp, port, vmid);
	return 0;
}

void age_init(struct switchd *s)
{
	vmids_init(&s->vmids, SW_MAX_VMIDS, (int64_t)s->cfg.vmid_hold_s * USEC_PER_SEC, &vmid_ops,
		   s);
}

int age_start(struct switchd *s)
{
	struct timeval tick = { EDGE_AGE_TICK_MS / 1000, (EDGE_AGE_TICK_MS % 1000) * 1000 };

	if (s->dp)
		dp_walk_vmid_holds(s->dp, recover_hold, s);
	s->age_ev = event_new(s->base, -1, EV_PERSIST, on_age, s);
	if (!s->age_ev || evtimer_add(s->age_ev, &tick) < 0)
		return -ENOMEM;
	return 0;
}

void age_stop(struct switchd *s)
{
	if (s->age_ev)
		event_free(s->age_ev);
	s->age_ev = NULL;
	vmids_fini(&s->vmids);
}
