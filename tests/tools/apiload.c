/*
 * apiload.c - a pipelined API client on fabricd's Unix socket, for tests/netns/
 * test_fabricd_store.sh and bench/api_add.sh:
 *   apiload -s SOCKET -n COUNT [-p INFLIGHT] [-P PREFIX] [-v VNI] [-H HOST] [--start K]
 *           [--del] [--bad-mac] [--kill-after N:PID] [-q] [-t SECONDS]
 * One fabricctl session (Hello as ROLE_FABRICCTL, fabricd's must be ROLE_FABRICD), on the
 * project's own sessions (wire_new over unixsock_connect). It sends COUNT `port add`s of ports
 * K .. K+COUNT-1 (K from --start, default 0), keeping INFLIGHT (default 16, at most 4096)
 * requests outstanding. Port i has MAC 02:PP:ii:ii:ii:ii (PP the hex byte PREFIX, default 00;
 * ii the 32 bits of i), the address 198.19.(i >> 8 & 255).(i & 255), host HOST (default hv1),
 * segment VNI (default 100). --del sends `port del` of the same ports instead; --bad-mac
 * sends one `port add` with the all-zero MAC, for fabricd's own refusal to show.
 * --kill-after N:PID sends SIGKILL to PID (a fabricd the caller started) once N acks are in
 * and the requests sent after them are written to the socket, so that fabricd is killed at
 * work on them (reading, appending, in an fdatasync): a crash in the middle of a burst at a
 * chosen point (a watcher reading the output would come too late: a burst of 2000 adds takes
 * well under 100 ms here).
 * fabricd answers a session's requests in order, so the replies are matched to the requests
 * oldest first. One line per Reply on stdout, flushed at once (none with -q):
 *   ack MAC LATENCY_US       a success: the change is durable (fabricd replies after its
 *                            fdatasync); LATENCY_US from the request's wire_send
 *   err MAC REASON           an error Reply, with fabricd's reason
 * At the end - every reply in, SIGTERM / SIGINT, the session closed, or the total timeout
 * (-t SECONDS, default 120) - one summary line on stderr (after a line saying why, when it
 * ended early):
 *   sent N acked N errors N p50_us N p99_us N max_us N wall_ms N
 * latencies over the acks (nearest rank), wall time from fabricd's Hello to the last reply.
 * Exit 0 when every request got its reply, 1 otherwise, 2 on a usage error.
 */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "addr.h"
#include "log.h"
#include "monotime.h"
#include "unixsock.h"
#include "wire.h"

#define INFLIGHT_MAX 4096

struct opts {
	const char *socket;
	uint64_t count;
	uint32_t inflight;
	uint8_t prefix;
	uint32_t vni;
	const char *host;
	uint32_t start;
	bool del, bad_mac, quiet;
	uint32_t timeout_s;
	uint64_t kill_after;           /* acks before the SIGKILL, 0: none */
	pid_t kill_pid;
};

/* A request on its way: which port, and when it went. */
struct pending {
	uint32_t idx;
	struct monotime sent;
};

struct load {
	const struct opts *o;
	struct event_base *base;
	struct wire *w;
	struct pending *ring;          /* o->inflight slots, oldest at head */
	size_t head, n;
	uint64_t sent, acked, errors;
	uint32_t *lat_us;              /* one per ack */
	struct monotime t_hello, t_last;
	bool done;                     /* every reply came */
	bool kill_armed, killed;       /* --kill-after: due once the output drained; sent */
	char why[256];                 /* why it ended early, "" if it did not */
};

static void port_mac(const struct opts *o, uint32_t idx, struct mac *m)
{
	if (o->bad_mac) {
		memset(m->b, 0, MAC_LEN);
		return;
	}
	m->b[0] = 0x02;                /* locally administered, unicast */
	m->b[1] = o->prefix;
	m->b[2] = (uint8_t)(idx >> 24);
	m->b[3] = (uint8_t)(idx >> 16);
	m->b[4] = (uint8_t)(idx >> 8);
	m->b[5] = (uint8_t)idx;
}

static void finish(struct load *l, const char *why)
{
	if (why && !l->why[0] && !l->done)
		snprintf(l->why, sizeof(l->why), "%s", why);
	event_base_loopbreak(l->base);
}

static int send_one(struct load *l)
{
	const struct opts *o = l->o;
	L2f__Envelope env = L2F__ENVELOPE__INIT;
	L2f__Request q = L2F__REQUEST__INIT;
	L2f__Port p = L2F__PORT__INIT;
	uint32_t idx = o->start + (uint32_t)l->sent;
	uint8_t ip[4] = { 198, 19, (uint8_t)(idx >> 8), (uint8_t)idx };
	ProtobufCBinaryData ipd = { sizeof(ip), ip };
	char *hosts[1] = { (char *)o->host };
	struct mac m;
	struct pending *slot;
	int err;

	port_mac(o, idx, &m);
	p.vni = o->vni;
	p.mac.data = m.b;
	p.mac.len = MAC_LEN;
	if (o->del) {
		q.op_case = L2F__REQUEST__OP_PORT_DEL;
		q.port_del = &p;
	} else {
		p.ips = &ipd;
		p.n_ips = 1;
		p.hosts = hosts;
		p.n_hosts = 1;
		q.op_case = L2F__REQUEST__OP_PORT_ADD;
		q.port_add = &p;
	}
	env.msg_case = L2F__ENVELOPE__MSG_REQUEST;
	env.request = &q;
	slot = &l->ring[(l->head + l->n) % o->inflight];
	slot->idx = idx;
	slot->sent = monotime_now();
	err = wire_send(l->w, &env);
	if (err)
		return err;
	l->n++;
	l->sent++;
	return 0;
}

