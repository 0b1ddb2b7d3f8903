/*
 * drop.h - the reasons a received frame is dropped, shared by every parser and daemon so that
 * counters and `fabricctl` name them the same way. Parsers return -(enum pkt_drop).
 */
#ifndef L2_PKT_DROP_H
#define L2_PKT_DROP_H

enum pkt_drop {
	PKT_OK = 0,
	PKT_DROP_TRUNCATED,          /* shorter than its headers or its own length fields say */
	PKT_DROP_ETHERTYPE,          /* not a type this reader handles */
	PKT_DROP_ARP_FORMAT,         /* htype != 1, ptype != 0x0800, hlen != 6 or plen != 4 */
	PKT_DROP_ARP_OP,             /* op not request (1) or reply (2) */
	PKT_DROP_ARP_SENDER,         /* sender hw multicast/broadcast/zero */
	PKT_DROP_IP_VERSION,         /* IPv4 version != 4 or IPv6 version != 6 */
	PKT_DROP_IP_HEADER,          /* IPv4 IHL < 5 or total length < IHL*4 */
	PKT_DROP_IP_CHECKSUM,        /* IPv4 header checksum */
	PKT_DROP_IP_FRAGMENT,        /* IPv4 fragment (MF set or offset != 0) */
	PKT_DROP_IP_PROTO,           /* IP protocol / IPv6 next header not handled */
	PKT_DROP_TTL,                /* TTL or hop limit != 255 (RFC 5798 7.1, RFC 4861 7.1.1) */
	PKT_DROP_ICMP6_CHECKSUM,
	PKT_DROP_ICMP6_TYPE,         /* ICMPv6 type not handled */
	PKT_DROP_ND_CODE,            /* ICMP code != 0 (RFC 4861 7.1.1) */
	PKT_DROP_ND_TARGET,          /* NS target is multicast (RFC 4861 7.1.1) */
	PKT_DROP_ND_OPTION,          /* option with length 0 or running past the end */
	PKT_DROP_ND_UNSPEC_SRC,      /* unspecified source with SLLA option or not to a
	                                solicited-node address (RFC 4861 7.1.1) */
	PKT_DROP_VRRP_VERSION,       /* version != 3 */
	PKT_DROP_VRRP_TYPE,          /* type != 1 (advertisement) */
	PKT_DROP_VRRP_LENGTH,        /* length does not match the address count */
	PKT_DROP_VRRP_CHECKSUM,
	PKT_DROP_VRRP_INTERVAL,      /* max advert interval 0 */
	PKT_DROP_VRRP_VRID,          /* VRID not configured on this interface (daemon) */
	PKT_DROP_VRRP_DEST,          /* not sent to 224.0.0.18 / ff02::12 */
	PKT_DROP_VRRP_SOURCE,        /* IPv6 advert not from a link-local address (5.1.2.1) */
	PKT_DROP_OWN_FRAME,          /* our own frame come back (a reflecting switch, a loop) */
	PKT_DROP_LDP_VERSION,        /* LDP version != 1 */
	PKT_DROP_LDP_TYPE,           /* not an LDM, position proposal or reply */
	PKT_DROP_LDP_LENGTH,         /* length field not the type's length */
	PKT_DROP_LDP_RESERVED,       /* a reserved bit or byte set, or an unflagged field not 0 */
	PKT_DROP_LDP_RANGE,          /* level/dir/verdict/pod/position out of range, or against
	                                PortLand 3.4 (a core with a pod, a position off an edge) */
	PKT_DROP_LDP_SWITCH_ID,      /* switch id (or proposer) zero or multicast */
	PKT_DROP_LDP_PORT,           /* on a port that is down or not the switch's (daemon) */
	PKT_DROP_LDP_HOST_PORT,      /* on a port already found host-connected (daemon) */
	PKT_DROP_LDP_UNEXPECTED,     /* a proposal to a non-aggregation switch, a reply to no
	                                proposal of ours (daemon) */
	PKT_DROP_MCAST_CHECKSUM,     /* IGMP checksum (RFC 2236 2.3) */
	PKT_DROP_MCAST_TYPE,         /* IGMP / MLD type not a report or a leave */
	PKT_DROP_MCAST_GROUP,        /* a v1/v2 report's group not multicast */
	PKT_DROP_MCAST_RECORD,       /* a v3 / MLDv2 record of an unknown type or group */
	PKT_DROP_COUNT
};

/* Short stable name for counters and JSON, e.g. "truncated", "vrrp_checksum". */
const char *pkt_drop_name(enum pkt_drop d);

#endif
