/*
 * journal.c - the journal's life cycle and its write path: open (the reading is in
 * journal_load.c), append with its rollback on a failed write, the end-of-turn kick that hands
 * the sync thread its batch (journal_sync.c) and starts compactions (journal_compact.c), the
 * durable reports, stats and close. See journal.h for the format and the guarantees.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "crc32c.h"
#include "journal_priv.h"

static const uint8_t journal_magic[8] = { 'l', '2', 'f', 'j', 'r', 'n', 'l', '\0' };

void journal_frame(uint8_t frame[JOURNAL_FRAME], const uint8_t *payload, size_t len)
{
	uint32_t nlen = htonl((uint32_t)len), crc;

	memcpy(frame, &nlen, 4);
	crc = htonl(crc32c(crc32c(0, frame, 4), payload, len));
	memcpy(frame + 4, &crc, 4);
}

void journal_header_payload(uint8_t out[JOURNAL_HEADER_LEN])
{
	uint32_t v = htonl(JOURNAL_VERSION);

	memcpy(out, journal_magic, sizeof(journal_magic));
	memcpy(out + sizeof(journal_magic), &v, 4);
}

/* Drops the iovecs a write of w bytes has completed and trims the partly written one. */
static int iov_advance(struct iovec *iov, int n, size_t w)
{
	int i = 0;

	while (i < n && w >= iov[i].iov_len)
		w -= iov[i++].iov_len;
	if (i < n) {
		iov[i].iov_base = (uint8_t *)iov[i].iov_base + w;
		iov[i].iov_len -= w;
	}
	return i;
}

int journal_pwritev(int fd, struct iovec *iov, int n, uint64_t off)
{
	int done = iov_advance(iov, n, 0);

	while (done < n) {
		ssize_t w = pwritev(fd, iov + done, n - done, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		off += (uint64_t)w;
		done += iov_advance(iov + done, n - done, (size_t)w);
	}
	return 0;
}

int journal_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return journal_pwritev(fd, &iov, 1, off);
}

int journal_sync_dir(const struct journal *j)
{
	int fd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		err = -errno;
	close(fd);
	return err;
}

int journal_write_fresh(struct journal *j)
{
	uint8_t rec[JOURNAL_FRAME + JOURNAL_HEADER_LEN];
	int fd, err = 0;

	journal_header_payload(rec + JOURNAL_FRAME);
	journal_frame(rec, rec + JOURNAL_FRAME, JOURNAL_HEADER_LEN);
	fd = open(j->tmp_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	err = journal_pwrite(fd, rec, sizeof(rec), 0);
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (!err && rename(j->tmp_path, j->path) < 0)
		err = -errno;
	if (err) {
		close(fd);
		unlink(j->tmp_path);
		return err;
	}
	/* Renamed: a failure now leaves a valid file, but one a crash might still take back. */
	err = journal_sync_dir(j);
	if (err) {
		close(fd);
		return err;
	}
	j->size = sizeof(rec);
	return fd;
}

void journal_fail(struct journal *j, int err, const char *what)
{
	j->st.last_error = err;
	if (j->failed)
		return;
	j->failed = true;
	log_err("journal %s: %s: %s; every change is refused until fabricd restarts", j->path,
		what, strerror(-err));
}

void journal_report_durable(void *arg)
{
	struct journal *j = arg;
	uint64_t done, err_seq;
	int err;

	syncer_poll(j->sync, &done, &err, &err_seq);
	if (done > j->seq_durable) {
		j->seq_durable = done;
		if (j->durable)
			j->durable(done, 0, j->ctx);
	}
	if (err && !j->sync_err_reported) {
		j->sync_err_reported = true;
		journal_fail(j, err, "fdatasync");
		if (j->durable)
			j->durable(err_seq, err, j->ctx);
	}
}

/* Runs once the callback that appended returns: everything appended during that turn (and
 * while a sync was in flight) becomes one batch, and the caller's state now includes every
 * record, which is when a snapshot may be forked. */
static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct journal *j = arg;

	if (!j->failed && j->seq > j->seq_requested) {
		syncer_request(j->sync, j->seq);
		j->seq_requested = j->seq;
	}
	compact_maybe(j);
}

static void count_refusal(struct journal *j, int err)
{
	j->st.last_error = err;
	if (err == -ENOSPC || err == -EDQUOT)
		j->st.refused_nospace++;
	else if (err == -EFBIG)
		j->st.refused_fbig++;
	else
		j->st.refused_io++;
}

