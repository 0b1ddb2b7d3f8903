/*
 * kernel.c - VXLAN devices, FDB and suppression neighbours over rtnetlink (see kernel.h for
 * what is ours): struct kernel holds one request socket, one batch of queued requests and a
 * cache VNI -> (vx ifindex, bridge ifindex). Here: the requests and their errors, the
 * devices, the incremental operations. The desired state is in kdesired.c, reading the
 * kernel's tables in kdump.c, and kernel_reconcile, which sorts a copy of the desired state
 * and the kernel's dump by key and walks both at once, in reconcile.c.
 */
#include <net/if.h>
#include <linux/if_link.h>
#include <stdio.h>
#include "kernel_int.h"

#define BATCH_BYTES KERNEL_CHUNK_BYTES
/* The errors of a few sendmsgs all refused (~1 KiB each as skbs, ~1000 requests a sendmsg):
 * chunks are sent one at a time and their answers read before the next piles up; and the
 * parts of a dump on the blocking socket. */
#define SOCKET_BUFFER (8 * 1024 * 1024)

/* --- requests and their errors -------------------------------------------------------------- */

static void describe(const struct nlmsghdr *nlh, char *out, size_t len)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	char mac[MAC_STRLEN] = "-", ip[IPADDR_STRLEN] = "-";
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(*ndm)) {
		uint16_t alen = mnl_attr_get_payload_len(a);
		struct ipaddr x = { 0 };

		if (mnl_attr_get_type(a) == NDA_LLADDR && alen == MAC_LEN) {
			mac_fmt(mnl_attr_get_payload(a), mac);
		} else if (mnl_attr_get_type(a) == NDA_DST && (alen == 4 || alen == 16)) {
			x.af = alen == 4 ? AF_INET : AF_INET6;
			memcpy(x.b, mnl_attr_get_payload(a), alen);
			ipaddr_fmt(&x, ip);
		}
	}
	snprintf(out, len, "%s %s on ifindex %d: %s %s",
		 nlh->nlmsg_type == RTM_DELNEIGH ? "delete" : "set",
		 ndm->ndm_family == AF_BRIDGE ? "fdb" : "neighbour", ndm->ndm_ifindex,
		 ndm->ndm_family == AF_BRIDGE ? mac : ip, ndm->ndm_family == AF_BRIDGE ? ip : mac);
}

/* A request of the batch was refused, or its answer lost. tag: the counter it was counted
 * under, taken back. */
static bool on_refused(void *ctx, int err, const struct nlmsghdr *req, void *tag)
{
	struct kernel *k = ctx;
	uint32_t *counter = tag;
	char what[128];

	/* Deleting what is already gone (a bridge entry the bridge took over or aged, a
	 * neighbour someone removed) is what was asked for. */
	if (err == -ENOENT && req->nlmsg_type == RTM_DELNEIGH)
		return false;
	k->total.refused++;
	if (counter)
		(*counter)--;
	describe(req, what, sizeof(what));
	log_rl(&k->rl, LOG_LVL_WARN, "kernel: %s: %s", what, strerror(-err));
	return true;
}

void k_push(struct kernel *k)
{
	nl_batch_send_all(k->batch);
}

/* counter: what to count the request under (taken back if it is refused), or NULL. */
static void queue(struct kernel *k, struct nlmsghdr *nlh, uint32_t *counter)
{
	k->total.requests++;
	if (counter)
		(*counter)++;
	nl_batch_add(k->batch, nlh, counter);
}

static void put_ip(struct nlmsghdr *nlh, uint16_t type, const struct ipaddr *a)
{
	mnl_attr_put(nlh, type, ipaddr_len(a), a->b);
}

/* RTM_NEWNEIGH / RTM_DELNEIGH on a vx device. NTF_SELF: the vxlan driver's table (remote
 * VTEPs); NTF_MASTER: the bridge's (which port). With both, the kernel does the bridge first
 * and stops there if it fails. dst NULL: the whole entry. */
void k_fdb_req(struct kernel *k, uint16_t type, uint16_t flags, uint8_t ndm_flags,
		    int vx, const struct mac *mac, const struct ipaddr *dst, uint32_t *counter)
{
	struct nlmsghdr *nlh = nl_batch_msg(k->batch);
	struct ndmsg *ndm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_BRIDGE;
	ndm->ndm_ifindex = vx;
	ndm->ndm_flags = ndm_flags;
	ndm->ndm_state = type == RTM_NEWNEIGH ? FDB_STATE : 0;
	mnl_attr_put(nlh, NDA_LLADDR, MAC_LEN, mac->b);
	if (dst)
		put_ip(nlh, NDA_DST, dst);
	queue(k, nlh, counter);
}

