/* test_bounds.c - what the session layer bounds, on a real event_base: a peer that does not
 * read (the output high-water mark pauses reading it, and it is closed when it stays over),
 * wire_hold, and a listener out of descriptors (accepting pauses instead of spinning). */
#include <errno.h>
#include <event2/event.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "unixsock.h"
#include "wire.h"

struct side {
	struct wire *w;
	int msgs, hwm_on, hwm_off;
	bool closed;
	enum wire_close_kind kind;
};

static void on_hello(struct wire *w, void *ctx)
{
}

static void on_msg(struct wire *w, const L2f__Envelope *env, void *ctx)
{
	((struct side *)ctx)->msgs++;
}

static void on_close(struct wire *w, const char *why, void *ctx)
{
	struct side *s = ctx;

	s->closed = true;
	s->kind = wire_close_kind(w);
	s->w = NULL;
}

static void on_hwm(struct wire *w, bool over, void *ctx)
{
	struct side *s = ctx;

	if (over)
		s->hwm_on++;
	else
		s->hwm_off++;
}

static const struct wire_ops ops = {
	.on_hello = on_hello,
	.on_msg = on_msg,
	.on_close = on_close,
	.on_hwm = on_hwm,
};

static L2f__Hello hello_of(const char *id, L2f__Role role)
{
	L2f__Hello h = L2F__HELLO__INIT;

	h.version = PROTO_VERSION;
	h.role = role;
	h.id = (char *)id;
	return h;
}

static void run_for(struct event_base *base, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* A status Request: small to send, and what the peer sends until we stop reading it. */
static int send_status(struct wire *w)
{
	L2f__Envelope env = L2F__ENVELOPE__INIT;
	L2f__Request q = L2F__REQUEST__INIT;

	q.op_case = L2F__REQUEST__OP_STATUS;
	q.status = true;
	env.msg_case = L2F__ENVELOPE__MSG_REQUEST;
	env.request = &q;
	return wire_send(w, &env);
}

/* A Reply of about 1 KiB, to fill the other side's socket. */
static int send_big(struct wire *w)
{
	static char err[1024];
	L2f__Envelope env = L2F__ENVELOPE__INIT;
	L2f__Reply r = L2F__REPLY__INIT;

	memset(err, 'x', sizeof(err) - 1);
	r.error = err;
	env.msg_case = L2F__ENVELOPE__MSG_REPLY;
	env.reply = &r;
	return wire_send(w, &env);
}

/* b has a high-water mark and a peer (a) that sends requests but never reads: once b's output
 * is over the mark, b stops reading a's requests; a still over it after stuck_ms is closed. */
static void test_hwm_pauses_then_closes(void **state)
{
	struct event_base *base = event_base_new();
	struct side a = { 0 }, b = { 0 };
	L2f__Hello ha = hello_of("reader", L2F__ROLE__ROLE_FABRICCTL);
	L2f__Hello hb = hello_of("fm", L2F__ROLE__ROLE_FABRICD);
	int sv[2], small = 4096, delivered;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	a.w = wire_new(base, sv[0], &ha, &ops, &a);
	b.w = wire_new(base, sv[1], &hb, &ops, &b);
	wire_set_hwm(b.w, 64 << 10, 300);
	run_for(base, 50);
	/* a stops reading: only b's output grows */
	wire_hold(a.w, true);
	for (int i = 0; i < 200; i++)
		assert_int_equal(send_big(b.w), 0);
	assert_true(wire_pending(b.w) > 64 << 10);
	assert_int_equal(b.hwm_on, 1);
	for (int i = 0; i < 20; i++)
		assert_int_equal(send_status(a.w), 0);
	run_for(base, 100);
	delivered = b.msgs;
	assert_int_equal(delivered, 0);             /* over the mark: not read */
	run_for(base, 400);
	assert_true(b.closed);                      /* stayed over it for stuck_ms */
	assert_int_equal(b.kind, WIRE_CLOSE_STUCK);
	if (a.w)
		wire_close(a.w, "test over");
	event_base_free(base);
}

/* The same, with a reader that catches up: reading resumes below a quarter of the mark and
 * every request is delivered; nothing is closed. */
static void test_hwm_resumes_when_drained(void **state)
{
	struct event_base *base = event_base_new();
	struct side a = { 0 }, b = { 0 };
	L2f__Hello ha = hello_of("reader", L2F__ROLE__ROLE_FABRICCTL);
	L2f__Hello hb = hello_of("fm", L2F__ROLE__ROLE_FABRICD);
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	a.w = wire_new(base, sv[0], &ha, &ops, &a);
	b.w = wire_new(base, sv[1], &hb, &ops, &b);
	wire_set_hwm(b.w, 64 << 10, 5000);
	run_for(base, 50);
	wire_hold(a.w, true);
	for (int i = 0; i < 400; i++)
		assert_int_equal(send_big(b.w), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(send_status(a.w), 0);
	run_for(base, 50);
	assert_int_equal(b.hwm_on, 1);
	wire_hold(a.w, false);                      /* a reads again */
	run_for(base, 300);
	assert_int_equal(b.hwm_off, 1);
	assert_int_equal(b.msgs, 20);
	assert_int_equal(a.msgs, 400);
	assert_false(a.closed || b.closed);
	wire_close(a.w, "test over");
	wire_close(b.w, "test over");
	event_base_free(base);
}

static void keep_fd(int fd, const char *peer, void *ctx)
{
	(*(int *)ctx)++;                            /* held: the descriptor stays used */
}

/* Out of descriptors, a listener pauses accepting (a few errors, a few pauses) instead of
 * retrying at once (an error per loop turn, thousands a second). */
static void test_accept_pauses_out_of_fds(void **state)
{
	char dir[] = "/tmp/test_bounds.XXXXXX", path[64];
	struct event_base *base = event_base_new();
	struct rlimit old, low;
	struct wire_listener *l;
	int accepted = 0, err, fd;
	pid_t child;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/l.sock", dir);
	l = wire_listen_unix(base, path, keep_fd, &accepted, &err);
	assert_non_null(l);
	/* a child connects 40 times (its own descriptors) and holds them */
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		for (int i = 0; i < 40; i++) {
			struct sockaddr_un sun = { .sun_family = AF_UNIX };

			fd = socket(AF_UNIX, SOCK_STREAM, 0);
			snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
			if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
				break;
		}
		sleep(3);
		_exit(0);
	}
	/* room for 10 more descriptors in this process */
	fd = dup(0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)fd + 10;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	run_for(base, 1000);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_true(accepted > 0 && accepted <= 10);
	assert_true(wire_listener_stats(l)->pauses >= 1);
	/* one error per pause of 100 ms, not one per loop turn */
	assert_true(wire_listener_stats(l)->accept_errors <= 12);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	wire_listener_free(l);
	event_base_free(base);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hwm_pauses_then_closes),
		cmocka_unit_test(test_hwm_resumes_when_drained),
		cmocka_unit_test(test_accept_pauses_out_of_fds),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
