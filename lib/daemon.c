/* daemon.c - the skeleton every daemon's main() runs through; see daemon.h. */
#include <cap-ng.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>
#include "daemon.h"

#ifndef L2F_VERSION
#define L2F_VERSION "unknown"
#endif

enum { OPT_METRICS = 0x1001, OPT_LOG_FILE };

static const struct option common_longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "check", no_argument, NULL, 'n' },
	{ "foreground", no_argument, NULL, 'f' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "log-file", required_argument, NULL, OPT_LOG_FILE },
};
#define NCOMMON (sizeof(common_longopts) / sizeof(common_longopts[0]))
#define MAX_LONGOPTS 64

static void usage(const struct daemon_spec *s, FILE *f)
{
	fprintf(f, "usage: %s %s[-n] [-f] [-v] [--metrics [ADDR:]PORT] [--log-file FILE]\n",
		s->name, s->config_required ? "-c FILE " : "[-c FILE] ");
	if (s->synopsis && *s->synopsis)
		fprintf(f, "       %*s %s\n", (int)strlen(s->name), "", s->synopsis);
	fprintf(f, "  -c, --config FILE   configuration (YAML, %s.yaml(5))%s\n"
		   "  -n, --check         validate, print the configuration normalized (the file\n"
		   "                      with the flags applied), exit (78 when it is bad)\n"
		   "  -f, --foreground    do not detach; log to stderr (under systemd it never\n"
		   "                      detaches)\n"
		   "  -v, --verbose       debug logging (-d too)\n"
		   "  -V, --version       print the version\n"
		   "  --metrics [ADDR:]PORT  Prometheus text format at /metrics (ADDR: 127.0.0.1)\n"
		   "  --log-file FILE     log there (SIGUSR1 reopens it)\n",
		s->name, s->config_required ? "" : "; flags override its keys");
	if (s->help)
		fputs(s->help, f);
}

int daemon_args(struct daemon *d, const struct daemon_spec *spec, int argc, char **argv)
{
	struct option longopts[MAX_LONGOPTS + 1];
	char shortopts[128];
	size_t n = 0;
	int opt;

	*d = (struct daemon){ .spec = spec, .ready_fd = -1 };
	memcpy(longopts, common_longopts, sizeof(common_longopts));
	n = NCOMMON;
	for (const struct option *o = spec->longopts; o && o->name && n < MAX_LONGOPTS; o++)
		longopts[n++] = *o;
	memset(&longopts[n], 0, sizeof(longopts[n]));
	snprintf(shortopts, sizeof(shortopts), "c:nfvdVh%s", spec->shortopts ? spec->shortopts : "");
	optind = 1;
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			d->config = optarg;
			break;
		case 'n':
			d->check = true;
			break;
		case 'f':
			d->foreground = true;
			break;
		case 'v':
		case 'd':
			d->verbose = true;
			break;
		case 'V':
			printf("%s %s\n", spec->name, L2F_VERSION);
			return 0;
		case 'h':
			usage(spec, stdout);
			return 0;
		case OPT_METRICS:
			d->metrics = optarg;
			break;
		case OPT_LOG_FILE:
			d->log_file = optarg;
			break;
		case '?':
		case ':':
			usage(spec, stderr);
			return 2;
		default:
			if (d->nflags == DAEMON_MAX_FLAGS) {
				fprintf(stderr, "%s: more than %d options\n", spec->name,
					DAEMON_MAX_FLAGS);
				return 2;
			}
			d->flags[d->nflags++] = (struct daemon_flag){ opt, optarg };
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", spec->name, argv[optind]);
		usage(spec, stderr);
		return 2;
	}
	if (spec->config_required && !d->config) {
		fprintf(stderr, "%s: -c FILE is needed\n", spec->name);
		usage(spec, stderr);
		return 2;
	}
	return -1;
}

enum log_level daemon_log_level(const struct daemon *d, enum log_level level)
{
	return d->verbose ? LOG_LVL_DEBUG : level;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	switch (sig) {
	case SIGHUP: {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
			   (unsigned long long)ts.tv_sec * 1000000ull +
				   (unsigned long long)ts.tv_nsec / 1000);
		if (d->reload)
			d->reload(d->ctx);
		else
			log_info("SIGHUP: nothing to reload");
		sd_notify(0, "READY=1");
		break;
	}
	case SIGUSR1:
		if (d->log_file) {
			int err = log_to_file(d->log_file);

			if (err)
				log_err("log file %s: %s", d->log_file, strerror(-err));
			else
				log_info("log file %s reopened", d->log_file);
		}
		break;
	default:
		log_info("signal %d: stopping", (int)sig);
		sd_notify(0, "STOPPING=1");
		if (d->stop)
			d->stop(d->ctx);
		event_base_loopbreak(d->base);
	}
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	sd_notify(0, "WATCHDOG=1");
}

/* The parent waits for the child's word: 'R' once it is ready (exit 0), nothing when it
 * died first (its exit status, so a bad start fails the command that started it). */
