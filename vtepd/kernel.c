/*
 * kernel.c - VXLAN devices, FDB and suppression neighbours over rtnetlink (see kernel.h for
 * what is ours). struct kernel holds one request socket, one batch of queued requests and a
 * cache VNI -> (vx ifindex, bridge ifindex). struct kdesired is a plain list per VNI;
 * kernel_reconcile sorts a copy of it and the kernel's dump by key and walks both at once.
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernel.h"
#include "log.h"
#include "monotime.h"
#include "nl.h"

#define BATCH_BYTES (64 * 1024)
/* Holds a few sendmsgs of requests, and the errors of a whole batch (~1 KiB each as skbs). */
#define SOCKET_BUFFER (8 * 1024 * 1024)
/* Smallest request we queue (RTM_DELNEIGH for an IPv4 neighbour: 16 + 12 + 8 bytes). */
#define MIN_REQUEST 32
#define FDB_STATE (NUD_NOARP | NUD_PERMANENT)

struct kdev {
	uint32_t vni;
	int vx, br;
};

struct kernel {
	struct nl nl;
	struct nl_batch batch;
	/* Per request of the sendmsg being built: the counter to take back if it is refused. */
	uint32_t **undo;
	struct kstats *stats;       /* of the reconcile in progress, else NULL */
	uint32_t refused;           /* since the last commit */
	struct kcounters total;     /* since kernel_open */
	int first_err;
	struct kdev *devs;
	size_t ndevs, capdevs;
	struct ratelimit rl;
};

static int grow(void *pp, size_t *cap, size_t need, size_t size)
{
	void **p = pp;
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

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

static void on_refused(void *ctx, uint32_t index, int err, const struct nlmsghdr *req)
{
	struct kernel *k = ctx;
	char what[128];

	/* Deleting what is already gone (a bridge entry the bridge took over or aged, a
	 * neighbour someone removed) is what was asked for. */
	if (err == -ENOENT && req->nlmsg_type == RTM_DELNEIGH)
		return;
	k->refused++;
	k->total.refused++;
	if (!k->first_err)
		k->first_err = err;
	if (k->undo[index])
		(*k->undo[index])--;
	if (k->stats)
		k->stats->errors++;
	describe(req, what, sizeof(what));
	log_rl(&k->rl, LOG_LVL_WARN, "kernel: %s: %s", what, strerror(-err));
}

/* The answers to the n requests of a sendmsg were lost (or it was never sent): all failed,
 * as far as the caller can tell. */
static void on_lost(struct kernel *k, uint32_t n, int err)
{
	for (uint32_t i = 0; i < n; i++)
		if (k->undo[i])
			(*k->undo[i])--;
	if (k->stats)
		k->stats->errors += n;
	k->refused += n;
	k->total.refused += n;
	if (!k->first_err)
		k->first_err = err;
	log_err("kernel: answers to %u requests lost: %s", n, strerror(-err));
}

static int flush(struct kernel *k)
{
	uint32_t n = k->batch.count;
	int ret = nl_batch_flush(&k->batch);

	if (ret < 0)
		on_lost(k, n, ret);
	return ret;
}

/* counter: what to count the request under (taken back if it is refused), or NULL. */
static void queue(struct kernel *k, struct nlmsghdr *nlh, uint32_t *counter)
{
	uint32_t n = k->batch.count + 1;
	int ret;

	k->undo[k->batch.count] = counter;
	k->total.requests++;
	if (counter)
		(*counter)++;
	ret = nl_batch_add(&k->batch, nlh);
	if (ret < 0)
		on_lost(k, n, ret);
}

static void put_ip(struct nlmsghdr *nlh, uint16_t type, const struct ipaddr *a)
{
	mnl_attr_put(nlh, type, ipaddr_len(a), a->b);
}

/* RTM_NEWNEIGH / RTM_DELNEIGH on a vx device. NTF_SELF: the vxlan driver's table (remote
 * VTEPs); NTF_MASTER: the bridge's (which port). With both, the kernel does the bridge first
 * and stops there if it fails. dst NULL: the whole entry. */
static void fdb_req(struct kernel *k, uint16_t type, uint16_t flags, uint8_t ndm_flags,
		    int vx, const struct mac *mac, const struct ipaddr *dst, uint32_t *counter)
{
	struct nlmsghdr *nlh = nl_batch_msg(&k->batch);
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

static void neigh_req(struct kernel *k, uint16_t type, int br, const struct ipaddr *ip,
		      const struct mac *mac, uint32_t *counter)
{
	struct nlmsghdr *nlh = nl_batch_msg(&k->batch);
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
static int dev_resolve(struct kernel *k, uint32_t vni, bool fresh, int *vx, int *br)
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

static int link_del(struct kernel *k, int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_DELLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = ifindex;
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
	ret = link_get(k, bridge, &br);
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
		ret = link_del(k, l.ifindex);
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
	vx_name(vni, name);
	ret = link_get(k, name, &l);
	if (ret == -ENODEV)
		return 0;
	if (ret < 0)
		return ret;
	if (strcmp(l.kind, "vxlan"))
		return -EEXIST;
	return link_del(k, l.ifindex);
}

/* --- desired state -------------------------------------------------------------------------- */

struct kd_fdb {
	struct mac mac;
	uint32_t ndst;
	size_t dst;              /* index in kd_vni.dsts */
	size_t seq;              /* insertion order: the last of equal keys wins */
};

struct kd_neigh {
	struct ipaddr ip;
	struct mac mac;
	size_t seq;
};

struct kd_vni {
	uint32_t vni;
	struct kd_fdb *fdb;
	struct ipaddr *dsts, *flood;
	struct kd_neigh *neigh;
	size_t nfdb, capfdb, ndsts, capdsts, nflood, capflood, nneigh, capneigh;
};

struct kdesired {
	struct kd_vni *v;
	size_t n, cap;
};

struct kdesired *kdesired_new(void)
{
	return calloc(1, sizeof(struct kdesired));
}

void kdesired_free(struct kdesired *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].fdb);
		free(d->v[i].dsts);
		free(d->v[i].flood);
		free(d->v[i].neigh);
	}
	free(d->v);
	free(d);
}

