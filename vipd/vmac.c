/*
 * vmac.c - a group's virtual MAC (RFC 5798 7.3). The group's VIPs live on a macvlan child of
 * the group's interface whose MAC is the virtual MAC, and the child is up only while the
 * group is master: a backup's interface then does not own the MAC, so the kernel discards
 * frames sent to it (6.4.2, "MUST discard packets with a destination link-layer MAC address
 * equal to the virtual router MAC address") instead of accepting or forwarding them. This is
 * what lets an HA port in flood mode deliver to every host and be served by the master only.
 *
 * The child is created down at start (a leftover of ours from a crash is replaced), with no
 * IPv6 link-local address of its own, and deleted at stop. While a child lives on it, the
 * parent gets arp_ignore=1, or Linux answers ARP for the child's VIPs on the parent too, with
 * the parent's MAC, and arp_announce=2, or the ARP requests of replies leaving through the
 * parent name a VIP as sender with the parent's MAC, and the neighbours cache that. The
 * values before are put back when the last group on the parent leaves.
 */
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "nlq.h"
#include "vipd.h"


struct link_info {
	int ifindex;
	int link;                      /* IFLA_LINK: the parent */
	char kind[16];
};

static int info_attr(const struct nlattr *a, void *data)
{
	struct link_info *li = data;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND && mnl_attr_validate(a, MNL_TYPE_STRING) >= 0)
		snprintf(li->kind, sizeof(li->kind), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static int link_attr(const struct nlattr *a, void *data)
{
	struct link_info *li = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_LINK:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			li->link = (int)mnl_attr_get_u32(a);
		break;
	case IFLA_LINKINFO:
		mnl_attr_parse_nested(a, info_attr, li);
		break;
	}
	return MNL_CB_OK;
}

static int link_msg(const struct nlmsghdr *nlh, void *data)
{
	struct link_info *li = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return MNL_CB_OK;
	li->ifindex = ifi->ifi_index;
	mnl_attr_parse(nlh, sizeof(*ifi), link_attr, li);
	return MNL_CB_OK;
}

/* What the kernel has under name: 0 and *li, or -ENODEV. */
static int link_get(struct nl *nl, const char *name, struct link_info *li)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	memset(li, 0, sizeof(*li));
	nlh->nlmsg_type = RTM_GETLINK;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nl_request_cb(nl, nlh, link_msg, li);
}

static int link_create(struct nl *nl, const struct group *g)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlattr *info, *data;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, g->cfg.vmac_ifname);
	mnl_attr_put_u32(nlh, IFLA_LINK, (uint32_t)g->ifp->ifindex);
	mnl_attr_put(nlh, IFLA_ADDRESS, MAC_LEN, g->cfg.vmac.b);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "macvlan");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/* bridge: other children of the parent (other groups' VIPs) reach this one locally */
	mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, MACVLAN_MODE_BRIDGE);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nl_request(nl, nlh);
}

/* ifi_flags of ifindex: IFF_UP set or cleared; with gen_mode_none, also no IPv6 link-local
 * address when it comes up (IFLA_INET6_ADDR_GEN_MODE). */
static struct nlmsghdr *link_set_msg(char *buf, int ifindex, bool up, bool gen_mode_none)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = up ? IFF_UP : 0;
	ifi->ifi_change = IFF_UP;
	if (gen_mode_none) {
		struct nlattr *spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
		struct nlattr *in6 = mnl_attr_nest_start(nlh, AF_INET6);

		mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
		mnl_attr_nest_end(nlh, in6);
		mnl_attr_nest_end(nlh, spec);
	}
	return nlh;
}

static int link_set(struct nl *nl, int ifindex, bool up, bool gen_mode_none)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	return nl_request(nl, link_set_msg(buf, ifindex, up, gen_mode_none));
}

/* The kernel's answer to vmac_set_up's request: only a refusal has something to say. */
static void set_up_done(void *ctx, int err, const struct nlmsghdr *req)
{
	struct vipd *d = ctx;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(req);

	if (err) {
		d->nl_async_failed++;
		log_warn("virtual MAC interface %d: cannot set %s: %s", ifi->ifi_index,
			 ifi->ifi_flags & IFF_UP ? "up" : "down", strerror(-err));
	}
}

static int sysctl_read(const char *path)
{
	char buf[16] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoi(buf) : -EIO;
}

