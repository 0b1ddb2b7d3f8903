/*
 * wirepeer.c - a peer of fabricd that says what it is told to, on the project's own wire
 * stack (proto/wire.c, proto/tls.c): the attacker of tests/netns/test_fabricd_auth.sh and
 * test_fabricd_limits.sh. It is a well-behaved client (TLS 1.3 with a certificate, fabricd's
 * certificate and Hello checked as every client checks them), so what fabricd refuses is what
 * the messages say, never a broken handshake.
 *
 *   wirepeer -f HOST:PORT|unix:/path [--ca F --cert F --key F] --role vtepd|vipd|fabricctl
 *            [--id ID] [--vtep ADDR] [--vni N]... [--proto-version N]
 *            [--report VNI,MAC[,IP...][,seq=N][;VNI,MAC...]] [--report-full] [--full]
 *            [--bulk VNI,COUNT[,FIRST]] [--withdraw VNI,MAC] [--master VNI,MAC,HOST]
 *            [--request host_list|port_list|status]... [--hold SECONDS] [--hello-wait MS]
 *
 * TLS when --cert is given (then --ca and --key too); --id defaults to the certificate's id.
 * It connects, sends its Hello, and once fabricd's Hello has come, every message given, in
 * the order given: --report one Report (entries separated by ';'), --report-full an empty full
 * Report (as vtepd sends after each Hello), --full makes the next Report a full one, --bulk
 * one Report of COUNT learned MACs 02:7e:xx:xx:xx:xx (i = FIRST..FIRST+COUNT-1, FIRST 0 by
 * default), each with the address 2001:db8:7e::(i + 1), --withdraw a Report withdrawing a
 * MAC, --master a Master, --request a Request. Then it stays --hold seconds (default 1;
 * fractions allowed) and closes.
 *
 * What it observes, on stdout, one line each:
 *   hello ROLE ID                                      fabricd's Hello
 *   sent KIND ...                                      each message as it is queued
 *   update adds N dels N floods N full 0|1 more 0|1    each Update
 *   reply error TEXT | reply ports N hosts N fdb N status 0|1 more 0|1
 *   closed REASON                                      the session ended, not by us
 * Exit: 0 the session was up and we closed it after --hold; 1 it was ended by fabricd or the
 * network (the "closed" line says why); 2 usage; 3 a local failure (TLS files, connect, a
 * message our own wire refuses to send); 4 no Hello from fabricd within --hello-wait (5000 ms).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "fabric.pb-c.h"
#include "log.h"
#include "tls.h"
#include "wire.h"

#define MAX_MSGS 64
#define MAX_VNIS 64
#define MAX_BULK 1000000

enum msg_kind { M_REPORT, M_REPORT_FULL, M_BULK, M_WITHDRAW, M_MASTER, M_REQUEST, M_FULL_NEXT };

struct msg_spec {
	enum msg_kind kind;
	const char *arg;
};

struct peer {
	struct event_base *base;
	struct wire *w;
	struct event *ev_hold, *ev_hello;
	struct msg_spec msgs[MAX_MSGS];
	int nmsgs;
	double hold_s;
	int hello_wait_ms;
	bool up, closing;
	bool full_next;                /* --full: the next Report is a full one */
	int rc;
};

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* --- building messages -------------------------------------------------------------------- */

/* What one Report needs to stay alive until it is packed. */
struct report_buf {
	L2f__Learned *l;
	L2f__Learned **lp;
	ProtobufCBinaryData *ipd;
	uint8_t *raw;                  /* per entry: 6 bytes of MAC, then 16 per address */
	size_t n;
};

static int report_alloc(struct report_buf *rb, size_t n)
{
	rb->n = n;
	rb->l = calloc(n ? n : 1, sizeof(*rb->l));
	rb->lp = calloc(n ? n : 1, sizeof(*rb->lp));
	rb->ipd = calloc(n ? n * WIRE_MAX_IPS : 1, sizeof(*rb->ipd));
	rb->raw = calloc(n ? n : 1, 6 + 16 * WIRE_MAX_IPS);
	return rb->l && rb->lp && rb->ipd && rb->raw ? 0 : -ENOMEM;
}

