/*
 * journal.h - fabricd's durable journal: an append-only file of checksummed records that the
 * caller replays at start-up, made durable by group commit on a sync thread and compacted by
 * a forked snapshot, without the event loop ever waiting on the disk (except at open, at close
 * and for the short end of a compaction).
 *
 * On disk (docs/journal.md), a file is a sequence of records:
 *     u32 length | u32 crc | payload
 * length counts the payload (1..JOURNAL_MAX_RECORD), crc is CRC32C over the four length bytes
 * followed by the payload, both in network byte order. The first record is the header: the 8
 * bytes "l2fjrnl\0" and u32 version JOURNAL_VERSION. The caller's records follow, opaque here.
 * They are idempotent set/delete operations, so replaying a file in order rebuilds the state,
 * and a compaction writes a fresh file whose records recreate the state of the moment.
 *
 * Guarantees:
 * - journal_append() has written the record (to the page cache) when it returns a sequence
 *   number; the record is durable once durable_cb has reported a sequence number >= it. A
 *   failed append leaves the file exactly as it was, so a caller that applies a change only
 *   after its append succeeded never holds state the file lacks.
 * - A crash at any moment (kill -9, power loss) leaves at the path either the file from before
 *   a compaction or the complete file after it, plus at most a torn tail of records that were
 *   not yet durable, which the next open cuts and reports.
 * - Anything else the open finds is corruption, and the open fails, unless recover is set.
 * - After a failed fdatasync the page cache can no longer be trusted to match the disk: the
 *   journal then refuses every append with -EIO until the process restarts and reloads what
 *   is on disk (journal_stats: failed).
 *
 * Single-threaded use: every function but journal_snapshot_put() is called from the thread
 * that runs the event base, never from inside a journal callback except journal_append()
 * from durable_cb.
 */
#ifndef FABRICD_JOURNAL_H
#define FABRICD_JOURNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOURNAL_MAX_RECORD (16u << 20)   /* payload bytes of one record */
#define JOURNAL_VERSION 1u
#define JOURNAL_REASON_MAX 128

struct event_base;
struct journal;
struct journal_snap;

struct journal_opts {
	const char *path;
	/* On corruption, keep the valid prefix instead of failing; the original file is first
	 * copied to PATH.corrupt.<unix-time>. */
	bool recover;
	uint64_t compact_min_bytes;      /* default 4 MiB when 0 */
	unsigned int compact_ratio;      /* default 2 when 0 */
};

/* One record replayed at open, in file order; rec points into a mapping of the file and is
 * valid during the call only. Returns 0, or a negative errno with *why set (a static string)
 * to refuse the record, which the open then treats as corruption at that record. */
typedef int (*journal_load_cb)(const uint8_t *rec, size_t len, void *ctx, const char **why);

/* Every record up to seq is durable (err 0); or, with err a negative errno, the fdatasync that
 * was to cover the records up to seq failed: the journal has failed and refuses appends. */
typedef void (*journal_durable_cb)(uint64_t seq, int err, void *ctx);

/* Runs in a forked child during a compaction: writes the caller's whole state as records with
 * journal_snapshot_put(), and returns 0 or a negative errno. It sees the caller's memory as it
 * was at the fork, between two event-loop callbacks, and must not touch the event base or
 * call any other journal function. */
typedef int (*journal_snapshot_fn)(struct journal_snap *s, void *ctx);

