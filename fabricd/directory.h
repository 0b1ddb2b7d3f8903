/*
 * directory.h - fabricd's directory: bindings (segment VNI, MAC) -> IP addresses and
 * location(s), each with a MAC-mobility sequence number, and the hosts (VTEPs) they live on.
 *
 * A binding's location: a plain port lives on one host (from the API, or learned from an
 * agent's report, which also moves it: MAC mobility, RFC 7432 15); an HA port lives on several
 * hosts and is reached either at its master (track) or at all of them (flood). What an agent
 * must program for a binding is derived from this (dir_fdb_for), never stored per agent.
 */
#ifndef FABRICD_DIRECTORY_H
#define FABRICD_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "addr.h"
#include "macmap.h"
#include "monotime.h"

#define DIR_HOST_ID_MAX 64
/* Host indexes are 16 bits wide in every binding; DIR_NO_HOST is none. */
#define DIR_MAX_HOSTS 0xfffe
#define DIR_MAX_IPS 16
#define DIR_MAX_PORT_HOSTS 8
#define DIR_NO_HOST 0xffff
#define DIR_MAX_VNIS 4096
/* A MAC-mobility sequence number reported is taken at most this far beyond the directory's. */
#define SEQ_MAX_JUMP 65536u

/* A host slot whose id is empty is free (a host that expired); its index is reused. */
struct host {
	char id[DIR_HOST_ID_MAX + 1];
	struct ipaddr vtep;
	uint32_t *vnis;                /* the segments its agent serves, heap, nvnis entries */
	uint16_t nvnis;
	void *session;                 /* the agent's session while connected, else NULL */
	struct monotime connected_at;
	struct monotime gone_at;       /* when its last session ended; 0: none seen yet */
	uint32_t nlearned;             /* bindings its agent holds (B_LEARNED, lhost here) */
};

enum binding_flags {
	B_API = 1 << 0,                /* created by the API (an orchestrator's port) */
	B_LEARNED = 1 << 1,            /* reported by an agent, on host lhost */
	B_HA_FLOOD = 1 << 2,           /* HA port in flood mode (else track) */
	B_DUPLICATE = 1 << 3,          /* moved too often: frozen where it is */
};

/* Kept small: the directory must hold a million bindings in < 256 bytes each. */
struct binding {
	uint32_t vni;
	uint8_t mac[MAC_LEN];
	uint8_t flags;
	uint8_t nips;
	uint8_t nhosts;                /* > 1: an HA port */
	uint8_t moves;                 /* moves in the current duplicate-detection window */
	uint16_t master;               /* HA track: host index of the master, DIR_NO_HOST */
	uint16_t hosts[DIR_MAX_PORT_HOSTS]; /* host indexes; [0] for a plain port */
	uint32_t window_start_s;       /* start of the duplicate-detection window */
	uint16_t lhost;                /* B_LEARNED: the host whose agent holds the MAC */
	uint8_t nlips;
	uint64_t seq;
	struct ipaddr *ips;            /* nips entries, heap */
	/* B_API | B_LEARNED: the addresses the agent reported (what ips would be without the
	 * API's port), nlips entries, heap; else NULL. A learned binding's are its ips. */
	struct ipaddr *lips;
	char *name;                    /* API port name, or NULL */
};

struct directory {
	struct macmap map;             /* (vni, mac) -> struct binding */
	struct host *hosts;            /* heap, cap_hosts slots, the first nhosts ever used */
	uint16_t nhosts, cap_hosts;
	uint16_t *host_index;          /* id hash -> host index + 1 (0: empty), open addressing */
	uint32_t host_index_size;      /* a power of two, at least twice nhosts */
	uint64_t host_seed;
	uint32_t dup_moves;            /* a MAC moving more than this ... */
	uint32_t dup_window_s;         /* ... within this many seconds is a duplicate */
};

/* What one agent must hold for one binding: the VTEPs to send the MAC to (none when the
 * binding is local to that agent only) and the addresses for ARP/ND suppression. */
struct fdb_view {
	uint32_t vni;
	uint8_t mac[MAC_LEN];
	struct ipaddr vteps[DIR_MAX_PORT_HOSTS];
	size_t nvteps;
	const struct ipaddr *ips;
	size_t nips;
	uint64_t seq;
	bool flood;                    /* HA flood mode: vteps are informative, no unicast entry */
};

