/*
 * buf.c - bounds-checked reader and writer of network-order fields (see buf.h). A short read
 * or write sets err, returns -1 and touches neither the output nor the position.
 */
#include <string.h>
#include <arpa/inet.h>
#include "buf.h"

void rbuf_init(struct rbuf *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = false;
}

size_t rbuf_left(const struct rbuf *r)
{
	return r->len - r->off;
}

const uint8_t *rbuf_cur(const struct rbuf *r)
{
	return r->p + r->off;
}

int rbuf_bytes(struct rbuf *r, void *dst, size_t n)
{
	if (n > rbuf_left(r)) {
		r->err = true;
		return -1;
	}
	if (n)
		memcpy(dst, r->p + r->off, n);
	r->off += n;
	return 0;
}

int rbuf_skip(struct rbuf *r, size_t n)
{
	if (n > rbuf_left(r)) {
		r->err = true;
		return -1;
	}
	r->off += n;
	return 0;
}

int rbuf_u8(struct rbuf *r, uint8_t *v)
{
	return rbuf_bytes(r, v, 1);
}

int rbuf_u16(struct rbuf *r, uint16_t *v)
{
	uint16_t n;

	if (rbuf_bytes(r, &n, sizeof(n)) < 0)
		return -1;
	*v = ntohs(n);
	return 0;
}

int rbuf_u32(struct rbuf *r, uint32_t *v)
{
	uint32_t n;

	if (rbuf_bytes(r, &n, sizeof(n)) < 0)
		return -1;
	*v = ntohl(n);
	return 0;
}

void wbuf_init(struct wbuf *w, void *p, size_t cap)
{
	w->p = p;
	w->cap = cap;
	w->off = 0;
	w->err = false;
}

/* Reserves n bytes at the current position: a pointer to them, or NULL with err set. */
static uint8_t *wbuf_take(struct wbuf *w, size_t n)
{
	uint8_t *at;

	if (n > w->cap - w->off) {
		w->err = true;
		return NULL;
	}
	at = w->p + w->off;
	w->off += n;
	return at;
}

int wbuf_bytes(struct wbuf *w, const void *src, size_t n)
{
	uint8_t *at = wbuf_take(w, n);

	if (!at)
		return -1;
	if (n)
		memcpy(at, src, n);
	return 0;
}

int wbuf_zero(struct wbuf *w, size_t n)
{
	uint8_t *at = wbuf_take(w, n);

	if (!at)
		return -1;
	if (n)
		memset(at, 0, n);
	return 0;
}

int wbuf_u8(struct wbuf *w, uint8_t v)
{
	return wbuf_bytes(w, &v, 1);
}

int wbuf_u16(struct wbuf *w, uint16_t v)
{
	uint16_t n = htons(v);

	return wbuf_bytes(w, &n, sizeof(n));
}

int wbuf_u32(struct wbuf *w, uint32_t v)
{
	uint32_t n = htonl(v);

	return wbuf_bytes(w, &n, sizeof(n));
}

int wbuf_patch_u16(struct wbuf *w, size_t at, uint16_t v)
{
	uint16_t n = htons(v);

	if (at > w->off || w->off - at < sizeof(n)) {
		w->err = true;
		return -1;
	}
	memcpy(w->p + at, &n, sizeof(n));
	return 0;
}
