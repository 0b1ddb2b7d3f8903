/*
 * journal_compact.c - the journal's compaction. When the bytes appended since the last one
 * outgrow the file it left (compact_min_bytes, compact_ratio), a forked child writes the
 * caller's state as a fresh file PATH.compact and makes it durable, while the parent goes on
 * appending to the old file. The parent learns the child's result through a pipe whose write
 * end only the child holds (no SIGCHLD handler to share), then, in one short step, appends the
 * records written since the fork to the new file, makes it durable, renames it over PATH and
 * switches to it. A crash at any moment leaves PATH whole: the old file until the rename, the
 * complete new one from then on. A failed child costs nothing but a retry after a backoff.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "journal_priv.h"
#include "monotime.h"

#define SNAP_BUF (64u << 10)
#define COPY_BUF (64u << 10)
#define BACKOFF_MAX_S 300u

/* From the child to the parent, written once as the child's last act. */
struct snap_result {
	int64_t err;                     /* 0 or a negative errno */
	uint64_t records;                /* the caller's records in the new file */
	uint64_t bytes;                  /* the new file's size, header included */
};

/* The child's writer: records are buffered and written in large blocks. */
struct journal_snap {
	int fd;
	int err;                         /* the first error, sticky */
	uint64_t off;                    /* bytes handed to the file */
	uint64_t records;
	size_t used;
	uint8_t buf[SNAP_BUF];
};

struct compaction {
	pid_t pid;
	int rfd;                         /* read end of the child's result pipe */
	struct event *ev;
	uint64_t fork_size, fork_records;
	struct monotime started;
	struct snap_result res;
	size_t got;                      /* bytes of res received */
	bool garbled;                    /* more than a result came through the pipe */
};

static int snap_flush(struct journal_snap *s)
{
	if (!s->err && s->used) {
		s->err = journal_pwrite(s->fd, s->buf, s->used, s->off);
		s->off += s->used;
		s->used = 0;
	}
	return s->err;
}

static int snap_add(struct journal_snap *s, const uint8_t *rec, size_t len)
{
	uint8_t frame[JOURNAL_FRAME];
	struct iovec iov[2] = {
		{ .iov_base = frame, .iov_len = sizeof(frame) },
		{ .iov_base = (void *)rec, .iov_len = len },
	};

	journal_frame(frame, rec, len);
	if (s->used + JOURNAL_FRAME + len > SNAP_BUF && snap_flush(s))
		return s->err;
	if (JOURNAL_FRAME + len > SNAP_BUF) {
		/* larger than the buffer: straight to the file */
		if (!s->err)
			s->err = journal_pwritev(s->fd, iov, 2, s->off);
		s->off += JOURNAL_FRAME + len;
		return s->err;
	}
	memcpy(s->buf + s->used, frame, JOURNAL_FRAME);
	memcpy(s->buf + s->used + JOURNAL_FRAME, rec, len);
	s->used += JOURNAL_FRAME + len;
	return 0;
}

int journal_snapshot_put(struct journal_snap *s, const uint8_t *rec, size_t len)
{
	if (len == 0)
		return -EINVAL;
	if (len > JOURNAL_MAX_RECORD)
		return -EMSGSIZE;
	if (s->err || snap_add(s, rec, len))
		return s->err;
	s->records++;
	return 0;
}

/* The header, the caller's state, and an fdatasync: the new file, complete and durable. */
static int snapshot_write(struct journal *j, struct journal_snap *s)
{
	uint8_t hdr[JOURNAL_HEADER_LEN];
	int rc;

	journal_header_payload(hdr);
	snap_add(s, hdr, sizeof(hdr));
	rc = j->snapshot(s, j->ctx);
	if (rc)
		return rc < 0 ? rc : -EIO;
	if (snap_flush(s))
		return s->err;
	return fdatasync(s->fd) < 0 ? -errno : 0;
}

/* In the child, which shares nothing with the parent's loop or sync thread but memory as it
 * was at the fork: returns its exit status. */