int64_t journal_append(struct journal *j, const uint8_t *rec, size_t len)
{
	uint8_t frame[JOURNAL_FRAME];
	struct iovec iov[2] = {
		{ .iov_base = frame, .iov_len = sizeof(frame) },
		{ .iov_base = (void *)rec, .iov_len = len },
	};
	int err;

	if (len == 0 || len > JOURNAL_MAX_RECORD) {
		j->st.refused_size++;
		return len ? -EMSGSIZE : -EINVAL;
	}
	if (j->failed) {
		j->st.refused_failed++;
		return -EIO;
	}
	journal_frame(frame, rec, len);
	err = journal_pwritev(j->fd, iov, 2, j->size);
	if (err) {
		count_refusal(j, err);
		/* A partial record must not stay: the next append would follow garbage. */
		if (ftruncate(j->fd, (off_t)j->size) < 0)
			journal_fail(j, -errno, "removing a partly written record");
		return err;
	}
	j->size += JOURNAL_FRAME + len;
	j->since_compact += JOURNAL_FRAME + len;
	j->records++;
	j->seq++;
	event_active(j->ev_kick, EV_WRITE, 0);
	return (int64_t)j->seq;
}

static char *path_with(const char *path, const char *suffix)
{
	size_t n = strlen(path) + strlen(suffix) + 1;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s%s", path, suffix);
	return p;
}

static void journal_free(struct journal *j)
{
	if (j->ev_kick)
		event_free(j->ev_kick);
	if (j->ev_retry)
		event_free(j->ev_retry);
	if (j->fd >= 0)
		close(j->fd);
	free(j->path);
	free(j->compact_path);
	free(j->tmp_path);
	free(j->dir);
	free(j);
}

static struct journal *journal_new(struct event_base *base, const struct journal_opts *o)
{
	struct journal *j = calloc(1, sizeof(*j));
	char *copy;

	if (!j)
		return NULL;
	j->base = base;
	j->fd = -1;
	j->rl = (struct ratelimit)RATELIMIT_INIT(60000, 3);
	j->compact_min = o->compact_min_bytes ? o->compact_min_bytes : 4u << 20;
	j->compact_ratio = o->compact_ratio ? o->compact_ratio : 2;
	j->path = strdup(o->path);
	j->compact_path = path_with(o->path, ".compact");
	j->tmp_path = path_with(o->path, ".tmp");
	copy = strdup(o->path);
	if (copy)
		j->dir = strdup(dirname(copy));
	free(copy);
	j->ev_kick = event_new(base, -1, 0, kick_cb, j);
	if (!j->path || !j->compact_path || !j->tmp_path || !j->dir || !j->ev_kick ||
	    compact_init(j) < 0) {
		journal_free(j);
		return NULL;
	}
	return j;
}

/* Leftovers of a crash: a compaction or a creation that never reached its rename. */
static int remove_stale(const char *path)
{
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int journal_open(struct event_base *base, const struct journal_opts *o,
		 journal_load_cb load, journal_snapshot_fn snap, journal_durable_cb durable,
		 void *ctx, struct journal **out, struct journal_load_report *rep)
{
	struct journal *j;
	int err;

	memset(rep, 0, sizeof(*rep));
	*out = NULL;
	j = journal_new(base, o);
	if (!j) {
		snprintf(rep->line, sizeof(rep->line), "%s: out of memory", o->path);
		return -ENOMEM;
	}
	j->load = load;
	j->snapshot = snap;
	j->durable = durable;
	j->ctx = ctx;
	err = remove_stale(j->compact_path);
	if (!err)
		err = remove_stale(j->tmp_path);
	if (err) {
		snprintf(rep->line, sizeof(rep->line), "%s: removing a stale file: %s", o->path,
			 strerror(-err));
		journal_free(j);
		return err;
	}
	err = journal_load(j, o->recover, rep);
	if (!err)
		err = syncer_start(base, j->fd, journal_report_durable, j, &j->sync);
	if (err) {
		if (!rep->line[0])
			snprintf(rep->line, sizeof(rep->line), "%s: %s", o->path, strerror(-err));
		journal_free(j);
		return err;
	}
	j->base_size = j->size;
	*out = j;
	return 0;
}

int journal_compact_now(struct journal *j)
{
	return compact_start(j);
}

void journal_stats(const struct journal *j, struct journal_stats *out)
{
	*out = j->st;
	out->records = j->records;
	out->bytes = j->size;
	out->seq = j->seq;
	out->seq_durable = j->seq_durable;
	out->compacting = j->cmp != NULL;
	out->failed = j->failed;
	syncer_stats(j->sync, out);
}

int journal_close(struct journal *j)
{
	int err = 0;

	compact_shutdown(j);
	syncer_stop(j->sync);
	if (j->failed)
		err = -EIO;
	else if (fdatasync(j->fd) < 0)
		err = -errno;
	journal_free(j);
	return err;
}
