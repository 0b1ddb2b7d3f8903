/*
 * fabricd.h - the fabric manager's runtime: the directory, the sessions of agents (vtepd,
 * vipd) and of fabricctl, the API store on disk, and the restart grace period during which
 * full tables are held back until the agents that were known have reported again.
 */
#ifndef FABRICD_FABRICD_H
#define FABRICD_FABRICD_H

#include <stdbool.h>
#include <stdint.h>
#include "directory.h"
#include "wire.h"

struct event;
struct event_base;
struct wire_listener;

struct fabricd_stats {
	uint64_t sessions_opened;
	uint64_t sessions_closed_bad;      /* closed for a protocol violation */
	uint64_t reports;
	uint64_t learned_new, learned_moved, learned_stale, learned_duplicate;
	uint64_t updates_sent;
	uint64_t api_requests;
};

struct fabricd {
	struct event_base *base;
	struct directory dir;
	struct wire_listener *tcp, *unix_api;
	const char *store_path;
	char id[WIRE_ID_MAX + 1];
	bool in_grace;                     /* restart grace: no full tables yet */
	struct event *ev_grace;
	struct fabricd_stats stats;
};

/* session.c */
void session_accept(int fd, const char *peer, void *ctx);
/* The restart grace is over: every connected agent gets its full table. */
void session_grace_over(struct fabricd *fd);

/* store.c: the API's ports and the known hosts, so a restart rebuilds without waiting for
 * an orchestrator, and flood lists include hosts that have not reconnected yet. */
int store_load(struct fabricd *fd);
int store_save(const struct fabricd *fd);

#endif
