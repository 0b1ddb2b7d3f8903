/* log.c - logging to stderr, a file or syslog, with levels and a per-call-site rate
 * limiter. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <unistd.h>
#include "log.h"
#include "monotime.h"

static const char *log_ident = "l2fabric";
static enum log_level log_level = LOG_LVL_INFO;
static const char *const level_name[] = { "error", "warning", "info", "debug" };
static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
static bool to_syslog;

void log_init(const char *ident, enum log_level level)
{
	log_ident = ident;
	log_level = level;
	setvbuf(stderr, NULL, _IOLBF, 0);
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

void log_to_syslog(void)
{
	openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	to_syslog = true;
}

int log_to_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		return -errno;
	fflush(stderr);
	if (dup2(fd, STDERR_FILENO) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	to_syslog = false;
	return 0;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	struct monotime now = monotime_now();
	va_list ap;

	if (level > log_level)
		return;
	if (to_syslog) {
		va_start(ap, fmt);
		vsyslog(syslog_prio[level], fmt, ap);
		va_end(ap);
		return;
	}
	fprintf(stderr, "[%lld.%06lld] %s: %s: ", (long long)(now.us / USEC_PER_SEC),
		(long long)(now.us % USEC_PER_SEC), log_ident, level_name[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool ratelimit_ok(struct ratelimit *rl)
{
	struct monotime now = monotime_now();

	if (!rl->started) {
		bucket_init(&rl->b, 1000.0 / (rl->interval_ms ? rl->interval_ms : 1), rl->burst, now);
		rl->started = true;
	}
	if (!bucket_take(&rl->b, now)) {
		rl->suppressed++;
		return false;
	}
	if (rl->suppressed) {
		log_msg(LOG_LVL_WARN, "%llu similar messages suppressed",
			(unsigned long long)rl->suppressed);
		rl->suppressed = 0;
	}
	return true;
}
