/* fuzz_journal.c - journal_open on a file holding the input, without and with recover. Any
 * bytes must load, be cut or be refused as corruption (never crash, leak or read past the
 * file); with recover the open always succeeds; and whatever an open leaves behind must load
 * again cleanly, with the same records. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct event_base *base;
static char dir[256], path[300];

struct seen {
	uint64_t records;
	uint8_t sum;                     /* every byte read, so ASan sees each access */
};

static int accept_all(const uint8_t *rec, size_t len, void *arg, const char **why)
{
	struct seen *s = arg;

	for (size_t i = 0; i < len; i++)
		s->sum += rec[i];
	s->records++;
	return 0;
}

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

/* One directory per process, on tmpfs where there is one: every open fsyncs. */
static void init(void)
{
	const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(dir, sizeof(dir), "%s/fuzz_journal.XXXXXX", tmp);
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/j", dir);
	atexit(cleanup);
	base = event_base_new();
	if (!base)
		abort();
}

static void write_input(const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
}

static int open_once(bool recover, struct journal_load_report *rep, uint64_t *records)
{
	struct journal_opts o = { .path = path, .recover = recover };
	struct seen s = { 0 };
	struct journal *j;
	int rc = journal_open(base, &o, accept_all, NULL, NULL, &s, &j, rep);

	if (rep->corrupt_copy[0])
		unlink(rep->corrupt_copy);
	if (rc == 0) {
		if (rep->records != s.records || !rep->line[0])
			abort();
		if (journal_close(j) != 0)
			abort();
	} else if (!j && !rep->line[0]) {
		abort();
	}
	*records = s.records;
	return rc;
}

/* What an open left must load cleanly: nothing torn, nothing corrupt, the same records. */
static void reopen_is_clean(uint64_t records)
{
	struct journal_load_report rep;
	uint64_t again;

	if (open_once(false, &rep, &again) != 0 || rep.torn_reason || rep.corrupt ||
	    again != records)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal_load_report rep;
	uint64_t plain, recovered;
	int rc;

	if (!base)
		init();
	write_input(data, size);
	rc = open_once(false, &rep, &plain);
	if (rc != 0 && rc != -EBADMSG)
		abort();
	if (rc == 0)
		reopen_is_clean(plain);
	write_input(data, size);
	if (open_once(true, &rep, &recovered) != 0)
		abort();
	/* recover changes nothing that a plain open accepts */
	if (rc == 0 && (rep.corrupt || recovered != plain))
		abort();
	reopen_is_clean(recovered);
	return 0;
}
