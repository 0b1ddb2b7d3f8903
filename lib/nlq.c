/* nlq.c - asynchronous rtnetlink requests; see nlq.h. */
#include <errno.h>
#include <event2/event.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "monotime.h"
#include "nlq.h"

struct req {
	struct req *next;
	uint32_t seq;
	bool sent;
	struct monotime at;
	nlq_done done;
	void *ctx;
	struct nlmsghdr nlh[];         /* the request, copied */
};

struct nlq {
	struct mnl_socket *sk;
	uint32_t seq;
	struct event *ev_read, *ev_write, *ev_timer;
	struct req *head, *tail;       /* oldest first: sent ones, then unsent ones */
	size_t n;
	struct nlq_stats stats;
};

static void finish(struct nlq *q, struct req *r, int err)
{
	q->head = r->next;
	if (!q->head)
		q->tail = NULL;
	q->n--;
	if (r->done)
		r->done(r->ctx, err, r->nlh);
	free(r);
}

/* Sends what is unsent, in order, until the socket is full. */
static void push(struct nlq *q)
{
	for (struct req *r = q->head; r; r = r->next) {
		if (r->sent)
			continue;
		if (mnl_socket_sendto(q->sk, r->nlh, r->nlh->nlmsg_len) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
				event_add(q->ev_write, NULL);
				return;
			}
			/* Not sendable at all: it is answered now, with that error. The ones after
			 * it wait their turn (answers keep the order of requests). */
			r->sent = true;
			r->seq = 0;
			continue;
		}
		r->sent = true;
		r->at = monotime_now();
		q->stats.sent++;
	}
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
	push(arg);
}

/* The oldest request unanswered beyond the timeout, and those that could not be sent. */
static void expire(struct nlq *q)
{
	struct monotime now = monotime_now();

	while (q->head && q->head->sent &&
	       (!q->head->seq ||
		monotime_diff_us(now, q->head->at) > (int64_t)NLQ_TIMEOUT_MS * USEC_PER_MSEC)) {
		q->stats.timeouts += q->head->seq != 0;
		finish(q, q->head, q->head->seq ? -ETIMEDOUT : -EIO);
	}
}

static void answer(struct nlq *q, uint32_t seq, int err)
{
	/* Answers come in the order of the requests: anything older that got none (a
	 * request the kernel answers only on error never comes here with NLM_F_ACK set)
	 * is answered as lost. */
	while (q->head && q->head->sent && q->head->seq != seq) {
		q->stats.lost++;
		finish(q, q->head, -ENOBUFS);
	}
	if (q->head && q->head->seq == seq) {
		if (err)
			q->stats.refused++;
		else
			q->stats.acked++;
		finish(q, q->head, err);
	}
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct nlq *q = arg;
	char buf[MNL_SOCKET_BUFFER_SIZE];

	for (int round = 0; round < 64; round++) {
		ssize_t len = mnl_socket_recvfrom(q->sk, buf, sizeof(buf));

		if (len < 0) {
			if (errno == ENOBUFS) {
				/* Answers were dropped: which ones is unknown. */
				while (q->head && q->head->sent) {
					q->stats.lost++;
					finish(q, q->head, -ENOBUFS);
				}
				continue;
			}
			break;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, (int)len);
		     h = mnl_nlmsg_next(h, (int *)&len)) {
			if (h->nlmsg_type == NLMSG_ERROR &&
			    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

				answer(q, h->nlmsg_seq, e->error);
			}
			/* A GET's replies before its ack are not this module's business. */
		}
	}
	push(q);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	expire(arg);
}

int nlq_new(struct event_base *base, struct nlq **out)
{
	struct timeval tick = { 0, 100000 };
	struct nlq *q = calloc(1, sizeof(*q));
	int one = 1, big = 4 << 20, fd;

	if (!q)
		return -ENOMEM;
	q->sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!q->sk || mnl_socket_bind(q->sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		if (q->sk)
			mnl_socket_close(q->sk);
		free(q);
		return err;
	}
	fd = mnl_socket_get_fd(q->sk);
	mnl_socket_setsockopt(q->sk, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(q->sk, NETLINK_EXT_ACK, &one, sizeof(one));
	/* Room for the answers of a burst; beyond net.core.rmem_max when CAP_NET_ADMIN allows. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	q->seq = (uint32_t)time(NULL);
	q->ev_read = event_new(base, fd, EV_READ | EV_PERSIST, on_read, q);
	q->ev_write = event_new(base, fd, EV_WRITE, on_write, q);
	q->ev_timer = event_new(base, -1, EV_PERSIST, on_timer, q);
	if (!q->ev_read || !q->ev_write || !q->ev_timer || event_add(q->ev_read, NULL) < 0 ||
	    event_add(q->ev_timer, &tick) < 0) {
		nlq_free(q);
		return -ENOMEM;
	}
	*out = q;
	return 0;
}

int nlq_send(struct nlq *q, const struct nlmsghdr *req, nlq_done done, void *ctx)
{
	struct req *r;

	if (q->n >= NLQ_MAX_PENDING)
		return -EAGAIN;
	r = malloc(sizeof(*r) + req->nlmsg_len);
	if (!r)
		return -ENOMEM;
	memcpy(r->nlh, req, req->nlmsg_len);
	r->nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (++q->seq == 0)
		q->seq = 1;
	r->nlh->nlmsg_seq = r->seq = q->seq;
	r->sent = false;
	r->done = done;
	r->ctx = ctx;
	r->next = NULL;
	if (q->tail)
		q->tail->next = r;
	else
		q->head = r;
	q->tail = r;
	q->n++;
	push(q);
	return 0;
}

size_t nlq_pending(const struct nlq *q)
{
	return q->n;
}

const struct nlq_stats *nlq_stats(const struct nlq *q)
{
	return &q->stats;
}

void nlq_free(struct nlq *q)
{
	if (!q)
		return;
	while (q->head)
		finish(q, q->head, -ECANCELED);
	if (q->ev_read)
		event_free(q->ev_read);
	if (q->ev_write)
		event_free(q->ev_write);
	if (q->ev_timer)
		event_free(q->ev_timer);
	mnl_socket_close(q->sk);
	free(q);
}
