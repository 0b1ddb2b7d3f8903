/*
 * crc32c.h - CRC32C (Castagnoli, reflected polynomial 0x82F63B78, RFC 3720 B.4), the checksum
 * of the journal's records. Standard form: crc32c(0, buf, len) is the checksum of buf, and
 * crc32c(crc32c(0, a, n), b, m) is the checksum of a followed by b.
 */
#ifndef L2_CRC32C_H
#define L2_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The fastest path this CPU has: the SSE4.2 instruction if present, else the tables. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/* The two paths on their own, so tests can check each against known vectors. */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);
bool crc32c_hw_available(void);
/* Only when crc32c_hw_available(). */
uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len);

#endif
