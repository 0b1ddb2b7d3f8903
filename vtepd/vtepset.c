/* vtepset.c - the set of the fabric's VTEPs: a dense array and a hash index; see vtepset.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "vtepset.h"

#define MIN_CAP 16

/* FNV-1a over the family and the address, then the splitmix64 finalizer: VTEPs of one
 * underlay subnet differ in their last bytes only, which the finalizer spreads over every
 * bit the mask keeps. */
static uint64_t hash(const struct ipaddr *a)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)a->af;
	size_t len = ipaddr_len(a);

	for (size_t i = 0; i < len; i++)
		h = (h ^ a->b[i]) * 0x100000001b3ULL;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

/* The slot indexing a, or the free slot where it would go (there is always one free). */
static size_t find(const struct vtepset *s, const struct ipaddr *a)
{
	size_t mask = s->nslots - 1, i = hash(a) & mask;

	while (s->slots[i] && !ipaddr_eq(&s->v[s->slots[i] - 1], a))
		i = (i + 1) & mask;
	return i;
}

bool vtepset_has(const struct vtepset *s, const struct ipaddr *a)
{
	return s->nslots && s->slots[find(s, a)];
}

/* Doubles the array and rebuilds the index, twice as large, over it. On failure the set is
 * as it was (the array may have grown; cap says what is usable). */
static int grow(struct vtepset *s)
{
	size_t cap = s->cap ? s->cap * 2 : MIN_CAP;
	struct ipaddr *v;
	uint32_t *slots;

	if (cap >= UINT32_MAX / 2)
		return -ENOMEM;                /* an index must fit its uint32_t slot */
	v = realloc(s->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->v = v;
	slots = calloc(2 * cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	free(s->slots);
	s->slots = slots;
	s->nslots = 2 * cap;
	s->cap = cap;
	for (size_t k = 0; k < s->n; k++)
		s->slots[find(s, &s->v[k])] = (uint32_t)k + 1;
	return 0;
}

int vtepset_add(struct vtepset *s, const struct ipaddr *a)
{
	size_t i;
	int err;

	if (vtepset_has(s, a))
		return 0;
	if (s->n == s->cap && (err = grow(s)) < 0)
		return err;
	i = find(s, a);
	s->v[s->n++] = *a;
	s->slots[i] = (uint32_t)s->n;
	return 1;
}

void vtepset_free(struct vtepset *s)
{
	free(s->v);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}
