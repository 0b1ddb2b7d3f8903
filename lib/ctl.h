/*
 * ctl.h - the control socket: a Unix stream socket carrying frames of a u32 length (network
 * order) and a payload, one request frame answered by one reply frame. A request over
 * CTL_MAX_REQUEST or a broken one closes that session and nothing else. A session is served
 * one request at a time (the next is read once the reply has been written). From accept,
 * and after each reply, a client has CTL_REQUEST_MS to deliver one whole request however it
 * trickles it, and CTL_WRITE_S to take a reply; at most CTL_MAX_SESSIONS are open, and when
 * they are, a newcomer closes the oldest one still short of its request (once it is
 * CTL_EVICT_AFTER_MS old; a newcomer that finds none is refused): clients that
 * trickle or hold sessions open cannot keep fabricctl out, starve the event loop or use up
 * descriptors.
 */
#ifndef L2_CTL_H
#define L2_CTL_H

#include <stddef.h>
#include <stdint.h>

#define CTL_MAX_REQUEST (64u << 10)
#define CTL_MAX_REPLY (16u << 20)
#define CTL_MAX_SESSIONS 16
#define CTL_REQUEST_MS 2000
#define CTL_EVICT_AFTER_MS 250
#define CTL_WRITE_S 10

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
/* The same with the socket file's mode (0660 above; a read-only status socket: 0666). */
struct ctl_server *ctl_server_open_mode(struct event_base *base, const char *path,
					unsigned int mode, ctl_handler h, void *ctx, int *err);
void ctl_server_close(struct ctl_server *s);

/* What the server saw, for status and metrics. */
struct ctl_stats {
	uint64_t accepted, requests;
	uint64_t deadline;                 /* closed: no whole request in CTL_REQUEST_MS */
	uint64_t evicted;                  /* closed to make room for a newcomer */
	uint64_t refused;                  /* newcomers turned away: every session busy */
	uint64_t too_large;                /* closed: a request over CTL_MAX_REQUEST */
};
const struct ctl_stats *ctl_server_stats(const struct ctl_server *s);

/* Client: one request, one reply (malloc'd, NUL-terminated), waiting at most timeout_ms.
 * 0 or -errno. */
int ctl_request(const char *path, const void *req, size_t req_len, char **reply,
		size_t *reply_len, int timeout_ms);

#endif
