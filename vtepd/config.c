/*
 * config.c - vtepd's configuration file and options (config.h): one key table for the
 * file's keys and the command-line flags, so a value is checked the same way wherever it
 * comes from.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "conf.h"
#include "config.h"

enum { O_CA = 0x2000, O_CERT, O_KEY, O_CONTROL, O_STATUS };

static const struct option longopts[] = {
	{ "id", required_argument, NULL, 'i' },
	{ "fabricd", required_argument, NULL, 'F' },
	{ "vtep", required_argument, NULL, 'l' },
	{ "underlay", required_argument, NULL, 'u' },
	{ "segment", required_argument, NULL, 's' },
	{ "control-socket", required_argument, NULL, O_CONTROL },
	{ "status-socket", required_argument, NULL, O_STATUS },
	{ "ca", required_argument, NULL, O_CA },
	{ "cert", required_argument, NULL, O_CERT },
	{ "key", required_argument, NULL, O_KEY },
	{ 0 },
};

/* CAP_NET_ADMIN: VXLAN devices, FDB and neighbour entries; CAP_NET_RAW: the packet sockets
 * that learn local ports, for segments a reload adds too. */
const struct daemon_spec vtepd_spec = {
	.name = "vtepd",
	.synopsis = "[-i ID] -F FABRICD --ca FILE --cert FILE --key FILE -l VTEP_ADDR\n"
		    "             [-u UNDERLAY_IF] -s VNI:BRIDGE [-s ...] [--control-socket PATH]",
	.help =
		"  -F, --fabricd ADDR  fabricd: HOST:PORT over mutual TLS (--ca: the fabric's CA;\n"
		"      --cert and --key: this host's, URI:urn:l2fabric:vtepd:ID with the VTEP\n"
		"      address as an IP SAN), or unix:/path (no TLS)\n"
		"  -i, --id ID  this host's id (default: the certificate's)\n"
		"  -l, --vtep ADDR  this host's VTEP address (the VXLAN devices' local address)\n"
		"  -u, --underlay IF  the underlay interface the VXLAN devices use\n"
		"  -s, --segment VNI:BRIDGE  a segment: its VNI and the bridge of its local ports\n"
		"      (repeatable; adds to the file's segments)\n"
		"  --control-socket PATH  for fabricctl agent (default " VTEPD_SOCKET ")\n"
		"  --status-socket PATH   a read-only status socket, mode 0666 (off by default)\n",
	.shortopts = "i:F:l:u:s:",
	.longopts = longopts,
	.caps = { CAP_NET_ADMIN, CAP_NET_RAW, -1 },
};

struct vload {
	struct vtepd_cfg *c;
};

static int tls_or_unix(const char *s)
{
	return wire_addr_check(s);
}

static int parse_vtep(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k)
{
	struct vtepd_cfg *c = base;
	const char *s = conf_scalar(x, n, k->name);

	if (!s)
		return -1;
	if (ipaddr_parse(s, &c->vtep) < 0)
		return conf_fail(x, conf_line(n), "%s '%s' is not an IPv4 or IPv6 address", k->name,
				 s);
	snprintf(c->vtep_text, sizeof(c->vtep_text), "%s", s);
	return 0;
}

static int parse_control(struct conf_ctx *x, yaml_node_t *n, void *base,
			 const struct conf_key *k)
{
	struct vtepd_cfg *c = base;

	if (conf_parse_path(x, n, base, k) < 0)
		return -1;
	c->control_socket_set = true;
	return 0;
}

static int add_seg(struct conf_ctx *x, struct vtepd_cfg *c, uint32_t vni, const char *bridge,
		   int line)
{
	if (c->nsegs == MAX_SEGS)
		return conf_fail(x, line, "more than %d segments", MAX_SEGS);
	for (size_t i = 0; i < c->nsegs; i++) {
		if (c->segs[i].vni == vni)
			return conf_fail(x, line, "segment %u is given twice", vni);
		if (!strcmp(c->segs[i].bridge, bridge))
			return conf_fail(x, line, "bridge %s is given for two segments (%u and %u)",
					 bridge, c->segs[i].vni, vni);
	}
	c->segs[c->nsegs].vni = vni;
	snprintf(c->segs[c->nsegs].bridge, sizeof(c->segs[c->nsegs].bridge), "%s", bridge);
	c->segs[c->nsegs].line = line;
	c->nsegs++;
	return 0;
}

