/*
 * config.c - vipd's configuration file: loads the YAML (libyaml document API) into a
 * struct vipd_cfg, checks every value and the file as a whole (unique group names, VIPs and
 * (interface, vrid) pairs; node in nodes), fills in defaults and auto priorities, and
 * prints the result back as normalized YAML for `vipd -n`.
 *
 * Keys go through two tables, top level and group: each entry names the key, the parser of
 * its value, where the value goes and its range. Values are read by their text alone
 * (quoting and tags change nothing). Every error names the file and the 1-based line of the
 * node at fault; the caller's struct is written only on success.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <yaml.h>
#include "config.h"
#include "wire.h"

#define MAX_KEYS 16

struct ctx {
	const char *path;
	yaml_document_t *doc;
	struct vipd_cfg *c;            /* being built */
	char *err;
	size_t errlen;
	int node_line;                 /* line of `node`, 0 when defaulted */
	int nodes_line;                /* line of `nodes`, 0 when absent */
	int fabric_line;               /* line of `fabric`, 0 when absent */
};

struct key;
typedef int (*parse_fn)(struct ctx *x, yaml_node_t *n, void *base, const struct key *k);

struct key {
	const char *name;
	parse_fn parse;
	size_t off;                    /* of the field in the struct at base */
	uint32_t min, max, multiple;   /* integers only */
	bool required;
};

