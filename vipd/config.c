/*
 * config.c - vipd's configuration file: the YAML (lib/conf's loader and key tables) read into
 * a struct vipd_cfg, every value and the file as a whole checked (unique group names, VIPs
 * and (interface, vrid) pairs; node in nodes), defaults and auto priorities filled in; `vipd
 * -n` prints the result back (config_print.c).
 *
 * Keys go through two tables, top level and group. Every error names the file and the
 * 1-based line of the node at fault; the caller's struct is written only on success.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "conf.h"
#include "config.h"
#include "wire.h"

/* What the loader keeps beside the struct it fills. */
struct vload {
	struct vipd_cfg *c;            /* being built */
	int node_line;                 /* line of `node`, 0 when defaulted */
	int nodes_line;                /* line of `nodes`, 0 when absent */
	int fabric_line;               /* line of `fabric`, 0 when absent */
};

#define V(x) ((struct vload *)(x)->user)

static int parse_node(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k)
{
	V(x)->node_line = conf_line(n);
	return conf_parse_name(x, n, base, k);
}

/* 1..254 or auto; the number for auto is filled in once the whole file is read. */
static int parse_priority(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k)
{
	struct vip_group_cfg *g = base;

	g->priority_auto = n->type == YAML_SCALAR_NODE &&
			   !strcmp((const char *)n->data.scalar.value, "auto");
	return g->priority_auto ? 0 : conf_parse_u8(x, n, base, k);
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

static int parse_addr(struct conf_ctx *x, yaml_node_t *n, struct vip_group_cfg *g)
{
	const struct vip_group_cfg *owner;
	const char *s = conf_scalar(x, n, "address");
	struct ipaddr a;
	const char *why;

	if (!s)
		return -1;
	if (g->naddrs == VIPD_MAX_ADDRS)
		return conf_fail(x, conf_line(n), "more than %d addresses in a group", VIPD_MAX_ADDRS);
	if (ipaddr_parse(s, &a) < 0)
		return conf_fail(x, conf_line(n), "address '%s' is not an IPv4 or IPv6 address", s);
	why = vip_unfit(&a);
	if (why)
		return conf_fail(x, conf_line(n), "address %s is %s", s, why);
	for (size_t j = 0; j < g->naddrs; j++)
		if (ipaddr_eq(&g->addrs[j], &a))
			return conf_fail(x, conf_line(n), "address %s is listed twice", s);
	owner = addr_owner(V(x)->c, &a);
	if (owner)
		return conf_fail(x, conf_line(n), "address %s is already in group '%s' (line %d)", s,
			    owner->name, owner->line);
	g->addrs[g->naddrs++] = a;
	return 0;
}

static int parse_addrs(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k)
{
	struct vip_group_cfg *g = base;
	yaml_node_item_t *it;

	if (conf_check_seq(x, n, k->name) < 0)
		return -1;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++)
		if (parse_addr(x, conf_item(x, it), g) < 0)
			return -1;
	if (!g->naddrs)
		return conf_fail(x, conf_line(n), "addresses is empty");
	return 0;
}

static int parse_nodes(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k)
{
	struct vipd_cfg *c = base;
	yaml_node_item_t *it;

	if (conf_check_seq(x, n, k->name) < 0)
		return -1;
	V(x)->nodes_line = conf_line(n);
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *nn = conf_item(x, it);

		if (c->nnodes == VIPD_MAX_NODES)
			return conf_fail(x, conf_line(nn), "more than %d nodes", VIPD_MAX_NODES);
		if (conf_parse_name_into(x, nn, c->nodes[c->nnodes], "node name") < 0)
			return -1;
		for (size_t j = 0; j < c->nnodes; j++)
			if (!strcmp(c->nodes[j], c->nodes[c->nnodes]))
				return conf_fail(x, conf_line(nn), "node '%s' is listed twice in nodes",
					    c->nodes[j]);
		c->nnodes++;
	}
	return 0;
}

