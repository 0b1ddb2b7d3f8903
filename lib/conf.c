/* conf.c - the YAML loader, key tables and value parsers every daemon's config uses; see
 * conf.h. */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "conf.h"
#include "daemon.h"
#include "log.h"

int conf_fail(struct conf_ctx *x, int line, const char *fmt, ...)
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

int conf_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

yaml_node_t *conf_item(struct conf_ctx *x, const yaml_node_item_t *it)
{
	return yaml_document_get_node(x->doc, *it);
}

const char *conf_type_name(const yaml_node_t *n)
{
	if (n->type == YAML_SCALAR_NODE && !n->data.scalar.length)
		return "empty";
	return n->type == YAML_SCALAR_NODE ? "a scalar" :
	       n->type == YAML_SEQUENCE_NODE ? "a sequence" : "a mapping";
}

const char *conf_scalar(struct conf_ctx *x, const yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SCALAR_NODE)
		conf_fail(x, conf_line(n), "%s must be a scalar, not %s", what, conf_type_name(n));
	else if (!n->data.scalar.length)
		conf_fail(x, conf_line(n), "%s has no value", what);
	else if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		conf_fail(x, conf_line(n), "%s contains a NUL character", what);
	else
		return (const char *)n->data.scalar.value;
	return NULL;
}

int conf_check_seq(struct conf_ctx *x, const yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return conf_fail(x, conf_line(n), "%s must be a sequence, not %s", what,
				 conf_type_name(n));
	return 0;
}

int conf_parse_map(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *keys,
		   const char *where, int *seen)
{
	yaml_node_pair_t *p;

	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(x->doc, p->key);
		const char *name;
		int i;

		if (kn->type != YAML_SCALAR_NODE)
			return conf_fail(x, conf_line(kn), "a key must be a scalar, not %s",
					 conf_type_name(kn));
		name = (const char *)kn->data.scalar.value;
		for (i = 0; keys[i].name && strcmp(keys[i].name, name); i++)
			;
		if (!keys[i].name)
			return conf_fail(x, conf_line(kn), "unknown key '%s' in %s", name, where);
		if (i >= CONF_MAX_KEYS)
			return conf_fail(x, conf_line(kn), "key table of %s too long", where);
		if (seen[i])
			return conf_fail(x, conf_line(kn), "duplicate key '%s' (first at line %d)",
					 name, seen[i]);
		seen[i] = conf_line(kn);
		if (keys[i].parse(x, yaml_document_get_node(x->doc, p->value), base, &keys[i]) < 0)
			return -1;
	}
	return 0;
}

int conf_check_required(struct conf_ctx *x, int line, const struct conf_key *keys,
			const int *seen, const char *where)
{
	for (int i = 0; keys[i].name; i++)
		if (keys[i].required && !seen[i])
			return conf_fail(x, line, "missing '%s' in %s", keys[i].name, where);
	return 0;
}

int conf_parse_section(struct conf_ctx *x, yaml_node_t *n, void *base,
		       const struct conf_key *k)
{
	int seen[CONF_MAX_KEYS] = { 0 };

	if (n->type != YAML_MAPPING_NODE)
		return conf_fail(x, conf_line(n), "%s must be a mapping, not %s", k->name,
				 conf_type_name(n));
	if (conf_parse_map(x, n, base, k->sub, k->name, seen) < 0)
		return -1;
	return conf_check_required(x, conf_line(n), k->sub, seen, k->name);
}

const char *conf_name_problem(const char *s)
{
	if (strlen(s) >= 64)
		return "is longer than 63 characters";
	if (!*s || strspn(s, NAME_CHARS) != strlen(s))
		return "has characters outside [A-Za-z0-9_.-]";
	return NULL;
}

int conf_parse_name_into(struct conf_ctx *x, yaml_node_t *n, char *dst, const char *what)
{
	const char *s = conf_scalar(x, n, what);
	const char *why;

	if (!s)
		return -1;
	why = conf_name_problem(s);
	if (why)
		return conf_fail(x, conf_line(n), "%s '%s' %s", what, s, why);
	strcpy(dst, s);
	return 0;
}

int conf_parse_name(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k)
{
	return conf_parse_name_into(x, n, (char *)base + k->off, k->name);
}

/* The rules of the kernel's dev_valid_name(). */
int conf_parse_ifname(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k)
{
	const char *s = conf_scalar(x, n, k->name);

	if (!s)
		return -1;
	if (strlen(s) >= IF_NAMESIZE)
		return conf_fail(x, conf_line(n), "interface name '%s' is longer than %d characters",
				 s, IF_NAMESIZE - 1);
	if (!strcmp(s, ".") || !strcmp(s, "..") || strpbrk(s, "/: \t\n\v\f\r"))
		return conf_fail(x, conf_line(n), "interface name '%s' is not valid", s);
	strcpy((char *)base + k->off, s);
	return 0;
}

static int put_string(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k,
		      const char *s)
{
	if (strlen(s) >= k->size)
		return conf_fail(x, conf_line(n), "%s is %zu bytes long, at most %zu allowed",
				 k->name, strlen(s), k->size - 1);
	strcpy((char *)base + k->off, s);
	return 0;
}

