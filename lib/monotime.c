/* monotime.c - monotonic clock (CLOCK_MONOTONIC) behind struct monotime. */
#include <time.h>
#include "monotime.h"

struct monotime monotime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (struct monotime){ .us = (int64_t)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000 };
}

struct monotime monotime_add_us(struct monotime t, int64_t us)
{
	return (struct monotime){ .us = t.us + us };
}

int64_t monotime_diff_us(struct monotime later, struct monotime earlier)
{
	return later.us - earlier.us;
}

bool monotime_is_set(struct monotime t)
{
	return t.us != 0;
}

struct monotime monotime_min(struct monotime a, struct monotime b)
{
	if (!monotime_is_set(a))
		return b;
	if (!monotime_is_set(b))
		return a;
	return a.us < b.us ? a : b;
}
