/*
 * nlq.h - netlink changes sent and acknowledged from the event loop: each request gets a
 * sequence number and the kernel's ack (0 or its error) is matched to it when it arrives,
 * so nothing on a hot path waits for the rtnl lock (docs/daemons.md, "Where blocking is
 * allowed"). Requests are answered in the order they were sent; one that is not answered
 * within NLQ_TIMEOUT_MS is given -ETIMEDOUT. A socket whose answers were lost (ENOBUFS)
 * fails what was pending with -ENOBUFS. One request, one copy, one ack: for a few changes at
 * a time (vipd's takeover, vtepd's learner); thousands go through lib/nlbatch (many per
 * sendmsg, one ack each).
 */
#ifndef L2_NLQ_H
#define L2_NLQ_H

#include <stddef.h>
#include <stdint.h>

#define NLQ_TIMEOUT_MS 2000
#define NLQ_MAX_PENDING 65536          /* beyond it nlq_send refuses (-EAGAIN) */

struct event_base;
struct nlmsghdr;
struct nlq;

/* err: 0, the kernel's -errno, -ETIMEDOUT, -ENOBUFS, or -ECANCELED (nlq_free). */
typedef void (*nlq_done)(void *ctx, int err, const struct nlmsghdr *req);

/* 0 or -errno. */
int nlq_new(struct event_base *base, struct nlq **out);
/* Copies req (NLM_F_REQUEST | NLM_F_ACK and a sequence number set), sends it, or queues it
 * when the socket is full; done (may be NULL) is called once, from the loop. 0, or -errno
 * and done is never called. */
int nlq_send(struct nlq *q, const struct nlmsghdr *req, nlq_done done, void *ctx);
size_t nlq_pending(const struct nlq *q);

struct nlq_stats {
	uint64_t sent, acked, refused, timeouts, lost;
};
const struct nlq_stats *nlq_stats(const struct nlq *q);
/* Every request still pending gets done(-ECANCELED). */
void nlq_free(struct nlq *q);

#endif
