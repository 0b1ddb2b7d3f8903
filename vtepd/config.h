/*
 * config.h - vtepd's configuration: vtepd.yaml (vtepd.yaml(5)) read through lib/conf, the
 * command-line flags applied over it (a flag overrides its key; -s adds a segment), checked
 * as a whole, printed back normalized by `vtepd -n`.
 */
#ifndef VTEPD_CONFIG_H
#define VTEPD_CONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "addr.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "paths.h"
#include "wire.h"

#define MAX_SEGS 64                    /* all of them go in one Hello */

struct vtepd_seg_cfg {
	uint32_t vni;                      /* 1..VNI_MAX, once each */
	char bridge[IF_NAMESIZE];
	int line;                          /* where it was given: 0 for -s */
};

struct vtepd_cfg {
	char id[WIRE_ID_MAX];              /* empty: the certificate's */
	char fabricd[128];                 /* HOST:PORT (mutual TLS) or unix:/PATH */
	struct conf_tls tls;
	char vtep_text[64];
	struct ipaddr vtep;
	char underlay[IF_NAMESIZE];        /* empty: none named */
	char control_socket[108];
	bool control_socket_set;           /* named: failing to open it stops vtepd */
	char status_socket[108];           /* read-only status; empty: none */
	enum log_level log_level;
	char log_file[256];
	char metrics[64];                  /* [ADDR:]PORT; empty: off */
	struct vtepd_seg_cfg segs[MAX_SEGS];
	size_t nsegs;
};

/* Defaults, then the file (when path is not NULL), then dm's flags; checked as a whole.
 * -1 with "FILE:LINE: problem" or "FLAG: problem" in err; *out is written only on success. */
int vtepd_cfg_load(const char *path, const struct daemon *dm, struct vtepd_cfg *out, char *err,
		   size_t errlen);
void vtepd_cfg_print(const struct vtepd_cfg *c, FILE *f);

extern const struct daemon_spec vtepd_spec;

#endif