static int parse_vmac(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k)
{
	struct vip_group_cfg *g = base;
	const char *s = conf_scalar(x, n, k->name);

	if (!s)
		return -1;
	if (mac_parse(s, &g->vmac) < 0)
		return conf_fail(x, conf_line(n), "%s '%s' is not a MAC address (xx:xx:xx:xx:xx:xx)",
			    k->name, s);
	if (mac_is_multicast(&g->vmac) || mac_eq(&g->vmac, &mac_zero))
		return conf_fail(x, conf_line(n), "%s %s is not a unicast MAC address", k->name, s);
	g->has_vmac = true;
	return 0;
}

#define FKEY(k, fn, field, ...) { .name = k, .parse = fn, .off = offsetof(struct vipd_cfg, field), \
				 .size = sizeof(((struct vipd_cfg *)0)->field), __VA_ARGS__ }

static const struct conf_key fabric_keys[] = {
	FKEY("connect", conf_parse_checked, fabric.connect, .required = true,
	     .check = wire_addr_check, .what = "unix:/ABSOLUTE/PATH, IPV4:PORT or [IPV6]:PORT"),
	FKEY("host", conf_parse_name, fabric.host),
	FKEY("ca", conf_parse_path, fabric.ca),
	FKEY("cert", conf_parse_path, fabric.cert),
	FKEY("key", conf_parse_path, fabric.key),
	{ 0 },
};

static int parse_fabric(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k)
{
	int seen[CONF_MAX_KEYS] = { 0 };

	if (n->type != YAML_MAPPING_NODE)
		return conf_fail(x, conf_line(n), "fabric must be a mapping, not %s", conf_type_name(n));
	if (conf_parse_map(x, n, base, fabric_keys, "fabric", seen) < 0)
		return -1;
	if (!seen[0])
		return conf_fail(x, conf_line(n), "missing 'connect' in fabric");
	V(x)->fabric_line = conf_line(n);
	if (!strncmp(V(x)->c->fabric.connect, WIRE_UNIX_PREFIX, strlen(WIRE_UNIX_PREFIX))) {
		if (seen[2] || seen[3] || seen[4])
			return conf_fail(x, conf_line(n), "fabric: ca, cert and key are for a TCP connect "
				    "(a Unix socket is trusted by its file mode)");
	} else if (!seen[2] || !seen[3] || !seen[4]) {
		return conf_fail(x, conf_line(n), "fabric: a TCP connect is mutual TLS: it needs ca, "
			    "cert and key");
	}
	return 0;
}

enum { GK_NAME, GK_INTERFACE, GK_VRID, GK_PRIORITY, GK_ADVERT, GK_PREEMPT, GK_ASSIGN,
       GK_ANNOUNCE_COUNT, GK_ANNOUNCE_INTERVAL, GK_REFRESH, GK_ADDRESSES, GK_VMAC, GK_VMAC_IF,
       GK_FABRIC_VNI, GK_N };

#define GKEY(k, fn, field, ...) \
	{ .name = k, .parse = fn, .off = offsetof(struct vip_group_cfg, field), \
	  .size = sizeof(((struct vip_group_cfg *)0)->field), __VA_ARGS__ }

static const struct conf_key group_keys[GK_N + 1] = {
	[GK_NAME] = GKEY("name", conf_parse_name, name, .required = true),
	[GK_INTERFACE] = GKEY("interface", conf_parse_ifname, ifname, .required = true),
	[GK_VRID] = GKEY("vrid", conf_parse_u8, vrid, .min = 1, .max = 255, .required = true),
	/* 255 belongs to the address owner (RFC 5798 5.2.4), which vipd never is */
	[GK_PRIORITY] = GKEY("priority", parse_priority, priority, .min = 1, .max = 254),
	/* RFC 5798 5.2.7: 12 bits of centiseconds */
	[GK_ADVERT] = GKEY("advert_interval_ms", conf_parse_u32, advert_interval_ms,
			   .min = 10, .max = 40950, .multiple = 10),
	[GK_PREEMPT] = GKEY("preempt", conf_parse_bool, preempt),
	[GK_ASSIGN] = GKEY("assign", conf_parse_bool, assign),
	[GK_ANNOUNCE_COUNT] = GKEY("announce_count", conf_parse_u32, announce_count,
				   .min = 1, .max = 100),
	[GK_ANNOUNCE_INTERVAL] = GKEY("announce_interval_ms", conf_parse_u32, announce_interval_ms,
				      .min = 10, .max = 60000),
	[GK_REFRESH] = GKEY("refresh_interval_s", conf_parse_u32, refresh_interval_s,
			    .min = 0, .max = 86400),
	[GK_ADDRESSES] = GKEY("addresses", parse_addrs, addrs, .required = true),
	[GK_VMAC] = GKEY("virtual_mac", parse_vmac, vmac),
	[GK_VMAC_IF] = GKEY("virtual_interface", conf_parse_ifname, vmac_ifname),
	[GK_FABRIC_VNI] = GKEY("fabric_vni", conf_parse_u32, fabric_vni, .min = 1, .max = 0xffffff),
};
_Static_assert(GK_N <= CONF_MAX_KEYS, "CONF_MAX_KEYS too small");

