/*
 * journal_load.c - reading a journal at open: the header, then every record in order through
 * the caller's load callback, stopping at the end, at a torn tail (cut: the records a crash
 * left half-written, never made durable) or at corruption (an error, or with recover the valid
 * prefix is kept after a copy of the original). docs/journal.md lists every outcome.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "crc32c.h"
#include "journal_priv.h"

enum scan_stop { SCAN_END, SCAN_TORN, SCAN_CORRUPT };

/* A file being read: where its valid records end and why reading stopped there. */
struct scan {
	const uint8_t *data;
	uint64_t size;
	uint64_t off;                    /* end of the last valid record */
	uint64_t records;
	bool header_ok;
	enum scan_stop stop;
	const char *torn_reason;
	char reason[JOURNAL_REASON_MAX];
};

static uint32_t get_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return ntohl(v);
}

static bool all_zero(const uint8_t *p, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static bool crc_ok(const uint8_t *rec, uint32_t len)
{
	uint32_t crc = crc32c(crc32c(0, rec, 4), rec + JOURNAL_FRAME, len);

	return crc == get_be32(rec + 4);
}

/* Reading stops at corruption; returns false, for the caller's return. */
__attribute__((format(printf, 2, 3)))
static bool corrupt(struct scan *sc, const char *fmt, ...)
{
	va_list ap;

	sc->stop = SCAN_CORRUPT;
	va_start(ap, fmt);
	vsnprintf(sc->reason, sizeof(sc->reason), fmt, ap);
	va_end(ap);
	return false;
}

/* Reading stops at a torn tail: what a crash leaves of appends that were not yet durable. */
static bool torn(struct scan *sc, const char *why)
{
	sc->stop = SCAN_TORN;
	sc->torn_reason = why;
	return false;
}

/* The header is written whole (temp file + rename) before anything else, so no crash leaves
 * a partial one: whatever is wrong with it is corruption. */
static bool scan_header(struct scan *sc)
{
	uint8_t want[JOURNAL_HEADER_LEN];
	uint32_t len, version;

	journal_header_payload(want);
	if (sc->size == 0)
		return corrupt(sc, "not a journal: empty file");
	if (sc->size < JOURNAL_FRAME + JOURNAL_HEADER_LEN)
		return corrupt(sc, "not a journal: %" PRIu64 " bytes, shorter than a header",
			       sc->size);
	if (memcmp(sc->data + JOURNAL_FRAME, want, 8) != 0)
		return corrupt(sc, "not a journal: bad magic");
	len = get_be32(sc->data);
	if (len < JOURNAL_HEADER_LEN || len > JOURNAL_MAX_RECORD || JOURNAL_FRAME + len > sc->size)
		return corrupt(sc, "header length %u", len);
	if (!crc_ok(sc->data, len))
		return corrupt(sc, "header checksum mismatch");
	/* after the checksum: a flipped bit is not mistaken for a newer format */
	version = get_be32(sc->data + JOURNAL_FRAME + 8);
	if (version != JOURNAL_VERSION)
		return corrupt(sc, "format version %u, this fabricd reads %u", version,
			       JOURNAL_VERSION);
	if (len != JOURNAL_HEADER_LEN)
		return corrupt(sc, "header length %u, version %u has %u", len, JOURNAL_VERSION,
			       JOURNAL_HEADER_LEN);
	sc->off = JOURNAL_FRAME + len;
	sc->header_ok = true;
	return true;
}

/* The record at sc->off, replayed; false when reading stops. Appends are written in order,
 * so a crash tears only the last of them; a length running past the end of the file or a bad
 * checksum with nothing but zeros after it (ext4 and XFS can leave zero-filled blocks past
 * the last durable write) is that tear. The same damage anywhere else is corruption. */
static bool scan_record(struct scan *sc, journal_load_cb load, void *ctx)
{
	const uint8_t *p = sc->data + sc->off;
	uint64_t rem = sc->size - sc->off, after;
	const char *why = NULL;
	uint32_t len;

	if (rem == 0) {
		sc->stop = SCAN_END;
		return false;
	}
	if (rem < JOURNAL_FRAME)
		return torn(sc, "record header cut short");
	len = get_be32(p);
	if (len == 0)
		return all_zero(p, rem) ? torn(sc, "zero-filled tail") : corrupt(sc, "length 0");
	if (len > JOURNAL_MAX_RECORD)
		return corrupt(sc, "length %u over 16 MiB", len);
	if (JOURNAL_FRAME + (uint64_t)len > rem)
		return torn(sc, "last record runs past the end of the file");
	after = rem - JOURNAL_FRAME - len;
	if (!crc_ok(p, len))
		return all_zero(p + JOURNAL_FRAME + len, after) ?
			torn(sc, "last record fails its checksum") :
			corrupt(sc, "record checksum mismatch");
	if (load && load(p + JOURNAL_FRAME, len, ctx, &why) != 0)
		return corrupt(sc, "record refused: %s", why ? why : "no reason given");
	sc->off += JOURNAL_FRAME + len;
	sc->records++;
	return true;
}

static void scan_file(struct scan *sc, journal_load_cb load, void *ctx)
{
	if (scan_header(sc))
		while (scan_record(sc, load, ctx))
			;
}

/* The records from off on, as far as their lengths frame them: what recovery drops. */
static uint64_t count_framed(const uint8_t *data, uint64_t size, uint64_t off)
{
	uint64_t n = 0;

	while (size - off >= JOURNAL_FRAME) {
		uint32_t len = get_be32(data + off);

		if (len == 0 || len > JOURNAL_MAX_RECORD || JOURNAL_FRAME + (uint64_t)len > size - off)
			break;
		off += JOURNAL_FRAME + len;
		n++;
	}
	return n;
}

static int io_error(struct journal_load_report *rep, const char *path, const char *what, int err)
{
	snprintf(rep->reason, sizeof(rep->reason), "%s", strerror(-err));
	snprintf(rep->line, sizeof(rep->line), "%s: %s: %s", path, what, rep->reason);
	return err;
}

static int load_create(struct journal *j, struct journal_load_report *rep)
{
	int fd = journal_write_fresh(j);

	if (fd < 0)
		return io_error(rep, j->path, "creating", fd);
	j->fd = fd;
	rep->created = true;
	rep->bytes = j->size;
	snprintf(rep->line, sizeof(rep->line), "%s: created a new journal", j->path);
	return 0;
}

static int open_copy(const char *path, struct journal_load_report *rep)
{
	long long t = (long long)time(NULL);
	int fd = -1;

	/* a second recovery within the same second gets its own copy */
	for (int i = 0; i < 100 && fd < 0; i++) {
		if (i == 0)
			snprintf(rep->corrupt_copy, sizeof(rep->corrupt_copy), "%s.corrupt.%lld",
				 path, t);
		else
			snprintf(rep->corrupt_copy, sizeof(rep->corrupt_copy), "%s.corrupt.%lld.%d",
				 path, t, i);
		fd = open(rep->corrupt_copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	return fd < 0 ? -errno : fd;
}

/* The original, whole and durable, before anything of it is dropped. */
static int copy_aside(struct journal *j, const struct scan *sc, struct journal_load_report *rep)
{
	int fd = open_copy(j->path, rep), err;

	if (fd < 0) {
		rep->corrupt_copy[0] = '\0';
		return fd;
	}
	err = journal_pwrite(fd, sc->data, sc->size, 0);
	if (!err && fsync(fd) < 0)
		err = -errno;
	close(fd);
	if (!err)
		err = journal_sync_dir(j);
	if (err) {
		unlink(rep->corrupt_copy);
		rep->corrupt_copy[0] = '\0';
	}
	return err;
}

static int cut(int fd, uint64_t size)
{
	if (ftruncate(fd, (off_t)size) < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

/* Keeps the valid prefix (or, without a valid header, a fresh header): j->fd may change. */
static int recover(struct journal *j, const struct scan *sc, struct journal_load_report *rep)
{
	int err = copy_aside(j, sc, rep), fd;

	if (err)
		return io_error(rep, j->path, "copying the corrupt journal aside", err);
	rep->dropped_bytes = sc->size - sc->off;
	if (sc->header_ok) {
		rep->dropped_records = count_framed(sc->data, sc->size, sc->off);
		err = cut(j->fd, sc->off);
		j->size = sc->off;
		return err ? io_error(rep, j->path, "truncating to the valid records", err) : 0;
	}
	/* the header's own frame, when it has one, is not a record of the caller's */
	rep->dropped_records = count_framed(sc->data, sc->size, 0);
	rep->dropped_records -= rep->dropped_records > 0;
	fd = journal_write_fresh(j);
	if (fd < 0)
		return io_error(rep, j->path, "writing a fresh header", fd);
	close(j->fd);
	j->fd = fd;
	return 0;
}

static void report_line(const struct journal *j, const struct journal_load_report *rep,
			char *line, size_t size)
{
	int n = snprintf(line, size, "%s: %" PRIu64 " records, %" PRIu64 " bytes", j->path,
			 rep->records, rep->bytes);

	if (n > 0 && (size_t)n < size && rep->torn_reason)
		n += snprintf(line + n, size - n, "; cut a torn tail of %" PRIu64 " bytes at "
			      "offset %" PRIu64 " (%s)", rep->torn_bytes, rep->torn_offset,
			      rep->torn_reason);
	if (n > 0 && (size_t)n < size && rep->corrupt)
		snprintf(line + n, size - n, "; RECOVERED from corruption at offset %" PRIu64
			 " (%s): dropped %" PRIu64 " records, %" PRIu64 " bytes; the original is "
			 "kept as %s", rep->corrupt_offset, rep->reason, rep->dropped_records,
			 rep->dropped_bytes, rep->corrupt_copy);
}

/* What the scan found, acted on: nothing, a cut, a failure or a recovery. */
static int settle(struct journal *j, const struct scan *sc, bool recover_ok,
		  struct journal_load_report *rep)
{
	int err;

	j->size = sc->off;
	if (sc->stop == SCAN_TORN) {
		rep->torn_reason = sc->torn_reason;
		rep->torn_offset = sc->off;
		rep->torn_bytes = sc->size - sc->off;
		err = cut(j->fd, sc->off);
		if (err)
			return io_error(rep, j->path, "cutting the torn tail", err);
	}
	if (sc->stop == SCAN_CORRUPT) {
		rep->corrupt = true;
		rep->corrupt_offset = sc->off;
		snprintf(rep->reason, sizeof(rep->reason), "%s", sc->reason);
		if (!recover_ok) {
			snprintf(rep->line, sizeof(rep->line), "%s: offset %" PRIu64 ": %s", j->path,
				 sc->off, sc->reason);
			return -EBADMSG;
		}
		err = recover(j, sc, rep);
		if (err)
			return err;
	}
	j->records = sc->records;
	rep->records = sc->records;
	rep->bytes = j->size;
	report_line(j, rep, rep->line, sizeof(rep->line));
	return 0;
}

static int map_file(int fd, struct scan *sc, void **map)
{
	struct stat st;

	*map = NULL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	sc->size = (uint64_t)st.st_size;
	if (sc->size == 0)
		return 0;
	*map = mmap(NULL, (size_t)sc->size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (*map == MAP_FAILED) {
		*map = NULL;
		return -errno;
	}
	sc->data = *map;
	return 0;
}

int journal_load(struct journal *j, bool recover_ok, struct journal_load_report *rep)
{
	struct scan sc = { 0 };
	void *map;
	int err;

	j->fd = open(j->path, O_RDWR | O_CLOEXEC);
	if (j->fd < 0 && errno == ENOENT)
		return load_create(j, rep);
	if (j->fd < 0)
		return io_error(rep, j->path, "opening", -errno);
	err = map_file(j->fd, &sc, &map);
	if (err)
		return io_error(rep, j->path, err == -EINVAL ? "not a regular file" : "reading",
				err);
	scan_file(&sc, j->load, j->ctx);
	err = settle(j, &sc, recover_ok, rep);
	if (map)
		munmap(map, (size_t)sc.size);
	return err;
}
