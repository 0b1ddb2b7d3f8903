/*
 * ports.h - a switch's ports, found rather than listed: every Ethernet interface of the
 * switch's namespace but loopback and the one that reaches fabricd (the control network,
 * found by asking the kernel for the route to fabricd's address). They are numbered in the
 * order of their names (p0, p1, ... in the lab): the number is PortLand's "port" of a PMAC
 * and each port's index in the data plane's maps, so it must be the same on every start.
 * The switch id is the lowest MAC address of its ports (PortLand §3.4).
 */
#ifndef SWITCHD_PORTS_H
#define SWITCHD_PORTS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "addr.h"

#define SWITCHD_MAX_PORTS 64           /* a 64-port switch: k = 64, 65536 hosts a tree */

struct sw_iface {
	uint8_t num;
	int ifindex;
	char name[IF_NAMESIZE];
	struct mac mac;
	bool carrier;                      /* IFF_LOWER_UP */
};

struct nl;

/* The ports of this namespace into out (at most max), numbered, and the interface that
 * reaches fabricd (control: its name, "" when fabricd is on a Unix socket or local).
 * fabricd: its address ("HOST:PORT" or "unix:/..."). The count, or -errno (-E2BIG: more
 * ports than max, -ENODEV: none). */
int ports_discover(struct nl *nl, const char *fabricd, struct sw_iface *out, size_t max,
		   char control[IF_NAMESIZE]);
/* The lowest MAC of ports[0..n). */
void ports_switch_id(const struct sw_iface *ports, size_t n, struct mac *out);

#endif