void k_neigh_req(struct kernel *k, uint16_t type, int br, const struct ipaddr *ip,
		      const struct mac *mac, uint32_t *counter)
{
	struct nlmsghdr *nlh = nl_batch_msg(k->batch);
	struct ndmsg *ndm;

	nlh->nlmsg_type = type;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = (uint8_t)ip->af;
	ndm->ndm_ifindex = br;
	put_ip(nlh, NDA_DST, ip);
	if (type == RTM_NEWNEIGH) {
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
		ndm->ndm_state = NUD_NOARP;
		ndm->ndm_flags = NTF_EXT_LEARNED;
		mnl_attr_put(nlh, NDA_LLADDR, MAC_LEN, mac->b);
		mnl_attr_put_u8(nlh, NDA_PROTOCOL, KERNEL_RTPROT);
	}
	queue(k, nlh, counter);
}

/* --- links ---------------------------------------------------------------------------------- */

struct link {
	int ifindex, master;
	unsigned int flags;
	char kind[16];
	uint32_t vni, underlay;
	uint16_t port;               /* host order */
	struct ipaddr local;
	int learning;                /* vxlan learning */
	int port_learning, port_suppress;  /* bridge port flags, -1 if not a bridge port */
};

static void parse_vxlan(const struct nlattr *data, struct link *l)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, data) {
		uint16_t len = mnl_attr_get_payload_len(a);

		switch (mnl_attr_get_type(a)) {
		case IFLA_VXLAN_ID:
			if (len == 4)
				l->vni = mnl_attr_get_u32(a);
			break;
		case IFLA_VXLAN_LOCAL:
		case IFLA_VXLAN_LOCAL6:
			if (len == 4 || len == 16) {
				l->local.af = len == 4 ? AF_INET : AF_INET6;
				memcpy(l->local.b, mnl_attr_get_payload(a), len);
			}
			break;
		case IFLA_VXLAN_PORT:
			if (len == 2)
				l->port = ntohs(mnl_attr_get_u16(a));
			break;
		case IFLA_VXLAN_LEARNING:
			if (len == 1)
				l->learning = mnl_attr_get_u8(a);
			break;
		case IFLA_VXLAN_LINK:
			if (len == 4)
				l->underlay = mnl_attr_get_u32(a);
			break;
		}
	}
}

static void parse_brport(const struct nlattr *data, struct link *l)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, data) {
		if (mnl_attr_get_payload_len(a) != 1)
			continue;
		if (mnl_attr_get_type(a) == IFLA_BRPORT_LEARNING)
			l->port_learning = mnl_attr_get_u8(a);
		else if (mnl_attr_get_type(a) == IFLA_BRPORT_NEIGH_SUPPRESS)
			l->port_suppress = mnl_attr_get_u8(a);
	}
}

static int link_msg(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct link *l = data;
	const struct nlattr *a, *b;

	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return MNL_CB_OK;
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		if (mnl_attr_get_type(a) == IFLA_MASTER && mnl_attr_get_payload_len(a) == 4)
			l->master = (int)mnl_attr_get_u32(a);
		if (mnl_attr_get_type(a) != IFLA_LINKINFO)
			continue;
		mnl_attr_for_each_nested(b, a) {
			switch (mnl_attr_get_type(b)) {
			case IFLA_INFO_KIND:
				snprintf(l->kind, sizeof(l->kind), "%.*s",
					 (int)mnl_attr_get_payload_len(b),
					 (const char *)mnl_attr_get_payload(b));
				break;
			case IFLA_INFO_DATA:
				parse_vxlan(b, l);
				break;
			case IFLA_INFO_SLAVE_DATA:
				parse_brport(b, l);
				break;
			}
		}
	}
	return MNL_CB_OK;
}

static int link_get(struct kernel *k, const char *name, struct link *l)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	memset(l, 0, sizeof(*l));
	l->port_learning = l->port_suppress = -1;
	l->learning = -1;
	nlh->nlmsg_type = RTM_GETLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nl_request_cb(&k->nl, nlh, link_msg, l);
}

static void vx_name(uint32_t vni, char *buf)
{
	snprintf(buf, IFNAMSIZ, "vx%u", vni);
}

static struct kdev *dev_find(struct kernel *k, uint32_t vni)
{
	for (size_t i = 0; i < k->ndevs; i++)
		if (k->devs[i].vni == vni)
			return &k->devs[i];
	return NULL;
}

