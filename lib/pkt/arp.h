/* arp.h - ARP for IPv4 over Ethernet (RFC 826), including RFC 5227 announcements. */
#ifndef L2_PKT_ARP_H
#define L2_PKT_ARP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "addr.h"

#define ARP_LEN 28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

struct arp_pkt {
	uint16_t op;
	struct mac sha;
	struct in_addr spa;
	struct mac tha;
	struct in_addr tpa;
};

/* Parses the ARP payload (after the Ethernet header): 0 or -enum pkt_drop
 * (TRUNCATED, ARP_FORMAT, ARP_OP, ARP_SENDER). */
int arp_parse(const uint8_t *p, size_t len, struct arp_pkt *out);
/* Builds a whole Ethernet frame carrying a, padded to 60 bytes: length, or -ENOSPC. */
ssize_t arp_build_frame(uint8_t *buf, size_t cap, const struct mac *eth_dst,
			const struct mac *eth_src, const struct arp_pkt *a);

#endif