static struct kd_vni *kd_vni(struct kdesired *d, uint32_t vni)
{
	for (size_t i = d->n; i-- > 0;)
		if (d->v[i].vni == vni)
			return &d->v[i];
	if (vni == 0 || vni >= KERNEL_VNI_MAX || grow(&d->v, &d->cap, d->n + 1, sizeof(*d->v)))
		return NULL;
	memset(&d->v[d->n], 0, sizeof(*d->v));
	d->v[d->n].vni = vni;
	return &d->v[d->n++];
}

int kdesired_vni(struct kdesired *d, uint32_t vni)
{
	return kd_vni(d, vni) ? 0 : -EINVAL;
}

int kdesired_fdb(struct kdesired *d, uint32_t vni, const struct mac *mac,
		 const struct ipaddr *dsts, size_t ndst)
{
	struct kd_vni *v = kd_vni(d, vni);
	struct kd_fdb *f;

	if (!v || mac_is_multicast(mac) || mac_eq(mac, &mac_zero) || !ndst || ndst > UINT16_MAX)
		return -EINVAL;
	if (grow(&v->fdb, &v->capfdb, v->nfdb + 1, sizeof(*v->fdb)) ||
	    grow(&v->dsts, &v->capdsts, v->ndsts + ndst, sizeof(*v->dsts)))
		return -ENOMEM;
	f = &v->fdb[v->nfdb];
	*f = (struct kd_fdb){ .mac = *mac, .ndst = (uint32_t)ndst, .dst = v->ndsts, .seq = v->nfdb };
	memcpy(&v->dsts[v->ndsts], dsts, ndst * sizeof(*dsts));
	v->ndsts += ndst;
	v->nfdb++;
	return 0;
}

int kdesired_flood(struct kdesired *d, uint32_t vni, const struct ipaddr *dst)
{
	struct kd_vni *v = kd_vni(d, vni);

	if (!v || !dst->af)
		return -EINVAL;
	if (grow(&v->flood, &v->capflood, v->nflood + 1, sizeof(*v->flood)))
		return -ENOMEM;
	v->flood[v->nflood++] = *dst;
	return 0;
}

