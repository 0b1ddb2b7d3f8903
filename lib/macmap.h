/*
 * macmap.h - a map from (segment VNI, MAC) to a pointer: open addressing with linear probing
 * and backward-shift deletion, load factor at most 1/2. What the fabric's directory and the
 * agents' tables are keyed by.
 *
 * Guests choose their MACs: with a hash anyone can compute, a guest could pick thousands that
 * share one slot and make every lookup of the table walk them (hash flooding). Each map hashes
 * with its own random seed (getrandom), so where a key lands cannot be known from outside.
 */
#ifndef L2_MACMAP_H
#define L2_MACMAP_H

#include <stddef.h>
#include <stdint.h>
#include "addr.h"

struct macmap_slot {
	void *val;                 /* NULL: empty */
	uint32_t vni;
	uint8_t mac[MAC_LEN];
};

struct macmap {
	struct macmap_slot *slots;
	size_t nslots;             /* a power of two */
	size_t count;
	uint64_t seed;             /* random, per map: set by macmap_init */
};

int macmap_init(struct macmap *m);
/* Frees the table, not the values. */
void macmap_free(struct macmap *m);
void *macmap_get(const struct macmap *m, uint32_t vni, const uint8_t mac[MAC_LEN]);
/* Sets (vni, mac) to val (not NULL), replacing what was there. 0 or -ENOMEM. */
int macmap_put(struct macmap *m, uint32_t vni, const uint8_t mac[MAC_LEN], void *val);
/* Removes the key and returns its value, or NULL when absent. */
void *macmap_del(struct macmap *m, uint32_t vni, const uint8_t mac[MAC_LEN]);
/* The key's hash under m's seed; its probe run starts at slot hash & (nslots - 1). */
uint64_t macmap_hash(const struct macmap *m, uint32_t vni, const uint8_t mac[MAC_LEN]);
/* Visits every value; stops when cb returns non-zero. cb must not add or delete. */
void macmap_foreach(const struct macmap *m, int (*cb)(void *val, void *ctx), void *ctx);

#endif
