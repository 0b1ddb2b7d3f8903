/*
 * validate.c - what a decoded Envelope must satisfy beyond protobuf's own rules (wire_validate)
 * and the decoder every received frame goes through (wire_decode). Each check names what it
 * rejects: the reason ends up in the log line of the session it closed. Every list is held to
 * its limit (WIRE_MAX_*) before its entries are looked at, so that no receiver clips one, and
 * a list that names an entry twice is refused where its receiver would act on it twice. No
 * I/O here, so the fuzzer links this file alone with the generated code.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "validate_mcast.h"
#include "wire.h"

static int bad(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EBADMSG;
}

/* A reason with numbers in it. Per thread, so that sessions in another thread cannot rewrite
 * it; the caller logs it before it validates the next message. */
static _Thread_local char why_buf[96];

static int badf(const char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int badf(const char **why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why_buf, sizeof(why_buf), fmt, ap);
	va_end(ap);
	return bad(why, why_buf);
}

/* "Fdb with 9 VTEPs, at most 8" */
static int too_many(const char **why, const char *msg, size_t n, const char *what, size_t max)
{
	return badf(why, "%s with %zu %s, at most %zu", msg, n, what, max);
}

static bool mac_ok(const ProtobufCBinaryData *b)
{
	return b->len == 6;
}

static bool addr_ok(const ProtobufCBinaryData *b)
{
	return b->len == 4 || b->len == 16;
}

/* ids 1..WIRE_ID_MAX bytes of printable ASCII other than space (they end up in log lines as
 * one word) */
static bool id_ok(const char *s)
{
	size_t n;

	if (!s)
		return false;
	for (n = 0; s[n]; n++)
		if (n >= WIRE_ID_MAX || s[n] <= 0x20 || s[n] >= 0x7f)
			return false;
	return n > 0;
}

int wire_id_check(const char *s)
{
	return id_ok(s) ? 0 : -1;
}

static bool addrs_ok(const ProtobufCBinaryData *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!addr_ok(&v[i]))
			return false;
	return true;
}

static bool vnis_ok(const uint32_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] > VNI_MAX)
			return false;
	return true;
}

static bool bin_eq(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* Pairwise, for the short lists (at most WIRE_MAX_IPS entries): cheaper than sorting. */
static bool bins_distinct(const ProtobufCBinaryData *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (bin_eq(&v[i], &v[j]))
				return false;
	return true;
}

static int bin_ptr_cmp(const void *x, const void *y)
{
	const ProtobufCBinaryData *a = *(const ProtobufCBinaryData *const *)x;
	const ProtobufCBinaryData *b = *(const ProtobufCBinaryData *const *)y;

	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(a->data, b->data, a->len);
}

/* A flood list, up to WIRE_MAX_FLOOD_VTEPS long: sorted (pointers to its entries, on the
 * stack, since the message is not ours to reorder), n log n. */
static bool vteps_distinct(const ProtobufCBinaryData *v, size_t n)
{
	const ProtobufCBinaryData *p[WIRE_MAX_FLOOD_VTEPS];

	if (n <= WIRE_MAX_IPS)
		return bins_distinct(v, n);
	for (size_t i = 0; i < n; i++)
		p[i] = &v[i];
	qsort(p, n, sizeof(p[0]), bin_ptr_cmp);
	for (size_t i = 1; i < n; i++)
		if (bin_eq(p[i - 1], p[i]))
			return false;
	return true;
}

static int u32_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

/* Whether a VNI appears twice in v (at most WIRE_MAX_VNIS long), and which: a sorted copy. */
static bool vni_twice(const uint32_t *v, size_t n, uint32_t *dup)
{
	uint32_t s[WIRE_MAX_VNIS];

	if (n < 2)
		return false;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), u32_cmp);
	for (size_t i = 1; i < n; i++) {
		if (s[i] == s[i - 1]) {
			*dup = s[i];
			return true;
		}
	}
	return false;
}

static bool ids_distinct(char *const *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(v[i], v[j]) == 0)
				return false;
	return true;
}

