/*
 * config.h - vipd's configuration: the YAML file parsed into plain structs, validated as a
 * whole before anything is applied, and printed back normalized (`vipd -n`).
 */
#ifndef VIPD_CONFIG_H
#define VIPD_CONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "addr.h"
#include "conf.h"
#include "log.h"
#include "paths.h"

#define VIPD_NAME_MAX 64
#define VIPD_MAX_GROUPS 256
#define VIPD_MAX_NODES 64
#define VIPD_MAX_ADDRS 64
#define VIPD_DEFAULT_SOCKET VIPD_SOCKET
/* ARP / NS answers one asker (source MAC and address) can draw: a bucket of this many,
 * refilled at this rate per second (srclimit.h). */
#define VIPD_DEFAULT_ANSWER_RATE 16
#define VIPD_DEFAULT_ANSWER_BURST 64
#define VIPD_ANSWER_LIMIT_MAX 1000000

struct vip_group_cfg {
	char name[VIPD_NAME_MAX];
	char ifname[IF_NAMESIZE];
	uint8_t vrid;                  /* 1..255 */
	bool priority_auto;
	uint8_t priority;              /* 1..254; when priority_auto, filled by vipd_cfg_load */
	uint32_t advert_interval_ms;   /* 10..40950, multiple of 10; default 100 */
	bool preempt;                  /* default true */
	bool assign;                   /* default false */
	uint32_t announce_count;       /* default 3, 1..100 */
	uint32_t announce_interval_ms; /* default 1100 (> Linux locktime of 1 s), 10..60000 */
	uint32_t refresh_interval_s;   /* default 60; 0 turns refresh off; max 86400 */
	struct ipaddr addrs[VIPD_MAX_ADDRS];
	size_t naddrs;
	/* A virtual MAC (RFC 5798 7.3): the VIPs live on a macvlan with this MAC, up on the
	 * master only, so that a backup discards frames sent to it (6.4.2). */
	bool has_vmac;
	struct mac vmac;
	char vmac_ifname[IF_NAMESIZE];  /* default "vr<vrid>-<interface>", cut to 15 chars */
	uint32_t fabric_vni;           /* report the master to fabricd as HA port (vni, vmac) */
	int line;                      /* where the group starts in the file, for messages */
};

struct vipd_cfg {
	char node[VIPD_NAME_MAX];      /* default: hostname */
	char control_socket[108];      /* sizeof(sun_path) */
	char status_socket[108];       /* read-only, mode 0666; empty: none */
	enum log_level log_level;      /* default info */
	char log_file[256];            /* empty: stderr, or syslog when detached */
	char metrics[64];              /* [ADDR:]PORT of the Prometheus endpoint; empty: off */
	char nodes[VIPD_MAX_NODES][VIPD_NAME_MAX];  /* optional: every node, for priority auto */
	size_t nnodes;
	uint32_t answer_rate;          /* answers per second per asker, 1..VIPD_ANSWER_LIMIT_MAX */
	uint32_t answer_burst;         /* answers an asker may draw at once, same range */
	struct vip_group_cfg *groups;
	size_t ngroups;
	struct {
		char connect[108];     /* "unix:/path" or "host:port"; empty: no fabricd */
		char host[VIPD_NAME_MAX];   /* fabricd's id of this hypervisor; default: node */
		char ca[256], cert[256], key[256];  /* TLS for a TCP connect: absolute paths */
	} fabric;
};

/* Parses and validates path. On failure returns -1 and writes "FILE:LINE: problem" into err;
 * *out is then untouched. On success the caller owns *out (vipd_cfg_free). */
int vipd_cfg_load(const char *path, struct vipd_cfg *out, char *err, size_t errlen);
void vipd_cfg_free(struct vipd_cfg *c);
/* The normalized YAML that `vipd -n` prints: every field, defaults filled in. */
void vipd_cfg_print(const struct vipd_cfg *c, FILE *f);
/* Same group, same behaviour: a reload leaves such a group running untouched. */
bool vip_group_cfg_eq(const struct vip_group_cfg *a, const struct vip_group_cfg *b);

/* priority: auto (see autoprio.c): this node's priority for group g. */
uint8_t vipd_auto_priority(const struct vipd_cfg *c, const struct vip_group_cfg *g);

#endif
