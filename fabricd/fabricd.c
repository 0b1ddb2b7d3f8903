/*
 * fabricd.c - the fabric manager: main (lib/daemon's shape), listeners, restart grace,
 * reload.
 *
 * fabricd [-c fabricd.yaml] [-l ADDR:PORT --ca FILE --cert FILE --key FILE] [-s SOCKET]
 *         [-S STORE [--recover]] [-i ID] [...]: config.c has every option and key.
 * Agents (vtepd, vipd) connect over TCP to -l, always with mutual TLS (there is no default
 * address: the operator names it); fabricctl over the Unix socket -s. The directory is soft
 * state: API ports and known hosts are kept in STORE, a journal (store.c); learned bindings
 * come back from the agents' reports after a restart. Until every host in the store has
 * reconnected and sent its full report of what it learned (or --grace-ms passed), agents
 * get no full table: what they hold stays.
 * fabricd holds no capability once its sockets are open (none at all when it is started
 * without them, as its unit does).
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include "conf.h"
#include "fabricd.h"
#include "portland.h"
#include "log.h"

/* Descriptors kept free of sessions: the listeners, the store, the journal's compaction,
 * netlink... and fabricctl's way in when agents and strangers fill the rest. */
#define FD_RESERVE 32

/* max_sessions (TCP): what was asked, but never so many that fabricd runs out of
 * descriptors: the Unix socket's sessions (their own cap) and a reserve stay free, so
 * fabricctl gets in whatever peers do on TCP. */
static uint32_t sessions_allowed(uint32_t asked, uint32_t unix_cap)
{
	struct rlimit rl;
	uint64_t room = 16384;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		room = rl.rlim_cur > 2 * FD_RESERVE + unix_cap ? rl.rlim_cur - FD_RESERVE - unix_cap
								 : FD_RESERVE;
	if (!asked || asked > room)
		return (uint32_t)room;
	return asked;
}

static void on_grace(evutil_socket_t s, short what, void *arg)
{
	struct fabricd *fd = arg;

	log_info("restart grace over: sending full tables");
	agent_grace_over(fd);
}

/* The limits that run: the configured ones, with max_sessions fitted to the descriptors. */
static void set_limits(struct fabricd *fd, const struct fabricd_limits *want)
{
	uint32_t allowed = sessions_allowed(want->max_sessions, want->max_unix_sessions);

	fd->lim = *want;
	if (want->max_sessions && allowed < want->max_sessions)
		log_warn("max_sessions %u: only %u fit in the descriptor limit (ulimit -n)",
			 want->max_sessions, allowed);
	fd->lim.max_sessions = allowed;
	if (fd->lim.max_pre_hello > fd->lim.max_sessions)
		fd->lim.max_pre_hello = fd->lim.max_sessions;
}

/* SIGHUP: the file again, with the same flags over it. The log level, the limits (for what
 * they bound from now on), duplicate detection and host expiry take effect; the rest is
 * named and waits for a restart. */
static void on_reload(void *arg)
{
	struct fabricd *fd = arg;
	struct fabricd_cfg c;
	char err[512];
	const struct fabricd_cfg *o = &fd->cfg;

	if (!fd->dm.config) {
		log_info("reload: no configuration file (-c): nothing to reload");
		return;
	}
	if (fabricd_cfg_load(fd->dm.config, &fd->dm, &c, err, sizeof(err)) < 0) {
		log_err("reload refused, keeping the running configuration: %s", err);
		return;
	}
	log_info("reloading %s", fd->dm.config);
	if (strcmp(c.id, o->id) || strcmp(c.listen, o->listen) || memcmp(&c.tls, &o->tls, sizeof(c.tls)))
		log_warn("reload: id, listen and tls change at restart only");
	if (strcmp(c.control_socket, o->control_socket) || strcmp(c.status_socket, o->status_socket) ||
	    strcmp(c.store, o->store) || strcmp(c.metrics, o->metrics) || strcmp(c.log_file, o->log_file))
		log_warn("reload: control_socket, status_socket, store, metrics and log_file change "
			 "at restart only");
	log_set_level(daemon_log_level(&fd->dm, c.log_level));
	set_limits(fd, &c.lim);
	fd->dir.dup_moves = c.dup.moves;
	fd->dir.dup_window_s = c.dup.window_s;
	if (c.lim.host_expiry_s != o->lim.host_expiry_s) {
		if (fd->ev_expiry)
			event_free(fd->ev_expiry);
		fd->ev_expiry = NULL;
		agent_expiry_start(fd);
	}
	/* What keeps running as it was stays in cfg, so the next reload compares with it. */
	memcpy(c.id, o->id, sizeof(c.id));
	memcpy(c.listen, o->listen, sizeof(c.listen));
	c.tls = o->tls;
	memcpy(c.control_socket, o->control_socket, sizeof(c.control_socket));
	memcpy(c.status_socket, o->status_socket, sizeof(c.status_socket));
	memcpy(c.store, o->store, sizeof(c.store));
	memcpy(c.metrics, o->metrics, sizeof(c.metrics));
	memcpy(c.log_file, o->log_file, sizeof(c.log_file));
	fd->cfg = c;
}