static int check_hello(const L2f__Hello *h, const char **why)
{
	uint32_t dup;

	if (!h)
		return bad(why, "Hello missing");
	if (h->role < L2F__ROLE__ROLE_VTEPD || h->role > L2F__ROLE__ROLE_FABRICD)
		return bad(why, "Hello with an unknown role");
	if (!id_ok(h->id))
		return bad(why, "Hello id empty, too long or not printable");
	if (h->has_vtep && !addr_ok(&h->vtep))
		return bad(why, "Hello VTEP address not 4 or 16 bytes");
	if (h->n_vnis > WIRE_MAX_VNIS)
		return too_many(why, "Hello", h->n_vnis, "VNIs", WIRE_MAX_VNIS);
	if (!vnis_ok(h->vnis, h->n_vnis))
		return bad(why, "Hello VNI over 2^24-1");
	/* The segments an agent serves are a set: fabricd would send the flood list of a VNI
	 * named twice twice in every table. */
	if (vni_twice(h->vnis, h->n_vnis, &dup))
		return badf(why, "Hello names VNI %u twice", dup);
	return 0;
}

static int check_fdb(const L2f__Fdb *f, const char **why)
{
	if (!f)
		return bad(why, "Fdb missing");
	if (f->vni > VNI_MAX)
		return bad(why, "Fdb VNI over 2^24-1");
	if (!mac_ok(&f->mac))
		return bad(why, "Fdb MAC not 6 bytes");
	if (f->n_vteps > WIRE_MAX_PORT_HOSTS)
		return too_many(why, "Fdb", f->n_vteps, "VTEPs", WIRE_MAX_PORT_HOSTS);
	if (f->n_ips > WIRE_MAX_IPS)
		return too_many(why, "Fdb", f->n_ips, "IPs", WIRE_MAX_IPS);
	if (!addrs_ok(f->vteps, f->n_vteps))
		return bad(why, "Fdb VTEP address not 4 or 16 bytes");
	if (!addrs_ok(f->ips, f->n_ips))
		return bad(why, "Fdb IP address not 4 or 16 bytes");
	/* A binding with exactly one VTEP is a unicast entry: the same VTEP twice would turn a
	 * plain port into what looks like an HA port, and vtepd would install nothing. */
	if (!bins_distinct(f->vteps, f->n_vteps))
		return bad(why, "Fdb names a VTEP twice");
	if (!bins_distinct(f->ips, f->n_ips))
		return bad(why, "Fdb names an IP twice");
	return 0;
}

static int check_fdbs(L2f__Fdb *const *v, size_t n, const char **why)
{
	for (size_t i = 0; i < n; i++) {
		int ret = check_fdb(v[i], why);

		if (ret)
			return ret;
	}
	return 0;
}

static int check_floods(L2f__Flood *const *v, size_t n, const char **why)
{
	for (size_t i = 0; i < n; i++) {
		if (!v[i])
			return bad(why, "Flood missing");
		if (v[i]->vni > VNI_MAX)
			return bad(why, "Flood VNI over 2^24-1");
		if (v[i]->n_vteps > WIRE_MAX_FLOOD_VTEPS)
			return too_many(why, "Flood", v[i]->n_vteps, "VTEPs", WIRE_MAX_FLOOD_VTEPS);
		if (!addrs_ok(v[i]->vteps, v[i]->n_vteps))
			return bad(why, "Flood VTEP address not 4 or 16 bytes");
		/* each is one remote of the kernel's flood entry: a second would be refused */
		if (!vteps_distinct(v[i]->vteps, v[i]->n_vteps))
			return bad(why, "Flood names a VTEP twice");
	}
	return 0;
}

static int check_update(const L2f__Update *u, const char **why)
{
	int ret;

	if (!u)
		return bad(why, "Update missing");
	if (u->n_add > WIRE_MAX_ENTRIES)
		return too_many(why, "Update", u->n_add, "entries to add", WIRE_MAX_ENTRIES);
	if (u->n_del > WIRE_MAX_ENTRIES)
		return too_many(why, "Update", u->n_del, "entries to delete", WIRE_MAX_ENTRIES);
	if (u->n_flood > WIRE_MAX_VNIS)
		return too_many(why, "Update", u->n_flood, "flood lists", WIRE_MAX_VNIS);
	ret = check_fdbs(u->add, u->n_add, why);
	if (!ret)
		ret = check_fdbs(u->del, u->n_del, why);
	if (!ret)
		ret = check_floods(u->flood, u->n_flood, why);
	return ret;
}

