/*
 * daemon.h - the one shape of every l2fabric daemon (vipd, fabricd, vtepd; switchd next):
 *
 *   daemon_args()   the common options, and the daemon's own kept in order as flags so that
 *                   they apply over the configuration file (a flag overrides a key)
 *   (the daemon loads its configuration; `-n` prints it normalized and exits)
 *   daemon_start()  logging, detaching (unless -f or under systemd), the event base with
 *                   precise timers, the signal table, the watchdog
 *   (the daemon opens its sockets and does what needs privileges)
 *   daemon_ready()  every capability but the daemon's own list dropped, no_new_privs set,
 *                   READY=1 to systemd, the parent of a detached daemon let go
 *   event_base_dispatch()
 *   daemon_finish() STOPPING=1, events freed
 *
 * Common options: -c/--config FILE, -n/--check, -f/--foreground, -v/--verbose (-d too),
 * -V/--version, -h/--help, --metrics [ADDR:]PORT, --log-file FILE.
 * Signals: TERM and INT stop (the daemon's stop hook runs first), HUP reloads (RELOADING=1
 * ... READY=1 around the daemon's reload hook), USR1 reopens the log file.
 * Where blocking is allowed: before daemon_ready() only (docs/daemons.md).
 */
#ifndef L2_DAEMON_H
#define L2_DAEMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include "log.h"
#include "metrics.h"

struct event;
struct event_base;

#define DAEMON_MAX_FLAGS 256
#define DAEMON_MAX_CAPS 8

struct daemon_spec {
	const char *name;              /* "fabricd" */
	const char *synopsis;          /* its own options, one line, for usage */
	const char *help;              /* its own options, explained, for --help */
	const char *shortopts;         /* its own short options, getopt syntax */
	const struct option *longopts; /* its own long options, {0}-terminated, or NULL */
	bool config_required;
	/* The capabilities kept once ready (CAP_NET_ADMIN...), -1 terminated; an empty list
	 * keeps none at all. */
	int caps[DAEMON_MAX_CAPS + 1];
};

struct daemon_flag {
	int opt;                       /* getopt's value: the short letter or the long's val */
	const char *arg;
};

struct daemon {
	const struct daemon_spec *spec;
	/* Common options, as given. */
	const char *config;
	bool check, foreground, verbose;
	const char *metrics, *log_file;
	/* The daemon's own options, in command-line order. */
	struct daemon_flag flags[DAEMON_MAX_FLAGS];
	size_t nflags;

	struct event_base *base;
	void (*stop)(void *ctx);       /* SIGTERM/SIGINT, before the loop breaks */
	void (*reload)(void *ctx);     /* SIGHUP */
	void *ctx;
	struct event *sigs[4];
	struct event *watchdog;
	int ready_fd;                  /* a detached child's pipe to its waiting parent, or -1 */
	struct metrics_server *metrics_srv;
	metrics_fn metrics_fn;
	void *metrics_ctx;
	bool ready;
};

/* Parses argv. -1: go on; otherwise the process should exit with that code (0 after --help
 * or --version, 2 after a usage error, which it printed). */
int daemon_args(struct daemon *d, const struct daemon_spec *spec, int argc, char **argv);
/* The level the options ask for: debug with -v, else level (from the configuration). */
enum log_level daemon_log_level(const struct daemon *d, enum log_level level);
/* Logging, detaching, the event base and the signal table. log_file may be NULL. 0, or -1
 * after logging why. In a detached daemon only the child returns. */
int daemon_start(struct daemon *d, enum log_level level, const char *log_file,
		 void (*stop)(void *ctx), void (*reload)(void *ctx), void *ctx);
/* The Prometheus endpoint (lib/metrics) on --metrics, else on listen (the configuration's;
 * NULL or empty: none), fn writing the daemon's metrics (the skeleton adds
 * l2f_build_info). Between daemon_start() and daemon_ready(). 0, or -1 after logging why. */
int daemon_metrics(struct daemon *d, const char *listen, metrics_fn fn, void *ctx);
/* Drops privileges and says ready (see above). 0, or -1 after logging why. */
int daemon_ready(struct daemon *d, const char *status);
void daemon_finish(struct daemon *d);

#endif