/* Writes "PATH:LINE: problem" ("PATH: problem" when line is 0) and returns -1. */
__attribute__((format(printf, 3, 4)))
static int fail(struct ctx *x, int line, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (line > 0)
		len = snprintf(x->err, x->errlen, "%s:%d: ", x->path, line);
	else
		len = snprintf(x->err, x->errlen, "%s: ", x->path);
	if (len >= 0 && (size_t)len < x->errlen) {
		va_start(ap, fmt);
		vsnprintf(x->err + len, x->errlen - len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int line_of(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static yaml_node_t *item(struct ctx *x, const yaml_node_item_t *it)
{
	return yaml_document_get_node(x->doc, *it);
}

static const char *type_name(const yaml_node_t *n)
{
	if (n->type == YAML_SCALAR_NODE && !n->data.scalar.length)
		return "empty";
	return n->type == YAML_SCALAR_NODE ? "a scalar" :
	       n->type == YAML_SEQUENCE_NODE ? "a sequence" : "a mapping";
}

/* The text of a scalar with a value, or NULL after saying what is wrong with n. */
static const char *scalar(struct ctx *x, const yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SCALAR_NODE)
		fail(x, line_of(n), "%s must be a scalar, not %s", what, type_name(n));
	else if (!n->data.scalar.length)
		fail(x, line_of(n), "%s has no value", what);
	else if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		fail(x, line_of(n), "%s contains a NUL character", what);
	else
		return (const char *)n->data.scalar.value;
	return NULL;
}

static int check_seq(struct ctx *x, const yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return fail(x, line_of(n), "%s must be a sequence, not %s", what, type_name(n));
	return 0;
}

/* Node and group names: 1..63 characters of NAME_CHARS. NULL when s is one. */
static const char *name_problem(const char *s)
{
	if (strlen(s) >= VIPD_NAME_MAX)
		return "is longer than 63 characters";
	if (!*s || strspn(s, NAME_CHARS) != strlen(s))
		return "has characters outside [A-Za-z0-9_.-]";
	return NULL;
}

static int parse_name_into(struct ctx *x, yaml_node_t *n, char *dst, const char *what)
{
	const char *s = scalar(x, n, what);
	const char *why;

	if (!s)
		return -1;
	why = name_problem(s);
	if (why)
		return fail(x, line_of(n), "%s '%s' %s", what, s, why);
	strcpy(dst, s);
	return 0;
}

static int parse_name(struct ctx *x, yaml_node_t *n, void *base, const struct key *k)
{
	return parse_name_into(x, n, (char *)base + k->off, k->name);
}

static int parse_node(struct ctx *x, yaml_node_t *n, void *base, const struct key *k)
{
	x->node_line = line_of(n);
	return parse_name(x, n, base, k);
}

/* The rules of the kernel's dev_valid_name(). */
static int parse_ifname(struct ctx *x, yaml_node_t *n, void *base, const struct key *k)
{
	const char *s = scalar(x, n, k->name);

	if (!s)
		return -1;
	if (strlen(s) >= IF_NAMESIZE)
		return fail(x, line_of(n), "interface name '%s' is longer than %d characters", s,
			    IF_NAMESIZE - 1);
	if (!strcmp(s, ".") || !strcmp(s, "..") || strpbrk(s, "/: \t\n\v\f\r"))
		return fail(x, line_of(n), "interface name '%s' is not valid", s);
	strcpy((char *)base + k->off, s);
	return 0;
}

static int parse_socket(struct ctx *x, yaml_node_t *n, void *base, const struct key *k)
{
	const size_t max = sizeof(x->c->control_socket) - 1;
	const char *s = scalar(x, n, k->name);

	if (!s)
		return -1;
	if (s[0] != '/')
		return fail(x, line_of(n), "control_socket '%s' is not an absolute path", s);
	if (strlen(s) > max)
		return fail(x, line_of(n), "control_socket is %zu bytes long, at most %zu allowed",
			    strlen(s), max);
	strcpy((char *)base + k->off, s);
	return 0;
}

/* Decimal only: no '+', no leading zero (YAML 1.1 would read 010 as octal), no suffix.
 * A negative or too long number is out of range rather than junk. */
static int parse_uint(struct ctx *x, yaml_node_t *n, const struct key *k, uint32_t *out)
{
	const char *s = scalar(x, n, k->name);
	const char *p;
	uint64_t v = 0;

	if (!s)
		return -1;
	p = s[0] == '-' ? s + 1 : s;
	if (!*p || strspn(p, "0123456789") != strlen(p) || (p[0] == '0' && p[1]))
		return fail(x, line_of(n), "%s '%s' is not a decimal integer", k->name, s);
	for (; *p && v <= UINT32_MAX; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (s[0] == '-' || v < k->min || v > k->max)
		return fail(x, line_of(n), "%s %s out of range %u-%u", k->name, s, k->min,
			    k->max);
	if (k->multiple && v % k->multiple)
		return fail(x, line_of(n), "%s %s is not a multiple of %u", k->name, s,
			    k->multiple);
	*out = (uint32_t)v;
	return 0;
}

static int parse_u32(struct ctx *x, yaml_node_t *n, void *base, const struct key *k)
{
	return parse_uint(x, n, k, (uint32_t *)((char *)base + k->off));
}

static int parse_u8(struct ctx *x, yaml_node_t *n, void *base, const struct key *k)
{
	uint32_t v;

	if (parse_uint(x, n, k, &v) < 0)
		return -1;
	*((uint8_t *)base + k->off) = (uint8_t)v;
	return 0;
}

/* 1..254 or auto; the number for auto is filled in once the whole file is read. */
static int parse_priority(struct ctx *x, yaml_node_t *n, void *base, const struct key *k)
{
	struct vip_group_cfg *g = base;

	g->priority_auto = n->type == YAML_SCALAR_NODE &&
			   !strcmp((const char *)n->data.scalar.value, "auto");
	return g->priority_auto ? 0 : parse_u8(x, n, base, k);
}

static int parse_bool(struct ctx *x, yaml_node_t *n, void *base, const struct key *k)
{
	const char *s = scalar(x, n, k->name);
	bool *dst = (bool *)((char *)base + k->off);

	if (!s)
		return -1;
	if (strcmp(s, "true") && strcmp(s, "false"))
		return fail(x, line_of(n), "%s '%s' is not a boolean (true or false)", k->name,
			    s);
	*dst = !strcmp(s, "true");
	return 0;
}

static bool v4_in(const struct ipaddr *a, uint32_t net, int prefix)
{
	return (ntohl(a->v4.s_addr) & ~0u << (32 - prefix)) == net;
}

/* Why a cannot be a VIP, or NULL when it can. */
static const char *vip_unfit(const struct ipaddr *a)
{
	if (a->af == AF_INET) {
		if (v4_in(a, 0, 32))
			return "unspecified";
		if (v4_in(a, 0x7f000000, 8))
			return "loopback";
		if (v4_in(a, 0xe0000000, 4))
			return "multicast";
		if (v4_in(a, 0xffffffff, 32))
			return "the broadcast address";
		return NULL;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(&a->v6))
		return "unspecified";
	if (IN6_IS_ADDR_LOOPBACK(&a->v6))
		return "loopback";
	if (IN6_IS_ADDR_MULTICAST(&a->v6))
		return "multicast";
	return NULL;
}

/* The group among those already parsed that holds a, or NULL. */
static const struct vip_group_cfg *addr_owner(const struct vipd_cfg *c,
					      const struct ipaddr *a)
{
	for (size_t i = 0; i < c->ngroups; i++)
		for (size_t j = 0; j < c->groups[i].naddrs; j++)
			if (ipaddr_eq(&c->groups[i].addrs[j], a))
				return &c->groups[i];
	return NULL;
}

static int parse_addr(struct ctx *x, yaml_node_t *n, struct vip_group_cfg *g)
{
	const struct vip_group_cfg *owner;
	const char *s = scalar(x, n, "address");
	struct ipaddr a;
	const char *why;

	if (!s)
		return -1;
	if (g->naddrs == VIPD_MAX_ADDRS)
		return fail(x, line_of(n), "more than %d addresses in a group", VIPD_MAX_ADDRS);
	if (ipaddr_parse(s, &a) < 0)
		return fail(x, line_of(n), "address '%s' is not an IPv4 or IPv6 address", s);
	why = vip_unfit(&a);
	if (why)
		return fail(x, line_of(n), "address %s is %s", s, why);
	for (size_t j = 0; j < g->naddrs; j++)
		if (ipaddr_eq(&g->addrs[j], &a))
			return fail(x, line_of(n), "address %s is listed twice", s);
	owner = addr_owner(x->c, &a);
	if (owner)
		return fail(x, line_of(n), "address %s is already in group '%s' (line %d)", s,
			    owner->name, owner->line);
	g->addrs[g->naddrs++] = a;
	return 0;
}

static int parse_addrs(struct ctx *x, yaml_node_t *n, void *base, const struct key *k)
{
	struct vip_group_cfg *g = base;
	yaml_node_item_t *it;

	if (check_seq(x, n, k->name) < 0)
		return -1;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++)
		if (parse_addr(x, item(x, it), g) < 0)
			return -1;
	if (!g->naddrs)
		return fail(x, line_of(n), "addresses is empty");
	return 0;
}

static int parse_nodes(struct ctx *x, yaml_node_t *n, void *base, const struct key *k)
{
	struct vipd_cfg *c = base;
	yaml_node_item_t *it;

	if (check_seq(x, n, k->name) < 0)
		return -1;
	x->nodes_line = line_of(n);
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *nn = item(x, it);

		if (c->nnodes == VIPD_MAX_NODES)
			return fail(x, line_of(nn), "more than %d nodes", VIPD_MAX_NODES);
		if (parse_name_into(x, nn, c->nodes[c->nnodes], "node name") < 0)
			return -1;
		for (size_t j = 0; j < c->nnodes; j++)
			if (!strcmp(c->nodes[j], c->nodes[c->nnodes]))
				return fail(x, line_of(nn), "node '%s' is listed twice in nodes",
					    c->nodes[j]);
		c->nnodes++;
	}
	return 0;
}

static int parse_vmac(struct ctx *x, yaml_node_t *n, void *base, const struct key *k)
{
	struct vip_group_cfg *g = base;
	const char *s = scalar(x, n, k->name);

	if (!s)
		return -1;
	if (mac_parse(s, &g->vmac) < 0)
		return fail(x, line_of(n), "%s '%s' is not a MAC address (xx:xx:xx:xx:xx:xx)",
			    k->name, s);
	if (mac_is_multicast(&g->vmac) || mac_eq(&g->vmac, &mac_zero))
		return fail(x, line_of(n), "%s %s is not a unicast MAC address", k->name, s);
	g->has_vmac = true;
	return 0;
}

static int parse_connect(struct ctx *x, yaml_node_t *n, void *base, const struct key *k)
{
	const size_t max = sizeof(x->c->fabric.connect) - 1;
	const char *s = scalar(x, n, k->name);

	if (!s)
		return -1;
	if (strlen(s) > max)
		return fail(x, line_of(n), "%s is %zu bytes long, at most %zu allowed", k->name,
			    strlen(s), max);
	if (wire_addr_check(s) < 0)
		return fail(x, line_of(n), "%s '%s' is not unix:/ABSOLUTE/PATH, IPV4:PORT or "
			    "[IPV6]:PORT", k->name, s);
	strcpy((char *)base + k->off, s);
	return 0;
}

/* A file the daemon reads at start (a certificate, a key): an absolute path. */
static int parse_file(struct ctx *x, yaml_node_t *n, void *base, const struct key *k)
{
	const size_t max = sizeof(x->c->fabric.ca) - 1;
	const char *s = scalar(x, n, k->name);

	if (!s)
		return -1;
	if (s[0] != '/')
		return fail(x, line_of(n), "%s '%s' is not an absolute path", k->name, s);
	if (strlen(s) > max)
		return fail(x, line_of(n), "%s is %zu bytes long, at most %zu allowed", k->name,
			    strlen(s), max);
	strcpy((char *)base + k->off, s);
	return 0;
}

static const struct key fabric_keys[] = {
	{ .name = "connect", .parse = parse_connect, .off = offsetof(struct vipd_cfg, fabric.connect),
	  .required = true },
	{ .name = "host", .parse = parse_name, .off = offsetof(struct vipd_cfg, fabric.host) },
	{ .name = "ca", .parse = parse_file, .off = offsetof(struct vipd_cfg, fabric.ca) },
	{ .name = "cert", .parse = parse_file, .off = offsetof(struct vipd_cfg, fabric.cert) },
	{ .name = "key", .parse = parse_file, .off = offsetof(struct vipd_cfg, fabric.key) },
	{ 0 },
};

static int parse_map(struct ctx *x, yaml_node_t *n, void *base, const struct key *keys,
		     const char *where, int *seen);

static int parse_fabric(struct ctx *x, yaml_node_t *n, void *base, const struct key *k)
{
	int seen[MAX_KEYS] = { 0 };

	if (n->type != YAML_MAPPING_NODE)
		return fail(x, line_of(n), "fabric must be a mapping, not %s", type_name(n));
	if (parse_map(x, n, base, fabric_keys, "fabric", seen) < 0)
		return -1;
	if (!seen[0])
		return fail(x, line_of(n), "missing 'connect' in fabric");
	x->fabric_line = line_of(n);
	if (!strncmp(x->c->fabric.connect, WIRE_UNIX_PREFIX, strlen(WIRE_UNIX_PREFIX))) {
		if (seen[2] || seen[3] || seen[4])
			return fail(x, line_of(n), "fabric: ca, cert and key are for a TCP connect "
				    "(a Unix socket is trusted by its file mode)");
	} else if (!seen[2] || !seen[3] || !seen[4]) {
		return fail(x, line_of(n), "fabric: a TCP connect is mutual TLS: it needs ca, "
			    "cert and key");
	}
	return 0;
}

enum { GK_NAME, GK_INTERFACE, GK_VRID, GK_PRIORITY, GK_ADVERT, GK_PREEMPT, GK_ASSIGN,
       GK_ANNOUNCE_COUNT, GK_ANNOUNCE_INTERVAL, GK_REFRESH, GK_ADDRESSES, GK_VMAC, GK_VMAC_IF,
       GK_FABRIC_VNI, GK_N };

#define GKEY(k, fn, field, ...) \
	{ .name = k, .parse = fn, .off = offsetof(struct vip_group_cfg, field), __VA_ARGS__ }

static const struct key group_keys[GK_N + 1] = {
	[GK_NAME] = GKEY("name", parse_name, name, .required = true),
	[GK_INTERFACE] = GKEY("interface", parse_ifname, ifname, .required = true),
	[GK_VRID] = GKEY("vrid", parse_u8, vrid, .min = 1, .max = 255, .required = true),
	/* 255 belongs to the address owner (RFC 5798 5.2.4), which vipd never is */
	[GK_PRIORITY] = GKEY("priority", parse_priority, priority, .min = 1, .max = 254),
	/* RFC 5798 5.2.7: 12 bits of centiseconds */
	[GK_ADVERT] = GKEY("advert_interval_ms", parse_u32, advert_interval_ms,
			   .min = 10, .max = 40950, .multiple = 10),
	[GK_PREEMPT] = GKEY("preempt", parse_bool, preempt),
	[GK_ASSIGN] = GKEY("assign", parse_bool, assign),
	[GK_ANNOUNCE_COUNT] = GKEY("announce_count", parse_u32, announce_count,
				   .min = 1, .max = 100),
	[GK_ANNOUNCE_INTERVAL] = GKEY("announce_interval_ms", parse_u32, announce_interval_ms,
				      .min = 10, .max = 60000),
	[GK_REFRESH] = GKEY("refresh_interval_s", parse_u32, refresh_interval_s,
			    .min = 0, .max = 86400),
	[GK_ADDRESSES] = GKEY("addresses", parse_addrs, addrs, .required = true),
	[GK_VMAC] = GKEY("virtual_mac", parse_vmac, vmac),
	[GK_VMAC_IF] = GKEY("virtual_interface", parse_ifname, vmac_ifname),
	[GK_FABRIC_VNI] = GKEY("fabric_vni", parse_u32, fabric_vni, .min = 1, .max = 0xffffff),
};
_Static_assert(GK_N <= MAX_KEYS, "MAX_KEYS too small");

/* Walks a mapping through a key table, noting in seen[] the line of each key found;
 * unknown and duplicate keys are errors. */
static int parse_map(struct ctx *x, yaml_node_t *n, void *base, const struct key *keys,
		     const char *where, int *seen)
{
	yaml_node_pair_t *p;

	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(x->doc, p->key);
		const char *name;
		int i;

		if (kn->type != YAML_SCALAR_NODE)
			return fail(x, line_of(kn), "a key must be a scalar, not %s",
				    type_name(kn));
		name = (const char *)kn->data.scalar.value;
		for (i = 0; keys[i].name && strcmp(keys[i].name, name); i++)
			;
		if (!keys[i].name)
			return fail(x, line_of(kn), "unknown key '%s' in %s", name, where);
		if (seen[i])
			return fail(x, line_of(kn), "duplicate key '%s' (first at line %d)", name,
				    seen[i]);
		seen[i] = line_of(kn);
		if (keys[i].parse(x, yaml_document_get_node(x->doc, p->value), base, &keys[i]) < 0)
			return -1;
	}
	return 0;
}

/* A parsed group: required keys present, and nothing clashing with the groups before it. */
static int check_group(struct ctx *x, struct vip_group_cfg *g, const int *seen)
{
	for (int i = 0; i < GK_N; i++) {
		if (!group_keys[i].required || seen[i])
			continue;
		if (seen[GK_NAME])
			return fail(x, g->line, "missing '%s' in group '%s'", group_keys[i].name,
				    g->name);
		return fail(x, g->line, "missing '%s' in group", group_keys[i].name);
	}
	if (seen[GK_VMAC_IF] && !g->has_vmac)
		return fail(x, seen[GK_VMAC_IF], "virtual_interface needs virtual_mac");
	if (seen[GK_FABRIC_VNI] && !g->has_vmac)
		return fail(x, seen[GK_FABRIC_VNI],
			    "fabric_vni needs virtual_mac (the HA port's MAC)");
	if (g->has_vmac && !seen[GK_VMAC_IF]) {
		char name[32];
		int len = snprintf(name, sizeof(name), "vr%u-%s", g->vrid, g->ifname);

		if (len > IF_NAMESIZE - 1)
			len = IF_NAMESIZE - 1;
		memcpy(g->vmac_ifname, name, (size_t)len);
		g->vmac_ifname[len] = 0;
	}
	if (g->has_vmac && !strcmp(g->vmac_ifname, g->ifname))
		return fail(x, seen[GK_VMAC_IF] ? seen[GK_VMAC_IF] : g->line,
			    "virtual_interface %s is the group's own interface", g->vmac_ifname);
	for (size_t i = 0; i < x->c->ngroups; i++) {
		const struct vip_group_cfg *o = &x->c->groups[i];

		if (g->has_vmac && (!strcmp(o->ifname, g->vmac_ifname) ||
				    (o->has_vmac && !strcmp(o->vmac_ifname, g->vmac_ifname))))
			return fail(x, seen[GK_VMAC_IF] ? seen[GK_VMAC_IF] : g->line,
				    "virtual_interface %s is already used by group '%s' (line %d)%s",
				    g->vmac_ifname, o->name, o->line,
				    seen[GK_VMAC_IF] ? "" : "; set virtual_interface");
		if (o->has_vmac && !strcmp(o->vmac_ifname, g->ifname))
			return fail(x, seen[GK_INTERFACE],
				    "interface %s is the virtual_interface of group '%s' (line %d)",
				    g->ifname, o->name, o->line);
		if (!strcmp(o->name, g->name))
			return fail(x, seen[GK_NAME], "group name '%s' is already used (line %d)",
				    g->name, o->line);
		/* RFC 5798 5.2.3: a VRID is unique on its interface */
		if (o->vrid == g->vrid && !strcmp(o->ifname, g->ifname))
			return fail(x, seen[GK_VRID],
				    "vrid %u on %s is already used by group '%s' (line %d)",
				    g->vrid, g->ifname, o->name, o->line);
	}
	return 0;
}

static int parse_groups(struct ctx *x, yaml_node_t *n, void *base, const struct key *k)
{
	struct vipd_cfg *c = base;
	yaml_node_item_t *it;
	size_t count;

	if (check_seq(x, n, k->name) < 0)
		return -1;
	count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (count > VIPD_MAX_GROUPS)
		return fail(x, line_of(n), "more than %d groups", VIPD_MAX_GROUPS);
	if (!count)
		return 0;
	c->groups = calloc(count, sizeof(*c->groups));
	if (!c->groups)
		return fail(x, line_of(n), "%s", strerror(ENOMEM));
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *gn = item(x, it);
		struct vip_group_cfg *g = &c->groups[c->ngroups];
		int seen[MAX_KEYS] = { 0 };

		if (gn->type != YAML_MAPPING_NODE)
			return fail(x, line_of(gn), "group must be a mapping, not %s",
				    type_name(gn));
		*g = (struct vip_group_cfg) {
			.priority = 100,
			.advert_interval_ms = 100,
			.preempt = true,
			.announce_count = 3,
			.announce_interval_ms = 1100,
			.refresh_interval_s = 60,
			.line = line_of(gn),
		};
		if (parse_map(x, gn, g, group_keys, "group", seen) < 0 ||
		    check_group(x, g, seen) < 0)
			return -1;
		c->ngroups++;
	}
	return 0;
}

