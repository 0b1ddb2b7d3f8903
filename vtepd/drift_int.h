/*
 * drift_int.h - what drift.c (the repairs, start and stop, status) and drift_watch.c (the
 * rtnetlink monitor: which deletions are vtepd's and wanted, link changes, scheduling) share.
 * See drift.h.
 */
#ifndef VTEPD_DRIFT_INT_H
#define VTEPD_DRIFT_INT_H

#include <net/if.h>
#include <stdbool.h>
#include <event2/util.h>
#include <sys/socket.h>
#include <sys/time.h>
#include "drift.h"
#include "log.h"
#include "monotime.h"
#include "nl.h"
#include "strikes.h"
#include "vtepd.h"

#define REPAIR_DELAY_US (10 * USEC_PER_MSEC)     /* first deletion -> repair: a burst's span */
#define QUIET_US (5 * USEC_PER_MSEC)             /* a burst still going: wait for this quiet */
#define COALESCE_MAX_US (60 * USEC_PER_MSEC)     /* ... but no longer after its first deletion */
#define REPAIR_SHARE 10                          /* repairs take at most 1/10 of the time */
#define LINK_WINDOW_US (1 * USEC_PER_SEC)        /* a link change this close: the kernel's */
#define FULL_TABLE_WAIT_US (100 * USEC_PER_MSEC) /* a full table is arriving: look again */
#define PENDING_KEYS_MAX 1024                    /* deletions of one batch looked at */
#define REPAIR_KEYS_MAX 64                       /* at most: asked about one by one; more:
						  * the table is dumped */
#define STRIKES_MAX 5
#define STRIKES_WINDOW_US (30 * USEC_PER_SEC)
#define HOLD_US (300 * USEC_PER_SEC)
#define STRIKES_CAPACITY 16384
/* A flush of 10k neighbours is ~10k notifications of ~1 KiB each as skbs. */
#define MON_BUFSIZE (32 << 20)
#define MON_BUDGET 2048                          /* datagrams per wakeup */
#define DRAIN_MAX 65536                          /* read before a repair, at most */
#define RECV_BATCH 64                            /* datagrams per recvmmsg */
#define RECV_BYTES 8192                          /* a notification fits (MNL_SOCKET_BUFFER_SIZE) */

/* A deletion waiting for its repair. A neighbour's deletion by hand (RTM_DELNEIGH of
 * neigh_delete) carries no MAC any more (the entry is made FAILED first): whether vtepd wants
 * it is found out by its address, in a walk of the mirror before the repair. */
enum { PEND_WANTED, PEND_UNRESOLVED, PEND_NOT_WANTED };

struct pend {
	struct strike_key key;
	struct mac mac;               /* a neighbour's, once known */
	uint8_t state;
};

struct dseg {
	uint32_t vni;
	int br, vx;
	char bridge[IF_NAMESIZE];
	struct mac br_mac;
	bool br_up, vx_up, gone;
	int vx_master;
	int assign_type;              /* of the bridge's address, or -errno: unknown */
	unsigned dirty;               /* KREPAIR_* tables to repair */
	struct monotime first;        /* the first deletion (or change) the repair is for */
	struct monotime last;         /* the last deletion */
	struct monotime due;
	struct monotime link_at;      /* the last link change */
	struct monotime last_done;
	int64_t took_us;              /* the last repair's own time */
	bool forced;                  /* to repair even with no wanted deletion (a link change,
				       * lost notifications, a hold's end) */
	uint64_t pending;             /* wanted entries deleted since the last repair, and
				       * deletions beyond the first PENDING_KEYS_MAX */
	struct pend *keys;            /* the first PENDING_KEYS_MAX deletions */
	size_t nkeys, nunresolved;
	bool overflow;                /* there were more */
};

struct drift {
	struct vtepd *v;
	struct nl mon, req;
	struct event *ev_mon, *ev_repair, *ev_hold;
	struct dseg segs[MAX_SEGS];
	size_t nsegs;
	struct strikes strikes;
	/* The neighbour vtepd itself is deleting: neigh_delete makes it FAILED (notified with
	 * the requester's port) right before the RTM_DELNEIGH (notified without). */
	struct strike_key own_del;
	int own_del_ifindex;
	struct drift_stats c;
	struct ratelimit rl;
	struct {
		struct mmsghdr msgs[RECV_BATCH];
		struct iovec iov[RECV_BATCH];
		char bufs[RECV_BATCH][RECV_BYTES];
	} rx;
};

/* A device's state as drift tracks it. */
struct linkstate {
	bool have_mac;
	struct mac mac;
	int master;
	bool up;
};

/* drift_watch.c */
bool drift_want_has_ip(const struct want *w, const struct ipaddr *ip);
struct timeval drift_tv_us(int64_t us);
bool drift_mon_read(struct drift *d, int max);
void drift_arm(struct drift *d);
void drift_schedule_forced(struct drift *d, struct dseg *s, unsigned tables,
			    struct monotime now);
int drift_link_get(struct drift *d, int ifindex, struct linkstate *ls);
void drift_bridge_check(struct dseg *s, bool changed);
int drift_mon_filter(struct nl *nl);
void drift_on_mon(evutil_socket_t fd, short what, void *arg);
const char *drift_assign_name(int type);
#endif
