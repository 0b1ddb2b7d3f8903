/*
 * plpeer.c - PortLand switches (role ROLE_SWITCHD) on fabricd's Unix socket, for the tests
 * and the benchmark of fabricd's fabric-manager role (fabricd/portland.c):
 *
 *   plpeer SOCKET scenario
 *     edge e0 (pod to be assigned, position 0), edge e1 (position 1), aggregation a0 and a
 *     switch "dup" claiming e0's switch id. Prints what each saw, one "key value" a line:
 *       pod P             fabricd's answer to e0's pod request
 *       pod_again P       ... and to a second one
 *       hit PMAC          e0's query for the host it registered
 *       miss 198.18.0.99  a query for an address nobody registered: no PMAC ...
 *       flood_e1 IP       ... and e1 was asked to flood it, when e0 sent it as a miss
 *       burst_floods_e1 N of 200 misses sent at once, those e1 was asked to flood
 *       dup_closed yes    the session claiming e0's switch id was closed
 *       moved_e0 OLD>NEW  e1 registered e0's host (same IP and AMAC) on its port 1: fabricd
 *                         told e0 the host moved, from PMAC OLD to NEW
 *       moved_closed yes  e0 sending a HostMoved itself (fabricd's message) was closed
 *       late_e1 yes       the host moved back to e0 while e1 was away; e1, back, registered
 *                         it again as it had it: fabricd told e1 the move then (pm2 > pm)
 *     Refusals (a forged PMAC, a host on an up port, a multicast address, hosts and a pod
 *     request from a0, a group member on e0's up port) show in fabricctl status; the
 *     sessions stay.
 *   plpeer SOCKET mcast-rate POD | mcast-cap POD
 *     the multicast bounds, with edges m0 and m1 (pod POD, positions 2 and 3). mcast-rate:
 *     m0 sends 100 membership reports at once (report i: group 239.2.0.i on port 0), then
 *     m1 five (report j: 239.2.1.1 .. 239.2.1.j on port 1); m1 being another edge, all of
 *     its are taken. mcast-cap, once m0's rate has refilled (1.5 s): m0 reports 600 groups
 *     (239.3.x.y, port 0), and m1 its five and 239.2.1.100. What fabricd took shows in
 *     fabricctl groups and status; each prints "done".
 *   plpeer SOCKET bench HOSTS BATCH SECONDS [6]
 *     HOSTS hosts registered by edges of 65536 each (pod 1), IPv4 in 198.18.0.0/15 (at most
 *     131070), or with 6 IPv6 in 2001:db8:f::/64; then the last edge asks for their addresses
 *     at random in batches of BATCH, 8 batches in flight, for SECONDS. Prints
 *       resolutions N   seconds S   rate R   (answers with a PMAC, per second)
 * Exit 0, or 1 (why on stderr).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tpeer.h"
#include "wire.h"

#define BIN(p, n) ((ProtobufCBinaryData){ (n), (uint8_t *)(p) })

struct seen {
	int pod;
	bool hit, miss, flood;
	uint64_t nfloods;
	uint8_t pmac[6];
	uint8_t flood_ip[4];
	uint64_t answers, hits;
	bool moved;
	uint8_t moved_old[6], moved_new[6];
};

static void on_env(struct tpeer *p, const L2f__Envelope *env, void *ctx)
{
	struct seen *s = ctx;
	const L2f__Portland *m = env->portland;

	if (env->msg_case != L2F__ENVELOPE__MSG_PORTLAND)
		return;
	if (m->has_pod_assign)
		s->pod = (int)m->pod_assign;
	for (size_t i = 0; m->answers && i < m->answers->n_pmac4 + m->answers->n_pmac6; i++) {
		uint64_t v = i < m->answers->n_pmac4 ? m->answers->pmac4[i]
						     : m->answers->pmac6[i - m->answers->n_pmac4];

		s->answers++;
		if (v) {
			s->hits++;
			s->hit = true;
			for (int k = 0; k < 6; k++)
				s->pmac[k] = (uint8_t)(v >> (40 - 8 * k));
		} else {
			s->miss = true;
		}
	}
	for (size_t i = 0; i < m->n_moved; i++) {
		s->moved = true;
		memcpy(s->moved_old, m->moved[i]->old_pmac.data, 6);
		memcpy(s->moved_new, m->moved[i]->new_pmac.data, 6);
	}
	for (size_t i = 0; i < m->n_floods; i++) {
		s->flood = true;
		s->nfloods++;
		memcpy(s->flood_ip, m->floods[i]->ip.data, 4);
	}
}

/* Reads p until done(s) or ms pass. 0, or -1: closed. */
static int pump(struct tpeer *p, struct seen *s, bool (*done)(const struct seen *s), int ms)
{
	int64_t end = tpeer_now_us() + (int64_t)ms * 1000;

	while (!done(s) && tpeer_now_us() < end) {
		if (tpeer_wait(p, 50) > 0 && tpeer_read(p, on_env, s) < 0)
			return -1;
	}
	return 0;
}

