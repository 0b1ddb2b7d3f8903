/*
 * nlbatch.h - batches of rtnetlink changes, sent many per sendmsg and acknowledged from the
 * event loop (docs/daemons.md, "Where blocking is allowed").
 *
 * Requests are built one after another in a chunk (one buffer, one sendmsg once `limit` bytes
 * are reached). Only the last request of a chunk carries NLM_F_ACK; the others are answered
 * only when they fail, so thousands of changes cost a handful of syscalls and no ack
 * traffic: what makes vtepd about twice as fast as `bridge -batch` / `ip -batch`.
 *
 * A batch is what is queued between two nl_batch_commit calls: its completion callback runs
 * from the event loop once every chunk of it is answered, with the number of requests
 * refused and the first error. The answers are read from an event on the batch's own socket
 * and matched by sequence number: numbers are consecutive within a chunk, so a failure's
 * number names its request, which (with the caller's tag, say a counter to take back) is
 * still in the chunk's buffer for on_error. Chunks are sent from the loop, one per turn
 * (the kernel applies a sendmsg's requests within the call: a chunk is the longest the loop
 * stalls for them), and in order, on one socket: the kernel applies them in the order they
 * were queued. nl_batch_send_all sends what is queued at once, for a caller about to use
 * another socket (a dump must see what was queued before it).
 *
 * Lost answers fail what they belonged to, as far as the caller can tell: ENOBUFS on the
 * socket (the kernel dropped answers) fails every chunk sent and unanswered with -ENOBUFS, a
 * chunk without its ack NL_BATCH_TIMEOUT_MS after it was sent gets -ETIMEDOUT; on_error sees
 * each of their requests not answered yet. Counted in nl_batch_stats.
 *
 * Memory is bounded: at most `max_chunks` chunks exist (being built, queued, unanswered).
 * When all are in use, nl_batch_add sends what is queued and waits (blocking, at most the
 * timeout) for the oldest chunk's answers: a producer beyond the bound is slowed to the
 * kernel's pace. Callers that can should hold their input before that (nl_batch_pending).
 */
#ifndef L2_NLBATCH_H
#define L2_NLBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NL_BATCH_MSG_MAX 1024          /* largest single request a batch takes */
#define NL_BATCH_TIMEOUT_MS 2000

struct event_base;
struct nlmsghdr;
struct nl_batch;

/* A request was refused (err: the kernel's -errno, or -ENOBUFS / -ETIMEDOUT / -EIO when its
 * answer was lost or it could not be sent); tag is what nl_batch_add was given. Returns true
 * when it counts as refused in its batch (false: the caller takes that error as success). */
typedef bool (*nl_batch_error_cb)(void *ctx, int err, const struct nlmsghdr *req, void *tag);
/* A batch is answered: how many of its requests were refused, and the first error (0). */
typedef void (*nl_batch_done_cb)(void *ctx, uint32_t refused, int first_err);

/* limit: bytes per sendmsg; sockbuf: the socket's buffers (see nl_set_bufsize). 0 or -errno. */
int nl_batch_new(struct event_base *base, size_t limit, unsigned max_chunks, int sockbuf,
		 nl_batch_error_cb on_error, void *ctx, struct nl_batch **out);
/* Pending callbacks are dropped: call nl_batch_wait first to have them. NULL is fine. */
void nl_batch_free(struct nl_batch *b);

/* The next request's header, zeroed (NL_BATCH_MSG_MAX bytes), to fill with libmnl's put
 * functions; then nl_batch_add. */
struct nlmsghdr *nl_batch_msg(struct nl_batch *b);
/* Queues the request built at nl_batch_msg (sets seq, NLM_F_REQUEST) with the caller's tag.
 * May wait for answers when every chunk is in use (above). */
void nl_batch_add(struct nl_batch *b, struct nlmsghdr *nlh, void *tag);
/* Ends the batch being queued: done (may be NULL) runs from the loop once it is answered,
 * also when it is empty. */
void nl_batch_commit(struct nl_batch *b, nl_batch_done_cb done, void *ctx);
/* Sends every queued request now, the one being built included; answers come as usual. */
void nl_batch_send_all(struct nl_batch *b);
/* Blocking, for start-up and tools: sends everything, reads every answer (or times it out)
 * and runs the callbacks of the batches answered. */
void nl_batch_wait(struct nl_batch *b);

/* Requests queued or sent and not answered yet, and the chunks they take (of max_chunks). */
size_t nl_batch_pending(const struct nl_batch *b);
unsigned nl_batch_chunks(const struct nl_batch *b);

struct nl_batch_stats {
	uint64_t requests;             /* queued since nl_batch_new */
	uint64_t sendmsgs;
	uint64_t refused;              /* counted as refused by on_error, lost ones included */
	uint64_t lost;                 /* requests failed by ENOBUFS */
	uint64_t timeouts;             /* requests failed by NL_BATCH_TIMEOUT_MS */
	uint64_t waits;                /* nl_batch_add waited for a free chunk */
};
const struct nl_batch_stats *nl_batch_stats(const struct nl_batch *b);
uint32_t nl_batch_portid(const struct nl_batch *b);
/* Its socket, for socket options (the tests drop answers silently with NETLINK_NO_ENOBUFS). */
int nl_batch_fd(const struct nl_batch *b);

#endif