static int check_learned(const L2f__Learned *l, const char **why)
{
	if (!l)
		return bad(why, "Learned missing");
	if (l->vni > VNI_MAX)
		return bad(why, "Learned VNI over 2^24-1");
	if (!mac_ok(&l->mac))
		return bad(why, "Learned MAC not 6 bytes");
	if (l->n_ips > WIRE_MAX_IPS)
		return too_many(why, "Learned", l->n_ips, "IPs", WIRE_MAX_IPS);
	if (!addrs_ok(l->ips, l->n_ips))
		return bad(why, "Learned IP address not 4 or 16 bytes");
	if (!bins_distinct(l->ips, l->n_ips))
		return bad(why, "Learned names an IP twice");
	return 0;
}

static int check_report(const L2f__Report *r, const char **why)
{
	if (!r)
		return bad(why, "Report missing");
	if (r->n_entries > WIRE_MAX_ENTRIES)
		return too_many(why, "Report", r->n_entries, "entries", WIRE_MAX_ENTRIES);
	for (size_t i = 0; i < r->n_entries; i++) {
		int ret = check_learned(r->entries[i], why);

		if (ret)
			return ret;
	}
	return 0;
}

static int check_master(const L2f__Master *m, const char **why)
{
	if (!m)
		return bad(why, "Master missing");
	if (m->vni > VNI_MAX)
		return bad(why, "Master VNI over 2^24-1");
	if (!mac_ok(&m->mac))
		return bad(why, "Master MAC not 6 bytes");
	if (!id_ok(m->host))
		return bad(why, "Master host empty, too long or not printable");
	return 0;
}

static int check_port(const L2f__Port *p, const char **why)
{
	if (!p)
		return bad(why, "Port missing");
	if (p->name && !id_ok(p->name))
		return bad(why, "Port name empty, too long or not printable");
	if (p->vni > VNI_MAX)
		return bad(why, "Port VNI over 2^24-1");
	if (!mac_ok(&p->mac))
		return bad(why, "Port MAC not 6 bytes");
	if (p->n_ips > WIRE_MAX_IPS)
		return too_many(why, "Port", p->n_ips, "IPs", WIRE_MAX_IPS);
	if (p->n_hosts > WIRE_MAX_PORT_HOSTS)
		return too_many(why, "Port", p->n_hosts, "hosts", WIRE_MAX_PORT_HOSTS);
	if (!addrs_ok(p->ips, p->n_ips))
		return bad(why, "Port IP address not 4 or 16 bytes");
	for (size_t i = 0; i < p->n_hosts; i++)
		if (!id_ok(p->hosts[i]))
			return bad(why, "Port host empty, too long or not printable");
	if (p->has_mode && p->mode != L2F__HA_MODE__HA_TRACK && p->mode != L2F__HA_MODE__HA_FLOOD)
		return bad(why, "Port with an unknown HA mode");
	if (p->master && !id_ok(p->master))
		return bad(why, "Port master empty, too long or not printable");
	if (!bins_distinct(p->ips, p->n_ips))
		return bad(why, "Port names an IP twice");
	/* a host twice would be one instance of an HA port counted as two (its VTEP twice in
	 * the port's Fdb) */
	if (!ids_distinct(p->hosts, p->n_hosts))
		return bad(why, "Port names a host twice");
	return 0;
}

static int check_request(const L2f__Request *r, const char **why)
{
	if (!r)
		return bad(why, "Request missing");
	switch (r->op_case) {
	case L2F__REQUEST__OP_PORT_ADD:
		return check_port(r->port_add, why);
	case L2F__REQUEST__OP_PORT_DEL:
		return check_port(r->port_del, why);
	case L2F__REQUEST__OP_PORT_MASTER:
		return check_master(r->port_master, why);
	case L2F__REQUEST__OP_FDB_OF_HOST:
		return id_ok(r->fdb_of_host) ? 0 :
		       bad(why, "Request host empty, too long or not printable");
	case L2F__REQUEST__OP_PORT_LIST:
	case L2F__REQUEST__OP_HOST_LIST:
	case L2F__REQUEST__OP_STATUS:
	case L2F__REQUEST__OP_VIP_STATUS:
	case L2F__REQUEST__OP_AGENT_STATUS:
	case L2F__REQUEST__OP_AGENT_FDB:
	case L2F__REQUEST__OP_TOPO:
	case L2F__REQUEST__OP_PL_HOSTS:
	case L2F__REQUEST__OP_SWITCH_STATUS:
	case L2F__REQUEST__OP_MCAST_GROUPS:
		return 0;
	default:
		return bad(why, "Request with no op");
	}
}