static bool has_pod(const struct seen *s)
{
	return s->pod >= 0;
}

static bool has_answer(const struct seen *s)
{
	return s->hit || s->miss;
}

static bool has_flood(const struct seen *s)
{
	return s->flood;
}

static bool has_moved(const struct seen *s)
{
	return s->moved;
}

static bool never(const struct seen *s)
{
	return false;
}

static int hello(struct tpeer *p, const char *path, const char *id)
{
	L2f__Hello h = L2F__HELLO__INIT;

	h.version = PROTO_VERSION;
	h.role = L2F__ROLE__ROLE_SWITCHD;
	h.id = (char *)id;
	return tpeer_connect(p, path, &h);
}

static int send_pl(struct tpeer *p, L2f__Portland *m)
{
	L2f__Envelope env = L2F__ENVELOPE__INIT;

	env.msg_case = L2F__ENVELOPE__MSG_PORTLAND;
	env.portland = m;
	return tpeer_send(p, &env);
}

/* A location: ports 0 and 1 towards hosts (edges) or down, 2 and 3 up. */
static int locate(struct tpeer *p, uint8_t idbyte, L2f__SwitchLevel level, int pod, int pos,
		  bool located)
{
	static uint8_t ids[256][6];
	L2f__SwitchPort ports[4], *pp[4];
	L2f__SwitchLocation l = L2F__SWITCH_LOCATION__INIT;
	L2f__Portland m = L2F__PORTLAND__INIT;

	memcpy(ids[idbyte], (uint8_t[]){ 0x02, 0, 0, 0, 0, idbyte }, 6);
	l.switch_id = BIN(ids[idbyte], 6);
	l.level = level;
	if ((l.has_pod = pod >= 0))
		l.pod = (uint32_t)pod;
	if ((l.has_position = pos >= 0))
		l.position = (uint32_t)pos;
	l.located = located;
	for (int i = 0; i < 4; i++) {
		l2f__switch_port__init(&ports[i]);
		ports[i].port = (uint32_t)i;
		ports[i].dir = i >= 2 ? L2F__PORT_DIRECTION__DIR_UP :
			       level == L2F__SWITCH_LEVEL__LEVEL_EDGE ? L2F__PORT_DIRECTION__DIR_HOST
								      : L2F__PORT_DIRECTION__DIR_DOWN;
		pp[i] = &ports[i];
	}
	l.ports = pp;
	l.n_ports = 4;
	m.location = &l;
	return send_pl(p, &m);
}

static void pmac_of(uint8_t *out, int pod, int pos, int port, int vmid)
{
	struct pmac p = { (uint16_t)pod, (uint8_t)pos, (uint8_t)port, (uint16_t)vmid };

	pmac_pack(&p, (struct mac *)out);
}

static int add_host(struct tpeer *p, const uint8_t ip[4], const uint8_t pmac[6], int port)
{
	uint8_t amac[6] = { 0x02, 0xaa, 0, 0, ip[2], ip[3] };
	L2f__HostBinding h = L2F__HOST_BINDING__INIT, *hp = &h;
	L2f__Portland m = L2F__PORTLAND__INIT;

	h.ip = BIN(ip, 4);
	h.amac = BIN(amac, 6);
	h.pmac = BIN(pmac, 6);
	h.port = (uint32_t)port;
	m.hosts_add = &hp;
	m.n_hosts_add = 1;
	return send_pl(p, &m);
}

static uint32_t ip_num(const uint8_t ip[4])
{
	return (uint32_t)ip[0] << 24 | (uint32_t)ip[1] << 16 | (uint32_t)ip[2] << 8 | ip[3];
}

