/*
 * ldpio.c - LDP on the wire: a packet socket per port bound to EtherType 0x88B5 (delivered
 * after tc, where the data plane passed it up: never a tap on every frame), the link
 * monitor for carrier changes, and the timer the pure state machine (ldp.c) asks for. What
 * the machine decides goes to fwd.c (the data plane) and to fabricd.
 */
#include <errno.h>
#include <event2/event.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include "log.h"
#include "pkt/eth.h"
#include "rawsock.h"
#include "switchd.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000       /* linux/if.h: the carrier is on */
#endif

static void arm(struct switchd *s)
{
	struct monotime now = monotime_now(), at = ldp_next_deadline(&s->ldp);
	int64_t us = monotime_diff_us(at, now);
	struct timeval tv;

	if (us < 0)
		us = 0;
	tv.tv_sec = us / 1000000;
	tv.tv_usec = us % 1000000;
	evtimer_add(s->ldp_timer, &tv);
}

static void drain(struct switchd *s, int port);

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct switchd *s = arg;
	struct monotime now = monotime_now();

	/* before a neighbour is taken for lost, what its port's socket holds: after a stall of
	 * our own (this process not scheduled) its LDMs are there, read after the timer */
	for (int i = 0; i < s->nports; i++)
		if (ldp_dead_due(&s->ldp, i, now))
			drain(s, i);
	ldp_tick(&s->ldp, monotime_now());
	fwd_check_routes(s);
	arm(s);
}

static void op_send(void *ctx, int port, const struct ldp_msg *m)
{
	struct switchd *s = ctx;
	uint8_t frame[64];
	ssize_t n = ldp_build_frame(frame, sizeof(frame), &s->ports[port].mac, m);

	if (n < 0 || s->io[port].ldp_fd < 0 ||
	    rawsock_send(s->io[port].ldp_fd, s->ports[port].ifindex, frame, (size_t)n) < 0) {
		s->c.ldp_tx_errors++;
		return;
	}
	s->c.ldp_tx++;
}

/* fabricd gives a pod only to the edge at position 0: the request goes with the location
 * that says so (the machine asks before it is located). */
static void op_request_pod(void *ctx)
{
	struct switchd *s = ctx;

	if (switchd_report_pod_request(s))
		log_info("ldp: the edge at position 0 of its pod: pod number asked of fabricd");
}

static void op_located(void *ctx, const struct ldp_location *loc)
{
	struct switchd *s = ctx;
	bool was = s->located;

	s->loc = *loc;
	s->located = loc->located;
	s->c.located_changes++;
	if (!loc->located) {
		log_warn("ldp: located no more: the edge decision is taken back (switches on host "
			 "ports); forwarding stops until LDP decides again");
		if (s->nhosts) {
			log_warn("edge: %zu host(s) learnt as an edge forgotten", s->nhosts);
			age_forget_all(s);
		}
	}
	else if (!was)
		log_info("ldp: located: %s, pod %d, position %d", ldp_level_name(loc->level),
			 loc->pod, loc->position);
	else
		log_info("ldp: location changed: %s, pod %d, position %d",
			 ldp_level_name(loc->level), loc->pod, loc->position);
	if (fwd_apply(s) < 0)
		log_err("ldp: the data plane could not take the location");
	switchd_report(s);
	mcast_ports_changed(s);
}

static void op_miswired(void *ctx, int port, enum ldp_miswire why, const struct ldp_msg *seen)
{
	struct switchd *s = ctx;
	int i;

	for (i = 0; i < s->nmis && !(s->mis[i].port == port && s->mis[i].why == why); i++)
		;
	if (i == s->nmis && s->nmis < SWITCHD_MAX_PORTS)
		s->nmis++;
	if (i < s->nmis) {
		s->mis[i].port = (uint8_t)port;
		s->mis[i].why = (uint8_t)why;
		s->mis[i].peer = seen->switch_id;
	}
	s->c.miswirings++;
	log_warn("ldp: port %s miswired: %s (neighbour %s, %s)", s->ports[port].name,
		 ldp_miswire_name(why), mac_fmt(&seen->switch_id, (char[MAC_STRLEN]){ 0 }),
		 ldp_level_name(seen->level));
	switchd_report(s);
}

static uint32_t op_random(void *ctx)
{
	uint32_t r;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)random();
	return r;
}

static const struct ldp_ops ops = {
	.send = op_send,
	.request_pod = op_request_pod,
	.located = op_located,
	.miswired = op_miswired,
	.random = op_random,
};

