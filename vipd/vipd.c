/*
 * vipd.c - service VIPs on a Layer-2 segment: main (lib/daemon's shape), reload and the
 * control socket.
 *
 * vipd -c FILE [-n] [-f] [-v]: the common options of lib/daemon.h.
 * SIGTERM/SIGINT: masters send priority 0 and remove what they assigned, then exit.
 * SIGHUP: reload; groups whose configuration is unchanged keep running untouched.
 */
#include <errno.h>
#include <event2/event.h>
#include <linux/capability.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ctlsrv.h"
#include "daemon.h"
#include "log.h"
#include "nlq.h"
#include "vipd.h"

/* The control and status sockets (proto/ctlsrv): vipd answers vip_status, on both. */
static void on_ctl_request(void *ctx, const L2f__Request *req, bool readonly, L2f__Reply *r,
			   struct ctlsrv_cleanup *cl)
{
	if (req->op_case == L2F__REQUEST__OP_VIP_STATUS)
		vipd_status_reply(ctx, r, cl);
	else
		r->error = "vipd answers vip status only";
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
	log_set_level(daemon_log_level(&d->dm, cfg.log_level));
	if (strcmp(cfg.metrics, d->cfg.metrics) || strcmp(cfg.log_file, d->cfg.log_file) ||
	    strcmp(cfg.status_socket, d->cfg.status_socket))
		log_warn("reload: metrics, log_file and status_socket change at restart only");
	memcpy(cfg.status_socket, d->cfg.status_socket, sizeof(cfg.status_socket));
	memcpy(cfg.metrics, d->cfg.metrics, sizeof(cfg.metrics));
	memcpy(cfg.log_file, d->cfg.log_file, sizeof(cfg.log_file));
	apply_groups(d, &cfg);
	vipd_cfg_free(&d->cfg);
	d->cfg = cfg;
	if (fabric_start(d) < 0)
		log_err("fabric: out of memory");
}

static void on_reload(void *arg)
{
	reload(arg);
}

/* SIGTERM/SIGINT: masters send priority 0 and remove what they assigned. */
static void on_stop(void *arg)
{
	struct vipd *d = arg;

	while (d->groups)
		group_free(d->groups);
	fabric_stop(d);
}

static void on_netlink(evutil_socket_t fd, short what, void *arg)
{
	struct vipd *d = arg;

	if (nl_drain(&d->nlmon) != 0)
		iface_schedule_rescan(d, RESCAN_COALESCE_US);
}

/* Once the sockets are open vipd keeps CAP_NET_RAW (packet sockets for groups a reload adds)
 * and CAP_NET_ADMIN (addresses, multicast membership, sysctls); everything else goes. */
static const struct daemon_spec vipd_spec = {
	.name = "vipd",
	.synopsis = "",
	.config_required = true,
	.caps = { CAP_NET_RAW, CAP_NET_ADMIN, -1 },
};

int main(int argc, char **argv)
{
	struct vipd d = { 0 };
	char err[512];
	int ret;

	ret = daemon_args(&d.dm, &vipd_spec, argc, argv);
	if (ret >= 0)
		return ret;
	if (vipd_cfg_load(d.dm.config, &d.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "vipd: %s\n", err);
		return EXIT_CONFIG;
	}
	if (d.dm.check) {
		vipd_cfg_print(&d.cfg, stdout);
		vipd_cfg_free(&d.cfg);
		return 0;
	}
	d.cfg_path = d.dm.config;
	if (daemon_start(&d.dm, d.cfg.log_level, d.cfg.log_file[0] ? d.cfg.log_file : NULL, on_stop,
			 on_reload, &d) < 0)
		return 1;
	d.base = d.dm.base;
	ret = nl_open(&d.nlreq, 0);
	if (!ret)
		ret = nlq_new(d.base, &d.nlq);
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
	d.ctl = ctlsrv_open(d.base, d.cfg.control_socket, 0660, d.cfg.node, L2F__ROLE__ROLE_VIPD,
			    false, on_ctl_request, &d, &ret);
	if (!d.ctl) {
		log_err("control socket %s: %s", d.cfg.control_socket, strerror(-ret));
		return 1;
	}
	if (d.cfg.status_socket[0]) {
		d.ctl_status = ctlsrv_open(d.base, d.cfg.status_socket, 0666, d.cfg.node,
					   L2F__ROLE__ROLE_VIPD, true, on_ctl_request, &d, &ret);
		if (!d.ctl_status) {
			log_err("status socket %s: %s", d.cfg.status_socket, strerror(-ret));
			return 1;
		}
	}
	apply_groups(&d, &d.cfg);
	if (fabric_start(&d) < 0) {
		log_err("fabric: out of memory");
		return 1;
	}
	log_info("node %s: %zu group(s), control socket %s", d.cfg.node, d.cfg.ngroups,
		 d.cfg.control_socket);
	if (daemon_metrics(&d.dm, d.cfg.metrics, vipd_metrics, &d) < 0)
		return 1;
	if (daemon_ready(&d.dm, "running") < 0)
		return 1;
	event_base_dispatch(d.base);
	/* The stop hook removed the VIPs: their requests are answered before vipd goes (at
	 * most NLQ_TIMEOUT_MS, the one wait a stop allows). */
	for (int i = 0; nlq_pending(d.nlq) && i < 1000; i++)
		event_base_loop(d.base, EVLOOP_ONCE);

	if (d.ev_rescan)
		event_free(d.ev_rescan);
	event_free(d.ev_nl);
	ctlsrv_close(d.ctl);
	ctlsrv_close(d.ctl_status);
	nl_close(&d.nlmon);
	nl_close(&d.nlreq);
	nlq_free(d.nlq);
	vipd_cfg_free(&d.cfg);
	daemon_finish(&d.dm);
	return 0;
}
