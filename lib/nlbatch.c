/* nlbatch.c - rtnetlink batches acknowledged from the event loop; see nlbatch.h. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include "monotime.h"
#include "nl.h"
#include "nlbatch.h"

/* Answers read per loop turn, the rest next turn: more than one chunk's requests, so that
 * when all fail, reading keeps up with sending. */
#define READS_PER_TURN 2048
#define SPARE_CHUNKS 2                 /* kept for reuse; the others are freed when answered */
#define TICK_MS 250

struct rec {
	void *tag;
	uint32_t off;                  /* of the request in the chunk's buffer */
	bool answered;                 /* its error came: not failed again if answers are lost */
};

struct job {                           /* a batch: the requests between two commits */
	struct job *next;
	uint32_t chunks;               /* closed chunks not answered yet */
	uint32_t refused;
	int first_err;
	bool committed;
	nl_batch_done_cb done;
	void *ctx;
};

struct chunk {                         /* one sendmsg */
	struct chunk *next;
	struct job *job;
	uint32_t first_seq, count;
	size_t len;
	bool sent;
	struct monotime at;
	struct rec *recs;
	size_t caprecs;
	char buf[];
};

struct nl_batch {
	struct nl nl;
	size_t limit, cap;
	unsigned max_chunks, nchunks;
	struct chunk *head, *tail;     /* closed, oldest first: sent ones, then unsent ones */
	struct chunk *cur;             /* being built, NULL until the first request */
	struct chunk *spare;
	unsigned nspare;
	struct job *jobs, *jobs_tail;  /* oldest first; the tail is the one being queued */
	size_t pending;
	struct event *ev_read, *ev_write, *ev_timer, *ev_done;
	uint32_t seq;
	nl_batch_error_cb on_error;
	void *ctx;
	struct nl_batch_stats stats;
	char scratch[NL_BATCH_MSG_MAX];  /* a request built when no chunk could be had */
};

static int read_answers(struct nl_batch *b, int max);

static struct job *job_open(struct nl_batch *b)
{
	struct job *j;

	if (b->jobs_tail && !b->jobs_tail->committed)
		return b->jobs_tail;
	j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	if (b->jobs_tail)
		b->jobs_tail->next = j;
	else
		b->jobs = j;
	b->jobs_tail = j;
	return j;
}

/* The callbacks of the batches answered, oldest first (chunks are answered in order). */
static void run_done(struct nl_batch *b)
{
	while (b->jobs && b->jobs->committed && !b->jobs->chunks) {
		struct job *j = b->jobs;

		b->jobs = j->next;
		if (!b->jobs)
			b->jobs_tail = NULL;
		if (j->done)
			j->done(j->ctx, j->refused, j->first_err);
		free(j);
	}
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	run_done(arg);
}

static void chunk_release(struct nl_batch *b, struct chunk *c)
{
	if (b->nspare < SPARE_CHUNKS) {
		c->next = b->spare;
		b->spare = c;
		b->nspare++;
		return;
	}
	free(c->recs);
	free(c);
	b->nchunks--;
}

/* The head chunk is done with: answered, or failed. */
static void chunk_finish(struct nl_batch *b)
{
	struct chunk *c = b->head;

	b->head = c->next;
	if (!b->head)
		b->tail = NULL;
	b->pending -= c->count;
	c->job->chunks--;
	event_active(b->ev_done, 0, 0);
	chunk_release(b, c);
	if (!b->head || !b->head->sent)
		event_del(b->ev_timer);
}

static void refuse(struct nl_batch *b, struct chunk *c, uint32_t i, int err)
{
	const struct nlmsghdr *req = (const struct nlmsghdr *)(c->buf + c->recs[i].off);

	c->recs[i].answered = true;
	if (b->on_error && !b->on_error(b->ctx, err, req, c->recs[i].tag))
		return;
	b->stats.refused++;
	c->job->refused++;
	if (!c->job->first_err)
		c->job->first_err = err;
}