/* What journal_open found, for the caller to log (line) and to count. */
struct journal_load_report {
	bool created;                    /* the file did not exist and was created */
	uint64_t records;                /* caller records replayed */
	uint64_t bytes;                  /* size of the file as kept, header included */
	/* A torn tail (not an error): bytes cut at torn_offset, the end of the last valid
	 * record; torn_reason is NULL when nothing was cut. */
	uint64_t torn_bytes, torn_offset;
	const char *torn_reason;
	/* Corruption at corrupt_offset, for reason. Without recover the open failed; with it,
	 * dropped_records (as far as their lengths still frame them) and dropped_bytes from
	 * corrupt_offset on were dropped, and the original was kept as corrupt_copy. */
	bool corrupt;
	uint64_t corrupt_offset;
	uint64_t dropped_records, dropped_bytes;
	char reason[JOURNAL_REASON_MAX];
	char corrupt_copy[PATH_MAX];
	/* One line for the log, naming the file; on a failed open, why it failed. */
	char line[PATH_MAX + 256];
};

struct journal_stats {
	uint64_t records;                /* records in the file now, header excluded */
	uint64_t bytes;                  /* size of the file now */
	uint64_t seq;                    /* last sequence number given to an append */
	uint64_t seq_durable;            /* highest sequence number reported durable */
	uint64_t syncs;                  /* fdatasync calls of the sync thread */
	uint64_t sync_records_last;      /* records made durable by the last one */
	uint64_t sync_records_max;       /* ... and by the largest batch so far */
	/* appends refused, by class */
	uint64_t refused_nospace;        /* ENOSPC, EDQUOT */
	uint64_t refused_fbig;           /* EFBIG */
	uint64_t refused_io;             /* EIO and any other write error */
	uint64_t refused_size;           /* a record of 0 bytes or over JOURNAL_MAX_RECORD */
	uint64_t refused_failed;         /* the journal had failed */
	uint64_t compactions_ok, compactions_failed;
	int64_t last_compaction_us;      /* from the fork to the switch to the new file */
	uint64_t last_compaction_bytes;  /* size of the file it produced */
	bool compacting;                 /* a snapshot child is running */
	bool failed;                     /* every append is refused: restart to reload */
	int last_error;                  /* negative errno of the last error, 0 if none */
};

/* Opens (or creates) the journal at o->path and replays its records through load (may be
 * NULL). A stale PATH.compact or PATH.tmp from a crash is removed first. Returns 0, or a
 * negative errno with rep->line saying why: -EBADMSG for corruption (rep->corrupt_offset,
 * rep->reason). load may have been called for a prefix of the records before a failure. snap
 * may be NULL (no compaction), durable may be NULL. */
int journal_open(struct event_base *base, const struct journal_opts *o,
		 journal_load_cb load, journal_snapshot_fn snap, journal_durable_cb durable,
		 void *ctx, struct journal **out, struct journal_load_report *rep);

/* Writes one record now. Returns its sequence number (> 0 and increasing, from 1 at each
 * open), or a negative errno and leaves the file unchanged: -EMSGSIZE (over
 * JOURNAL_MAX_RECORD), -EINVAL (empty), the write's own error (-ENOSPC, -EIO, ...), -EIO once
 * the journal has failed. The caller applies the change before it returns to the event loop:
 * a compaction may fork at the end of the loop turn, and snapshots the state of that moment
 * as covering every record appended so far. */
int64_t journal_append(struct journal *j, const uint8_t *rec, size_t len);

/* In snapshot_fn only: adds one record to the new file. Returns 0 or a negative errno, after
 * which snapshot_fn should return that error. */
int journal_snapshot_put(struct journal_snap *s, const uint8_t *rec, size_t len);

/* Starts a compaction now rather than when the appended bytes call for one. The caller's
 * state must match the journal (every appended record applied). Returns 0 once the child
 * runs (the outcome shows in journal_stats), -EBUSY if one is running, -EOPNOTSUPP without a
 * snapshot_fn, -EIO if the journal has failed, or fork's error. */
int journal_compact_now(struct journal *j);

void journal_stats(const struct journal *j, struct journal_stats *out);

/* Stops a running compaction (its child is killed, the old file stays), waits for the sync
 * in flight, makes everything durable and frees j. No callback runs from here. Returns 0
 * when every appended record is durable, else a negative errno. */
int journal_close(struct journal *j);

#endif
