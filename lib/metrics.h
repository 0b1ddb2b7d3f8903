/*
 * metrics.h - Prometheus text exposition (format 0.0.4) served by each daemon at GET
 * /metrics on an address the operator opts into ([ADDR:]PORT; 127.0.0.1 when no address).
 *
 * The server is a minimal HTTP/1.x responder on libevent bufferevents: one request per
 * connection, answered and closed. It bounds what a client can make it hold (libevent 2.1's
 * evhttp has no connection cap, and its timeouts restart with every byte): at most
 * METRICS_MAX_CLIENTS connections (a newcomer beyond them closes the oldest one silent for
 * METRICS_SILENT_MS, or is closed itself), METRICS_MAX_REQUEST bytes
 * of request head, METRICS_DEADLINE_MS from accept to the last byte of the answer.
 *
 * The daemon's callback writes its families with metrics_family() and metrics_value(); names
 * are the daemon's (l2f_vipd_..., l2f_fabricd_..., l2f_vtepd_...), label values are escaped.
 */
#ifndef L2_METRICS_H
#define L2_METRICS_H

#include <stdint.h>

#define METRICS_MAX_CLIENTS 8
#define METRICS_MAX_REQUEST 4096
#define METRICS_DEADLINE_MS 5000
#define METRICS_SILENT_MS 100

struct event_base;
struct evbuffer;
struct metrics_server;

struct metrics_out {
	struct evbuffer *buf;
};

typedef void (*metrics_fn)(struct metrics_out *m, void *ctx);

/* 0, or -errno (-EINVAL: listen is not [ADDR:]PORT). */
int metrics_open(struct event_base *base, const char *listen, metrics_fn fn, void *ctx,
		 struct metrics_server **out);
void metrics_close(struct metrics_server *s);

/* "# HELP name help" and "# TYPE name type" (counter, gauge). */
void metrics_family(struct metrics_out *m, const char *name, const char *type, const char *help);
/* "name{labels} value": labels as alternating key, value strings, NULL-terminated. */
void metrics_value(struct metrics_out *m, const char *name, uint64_t value, ...)
	__attribute__((sentinel));
/* "name value" for a value counted in microseconds, written in seconds (Prometheus' base
 * unit: promtool refuses _us in a name). */
void metrics_value_us(struct metrics_out *m, const char *name, uint64_t us);
/* One family of one unlabelled sample. */
void metrics_one(struct metrics_out *m, const char *name, const char *type, const char *help,
		 uint64_t value);

struct metrics_stats {
	uint64_t scrapes;
	uint64_t refused;              /* clients closed at the cap: the oldest silent or the newcomer */
	uint64_t bad_requests, timeouts;
};
const struct metrics_stats *metrics_stats(const struct metrics_server *s);

#endif
