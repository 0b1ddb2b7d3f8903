/*
 * fabric.c - vipd's optional session with fabricd (the `fabric` section): for every group
 * with fabric_vni, a Master message (vni, virtual MAC, this hypervisor's host id) each time
 * the group becomes master, and again for every group that is master whenever the session
 * (re)opens, so that a restarted fabricd learns the masters at once. HA ports in track mode
 * follow their master this way (docs/protocol.md).
 *
 * The session never delays VRRP: connecting is non-blocking, messages are queued by the wire
 * layer, and a failed or closed session is retried with backoff (100 ms doubling to 5 s).
 * Reports made while disconnected are not queued: the reconnect sends the current state.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "vipd.h"
#include "wire.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct fabric {
	struct vipd *d;
	char connect[sizeof(((struct vipd_cfg *)0)->fabric.connect)];
	struct wire *w;
	bool up;                       /* fabricd's Hello came */
	struct event *ev_retry;
	int backoff_ms;
	uint64_t sessions;
	uint64_t reports_sent;
	uint64_t reports_failed;
	char last_error[96];
};

static void send_master(struct fabric *f, const struct group *g)
{
	L2f__Envelope env = L2F__ENVELOPE__INIT;
	L2f__Master m = L2F__MASTER__INIT;
	char mac[MAC_STRLEN];
	int ret;

	m.vni = g->cfg.fabric_vni;
	m.mac.data = (uint8_t *)g->cfg.vmac.b;
	m.mac.len = MAC_LEN;
	m.host = (char *)f->d->cfg.fabric.host;
	env.msg_case = L2F__ENVELOPE__MSG_MASTER;
	env.master = &m;
	ret = wire_send(f->w, &env);
	if (ret) {
		f->reports_failed++;
		log_warn("%s: master report to fabricd: %s", g->cfg.name, strerror(-ret));
		return;
	}
	f->reports_sent++;
	log_info("%s: reported master of vni %u %s at %s to fabricd", g->cfg.name, m.vni,
		 mac_fmt(&g->cfg.vmac, mac), m.host);
}

static void retry_later(struct fabric *f)
{
	struct timeval tv = { f->backoff_ms / 1000, (f->backoff_ms % 1000) * 1000 };

	evtimer_add(f->ev_retry, &tv);
	f->backoff_ms = f->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : f->backoff_ms * 2;
}

static void on_hello(struct wire *w, void *ctx)
{
	struct fabric *f = ctx;

	if (wire_peer(w)->role != L2F__ROLE__ROLE_FABRICD) {
		wire_close(w, "peer is not fabricd");
		return;
	}
	f->up = true;
	f->sessions++;
	f->backoff_ms = BACKOFF_MIN_MS;
	f->last_error[0] = 0;
	log_info("fabric: connected to %s", wire_name(w));
	for (const struct group *g = f->d->groups; g; g = g->next)
		if (g->cfg.fabric_vni && group_is_master(g))
			send_master(f, g);
}

static void on_msg(struct wire *w, const L2f__Envelope *env, void *ctx)
{
	wire_close(w, "unexpected message from fabricd");
}

static void on_close(struct wire *w, const char *why, void *ctx)
{
	struct fabric *f = ctx;

	if (f->up)
		log_warn("fabric: session closed: %s; retrying", why);
	snprintf(f->last_error, sizeof(f->last_error), "%s", why);
	f->w = NULL;
	f->up = false;
	retry_later(f);
}

static const struct wire_ops fabric_ops = { on_hello, on_msg, on_close };

static void do_connect(evutil_socket_t s, short what, void *arg)
{
	struct fabric *f = arg;
	L2f__Hello hello = L2F__HELLO__INIT;
	int fd;

	fd = wire_connect(f->connect);
	if (fd < 0) {
		snprintf(f->last_error, sizeof(f->last_error), "connect: %s", strerror(-fd));
		retry_later(f);
		return;
	}
	hello.version = PROTO_VERSION;
	hello.role = L2F__ROLE__ROLE_VIPD;
	hello.id = f->d->cfg.node;
	f->w = wire_new(f->d->base, fd, &hello, &fabric_ops, f);
	if (!f->w)
		retry_later(f);
}

void fabric_stop(struct vipd *d)
{
	struct fabric *f = d->fabric;

	if (!f)
		return;
	d->fabric = NULL;
	if (f->w) {
		f->up = false;
		wire_close(f->w, "vipd stopping");
	}
	event_free(f->ev_retry);
	free(f);
}

int fabric_start(struct vipd *d)
{
	struct fabric *f;

	if (d->fabric && !strcmp(d->fabric->connect, d->cfg.fabric.connect))
		return 0;
	fabric_stop(d);
	if (!d->cfg.fabric.connect[0])
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->d = d;
	snprintf(f->connect, sizeof(f->connect), "%s", d->cfg.fabric.connect);
	f->backoff_ms = BACKOFF_MIN_MS;
	f->ev_retry = evtimer_new(d->base, do_connect, f);
	if (!f->ev_retry) {
		free(f);
		return -ENOMEM;
	}
	d->fabric = f;
	log_info("fabric: reporting masters to fabricd at %s as host %s", f->connect,
		 d->cfg.fabric.host);
	do_connect(-1, 0, f);
	return 0;
}

void fabric_master(struct group *g)
{
	struct fabric *f = g->d->fabric;

	if (!f || !g->cfg.fabric_vni)
		return;
	if (f->up)
		send_master(f, g);
}

void fabric_status(const struct vipd *d, struct fabric_status *out)
{
	const struct fabric *f = d->fabric;

	memset(out, 0, sizeof(*out));
	if (!f)
		return;
	out->configured = true;
	out->connect = f->connect;
	out->connected = f->up;
	out->sessions = f->sessions;
	out->reports_sent = f->reports_sent;
	out->reports_failed = f->reports_failed;
	out->last_error = f->last_error;
}