static void dev_note(struct kernel *k, uint32_t vni, int vx, int br)
{
	struct kdev *d = dev_find(k, vni);

	if (!d) {
		if (grow(&k->devs, &k->capdevs, k->ndevs + 1, sizeof(*k->devs)) < 0)
			return;  /* only a cache */
		d = &k->devs[k->ndevs++];
	}
	*d = (struct kdev){ .vni = vni, .vx = vx, .br = br };
}

/* vx<vni> and its bridge; fresh is true to ask the kernel even when cached. */
int k_dev_resolve(struct kernel *k, uint32_t vni, bool fresh, int *vx, int *br)
{
	struct kdev *d = dev_find(k, vni);
	char name[IFNAMSIZ];
	struct link l;
	int ret;

	if (d && !fresh) {
		*vx = d->vx;
		*br = d->br;
		return 0;
	}
	vx_name(vni, name);
	ret = link_get(k, name, &l);
	if (ret < 0)
		return ret;
	if (strcmp(l.kind, "vxlan") || !l.master)
		return -ENODEV;
	dev_note(k, vni, l.ifindex, l.master);
	*vx = l.ifindex;
	*br = l.master;
	return 0;
}

static int vxlan_create(struct kernel *k, const char *name, uint32_t vni, int br,
			const struct ipaddr *local, uint32_t underlay)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlattr *info, *data;
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	/* Enslaved while still down: it comes up only once its port flags are right. */
	mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)br);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vxlan");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_VXLAN_ID, vni);
	put_ip(nlh, local->af == AF_INET ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6, local);
	mnl_attr_put_u16(nlh, IFLA_VXLAN_PORT, htons(KERNEL_VXLAN_PORT));
	mnl_attr_put_u8(nlh, IFLA_VXLAN_LEARNING, 0);
	if (underlay)
		mnl_attr_put_u32(nlh, IFLA_VXLAN_LINK, underlay);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nl_request(&k->nl, nlh);
}

void kernel_bridge_mac(const struct ipaddr *local, uint32_t vni, struct mac *out)
{
	uint32_t h = 2166136261u;           /* FNV-1a, 32 bits */
	size_t n = ipaddr_len(local);

	for (size_t i = 0; i < n; i++) {
		h ^= local->b[i];
		h *= 16777619u;
	}
	out->b[0] = (uint8_t)(((h >> 16) & 0xfc) | 0x02);  /* locally administered, unicast */
	out->b[1] = (uint8_t)(h >> 8);
	out->b[2] = (uint8_t)h;
	out->b[3] = (uint8_t)(vni >> 16);
	out->b[4] = (uint8_t)(vni >> 8);
	out->b[5] = (uint8_t)vni;
}

int kernel_addr_assign_type(const char *ifname, int ifindex)
{
	char path[64 + IFNAMSIZ], buf[32];
	int type = -1, idx = -1;
	FILE *f;

	if (!*ifname || strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/') || ifname[0] == '.')
		return -EINVAL;
	snprintf(path, sizeof(path), "/sys/class/net/%s/ifindex", ifname);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fgets(buf, sizeof(buf), f))
		idx = atoi(buf);
	fclose(f);
	if (idx != ifindex)
		return -ENXIO;
	snprintf(path, sizeof(path), "/sys/class/net/%s/addr_assign_type", ifname);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fgets(buf, sizeof(buf), f))
		type = atoi(buf);
	fclose(f);
	return type >= 0 ? type : -EIO;
}

/* A VLAN-unaware bridge, up, with a set address: the kernel never changes it for a port's. */
static int bridge_create(struct kernel *k, const char *name, const struct mac *mac)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlattr *info;
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put(nlh, IFLA_ADDRESS, MAC_LEN, mac->b);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, info);
	return nl_request(&k->nl, nlh);
}

/* Master and vxlan learning first, then the port flags (they belong to the new master) and
 * up: two requests, each only when something is wrong. */
