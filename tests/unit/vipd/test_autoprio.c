/*
 * test_autoprio.c - `priority: auto` (vipd/autoprio.c): every node computes its own
 * priority from the same config; together they must give each group one strict preference
 * order of nodes, masters spread evenly, and a failed node's groups spread evenly over the
 * survivors. The configs are built in memory: no YAML here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "config.h"

/* nnodes nodes named n0, n1, ... (listed in reverse, to show the order does not matter)
 * and ngroups auto groups with vrid 1.. (file order reversed too). */
static struct vipd_cfg *make_cfg(size_t nnodes, size_t ngroups)
{
	struct vipd_cfg *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->nnodes = nnodes;
	for (size_t i = 0; i < nnodes; i++)
		snprintf(c->nodes[nnodes - 1 - i], VIPD_NAME_MAX, "n%zu", i);
	c->ngroups = ngroups;
	c->groups = calloc(ngroups, sizeof(*c->groups));
	assert_non_null(c->groups);
	for (size_t i = 0; i < ngroups; i++) {
		struct vip_group_cfg *g = &c->groups[ngroups - 1 - i];

		snprintf(g->name, sizeof(g->name), "g%zu", i);
		g->vrid = (uint8_t)(1 + i);
		g->priority_auto = true;
	}
	return c;
}

static void free_cfg(struct vipd_cfg *c)
{
	free(c->groups);
	free(c);
}

/* prio[n][g]: the priority node "n<n>" computes for c->groups[g]. */
static void priorities(struct vipd_cfg *c, uint8_t prio[][VIPD_MAX_GROUPS])
{
	for (size_t n = 0; n < c->nnodes; n++) {
		snprintf(c->node, sizeof(c->node), "n%zu", n);
		for (size_t g = 0; g < c->ngroups; g++) {
			prio[n][g] = vipd_auto_priority(c, &c->groups[g]);
			assert_in_range(prio[n][g], 1, 254);
		}
	}
}

/* The node with the highest priority for group g, skipping node `down` (-1: none). */
static size_t master(const struct vipd_cfg *c, uint8_t prio[][VIPD_MAX_GROUPS], size_t g,
		     long down)
{
	size_t best = SIZE_MAX;

	for (size_t n = 0; n < c->nnodes; n++)
		if ((long)n != down && (best == SIZE_MAX || prio[n][g] > prio[best][g]))
			best = n;
	return best;
}

/* N nodes, N*(N-1) groups: distinct priorities per group, 254 for the first choice, every
 * node master of N-1 groups, and each node's groups taken over one by each other node. */
static void check_spread(size_t nnodes)
{
	size_t ngroups = nnodes * (nnodes - 1);
	struct vipd_cfg *c = make_cfg(nnodes, ngroups);
	uint8_t (*prio)[VIPD_MAX_GROUPS] = calloc(VIPD_MAX_NODES, sizeof(*prio));
	size_t masters[VIPD_MAX_NODES] = { 0 };

	assert_non_null(prio);
	priorities(c, prio);
	for (size_t g = 0; g < ngroups; g++) {
		for (size_t a = 0; a < nnodes; a++)
			for (size_t b = a + 1; b < nnodes; b++)
				assert_int_not_equal(prio[a][g], prio[b][g]);
		assert_int_equal(prio[master(c, prio, g, -1)][g], 254);
		masters[master(c, prio, g, -1)]++;
	}
	for (size_t down = 0; down < nnodes; down++) {
		size_t takeover[VIPD_MAX_NODES] = { 0 };

		assert_int_equal(masters[down], nnodes - 1);
		for (size_t g = 0; g < ngroups; g++)
			if (master(c, prio, g, -1) == down)
				takeover[master(c, prio, g, (long)down)]++;
		for (size_t n = 0; n < nnodes; n++)
			assert_int_equal(takeover[n], n == down ? 0 : 1);
	}
	free(prio);
	free_cfg(c);
}

static void test_spread_3_nodes(void **state)
{
	check_spread(3);
}

static void test_spread_4_nodes(void **state)
{
	check_spread(4);
}

static void test_spread_up_to_16_nodes(void **state)
{
	for (size_t n = 2; n <= 16; n++)
		check_spread(n);
}

/* The worked example of autoprio.c: with 3 nodes, rank 0 prefers [n0,n1,n2] and rank 3
 * prefers [n0,n2,n1]; the step between choices is 50. */
