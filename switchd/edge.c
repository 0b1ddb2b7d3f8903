/*
 * edge.c - an edge switch's hosts (PortLand §3.2, §3.3).
 *
 * PMACs: the data plane reports a frame from a host port whose source has no PMAC here (the
 * sw_unknown ring); the host gets pod.position.port.vmid (vmid.c: the lowest free on its
 * port), and the data plane rewrites its source from then on. Its addresses are learned from
 * its own ARP and ND (a host announces itself in every request it makes) and registered with
 * fabricd.
 *
 * A host quiet for host_age is forgotten, and its vmid held a while (age.c).
 *
 * Proxy ARP and ND: a host's ARP request or Neighbor Solicitation never leaves its edge. It is
 * answered with the target's PMAC: from this edge's own hosts at once, else from fabricd (the
 * queries of one turn of the loop go in one batch). On a miss the edge asks fabricd to have
 * the request flooded to every edge's hosts (as the asking host, with its PMAC) and asks again
 * a little later, by when the target's edge has registered it from its answer; hosts see
 * no broadcast but those floods. Answers carry PMACs only: no host learns another's AMAC.
 *
 * Bounds: EDGE_MAX_HOSTS hosts (the data plane's SW_MAX_HOSTS), EDGE_MAX_IPS addresses each,
 * SW_MAX_VMIDS vmids in use or held, EDGE_MAX_QUERIES queries waiting, EDGE_QUERY_TRIES tries
 * each; a host beyond them is refused and counted, and a frame from a port that is not a host
 * port, or that does not parse, is dropped and counted.
 */
#include <errno.h>
#include <event2/event.h>
#include <linux/filter.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "log.h"
#include "pkt/arp.h"
#include "pkt/eth.h"
#include "pkt/ip.h"
#include "pkt/ndisc.h"
#include "rawsock.h"
#include "switch_shared.h"
#include "dp.h"
#include "switchd.h"

#define EDGE_MAX_HOSTS SW_MAX_HOSTS
#define EDGE_MAX_QUERIES 4096
#define EDGE_QUERY_TRIES 4
#define EDGE_RETRY_MS 150      /* after a miss: the target's edge registers it meanwhile */
#define EDGE_QUERY_MAX_MS 2000 /* a query without an answer in this long is given up */

void edge_unknown(struct switchd *s, int ifindex, const struct mac *amac);

/* IPv6 next header 58 with ICMPv6 type 135 (NS) or 136 (NA); a frame too short for the type
 * is let through, to be counted as truncated. */
static const struct sock_filter nd_filter[] = {
	/* 0 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 6),
	/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 6),
	/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
	/* 3 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 14 + 40 + 1, 0, 3),
	/* 4 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 40),
	/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMP6_NS, 1, 0),
	/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMP6_NA, 0, 1),
	/* 7 */ BPF_STMT(BPF_RET | BPF_K, 0xffff),
	/* 8 */ BPF_STMT(BPF_RET | BPF_K, 0),
};

static bool is_host_port(const struct switchd *s, int port)
{
	return s->located && s->loc.level == LDP_LEVEL_EDGE && port >= 0 && port < s->loc.nports &&
	       s->loc.role[port] == LDP_ROLE_HOST;
}

static struct edge_host *host_by_amac(struct switchd *s, const struct mac *amac)
{
	for (size_t i = 0; i < s->nhosts; i++)
		if (mac_eq(&s->hosts[i].amac, amac))
			return &s->hosts[i];
	return NULL;
}

static int port_of_ifindex(const struct switchd *s, int ifindex)
{
	for (int i = 0; i < s->nports; i++)
		if (s->ports[i].ifindex == ifindex)
			return i;
	return -1;
}

static void binding_of(const struct switchd *s, const struct edge_host *h,
		       const struct ipaddr *ip, L2f__HostBinding *b)
{
	l2f__host_binding__init(b);
	b->ip = (ProtobufCBinaryData){ ipaddr_len(ip), (uint8_t *)ip->b };
	b->amac = (ProtobufCBinaryData){ MAC_LEN, (uint8_t *)h->amac.b };
	b->pmac = (ProtobufCBinaryData){ MAC_LEN, (uint8_t *)h->pmac.b };
	b->port = h->port;
}