static void report_free(struct report_buf *rb)
{
	free(rb->l);
	free(rb->lp);
	free(rb->ipd);
	free(rb->raw);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end || *v > max || *s == '-' ? -EINVAL : 0;
}

/* Entry j of rb from "VNI,MAC[,IP...][,seq=N]" (the string is modified). */
static int entry_parse(struct report_buf *rb, size_t j, char *s, bool withdrawn)
{
	L2f__Learned *l = &rb->l[j];
	uint8_t *raw = rb->raw + j * (6 + 16 * WIRE_MAX_IPS);
	char *save = NULL, *tok;
	uint64_t v;
	int field = 0;

	l2f__learned__init(l);
	rb->lp[j] = l;
	l->ips = &rb->ipd[j * WIRE_MAX_IPS];
	if (withdrawn)
		l->has_withdrawn = l->withdrawn = true;
	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save), field++) {
		struct ipaddr a;

		if (field == 0) {
			if (parse_u64(tok, VNI_MAX, &v))
				return -EINVAL;
			l->vni = (uint32_t)v;
		} else if (field == 1) {
			if (mac_parse(tok, (struct mac *)raw))
				return -EINVAL;
			l->mac = (ProtobufCBinaryData){ 6, raw };
		} else if (!strncmp(tok, "seq=", 4)) {
			if (parse_u64(tok + 4, UINT64_MAX, &l->seq))
				return -EINVAL;
			l->has_seq = true;
		} else {
			uint8_t *dst = raw + 6 + 16 * l->n_ips;

			if (l->n_ips == WIRE_MAX_IPS || ipaddr_parse(tok, &a))
				return -EINVAL;
			memcpy(dst, a.b, ipaddr_len(&a));
			l->ips[l->n_ips++] = (ProtobufCBinaryData){ ipaddr_len(&a), dst };
		}
	}
	return field >= 2 && (!withdrawn || field == 2) ? 0 : -EINVAL;
}

/* "E1;E2;..." into rb. */
static int report_parse(struct report_buf *rb, const char *arg, bool withdrawn)
{
	char *copy = strdup(arg), *save = NULL, *e;
	size_t n = 1;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	for (const char *p = arg; *p; p++)
		n += *p == ';';
	if (report_alloc(rb, n) < 0) {
		free(copy);
		return -ENOMEM;
	}
	n = 0;
	for (e = strtok_r(copy, ";", &save); e && !ret; e = strtok_r(NULL, ";", &save))
		ret = entry_parse(rb, n++, e, withdrawn);
	rb->n = n;
	free(copy);
	return ret || n == 0 ? -EINVAL : 0;
}