static const struct key top_keys[MAX_KEYS] = {
	{ .name = "node", .parse = parse_node, .off = offsetof(struct vipd_cfg, node) },
	{ .name = "control_socket", .parse = parse_socket,
	  .off = offsetof(struct vipd_cfg, control_socket) },
	{ .name = "nodes", .parse = parse_nodes },
	{ .name = "groups", .parse = parse_groups },
	{ .name = "fabric", .parse = parse_fabric },
};

/* Once the whole file is read: node defaults to the hostname and must be in nodes; then
 * the auto priorities, which depend on all of it. */
static int finish(struct ctx *x)
{
	struct vipd_cfg *c = x->c;
	size_t i;

	if (!c->node[0]) {
		char host[HOST_NAME_MAX + 1] = "";
		const char *why;

		if (gethostname(host, sizeof(host) - 1) < 0)
			return fail(x, 0, "no node given and gethostname failed: %s",
				    strerror(errno));
		why = name_problem(host);
		if (why)
			return fail(x, 0, "no node given and hostname '%s' %s", host, why);
		strcpy(c->node, host);
	}
	for (i = 0; i < c->nnodes && strcmp(c->nodes[i], c->node); i++)
		;
	if (c->nnodes && i == c->nnodes)
		return fail(x, x->node_line ? x->node_line : x->nodes_line,
			    "node '%s' is not in nodes", c->node);
	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i].priority_auto)
			c->groups[i].priority = vipd_auto_priority(c, &c->groups[i]);
	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i].fabric_vni && !c->fabric.connect[0])
			return fail(x, c->groups[i].line,
				    "group '%s' has fabric_vni but there is no fabric section",
				    c->groups[i].name);
	if (c->fabric.connect[0] && !c->fabric.host[0])
		strcpy(c->fabric.host, c->node);
	return 0;
}