/* Requests out until INFLIGHT are outstanding or all COUNT went. */
static void fill(struct load *l)
{
	while (l->n < l->o->inflight && l->sent < l->o->count) {
		int err = send_one(l);

		if (err) {
			char why[128];

			snprintf(why, sizeof(why), "cannot send request %" PRIu64 ": %s", l->sent,
				 strerror(-err));
			finish(l, why);
			return;
		}
	}
}

static void on_hello(struct wire *w, void *ctx)
{
	struct load *l = ctx;

	if (wire_peer(w)->role != L2F__ROLE__ROLE_FABRICD) {
		finish(l, "the peer is not fabricd");
		return;
	}
	l->t_hello = l->t_last = monotime_now();
	fill(l);
}

static void kill_now(struct load *l)
{
	l->killed = true;
	fprintf(stderr, "apiload: SIGKILL to %d after %" PRIu64 " acks, %zu requests in flight\n",
		(int)l->o->kill_pid, l->acked, l->n);
	if (kill(l->o->kill_pid, SIGKILL) < 0)
		fprintf(stderr, "apiload: kill %d: %s\n", (int)l->o->kill_pid, strerror(errno));
}

static void on_msg(struct wire *w, const L2f__Envelope *env, void *ctx)
{
	struct load *l = ctx;
	struct pending *p;
	char mac[MAC_STRLEN];
	struct mac m;
	int64_t us;

	if (env->msg_case != L2F__ENVELOPE__MSG_REPLY || !l->n) {
		finish(l, l->n ? "fabricd sent something else than a Reply" :
				 "a Reply to no request");
		return;
	}
	p = &l->ring[l->head];
	l->head = (l->head + 1) % l->o->inflight;
	l->n--;
	l->t_last = monotime_now();
	us = monotime_diff_us(l->t_last, p->sent);
	port_mac(l->o, p->idx, &m);
	mac_fmt(&m, mac);
	if (env->reply->error) {
		l->errors++;
		if (!l->o->quiet)
			printf("err %s %s\n", mac, env->reply->error);
	} else {
		l->lat_us[l->acked++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
		if (!l->o->quiet)
			printf("ack %s %" PRId64 "\n", mac, us);
	}
	if (!l->o->quiet)
		fflush(stdout);
	if (l->acked + l->errors == l->o->count) {
		l->done = true;
		finish(l, NULL);
		return;
	}
	fill(l);
	if (l->o->kill_after && l->acked >= l->o->kill_after && !l->killed) {
		/* once the requests just queued are on the socket: fabricd is at work on them */
		if (wire_pending(w))
			l->kill_armed = true;
		else
			kill_now(l);
	}
}

static void on_drain(struct wire *w, void *ctx)
{
	struct load *l = ctx;

	if (l->kill_armed && !l->killed)
		kill_now(l);
}

static void on_close(struct wire *w, const char *why, void *ctx)
{
	struct load *l = ctx;
	char line[256];

	l->w = NULL;
	snprintf(line, sizeof(line), "the session closed: %s", why);
	finish(l, line);
}

static const struct wire_ops ops = {
	.on_hello = on_hello,
	.on_msg = on_msg,
	.on_close = on_close,
	.on_drain = on_drain,
};

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	char why[32];

	snprintf(why, sizeof(why), "signal %d", (int)sig);
	finish(arg, why);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct load *l = arg;
	char why[64];

	snprintf(why, sizeof(why), "timed out after %u s", l->o->timeout_s);
	finish(l, why);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value at or above the fraction p of the sorted values. */
static uint32_t rank(const uint32_t *v, uint64_t n, double p)
{
	uint64_t i = (uint64_t)(p * (double)n);

	if ((double)i < p * (double)n)
		i++;
	return n ? v[i ? i - 1 : 0] : 0;
}

static void summary(struct load *l)
{
	int64_t wall = monotime_is_set(l->t_hello) ? monotime_diff_us(l->t_last, l->t_hello) : 0;

	qsort(l->lat_us, l->acked, sizeof(*l->lat_us), cmp_u32);
	if (l->why[0])
		fprintf(stderr, "apiload: %s\n", l->why);
	fprintf(stderr, "sent %" PRIu64 " acked %" PRIu64 " errors %" PRIu64 " p50_us %u "
		"p99_us %u max_us %u wall_ms %" PRId64 "\n", l->sent, l->acked, l->errors,
		rank(l->lat_us, l->acked, 0.5), rank(l->lat_us, l->acked, 0.99),
		l->acked ? l->lat_us[l->acked - 1] : 0, wall / 1000);
}

static int run(const struct opts *o)
{
	struct load l = { .o = o };
	L2f__Hello hello = L2F__HELLO__INIT;
	struct timeval tv = { o->timeout_s, 0 };
	struct event *sigs[2], *timer;
	char id[32];
	int fd, i;

	l.ring = calloc(o->inflight, sizeof(*l.ring));
	l.lat_us = calloc(o->count, sizeof(*l.lat_us));
	l.base = event_base_new();
	if (!l.ring || !l.lat_us || !l.base) {
		fprintf(stderr, "apiload: out of memory\n");
		return 1;
	}
	fd = unixsock_connect(o->socket);
	if (fd < 0) {
		fprintf(stderr, "apiload: %s: %s\n", o->socket, strerror(-fd));
		return 1;
	}
	snprintf(id, sizeof(id), "apiload.%d", (int)getpid());
	hello.version = PROTO_VERSION;
	hello.role = L2F__ROLE__ROLE_FABRICCTL;
	hello.id = id;
	l.w = wire_new(l.base, fd, &hello, &ops, &l);
	if (!l.w) {
		fprintf(stderr, "apiload: cannot start a session on %s\n", o->socket);
		return 1;
	}
	sigs[0] = evsignal_new(l.base, SIGTERM, on_signal, &l);
	sigs[1] = evsignal_new(l.base, SIGINT, on_signal, &l);
	timer = evtimer_new(l.base, on_timeout, &l);
	for (i = 0; i < 2; i++)
		event_add(sigs[i], NULL);
	evtimer_add(timer, &tv);
	event_base_dispatch(l.base);

	if (l.w)
		wire_close(l.w, "apiload is done");
	summary(&l);
	for (i = 0; i < 2; i++)
		event_free(sigs[i]);
	event_free(timer);
	event_base_free(l.base);
	free(l.ring);
	free(l.lat_us);
	return l.done ? 0 : 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: apiload -s SOCKET -n COUNT [-p INFLIGHT] [-P PREFIX] [-v VNI] "
			"[-H HOST] [--start K]\n"
			"               [--del] [--bad-mac] [--kill-after N:PID] [-q] "
			"[-t SECONDS]\n");
	return 2;
}