static int ask(struct tpeer *p, const uint8_t ip[4])
{
	L2f__ArpBatch q = L2F__ARP_BATCH__INIT;
	L2f__Portland m = L2F__PORTLAND__INIT;
	uint32_t v = ip_num(ip);

	q.id = 1;
	q.ipv4 = &v;
	q.n_ipv4 = 1;
	m.queries = &q;
	return send_pl(p, &m);
}

/* A miss to have flooded: ip, asked by the host at sip / spmac. */
static int flood_miss(struct tpeer *p, const uint8_t ip[4], const uint8_t sip[4],
		      const uint8_t spmac[6])
{
	L2f__ArpMiss q = L2F__ARP_MISS__INIT, *qp = &q;
	L2f__Portland m = L2F__PORTLAND__INIT;

	q.ip = BIN(ip, 4);
	q.sender_ip = BIN(sip, 4);
	q.sender_pmac = BIN(spmac, 6);
	m.misses = &qp;
	m.n_misses = 1;
	return send_pl(p, &m);
}

static int pod_request(struct tpeer *p)
{
	L2f__Portland m = L2F__PORTLAND__INIT;

	m.has_pod_request = m.pod_request = true;
	return send_pl(p, &m);
}

static int scenario(const char *path)
{
	struct tpeer e0, e1, a0, dup;
	struct seen s0 = { .pod = -1 }, s1 = { .pod = -1 }, sa = { .pod = -1 }, sd = { .pod = -1 };
	uint8_t h10[4] = { 198, 18, 0, 10 }, h11[4] = { 198, 18, 0, 11 }, h12[4] = { 198, 18, 0, 12 };
	uint8_t mc[4] = { 224, 0, 0, 1 }, h99[4] = { 198, 18, 0, 99 }, pm[6], pm2[6];
	int pod;

	if (hello(&e0, path, "e0") || locate(&e0, 0xe0, L2F__SWITCH_LEVEL__LEVEL_EDGE, -1, 0, false) ||
	    pod_request(&e0) || pump(&e0, &s0, has_pod, 3000) || s0.pod < 0) {
		fprintf(stderr, "plpeer: e0 got no pod\n");
		return 1;
	}
	pod = s0.pod;
	printf("pod %d\n", pod);
	pmac_of(pm, pod, 0, 0, 1);
	if (locate(&e0, 0xe0, L2F__SWITCH_LEVEL__LEVEL_EDGE, pod, 0, true) || add_host(&e0, h10, pm, 0))
		return 1;
	/* refused: another position's PMAC; a PMAC of an up port; a multicast address */
	pmac_of(pm2, pod, 1, 0, 1);
	add_host(&e0, h11, pm2, 0);
	pmac_of(pm2, pod, 0, 2, 1);
	add_host(&e0, h12, pm2, 2);
	pmac_of(pm2, pod, 0, 1, 7);
	add_host(&e0, mc, pm2, 1);
	/* a group with members on host port 0 and on up port 2: the up port is refused */
	{
		uint8_t g[4] = { 239, 1, 1, 1 };
		uint32_t gports[2] = { 0, 2 };
		L2f__McastGroup mg = L2F__MCAST_GROUP__INIT, *mgp = &mg;
		L2f__McastMembership mm = L2F__MCAST_MEMBERSHIP__INIT;
		L2f__Portland m = L2F__PORTLAND__INIT;

		mg.group = BIN(g, 4);
		mg.ports = gports;
		mg.n_ports = 2;
		mm.groups = &mgp;
		mm.n_groups = 1;
		m.mcast_members = &mm;
		if (send_pl(&e0, &m))
			return 1;
	}
	if (hello(&e1, path, "e1") || locate(&e1, 0xe1, L2F__SWITCH_LEVEL__LEVEL_EDGE, pod, 1, true))
		return 1;
	if (hello(&a0, path, "a0") ||
	    locate(&a0, 0xa0, L2F__SWITCH_LEVEL__LEVEL_AGGREGATION, pod, -1, true))
		return 1;
	pmac_of(pm2, pod, 0, 1, 9);
	add_host(&a0, h11, pm2, 1);
	pod_request(&a0);
	pump(&a0, &sa, never, 300);
	/* e1's location reached fabricd before e0 asks (e0 and e1 are two sessions) */
	pump(&e1, &s1, never, 200);
	if (ask(&e0, h10) || pump(&e0, &s0, has_answer, 3000) || !s0.hit) {
		fprintf(stderr, "plpeer: no answer with a PMAC for 198.18.0.10\n");
		return 1;
	}
	printf("hit %02x:%02x:%02x:%02x:%02x:%02x\n", s0.pmac[0], s0.pmac[1], s0.pmac[2],
	       s0.pmac[3], s0.pmac[4], s0.pmac[5]);
	s0.hit = false;
	if (ask(&e0, h99) || pump(&e0, &s0, has_answer, 3000) || !s0.miss ||
	    flood_miss(&e0, h99, h10, pm) || pump(&e1, &s1, has_flood, 3000) || !s1.flood) {
		fprintf(stderr, "plpeer: no miss, or no flood at e1, for 198.18.0.99\n");
		return 1;
	}
	printf("miss 198.18.0.99\nflood_e1 %u.%u.%u.%u\n", s1.flood_ip[0], s1.flood_ip[1],
	       s1.flood_ip[2], s1.flood_ip[3]);
	/* 200 misses at once: the flood rate lets a burst through, not all of them */
	{
		L2f__ArpMiss q[200], *qp[200];
		L2f__Portland m = L2F__PORTLAND__INIT;
		uint8_t ip[200][4];

		for (int i = 0; i < 200; i++) {
			memcpy(ip[i], (uint8_t[]){ 198, 19, 1, (uint8_t)(i + 1) }, 4);
			l2f__arp_miss__init(&q[i]);
			q[i].ip = BIN(ip[i], 4);
			q[i].sender_ip = BIN(h10, 4);
			q[i].sender_pmac = BIN(pm, 6);
			qp[i] = &q[i];
		}
		m.misses = qp;
		m.n_misses = 200;
		s1.nfloods = 0;
		if (send_pl(&e0, &m) || pump(&e1, &s1, never, 500))
			return 1;
		printf("burst_floods_e1 %llu\n", (unsigned long long)s1.nfloods);
	}
	s0.pod = -1;
	if (pod_request(&e0) || pump(&e0, &s0, has_pod, 3000) || s0.pod < 0)
		return 1;
	printf("pod_again %d\n", s0.pod);
	if (hello(&dup, path, "dup") || locate(&dup, 0xe0, L2F__SWITCH_LEVEL__LEVEL_EDGE, pod, 1, true))
		return 1;
	printf("dup_closed %s\n", pump(&dup, &sd, never, 2000) < 0 ? "yes" : "no");
	/* migration: the host moves to e1's port 1; e0 is told, and may not say it itself */
	pmac_of(pm2, pod, 1, 1, 1);
	if (add_host(&e1, h10, pm2, 1) || pump(&e0, &s0, has_moved, 2000) || !s0.moved)
		return 1;
	printf("moved_e0 %02x:%02x:%02x:%02x:%02x:%02x>%02x:%02x:%02x:%02x:%02x:%02x\n",
	       s0.moved_old[0], s0.moved_old[1], s0.moved_old[2], s0.moved_old[3],
	       s0.moved_old[4], s0.moved_old[5], s0.moved_new[0], s0.moved_new[1],
	       s0.moved_new[2], s0.moved_new[3], s0.moved_new[4], s0.moved_new[5]);
	{
		L2f__HostMoved hm = L2F__HOST_MOVED__INIT, *hp = &hm;
		L2f__Portland m = L2F__PORTLAND__INIT;

		hm.ip = BIN(h10, 4);
		hm.old_pmac = BIN(pm, 6);
		hm.new_pmac = BIN(pm2, 6);
		hm.amac = BIN(pm, 6);
		m.moved = &hp;
		m.n_moved = 1;
		if (send_pl(&e0, &m))
			return 1;
		printf("moved_closed %s\n", pump(&e0, &s0, never, 2000) < 0 ? "yes" : "no");
	}
	/* a move while the old edge is away: e1 goes, the host comes back to e0 (a new session);
	 * e1, back, registers it again as it had it: told the move then, and the host stays */
	tpeer_close(&e1);
	tpeer_close(&e0);
	if (hello(&e0, path, "e0") || locate(&e0, 0xe0, L2F__SWITCH_LEVEL__LEVEL_EDGE, pod, 0, true) ||
	    add_host(&e0, h10, pm, 0) || pump(&e0, &s0, never, 300) < 0)
		return 1;
	s1.moved = false;
	if (hello(&e1, path, "e1") || locate(&e1, 0xe1, L2F__SWITCH_LEVEL__LEVEL_EDGE, pod, 1, true) ||
	    add_host(&e1, h10, pm2, 1) || pump(&e1, &s1, has_moved, 2000) < 0)
		return 1;
	printf("late_e1 %s\n", s1.moved && !memcmp(s1.moved_old, pm2, 6) &&
	       !memcmp(s1.moved_new, pm, 6) ? "yes" : "no");
	tpeer_close(&dup);
	tpeer_close(&a0);
	tpeer_close(&e1);
	tpeer_close(&e0);
	return 0;
}