static int check_host(const L2f__Host *h, const char **why)
{
	if (!h)
		return bad(why, "Host missing");
	if (!id_ok(h->id))
		return bad(why, "Host id empty, too long or not printable");
	if (h->has_vtep && !addr_ok(&h->vtep))
		return bad(why, "Host VTEP address not 4 or 16 bytes");
	if (h->n_vnis > WIRE_MAX_VNIS)
		return too_many(why, "Host", h->n_vnis, "VNIs", WIRE_MAX_VNIS);
	if (!vnis_ok(h->vnis, h->n_vnis))
		return bad(why, "Host VNI over 2^24-1");
	return 0;
}

static int check_reply_counts(const L2f__Reply *r, const char **why)
{
	if (r->n_ports > WIRE_MAX_ENTRIES)
		return too_many(why, "Reply", r->n_ports, "ports", WIRE_MAX_ENTRIES);
	if (r->n_hosts > WIRE_MAX_HOSTS)
		return too_many(why, "Reply", r->n_hosts, "hosts", WIRE_MAX_HOSTS);
	if (r->n_fdb > WIRE_MAX_ENTRIES)
		return too_many(why, "Reply", r->n_fdb, "fdb entries", WIRE_MAX_ENTRIES);
	if (r->n_flood > WIRE_MAX_VNIS)
		return too_many(why, "Reply", r->n_flood, "flood lists", WIRE_MAX_VNIS);
	return 0;
}

static int check_counters(L2f__Counter *const *v, size_t n, const char *what,
			  const char **why)
{
	if (n > WIRE_MAX_COUNTERS)
		return too_many(why, "Status", n, what, WIRE_MAX_COUNTERS);
	for (size_t i = 0; i < n; i++)
		if (!v[i] || !id_ok(v[i]->name))
			return bad(why, "Status counter name empty, too long or not printable");
	return 0;
}

static int check_status(const L2f__Status *st, const char **why)
{
	int ret;

	if (!id_ok(st->id))
		return bad(why, "Status id empty, too long or not printable");
	ret = check_counters(st->counters, st->n_counters, "counters", why);
	return ret ? ret : check_counters(st->limits, st->n_limits, "limits", why);
}

/* vipd's status: every list within its bound, every address and MAC of its length. */
static int check_vip_status(const L2f__VipStatus *v, const char **why)
{
	if (!v->node)
		return bad(why, "VipStatus without a node");
	if (v->n_interfaces > WIRE_MAX_VIP_GROUPS)
		return too_many(why, "VipStatus", v->n_interfaces, "interfaces", WIRE_MAX_VIP_GROUPS);
	if (v->n_groups > WIRE_MAX_VIP_GROUPS)
		return too_many(why, "VipStatus", v->n_groups, "groups", WIRE_MAX_VIP_GROUPS);
	for (size_t i = 0; i < v->n_interfaces; i++) {
		const L2f__VipInterface *f = v->interfaces[i];

		if (f->mac.len != 6 || (f->has_primary_ipv4 && !addr_ok(&f->primary_ipv4)) ||
		    (f->has_link_local_ipv6 && !addr_ok(&f->link_local_ipv6)))
			return bad(why, "VipInterface address or MAC of a wrong length");
		if (f->n_drops > WIRE_MAX_COUNTERS)
			return too_many(why, "VipInterface", f->n_drops, "drops", WIRE_MAX_COUNTERS);
	}
	for (size_t i = 0; i < v->n_groups; i++) {
		const L2f__VipGroup *g = v->groups[i];

		if (g->n_addresses > WIRE_MAX_VIP_ADDRS)
			return too_many(why, "VipGroup", g->n_addresses, "addresses",
					WIRE_MAX_VIP_ADDRS);
		if (g->n_instances > 2)
			return too_many(why, "VipGroup", g->n_instances, "instances", 2);
		if (!addrs_ok(g->addresses, g->n_addresses) ||
		    (g->virtual_mac && g->virtual_mac->mac.len != 6))
			return bad(why, "VipGroup address or MAC of a wrong length");
		for (size_t k = 0; k < g->n_instances; k++)
			if (g->instances[k]->has_master && !addr_ok(&g->instances[k]->master))
				return bad(why, "VipInstance master not 4 or 16 bytes");
	}
	return 0;
}

