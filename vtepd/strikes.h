/*
 * strikes.h - how often each of vtepd's kernel entries was removed by someone else lately, so
 * that vtepd stops putting back an entry that keeps being removed instead of fighting over it
 * (drift.c). Pure: no kernel, no clock of its own (times are the caller's, in µs).
 *
 * An entry removed more than `max` times within `window_us` of its first counted removal is
 * held for `backoff_us`: not put back until then. The table has a fixed capacity; entries
 * whose window has passed are forgotten when room is needed, and an entry that finds no room
 * is not tracked (put back every time, as if it had no strikes): the work stays bounded by
 * the caller's own pacing.
 */
#ifndef VTEPD_STRIKES_H
#define VTEPD_STRIKES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What was removed: a neighbour (its IP), a unicast FDB entry (its MAC), a flood remote (its
 * VTEP). len bytes of b are the key; the rest is zero. */
enum strike_kind { STRIKE_NEIGH = 1, STRIKE_FDB, STRIKE_FLOOD };

struct strike_key {
	uint32_t vni;
	uint8_t kind;
	uint8_t len;
	uint8_t b[16];
};

struct strike {
	struct strike_key key;
	bool used;
	uint32_t count;           /* removals since first_us */
	int64_t first_us;
	int64_t until_us;         /* held until then; 0: not held */
};

struct strikes {
	struct strike *slots;
	size_t cap;               /* a power of two; at most cap / 2 used */
	size_t n;
	size_t held;              /* entries with until_us set */
	uint32_t max;
	int64_t window_us, backoff_us;
	int64_t full_us;          /* when the table was last found full of live entries */
};

/* What strikes_hit says of one more removal. */
enum strike_verdict {
	STRIKE_REPAIR,            /* put it back */
	STRIKE_BACKOFF,           /* one too many: held from now on */
	STRIKE_HELD,              /* held already */
	STRIKE_UNTRACKED,         /* no room to count it: put it back */
};

/* capacity: most entries tracked at once (rounded up to a power of two). 0 or -ENOMEM. */
int strikes_init(struct strikes *s, size_t capacity, uint32_t max, int64_t window_us,
		 int64_t backoff_us);
void strikes_free(struct strikes *s);
void strike_key_set(struct strike_key *k, uint32_t vni, enum strike_kind kind, const void *b,
		    size_t len);
enum strike_verdict strikes_hit(struct strikes *s, const struct strike_key *k, int64_t now_us);
/* The entry is held now. */
bool strikes_held(const struct strikes *s, const struct strike_key *k, int64_t now_us);
/* Ends the holds that are over at now (ended, if not NULL, is told of each), forgets entries
 * whose window has passed. Returns when the next hold ends, 0 if none is left. */
int64_t strikes_expire(struct strikes *s, int64_t now_us,
		       void (*ended)(void *ctx, const struct strike_key *k), void *ctx);

#endif
