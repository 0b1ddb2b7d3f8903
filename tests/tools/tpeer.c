/* tpeer.c - a protocol peer for test tools; see tpeer.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "tpeer.h"
#include "wire.h"

int64_t tpeer_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int tpeer_connect(struct tpeer *p, const char *path, const L2f__Hello *hello)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	L2f__Envelope env = L2F__ENVELOPE__INIT;

	memset(p, 0, sizeof(*p));
	snprintf(p->id, sizeof(p->id), "%s", hello->id);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	p->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->fd < 0 || connect(p->fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "%s: connect %s: %s\n", p->id, path, strerror(errno));
		return -1;
	}
	fcntl(p->fd, F_SETFL, O_NONBLOCK);
	env.msg_case = L2F__ENVELOPE__MSG_HELLO;
	env.hello = (L2f__Hello *)hello;
	return tpeer_send(p, &env);
}

int tpeer_send(struct tpeer *p, const L2f__Envelope *env)
{
	size_t len = l2f__envelope__get_packed_size(env), off = 0;
	uint8_t *buf = malloc(len + 4);

	if (!buf)
		return -1;
	buf[0] = (uint8_t)(len >> 24);
	buf[1] = (uint8_t)(len >> 16);
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	l2f__envelope__pack(env, buf + 4);
	while (off < len + 4) {
		ssize_t n = write(p->fd, buf + off, len + 4 - off);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pf = { .fd = p->fd, .events = POLLOUT };

			poll(&pf, 1, 100);
			continue;
		}
		if (n <= 0) {
			fprintf(stderr, "%s: write: %s\n", p->id, n ? strerror(errno) : "closed");
			free(buf);
			return -1;
		}
		off += (size_t)n;
	}
	free(buf);
	return 0;
}

int tpeer_read(struct tpeer *p, tpeer_cb cb, void *ctx)
{
	size_t off = 0;

	for (;;) {
		ssize_t n;

		if (p->rcap - p->rlen < 65536) {
			size_t cap = p->rcap ? 2 * p->rcap : 1 << 20;
			uint8_t *nb = realloc(p->rbuf, cap);

			if (!nb)
				return -1;
			p->rbuf = nb;
			p->rcap = cap;
		}
		n = read(p->fd, p->rbuf + p->rlen, p->rcap - p->rlen);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0)
			return -1;
		p->rlen += (size_t)n;
	}
	while (p->rlen - off >= 4) {
		const uint8_t *b = p->rbuf + off;
		uint32_t flen = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
		L2f__Envelope *env;

		if (flen > WIRE_MAX_FRAME)
			return -1;
		if (p->rlen - off < 4 + (size_t)flen)
			break;
		env = l2f__envelope__unpack(NULL, flen, b + 4);
		off += 4 + flen;
		if (!env)
			return -1;
		cb(p, env, ctx);
		l2f__envelope__free_unpacked(env, NULL);
	}
	memmove(p->rbuf, p->rbuf + off, p->rlen - off);
	p->rlen -= off;
	return 0;
}

int tpeer_wait(const struct tpeer *p, int ms)
{
	struct pollfd pf = { .fd = p->fd, .events = POLLIN };

	return poll(&pf, 1, ms);
}

void tpeer_close(struct tpeer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	free(p->rbuf);
	p->rbuf = NULL;
}
