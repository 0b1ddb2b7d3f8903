/* test_journal.c - fabricd's journal on real files in a temporary directory: round trips
 * across reopen, every torn-tail case cut and reported, corruption refused (and kept aside by
 * recover), group commit counted by its syncs, ENOSPC on a tiny tmpfs leaving the file as it
 * was, and compactions that keep the state, the appends made meanwhile, and a failed child's
 * old file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "crc32c.h"
#include "journal.h"
#include "monotime.h"

#define HDR 20u                          /* the header record: frame + magic + version */
#define WAIT_US (30 * USEC_PER_SEC)      /* a hang guard, not a timing assertion */

struct fixture {
	char dir[256];
	char path[300];
	char mnt[300];
	bool mounted;
	struct event_base *base;
	struct event *tick;                      /* bounds every loop turn */
};

/* What every test context starts with: what durable_cb said. */
struct durable {
	uint64_t seq;
	int err;
	unsigned int calls;
};

/* ---- self-describing records: record i carries i, then bytes derived from i ---- */

struct seq_ctx {
	struct durable d;
	uint64_t loaded;
	bool in_order;                           /* every record was the next one */
	int64_t refuse_at;                       /* refuse this record, -1 none */
};

static size_t rec_len(uint32_t i)
{
	return 4 + (i * 37u) % 300u;
}

static size_t make_rec(uint8_t *buf, uint32_t i, size_t len)
{
	uint32_t n = htonl(i);

	memcpy(buf, &n, 4);
	for (size_t k = 4; k < len; k++)
		buf[k] = (uint8_t)(i * 7u + k);
	return len;
}

static uint32_t get_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

static bool rec_is(const uint8_t *rec, size_t len, uint32_t i)
{
	if (len < 4 || get_be32(rec) != i)
		return false;
	for (size_t k = 4; k < len; k++)
		if (rec[k] != (uint8_t)(i * 7u + k))
			return false;
	return true;
}

static int load_seq(const uint8_t *rec, size_t len, void *arg, const char **why)
{
	struct seq_ctx *c = arg;

	if (c->refuse_at >= 0 && c->loaded == (uint64_t)c->refuse_at) {
		*why = "test refuses this record";
		return -EINVAL;
	}
	if (!rec_is(rec, len, (uint32_t)c->loaded))
		c->in_order = false;
	c->loaded++;
	return 0;
}

static void on_durable(uint64_t seq, int err, void *arg)
{
	struct durable *d = arg;

	d->seq = seq;
	d->err = err;
	d->calls++;
}

static void seq_reset(struct seq_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->in_order = true;
	c->refuse_at = -1;
}

/* ---- fixture ---- */

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");
	struct timeval tv = { .tv_usec = 50000 };

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/test_journal.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/fabricd.journal", f->dir);
	f->base = event_base_new();
	f->tick = event_new(f->base, -1, EV_PERSIST, tick_cb, NULL);
	if (!f->base || !f->tick || event_add(f->tick, &tv) < 0)
		return -1;
	*state = f;
	return 0;
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[600];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR)
			remove_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->mounted)
		umount2(f->mnt, MNT_DETACH);
	remove_tree(f->dir);
	event_free(f->tick);
	event_base_free(f->base);
	free(f);
	return 0;
}

/* One loop turn (at most a tick long), failing the test if the deadline has passed. */
static void turn(struct fixture *f, struct monotime deadline)
{
	assert_true(monotime_diff_us(deadline, monotime_now()) > 0);
	event_base_loop(f->base, EVLOOP_ONCE);
}

static struct monotime deadline(void)
{
	return monotime_add_us(monotime_now(), WAIT_US);
}

static void wait_durable(struct fixture *f, struct durable *d, uint64_t seq)
{
	struct monotime end = deadline();

	while (d->seq < seq && !d->err)
		turn(f, end);
	assert_int_equal(d->err, 0);
}

/* ---- files ---- */

static uint64_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static uint8_t *read_all(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	uint8_t *buf;

	assert_true(fd >= 0);
	*len = file_size(path);
	buf = malloc(*len + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, *len, 0), (ssize_t)*len);
	close(fd);
	return buf;
}

