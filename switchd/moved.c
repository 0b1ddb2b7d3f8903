/*
 * moved.c - an edge's part in migration (PortLand §3.5, docs/switchd.md "Migration").
 *
 * A host that moved sends a gratuitous ARP (or any ARP or ND) at its new edge, which gives
 * it a new PMAC and registers it (edge.c); fabricd finds the same host (IP and AMAC) at
 * another PMAC and tells the old edge (Portland.moved). The old edge, here:
 *   - forgets the host (it is gone: no hosts_del, fabricd has it elsewhere already, but for
 *     the addresses the moved entry does not carry), its vmid held as aging would;
 *   - puts its old PMAC into the data plane's sw_moved: frames still sent there are
 *     rewritten to the new PMAC and forwarded, and their senders reported on sw_trapped;
 *   - answers each sender reported with a *unicast* announcement of the new PMAC: a
 *     gratuitous ARP request (sender and target address the moved one, sender hardware
 *     address the new PMAC) for an IPv4 sender, an unsolicited Neighbor Advertisement
 *     (override, not solicited; RFC 4861 7.2.6) for an IPv6 one, to the sender's PMAC,
 *     through the fabric (the data plane forwards unicast ARP and ND from switch ports).
 *     Senders' caches converge without a broadcast.
 * An entry lasts MOVED_HOLD_S (a sender's ARP or ND entry that is still REACHABLE when the
 * host moves goes STALE within base_reachable_time * 1.5 = 45 s on Linux's defaults, and its
 * next use is then probed after delay_first_probe_time, 5 s, by a unicast request that the
 * sender's own edge answers with the new PMAC; 60 s covers both), and is then removed and its
 * addresses deregistered at fabricd if they are still this edge's there. A PMAC given to a
 * host here again leaves sw_moved at once.
 *
 * Bounds: SW_MAX_MOVED entries (one more is refused and counted: its senders learn the new
 * PMAC from their own edge's proxy ARP once their entry is probed); one announcement per
 * sender, moved PMAC and family per MOVED_TELL_MS, remembered in MOVED_TELL_SLOTS slots (4-way, the
 * oldest replaced and counted); the program reports at most one sender a millisecond per
 * moved PMAC. Records shorter than struct sw_trapped are dropped and counted.
 */
#include <errno.h>
#include <event2/event.h>
#include <bpf/libbpf.h>
#include <stdlib.h>
#include <string.h>
#include "dp.h"
#include "log.h"
#include "pkt/arp.h"
#include "pkt/ndisc.h"
#include "rawsock.h"
#include "switchd.h"

#define MOVED_HOLD_S 60
#define MOVED_TICK_MS 1000
#define MOVED_TELL_MS 250
#define MOVED_TELL_WAYS 4

struct moved_tell {
	struct mac sender, old;
	uint8_t family;                 /* an ARP and an NA are told apart */
	struct monotime at;             /* 0: free */
};

static struct ratelimit moved_rl = RATELIMIT_INIT(1000, 5);

static bool pmac_here(const struct switchd *s, const struct mac *m)
{
	struct pmac p;

	return pmac_unpack(m, &p) == 0 && p.pod == s->loc.pod && p.position == s->loc.position;
}

static bool is_edge(const struct switchd *s)
{
	return s->located && s->loc.level == LDP_LEVEL_EDGE && s->dp;
}

static struct edge_host *host_by_pmac(struct switchd *s, const struct mac *pmac)
{
	for (size_t i = 0; i < s->nhosts; i++)
		if (mac_eq(&s->hosts[i].pmac, pmac))
			return &s->hosts[i];
	return NULL;
}

static void put_ip(struct sw_moved *v, const struct ipaddr *ip)
{
	if (ip->af == AF_INET)
		memcpy(v->ip4, ip->b, 4);
	else
		memcpy(v->ip6, ip->b, 16);
}

static bool carried(const struct sw_moved *v, const struct ipaddr *ip)
{
	return !memcmp(ip->af == AF_INET ? v->ip4 : v->ip6, ip->b, ipaddr_len(ip));
}

/* The host left: its addresses into v (the first of each family that v lacks), the others
 * deregistered (fabricd ignores those it has elsewhere already), and it is forgotten here. */
