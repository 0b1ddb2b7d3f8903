/*
 * hash.h - what the hash tables share: a keyed 64-bit mix and a per-table random seed, so
 * that where a key lands cannot be known from outside (hash flooding: guests choose their
 * MACs, hosts their addresses).
 */
#ifndef L2_HASH_H
#define L2_HASH_H

#include <stdint.h>

/* The splitmix64 finalizer: every input bit reaches every output bit. */
static inline uint64_t hash_mix64(uint64_t k)
{
	k ^= k >> 30;
	k *= 0xbf58476d1ce4e5b9ULL;
	k ^= k >> 27;
	k *= 0x94d049bb133111ebULL;
	return k ^ (k >> 31);
}

/* A random seed (getrandom); without entropy yet (early boot) one still different per table
 * (salt: its address) and per run, if guessable. */
uint64_t hash_seed(const void *salt);

#endif