/* A parsed group: required keys present, and nothing clashing with the groups before it. */
static int check_group(struct conf_ctx *x, struct vip_group_cfg *g, const int *seen)
{
	for (int i = 0; i < GK_N; i++) {
		if (!group_keys[i].required || seen[i])
			continue;
		if (seen[GK_NAME])
			return conf_fail(x, g->line, "missing '%s' in group '%s'", group_keys[i].name,
				    g->name);
		return conf_fail(x, g->line, "missing '%s' in group", group_keys[i].name);
	}
	if (seen[GK_VMAC_IF] && !g->has_vmac)
		return conf_fail(x, seen[GK_VMAC_IF], "virtual_interface needs virtual_mac");
	if (seen[GK_FABRIC_VNI] && !g->has_vmac)
		return conf_fail(x, seen[GK_FABRIC_VNI],
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
		return conf_fail(x, seen[GK_VMAC_IF] ? seen[GK_VMAC_IF] : g->line,
			    "virtual_interface %s is the group's own interface", g->vmac_ifname);
	for (size_t i = 0; i < V(x)->c->ngroups; i++) {
		const struct vip_group_cfg *o = &V(x)->c->groups[i];

		if (g->has_vmac && (!strcmp(o->ifname, g->vmac_ifname) ||
				    (o->has_vmac && !strcmp(o->vmac_ifname, g->vmac_ifname))))
			return conf_fail(x, seen[GK_VMAC_IF] ? seen[GK_VMAC_IF] : g->line,
				    "virtual_interface %s is already used by group '%s' (line %d)%s",
				    g->vmac_ifname, o->name, o->line,
				    seen[GK_VMAC_IF] ? "" : "; set virtual_interface");
		if (o->has_vmac && !strcmp(o->vmac_ifname, g->ifname))
			return conf_fail(x, seen[GK_INTERFACE],
				    "interface %s is the virtual_interface of group '%s' (line %d)",
				    g->ifname, o->name, o->line);
		if (!strcmp(o->name, g->name))
			return conf_fail(x, seen[GK_NAME], "group name '%s' is already used (line %d)",
				    g->name, o->line);
		/* RFC 5798 5.2.3: a VRID is unique on its interface */
		if (o->vrid == g->vrid && !strcmp(o->ifname, g->ifname))
			return conf_fail(x, seen[GK_VRID],
				    "vrid %u on %s is already used by group '%s' (line %d)",
				    g->vrid, g->ifname, o->name, o->line);
	}
	return 0;
}

static int parse_groups(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k)
{
	struct vipd_cfg *c = base;
	yaml_node_item_t *it;
	size_t count;

	if (conf_check_seq(x, n, k->name) < 0)
		return -1;
	count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (count > VIPD_MAX_GROUPS)
		return conf_fail(x, conf_line(n), "more than %d groups", VIPD_MAX_GROUPS);
	if (!count)
		return 0;
	c->groups = calloc(count, sizeof(*c->groups));
	if (!c->groups)
		return conf_fail(x, conf_line(n), "%s", strerror(ENOMEM));
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *gn = conf_item(x, it);
		struct vip_group_cfg *g = &c->groups[c->ngroups];
		int seen[CONF_MAX_KEYS] = { 0 };

		if (gn->type != YAML_MAPPING_NODE)
			return conf_fail(x, conf_line(gn), "group must be a mapping, not %s",
				    conf_type_name(gn));
		*g = (struct vip_group_cfg) {
			.priority = 100,
			.advert_interval_ms = 100,
			.preempt = true,
			.announce_count = 3,
			.announce_interval_ms = 1100,
			.refresh_interval_s = 60,
			.line = conf_line(gn),
		};
		if (conf_parse_map(x, gn, g, group_keys, "group", seen) < 0 ||
		    check_group(x, g, seen) < 0)
			return -1;
		c->ngroups++;
	}
	return 0;
}

