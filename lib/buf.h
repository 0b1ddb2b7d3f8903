/*
 * buf.h - bounds-checked reader and writer of network-order fields.
 * Every read from a frame goes through an rbuf: a short read returns -1, sets err and leaves
 * the output untouched, so a parser checks once or after each field. Values are copied with
 * memcpy, never through unaligned casts. A wbuf accumulates overflow in err the same way
 * (builders check once at the end).
 */
#ifndef L2_BUF_H
#define L2_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rbuf {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool err;
};

struct wbuf {
	uint8_t *p;
	size_t cap;
	size_t off;
	bool err;
};

void rbuf_init(struct rbuf *r, const void *p, size_t len);
size_t rbuf_left(const struct rbuf *r);
/* Pointer to the current position (valid for rbuf_left() bytes). */
const uint8_t *rbuf_cur(const struct rbuf *r);
int rbuf_u8(struct rbuf *r, uint8_t *v);
int rbuf_u16(struct rbuf *r, uint16_t *v);   /* network to host order */
int rbuf_u32(struct rbuf *r, uint32_t *v);   /* network to host order */
int rbuf_bytes(struct rbuf *r, void *dst, size_t n);
int rbuf_skip(struct rbuf *r, size_t n);

void wbuf_init(struct wbuf *w, void *p, size_t cap);
int wbuf_u8(struct wbuf *w, uint8_t v);
int wbuf_u16(struct wbuf *w, uint16_t v);    /* host to network order */
int wbuf_u32(struct wbuf *w, uint32_t v);    /* host to network order */
int wbuf_bytes(struct wbuf *w, const void *src, size_t n);
int wbuf_zero(struct wbuf *w, size_t n);
/* Writes a network-order u16 at an absolute offset already written (for checksums, lengths). */
int wbuf_patch_u16(struct wbuf *w, size_t at, uint16_t v);

#endif