static void append_bytes(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void xor_byte(const char *path, uint64_t off, uint8_t mask)
{
	int fd = open(path, O_RDWR);
	uint8_t b;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
	b ^= mask;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

static void poke(const char *path, uint64_t off, const void *buf, size_t len)
{
	int fd = open(path, O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

/* A record framed by hand, as the format says: length, CRC32C(length bytes + payload). */
static size_t frame_by_hand(uint8_t *out, const uint8_t *payload, uint32_t len)
{
	put_be32(out, len);
	memmove(out + 8, payload, len);
	put_be32(out + 4, crc32c(crc32c(0, out, 4), out + 8, len));
	return 8 + len;
}

/* Offset of record i in a file written by write_records(). */
static uint64_t rec_off(uint32_t i)
{
	uint64_t off = HDR;

	for (uint32_t k = 0; k < i; k++)
		off += 8 + rec_len(k);
	return off;
}

static int open_seq(struct fixture *f, const char *path, bool recover, struct seq_ctx *c,
		    struct journal **j, struct journal_load_report *rep)
{
	struct journal_opts o = { .path = path, .recover = recover };

	seq_reset(c);
	return journal_open(f->base, &o, load_seq, NULL, on_durable, c, j, rep);
}

/* Appends records from..to-1, expecting sequence numbers from seq on. */
static void append_seq(struct journal *j, uint32_t from, uint32_t to, uint64_t seq)
{
	uint8_t buf[4096];

	for (uint32_t i = from; i < to; i++)
		assert_int_equal(journal_append(j, buf, make_rec(buf, i, rec_len(i))), seq++);
}

/* A closed journal at f->path holding records 0..n-1. */
static void write_records(struct fixture *f, uint32_t n)
{
	struct journal_load_report rep;
	struct seq_ctx c;
	struct journal *j;

	assert_int_equal(open_seq(f, f->path, false, &c, &j, &rep), 0);
	append_seq(j, 0, n, 1);
	assert_int_equal(journal_close(j), 0);
	assert_int_equal(file_size(f->path), rec_off(n));
}

/* Opens f->path and expects exactly records 0..n-1 and a clean load. */
static void expect_clean(struct fixture *f, uint32_t n)
{
	struct journal_load_report rep;
	struct seq_ctx c;
	struct journal *j;

	assert_int_equal(open_seq(f, f->path, false, &c, &j, &rep), 0);
	assert_int_equal(c.loaded, n);
	assert_true(c.in_order);
	assert_int_equal(rep.records, n);
	assert_null(rep.torn_reason);
	assert_false(rep.corrupt);
	assert_int_equal(journal_close(j), 0);
}

/* ---- load: creation, round trip, torn tails ---- */

static void missing_file_is_created_with_its_header(void **state)
{
	struct fixture *f = *state;
	struct journal_load_report rep;
	struct seq_ctx c;
	struct journal *j;
	size_t len;
	uint8_t *b;

	assert_int_equal(open_seq(f, f->path, false, &c, &j, &rep), 0);
	assert_true(rep.created);
	assert_int_equal(rep.records, 0);
	assert_int_equal(rep.bytes, HDR);
	assert_int_equal(journal_close(j), 0);
	b = read_all(f->path, &len);
	assert_int_equal(len, HDR);
	/* length 12, the magic, version 1, and the CRC over length + payload */
	assert_memory_equal(b, "\0\0\0\x0c", 4);
	assert_memory_equal(b + 8, "l2fjrnl\0\0\0\0\x01", 12);
	assert_int_equal(get_be32(b + 4), crc32c(crc32c(0, b, 4), b + 8, 12));
	free(b);
	expect_clean(f, 0);
}

static void records_survive_close_and_reopen(void **state)
{
	struct fixture *f = *state;
	struct journal_load_report rep;
	struct journal_stats st;
	struct seq_ctx c;
	struct journal *j;

	write_records(f, 5000);
	expect_clean(f, 5000);
	/* appends after a reload continue the file: sequence numbers restart at 1 */
	assert_int_equal(open_seq(f, f->path, false, &c, &j, &rep), 0);
	assert_int_equal(rep.bytes, rec_off(5000));
	append_seq(j, 5000, 5100, 1);
	wait_durable(f, &c.d, 100);
	journal_stats(j, &st);
	assert_int_equal(st.records, 5100);
	assert_int_equal(st.bytes, rec_off(5100));
	assert_int_equal(st.seq_durable, 100);
	assert_int_equal(journal_close(j), 0);
	expect_clean(f, 5100);
}

/* Opens a file with a damaged tail: the tail is cut and reported, the records stay. */
static void expect_torn(struct fixture *f, uint32_t n, uint64_t at, uint64_t cut)
{
	struct journal_load_report rep;
	struct seq_ctx c;
	struct journal *j;
	char want[128];

	assert_int_equal(file_size(f->path), at + cut);
	assert_int_equal(open_seq(f, f->path, false, &c, &j, &rep), 0);
	assert_int_equal(c.loaded, n);
	assert_true(c.in_order);
	assert_non_null(rep.torn_reason);
	assert_int_equal(rep.torn_offset, at);
	assert_int_equal(rep.torn_bytes, cut);
	assert_false(rep.corrupt);
	snprintf(want, sizeof(want), "cut a torn tail of %llu bytes at offset %llu",
		 (unsigned long long)cut, (unsigned long long)at);
	assert_non_null(strstr(rep.line, want));
	assert_int_equal(file_size(f->path), at);
	assert_int_equal(journal_close(j), 0);
	expect_clean(f, n);
}

static void torn_short_record_header_is_cut(void **state)
{
	struct fixture *f = *state;

	write_records(f, 50);
	append_bytes(f->path, "\0\0\x01", 3);
	expect_torn(f, 50, rec_off(50), 3);
}

static void torn_record_past_eof_is_cut(void **state)
{
	struct fixture *f = *state;
	uint8_t rec[512];
	size_t len = frame_by_hand(rec, (const uint8_t *)"0123456789abcdef", 16);

	write_records(f, 50);
	/* a whole record with its last 5 bytes missing */
	append_bytes(f->path, rec, len - 5);
	expect_torn(f, 50, rec_off(50), len - 5);
	/* the journal's own last record, cut short */
	assert_int_equal(truncate(f->path, (off_t)rec_off(50) - 1), 0);
	expect_torn(f, 49, rec_off(49), rec_off(50) - 1 - rec_off(49));
}

static void torn_last_record_with_bad_checksum_is_cut(void **state)
{
	struct fixture *f = *state;
	uint8_t rec[64], zeros[1000] = { 0 };
	size_t len = frame_by_hand(rec, (const uint8_t *)"a complete record", 17);

	write_records(f, 50);
	rec[len - 1] ^= 0x40;
	append_bytes(f->path, rec, len);
	expect_torn(f, 50, rec_off(50), len);
	/* the same, with zero-filled blocks after it */
	append_bytes(f->path, rec, len);
	append_bytes(f->path, zeros, sizeof(zeros));
	expect_torn(f, 50, rec_off(50), len + sizeof(zeros));
}

static void torn_zero_filled_tail_is_cut(void **state)
{
	struct fixture *f = *state;
	uint8_t zeros[8192] = { 0 };

	write_records(f, 50);
	append_bytes(f->path, zeros, sizeof(zeros));
	expect_torn(f, 50, rec_off(50), sizeof(zeros));
}

/* ---- load: corruption ---- */

/* Opens a damaged file without recover: refused, naming the offset and the reason. */
static void expect_corrupt(struct fixture *f, uint64_t at, const char *reason)
{
	struct journal_load_report rep;
	struct seq_ctx c;
	struct journal *j;
	char want[512];
	uint64_t size = file_size(f->path);

	assert_int_equal(open_seq(f, f->path, false, &c, &j, &rep), -EBADMSG);
	assert_null(j);
	assert_true(rep.corrupt);
	assert_int_equal(rep.corrupt_offset, at);
	assert_string_equal(rep.reason, reason);
	snprintf(want, sizeof(want), "%s: offset %llu: %s", f->path, (unsigned long long)at,
		 reason);
	assert_string_equal(rep.line, want);
	/* nothing was changed */
	assert_int_equal(file_size(f->path), size);
}

/* The same file with recover: the valid prefix of n records stays, the rest is dropped and
 * the original kept aside. */
static void expect_recovered(struct fixture *f, uint32_t n, uint64_t at, uint64_t dropped)
{
	struct journal_load_report rep;
	struct seq_ctx c;
	struct journal *j;
	size_t before_len, copy_len;
	uint8_t *before = read_all(f->path, &before_len), *copy;

	assert_int_equal(open_seq(f, f->path, true, &c, &j, &rep), 0);
	assert_int_equal(c.loaded, n);
	assert_true(c.in_order);
	assert_true(rep.corrupt);
	assert_int_equal(rep.records, n);
	assert_int_equal(rep.corrupt_offset, at);
	assert_int_equal(rep.dropped_records, dropped);
	assert_int_equal(rep.dropped_bytes, before_len - at);
	assert_non_null(strstr(rep.line, "RECOVERED"));
	copy = read_all(rep.corrupt_copy, &copy_len);
	assert_int_equal(copy_len, before_len);
	assert_memory_equal(copy, before, before_len);
	assert_int_equal(file_size(f->path), at ? at : HDR);
	assert_int_equal(journal_close(j), 0);
	unlink(rep.corrupt_copy);
	free(before);
	free(copy);
	expect_clean(f, n);
}

static void payload_bit_flip_stops_the_open(void **state)
{
	struct fixture *f = *state;

	write_records(f, 300);
	xor_byte(f->path, rec_off(120) + 8 + 2, 0x10);
	expect_corrupt(f, rec_off(120), "record checksum mismatch");
	expect_recovered(f, 120, rec_off(120), 180);
}

static void crc_bit_flip_stops_the_open(void **state)
{
	struct fixture *f = *state;

	write_records(f, 300);
	xor_byte(f->path, rec_off(7) + 5, 0x01);
	expect_corrupt(f, rec_off(7), "record checksum mismatch");
	expect_recovered(f, 7, rec_off(7), 293);
}

static void length_bit_flip_stops_the_open(void **state)
{
	struct fixture *f = *state;
	char want[64];

	write_records(f, 300);
	/* one more byte framed: the checksum no longer matches, and more follows */
	xor_byte(f->path, rec_off(200) + 3, 0x01);
	expect_corrupt(f, rec_off(200), "record checksum mismatch");
	xor_byte(f->path, rec_off(200) + 3, 0x01);
	/* a length over the limit */
	xor_byte(f->path, rec_off(10), 0x80);
	snprintf(want, sizeof(want), "length %u over 16 MiB", 0x80000000u | (uint32_t)rec_len(10));
	expect_corrupt(f, rec_off(10), want);
	xor_byte(f->path, rec_off(10), 0x80);
	expect_clean(f, 300);
	/* a length of 0 with data after it is no zero-filled tail */
	poke(f->path, rec_off(10), "\0\0\0\0", 4);
	expect_corrupt(f, rec_off(10), "length 0");
	/* a length of 0 frames nothing: no dropped record can be counted after it */
	expect_recovered(f, 10, rec_off(10), 0);
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void empty_file_is_not_a_journal(void **state)
{
	struct fixture *f = *state;

	write_file(f->path, "", 0);
	expect_corrupt(f, 0, "not a journal: empty file");
	expect_recovered(f, 0, 0, 0);
}

static void bad_magic_is_not_a_journal(void **state)
{
	struct fixture *f = *state;

	write_records(f, 40);
	xor_byte(f->path, 8, 0x20);     /* "L2fjrnl" */
	expect_corrupt(f, 0, "not a journal: bad magic");
	/* the records still frame; recover keeps none of them, since the header is bad */
	expect_recovered(f, 0, 0, 40);
}

static void newer_format_version_is_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t hdr[32];

	memcpy(hdr + 8, "l2fjrnl\0\0\0\0\x02", 12);
	write_file(f->path, hdr, frame_by_hand(hdr, hdr + 8, 12));
	expect_corrupt(f, 0, "format version 2, this fabricd reads 1");
	/* a flipped version bit is a checksum error, not a newer format */
	assert_int_equal(unlink(f->path), 0);
	write_records(f, 1);
	xor_byte(f->path, 19, 0x02);
	expect_corrupt(f, 0, "header checksum mismatch");
}

static void load_callback_can_refuse_a_record(void **state)
{
	struct fixture *f = *state;
	struct journal_opts o = { .path = f->path };
	struct journal_load_report rep;
	struct seq_ctx c;
	struct journal *j;

	write_records(f, 100);
	seq_reset(&c);
	c.refuse_at = 60;
	assert_int_equal(journal_open(f->base, &o, load_seq, NULL, NULL, &c, &j, &rep),
			 -EBADMSG);
	assert_int_equal(rep.corrupt_offset, rec_off(60));
	assert_string_equal(rep.reason, "record refused: test refuses this record");
	assert_non_null(strstr(rep.line, "offset"));
	/* with recover the records before it are kept */
	o.recover = true;
	seq_reset(&c);
	c.refuse_at = 60;
	assert_int_equal(journal_open(f->base, &o, load_seq, NULL, NULL, &c, &j, &rep), 0);
	assert_int_equal(c.loaded, 60);
	assert_int_equal(rep.dropped_records, 40);
	assert_true(exists(rep.corrupt_copy));
	assert_int_equal(journal_close(j), 0);
	expect_clean(f, 60);
}

/* ---- appends ---- */

static void group_commit_batches_appends(void **state)
{
	struct fixture *f = *state;
	struct journal_load_report rep;
	struct journal_stats st;
	struct seq_ctx c;
	struct journal *j;

	assert_int_equal(open_seq(f, f->path, false, &c, &j, &rep), 0);
	/* a thousand appends in one loop callback are one batch: one fdatasync */
	append_seq(j, 0, 1000, 1);
	journal_stats(j, &st);
	assert_int_equal(st.syncs, 0);
	assert_int_equal(st.seq_durable, 0);
	wait_durable(f, &c.d, 1000);
	assert_int_equal(c.d.seq, 1000);
	journal_stats(j, &st);
	assert_int_equal(st.seq_durable, 1000);
	assert_int_equal(st.syncs, 1);
	assert_int_equal(st.sync_records_last, 1000);
	assert_int_equal(st.sync_records_max, 1000);
	/* the next one is a batch of its own */
	append_seq(j, 1000, 1001, 1001);
	wait_durable(f, &c.d, 1001);
	journal_stats(j, &st);
	assert_int_equal(st.syncs, 2);
	assert_int_equal(st.sync_records_last, 1);
	assert_int_equal(st.sync_records_max, 1000);
	assert_false(st.failed);
	assert_int_equal(journal_close(j), 0);
	expect_clean(f, 1001);
}

static void oversized_and_empty_records_are_refused(void **state)
{
	struct fixture *f = *state;
	struct journal_load_report rep;
	struct journal_stats st;
	struct seq_ctx c;
	struct journal *j;
	uint8_t *big = calloc(1, JOURNAL_MAX_RECORD + 1);

	assert_non_null(big);
	assert_int_equal(open_seq(f, f->path, false, &c, &j, &rep), 0);
	assert_int_equal(journal_append(j, big, JOURNAL_MAX_RECORD + 1), -EMSGSIZE);
	assert_int_equal(journal_append(j, big, 0), -EINVAL);
	make_rec(big, 0, JOURNAL_MAX_RECORD);
	assert_int_equal(journal_append(j, big, JOURNAL_MAX_RECORD), 1);
	journal_stats(j, &st);
	assert_int_equal(st.refused_size, 2);
	assert_int_equal(st.bytes, HDR + 8 + JOURNAL_MAX_RECORD);
	assert_int_equal(journal_close(j), 0);
	free(big);
	/* a record of the largest size loads */
	assert_int_equal(open_seq(f, f->path, false, &c, &j, &rep), 0);
	assert_int_equal(c.loaded, 1);
	assert_int_equal(journal_close(j), 0);
}

/* A private mount namespace with a 64 KiB tmpfs on f->mnt; false (and why) if not here. */
static bool mount_tiny_tmpfs(struct fixture *f)
{
	snprintf(f->mnt, sizeof(f->mnt), "%s/mnt", f->dir);
	assert_int_equal(mkdir(f->mnt, 0700), 0);
	if (geteuid() != 0) {
		print_message("skipped: mounting a tmpfs needs root\n");
		return false;
	}
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", f->mnt, "tmpfs", 0, "size=64k,mode=0700") < 0) {
		print_message("skipped: cannot mount a tmpfs here: %s\n", strerror(errno));
		return false;
	}
	f->mounted = true;
	return true;
}

/* Fills the filesystem holding path; returns how much it wrote. */
static size_t fill(const char *path)
{
	static const uint8_t block[512];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	size_t total = 0;
	ssize_t w;

	assert_true(fd >= 0);
	while ((w = write(fd, block, sizeof(block))) > 0)
		total += (size_t)w;
	assert_int_equal(errno, ENOSPC);
	close(fd);
	return total;
}

static void enospc_append_leaves_the_file_as_it_was(void **state)
{
	struct fixture *f = *state;
	struct journal_load_report rep;
	struct journal_stats st;
	char path[400], filler[400];
	uint8_t *buf = malloc(80 << 10);
	struct seq_ctx c;
	struct journal *j;
	uint64_t size;

	assert_non_null(buf);
	if (!mount_tiny_tmpfs(f)) {
		free(buf);
		skip();
	}
	snprintf(path, sizeof(path), "%s/fabricd.journal", f->mnt);
	snprintf(filler, sizeof(filler), "%s/filler", f->mnt);
	assert_int_equal(open_seq(f, path, false, &c, &j, &rep), 0);
	for (uint32_t i = 0; i < 20; i++)
		assert_int_equal(journal_append(j, buf, make_rec(buf, i, 100)), i + 1);
	size = file_size(path);
	/* larger than the whole filesystem: written in part, then cut back */
	assert_int_equal(journal_append(j, buf, make_rec(buf, 20, 80 << 10)), -ENOSPC);
	assert_int_equal(file_size(path), size);
	/* a full filesystem: even a small record that needs a new page is refused */
	assert_true(fill(filler) > 0);
	assert_int_equal(journal_append(j, buf, make_rec(buf, 20, 5000)), -ENOSPC);
	assert_int_equal(file_size(path), size);
	journal_stats(j, &st);
	assert_int_equal(st.refused_nospace, 2);
	assert_int_equal(st.last_error, -ENOSPC);
	assert_false(st.failed);
	/* space again: appends work, and follow the earlier records directly */
	assert_int_equal(unlink(filler), 0);
	assert_int_equal(journal_append(j, buf, make_rec(buf, 20, 5000)), 21);
	assert_int_equal(journal_append(j, buf, make_rec(buf, 21, 10)), 22);
	wait_durable(f, &c.d, 22);
	assert_int_equal(journal_close(j), 0);
	assert_int_equal(open_seq(f, path, false, &c, &j, &rep), 0);
	assert_int_equal(c.loaded, 22);
	assert_true(c.in_order);
	assert_null(rep.torn_reason);
	assert_int_equal(journal_close(j), 0);
	free(buf);
}

/* ---- compaction: a key-value state of set/delete records ---- */

#define NKEYS 64

struct kv {
	struct durable d;
	uint32_t val[NKEYS];
	bool has[NKEYS];
	int gate;                                /* the snapshot waits for a byte here, -1 no */
	int fail;                                /* the snapshot's error, 0 none */
};

static size_t kv_rec(uint8_t *buf, uint32_t i, uint32_t *key, uint32_t *val)
{
	*key = (i * 2654435761u >> 8) % NKEYS;
	*val = i;
	buf[0] = i % 5 == 4 ? 'D' : 'S';
	put_be32(buf + 1, *key);
	put_be32(buf + 5, *val);
	return buf[0] == 'D' ? 5 : 9;
}

static void kv_apply(struct kv *m, const uint8_t *rec)
{
	uint32_t key, val;

	memcpy(&key, rec + 1, 4);
	key = ntohl(key) % NKEYS;
	m->has[key] = rec[0] == 'S';
	if (rec[0] == 'S') {
		memcpy(&val, rec + 5, 4);
		m->val[key] = ntohl(val);
	}
}

static int kv_load(const uint8_t *rec, size_t len, void *arg, const char **why)
{
	if (!(len == 9 && rec[0] == 'S') && !(len == 5 && rec[0] == 'D')) {
		*why = "not a set or a delete";
		return -EINVAL;
	}
	kv_apply(arg, rec);
	return 0;
}

static int kv_snapshot(struct journal_snap *s, void *arg)
{
	struct kv *m = arg;
	uint8_t rec[9], b;
	int err;

	if (m->gate >= 0 && read(m->gate, &b, 1) != 1)
		return -EIO;
	if (m->fail)
		return m->fail;
	for (uint32_t k = 0; k < NKEYS; k++) {
		if (!m->has[k])
			continue;
		rec[0] = 'S';
		put_be32(rec + 1, k);
		put_be32(rec + 5, m->val[k]);
		err = journal_snapshot_put(s, rec, sizeof(rec));
		if (err)
			return err;
	}
	return 0;
}

static void kv_init(struct kv *m)
{
	memset(m, 0, sizeof(*m));
	m->gate = -1;
}

static void kv_open(struct fixture *f, struct journal_opts *o, struct kv *m, struct journal **j)
{
	struct journal_load_report rep;

	o->path = f->path;
	assert_int_equal(journal_open(f->base, o, kv_load, kv_snapshot, on_durable, m, j, &rep),
			 0);
}

/* Write-ahead, as fabricd does: append, and apply only what was appended. */
static void kv_ops(struct journal *j, struct kv *m, uint32_t from, uint32_t to)
{
	uint8_t rec[9];
	uint32_t key, val;

	for (uint32_t i = from; i < to; i++) {
		size_t len = kv_rec(rec, i, &key, &val);

		assert_true(journal_append(j, rec, len) > 0);
		kv_apply(m, rec);
	}
}

static uint32_t kv_count(const struct kv *m)
{
	uint32_t n = 0;

	for (uint32_t k = 0; k < NKEYS; k++)
		n += m->has[k];
	return n;
}

/* A reopen rebuilds exactly the state m holds. */
static void kv_expect(struct fixture *f, const struct kv *m)
{
	struct journal_opts o = { 0 };
	struct journal *j;
	struct kv again;

	kv_init(&again);
	kv_open(f, &o, &again, &j);
	assert_int_equal(journal_close(j), 0);
	for (uint32_t k = 0; k < NKEYS; k++) {
		assert_int_equal(again.has[k], m->has[k]);
		if (m->has[k])
			assert_int_equal(again.val[k], m->val[k]);
	}
}

static void wait_compaction(struct fixture *f, struct journal *j, uint64_t ended)
{
	struct monotime end = deadline();
	struct journal_stats st;

	for (;;) {
		journal_stats(j, &st);
		if (st.compactions_ok + st.compactions_failed >= ended)
			return;
		turn(f, end);
	}
}

static void compaction_keeps_the_state(void **state)
{
	struct fixture *f = *state;
	struct journal_opts o = { 0 };
	struct journal_stats st;
	struct journal *j;
	char compact[400];
	struct kv m;

	snprintf(compact, sizeof(compact), "%s.compact", f->path);
	kv_init(&m);
	kv_open(f, &o, &m, &j);
	kv_ops(j, &m, 0, 3000);
	assert_int_equal(journal_compact_now(j), 0);
	assert_int_equal(journal_compact_now(j), -EBUSY);
	wait_compaction(f, j, 1);
	journal_stats(j, &st);
	assert_int_equal(st.compactions_ok, 1);
	assert_int_equal(st.records, kv_count(&m));
	assert_int_equal(st.bytes, HDR + kv_count(&m) * 17u);
	assert_int_equal(st.last_compaction_bytes, st.bytes);
	assert_int_equal(file_size(f->path), st.bytes);
	assert_false(exists(compact));
	/* the new file is durable: everything appended is */
	assert_int_equal(st.seq_durable, 3000);
	/* appends go to the new file */
	kv_ops(j, &m, 3000, 3100);
	assert_int_equal(journal_close(j), 0);
	kv_expect(f, &m);
}

static void appends_during_compaction_are_kept(void **state)
{
	struct fixture *f = *state;
	struct journal_opts o = { 0 };
	struct journal_stats st;
	struct journal *j;
	int gate[2];
	uint32_t at_fork;
	struct kv m;

	assert_int_equal(pipe(gate), 0);
	kv_init(&m);
	m.gate = gate[0];
	kv_open(f, &o, &m, &j);
	kv_ops(j, &m, 0, 2000);
	at_fork = kv_count(&m);
	assert_int_equal(journal_compact_now(j), 0);
	/* the child waits on the gate: these land in the old file while it runs */
	kv_ops(j, &m, 2000, 2500);
	journal_stats(j, &st);
	assert_true(st.compacting);
	assert_int_equal(write(gate[1], "x", 1), 1);
	wait_compaction(f, j, 1);
	journal_stats(j, &st);
	assert_int_equal(st.compactions_ok, 1);
	assert_false(st.compacting);
	assert_int_equal(st.records, at_fork + 500);
	assert_int_equal(st.seq_durable, 2500);
	kv_ops(j, &m, 2500, 2600);
	assert_int_equal(journal_close(j), 0);
	kv_expect(f, &m);
	close(gate[0]);
	close(gate[1]);
}

static void failed_snapshot_leaves_the_old_file(void **state)
{
	struct fixture *f = *state;
	struct journal_opts o = { 0 };
	struct journal_stats st;
	size_t before_len, after_len;
	uint8_t *before, *after;
	struct journal *j;
	struct kv m;
	char compact[400];

	snprintf(compact, sizeof(compact), "%s.compact", f->path);
	kv_init(&m);
	m.fail = -ENOSPC;
	kv_open(f, &o, &m, &j);
	kv_ops(j, &m, 0, 1000);
	wait_durable(f, &m.d, 1000);
	before = read_all(f->path, &before_len);
	assert_int_equal(journal_compact_now(j), 0);
	wait_compaction(f, j, 1);
	journal_stats(j, &st);
	assert_int_equal(st.compactions_ok, 0);
	assert_int_equal(st.compactions_failed, 1);
	assert_int_equal(st.last_error, -ENOSPC);
	assert_false(st.failed);
	assert_false(exists(compact));
	after = read_all(f->path, &after_len);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len);
	/* the journal goes on */
	kv_ops(j, &m, 1000, 1100);
	assert_int_equal(journal_close(j), 0);
	kv_expect(f, &m);
	free(before);
	free(after);
}

static void failed_compaction_is_retried(void **state)
{
	struct fixture *f = *state;
	struct journal_opts o = { .compact_min_bytes = 4096 };
	struct monotime end = deadline();
	struct journal_stats st;
	struct journal *j;
	struct kv m;

	kv_init(&m);
	m.fail = -EIO;
	kv_open(f, &o, &m, &j);
	kv_ops(j, &m, 0, 1000);
	wait_compaction(f, j, 1);
	journal_stats(j, &st);
	assert_int_equal(st.compactions_failed, 1);
	/* the next child (forked after the backoff) inherits a snapshot that works */
	m.fail = 0;
	while (st.compactions_ok == 0) {
		turn(f, end);
		journal_stats(j, &st);
	}
	assert_int_equal(st.compactions_failed, 1);
	assert_int_equal(st.records, kv_count(&m));
	assert_int_equal(journal_close(j), 0);
	kv_expect(f, &m);
}

static void close_during_compaction_keeps_the_old_file(void **state)
{
	struct fixture *f = *state;
	struct journal_opts o = { 0 };
	struct journal *j;
	char compact[400];
	int gate[2];
	struct kv m;

	snprintf(compact, sizeof(compact), "%s.compact", f->path);
	assert_int_equal(pipe(gate), 0);
	kv_init(&m);
	m.gate = gate[0];
	kv_open(f, &o, &m, &j);
	kv_ops(j, &m, 0, 500);
	assert_int_equal(journal_compact_now(j), 0);
	kv_ops(j, &m, 500, 600);
	/* the child never gets its byte: close kills it */
	assert_int_equal(journal_close(j), 0);
	assert_false(exists(compact));
	kv_expect(f, &m);
	close(gate[0]);
	close(gate[1]);
}

static void compaction_starts_when_the_file_outgrows_itself(void **state)
{
	struct fixture *f = *state;
	struct journal_opts o = { .compact_min_bytes = 4096, .compact_ratio = 2 };
	struct monotime end = deadline();
	struct journal_stats st;
	struct journal *j;
	struct kv m;

	kv_init(&m);
	kv_open(f, &o, &m, &j);
	/* 4096 bytes are about 300 records: not yet */
	kv_ops(j, &m, 0, 200);
	turn(f, end);
	journal_stats(j, &st);
	assert_int_equal(st.compactions_ok + st.compactions_failed, 0);
	assert_false(st.compacting);
	kv_ops(j, &m, 200, 2000);
	turn(f, end);
	wait_compaction(f, j, 1);
	journal_stats(j, &st);
	assert_int_equal(st.compactions_ok, 1);
	assert_true(st.bytes < 4096);
	assert_int_equal(journal_close(j), 0);
	kv_expect(f, &m);
}

static void stale_compact_and_tmp_files_are_removed(void **state)
{
	struct fixture *f = *state;
	char compact[400], tmp[400];

	write_records(f, 10);
	snprintf(compact, sizeof(compact), "%s.compact", f->path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	write_file(compact, "half a snapshot", 15);
	write_file(tmp, "half a header", 13);
	expect_clean(f, 10);
	assert_false(exists(compact));
	assert_false(exists(tmp));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(missing_file_is_created_with_its_header),
		T(records_survive_close_and_reopen),
		T(torn_short_record_header_is_cut),
		T(torn_record_past_eof_is_cut),
		T(torn_last_record_with_bad_checksum_is_cut),
		T(torn_zero_filled_tail_is_cut),
		T(payload_bit_flip_stops_the_open),
		T(crc_bit_flip_stops_the_open),
		T(length_bit_flip_stops_the_open),
		T(empty_file_is_not_a_journal),
		T(bad_magic_is_not_a_journal),
		T(newer_format_version_is_refused),
		T(load_callback_can_refuse_a_record),
		T(group_commit_batches_appends),
		T(oversized_and_empty_records_are_refused),
		T(compaction_keeps_the_state),
		T(appends_during_compaction_are_kept),
		T(failed_snapshot_leaves_the_old_file),
		T(failed_compaction_is_retried),
		T(close_during_compaction_keeps_the_old_file),
		T(compaction_starts_when_the_file_outgrows_itself),
		T(stale_compact_and_tmp_files_are_removed),
		/* last: it moves the process into a mount namespace of its own */
		T(enospc_append_leaves_the_file_as_it_was),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