int kdesired_neigh(struct kdesired *d, uint32_t vni, const struct ipaddr *ip,
		   const struct mac *mac)
{
	struct kd_vni *v = kd_vni(d, vni);

	if (!v || !ip->af)
		return -EINVAL;
	if (grow(&v->neigh, &v->capneigh, v->nneigh + 1, sizeof(*v->neigh)))
		return -ENOMEM;
	v->neigh[v->nneigh] = (struct kd_neigh){ .ip = *ip, .mac = *mac, .seq = v->nneigh };
	v->nneigh++;
	return 0;
}

int kdesired_walk(const struct kdesired *d, const struct kdesired_visitor *vis, void *ctx)
{
	int ret = 0;

	for (size_t i = 0; i < d->n && !ret; i++) {
		const struct kd_vni *v = &d->v[i];

		if (vis->vni)
			ret = vis->vni(ctx, v->vni);
		for (size_t j = 0; j < v->nfdb && !ret && vis->fdb; j++)
			ret = vis->fdb(ctx, v->vni, &v->fdb[j].mac, &v->dsts[v->fdb[j].dst],
				       v->fdb[j].ndst);
		for (size_t j = 0; j < v->nflood && !ret && vis->flood; j++)
			ret = vis->flood(ctx, v->vni, &v->flood[j]);
		for (size_t j = 0; j < v->nneigh && !ret && vis->neigh; j++)
			ret = vis->neigh(ctx, v->vni, &v->neigh[j].ip, &v->neigh[j].mac);
	}
	return ret;
}

/* --- dumps ---------------------------------------------------------------------------------- */

/* One remote of a vxlan FDB entry (NTF_SELF), or one bridge FDB entry (NTF_MASTER). */
struct kfdb {
	struct mac mac;
	uint8_t flags;
	bool odd;                /* port, VNI, ifindex, nexthop, VLAN: not the plain default */
	int ifindex;             /* the vx device, or the bridge port */
	struct ipaddr dst;
};

struct kneigh {
	struct ipaddr ip;
	struct mac mac;
	uint16_t state;
	uint8_t flags, proto;
};

struct vec {
	void *p;
	size_t n, cap, size;
	int err;
};

static void *vec_push(struct vec *v)
{
	if (grow(&v->p, &v->cap, v->n + 1, v->size)) {
		v->err = -ENOMEM;
		return NULL;
	}
	return (char *)v->p + v->size * v->n++;
}

static int fdb_msg(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct kfdb e = { 0 };
	const struct nlattr *a;
	bool have_mac = false;
	struct kfdb *slot;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ndm)) ||
	    ndm->ndm_family != AF_BRIDGE)
		return MNL_CB_OK;
	e.flags = ndm->ndm_flags;
	e.ifindex = ndm->ndm_ifindex;
	mnl_attr_for_each(a, nlh, sizeof(*ndm)) {
		uint16_t len = mnl_attr_get_payload_len(a);

		switch (mnl_attr_get_type(a)) {
		case NDA_LLADDR:
			if (len == MAC_LEN) {
				memcpy(e.mac.b, mnl_attr_get_payload(a), MAC_LEN);
				have_mac = true;
			}
			break;
		case NDA_DST:
			if (len == 4 || len == 16) {
				e.dst.af = len == 4 ? AF_INET : AF_INET6;
				memcpy(e.dst.b, mnl_attr_get_payload(a), len);
			}
			break;
		case NDA_PORT:
		case NDA_VNI:
		case NDA_IFINDEX:
		case NDA_SRC_VNI:
		case NDA_NH_ID:
			e.odd = true;
			break;
		case NDA_VLAN:
			e.odd = len == 2 && mnl_attr_get_u16(a) != 0;
			break;
		case NDA_MASTER:
			/* The bridge's own entries say so by this attribute, not by a flag. */
			if (!(ndm->ndm_flags & NTF_SELF))
				e.flags |= NTF_MASTER;
			break;
		}
	}
	if (!have_mac || !(e.flags & (NTF_SELF | NTF_MASTER)))
		return MNL_CB_OK;
	slot = vec_push(data);
	if (!slot)
		return MNL_CB_ERROR;
	*slot = e;
	return MNL_CB_OK;
}