/* Every string of a list present (warnings, errors: one per segment at most). */
static int check_texts(char *const *v, size_t n, const char *msg, const char *what,
		       const char **why)
{
	if (n > WIRE_MAX_VNIS)
		return too_many(why, msg, n, what, WIRE_MAX_VNIS);
	for (size_t i = 0; i < n; i++)
		if (!v[i])
			return badf(why, "%s with an empty %s entry", msg, what);
	return 0;
}

/* vtepd's status: segments and their flood lists within the Hello's bounds, addresses and
 * MACs of their lengths. */
static int check_agent_status(const L2f__AgentStatus *a, const char **why)
{
	int ret;

	if (!id_ok(a->id))
		return bad(why, "AgentStatus id empty, too long or not printable");
	if ((a->has_vtep && !addr_ok(&a->vtep)) || !a->fabricd || !a->fabricd->address ||
	    !a->counters || !a->counters->reconcile || !a->counters->learner)
		return bad(why, "AgentStatus VTEP of a wrong length, or a part missing");
	if (a->n_segments > WIRE_MAX_VNIS)
		return too_many(why, "AgentStatus", a->n_segments, "segments", WIRE_MAX_VNIS);
	for (size_t i = 0; i < a->n_segments; i++) {
		const L2f__AgentSegment *s = a->segments[i];

		if (s->vni > VNI_MAX || !s->bridge)
			return bad(why, "AgentSegment VNI over 2^24-1, or no bridge");
		if (s->n_flood > WIRE_MAX_FLOOD_VTEPS)
			return too_many(why, "AgentSegment", s->n_flood, "flood VTEPs",
					WIRE_MAX_FLOOD_VTEPS);
		if ((s->has_bridge_mac && !mac_ok(&s->bridge_mac)) ||
		    !addrs_ok(s->flood, s->n_flood))
			return bad(why, "AgentSegment address or MAC of a wrong length");
	}
	ret = check_texts(a->warnings, a->n_warnings, "AgentStatus", "warnings", why);
	return ret ? ret : check_counters(a->counters->learner->drops,
					  a->counters->learner->n_drops, "drops", why);
}

/* vtepd's entries, each list within the bound of an Update, every field of its length. */
static int check_agent_fdb(const L2f__AgentFdb *f, const char **why)
{
	if (!id_ok(f->id))
		return bad(why, "AgentFdb id empty, too long or not printable");
	if (f->has_vtep && !addr_ok(&f->vtep))
		return bad(why, "AgentFdb VTEP not 4 or 16 bytes");
	if (f->n_flood > WIRE_MAX_ENTRIES || f->n_fdb > WIRE_MAX_ENTRIES ||
	    f->n_neigh > WIRE_MAX_ENTRIES || f->n_local > WIRE_MAX_ENTRIES)
		return badf(why, "AgentFdb with more than %u entries in a list", WIRE_MAX_ENTRIES);
	for (size_t i = 0; i < f->n_flood; i++)
		if (f->flood[i]->vni > VNI_MAX || !addr_ok(&f->flood[i]->dst))
			return bad(why, "AgentFlood VNI over 2^24-1 or address of a wrong length");
	for (size_t i = 0; i < f->n_fdb; i++) {
		const L2f__AgentFdbEntry *e = f->fdb[i];

		if (e->vni > VNI_MAX || !mac_ok(&e->mac) || !addr_ok(&e->dst))
			return bad(why, "AgentFdbEntry VNI, MAC or address out of bounds");
	}
	for (size_t i = 0; i < f->n_neigh; i++) {
		const L2f__AgentNeigh *e = f->neigh[i];

		if (e->vni > VNI_MAX || !mac_ok(&e->mac) || !addr_ok(&e->ip))
			return bad(why, "AgentNeigh VNI, MAC or address out of bounds");
	}
	for (size_t i = 0; i < f->n_local; i++) {
		const L2f__AgentLocal *e = f->local[i];

		if (e->n_ips > WIRE_MAX_IPS)
			return too_many(why, "AgentLocal", e->n_ips, "IPs", WIRE_MAX_IPS);
		if (e->vni > VNI_MAX || !mac_ok(&e->mac) || !addrs_ok(e->ips, e->n_ips))
			return bad(why, "AgentLocal VNI, MAC or address out of bounds");
	}
	return check_texts(f->errors, f->n_errors, "AgentFdb", "errors", why);
}