#define SKEY(k, fn, field, ...) { .name = k, .parse = fn, \
	.off = offsetof(struct vtepd_seg_cfg, field), \
	.size = sizeof(((struct vtepd_seg_cfg *)0)->field), __VA_ARGS__ }

static const struct conf_key seg_keys[] = {
	SKEY("vni", conf_parse_u32, vni, .min = 1, .max = VNI_MAX, .required = true),
	SKEY("bridge", conf_parse_ifname, bridge, .required = true),
	{ 0 },
};

static int parse_segments(struct conf_ctx *x, yaml_node_t *n, void *base,
			  const struct conf_key *k)
{
	struct vtepd_cfg *c = base;
	yaml_node_item_t *it;

	if (conf_check_seq(x, n, k->name) < 0)
		return -1;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *sn = conf_item(x, it);
		struct vtepd_seg_cfg s = { 0 };
		int seen[CONF_MAX_KEYS] = { 0 };

		if (sn->type != YAML_MAPPING_NODE)
			return conf_fail(x, conf_line(sn), "a segment must be a mapping (vni, bridge), "
					 "not %s", conf_type_name(sn));
		if (conf_parse_map(x, sn, &s, seg_keys, "segment", seen) < 0 ||
		    conf_check_required(x, conf_line(sn), seg_keys, seen, "segment") < 0 ||
		    add_seg(x, c, s.vni, s.bridge, conf_line(sn)) < 0)
			return -1;
	}
	return 0;
}

/* -s VNI:BRIDGE */
static int parse_seg_flag(struct conf_ctx *x, yaml_node_t *n, void *base,
			  const struct conf_key *k)
{
	const char *s = conf_scalar(x, n, k->name);
	const char *colon = s ? strchr(s, ':') : NULL;
	struct vtepd_seg_cfg seg = { 0 };
	yaml_node_t part = *n;
	char vni[16];

	if (!s)
		return -1;
	if (!colon || (size_t)(colon - s) >= sizeof(vni))
		return conf_fail(x, 0, "'%s' is not VNI:BRIDGE", s);
	memcpy(vni, s, (size_t)(colon - s));
	vni[colon - s] = 0;
	part.data.scalar.value = (yaml_char_t *)vni;
	part.data.scalar.length = strlen(vni);
	if (seg_keys[0].parse(x, &part, &seg, &seg_keys[0]) < 0)
		return -1;
	part.data.scalar.value = (yaml_char_t *)(colon + 1);
	part.data.scalar.length = strlen(colon + 1);
	if (seg_keys[1].parse(x, &part, &seg, &seg_keys[1]) < 0)
		return -1;
	return add_seg(x, base, seg.vni, seg.bridge, 0);
}

#define K(k, fn, field, ...) { .name = k, .parse = fn, .off = offsetof(struct vtepd_cfg, field), \
			       .size = sizeof(((struct vtepd_cfg *)0)->field), __VA_ARGS__ }

static const struct conf_key tls_keys[] = {
	K("ca", conf_parse_path, tls.ca, .required = true),
	K("cert", conf_parse_path, tls.cert, .required = true),
	K("key", conf_parse_path, tls.key, .required = true),
	{ 0 },
};

enum { T_ID, T_FABRICD, T_TLS, T_VTEP, T_UNDERLAY, T_CONTROL, T_STATUS, T_LOG_LEVEL, T_LOG_FILE,
       T_METRICS, T_SEGMENTS };

static const struct conf_key top_keys[] = {
	[T_ID] = K("id", conf_parse_checked, id, .check = wire_id_check,
		   .what = "1 to 63 printable characters without spaces"),
	[T_FABRICD] = K("fabricd", conf_parse_checked, fabricd, .check = tls_or_unix,
			.what = "unix:/ABSOLUTE/PATH, IPV4:PORT or [IPV6]:PORT"),
	[T_TLS] = { .name = "tls", .parse = conf_parse_section, .sub = tls_keys },
	[T_VTEP] = K("vtep", parse_vtep, vtep),
	[T_UNDERLAY] = K("underlay", conf_parse_ifname, underlay),
	[T_CONTROL] = K("control_socket", parse_control, control_socket),
	[T_STATUS] = K("status_socket", conf_parse_path, status_socket),
	[T_LOG_LEVEL] = K("log_level", conf_parse_log_level, log_level),
	[T_LOG_FILE] = K("log_file", conf_parse_path, log_file),
	[T_METRICS] = K("metrics", conf_parse_listen, metrics),
	[T_SEGMENTS] = { .name = "segments", .parse = parse_segments },
	{ 0 },
};

