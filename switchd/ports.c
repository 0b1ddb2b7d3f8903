/* ports.c - a switch's ports, found in its namespace; see ports.h. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <net/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include "conf.h"
#include "nl.h"
#include "ports.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000       /* linux/if.h: the carrier is on */
#endif

struct found {
	struct sw_iface *v;
	size_t n, max;
	int control;                       /* ifindex that reaches fabricd, or 0 */
	bool overflow;
};

/* An Ethernet interface that is not a bridge or a tunnel of its own (those are not ports of
 * a PortLand switch: a port is a link to one neighbour). */
static bool is_port_kind(const struct nlattr *linkinfo)
{
	const struct nlattr *a;

	if (!linkinfo)
		return true;               /* a physical NIC: no kind */
	mnl_attr_for_each_nested(a, linkinfo) {
		if (mnl_attr_get_type(a) == IFLA_INFO_KIND) {
			const char *kind = mnl_attr_get_str(a);

			return !strcmp(kind, "veth") || !strcmp(kind, "macvlan");
		}
	}
	return true;
}

static int on_link(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct found *f = data;
	const struct nlattr *a, *name = NULL, *addr = NULL, *info = NULL;
	struct sw_iface *p;

	if (ifi->ifi_type != ARPHRD_ETHER || (ifi->ifi_flags & IFF_LOOPBACK) ||
	    ifi->ifi_index == f->control)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_IFNAME:
			name = a;
			break;
		case IFLA_ADDRESS:
			addr = a;
			break;
		case IFLA_LINKINFO:
			info = a;
			break;
		}
	}
	if (!name || !addr || mnl_attr_get_payload_len(addr) != MAC_LEN || !is_port_kind(info))
		return MNL_CB_OK;
	if (f->n == f->max) {
		f->overflow = true;
		return MNL_CB_OK;
	}
	p = &f->v[f->n++];
	memset(p, 0, sizeof(*p));
	p->ifindex = ifi->ifi_index;
	snprintf(p->name, sizeof(p->name), "%s", mnl_attr_get_str(name));
	memcpy(p->mac.b, mnl_attr_get_payload(addr), MAC_LEN);
	p->carrier = (ifi->ifi_flags & IFF_LOWER_UP) != 0;
	return MNL_CB_OK;
}

static int on_route(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	int *oif = data;

	mnl_attr_for_each(a, nlh, sizeof(*rtm))
		if (mnl_attr_get_type(a) == RTA_OIF)
			*oif = (int)mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

/* The interface the kernel would send to fabricd's address on: 0 for a Unix socket or a
 * local address (lo), else its ifindex, or -errno (no route: fabricd cannot be reached). */
static int control_ifindex(struct nl *nl, const char *fabricd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], host[64];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	struct ipaddr dst;
	uint16_t port;
	int oif = 0, err;

	if (!strncmp(fabricd, "unix:", 5))
		return 0;
	if (conf_listen_split(fabricd, host, sizeof(host), &port) < 0 ||
	    ipaddr_parse(host, &dst) < 0)
		return -EINVAL;
	nlh->nlmsg_type = RTM_GETROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = dst.af;
	rtm->rtm_dst_len = dst.af == AF_INET ? 32 : 128;
	mnl_attr_put(nlh, RTA_DST, ipaddr_len(&dst), dst.b);
	err = nl_request_cb(nl, nlh, on_route, &oif);
	return err < 0 ? err : oif;
}

static int by_name(const void *x, const void *y)
{
	const struct sw_iface *a = x, *b = y;

	return strcmp(a->name, b->name);
}

int ports_discover(struct nl *nl, const char *fabricd, struct sw_iface *out, size_t max,
		   char control[IF_NAMESIZE])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct found f = { out, 0, max, 0, false };
	int err;

	control[0] = 0;
	f.control = control_ifindex(nl, fabricd);
	if (f.control < 0)
		return f.control;
	if (f.control && !if_indextoname((unsigned)f.control, control))
		control[0] = 0;
	nlh->nlmsg_type = RTM_GETLINK;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
	err = nl_dump(nl, nlh, on_link, &f);
	if (err < 0)
		return err;
	if (f.overflow)
		return -E2BIG;
	if (!f.n)
		return -ENODEV;
	qsort(out, f.n, sizeof(*out), by_name);
	for (size_t i = 0; i < f.n; i++)
		out[i].num = (uint8_t)i;
	return (int)f.n;
}

void ports_switch_id(const struct sw_iface *ports, size_t n, struct mac *out)
{
	*out = ports[0].mac;
	for (size_t i = 1; i < n; i++)
		if (memcmp(ports[i].mac.b, out->b, MAC_LEN) < 0)
			*out = ports[i].mac;
}
