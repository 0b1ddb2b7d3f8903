/* test_wire.c - the control protocol's session layer: every message through encode and
 * wire_decode, what wire_validate rejects, and sessions on socketpairs and loopback sockets
 * driven by a real event_base (Hello first, versions, frame limits, garbage, isolation,
 * closing from callbacks, wire_call against a server thread). */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "wire.h"

static uint8_t mac1[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static uint8_t mac5[5] = { 0x02, 0x00, 0x00, 0x00, 0x00 };
static uint8_t ip4[4] = { 198, 18, 0, 1 };
static uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static uint8_t addr5[5] = { 198, 18, 0, 1, 0 };

#define BIN(a) ((ProtobufCBinaryData){ .len = sizeof(a), .data = (a) })

/* --- codec ------------------------------------------------------------------------------- */

/* encode -> wire_decode -> encode gives the same bytes; returns the decoded envelope */
static L2f__Envelope *roundtrip(const L2f__Envelope *env)
{
	size_t len = l2f__envelope__get_packed_size(env);
	uint8_t *a = malloc(len + 1), *b = malloc(len + 1);
	L2f__Envelope *out = NULL;
	const char *why = NULL;

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(l2f__envelope__pack(env, a), len);
	assert_int_equal(wire_decode(a, len, &out, &why), 0);
	assert_non_null(out);
	assert_int_equal(out->msg_case, env->msg_case);
	assert_int_equal(l2f__envelope__get_packed_size(out), len);
	l2f__envelope__pack(out, b);
	assert_memory_equal(a, b, len);
	free(a);
	free(b);
	return out;
}

static void test_roundtrip_hello(void **state)
{
	uint32_t vnis[] = { 0, 100, VNI_MAX };
	L2f__Hello h = L2F__HELLO__INIT;
	L2f__Envelope e = L2F__ENVELOPE__INIT, *out;

	h.version = PROTO_VERSION;
	h.role = L2F__ROLE__ROLE_VTEPD;
	h.id = "host-1.example";
	h.has_vtep = 1;
	h.vtep = BIN(ip6);
	h.n_vnis = 3;
	h.vnis = vnis;
	e.msg_case = L2F__ENVELOPE__MSG_HELLO;
	e.hello = &h;
	out = roundtrip(&e);
	assert_int_equal(out->hello->role, L2F__ROLE__ROLE_VTEPD);
	assert_string_equal(out->hello->id, "host-1.example");
	assert_int_equal(out->hello->vtep.len, 16);
	assert_int_equal(out->hello->n_vnis, 3);
	assert_int_equal(out->hello->vnis[2], VNI_MAX);
	l2f__envelope__free_unpacked(out, NULL);
}

static void test_roundtrip_update(void **state)
{
	ProtobufCBinaryData vteps[] = { BIN(ip4), BIN(ip6) }, ips[] = { BIN(ip4) };
	L2f__Fdb add = L2F__FDB__INIT, del = L2F__FDB__INIT;
	L2f__Fdb *adds[] = { &add }, *dels[] = { &del };
	L2f__Flood fl = L2F__FLOOD__INIT, *fls[] = { &fl };
	L2f__Update u = L2F__UPDATE__INIT;
	L2f__Envelope e = L2F__ENVELOPE__INIT, *out;

	add.vni = 42;
	add.mac = BIN(mac1);
	add.n_vteps = 2;
	add.vteps = vteps;
	add.n_ips = 1;
	add.ips = ips;
	add.has_seq = 1;
	add.seq = 7;
	del.vni = 42;
	del.mac = BIN(mac1);
	fl.vni = 42;
	fl.n_vteps = 2;
	fl.vteps = vteps;
	u.has_full = u.full = 1;
	u.has_more = u.more = 1;
	u.n_add = 1;
	u.add = adds;
	u.n_del = 1;
	u.del = dels;
	u.n_flood = 1;
	u.flood = fls;
	e.msg_case = L2F__ENVELOPE__MSG_UPDATE;
	e.update = &u;
	out = roundtrip(&e);
	assert_true(out->update->full);
	assert_true(out->update->more);
	assert_int_equal(out->update->add[0]->seq, 7);
	assert_int_equal(out->update->add[0]->n_vteps, 2);
	assert_int_equal(out->update->flood[0]->n_vteps, 2);
	l2f__envelope__free_unpacked(out, NULL);
}

static void test_roundtrip_report(void **state)
{
	ProtobufCBinaryData ips[] = { BIN(ip4), BIN(ip6) };
	L2f__Learned l = L2F__LEARNED__INIT, *ls[] = { &l };
	L2f__Report r = L2F__REPORT__INIT;
	L2f__Envelope e = L2F__ENVELOPE__INIT, *out;

	l.vni = 1;
	l.mac = BIN(mac1);
	l.n_ips = 2;
	l.ips = ips;
	l.has_withdrawn = l.withdrawn = 1;
	r.has_full = r.full = 1;
	r.n_entries = 1;
	r.entries = ls;
	e.msg_case = L2F__ENVELOPE__MSG_REPORT;
	e.report = &r;
	out = roundtrip(&e);
	assert_true(out->report->entries[0]->withdrawn);
	assert_int_equal(out->report->entries[0]->n_ips, 2);
	l2f__envelope__free_unpacked(out, NULL);
}

static void test_roundtrip_master(void **state)
{
	L2f__Master m = L2F__MASTER__INIT;
	L2f__Envelope e = L2F__ENVELOPE__INIT, *out;

	m.vni = 9;
	m.mac = BIN(mac1);
	m.host = "node2";
	e.msg_case = L2F__ENVELOPE__MSG_MASTER;
	e.master = &m;
	out = roundtrip(&e);
	assert_string_equal(out->master->host, "node2");
	l2f__envelope__free_unpacked(out, NULL);
}

static void test_roundtrip_request(void **state)
{
	ProtobufCBinaryData ips[] = { BIN(ip4) };
	char *hosts[] = { "h1", "h2" };
	L2f__Port p = L2F__PORT__INIT;
	L2f__Master m = L2F__MASTER__INIT;
	L2f__Request r = L2F__REQUEST__INIT;
	L2f__Envelope e = L2F__ENVELOPE__INIT, *out;

	p.name = "web-vip";
	p.vni = 5;
	p.mac = BIN(mac1);
	p.n_ips = 1;
	p.ips = ips;
	p.n_hosts = 2;
	p.hosts = hosts;
	p.has_mode = 1;
	p.mode = L2F__HA_MODE__HA_FLOOD;
	p.master = "h1";
	m.vni = 5;
	m.mac = BIN(mac1);
	m.host = "h2";
	e.msg_case = L2F__ENVELOPE__MSG_REQUEST;
	e.request = &r;
	for (int op = L2F__REQUEST__OP_PORT_ADD; op <= L2F__REQUEST__OP_FDB_OF_HOST; op++) {
		r.op_case = op;
		switch (op) {
		case L2F__REQUEST__OP_PORT_ADD: r.port_add = &p; break;
		case L2F__REQUEST__OP_PORT_DEL: r.port_del = &p; break;
		case L2F__REQUEST__OP_PORT_LIST: r.port_list = 1; break;
		case L2F__REQUEST__OP_PORT_MASTER: r.port_master = &m; break;
		case L2F__REQUEST__OP_HOST_LIST: r.host_list = 1; break;
		default: r.fdb_of_host = "h1"; break;
		}
		out = roundtrip(&e);
		assert_int_equal(out->request->op_case, op);
		if (op == L2F__REQUEST__OP_PORT_ADD) {
			assert_int_equal(out->request->port_add->mode, L2F__HA_MODE__HA_FLOOD);
			assert_string_equal(out->request->port_add->hosts[1], "h2");
		}
		l2f__envelope__free_unpacked(out, NULL);
	}
}

static void test_roundtrip_reply(void **state)
{
	uint32_t vnis[] = { 5 };
	char *hosts[] = { "h1" };
	L2f__Port p = L2F__PORT__INIT, *ps[] = { &p };
	L2f__Host h = L2F__HOST__INIT, *hs[] = { &h };
	L2f__Fdb f = L2F__FDB__INIT, *fs[] = { &f };
	L2f__Flood fl = L2F__FLOOD__INIT, *fls[] = { &fl };
	L2f__Reply r = L2F__REPLY__INIT;
	L2f__Envelope e = L2F__ENVELOPE__INIT, *out;

	p.vni = 5;
	p.mac = BIN(mac1);
	p.n_hosts = 1;
	p.hosts = hosts;
	p.has_duplicate = p.duplicate = 1;
	p.has_learned = p.learned = 1;
	h.id = "h1";
	h.has_vtep = 1;
	h.vtep = BIN(ip4);
	h.has_connected = h.connected = 1;
	h.n_vnis = 1;
	h.vnis = vnis;
	h.has_connected_for_ms = 1;
	h.connected_for_ms = 12345;
	f.vni = 5;
	f.mac = BIN(mac1);
	fl.vni = 5;
	r.error = "no such port";
	r.n_ports = r.n_hosts = r.n_fdb = r.n_flood = 1;
	r.ports = ps;
	r.hosts = hs;
	r.fdb = fs;
	r.flood = fls;
	e.msg_case = L2F__ENVELOPE__MSG_REPLY;
	e.reply = &r;
	out = roundtrip(&e);
	assert_string_equal(out->reply->error, "no such port");
	assert_int_equal(out->reply->hosts[0]->connected_for_ms, 12345);
	assert_true(out->reply->ports[0]->duplicate);
	l2f__envelope__free_unpacked(out, NULL);
}

static void expect_invalid(const L2f__Envelope *e, const char *reason_part)
{
	size_t len = l2f__envelope__get_packed_size(e);
	uint8_t *buf = malloc(len + 1);
	L2f__Envelope *out = NULL;
	const char *why = NULL;

	assert_int_equal(wire_validate(e, &why), -EBADMSG);
	assert_non_null(strstr(why, reason_part));
	/* and the same from the wire */
	l2f__envelope__pack(e, buf);
	why = NULL;
	assert_int_equal(wire_decode(buf, len, &out, &why), -EBADMSG);
	assert_null(out);
	assert_non_null(strstr(why, reason_part));
	free(buf);
}

static void test_validate_rejects(void **state)
{
	ProtobufCBinaryData bad_addr[] = { BIN(addr5) };
	char long_id[WIRE_ID_MAX + 2];
	L2f__Master m = L2F__MASTER__INIT;
	L2f__Fdb f = L2F__FDB__INIT, *fs[] = { &f };
	L2f__Update u = L2F__UPDATE__INIT;
	L2f__Hello h = L2F__HELLO__INIT;
	L2f__Request r = L2F__REQUEST__INIT;
	L2f__Envelope e = L2F__ENVELOPE__INIT;
	const char *why = NULL;

	m.vni = 1;
	m.mac = BIN(mac1);
	m.host = "h1";
	e.msg_case = L2F__ENVELOPE__MSG_MASTER;
	e.master = &m;
	assert_int_equal(wire_validate(&e, &why), 0);
	m.mac = BIN(mac5);
	expect_invalid(&e, "MAC not 6 bytes");
	m.mac = BIN(mac1);
	m.vni = VNI_MAX + 1;
	expect_invalid(&e, "VNI");
	m.vni = VNI_MAX;
	m.host = "";
	expect_invalid(&e, "host empty");
	m.host = "h\x01";
	expect_invalid(&e, "not printable");
	m.host = "h 1";
	expect_invalid(&e, "not printable");
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[WIRE_ID_MAX] = '\0';
	m.host = long_id;
	assert_int_equal(wire_validate(&e, &why), 0);
	long_id[WIRE_ID_MAX] = 'a';
	long_id[WIRE_ID_MAX + 1] = '\0';
	expect_invalid(&e, "too long");

	f.vni = 1;
	f.mac = BIN(mac1);
	f.n_vteps = 1;
	f.vteps = bad_addr;
	u.n_add = 1;
	u.add = fs;
	e.msg_case = L2F__ENVELOPE__MSG_UPDATE;
	e.update = &u;
	expect_invalid(&e, "address not 4 or 16 bytes");

	h.version = PROTO_VERSION;
	h.role = L2F__ROLE__ROLE_VIPD;
	h.id = "";
	e.msg_case = L2F__ENVELOPE__MSG_HELLO;
	e.hello = &h;
	expect_invalid(&e, "id empty");
	h.id = "n\t1";
	expect_invalid(&e, "not printable");
	h.id = "n1";
	h.role = 77;
	expect_invalid(&e, "unknown role");

	e.msg_case = L2F__ENVELOPE__MSG_REQUEST;
	e.request = &r;
	expect_invalid(&e, "Request with no op");

	e.msg_case = L2F__ENVELOPE__MSG__NOT_SET;
	expect_invalid(&e, "Envelope with no message");
}

/* vtepd's typed answers: within bounds they pass, and a field of a wrong length names its
 * message. */
static void test_validate_agent(void **state)
{
	ProtobufCBinaryData flood[] = { BIN(ip4) };
	L2f__AgentFdbEntry fe = L2F__AGENT_FDB_ENTRY__INIT, *fes[] = { &fe };
	L2f__AgentFdb f = L2F__AGENT_FDB__INIT;
	L2f__AgentSegment seg = L2F__AGENT_SEGMENT__INIT, *segs[] = { &seg };
	L2f__AgentFabricd fd = L2F__AGENT_FABRICD__INIT;
	L2f__AgentReconcile rc = L2F__AGENT_RECONCILE__INIT;
	L2f__AgentLearner lr = L2F__AGENT_LEARNER__INIT;
	L2f__AgentCounters c = L2F__AGENT_COUNTERS__INIT;
	L2f__AgentStatus st = L2F__AGENT_STATUS__INIT;
	L2f__Reply r = L2F__REPLY__INIT;
	L2f__Request q = L2F__REQUEST__INIT;
	L2f__Envelope e = L2F__ENVELOPE__INIT;
	const char *why = NULL;

	q.op_case = L2F__REQUEST__OP_AGENT_FDB;
	q.agent_fdb = true;
	e.msg_case = L2F__ENVELOPE__MSG_REQUEST;
	e.request = &q;
	assert_int_equal(wire_validate(&e, &why), 0);

	fe.vni = 100;
	fe.mac = BIN(mac1);
	fe.dst = BIN(ip4);
	f.id = "hv1";
	f.n_fdb = 1;
	f.fdb = fes;
	r.agent_fdb = &f;
	e.msg_case = L2F__ENVELOPE__MSG_REPLY;
	e.reply = &r;
	assert_int_equal(wire_validate(&e, &why), 0);
	fe.mac = BIN(mac5);
	expect_invalid(&e, "AgentFdbEntry");
	fe.mac = BIN(mac1);
	fe.vni = VNI_MAX + 1;
	expect_invalid(&e, "AgentFdbEntry");
	r.agent_fdb = NULL;

	fd.address = "198.18.0.2:7301";
	c.reconcile = &rc;
	c.learner = &lr;
	seg.vni = 100;
	seg.bridge = "br100";
	seg.n_flood = 1;
	seg.flood = flood;
	st.id = "hv1";
	st.fabricd = &fd;
	st.counters = &c;
	st.n_segments = 1;
	st.segments = segs;
	r.agent_status = &st;
	assert_int_equal(wire_validate(&e, &why), 0);
	flood[0] = (ProtobufCBinaryData)BIN(addr5);
	expect_invalid(&e, "AgentSegment");
	flood[0] = (ProtobufCBinaryData)BIN(ip4);
	st.counters = NULL;
	assert_int_equal(wire_validate(&e, &why), -EBADMSG);
	assert_non_null(strstr(why, "part missing"));
}

static void test_decode_garbage(void **state)
{
	const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02 };
	/* a Master whose required host is missing */
	const uint8_t partial[] = { 0x22, 0x0a, 0x08, 0x01, 0x12, 0x06, 2, 0, 0, 0, 0, 1 };
	/* found by fuzz_envelope: field number 0 in a two-byte tag (protobuf-c keeps it as an
	 * unknown field, then writes a form it refuses), next to an empty Report */
	const uint8_t field0[] = { 0x81, 0x00, 0x1a, 0x00, 0x1a, 0x00, 0x1a, 0x00, 0x1a, 0x00, 0x1a,
				   0x00, 0x1a, 0x00 };
	/* the same inside the Report; an unknown field numbered 15 is fine */
	const uint8_t field0_inner[] = { 0x1a, 0x03, 0x80, 0x00, 0x00 };
	const uint8_t field15[] = { 0x1a, 0x02, 0x78, 0x01 };
	L2f__Envelope *out = NULL;
	const char *why = NULL;

	assert_int_equal(wire_decode(field0, sizeof(field0), &out, &why), -EBADMSG);
	assert_string_equal(why, "field number 0");
	assert_int_equal(wire_decode(field0_inner, sizeof(field0_inner), &out, &why), -EBADMSG);
	assert_string_equal(why, "field number 0");
	assert_int_equal(wire_decode(field15, sizeof(field15), &out, &why), 0);
	assert_int_equal(out->msg_case, L2F__ENVELOPE__MSG_REPORT);
	l2f__envelope__free_unpacked(out, NULL);
	out = NULL;
	assert_int_equal(wire_decode(junk, sizeof(junk), &out, &why), -EBADMSG);
	assert_non_null(why);
	assert_int_equal(wire_decode(partial, sizeof(partial), &out, &why), -EBADMSG);
	assert_int_equal(wire_decode(junk, 0, &out, &why), -EBADMSG);
	assert_null(out);
}