static int snapshot_child(struct journal *j, int wfd)
{
	struct journal_snap *s = calloc(1, sizeof(*s));
	struct snap_result res = { .err = -ENOMEM };

	if (s) {
		s->fd = open(j->compact_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		res.err = s->fd < 0 ? -errno : snapshot_write(j, s);
		res.records = s->records;
		res.bytes = s->off;
	}
	if (write(wfd, &res, sizeof(res)) != (ssize_t)sizeof(res))
		return 2;
	return res.err ? 1 : 0;
}

/* The child's exit status; -1 when it is not ours to learn (SIGCHLD ignored: auto-reaped). */
static int reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static void compact_end(struct journal *j)
{
	struct compaction *c = j->cmp;

	event_free(c->ev);
	close(c->rfd);
	free(c);
	j->cmp = NULL;
}

static void compact_failed(struct journal *j, const char *what, int err)
{
	struct timeval tv;

	unlink(j->compact_path);
	j->st.compactions_failed++;
	if (err)
		j->st.last_error = err;
	if (j->failed)
		return;
	j->backoff_s = j->backoff_s ? j->backoff_s * 2 : 1;
	if (j->backoff_s > BACKOFF_MAX_S)
		j->backoff_s = BACKOFF_MAX_S;
	log_rl(&j->rl, LOG_LVL_WARN, "journal %s: compaction failed: %s%s%s; the journal is "
	       "intact, next try in %u s", j->path, what, err ? ": " : "",
	       err ? strerror(-err) : "", j->backoff_s);
	tv = (struct timeval){ .tv_sec = j->backoff_s };
	evtimer_add(j->ev_retry, &tv);
}

static int copy_tail(int from, uint64_t off, uint64_t end, int to, uint64_t to_off)
{
	uint8_t buf[COPY_BUF];

	while (off < end) {
		size_t n = end - off < sizeof(buf) ? (size_t)(end - off) : sizeof(buf);
		ssize_t r = pread(from, buf, n, (off_t)off);
		int err;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		err = journal_pwrite(to, buf, (size_t)r, to_off);
		if (err)
			return err;
		off += (uint64_t)r;
		to_off += (uint64_t)r;
	}
	return 0;
}

/* The child's file, completed with the records appended since the fork and made durable. */
static int complete_new(struct journal *j, const struct compaction *c, int nfd)
{
	struct stat st;
	int err;

	if (fstat(nfd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size != c->res.bytes)
		return -EIO;
	err = copy_tail(j->fd, c->fork_size, j->size, nfd, c->res.bytes);
	if (!err && fdatasync(nfd) < 0)
		err = -errno;
	return err;
}

static void adopt_new(struct journal *j, const struct compaction *c, int nfd)
{
	close(j->fd);
	j->fd = nfd;
	j->size = c->res.bytes + (j->size - c->fork_size);
	j->records = c->res.records + (j->records - c->fork_records);
	j->base_size = j->size;
	j->since_compact = 0;
}

/* The short step in the loop: the only one that waits on the disk, for the in-flight
 * fdatasync of the old file, then for the new file's. */
static void compact_finish(struct journal *j, const struct compaction *c)
{
	int err = syncer_pause(j->sync), nfd = -1;

	if (err || j->failed) {
		syncer_resume(j->sync, j->fd, 0);
		compact_failed(j, "the journal has failed", err);
		return;
	}
	nfd = open(j->compact_path, O_RDWR | O_CLOEXEC);
	err = nfd < 0 ? -errno : complete_new(j, c, nfd);
	if (!err && rename(j->compact_path, j->path) < 0)
		err = -errno;
	if (err) {
		if (nfd >= 0)
			close(nfd);
		syncer_resume(j->sync, j->fd, 0);
		compact_failed(j, "completing the new file", err);
		return;
	}
	adopt_new(j, c, nfd);
	/* Until the rename is durable a crash could bring back the old file, which lacks
	 * whatever the new one gets from now on: so appends wait for this fsync. */
	err = journal_sync_dir(j);
	syncer_resume(j->sync, j->fd, err ? 0 : j->seq);
	if (err) {
		journal_fail(j, err, "fsync of the directory after a compaction");
		compact_failed(j, "fsync of the directory", err);
		return;
	}
	j->st.compactions_ok++;
	j->st.last_compaction_us = monotime_diff_us(monotime_now(), c->started);
	j->st.last_compaction_bytes = j->size;
	j->backoff_s = 0;
	journal_report_durable(j);
}

/* The pipe reached EOF: the child is gone; what it said decides. */
static void child_done(struct journal *j)
{
	struct compaction c = *j->cmp;
	int status = reap(c.pid);
	char why[64];

	compact_end(j);
	if (c.got == sizeof(c.res) && !c.garbled && c.res.err == 0 && status <= 0) {
		compact_finish(j, &c);
		return;
	}
	if (c.got == sizeof(c.res) && c.res.err)
		snprintf(why, sizeof(why), "snapshot");
	else if (status > 128)
		snprintf(why, sizeof(why), "snapshot child killed by signal %d", status - 128);
	else
		snprintf(why, sizeof(why), "snapshot child exited with status %d", status);
	compact_failed(j, why, c.got == sizeof(c.res) ? (int)c.res.err : 0);
}

static void child_cb(evutil_socket_t fd, short what, void *arg)
{
	struct journal *j = arg;
	struct compaction *c = j->cmp;
	uint8_t buf[sizeof(c->res) + 1];
	ssize_t n = read(c->rfd, buf, sizeof(buf));
	size_t take;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		child_done(j);
		return;
	}
	take = (size_t)n < sizeof(c->res) - c->got ? (size_t)n : sizeof(c->res) - c->got;
	memcpy((uint8_t *)&c->res + c->got, buf, take);
	c->got += take;
	c->garbled |= take < (size_t)n;
}

static int compact_fork(struct journal *j, struct compaction *c)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	c->ev = event_new(j->base, p[0], EV_READ | EV_PERSIST, child_cb, j);
	if (!c->ev) {
		close(p[0]);
		close(p[1]);
		return -ENOMEM;
	}
	c->pid = fork();
	if (c->pid == 0) {
		close(p[0]);
		_exit(snapshot_child(j, p[1]));
	}
	close(p[1]);
	c->rfd = p[0];
	if (c->pid < 0) {
		event_free(c->ev);
		close(c->rfd);
		return -errno;
	}
	return 0;
}

