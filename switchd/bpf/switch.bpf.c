// SPDX-License-Identifier: MIT
/*
 * switch.bpf.c - switchd's data plane: one clsact ingress program (cls_bpf, direct action)
 * on every switch port, forwarding by PMAC as PortLand does (Mysore et al., SIGCOMM 2009, §3).
 *
 *   0. A port with an injected fault (SW_PORT_F_FAULT) drops everything that arrives on it.
 *   1. Control frames are left to the stack (TC_ACT_OK), where switchd's packet sockets,
 *      bound per port to these EtherTypes, receive them: LDP (0x88B5), ARP, and the ICMPv6 ND
 *      messages of RFC 4861 §4 (RS, RA, NS, NA, Redirect; types 133-137).
 *   2. Nothing else moves until switchd has marked the switch located ("PortLand switches do
 *      not begin packet forwarding until their location is established").
 *   3. Unicast by the destination PMAC, by level:
 *        core         its pod bits -> the down port towards that pod
 *        aggregation  own pod: its position -> the edge's port; else ECMP up
 *        edge         own pod and position: PMAC -> host port, dst rewritten PMAC -> AMAC
 *                     ("only on the last hop", p. 43); else ECMP up
 *      where ECMP up is over the destination's own group when fabricd's fault matrix gave
 *      it one (the up neighbours that still reach it), else over all the up ports,
 *      and never out an up port after arriving on one (the paper's Constraint 1).
 *   4. At an edge's host port the source AMAC is first rewritten to the host's PMAC. A source
 *      with no PMAC (or seen on another port: it moved) is dropped, counted, and reported on
 *      the sw_unknown ring so switchd can assign one without waiting for the host's next ARP.
 *   5. Multicast by fabricd's trees (docs/switchd.md "Multicast"): IGMP and MLD are left to
 *      switchd (the edge reports its hosts' groups); a frame to a routable group is
 *      replicated by bpf_clone_redirect, in a bpf_loop bounded by SW_MCAST_MAX_OUT, out of
 *      the ports sw_mcast names for its group and in port, never back out of that port.
 *      Fabricd's entries go up only from an edge's hosts or an aggregation switch's edges,
 *      down only otherwise (Constraint 1 holds for multicast too: no loop). A group with no
 *      entry, broadcast, non-IP multicast and link-local groups (224.0.0.x, ff02::) are
 *      dropped and counted.
 *   6. Migration (PortLand §3.5): at an edge, a destination PMAC of its own with no host but
 *      an entry in sw_moved (its host moved away) is rewritten to the host's new PMAC and
 *      sent on - down to a host of its own, or back up, the one exception to Constraint 1
 *      (a moved entry never points at a PMAC of the same edge's sw_moved: switchd removes an
 *      entry whose PMAC comes back) - and its sender is reported on the sw_trapped ring, at
 *      most once a millisecond per moved PMAC, so that switchd tells it the new PMAC. Unicast
 *      ARP and ND from a switch port (such an announcement on its way to a host) are
 *      forwarded like data; from a host port, and broadcast, they stay switchd's (proxy ARP).
 * Frames are counted per port as they go out (forward(), below).
 * ECMP takes skb->hash (bpf_get_hash_recalc: the flow hash, computed if absent) mixed with
 * the switch's own salt, so the edge and the aggregation switch above it do not pick the same
 * uplink index for the same flow (polarization).
 * Header parsing follows a cursor checked against data_end at every header. UAPI headers
 * only: no vmlinux.h, so the object does not depend on the build machine's kernel.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "switch_shared.h"

/* No GPL-only helper is used, so the project's own licence will do. */
char LICENSE[] SEC("license") = "MIT";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sw_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SW_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct sw_port);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sw_up_group);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_up SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SW_MAX_DESTS);
	__type(key, __u32);
	__type(value, struct sw_up_group);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_up_dest SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SW_MAX_PODS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_pods SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SW_MAX_POSITIONS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_positions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SW_MAX_HOSTS);
	__type(key, struct sw_mac);
	__type(value, struct sw_host);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_hosts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SW_MAX_HOSTS);
	__type(key, struct sw_mac);
	__type(value, struct sw_amac_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_amacs SEC(".maps");

/* switchd's, not the program's: its held vmids, pinned here so a restart keeps them. Not
 * preallocated: it takes memory for the holds there are. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SW_MAX_VMIDS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct sw_vmid_hold);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_vmid_holds SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SW_MAX_MOVED);
	__type(key, struct sw_mac);
	__type(value, struct sw_moved);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_moved SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SW_TRAPPED_RING);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_trapped SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SW_V_COUNT + SW_E_COUNT);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_verdicts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SW_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct sw_port_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_port_tx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SW_MAX_MCAST);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sw_mcast_key);
	__type(value, struct sw_mcast_out);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_mcast SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SW_UNKNOWN_RING);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sw_unknown SEC(".maps");

static __always_inline int verdict(__u32 reason, int action)
{
	__u64 *n = bpf_map_lookup_elem(&sw_verdicts, &reason);

	if (n)
		*n += 1;   /* per CPU: no other writer */
	return action;
}

