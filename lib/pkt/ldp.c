/*
 * ldp.c - PortLand LDP messages (see ldp.h for the layout): parse with checks in a fixed
 * order - length, version, type, the type's exact length, reserved bits, field ranges, the
 * sender's identity - each a named drop; build the same layout, refusing what parse rejects.
 * What the paper fixes (SIGCOMM 2009, 3.4): a core never sets a pod, only an edge has a
 * position, an edge's ports face up and a core's down; the proposal of Algorithm 2 comes from
 * an edge and its answer from an aggregation switch.
 */
#include <errno.h>
#include <string.h>
#include "buf.h"
#include "pkt/drop.h"
#include "pkt/eth.h"
#include "pkt/ldp.h"

#define LDP_F_KNOWN (LDP_F_POD | LDP_F_POS)

const struct mac ldp_group = { { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e } };

const char *ldp_level_name(enum ldp_level l)
{
	switch (l) {
	case LDP_LEVEL_UNKNOWN:
		return "unknown";
	case LDP_LEVEL_EDGE:
		return "edge";
	case LDP_LEVEL_AGG:
		return "aggregation";
	case LDP_LEVEL_CORE:
		return "core";
	}
	return "?";
}

const char *ldp_dir_name(enum ldp_dir d)
{
	switch (d) {
	case LDP_DIR_UNKNOWN:
		return "unknown";
	case LDP_DIR_UP:
		return "up";
	case LDP_DIR_DOWN:
		return "down";
	}
	return "?";
}

static size_t type_len(unsigned type)
{
	switch (type) {
	case LDP_TYPE_LDM:
		return LDP_HDR_LEN;
	case LDP_TYPE_PROPOSE:
		return LDP_PROPOSE_LEN;
	case LDP_TYPE_REPLY:
		return LDP_REPLY_LEN;
	}
	return 0;
}

/* The rules of the paper that tie the fields together (see the file header). */
static bool fields_consistent(const struct ldp_msg *m)
{
	if (m->level > LDP_LEVEL_CORE || m->dir > LDP_DIR_DOWN)
		return false;
	if (m->pod != LDP_NONE && (m->pod < 0 || m->pod > PMAC_POD_MAX ||
				   (m->level != LDP_LEVEL_EDGE && m->level != LDP_LEVEL_AGG)))
		return false;
	if (m->position != LDP_NONE &&
	    (m->position < 0 || m->position > 255 || m->level != LDP_LEVEL_EDGE))
		return false;
	if ((m->level == LDP_LEVEL_UNKNOWN && m->dir != LDP_DIR_UNKNOWN) ||
	    (m->level == LDP_LEVEL_EDGE && m->dir == LDP_DIR_DOWN) ||
	    (m->level == LDP_LEVEL_CORE && m->dir == LDP_DIR_UP))
		return false;
	if (m->type == LDP_TYPE_PROPOSE && m->level != LDP_LEVEL_EDGE)
		return false;
	if (m->type == LDP_TYPE_REPLY &&
	    (m->level != LDP_LEVEL_AGG || (m->verdict != LDP_ACCEPT && m->verdict != LDP_DENY)))
		return false;
	return true;
}

struct raw_hdr {
	uint8_t version, type, level, dir, port, flags, position;
	uint16_t length, pod;
	uint8_t rsvd[3];
};

