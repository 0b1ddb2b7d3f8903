/*
 * frames.h - known-good frames for the codec tests (made with scapy 2.5, checksums checked
 * independently), offsets into them, and helpers to re-checksum a frame after mutating it.
 */
#ifndef L2_TEST_FRAMES_H
#define L2_TEST_FRAMES_H

#include <stddef.h>
#include <stdint.h>

/* Offsets in the untagged Ethernet frames below. */
#define OFF_IP 14
#define OFF_IP4_TTL 22
#define OFF_IP4_PROTO 23
#define OFF_IP4_CSUM 24
#define OFF_IP4_DST 30
#define OFF_IP4_PAYLOAD 34
#define OFF_IP6_PLEN 18
#define OFF_IP6_NEXT 20
#define OFF_IP6_HLIM 21
#define OFF_IP6_SRC 22
#define OFF_IP6_DST 38
#define OFF_IP6_PAYLOAD 54

extern const uint8_t vrrp4_frame[60];
extern const uint8_t vrrp6_frame[78];
extern const uint8_t ns_slla_frame[86];
extern const uint8_t ns_unicast_frame[78];
extern const uint8_t ns_dad_frame[78];
extern const uint8_t ns_dad_slla_frame[86];
extern const uint8_t na_frame[86];
extern const uint8_t garp_frame[60];

/* Recomputes the IPv4 header checksum of the IP packet at ip. */
void fix_ip4_csum(uint8_t *ip);
/* Recomputes the upper-layer checksum (pseudo-header + payload) stored at payload offset at,
 * for the IPv4 or IPv6 packet at ip: 6 for VRRP, 2 for ICMPv6. */
void fix_l4_csum(uint8_t *ip, size_t at);

#endif