static const struct conf_key seg_flag = { .name = "segment", .parse = parse_seg_flag };

static const struct conf_flag flag_keys[] = {
	{ 'i', &top_keys[T_ID] }, { 'F', &top_keys[T_FABRICD] }, { 'l', &top_keys[T_VTEP] },
	{ 'u', &top_keys[T_UNDERLAY] }, { 's', &seg_flag },
	{ O_CONTROL, &top_keys[T_CONTROL] }, { O_STATUS, &top_keys[T_STATUS] },
	{ O_CA, &tls_keys[0] }, { O_CERT, &tls_keys[1] }, { O_KEY, &tls_keys[2] },
};

static int parse_root(struct conf_ctx *x, yaml_node_t *root)
{
	int seen[CONF_MAX_KEYS] = { 0 };

	return conf_parse_map(x, root, x->user, top_keys, "the top level", seen);
}

static int check(const struct vtepd_cfg *c, const char *where, char *err, size_t errlen)
{
	if (!c->fabricd[0])
		return conf_errorf(err, errlen, "%s: no fabricd (fabricd, -F ADDR)", where);
	if (!c->vtep.af)
		return conf_errorf(err, errlen, "%s: no VTEP address (vtep, -l ADDR)", where);
	if (!c->nsegs)
		return conf_errorf(err, errlen, "%s: no segment (segments, -s VNI:BRIDGE)", where);
	return conf_check_fabricd(c->fabricd, &c->tls, c->id, where, err, errlen);
}

int vtepd_cfg_load(const char *path, const struct daemon *dm, struct vtepd_cfg *out, char *err,
		   size_t errlen)
{
	struct vtepd_cfg *c = calloc(1, sizeof(*c));
	int ret = -1;

	if (!c)
		return conf_errorf(err, errlen, "%s", strerror(ENOMEM));
	snprintf(c->control_socket, sizeof(c->control_socket), "%s", VTEPD_SOCKET);
	c->log_level = LOG_LVL_INFO;
	if (path && conf_load(path, err, errlen, c, parse_root, NULL) < 0)
		goto out;
	if (conf_apply_flags(dm->flags, dm->nflags, longopts, flag_keys,
			     sizeof(flag_keys) / sizeof(flag_keys[0]), c, err, errlen) < 0)
		goto out;
	/* The common --metrics and --log-file (lib/daemon) are keys here too. */
	if (dm->metrics && conf_apply_flag("--metrics", dm->metrics, c, &top_keys[T_METRICS],
					   err, errlen) < 0)
		goto out;
	if (dm->log_file && conf_apply_flag("--log-file", dm->log_file, c, &top_keys[T_LOG_FILE],
					    err, errlen) < 0)
		goto out;
	if (check(c, path ? path : "options", err, errlen) < 0)
		goto out;
	*out = *c;
	ret = 0;
out:
	free(c);
	return ret;
}

void vtepd_cfg_print(const struct vtepd_cfg *c, FILE *f)
{
	char buf[IPADDR_STRLEN];

	if (c->id[0])
		conf_put_key(f, "", "id", c->id);
	else
		fputs("# id: the certificate's\n", f);
	conf_put_fabricd(f, c->fabricd, &c->tls);
	conf_put_key(f, "", "vtep", ipaddr_fmt(&c->vtep, buf));
	if (c->underlay[0])
		conf_put_key(f, "", "underlay", c->underlay);
	conf_put_key(f, "", "control_socket", c->control_socket);
	if (c->status_socket[0])
		conf_put_key(f, "", "status_socket", c->status_socket);
	fprintf(f, "log_level: %s\n", conf_log_level_name(c->log_level));
	if (c->log_file[0])
		conf_put_key(f, "", "log_file", c->log_file);
	if (c->metrics[0])
		conf_put_key(f, "", "metrics", c->metrics);
	fputs("segments:\n", f);
	for (size_t i = 0; i < c->nsegs; i++) {
		fprintf(f, "  - vni: %u\n", c->segs[i].vni);
		conf_put_key(f, "    ", "bridge", c->segs[i].bridge);
	}
}
