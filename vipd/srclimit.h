/*
 * srclimit.h - per-source token buckets in a bounded table: how many ARP and NS answers one
 * asker can draw from a master. Pure: no clock of its own (the caller passes `now`), no I/O,
 * so a fake clock tests it.
 *
 * A source is the asker's (Ethernet source MAC, sender address). Each has a bucket of `burst`
 * answers refilled at `rate` per second, kept as one time (GCRA, the virtual scheduling form
 * of a token bucket: tat, the time at which the bucket is full again). The table has a fixed
 * number of slots; a source hashes (with a per-table random seed) to SRCLIMIT_WAYS neighbouring
 * slots and takes one that is free or whose source has had a full bucket for SRCLIMIT_HOLD_US
 * (it holds no state any more). When none is, the table is full for that source: it is
 * counted, and the source draws from one bucket shared by all such sources, so that a flood
 * from ever-new sources gets no more answers than one source would.
 */
#ifndef VIPD_SRCLIMIT_H
#define VIPD_SRCLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "addr.h"
#include "monotime.h"

#define SRCLIMIT_SLOTS 1024
#define SRCLIMIT_WAYS 8
#define SRCLIMIT_HOLD_US USEC_PER_SEC

struct srclimit_slot {
	struct mac mac;
	struct ipaddr ip;              /* af 0: slot never used */
	struct monotime tat;           /* when the bucket is full again */
};

struct srclimit {
	struct srclimit_slot *slots;   /* SRCLIMIT_SLOTS */
	uint32_t seed;
	struct monotime shared_tat;    /* the bucket of sources that found no slot */
	uint64_t table_full;           /* answers asked by a source that found no slot */
};

/* 0 or -ENOMEM. */
int srclimit_init(struct srclimit *l, uint32_t seed);
void srclimit_free(struct srclimit *l);
/* Takes one answer from the source's bucket: true when it may be answered now. rate: answers
 * per second (>= 1); burst: the bucket's size (>= 1). Both may change between calls (a
 * reload): a new burst applies at once, a new rate to what is taken from then on (the time a
 * source already owes at the old rate is kept). */
bool srclimit_take(struct srclimit *l, const struct mac *mac, const struct ipaddr *ip,
		   struct monotime now, uint32_t rate, uint32_t burst);
/* Slots holding a source that still has state (asked within SRCLIMIT_HOLD_US of a full
 * bucket). */
size_t srclimit_active(const struct srclimit *l, struct monotime now);

#endif
