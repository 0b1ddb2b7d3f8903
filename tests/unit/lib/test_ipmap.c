/* test_ipmap.c - lib/ipmap: IPv4 and IPv6 keys under churn (deletes in the middle of probe
 * runs), an IPv4 key's bytes beyond its four not part of it, and growth keeping every key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "ipmap.h"

struct host {
	struct ipaddr ip;          /* the key, first */
	uint32_t n;
};

static struct ipaddr ip_of(uint32_t i, bool v6)
{
	struct ipaddr a = { .af = v6 ? AF_INET6 : AF_INET };

	if (v6) {
		a.b[0] = 0x20, a.b[1] = 0x01, a.b[2] = 0x0d, a.b[3] = 0xb8;
		a.b[12] = i >> 24, a.b[13] = i >> 16, a.b[14] = i >> 8, a.b[15] = i;
	} else {
		a.b[0] = 198, a.b[1] = 18 + (i >> 16 & 1), a.b[2] = i >> 8, a.b[3] = i;
	}
	return a;
}

static void churn_keeps_every_key(void **state)
{
	const uint32_t n = 60000;
	struct host *h = calloc(n, sizeof(*h));
	struct ipmap m;
	int err;

	assert_non_null(h);
	assert_int_equal(ipmap_init(&m), 0);
	for (uint32_t i = 0; i < n; i++) {
		h[i].ip = ip_of(i / 2, i & 1);
		h[i].n = i;
		assert_null(ipmap_put(&m, &h[i], &err));
		assert_int_equal(err, 0);
	}
	assert_int_equal(m.count, n);
	for (uint32_t i = 0; i < n; i += 3) {
		struct ipaddr k = ip_of(i / 2, i & 1);

		assert_ptr_equal(ipmap_del(&m, &k), &h[i]);
		assert_null(ipmap_del(&m, &k));
	}
	for (uint32_t i = 0; i < n; i++) {
		struct ipaddr k = ip_of(i / 2, i & 1);

		if (i % 3 == 0)
			assert_null(ipmap_get(&m, &k));
		else
			assert_ptr_equal(ipmap_get(&m, &k), &h[i]);
	}
	assert_int_equal(m.count, n - (n + 2) / 3);
	ipmap_free(&m);
	free(h);
}

/* A replaced value comes back to the caller, the count stays. */
static void put_replaces(void **state)
{
	struct host a = { ip_of(7, false), 1 }, b = { ip_of(7, false), 2 };
	struct ipmap m;
	int err;

	assert_int_equal(ipmap_init(&m), 0);
	assert_null(ipmap_put(&m, &a, &err));
	assert_ptr_equal(ipmap_put(&m, &b, &err), &a);
	assert_int_equal(m.count, 1);
	assert_ptr_equal(ipmap_get(&m, &a.ip), &b);
	ipmap_free(&m);
}

/* An IPv4 address is its four bytes: garbage after them does not make another key, and the
 * same bytes as IPv6 are another key. */
static void ipv4_key_is_four_bytes(void **state)
{
	struct host a = { ip_of(9, false), 1 };
	struct ipaddr k = ip_of(9, false), v6 = { .af = AF_INET6 };
	struct ipmap m;
	int err;

	assert_int_equal(ipmap_init(&m), 0);
	assert_null(ipmap_put(&m, &a, &err));
	memset(k.b + 4, 0xa5, sizeof(k.b) - 4);
	assert_ptr_equal(ipmap_get(&m, &k), &a);
	memcpy(v6.b, a.ip.b, 4);
	assert_null(ipmap_get(&m, &v6));
	ipmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(churn_keeps_every_key),
		cmocka_unit_test(put_replaces),
		cmocka_unit_test(ipv4_key_is_four_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