static __always_inline void event(__u32 e)
{
	__u32 key = SW_V_COUNT + e;
	__u64 *n = bpf_map_lookup_elem(&sw_verdicts, &key);

	if (n)
		*n += 1;
}

/* Out of a port, counted by its slot. bpf_redirect: the frame takes the port's transmit (a
 * veth hands it to its peer's backlog). bpf_redirect_peer, straight onto a veth peer's
 * ingress, was measured slower on this path (bench/README.md), so it is not used. */
static __always_inline int forward(struct __sk_buff *skb, __u32 reason, __u32 ifindex)
{
	struct sw_port *out = bpf_map_lookup_elem(&sw_ports, &ifindex);
	struct sw_port_stats *st;
	__u32 slot;

	if (out) {
		slot = out->slot;
		st = bpf_map_lookup_elem(&sw_port_tx, &slot);
		if (st) {
			st->frames += 1;   /* per CPU: no other writer */
			st->bytes += skb->len;
		}
	}
	return verdict(reason, bpf_redirect(ifindex, 0));
}

static __always_inline int is_nd_type(__u8 type)
{
	return type >= 133 && type <= 137;   /* RFC 4861 §4.1-4.5 */
}

/* ICMPv6 directly after the fixed IPv6 header: ND messages carry no extension headers. */
static __always_inline int is_nd(void *l3, void *data_end)
{
	struct ipv6hdr *ip6 = l3;
	struct icmp6hdr *icmp;

	if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_ICMPV6)
		return 0;
	icmp = (void *)(ip6 + 1);
	if ((void *)icmp + 1 > data_end)
		return 0;
	return is_nd_type(icmp->icmp6_type);
}

