/*
 * mcast.h - host membership reports: IGMP v1/v2/v3 (RFC 1112, RFC 2236, RFC 3376) and
 * MLD v1/v2 (RFC 2710, RFC 3810), as an edge switch hears them from its hosts. A report is
 * read into joins and leaves of any-source groups: the sources of a v3/v2 record are not
 * kept (the fabric forwards a group to all its members, whatever the source).
 */
#ifndef L2_PKT_MCAST_H
#define L2_PKT_MCAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "addr.h"
#include "pkt/ip.h"

#define MCAST_MAX_RECORDS 64       /* records one report yields; the rest are counted */

#define IGMP_V1_REPORT 0x12
#define IGMP_V2_REPORT 0x16
#define IGMP_V2_LEAVE 0x17
#define IGMP_V3_REPORT 0x22
#define MLD_V1_REPORT 131
#define MLD_V1_DONE 132
#define MLD_V2_REPORT 143

struct mcast_record {
	struct ipaddr group;
	bool join;                 /* else a leave */
};

struct mcast_report {
	uint8_t type;              /* the IGMP or ICMPv6 type it came as */
	uint16_t n;                /* records kept, rec[0..n) */
	uint16_t skipped;          /* link-local groups (never forwarded) and source-only
	                              changes (BLOCK_OLD_SOURCES), and records past n */
	struct mcast_record rec[MCAST_MAX_RECORDS];
};

/* The IGMP message of an IPv4 packet (ip4_parse'd, proto 2). 0 or -enum pkt_drop:
 * IP_PROTO, TTL (not 1), TRUNCATED, MCAST_CHECKSUM, MCAST_TYPE (a query, or no report),
 * MCAST_GROUP (a v1/v2 group not multicast), MCAST_RECORD (a v3 record of an unknown type,
 * or not multicast). */
int igmp_parse(const struct ip4_info *ip, struct mcast_report *out);
/* The MLD message of an IPv6 packet (ip6_parse'd): after at most one Hop-by-Hop Options
 * header (RFC 2710 3, RFC 3810 5: they carry Router Alert). The same codes, with
 * ICMP6_CHECKSUM for the checksum. */
int mld_parse(const struct ip6_info *ip, struct mcast_report *out);
/* Whether a group is forwarded by the fabric: multicast and not link-local (224.0.0.0/24,
 * RFC 5771; ff00::/16 to ff02::/16 scopes 0-2, RFC 4291 2.7). */
bool mcast_group_routable(const struct ipaddr *g);

#endif
