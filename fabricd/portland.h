/*
 * portland.h - fabricd as PortLand's fabric manager (SIGCOMM 2009, §3): the switches (role
 * ROLE_SWITCHD, switchd) report where they located themselves, the edge at position 0 of a
 * pod gets the pod's number here, edges register their hosts (IP -> PMAC) and ask for the
 * PMAC of an address (proxy ARP and ND, §3.3), which is answered from memory; a miss is
 * flooded to every located edge, which asks its hosts, and the answer comes back as a
 * registration (docs/switchd.md).
 *
 * Authorization, by what the session proves: over TLS a switch's name is its certificate's
 * (urn:l2fabric:switchd:NAME). Its switch id (the lowest MAC of its ports) may not be another
 * connected switch's. Only a located edge registers hosts, and only with PMACs of its own pod
 * and position on one of its host ports; only the edge at position 0 asks for a pod; only
 * edges ask about addresses. A refused item is counted per reason and the session goes on; a
 * message a switch never sends (answers, floods, a pod assignment) closes it.
 *
 * Bounds: PL_MAX_HOSTS hosts in all, PL_MAX_HOSTS_PER_EDGE per edge, PL_MAX_SWITCHES switches
 * known; the misses an edge can make fabricd flood are PL_FLOOD_RATE a second (a burst of
 * PL_FLOOD_BURST): a host asking for addresses nobody has cannot make every edge broadcast at
 * will. Multicast (mcast.c): an edge's membership reports are PL_MCAST_REPORT_RATE a second
 * (a burst of PL_MCAST_REPORT_BURST), whatever each carries, so that one edge cannot keep
 * fabricd computing trees; an edge has members in at most PL_MAX_MCAST_GROUPS_PER_EDGE
 * groups, so that it cannot take every one of the fabric's PL_MAX_MCAST_GROUPS alone. Each
 * bound hit is counted and logged, rate-limited.
 *
 * The report rate: hosts join a few groups a second, and a host sends each change of its
 * membership [Robustness Variable] = 2 times, at most [Unsolicited Report Interval] = 1 s
 * apart (RFC 3376 5.1, 8.1, 8.11; RFC 3810 6.1, 9.1, 9.11); and switchd sends at most one
 * report every MCAST_REPORT_MS = 100 ms, however fast its hosts change (switchd/mcast.c):
 * 20 a second is twice what a switchd sends, only a peer that is not one meets it. The
 * group cap: an eighth of the fabric's groups, half of what one edge can report
 * (WIRE_MAX_MCAST_GROUPS): at least eight edges are needed to fill the fabric, and an
 * edge's k/2 hosts still have 512 groups (at k = 48, 21 each, none shared).
 */
#ifndef FABRICD_PORTLAND_H
#define FABRICD_PORTLAND_H

#include <stdbool.h>
#include <stdint.h>
#include "fabricd.h"

#define PL_MAX_HOSTS (2u << 20)
#define PL_MAX_HOSTS_PER_EDGE 65536u
#define PL_MAX_SWITCHES 8192u
#define PL_FLOOD_RATE 200u
#define PL_FLOOD_BURST 50u
#define PL_MAX_MCAST_GROUPS WIRE_MAX_MCAST_FABRIC   /* multicast groups in the fabric */
#define PL_MAX_MCAST_GROUPS_PER_EDGE (PL_MAX_MCAST_GROUPS / 8)
#define PL_MCAST_REPORT_RATE 20u
#define PL_MCAST_REPORT_BURST 20u

struct portland;

extern const struct role switchd_role;

int portland_new(struct portland **out);
void portland_free(struct portland *pl);
/* Counters, and then limits, by name, as fabricd_counters (each kind in one run: metrics.c
 * writes a family's HELP once). */
void portland_counters(const struct portland *pl, fabricd_counter_fn fn, void *ctx);
void portland_limits(fabricd_counter_fn fn, void *ctx);

/* For the API (api.c, api_list.c). Every known switch, connected or not, as the reply's
 * switches: in one allocation each, freed with portland_topo_free. */
int portland_topo(const struct portland *pl, L2f__Reply *r);
void portland_topo_free(L2f__Reply *r);
/* fabricctl groups: every multicast group, its members, cores and tree, in one allocation
 * freed with mcast_groups_free (mcast.c). */
int mcast_groups_reply(const struct portland *pl, L2f__Reply *r);
void mcast_groups_free(L2f__Reply *r);
/* The hosts' addresses now (a snapshot for a listing): *out malloc'd, or -ENOMEM. */
int portland_host_keys(const struct portland *pl, struct ipaddr **out, size_t *n);
/* The HostBinding of ip (one allocation, free()), or NULL: gone meanwhile, or no memory. */
L2f__HostBinding *portland_host_msg(const struct portland *pl, const struct ipaddr *ip);

#endif