/* murmur3's finalizer on hash ^ salt: a bijection, so distinct salts decorrelate the picks. */
static __always_inline __u32 mix(__u32 h, __u32 salt)
{
	h ^= salt;
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/* The destination's own group, when fabricd's fault matrix gave it one: the edge's, else
 * its pod's. Looked up only while there are any (cfg->dests), so a fabric without faults pays
 * nothing for it. */
static __always_inline struct sw_up_group *dest_group(const __u8 *dst)
{
	__u32 key = SW_DEST_KEY(sw_pmac_pod(dst), sw_pmac_position(dst));
	struct sw_up_group *up = bpf_map_lookup_elem(&sw_up_dest, &key);

	if (up)
		return up;
	key = SW_DEST_KEY(sw_pmac_pod(dst), SW_DEST_POD);
	return bpf_map_lookup_elem(&sw_up_dest, &key);
}

/* ECMP up, counted as reason (or as avoiding, when a plain forward goes around a fault). */
static __always_inline int go_up_as(struct __sk_buff *skb, const struct sw_config *cfg,
				    const __u8 *dst, __u32 reason)
{
	__u32 zero = 0, idx;
	struct sw_up_group *up = 0;

	if (cfg->dests && (up = dest_group(dst)) && reason == SW_V_FORWARDED_UP)
		reason = SW_V_FORWARDED_UP_AVOIDING;
	if (!up)
		up = bpf_map_lookup_elem(&sw_up, &zero);
	if (!up || up->count == 0 || up->count > SW_MAX_UP)
		return verdict(SW_V_DROPPED_NO_UPLINK, TC_ACT_SHOT);
	idx = (__u32)(((__u64)mix(bpf_get_hash_recalc(skb), cfg->salt) * up->count) >> 32);
	if (idx >= SW_MAX_UP)
		return verdict(SW_V_DROPPED_NO_UPLINK, TC_ACT_SHOT);
	return forward(skb, reason, up->ifindex[idx]);
}

static __always_inline int go_up(struct __sk_buff *skb, const struct sw_config *cfg,
				 __u8 in_dir, const __u8 *dst)
{
	if (in_dir == SW_DIR_UP)
		return verdict(SW_V_DROPPED_UP_TO_UP, TC_ACT_SHOT);
	return go_up_as(skb, cfg, dst, SW_V_FORWARDED_UP);
}

static __always_inline int route_core(struct __sk_buff *skb, const __u8 *dst)
{
	__u32 pod = sw_pmac_pod(dst);
	__u32 *port = bpf_map_lookup_elem(&sw_pods, &pod);

	if (!port)
		return verdict(SW_V_DROPPED_NO_ROUTE, TC_ACT_SHOT);
	return forward(skb, SW_V_FORWARDED_DOWN, *port);
}

static __always_inline int route_aggregation(struct __sk_buff *skb, const struct sw_config *cfg,
					     __u8 in_dir, const __u8 *dst)
{
	__u32 pos = sw_pmac_position(dst);
	__u32 *port;

	if (sw_pmac_pod(dst) != cfg->pod)
		return go_up(skb, cfg, in_dir, dst);
	port = bpf_map_lookup_elem(&sw_positions, &pos);
	if (!port)
		return verdict(SW_V_DROPPED_NO_ROUTE, TC_ACT_SHOT);
	return forward(skb, SW_V_FORWARDED_DOWN, *port);
}

static __always_inline int is_own_edge(const struct sw_config *cfg, const __u8 *pmac)
{
	return sw_pmac_pod(pmac) == cfg->pod && sw_pmac_position(pmac) == cfg->position;
}

/* The sender of a data frame to a moved PMAC, for switchd to tell (at most once a ms per
 * moved PMAC: a flow at line rate does not flood the ring). */
static __always_inline void trap(struct __sk_buff *skb, struct sw_moved *m, struct ethhdr *eth,
				 void *data_end)
{
	__u64 now = bpf_ktime_get_ns();
	struct sw_trapped *t;
	__u16 proto = bpf_ntohs(eth->h_proto);

	if (now - m->trapped_ns < SW_MOVED_TRAP_NS) {
		event(SW_E_TRAP_LIMITED);
		return;
	}
	m->trapped_ns = now;
	t = bpf_ringbuf_reserve(&sw_trapped, sizeof(*t), 0);
	if (!t) {
		event(SW_E_TRAP_RING_FULL);
		return;
	}
	__builtin_memset(t, 0, sizeof(*t));
	__builtin_memcpy(t->dst, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(t->src, eth->h_source, ETH_ALEN);
	t->ifindex = skb->ingress_ifindex;
	if (proto == ETH_P_IP) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) <= data_end) {
			t->family = 4;
			__builtin_memcpy(t->ip, &ip->saddr, 4);
		}
	} else if (proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) <= data_end) {
			t->family = 6;
			__builtin_memcpy(t->ip, &ip6->saddr, 16);
		}
	}
	bpf_ringbuf_submit(t, 0);
	event(SW_E_TRAPPED);
}

