/*
 * api.h - what the two halves of the fabricctl role share: api.c (requests, the per-session
 * queue of replies, durability) and api_list.c (the listings, produced page by page).
 */
#ifndef FABRICD_API_H
#define FABRICD_API_H

#include "fabricd.h"

/* A page holds about this much; the next is produced once the output drained to a quarter of
 * the role's high-water mark. */
#define REPLY_PAGE_BYTES (1u << 20)
/* Listings in progress at once, over every session (each holds a snapshot of the keys). */
#define API_MAX_LISTINGS 16

struct pager;

/* The Port message of binding b, in one allocation (free()), pointing into the directory:
 * encode it before the directory changes. NULL without memory. */
L2f__Port *api_port_msg(const struct directory *d, const struct binding *b);

/* A listing of port_list, host_list or fdb_of_host: NULL with *why when it cannot start
 * (unknown host, API_MAX_LISTINGS in progress, no memory). */
struct pager *pager_new(struct fabricd *fd, const L2f__Request *q, const char **why);
/* Queues the next page on w: 1 when that was the last, 0 when more follow, -errno. */
int pager_next(struct pager *p, const struct fabricd *fd, struct wire *w);
void pager_free(struct pager *p);

#endif
