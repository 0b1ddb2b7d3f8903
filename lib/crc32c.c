/*
 * crc32c.c - CRC32C, see crc32c.h: slice-by-8 tables built once at start-up, and the SSE4.2
 * crc32 instruction on x86-64 CPUs that have it (chosen at run time, so one binary serves
 * every CPU).
 */
#include <string.h>
#include "crc32c.h"

#define CRC32C_POLY 0x82F63B78u /* 0x1EDC6F41 bit-reversed: the CRC is computed LSB first */

/* table[0] is the classic byte-at-a-time table; table[k][b] is the CRC of byte b followed by
 * k zero bytes, so eight table lookups advance the CRC by eight bytes at once. */
static uint32_t table[8][256];
static bool have_hw;

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* On the raw register (not inverted): the tables and the instruction share this form. */
static uint32_t sw_update(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len >= 8) {
		uint32_t lo = le32(p) ^ crc, hi = le32(p + 4);

		crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^
		      table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
		      table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
		      table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	return crc;
}

uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	return ~sw_update(~crc, buf, len);
}

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2")))
static uint32_t hw_update(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = crc, v;

	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&v, p, sizeof(v));
		c = _mm_crc32_u64(c, v);
	}
	for (; len; len--)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return (uint32_t)c;
}

static bool probe_hw(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("sse4.2");
}
#else
static uint32_t hw_update(uint32_t crc, const uint8_t *p, size_t len)
{
	return sw_update(crc, p, len);
}

static bool probe_hw(void)
{
	return false;
}
#endif

uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	return ~hw_update(~crc, buf, len);
}

bool crc32c_hw_available(void)
{
	return have_hw;
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	return have_hw ? crc32c_hw(crc, buf, len) : crc32c_sw(crc, buf, len);
}

/* A constructor rather than a lazy first-use check: the tables are complete before any thread
 * starts, so crc32c() needs neither a lock nor a once-flag on every call. */
__attribute__((constructor)) static void crc32c_init(void)
{
	for (uint32_t b = 0; b < 256; b++) {
		uint32_t c = b;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (c & 1 ? CRC32C_POLY : 0);
		table[0][b] = c;
	}
	for (int k = 1; k < 8; k++)
		for (uint32_t b = 0; b < 256; b++)
			table[k][b] = (table[k - 1][b] >> 8) ^ table[0][table[k - 1][b] & 0xff];
	have_hw = probe_hw();
}