int conf_parse_path(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k)
{
	const char *s = conf_scalar(x, n, k->name);

	if (!s)
		return -1;
	if (s[0] != '/')
		return conf_fail(x, conf_line(n), "%s '%s' is not an absolute path", k->name, s);
	return put_string(x, n, base, k, s);
}

int conf_parse_checked(struct conf_ctx *x, yaml_node_t *n, void *base,
		       const struct conf_key *k)
{
	const char *s = conf_scalar(x, n, k->name);

	if (!s)
		return -1;
	if (strlen(s) >= k->size)
		return put_string(x, n, base, k, s);
	if (k->check(s) < 0)
		return conf_fail(x, conf_line(n), "%s '%s' is not %s", k->name, s, k->what);
	return put_string(x, n, base, k, s);
}

int conf_listen_split(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	const char *p = colon ? colon + 1 : s;
	unsigned long v;
	char *end;

	if (!*p || strspn(p, "0123456789") != strlen(p))
		return -EINVAL;
	errno = 0;
	v = strtoul(p, &end, 10);
	if (errno || v < 1 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	if (!colon) {
		snprintf(host, hostlen, "127.0.0.1");
		return 0;
	}
	size_t len = (size_t)(colon - s);

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (!len || len >= hostlen)
		return -EINVAL;
	memcpy(host, s, len);
	host[len] = 0;
	return 0;
}

int conf_parse_listen(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k)
{
	const char *s = conf_scalar(x, n, k->name);
	char host[64];
	uint16_t port;

	if (!s)
		return -1;
	if (conf_listen_split(s, host, sizeof(host), &port) < 0)
		return conf_fail(x, conf_line(n), "%s '%s' is not [ADDR:]PORT", k->name, s);
	return put_string(x, n, base, k, s);
}

/* Decimal only: no '+', no leading zero (YAML 1.1 would read 010 as octal), no suffix.
 * A negative or too long number is out of range rather than junk. */
static int parse_uint(struct conf_ctx *x, yaml_node_t *n, const struct conf_key *k,
		      uint32_t *out)
{
	const char *s = conf_scalar(x, n, k->name);
	const char *p;
	uint64_t v = 0;

	if (!s)
		return -1;
	p = s[0] == '-' ? s + 1 : s;
	if (!*p || strspn(p, "0123456789") != strlen(p) || (p[0] == '0' && p[1]))
		return conf_fail(x, conf_line(n), "%s '%s' is not a decimal integer", k->name, s);
	for (; *p && v <= UINT32_MAX; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (s[0] == '-' || v < k->min || v > k->max)
		return conf_fail(x, conf_line(n), "%s %s out of range %u-%u", k->name, s, k->min,
				 k->max);
	if (k->multiple && v % k->multiple)
		return conf_fail(x, conf_line(n), "%s %s is not a multiple of %u", k->name, s,
				 k->multiple);
	*out = (uint32_t)v;
	return 0;
}

int conf_parse_u32(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k)
{
	return parse_uint(x, n, k, (uint32_t *)((char *)base + k->off));
}

int conf_parse_u8(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k)
{
	uint32_t v;

	if (parse_uint(x, n, k, &v) < 0)
		return -1;
	*((uint8_t *)base + k->off) = (uint8_t)v;
	return 0;
}

int conf_parse_bool(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k)
{
	const char *s = conf_scalar(x, n, k->name);
	bool *dst = (bool *)((char *)base + k->off);

	if (!s)
		return -1;
	if (strcmp(s, "true") && strcmp(s, "false"))
		return conf_fail(x, conf_line(n), "%s '%s' is not a boolean (true or false)",
				 k->name, s);
	*dst = !strcmp(s, "true");
	return 0;
}

static const char *const level_names[] = { "err", "warn", "info", "debug" };

const char *conf_log_level_name(int level)
{
	return level >= 0 && level <= LOG_LVL_DEBUG ? level_names[level] : "info";
}

int conf_parse_log_level(struct conf_ctx *x, yaml_node_t *n, void *base,
			 const struct conf_key *k)
{
	const char *s = conf_scalar(x, n, k->name);

	if (!s)
		return -1;
	for (int i = 0; i <= LOG_LVL_DEBUG; i++)
		if (!strcmp(s, level_names[i])) {
			*(enum log_level *)((char *)base + k->off) = (enum log_level)i;
			return 0;
		}
	return conf_fail(x, conf_line(n), "%s '%s' is not err, warn, info or debug", k->name, s);
}

static int yaml_fail(struct conf_ctx *x, const yaml_parser_t *parser)
{
	return conf_fail(x, (int)parser->problem_mark.line + 1, "%s",
			 parser->problem ? parser->problem : "YAML error");
}

static int parse_stream(struct conf_ctx *x, yaml_parser_t *parser,
			int (*root)(struct conf_ctx *x, yaml_node_t *map),
			int (*finish)(struct conf_ctx *x))
{
	yaml_node_t *top = yaml_document_get_root_node(x->doc);
	yaml_document_t extra;
	int ret;

	if (top && top->type != YAML_MAPPING_NODE)
		return conf_fail(x, conf_line(top), "the top level must be a mapping, not %s",
				 conf_type_name(top));
	if (top && root(x, top) < 0)
		return -1;
	if (!yaml_parser_load(parser, &extra))
		return yaml_fail(x, parser);
	top = yaml_document_get_root_node(&extra);
	ret = top ? conf_fail(x, conf_line(top), "more than one YAML document")
		  : finish ? finish(x) : 0;
	yaml_document_delete(&extra);
	return ret;
}

int conf_load(const char *path, char *err, size_t errlen, void *user,
	      int (*root)(struct conf_ctx *x, yaml_node_t *map), int (*finish)(struct conf_ctx *x))
{
	struct conf_ctx x = { .path = path, .err = err, .errlen = errlen, .user = user };
	yaml_parser_t parser;
	yaml_document_t doc;
	int ret = -1;
	FILE *f;

	f = fopen(path, "rb");
	if (!f)
		return conf_fail(&x, 0, "%s", strerror(errno));
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return conf_fail(&x, 0, "%s", strerror(ENOMEM));
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_fail(&x, &parser);
	} else {
		x.doc = &doc;
		ret = parse_stream(&x, &parser, root, finish);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	fclose(f);
	return ret;
}

int conf_apply_flag(const char *flag, const char *arg, void *base, const struct conf_key *k,
		    char *err, size_t errlen)
{
	struct conf_ctx x = { .path = flag, .err = err, .errlen = errlen };
	yaml_node_t n = { .type = YAML_SCALAR_NODE };

	n.data.scalar.value = (yaml_char_t *)arg;
	n.data.scalar.length = strlen(arg);
	n.start_mark.line = (size_t)-1;    /* conf_line() 0: no line to name */
	return k->parse(&x, &n, base, k);
}

int conf_errorf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *flag_name(int opt, const struct option *longopts, char *buf, size_t len)
{
	if (opt < 0x100) {
		snprintf(buf, len, "-%c", opt);
		return buf;
	}
	for (const struct option *o = longopts; o && o->name; o++)
		if (o->val == opt) {
			snprintf(buf, len, "--%s", o->name);
			return buf;
		}
	snprintf(buf, len, "option %d", opt);
	return buf;
}

int conf_apply_flags(const struct daemon_flag *flags, size_t n, const struct option *longopts,
		     const struct conf_flag *map, size_t nmap, void *base, char *err,
		     size_t errlen)
{
	char name[48];

	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < nmap && map[j].opt != flags[i].opt; j++)
			;
		if (j == nmap)
			return conf_errorf(err, errlen, "%s: not known",
					   flag_name(flags[i].opt, longopts, name, sizeof(name)));
		if (conf_apply_flag(flag_name(flags[i].opt, longopts, name, sizeof(name)),
				    flags[i].arg ? flags[i].arg : "true", base, map[j].k, err,
				    errlen) < 0)
			return -1;
	}
	return 0;
}