static void register_ip(struct switchd *s, const struct edge_host *h, const struct ipaddr *ip)
{
	L2f__HostBinding b, *bp = &b;
	L2f__Portland m = L2F__PORTLAND__INIT;

	binding_of(s, h, ip, &b);
	m.hosts_add = &bp;
	m.n_hosts_add = 1;
	if (switchd_send(s, &m))
		s->c.hosts_registered++;
}

void edge_repoint(struct switchd *s, struct edge_host *hosts, size_t i)
{
	for (uint8_t k = 0; k < hosts[i].nips; k++) {
		struct edge_ip *e = ipmap_get(&s->by_ip, &hosts[i].ips[k]);

		if (e)
			e->h = &hosts[i];
	}
}

/* Room for one more host: false at EDGE_MAX_HOSTS or out of memory. */
static bool host_room(struct switchd *s)
{
	size_t cap = s->caphosts ? s->caphosts * 2 : 64;
	struct edge_host *n;

	if (s->nhosts >= EDGE_MAX_HOSTS)
		return false;
	if (s->nhosts < s->caphosts)
		return true;
	n = realloc(s->hosts, cap * sizeof(*n));
	if (!n)
		return false;
	for (size_t i = 0; i < s->nhosts; i++)
		edge_repoint(s, n, i);
	s->hosts = n;
	s->caphosts = cap;
	return true;
}

static struct ratelimit refused_rl = RATELIMIT_INIT(1000, 5);

static void refuse_host(struct switchd *s, int port, const struct mac *amac, const char *why)
{
	s->c.hosts_refused++;
	log_rl(&refused_rl, LOG_LVL_WARN, "edge: host %s on %s refused: %s",
	       mac_fmt(amac, (char[MAC_STRLEN]){ 0 }), s->ports[port].name, why);
}

/* A frame from amac on port: the host, with a new PMAC if it is new here (a new host, or one
 * that moved here from another port, whose vmid there is then held); NULL when refused. */
static struct edge_host *host_new(struct switchd *s, int port, const struct mac *amac)
{
	struct edge_host *h = host_by_amac(s, amac);
	struct pmac p = { (uint16_t)s->loc.pod, (uint8_t)s->loc.position, (uint8_t)port, 0 };
	struct monotime now = monotime_now();
	int vmid;

	if (h && h->port == port) {
		h->seen = now;
		return h;
	}
	if (!h && !host_room(s)) {
		refuse_host(s, port, amac, s->nhosts >= EDGE_MAX_HOSTS ? "the edge has as many "
			    "hosts as it can hold" : strerror(ENOMEM));
		return NULL;
	}
	vmid = vmid_take(&s->vmids, (uint8_t)port, amac, now);
	if (vmid < 0) {
		refuse_host(s, port, amac, vmid == -ENOSPC ? "no vmid free (all in use or held)"
			    : strerror(-vmid));
		return NULL;
	}
	if (!h) {
		h = &s->hosts[s->nhosts++];
		memset(h, 0, sizeof(*h));
		h->amac = *amac;
		s->c.hosts_new++;
	} else {
		fwd_host(s, h, false);
		vmid_release(&s->vmids, h->port, h->vmid, amac, now);
	}
	p.vmid = (uint16_t)vmid;
	h->port = (uint8_t)port;
	h->vmid = p.vmid;
	pmac_pack(&p, &h->pmac);
	h->seen = now;
	if (fwd_host(s, h, true) < 0)
		log_warn("edge: host %s: the data plane refused its PMAC",
			 mac_fmt(amac, (char[MAC_STRLEN]){ 0 }));
	for (uint8_t k = 0; k < h->nips; k++)
		register_ip(s, h, &h->ips[k]);
	log_info("edge: host %s on %s: PMAC %s", mac_fmt(amac, (char[MAC_STRLEN]){ 0 }),
		 s->ports[port].name, mac_fmt(&h->pmac, (char[MAC_STRLEN]){ 0 }));
	return h;
}

void edge_unknown(struct switchd *s, int ifindex, const struct mac *amac)
{
	int port = port_of_ifindex(s, ifindex);

	s->c.unknown_src++;
	if (is_host_port(s, port) && !(amac->b[0] & 1)) {
		ldp_host_seen(&s->ldp, port);
		host_new(s, port, amac);
	}
}

