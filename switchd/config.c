/*
 * config.c - switchd's configuration file and options (config.h): one key table for the
 * file's keys and the command-line flags.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

enum { O_CA = 0x2000, O_CERT, O_KEY, O_CONTROL, O_STATUS, O_BPF_DIR, O_LDP_INTERVAL, O_LDP_MISS,
       O_HOST_TIMEOUT, O_HOST_AGE, O_VMID_HOLD };

static const struct option longopts[] = {
	{ "id", required_argument, NULL, 'i' },
	{ "fabricd", required_argument, NULL, 'F' },
	{ "control-socket", required_argument, NULL, O_CONTROL },
	{ "status-socket", required_argument, NULL, O_STATUS },
	{ "bpf-dir", required_argument, NULL, O_BPF_DIR },
	{ "ca", required_argument, NULL, O_CA },
	{ "cert", required_argument, NULL, O_CERT },
	{ "key", required_argument, NULL, O_KEY },
	{ "ldp-interval", required_argument, NULL, O_LDP_INTERVAL },
	{ "ldp-miss", required_argument, NULL, O_LDP_MISS },
	{ "host-timeout", required_argument, NULL, O_HOST_TIMEOUT },
	{ "host-age", required_argument, NULL, O_HOST_AGE },
	{ "vmid-hold", required_argument, NULL, O_VMID_HOLD },
	{ 0 },
};

/* CAP_NET_ADMIN: the tc hooks and filters on its ports; CAP_NET_RAW: the packet sockets of
 * LDP, ARP and ND; CAP_BPF: the data plane's programs and maps. */
const struct daemon_spec switchd_spec = {
	.name = "switchd",
	.synopsis = "[-i ID] -F FABRICD --ca FILE --cert FILE --key FILE [--control-socket PATH]",
	.help =
		"  -F, --fabricd ADDR  fabricd: HOST:PORT over mutual TLS (--ca: the fabric's CA;\n"
		"      --cert and --key: this switch's, URI:urn:l2fabric:switchd:ID), or\n"
		"      unix:/path (no TLS)\n"
		"  -i, --id ID  this switch's name (default: the certificate's)\n"
		"  --control-socket PATH  for fabricctl switch (default " SWITCHD_SOCKET ")\n"
		"  --status-socket PATH   a read-only status socket, mode 0666 (off by default)\n"
		"  --bpf-dir DIR  where the data plane's maps are pinned, under DIR/ID (default\n"
		"      " SWITCHD_BPF_DIR ")\n"
		"  --ldp-interval MS  the LDM period (default 10), also the keepalive\n"
		"  --ldp-miss N   LDMs missed before a neighbour is lost (default 3)\n"
		"  --host-timeout MS  a port silent this long has hosts (default 1000)\n"
		"  --host-age S   an edge forgets a host quiet for S seconds (default 300; 0: never)\n"
		"  --vmid-hold S  and gives its vmid to no other host for S seconds (default 60)\n",
	.shortopts = "i:F:",
	.longopts = longopts,
	.caps = { CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF, -1 },
};

static int parse_control(struct conf_ctx *x, yaml_node_t *n, void *base,
			 const struct conf_key *k)
{
	struct switchd_cfg *c = base;

	if (conf_parse_path(x, n, base, k) < 0)
		return -1;
	c->control_socket_set = true;
	return 0;
}

#define K(k, fn, field, ...) { .name = k, .parse = fn, .off = offsetof(struct switchd_cfg, field), \
			       .size = sizeof(((struct switchd_cfg *)0)->field), __VA_ARGS__ }

static const struct conf_key tls_keys[] = {
	K("ca", conf_parse_path, tls.ca, .required = true),
	K("cert", conf_parse_path, tls.cert, .required = true),
	K("key", conf_parse_path, tls.key, .required = true),
	{ 0 },
};

static const struct conf_key ldp_keys[] = {
	K("interval_ms", conf_parse_u32, ldp.interval_ms, .min = 1, .max = 1000),
	K("miss", conf_parse_u32, ldp.miss, .min = 2, .max = 1000),
	K("host_timeout_ms", conf_parse_u32, ldp.host_timeout_ms, .min = 10, .max = 60000),
	{ 0 },
};

enum { T_ID, T_FABRICD, T_TLS, T_CONTROL, T_STATUS, T_BPF_DIR, T_LOG_LEVEL, T_LOG_FILE,
       T_METRICS, T_LDP, T_HOST_AGE, T_VMID_HOLD };

static const struct conf_key top_keys[] = {
	[T_ID] = K("id", conf_parse_checked, id, .check = wire_id_check,
		   .what = "1 to 63 printable characters without spaces"),
	[T_FABRICD] = K("fabricd", conf_parse_checked, fabricd, .check = wire_addr_check,
			.what = "unix:/ABSOLUTE/PATH, IPV4:PORT or [IPV6]:PORT"),
	[T_TLS] = { .name = "tls", .parse = conf_parse_section, .sub = tls_keys },
	[T_CONTROL] = K("control_socket", parse_control, control_socket),
	[T_STATUS] = K("status_socket", conf_parse_path, status_socket),
	[T_BPF_DIR] = K("bpf_dir", conf_parse_path, bpf_dir),
	[T_LOG_LEVEL] = K("log_level", conf_parse_log_level, log_level),
	[T_LOG_FILE] = K("log_file", conf_parse_path, log_file),
	[T_METRICS] = K("metrics", conf_parse_listen, metrics),
	[T_LDP] = { .name = "ldp", .parse = conf_parse_section, .sub = ldp_keys },
	/* a year at most: the seconds fit the data plane's 32-bit clock with room to spare */
	[T_HOST_AGE] = K("host_age_s", conf_parse_u32, host_age_s, .max = 31536000),
	[T_VMID_HOLD] = K("vmid_hold_s", conf_parse_u32, vmid_hold_s, .max = 86400),
	{ 0 },
};

