/*
 * monotime.h - monotonic time as its own type, so wall-clock values and plain integers cannot be
 * mixed with it. Microsecond resolution: enough for 10 ms VRRP intervals and their skew.
 */
#ifndef L2_MONOTIME_H
#define L2_MONOTIME_H

#include <stdbool.h>
#include <stdint.h>

struct monotime {
	int64_t us;            /* 0 means "not set" */
};

#define USEC_PER_MSEC 1000LL
#define USEC_PER_SEC 1000000LL

struct monotime monotime_now(void);
struct monotime monotime_add_us(struct monotime t, int64_t us);
int64_t monotime_diff_us(struct monotime later, struct monotime earlier);
bool monotime_is_set(struct monotime t);
/* The earlier of two times, ignoring unset ones. */
struct monotime monotime_min(struct monotime a, struct monotime b);

#endif