static int neigh_msg(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct kneigh e = { 0 };
	const struct nlattr *a;
	struct kneigh *slot;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ndm)) ||
	    (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6))
		return MNL_CB_OK;
	e.state = ndm->ndm_state;
	e.flags = ndm->ndm_flags;
	mnl_attr_for_each(a, nlh, sizeof(*ndm)) {
		uint16_t len = mnl_attr_get_payload_len(a);

		switch (mnl_attr_get_type(a)) {
		case NDA_DST:
			if (len == (ndm->ndm_family == AF_INET ? 4 : 16)) {
				e.ip.af = ndm->ndm_family;
				memcpy(e.ip.b, mnl_attr_get_payload(a), len);
			}
			break;
		case NDA_LLADDR:
			if (len == MAC_LEN)
				memcpy(e.mac.b, mnl_attr_get_payload(a), MAC_LEN);
			break;
		case NDA_PROTOCOL:
			if (len == 1)
				e.proto = mnl_attr_get_u8(a);
			break;
		}
	}
	if (!e.ip.af)
		return MNL_CB_OK;
	slot = vec_push(data);
	if (!slot)
		return MNL_CB_ERROR;
	*slot = e;
	return MNL_CB_OK;
}

/* Strict dump requests: the kernel fills only the entries of that device (neighbours) or of
 * that bridge and its ports (FDB: the bridge's own table for every port, which says where a
 * MAC was learnt, and each port's table, the vx device's remotes among them). The bridge and
 * the vxlan driver both resume a dump by skipping the entries already sent, so one costs
 * O(n^2 / 32 KiB): ~1 s for 100k entries here, as `bridge fdb show`. An inconsistent dump
 * (NLM_F_DUMP_INTR) is taken again, a few times. */
static int dump(struct kernel *k, int family, int ifindex, nl_msg_cb cb, struct vec *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int ret = -EINTR;

	for (int tries = 0; tries < 3 && ret == -EINTR; tries++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct ndmsg *ndm;

		out->n = 0;
		out->err = 0;
		nlh->nlmsg_type = RTM_GETNEIGH;
		ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
		ndm->ndm_family = (uint8_t)family;
		mnl_attr_put_u32(nlh, family == AF_BRIDGE ? NDA_MASTER : NDA_IFINDEX,
				 (uint32_t)ifindex);
		ret = nl_dump(&k->nl, nlh, cb, out);
		if (out->err)
			ret = out->err;
	}
	return ret;
}

static int mac_cmp(const struct mac *a, const struct mac *b)
{
	return memcmp(a->b, b->b, MAC_LEN);
}

static int kfdb_cmp(const void *x, const void *y)
{
	const struct kfdb *a = x, *b = y;
	int c = mac_cmp(&a->mac, &b->mac);

	if (!c)
		c = (a->flags & NTF_MASTER) - (b->flags & NTF_MASTER);
	return c ? c : ipaddr_cmp(&a->dst, &b->dst);
}

static int kneigh_cmp(const void *x, const void *y)
{
	return ipaddr_cmp(&((const struct kneigh *)x)->ip, &((const struct kneigh *)y)->ip);
}

static int kd_fdb_cmp(const void *x, const void *y)
{
	const struct kd_fdb *a = x, *b = y;
	int c = mac_cmp(&a->mac, &b->mac);

	return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

static int kd_neigh_cmp(const void *x, const void *y)
{
	const struct kd_neigh *a = x, *b = y;
	int c = ipaddr_cmp(&a->ip, &b->ip);

	return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

static void sort(void *p, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(p, n, size, cmp);
}

static int ip_cmp(const void *x, const void *y)
{
	return ipaddr_cmp(x, y);
}

static bool ip_in(const struct ipaddr *set, size_t n, const struct ipaddr *a)
{
	return n && bsearch(a, set, n, sizeof(*set), ip_cmp);
}

/* Sorted copy, keeping the last of equal keys (sorted after the others by seq). */
static void *sorted_last(const void *src, size_t n, size_t size,
			 int (*cmp)(const void *, const void *),
			 bool (*same)(const void *, const void *), size_t *out_n)
{
	char *p = malloc(n ? n * size : 1);
	size_t m = 0;

	if (!p)
		return NULL;
	if (n)
		memcpy(p, src, n * size);
	sort(p, n, size, cmp);
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && same(p + i * size, p + (i + 1) * size))
			continue;
		memmove(p + m * size, p + i * size, size);
		m++;
	}
	*out_n = m;
	return p;
}