/* "VNI,COUNT[,FIRST]": COUNT MACs 02:7e:(i), each with 2001:db8:7e::(i + 1), i from FIRST. */
static int bulk_build(struct report_buf *rb, const char *arg)
{
	uint64_t vni, count, first = 0;
	char *copy = strdup(arg), *save = NULL;
	char *a = copy ? strtok_r(copy, ",", &save) : NULL, *b = strtok_r(NULL, ",", &save);
	char *c = strtok_r(NULL, ",", &save);
	int ret = -EINVAL;

	if (b && !strtok_r(NULL, ",", &save) && !parse_u64(a, VNI_MAX, &vni) &&
	    !parse_u64(b, MAX_BULK, &count) && count > 0 &&
	    (!c || !parse_u64(c, 0xfffffffeu - MAX_BULK, &first)))
		ret = report_alloc(rb, (size_t)count);
	free(copy);
	for (size_t j = 0; !ret && j < rb->n; j++) {
		uint8_t *raw = rb->raw + j * (6 + 16 * WIRE_MAX_IPS), *v6 = raw + 6;
		size_t i = j + first;
		static const uint8_t pfx[6] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x7e };

		l2f__learned__init(&rb->l[j]);
		rb->lp[j] = &rb->l[j];
		raw[0] = 0x02, raw[1] = 0x7e, raw[2] = (uint8_t)(i >> 24);
		raw[3] = (uint8_t)(i >> 16), raw[4] = (uint8_t)(i >> 8), raw[5] = (uint8_t)i;
		memcpy(v6, pfx, sizeof(pfx));
		v6[12] = (uint8_t)((i + 1) >> 24), v6[13] = (uint8_t)((i + 1) >> 16);
		v6[14] = (uint8_t)((i + 1) >> 8), v6[15] = (uint8_t)(i + 1);
		rb->l[j].vni = (uint32_t)vni;
		rb->l[j].mac = (ProtobufCBinaryData){ 6, raw };
		rb->l[j].ips = &rb->ipd[j * WIRE_MAX_IPS];
		rb->l[j].ips[0] = (ProtobufCBinaryData){ 16, v6 };
		rb->l[j].n_ips = 1;
	}
	return ret;
}

static int send_report(struct peer *p, const struct msg_spec *m)
{
	L2f__Envelope env = L2F__ENVELOPE__INIT;
	L2f__Report r = L2F__REPORT__INIT;
	struct report_buf rb = { 0 };
	int ret = 0;

	if (m->kind == M_REPORT || m->kind == M_WITHDRAW)
		ret = report_parse(&rb, m->arg, m->kind == M_WITHDRAW);
	else if (m->kind == M_BULK)
		ret = bulk_build(&rb, m->arg);
	if (m->kind == M_REPORT_FULL || p->full_next)
		r.has_full = r.full = true;
	p->full_next = false;
	if (!ret) {
		r.entries = rb.lp;
		r.n_entries = rb.n;
		env.msg_case = L2F__ENVELOPE__MSG_REPORT;
		env.report = &r;
		ret = wire_send(p->w, &env);
		if (!ret)
			out("sent report entries %zu%s", rb.n, r.full ? " full" : "");
	}
	report_free(&rb);
	return ret;
}

static int send_master(struct peer *p, const char *arg)
{
	L2f__Envelope env = L2F__ENVELOPE__INIT;
	L2f__Master m = L2F__MASTER__INIT;
	char *copy = strdup(arg), *save = NULL;
	char *vni = copy ? strtok_r(copy, ",", &save) : NULL, *mac = strtok_r(NULL, ",", &save);
	char *host = strtok_r(NULL, ",", &save);
	struct mac raw;
	uint64_t v;
	int ret = -EINVAL;

	if (host && !parse_u64(vni, VNI_MAX, &v) && !mac_parse(mac, &raw)) {
		m.vni = (uint32_t)v;
		m.mac = (ProtobufCBinaryData){ 6, raw.b };
		m.host = host;
		env.msg_case = L2F__ENVELOPE__MSG_MASTER;
		env.master = &m;
		ret = wire_send(p->w, &env);
		if (!ret)
			out("sent master vni %u host %s", m.vni, host);
	}
	free(copy);
	return ret;
}

static int send_request(struct peer *p, const char *op)
{
	L2f__Envelope env = L2F__ENVELOPE__INIT;
	L2f__Request req = L2F__REQUEST__INIT;
	int ret;

	if (!strcmp(op, "host_list"))
		req.op_case = L2F__REQUEST__OP_HOST_LIST, req.host_list = true;
	else if (!strcmp(op, "port_list"))
		req.op_case = L2F__REQUEST__OP_PORT_LIST, req.port_list = true;
	else if (!strcmp(op, "status"))
		req.op_case = L2F__REQUEST__OP_STATUS, req.status = true;
	else
		return -EINVAL;
	env.msg_case = L2F__ENVELOPE__MSG_REQUEST;
	env.request = &req;
	ret = wire_send(p->w, &env);
	if (!ret)
		out("sent request %s", op);
	return ret;
}