/* Every request of the head chunk not answered yet gets err; the chunk is finished. */
static void chunk_fail(struct nl_batch *b, int err)
{
	struct chunk *c = b->head;

	for (uint32_t i = 0; i < c->count; i++) {
		if (c->recs[i].answered)
			continue;
		if (err == -ENOBUFS)
			b->stats.lost++;
		else if (err == -ETIMEDOUT)
			b->stats.timeouts++;
		refuse(b, c, i, err);
	}
	chunk_finish(b);
}

static int chunk_send(struct nl_batch *b, struct chunk *c)
{
	struct nlmsghdr *last = (struct nlmsghdr *)(c->buf + c->recs[c->count - 1].off);

	last->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(b->nl.sk, c->buf, c->len) < 0)
		return -errno;
	c->sent = true;
	c->at = monotime_now();
	b->stats.sendmsgs++;
	return 0;
}

/* The first unsent chunk: 1 sent, 0 nothing to send, -EAGAIN to retry later. */
static int send_one(struct nl_batch *b)
{
	struct timeval tick = { 0, TICK_MS * 1000 };
	struct chunk *c = b->head;
	int ret;

	while (c && c->sent)
		c = c->next;
	if (!c)
		return 0;
	ret = chunk_send(b, c);
	if (ret == -EAGAIN || ret == -EWOULDBLOCK || ret == -ENOBUFS || ret == -ENOMEM)
		return -EAGAIN;
	if (!event_pending(b->ev_timer, EV_TIMEOUT, NULL))
		event_add(b->ev_timer, &tick);
	if (ret < 0) {
		/* Not sendable at all: its requests fail with that error; answers of the chunks
		 * before it are still due, so it is failed in its turn, by a timeout. */
		for (uint32_t i = 0; i < c->count; i++)
			refuse(b, c, i, ret);
		c->sent = true;
		c->at = monotime_add_us(monotime_now(), -NL_BATCH_TIMEOUT_MS * USEC_PER_MSEC);
	}
	return 1;
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
	struct nl_batch *b = arg;

	/* One chunk per turn: the kernel applies it within the sendmsg. The answers to the
	 * last one first: they must not pile up in the receive buffer. */
	read_answers(b, READS_PER_TURN);
	if (send_one(b) == 0)
		event_del(b->ev_write);
}

static void close_cur(struct nl_batch *b)
{
	struct chunk *c = b->cur;

	if (!c || !c->count)
		return;
	b->cur = NULL;
	c->job->chunks++;
	if (b->tail)
		b->tail->next = c;
	else
		b->head = c;
	b->tail = c;
	event_add(b->ev_write, NULL);
}

/* An answer: seq names the chunk (numbers are consecutive within one) and the request. */
static void answer(struct nl_batch *b, uint32_t seq, int err)
{
	struct chunk *c = b->head;

	while (c && c->sent && seq - c->first_seq >= c->count)
		c = c->next;
	if (!c || !c->sent)
		return;  /* a late answer to a chunk already failed */
	/* The chunks before it got no ack: the kernel dropped it. */
	while (b->head != c)
		chunk_fail(b, -ENOBUFS);
	if (err)
		refuse(b, c, seq - c->first_seq, err);
	if (seq - c->first_seq == c->count - 1)
		chunk_finish(b);
}

/* Reads what is queued on the socket, at most `max` reads. 0 once it is empty, 1 when more
 * may be there. */
static int read_answers(struct nl_batch *b, int max)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	for (int n = 0; n < max; n++) {
		ssize_t len = mnl_socket_recvfrom(b->nl.sk, buf, sizeof(buf));
		int rest = (int)len;

		if (len < 0 && errno == ENOBUFS) {
			while (b->head && b->head->sent)
				chunk_fail(b, -ENOBUFS);
			continue;
		}
		if (len < 0)
			return 0;
		for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(h, rest);
		     h = mnl_nlmsg_next(h, &rest)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

			/* Replies to GETs and foreign messages are not answers. */
			if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_pid != b->nl.portid ||
			    h->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				continue;
			answer(b, h->nlmsg_seq, e->error);
		}
	}
	return 1;
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	read_answers(arg, READS_PER_TURN);
}

/* Fails what is sent and unanswered for too long; what the socket holds is read first (an
 * answer queued while the caller was busy is not late). */
