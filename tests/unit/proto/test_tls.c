/* test_tls.c - mutual TLS sessions on socketpairs, with certificates the openssl CLI makes
 * (scripts/certs.sh, as the tests and the demo use): the identities read from them, a Hello
 * the certificate backs (accepted) or not (closed, WIRE_CLOSE_IDENTITY), a client of another
 * CA (closed, WIRE_CLOSE_TLS), certificates without an l2fabric identity or with two
 * (refused when loaded), and the error text of a bad file. */
#include <errno.h>
#include <event2/event.h>
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
#include <unistd.h>
#include <cmocka.h>
#include "wire.h"

static char dir[] = "/tmp/test_tls.XXXXXX";

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static int setup_pki(void **state)
{
	const char *certs = getenv("CERTS_SH");

	if (!certs || !mkdtemp(dir))
		return -1;
	sh("bash %s %s ca >/dev/null", certs, dir);
	sh("bash %s %s issue fabricd fm 198.18.0.2 >/dev/null", certs, dir);
	sh("bash %s %s issue vtepd hv1 198.18.0.11 2001:db8:18::11 >/dev/null", certs, dir);
	sh("bash %s %s/other ca >/dev/null", certs, dir);
	sh("bash %s %s/other issue vtepd hv1 198.18.0.11 >/dev/null", certs, dir);
	/* no l2fabric URI; two of them */
	sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	   "-keyout none.key -out none.pem -days 1 -subj /CN=x -addext subjectAltName=DNS:x "
	   "2>/dev/null", dir);
	sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	   "-keyout two.key -out two.pem -days 1 -subj /CN=x -addext "
	   "subjectAltName=URI:urn:l2fabric:vtepd:a,URI:urn:l2fabric:vtepd:b 2>/dev/null", dir);
	return 0;
}

static int teardown_pki(void **state)
{
	sh("rm -rf %s", dir);
	return 0;
}

static struct wire_tls *tls_of(const char *cadir, const char *name, bool server)
{
	char ca[256], cert[256], key[256], err[320];
	struct wire_tls_files f = { ca, cert, key };
	struct wire_tls *t = NULL;

	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(cert, sizeof(cert), "%s/%s.pem", cadir, name);
	snprintf(key, sizeof(key), "%s/%s.key", cadir, name);
	assert_int_equal(wire_tls_new(&f, server, &t, err, sizeof(err)), 0);
	return t;
}

static void test_identities(void **state)
{
	struct wire_tls *fm = tls_of(dir, "fabricd-fm", true), *hv1 = tls_of(dir, "vtepd-hv1", false);
	const struct wire_ident *id = wire_tls_self(hv1);
	struct ipaddr v4, v6;

	assert_int_equal(wire_tls_self(fm)->role, L2F__ROLE__ROLE_FABRICD);
	assert_string_equal(wire_tls_self(fm)->id, "fm");
	assert_int_equal(id->role, L2F__ROLE__ROLE_VTEPD);
	assert_string_equal(id->id, "hv1");
	assert_int_equal(id->nips, 2);
	assert_int_equal(ipaddr_parse("198.18.0.11", &v4), 0);
	assert_int_equal(ipaddr_parse("2001:db8:18::11", &v6), 0);
	assert_true(ipaddr_eq(&id->ips[0], &v4) && ipaddr_eq(&id->ips[1], &v6));
	wire_tls_free(fm);
	wire_tls_free(hv1);
}

