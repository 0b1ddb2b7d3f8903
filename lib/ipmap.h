/*
 * ipmap.h - a map from an IP address (IPv4 or IPv6) to a value whose first member is that
 * address (struct ipaddr): open addressing with linear probing and backward-shift deletion,
 * load factor at most 1/2. Each slot holds the value and its key's hash (16 bytes), so a
 * million keys take 32 MiB of slots and a probe compares hashes before it looks at a value.
 * Keyed by a random seed per map, as macmap (lib/hash.h). What fabricd's PortLand host table
 * (IP -> PMAC) is kept in.
 */
#ifndef L2_IPMAP_H
#define L2_IPMAP_H

#include <stddef.h>
#include <stdint.h>
#include "addr.h"

struct ipmap_slot {
	void *val;                 /* NULL: empty; else it starts with its struct ipaddr */
	uint64_t hash;
};

struct ipmap {
	struct ipmap_slot *slots;
	size_t nslots;             /* a power of two */
	size_t count;
	uint64_t seed;
};

int ipmap_init(struct ipmap *m);
/* Frees the table, not the values. */
void ipmap_free(struct ipmap *m);
void *ipmap_get(const struct ipmap *m, const struct ipaddr *ip);
/* Puts val (not NULL, *(struct ipaddr *)val is its key), replacing the value of that key;
 * returns the one replaced (NULL when new). *err is 0, or -ENOMEM (nothing changed). */
void *ipmap_put(struct ipmap *m, void *val, int *err);
/* Removes the key and returns its value, or NULL when absent. */
void *ipmap_del(struct ipmap *m, const struct ipaddr *ip);
/* Visits every value; stops when cb returns non-zero. cb must not add or delete. */
void ipmap_foreach(const struct ipmap *m, int (*cb)(void *val, void *ctx), void *ctx);

#endif
