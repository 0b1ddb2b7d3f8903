/*
 * vmid.c - the vmids of an edge's host ports (vmid.h): a bitmap per port of the vmids in use
 * or held, and one list of the holds over all ports in the order they end. Every hold is as
 * long as the others, so they end in the order they started and the list is a queue: a new
 * hold goes at the tail, the head ends first. Only restored holds (shorter, clamped) and a
 * host taking its own vmid back touch the middle. A take and a release each scan the list
 * (a host's own hold; a vmid held twice), at most `max` entries: microseconds, once a host.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "vmid.h"

void vmids_init(struct vmids *v, size_t max, int64_t hold_us, const struct vmid_ops *ops,
		void *ctx)
{
	memset(v, 0, sizeof(*v));
	v->max = max;
	v->hold_us = hold_us;
	v->ops = ops;
	v->ctx = ctx;
}

void vmids_fini(struct vmids *v)
{
	for (int p = 0; p < VMID_PORTS; p++)
		free(v->taken[p]);
	free(v->holds);
	memset(v, 0, sizeof(*v));
}

static bool is_taken(const uint64_t *map, uint16_t vmid)
{
	return map[vmid / 64] >> (vmid % 64) & 1;
}

static void set_taken(uint64_t *map, uint16_t vmid, bool on)
{
	if (on)
		map[vmid / 64] |= 1ull << (vmid % 64);
	else
		map[vmid / 64] &= ~(1ull << (vmid % 64));
}

/* The port's bitmap, made at its first vmid (vmid 0 marked taken: it is never given). */
static uint64_t *port_map(struct vmids *v, uint8_t port)
{
	if (!v->taken[port]) {
		v->taken[port] = calloc(VMID_WORDS, sizeof(uint64_t));
		if (v->taken[port])
			set_taken(v->taken[port], 0, true);
	}
	return v->taken[port];
}

/* Room for one more vmid taken: within max, and the holds' list able to hold every vmid
 * taken, so that releasing any of them later cannot fail. */
static int room_for_one(struct vmids *v)
{
	struct vmid_hold *n;
	size_t cap;

	if (v->ntaken >= v->max)
		return -ENOSPC;
	if (v->cap > v->ntaken)
		return 0;
	cap = v->cap ? v->cap * 2 : 64;
	if (cap > v->max)
		cap = v->max;
	n = realloc(v->holds, cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	v->holds = n;
	v->cap = cap;
	return 0;
}

static void hold_remove(struct vmids *v, size_t i)
{
	struct vmid_hold h = v->holds[v->first + i];

	memmove(&v->holds[v->first + i], &v->holds[v->first + i + 1],
		(v->nholds - i - 1) * sizeof(*v->holds));
	v->nholds--;
	if (!v->nholds)
		v->first = 0;
	if (v->ops && v->ops->unheld)
		v->ops->unheld(v->ctx, &h);
}

/* Into the list by until, from the tail (where a new hold goes). The caller has checked
 * that a slot is free: nholds < cap. */
static void hold_insert(struct vmids *v, const struct vmid_hold *h)
{
	size_t i;

	if (v->first + v->nholds == v->cap) {
		memmove(v->holds, &v->holds[v->first], v->nholds * sizeof(*v->holds));
		v->first = 0;
	}
	for (i = v->nholds; i > 0 && v->holds[v->first + i - 1].until.us > h->until.us; i--)
		;
	memmove(&v->holds[v->first + i + 1], &v->holds[v->first + i],
		(v->nholds - i) * sizeof(*v->holds));
	v->holds[v->first + i] = *h;
	v->nholds++;
}

void vmids_expire(struct vmids *v, struct monotime now)
{
	while (v->nholds && v->holds[v->first].until.us <= now.us) {
		const struct vmid_hold *h = &v->holds[v->first];

		set_taken(v->taken[h->port], h->vmid, false);
		v->ntaken--;
		hold_remove(v, 0);
	}
}

/* The lowest vmid neither in use nor held, 0 when all are. */
static uint16_t lowest_free(const uint64_t *map)
{
	for (size_t w = 0; w < VMID_WORDS; w++)
		if (map[w] != ~0ull)
			return (uint16_t)(w * 64 + (size_t)__builtin_ctzll(~map[w]));
	return 0;
}

/* Room for one more vmid in use, and port's bitmap (made at its first): 0 or -errno. */
static int room_on(struct vmids *v, uint8_t port, uint64_t **map)
{
	int err = room_for_one(v);

	if (err < 0)
		return err;
	*map = port_map(v, port);
	return *map ? 0 : -ENOMEM;
}

int vmid_take(struct vmids *v, uint8_t port, const struct mac *amac, struct monotime now)
{
	uint64_t *map;
	uint16_t vmid;
	int err;

	vmids_expire(v, now);
	for (size_t i = 0; i < v->nholds; i++) {
		const struct vmid_hold *h = &v->holds[v->first + i];

		if (h->port == port && mac_eq(&h->amac, amac)) {
			vmid = h->vmid;
			hold_remove(v, i);   /* taken still: held -> in use */
			return vmid;
		}
	}
	err = room_on(v, port, &map);
	if (err < 0)
		return err;
	vmid = lowest_free(map);
	if (!vmid)
		return -ENOSPC;
	set_taken(map, vmid, true);
	v->ntaken++;
	return vmid;
}

int vmid_reserve(struct vmids *v, uint8_t port, uint16_t vmid)
{
	uint64_t *map;
	int err;

	if (!vmid)
		return -EINVAL;
	err = room_on(v, port, &map);
	if (err < 0)
		return err;
	if (is_taken(map, vmid))
		return -EEXIST;
	set_taken(map, vmid, true);
	v->ntaken++;
	return 0;
}

void vmid_release(struct vmids *v, uint8_t port, uint16_t vmid, const struct mac *amac,
		  struct monotime now)
{
	struct vmid_hold h = { monotime_add_us(now, v->hold_us), *amac, port, vmid };

	if (!vmid || !v->taken[port] || !is_taken(v->taken[port], vmid))
		return;
	for (size_t i = 0; i < v->nholds; i++)
		if (v->holds[v->first + i].port == port && v->holds[v->first + i].vmid == vmid)
			return;         /* held already: not in use */
	if (v->hold_us <= 0) {
		set_taken(v->taken[port], vmid, false);
		v->ntaken--;
		return;
	}
	hold_insert(v, &h);
	if (v->ops && v->ops->held)
		v->ops->held(v->ctx, &h);
}

int vmid_restore(struct vmids *v, const struct vmid_hold *h, struct monotime now)
{
	struct vmid_hold c = *h;
	struct monotime latest = monotime_add_us(now, v->hold_us);
	int err;

	if (c.until.us > latest.us)
		c.until = latest;
	if (c.until.us <= now.us)
		return -ESTALE;
	err = vmid_reserve(v, c.port, c.vmid);
	if (err < 0)
		return err;
	hold_insert(v, &c);
	return 0;
}

size_t vmids_held(const struct vmids *v)
{
	return v->nholds;
}

size_t vmids_in_use(const struct vmids *v)
{
	return v->ntaken - v->nholds;
}
