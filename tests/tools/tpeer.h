/*
 * tpeer.h - a protocol peer for test tools (agentload, plpeer): a session on a Unix socket of
 * fabricd's (no TLS), frames written whole (blocking on a full socket) and read without
 * blocking, every whole Envelope handed to a callback.
 */
#ifndef TESTS_TPEER_H
#define TESTS_TPEER_H

#include <stddef.h>
#include <stdint.h>
#include "fabric.pb-c.h"

struct tpeer {
	int fd;
	char id[64];
	uint8_t *rbuf;
	size_t rlen, rcap;
};

typedef void (*tpeer_cb)(struct tpeer *p, const L2f__Envelope *env, void *ctx);

/* Connects to path (non-blocking) and sends hello. 0, or -1 after saying why on stderr. */
int tpeer_connect(struct tpeer *p, const char *path, const L2f__Hello *hello);
/* The whole frame of env, or -1 (said on stderr). */
int tpeer_send(struct tpeer *p, const L2f__Envelope *env);
/* What the socket has now, every whole frame to cb. 0, or -1: closed, or a frame that does
 * not decode. */
int tpeer_read(struct tpeer *p, tpeer_cb cb, void *ctx);
/* Waits until p can be read, at most ms: 1, 0 (timeout), -1. */
int tpeer_wait(const struct tpeer *p, int ms);
void tpeer_close(struct tpeer *p);
int64_t tpeer_now_us(void);

#endif