static bool kd_fdb_same(const void *a, const void *b)
{
	return mac_eq(&((const struct kd_fdb *)a)->mac, &((const struct kd_fdb *)b)->mac);
}

static bool kd_neigh_same(const void *a, const void *b)
{
	return ipaddr_eq(&((const struct kd_neigh *)a)->ip, &((const struct kd_neigh *)b)->ip);
}

static bool ip_same(const void *a, const void *b)
{
	return ipaddr_eq(a, b);
}

/* --- reconcile ------------------------------------------------------------------------------ */

static bool ours_fdb(const struct kfdb *e)
{
	return e->flags & NTF_EXT_LEARNED;
}

/* Everything the kernel holds for one MAC: the vx device's remotes, and the bridge's entry. */
struct fdb_group {
	const struct kfdb *self;     /* first remote on the vx device */
	size_t nself;
	bool self_ours;
	const struct kfdb *port;     /* the bridge's entry when it is on the vx port */
	bool port_ours;
	bool elsewhere;              /* the bridge has it on another port (learnt locally) */
};

static size_t fdb_group(const struct kfdb *have, size_t n, int vx, struct fdb_group *g)
{
	size_t i;

	memset(g, 0, sizeof(*g));
	for (i = 0; i < n && mac_eq(&have[i].mac, &have[0].mac); i++) {
		const struct kfdb *e = &have[i];

		if (e->odd && (e->flags & NTF_MASTER))
			continue;  /* another VLAN */
		if ((e->flags & NTF_MASTER) && e->ifindex == vx)
			g->port = e;
		else if (e->flags & NTF_MASTER)
			g->elsewhere = true;
		else if (e->ifindex == vx && g->nself++ == 0)
			g->self = e;
	}
	g->self_ours = g->self && ours_fdb(g->self);
	g->port_ours = g->port && ours_fdb(g->port);
	return i;
}

/* Removes our halves of one MAC; counted once, under counter. */
static void fdb_remove(struct kernel *k, int vx, const struct mac *mac, const struct fdb_group *g,
		       uint32_t *counter)
{
	if (g->self_ours)
		fdb_req(k, RTM_DELNEIGH, 0, NTF_SELF, vx, mac, NULL, counter);
	if (g->port_ours)
		fdb_req(k, RTM_DELNEIGH, 0, NTF_MASTER, vx, mac, NULL,
			g->self_ours ? NULL : counter);
}

/* The unicast part: desired (sorted, unique MACs) against the kernel's entries (sorted by
 * MAC). A unicast MAC of ours is two entries: the vx device's remote, which says which VTEP,
 * and the bridge's, on the vx port (ARP/ND suppression answers only for MACs the bridge
 * knows on a neigh_suppress port, and without it the bridge floods the MAC's frames to its
 * local ports as well). Both go in one request, bridge first. A MAC the bridge holds on
 * another port (learnt locally: the host is here now) or statically is not taken back. */
static void sync_fdb(struct kernel *k, int vx, const struct kd_vni *v, const struct kd_fdb *want,
		     size_t nwant, const struct kfdb *have, size_t nhave, struct kstats *st)
{
	size_t i = 0, j = 0;

	while (i < nwant || j < nhave) {
		const struct kd_fdb *w = i < nwant ? &want[i] : NULL;
		const struct kfdb *h = j < nhave ? &have[j] : NULL;
		int c = !h ? -1 : !w ? 1 : mac_cmp(&w->mac, &h->mac);
		struct fdb_group g = { 0 };
		bool blocked, self_ok;

		if (h && mac_eq(&h->mac, &mac_zero)) {
			j++;
			continue;  /* the flood list */
		}
		if (c >= 0) {
			j += fdb_group(h, nhave - j, vx, &g);
			if (g.self && !g.self_ours)
				st->fdb.foreign += (uint32_t)g.nself;
			if (g.port && !g.port_ours)
				st->fdb.foreign++;
		}
		if (c > 0) {
			fdb_remove(k, vx, &h->mac, &g, &st->fdb.removed);
			continue;
		}
		i++;
		if (g.self && !g.self_ours) {
			st->fdb.conflicts++;
			continue;
		}
		if (w->ndst > 1) {
			st->fdb_flooded++;
			fdb_remove(k, vx, &w->mac, &g, &st->fdb.removed);
			continue;
		}
		blocked = g.elsewhere || (g.port && !g.port_ours);
		self_ok = g.self_ours && g.nself == 1 && !g.self->odd &&
			  ipaddr_eq(&g.self->dst, &v->dsts[w->dst]);
		if (self_ok && (g.port_ours || blocked)) {
			st->fdb.kept++;
			continue;
		}
		fdb_req(k, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE,
			NTF_SELF | NTF_EXT_LEARNED | (blocked ? 0 : NTF_MASTER), vx, &w->mac,
			&v->dsts[w->dst], g.self_ours || g.port_ours ? &st->fdb.updated : &st->fdb.added);
	}
}