/* A number in [min, max], in base 10 (16 for the prefix). */
static int number(const char *s, int base, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "apiload: '%s': a number from %" PRIu64 " to %" PRIu64 "%s\n", s,
			min, max, base == 16 ? " (hex)" : "");
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* N:PID for --kill-after. */
static int kill_spec(const char *s, struct opts *o)
{
	const char *colon = strchr(s, ':');
	char n[24];
	uint64_t v;

	if (!colon || (size_t)(colon - s) >= sizeof(n)) {
		fprintf(stderr, "apiload: --kill-after N:PID, not '%s'\n", s);
		return -EINVAL;
	}
	memcpy(n, s, (size_t)(colon - s));
	n[colon - s] = '\0';
	if (number(n, 10, 1, UINT32_MAX, &o->kill_after) < 0 ||
	    number(colon + 1, 10, 2, INT32_MAX, &v) < 0)
		return -EINVAL;
	o->kill_pid = (pid_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "start", required_argument, NULL, 'K' },
		{ "del", no_argument, NULL, 'D' },
		{ "bad-mac", no_argument, NULL, 'B' },
		{ "kill-after", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct opts o = { .inflight = 16, .vni = 100, .host = "hv1", .timeout_s = 120 };
	uint64_t v = 0;
	int opt, bad = 0;

	while ((opt = getopt_long(argc, argv, "s:n:p:P:v:H:t:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': o.socket = optarg; break;
		case 'n': bad |= number(optarg, 10, 1, 1u << 26, &o.count); break;
		case 'p': bad |= number(optarg, 10, 1, INFLIGHT_MAX, &v); o.inflight = (uint32_t)v; break;
		case 'P': bad |= number(optarg, 16, 0, 255, &v); o.prefix = (uint8_t)v; break;
		case 'v': bad |= number(optarg, 10, 1, VNI_MAX, &v); o.vni = (uint32_t)v; break;
		case 'H': o.host = optarg; break;
		case 't': bad |= number(optarg, 10, 1, 86400, &v); o.timeout_s = (uint32_t)v; break;
		case 'K': bad |= number(optarg, 10, 0, UINT32_MAX, &v); o.start = (uint32_t)v; break;
		case 'D': o.del = true; break;
		case 'B': o.bad_mac = true; break;
		case 'q': o.quiet = true; break;
		case 'k': bad |= kill_spec(optarg, &o); break;
		default: return usage();
		}
	}
	if (o.bad_mac)
		o.count = 1;
	if (bad || optind != argc || !o.socket || !o.count || !*o.host ||
	    strlen(o.host) > WIRE_ID_MAX || (o.bad_mac && o.del) ||
	    (uint64_t)o.start + o.count - 1 > UINT32_MAX)
		return usage();
	log_init("apiload", LOG_LVL_WARN);
	signal(SIGPIPE, SIG_IGN);
	return run(&o);
}
