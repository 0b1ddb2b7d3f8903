/*
 * config.c - fabricd's configuration file and options (config.h): one key table, which
 * both the file's keys and the command-line flags go through, so a value is checked the same
 * way wherever it comes from.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include "conf.h"
#include "config.h"

enum {
	O_CONTROL = 0x2000, O_STATUS, O_DUP_MOVES, O_DUP_WINDOW, O_GRACE, O_MAX_SESSIONS,
	O_MAX_PRE_HELLO, O_HELLO_TO, O_IDLE_TO, O_HOST_EXPIRY, O_MAX_UNIX, O_MAX_LEARNED,
	O_RECOVER, O_CA, O_CERT, O_KEY,
};

static const struct option longopts[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "control-socket", required_argument, NULL, 's' },
	{ "status-socket", required_argument, NULL, O_STATUS },
	{ "store", required_argument, NULL, 'S' },
	{ "id", required_argument, NULL, 'i' },
	{ "dup-moves", required_argument, NULL, O_DUP_MOVES },
	{ "dup-window", required_argument, NULL, O_DUP_WINDOW },
	{ "grace-ms", required_argument, NULL, O_GRACE },
	{ "max-sessions", required_argument, NULL, O_MAX_SESSIONS },
	{ "max-pre-hello", required_argument, NULL, O_MAX_PRE_HELLO },
	{ "hello-timeout-ms", required_argument, NULL, O_HELLO_TO },
	{ "idle-timeout-ms", required_argument, NULL, O_IDLE_TO },
	{ "host-expiry", required_argument, NULL, O_HOST_EXPIRY },
	{ "max-unix-sessions", required_argument, NULL, O_MAX_UNIX },
	{ "max-learned-per-host", required_argument, NULL, O_MAX_LEARNED },
	{ "recover", no_argument, NULL, O_RECOVER },
	{ "ca", required_argument, NULL, O_CA },
	{ "cert", required_argument, NULL, O_CERT },
	{ "key", required_argument, NULL, O_KEY },
	{ 0 },
};

const struct daemon_spec fabricd_spec = {
	.name = "fabricd",
	.synopsis = "[-l ADDR:PORT --ca FILE --cert FILE --key FILE] [-s SOCKET] [-S STORE] [-i ID] ...",
	.help =
		"  -l, --listen ADDR:PORT  agents' TCP listener (none by default); every TCP\n"
		"      session is mutual TLS: --ca (the CA agents' certificates chain to), --cert\n"
		"      and --key (fabricd's own, URI:urn:l2fabric:fabricd:ID)\n"
		"  -s, --control-socket PATH  fabricctl's Unix socket (default " FABRICD_DEFAULT_SOCKET ")\n"
		"  --status-socket PATH  a read-only status socket, mode 0666 (off by default)\n"
		"  -S, --store PATH  store of API ports and hosts, a journal (default\n"
		"      " FABRICD_DEFAULT_STORE "; 'none': keep nothing); --recover: start\n"
		"      from the valid part of a damaged one\n"
		"  -i, --id ID  this fabricd's id (default: its certificate's, else the hostname)\n"
		"  --dup-moves N, --dup-window SECONDS  a MAC moving more than N times in the window\n"
		"      is a duplicate and stops moving (default 5 in 180)\n"
		"  --grace-ms MS  after a restart, wait at most this long for known agents before\n"
		"      sending full tables (default 3000)\n"
		"  --max-sessions N     TCP sessions (default 0: what ulimit -n leaves room for)\n"
		"  --max-unix-sessions N  sessions on the Unix socket (default 64)\n"
		"  --max-learned-per-host N  bindings one host's agent may hold (default 262144)\n"
		"  --max-pre-hello N    sessions without a Hello yet (default 128): beyond it the\n"
		"      oldest silent one is evicted\n"
		"  --hello-timeout-ms MS  from accept to Hello, TLS included (default 5000)\n"
		"  --idle-timeout-ms MS   an API session with nothing to do (default 60000)\n"
		"  --host-expiry S  a host with no session for S seconds and no API port is\n"
		"      forgotten (default 86400; 0: never)\n",
	.shortopts = "l:s:S:i:",
	.longopts = longopts,
	.caps = { -1 },
};

static int tcp_check(const char *s)
{
	return strncmp(s, WIRE_UNIX_PREFIX, strlen(WIRE_UNIX_PREFIX)) ? wire_addr_check(s) : -1;
}

/* "none", or an absolute path. */
static int parse_store(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k)
{
	const char *s = conf_scalar(x, n, k->name);

	if (s && !strcmp(s, "none")) {
		strcpy((char *)base + k->off, s);
		return 0;
	}
	return s ? conf_parse_path(x, n, base, k) : -1;
}

#define K(k, fn, field, ...) { .name = k, .parse = fn, .off = offsetof(struct fabricd_cfg, field), \
			       .size = sizeof(((struct fabricd_cfg *)0)->field), __VA_ARGS__ }