/* --- PortLand ------------------------------------------------------------------------------ */

static bool level_ok(int l)
{
	return l >= L2F__SWITCH_LEVEL__LEVEL_UNKNOWN && l <= L2F__SWITCH_LEVEL__LEVEL_CORE;
}

static bool text_ok(const char *t)
{
	return t && strnlen(t, WIRE_MAX_TEXT + 1) <= WIRE_MAX_TEXT;
}

static int check_location(const L2f__SwitchLocation *l, const char **why)
{
	if (!mac_ok(&l->switch_id) || !level_ok(l->level))
		return bad(why, "SwitchLocation switch id not 6 bytes, or an unknown level");
	if ((l->has_pod && l->pod > 0xffff) || (l->has_position && l->position > 0xff))
		return bad(why, "SwitchLocation pod over 16 bits or position over 8");
	if ((l->why && !text_ok(l->why)) || (l->name && !id_ok(l->name)))
		return bad(why, "SwitchLocation why too long, or name empty, too long or not printable");
	if (l->n_ports > WIRE_MAX_SWITCH_PORTS)
		return too_many(why, "SwitchLocation", l->n_ports, "ports", WIRE_MAX_SWITCH_PORTS);
	if (l->n_miswirings > WIRE_MAX_SWITCH_PORTS)
		return too_many(why, "SwitchLocation", l->n_miswirings, "miswirings",
				WIRE_MAX_SWITCH_PORTS);
	for (size_t i = 0; i < l->n_ports; i++) {
		const L2f__SwitchPort *p = l->ports[i];

		if (p->port > 0xff || p->dir < L2F__PORT_DIRECTION__DIR_UNKNOWN ||
		    p->dir > L2F__PORT_DIRECTION__DIR_DISCONNECTED ||
		    (p->has_peer_id && !mac_ok(&p->peer_id)) ||
		    (p->has_peer_port && p->peer_port > 0xff) ||
		    (p->has_peer_level && !level_ok(p->peer_level)) ||
		    (p->name && !id_ok(p->name)))
			return bad(why, "SwitchPort number, direction, peer or name out of bounds");
	}
	for (size_t i = 0; i < l->n_miswirings; i++) {
		const L2f__Miswiring *m = l->miswirings[i];

		if (m->port > 0xff || !text_ok(m->reason) || (m->has_peer_id && !mac_ok(&m->peer_id)))
			return bad(why, "Miswiring port, reason or peer out of bounds");
	}
	return 0;
}

static int check_host_binding(const L2f__HostBinding *h, const char **why)
{
	if (!addr_ok(&h->ip) || !mac_ok(&h->amac) || !mac_ok(&h->pmac) || h->port > 0xff ||
	    (h->edge && !id_ok(h->edge)) || (h->moved_from && !id_ok(h->moved_from)) ||
	    (h->has_moved_from_pmac && !mac_ok(&h->moved_from_pmac)))
		return bad(why, "HostBinding address, MAC, port or edge out of bounds");
	return 0;
}

static int check_avoid(const L2f__UplinkAvoidTable *t, const char **why)
{
	if (t->n_entries > WIRE_MAX_PL_BATCH)
		return badf(why, "UplinkAvoidTable with more than %u entries", WIRE_MAX_PL_BATCH);
	for (size_t i = 0; i < t->n_entries; i++) {
		const L2f__UplinkAvoid *a = t->entries[i];

		if (a->pod > 0xffff || (a->has_position && a->position > 0xff))
			return bad(why, "UplinkAvoid pod over 16 bits or position over 8");
		if (a->n_avoid == 0)
			return bad(why, "UplinkAvoid with no neighbour to avoid");
		if (a->n_avoid > WIRE_MAX_SWITCH_PORTS)
			return too_many(why, "UplinkAvoid", a->n_avoid, "neighbours",
					WIRE_MAX_SWITCH_PORTS);
		for (size_t k = 0; k < a->n_avoid; k++)
			if (!mac_ok(&a->avoid[k]))
				return bad(why, "UplinkAvoid neighbour id not 6 bytes");
	}
	return 0;
}