static const struct conf_key top_keys[CONF_MAX_KEYS] = {
	{ .name = "node", .parse = parse_node, .off = offsetof(struct vipd_cfg, node) },
	{ .name = "control_socket", .parse = conf_parse_path,
	  .off = offsetof(struct vipd_cfg, control_socket),
	  .size = sizeof(((struct vipd_cfg *)0)->control_socket) },
	{ .name = "nodes", .parse = parse_nodes },
	{ .name = "answer_rate", .parse = conf_parse_u32,
	  .off = offsetof(struct vipd_cfg, answer_rate), .min = 1, .max = VIPD_ANSWER_LIMIT_MAX },
	{ .name = "answer_burst", .parse = conf_parse_u32,
	  .off = offsetof(struct vipd_cfg, answer_burst), .min = 1, .max = VIPD_ANSWER_LIMIT_MAX },
	{ .name = "groups", .parse = parse_groups },
	{ .name = "fabric", .parse = parse_fabric },
	{ .name = "status_socket", .parse = conf_parse_path,
	  .off = offsetof(struct vipd_cfg, status_socket),
	  .size = sizeof(((struct vipd_cfg *)0)->status_socket) },
	{ .name = "log_level", .parse = conf_parse_log_level,
	  .off = offsetof(struct vipd_cfg, log_level) },
	{ .name = "log_file", .parse = conf_parse_path, .off = offsetof(struct vipd_cfg, log_file),
	  .size = sizeof(((struct vipd_cfg *)0)->log_file) },
	{ .name = "metrics", .parse = conf_parse_listen, .off = offsetof(struct vipd_cfg, metrics),
	  .size = sizeof(((struct vipd_cfg *)0)->metrics) },
};

/* Once the whole file is read: node defaults to the hostname and must be in nodes; then
 * the auto priorities, which depend on all of it. */
static int finish(struct conf_ctx *x)
{
	struct vipd_cfg *c = V(x)->c;
	size_t i;

	if (!c->node[0]) {
		char host[HOST_NAME_MAX + 1] = "";
		const char *why;

		if (gethostname(host, sizeof(host) - 1) < 0)
			return conf_fail(x, 0, "no node given and gethostname failed: %s",
				    strerror(errno));
		why = conf_name_problem(host);
		if (why)
			return conf_fail(x, 0, "no node given and hostname '%s' %s", host, why);
		strcpy(c->node, host);
	}
	for (i = 0; i < c->nnodes && strcmp(c->nodes[i], c->node); i++)
		;
	if (c->nnodes && i == c->nnodes)
		return conf_fail(x, V(x)->node_line ? V(x)->node_line : V(x)->nodes_line,
			    "node '%s' is not in nodes", c->node);
	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i].priority_auto)
			c->groups[i].priority = vipd_auto_priority(c, &c->groups[i]);
	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i].fabric_vni && !c->fabric.connect[0])
			return conf_fail(x, c->groups[i].line,
				    "group '%s' has fabric_vni but there is no fabric section",
				    c->groups[i].name);
	if (c->fabric.connect[0] && !c->fabric.host[0])
		strcpy(c->fabric.host, c->node);
	return 0;
}


static int parse_root(struct conf_ctx *x, yaml_node_t *root)
{
	int seen[CONF_MAX_KEYS] = { 0 };

	return conf_parse_map(x, root, V(x)->c, top_keys, "the top level", seen);
}

int vipd_cfg_load(const char *path, struct vipd_cfg *out, char *err, size_t errlen)
{
	struct vipd_cfg c = { .control_socket = VIPD_DEFAULT_SOCKET, .log_level = LOG_LVL_INFO,
			      .answer_rate = VIPD_DEFAULT_ANSWER_RATE,
			      .answer_burst = VIPD_DEFAULT_ANSWER_BURST };
	struct vload v = { .c = &c };

	if (conf_load(path, err, errlen, &v, parse_root, finish) < 0) {
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