int compact_start(struct journal *j)
{
	struct compaction *c;
	int err;

	if (!j->snapshot)
		return -EOPNOTSUPP;
	if (j->failed)
		return -EIO;
	if (j->cmp)
		return -EBUSY;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fork_size = j->size;
	c->fork_records = j->records;
	c->started = monotime_now();
	err = compact_fork(j, c);
	if (err) {
		free(c);
		return err;
	}
	event_add(c->ev, NULL);
	j->cmp = c;
	return 0;
}

void compact_maybe(struct journal *j)
{
	uint64_t limit = j->compact_ratio * j->base_size;
	int err;

	if (!j->snapshot || j->cmp || j->failed || evtimer_pending(j->ev_retry, NULL))
		return;
	if (limit < j->compact_min)
		limit = j->compact_min;
	if (j->since_compact <= limit)
		return;
	err = compact_start(j);
	if (err)
		compact_failed(j, "starting the snapshot child", err);
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	compact_maybe(arg);
}

int compact_init(struct journal *j)
{
	j->ev_retry = evtimer_new(j->base, retry_cb, j);
	return j->ev_retry ? 0 : -ENOMEM;
}

void compact_shutdown(struct journal *j)
{
	if (!j->cmp)
		return;
	kill(j->cmp->pid, SIGKILL);
	reap(j->cmp->pid);
	compact_end(j);
	unlink(j->compact_path);
}