/* A PMAC of ours with no host: its host moved (sw_moved), or there is no route. */
static __always_inline int route_moved(struct __sk_buff *skb, const struct sw_config *cfg,
				       struct ethhdr *eth, void *data_end, int control)
{
	struct sw_mac key = {};
	struct sw_moved *m;
	struct sw_host *host;

	__builtin_memcpy(key.addr, eth->h_dest, ETH_ALEN);
	m = bpf_map_lookup_elem(&sw_moved, &key);
	if (!m)
		return verdict(SW_V_DROPPED_NO_ROUTE, TC_ACT_SHOT);
	if (!control)
		trap(skb, m, eth, data_end);
	__builtin_memcpy(eth->h_dest, m->pmac, ETH_ALEN);
	if (!is_own_edge(cfg, m->pmac))
		return go_up_as(skb, cfg, m->pmac, SW_V_FORWARDED_MOVED);
	__builtin_memcpy(key.addr, m->pmac, ETH_ALEN);
	host = bpf_map_lookup_elem(&sw_hosts, &key);
	if (!host)
		return verdict(SW_V_DROPPED_NO_ROUTE, TC_ACT_SHOT);
	__builtin_memcpy(eth->h_dest, host->amac, ETH_ALEN);
	return forward(skb, SW_V_FORWARDED_MOVED, host->ifindex);
}

/* The last hop: the host gets its own AMAC as destination, never a PMAC (p. 43). */
static __always_inline int route_edge(struct __sk_buff *skb, const struct sw_config *cfg,
				      __u8 in_dir, struct ethhdr *eth, void *data_end, int control)
{
	struct sw_mac key = {};
	struct sw_host *host;

	if (!is_own_edge(cfg, eth->h_dest))
		return go_up(skb, cfg, in_dir, eth->h_dest);
	__builtin_memcpy(key.addr, eth->h_dest, ETH_ALEN);
	host = bpf_map_lookup_elem(&sw_hosts, &key);
	if (!host)
		return route_moved(skb, cfg, eth, data_end, control);
	__builtin_memcpy(eth->h_dest, host->amac, ETH_ALEN);
	return forward(skb, SW_V_TO_HOST, host->ifindex);
}

static __always_inline void report_unknown(__u32 ifindex, const __u8 *amac)
{
	struct sw_unknown_src *ev = bpf_ringbuf_reserve(&sw_unknown, sizeof(*ev), 0);

	if (!ev)
		return;   /* ring full: switchd is behind; the counter still moves */
	ev->ifindex = ifindex;
	__builtin_memcpy(ev->amac, amac, ETH_ALEN);
	ev->pad[0] = ev->pad[1] = 0;
	bpf_ringbuf_submit(ev, 0);
}

/* Ingress from a host: source AMAC -> PMAC, only for the port the host was learnt on. The
 * entry's seen second is the host's liveness for switchd's aging: the coarse clock (the last
 * tick, no clock read) is enough for a timeout in seconds, and the store is skipped while the
 * second is the same, so the shared cache line is written once a second, not per packet. */
static __always_inline int rewrite_source(struct __sk_buff *skb, struct ethhdr *eth)
{
	struct sw_mac key = {};
	struct sw_amac_entry *e;
	__u32 now;

	__builtin_memcpy(key.addr, eth->h_source, ETH_ALEN);
	e = bpf_map_lookup_elem(&sw_amacs, &key);
	if (!e || e->ifindex != skb->ingress_ifindex) {
		report_unknown(skb->ingress_ifindex, eth->h_source);
		return -1;
	}
	now = (__u32)(bpf_ktime_get_coarse_ns() / 1000000000);
	if (e->seen != now)
		e->seen = now;
	__builtin_memcpy(eth->h_source, e->pmac, ETH_ALEN);
	return 0;
}