static void test_refused_certificates(void **state)
{
	char ca[256], cert[256], key[256], err[320];
	struct wire_tls_files f = { ca, cert, key };
	struct wire_tls *t = NULL;

	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(cert, sizeof(cert), "%s/none.pem", dir);
	snprintf(key, sizeof(key), "%s/none.key", dir);
	assert_int_equal(wire_tls_new(&f, false, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "names no l2fabric identity"));
	snprintf(cert, sizeof(cert), "%s/two.pem", dir);
	snprintf(key, sizeof(key), "%s/two.key", dir);
	assert_int_equal(wire_tls_new(&f, false, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than one l2fabric identity"));
	/* a key that is not the certificate's */
	snprintf(cert, sizeof(cert), "%s/vtepd-hv1.pem", dir);
	snprintf(key, sizeof(key), "%s/fabricd-fm.key", dir);
	assert_int_equal(wire_tls_new(&f, false, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "fabricd-fm.key"));
	assert_non_null(strstr(err, "mismatch"));
	snprintf(key, sizeof(key), "%s/missing.key", dir);
	assert_int_equal(wire_tls_new(&f, false, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "missing.key"));
	assert_null(t);
}

struct side {
	struct wire *w;
	bool hello, closed;
	enum wire_close_kind kind;
	char why[160];
};

static void on_hello(struct wire *w, void *ctx)
{
	((struct side *)ctx)->hello = true;
}

static void on_msg(struct wire *w, const L2f__Envelope *env, void *ctx)
{
}

static void on_close(struct wire *w, const char *why, void *ctx)
{
	struct side *s = ctx;

	s->closed = true;
	s->kind = wire_close_kind(w);
	snprintf(s->why, sizeof(s->why), "%s", why);
	s->w = NULL;
}

static const struct wire_ops ops = { .on_hello = on_hello, .on_msg = on_msg, .on_close = on_close };

/* A session pair: client with certificate `name` (of CA dir cadir) saying Hello (role, id). */
static void pair(struct wire_tls *srv, struct wire_tls *cli, L2f__Role role, const char *id,
		 struct side *a, struct side *b)
{
	struct event_base *base = event_base_new();
	L2f__Hello ha = L2F__HELLO__INIT, hb = L2F__HELLO__INIT;
	struct timeval tv = { 0, 300000 };
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ha.version = hb.version = PROTO_VERSION;
	ha.role = L2F__ROLE__ROLE_FABRICD;
	ha.id = "fm";
	hb.role = role;
	hb.id = (char *)id;
	a->w = wire_new_tls(base, sv[0], srv, &ha, &ops, a);
	b->w = wire_new_tls(base, sv[1], cli, &hb, &ops, b);
	assert_non_null(a->w);
	assert_non_null(b->w);
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	if (a->w)
		wire_close(a->w, "test over");
	if (b->w)
		wire_close(b->w, "test over");
	event_base_free(base);
}

static void test_hello_against_certificate(void **state)
{
	struct wire_tls *fm = tls_of(dir, "fabricd-fm", true), *hv1 = tls_of(dir, "vtepd-hv1", false);
	char other[256];
	struct wire_tls *rogue;
	struct side a = { 0 }, b = { 0 };

	/* backed: both sides accept the other's Hello */
	pair(fm, hv1, L2F__ROLE__ROLE_VTEPD, "hv1", &a, &b);
	assert_true(a.hello && b.hello);
	assert_false(a.closed && a.kind != WIRE_CLOSE_LOCAL);
	/* the certificate says hv1, the Hello hv2: the server closes before any daemon sees it */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	pair(fm, hv1, L2F__ROLE__ROLE_VTEPD, "hv2", &a, &b);
	assert_false(a.hello);
	assert_true(a.closed);
	assert_int_equal(a.kind, WIRE_CLOSE_IDENTITY);
	assert_string_equal(a.why, "Hello says vtepd hv2, its certificate vtepd hv1");
	/* the right id with another role */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	pair(fm, hv1, L2F__ROLE__ROLE_FABRICCTL, "hv1", &a, &b);
	assert_false(a.hello);
	assert_int_equal(a.kind, WIRE_CLOSE_IDENTITY);
	/* a certificate of another CA: no handshake, no Hello either way */
	snprintf(other, sizeof(other), "%s/other", dir);
	rogue = tls_of(other, "vtepd-hv1", false);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	pair(fm, rogue, L2F__ROLE__ROLE_VTEPD, "hv1", &a, &b);
	assert_false(a.hello || b.hello);
	assert_true(a.closed);
	assert_int_equal(a.kind, WIRE_CLOSE_TLS);
	wire_tls_free(rogue);
	wire_tls_free(fm);
	wire_tls_free(hv1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identities),
		cmocka_unit_test(test_refused_certificates),
		cmocka_unit_test(test_hello_against_certificate),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup_pki, teardown_pki);
}