static int sysctl_write(const char *path, int value)
{
	char buf[16];
	int fd = open(path, O_WRONLY | O_CLOEXEC), len, ret = 0;

	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%d\n", value);
	if (write(fd, buf, (size_t)len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

/* Another group with a virtual MAC on ifp, other than g. */
static struct group *vmac_sibling(const struct group *g, const struct iface *ifp)
{
	for (struct group *o = g->d->groups; o; o = o->next)
		if (o != g && o->ifp == ifp && o->cfg.has_vmac && o->vmac_ifindex)
			return o;
	return NULL;
}

/* What the parent needs while children with VIPs live on it (see the top). */
static const struct {
	const char *name;
	int want;
} parent_sysctls[VMAC_PARENT_SYSCTLS] = {
	{ "arp_ignore", 1 },           /* answer ARP only for the receiving interface's addresses */
	{ "arp_announce", 2 },         /* ARP from the parent names the parent's own address */
};

static void parent_sysctl_path(const struct group *g, int i, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/sys/net/ipv4/conf/%s/%s", g->ifp->name, parent_sysctls[i].name);
}

static void parent_set(struct group *g)
{
	struct group *o = vmac_sibling(g, g->ifp);

	for (int i = 0; i < VMAC_PARENT_SYSCTLS; i++) {
		char path[96];
		int cur;

		g->parent_saved[i] = -1;
		if (o)
			continue;          /* the sibling holds the values to put back */
		parent_sysctl_path(g, i, path, sizeof(path));
		cur = sysctl_read(path);
		if (cur < 0 || cur >= parent_sysctls[i].want)
			continue;          /* already as strict: nothing to change */
		if (sysctl_write(path, parent_sysctls[i].want) < 0) {
			log_warn("%s: cannot set %s=%d on %s: the parent may answer ARP for the VIPs "
				 "or announce them with its own MAC", g->cfg.name,
				 parent_sysctls[i].name, parent_sysctls[i].want, g->ifp->name);
			continue;
		}
		g->parent_saved[i] = cur;
	}
	g->parent_set = true;
}

static void parent_restore(struct group *g)
{
	struct group *o = vmac_sibling(g, g->ifp);

	if (!g->parent_set)
		return;
	for (int i = 0; i < VMAC_PARENT_SYSCTLS; i++) {
		char path[96];

		if (g->parent_saved[i] < 0)
			continue;
		if (o) {
			o->parent_saved[i] = g->parent_saved[i];  /* the last one puts it back */
		} else if (g->ifp->ifindex) {
			parent_sysctl_path(g, i, path, sizeof(path));
			sysctl_write(path, g->parent_saved[i]);
		}
		g->parent_saved[i] = -1;
	}
	g->parent_set = false;
}

int vmac_ensure(struct group *g)
{
	struct nl *nl = &g->d->nlreq;
	struct link_info li;
	int ret;

	if (!g->cfg.has_vmac)
		return 0;
	if (!g->ifp->ifindex) {
		g->vmac_ifindex = 0;       /* the parent went, and its children with it */
		return -ENODEV;
	}
	if (g->vmac_ifindex && g->vmac_parent == g->ifp->ifindex &&
	    link_get(nl, g->cfg.vmac_ifname, &li) == 0 && li.ifindex == g->vmac_ifindex)
		return 0;
	if (g->parent_set && g->vmac_parent != g->ifp->ifindex) {
		/* A new parent under the same name: its sysctls are fresh, what we saved went
		 * with the old one. */
		for (int i = 0; i < VMAC_PARENT_SYSCTLS; i++)
			g->parent_saved[i] = -1;
		g->parent_set = false;
	}
	g->vmac_ifindex = 0;
	g->vmac_up = false;
	ret = link_create(nl, g);
	if (ret == -EEXIST) {
		/* Ours from before a crash (a macvlan on our parent) is replaced; anything else
		 * under that name is not ours to touch. */
		if (link_get(nl, g->cfg.vmac_ifname, &li) < 0 || strcmp(li.kind, "macvlan") ||
		    li.link != g->ifp->ifindex) {
			log_err("%s: interface %s exists and is not a macvlan on %s: set "
				"virtual_interface to another name", g->cfg.name, g->cfg.vmac_ifname,
				g->ifp->name);
			return -EEXIST;
		}
		ret = nl_link_del(nl, li.ifindex);
		if (!ret)
			ret = link_create(nl, g);
	}
	if (!ret)
		ret = link_get(nl, g->cfg.vmac_ifname, &li);
	if (ret) {
		log_err("%s: cannot create macvlan %s on %s: %s", g->cfg.name, g->cfg.vmac_ifname,
			g->ifp->name, strerror(-ret));
		return ret;
	}
	if (link_set(nl, li.ifindex, false, true) < 0)
		log_debug("%s: %s keeps IPv6 link-local generation", g->cfg.name,
			  g->cfg.vmac_ifname);
	g->vmac_ifindex = li.ifindex;
	g->vmac_parent = g->ifp->ifindex;
	if (!g->parent_set)
		parent_set(g);
	log_info("%s: virtual MAC on %s (macvlan on %s, down until master)", g->cfg.name,
		 g->cfg.vmac_ifname, g->ifp->name);
	return 0;
}

int vmac_set_up(struct group *g, bool up)
{
	int ret;

	if (!g->cfg.has_vmac || !g->vmac_ifindex || g->vmac_up == up)
		return 0;
	/* From the event loop (lib/nlq): a takeover waits on no rtnl holder. The request goes
	 * out before the addresses assign() adds to the interface, and is answered in order. */
	char buf[256];

	ret = nlq_send(g->d->nlq, link_set_msg(buf, g->vmac_ifindex, up, false), set_up_done,
		       g->d);
	if (ret) {
		log_warn("%s: cannot set %s %s: %s", g->cfg.name, g->cfg.vmac_ifname,
			 up ? "up" : "down", strerror(-ret));
		return ret;
	}
	g->vmac_up = up;
	return 0;
}

void vmac_destroy(struct group *g)
{
	if (!g->cfg.has_vmac)
		return;
	if (g->vmac_ifindex) {
		int ret = nl_link_del(&g->d->nlreq, g->vmac_ifindex);

		if (ret && ret != -ENODEV)
			log_warn("%s: cannot delete %s: %s", g->cfg.name, g->cfg.vmac_ifname,
				 strerror(-ret));
		g->vmac_ifindex = 0;
	}
	parent_restore(g);
}
