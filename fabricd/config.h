/*
 * config.h - fabricd's configuration: fabricd.yaml (fabricd.yaml(5)) read through lib/conf,
 * the command-line flags applied over it (a flag overrides its key), checked as a whole,
 * printed back normalized by `fabricd -n`.
 */
#ifndef FABRICD_CONFIG_H
#define FABRICD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "daemon.h"
#include "log.h"
#include "paths.h"
#include "wire.h"

#define FABRICD_DEFAULT_SOCKET FABRICD_SOCKET
#define FABRICD_DEFAULT_STORE FABRICD_STORE

/* What a peer may make fabricd hold (docs/protocol.md, "Limits"). */
struct fabricd_limits {
	uint32_t max_sessions;             /* TCP sessions (the Unix socket has its own cap) */
	uint32_t max_unix_sessions;        /* sessions on the Unix socket */
	uint32_t max_pre_hello;            /* sessions without an accepted Hello yet */
	uint32_t hello_timeout_ms;         /* from accept to an accepted Hello (TLS included) */
	uint32_t idle_timeout_ms;          /* an API session with nothing to do */
	uint32_t host_expiry_s;            /* a host with no session and no API port goes */
	uint32_t max_learned;              /* bindings one host's agent may hold */
};

struct fabricd_cfg {
	char id[WIRE_ID_MAX];              /* empty: the certificate's, else the hostname */
	char listen[128];                  /* agents' TCP listener; empty: none */
	struct { char ca[256], cert[256], key[256]; } tls;
	char control_socket[108];
	char status_socket[108];           /* read-only status; empty: none */
	char store[256];                   /* "none": keep nothing */
	bool recover;
	enum log_level log_level;
	char log_file[256];
	char metrics[64];                  /* [ADDR:]PORT; empty: off */
	uint32_t grace_ms;
	struct { uint32_t moves, window_s; } dup;
	struct fabricd_limits lim;
};

void fabricd_cfg_defaults(struct fabricd_cfg *c);
/* Defaults, then the file (when path is not NULL), then the flags of dm; checked as a whole.
 * -1 with "FILE:LINE: problem" or "FLAG: problem" in err; *out is written only on success. */
int fabricd_cfg_load(const char *path, const struct daemon *dm, struct fabricd_cfg *out,
		     char *err, size_t errlen);
void fabricd_cfg_print(const struct fabricd_cfg *c, FILE *f);

/* The daemon's own options (lib/daemon), which config.c applies over the file. */
extern const struct daemon_spec fabricd_spec;

#endif