static void sync_flood(struct kernel *k, int vx, const struct ipaddr *want, size_t nwant,
		       const struct ipaddr *known, size_t nknown, const struct kfdb *have,
		       size_t nhave, struct kstats *st)
{
	size_t nzero = 0;

	/* Sorted by MAC, remotes first: the flood list's remotes lead. */
	while (nzero < nhave && mac_eq(&have[nzero].mac, &mac_zero) &&
	       !(have[nzero].flags & NTF_MASTER))
		nzero++;
	for (size_t i = 0; i < nzero; i++) {
		const struct ipaddr *dst = &have[i].dst;

		if (have[i].ifindex != vx)
			continue;
		if (ip_in(want, nwant, dst))
			st->flood.kept++;
		else if (ip_in(known, nknown, dst))
			fdb_req(k, RTM_DELNEIGH, 0, NTF_SELF, vx, &mac_zero, dst, &st->flood.removed);
		else
			st->flood.foreign++;
	}
	for (size_t i = 0; i < nwant; i++) {
		bool present = false;

		for (size_t h = 0; h < nzero && !present; h++)
			present = have[h].ifindex == vx && ipaddr_eq(&have[h].dst, &want[i]);
		if (!present)
			fdb_req(k, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_APPEND, NTF_SELF, vx,
				&mac_zero, &want[i], &st->flood.added);
	}
}

/* Configured by someone (admin, another daemon): never ours to change. Entries the kernel
 * resolved itself are its cache and may be replaced. */
static bool configured(const struct kneigh *h)
{
	return h->proto || (h->state & (NUD_PERMANENT | NUD_NOARP));
}

static void sync_neigh(struct kernel *k, int br, const struct kd_neigh *want, size_t nwant,
		       const struct kneigh *have, size_t nhave, struct kstats *st)
{
	size_t i = 0, j = 0;

	while (i < nwant || j < nhave) {
		const struct kneigh *h = j < nhave ? &have[j] : NULL;
		const struct kd_neigh *w = i < nwant ? &want[i] : NULL;
		int c = !h ? -1 : !w ? 1 : ipaddr_cmp(&w->ip, &h->ip);
		bool ours = h && h->proto == KERNEL_RTPROT;

		if (c >= 0) {
			j++;
			if (!ours)
				st->neigh.foreign++;
		}
		if (c > 0) {
			if (ours)
				neigh_req(k, RTM_DELNEIGH, br, &h->ip, NULL, &st->neigh.removed);
			continue;
		}
		i++;
		if (c == 0 && ours && mac_eq(&h->mac, &w->mac) && h->state == NUD_NOARP &&
		    (h->flags & NTF_EXT_LEARNED)) {
			st->neigh.kept++;
			continue;
		}
		if (c == 0 && !ours && configured(h)) {
			st->neigh.conflicts++;
			continue;
		}
		if (c == 0 && !ours)
			st->neigh.foreign--;  /* taken over */
		neigh_req(k, RTM_NEWNEIGH, br, &w->ip, &w->mac,
			  c == 0 && ours ? &st->neigh.updated : &st->neigh.added);
	}
}