static int detach(struct daemon *d)
{
	int p[2], null;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		char c = 0;
		int st = 0;
		ssize_t r;

		close(p[1]);
		do
			r = read(p[0], &c, 1);
		while (r < 0 && errno == EINTR);
		if (r == 1 && c == 'R')
			_exit(0);
		if (waitpid(pid, &st, 0) == pid && WIFEXITED(st))
			_exit(WEXITSTATUS(st) ? WEXITSTATUS(st) : 1);
		_exit(1);
	}
	close(p[0]);
	d->ready_fd = p[1];
	setsid();
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		if (!d->log_file)
			dup2(null, STDERR_FILENO);
		close(null);
	}
	if (!d->log_file)
		log_to_syslog();
	return 0;
}

int daemon_start(struct daemon *d, enum log_level level, const char *log_file,
		 void (*stop)(void *ctx), void (*reload)(void *ctx), void *ctx)
{
	static const int signums[4] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	struct event_config *ecfg;
	int err;

	log_init(d->spec->name, daemon_log_level(d, level));
	if (!d->log_file)
		d->log_file = log_file;
	if (d->log_file) {
		err = log_to_file(d->log_file);
		if (err) {
			log_err("log file %s: %s", d->log_file, strerror(-err));
			return -1;
		}
	}
	if (!d->foreground && !getenv("NOTIFY_SOCKET")) {
		err = detach(d);
		if (err) {
			log_err("detach: %s", strerror(-err));
			return -1;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	d->stop = stop;
	d->reload = reload;
	d->ctx = ctx;
	ecfg = event_config_new();
	if (ecfg)
		event_config_set_flag(ecfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	d->base = ecfg ? event_base_new_with_config(ecfg) : NULL;
	event_config_free(ecfg);
	if (!d->base) {
		log_err("event loop: cannot create");
		return -1;
	}
	for (int i = 0; i < 4; i++) {
		d->sigs[i] = evsignal_new(d->base, signums[i], on_signal, d);
		if (!d->sigs[i] || event_add(d->sigs[i], NULL) < 0) {
			log_err("signal %d: cannot watch", signums[i]);
			return -1;
		}
	}
	return 0;
}

static void metrics_all(struct metrics_out *m, void *arg)
{
	struct daemon *d = arg;

	metrics_family(m, "l2f_build_info", "gauge", "the daemon and its version");
	metrics_value(m, "l2f_build_info", 1, "daemon", d->spec->name, "version", L2F_VERSION,
		      NULL);
	d->metrics_fn(m, d->metrics_ctx);
}

int daemon_metrics(struct daemon *d, const char *listen, metrics_fn fn, void *ctx)
{
	const char *at = d->metrics ? d->metrics : listen;
	int err;

	if (!at || !*at)
		return 0;
	d->metrics_fn = fn;
	d->metrics_ctx = ctx;
	err = metrics_open(d->base, at, metrics_all, d, &d->metrics_srv);
	if (err) {
		log_err("metrics %s: %s", at, err == -EINVAL ? "not [ADDR:]PORT" : strerror(-err));
		return -1;
	}
	log_info("metrics on %s", at);
	return 0;
}

/* Keeps the spec's capabilities that this process has, drops the rest and the bounding
 * set (nothing can come back: the daemons never exec, and no_new_privs is set too). */
static int drop_privileges(const struct daemon_spec *s)
{
	bool have[DAEMON_MAX_CAPS] = { false };
	int n;

	if (capng_get_caps_process() < 0)
		return -1;
	for (n = 0; n < DAEMON_MAX_CAPS && s->caps[n] >= 0; n++)
		have[n] = capng_have_capability(CAPNG_PERMITTED, (unsigned int)s->caps[n]);
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE) {
		capng_clear(CAPNG_SELECT_BOTH);
		for (int i = 0; i < n; i++)
			if (have[i] && capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
						    (unsigned int)s->caps[i]) < 0)
				return -1;
		/* The bounding set needs CAP_SETPCAP, which a unit may not grant: then the
		 * capability sets alone, as systemd's CapabilityBoundingSet has bounded it. */
		if (capng_apply(CAPNG_SELECT_BOTH) < 0 && capng_apply(CAPNG_SELECT_CAPS) < 0)
			return -1;
	}
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

int daemon_ready(struct daemon *d, const char *status)
{
	uint64_t usec = 0;

	if (drop_privileges(d->spec) < 0) {
		log_err("cannot drop capabilities");
		return -1;
	}
	if (sd_watchdog_enabled(0, &usec) > 0 && usec) {
		struct timeval tv = { (time_t)(usec / 2 / 1000000), (suseconds_t)(usec / 2 % 1000000) };

		d->watchdog = event_new(d->base, -1, EV_PERSIST, on_watchdog, d);
		if (!d->watchdog || event_add(d->watchdog, &tv) < 0) {
			log_err("watchdog: cannot arm");
			return -1;
		}
	}
	sd_notifyf(0, "READY=1\nSTATUS=%s\nMAINPID=%d", status ? status : "running",
		   (int)getpid());
	if (d->ready_fd >= 0) {
		ssize_t r = write(d->ready_fd, "R", 1);

		(void)r;
		close(d->ready_fd);
		d->ready_fd = -1;
	}
	d->ready = true;
	return 0;
}

void daemon_finish(struct daemon *d)
{
	metrics_close(d->metrics_srv);
	for (int i = 0; i < 4; i++)
		if (d->sigs[i])
			event_free(d->sigs[i]);
	if (d->watchdog)
		event_free(d->watchdog);
	if (d->base)
		event_base_free(d->base);
	d->base = NULL;
	log_info("stopped");
}
