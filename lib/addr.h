/*
 * addr.h - MAC, IPv4, IPv6 and PortLand PMAC address types shared by every daemon: parse,
 * format, compare. An ipaddr carries its family so a VIP list can mix IPv4 and IPv6.
 */
#ifndef L2_ADDR_H
#define L2_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#define MAC_LEN 6
#define MAC_STRLEN 18          /* "xx:xx:xx:xx:xx:xx" + NUL */
#define IPADDR_STRLEN 46       /* INET6_ADDRSTRLEN */

struct mac {
	uint8_t b[MAC_LEN];
};

struct ipaddr {
	int af;                /* AF_INET or AF_INET6; 0 when unset */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t b[16];
	};
};

extern const struct mac mac_zero;
extern const struct mac mac_broadcast;

/* 0 on success, -EINVAL when s is not "xx:xx:xx:xx:xx:xx". */
int mac_parse(const char *s, struct mac *out);
/* Writes into buf (at least MAC_STRLEN bytes) and returns buf. */
const char *mac_fmt(const struct mac *m, char *buf);
bool mac_eq(const struct mac *a, const struct mac *b);
bool mac_is_multicast(const struct mac *m);
/* Whether m can be a port's (one station's) MAC: not all-zero, not multicast (broadcast
 * included). mac_port_why_not says why not ("the all-zero MAC", "the broadcast MAC", "a
 * multicast MAC"), NULL when it can. */
bool mac_is_port(const struct mac *m);
const char *mac_port_why_not(const struct mac *m);
/* 01:00:5e + low 23 bits of the group (RFC 1112 6.4). */
void mac_from_ip4_mcast(const struct in_addr *group, struct mac *out);
/* 33:33 + low 32 bits of the group (RFC 2464 7). */
void mac_from_ip6_mcast(const struct in6_addr *group, struct mac *out);

/* 0 on success, -EINVAL otherwise. Accepts IPv4 dotted quad or any IPv6 text form. */
int ipaddr_parse(const char *s, struct ipaddr *out);
void ipaddr_from_v4(struct ipaddr *out, const struct in_addr *a);
void ipaddr_from_v6(struct ipaddr *out, const struct in6_addr *a);
/* Writes into buf (at least IPADDR_STRLEN bytes) and returns buf; "-" when af is 0. */
const char *ipaddr_fmt(const struct ipaddr *a, char *buf);
/* Orders by family, then by address bytes in network order (memcmp); returns <0, 0, >0. */
int ipaddr_cmp(const struct ipaddr *a, const struct ipaddr *b);
bool ipaddr_eq(const struct ipaddr *a, const struct ipaddr *b);
/* 4 or 16 by family, 0 when unset. */
size_t ipaddr_len(const struct ipaddr *a);
/* Whether a can be a host's (a port's) address: not unspecified, "this network", limited
 * broadcast, multicast or loopback. ipaddr_host_why_not names the class that rules it out
 * ("a multicast address", ...: the subject of a sentence), NULL when it can be. */
bool ipaddr_is_host(const struct ipaddr *a);
const char *ipaddr_host_why_not(const struct ipaddr *a);

/*
 * PortLand's pseudo MAC (SIGCOMM 2009, 3.2): pod.position.port.vmid, 16.8.8.16 bits in that
 * order. A PMAC is seen by hosts as a unicast, locally administered address, so the first
 * octet - the pod field's top byte - must have the U/L bit (0x02) set and the I/G bit (0x01)
 * clear. Those two bits are fixed in the pod field and the pod number fills the other 14:
 * octet 0 = (pod >> 8) << 2 | 0x02, octet 1 = pod & 0xff. Pod numbers run 0..PMAC_POD_MAX,
 * far above the k pods of a k-ary fat tree with 8-bit ports. Each pod has one 16-bit field
 * value (pmac_pod_field), so a core still matches the first two octets exactly.
 */
#define PMAC_POD_MAX 0x3fff
#define PMAC_STRLEN 20         /* "16383.255.255.65535" + NUL */

struct pmac {
	uint16_t pod;          /* 0..PMAC_POD_MAX */
	uint8_t position;      /* the edge switch's position in its pod */
	uint8_t port;          /* the edge switch's port the host is on */
	uint16_t vmid;         /* one of several addresses behind that port */
};

/* 0, or -EINVAL when the pod is above PMAC_POD_MAX. */
int pmac_pack(const struct pmac *p, struct mac *out);
/* 0, or -EINVAL when m is not a PMAC (U/L bit clear or I/G bit set). */
int pmac_unpack(const struct mac *m, struct pmac *out);
/* "pod.position.port.vmid" in decimal into buf (at least PMAC_STRLEN bytes); returns buf. */
const char *pmac_fmt(const struct pmac *p, char *buf);
/* The first two octets of every PMAC of this pod, as a host-order u16 (pod <= PMAC_POD_MAX). */
uint16_t pmac_pod_field(uint16_t pod);

#endif