static void expire(struct nl_batch *b)
{
	struct monotime now;

	while (read_answers(b, READS_PER_TURN))
		;
	now = monotime_now();

	while (b->head && b->head->sent &&
	       monotime_diff_us(now, b->head->at) >= NL_BATCH_TIMEOUT_MS * USEC_PER_MSEC)
		chunk_fail(b, -ETIMEDOUT);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	expire(arg);
}

/* Blocking: sends every queued chunk (closed ones; see nl_batch_send_all for the rest),
 * reading the answers already there after each (the kernel answered within the sendmsg),
 * so that the errors of many chunks never pile up in the receive buffer. */
static void push_all(struct nl_batch *b)
{
	for (int tries = 0; tries < 1000; tries++) {
		int ret = send_one(b);

		if (ret == 0)
			break;
		if (ret < 0) {
			struct pollfd p = { .fd = nl_fd(&b->nl), .events = POLLOUT };

			poll(&p, 1, 10);
		}
		read_answers(b, READS_PER_TURN);
	}
	event_del(b->ev_write);
	if (b->head && !b->tail->sent)
		event_add(b->ev_write, NULL);
}

/* Blocking: reads answers until the head chunk is done with (answered or timed out). */
static void wait_head(struct nl_batch *b)
{
	struct chunk *c = b->head;

	if (c && !c->sent)
		push_all(b);
	if (c && !c->sent) {
		chunk_fail(b, -EIO);  /* the socket takes nothing: give up on it */
		return;
	}
	while (b->head == c && c && c->sent) {
		int64_t left = NL_BATCH_TIMEOUT_MS * USEC_PER_MSEC -
			       monotime_diff_us(monotime_now(), c->at);
		struct pollfd p = { .fd = nl_fd(&b->nl), .events = POLLIN };

		if (left <= 0 || poll(&p, 1, (int)(left / USEC_PER_MSEC) + 1) == 0) {
			expire(b);
			continue;
		}
		read_answers(b, READS_PER_TURN);
	}
}

