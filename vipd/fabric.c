/*
 * fabric.c - vipd's optional session with fabricd (the `fabric` section): for every group
 * with fabric_vni, a Master message (vni, virtual MAC, this hypervisor's host id) each time
 * the group becomes master, and again for every group that is master whenever the session
 * (re)opens, so that a restarted fabricd learns the masters at once. HA ports in track mode
 * follow their master this way (docs/protocol.md).
 *
 * The session never delays VRRP: it is proto/client.c's wire_client (non-blocking connect,
 * messages queued by the wire layer, reconnects with backoff and jitter); over TCP it is
 * mutual TLS, and the certificate (urn:l2fabric:vipd:HOST) names the hypervisor this vipd
 * reports for. Reports made while disconnected are not queued: the reconnect sends the
 * current state.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "vipd.h"
#include "wire.h"

struct fabric {
	struct vipd *d;
	char connect[sizeof(((struct vipd_cfg *)0)->fabric.connect)];
	struct wire_client *c;
	struct wire_tls *tls;
	L2f__Hello hello;
	uint64_t reports_sent;
	uint64_t reports_failed;
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
	ret = wire_send(wire_client_session(f->c), &env);
	if (ret) {
		f->reports_failed++;
		log_warn("%s: master report to fabricd: %s", g->cfg.name, strerror(-ret));
		return;
	}
	f->reports_sent++;
	log_info("%s: reported master of vni %u %s at %s to fabricd", g->cfg.name, m.vni,
		 mac_fmt(&g->cfg.vmac, mac), m.host);
}

static void on_hello(struct wire *w, void *ctx)
{
	struct fabric *f = ctx;

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
	log_warn("fabric: session closed: %s; retrying", why);
}

static const struct wire_ops fabric_ops = {
	.on_hello = on_hello,
	.on_msg = on_msg,
	.on_close = on_close,
};

void fabric_stop(struct vipd *d)
{
	struct fabric *f = d->fabric;

	if (!f)
		return;
	d->fabric = NULL;
	wire_client_free(f->c, "vipd stopping");
	wire_tls_free(f->tls);
	free(f);
}

/* TLS for a TCP connect: our certificate must be a vipd's for the host we report as. */
static int fabric_tls(struct fabric *f, const struct vipd_cfg *cfg)
{
	struct wire_tls_files files = { cfg->fabric.ca, cfg->fabric.cert, cfg->fabric.key };
	char err[320], host[WIRE_ID_MAX + 1];

	if (!cfg->fabric.ca[0])
		return 0;
	/* fabric.host is always set: the certificate must name that host */
	snprintf(host, sizeof(host), "%s", cfg->fabric.host);
	if (wire_tls_for(&files, false, L2F__ROLE__ROLE_VIPD, host, sizeof(host), &f->tls, err,
			 sizeof(err)) < 0) {
		log_err("fabric: %s (fabric.host)", err);
		return -EPERM;
	}
	return 0;
}

int fabric_start(struct vipd *d)
{
	struct wire_client_opts o = { .ops = &fabric_ops };
	struct fabric *f;
	int err;

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
	err = fabric_tls(f, &d->cfg);
	if (err) {
		free(f);
		return err;
	}
	/* the Hello speaks for the host whose masters this vipd reports */
	l2f__hello__init(&f->hello);
	f->hello.version = PROTO_VERSION;
	f->hello.role = L2F__ROLE__ROLE_VIPD;
	f->hello.id = d->cfg.fabric.host;
	o.addr = f->connect;
	o.tls = f->tls;
	o.hello = &f->hello;
	o.ctx = f;
	err = wire_client_new(d->base, &o, &f->c);
	if (err) {
		wire_tls_free(f->tls);
		free(f);
		return err;
	}
	d->fabric = f;
	log_info("fabric: reporting masters to fabricd at %s as host %s%s", f->connect,
		 d->cfg.fabric.host, f->tls ? " (TLS)" : "");
	return 0;
}

void fabric_master(struct group *g)
{
	struct fabric *f = g->d->fabric;

	if (!f || !g->cfg.fabric_vni)
		return;
	if (wire_client_session(f->c))
		send_master(f, g);
}

void fabric_status(const struct vipd *d, struct fabric_status *out)
{
	const struct fabric *f = d->fabric;

	memset(out, 0, sizeof(*out));
	if (!f)
		return;
	const struct wire_client_status *st = wire_client_status(f->c);

	out->configured = true;
	out->connect = f->connect;
	out->connected = st->connected;
	out->sessions = st->sessions;
	out->reports_sent = f->reports_sent;
	out->reports_failed = f->reports_failed;
	out->last_error = st->last_error;
}
