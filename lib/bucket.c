/* bucket.c - a token bucket on an injected monotonic time; see bucket.h. */
#include "bucket.h"

void bucket_init(struct bucket *b, double rate, double burst, struct monotime now)
{
	b->rate = rate;
	b->burst = burst;
	b->tokens = burst;
	b->refilled = now;
}

bool bucket_take(struct bucket *b, struct monotime now)
{
	int64_t us = monotime_diff_us(now, b->refilled);

	if (us > 0) {
		b->tokens += us / 1e6 * b->rate;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->refilled = now;
	}
	if (b->tokens < 1)
		return false;
	b->tokens -= 1;
	return true;
}