static int check_portland(const L2f__Portland *p, const char **why)
{
	int ret = 0;

	if (p->n_hosts_add > WIRE_MAX_PL_BATCH || p->n_hosts_del > WIRE_MAX_PL_BATCH ||
	    p->n_floods > WIRE_MAX_PL_BATCH || p->n_misses > WIRE_MAX_PL_BATCH ||
	    p->n_moved > WIRE_MAX_PL_BATCH ||
	    (p->queries && p->queries->n_ipv4 + p->queries->ipv6.len / 16 > WIRE_MAX_PL_BATCH) ||
	    (p->answers && p->answers->n_pmac4 + p->answers->n_pmac6 > WIRE_MAX_PL_BATCH))
		return badf(why, "Portland with more than %u items in a list", WIRE_MAX_PL_BATCH);
	if (p->has_pod_assign && p->pod_assign > 0xffff)
		return bad(why, "Portland pod over 16 bits");
	if (p->avoid && (ret = check_avoid(p->avoid, why)))
		return ret;
	if (p->mcast_members && (ret = check_mcast_members(p->mcast_members, why)))
		return ret;
	if (p->mcast_table && (ret = check_mcast_table(p->mcast_table, why)))
		return ret;
	if (p->location && (ret = check_location(p->location, why)))
		return ret;
	for (size_t i = 0; i < p->n_hosts_add; i++)
		if ((ret = check_host_binding(p->hosts_add[i], why)))
			return ret;
	if (!addrs_ok(p->hosts_del, p->n_hosts_del))
		return bad(why, "Portland hosts_del address not 4 or 16 bytes");
	if (p->queries && p->queries->ipv6.len % 16)
		return bad(why, "ArpBatch IPv6 addresses not 16 bytes each");
	for (size_t i = 0; p->answers && i < p->answers->n_pmac4 + p->answers->n_pmac6; i++) {
		uint64_t v = i < p->answers->n_pmac4 ? p->answers->pmac4[i]
						      : p->answers->pmac6[i - p->answers->n_pmac4];

		if (v >> 48)
			return bad(why, "ArpBatchAnswer PMAC over 48 bits");
	}
	for (size_t i = 0; i < p->n_floods + p->n_misses; i++) {
		const L2f__ArpMiss *m = i < p->n_floods ? p->floods[i] : p->misses[i - p->n_floods];

		if (!addr_ok(&m->ip) || !addr_ok(&m->sender_ip) || !mac_ok(&m->sender_pmac))
			return bad(why, "ArpMiss address or MAC of a wrong length");
	}
	for (size_t i = 0; i < p->n_moved; i++) {
		const L2f__HostMoved *m = p->moved[i];

		if (!addr_ok(&m->ip) || !mac_ok(&m->old_pmac) || !mac_ok(&m->new_pmac) ||
		    !mac_ok(&m->amac))
			return bad(why, "HostMoved address or MAC of a wrong length");
	}
	return 0;
}