static int reconcile_vni(struct kernel *k, const struct kd_vni *v, const struct ipaddr *known,
			 size_t nknown, struct kstats *st)
{
	struct vec fdb = { .size = sizeof(struct kfdb) }, neigh = { .size = sizeof(struct kneigh) };
	struct kd_fdb *want_fdb = NULL;
	struct kd_neigh *want_neigh = NULL;
	struct ipaddr *want_flood = NULL, *all_known = NULL;
	size_t nfdb, nneigh, nflood, nall;
	struct monotime t0 = monotime_now(), t1;
	int vx, br, ret;

	ret = dev_resolve(k, v->vni, true, &vx, &br);
	if (ret < 0) {
		log_err("kernel: vx%u: %s", v->vni, strerror(-ret));
		goto out;
	}
	ret = dump(k, AF_BRIDGE, br, fdb_msg, &fdb);
	if (ret == 0)
		ret = dump(k, AF_UNSPEC, br, neigh_msg, &neigh);
	if (ret < 0) {
		log_err("kernel: vx%u: dump: %s", v->vni, strerror(-ret));
		goto out;
	}
	sort(fdb.p, fdb.n, fdb.size, kfdb_cmp);
	sort(neigh.p, neigh.n, neigh.size, kneigh_cmp);
	want_fdb = sorted_last(v->fdb, v->nfdb, sizeof(*v->fdb), kd_fdb_cmp, kd_fdb_same, &nfdb);
	want_neigh = sorted_last(v->neigh, v->nneigh, sizeof(*v->neigh), kd_neigh_cmp,
				 kd_neigh_same, &nneigh);
	want_flood = sorted_last(v->flood, v->nflood, sizeof(*v->flood), ip_cmp, ip_same, &nflood);
	all_known = malloc((nknown + v->nflood + 1) * sizeof(*all_known));
	if (!want_fdb || !want_neigh || !want_flood || !all_known) {
		ret = -ENOMEM;
		goto out;
	}
	nall = nknown + v->nflood;
	if (nknown)
		memcpy(all_known, known, nknown * sizeof(*known));
	if (v->nflood)
		memcpy(all_known + nknown, v->flood, v->nflood * sizeof(*v->flood));
	sort(all_known, nall, sizeof(*all_known), ip_cmp);

	t1 = monotime_now();
	st->dump_us += monotime_diff_us(t1, t0);
	sync_fdb(k, vx, v, want_fdb, nfdb, fdb.p, fdb.n, st);
	sync_flood(k, vx, want_flood, nflood, all_known, nall, fdb.p, fdb.n, st);
	sync_neigh(k, br, want_neigh, nneigh, neigh.p, neigh.n, st);
	flush(k);
	st->program_us += monotime_diff_us(monotime_now(), t1);
out:
	if (ret < 0)
		st->errors++;
	free(fdb.p);
	free(neigh.p);
	free(want_fdb);
	free(want_neigh);
	free(want_flood);
	free(all_known);
	return ret;
}

int kernel_reconcile(struct kernel *k, const struct kdesired *d,
		     const struct ipaddr *known, size_t n_known, struct kstats *out)
{
	struct kstats st = { 0 };
	int ret = 0;

	/* Whatever incremental operations are queued go first, under their own accounting. */
	flush(k);
	k->stats = &st;
	k->first_err = 0;
	for (size_t i = 0; i < d->n; i++) {
		int r = reconcile_vni(k, &d->v[i], known, n_known, &st);

		if (r < 0 && !ret)
			ret = r;
	}
	k->stats = NULL;
	if (!ret)
		ret = k->first_err;
	k->first_err = 0;
	k->refused = 0;
	if (out)
		*out = st;
	return ret;
}

int kernel_dump(struct kernel *k, uint32_t vni, const struct ipaddr *known, size_t n_known,
		struct kdesired *out)
{
	struct vec fdb = { .size = sizeof(struct kfdb) }, neigh = { .size = sizeof(struct kneigh) };
	struct ipaddr *set = NULL;
	int vx, br, ret;

