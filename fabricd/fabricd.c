/*
 * fabricd.c - the fabric manager: main, options, listeners, restart grace, signals.
 *
 * fabricd [-l ADDR:PORT --ca FILE --cert FILE --key FILE] [-s SOCKET] [-S STORE [--recover]]
 *         [-i ID] [--dup-moves N] [--dup-window S] [--grace-ms MS] [--max-sessions N]
 *         [--max-pre-hello N] [--hello-timeout-ms MS] [--idle-timeout-ms MS]
 *         [--host-expiry S] [--max-unix-sessions N] [--max-learned-per-host N] [-d]
 * Agents (vtepd, vipd) connect over TCP to -l, always with mutual TLS (there is no default
 * address: the operator names it); fabricctl over the Unix socket -s. The
 * directory is soft state: API ports and known hosts are kept in STORE, a journal
 * (store.c); learned bindings come back from the agents' reports after a restart. Until every host in the store has
 * reconnected and sent its full report of what it learned (or --grace-ms passed), agents
 * get no full table: what they hold stays.
 */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "fabricd.h"
#include "log.h"

#define DEFAULT_SOCKET "/run/l2fabric/fabricd.sock"
#define DEFAULT_STORE "/var/lib/l2fabric/fabricd.store"

/* What a peer may make fabricd hold unless told otherwise (docs/protocol.md, "Limits"). */
#define LIMITS_DEFAULT { .max_pre_hello = 128, .hello_timeout_ms = 5000, \
			 .idle_timeout_ms = 60000, .host_expiry_s = 86400, \
			 .max_unix_sessions = 64, .max_learned = 262144 }
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

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct fabricd *fd = arg;

	log_info("signal %d: stopping", (int)sig);
	event_base_loopbreak(fd->base);
}