/* ip is h's (a host tells its own address in what it asks): registered once. */
static void learn_ip(struct switchd *s, struct edge_host *h, const struct ipaddr *ip)
{
	struct edge_ip *e = ipmap_get(&s->by_ip, ip);
	int err;

	if (ipaddr_host_why_not(ip) || (ip->af == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&ip->v6)))
		return;
	if (e && e->h == h)
		return;
	if (!e) {
		if (h->nips >= EDGE_MAX_IPS || !(e = malloc(sizeof(*e))))
			return;
		e->ip = *ip;
		e->h = NULL;
		ipmap_put(&s->by_ip, e, &err);
		if (err < 0) {
			free(e);
			return;
		}
	}
	if (e->h && e->h != h) {
		/* an address another host of ours had moved to this one: the old host loses it */
		struct edge_host *o = e->h;

		for (uint8_t k = 0; k < o->nips; k++)
			if (ipaddr_eq(&o->ips[k], ip)) {
				o->ips[k] = o->ips[--o->nips];
				break;
			}
	}
	if (h->nips >= EDGE_MAX_IPS)
		return;
	e->h = h;
	h->ips[h->nips++] = *ip;
	register_ip(s, h, ip);
}

/* --- answers to hosts --------------------------------------------------------------------- */

static void send_on(struct switchd *s, int port, int fd, const uint8_t *f, ssize_t n)
{
	if (n < 0 || fd < 0 || rawsock_send(fd, s->ports[port].ifindex, f, (size_t)n) < 0)
		s->c.frames_dropped++;
}

/* The target's PMAC to the host that asked, as its ARP reply or NA would carry it. */
static void answer(struct switchd *s, const struct edge_query *q, const struct mac *pmac)
{
	uint8_t f[128];

	if (!q->nd) {
		struct arp_pkt a = { .op = ARP_OP_REPLY, .sha = *pmac, .tha = q->sender_amac };

		a.spa = q->target.v4;
		a.tpa = q->sender.v4;
		send_on(s, q->port, s->io[q->port].arp.fd,
			f, arp_build_frame(f, sizeof(f), &q->sender_amac, pmac, &a));
		s->c.arp_answered++;
	} else {
		/* RFC 4861 7.2.4: solicited, override; not a router */
		struct nd_na_tx na = { .eth_dst = q->sender_amac, .eth_src = *pmac, .tlla = *pmac,
				       .flags = ND_NA_FLAG_SOLICITED | ND_NA_FLAG_OVERRIDE };

		na.src = q->target.v6;
		na.dst = q->sender.v6;
		na.target = q->target.v6;
		send_on(s, q->port, s->io[q->port].nd.fd, f, ndisc_build_na(f, sizeof(f), &na));
		s->c.nd_answered++;
	}
}

static void schedule(struct switchd *s, struct event *ev, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (!evtimer_pending(ev, NULL))
		evtimer_add(ev, &tv);
}

/* A host asked for target: answered from our own hosts, or queued for fabricd. */
static void ask(struct switchd *s, int port, const struct edge_host *asker,
		const struct ipaddr *sender, const struct ipaddr *target, bool nd)
{
	struct edge_ip *e = ipmap_get(&s->by_ip, target);
	struct monotime now = monotime_now();
	struct edge_query q = { .target = *target, .sender = *sender, .sender_amac = asker->amac,
				.port = (uint8_t)port, .nd = nd, .due = now, .created = now };

	if (e && e->h != asker) {
		answer(s, &q, &e->h->pmac);
		return;
	}
	if (e || s->nqueries >= EDGE_MAX_QUERIES) {
		s->c.frames_dropped++;      /* its own address (a probe), or too many waiting */
		return;
	}
	for (size_t i = 0; i < s->nqueries; i++)
		if (ipaddr_eq(&s->queries[i].target, target) &&
		    mac_eq(&s->queries[i].sender_amac, &asker->amac))
			return;             /* asked again while the first is on its way */
	s->queries[s->nqueries++] = q;
	schedule(s, s->query_ev, 0);
}

static void drop_query(struct switchd *s, size_t i)
{
	s->queries[i] = s->queries[--s->nqueries];
}

/* Every query due, in one batch: IPv4 first, then IPv6, as the answer comes back; each
 * remembers its batch and place. Queries older than EDGE_QUERY_MAX_MS are given up. */
