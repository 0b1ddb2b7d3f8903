/*
 * kdesired.c - the desired state vtepd hands to kernel_reconcile (see kernel.h): a plain list
 * per VNI of unicast FDB MACs (with their dsts), flood dsts and neighbours, in insertion order.
 */
#include "kernel_int.h"

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
