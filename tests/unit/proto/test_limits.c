/* test_limits.c - the bounds wire_validate holds every repeated field to (WIRE_MAX_* in
 * wire.h): at the limit a message is accepted (and, when small enough to build quickly, goes
 * through the wire unchanged); one over, it is refused with a reason naming both numbers.
 * Then the lists that may not name an entry twice. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "wire.h"

static uint8_t mac1[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

#define BIN(a) ((ProtobufCBinaryData){ .len = sizeof(a), .data = (a) })

/* Frames up to this many entries are also packed and decoded; the 1M lists only validated. */
#define WIRE_CHECK_MAX WIRE_MAX_HOSTS

/* n distinct IPv4 addresses, 198.18.0.0 upwards (n <= 65536): one block, free() it. */
static ProtobufCBinaryData *distinct_addrs(size_t n)
{
	ProtobufCBinaryData *v = malloc(n * (sizeof(*v) + 4) + 1);
	uint8_t *raw = (uint8_t *)(v + n);

	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		raw[4 * i] = 198;
		raw[4 * i + 1] = 18;
		raw[4 * i + 2] = (uint8_t)(i >> 8);
		raw[4 * i + 3] = (uint8_t)i;
		v[i].data = raw + 4 * i;
		v[i].len = 4;
	}
	return v;
}

