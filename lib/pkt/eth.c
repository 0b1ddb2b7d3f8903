/* eth.c - Ethernet II header parse and build, and padding to the 60-byte minimum frame. */
#include "pkt/drop.h"
#include "pkt/eth.h"

int eth_parse(const uint8_t *p, size_t len, struct eth_hdr *out)
{
	struct rbuf r;

	rbuf_init(&r, p, len);
	rbuf_bytes(&r, out->dst.b, MAC_LEN);
	rbuf_bytes(&r, out->src.b, MAC_LEN);
	rbuf_u16(&r, &out->type);
	return r.err ? -PKT_DROP_TRUNCATED : 0;
}

int eth_build(struct wbuf *w, const struct mac *dst, const struct mac *src, uint16_t type)
{
	wbuf_bytes(w, dst->b, MAC_LEN);
	wbuf_bytes(w, src->b, MAC_LEN);
	wbuf_u16(w, type);
	return w->err ? -1 : 0;
}

int eth_pad(struct wbuf *w)
{
	if (w->off < ETH_MIN_FRAME)
		wbuf_zero(w, ETH_MIN_FRAME - w->off);
	return w->err ? -1 : 0;
}