static void forget_host(struct switchd *s, struct edge_host *h, struct sw_moved *v)
{
	static const uint8_t none[16];
	ProtobufCBinaryData del[EDGE_MAX_IPS];
	L2f__Portland m = L2F__PORTLAND__INIT;

	for (uint8_t k = 0; k < h->nips; k++) {
		const struct ipaddr *ip = &h->ips[k];

		if (!memcmp(ip->af == AF_INET ? v->ip4 : v->ip6, none, ipaddr_len(ip)))
			put_ip(v, ip);
		else if (!carried(v, ip))
			del[m.n_hosts_del++] = (ProtobufCBinaryData){ ipaddr_len(ip),
								    (uint8_t *)ip->b };
	}
	m.hosts_del = del;
	if (m.n_hosts_del)
		switchd_send(s, &m);
	s->c.moved.hosts_forgotten++;
	log_info("edge: host %s (PMAC %s) moved away: forgotten, its PMAC redirected %u s",
		 mac_fmt(&h->amac, (char[MAC_STRLEN]){ 0 }), mac_fmt(&h->pmac, (char[MAC_STRLEN]){ 0 }),
		 MOVED_HOLD_S);
	age_drop_host(s, (size_t)(h - s->hosts), monotime_now());
}

static void moved_one(struct switchd *s, const L2f__HostMoved *hm)
{
	struct mac old, new, amac;
	struct ipaddr ip;
	struct sw_moved v;
	struct edge_host *h;
	bool had;
	int err;

	memcpy(old.b, hm->old_pmac.data, MAC_LEN);
	memcpy(new.b, hm->new_pmac.data, MAC_LEN);
	memcpy(amac.b, hm->amac.data, MAC_LEN);
	wire_ipaddr(&ip, &hm->ip);
	s->c.moved.received++;
	if (!is_edge(s) || !pmac_here(s, &old) || mac_eq(&old, &new)) {
		s->c.moved.refused++;   /* not a PMAC of ours: nothing to redirect */
		return;
	}
	had = dp_get_moved(s->dp, &old, &v) == 0;
	if (!had || !mac_eq((const struct mac *)v.pmac, &new))
		memset(&v, 0, sizeof(v));
	memcpy(v.pmac, new.b, MAC_LEN);
	put_ip(&v, &ip);
	v.until = dp_clock_s() + MOVED_HOLD_S;
	h = host_by_pmac(s, &old);
	if (h && mac_eq(&h->amac, &amac))
		forget_host(s, h, &v);
	err = dp_set_moved(s->dp, &old, &v);
	if (err == -E2BIG) {
		s->c.moved.over_cap++;
		log_rl(&moved_rl, LOG_LVL_WARN, "edge: moved PMAC %s not redirected: %u moved "
		       "already", mac_fmt(&old, (char[MAC_STRLEN]){ 0 }), SW_MAX_MOVED);
		return;
	}
	if (err == 0 && !had)
		s->c.moved.installed++;
}

void moved_hosts(struct switchd *s, L2f__HostMoved *const *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		moved_one(s, m[i]);
}

void moved_pmac_taken(struct switchd *s, const struct mac *pmac)
{
	struct sw_moved v;

	if (s->dp && dp_get_moved(s->dp, pmac, &v) == 0 && dp_del_moved(s->dp, pmac) == 0)
		s->c.moved.taken_back++;
}

/* --- telling senders ---------------------------------------------------------------------- */

/* Once per MOVED_TELL_MS per sender, moved PMAC and family: false when told more recently. A new
 * pair takes a free slot of its set, else the oldest (counted when that one was recent). */
static bool tell_allowed(struct switchd *s, const struct mac *sender, const struct mac *old,
			 uint8_t family)
{
	const int64_t tell_us = (int64_t)MOVED_TELL_MS * USEC_PER_MSEC;
	struct monotime now = monotime_now();
	uint32_t h = 2166136261u;
	struct moved_tell *set, *pick = NULL;

	for (int i = 0; i < MAC_LEN; i++)
		h = ((h ^ sender->b[i]) * 16777619u ^ old->b[i]) * 16777619u;
	h = (h ^ family) * 16777619u;
	set = &s->tells[(h % (MOVED_TELL_SLOTS / MOVED_TELL_WAYS)) * MOVED_TELL_WAYS];
	for (int w = 0; w < MOVED_TELL_WAYS; w++) {
		struct moved_tell *t = &set[w];

		if (t->at.us && mac_eq(&t->sender, sender) && mac_eq(&t->old, old) &&
		    t->family == family) {
			if (monotime_diff_us(now, t->at) < tell_us) {
				s->c.moved.tell_limited++;
				return false;
			}
			t->at = now;
			return true;
		}
		if (!pick || (pick->at.us && (!t->at.us || t->at.us < pick->at.us)))
			pick = t;
	}
	if (pick->at.us && monotime_diff_us(now, pick->at) < tell_us)
		s->c.moved.tell_evicted++;
	*pick = (struct moved_tell){ *sender, *old, family, now };
	return true;
}

