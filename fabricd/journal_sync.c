/*
 * journal_sync.c - the journal's group commit: one thread runs fdatasync() for the event loop.
 * The loop hands it "everything written up to seq S" under a mutex; while one fdatasync is in
 * flight, later requests only raise S, so the next fdatasync covers all of them at once. Each
 * completion is signalled on an eventfd that the event base watches, and the loop (never this
 * thread) tells the caller. After a failed fdatasync the thread syncs nothing more: Linux
 * reports a writeback error once, so a later success would not mean the lost pages are back.
 */
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "journal_priv.h"

struct syncer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;             /* to the thread: work, resume or stop */
	pthread_cond_t idle;             /* from the thread: an fdatasync has finished */
	/* under mu */
	int fd;
	uint64_t want;                   /* sync up to here */
	uint64_t done;                   /* durable up to here */
	int err;                         /* the failed sync's error, sticky */
	uint64_t err_seq;
	bool busy, paused, stop;
	uint64_t syncs, batch_last, batch_max;
	/* the event loop's side */
	int efd;
	struct event *ev;
	void (*on_done)(void *);
	void *arg;
};

static bool has_work(const struct syncer *s)
{
	return !s->paused && !s->err && s->want > s->done;
}

/* With mu held: one fdatasync, the lock dropped around it. */
static void sync_once(struct syncer *s)
{
	uint64_t target = s->want, one = 1;
	int fd = s->fd, r;

	s->busy = true;
	pthread_mutex_unlock(&s->mu);
	r = fdatasync(fd) < 0 ? -errno : 0;
	pthread_mutex_lock(&s->mu);
	s->busy = false;
	s->syncs++;
	if (r) {
		s->err = r;
		s->err_seq = target;
	} else if (target > s->done) {
		s->batch_last = target - s->done;
		if (s->batch_last > s->batch_max)
			s->batch_max = s->batch_last;
		s->done = target;
	}
	pthread_cond_broadcast(&s->idle);
	/* fails only when the counter is near overflow, and then a wake-up is pending anyway */
	while (write(s->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static void *sync_thread(void *arg)
{
	struct syncer *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->stop && !has_work(s))
			pthread_cond_wait(&s->wake, &s->mu);
		if (s->stop)
			break;
		sync_once(s);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void efd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct syncer *s = arg;
	uint64_t n;

	if (read(s->efd, &n, sizeof(n)) == sizeof(n))
		s->on_done(s->arg);
}

/* The thread blocks every signal: the daemon's handlers (libevent's) run on the loop's thread. */
static int start_thread(struct syncer *s)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&s->thread, NULL, sync_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -err;
}

static void syncer_free(struct syncer *s)
{
	if (s->ev)
		event_free(s->ev);
	if (s->efd >= 0)
		close(s->efd);
	pthread_cond_destroy(&s->idle);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int syncer_start(struct event_base *base, int fd, void (*on_done)(void *), void *arg,
		 struct syncer **out)
{
	struct syncer *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->wake, NULL);
	pthread_cond_init(&s->idle, NULL);
	s->fd = fd;
	s->on_done = on_done;
	s->arg = arg;
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->efd < 0) {
		err = -errno;
		goto fail;
	}
	s->ev = event_new(base, s->efd, EV_READ | EV_PERSIST, efd_cb, s);
	if (!s->ev || event_add(s->ev, NULL) < 0) {
		err = -ENOMEM;
		goto fail;
	}
	err = start_thread(s);
	if (err)
		goto fail;
	*out = s;
	return 0;
fail:
	syncer_free(s);
	return err;
}

void syncer_request(struct syncer *s, uint64_t seq)
{
	pthread_mutex_lock(&s->mu);
	if (seq > s->want) {
		s->want = seq;
		pthread_cond_signal(&s->wake);
	}
	pthread_mutex_unlock(&s->mu);
}

void syncer_poll(struct syncer *s, uint64_t *done, int *err, uint64_t *err_seq)
{
	pthread_mutex_lock(&s->mu);
	*done = s->done;
	*err = s->err;
	*err_seq = s->err_seq;
	pthread_mutex_unlock(&s->mu);
}

int syncer_pause(struct syncer *s)
{
	int err;

	pthread_mutex_lock(&s->mu);
	s->paused = true;
	while (s->busy)
		pthread_cond_wait(&s->idle, &s->mu);
	err = s->err;
	pthread_mutex_unlock(&s->mu);
	return err;
}

void syncer_resume(struct syncer *s, int fd, uint64_t durable)
{
	pthread_mutex_lock(&s->mu);
	s->fd = fd;
	if (durable > s->done)
		s->done = durable;
	s->paused = false;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->mu);
}

void syncer_stats(struct syncer *s, struct journal_stats *st)
{
	pthread_mutex_lock(&s->mu);
	st->syncs = s->syncs;
	st->sync_records_last = s->batch_last;
	st->sync_records_max = s->batch_max;
	pthread_mutex_unlock(&s->mu);
}

void syncer_stop(struct syncer *s)
{
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	syncer_free(s);
}
