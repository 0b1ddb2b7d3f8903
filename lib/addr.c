/*
 * addr.c - MAC and IP address helpers (see addr.h): strict text parsing, formatting,
 * comparison, the multicast MAC mappings of RFC 1112 and RFC 2464, the classes that can
 * be no port's (a station's MAC, a host's address), and PortLand's PMAC layout.
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

/* IEEE 802 addressing: the I/G bit, the least significant bit of the first octet, is set in a
 * group address; the broadcast address is the group of all stations. */
bool mac_is_multicast(const struct mac *m)
{
	return m->b[0] & 0x01;
}

/* The all-zero MAC is no station's, and in a VXLAN FDB it is the flood list's entry: a port
 * given that MAC would put (or take) its host in (out of) every flood list. */
const char *mac_port_why_not(const struct mac *m)
{
	if (mac_eq(m, &mac_zero))
		return "the all-zero MAC";
	if (mac_eq(m, &mac_broadcast))
		return "the broadcast MAC";
	if (mac_is_multicast(m))
		return "a multicast MAC";
	return NULL;
}

bool mac_is_port(const struct mac *m)
{
	return !mac_port_why_not(m);
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

static const char *ip4_host_why_not(const struct in_addr *a)
{
	uint32_t h = ntohl(a->s_addr);

	/* RFC 1122 3.2.1.3 (a), (b); RFC 6890 2.2.2: 0.0.0.0/8 is a source-only "this host on
	 * this network", never a destination */
	if (h == INADDR_ANY)
		return "an unspecified address";
	if (h >> 24 == 0)
		return "a \"this network\" address";
	/* RFC 1122 3.2.1.3 (c): limited broadcast */
	if (h == INADDR_BROADCAST)
		return "the limited broadcast address";
	/* RFC 1112 4; RFC 5771: 224.0.0.0/4 are host groups */
	if (IN_MULTICAST(h))
		return "a multicast address";
	/* RFC 1122 3.2.1.3 (g): 127.0.0.0/8 never appears outside a host */
	if (h >> 24 == IN_LOOPBACKNET)
		return "a loopback address";
	return NULL;
}

static const char *ip6_host_why_not(const struct in6_addr *a)
{
	/* RFC 4291 2.5.2: "::" must never be assigned to any node */
	if (IN6_IS_ADDR_UNSPECIFIED(a))
		return "an unspecified address";
	/* RFC 4291 2.5.3: "::1" is the loopback address, never sent outside a node */
	if (IN6_IS_ADDR_LOOPBACK(a))
		return "a loopback address";
	/* RFC 4291 2.7: ff00::/8 identifies a group */
	if (IN6_IS_ADDR_MULTICAST(a))
		return "a multicast address";
	return NULL;
}

const char *ipaddr_host_why_not(const struct ipaddr *a)
{
	switch (a->af) {
	case AF_INET:
		return ip4_host_why_not(&a->v4);
	case AF_INET6:
		return ip6_host_why_not(&a->v6);
	default:
		return "no address";
	}
}

bool ipaddr_is_host(const struct ipaddr *a)
{
	return !ipaddr_host_why_not(a);
}

/* The U/L and I/G bits of the first octet (IEEE 802), fixed in every PMAC (see addr.h). */
#define PMAC_OCTET0_FIXED_MASK 0x03
#define PMAC_OCTET0_FIXED 0x02

uint16_t pmac_pod_field(uint16_t pod)
{
	return (uint16_t)((pod >> 8) << 10 | PMAC_OCTET0_FIXED << 8 | (pod & 0xff));
}

int pmac_pack(const struct pmac *p, struct mac *out)
{
	uint16_t field;

	if (p->pod > PMAC_POD_MAX)
		return -EINVAL;
	field = pmac_pod_field(p->pod);
	out->b[0] = (uint8_t)(field >> 8);
	out->b[1] = (uint8_t)field;
	out->b[2] = p->position;
	out->b[3] = p->port;
	out->b[4] = (uint8_t)(p->vmid >> 8);
	out->b[5] = (uint8_t)p->vmid;
	return 0;
}

int pmac_unpack(const struct mac *m, struct pmac *out)
{
	if ((m->b[0] & PMAC_OCTET0_FIXED_MASK) != PMAC_OCTET0_FIXED)
		return -EINVAL;
	out->pod = (uint16_t)((m->b[0] >> 2) << 8 | m->b[1]);
	out->position = m->b[2];
	out->port = m->b[3];
	out->vmid = (uint16_t)(m->b[4] << 8 | m->b[5]);
	return 0;
}

const char *pmac_fmt(const struct pmac *p, char *buf)
{
	snprintf(buf, PMAC_STRLEN, "%u.%u.%u.%u", p->pod, p->position, p->port, p->vmid);
	return buf;
}