/* Where a frame to dst leaves: the host port of a host of ours (dst its AMAC), else an up
 * port with carrier that fabricd's fault matrix does not avoid for dst (any up port with
 * carrier when it avoids them all), one per destination; -1 when there is none. */
static int out_port(struct switchd *s, const struct mac *dst, struct mac *eth_dst)
{
	int up[SWITCHD_MAX_PORTS], n = 0, nfree = 0;
	struct pmac p = { 0 };
	uint32_t h = 0;

	*eth_dst = *dst;
	if (pmac_here(s, dst)) {
		struct edge_host *host = host_by_pmac(s, dst);

		if (!host)
			return -1;
		*eth_dst = host->amac;
		return host->port;
	}
	pmac_unpack(dst, &p);
	for (int i = 0; i < s->nports && i < s->loc.nports; i++) {
		if (s->loc.role[i] != LDP_ROLE_UP || !s->ports[i].carrier)
			continue;
		/* the ports not avoided first, then the others */
		if (!avoid_port(s, p.pod, p.position, i)) {
			up[n++] = up[nfree];
			up[nfree++] = i;
		} else {
			up[n++] = i;
		}
	}
	for (int i = 0; i < MAC_LEN; i++)
		h = h * 31 + dst->b[i];
	if (nfree)
		return up[h % (unsigned)nfree];
	return n ? up[h % (unsigned)n] : -1;
}

static void tell(struct switchd *s, const struct sw_trapped *t, const struct sw_moved *v)
{
	static const uint8_t none[16];
	struct mac sender, pmac, eth_dst;
	uint8_t f[128];
	ssize_t len = -1;
	int port, fd;

	memcpy(sender.b, t->src, MAC_LEN);
	memcpy(pmac.b, v->pmac, MAC_LEN);
	if (!(t->family == 4 && memcmp(v->ip4, none, 4)) &&
	    !(t->family == 6 && memcmp(v->ip6, none, 16))) {
		s->c.moved.tell_no_address++;   /* no moved address of the sender's family */
		return;
	}
	port = out_port(s, &sender, &eth_dst);
	if (port < 0) {
		s->c.moved.tell_no_port++;
		return;
	}
	if (t->family == 4) {
		/* a gratuitous ARP request (RFC 5227 3: sender = target address), unicast */
		struct arp_pkt a = { .op = ARP_OP_REQUEST, .sha = pmac };

		memcpy(&a.spa, v->ip4, 4);
		a.tpa = a.spa;
		len = arp_build_frame(f, sizeof(f), &eth_dst, &pmac, &a);
		fd = s->io[port].arp.fd;
	} else {
		/* RFC 4861 7.2.6: unsolicited, override; to the sender alone */
		struct nd_na_tx na = { .eth_dst = eth_dst, .eth_src = pmac, .tlla = pmac,
				       .flags = ND_NA_FLAG_OVERRIDE };

		memcpy(&na.src, v->ip6, 16);
		memcpy(&na.dst, t->ip, 16);
		na.target = na.src;
		len = ndisc_build_na(f, sizeof(f), &na);
		fd = s->io[port].nd.fd;
	}
	if (len < 0 || fd < 0 || rawsock_send(fd, s->ports[port].ifindex, f, (size_t)len) < 0) {
		s->c.frames_dropped++;
		return;
	}
	if (t->family == 4)
		s->c.moved.arp_sent++;
	else
		s->c.moved.na_sent++;
}

static int on_trapped(void *ctx, void *data, size_t len)
{
	struct switchd *s = ctx;
	struct sw_trapped t;
	struct sw_moved v;
	struct mac old, sender;

	if (len < sizeof(t)) {
		s->c.moved.trap_short++;
		return 0;
	}
	memcpy(&t, data, sizeof(t));
	s->c.moved.trapped++;
	memcpy(old.b, t.dst, MAC_LEN);
	memcpy(sender.b, t.src, MAC_LEN);
	if (!is_edge(s) || dp_get_moved(s->dp, &old, &v) < 0) {
		s->c.moved.trap_stale++;   /* the entry ended meanwhile */
		return 0;
	}
	if (tell_allowed(s, &sender, &old, t.family))
		tell(s, &t, &v);
	return 0;
}