/* --- sessions ---------------------------------------------------------------------------- */

struct side {
	struct wire *w;
	int hellos;
	int closes;
	char why[256];
	L2f__Role peer_role;
	char peer_id[WIRE_ID_MAX + 1];
	char name[128];
	uint32_t vnis[256];          /* the Master VNIs received, in order */
	int n_msgs;
	bool close_in_msg;           /* wire_close from inside on_msg, then wire_send */
	bool echo;                   /* answer each Master with a Master of vni + 1000 */
	struct side *close_other;    /* on its first message, close that session */
};

static void on_hello(struct wire *w, void *ctx)
{
	struct side *s = ctx;
	const L2f__Hello *h = wire_peer(w);

	assert_ptr_equal(wire_ctx(w), ctx);
	assert_non_null(h);
	s->hellos++;
	s->peer_role = h->role;
	snprintf(s->peer_id, sizeof(s->peer_id), "%s", h->id);
	snprintf(s->name, sizeof(s->name), "%s", wire_name(w));
}

static void send_master(struct wire *w, uint32_t vni)
{
	L2f__Master m = L2F__MASTER__INIT;
	L2f__Envelope e = L2F__ENVELOPE__INIT;

	m.vni = vni;
	m.mac = BIN(mac1);
	m.host = "h1";
	e.msg_case = L2F__ENVELOPE__MSG_MASTER;
	e.master = &m;
	assert_int_equal(wire_send(w, &e), 0);
}

