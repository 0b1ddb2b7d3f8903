/* hash.c - a hash table's random seed; see hash.h. */
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "hash.h"

uint64_t hash_seed(const void *salt)
{
	uint64_t seed;
	struct timespec ts;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == sizeof(seed))
		return seed;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return hash_mix64((uint64_t)(uintptr_t)salt ^ (uint64_t)getpid() << 32 ^
			  (uint64_t)ts.tv_sec * 1000000000u ^ (uint64_t)ts.tv_nsec);
}