/* A membership of n groups, group i at g + 4 * i (IPv4), each on port. */
static int members(struct tpeer *p, const uint8_t *g, size_t n, uint32_t port)
{
	L2f__McastGroup *mg = calloc(n + 1, sizeof(*mg)), **mgp = calloc(n + 1, sizeof(*mgp));
	L2f__McastMembership mm = L2F__MCAST_MEMBERSHIP__INIT;
	L2f__Portland m = L2F__PORTLAND__INIT;
	int ret = -1;

	if (mg && mgp) {
		for (size_t i = 0; i < n; i++) {
			l2f__mcast_group__init(&mg[i]);
			mg[i].group = BIN(g + 4 * i, 4);
			mg[i].ports = &port;
			mg[i].n_ports = 1;
			mgp[i] = &mg[i];
		}
		mm.groups = mgp;
		mm.n_groups = n;
		m.mcast_members = &mm;
		ret = send_pl(p, &m);
	}
	free(mg);
	free(mgp);
	return ret;
}

static int mcast_bounds(const char *path, int pod, bool cap)
{
	struct tpeer m0, m1;
	struct seen s = { .pod = -1 };
	uint8_t g[600][4], g1[6][4];

	if (hello(&m0, path, "m0") || locate(&m0, 0xc0, L2F__SWITCH_LEVEL__LEVEL_EDGE, pod, 2, true) ||
	    hello(&m1, path, "m1") || locate(&m1, 0xc1, L2F__SWITCH_LEVEL__LEVEL_EDGE, pod, 3, true))
		return 1;
	for (int j = 0; j < 6; j++)
		memcpy(g1[j], (uint8_t[]){ 239, 2, 1, (uint8_t)(j < 5 ? j + 1 : 100) }, 4);
	if (!cap) {
		/* m0 over its rate; m1's reports are its own */
		for (int i = 0; i < 100; i++) {
			memcpy(g[0], (uint8_t[]){ 239, 2, 0, (uint8_t)(i + 1) }, 4);
			if (members(&m0, g[0], 1, 0))
				return 1;
		}
		for (size_t j = 1; j <= 5; j++)
			if (members(&m1, g1[0], j, 1))
				return 1;
	} else {
		/* the groups of one edge: 600 asked, the cap taken; m1 can still add one */
		if (pump(&m0, &s, never, 1500) < 0)
			return 1;
		for (int i = 0; i < 600; i++)
			memcpy(g[i], (uint8_t[]){ 239, 3, (uint8_t)(i >> 8), (uint8_t)i }, 4);
		if (members(&m0, g[0], 600, 0) || members(&m1, g1[0], 6, 1))
			return 1;
	}
	if (pump(&m0, &s, never, 300) < 0 || pump(&m1, &s, never, 10) < 0)
		return 1;
	printf("done\n");
	tpeer_close(&m0);
	tpeer_close(&m1);
	return 0;
}