static int grow_recs(struct chunk *c, size_t need)
{
	size_t n = c->caprecs ? c->caprecs * 2 : 512;
	struct rec *r;

	if (need <= c->caprecs)
		return 0;
	r = realloc(c->recs, n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	c->recs = r;
	c->caprecs = n;
	return 0;
}

static struct chunk *chunk_get(struct nl_batch *b)
{
	struct chunk *c = b->spare;

	if (!c && b->nchunks >= b->max_chunks && b->head) {
		/* Every chunk in use: wait for the oldest. */
		b->stats.waits++;
		push_all(b);
		if (!b->spare)
			wait_head(b);
		c = b->spare;
	}
	if (c) {
		b->spare = c->next;
		b->nspare--;
	} else {
		c = malloc(sizeof(*c) + b->cap);
		if (!c)
			return NULL;
		c->recs = NULL;
		c->caprecs = 0;
		b->nchunks++;
	}
	c->next = NULL;
	c->count = 0;
	c->len = 0;
	c->sent = false;
	c->job = NULL;
	return c;
}

struct nlmsghdr *nl_batch_msg(struct nl_batch *b)
{
	struct nlmsghdr *nlh;

	if (!b->cur)
		b->cur = chunk_get(b);
	/* Out of memory: built aside, and refused at nl_batch_add. */
	nlh = b->cur ? (struct nlmsghdr *)(b->cur->buf + b->cur->len) : (struct nlmsghdr *)b->scratch;
	memset(nlh, 0, NL_BATCH_MSG_MAX);
	nlh->nlmsg_len = (uint32_t)MNL_ALIGN(sizeof(*nlh));
	return nlh;
}

void nl_batch_add(struct nl_batch *b, struct nlmsghdr *nlh, void *tag)
{
	struct job *j = job_open(b);
	struct chunk *c = b->cur;

	b->stats.requests++;
	if (!j || !c || (char *)nlh != c->buf + c->len ||
	    grow_recs(c, c->count + 1) < 0) {
		if (b->on_error && !b->on_error(b->ctx, -ENOMEM, nlh, tag))
			return;
		b->stats.refused++;
		if (j) {
			j->refused++;
			if (!j->first_err)
				j->first_err = -ENOMEM;
		}
		return;
	}
	nlh->nlmsg_seq = ++b->seq;
	nlh->nlmsg_flags |= NLM_F_REQUEST;
	if (!c->count) {
		c->first_seq = nlh->nlmsg_seq;
		c->job = j;
	}
	c->recs[c->count++] = (struct rec){ .tag = tag, .off = (uint32_t)c->len };
	c->len += MNL_ALIGN(nlh->nlmsg_len);
	b->pending++;
	if (c->len >= b->limit)
		close_cur(b);
}

void nl_batch_commit(struct nl_batch *b, nl_batch_done_cb done, void *ctx)
{
	struct job *j = job_open(b);

	close_cur(b);
	if (!j) {
		if (done)
			done(ctx, 0, -ENOMEM);
		return;
	}
	j->committed = true;
	j->done = done;
	j->ctx = ctx;
	event_active(b->ev_done, 0, 0);
}

void nl_batch_send_all(struct nl_batch *b)
{
	close_cur(b);
	push_all(b);
}

void nl_batch_wait(struct nl_batch *b)
{
	nl_batch_send_all(b);
	while (b->head)
		wait_head(b);
	run_done(b);
}

size_t nl_batch_pending(const struct nl_batch *b)
{
	return b->pending;
}

unsigned nl_batch_chunks(const struct nl_batch *b)
{
	return b->nchunks - b->nspare;
}

const struct nl_batch_stats *nl_batch_stats(const struct nl_batch *b)
{
	return &b->stats;
}

uint32_t nl_batch_portid(const struct nl_batch *b)
{
	return b->nl.portid;
}

int nl_batch_fd(const struct nl_batch *b)
{
	return nl_fd(&b->nl);
}

int nl_batch_new(struct event_base *base, size_t limit, unsigned max_chunks, int sockbuf,
		 nl_batch_error_cb on_error, void *ctx, struct nl_batch **out)
{
	struct nl_batch *b = calloc(1, sizeof(*b));
	int ret, fd;

	if (!b)
		return -ENOMEM;
	ret = nl_open(&b->nl, 0);
	if (ret < 0) {
		free(b);
		return ret;
	}
	b->seq = b->nl.seq;
	b->limit = limit;
	b->cap = limit + NL_BATCH_MSG_MAX;
	b->max_chunks = max_chunks < 2 ? 2 : max_chunks;
	b->on_error = on_error;
	b->ctx = ctx;
	fd = nl_fd(&b->nl);
	ret = nl_set_bufsize(&b->nl, sockbuf);
	if (ret == 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		ret = -errno;
	if (ret < 0)
		goto fail;
	b->ev_read = event_new(base, fd, EV_READ | EV_PERSIST, on_read, b);
	b->ev_write = event_new(base, fd, EV_WRITE | EV_PERSIST, on_write, b);
	b->ev_timer = event_new(base, -1, EV_PERSIST, on_timer, b);
	b->ev_done = event_new(base, -1, 0, on_done, b);
	if (!b->ev_read || !b->ev_write || !b->ev_timer || !b->ev_done ||
	    event_add(b->ev_read, NULL) < 0) {
		ret = -ENOMEM;
		goto fail;
	}
	*out = b;
	return 0;
fail:
	nl_batch_free(b);
	return ret;
}

static void chunks_free(struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;

		free(c->recs);
		free(c);
		c = next;
	}
}

void nl_batch_free(struct nl_batch *b)
{
	if (!b)
		return;
	chunks_free(b->head);
	chunks_free(b->cur);
	chunks_free(b->spare);
	while (b->jobs) {
		struct job *j = b->jobs;

		b->jobs = j->next;
		free(j);
	}
	if (b->ev_read)
		event_free(b->ev_read);
	if (b->ev_write)
		event_free(b->ev_write);
	if (b->ev_timer)
		event_free(b->ev_timer);
	if (b->ev_done)
		event_free(b->ev_done);
	nl_close(&b->nl);
	free(b);
}