static const struct conf_key tls_keys[] = {
	K("ca", conf_parse_path, tls.ca, .required = true),
	K("cert", conf_parse_path, tls.cert, .required = true),
	K("key", conf_parse_path, tls.key, .required = true),
	{ 0 },
};

static const struct conf_key dup_keys[] = {
	K("moves", conf_parse_u32, dup.moves, .min = 1, .max = 255),
	K("window_s", conf_parse_u32, dup.window_s, .min = 1, .max = 86400),
	{ 0 },
};

enum { L_MAX_SESSIONS, L_MAX_UNIX, L_MAX_PRE_HELLO, L_HELLO_TO, L_IDLE_TO, L_MAX_LEARNED,
       L_HOST_EXPIRY };

static const struct conf_key limit_keys[] = {
	[L_MAX_SESSIONS] = K("max_sessions", conf_parse_u32, lim.max_sessions, .max = 1000000),
	[L_MAX_UNIX] = K("max_unix_sessions", conf_parse_u32, lim.max_unix_sessions, .min = 1,
			 .max = 65536),
	[L_MAX_PRE_HELLO] = K("max_pre_hello", conf_parse_u32, lim.max_pre_hello, .min = 1,
			      .max = 1000000),
	[L_HELLO_TO] = K("hello_timeout_ms", conf_parse_u32, lim.hello_timeout_ms, .min = 1,
			 .max = 600000),
	[L_IDLE_TO] = K("idle_timeout_ms", conf_parse_u32, lim.idle_timeout_ms, .min = 1,
			.max = 86400000),
	[L_MAX_LEARNED] = K("max_learned_per_host", conf_parse_u32, lim.max_learned, .min = 1,
			    .max = 16777216),
	[L_HOST_EXPIRY] = K("host_expiry_s", conf_parse_u32, lim.host_expiry_s,
			    .max = 31536000),
	{ 0 },
};

enum { T_ID, T_LISTEN, T_TLS, T_CONTROL, T_STATUS, T_STORE, T_RECOVER, T_LOG_LEVEL, T_LOG_FILE,
       T_METRICS, T_GRACE, T_DUP, T_LIMITS };

static const struct conf_key top_keys[] = {
	[T_ID] = K("id", conf_parse_checked, id, .check = wire_id_check,
		   .what = "1 to 63 printable characters without spaces"),
	[T_LISTEN] = K("listen", conf_parse_checked, listen, .check = tcp_check,
		       .what = "IPV4:PORT or [IPV6]:PORT"),
	[T_TLS] = { .name = "tls", .parse = conf_parse_section, .sub = tls_keys },
	[T_CONTROL] = K("control_socket", conf_parse_path, control_socket),
	[T_STATUS] = K("status_socket", conf_parse_path, status_socket),
	[T_STORE] = K("store", parse_store, store),
	[T_RECOVER] = K("recover", conf_parse_bool, recover),
	[T_LOG_LEVEL] = K("log_level", conf_parse_log_level, log_level),
	[T_LOG_FILE] = K("log_file", conf_parse_path, log_file),
	[T_METRICS] = K("metrics", conf_parse_listen, metrics),
	[T_GRACE] = K("grace_ms", conf_parse_u32, grace_ms, .max = 86400000),
	[T_DUP] = { .name = "duplicates", .parse = conf_parse_section, .sub = dup_keys },
	[T_LIMITS] = { .name = "limits", .parse = conf_parse_section, .sub = limit_keys },
	{ 0 },
};

/* Which key each flag sets. */
static const struct conf_flag flag_keys[] = {
	{ 'i', &top_keys[T_ID] }, { 'l', &top_keys[T_LISTEN] },
	{ 's', &top_keys[T_CONTROL] }, { O_STATUS, &top_keys[T_STATUS] },
	{ 'S', &top_keys[T_STORE] }, { O_RECOVER, &top_keys[T_RECOVER] },
	{ O_GRACE, &top_keys[T_GRACE] },
	{ O_CA, &tls_keys[0] }, { O_CERT, &tls_keys[1] }, { O_KEY, &tls_keys[2] },
	{ O_DUP_MOVES, &dup_keys[0] }, { O_DUP_WINDOW, &dup_keys[1] },
	{ O_MAX_SESSIONS, &limit_keys[L_MAX_SESSIONS] }, { O_MAX_UNIX, &limit_keys[L_MAX_UNIX] },
	{ O_MAX_PRE_HELLO, &limit_keys[L_MAX_PRE_HELLO] }, { O_HELLO_TO, &limit_keys[L_HELLO_TO] },
	{ O_IDLE_TO, &limit_keys[L_IDLE_TO] }, { O_MAX_LEARNED, &limit_keys[L_MAX_LEARNED] },
	{ O_HOST_EXPIRY, &limit_keys[L_HOST_EXPIRY] },
};

