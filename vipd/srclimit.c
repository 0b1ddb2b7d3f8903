/*
 * srclimit.c - per-source token buckets in a bounded table (see srclimit.h).
 *
 * GCRA: with an emission interval T = 1 s / rate and a tolerance tau = (burst - 1) * T, a
 * request at t is conforming when max(tat, t) - t <= tau, and then tat = max(tat, t) + T.
 * A request that is not conforming leaves tat alone, so a source flooding at any rate still
 * gets `rate` answers a second, and a source that stops has its full burst back after
 * burst * T.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "srclimit.h"

int srclimit_init(struct srclimit *l, uint32_t seed)
{
	memset(l, 0, sizeof(*l));
	l->slots = calloc(SRCLIMIT_SLOTS, sizeof(*l->slots));
	if (!l->slots)
		return -ENOMEM;
	l->seed = seed;
	return 0;
}

void srclimit_free(struct srclimit *l)
{
	free(l->slots);
	l->slots = NULL;
}

/* FNV-1a over the seed, the MAC and the address. */
static uint32_t slot_hash(const struct srclimit *l, const struct mac *mac,
			  const struct ipaddr *ip)
{
	uint32_t h = 2166136261u ^ l->seed;
	size_t alen = ip->af == AF_INET ? 4 : ip->af == AF_INET6 ? 16 : 0;

	for (size_t i = 0; i < MAC_LEN; i++)
		h = (h ^ mac->b[i]) * 16777619u;
	h = (h ^ (uint8_t)ip->af) * 16777619u;
	for (size_t i = 0; i < alen; i++)
		h = (h ^ ip->b[i]) * 16777619u;
	return h;
}

/* The source has had a full bucket for SRCLIMIT_HOLD_US: nothing to remember about it. */
static bool slot_idle(const struct srclimit_slot *s, struct monotime now)
{
	return !s->ip.af || monotime_diff_us(now, s->tat) >= SRCLIMIT_HOLD_US;
}

static struct srclimit_slot *slot_find(struct srclimit *l, const struct mac *mac,
				       const struct ipaddr *ip, struct monotime now)
{
	uint32_t first = slot_hash(l, mac, ip) % SRCLIMIT_SLOTS;
	struct srclimit_slot *spare = NULL;

	for (uint32_t i = 0; i < SRCLIMIT_WAYS; i++) {
		struct srclimit_slot *s = &l->slots[(first + i) % SRCLIMIT_SLOTS];

		if (s->ip.af && mac_eq(&s->mac, mac) && ipaddr_eq(&s->ip, ip))
			return s;
		if (!spare && slot_idle(s, now))
			spare = s;
	}
	if (spare) {
		spare->mac = *mac;
		spare->ip = *ip;
		spare->tat = now;              /* a full bucket */
	}
	return spare;
}

static bool gcra_take(struct monotime *tat, struct monotime now, uint32_t rate, uint32_t burst)
{
	int64_t t = USEC_PER_SEC / (rate ? rate : 1);
	int64_t tau = (int64_t)((burst ? burst : 1) - 1) * t;
	struct monotime start = tat->us > now.us ? *tat : now;

	if (t < 1)
		t = 1;
	if (monotime_diff_us(start, now) > tau)
		return false;
	*tat = monotime_add_us(start, t);
	return true;
}

bool srclimit_take(struct srclimit *l, const struct mac *mac, const struct ipaddr *ip,
		   struct monotime now, uint32_t rate, uint32_t burst)
{
	struct srclimit_slot *s = slot_find(l, mac, ip, now);

	if (!s) {
		l->table_full++;
		return gcra_take(&l->shared_tat, now, rate, burst);
	}
	return gcra_take(&s->tat, now, rate, burst);
}

size_t srclimit_active(const struct srclimit *l, struct monotime now)
{
	size_t n = 0;

	for (size_t i = 0; i < SRCLIMIT_SLOTS; i++)
		n += !slot_idle(&l->slots[i], now);
	return n;
}
