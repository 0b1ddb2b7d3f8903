/*
 * csum.h - the Internet checksum (RFC 1071) and the IPv4/IPv6 pseudo-header sums used by
 * ICMPv6 (RFC 4443 2.3) and VRRPv3 (RFC 5798 5.2.8).
 */
#ifndef L2_PKT_CSUM_H
#define L2_PKT_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* Adds len bytes (network order) to a 32-bit running sum; odd lengths are padded with zero. */
uint32_t csum_add(uint32_t sum, const void *data, size_t len);
/* Folds to 16 bits and complements; the result is in network byte order (store as is). */
uint16_t csum_fold(uint32_t sum);
uint32_t csum_pseudo4(const struct in_addr *src, const struct in_addr *dst, uint8_t proto,
		      uint16_t len);
uint32_t csum_pseudo6(const struct in6_addr *src, const struct in6_addr *dst, uint8_t next,
		      uint32_t len);

#endif