static void test_example_orders(void **state)
{
	struct vipd_cfg *c = make_cfg(3, 6);
	uint8_t prio[VIPD_MAX_NODES][VIPD_MAX_GROUPS];
	const struct vip_group_cfg *r0 = &c->groups[5], *r3 = &c->groups[2];

	assert_int_equal(r0->vrid, 1);
	assert_int_equal(r3->vrid, 4);
	priorities(c, prio);
	assert_int_equal(prio[0][5], 254);
	assert_int_equal(prio[1][5], 204);
	assert_int_equal(prio[2][5], 154);
	assert_int_equal(prio[0][2], 254);
	assert_int_equal(prio[2][2], 204);
	assert_int_equal(prio[1][2], 154);
	free_cfg(c);
}

static void test_one_node(void **state)
{
	struct vipd_cfg *c = make_cfg(1, 5);

	strcpy(c->node, "n0");
	for (size_t g = 0; g < c->ngroups; g++)
		assert_int_equal(vipd_auto_priority(c, &c->groups[g]), 254);
	free_cfg(c);
}

/* Ranks follow (vrid, name), not file order, and fixed-priority groups do not count. */
static void test_rank_order(void **state)
{
	struct vipd_cfg *c = make_cfg(3, 4);
	uint8_t before[VIPD_MAX_GROUPS], after[VIPD_MAX_GROUPS];
	struct vip_group_cfg tmp;

	strcpy(c->node, "n1");
	for (size_t g = 0; g < 4; g++)
		before[g] = vipd_auto_priority(c, &c->groups[g]);
	tmp = c->groups[0];
	c->groups[0] = c->groups[3];
	c->groups[3] = tmp;
	for (size_t g = 0; g < 4; g++)
		after[g] = vipd_auto_priority(c, &c->groups[g]);
	assert_int_equal(before[0], after[3]);
	assert_int_equal(before[3], after[0]);
	assert_int_equal(before[1], after[1]);

	/* g0 takes g2's vrid (as on another interface): ranks g1, g0, g2, g3, the name
	 * breaking the tie; n1 is first for rank 1 and third for rank 2 */
	c->groups[0].vrid = c->groups[1].vrid;
	assert_string_equal(c->groups[0].name, "g0");
	assert_string_equal(c->groups[1].name, "g2");
	assert_int_equal(vipd_auto_priority(c, &c->groups[0]), 254);
	assert_int_equal(vipd_auto_priority(c, &c->groups[1]), 154);
	free_cfg(c);

	/* a fixed group drops out of the ranking: the ranks after it move down by one */
	c = make_cfg(3, 4);
	strcpy(c->node, "n0");
	assert_int_equal(vipd_auto_priority(c, &c->groups[2]), 154);   /* g1, rank 1 */
	c->groups[3].priority_auto = false;                     /* g0, rank 0 */
	assert_int_equal(vipd_auto_priority(c, &c->groups[2]), 254);   /* g1 is now rank 0 */
	free_cfg(c);
}

static uint32_t ref_fnv1a(const char *node, const char *group)
{
	uint32_t h = 2166136261u;
	size_t nlen = strlen(node), glen = strlen(group);

	for (size_t i = 0; i < nlen + 1 + glen; i++) {
		h ^= (uint8_t)(i < nlen ? node[i] : i == nlen ? 0 : group[i - nlen - 1]);
		h *= 16777619u;
	}
	return h;
}

/* No node list: 1 + fnv1a_32(node "\0" group) mod 254. */
static void test_hash_fallback(void **state)
{
	static const struct { const char *node, *group; uint8_t prio; } cases[] = {
		{ "n1", "web", 235 },           /* fnv1a 0x7999dcf6 */
		{ "n1", "api", 25 },            /* 0x25488cb0 */
		{ "n2", "web", 2 },             /* 0x864703a3 */
	};
	struct vipd_cfg *c = make_cfg(0, 1);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strcpy(c->node, cases[i].node);
		strcpy(c->groups[0].name, cases[i].group);
		assert_int_equal(vipd_auto_priority(c, &c->groups[0]), cases[i].prio);
	}
	for (int i = 0; i < 1000; i++) {
		snprintf(c->node, sizeof(c->node), "node%d", i % 7);
		snprintf(c->groups[0].name, sizeof(c->groups[0].name), "group-%d", i);
		assert_int_equal(vipd_auto_priority(c, &c->groups[0]),
				 1 + ref_fnv1a(c->node, c->groups[0].name) % 254);
	}
	free_cfg(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spread_3_nodes),
		cmocka_unit_test(test_spread_4_nodes),
		cmocka_unit_test(test_spread_up_to_16_nodes),
		cmocka_unit_test(test_example_orders),
		cmocka_unit_test(test_one_node),
		cmocka_unit_test(test_rank_order),
		cmocka_unit_test(test_hash_fallback),
	};

	return cmocka_run_group_tests_name("vipd_autoprio", tests, NULL, NULL);
}
