/*
 * journal_priv.h - what the journal's files share: struct journal and the entry points between
 * journal.c (open, append, close), journal_load.c (reading a file at open),
 * journal_sync.c (the group-commit thread) and journal_compact.c (snapshots).
 */
#ifndef FABRICD_JOURNAL_PRIV_H
#define FABRICD_JOURNAL_PRIV_H

#include <sys/uio.h>
#include "journal.h"
#include "log.h"

#define JOURNAL_FRAME 8u         /* u32 length + u32 crc */
#define JOURNAL_HEADER_LEN 12u   /* magic + version */

struct event;
struct syncer;
struct compaction;

struct journal {
	struct event_base *base;
	char *path, *compact_path, *tmp_path, *dir;
	int fd;
	uint64_t size;                   /* end of the last record: where the next one goes */
	uint64_t records;
	uint64_t seq;                    /* last sequence number given */
	uint64_t seq_requested;          /* handed to the sync thread */
	uint64_t seq_durable;            /* reported to durable_cb */
	bool failed;
	bool sync_err_reported;
	journal_load_cb load;
	journal_snapshot_fn snapshot;
	journal_durable_cb durable;
	void *ctx;
	struct syncer *sync;
	struct event *ev_kick;           /* end of the loop turn: request a sync, compact? */
	/* compaction policy and state */
	uint64_t compact_min;
	uint64_t compact_ratio;
	uint64_t base_size;              /* file size after the last load or compaction */
	uint64_t since_compact;          /* bytes appended since then */
	struct compaction *cmp;          /* the running one, or NULL */
	struct event *ev_retry;          /* backoff after a failed one */
	unsigned int backoff_s;
	struct ratelimit rl;
	struct journal_stats st;         /* the main thread's counters */
};

/* journal.c */
/* Fills the 8-byte frame of a record: its length and CRC32C. */
void journal_frame(uint8_t frame[JOURNAL_FRAME], const uint8_t *payload, size_t len);
/* The header record's 12-byte payload. */
void journal_header_payload(uint8_t out[JOURNAL_HEADER_LEN]);
/* pwritev() until everything is written; 0 or -errno. Modifies iov. */
int journal_pwritev(int fd, struct iovec *iov, int n, uint64_t off);
int journal_pwrite(int fd, const void *buf, size_t len, uint64_t off);
/* fsync() of the directory holding the journal, so a rename or a creation is durable. */
int journal_sync_dir(const struct journal *j);
/* Puts a file holding only the header at j->path (temp file, rename, directory fsync);
 * returns its fd and sets j->size, or a negative errno. */
int journal_write_fresh(struct journal *j);
/* Passes what the sync thread completed to durable_cb. */
void journal_report_durable(void *arg);
/* The journal refuses every append from now on, because of err. */
void journal_fail(struct journal *j, int err, const char *what);

/* journal_load.c: opens the file at j->path (creating it if missing), replays it, cuts a
 * torn tail, recovers if asked; sets j->fd, j->size, j->records. */
int journal_load(struct journal *j, bool recover, struct journal_load_report *rep);

/* journal_sync.c: one thread doing fdatasync(fd) for the main thread; on_done(arg) runs in
 * the event loop after each one. */
int syncer_start(struct event_base *base, int fd, void (*on_done)(void *), void *arg,
		 struct syncer **out);
/* Sync everything written up to seq (batched with whatever is already waiting). */
void syncer_request(struct syncer *s, uint64_t seq);
/* What has completed: everything up to *done is durable; *err (negative errno) is the
 * failure of the sync meant to cover up to *err_seq, and stops the thread's work. */
void syncer_poll(struct syncer *s, uint64_t *done, int *err, uint64_t *err_seq);
/* Waits for the fdatasync in flight and starts no other until syncer_resume(); returns
 * the sync error, if any. */
int syncer_pause(struct syncer *s);
/* Continues on fd, with everything up to durable already durable. */
void syncer_resume(struct syncer *s, int fd, uint64_t durable);
void syncer_stats(struct syncer *s, struct journal_stats *st);
/* Waits for the fdatasync in flight, stops the thread, frees s. */
void syncer_stop(struct syncer *s);

/* journal_compact.c */
int compact_init(struct journal *j);
/* At the end of a loop turn: starts a compaction if the appended bytes call for one. */
void compact_maybe(struct journal *j);
int compact_start(struct journal *j);
/* Kills a running child and removes its file; frees the compaction state. */
void compact_shutdown(struct journal *j);

#endif