static void on_ring(evutil_socket_t fd, short what, void *arg)
{
	struct switchd *s = arg;

	ring_buffer__consume(s->trapped);
}

/* --- aging -------------------------------------------------------------------------------- */

static int expire_one(void *ctx, const struct mac *old, const struct sw_moved *v)
{
	static const uint8_t none[16];
	struct switchd *s = ctx;
	ProtobufCBinaryData del[2];
	L2f__Portland m = L2F__PORTLAND__INIT;

	if ((int32_t)(v->until - dp_clock_s()) > 0)
		return 0;
	if (dp_del_moved(s->dp, old) < 0)
		return 0;
	s->c.moved.expired++;
	if (memcmp(v->ip4, none, 4))
		del[m.n_hosts_del++] = (ProtobufCBinaryData){ 4, (uint8_t *)v->ip4 };
	if (memcmp(v->ip6, none, 16))
		del[m.n_hosts_del++] = (ProtobufCBinaryData){ 16, (uint8_t *)v->ip6 };
	m.hosts_del = del;
	if (m.n_hosts_del)
		switchd_send(s, &m);   /* fabricd drops only what is still ours there */
	return 0;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct switchd *s = arg;

	if (s->dp)
		dp_walk_moved(s->dp, expire_one, s);
}

int moved_start(struct switchd *s)
{
	struct timeval tick = { MOVED_TICK_MS / 1000, (MOVED_TICK_MS % 1000) * 1000 };

	if (!s->dp)
		return 0;
	s->tells = calloc(MOVED_TELL_SLOTS, sizeof(*s->tells));
	s->trapped = ring_buffer__new(dp_trapped_fd(s->dp), on_trapped, s, NULL);
	if (!s->tells || !s->trapped)
		return -ENOMEM;
	s->trapped_ev = event_new(s->base, ring_buffer__epoll_fd(s->trapped), EV_READ | EV_PERSIST,
				  on_ring, s);
	s->moved_ev = event_new(s->base, -1, EV_PERSIST, on_tick, s);
	if (!s->trapped_ev || event_add(s->trapped_ev, NULL) < 0 || !s->moved_ev ||
	    evtimer_add(s->moved_ev, &tick) < 0)
		return -ENOMEM;
	return 0;
}

void moved_stop(struct switchd *s)
{
	if (s->trapped_ev)
		event_free(s->trapped_ev);
	if (s->moved_ev)
		event_free(s->moved_ev);
	if (s->trapped)
		ring_buffer__free(s->trapped);
	free(s->tells);
	s->trapped_ev = s->moved_ev = NULL;
	s->trapped = NULL;
	s->tells = NULL;
}

void moved_counters(const struct switchd *s, void (*fn)(void *ctx, const char *name,
							  uint64_t v), void *ctx)
{
	uint64_t ev[SW_E_COUNT];

	fn(ctx, "moved.received", s->c.moved.received);
	fn(ctx, "moved.refused", s->c.moved.refused);
	fn(ctx, "moved.hosts_forgotten", s->c.moved.hosts_forgotten);
	fn(ctx, "moved.installed", s->c.moved.installed);
	fn(ctx, "moved.over_cap", s->c.moved.over_cap);
	fn(ctx, "moved.expired", s->c.moved.expired);
	fn(ctx, "moved.taken_back", s->c.moved.taken_back);
	fn(ctx, "moved.trapped", s->c.moved.trapped);
	fn(ctx, "moved.trap_short", s->c.moved.trap_short);
	fn(ctx, "moved.trap_stale", s->c.moved.trap_stale);
	fn(ctx, "moved.arp_sent", s->c.moved.arp_sent);
	fn(ctx, "moved.na_sent", s->c.moved.na_sent);
	fn(ctx, "moved.tell_limited", s->c.moved.tell_limited);
	fn(ctx, "moved.tell_evicted", s->c.moved.tell_evicted);
	fn(ctx, "moved.tell_no_address", s->c.moved.tell_no_address);
	fn(ctx, "moved.tell_no_port", s->c.moved.tell_no_port);
	if (s->dp && dp_read_events(s->dp, ev) == 0)
		for (unsigned e = 0; e < SW_E_COUNT; e++)
			fn(ctx, dp_event_name(e), ev[e]);
}