static int send_one(struct peer *p, const struct msg_spec *m)
{
	switch (m->kind) {
	case M_REPORT:
	case M_REPORT_FULL:
	case M_BULK:
	case M_WITHDRAW:
		return send_report(p, m);
	case M_MASTER:
		return send_master(p, m->arg);
	case M_REQUEST:
		return send_request(p, m->arg);
	case M_FULL_NEXT:
		p->full_next = true;
		return 0;
	}
	return -EINVAL;
}

/* --- the session ------------------------------------------------------------------------ */

static void end(struct peer *p, int rc, const char *why)
{
	p->rc = rc;
	if (p->w) {
		p->closing = true;
		wire_close(p->w, why);
	}
	event_base_loopbreak(p->base);
}

static void on_hello(struct wire *w, void *ctx)
{
	struct peer *p = ctx;
	const L2f__Hello *h = wire_peer(w);
	struct timeval tv = { (time_t)p->hold_s, (long)((p->hold_s - (double)(time_t)p->hold_s) * 1e6) };

	p->up = true;
	evtimer_del(p->ev_hello);
	out("hello %s %s", wire_role_name(h->role) ? wire_role_name(h->role) : "?", h->id);
	for (int i = 0; i < p->nmsgs && !p->closing && p->w; i++) {
		int ret = send_one(p, &p->msgs[i]);

		if (ret) {
			fprintf(stderr, "wirepeer: message %d (%s): %s\n", i + 1,
				p->msgs[i].arg ? p->msgs[i].arg : "--report-full", strerror(-ret));
			end(p, 3, "a message could not be sent");
			return;
		}
	}
	if (p->w)
		evtimer_add(p->ev_hold, &tv);
}

static void on_msg(struct wire *w, const L2f__Envelope *env, void *ctx)
{
	if (env->msg_case == L2F__ENVELOPE__MSG_UPDATE) {
		const L2f__Update *u = env->update;

		out("update adds %zu dels %zu floods %zu full %d more %d", u->n_add, u->n_del,
		    u->n_flood, u->has_full && u->full, u->has_more && u->more);
	} else if (env->msg_case == L2F__ENVELOPE__MSG_REPLY) {
		const L2f__Reply *r = env->reply;

		if (r->error)
			out("reply error %s", r->error);
		else
			out("reply ports %zu hosts %zu fdb %zu status %d more %d", r->n_ports,
			    r->n_hosts, r->n_fdb, r->status != NULL, r->has_more && r->more);
	} else {
		out("message %d", (int)env->msg_case);
	}
}

static void on_close(struct wire *w, const char *why, void *ctx)
{
	struct peer *p = ctx;

	p->w = NULL;
	if (p->closing)
		return;
	out("closed %s", why);
	p->rc = 1;
	event_base_loopbreak(p->base);
}

static const struct wire_ops peer_ops = {
	.on_hello = on_hello,
	.on_msg = on_msg,
	.on_close = on_close,
};

static void on_hold(evutil_socket_t s, short what, void *arg)
{
	end(arg, 0, "hold over");
}

static void on_hello_wait(evutil_socket_t s, short what, void *arg)
{
	struct peer *p = arg;

	out("timeout no Hello from fabricd within %d ms", p->hello_wait_ms);
	end(p, 4, "no Hello in time");
}

/* --- main ----------------------------------------------------------------------------- */

