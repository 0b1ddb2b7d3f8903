/*
 * strikes.c - removals counted per entry, and holds (see strikes.h): open addressing with
 * linear probing, rebuilt when entries are forgotten (no tombstones).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "strikes.h"

static uint64_t key_hash(const struct strike_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 1469598103934665603ull;   /* FNV-1a, 64 bits */

	for (size_t i = 0; i < sizeof(*k); i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

static bool key_eq(const struct strike_key *a, const struct strike_key *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* The slot holding k, or the free slot where it would go. */
static struct strike *slot_of(struct strike *slots, size_t cap, const struct strike_key *k)
{
	size_t i = (size_t)key_hash(k) & (cap - 1);

	while (slots[i].used && !key_eq(&slots[i].key, k))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

int strikes_init(struct strikes *s, size_t capacity, uint32_t max, int64_t window_us,
		 int64_t backoff_us)
{
	size_t cap = 16;

	memset(s, 0, sizeof(*s));
	while (cap < 2 * capacity)
		cap *= 2;
	s->slots = calloc(cap, sizeof(*s->slots));
	if (!s->slots)
		return -ENOMEM;
	s->cap = cap;
	s->max = max;
	s->window_us = window_us;
	s->backoff_us = backoff_us;
	return 0;
}

void strikes_free(struct strikes *s)
{
	free(s->slots);
	s->slots = NULL;
	s->n = s->cap = s->held = 0;
}

void strike_key_set(struct strike_key *k, uint32_t vni, enum strike_kind kind, const void *b,
		    size_t len)
{
	memset(k, 0, sizeof(*k));
	k->vni = vni;
	k->kind = (uint8_t)kind;
	k->len = (uint8_t)(len < sizeof(k->b) ? len : sizeof(k->b));
	memcpy(k->b, b, k->len);
}

/* Rebuilds the table without what is over: windows passed (entries not held), and, with
 * end_holds, holds that ended (told to ended). Returns the next hold's end, 0 if none. */
static int64_t rebuild(struct strikes *s, int64_t now, bool end_holds,
		       void (*ended)(void *ctx, const struct strike_key *k), void *ctx)
{
	struct strike *old = s->slots;
	int64_t next = 0;

	/* In place is not possible with linear probing; a second array of the same size. If
	 * there is no memory for it, nothing is forgotten (the table only fills up). */
	s->slots = calloc(s->cap, sizeof(*s->slots));
	if (!s->slots) {
		s->slots = old;
		return 0;
	}
	s->n = s->held = 0;
	for (size_t i = 0; i < s->cap; i++) {
		struct strike *e = &old[i];

		if (!e->used)
			continue;
		if (e->until_us && end_holds && now >= e->until_us) {
			if (ended)
				ended(ctx, &e->key);
			continue;
		}
		if (!e->until_us && now - e->first_us >= s->window_us)
			continue;
		*slot_of(s->slots, s->cap, &e->key) = *e;
		s->n++;
		if (e->until_us) {
			s->held++;
			if (!next || e->until_us < next)
				next = e->until_us;
		}
	}
	free(old);
	return next;
}

enum strike_verdict strikes_hit(struct strikes *s, const struct strike_key *k, int64_t now)
{
	struct strike *e;

	if (!s->slots)
		return STRIKE_UNTRACKED;
	e = slot_of(s->slots, s->cap, k);
	if (!e->used && s->n + 1 > s->cap / 2) {
		/* Full: forget what is over, at most once a second (a rebuild walks the table). */
		if (s->full_us && now - s->full_us < 1000000)
			return STRIKE_UNTRACKED;
		rebuild(s, now, false, NULL, NULL);
		e = slot_of(s->slots, s->cap, k);
		if (!e->used && s->n + 1 > s->cap / 2) {
			s->full_us = now;
			return STRIKE_UNTRACKED;
		}
		s->full_us = 0;
	}
	if (!e->used) {
		*e = (struct strike){ .key = *k, .used = true, .first_us = now };
		s->n++;
	}
	if (e->until_us) {
		if (now < e->until_us)
			return STRIKE_HELD;
		/* The hold is over (strikes_expire has not run yet): counting starts again. */
		e->until_us = 0;
		s->held--;
		e->count = 0;
		e->first_us = now;
	}
	if (now - e->first_us >= s->window_us) {
		e->count = 0;
		e->first_us = now;
	}
	if (++e->count <= s->max)
		return STRIKE_REPAIR;
	e->until_us = now + s->backoff_us;
	s->held++;
	return STRIKE_BACKOFF;
}

bool strikes_held(const struct strikes *s, const struct strike_key *k, int64_t now)
{
	const struct strike *e;

	if (!s->slots || !s->held)
		return false;
	e = slot_of(s->slots, s->cap, k);
	return e->used && e->until_us && now < e->until_us;
}

int64_t strikes_expire(struct strikes *s, int64_t now,
		       void (*ended)(void *ctx, const struct strike_key *k), void *ctx)
{
	if (!s->slots)
		return 0;
	return rebuild(s, now, true, ended, ctx);
}