static int vxlan_fix(struct kernel *k, const struct link *l, int br)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nlattr *info, *data;
	int ret;

	if (l->master != br || l->learning != 0) {
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = RTM_NEWLINK;
		ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		ifi->ifi_index = l->ifindex;
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)br);
		info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
		mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vxlan");
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		mnl_attr_put_u8(nlh, IFLA_VXLAN_LEARNING, 0);
		mnl_attr_nest_end(nlh, data);
		mnl_attr_nest_end(nlh, info);
		ret = nl_request(&k->nl, nlh);
		if (ret < 0)
			return ret;
	}
	if (l->master != br || l->port_learning != 0 || l->port_suppress != 1 ||
	    !(l->flags & IFF_UP)) {
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = RTM_NEWLINK;
		ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		ifi->ifi_index = l->ifindex;
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
		info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
		mnl_attr_put_strz(nlh, IFLA_INFO_SLAVE_KIND, "bridge");
		data = mnl_attr_nest_start(nlh, IFLA_INFO_SLAVE_DATA);
		mnl_attr_put_u8(nlh, IFLA_BRPORT_LEARNING, 0);
		mnl_attr_put_u8(nlh, IFLA_BRPORT_NEIGH_SUPPRESS, 1);
		mnl_attr_nest_end(nlh, data);
		mnl_attr_nest_end(nlh, info);
		ret = nl_request(&k->nl, nlh);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int kernel_vxlan_ensure(struct kernel *k, uint32_t vni, const char *bridge,
			const struct ipaddr *local, const char *underlay,
			int *vx_ifindex, int *br_ifindex)
{
	char name[IFNAMSIZ];
	struct link br, l;
	uint32_t lower = 0;
	int done = 0, ret;

	if (vni == 0 || vni >= KERNEL_VNI_MAX || !local || !local->af)
		return -EINVAL;
	k_push(k);  /* what was queued for the old device goes to the old device */
	ret = link_get(k, bridge, &br);
	if (ret == -ENODEV) {
		struct mac mac;
		char txt[MAC_STRLEN];

		kernel_bridge_mac(local, vni, &mac);
		ret = bridge_create(k, bridge, &mac);
		if (ret == 0)
			ret = link_get(k, bridge, &br);
		if (ret == 0) {
			done |= KVX_BRIDGE_CREATED;
			log_info("kernel: vx%u: created bridge %s with the fixed address %s", vni,
				 bridge, mac_fmt(&mac, txt));
		}
	}
	if (ret < 0 || strcmp(br.kind, "bridge")) {
		log_err("kernel: vx%u: bridge %s: %s", vni, bridge,
			ret < 0 ? strerror(-ret) : "not a bridge");
		return ret < 0 ? ret : -ENODEV;
	}
	if (underlay) {
		lower = if_nametoindex(underlay);
		if (!lower) {
			log_err("kernel: vx%u: underlay %s: %s", vni, underlay, strerror(errno));
			return -errno;
		}
	}
	vx_name(vni, name);
	ret = link_get(k, name, &l);
	if (ret == 0 && strcmp(l.kind, "vxlan")) {
		log_err("kernel: %s exists and is not a VXLAN device (%s): not ours", name,
			l.kind[0] ? l.kind : "no kind");
		return -EEXIST;
	}
	if (ret == 0 && (l.vni != vni || l.port != KERNEL_VXLAN_PORT ||
			 !ipaddr_eq(&l.local, local) || l.underlay != lower)) {
		log_warn("kernel: %s has the wrong VNI, port, local address or underlay: "
			 "creating it again", name);
		ret = nl_link_del(&k->nl, l.ifindex);
		if (ret < 0)
			return ret;
		done |= KVX_RECREATED;
		ret = -ENODEV;
	}
	if (ret == -ENODEV) {
		ret = vxlan_create(k, name, vni, br.ifindex, local, lower);
		if (ret == 0)
			ret = link_get(k, name, &l);
		if (ret < 0) {
			log_err("kernel: creating %s: %s", name, strerror(-ret));
			return ret;
		}
		if (!(done & KVX_RECREATED))
			done |= KVX_CREATED;
	} else if (ret < 0) {
		return ret;
	}
	if (l.master != br.ifindex || l.learning != 0 || l.port_learning != 0 ||
	    l.port_suppress != 1 || !(l.flags & IFF_UP)) {
		ret = vxlan_fix(k, &l, br.ifindex);
		if (ret < 0) {
			log_err("kernel: setting up %s: %s", name, strerror(-ret));
			return ret;
		}
		if (!(done & (KVX_CREATED | KVX_RECREATED)))
			done |= KVX_FIXED;
	}
	dev_note(k, vni, l.ifindex, br.ifindex);
	if (vx_ifindex)
		*vx_ifindex = l.ifindex;
	if (br_ifindex)
		*br_ifindex = br.ifindex;
	return done;
}

int kernel_vxlan_del(struct kernel *k, uint32_t vni)
{
	char name[IFNAMSIZ];
	struct kdev *d = dev_find(k, vni);
	struct link l;
	int ret;

	if (d)
		*d = k->devs[--k->ndevs];
	k_push(k);
	vx_name(vni, name);
	ret = link_get(k, name, &l);
	if (ret == -ENODEV)
		return 0;
	if (ret < 0)
		return ret;
	if (strcmp(l.kind, "vxlan"))
		return -EEXIST;
	return nl_link_del(&k->nl, l.ifindex);
}

/* --- incremental operations ----------------------------------------------------------------- */

int kernel_fdb_set(struct kernel *k, uint32_t vni, const struct mac *mac,
		   const struct ipaddr *dst)
{
	int vx, br, ret = k_dev_resolve(k, vni, false, &vx, &br);

	if (ret == 0)
		k_fdb_req(k, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE,
			NTF_SELF | NTF_MASTER | NTF_EXT_LEARNED, vx, mac, dst, NULL);
	return ret;
}

int kernel_fdb_del(struct kernel *k, uint32_t vni, const struct mac *mac,
		   const struct ipaddr *dst)
{
	int vx, br, ret = k_dev_resolve(k, vni, false, &vx, &br);

	if (ret == 0)
		k_fdb_req(k, RTM_DELNEIGH, 0, NTF_SELF, vx, mac, dst, NULL);
	if (ret == 0 && !mac_eq(mac, &mac_zero))
		k_fdb_req(k, RTM_DELNEIGH, 0, NTF_MASTER, vx, mac, NULL, NULL);
	return ret;
}

int kernel_flood_add(struct kernel *k, uint32_t vni, const struct ipaddr *dst)
{
	int vx, br, ret = k_dev_resolve(k, vni, false, &vx, &br);

	if (ret == 0)
		k_fdb_req(k, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_APPEND, NTF_SELF, vx, &mac_zero, dst,
			NULL);
	return ret;
}

int kernel_flood_del(struct kernel *k, uint32_t vni, const struct ipaddr *dst)
{
	return kernel_fdb_del(k, vni, &mac_zero, dst);
}

int kernel_neigh_set(struct kernel *k, uint32_t vni, const struct ipaddr *ip,
		     const struct mac *mac)
{
	int vx, br, ret = k_dev_resolve(k, vni, false, &vx, &br);

	if (ret == 0)
		k_neigh_req(k, RTM_NEWNEIGH, br, ip, mac, NULL);
	return ret;
}

int kernel_neigh_del(struct kernel *k, uint32_t vni, const struct ipaddr *ip)
{
	int vx, br, ret = k_dev_resolve(k, vni, false, &vx, &br);

	if (ret == 0)
		k_neigh_req(k, RTM_DELNEIGH, br, ip, NULL, NULL);
	return ret;
}

void kernel_commit(struct kernel *k, kernel_done done, void *ctx)
{
	nl_batch_commit(k->batch, done, ctx);
}

bool kernel_busy(const struct kernel *k)
{
	return nl_batch_chunks(k->batch) > KERNEL_BUSY_CHUNKS;
}

void kernel_wait(struct kernel *k)
{
	nl_batch_wait(k->batch);
}

void kernel_counters(const struct kernel *k, struct kcounters *out)
{
	const struct nl_batch_stats *bs = nl_batch_stats(k->batch);

	*out = k->total;
	out->lost = bs->lost;
	out->timeouts = bs->timeouts;
	out->in_flight = nl_batch_pending(k->batch);
}

uint32_t kernel_portid(const struct kernel *k)
{
	return nl_batch_portid(k->batch);
}

/* --- open / close --------------------------------------------------------------------------- */

int kernel_open(struct event_base *base, struct kernel **out)
{
	struct kernel *k = calloc(1, sizeof(*k));
	int ret;

	if (!k)
		return -ENOMEM;
	k->rl = (struct ratelimit)RATELIMIT_INIT(1000, 10);
	ret = nl_open(&k->nl, 0);
	if (ret < 0)
		goto fail;
	ret = nl_set_strict(&k->nl);
	if (ret == 0)
		ret = nl_set_bufsize(&k->nl, SOCKET_BUFFER);
	if (ret == 0)
		ret = nl_batch_new(base, BATCH_BYTES, KERNEL_CHUNKS, SOCKET_BUFFER, on_refused, k,
				   &k->batch);
	if (ret < 0)
		goto fail;
	*out = k;
	return 0;
fail:
	kernel_close(k);
	return ret;
}

void kernel_close(struct kernel *k)
{
	if (!k)
		return;
	if (k->batch)
		nl_batch_wait(k->batch);
	nl_batch_free(k->batch);
	nl_close(&k->nl);
	free(k->devs);
	free(k);
}
