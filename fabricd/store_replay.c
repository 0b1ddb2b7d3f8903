/*
 * store_replay.c - one StoreRecord of fabricd's journal applied to the directory, checked as
 * strictly as the API checks a request (a record is only as good as the disk it came from):
 * what a start-up replays, and what fuzz_store throws garbage at. No I/O here.
 */
#include <errno.h>
#include <string.h>
#include "store_replay.h"

static bool id_ok(const char *s)
{
	size_t n = 0;

	for (; s && s[n]; n++)
		if (n >= DIR_HOST_ID_MAX || s[n] <= 0x20 || s[n] >= 0x7f)
			return false;
	return n > 0;
}

static bool addr_ok(const ProtobufCBinaryData *b)
{
	return b->len == 4 || b->len == 16;
}

/* A port of a record into the directory: what api.c's port add does, checked the same way
 * (a record is only as good as the disk it came from). */
int store_apply_port(struct directory *d, const L2f__Port *p, const char **why)
{
	struct ipaddr ips[DIR_MAX_IPS];
	uint16_t hosts[DIR_MAX_PORT_HOSTS];
	struct binding *b;

	if (p->mac.len != MAC_LEN || p->vni > VNI_MAX || p->n_ips > DIR_MAX_IPS ||
	    p->n_hosts < 1 || p->n_hosts > DIR_MAX_PORT_HOSTS || (p->name && !id_ok(p->name))) {
		*why = "port record out of bounds";
		return -EINVAL;
	}
	for (size_t i = 0; i < p->n_ips; i++) {
		if (!addr_ok(&p->ips[i])) {
			*why = "port record with an address not 4 or 16 bytes";
			return -EINVAL;
		}
		wire_ipaddr(&ips[i], &p->ips[i]);
	}
	for (size_t i = 0; i < p->n_hosts; i++) {
		int h = id_ok(p->hosts[i]) ? dir_host(d, p->hosts[i]) : -EINVAL;

		if (h < 0) {
			*why = "port record with a bad host";
			return h;
		}
		hosts[i] = (uint16_t)h;
	}
	if (dir_port_set(d, p->vni, p->mac.data, ips, p->n_ips, hosts, p->n_hosts,
			 p->has_mode && p->mode == L2F__HA_MODE__HA_FLOOD, p->name, &b) < 0) {
		*why = "port record refused by the directory";
		return -EINVAL;
	}
	return 0;
}

int store_apply_host(struct directory *d, const L2f__Host *h, const char **why)
{
	int idx;

	if (!id_ok(h->id) || (h->has_vtep && !addr_ok(&h->vtep)) || h->n_vnis > DIR_MAX_VNIS) {
		*why = "host record out of bounds";
		return -EINVAL;
	}
	for (size_t i = 0; i < h->n_vnis; i++) {
		if (h->vnis[i] > VNI_MAX) {
			*why = "host record with a VNI over 2^24-1";
			return -EINVAL;
		}
	}
	idx = dir_host(d, h->id);
	if (idx < 0 || dir_host_set_vnis(d, (uint16_t)idx, h->vnis, h->n_vnis) < 0) {
		*why = "no room for the host";
		return -ENOMEM;
	}
	memset(&d->hosts[idx].vtep, 0, sizeof(d->hosts[idx].vtep));
	if (h->has_vtep)
		wire_ipaddr(&d->hosts[idx].vtep, &h->vtep);
	return 0;
}

struct named_ctx {
	uint16_t h;
	bool named;
};

static int names_host(struct binding *b, void *arg)
{
	struct named_ctx *c = arg;

	c->named = dir_binding_on_host(b, c->h);
	return c->named;
}

/* A host expired: nothing may still name it (its API ports went before it). */
static int load_host_del(struct directory *d, const char *id, const char **why)
{
	struct named_ctx c = { 0 };
	int h = dir_host_find(d, id);

	if (h < 0)
		return 0;
	c.h = (uint16_t)h;
	dir_foreach(d, names_host, &c);
	if (c.named) {
		*why = "host deleted while a port names it";
		return -EINVAL;
	}
	dir_host_del(d, (uint16_t)h);
	return 0;
}

int store_replay(struct directory *d, const uint8_t *rec, size_t len, const char **why)
{
	L2f__StoreRecord *r = l2f__store_record__unpack(NULL, len, rec);
	struct binding *b;
	int ret = 0;

	if (!r) {
		*why = "record does not decode";
		return -EBADMSG;
	}
	switch (r->op_case) {
	case L2F__STORE_RECORD__OP_PORT_SET:
		ret = store_apply_port(d, r->port_set, why);
		break;
	case L2F__STORE_RECORD__OP_PORT_DEL:
		if (r->port_del->mac.len != MAC_LEN) {
			*why = "port deletion with a MAC not 6 bytes";
			ret = -EINVAL;
		} else {
			/* deleted twice, or never there: the state is the same either way */
			(void)dir_port_del(d, r->port_del->vni, r->port_del->mac.data, &b);
		}
		break;
	case L2F__STORE_RECORD__OP_HOST_SET:
		ret = store_apply_host(d, r->host_set, why);
		break;
	case L2F__STORE_RECORD__OP_HOST_DEL:
		ret = load_host_del(d, r->host_del, why);
		break;
	default:
		*why = "record of an unknown kind";
		ret = -EBADMSG;
	}
	l2f__store_record__free_unpacked(r, NULL);
	return ret;
}
