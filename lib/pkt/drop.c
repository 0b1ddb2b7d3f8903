/* drop.c - stable names of the drop reasons (see drop.h), used by counters and JSON. */
#include "pkt/drop.h"

static const char *const drop_names[PKT_DROP_COUNT] = {
	[PKT_OK] = "ok",
	[PKT_DROP_TRUNCATED] = "truncated",
	[PKT_DROP_ETHERTYPE] = "ethertype",
	[PKT_DROP_ARP_FORMAT] = "arp_format",
	[PKT_DROP_ARP_OP] = "arp_op",
	[PKT_DROP_ARP_SENDER] = "arp_sender",
	[PKT_DROP_IP_VERSION] = "ip_version",
	[PKT_DROP_IP_HEADER] = "ip_header",
	[PKT_DROP_IP_CHECKSUM] = "ip_checksum",
	[PKT_DROP_IP_FRAGMENT] = "ip_fragment",
	[PKT_DROP_IP_PROTO] = "ip_proto",
	[PKT_DROP_TTL] = "ttl",
	[PKT_DROP_ICMP6_CHECKSUM] = "icmp6_checksum",
	[PKT_DROP_ICMP6_TYPE] = "icmp6_type",
	[PKT_DROP_ND_CODE] = "nd_code",
	[PKT_DROP_ND_TARGET] = "nd_target",
	[PKT_DROP_ND_OPTION] = "nd_option",
	[PKT_DROP_ND_UNSPEC_SRC] = "nd_unspec_src",
	[PKT_DROP_VRRP_VERSION] = "vrrp_version",
	[PKT_DROP_VRRP_TYPE] = "vrrp_type",
	[PKT_DROP_VRRP_LENGTH] = "vrrp_length",
	[PKT_DROP_VRRP_CHECKSUM] = "vrrp_checksum",
	[PKT_DROP_VRRP_INTERVAL] = "vrrp_interval",
	[PKT_DROP_VRRP_VRID] = "vrrp_vrid",
	[PKT_DROP_VRRP_DEST] = "vrrp_dest",
	[PKT_DROP_VRRP_SOURCE] = "vrrp_source",
	[PKT_DROP_OWN_FRAME] = "own_frame",
	[PKT_DROP_LDP_VERSION] = "ldp_version",
	[PKT_DROP_LDP_TYPE] = "ldp_type",
	[PKT_DROP_LDP_LENGTH] = "ldp_length",
	[PKT_DROP_LDP_RESERVED] = "ldp_reserved",
	[PKT_DROP_LDP_RANGE] = "ldp_range",
	[PKT_DROP_LDP_SWITCH_ID] = "ldp_switch_id",
	[PKT_DROP_LDP_PORT] = "ldp_port",
	[PKT_DROP_LDP_HOST_PORT] = "ldp_host_port",
	[PKT_DROP_LDP_UNEXPECTED] = "ldp_unexpected",
	[PKT_DROP_MCAST_CHECKSUM] = "mcast_checksum",
	[PKT_DROP_MCAST_TYPE] = "mcast_type",
	[PKT_DROP_MCAST_GROUP] = "mcast_group",
	[PKT_DROP_MCAST_RECORD] = "mcast_record",
};

const char *pkt_drop_name(enum pkt_drop d)
{
	if ((unsigned)d >= PKT_DROP_COUNT || !drop_names[d])
		return "unknown";
	return drop_names[d];
}