void conf_put_scalar(FILE *f, const char *s)
{
	size_t n = strlen(s);

	if (n && strspn(s, NAME_CHARS "/:") == n && s[0] != '-' && s[0] != ':' &&
	    s[n - 1] != ':') {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void conf_put_key(FILE *f, const char *indent, const char *key, const char *s)
{
	fprintf(f, "%s%s: ", indent, key);
	conf_put_scalar(f, s);
	fputc('\n', f);
}

int conf_check_fabricd(const char *fabricd, const struct conf_tls *tls, const char *id,
		       const char *where, char *err, size_t errlen)
{
	bool unix_ = !strncmp(fabricd, "unix:", 5);
	bool any = tls->ca[0] || tls->cert[0] || tls->key[0];

	if (!fabricd[0])
		return conf_errorf(err, errlen, "%s: no fabricd (fabricd, -F ADDR)", where);
	if (unix_ && any)
		return conf_errorf(err, errlen, "%s: tls is for fabricd over TCP (a Unix socket is "
				  "trusted by its file mode)", where);
	if (!unix_ && !(tls->ca[0] && tls->cert[0] && tls->key[0]))
		return conf_errorf(err, errlen, "%s: fabricd %s over TCP is mutual TLS: it needs tls "
				  "ca, cert and key (--ca, --cert, --key)", where, fabricd);
	if (unix_ && !id[0])
		return conf_errorf(err, errlen, "%s: id (-i ID) is needed without a certificate",
				  where);
	return 0;
}

void conf_put_fabricd(FILE *f, const char *fabricd, const struct conf_tls *tls)
{
	conf_put_key(f, "", "fabricd", fabricd);
	if (tls->ca[0]) {
		fputs("tls:\n", f);
		conf_put_key(f, "  ", "ca", tls->ca);
		conf_put_key(f, "  ", "cert", tls->cert);
		conf_put_key(f, "  ", "key", tls->key);
	}
}