int dir_init(struct directory *d, uint32_t dup_moves, uint32_t dup_window_s);
void dir_free(struct directory *d);

/* Hosts: found or added by id; the index is stable until dir_host_del. */
int dir_host(struct directory *d, const char *id);     /* index, or -ENOSPC / -EINVAL / -ENOMEM */
int dir_host_find(const struct directory *d, const char *id);   /* index or -ENOENT */
/* Sets host h's segments (a copy of n VNIs, n <= DIR_MAX_VNIS): 0, or -ENOMEM / -E2BIG with
 * the old list kept. */
int dir_host_set_vnis(struct directory *d, uint16_t h, const uint32_t *vnis, size_t n);
/* Frees host h's slot; the caller has removed every binding that names it. */
void dir_host_del(struct directory *d, uint16_t h);
/* Whether binding b names host h (as a port's host or where an agent holds it). */
bool dir_binding_on_host(const struct binding *b, uint16_t h);
bool host_has_vni(const struct host *h, uint32_t vni);

struct binding *dir_find(const struct directory *d, uint32_t vni, const uint8_t mac[MAC_LEN]);
/* Creates or replaces an API port; hosts are indexes. 0 or -errno. */
int dir_port_set(struct directory *d, uint32_t vni, const uint8_t mac[MAC_LEN],
		 const struct ipaddr *ips, size_t nips, const uint16_t *hosts, size_t nhosts,
		 bool ha_flood, const char *name, struct binding **out);
int dir_del(struct directory *d, uint32_t vni, const uint8_t mac[MAC_LEN]);
/* The API deletes its port. An agent that reported the MAC still holds it, and reports it
 * again only when it changes: the binding then stays as it would be without the API (learned,
 * on that host, with the addresses the agent reported). -ENOENT: no binding; -EINVAL: not an
 * API port (learned only), nothing changed; 0: deleted; 1: *out is the learned binding left. */
int dir_port_del(struct directory *d, uint32_t vni, const uint8_t mac[MAC_LEN],
		 struct binding **out);

enum learn_result {
	LEARN_NEW,                     /* a binding appeared */
	LEARN_MOVED,                   /* it moved to the reporting host */
	LEARN_UPDATED,                 /* same host, addresses or seq changed */
	LEARN_SAME,                    /* nothing changed */
	LEARN_STALE,                   /* lower sequence than we have: ignored */
	LEARN_FROZEN,                  /* a duplicate: not moved */
	LEARN_DUPLICATE,               /* this move made it a duplicate: not moved */
	LEARN_HA_IGNORED,              /* an HA port's location comes from its master only */
};

/* An agent on host `h` reports (vni, mac, ips) with sequence number seq, at time now_s.
 * Implements MAC mobility: a move takes seq max(reported, ours + 1), a reported one taken at
 * most SEQ_MAX_JUMP beyond ours and never wrapping; lower is stale. */
enum learn_result dir_learn(struct directory *d, uint16_t h, uint32_t vni,
			    const uint8_t mac[MAC_LEN], const struct ipaddr *ips, size_t nips,
			    uint64_t seq, uint32_t now_s, struct binding **out);
/* The agent on h no longer has the MAC: a learned binding located there goes; an API port
 * forgets what the agent reported. true when the binding was removed. */
bool dir_unlearn(struct directory *d, uint16_t h, uint32_t vni, const uint8_t mac[MAC_LEN]);
/* HA track: the master moved to host h. -ENOENT, -EINVAL (not an HA port of h), 0 moved,
 * 1 already there. */
int dir_set_master(struct directory *d, struct binding *b, uint16_t h);

/* Whether the agent on host h holds b's MAC (it reported it and did not withdraw it). */
static inline bool dir_learned_at(const struct binding *b, uint16_t h)
{
	return (b->flags & B_LEARNED) && b->lhost == h;
}

/* The view of binding b for the agent on host h (see struct fdb_view). */
void dir_fdb_for(const struct directory *d, const struct binding *b, uint16_t h,
		 struct fdb_view *out);
/* The flood list of vni for host h: every other host serving vni. Returns the count. */
size_t dir_flood_for(const struct directory *d, uint32_t vni, uint16_t h,
		     struct ipaddr *out, size_t max);

/* Iterates every binding; stops early when cb returns non-zero. cb must not add or delete. */
void dir_foreach(const struct directory *d, int (*cb)(struct binding *b, void *ctx), void *ctx);
size_t dir_count(const struct directory *d);

#endif
