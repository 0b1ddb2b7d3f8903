/*
 * vmid.h - the vmids of an edge switch's host ports: the last 16 bits of a PMAC
 * (pod.position.port.vmid, PortLand §3.2), which tell apart the hosts behind one port. Pure:
 * no I/O, and time is the caller's, so the unit tests drive it with a fake clock.
 *
 * A vmid is free, in use (a host's PMAC) or held. A host that leaves (aged out, or moved to
 * another port) leaves its vmid held for `hold`: a sender may still have the old PMAC in its
 * ARP or neighbour cache, and what it sends there must not reach another host. A host then
 * gets, in this order:
 *   - its own vmid back, if it is still held for it (the same port and AMAC: the one host
 *     those caches mean), so a host that comes back soon keeps its PMAC;
 *   - the lowest free vmid: one whose hold has expired or, above all of those, one never
 *     used (vmids below the highest ever given are all in use, held or expired).
 * vmid 0 is never given: 0 stays "none", and the PMACs of the first hosts are those of the
 * builds that counted vmids up from 1.
 *
 * Bounds: a port's bitmap of the 65536 vmids (8 KiB, in use or held) is allocated at its
 * first vmid, so only host ports have one; at most `max` vmids are in use or held over all
 * ports, checked when a vmid is given, so that a release never fails (the holds' list grows
 * as vmids are given, up to `max`). A host that finds none is refused: -ENOSPC.
 */
#ifndef SWITCHD_VMID_H
#define SWITCHD_VMID_H

#include <stddef.h>
#include <stdint.h>
#include "addr.h"
#include "monotime.h"

#define VMID_PORTS 256           /* the PMAC's port field is 8 bits */
#define VMID_MAX 0xffff
#define VMID_WORDS ((VMID_MAX + 1) / 64)

struct vmid_hold {
	struct monotime until;
	struct mac amac;             /* the host that had it */
	uint8_t port;
	uint16_t vmid;
};

/* Told when a hold starts and when it ends (expired, or given back to its host), so the
 * caller can keep a copy that outlives it (switchd: a pinned map). May be NULL. */
struct vmid_ops {
	void (*held)(void *ctx, const struct vmid_hold *h);
	void (*unheld)(void *ctx, const struct vmid_hold *h);
};

struct vmids {
	uint64_t *taken[VMID_PORTS];         /* bit v: vmid v in use or held; NULL: none yet */
	struct vmid_hold *holds;             /* holds[first ..], nholds of them, by until */
	size_t first, nholds, cap;
	size_t ntaken, max;                  /* in use + held, over all ports; its bound */
	int64_t hold_us;
	const struct vmid_ops *ops;
	void *ctx;
};

void vmids_init(struct vmids *v, size_t max, int64_t hold_us, const struct vmid_ops *ops,
		void *ctx);
void vmids_fini(struct vmids *v);

/* A vmid (1..VMID_MAX) for amac on port; -ENOSPC when there is none for it, -ENOMEM. */
int vmid_take(struct vmids *v, uint8_t port, const struct mac *amac, struct monotime now);
/* vmid is in use already (a host taken over after a restart): 0, -EINVAL for vmid 0,
 * -EEXIST when it is taken, -ENOSPC beyond max, -ENOMEM. */
int vmid_reserve(struct vmids *v, uint8_t port, uint16_t vmid);
/* The host that had vmid left: held until now + hold (free at once when hold is 0). A vmid
 * not in use is ignored. */
void vmid_release(struct vmids *v, uint8_t port, uint16_t vmid, const struct mac *amac,
		  struct monotime now);
/* A hold from before a restart, kept until its own end but no longer than a hold given now:
 * 0, -ESTALE when it has ended already, or vmid_reserve's errors. ops->held is not told. */
int vmid_restore(struct vmids *v, const struct vmid_hold *h, struct monotime now);
/* Ends the holds that are over by now (vmid_take does it first too). */
void vmids_expire(struct vmids *v, struct monotime now);

size_t vmids_held(const struct vmids *v);
size_t vmids_in_use(const struct vmids *v);

#endif