/* RFC 2236 2, RFC 3376 4: IGMP is IP protocol 2. */
static __always_inline int is_igmp(void *l3, void *data_end)
{
	struct iphdr *ip = l3;

	return (void *)(ip + 1) <= data_end && ip->protocol == IPPROTO_IGMP;
}

/* RFC 2710 3, RFC 3810 5: MLD is ICMPv6 (130-132, 143) behind a Hop-by-Hop Options header
 * with Router Alert. Only that header is looked through: the hosts' stacks send no other. */
static __always_inline int is_mld(void *l3, void *data_end)
{
	struct ipv6hdr *ip6 = l3;
	__u8 *hbh = (void *)(ip6 + 1), *icmp;
	__u8 t;

	if ((void *)(hbh + 2) > data_end || ip6->nexthdr != 0 || hbh[0] != IPPROTO_ICMPV6)
		return 0;
	icmp = hbh + ((__u32)hbh[1] + 1) * 8;
	if ((void *)(icmp + 1) > data_end)
		return 0;
	t = icmp[0];
	return (t >= 130 && t <= 132) || t == 143;
}

struct mcast_loop {
	struct __sk_buff *skb;
	struct sw_mcast_out *out;
	__u32 in;
	__u32 copies;
};

/* One copy out of out->ifindex[i], unless that is where the frame came from. */
static long mcast_copy(__u32 i, void *arg)
{
	struct mcast_loop *c = arg;
	struct sw_port_stats *st;
	struct sw_port *port;
	__u32 ifindex, slot;

	if (i >= SW_MCAST_MAX_OUT)
		return 1;
	ifindex = c->out->ifindex[i];
	if (ifindex == c->in)
		return 0;
	if (bpf_clone_redirect(c->skb, ifindex, 0) < 0)
		return 0;
	c->copies++;
	port = bpf_map_lookup_elem(&sw_ports, &ifindex);
	if (port) {
		slot = port->slot;
		st = bpf_map_lookup_elem(&sw_port_tx, &slot);
		if (st) {
			st->frames += 1;   /* per CPU: no other writer */
			st->bytes += c->skb->len;
		}
	}
	return 0;
}

/* The group of an IP multicast frame into key->group, or -1: not IP, not multicast, or a
 * link-local group (RFC 5771 224.0.0.0/24; RFC 4291 2.7 scopes 0-2), which stays on the link. */
static __always_inline int mcast_group(struct ethhdr *eth, void *data_end, struct sw_mcast_key *key)
{
	__u16 proto = bpf_ntohs(eth->h_proto);

	if (proto == ETH_P_IP) {
		struct iphdr *ip = (void *)(eth + 1);
		__u8 *d;

		if ((void *)(ip + 1) > data_end)
			return -1;
		d = (__u8 *)&ip->daddr;
		if ((d[0] & 0xf0) != 0xe0 || (d[0] == 224 && d[1] == 0 && d[2] == 0))
			return -1;
		key->group[10] = key->group[11] = 0xff;
		__builtin_memcpy(&key->group[12], d, 4);
		return 0;
	}
	if (proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		if (ip6->daddr.s6_addr[0] != 0xff || (ip6->daddr.s6_addr[1] & 0x0f) <= 2)
			return -1;
		__builtin_memcpy(key->group, ip6->daddr.s6_addr, 16);
		return 0;
	}
	return -1;
}

