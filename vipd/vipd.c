/*
 * vipd.c - service VIPs on a Layer-2 segment: main, signals, reload and the control socket.
 *
 * vipd -c FILE [-n] [-d]
 *   -n  validate FILE, print it normalized, exit (78 when it is bad)
 *   -d  debug logging
 * SIGTERM/SIGINT: masters send priority 0 and remove what they assigned, then exit.
 * SIGHUP: reload; groups whose configuration is unchanged keep running untouched.
 */
#include <cap-ng.h>
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <linux/rtnetlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "ctl.h"
#include "log.h"
#include "vipd.h"

static int on_ctl_request(void *ctx, const char *req, size_t len, char **reply, size_t *reply_len)
{
	struct vipd *d = ctx;

	if (strcmp(req, "vip status") == 0)
		*reply = status_json(d);
	else
		*reply = strdup("{\"error\": \"unknown command\"}");
	if (!*reply)
		return -1;
	*reply_len = strlen(*reply);
	return 0;
}

/* Same election and addresses; only how the master announces may differ, which a running
 * group can take over without a failover. */
static bool same_election(const struct vip_group_cfg *run, const struct vip_group_cfg *want)
{
	struct vip_group_cfg t = *want;

	t.announce_count = run->announce_count;
	t.announce_interval_ms = run->announce_interval_ms;
	t.refresh_interval_s = run->refresh_interval_s;
	return vip_group_cfg_eq(run, &t);
}

/* Brings the running groups to what cfg says: unchanged groups are left alone, groups that
 * changed only how they announce take the new settings in place, the others stop (priority
 * 0 when master) before the new ones start. */
static void apply_groups(struct vipd *d, const struct vipd_cfg *cfg)
{
	struct group *g, *next;

	for (g = d->groups; g; g = next) {
		const struct vip_group_cfg *want = NULL;

		next = g->next;
		for (size_t i = 0; i < cfg->ngroups && !want; i++)
			if (same_election(&g->cfg, &cfg->groups[i]))
				want = &cfg->groups[i];
		if (!want) {
			log_info("group %s: removed or changed, stopping", g->cfg.name);
			group_free(g);
		} else if (!vip_group_cfg_eq(&g->cfg, want)) {
			log_info("group %s: new announcement settings", g->cfg.name);
			g->cfg.announce_count = want->announce_count;
			g->cfg.announce_interval_ms = want->announce_interval_ms;
			g->cfg.refresh_interval_s = want->refresh_interval_s;
		}
	}
	for (size_t i = 0; i < cfg->ngroups; i++) {
		bool running = false;

		for (g = d->groups; g && !running; g = g->next)
			running = vip_group_cfg_eq(&g->cfg, &cfg->groups[i]);
		if (running)
			continue;
		log_info("group %s: starting on %s, vrid %u, priority %u%s", cfg->groups[i].name,
			 cfg->groups[i].ifname, cfg->groups[i].vrid, cfg->groups[i].priority,
			 cfg->groups[i].priority_auto ? " (auto)" : "");
		if (!group_new(d, &cfg->groups[i]))
			log_err("group %s: out of memory", cfg->groups[i].name);
	}
	/* Groups on a new interface hear of it now, not at the next notification. */
	iface_rescan_all(d);
}

static void reload(struct vipd *d)
{
	struct vipd_cfg cfg;
	char err[512];

	if (vipd_cfg_load(d->cfg_path, &cfg, err, sizeof(err)) < 0) {
		log_err("reload refused, keeping the running configuration: %s", err);
		return;
	}
	if (strcmp(cfg.control_socket, d->cfg.control_socket) != 0)
		log_warn("reload: control_socket change takes effect at restart only");
	snprintf(cfg.control_socket, sizeof(cfg.control_socket), "%s", d->cfg.control_socket);
	log_info("reloading %s", d->cfg_path);
	apply_groups(d, &cfg);
	vipd_cfg_free(&d->cfg);
	d->cfg = cfg;
	if (fabric_start(d) < 0)
		log_err("fabric: out of memory");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct vipd *d = arg;

	if (sig == SIGHUP) {
		reload(d);
		return;
	}
	log_info("signal %d: stopping", (int)sig);
	while (d->groups)
		group_free(d->groups);
	fabric_stop(d);
	event_base_loopbreak(d->base);
}

