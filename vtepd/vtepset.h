/*
 * vtepset.h - the set of the fabric's VTEPs vtepd has been told of (what makes a flood remote
 * ours, see kernel.h): the members in a dense array, in the order they came, as
 * kernel_reconcile and kernel_dump take them, and an open-addressing index over that array
 * (linear probing, load at most 1/2), so that the lookup made for every VTEP of every Fdb costs
 * the same with thousands of VTEPs as with four. Members are only ever added. The hash is not
 * seeded (unlike lib/macmap's): VTEPs are the addresses of the operator's hypervisors, named
 * by fabricd, not addresses a guest picks. A zeroed struct is an empty set.
 */
#ifndef VTEPD_VTEPSET_H
#define VTEPD_VTEPSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "addr.h"

struct vtepset {
	struct ipaddr *v;          /* the members, in insertion order */
	size_t n, cap;
	uint32_t *slots;           /* index + 1 into v; 0: free */
	size_t nslots;             /* 0, or a power of two: twice cap */
};

bool vtepset_has(const struct vtepset *s, const struct ipaddr *a);
/* 1 when a was added, 0 when it was a member already, -ENOMEM. */
int vtepset_add(struct vtepset *s, const struct ipaddr *a);
/* Frees the storage; s is an empty set again. */
void vtepset_free(struct vtepset *s);

#endif
