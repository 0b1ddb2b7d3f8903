/*
 * kernel_int.h - what the files of vtepd's kernel side share (kernel.c: requests, devices,
 * incremental operations; kdesired.c: the desired state; kdump.c: reading the kernel's
 * tables; reconcile.c: mark and sweep). Not for vtepd's other files: they use kernel.h.
 */
#ifndef VTEPD_KERNEL_INT_H
#define VTEPD_KERNEL_INT_H

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "kernel.h"
#include "log.h"
#include "nl.h"
#include "nlbatch.h"

#define FDB_STATE (NUD_NOARP | NUD_PERMANENT)

struct kdev {
	uint32_t vni;
	int vx, br;
};

struct kernel {
	struct nl nl;               /* blocking: devices, dumps, lookups */
	struct nl_batch *batch;     /* FDB and neighbour changes, answered from the loop */
	struct kcounters total;     /* since kernel_open */
	struct kdev *devs;
	size_t ndevs, capdevs;
	struct ratelimit rl;
};

/* The desired state (kdesired.c). */
struct kd_fdb {
	struct mac mac;
	uint32_t ndst;
	size_t dst;              /* index in kd_vni.dsts */
	size_t seq;              /* insertion order: the last of equal keys wins */
};

struct kd_neigh {
	struct ipaddr ip;
	struct mac mac;
	size_t seq;
};

struct kd_vni {
	uint32_t vni;
	struct kd_fdb *fdb;
	struct ipaddr *dsts, *flood;
	struct kd_neigh *neigh;
	size_t nfdb, capfdb, ndsts, capdsts, nflood, capflood, nneigh, capneigh;
};

struct kdesired {
	struct kd_vni *v;
	size_t n, cap;
};

/* What a dump holds (kdump.c). One remote of a vxlan FDB entry (NTF_SELF), or one bridge FDB
 * entry (NTF_MASTER). */
struct kfdb {
	struct mac mac;
	uint8_t flags;
	bool odd;                /* port, VNI, ifindex, nexthop, VLAN: not the plain default */
	int ifindex;             /* the vx device, or the bridge port */
	struct ipaddr dst;
};

struct kneigh {
	struct ipaddr ip;
	struct mac mac;
	uint16_t state;
	uint8_t flags, proto;
};

struct vec {
	void *p;
	size_t n, cap, size;
	int err;
};

/* Helpers of every file. */
static inline int grow(void *pp, size_t *cap, size_t need, size_t size)
{
	void **p = pp;
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static inline int mac_cmp(const struct mac *a, const struct mac *b)
{
	return memcmp(a->b, b->b, MAC_LEN);
}

static inline int kfdb_cmp(const void *x, const void *y)
{
	const struct kfdb *a = x, *b = y;
	int c = mac_cmp(&a->mac, &b->mac);

	if (!c)
		c = (a->flags & NTF_MASTER) - (b->flags & NTF_MASTER);
	return c ? c : ipaddr_cmp(&a->dst, &b->dst);
}

static inline int kneigh_cmp(const void *x, const void *y)
{
	return ipaddr_cmp(&((const struct kneigh *)x)->ip, &((const struct kneigh *)y)->ip);
}

static inline void sort(void *p, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(p, n, size, cmp);
}

static inline int ip_cmp(const void *x, const void *y)
{
	return ipaddr_cmp(x, y);
}

static inline bool ip_in(const struct ipaddr *set, size_t n, const struct ipaddr *a)
{
	return n && bsearch(a, set, n, sizeof(*set), ip_cmp);
}

static inline bool ours_fdb(const struct kfdb *e)
{
	return e->flags & NTF_EXT_LEARNED;
}

/* kernel.c: requests queued in the batch (see there), and the devices of a VNI. k_push
 * sends what is queued: before a request on the blocking socket (a dump), which must come
 * after them. */
void k_push(struct kernel *k);
void k_fdb_req(struct kernel *k, uint16_t type, uint16_t flags, uint8_t ndm_flags,
	       int vx, const struct mac *mac, const struct ipaddr *dst, uint32_t *counter);
void k_neigh_req(struct kernel *k, uint16_t type, int br, const struct ipaddr *ip,
		 const struct mac *mac, uint32_t *counter);
int k_dev_resolve(struct kernel *k, uint32_t vni, bool fresh, int *vx, int *br);
/* kdump.c: one strict dump of the FDB (AF_BRIDGE, of a bridge) or the neighbours (of a
 * device) into out, a vec of struct kfdb or struct kneigh. */
int k_dump(struct kernel *k, int family, int ifindex, nl_msg_cb cb, struct vec *out);
int k_get(struct kernel *k, int family, int ifindex, uint8_t flags, const struct mac *mac,
	  const struct ipaddr *ip, nl_msg_cb cb, struct vec *out);
int k_fdb_msg(const struct nlmsghdr *nlh, void *data);
int k_neigh_msg(const struct nlmsghdr *nlh, void *data);

#endif