static const struct conf_flag flag_keys[] = {
	{ 'i', &top_keys[T_ID] }, { 'F', &top_keys[T_FABRICD] },
	{ O_CONTROL, &top_keys[T_CONTROL] }, { O_STATUS, &top_keys[T_STATUS] },
	{ O_BPF_DIR, &top_keys[T_BPF_DIR] }, { O_HOST_AGE, &top_keys[T_HOST_AGE] },
	{ O_VMID_HOLD, &top_keys[T_VMID_HOLD] },
	{ O_CA, &tls_keys[0] }, { O_CERT, &tls_keys[1] }, { O_KEY, &tls_keys[2] },
	{ O_LDP_INTERVAL, &ldp_keys[0] }, { O_LDP_MISS, &ldp_keys[1] },
	{ O_HOST_TIMEOUT, &ldp_keys[2] },
};

struct ldp_timers switchd_cfg_timers(const struct switchd_cfg *c)
{
	return (struct ldp_timers){
		.ldm_us = (int64_t)c->ldp.interval_ms * USEC_PER_MSEC,
		.dead_us = (int64_t)c->ldp.interval_ms * c->ldp.miss * USEC_PER_MSEC,
		.host_us = (int64_t)c->ldp.host_timeout_ms * USEC_PER_MSEC,
	};
}

static int parse_root(struct conf_ctx *x, yaml_node_t *root)
{
	int seen[CONF_MAX_KEYS] = { 0 };

	return conf_parse_map(x, root, x->user, top_keys, "the top level", seen);
}

int switchd_cfg_load(const char *path, const struct daemon *dm, struct switchd_cfg *out,
		     char *err, size_t errlen)
{
	struct switchd_cfg *c = calloc(1, sizeof(*c));
	int ret = -1;

	if (!c)
		return conf_errorf(err, errlen, "%s", strerror(ENOMEM));
	snprintf(c->control_socket, sizeof(c->control_socket), "%s", SWITCHD_SOCKET);
	snprintf(c->bpf_dir, sizeof(c->bpf_dir), "%s", SWITCHD_BPF_DIR);
	c->log_level = LOG_LVL_INFO;
	c->ldp.interval_ms = LDP_LDM_PERIOD_US / USEC_PER_MSEC;
	c->ldp.miss = LDP_DEAD_US / LDP_LDM_PERIOD_US;
	c->ldp.host_timeout_ms = LDP_HOST_TIMEOUT_US / USEC_PER_MSEC;
	c->host_age_s = SWITCHD_HOST_AGE_S;
	c->vmid_hold_s = SWITCHD_VMID_HOLD_S;
	if (path && conf_load(path, err, errlen, c, parse_root, NULL) < 0)
		goto out;
	if (conf_apply_flags(dm->flags, dm->nflags, longopts, flag_keys,
			     sizeof(flag_keys) / sizeof(flag_keys[0]), c, err, errlen) < 0)
		goto out;
	if (dm->metrics && conf_apply_flag("--metrics", dm->metrics, c, &top_keys[T_METRICS],
					   err, errlen) < 0)
		goto out;
	if (dm->log_file && conf_apply_flag("--log-file", dm->log_file, c, &top_keys[T_LOG_FILE],
					    err, errlen) < 0)
		goto out;
	if (conf_check_fabricd(c->fabricd, &c->tls, c->id, path ? path : "options", err,
			       errlen) < 0)
		goto out;
	{
		struct ldp_timers t = switchd_cfg_timers(c);
		const char *why = ldp_timers_why_not(&t);

		if (why) {
			conf_errorf(err, errlen, "%s: ldp: %s", path ? path : "options", why);
			goto out;
		}
	}
	*out = *c;
	ret = 0;
out:
	free(c);
	return ret;
}

void switchd_cfg_print(const struct switchd_cfg *c, FILE *f)
{
	if (c->id[0])
		conf_put_key(f, "", "id", c->id);
	else
		fputs("# id: the certificate's\n", f);
	conf_put_fabricd(f, c->fabricd, &c->tls);
	conf_put_key(f, "", "control_socket", c->control_socket);
	if (c->status_socket[0])
		conf_put_key(f, "", "status_socket", c->status_socket);
	conf_put_key(f, "", "bpf_dir", c->bpf_dir);
	fprintf(f, "log_level: %s\n", conf_log_level_name(c->log_level));
	if (c->log_file[0])
		conf_put_key(f, "", "log_file", c->log_file);
	if (c->metrics[0])
		conf_put_key(f, "", "metrics", c->metrics);
	fprintf(f, "host_age_s: %u\n", c->host_age_s);
	fprintf(f, "vmid_hold_s: %u\n", c->vmid_hold_s);
	fprintf(f, "ldp:\n  interval_ms: %u\n  miss: %u\n  host_timeout_ms: %u\n",
		c->ldp.interval_ms, c->ldp.miss, c->ldp.host_timeout_ms);
}