static int port_of_fd(const struct switchd *s, int fd)
{
	for (int i = 0; i < s->nports; i++)
		if (s->io[i].ldp_fd == fd)
			return i;
	return -1;
}

/* Every LDM queued on a port's socket (64 at most a call), to the machine. */
static void drain(struct switchd *s, int port)
{
	uint8_t buf[256];
	int fd = s->io[port].ldp_fd;

	for (int n = 0; fd >= 0 && n < 64; n++) {
		ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct eth_hdr eh;

		if (len < 0)
			break;
		s->c.ldp_rx++;
		if (eth_parse(buf, (size_t)len, &eh) < 0 || eh.type != ETHERTYPE_LDP) {
			s->c.frames_dropped++;
			continue;
		}
		ldp_rx_payload(&s->ldp, monotime_now(), port, buf + ETH_HDR_LEN,
			       (size_t)len - ETH_HDR_LEN);
	}
}

static void on_ldp(evutil_socket_t fd, short what, void *arg)
{
	struct switchd *s = arg;
	int port = port_of_fd(s, fd);

	if (port >= 0)
		drain(s, port);
	fwd_check_routes(s);
	arm(s);
}

/* Carrier of a port came or went. */
static int on_link_msg(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct switchd *s = data;

	for (int i = 0; i < s->nports; i++) {
		bool up = nlh->nlmsg_type == RTM_NEWLINK && (ifi->ifi_flags & IFF_LOWER_UP);

		if (s->ports[i].ifindex != ifi->ifi_index || s->ports[i].carrier == up)
			continue;
		s->ports[i].carrier = up;
		log_info("port %s: carrier %s", s->ports[i].name, up ? "up" : "down");
		if (up)
			ldp_port_up(&s->ldp, monotime_now(), i);
		else
			ldp_port_down(&s->ldp, monotime_now(), i);
	}
	return MNL_CB_OK;
}

static void on_mon(evutil_socket_t fd, short what, void *arg)
{
	struct switchd *s = arg;
	char buf[16384];

	for (int n = 0; n < 64; n++) {
		ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (len <= 0)
			break;
		mnl_cb_run(buf, (size_t)len, 0, 0, on_link_msg, s);
	}
	arm(s);
}

void ldpio_pod(struct switchd *s, int pod)
{
	ldp_pod_assigned(&s->ldp, monotime_now(), pod);
	arm(s);
}

int ldpio_start(struct switchd *s)
{
	struct monotime now = monotime_now();
	struct ldp_timers t = switchd_cfg_timers(&s->cfg);
	int err = ldp_init(&s->ldp, &s->switch_id, s->nports, now, &t, &ops, s);

	if (err < 0) {
		log_err("ldp: %d ports: a switch of a fat tree has an even number of them, 2 to %d",
			s->nports, LDP_MAX_PORTS);
		return err;
	}
	for (int i = 0; i < s->nports; i++) {
		s->io[i].ldp_fd = rawsock_open_proto(s->ports[i].ifindex, ETHERTYPE_LDP, NULL, 0);
		if (s->io[i].ldp_fd < 0) {
			log_err("ldp: port %s: packet socket: %s", s->ports[i].name,
				strerror(-s->io[i].ldp_fd));
			return s->io[i].ldp_fd;
		}
		s->io[i].ldp_ev = event_new(s->base, s->io[i].ldp_fd, EV_READ | EV_PERSIST, on_ldp, s);
		if (!s->io[i].ldp_ev || event_add(s->io[i].ldp_ev, NULL) < 0)
			return -ENOMEM;
	}
	s->mon_ev = event_new(s->base, nl_fd(&s->mon), EV_READ | EV_PERSIST, on_mon, s);
	s->ldp_timer = evtimer_new(s->base, on_timer, s);
	if (!s->mon_ev || !s->ldp_timer || event_add(s->mon_ev, NULL) < 0)
		return -ENOMEM;
	for (int i = 0; i < s->nports; i++)
		if (s->ports[i].carrier)
			ldp_port_up(&s->ldp, now, i);
	arm(s);
	return 0;
}

void ldpio_stop(struct switchd *s)
{
	for (int i = 0; i < s->nports; i++) {
		if (s->io[i].ldp_ev)
			event_free(s->io[i].ldp_ev);
		if (s->io[i].ldp_fd >= 0)
			close(s->io[i].ldp_fd);
		s->io[i].ldp_ev = NULL;
		s->io[i].ldp_fd = -1;
	}
	if (s->mon_ev)
		event_free(s->mon_ev);
	if (s->ldp_timer)
		event_free(s->ldp_timer);
	s->mon_ev = s->ldp_timer = NULL;
}