static void on_netlink(evutil_socket_t fd, short what, void *arg)
{
	struct vipd *d = arg;

	if (nl_drain(&d->nlmon) != 0)
		iface_schedule_rescan(d, RESCAN_COALESCE_US);
}

/* After the sockets are open vipd needs CAP_NET_RAW (packet sockets for groups added by a
 * reload) and CAP_NET_ADMIN (addresses, multicast membership); everything else goes. The
 * bounding set is emptied and no_new_privs set: vipd never execs, nothing can be regained. */
static int drop_privileges(void)
{
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_RAW,
			  CAP_NET_ADMIN, -1) < 0 ||
	    capng_apply(CAPNG_SELECT_BOTH) < 0)
		return -1;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vipd -c FILE [-n] [-d]\n"
		   "  -c FILE  configuration (YAML)\n"
		   "  -n       validate, print the normalized configuration, exit\n"
		   "  -d       debug logging\n");
}

int main(int argc, char **argv)
{
	struct vipd d = { 0 };
	struct event *sigs[4];
	static const int signums[4] = { SIGTERM, SIGINT, SIGHUP, 0 };
	const char *path = NULL;
	bool check = false;
	enum log_level level = LOG_LVL_INFO;
	char err[512];
	int opt, ret;

	while ((opt = getopt(argc, argv, "c:ndh")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'd':
			level = LOG_LVL_DEBUG;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!path || optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("vipd", level);
	if (vipd_cfg_load(path, &d.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "vipd: %s\n", err);
		return EXIT_CONFIG;
	}
	if (check) {
		vipd_cfg_print(&d.cfg, stdout);
		vipd_cfg_free(&d.cfg);
		return 0;
	}
	d.cfg_path = path;
	signal(SIGPIPE, SIG_IGN);

	struct event_config *ecfg = event_config_new();

	event_config_set_flag(ecfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	d.base = event_base_new_with_config(ecfg);
	event_config_free(ecfg);
	if (!d.base) {
		log_err("event loop: cannot create");
		return 1;
	}
	ret = nl_open(&d.nlreq, 0);
	if (!ret)
		/* Netconf: a change of the interface's IPv6 forwarding flips R in our NAs. */
		ret = nl_open(&d.nlmon, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
					    RTMGRP_IPV6_IFINFO | (1u << (RTNLGRP_IPV6_NETCONF - 1)));
	if (ret) {
		log_err("netlink: %s", strerror(-ret));
		return 1;
	}
	d.ev_nl = event_new(d.base, nl_fd(&d.nlmon), EV_READ | EV_PERSIST, on_netlink, &d);
	event_add(d.ev_nl, NULL);
	d.ctl = ctl_server_open(d.base, d.cfg.control_socket, on_ctl_request, &d, &ret);
	if (!d.ctl) {
		log_err("control socket %s: %s", d.cfg.control_socket, strerror(-ret));
		return 1;
	}
	for (int i = 0; signums[i]; i++) {
		sigs[i] = evsignal_new(d.base, signums[i], on_signal, &d);
		event_add(sigs[i], NULL);
	}
	apply_groups(&d, &d.cfg);
	if (fabric_start(&d) < 0) {
		log_err("fabric: out of memory");
		return 1;
	}
	if (drop_privileges() < 0) {
		log_err("cannot drop capabilities");
		return 1;
	}
	log_info("node %s: %zu group(s), control socket %s", d.cfg.node, d.cfg.ngroups,
		 d.cfg.control_socket);
	event_base_dispatch(d.base);

	for (int i = 0; signums[i]; i++)
		event_free(sigs[i]);
	if (d.ev_rescan)
		event_free(d.ev_rescan);
	event_free(d.ev_nl);
	ctl_server_close(d.ctl);
	nl_close(&d.nlmon);
	nl_close(&d.nlreq);
	vipd_cfg_free(&d.cfg);
	event_base_free(d.base);
	log_info("stopped");
	return 0;
}
