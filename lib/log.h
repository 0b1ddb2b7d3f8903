/*
 * log.h - one logging path for every daemon: level-filtered lines on stderr, each stamped
 * with monotonic seconds (comparable across the daemons of one host, unlike wall time), and a
 * rate limiter for anything a peer can trigger per packet. A detached daemon logs to syslog,
 * one given a log file to that file.
 */
#ifndef L2_LOG_H
#define L2_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include "bucket.h"

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(const char *ident, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* From now on lines go to syslog (LOG_DAEMON), as a detached daemon's do. */
void log_to_syslog(void);
/* (Re)opens path for appending as stderr, where lines go from now on (SIGUSR1 calls it
 * again after a rotation). 0 or -errno; on failure the old destination stays. */
int log_to_file(const char *path);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* A token bucket (bucket.h): allows `burst` lines, then one per `interval_ms`. */
struct ratelimit {
	uint32_t interval_ms;
	uint32_t burst;
	bool started;                      /* b set up at the first call */
	struct bucket b;
	uint64_t suppressed;
};

#define RATELIMIT_INIT(ms, b) { .interval_ms = (ms), .burst = (b) }

/* true when the caller may log now; counts what it suppresses and reports it on the next
 * allowed line. */
bool ratelimit_ok(struct ratelimit *rl);

#define log_rl(rl, level, ...)                                  \
	do {                                                    \
		if (ratelimit_ok(rl))                           \
			log_msg(level, __VA_ARGS__);            \
	} while (0)

#endif
