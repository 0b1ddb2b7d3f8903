/*
 * bucket.h - a token bucket: `rate` tokens a second, at most `burst` held, one taken per
 * event let through. The caller passes the time (a fake clock in the tests). What fabricd's
 * flood and membership rates and switchd's per-port IGMP/MLD rate are made of.
 */
#ifndef L2_BUCKET_H
#define L2_BUCKET_H

#include <stdbool.h>
#include "monotime.h"

struct bucket {
	double rate, burst;                /* tokens a second; at most this many held */
	double tokens;
	struct monotime refilled;
};

/* Full: a burst may pass at once. */
void bucket_init(struct bucket *b, double rate, double burst, struct monotime now);
/* Refills b for the time since the last call, then takes a token: false when none is left
 * (the event is over the rate). */
bool bucket_take(struct bucket *b, struct monotime now);

#endif
