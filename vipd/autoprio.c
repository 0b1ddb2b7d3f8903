/*
 * autoprio.c - `priority: auto`: each node derives its own VRRP priority for a group from
 * the config alone, so that every node, reading the same file (only `node` differs), agrees
 * on one preference order of nodes per group, with masters spread evenly.
 *
 * With a node list (N = nnodes, sorted by name; me = our index in it):
 *   r      = rank of g among the auto groups ordered by (vrid, name), from 0;
 *   first  = r mod N                      the node preferred as master;
 *   rest   = the other N-1 nodes in circular order after first,
 *            rotated left by s = (r / N) mod (N-1);
 *   order  = [first] + rest, and p = position of me in order (0 = first choice);
 *   priority = 254 - p * step, step = min(50, 253 / (N-1)), so the N priorities of a group
 *   are distinct and all at least 1 (N = 1 gives 254).
 * Over any N*(N-1) consecutive ranks every node is first N-1 times, and the groups a node is
 * first for have each other node second exactly once: when a node fails, its groups are
 * spread one to each survivor. E.g. N = 3: r = 0 -> [0,1,2], r = 3 -> [0,2,1].
 * Adding a group or a node renumbers ranks, so priorities may move on every node at once.
 *
 * Without a node list: priority = 1 + fnv1a_32(node "\0" group name) mod 254 — a spread
 * that is only statistical (ties are possible; VRRP then prefers the higher address).
 */
#include <string.h>
#include "config.h"

static uint32_t fnv1a_32(uint32_t h, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h;
}

static uint8_t hash_priority(const char *node, const char *group)
{
	uint32_t h = 2166136261u;

	h = fnv1a_32(h, node, strlen(node) + 1);     /* with its NUL, as the separator */
	h = fnv1a_32(h, group, strlen(group));
	return (uint8_t)(1 + h % 254);
}

static int group_cmp(const struct vip_group_cfg *a, const struct vip_group_cfg *b)
{
	if (a->vrid != b->vrid)
		return a->vrid < b->vrid ? -1 : 1;
	return strcmp(a->name, b->name);
}

uint8_t vipd_auto_priority(const struct vipd_cfg *c, const struct vip_group_cfg *g)
{
	size_t n = c->nnodes, me = 0, found = 0, r = 0, first, p;
	uint32_t step;

	for (size_t i = 0; i < n; i++) {
		int cmp = strcmp(c->nodes[i], c->node);

		if (cmp < 0)
			me++;
		found |= cmp == 0;
	}
	/* vipd_cfg_load rejects a node missing from nodes; the hash still gives an answer */
	if (!found)
		return hash_priority(c->node, g->name);
	if (n == 1)
		return 254;
	for (size_t i = 0; i < c->ngroups; i++)
		if (c->groups[i].priority_auto && group_cmp(&c->groups[i], g) < 0)
			r++;
	first = r % n;
	if (me == first) {
		p = 0;
	} else {
		size_t i = (me + n - first - 1) % n;       /* index of me in rest, unrotated */
		size_t s = (r / n) % (n - 1);

		p = 1 + (i + (n - 1) - s) % (n - 1);
	}
	step = 253 / (uint32_t)(n - 1);
	if (step > 50)
		step = 50;
	return (uint8_t)(254 - p * step);
}