static int usage(void)
{
	fprintf(stderr, "usage: wirepeer -f HOST:PORT|unix:/path [--ca F --cert F --key F] "
		"--role vtepd|vipd|fabricctl [--id ID] [--vtep ADDR] [--vni N]...\n"
		"       [--proto-version N] [--report VNI,MAC[,IP...][,seq=N][;...]] "
		"[--report-full] [--full] [--bulk VNI,COUNT[,FIRST]]\n"
		"       [--withdraw VNI,MAC] [--master VNI,MAC,HOST] "
		"[--request host_list|port_list|status] [--hold S] [--hello-wait MS]\n");
	return 2;
}

struct opts {
	const char *addr, *id, *role, *vtep;
	struct wire_tls_files tls;
	uint32_t vnis[MAX_VNIS];
	size_t nvnis;
	uint64_t version;
};

static int parse_opts(int argc, char **argv, struct opts *o, struct peer *p)
{
	static const struct option longopts[] = {
		{ "ca", required_argument, NULL, 'A' }, { "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' }, { "role", required_argument, NULL, 'r' },
		{ "id", required_argument, NULL, 'i' }, { "vtep", required_argument, NULL, 'v' },
		{ "vni", required_argument, NULL, 'n' },
		{ "proto-version", required_argument, NULL, 'V' },
		{ "report", required_argument, NULL, 'R' },
		{ "report-full", no_argument, NULL, 'F' }, { "full", no_argument, NULL, 'U' },
		{ "bulk", required_argument, NULL, 'B' },
		{ "withdraw", required_argument, NULL, 'W' },
		{ "master", required_argument, NULL, 'M' },
		{ "request", required_argument, NULL, 'Q' },
		{ "hold", required_argument, NULL, 'H' },
		{ "hello-wait", required_argument, NULL, 'w' },
		{ 0 },
	};
	static const enum msg_kind kinds[128] = {
		['R'] = M_REPORT, ['F'] = M_REPORT_FULL, ['B'] = M_BULK, ['W'] = M_WITHDRAW,
		['M'] = M_MASTER, ['Q'] = M_REQUEST, ['U'] = M_FULL_NEXT,
	};
	uint64_t v;
	char *end;
	int opt;

	while ((opt = getopt_long(argc, argv, "f:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f': o->addr = optarg; break;
		case 'A': o->tls.ca = optarg; break;
		case 'C': o->tls.cert = optarg; break;
		case 'K': o->tls.key = optarg; break;
		case 'r': o->role = optarg; break;
		case 'i': o->id = optarg; break;
		case 'v': o->vtep = optarg; break;
		case 'n':
			if (o->nvnis == MAX_VNIS || parse_u64(optarg, VNI_MAX, &v))
				return -EINVAL;
			o->vnis[o->nvnis++] = (uint32_t)v;
			break;
		case 'V':
			if (parse_u64(optarg, UINT32_MAX, &o->version))
				return -EINVAL;
			break;
		case 'R': case 'F': case 'B': case 'W': case 'M': case 'Q': case 'U':
			if (p->nmsgs == MAX_MSGS)
				return -EINVAL;
			p->msgs[p->nmsgs++] = (struct msg_spec){ kinds[opt],
								 opt == 'F' || opt == 'U' ? NULL : optarg };
			break;
		case 'H':
			p->hold_s = strtod(optarg, &end);
			if (*end || end == optarg || p->hold_s < 0 || p->hold_s > 3600)
				return -EINVAL;
			break;
		case 'w':
			if (parse_u64(optarg, 600000, &v) || v == 0)
				return -EINVAL;
			p->hello_wait_ms = (int)v;
			break;
		default:
			return -EINVAL;
		}
	}
	return optind == argc && o->addr && o->role && wire_role_parse(o->role) ? 0 : -EINVAL;
}

/* Every message parses before anything is sent: a typo is a usage error, not an attack. */
static int check_msgs(const struct peer *p)
{
	for (int i = 0; i < p->nmsgs; i++) {
		const struct msg_spec *m = &p->msgs[i];
		struct report_buf rb = { 0 };
		int ret = 0;

		if (m->kind == M_REPORT || m->kind == M_WITHDRAW)
			ret = report_parse(&rb, m->arg, m->kind == M_WITHDRAW);
		else if (m->kind == M_BULK)
			ret = bulk_build(&rb, m->arg);
		else if (m->kind == M_REQUEST)
			ret = strcmp(m->arg, "host_list") && strcmp(m->arg, "port_list") &&
			      strcmp(m->arg, "status") ? -EINVAL : 0;
		else if (m->kind == M_MASTER)
			ret = strchr(m->arg, ',') && strchr(strchr(m->arg, ',') + 1, ',') ? 0 : -EINVAL;
		report_free(&rb);
		if (ret) {
			fprintf(stderr, "wirepeer: cannot parse '%s'\n", m->arg);
			return ret;
		}
	}
	return 0;
}

static int start(struct peer *p, const struct opts *o)
{
	L2f__Hello hello = L2F__HELLO__INIT;
	struct wire_tls *tls = NULL;
	struct timeval wait;
	struct ipaddr vtep;
	char err[320];
	int fd;

	if (o->tls.cert && wire_tls_new(&o->tls, false, &tls, err, sizeof(err)) < 0) {
		fprintf(stderr, "wirepeer: %s\n", err);
		return 3;
	}
	hello.version = o->version ? (uint32_t)o->version : PROTO_VERSION;
	hello.role = wire_role_parse(o->role);
	hello.id = (char *)(o->id ? o->id : tls ? wire_tls_self(tls)->id : "wirepeer");
	if (o->vtep) {
		if (ipaddr_parse(o->vtep, &vtep))
			return 2;
		hello.has_vtep = true;
		hello.vtep = (ProtobufCBinaryData){ ipaddr_len(&vtep), vtep.b };
	}
	hello.vnis = (uint32_t *)o->vnis;
	hello.n_vnis = o->nvnis;
	fd = wire_connect(o->addr);
	if (fd < 0) {
		fprintf(stderr, "wirepeer: connect %s: %s\n", o->addr, strerror(-fd));
		wire_tls_free(tls);
		return 3;
	}
	/* the wire copies the Hello into its output at once */
	p->w = wire_new_tls(p->base, fd, strncmp(o->addr, WIRE_UNIX_PREFIX,
						 strlen(WIRE_UNIX_PREFIX)) ? tls : NULL,
			    &hello, &peer_ops, p);
	if (!p->w) {
		fprintf(stderr, "wirepeer: cannot start a session\n");
		wire_tls_free(tls);
		return 3;
	}
	wait.tv_sec = p->hello_wait_ms / 1000;
	wait.tv_usec = (p->hello_wait_ms % 1000) * 1000;
	evtimer_add(p->ev_hello, &wait);
	event_base_dispatch(p->base);
	if (p->w)
		end(p, p->rc, "done");
	wire_tls_free(tls);
	return p->rc;
}

int main(int argc, char **argv)
{
	struct peer p = { .hold_s = 1, .hello_wait_ms = 5000 };
	struct opts o = { 0 };
	int rc;

	if (parse_opts(argc, argv, &o, &p) < 0 || check_msgs(&p) < 0)
		return usage();
	if ((o.tls.ca || o.tls.key) && !o.tls.cert)
		return usage();
	if (o.vtep) {
		struct ipaddr a;

		if (ipaddr_parse(o.vtep, &a))
			return usage();
	}
	signal(SIGPIPE, SIG_IGN);
	log_init("wirepeer", LOG_LVL_WARN);
	p.base = event_base_new();
	p.ev_hold = p.base ? evtimer_new(p.base, on_hold, &p) : NULL;
	p.ev_hello = p.base ? evtimer_new(p.base, on_hello_wait, &p) : NULL;
	if (!p.ev_hold || !p.ev_hello)
		return 3;
	rc = start(&p, &o);
	event_free(p.ev_hold);
	event_free(p.ev_hello);
	event_base_free(p.base);
	return rc;
}