static void on_msg(struct wire *w, const L2f__Envelope *env, void *ctx)
{
	struct side *s = ctx;

	assert_int_equal(env->msg_case, L2F__ENVELOPE__MSG_MASTER);
	if (s->n_msgs < (int)(sizeof(s->vnis) / sizeof(s->vnis[0])))
		s->vnis[s->n_msgs] = env->master->vni;
	s->n_msgs++;
	if (s->close_other) {
		wire_close(s->close_other->w, "closed by another session");
		s->close_other = NULL;
	}
	if (s->echo)
		send_master(w, env->master->vni + 1000);
	if (s->close_in_msg) {
		wire_close(w, "enough");
		wire_close(w, "twice");
		assert_int_equal(wire_send(w, env), -ENOTCONN);
		assert_int_equal(wire_pending(w), 0);
	}
}

static void on_close(struct wire *w, const char *why, void *ctx)
{
	struct side *s = ctx;

	s->closes++;
	snprintf(s->why, sizeof(s->why), "%s", why);
	/* from on_close, a close does nothing */
	wire_close(w, "again");
	s->w = NULL;
}

static const struct wire_ops ops = {
	.on_hello = on_hello,
	.on_msg = on_msg,
	.on_close = on_close,
};

static struct event_base *base;

static int setup(void **state)
{
	base = event_base_new();
	return base ? 0 : -1;
}