	ret = dev_resolve(k, vni, true, &vx, &br);
	if (ret == 0)
		ret = kdesired_vni(out, vni);
	if (ret == 0)
		ret = dump(k, AF_BRIDGE, br, fdb_msg, &fdb);
	if (ret == 0)
		ret = dump(k, AF_UNSPEC, br, neigh_msg, &neigh);
	if (ret == 0 && known) {
		set = malloc((n_known + 1) * sizeof(*set));
		if (!set)
			ret = -ENOMEM;
		else if (n_known)
			memcpy(set, known, n_known * sizeof(*set));
		if (set)
			sort(set, n_known, sizeof(*set), ip_cmp);
	}
	sort(fdb.p, fdb.n, fdb.size, kfdb_cmp);
	sort(neigh.p, neigh.n, neigh.size, kneigh_cmp);
	for (size_t i = 0; i < fdb.n && ret == 0; i++) {
		const struct kfdb *e = (const struct kfdb *)fdb.p + i;

		if (e->ifindex != vx || (e->flags & NTF_MASTER))
			continue;
		if (mac_eq(&e->mac, &mac_zero)) {
			if (!known || ip_in(set, n_known, &e->dst))
				ret = kdesired_flood(out, vni, &e->dst);
		} else if (ours_fdb(e) && e->dst.af) {
			ret = kdesired_fdb(out, vni, &e->mac, &e->dst, 1);
		}
	}
	for (size_t i = 0; i < neigh.n && ret == 0; i++) {
		const struct kneigh *e = (const struct kneigh *)neigh.p + i;

		if (e->proto == KERNEL_RTPROT)
			ret = kdesired_neigh(out, vni, &e->ip, &e->mac);
	}
	free(set);
	free(fdb.p);
	free(neigh.p);
	return ret;
}

/* --- incremental operations ----------------------------------------------------------------- */

int kernel_fdb_set(struct kernel *k, uint32_t vni, const struct mac *mac,
		   const struct ipaddr *dst)
{
	int vx, br, ret = dev_resolve(k, vni, false, &vx, &br);

	if (ret == 0)
		fdb_req(k, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE,
			NTF_SELF | NTF_MASTER | NTF_EXT_LEARNED, vx, mac, dst, NULL);
	return ret;
}

int kernel_fdb_del(struct kernel *k, uint32_t vni, const struct mac *mac,
		   const struct ipaddr *dst)
{
	int vx, br, ret = dev_resolve(k, vni, false, &vx, &br);

	if (ret == 0)
		fdb_req(k, RTM_DELNEIGH, 0, NTF_SELF, vx, mac, dst, NULL);
	if (ret == 0 && !mac_eq(mac, &mac_zero))
		fdb_req(k, RTM_DELNEIGH, 0, NTF_MASTER, vx, mac, NULL, NULL);
	return ret;
}

int kernel_flood_add(struct kernel *k, uint32_t vni, const struct ipaddr *dst)
{
	int vx, br, ret = dev_resolve(k, vni, false, &vx, &br);

	if (ret == 0)
		fdb_req(k, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_APPEND, NTF_SELF, vx, &mac_zero, dst,
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
	int vx, br, ret = dev_resolve(k, vni, false, &vx, &br);

	if (ret == 0)
		neigh_req(k, RTM_NEWNEIGH, br, ip, mac, NULL);
	return ret;
}

int kernel_neigh_del(struct kernel *k, uint32_t vni, const struct ipaddr *ip)
{
	int vx, br, ret = dev_resolve(k, vni, false, &vx, &br);

	if (ret == 0)
		neigh_req(k, RTM_DELNEIGH, br, ip, NULL, NULL);
	return ret;
}

int kernel_commit(struct kernel *k)
{
	int ret = flush(k);
	uint32_t n = k->refused;

	k->refused = 0;
	k->first_err = 0;
	return ret < 0 ? ret : (int)n;
}

void kernel_counters(const struct kernel *k, struct kcounters *out)
{
	*out = k->total;
}

/* --- open / close --------------------------------------------------------------------------- */

int kernel_open(struct kernel **out)
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
		ret = nl_batch_init(&k->batch, &k->nl, BATCH_BYTES, on_refused, k);
	if (ret < 0)
		goto fail;
	k->undo = calloc(k->batch.cap / MIN_REQUEST + 1, sizeof(*k->undo));
	if (!k->undo) {
		ret = -ENOMEM;
		goto fail;
	}
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
	if (k->batch.buf)
		flush(k);
	nl_batch_free(&k->batch);
	nl_close(&k->nl);
	free(k->undo);
	free(k->devs);
	free(k);
}