static __always_inline int route_mcast(struct __sk_buff *skb, const struct sw_config *cfg,
				       const struct sw_port *port, struct ethhdr *eth,
				       void *data_end)
{
	struct sw_mcast_key key = {};
	struct mcast_loop loop = {};
	__u32 reason = SW_V_MCAST_COPIES;
	__u64 *n;

	if (mcast_group(eth, data_end, &key) < 0)
		return verdict(SW_V_DROPPED_MULTICAST, TC_ACT_SHOT);
	key.in_ifindex = skb->ingress_ifindex;
	if (cfg->level == SW_LEVEL_EDGE && port->dir == SW_DIR_HOST) {
		if (rewrite_source(skb, eth) < 0)
			return verdict(SW_V_DROPPED_UNKNOWN_SRC, TC_ACT_SHOT);
		key.in_ifindex = SW_MCAST_FROM_HOSTS;
	}
	loop.out = bpf_map_lookup_elem(&sw_mcast, &key);
	if (!loop.out)
		return verdict(SW_V_DROPPED_MCAST_UNKNOWN, TC_ACT_SHOT);
	loop.skb = skb;
	loop.in = skb->ingress_ifindex;
	bpf_loop(loop.out->count < SW_MCAST_MAX_OUT ? loop.out->count : SW_MCAST_MAX_OUT,
		 mcast_copy, &loop, 0);
	n = bpf_map_lookup_elem(&sw_verdicts, &reason);
	if (n)
		*n += loop.copies;
	return verdict(SW_V_MCAST_FORWARDED, TC_ACT_SHOT);
}

SEC("tc")
int sw_ingress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u32 zero = 0, ifindex = skb->ingress_ifindex;
	struct sw_config *cfg;
	struct sw_port *port;
	__u16 proto;
	int control = 0;

	port = bpf_map_lookup_elem(&sw_ports, &ifindex);
	if (port && (port->flags & SW_PORT_F_FAULT))
		return verdict(SW_V_DROPPED_FAULT, TC_ACT_SHOT);
	if ((void *)(eth + 1) > data_end)
		return verdict(SW_V_DROPPED_MALFORMED, TC_ACT_SHOT);
	proto = bpf_ntohs(eth->h_proto);
	if (proto == SW_ETH_P_LDP)
		return verdict(SW_V_PUNTED_LDP, TC_ACT_OK);
	/* ARP and ND are switchd's, but for unicast from a switch port: an announcement on its
	 * way to a host, forwarded like data (a switch's own neighbours speak LDP only) */
	if (proto == ETH_P_ARP || (proto == ETH_P_IPV6 && is_nd(eth + 1, data_end))) {
		if (!port || port->dir == SW_DIR_HOST || (eth->h_dest[0] & 1))
			return verdict(proto == ETH_P_ARP ? SW_V_PUNTED_ARP : SW_V_PUNTED_ND,
				       TC_ACT_OK);
		control = 1;
	}
	/* IGMP and MLD go to multicast addresses: a unicast frame is not parsed for them */
	if ((eth->h_dest[0] & 1) && ((proto == ETH_P_IP && is_igmp(eth + 1, data_end)) ||
				     (proto == ETH_P_IPV6 && is_mld(eth + 1, data_end))))
		return verdict(SW_V_PUNTED_MCAST, TC_ACT_OK);

	cfg = bpf_map_lookup_elem(&sw_config, &zero);
	if (!cfg || !cfg->located)
		return verdict(SW_V_DROPPED_NOT_LOCATED, TC_ACT_SHOT);
	if (!port)
		return verdict(SW_V_DROPPED_UNKNOWN_PORT, TC_ACT_SHOT);
	if (eth->h_dest[0] & 1)
		return route_mcast(skb, cfg, port, eth, data_end);

	switch (cfg->level) {
	case SW_LEVEL_CORE:
		return route_core(skb, eth->h_dest);
	case SW_LEVEL_AGGREGATION:
		return route_aggregation(skb, cfg, port->dir, eth->h_dest);
	case SW_LEVEL_EDGE:
		if (port->dir == SW_DIR_HOST && rewrite_source(skb, eth) < 0)
			return verdict(SW_V_DROPPED_UNKNOWN_SRC, TC_ACT_SHOT);
		return route_edge(skb, cfg, port->dir, eth, data_end, control);
	}
	return verdict(SW_V_DROPPED_NO_ROUTE, TC_ACT_SHOT);
}
