/*
 * ctl.h - the control socket: a Unix stream socket carrying frames of a u32 length (network
 * order) and a payload, one request frame answered by one reply frame. A request over
 * CTL_MAX_REQUEST or a broken one closes that session and nothing else. A session is served
 * one request at a time (the next is read once the reply has been written), idles out after
 * CTL_IDLE_S, and at most CTL_MAX_SESSIONS are open: a misbehaving client cannot starve the
 * daemon's event loop or its file descriptors.
 */
#ifndef L2_CTL_H
#define L2_CTL_H

#include <stddef.h>

#define CTL_MAX_REQUEST (64u << 10)
#define CTL_MAX_REPLY (16u << 20)
#define CTL_MAX_SESSIONS 16
#define CTL_IDLE_S 10

struct event_base;
struct ctl_server;

/* Returns a malloc'd reply (the server frees it) in *reply / *reply_len; non-zero closes the
 * session. */
typedef int (*ctl_handler)(void *ctx, const char *req, size_t req_len, char **reply,
			   size_t *reply_len);

/* Creates the socket's directory if missing, refuses a path a live server holds (-EADDRINUSE)
 * and replaces a stale one. NULL and *err = -errno on failure. */
struct ctl_server *ctl_server_open(struct event_base *base, const char *path, ctl_handler h,
				   void *ctx, int *err);
void ctl_server_close(struct ctl_server *s);

/* Client: one request, one reply (malloc'd, NUL-terminated), waiting at most timeout_ms.
 * 0 or -errno. */
int ctl_request(const char *path, const void *req, size_t req_len, char **reply,
		size_t *reply_len, int timeout_ms);

#endif
