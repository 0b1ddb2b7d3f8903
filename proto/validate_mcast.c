/*
 * validate_mcast.c - what the multicast messages (fabric.proto, "Multicast") must satisfy:
 * groups routable multicast addresses of 4 or 16 bytes, ports 8 bits, every list within its
 * WIRE_MAX_* bound (wire.h), a group or port not named twice where the receiver would act on
 * it twice. No I/O: the fuzzer links it with validate.c.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "validate_mcast.h"
#include "wire.h"

static _Thread_local char why_buf[96];

static int bad(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EBADMSG;
}

static int too_many(const char **why, const char *msg, size_t n, const char *what, size_t max)
{
	snprintf(why_buf, sizeof(why_buf), "%s with %zu %s, at most %zu", msg, n, what, max);
	return bad(why, why_buf);
}

/* RFC 5771 224/4, RFC 4291 2.7 ff00::/8; link-local scopes are not the fabric's to route */
static bool group_ok(const ProtobufCBinaryData *g)
{
	if (g->len == 4)
		return (g->data[0] & 0xf0) == 0xe0 &&
		       !(g->data[0] == 224 && g->data[1] == 0 && g->data[2] == 0);
	return g->len == 16 && g->data[0] == 0xff && (g->data[1] & 0x0f) > 2;
}

static bool ports_ok(const uint32_t *p, size_t n, bool distinct)
{
	uint8_t seen[32] = { 0 };

	for (size_t i = 0; i < n; i++) {
		if (p[i] > 0xff || (distinct && (seen[p[i] >> 3] & (1u << (p[i] & 7)))))
			return false;
		seen[p[i] >> 3] |= (uint8_t)(1u << (p[i] & 7));
	}
	return true;
}

static bool names_ok(const char *s)
{
	return s && wire_id_check(s) == 0;
}

static int check_entry(const L2f__McastEntry *e, const char **why)
{
	if (!group_ok(&e->group))
		return bad(why, "McastEntry group not a routable multicast address");
	if ((e->has_in_port && e->in_port > 0xff) || (e->switch_name && !names_ok(e->switch_name)))
		return bad(why, "McastEntry in port over 8 bits, or a bad switch name");
	if (e->n_out_ports > WIRE_MAX_SWITCH_PORTS)
		return too_many(why, "McastEntry", e->n_out_ports, "ports", WIRE_MAX_SWITCH_PORTS);
	if (!ports_ok(e->out_ports, e->n_out_ports, true))
		return bad(why, "McastEntry out port over 8 bits or named twice");
	for (size_t i = 0; e->has_in_port && i < e->n_out_ports; i++)
		if (e->out_ports[i] == e->in_port)
			return bad(why, "McastEntry sends back out of its in port");
	return 0;
}

int check_mcast_members(const L2f__McastMembership *m, const char **why)
{
	if (m->n_groups > WIRE_MAX_MCAST_GROUPS)
		return too_many(why, "McastMembership", m->n_groups, "groups", WIRE_MAX_MCAST_GROUPS);
	for (size_t i = 0; i < m->n_groups; i++) {
		const L2f__McastGroup *g = m->groups[i];

		if (!group_ok(&g->group))
			return bad(why, "McastGroup group not a routable multicast address");
		if (g->n_ports == 0 || g->n_ports > WIRE_MAX_SWITCH_PORTS)
			return bad(why, "McastGroup with no port, or more than a switch has");
		if (!ports_ok(g->ports, g->n_ports, true))
			return bad(why, "McastGroup port over 8 bits or named twice");
		for (size_t j = 0; j < i; j++)
			if (m->groups[j]->group.len == g->group.len &&
			    !memcmp(m->groups[j]->group.data, g->group.data, g->group.len))
				return bad(why, "McastMembership names a group twice");
	}
	return 0;
}

int check_mcast_table(const L2f__McastTable *t, const char **why)
{
	int ret;

	if (t->n_entries > WIRE_MAX_MCAST_ENTRIES)
		return too_many(why, "McastTable", t->n_entries, "entries", WIRE_MAX_MCAST_ENTRIES);
	for (size_t i = 0; i < t->n_entries; i++)
		if ((ret = check_entry(t->entries[i], why)))
			return ret;
	return 0;
}

int check_mcast_groups(L2f__McastGroupInfo *const *g, size_t n, const char **why)
{
	int ret;

	if (n > WIRE_MAX_MCAST_FABRIC)
		return too_many(why, "Reply", n, "groups", WIRE_MAX_MCAST_FABRIC);
	for (size_t i = 0; i < n; i++) {
		if (!group_ok(&g[i]->group))
			return bad(why, "McastGroupInfo group not a routable multicast address");
		if (g[i]->n_members > WIRE_MAX_MCAST_ENTRIES || g[i]->n_tree > WIRE_MAX_MCAST_ENTRIES ||
		    g[i]->n_cores > WIRE_MAX_SWITCHES)
			return bad(why, "McastGroupInfo with a list over its bound");
		for (size_t k = 0; k < g[i]->n_members; k++)
			if (g[i]->members[k]->port > 0xff || !names_ok(g[i]->members[k]->switch_name))
				return bad(why, "McastMember port over 8 bits or a bad switch name");
		for (size_t k = 0; k < g[i]->n_cores; k++)
			if (!names_ok(g[i]->cores[k]))
				return bad(why, "McastGroupInfo core name bad");
		for (size_t k = 0; k < g[i]->n_tree; k++)
			if ((ret = check_entry(g[i]->tree[k], why)))
				return ret;
	}
	return 0;
}