void fabricd_cfg_defaults(struct fabricd_cfg *c)
{
	*c = (struct fabricd_cfg){
		.control_socket = FABRICD_DEFAULT_SOCKET,
		.store = FABRICD_DEFAULT_STORE,
		.log_level = LOG_LVL_INFO,
		.grace_ms = 3000,
		.dup = { 5, 180 },
		.lim = { .max_pre_hello = 128, .hello_timeout_ms = 5000, .idle_timeout_ms = 60000,
			 .host_expiry_s = 86400, .max_unix_sessions = 64, .max_learned = 262144 },
	};
}

static int parse_root(struct conf_ctx *x, yaml_node_t *root)
{
	int seen[CONF_MAX_KEYS] = { 0 };

	return conf_parse_map(x, root, x->user, top_keys, "the top level", seen);
}

/* What no single key can say: TLS goes with a TCP listener, and only with one. */
static int check(const struct fabricd_cfg *c, const char *where, char *err, size_t errlen)
{
	bool tls = c->tls.ca[0] || c->tls.cert[0] || c->tls.key[0];

	if (tls && !c->listen[0])
		return conf_errorf(err, errlen, "%s: tls (--ca, --cert, --key) is for the TCP "
				  "listener: give listen (-l ADDR:PORT)", where);
	if (c->listen[0] && !(c->tls.ca[0] && c->tls.cert[0] && c->tls.key[0]))
		return conf_errorf(err, errlen, "%s: listen %s is mutual TLS: it needs tls ca, cert "
				  "and key (--ca, --cert, --key)", where, c->listen);
	if (c->recover && !strcmp(c->store, "none"))
		return conf_errorf(err, errlen, "%s: recover needs a store", where);
	return 0;
}

int fabricd_cfg_load(const char *path, const struct daemon *dm, struct fabricd_cfg *out,
		     char *err, size_t errlen)
{
	struct fabricd_cfg c;

	fabricd_cfg_defaults(&c);
	if (path && conf_load(path, err, errlen, &c, parse_root, NULL) < 0)
		return -1;
	if (conf_apply_flags(dm->flags, dm->nflags, longopts, flag_keys,
			     sizeof(flag_keys) / sizeof(flag_keys[0]), &c, err, errlen) < 0)
		return -1;
	/* The common --metrics and --log-file (lib/daemon) are keys here too. */
	if (dm->metrics && conf_apply_flag("--metrics", dm->metrics, &c, &top_keys[T_METRICS],
					   err, errlen) < 0)
		return -1;
	if (dm->log_file && conf_apply_flag("--log-file", dm->log_file, &c, &top_keys[T_LOG_FILE],
					    err, errlen) < 0)
		return -1;
	if (check(&c, path ? path : "options", err, errlen) < 0)
		return -1;
	*out = c;
	return 0;
}

void fabricd_cfg_print(const struct fabricd_cfg *c, FILE *f)
{
	if (c->id[0])
		conf_put_key(f, "", "id", c->id);
	else
		fputs("# id: the certificate's, else the hostname\n", f);
	if (c->listen[0]) {
		conf_put_key(f, "", "listen", c->listen);
		fputs("tls:\n", f);
		conf_put_key(f, "  ", "ca", c->tls.ca);
		conf_put_key(f, "  ", "cert", c->tls.cert);
		conf_put_key(f, "  ", "key", c->tls.key);
	}
	conf_put_key(f, "", "control_socket", c->control_socket);
	if (c->status_socket[0])
		conf_put_key(f, "", "status_socket", c->status_socket);
	conf_put_key(f, "", "store", c->store);
	fprintf(f, "recover: %s\n", c->recover ? "true" : "false");
	fprintf(f, "log_level: %s\n", conf_log_level_name(c->log_level));
	if (c->log_file[0])
		conf_put_key(f, "", "log_file", c->log_file);
	if (c->metrics[0])
		conf_put_key(f, "", "metrics", c->metrics);
	fprintf(f, "grace_ms: %u\n", c->grace_ms);
	fprintf(f, "duplicates:\n  moves: %u\n  window_s: %u\n", c->dup.moves, c->dup.window_s);
	fprintf(f, "limits:\n");
	fprintf(f, "  max_sessions: %u%s\n", c->lim.max_sessions,
		c->lim.max_sessions ? "" : "  # what ulimit -n leaves room for");
	fprintf(f, "  max_unix_sessions: %u\n", c->lim.max_unix_sessions);
	fprintf(f, "  max_pre_hello: %u\n", c->lim.max_pre_hello);
	fprintf(f, "  hello_timeout_ms: %u\n", c->lim.hello_timeout_ms);
	fprintf(f, "  idle_timeout_ms: %u\n", c->lim.idle_timeout_ms);
	fprintf(f, "  max_learned_per_host: %u\n", c->lim.max_learned);
	fprintf(f, "  host_expiry_s: %u\n", c->lim.host_expiry_s);
}
