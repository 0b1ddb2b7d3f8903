/*
 * validate.c - what a decoded Envelope must satisfy beyond protobuf's own rules (wire_validate)
 * and the decoder every received frame goes through (wire_decode). Each check names what it
 * rejects: the reason ends up in the log line of the session it closed. No I/O here, so the
 * fuzzer links this file alone with the generated code.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "wire.h"

static int bad(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EBADMSG;
}

static bool mac_ok(const ProtobufCBinaryData *b)
{
	return b->len == 6;
}

static bool addr_ok(const ProtobufCBinaryData *b)
{
	return b->len == 4 || b->len == 16;
}

/* ids 1..WIRE_ID_MAX bytes of printable ASCII other than space (they end up in log lines as
 * one word) */
static bool id_ok(const char *s)
{
	size_t n;

	if (!s)
		return false;
	for (n = 0; s[n]; n++)
		if (n >= WIRE_ID_MAX || s[n] <= 0x20 || s[n] >= 0x7f)
			return false;
	return n > 0;
}

static bool addrs_ok(const ProtobufCBinaryData *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!addr_ok(&v[i]))
			return false;
	return true;
}

static bool vnis_ok(const uint32_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] > VNI_MAX)
			return false;
	return true;
}

static int check_hello(const L2f__Hello *h, const char **why)
{
	if (!h)
		return bad(why, "Hello missing");
	if (h->role < L2F__ROLE__ROLE_VTEPD || h->role > L2F__ROLE__ROLE_FABRICD)
		return bad(why, "Hello with an unknown role");
	if (!id_ok(h->id))
		return bad(why, "Hello id empty, too long or not printable");
	if (h->has_vtep && !addr_ok(&h->vtep))
		return bad(why, "Hello VTEP address not 4 or 16 bytes");
	if (!vnis_ok(h->vnis, h->n_vnis))
		return bad(why, "Hello VNI over 2^24-1");
	return 0;
}

static int check_fdbs(L2f__Fdb *const *v, size_t n, const char **why)
{
	for (size_t i = 0; i < n; i++) {
		const L2f__Fdb *f = v[i];

		if (!f)
			return bad(why, "Fdb missing");
		if (f->vni > VNI_MAX)
			return bad(why, "Fdb VNI over 2^24-1");
		if (!mac_ok(&f->mac))
			return bad(why, "Fdb MAC not 6 bytes");
		if (!addrs_ok(f->vteps, f->n_vteps))
			return bad(why, "Fdb VTEP address not 4 or 16 bytes");
		if (!addrs_ok(f->ips, f->n_ips))
			return bad(why, "Fdb IP address not 4 or 16 bytes");
	}
	return 0;
}

static int check_floods(L2f__Flood *const *v, size_t n, const char **why)
{
	for (size_t i = 0; i < n; i++) {
		if (!v[i])
			return bad(why, "Flood missing");
		if (v[i]->vni > VNI_MAX)
			return bad(why, "Flood VNI over 2^24-1");
		if (!addrs_ok(v[i]->vteps, v[i]->n_vteps))
			return bad(why, "Flood VTEP address not 4 or 16 bytes");
	}
	return 0;
}

static int check_update(const L2f__Update *u, const char **why)
{
	int ret;

	if (!u)
		return bad(why, "Update missing");
	ret = check_fdbs(u->add, u->n_add, why);
	if (!ret)
		ret = check_fdbs(u->del, u->n_del, why);
	if (!ret)
		ret = check_floods(u->flood, u->n_flood, why);
	return ret;
}

static int check_report(const L2f__Report *r, const char **why)
{
	if (!r)
		return bad(why, "Report missing");
	for (size_t i = 0; i < r->n_entries; i++) {
		const L2f__Learned *l = r->entries[i];

		if (!l)
			return bad(why, "Learned missing");
		if (l->vni > VNI_MAX)
			return bad(why, "Learned VNI over 2^24-1");
		if (!mac_ok(&l->mac))
			return bad(why, "Learned MAC not 6 bytes");
		if (!addrs_ok(l->ips, l->n_ips))
			return bad(why, "Learned IP address not 4 or 16 bytes");
	}
	return 0;
}

static int check_master(const L2f__Master *m, const char **why)
{
	if (!m)
		return bad(why, "Master missing");
	if (m->vni > VNI_MAX)
		return bad(why, "Master VNI over 2^24-1");
	if (!mac_ok(&m->mac))
		return bad(why, "Master MAC not 6 bytes");
	if (!id_ok(m->host))
		return bad(why, "Master host empty, too long or not printable");
	return 0;
}