/* Host i: 198.18.x.y (from 198.18.0.1), on edge i / 65536 (position), port i % 4, vmid. */
static void host_ip(uint32_t i, uint8_t ip[4])
{
	uint32_t a = i + 1;

	ip[0] = 198, ip[1] = (uint8_t)(18 + (a >> 16)), ip[2] = (uint8_t)(a >> 8), ip[3] = (uint8_t)a;
}

static int bench(const char *path, uint32_t hosts, uint32_t batch, int seconds, bool v6)
{
	uint32_t nedges = (hosts + 65535) / 65536;
	struct tpeer *e = calloc(nedges, sizeof(*e));
	struct seen s = { .pod = -1 };
	L2f__HostBinding *hb = calloc(4096, sizeof(*hb)), **hp = calloc(4096, sizeof(*hp));
	uint32_t *qv = calloc(batch, sizeof(*qv));
	uint8_t (*ips)[4] = calloc(hosts, 4), (*pm)[6] = calloc(hosts, 6), amac[6] = { 2, 0xbb };
	uint8_t (*ip6)[16] = calloc(hosts, 16);
	uint8_t *q6 = calloc(batch, 16);
	uint64_t sent = 0, next = 0;
	int64_t t0, t1;

	if (!e || !hb || !hp || !qv || !ips || !pm || !ip6 || !q6)
		return 1;
	for (uint32_t k = 0; k < nedges; k++) {
		char id[16];

		snprintf(id, sizeof(id), "bench-e%u", k);
		if (hello(&e[k], path, id) ||
		    locate(&e[k], (uint8_t)(0x10 + k), L2F__SWITCH_LEVEL__LEVEL_EDGE, 1, (int)k, true))
			return 1;
	}
	for (uint32_t i = 0; i < hosts; i += 4096) {
		L2f__Portland m = L2F__PORTLAND__INIT;
		uint32_t n = hosts - i < 4096 ? hosts - i : 4096;

		for (uint32_t j = 0; j < n; j++) {
			uint32_t h = i + j;

			host_ip(h, ips[h]);
			memcpy(ip6[h], (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 0x0f, [12] = (uint8_t)(h >> 24),
						    (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h }, 16);
			pmac_of(pm[h], 1, (int)(h / 65536), (int)(h % 2), (int)(h % 65536));
			l2f__host_binding__init(&hb[j]);
			hb[j].ip = v6 ? BIN(ip6[h], 16) : BIN(ips[h], 4);
			hb[j].amac = BIN(amac, 6);
			hb[j].pmac = BIN(pm[h], 6);
			hb[j].port = h % 2;
			hp[j] = &hb[j];
		}
		m.hosts_add = hp;
		m.n_hosts_add = n;
		if (send_pl(&e[i / 65536], &m))
			return 1;
	}
	/* the last edge's registrations are in before its queries: one session, in order */
	t0 = tpeer_now_us();
	t1 = t0 + (int64_t)seconds * 1000000;
	while (tpeer_now_us() < t1) {
		while (sent - s.answers < 8ull * batch) {
			L2f__Portland m = L2F__PORTLAND__INIT;
			L2f__ArpBatch q = L2F__ARP_BATCH__INIT;

			for (uint32_t j = 0; j < batch; j++) {
				uint32_t h = (uint32_t)((next >> 16) % hosts);

				if (v6)
					memcpy(q6 + 16 * j, ip6[h], 16);
				else
					qv[j] = ip_num(ips[h]);
				next = next * 6364136223846793005ull + 1442695040888963407ull;
			}
			q.id = sent;
			if (v6) {
				q.has_ipv6 = true;
				q.ipv6 = BIN(q6, 16 * batch);
			} else {
				q.ipv4 = qv;
				q.n_ipv4 = batch;
			}
			m.queries = &q;
			if (send_pl(&e[nedges - 1], &m))
				return 1;
			sent += batch;
		}
		if (tpeer_wait(&e[nedges - 1], 100) > 0 && tpeer_read(&e[nedges - 1], on_env, &s) < 0) {
			fprintf(stderr, "plpeer: session closed by fabricd\n");
			return 1;
		}
	}
	t1 = tpeer_now_us();
	if (s.hits != s.answers) {
		fprintf(stderr, "plpeer: %llu of %llu answers without a PMAC\n",
			(unsigned long long)(s.answers - s.hits), (unsigned long long)s.answers);
		return 1;
	}
	printf("resolutions %llu\nseconds %.3f\nrate %.0f\n", (unsigned long long)s.hits,
	       (t1 - t0) / 1e6, s.hits / ((t1 - t0) / 1e6));
	for (uint32_t k = 0; k < nedges; k++)
		tpeer_close(&e[k]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[2], "scenario"))
		return scenario(argv[1]);
	if (argc == 4 && (!strcmp(argv[2], "mcast-rate") || !strcmp(argv[2], "mcast-cap")))
		return mcast_bounds(argv[1], atoi(argv[3]), !strcmp(argv[2], "mcast-cap"));
	if ((argc == 6 || (argc == 7 && !strcmp(argv[6], "6"))) && !strcmp(argv[2], "bench"))
		return bench(argv[1], (uint32_t)strtoul(argv[3], NULL, 10),
			     (uint32_t)strtoul(argv[4], NULL, 10), atoi(argv[5]), argc == 7);
	fprintf(stderr, "usage: plpeer SOCKET scenario | plpeer SOCKET mcast-rate|mcast-cap POD |\n"
			"       plpeer SOCKET bench HOSTS BATCH SECONDS [6]\n");
	return 2;
}