static int teardown(void **state)
{
	event_base_free(base);
	return 0;
}

static void loop_timeout(evutil_socket_t fd, short what, void *arg)
{
	*(bool *)arg = true;
}

/* Runs the loop until *a == want (and *b == want_b when b is given), or 5 s have passed. */
static void run_until(const int *a, int want, const int *b, int want_b)
{
	bool expired = false;
	struct timeval tv = { 5, 0 };
	struct event *t = evtimer_new(base, loop_timeout, &expired);

	evtimer_add(t, &tv);
	while (!expired && (*a != want || (b && *b != want_b)))
		event_base_loop(base, EVLOOP_ONCE);
	event_free(t);
	assert_int_equal(*a, want);
	if (b)
		assert_int_equal(*b, want_b);
}

/* Lets the loop run for ms milliseconds. */
static void run_for(int ms)
{
	struct timeval tv = { 0, ms * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static L2f__Hello make_hello(L2f__Role role, const char *id)
{
	L2f__Hello h = L2F__HELLO__INIT;

	h.version = PROTO_VERSION;
	h.role = role;
	h.id = (char *)id;
	return h;
}

static void pair_new(struct side *a, struct side *b)
{
	L2f__Hello ha = make_hello(L2F__ROLE__ROLE_FABRICD, "fabricd-1");
	L2f__Hello hb = make_hello(L2F__ROLE__ROLE_VIPD, "node1");
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	a->w = wire_new(base, sv[0], &ha, &ops, a);
	b->w = wire_new(base, sv[1], &hb, &ops, b);
	assert_non_null(a->w);
	assert_non_null(b->w);
	assert_null(wire_peer(a->w));
	run_until(&a->hellos, 1, &b->hellos, 1);
}

static void test_session_hello_then_in_order(void **state)
{
	struct side a = { 0 }, b = { 0 };

	pair_new(&a, &b);
	assert_int_equal(a.peer_role, L2F__ROLE__ROLE_VIPD);
	assert_string_equal(a.peer_id, "node1");
	assert_string_equal(a.name, "vipd node1");
	assert_string_equal(b.name, "fabricd fabricd-1");
	for (uint32_t i = 0; i < 200; i++)
		send_master(a.w, i);
	assert_true(wire_pending(a.w) > 0);
	run_until(&b.n_msgs, 200, NULL, 0);
	for (uint32_t i = 0; i < 200; i++)
		assert_int_equal(b.vnis[i], i);
	assert_int_equal(wire_pending(a.w), 0);

	/* the peer going away ends the session once */
	wire_close(a.w, "test over");
	assert_int_equal(a.closes, 1);
	assert_string_equal(a.why, "test over");
	run_until(&b.closes, 1, NULL, 0);
	assert_string_equal(b.why, "peer closed the connection");
	run_for(20);
	assert_int_equal(a.closes, 1);
	assert_int_equal(b.closes, 1);
}

/* A session on sv[0]; the test plays the peer on the returned raw fd. */
static int raw_peer(struct side *s)
{
	L2f__Hello h = make_hello(L2F__ROLE__ROLE_FABRICD, "fabricd-1");
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	s->w = wire_new(base, sv[0], &h, &ops, s);
	assert_non_null(s->w);
	return sv[1];
}

static void raw_send(int fd, const L2f__Envelope *e)
{
	size_t len = l2f__envelope__get_packed_size(e);
	uint8_t *buf = malloc(4 + len);
	uint32_t be = htonl((uint32_t)len);

	memcpy(buf, &be, 4);
	l2f__envelope__pack(e, buf + 4);
	assert_int_equal(write(fd, buf, 4 + len), (ssize_t)(4 + len));
	free(buf);
}

static void raw_hello(int fd, uint32_t version)
{
	L2f__Hello h = make_hello(L2F__ROLE__ROLE_VTEPD, "host1");
	L2f__Envelope e = L2F__ENVELOPE__INIT;

	h.version = version;
	e.msg_case = L2F__ENVELOPE__MSG_HELLO;
	e.hello = &h;
	raw_send(fd, &e);
}

static void raw_len(int fd, uint32_t len)
{
	uint32_t be = htonl(len);

	assert_int_equal(write(fd, &be, 4), 4);
}

/* the raw peer sees our Hello, then the end of the stream */
static void expect_closed_fd(int fd)
{
	uint8_t buf[4096];
	ssize_t n;

	do
		n = read(fd, buf, sizeof(buf));
	while (n > 0);
	assert_int_equal(n, 0);
	close(fd);
}

static void test_session_non_hello_first(void **state)
{
	L2f__Master m = L2F__MASTER__INIT;
	L2f__Envelope e = L2F__ENVELOPE__INIT;
	struct side s = { 0 };
	int fd = raw_peer(&s);

	m.vni = 1;
	m.mac = BIN(mac1);
	m.host = "h1";
	e.msg_case = L2F__ENVELOPE__MSG_MASTER;
	e.master = &m;
	raw_send(fd, &e);
	run_until(&s.closes, 1, NULL, 0);
	assert_string_equal(s.why, "Master before Hello");
	assert_int_equal(s.hellos, 0);
	assert_int_equal(s.n_msgs, 0);
	expect_closed_fd(fd);
}

static void test_session_second_hello(void **state)
{
	struct side s = { 0 };
	int fd = raw_peer(&s);

	raw_hello(fd, PROTO_VERSION);
	raw_hello(fd, PROTO_VERSION);
	run_until(&s.closes, 1, NULL, 0);
	assert_int_equal(s.hellos, 1);
	assert_string_equal(s.why, "second Hello");
	expect_closed_fd(fd);
}

static void test_session_version_2(void **state)
{
	struct side s = { 0 };
	int fd = raw_peer(&s);

	raw_hello(fd, 2);
	run_until(&s.closes, 1, NULL, 0);
	assert_int_equal(s.hellos, 0);
	assert_non_null(strstr(s.why, "version 2"));
	expect_closed_fd(fd);
}

/* Only the 4-byte length is sent: the session must close on it alone, without waiting for
 * (or reserving room for) the 2 GiB it announces. */
static void test_session_huge_frame(void **state)
{
	struct side s = { 0 };
	int fd = raw_peer(&s);

	raw_hello(fd, PROTO_VERSION);
	raw_len(fd, 0x7fffffff);
	run_until(&s.closes, 1, NULL, 0);
	assert_int_equal(s.hellos, 1);
	assert_non_null(strstr(s.why, "2147483647 bytes over the limit"));
	expect_closed_fd(fd);

	/* the limit itself is accepted as a length (the session waits for the bytes) */
	memset(&s, 0, sizeof(s));
	fd = raw_peer(&s);
	raw_hello(fd, PROTO_VERSION);
	raw_len(fd, WIRE_MAX_FRAME);
	run_for(50);
	assert_int_equal(s.closes, 0);
	raw_len(fd, 0);    /* 4 bytes of the frame, then the peer leaves */
	close(fd);
	run_until(&s.closes, 1, NULL, 0);
	/* a reset when our Hello was still unread, else an end of stream */
	assert_null(strstr(s.why, "over the limit"));
}

/* Before its Hello a peer may not announce a big frame. */
static void test_session_big_frame_before_hello(void **state)
{
	struct side s = { 0 };
	int fd = raw_peer(&s);

	raw_len(fd, 1u << 20);
	run_until(&s.closes, 1, NULL, 0);
	assert_non_null(strstr(s.why, "over the limit"));
	expect_closed_fd(fd);
}

static void test_session_garbage(void **state)
{
	const uint8_t junk[] = { 0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct side s = { 0 };
	int fd = raw_peer(&s);

	raw_hello(fd, PROTO_VERSION);
	assert_int_equal(write(fd, junk, sizeof(junk)), sizeof(junk));
	run_until(&s.closes, 1, NULL, 0);
	assert_string_equal(s.why, "bad message: frame does not decode");
	expect_closed_fd(fd);
}

static void test_session_invalid_message(void **state)
{
	L2f__Master m = L2F__MASTER__INIT;
	L2f__Envelope e = L2F__ENVELOPE__INIT;
	struct side s = { 0 };
	int fd = raw_peer(&s);

	m.vni = 1;
	m.mac = BIN(mac5);
	m.host = "h1";
	e.msg_case = L2F__ENVELOPE__MSG_MASTER;
	e.master = &m;
	raw_hello(fd, PROTO_VERSION);
	raw_send(fd, &e);
	run_until(&s.closes, 1, NULL, 0);
	assert_string_equal(s.why, "bad message: Master MAC not 6 bytes");
	assert_int_equal(s.n_msgs, 0);
	expect_closed_fd(fd);
}

static void test_session_garbage_leaves_others(void **state)
{
	struct side a = { 0 }, b = { 0 }, v = { 0 };
	int fd;

	pair_new(&a, &b);
	fd = raw_peer(&v);
	raw_hello(fd, PROTO_VERSION);
	assert_int_equal(write(fd, "\0\0\0\3abc", 7), 7);
	send_master(a.w, 1);
	run_until(&v.closes, 1, &b.n_msgs, 1);
	close(fd);
	/* the good pair still talks, both ways */
	send_master(a.w, 2);
	send_master(b.w, 3);
	run_until(&b.n_msgs, 2, &a.n_msgs, 1);
	assert_int_equal(b.vnis[1], 2);
	assert_int_equal(a.vnis[0], 3);
	assert_int_equal(a.closes + b.closes, 0);
	wire_close(a.w, "done");
	run_until(&b.closes, 1, NULL, 0);
}

/* on_msg closes its own session with more frames in the same read: on_close once, nothing
 * delivered after, and (under ASan) no use after free; echoing from on_msg works. */
static void test_session_close_and_send_from_callback(void **state)
{
	struct side a = { 0 }, b = { 0 };

	pair_new(&a, &b);
	b.echo = true;
	send_master(a.w, 1);
	run_until(&a.n_msgs, 1, NULL, 0);
	assert_int_equal(a.vnis[0], 1001);

	b.close_in_msg = true;
	for (uint32_t i = 0; i < 10; i++)
		send_master(a.w, 10 + i);
	run_until(&b.closes, 1, &a.closes, 1);
	assert_int_equal(b.n_msgs, 2);
	assert_string_equal(b.why, "enough");
	run_for(20);
	assert_int_equal(b.closes, 1);
}

/* one session's callback closes another one */
static void test_session_close_other_from_callback(void **state)
{
	struct side a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };

	pair_new(&a, &b);
	pair_new(&c, &d);
	b.close_other = &d;
	send_master(a.w, 1);
	run_until(&d.closes, 1, &c.closes, 1);
	assert_string_equal(d.why, "closed by another session");
	send_master(a.w, 2);
	run_until(&b.n_msgs, 2, NULL, 0);
	wire_close(a.w, "done");
	run_until(&b.closes, 1, NULL, 0);
}

static void test_send_refuses(void **state)
{
	struct side a = { 0 }, b = { 0 };
	L2f__Hello h = make_hello(L2F__ROLE__ROLE_VIPD, "x");
	L2f__Master m = L2F__MASTER__INIT;
	L2f__Reply r = L2F__REPLY__INIT;
	L2f__Envelope e = L2F__ENVELOPE__INIT;
	char *big;

	pair_new(&a, &b);
	e.msg_case = L2F__ENVELOPE__MSG_HELLO;
	e.hello = &h;
	assert_int_equal(wire_send(a.w, &e), -EBADMSG);
	m.vni = 1;
	m.mac = BIN(mac5);
	m.host = "h";
	e.msg_case = L2F__ENVELOPE__MSG_MASTER;
	e.master = &m;
	assert_int_equal(wire_send(a.w, &e), -EBADMSG);
	big = malloc(WIRE_MAX_FRAME + 1);
	memset(big, 'x', WIRE_MAX_FRAME);
	big[WIRE_MAX_FRAME] = '\0';
	r.error = big;
	e.msg_case = L2F__ENVELOPE__MSG_REPLY;
	e.reply = &r;
	assert_int_equal(wire_send(a.w, &e), -EMSGSIZE);
	free(big);
	assert_int_equal(wire_pending(a.w), 0);
	wire_close(a.w, "done");
	wire_close(b.w, "done");

	/* an invalid Hello makes no session */
	h.id = "";
	assert_null(wire_new(base, socket(AF_UNIX, SOCK_STREAM, 0), &h, &ops, &a));
}

/* --- sockets ----------------------------------------------------------------------------- */

struct acceptor {
	struct side sides[4];
	int n;
};

static void accept_cb(int fd, const char *peer, void *ctx)
{
	struct acceptor *acc = ctx;
	L2f__Hello h = make_hello(L2F__ROLE__ROLE_FABRICD, "fabricd-1");
	struct side *s = &acc->sides[acc->n++];

	assert_non_null(peer);
	s->w = wire_new(base, fd, &h, &ops, s);
	assert_non_null(s->w);
}

static struct wire_listener *listen_tcp_any(char *addr, size_t size, struct acceptor *acc)
{
	struct wire_listener *l = NULL;
	int err = 0;

	srand((unsigned int)getpid());
	for (int i = 0; i < 20 && !l; i++) {
		snprintf(addr, size, "127.0.0.1:%d", 20000 + rand() % 20000);
		l = wire_listen_tcp(base, addr, accept_cb, acc, &err);
	}
	assert_non_null(l);
	return l;
}

static void test_tcp_connect(void **state)
{
	L2f__Hello h = make_hello(L2F__ROLE__ROLE_VTEPD, "host1");
	struct acceptor acc = { 0 };
	struct side c = { 0 };
	struct wire_listener *l;
	char addr[64];
	int fd;

	l = listen_tcp_any(addr, sizeof(addr), &acc);
	fd = wire_connect_tcp(addr);
	assert_true(fd >= 0);
	c.w = wire_new(base, fd, &h, &ops, &c);
	assert_non_null(c.w);
	/* sent before the connect completed: queued until it does */
	send_master(c.w, 77);
	run_until(&c.hellos, 1, &acc.n, 1);
	run_until(&acc.sides[0].n_msgs, 1, NULL, 0);
	assert_int_equal(acc.sides[0].vnis[0], 77);
	assert_string_equal(acc.sides[0].name, "vtepd host1");
	assert_string_equal(c.name, "fabricd fabricd-1");
	wire_close(c.w, "done");
	run_until(&acc.sides[0].closes, 1, NULL, 0);
	wire_listener_free(l);

	/* nobody listens any more: the connect fails and the session says so */
	fd = wire_connect_tcp(addr);
	if (fd >= 0) {
		memset(&c, 0, sizeof(c));
		c.w = wire_new(base, fd, &h, &ops, &c);
		assert_non_null(c.w);
		run_until(&c.closes, 1, NULL, 0);
		assert_string_equal(c.why, "connect: Connection refused");
	} else {
		assert_int_equal(fd, -ECONNREFUSED);
	}
}

static void test_addr_parse(void **state)
{
	/* loopback only: a parse bug would send a SYN nowhere else */
	const char *bad[] = { "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
			      "127.0.0.1:070000", "127.0.0.1: 1", "127.0.0.1:1x", "127.0.0.1:-1",
			      "::1:7301", "[::1]", "[::1:7301", "localhost:7301", ":7301",
			      "[]:7301", "127.0.0.1:x" };
	struct acceptor acc = { 0 };
	int err = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(wire_connect_tcp(bad[i]), -EINVAL);
		assert_null(wire_listen_tcp(base, bad[i], accept_cb, &acc, &err));
		assert_int_equal(err, -EINVAL);
	}
}

static void test_listen_unix(void **state)
{
	char dir[] = "/tmp/test_wire.XXXXXX", path[100], sub[80];
	struct acceptor acc = { 0 };
	struct wire_listener *l, *l2;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int err = 0, fd;

	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/run", dir);
	snprintf(path, sizeof(path), "%s/fabricd.sock", sub);
	l = wire_listen_unix(base, path, accept_cb, &acc, &err);
	assert_non_null(l);
	assert_int_equal(err, 0);
	l2 = wire_listen_unix(base, path, accept_cb, &acc, &err);
	assert_null(l2);
	assert_int_equal(err, -EADDRINUSE);
	wire_listener_free(l);

	/* a stale socket (its server gone) is replaced */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	l = wire_listen_unix(base, path, accept_cb, &acc, &err);
	assert_non_null(l);
	wire_listener_free(l);
	rmdir(sub);
	rmdir(dir);
}

/* A fabricd stand-in on its own thread and event_base: answers each Request with a Reply
 * naming the op, and stops when the pipe is written. */
struct server {
	struct event_base *base;
	struct wire_listener *l;
	char path[108];
	int stop[2];
	pthread_t thread;
	struct wire *open[8];        /* sessions still open, closed when the test ends */
};

static void srv_hello(struct wire *w, void *ctx)
{
}

static void srv_msg(struct wire *w, const L2f__Envelope *env, void *ctx)
{
	L2f__Reply r = L2F__REPLY__INIT;
	L2f__Envelope e = L2F__ENVELOPE__INIT;
	char err[32];

	if (env->msg_case != L2F__ENVELOPE__MSG_REQUEST) {
		wire_close(w, "not a request");
		return;
	}
	if (env->request->op_case == L2F__REQUEST__OP_FDB_OF_HOST &&
	    !strcmp(env->request->fdb_of_host, "silent"))
		return;
	snprintf(err, sizeof(err), "op %d", env->request->op_case);
	r.error = err;
	e.msg_case = L2F__ENVELOPE__MSG_REPLY;
	e.reply = &r;
	wire_send(w, &e);
}

static void srv_close(struct wire *w, const char *why, void *ctx)
{
	struct server *s = ctx;

	for (size_t i = 0; i < sizeof(s->open) / sizeof(s->open[0]); i++)
		if (s->open[i] == w)
			s->open[i] = NULL;
}

static const struct wire_ops srv_ops = {
	.on_hello = srv_hello,
	.on_msg = srv_msg,
	.on_close = srv_close,
};

static void srv_accept(int fd, const char *peer, void *ctx)
{
	struct server *s = ctx;
	L2f__Hello h = make_hello(L2F__ROLE__ROLE_FABRICD, "fabricd-1");

	for (size_t i = 0; i < sizeof(s->open) / sizeof(s->open[0]); i++) {
		if (!s->open[i]) {
			s->open[i] = wire_new(s->base, fd, &h, &srv_ops, s);
			return;
		}
	}
	close(fd);
}

static void srv_stop(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static void *srv_run(void *arg)
{
	struct server *s = arg;
	struct event *ev = event_new(s->base, s->stop[0], EV_READ, srv_stop, s->base);

	event_add(ev, NULL);
	event_base_dispatch(s->base);
	event_free(ev);
	return NULL;
}

/* Keeps the error of the one Reply a call got. */
static int keep_error(const L2f__Reply *r, void *arg)
{
	char *out = arg;

	snprintf(out, 64, "%s", r->error ? r->error : "");
	return 0;
}

static void test_wire_call(void **state)
{
	char dir[] = "/tmp/test_wire.XXXXXX", got[64] = "";
	L2f__Request req = L2F__REQUEST__INIT;
	L2f__Envelope e = L2F__ENVELOPE__INIT;
	struct server s = { 0 };
	const char *why = NULL;
	int err;

	assert_non_null(mkdtemp(dir));
	snprintf(s.path, sizeof(s.path), "%s/fabricd.sock", dir);
	s.base = event_base_new();
	s.l = wire_listen_unix(s.base, s.path, srv_accept, &s, &err);
	assert_non_null(s.l);
	assert_int_equal(pipe(s.stop), 0);
	assert_int_equal(pthread_create(&s.thread, NULL, srv_run, &s), 0);

	req.op_case = L2F__REQUEST__OP_HOST_LIST;
	req.host_list = 1;
	e.msg_case = L2F__ENVELOPE__MSG_REQUEST;
	e.request = &req;
	assert_int_equal(wire_call(s.path, NULL, &e, keep_error, got, 5000, &why), 0);
	assert_string_equal(got, "op 5");

	/* a server that never answers: the timeout holds */
	req.op_case = L2F__REQUEST__OP_FDB_OF_HOST;
	req.fdb_of_host = "silent";
	assert_int_equal(wire_call(s.path, NULL, &e, keep_error, got, 200, &why), -ETIMEDOUT);
	assert_string_equal(why, "no answer from fabricd");

	/* not a Request; an invalid Request */
	e.msg_case = L2F__ENVELOPE__MSG_MASTER;
	assert_int_equal(wire_call(s.path, NULL, &e, keep_error, got, 200, &why), -EINVAL);
	e.msg_case = L2F__ENVELOPE__MSG_REQUEST;
	req.fdb_of_host = "";
	assert_int_equal(wire_call(s.path, NULL, &e, keep_error, got, 200, &why), -EBADMSG);

	assert_int_equal(write(s.stop[1], "x", 1), 1);
	pthread_join(s.thread, NULL);
	for (size_t i = 0; i < sizeof(s.open) / sizeof(s.open[0]); i++)
		if (s.open[i])
			wire_close(s.open[i], "test over");
	wire_listener_free(s.l);
	event_base_free(s.base);
	close(s.stop[0]);
	close(s.stop[1]);

	/* nobody there */
	req.fdb_of_host = "h1";
	assert_int_equal(wire_call(s.path, NULL, &e, keep_error, got, 200, &why), -ENOENT);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_hello),
		cmocka_unit_test(test_roundtrip_update),
		cmocka_unit_test(test_roundtrip_report),
		cmocka_unit_test(test_roundtrip_master),
		cmocka_unit_test(test_roundtrip_request),
		cmocka_unit_test(test_roundtrip_reply),
		cmocka_unit_test(test_validate_rejects),
		cmocka_unit_test(test_validate_agent),
		cmocka_unit_test(test_decode_garbage),
		cmocka_unit_test_setup_teardown(test_session_hello_then_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_non_hello_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_second_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_version_2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_huge_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_big_frame_before_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_invalid_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_garbage_leaves_others, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_close_and_send_from_callback, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_close_other_from_callback, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_send_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen_unix, setup, teardown),
		cmocka_unit_test(test_wire_call),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
