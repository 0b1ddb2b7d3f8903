/*
 * addr.c - MAC and IP address helpers (see addr.h): strict text parsing, formatting,
 * comparison and the multicast MAC mappings of RFC 1112 and RFC 2464.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include "addr.h"

const struct mac mac_zero;
const struct mac mac_broadcast = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mac_parse(const char *s, struct mac *out)
{
	struct mac m;

	for (int i = 0; i < MAC_LEN; i++) {
		const char *f = s + 3 * i;
		int hi, lo;

		hi = hexval(f[0]);
		lo = hi < 0 ? -1 : hexval(f[1]);
		if (lo < 0 || f[2] != (i == MAC_LEN - 1 ? '\0' : ':'))
			return -EINVAL;
		m.b[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = m;
	return 0;
}

const char *mac_fmt(const struct mac *m, char *buf)
{
	snprintf(buf, MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x",
		 m->b[0], m->b[1], m->b[2], m->b[3], m->b[4], m->b[5]);
	return buf;
}

bool mac_eq(const struct mac *a, const struct mac *b)
{
	return memcmp(a->b, b->b, MAC_LEN) == 0;
}

bool mac_is_multicast(const struct mac *m)
{
	return m->b[0] & 0x01;
}

void mac_from_ip4_mcast(const struct in_addr *group, struct mac *out)
{
	const uint8_t *g = (const uint8_t *)&group->s_addr;

	out->b[0] = 0x01;
	out->b[1] = 0x00;
	out->b[2] = 0x5e;
	out->b[3] = g[1] & 0x7f;
	out->b[4] = g[2];
	out->b[5] = g[3];
}

void mac_from_ip6_mcast(const struct in6_addr *group, struct mac *out)
{
	out->b[0] = 0x33;
	out->b[1] = 0x33;
	memcpy(&out->b[2], &group->s6_addr[12], 4);
}

int ipaddr_parse(const char *s, struct ipaddr *out)
{
	struct ipaddr a = { 0 };

	if (inet_pton(AF_INET, s, &a.v4) == 1)
		a.af = AF_INET;
	else if (inet_pton(AF_INET6, s, &a.v6) == 1)
		a.af = AF_INET6;
	else
		return -EINVAL;
	*out = a;
	return 0;
}

void ipaddr_from_v4(struct ipaddr *out, const struct in_addr *a)
{
	memset(out, 0, sizeof(*out));
	out->af = AF_INET;
	out->v4 = *a;
}

void ipaddr_from_v6(struct ipaddr *out, const struct in6_addr *a)
{
	memset(out, 0, sizeof(*out));
	out->af = AF_INET6;
	out->v6 = *a;
}

const char *ipaddr_fmt(const struct ipaddr *a, char *buf)
{
	if (!a->af || !inet_ntop(a->af, a->b, buf, IPADDR_STRLEN))
		strcpy(buf, "-");
	return buf;
}

size_t ipaddr_len(const struct ipaddr *a)
{
	switch (a->af) {
	case AF_INET:
		return 4;
	case AF_INET6:
		return 16;
	default:
		return 0;
	}
}

int ipaddr_cmp(const struct ipaddr *a, const struct ipaddr *b)
{
	if (a->af != b->af)
		return a->af < b->af ? -1 : 1;
	return memcmp(a->b, b->b, ipaddr_len(a));
}

bool ipaddr_eq(const struct ipaddr *a, const struct ipaddr *b)
{
	return ipaddr_cmp(a, b) == 0;
}