static void on_grace(evutil_socket_t s, short what, void *arg)
{
	struct fabricd *fd = arg;

	log_info("restart grace over: sending full tables");
	agent_grace_over(fd);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: fabricd [-l ADDR:PORT --ca FILE --cert FILE --key FILE] [-s SOCKET]\n"
		   "               [-S STORE] [-i ID] [-d] [--dup-moves N] [--dup-window SECONDS]\n"
		   "               [--grace-ms MS]\n"
		   "  -l  agents' TCP listener, e.g. 198.18.0.2:7301 (none by default); every TCP\n"
		   "      session is mutual TLS: --ca (the CA agents' certificates chain to), --cert\n"
		   "      and --key (fabricd's own, URI:urn:l2fabric:fabricd:ID)\n"
		   "  -s  fabricctl's Unix socket (default %s)\n"
		   "  -S  store of API ports and hosts, a journal (default %s; 'none': keep\n"
		   "      nothing); --recover: start from the valid part of a damaged one\n"
		   "  -i  this fabricd's id (default: its certificate's, else the hostname)\n"
		   "  --dup-moves/--dup-window  a MAC moving more than N times in S seconds is a\n"
		   "      duplicate and stops moving (default 5 in 180)\n"
		   "  --grace-ms  after a restart, wait at most this long for known agents before\n"
		   "      sending full tables (default 3000)\n"
		   "  --max-sessions N     TCP sessions (default: what ulimit -n leaves room for)\n"
		   "  --max-unix-sessions N  sessions on the Unix socket (default 64)\n"
		   "  --max-learned-per-host N  bindings one host's agent may hold (default 262144)\n"
		   "  --max-pre-hello N    sessions without a Hello yet (default 128): beyond it the\n"
		   "      oldest silent one is evicted\n"
		   "  --hello-timeout-ms MS  from accept to Hello, TLS included (default 5000)\n"
		   "  --idle-timeout-ms MS   an API session with nothing to do (default 60000)\n"
		   "  --host-expiry S  a host with no session for S seconds and no API port is\n"
		   "      forgotten (default 86400; 0: never)\n",
		DEFAULT_SOCKET, DEFAULT_STORE);
}

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dup-moves", required_argument, NULL, 'M' },
		{ "dup-window", required_argument, NULL, 'W' },
		{ "grace-ms", required_argument, NULL, 'G' },
		{ "max-sessions", required_argument, NULL, 'X' },
		{ "max-pre-hello", required_argument, NULL, 'P' },
		{ "hello-timeout-ms", required_argument, NULL, 'T' },
		{ "idle-timeout-ms", required_argument, NULL, 'I' },
		{ "host-expiry", required_argument, NULL, 'E' },
		{ "max-unix-sessions", required_argument, NULL, 'U' },
		{ "max-learned-per-host", required_argument, NULL, 'L' },
		{ "recover", no_argument, NULL, 'R' },
		{ "ca", required_argument, NULL, 'A' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const int signums[] = { SIGTERM, SIGINT };
	struct fabricd fd = { .lim = LIMITS_DEFAULT };
	struct event *sigs[2];
	const char *listen_addr = NULL, *sock = DEFAULT_SOCKET;
	struct wire_tls_files tls_files = { 0 };
	bool id_given = false, recover = false;
	uint32_t allowed;
	uint32_t dup_moves = 5, dup_window = 180, grace_ms = 3000;
	enum log_level level = LOG_LVL_INFO;
	int opt, err;

	fd.store_path = DEFAULT_STORE;
	if (gethostname(fd.id, sizeof(fd.id) - 1) < 0)
		strcpy(fd.id, "fabricd");
	int optidx = 0;

	while ((opt = getopt_long(argc, argv, "l:s:S:i:dh", longopts, &optidx)) != -1) {
		switch (opt) {
		case 'l':
			listen_addr = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'S':
			fd.store_path = strcmp(optarg, "none") == 0 ? NULL : optarg;
			break;
		case 'i':
			if (!*optarg || strlen(optarg) > WIRE_ID_MAX) {
				fprintf(stderr, "fabricd: -i: 1 to %d characters\n", WIRE_ID_MAX);
				return 2;
			}
			snprintf(fd.id, sizeof(fd.id), "%s", optarg);
			id_given = true;
			break;
		case 'R':
			recover = true;
			break;
		case 'A':
			tls_files.ca = optarg;
			break;
		case 'C':
			tls_files.cert = optarg;
			break;
		case 'K':
			tls_files.key = optarg;
			break;
		case 'd':
			level = LOG_LVL_DEBUG;
			break;
		case 'M':
		case 'W':
		case 'G':
			if (parse_u32(optarg, opt == 'M' ? 255 : 86400000,
				      opt == 'M' ? &dup_moves : opt == 'W' ? &dup_window : &grace_ms)) {
				fprintf(stderr, "fabricd: bad number '%s'\n", optarg);
				return 2;
			}
			break;
		case 'X':
		case 'P':
		case 'T':
		case 'I':
		case 'E':
		case 'U':
		case 'L':
			if (parse_u32(optarg, 86400000, opt == 'X' ? &fd.lim.max_sessions :
				      opt == 'P' ? &fd.lim.max_pre_hello :
				      opt == 'T' ? &fd.lim.hello_timeout_ms :
				      opt == 'I' ? &fd.lim.idle_timeout_ms :
				      opt == 'U' ? &fd.lim.max_unix_sessions :
				      opt == 'L' ? &fd.lim.max_learned : &fd.lim.host_expiry_s) ||
			    (opt != 'E' && strtoul(optarg, NULL, 10) == 0)) {
				fprintf(stderr, "fabricd: bad number '%s' for --%s\n", optarg,
					longopts[optidx].name);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("fabricd", level);
	signal(SIGPIPE, SIG_IGN);
	allowed = sessions_allowed(fd.lim.max_sessions, fd.lim.max_unix_sessions);
	if (fd.lim.max_sessions && allowed < fd.lim.max_sessions)
		log_warn("--max-sessions %u: only %u fit in the descriptor limit (ulimit -n)",
			 fd.lim.max_sessions, allowed);
	fd.lim.max_sessions = allowed;
	if (fd.lim.max_pre_hello > fd.lim.max_sessions)
		fd.lim.max_pre_hello = fd.lim.max_sessions;
	if (tls_files.ca || tls_files.cert || tls_files.key || listen_addr) {
		char why[320];

		if (!listen_addr) {
			fprintf(stderr, "fabricd: --ca, --cert and --key are for the TCP listener: "
				"give -l ADDR:PORT\n");
			return 2;
		}
		if (wire_tls_new(&tls_files, true, &fd.tls, why, sizeof(why)) < 0) {
			fprintf(stderr, "fabricd: -l %s: %s%s\n", listen_addr, why,
				tls_files.ca && tls_files.cert && tls_files.key ? "" :
				" (every TCP session is mutual TLS)");
			return 2;
		}
		if (wire_tls_self(fd.tls)->role != L2F__ROLE__ROLE_FABRICD) {
			fprintf(stderr, "fabricd: --cert %s names a %s, not a fabricd\n",
				tls_files.cert, wire_role_name(wire_tls_self(fd.tls)->role));
			return 2;
		}
		if (id_given && strcmp(fd.id, wire_tls_self(fd.tls)->id) != 0) {
			fprintf(stderr, "fabricd: -i %s, but --cert %s names fabricd %s\n", fd.id,
				tls_files.cert, wire_tls_self(fd.tls)->id);
			return 2;
		}
		snprintf(fd.id, sizeof(fd.id), "%s", wire_tls_self(fd.tls)->id);
	}
	fd.started = monotime_now();
	fd.base = event_base_new();
	if (!fd.base || dir_init(&fd.dir, dup_moves, dup_window) < 0)
		return 1;
	/* a damaged store stops fabricd (store_open said where and why): starting without what
	 * it acknowledged would lose it silently */
	if (store_open(&fd, recover) < 0)
		return 1;
	if (listen_addr) {
		fd.tcp = wire_listen_tcp(fd.base, listen_addr, session_accept_tcp, &fd, &err);
		if (!fd.tcp) {
			log_err("listen %s: %s", listen_addr, strerror(-err));
			return 1;
		}
	}
	fd.unix_api = wire_listen_unix(fd.base, sock, session_accept_unix, &fd, &err);
	if (!fd.unix_api) {
		log_err("listen %s: %s", sock, strerror(-err));
		return 1;
	}
	for (size_t i = 0; i < 2; i++) {
		sigs[i] = evsignal_new(fd.base, signums[i], on_signal, &fd);
		event_add(sigs[i], NULL);
	}
	fd.ev_grace = evtimer_new(fd.base, on_grace, &fd);
	agent_expiry_start(&fd);
	for (uint16_t h = 0; h < fd.dir.nhosts; h++)
		fd.in_grace |= fd.dir.hosts[h].vtep.af != 0;
	if (fd.in_grace) {
		struct timeval tv = { grace_ms / 1000, (grace_ms % 1000) * 1000 };

		log_info("restarted with %u known host(s): full tables wait up to %u ms for them",
			 fd.dir.nhosts, grace_ms);
		evtimer_add(fd.ev_grace, &tv);
	}
	log_info("fabricd %s: agents on %s%s, API on %s, %zu binding(s)", fd.id,
		 listen_addr ? listen_addr : "the Unix socket only", listen_addr ? " (TLS)" : "",
		 sock, dir_count(&fd.dir));
	event_base_dispatch(fd.base);

	for (size_t i = 0; i < 2; i++)
		event_free(sigs[i]);
	event_free(fd.ev_grace);
	if (fd.ev_expiry)
		event_free(fd.ev_expiry);
	wire_listener_free(fd.tcp);
	wire_listener_free(fd.unix_api);
	store_close(&fd);
	dir_free(&fd.dir);
	event_base_free(fd.base);
	wire_tls_free(fd.tls);
	return 0;
}