static void on_query(evutil_socket_t fd, short what, void *arg)
{
	struct switchd *s = arg;
	uint32_t *v4 = malloc((s->nqueries + 1) * sizeof(*v4));
	uint8_t *v6 = malloc((s->nqueries + 1) * 16);
	L2f__ArpBatch b = L2F__ARP_BATCH__INIT;
	L2f__Portland m = L2F__PORTLAND__INIT;
	struct monotime now = monotime_now();
	uint32_t idx = 0;

	if (!v4 || !v6)
		goto out;
	for (size_t i = 0; i < s->nqueries; i++)
		if (monotime_diff_us(now, s->queries[i].created) >
		    (int64_t)EDGE_QUERY_MAX_MS * USEC_PER_MSEC)
			drop_query(s, i--);
	b.id = ++s->batch_id;
	for (int fam = 0; fam < 2; fam++)
		for (size_t i = 0; i < s->nqueries; i++) {
			struct edge_query *q = &s->queries[i];

			if (q->nd != fam || monotime_diff_us(q->due, now) > 0)
				continue;
			if (!fam) {
				v4[b.n_ipv4] = ntohl(q->target.v4.s_addr);
				b.n_ipv4++;
			} else {
				memcpy(v6 + b.ipv6.len, q->target.b, 16);
				b.ipv6.len += 16;
			}
			q->batch = b.id;
			q->idx = idx++;
			q->tries++;
			/* until its answer comes (or the query is given up) */
			q->due = monotime_add_us(now, (int64_t)EDGE_QUERY_MAX_MS * USEC_PER_MSEC);
		}
	b.ipv4 = v4;
	b.has_ipv6 = b.ipv6.len > 0;
	b.ipv6.data = v6;
	m.queries = &b;
	if (idx && switchd_send(s, &m))
		s->c.queries_sent += idx;
out:
	free(v4);
	free(v6);
	if (s->nqueries)
		schedule(s, s->retry_ev, EDGE_RETRY_MS);
}

/* A miss: fabricd has it asked of every edge's hosts, as the host that asked. */
static void flood_miss(struct switchd *s, const struct edge_query *q)
{
	struct edge_host *asker = host_by_amac(s, &q->sender_amac);
	L2f__ArpMiss mm = L2F__ARP_MISS__INIT, *mp = &mm;
	L2f__Portland m = L2F__PORTLAND__INIT;

	if (!asker)
		return;
	mm.ip = (ProtobufCBinaryData){ ipaddr_len(&q->target), (uint8_t *)q->target.b };
	mm.sender_ip = (ProtobufCBinaryData){ ipaddr_len(&q->sender), (uint8_t *)q->sender.b };
	mm.sender_pmac = (ProtobufCBinaryData){ MAC_LEN, asker->pmac.b };
	m.misses = &mp;
	m.n_misses = 1;
	switchd_send(s, &m);
}

void edge_answers(struct switchd *s, const L2f__ArpBatchAnswer *a)
{
	size_t n = a->n_pmac4 + a->n_pmac6;
	struct monotime now = monotime_now();

	for (size_t i = 0; i < s->nqueries; i++) {
		struct edge_query *q = &s->queries[i];
		uint64_t v;
		struct mac pmac;

		if (q->batch != a->id || q->idx >= n)
			continue;
		v = q->idx < a->n_pmac4 ? a->pmac4[q->idx] : a->pmac6[q->idx - a->n_pmac4];
		q->batch = 0;
		if (v) {
			for (int k = 0; k < MAC_LEN; k++)
				pmac.b[k] = (uint8_t)(v >> (40 - 8 * k));
			answer(s, q, &pmac);
			drop_query(s, i--);
			continue;
		}
		s->c.misses++;
		if (q->tries == 1)
			flood_miss(s, q);
		if (q->tries >= EDGE_QUERY_TRIES) {
			drop_query(s, i--);
			continue;
		}
		q->due = monotime_add_us(now, (int64_t)EDGE_RETRY_MS * USEC_PER_MSEC);
	}
	if (s->nqueries)
		schedule(s, s->retry_ev, EDGE_RETRY_MS);
}

