/*
 * conf.h - the YAML configuration files of every daemon: one loader (libyaml's document API)
 * that walks mappings through key tables, the common value parsers, and the printer of
 * normalized YAML for `-n`.
 *
 * A key table names each key, the parser of its value, where the value goes (an offset in
 * the struct being filled) and its range. Values are read by their text alone (quoting and
 * tags change nothing). Every error names the file and the 1-based line of the node at
 * fault: "FILE:LINE: problem". A daemon keeps its own tables and its cross-key checks; the
 * caller's struct is written only when the whole file is good.
 */
#ifndef L2_CONF_H
#define L2_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <yaml.h>

#define CONF_MAX_KEYS 24
#define EXIT_CONFIG 78 /* EX_CONFIG: what `-n` and a refused start exit with */
/* What names are made of (and what the printer leaves unquoted). */
#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

struct conf_ctx {
	const char *path;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
	void *user;                    /* the daemon's own loading state */
};

struct conf_key;
typedef int (*conf_parse_fn)(struct conf_ctx *x, yaml_node_t *n, void *base,
			     const struct conf_key *k);

struct conf_key {
	const char *name;
	conf_parse_fn parse;
	size_t off;                    /* of the field in the struct at base */
	size_t size;                   /* strings: the field's size, NUL included */
	uint32_t min, max, multiple;   /* integers only */
	bool required;
	const struct conf_key *sub;    /* conf_parse_section: the section's own table */
	int (*check)(const char *s);   /* conf_parse_checked: 0 when s is good */
	const char *what;              /* conf_parse_checked: what s must be, for the error */
};

/* Writes "PATH:LINE: problem" ("PATH: problem" when line is 0) and returns -1. */
int conf_fail(struct conf_ctx *x, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int conf_line(const yaml_node_t *n);
const char *conf_type_name(const yaml_node_t *n);
yaml_node_t *conf_item(struct conf_ctx *x, const yaml_node_item_t *it);
/* The text of a scalar with a value, or NULL after saying what is wrong with n. */
const char *conf_scalar(struct conf_ctx *x, const yaml_node_t *n, const char *what);
int conf_check_seq(struct conf_ctx *x, const yaml_node_t *n, const char *what);
/* Walks a mapping through a key table, noting in seen[] (CONF_MAX_KEYS entries) the line of
 * each key found; unknown and duplicate keys are errors. Required keys are the caller's to
 * check (conf_check_required, or its own message). */
int conf_parse_map(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *keys,
		   const char *where, int *seen);

/* Value parsers for key tables. */
int conf_parse_u32(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k);
int conf_parse_u8(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k);
int conf_parse_bool(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k);
int conf_parse_ifname(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k);
/* 1..63 characters of NAME_CHARS (node, host and group names, ids). */
int conf_parse_name(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k);
int conf_parse_name_into(struct conf_ctx *x, yaml_node_t *n, char *dst, const char *what);
/* "missing 'KEY' in WHERE" for the first required key not seen; 0 when all are there. */
int conf_check_required(struct conf_ctx *x, int line, const struct conf_key *keys,
			const int *seen, const char *where);
/* An absolute path that fits k->size. */
int conf_parse_path(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k);
/* A string that fits k->size and that k->check accepts ("KEY 'S' is not K->WHAT"). */
int conf_parse_checked(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k);
/* err, warn, info or debug, into an enum log_level. */
int conf_parse_log_level(struct conf_ctx *x, yaml_node_t *n, void *base,
			 const struct conf_key *k);
/* "[ADDR:]PORT" of a metrics endpoint, stored as written, checked by conf_listen_split. */
int conf_parse_listen(struct conf_ctx *x, yaml_node_t *n, void *base, const struct conf_key *k);
/* A mapping walked through k->sub. */
int conf_parse_section(struct conf_ctx *x, yaml_node_t *n, void *base,
		       const struct conf_key *k);
/* Why s is not a name, or NULL when it is one. */
const char *conf_name_problem(const char *s);
/* "[ADDR:]PORT" -> host ("127.0.0.1" when absent; brackets removed) and port 1..65535. */
int conf_listen_split(const char *s, char *host, size_t hostlen, uint16_t *port);

/* A command-line flag given for key k: arg read as k's value would be, into base. Errors say
 * "FLAG: problem". */
int conf_apply_flag(const char *flag, const char *arg, void *base, const struct conf_key *k,
		    char *err, size_t errlen);

/* "problem" into err, as a check of the whole configuration says it; returns -1. */
int conf_errorf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Which key each of a daemon's flags sets. */
struct conf_flag {
	int opt;                       /* getopt's value: the short letter or the long's val */
	const struct conf_key *k;
};
struct daemon_flag;
struct option;
/* Every flag in command-line order through its key, over what the file set in base; a flag
 * is named in errors as -x (a short one) or --long. A flag without an argument is "true".
 * 0, or -1 with "FLAG: problem" in err. */
int conf_apply_flags(const struct daemon_flag *flags, size_t n, const struct option *longopts,
		     const struct conf_flag *map, size_t nmap, void *base, char *err,
		     size_t errlen);

/* Loads path: one document whose root is a mapping (an empty file is an empty mapping),
 * handed to root(); then finish() once the whole file is read. -1 with err written. */
int conf_load(const char *path, char *err, size_t errlen, void *user,
	      int (*root)(struct conf_ctx *x, yaml_node_t *map), int (*finish)(struct conf_ctx *x));

/* Normalized output: a scalar plain when libyaml reads it back as the same string, double-
 * quoted otherwise; "INDENTkey: value\n". */
void conf_put_scalar(FILE *f, const char *s);
void conf_put_key(FILE *f, const char *indent, const char *key, const char *s);

/* An agent's session with fabricd (vtepd, switchd): fabricd's address ("unix:/PATH", or
 * HOST:PORT over mutual TLS) and the TLS files. */
struct conf_tls {
	char ca[256], cert[256], key[256];
};
/* Over TCP the three files are needed, over a Unix socket none and an id (there is no
 * certificate to take it from). 0, or -1 with "WHERE: problem" in err. */
int conf_check_fabricd(const char *fabricd, const struct conf_tls *tls, const char *id,
		       const char *where, char *err, size_t errlen);
/* fabricd and tls: as conf_put_key, a tls section when the files are set. */
void conf_put_fabricd(FILE *f, const char *fabricd, const struct conf_tls *tls);
const char *conf_log_level_name(int level);

#endif
