/*
 * kdump.c - reading back the kernel's tables: the FDB of a bridge and its ports (the vx
 * device's remotes among them) and the neighbours of a device, as strict dumps; and
 * kernel_dump, what of them is ours (see kernel.h).
 */
#include "kernel_int.h"

static void *vec_push(struct vec *v)
{
	if (grow(&v->p, &v->cap, v->n + 1, v->size)) {
		v->err = -ENOMEM;
		return NULL;
	}
	return (char *)v->p + v->size * v->n++;
}

int k_fdb_msg(const struct nlmsghdr *nlh, void *data)
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

int k_neigh_msg(const struct nlmsghdr *nlh, void *data)
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
int k_dump(struct kernel *k, int family, int ifindex, nl_msg_cb cb, struct vec *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int ret = -EINTR;

	k_push(k);  /* the dump shows what was queued before it */
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

/* One entry, asked for (no dump): the neighbour ip on ifindex, or the FDB entry of mac in the
 * vxlan driver's table of ifindex (NTF_SELF) or in the bridge ifindex is a port of
 * (NTF_MASTER, wherever the bridge has it). Added to out (a vec as k_dump's, not emptied):
 * nothing when the kernel has no such entry. */
int k_get(struct kernel *k, int family, int ifindex, uint8_t flags, const struct mac *mac,
	  const struct ipaddr *ip, nl_msg_cb cb, struct vec *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm;
	int ret;

	nlh->nlmsg_type = RTM_GETNEIGH;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = (uint8_t)family;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_flags = flags;
	if (mac)
		mnl_attr_put(nlh, NDA_LLADDR, MAC_LEN, mac->b);
	if (ip)
		mnl_attr_put(nlh, NDA_DST, ipaddr_len(ip), ip->b);
	out->err = 0;
	k_push(k);
	ret = nl_request_cb(&k->nl, nlh, cb, out);
	if (out->err)
		return out->err;
	return ret == -ENOENT ? 0 : ret;
}

int kernel_dump(struct kernel *k, uint32_t vni, const struct ipaddr *known, size_t n_known,
		struct kdesired *out)
{
	struct vec fdb = { .size = sizeof(struct kfdb) }, neigh = { .size = sizeof(struct kneigh) };
	struct ipaddr *set = NULL;
	int vx, br, ret;

	ret = k_dev_resolve(k, vni, true, &vx, &br);
	if (ret == 0)
		ret = kdesired_vni(out, vni);
	if (ret == 0)
		ret = k_dump(k, AF_BRIDGE, br, k_fdb_msg, &fdb);
	if (ret == 0)
		ret = k_dump(k, AF_UNSPEC, br, k_neigh_msg, &neigh);
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
