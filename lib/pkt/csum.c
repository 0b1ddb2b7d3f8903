/*
 * csum.c - the Internet checksum (RFC 1071) and the pseudo-header sums of IPv4 and IPv6
 * (RFC 2460 8.1). Sums are kept folded to 16 bits with end-around carry, so any number of
 * csum_add calls can be chained without overflow.
 */
#include <arpa/inet.h>
#include "pkt/csum.h"

static uint32_t fold16(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s = sum;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	return fold16(s);
}

uint16_t csum_fold(uint32_t sum)
{
	return htons((uint16_t)~fold16(sum));
}

uint32_t csum_pseudo4(const struct in_addr *src, const struct in_addr *dst, uint8_t proto,
		      uint16_t len)
{
	uint32_t s = csum_add(0, src, sizeof(*src));

	s = csum_add(s, dst, sizeof(*dst));
	return fold16((uint64_t)s + proto + len);
}

uint32_t csum_pseudo6(const struct in6_addr *src, const struct in6_addr *dst, uint8_t next,
		      uint32_t len)
{
	uint32_t s = csum_add(0, src, sizeof(*src));

	s = csum_add(s, dst, sizeof(*dst));
	return fold16((uint64_t)s + (len >> 16) + (len & 0xffff) + next);
}