/* TLS for the listener: fabricd's own certificate must name a fabricd, and -i agree. */
static int setup_tls(struct fabricd *fd)
{
	const struct fabricd_cfg *c = &fd->cfg;
	struct wire_tls_files files = { c->tls.ca, c->tls.cert, c->tls.key };
	char why[320];

	if (!c->listen[0])
		return 0;
	snprintf(fd->id, sizeof(fd->id), "%s", c->id);
	if (wire_tls_for(&files, true, L2F__ROLE__ROLE_FABRICD, fd->id, sizeof(fd->id), &fd->tls,
			 why, sizeof(why)) < 0) {
		fprintf(stderr, "fabricd: listen %s: %s\n", c->listen, why);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct fabricd fd;
	const struct fabricd_cfg *c = &fd.cfg;
	char err[512];
	int ret;

	ret = daemon_args(&fd.dm, &fabricd_spec, argc, argv);
	if (ret >= 0)
		return ret;
	if (fabricd_cfg_load(fd.dm.config, &fd.dm, &fd.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "fabricd: %s\n", err);
		return EXIT_CONFIG;
	}
	if (fd.dm.check) {
		fabricd_cfg_print(c, stdout);
		return 0;
	}
	if (c->id[0])
		snprintf(fd.id, sizeof(fd.id), "%s", c->id);
	else if (gethostname(fd.id, sizeof(fd.id) - 1) < 0 || wire_id_check(fd.id) < 0)
		strcpy(fd.id, "fabricd");
	if (setup_tls(&fd) < 0)
		return EXIT_CONFIG;
	fd.store_path = strcmp(c->store, "none") ? c->store : NULL;
	if (daemon_start(&fd.dm, c->log_level, c->log_file[0] ? c->log_file : NULL, NULL,
			 on_reload, &fd) < 0)
		return 1;
	fd.base = fd.dm.base;
	set_limits(&fd, &c->lim);
	fd.started = monotime_now();
	if (dir_init(&fd.dir, c->dup.moves, c->dup.window_s) < 0 || portland_new(&fd.pl) < 0)
		return 1;
	/* a damaged store stops fabricd (store_open said where and why): starting without what
	 * it acknowledged would lose it silently */
	if (store_open(&fd, c->recover) < 0)
		return 1;
	if (c->listen[0]) {
		fd.tcp = wire_listen_tcp(fd.base, c->listen, session_accept_tcp, &fd, &ret);
		if (!fd.tcp) {
			log_err("listen %s: %s", c->listen, strerror(-ret));
			return 1;
		}
	}
	fd.unix_api = wire_listen_unix(fd.base, c->control_socket, session_accept_unix, &fd, &ret);
	if (!fd.unix_api) {
		log_err("listen %s: %s", c->control_socket, strerror(-ret));
		return 1;
	}
	if (c->status_socket[0]) {
		fd.unix_status = wire_listen_unix(fd.base, c->status_socket, session_accept_status,
						  &fd, &ret);
		if (!fd.unix_status) {
			log_err("listen %s: %s", c->status_socket, strerror(-ret));
			return 1;
		}
		chmod(c->status_socket, 0666);
	}
	fd.ev_grace = evtimer_new(fd.base, on_grace, &fd);
	agent_expiry_start(&fd);
	for (uint16_t h = 0; h < fd.dir.nhosts; h++)
		fd.in_grace |= fd.dir.hosts[h].vtep.af != 0;
	if (fd.in_grace) {
		struct timeval tv = { c->grace_ms / 1000, (c->grace_ms % 1000) * 1000 };

		log_info("restarted with %u known host(s): full tables wait up to %u ms for them",
			 fd.dir.nhosts, c->grace_ms);
		evtimer_add(fd.ev_grace, &tv);
	}
	log_info("fabricd %s: agents on %s%s, API on %s, %zu binding(s)", fd.id,
		 c->listen[0] ? c->listen : "the Unix socket only", c->listen[0] ? " (TLS)" : "",
		 c->control_socket, dir_count(&fd.dir));
	if (daemon_metrics(&fd.dm, c->metrics, fabricd_metrics, &fd) < 0)
		return 1;
	if (daemon_ready(&fd.dm, "serving") < 0)
		return 1;
	event_base_dispatch(fd.base);

	event_free(fd.ev_grace);
	if (fd.ev_expiry)
		event_free(fd.ev_expiry);
	wire_listener_free(fd.tcp);
	wire_listener_free(fd.unix_api);
	wire_listener_free(fd.unix_status);
	store_close(&fd);
	dir_free(&fd.dir);
	portland_free(fd.pl);
	wire_tls_free(fd.tls);
	daemon_finish(&fd.dm);
	return 0;
}