static void read_hdr(struct rbuf *r, struct raw_hdr *h, struct ldp_msg *m)
{
	rbuf_u8(r, &h->version);
	rbuf_u8(r, &h->type);
	rbuf_u16(r, &h->length);
	rbuf_bytes(r, m->switch_id.b, MAC_LEN);
	rbuf_u8(r, &h->level);
	rbuf_u8(r, &h->dir);
	rbuf_u8(r, &h->port);
	rbuf_u8(r, &h->flags);
	rbuf_u16(r, &h->pod);
	rbuf_u8(r, &h->position);
	rbuf_bytes(r, h->rsvd, sizeof(h->rsvd));
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* The PROPOSE / REPLY body; false when a reserved byte is set. */
static bool read_body(struct rbuf *r, struct ldp_msg *m)
{
	uint8_t rsvd[3] = { 0 }, verdict = 0, rsvd2[2] = { 0 };

	rbuf_u8(r, &m->proposal);
	if (m->type == LDP_TYPE_PROPOSE) {
		rbuf_bytes(r, rsvd, 3);
		rbuf_u32(r, &m->nonce);
		return all_zero(rsvd, 3);
	}
	rbuf_u8(r, &verdict);
	rbuf_bytes(r, rsvd, 2);
	rbuf_u32(r, &m->nonce);
	rbuf_bytes(r, m->proposer.b, MAC_LEN);
	rbuf_bytes(r, rsvd2, 2);
	m->verdict = verdict;
	return all_zero(rsvd, 2) && all_zero(rsvd2, 2);
}

int ldp_parse(const uint8_t *p, size_t len, struct ldp_msg *out)
{
	struct ldp_msg m = { 0 };
	struct raw_hdr h;
	struct rbuf r;
	bool rsvd_ok;

	rbuf_init(&r, p, len);
	read_hdr(&r, &h, &m);
	if (r.err)
		return -PKT_DROP_TRUNCATED;
	if (h.version != LDP_VERSION)
		return -PKT_DROP_LDP_VERSION;
	if (!type_len(h.type))
		return -PKT_DROP_LDP_TYPE;
	if (h.length > len)
		return -PKT_DROP_TRUNCATED;
	if (h.length != type_len(h.type))
		return -PKT_DROP_LDP_LENGTH;
	m.type = h.type;
	rsvd_ok = all_zero(h.rsvd, sizeof(h.rsvd)) && !(h.flags & ~LDP_F_KNOWN) &&
		  (h.flags & LDP_F_POD || h.pod == 0) && (h.flags & LDP_F_POS || h.position == 0);
	if (m.type != LDP_TYPE_LDM && !read_body(&r, &m))
		rsvd_ok = false;
	if (!rsvd_ok)
		return -PKT_DROP_LDP_RESERVED;
	m.level = h.level;
	m.dir = h.dir;
	m.port = h.port;
	m.pod = h.flags & LDP_F_POD ? h.pod : LDP_NONE;
	m.position = h.flags & LDP_F_POS ? h.position : LDP_NONE;
	if (!fields_consistent(&m))
		return -PKT_DROP_LDP_RANGE;
	if (!mac_is_port(&m.switch_id) ||
	    (m.type == LDP_TYPE_REPLY && !mac_is_port(&m.proposer)))
		return -PKT_DROP_LDP_SWITCH_ID;
	*out = m;
	return 0;
}

static void write_body(struct wbuf *w, const struct ldp_msg *m)
{
	wbuf_u8(w, m->proposal);
	if (m->type == LDP_TYPE_PROPOSE) {
		wbuf_zero(w, 3);
		wbuf_u32(w, m->nonce);
		return;
	}
	wbuf_u8(w, (uint8_t)m->verdict);
	wbuf_zero(w, 2);
	wbuf_u32(w, m->nonce);
	wbuf_bytes(w, m->proposer.b, MAC_LEN);
	wbuf_zero(w, 2);
}

static ssize_t write_msg(struct wbuf *w, const struct ldp_msg *m)
{
	size_t len = type_len(m->type), start = w->off;
	uint8_t flags = 0;

	if (!len || !fields_consistent(m) || !mac_is_port(&m->switch_id) ||
	    (m->type == LDP_TYPE_REPLY && !mac_is_port(&m->proposer)))
		return -EINVAL;
	flags |= m->pod != LDP_NONE ? LDP_F_POD : 0;
	flags |= m->position != LDP_NONE ? LDP_F_POS : 0;
	wbuf_u8(w, LDP_VERSION);
	wbuf_u8(w, (uint8_t)m->type);
	wbuf_u16(w, (uint16_t)len);
	wbuf_bytes(w, m->switch_id.b, MAC_LEN);
	wbuf_u8(w, (uint8_t)m->level);
	wbuf_u8(w, (uint8_t)m->dir);
	wbuf_u8(w, m->port);
	wbuf_u8(w, flags);
	wbuf_u16(w, m->pod == LDP_NONE ? 0 : (uint16_t)m->pod);
	wbuf_u8(w, m->position == LDP_NONE ? 0 : (uint8_t)m->position);
	wbuf_zero(w, 3);
	if (m->type != LDP_TYPE_LDM)
		write_body(w, m);
	if (w->err)
		return -ENOSPC;
	return (ssize_t)(w->off - start);
}

ssize_t ldp_build(uint8_t *buf, size_t cap, const struct ldp_msg *m)
{
	struct wbuf w;

	wbuf_init(&w, buf, cap);
	return write_msg(&w, m);
}

ssize_t ldp_build_frame(uint8_t *buf, size_t cap, const struct mac *src, const struct ldp_msg *m)
{
	struct wbuf w;
	ssize_t n;

	wbuf_init(&w, buf, cap);
	eth_build(&w, &ldp_group, src, ETHERTYPE_LDP);
	n = write_msg(&w, m);
	if (n < 0)
		return n;
	eth_pad(&w);
	if (w.err)
		return -ENOSPC;
	return (ssize_t)w.off;
}
