/*
 * ctlsrv.h - a daemon's control socket (vipd, vtepd; fabricd has its API role) on proto/'s
 * framed protobuf sessions: fabricctl says Hello (role FABRICCTL), sends Requests, and each
 * gets one Reply from the daemon's handler, the same protocol as fabricd's API, so
 * fabricctl has one client stack (wire_call).
 *
 * Bounds: a client has CTLSRV_REQUEST_MS from accept, and from each reply, for its Hello
 * and a whole request, however it trickles them; at most CTLSRV_MAX_SESSIONS sessions, and
 * when they are full a newcomer closes the oldest one still waiting for its request (once it
 * is CTLSRV_EVICT_AFTER_MS old), else the oldest of all once it is CTLSRV_EVICT_BUSY_MS old
 * (a newcomer that finds neither is refused); requests are at most CTLSRV_MAX_REQUEST bytes;
 * at most CTLSRV_OUT_HWM bytes of replies are queued (reading stops there), and a reply the
 * client does not take within CTLSRV_WRITE_MS closes the session. A read-only socket (mode 0666) is the same with readonly set for the handler.
 */
#ifndef L2_CTLSRV_H
#define L2_CTLSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "addr.h"
#include "fabric.pb-c.h"

#define CTLSRV_MAX_SESSIONS 16
#define CTLSRV_REQUEST_MS 2000
#define CTLSRV_EVICT_AFTER_MS 250
#define CTLSRV_WRITE_MS 10000
#define CTLSRV_MAX_REQUEST (64u << 10)
#define CTLSRV_OUT_HWM (256u << 10)
#define CTLSRV_EVICT_BUSY_MS 3000

struct event_base;
struct ctlsrv;

/* What frees a reply's memory once it is sent: fn(arg), when fn is set. */
struct ctlsrv_cleanup {
	void (*fn)(void *arg);
	void *arg;
};

/* Every allocation of one reply, freed together once it is sent: a handler takes a pool with
 * ctlsrv_pool_new(cleanup) (NULL: out of memory) and builds its reply in it. After one
 * failed allocation every later one fails too, so a handler checks ctlsrv_pool_failed once,
 * at the end. */
struct ctlsrv_pool;
struct ctlsrv_pool *ctlsrv_pool_new(struct ctlsrv_cleanup *cleanup);
void *ctlsrv_palloc(struct ctlsrv_pool *pl, size_t size);   /* zeroed */
bool ctlsrv_pool_failed(const struct ctlsrv_pool *pl);
/* The pool takes p (malloc'd) and frees it with the rest. 0, or -ENOMEM and p is still the
 * caller's. */
int ctlsrv_pool_adopt(struct ctlsrv_pool *pl, void *p);

/* A reply's bytes fields pointing at an address or a MAC (which must outlive the reply). */
static inline ProtobufCBinaryData ctlsrv_addr(const struct ipaddr *a)
{
	return (ProtobufCBinaryData){ ipaddr_len(a), (uint8_t *)a->b };
}

static inline ProtobufCBinaryData ctlsrv_mac(const struct mac *m)
{
	return (ProtobufCBinaryData){ MAC_LEN, (uint8_t *)m->b };
}

/* Fills *reply (initialised, error unset) for req; readonly: the request came on the status
 * socket. */
typedef void (*ctlsrv_handler)(void *ctx, const L2f__Request *req, bool readonly,
			       L2f__Reply *reply, struct ctlsrv_cleanup *cleanup);

struct ctlsrv_stats {
	uint64_t accepted, requests;
	uint64_t deadline;                 /* closed: no whole request in time */
	uint64_t evicted;                  /* closed to make room for a newcomer */
	uint64_t refused;                  /* newcomers turned away: every session busy */
	uint64_t bad;                      /* closed: not fabricctl, not a Request, undecodable */
};

/* A Unix socket at path (its directory created if missing, a stale socket replaced, one a
 * live server holds refused with -EADDRINUSE), with the file mode given. NULL, *err = -errno. */
struct ctlsrv *ctlsrv_open(struct event_base *base, const char *path, unsigned int mode,
			   const char *id, L2f__Role role, bool readonly, ctlsrv_handler h,
			   void *ctx, int *err);
void ctlsrv_close(struct ctlsrv *s);
const struct ctlsrv_stats *ctlsrv_stats(const struct ctlsrv *s);
struct metrics_out;
/* l2f_<daemon>_control_requests_total and l2f_<daemon>_control_closed_total{reason} of s,
 * for a daemon's /metrics. */
void ctlsrv_metrics(struct metrics_out *m, const struct ctlsrv *s, const char *daemon);

#endif