/* fabricd's floods: ask every host port for each address, as the host that asked. */
void edge_floods(struct switchd *s, L2f__ArpMiss *const *m, size_t n)
{
	uint8_t f[128];

	s->c.floods_rx += n;
	if (!s->located || s->loc.level != LDP_LEVEL_EDGE)
		return;
	for (size_t i = 0; i < n; i++) {
		struct ipaddr target, sender;
		struct mac spmac;

		wire_ipaddr(&target, &m[i]->ip);
		wire_ipaddr(&sender, &m[i]->sender_ip);
		memcpy(spmac.b, m[i]->sender_pmac.data, MAC_LEN);
		if (ipmap_get(&s->by_ip, &target) || target.af != sender.af)
			continue;           /* ours: registered already, the asker's retry gets it */
		for (int p = 0; p < s->nports; p++) {
			ssize_t len;

			if (!is_host_port(s, p))
				continue;
			if (target.af == AF_INET) {
				struct arp_pkt a = { .op = ARP_OP_REQUEST, .sha = spmac };

				a.spa = sender.v4;
				a.tpa = target.v4;
				len = arp_build_frame(f, sizeof(f), &mac_broadcast, &spmac, &a);
				send_on(s, p, s->io[p].arp.fd, f, len);
			} else {
				struct nd_ns_tx ns = { .eth_src = spmac, .slla = spmac };

				ns.src = sender.v6;
				ns.target = target.v6;
				ndisc_solicited_node(&target.v6, &ns.dst);
				memcpy(ns.eth_dst.b, (uint8_t[]){ 0x33, 0x33, ns.dst.s6_addr[12],
						      ns.dst.s6_addr[13], ns.dst.s6_addr[14],
						      ns.dst.s6_addr[15] }, MAC_LEN);
				len = ndisc_build_ns(f, sizeof(f), &ns);
				send_on(s, p, s->io[p].nd.fd, f, len);
			}
			s->c.floods_sent++;
		}
	}
}

/* --- frames from hosts -------------------------------------------------------------------- */

static void arp_frame(struct switchd *s, int port, const struct eth_hdr *eh, const uint8_t *p,
		      size_t len)
{
	struct arp_pkt a;
	struct edge_host *h;
	struct ipaddr spa, tpa;

	s->c.arp_rx++;
	if (arp_parse(p, len, &a) < 0 || !mac_eq(&a.sha, &eh->src) || !(h = host_new(s, port, &eh->src))) {
		s->c.frames_dropped++;
		return;
	}
	ipaddr_from_v4(&spa, &a.spa);
	ipaddr_from_v4(&tpa, &a.tpa);
	if (a.spa.s_addr)
		learn_ip(s, h, &spa);
	/* a request for another address (not an announcement, not a probe from 0.0.0.0) */
	if (a.op == ARP_OP_REQUEST && a.spa.s_addr && !ipaddr_eq(&spa, &tpa))
		ask(s, port, h, &spa, &tpa, false);
}

static void nd_frame(struct switchd *s, int port, const struct eth_hdr *eh, const uint8_t *p,
		     size_t len)
{
	struct ip6_info ip;
	struct edge_host *h;
	struct ipaddr src, target;

	s->c.nd_rx++;
	if (ip6_parse(p, len, &ip) < 0 || ip.next_header != 58 || ip.payload_len < 1 ||
	    !(h = host_new(s, port, &eh->src))) {
		s->c.frames_dropped++;
		return;
	}
	ipaddr_from_v6(&src, &ip.src);
	if (ip.payload[0] == ICMP6_NS) {
		struct nd_ns ns;

		if (ndisc_parse_ns(&ip, &ns) < 0 || IN6_IS_ADDR_UNSPECIFIED(&ip.src)) {
			/* DAD (RFC 4862 5.4.3): nobody answers, so the address stays the host's */
			s->c.frames_dropped++;
			return;
		}
		learn_ip(s, h, &src);
		ipaddr_from_v6(&target, &ns.target);
		if (!IN6_IS_ADDR_LINKLOCAL(&ns.target) && !ipaddr_eq(&src, &target))
			ask(s, port, h, &src, &target, true);
	} else {
		struct nd_na na;

		if (ndisc_parse_na(&ip, &na) < 0) {
			s->c.frames_dropped++;
			return;
		}
		ipaddr_from_v6(&target, &na.target);
		learn_ip(s, h, &target);
	}
}

void edge_frame(struct switchd *s, int port, const uint8_t *f, size_t len)
{
	struct eth_hdr eh;

	if (!is_host_port(s, port) || eth_parse(f, len, &eh) < 0 || (eh.src.b[0] & 1)) {
		s->c.frames_dropped++;
		return;
	}
	ldp_host_seen(&s->ldp, port);   /* a host speaks here: LDMs on it are a miswiring */
	if (eh.type == ETHERTYPE_ARP)
		arp_frame(s, port, &eh, f + ETH_HDR_LEN, len - ETH_HDR_LEN);
	else if (eh.type == ETHERTYPE_IPV6)
		nd_frame(s, port, &eh, f + ETH_HDR_LEN, len - ETH_HDR_LEN);
	else
		s->c.frames_dropped++;
}