static int check_reply(const L2f__Reply *r, const char **why)
{
	int ret;

	if (!r)
		return bad(why, "Reply missing");
	ret = check_reply_counts(r, why);
	for (size_t i = 0; !ret && i < r->n_ports; i++)
		ret = check_port(r->ports[i], why);
	for (size_t i = 0; !ret && i < r->n_hosts; i++)
		ret = check_host(r->hosts[i], why);
	if (!ret)
		ret = check_fdbs(r->fdb, r->n_fdb, why);
	if (!ret)
		ret = check_floods(r->flood, r->n_flood, why);
	if (!ret && r->status)
		ret = check_status(r->status, why);
	if (!ret && r->vip_status)
		ret = check_vip_status(r->vip_status, why);
	if (!ret && r->agent_status)
		ret = check_agent_status(r->agent_status, why);
	if (!ret && r->agent_fdb)
		ret = check_agent_fdb(r->agent_fdb, why);
	if (!ret && r->n_switches > WIRE_MAX_SWITCHES)
		ret = too_many(why, "Reply", r->n_switches, "switches", WIRE_MAX_SWITCHES);
	for (size_t i = 0; !ret && i < r->n_switches; i++)
		ret = check_location(r->switches[i], why);
	if (!ret && r->switch_status) {
		const L2f__SwitchStatus *st = r->switch_status;

		if (!id_ok(st->id) || !st->location || !st->fabricd ||
		    (st->control_interface && !id_ok(st->control_interface)))
			ret = bad(why, "SwitchStatus id, location, fabricd or interface missing or bad");
		if (!ret)
			ret = check_location(st->location, why);
		if (!ret)
			ret = check_counters(st->counters, st->n_counters, "counters", why);
		if (!ret && st->n_hosts > WIRE_MAX_PL_BATCH)
			ret = too_many(why, "SwitchStatus", st->n_hosts, "hosts",
				       WIRE_MAX_PL_BATCH);
		for (size_t i = 0; !ret && i < st->n_hosts; i++)
			ret = check_host_binding(st->hosts[i], why);
	}
	if (!ret && r->n_pl_hosts > WIRE_MAX_ENTRIES)
		ret = too_many(why, "Reply", r->n_pl_hosts, "hosts", WIRE_MAX_ENTRIES);
	for (size_t i = 0; !ret && i < r->n_pl_hosts; i++)
		ret = check_host_binding(r->pl_hosts[i], why);
	if (!ret)
		ret = check_mcast_groups(r->mcast_groups, r->n_mcast_groups, why);
	return ret;
}

/* protobuf-c takes field number 0 (illegal) as an unknown field when its tag is spelled in two
 * bytes, but refuses the one-byte form it writes back: such a message could not be relayed.
 * Walks m and every sub-message present through the descriptors. */
static bool field_numbers_ok(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;

	for (unsigned int i = 0; i < m->n_unknown_fields; i++)
		if (m->unknown_fields[i].tag == 0)
			return false;
	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		ProtobufCMessage *const *v;
		size_t n = 1;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		/* a oneof's members share one union: only the member set is a message */
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)(base + f->quantifier_offset);
			v = *(ProtobufCMessage *const *const *)(base + f->offset);
		} else {
			v = (ProtobufCMessage *const *)(base + f->offset);
		}
		for (size_t j = 0; j < n; j++)
			if (v[j] && !field_numbers_ok(v[j]))
				return false;
	}
	return true;
}

int wire_validate(const L2f__Envelope *env, const char **why)
{
	if (!env)
		return bad(why, "Envelope missing");
	if (!field_numbers_ok(&env->base))
		return bad(why, "field number 0");
	switch (env->msg_case) {
	case L2F__ENVELOPE__MSG_HELLO:
		return check_hello(env->hello, why);
	case L2F__ENVELOPE__MSG_UPDATE:
		return check_update(env->update, why);
	case L2F__ENVELOPE__MSG_REPORT:
		return check_report(env->report, why);
	case L2F__ENVELOPE__MSG_MASTER:
		return check_master(env->master, why);
	case L2F__ENVELOPE__MSG_REQUEST:
		return check_request(env->request, why);
	case L2F__ENVELOPE__MSG_REPLY:
		return check_reply(env->reply, why);
	case L2F__ENVELOPE__MSG_PORTLAND:
		return check_portland(env->portland, why);
	default:
		return bad(why, "Envelope with no message");
	}
}

void wire_ipaddr(struct ipaddr *a, const ProtobufCBinaryData *b)
{
	memset(a, 0, sizeof(*a));
	a->af = b->len == 4 ? AF_INET : AF_INET6;
	memcpy(a->b, b->data, b->len == 4 ? 4 : 16);
}

int wire_decode(const uint8_t *buf, size_t len, L2f__Envelope **out, const char **why)
{
	L2f__Envelope *env;
	int ret;

	env = l2f__envelope__unpack(NULL, len, buf);
	if (!env)
		return bad(why, "frame does not decode");
	ret = wire_validate(env, why);
	if (ret) {
		l2f__envelope__free_unpacked(env, NULL);
		return ret;
	}
	*out = env;
	return 0;
}
