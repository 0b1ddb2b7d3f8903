/*
 * config.h - switchd's configuration: switchd.yaml (switchd.yaml(5)) read through lib/conf,
 * the command-line flags applied over it, checked as a whole, printed back normalized by
 * `switchd -n`. A switch is told who it is (its certificate, or an id on a Unix socket) and
 * where fabricd is; its ports, its level, pod and position it finds itself (PortLand's LDP).
 */
#ifndef SWITCHD_CONFIG_H
#define SWITCHD_CONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "conf.h"
#include "daemon.h"
#include "ldp.h"
#include "log.h"
#include "paths.h"
#include "wire.h"

#define SWITCHD_BPF_DIR "/sys/fs/bpf/l2fabric"

struct switchd_cfg {
	char id[WIRE_ID_MAX];              /* empty: the certificate's */
	char fabricd[128];                 /* HOST:PORT (mutual TLS) or unix:/PATH */
	struct conf_tls tls;
	char control_socket[108];
	bool control_socket_set;           /* named: failing to open it stops switchd */
	char status_socket[108];           /* read-only status; empty: none */
	char bpf_dir[256];                 /* where this switch's maps are pinned: BPF_DIR/ID */
	enum log_level log_level;
	char log_file[256];
	char metrics[64];                  /* [ADDR:]PORT; empty: off */
	struct {
		uint32_t interval_ms;      /* the LDM period */
		uint32_t miss;             /* LDMs missed before a neighbour is lost */
		uint32_t host_timeout_ms;  /* a port silent this long has hosts */
	} ldp;
	uint32_t host_age_s;               /* an edge forgets a host this long quiet; 0: never */
	uint32_t vmid_hold_s;              /* ... and gives its vmid to no other host this long */
};

#define SWITCHD_HOST_AGE_S 300             /* a Linux bridge's default ageing time */
/* Longer than a sender that goes on sending keeps using a PMAC once fabricd has dropped it:
 * Linux holds an entry REACHABLE up to 1.5 x base_reachable_time (45 s) after the last
 * confirmation, then STALE, DELAY 5 s and 3 unicast probes of 1 s before it fails: 53 s. */
#define SWITCHD_VMID_HOLD_S 60

/* Defaults, then the file (when path is not NULL), then dm's flags; checked as a whole.
 * -1 with "FILE:LINE: problem" or "FLAG: problem" in err; *out is written only on success. */
int switchd_cfg_load(const char *path, const struct daemon *dm, struct switchd_cfg *out,
		     char *err, size_t errlen);
void switchd_cfg_print(const struct switchd_cfg *c, FILE *f);
/* The LDP timers the configuration gives (ldp_timers_why_not has checked them). */
struct ldp_timers switchd_cfg_timers(const struct switchd_cfg *c);

extern const struct daemon_spec switchd_spec;

#endif
