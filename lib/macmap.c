/* macmap.c - (vni, mac) -> pointer map; see macmap.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "hash.h"
#include "macmap.h"

#define MIN_SLOTS 64

/* Keyed by the map's seed: the MAC, then the whole VNI (24 bits do not fit beside 48 in one
 * word). MACs of one vendor differ in their low bytes only, which the mixing spreads. */
static inline uint64_t key_hash(uint64_t seed, uint32_t vni, const uint8_t mac[MAC_LEN])
{
	uint64_t k = 0;

	for (int i = 0; i < MAC_LEN; i++)
		k = (k << 8) | mac[i];
	return hash_mix64(hash_mix64(k ^ seed) ^ vni);
}

uint64_t macmap_hash(const struct macmap *m, uint32_t vni, const uint8_t mac[MAC_LEN])
{
	return key_hash(m->seed, vni, mac);
}

static bool key_eq(const struct macmap_slot *s, uint32_t vni, const uint8_t mac[MAC_LEN])
{
	return s->vni == vni && memcmp(s->mac, mac, MAC_LEN) == 0;
}

int macmap_init(struct macmap *m)
{
	m->nslots = MIN_SLOTS;
	m->count = 0;
	m->seed = hash_seed(m);
	m->slots = calloc(m->nslots, sizeof(*m->slots));
	return m->slots ? 0 : -ENOMEM;
}

void macmap_free(struct macmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->nslots = m->count = 0;
}

static size_t find(const struct macmap *m, uint32_t vni, const uint8_t mac[MAC_LEN])
{
	size_t i = key_hash(m->seed, vni, mac) & (m->nslots - 1);

	while (m->slots[i].val && !key_eq(&m->slots[i], vni, mac))
		i = (i + 1) & (m->nslots - 1);
	return i;
}

void *macmap_get(const struct macmap *m, uint32_t vni, const uint8_t mac[MAC_LEN])
{
	return m->slots[find(m, vni, mac)].val;
}

static int grow(struct macmap *m)
{
	struct macmap old = *m;

	m->slots = calloc(old.nslots * 2, sizeof(*m->slots));
	if (!m->slots) {
		*m = old;
		return -ENOMEM;
	}
	m->nslots = old.nslots * 2;
	for (size_t i = 0; i < old.nslots; i++)
		if (old.slots[i].val)
			m->slots[find(m, old.slots[i].vni, old.slots[i].mac)] = old.slots[i];
	free(old.slots);
	return 0;
}

int macmap_put(struct macmap *m, uint32_t vni, const uint8_t mac[MAC_LEN], void *val)
{
	size_t i;

	if ((m->count + 1) * 2 > m->nslots && grow(m) < 0)
		return -ENOMEM;
	i = find(m, vni, mac);
	if (!m->slots[i].val) {
		m->slots[i].vni = vni;
		memcpy(m->slots[i].mac, mac, MAC_LEN);
		m->count++;
	}
	m->slots[i].val = val;
	return 0;
}

void *macmap_del(struct macmap *m, uint32_t vni, const uint8_t mac[MAC_LEN])
{
	size_t i = find(m, vni, mac), j, mask = m->nslots - 1;
	void *val = m->slots[i].val;

	if (!val)
		return NULL;
	m->slots[i].val = NULL;
	m->count--;
	/* Backward shift: pull later members of the probe run into the hole, unless their
	 * home slot lies cyclically in (i, j]. */
	for (j = (i + 1) & mask; m->slots[j].val; j = (j + 1) & mask) {
		size_t home = key_hash(m->seed, m->slots[j].vni, m->slots[j].mac) & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			m->slots[j].val = NULL;
			i = j;
		}
	}
	return val;
}

void macmap_foreach(const struct macmap *m, int (*cb)(void *val, void *ctx), void *ctx)
{
	for (size_t i = 0; i < m->nslots; i++)
		if (m->slots[i].val && cb(m->slots[i].val, ctx))
			return;
}
