/* ipmap.c - IP address -> value map; see ipmap.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "hash.h"
#include "ipmap.h"

#define MIN_SLOTS 64

/* The address's own bytes (4 or 16: what lies beyond an IPv4 address is not its key), as
 * two words, and its family. */
static uint64_t ip_hash(uint64_t seed, const struct ipaddr *ip)
{
	uint8_t k[16] = { 0 };
	uint64_t a, b;

	memcpy(k, ip->b, ipaddr_len(ip));
	memcpy(&a, k, 8);
	memcpy(&b, k + 8, 8);
	return hash_mix64(hash_mix64(hash_mix64(a ^ seed) ^ b) ^ (uint64_t)ip->af);
}

static const struct ipaddr *key_of(const void *val)
{
	return val;
}

/* The slot holding ip, or the empty one where it would go. */
static size_t find(const struct ipmap *m, const struct ipaddr *ip, uint64_t h)
{
	size_t mask = m->nslots - 1, i = h & mask;

	while (m->slots[i].val &&
	       (m->slots[i].hash != h || !ipaddr_eq(key_of(m->slots[i].val), ip)))
		i = (i + 1) & mask;
	return i;
}

int ipmap_init(struct ipmap *m)
{
	m->nslots = MIN_SLOTS;
	m->count = 0;
	m->seed = hash_seed(m);
	m->slots = calloc(m->nslots, sizeof(*m->slots));
	return m->slots ? 0 : -ENOMEM;
}

void ipmap_free(struct ipmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->nslots = m->count = 0;
}

void *ipmap_get(const struct ipmap *m, const struct ipaddr *ip)
{
	return m->slots[find(m, ip, ip_hash(m->seed, ip))].val;
}

/* Doubles the slots: the stored hashes place every value again, no key is read. */
static int grow(struct ipmap *m)
{
	size_t n = m->nslots * 2, mask = n - 1;
	struct ipmap_slot *s = calloc(n, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < m->nslots; i++) {
		size_t k;

		if (!m->slots[i].val)
			continue;
		for (k = m->slots[i].hash & mask; s[k].val; k = (k + 1) & mask)
			;
		s[k] = m->slots[i];
	}
	free(m->slots);
	m->slots = s;
	m->nslots = n;
	return 0;
}

void *ipmap_put(struct ipmap *m, void *val, int *err)
{
	const struct ipaddr *ip = key_of(val);
	uint64_t h = ip_hash(m->seed, ip);
	size_t i = find(m, ip, h);
	void *old = m->slots[i].val;

	*err = 0;
	if (!old && (m->count + 1) * 2 > m->nslots) {
		if ((*err = grow(m)) < 0)
			return NULL;
		i = find(m, ip, h);
	}
	m->slots[i] = (struct ipmap_slot){ val, h };
	if (!old)
		m->count++;
	return old;
}

void *ipmap_del(struct ipmap *m, const struct ipaddr *ip)
{
	size_t mask = m->nslots - 1, i = find(m, ip, ip_hash(m->seed, ip)), j;
	void *val = m->slots[i].val;

	if (!val)
		return NULL;
	m->slots[i].val = NULL;
	m->count--;
	/* Backward shift: a later member of the probe run moves into the hole unless its home
	 * slot lies cyclically in (i, j]. */
	for (j = (i + 1) & mask; m->slots[j].val; j = (j + 1) & mask) {
		size_t home = m->slots[j].hash & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			m->slots[j].val = NULL;
			i = j;
		}
	}
	return val;
}

void ipmap_foreach(const struct ipmap *m, int (*cb)(void *val, void *ctx), void *ctx)
{
	for (size_t i = 0; i < m->nslots; i++)
		if (m->slots[i].val && cb(m->slots[i].val, ctx))
			return;
}