static int yaml_fail(struct ctx *x, const yaml_parser_t *parser)
{
	return fail(x, (int)parser->problem_mark.line + 1, "%s",
		    parser->problem ? parser->problem : "YAML error");
}

/* The stream holds one document, whose root is a mapping; an empty stream means every
 * default and no groups. */
static int parse_stream(struct ctx *x, yaml_parser_t *parser)
{
	yaml_node_t *root = yaml_document_get_root_node(x->doc);
	int seen[MAX_KEYS] = { 0 };
	yaml_document_t extra;
	int ret;

	if (root && root->type != YAML_MAPPING_NODE)
		return fail(x, line_of(root), "the top level must be a mapping, not %s",
			    type_name(root));
	if (root && parse_map(x, root, x->c, top_keys, "the top level", seen) < 0)
		return -1;
	if (!yaml_parser_load(parser, &extra))
		return yaml_fail(x, parser);
	root = yaml_document_get_root_node(&extra);
	ret = root ? fail(x, line_of(root), "more than one YAML document") : finish(x);
	yaml_document_delete(&extra);
	return ret;
}

int vipd_cfg_load(const char *path, struct vipd_cfg *out, char *err, size_t errlen)
{
	struct vipd_cfg c = { .control_socket = VIPD_DEFAULT_SOCKET };
	struct ctx x = { .path = path, .c = &c, .err = err, .errlen = errlen };
	yaml_parser_t parser;
	yaml_document_t doc;
	int ret = -1;
	FILE *f;

	f = fopen(path, "rb");
	if (!f)
		return fail(&x, 0, "%s", strerror(errno));
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return fail(&x, 0, "%s", strerror(ENOMEM));
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_fail(&x, &parser);
	} else {
		x.doc = &doc;
		ret = parse_stream(&x, &parser);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	fclose(f);
	if (ret < 0) {
		free(c.groups);
		return -1;
	}
	*out = c;
	return 0;
}

void vipd_cfg_free(struct vipd_cfg *c)
{
	free(c->groups);
	c->groups = NULL;
	c->ngroups = 0;
}