static int check_port(const L2f__Port *p, const char **why)
{
	if (!p)
		return bad(why, "Port missing");
	if (p->name && !id_ok(p->name))
		return bad(why, "Port name empty, too long or not printable");
	if (p->vni > VNI_MAX)
		return bad(why, "Port VNI over 2^24-1");
	if (!mac_ok(&p->mac))
		return bad(why, "Port MAC not 6 bytes");
	if (!addrs_ok(p->ips, p->n_ips))
		return bad(why, "Port IP address not 4 or 16 bytes");
	for (size_t i = 0; i < p->n_hosts; i++)
		if (!id_ok(p->hosts[i]))
			return bad(why, "Port host empty, too long or not printable");
	if (p->has_mode && p->mode != L2F__HA_MODE__HA_TRACK && p->mode != L2F__HA_MODE__HA_FLOOD)
		return bad(why, "Port with an unknown HA mode");
	if (p->master && !id_ok(p->master))
		return bad(why, "Port master empty, too long or not printable");
	return 0;
}

static int check_request(const L2f__Request *r, const char **why)
{
	if (!r)
		return bad(why, "Request missing");
	switch (r->op_case) {
	case L2F__REQUEST__OP_PORT_ADD:
		return check_port(r->port_add, why);
	case L2F__REQUEST__OP_PORT_DEL:
		return check_port(r->port_del, why);
	case L2F__REQUEST__OP_PORT_MASTER:
		return check_master(r->port_master, why);
	case L2F__REQUEST__OP_FDB_OF_HOST:
		return id_ok(r->fdb_of_host) ? 0 :
		       bad(why, "Request host empty, too long or not printable");
	case L2F__REQUEST__OP_PORT_LIST:
	case L2F__REQUEST__OP_HOST_LIST:
		return 0;
	default:
		return bad(why, "Request with no op");
	}
}

static int check_reply(const L2f__Reply *r, const char **why)
{
	int ret;

	if (!r)
		return bad(why, "Reply missing");
	for (size_t i = 0; i < r->n_ports; i++) {
		ret = check_port(r->ports[i], why);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < r->n_hosts; i++) {
		const L2f__Host *h = r->hosts[i];

		if (!h)
			return bad(why, "Host missing");
		if (!id_ok(h->id))
			return bad(why, "Host id empty, too long or not printable");
		if (h->has_vtep && !addr_ok(&h->vtep))
			return bad(why, "Host VTEP address not 4 or 16 bytes");
		if (!vnis_ok(h->vnis, h->n_vnis))
			return bad(why, "Host VNI over 2^24-1");
	}
	ret = check_fdbs(r->fdb, r->n_fdb, why);
	if (!ret)
		ret = check_floods(r->flood, r->n_flood, why);
	return ret;
}

/* protobuf-c takes field number 0 (illegal) as an unknown field when its tag is spelled in two
 * bytes, but refuses the one-byte form it writes back: such a message could not be relayed.
 * Walks m and every sub-message present through the descriptors. */
static bool field_numbers_ok(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;

	for (unsigned int i = 0; i < m->n_unknown_fields; i++)
		if (m->unknown_fields[i].tag == 0)
			return false;
	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		ProtobufCMessage *const *v;
		size_t n = 1;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		/* a oneof's members share one union: only the member set is a message */
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)(base + f->quantifier_offset);
			v = *(ProtobufCMessage *const *const *)(base + f->offset);
		} else {
			v = (ProtobufCMessage *const *)(base + f->offset);
		}
		for (size_t j = 0; j < n; j++)
			if (v[j] && !field_numbers_ok(v[j]))
				return false;
	}
	return true;
}

int wire_validate(const L2f__Envelope *env, const char **why)
{
	if (!env)
		return bad(why, "Envelope missing");
	if (!field_numbers_ok(&env->base))
		return bad(why, "field number 0");
	switch (env->msg_case) {
	case L2F__ENVELOPE__MSG_HELLO:
		return check_hello(env->hello, why);
	case L2F__ENVELOPE__MSG_UPDATE:
		return check_update(env->update, why);
	case L2F__ENVELOPE__MSG_REPORT:
		return check_report(env->report, why);
	case L2F__ENVELOPE__MSG_MASTER:
		return check_master(env->master, why);
	case L2F__ENVELOPE__MSG_REQUEST:
		return check_request(env->request, why);
	case L2F__ENVELOPE__MSG_REPLY:
		return check_reply(env->reply, why);
	default:
		return bad(why, "Envelope with no message");
	}
}

int wire_decode(const uint8_t *buf, size_t len, L2f__Envelope **out, const char **why)
{
	L2f__Envelope *env;
	int ret;

	env = l2f__envelope__unpack(NULL, len, buf);
	if (!env)
		return bad(why, "frame does not decode");
	ret = wire_validate(env, why);
	if (ret) {
		l2f__envelope__free_unpacked(env, NULL);
		return ret;
	}
	*out = env;
	return 0;
}
