/* test_macmap.c - lib/macmap: the (vni, mac) table under churn, and its per-map random seed
 * against keys chosen to collide (guests choose their MACs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "macmap.h"

static void mac_of(uint32_t i, uint8_t mac[MAC_LEN])
{
	mac[0] = 0x02;
	mac[1] = 0;
	mac[2] = (uint8_t)(i >> 24);
	mac[3] = (uint8_t)(i >> 16);
	mac[4] = (uint8_t)(i >> 8);
	mac[5] = (uint8_t)i;
}

/* A value that says which key it was stored under. */
static void *val_of(uint32_t i)
{
	return (void *)(uintptr_t)(i + 1);
}

static void churn_keeps_every_key(void **state)
{
	struct macmap m;
	uint8_t mac[MAC_LEN];
	const uint32_t n = 40000;
	/* VNIs that differ above bit 16 only: the whole VNI is part of the key */
	const uint32_t vnis[2] = { 100, 100 + (1u << 16) };

	assert_int_equal(macmap_init(&m), 0);
	for (uint32_t i = 0; i < n; i++) {
		mac_of(i / 2, mac);
		assert_int_equal(macmap_put(&m, vnis[i & 1], mac, val_of(i)), 0);
	}
	assert_int_equal(m.count, n);
	/* replacing does not add */
	mac_of(7, mac);
	assert_int_equal(macmap_put(&m, vnis[0], mac, val_of(14)), 0);
	assert_int_equal(m.count, n);
	for (uint32_t i = 0; i < n; i += 3) {
		mac_of(i / 2, mac);
		assert_ptr_equal(macmap_del(&m, vnis[i & 1], mac), val_of(i));
		assert_null(macmap_del(&m, vnis[i & 1], mac));
	}
	for (uint32_t i = 0; i < n; i++) {
		mac_of(i / 2, mac);
		if (i % 3 == 0)
			assert_null(macmap_get(&m, vnis[i & 1], mac));
		else
			assert_ptr_equal(macmap_get(&m, vnis[i & 1], mac), val_of(i));
		assert_null(macmap_get(&m, 200, mac));
	}
	assert_int_equal(m.count, n - (n + 2) / 3);
	macmap_free(&m);
}

static void every_map_has_its_own_seed(void **state)
{
	struct macmap a, b;
	uint8_t mac[MAC_LEN];

	assert_int_equal(macmap_init(&a), 0);
	assert_int_equal(macmap_init(&b), 0);
	assert_true(a.seed != b.seed);
	mac_of(1, mac);
	assert_true(macmap_hash(&a, 100, mac) != macmap_hash(&b, 100, mac));
	/* the same map hashes a key the same way every time */
	assert_true(macmap_hash(&a, 100, mac) == macmap_hash(&a, 100, mac));
	macmap_free(&a);
	macmap_free(&b);
}

/* The longest distance from a key's home slot to where it sits: what a lookup walks. */
static size_t max_displacement(const struct macmap *m)
{
	size_t mask = m->nslots - 1, worst = 0;

	for (size_t i = 0; i < m->nslots; i++) {
		const struct macmap_slot *s = &m->slots[i];
		size_t d;

		if (!s->val)
			continue;
		d = (i - (size_t)macmap_hash(m, s->vni, s->mac)) & mask;
		if (d > worst)
			worst = d;
	}
	return worst;
}

#define FLOOD_KEYS 1500            /* in a table of 4096 slots */
#define FLOOD_MASK 4095

/* Keys that all share home slot 0 (in any table of up to 4096 slots) in map `known`: what a
 * guest could make if it knew the map's hash. */
static void colliding_keys(const struct macmap *known, uint8_t (*macs)[MAC_LEN])
{
	size_t n = 0;

	for (uint32_t i = 0; n < FLOOD_KEYS; i++) {
		assert_true(i < (1u << 30));
		mac_of(i, macs[n]);
		if ((macmap_hash(known, 100, macs[n]) & FLOOD_MASK) == 0)
			n++;
	}
}

static void chosen_keys_do_not_collide_in_another_map(void **state)
{
	uint8_t (*macs)[MAC_LEN] = malloc(FLOOD_KEYS * MAC_LEN);
	struct macmap known, other;
	size_t worst_known, worst_other;

	assert_non_null(macs);
	assert_int_equal(macmap_init(&known), 0);
	assert_int_equal(macmap_init(&other), 0);
	colliding_keys(&known, macs);
	for (size_t i = 0; i < FLOOD_KEYS; i++) {
		assert_int_equal(macmap_put(&known, 100, macs[i], val_of((uint32_t)i)), 0);
		assert_int_equal(macmap_put(&other, 100, macs[i], val_of((uint32_t)i)), 0);
	}
	assert_int_equal(known.nslots, FLOOD_MASK + 1);
	assert_int_equal(other.nslots, FLOOD_MASK + 1);
	worst_known = max_displacement(&known);
	worst_other = max_displacement(&other);
	print_message("longest probe: %zu slots in the map the keys were chosen for, "
		      "%zu in another\n", worst_known, worst_other);
	/* where the attacker knows the hash, every key is in one run: lookups walk it */
	assert_true(worst_known >= FLOOD_KEYS - 1);
	/* with another seed they are ordinary keys: short runs (about 20 slots is typical at
	 * this load; 100 would be extraordinarily unlucky) */
	assert_true(worst_other < 100);
	for (size_t i = 0; i < FLOOD_KEYS; i++)
		assert_ptr_equal(macmap_get(&other, 100, macs[i]), val_of((uint32_t)i));
	macmap_free(&known);
	macmap_free(&other);
	free(macs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(churn_keeps_every_key),
		cmocka_unit_test(every_map_has_its_own_seed),
		cmocka_unit_test(chosen_keys_do_not_collide_in_another_map),
	};

	return cmocka_run_group_tests_name("macmap", tests, NULL, NULL);
}