void edge_resend(struct switchd *s)
{
	size_t n = 0;
	L2f__HostBinding *b = calloc(s->nhosts * EDGE_MAX_IPS + 1, sizeof(*b));
	L2f__HostBinding **bp = calloc(s->nhosts * EDGE_MAX_IPS + 1, sizeof(*bp));
	L2f__Portland m = L2F__PORTLAND__INIT;

	if (b && bp) {
		for (size_t i = 0; i < s->nhosts; i++)
			for (uint8_t k = 0; k < s->hosts[i].nips; k++) {
				binding_of(s, &s->hosts[i], &s->hosts[i].ips[k], &b[n]);
				bp[n] = &b[n];
				n++;
			}
		m.hosts_add = bp;
		m.n_hosts_add = n;
		if (n && switchd_send(s, &m))
			s->c.hosts_registered += n;
	}
	free(b);
	free(bp);
}

/* A host the previous run gave a PMAC (the pinned maps): kept, so that its PMAC, which
 * every host that talks to it holds, stays the same, and its vmid reserved. Its addresses
 * are learnt again from its next ARP or ND; what it said in ARP and ND before is not in the
 * pins, so its host_age starts again. A host whose vmid is another's already (two PMACs of
 * one port and vmid: the switch was elsewhere before) is left out, for the reconcile. */
static int recover(void *ctx, const struct mac *pmac, const struct mac *amac, int ifindex)
{
	struct switchd *s = ctx;
	int port = port_of_ifindex(s, ifindex);
	struct edge_host *h;
	struct pmac p;

	if (port < 0 || pmac_unpack(pmac, &p) < 0 || p.port != port || host_by_amac(s, amac) ||
	    !host_room(s) || vmid_reserve(&s->vmids, (uint8_t)port, p.vmid) < 0)
		return 0;
	h = &s->hosts[s->nhosts++];
	memset(h, 0, sizeof(*h));
	h->amac = *amac;
	h->pmac = *pmac;
	h->port = (uint8_t)port;
	h->vmid = p.vmid;
	h->seen = monotime_now();
	return 0;
}

int edge_start(struct switchd *s)
{
	int err = ipmap_init(&s->by_ip);

	age_init(s);
	if (s->dp)
		dp_walk_hosts(s->dp, recover, s);
	if (err == 0)
		err = age_start(s);   /* after the hosts: their vmids are reserved first */
	if (s->nhosts || vmids_held(&s->vmids))
		log_info("edge: %zu host(s) and %zu held vmid(s) taken over from the pinned maps",
			 s->nhosts, vmids_held(&s->vmids));

	s->queries = calloc(EDGE_MAX_QUERIES, sizeof(*s->queries));
	s->query_ev = evtimer_new(s->base, on_query, s);
	s->retry_ev = evtimer_new(s->base, on_query, s);
	if (err < 0 || !s->queries || !s->query_ev || !s->retry_ev)
		return -ENOMEM;
	for (int i = 0; i < s->nports; i++) {
		err = port_sock_open(s, i, ETHERTYPE_ARP, NULL, 0, edge_frame, &s->io[i].arp);
		if (!err)
			err = port_sock_open(s, i, ETHERTYPE_IPV6, nd_filter,
					     sizeof(nd_filter) / sizeof(nd_filter[0]), edge_frame,
					     &s->io[i].nd);
		if (err < 0) {
			log_err("edge: port %s: packet socket: %s", s->ports[i].name, strerror(-err));
			return err;
		}
	}
	return 0;
}

static int free_ip(void *val, void *ctx)
{
	free(val);
	return 0;
}

void edge_stop(struct switchd *s)
{
	for (int i = 0; i < s->nports; i++) {
		port_sock_close(&s->io[i].arp);
		port_sock_close(&s->io[i].nd);
	}
	if (s->query_ev)
		event_free(s->query_ev);
	if (s->retry_ev)
		event_free(s->retry_ev);
	if (s->by_ip.slots) {
		ipmap_foreach(&s->by_ip, free_ip, NULL);
		ipmap_free(&s->by_ip);
	}
	free(s->queries);
	free(s->hosts);
	age_stop(s);
}