static uint32_t *distinct_vnis(size_t n)
{
	uint32_t *v = malloc(n * sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		v[i] = (uint32_t)i + 1;
	return v;
}

/* n pointers to the same sub-message: the entries of the long lists are not compared. */
static void **same(void *m, size_t n)
{
	void **v = malloc(n * sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		v[i] = m;
	return v;
}

static void through_wire(const L2f__Envelope *e, int want, const char *reason)
{
	size_t len = l2f__envelope__get_packed_size(e);
	uint8_t *buf = malloc(len + 1);
	L2f__Envelope *out = NULL;
	const char *why = NULL;

	assert_non_null(buf);
	assert_int_equal(l2f__envelope__pack(e, buf), len);
	assert_int_equal(wire_decode(buf, len, &out, &why), want);
	if (want) {
		assert_null(out);
		assert_string_equal(why, reason);
	} else {
		assert_int_equal(l2f__envelope__get_packed_size(out), len);
		l2f__envelope__free_unpacked(out, NULL);
	}
	free(buf);
}

/* *n = limit is valid, *n = limit + 1 is refused with exactly `reason`. */
static void expect_bound(const L2f__Envelope *e, size_t *n, size_t limit, const char *reason)
{
	const char *why = NULL;

	*n = limit;
	assert_int_equal(wire_validate(e, &why), 0);
	if (limit <= WIRE_CHECK_MAX)
		through_wire(e, 0, NULL);
	*n = limit + 1;
	why = NULL;
	assert_int_equal(wire_validate(e, &why), -EBADMSG);
	assert_string_equal(why, reason);
	if (limit <= WIRE_CHECK_MAX)
		through_wire(e, -EBADMSG, reason);
}

static void expect_refused(const L2f__Envelope *e, const char *reason)
{
	const char *why = NULL;

	assert_int_equal(wire_validate(e, &why), -EBADMSG);
	assert_string_equal(why, reason);
	through_wire(e, -EBADMSG, reason);
}

static L2f__Envelope env_of_update(L2f__Update *u)
{
	L2f__Envelope e = L2F__ENVELOPE__INIT;

	e.msg_case = L2F__ENVELOPE__MSG_UPDATE;
	e.update = u;
	return e;
}

static L2f__Envelope env_of_reply(L2f__Reply *r)
{
	L2f__Envelope e = L2F__ENVELOPE__INIT;

	e.msg_case = L2F__ENVELOPE__MSG_REPLY;
	e.reply = r;
	return e;
}

static L2f__Envelope env_of_port_add(L2f__Request *q, L2f__Port *p)
{
	L2f__Envelope e = L2F__ENVELOPE__INIT;

	q->op_case = L2F__REQUEST__OP_PORT_ADD;
	q->port_add = p;
	e.msg_case = L2F__ENVELOPE__MSG_REQUEST;
	e.request = q;
	return e;
}

static void fdb_init(L2f__Fdb *f)
{
	l2f__fdb__init(f);
	f->vni = 100;
	f->mac = BIN(mac1);
}

static void port_init(L2f__Port *p)
{
	static char *one_host[] = { "hv1" };

	l2f__port__init(p);
	p->vni = 100;
	p->mac = BIN(mac1);
	p->hosts = one_host;
	p->n_hosts = 1;
}

/* --- counts -------------------------------------------------------------------------------- */

static void test_hello_vnis(void **state)
{
	uint32_t *vnis = distinct_vnis(WIRE_MAX_VNIS + 1);
	L2f__Hello h = L2F__HELLO__INIT;
	L2f__Envelope e = L2F__ENVELOPE__INIT;

	h.version = PROTO_VERSION;
	h.role = L2F__ROLE__ROLE_VTEPD;
	h.id = "hv1";
	h.vnis = vnis;
	e.msg_case = L2F__ENVELOPE__MSG_HELLO;
	e.hello = &h;
	expect_bound(&e, &h.n_vnis, WIRE_MAX_VNIS, "Hello with 4097 VNIs, at most 4096");
	free(vnis);
}

static void test_host_vnis(void **state)
{
	uint32_t *vnis = distinct_vnis(WIRE_MAX_VNIS + 1);
	L2f__Host h = L2F__HOST__INIT, *hs[] = { &h };
	L2f__Reply r = L2F__REPLY__INIT;
	L2f__Envelope e = env_of_reply(&r);

	h.id = "hv1";
	h.vnis = vnis;
	r.hosts = hs;
	r.n_hosts = 1;
	expect_bound(&e, &h.n_vnis, WIRE_MAX_VNIS, "Host with 4097 VNIs, at most 4096");
	free(vnis);
}

static void test_update_flood_lists(void **state)
{
	L2f__Flood fl = L2F__FLOOD__INIT;
	L2f__Update u = L2F__UPDATE__INIT;
	L2f__Envelope e = env_of_update(&u);

	fl.vni = 100;
	u.flood = (L2f__Flood **)same(&fl, WIRE_MAX_VNIS + 1);
	expect_bound(&e, &u.n_flood, WIRE_MAX_VNIS, "Update with 4097 flood lists, at most 4096");
	free(u.flood);
}

static void test_reply_flood_lists(void **state)
{
	L2f__Flood fl = L2F__FLOOD__INIT;
	L2f__Reply r = L2F__REPLY__INIT;
	L2f__Envelope e = env_of_reply(&r);

	fl.vni = 100;
	r.flood = (L2f__Flood **)same(&fl, WIRE_MAX_VNIS + 1);
	expect_bound(&e, &r.n_flood, WIRE_MAX_VNIS, "Reply with 4097 flood lists, at most 4096");
	free(r.flood);
}

static void test_port_hosts(void **state)
{
	char names[WIRE_MAX_PORT_HOSTS + 1][8], *hosts[WIRE_MAX_PORT_HOSTS + 1];
	L2f__Port p;
	L2f__Request q = L2F__REQUEST__INIT;
	L2f__Envelope e = env_of_port_add(&q, &p);

	port_init(&p);
	for (size_t i = 0; i <= WIRE_MAX_PORT_HOSTS; i++) {
		snprintf(names[i], sizeof(names[i]), "hv%zu", i);
		hosts[i] = names[i];
	}
	p.hosts = hosts;
	expect_bound(&e, &p.n_hosts, WIRE_MAX_PORT_HOSTS, "Port with 9 hosts, at most 8");
}

static void test_fdb_vteps(void **state)
{
	ProtobufCBinaryData *vteps = distinct_addrs(WIRE_MAX_PORT_HOSTS + 1);
	L2f__Fdb f, *fs[] = { &f };
	L2f__Update u = L2F__UPDATE__INIT;
	L2f__Envelope e = env_of_update(&u);

	fdb_init(&f);
	f.vteps = vteps;
	u.add = fs;
	u.n_add = 1;
	expect_bound(&e, &f.n_vteps, WIRE_MAX_PORT_HOSTS, "Fdb with 9 VTEPs, at most 8");
	free(vteps);
}

static void test_fdb_ips(void **state)
{
	ProtobufCBinaryData *ips = distinct_addrs(WIRE_MAX_IPS + 1);
	L2f__Fdb f, *fs[] = { &f };
	L2f__Reply r = L2F__REPLY__INIT;
	L2f__Envelope e = env_of_reply(&r);

	fdb_init(&f);
	f.ips = ips;
	r.fdb = fs;
	r.n_fdb = 1;
	expect_bound(&e, &f.n_ips, WIRE_MAX_IPS, "Fdb with 17 IPs, at most 16");
	free(ips);
}

static void test_learned_ips(void **state)
{
	ProtobufCBinaryData *ips = distinct_addrs(WIRE_MAX_IPS + 1);
	L2f__Learned l = L2F__LEARNED__INIT, *ls[] = { &l };
	L2f__Report r = L2F__REPORT__INIT;
	L2f__Envelope e = L2F__ENVELOPE__INIT;

	l.vni = 100;
	l.mac = BIN(mac1);
	l.ips = ips;
	r.entries = ls;
	r.n_entries = 1;
	e.msg_case = L2F__ENVELOPE__MSG_REPORT;
	e.report = &r;
	expect_bound(&e, &l.n_ips, WIRE_MAX_IPS, "Learned with 17 IPs, at most 16");
	free(ips);
}

static void test_port_ips(void **state)
{
	ProtobufCBinaryData *ips = distinct_addrs(WIRE_MAX_IPS + 1);
	L2f__Port p;
	L2f__Request q = L2F__REQUEST__INIT;
	L2f__Envelope e = env_of_port_add(&q, &p);

	port_init(&p);
	p.ips = ips;
	expect_bound(&e, &p.n_ips, WIRE_MAX_IPS, "Port with 17 IPs, at most 16");
	free(ips);
}

static void test_flood_vteps(void **state)
{
	ProtobufCBinaryData *vteps = distinct_addrs(WIRE_MAX_FLOOD_VTEPS + 1);
	L2f__Flood fl = L2F__FLOOD__INIT, *fls[] = { &fl };
	L2f__Update u = L2F__UPDATE__INIT;
	L2f__Envelope e = env_of_update(&u);

	fl.vni = 100;
	fl.vteps = vteps;
	u.flood = fls;
	u.n_flood = 1;
	expect_bound(&e, &fl.n_vteps, WIRE_MAX_FLOOD_VTEPS, "Flood with 4097 VTEPs, at most 4096");
	free(vteps);
}

static void test_update_add(void **state)
{
	L2f__Fdb f;
	L2f__Update u = L2F__UPDATE__INIT;
	L2f__Envelope e = env_of_update(&u);

	fdb_init(&f);
	u.add = (L2f__Fdb **)same(&f, WIRE_MAX_ENTRIES + 1);
	expect_bound(&e, &u.n_add, WIRE_MAX_ENTRIES,
		     "Update with 1048577 entries to add, at most 1048576");
	free(u.add);
}

static void test_update_del(void **state)
{
	L2f__Fdb f;
	L2f__Update u = L2F__UPDATE__INIT;
	L2f__Envelope e = env_of_update(&u);

	fdb_init(&f);
	u.del = (L2f__Fdb **)same(&f, WIRE_MAX_ENTRIES + 1);
	expect_bound(&e, &u.n_del, WIRE_MAX_ENTRIES,
		     "Update with 1048577 entries to delete, at most 1048576");
	free(u.del);
}

static void test_report_entries(void **state)
{
	L2f__Learned l = L2F__LEARNED__INIT;
	L2f__Report r = L2F__REPORT__INIT;
	L2f__Envelope e = L2F__ENVELOPE__INIT;

	l.vni = 100;
	l.mac = BIN(mac1);
	r.entries = (L2f__Learned **)same(&l, WIRE_MAX_ENTRIES + 1);
	e.msg_case = L2F__ENVELOPE__MSG_REPORT;
	e.report = &r;
	expect_bound(&e, &r.n_entries, WIRE_MAX_ENTRIES,
		     "Report with 1048577 entries, at most 1048576");
	free(r.entries);
}

static void test_reply_ports(void **state)
{
	L2f__Port p;
	L2f__Reply r = L2F__REPLY__INIT;
	L2f__Envelope e = env_of_reply(&r);

	port_init(&p);
	r.ports = (L2f__Port **)same(&p, WIRE_MAX_ENTRIES + 1);
	expect_bound(&e, &r.n_ports, WIRE_MAX_ENTRIES, "Reply with 1048577 ports, at most 1048576");
	free(r.ports);
}

static void test_reply_fdb(void **state)
{
	L2f__Fdb f;
	L2f__Reply r = L2F__REPLY__INIT;
	L2f__Envelope e = env_of_reply(&r);

	fdb_init(&f);
	r.fdb = (L2f__Fdb **)same(&f, WIRE_MAX_ENTRIES + 1);
	expect_bound(&e, &r.n_fdb, WIRE_MAX_ENTRIES,
		     "Reply with 1048577 fdb entries, at most 1048576");
	free(r.fdb);
}

static void test_reply_hosts(void **state)
{
	L2f__Host h = L2F__HOST__INIT;
	L2f__Reply r = L2F__REPLY__INIT;
	L2f__Envelope e = env_of_reply(&r);

	h.id = "hv1";
	r.hosts = (L2f__Host **)same(&h, WIRE_MAX_HOSTS + 1);
	expect_bound(&e, &r.n_hosts, WIRE_MAX_HOSTS, "Reply with 65535 hosts, at most 65534");
	free(r.hosts);
}

/* The count is checked before the entries: a long list of bad entries is refused for its
 * length, without its entries being walked. */
static void test_count_before_entries(void **state)
{
	ProtobufCBinaryData bad = { .len = 5, .data = mac1 };
	ProtobufCBinaryData vteps[WIRE_MAX_PORT_HOSTS + 1];
	L2f__Fdb f, *fs[] = { &f };
	L2f__Update u = L2F__UPDATE__INIT;
	L2f__Envelope e = env_of_update(&u);

	for (size_t i = 0; i <= WIRE_MAX_PORT_HOSTS; i++)
		vteps[i] = bad;
	fdb_init(&f);
	f.vteps = vteps;
	f.n_vteps = WIRE_MAX_PORT_HOSTS + 1;
	u.add = fs;
	u.n_add = 1;
	expect_refused(&e, "Fdb with 9 VTEPs, at most 8");
	f.n_vteps = 1;
	expect_refused(&e, "Fdb VTEP address not 4 or 16 bytes");
}

/* --- duplicates ---------------------------------------------------------------------------- */

static void test_hello_vni_twice(void **state)
{
	uint32_t *vnis = distinct_vnis(WIRE_MAX_VNIS);
	L2f__Hello h = L2F__HELLO__INIT;
	L2f__Envelope e = L2F__ENVELOPE__INIT;
	const char *why = NULL;

	h.version = PROTO_VERSION;
	h.role = L2F__ROLE__ROLE_VTEPD;
	h.id = "hv1";
	h.vnis = vnis;
	h.n_vnis = WIRE_MAX_VNIS;
	e.msg_case = L2F__ENVELOPE__MSG_HELLO;
	e.hello = &h;
	assert_int_equal(wire_validate(&e, &why), 0);
	vnis[WIRE_MAX_VNIS - 1] = 100;          /* the last equals the hundredth */
	expect_refused(&e, "Hello names VNI 100 twice");
	free(vnis);
}

static void test_fdb_twice(void **state)
{
	ProtobufCBinaryData *a = distinct_addrs(WIRE_MAX_IPS);
	L2f__Fdb f, *fs[] = { &f };
	L2f__Update u = L2F__UPDATE__INIT;
	L2f__Envelope e = env_of_update(&u);
	const char *why = NULL;

	fdb_init(&f);
	u.add = fs;
	u.n_add = 1;
	f.vteps = a;
	f.n_vteps = WIRE_MAX_PORT_HOSTS;
	f.ips = a;
	f.n_ips = WIRE_MAX_IPS;
	assert_int_equal(wire_validate(&e, &why), 0);
	a[WIRE_MAX_PORT_HOSTS - 1] = a[0];
	expect_refused(&e, "Fdb names a VTEP twice");
	f.n_vteps = 1;
	expect_refused(&e, "Fdb names an IP twice");
	free(a);
}

static void test_learned_and_port_ips_twice(void **state)
{
	ProtobufCBinaryData *a = distinct_addrs(2);
	L2f__Learned l = L2F__LEARNED__INIT, *ls[] = { &l };
	L2f__Report r = L2F__REPORT__INIT;
	L2f__Port p;
	L2f__Request q = L2F__REQUEST__INIT;
	L2f__Envelope e = L2F__ENVELOPE__INIT;

	a[1] = a[0];
	l.vni = 100;
	l.mac = BIN(mac1);
	l.ips = a;
	l.n_ips = 2;
	r.entries = ls;
	r.n_entries = 1;
	e.msg_case = L2F__ENVELOPE__MSG_REPORT;
	e.report = &r;
	expect_refused(&e, "Learned names an IP twice");
	port_init(&p);
	p.ips = a;
	p.n_ips = 2;
	e = env_of_port_add(&q, &p);
	expect_refused(&e, "Port names an IP twice");
	free(a);
}

static void test_port_host_twice(void **state)
{
	char *hosts[] = { "hv1", "hv2", "hv1" };
	L2f__Port p;
	L2f__Request q = L2F__REQUEST__INIT;
	L2f__Envelope e = env_of_port_add(&q, &p);
	const char *why = NULL;

	port_init(&p);
	p.hosts = hosts;
	p.n_hosts = 2;
	assert_int_equal(wire_validate(&e, &why), 0);
	p.n_hosts = 3;
	expect_refused(&e, "Port names a host twice");
}

/* Short flood lists are compared pairwise, long ones sorted: both paths, and a duplicate
 * at either end of the sorted order. */
static void test_flood_vtep_twice(void **state)
{
	ProtobufCBinaryData *a = distinct_addrs(WIRE_MAX_FLOOD_VTEPS);
	L2f__Flood fl = L2F__FLOOD__INIT, *fls[] = { &fl };
	L2f__Update u = L2F__UPDATE__INIT;
	L2f__Envelope e = env_of_update(&u);
	const size_t n[] = { 3, WIRE_MAX_FLOOD_VTEPS };
	const char *why = NULL;

	fl.vni = 100;
	fl.vteps = a;
	u.flood = fls;
	u.n_flood = 1;
	for (size_t k = 0; k < 2; k++) {
		ProtobufCBinaryData last = a[n[k] - 1], first = a[0];

		fl.n_vteps = n[k];
		assert_int_equal(wire_validate(&e, &why), 0);
		a[n[k] - 1] = a[0];             /* the smallest twice */
		expect_refused(&e, "Flood names a VTEP twice");
		a[n[k] - 1] = last;
		a[0] = last;                    /* the largest twice */
		expect_refused(&e, "Flood names a VTEP twice");
		a[0] = first;
	}
	free(a);
}

/* Multicast: an edge's groups (distinct: a group twice is refused on its own), a switch's
 * table, and what a membership may not say. */
static void test_mcast(void **state)
{
	L2f__McastGroup *g = calloc(WIRE_MAX_MCAST_GROUPS + 1, sizeof(*g));
	L2f__McastGroup **gp = calloc(WIRE_MAX_MCAST_GROUPS + 1, sizeof(*gp));
	uint8_t (*addr)[4] = calloc(WIRE_MAX_MCAST_GROUPS + 1, 4);
	uint32_t ports[2] = { 0, 1 }, twice[2] = { 1, 1 };
	L2f__McastMembership mm = L2F__MCAST_MEMBERSHIP__INIT;
	L2f__McastTable t = L2F__MCAST_TABLE__INIT;
	L2f__McastEntry e = L2F__MCAST_ENTRY__INIT;
	L2f__Portland pl = L2F__PORTLAND__INIT;
	L2f__Envelope env = L2F__ENVELOPE__INIT;

	assert_non_null(g);
	assert_non_null(gp);
	assert_non_null(addr);
	for (size_t i = 0; i <= WIRE_MAX_MCAST_GROUPS; i++) {
		l2f__mcast_group__init(&g[i]);
		addr[i][0] = 239;
		addr[i][2] = (uint8_t)(i >> 8);
		addr[i][3] = (uint8_t)i;
		g[i].group = (ProtobufCBinaryData){ 4, addr[i] };
		g[i].ports = ports;
		g[i].n_ports = 2;
		gp[i] = &g[i];
	}
	mm.groups = gp;
	pl.mcast_members = &mm;
	env.msg_case = L2F__ENVELOPE__MSG_PORTLAND;
	env.portland = &pl;
	expect_bound(&env, &mm.n_groups, WIRE_MAX_MCAST_GROUPS,
		     "McastMembership with 1025 groups, at most 1024");
	mm.n_groups = 2;
	g[1].ports = twice;
	expect_refused(&env, "McastGroup port over 8 bits or named twice");
	g[1].ports = ports;
	addr[1][3] = 0;
	expect_refused(&env, "McastMembership names a group twice");
	addr[1][0] = 224;
	addr[1][1] = addr[1][2] = 0;
	expect_refused(&env, "McastGroup group not a routable multicast address");
	pl.mcast_members = NULL;

	e.group = (ProtobufCBinaryData){ 4, addr[5] };
	e.has_in_port = true;
	e.in_port = 1;
	e.out_ports = ports;
	e.n_out_ports = 2;
	t.entries = (L2f__McastEntry **)same(&e, WIRE_MAX_MCAST_ENTRIES + 1);
	pl.mcast_table = &t;
	t.n_entries = 1;
	expect_refused(&env, "McastEntry sends back out of its in port");
	e.in_port = 2;
	expect_bound(&env, &t.n_entries, WIRE_MAX_MCAST_ENTRIES,
		     "McastTable with 16385 entries, at most 16384");
	free(t.entries);
	free(g);
	free(gp);
	free(addr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_vnis),
		cmocka_unit_test(test_host_vnis),
		cmocka_unit_test(test_update_flood_lists),
		cmocka_unit_test(test_reply_flood_lists),
		cmocka_unit_test(test_port_hosts),
		cmocka_unit_test(test_fdb_vteps),
		cmocka_unit_test(test_fdb_ips),
		cmocka_unit_test(test_learned_ips),
		cmocka_unit_test(test_port_ips),
		cmocka_unit_test(test_flood_vteps),
		cmocka_unit_test(test_update_add),
		cmocka_unit_test(test_update_del),
		cmocka_unit_test(test_report_entries),
		cmocka_unit_test(test_reply_ports),
		cmocka_unit_test(test_reply_fdb),
		cmocka_unit_test(test_reply_hosts),
		cmocka_unit_test(test_count_before_entries),
		cmocka_unit_test(test_hello_vni_twice),
		cmocka_unit_test(test_fdb_twice),
		cmocka_unit_test(test_learned_and_port_ips_twice),
		cmocka_unit_test(test_port_host_twice),
		cmocka_unit_test(test_flood_vtep_twice),
		cmocka_unit_test(test_mcast),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
