/*
 * test_vmid.c - an edge's vmid allocator (switchd/vmid.c) on a fake clock: vmids count up
 * per port from 1, a vmid freed is held before another host may have it, its own host gets
 * it back meanwhile, the lowest expired one goes first, recovered vmids are never given
 * twice, and the bounds (max in use or held, 65535 a port) refuse instead of breaking. Then
 * random operations against a plain model of the rules.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "vmid.h"

#define HOLD_US (60 * USEC_PER_SEC)

static struct monotime at(int64_t s)
{
	return (struct monotime){ 1000 * USEC_PER_SEC + s * USEC_PER_SEC };
}

static struct mac host(unsigned n)
{
	return (struct mac){ { 0x02, 0x00, 0x00, (uint8_t)(n >> 16), (uint8_t)(n >> 8),
			       (uint8_t)n } };
}

static int take(struct vmids *v, uint8_t port, unsigned h, int64_t s)
{
	struct mac m = host(h);

	return vmid_take(v, port, &m, at(s));
}

static void release(struct vmids *v, uint8_t port, uint16_t vmid, unsigned h, int64_t s)
{
	struct mac m = host(h);

	vmid_release(v, port, vmid, &m, at(s));
}

static void test_count_up_per_port(void **state)
{
	struct vmids v;

	vmids_init(&v, 100, HOLD_US, NULL, NULL);
	assert_int_equal(take(&v, 0, 1, 0), 1);
	assert_int_equal(take(&v, 0, 2, 0), 2);
	assert_int_equal(take(&v, 1, 3, 0), 1);   /* each port its own */
	assert_int_equal(take(&v, 0, 4, 0), 3);
	assert_int_equal(vmids_in_use(&v), 4);
	assert_null(v.taken[2]);                  /* no bitmap for a port without hosts */
	vmids_fini(&v);
}

static void test_hold(void **state)
{
	struct vmids v;

	vmids_init(&v, 100, HOLD_US, NULL, NULL);
	assert_int_equal(take(&v, 0, 1, 0), 1);
	assert_int_equal(take(&v, 0, 2, 0), 2);
	release(&v, 0, 1, 1, 10);                 /* host 1 aged out at 10 s */
	assert_int_equal(vmids_held(&v), 1);
	assert_int_equal(take(&v, 0, 3, 69), 3);  /* held until 70: not host 3's */
	assert_int_equal(take(&v, 1, 4, 69), 1);  /* another port's vmid 1 is another vmid */
	assert_int_equal(take(&v, 0, 5, 70), 1);  /* over: the lowest free */
	assert_int_equal(vmids_held(&v), 0);
	assert_int_equal(take(&v, 0, 6, 70), 4);
	vmids_fini(&v);
}

static void test_own_back(void **state)
{
	struct vmids v;

	vmids_init(&v, 100, HOLD_US, NULL, NULL);
	assert_int_equal(take(&v, 0, 1, 0), 1);
	assert_int_equal(take(&v, 0, 2, 0), 2);
	release(&v, 0, 1, 1, 10);
	assert_int_equal(take(&v, 1, 1, 20), 1);  /* host 1 on port 1: a vmid of port 1 */
	assert_int_equal(vmids_held(&v), 1);      /* port 0's vmid 1 still held */
	release(&v, 1, 1, 1, 25);
	assert_int_equal(take(&v, 0, 1, 30), 1);  /* back on port 0 in its hold: its own */
	assert_int_equal(vmids_held(&v), 1);      /* port 1's, until 85 */
	assert_int_equal(take(&v, 1, 7, 30), 2);
	vmids_fini(&v);
}

static void test_lowest_expired_first(void **state)
{
	struct vmids v;

	vmids_init(&v, 100, HOLD_US, NULL, NULL);
	for (unsigned h = 1; h <= 5; h++)
		assert_int_equal(take(&v, 0, h, 0), (int)h);
	release(&v, 0, 4, 4, 0);
	release(&v, 0, 2, 2, 1);
	release(&v, 0, 3, 3, 2);
	assert_int_equal(take(&v, 0, 10, 61), 2);   /* 4 and 2 over; 3 held until 62 */
	assert_int_equal(take(&v, 0, 11, 61), 4);
	assert_int_equal(take(&v, 0, 12, 61), 6);
	assert_int_equal(take(&v, 0, 13, 62), 3);
	vmids_fini(&v);
}

static void test_no_hold(void **state)
{
	struct vmids v;

	vmids_init(&v, 100, 0, NULL, NULL);
	assert_int_equal(take(&v, 0, 1, 0), 1);
	release(&v, 0, 1, 1, 0);
	assert_int_equal(vmids_held(&v), 0);
	assert_int_equal(take(&v, 0, 2, 0), 1);
	vmids_fini(&v);
}

/* After a restart: the hosts taken over keep their vmids, new ones go around them. */
static void test_reserve(void **state)
{
	struct vmids v;

	vmids_init(&v, 100, HOLD_US, NULL, NULL);
	assert_int_equal(vmid_reserve(&v, 0, 1), 0);
	assert_int_equal(vmid_reserve(&v, 0, 3), 0);
	assert_int_equal(vmid_reserve(&v, 0, 65535), 0);
	assert_int_equal(vmid_reserve(&v, 0, 3), -EEXIST);
	assert_int_equal(vmid_reserve(&v, 0, 0), -EINVAL);
	assert_int_equal(take(&v, 0, 1, 0), 2);
	assert_int_equal(take(&v, 0, 2, 0), 4);
	release(&v, 0, 65535, 9, 0);
	assert_int_equal(take(&v, 0, 3, 60), 5);  /* the hold is not about to end */
	assert_int_equal(vmids_in_use(&v), 5);
	vmids_fini(&v);
}

/* max counts vmids in use and held: a hold keeps its place until it ends. */
static void test_max(void **state)
{
	struct vmids v;

	vmids_init(&v, 3, HOLD_US, NULL, NULL);
	assert_int_equal(take(&v, 0, 1, 0), 1);
	assert_int_equal(take(&v, 1, 2, 0), 1);
	assert_int_equal(take(&v, 2, 3, 0), 1);
	assert_int_equal(take(&v, 0, 4, 0), -ENOSPC);
	release(&v, 0, 1, 1, 0);
	assert_int_equal(take(&v, 0, 4, 59), -ENOSPC);
	assert_int_equal(vmid_reserve(&v, 3, 1), -ENOSPC);
	assert_int_equal(take(&v, 0, 4, 60), 1);
	assert_int_equal(take(&v, 0, 1, 60), -ENOSPC);   /* its hold ended: not its own any more */
	vmids_fini(&v);
}

/* A port's 65535: all in use or held refuses the next host, not a crash or vmid 0. */
static void test_port_full(void **state)
{
	struct vmids v;

	vmids_init(&v, 100000, HOLD_US, NULL, NULL);
	for (unsigned h = 1; h <= VMID_MAX; h++)
		if (take(&v, 5, h, 0) != (int)h)
			fail_msg("host %u did not get vmid %u", h, h);
	assert_int_equal(take(&v, 5, 70000, 0), -ENOSPC);
	assert_int_equal(take(&v, 6, 70000, 0), 1);
	release(&v, 5, 777, 777, 0);
	assert_int_equal(take(&v, 5, 70001, 1), -ENOSPC);
	assert_int_equal(take(&v, 5, 70001, 60), 777);
	vmids_fini(&v);
}

struct seen {
	int held, unheld;
	uint16_t last;
};

static void on_held(void *ctx, const struct vmid_hold *h)
{
	struct seen *s = ctx;

	s->held++;
	s->last = h->vmid;
}

static void on_unheld(void *ctx, const struct vmid_hold *h)
{
	struct seen *s = ctx;

	s->unheld++;
	s->last = h->vmid;
}

static const struct vmid_ops seen_ops = { on_held, on_unheld };

/* Holds from before a restart: no longer than a hold given now, in the order they end. */
static void test_restore(void **state)
{
	struct seen s = { 0 };
	struct vmids v;
	struct vmid_hold a = { at(30), host(1), 0, 7 }, b = { at(10), host(2), 0, 4 },
			 c = { at(500), host(3), 0, 9 }, d = { at(-1), host(4), 0, 2 };

	vmids_init(&v, 100, HOLD_US, &seen_ops, &s);
	assert_int_equal(vmid_reserve(&v, 0, 1), 0);
	assert_int_equal(vmid_restore(&v, &a, at(0)), 0);
	assert_int_equal(vmid_restore(&v, &b, at(0)), 0);
	assert_int_equal(vmid_restore(&v, &c, at(0)), 0);   /* clamped to 60 */
	assert_int_equal(vmid_restore(&v, &d, at(0)), -ESTALE);
	a.vmid = 1;
	assert_int_equal(vmid_restore(&v, &a, at(0)), -EEXIST);
	assert_int_equal(s.held, 0);
	assert_int_equal(vmids_held(&v), 3);
	assert_int_equal(take(&v, 0, 9, 0), 2);
	vmids_expire(&v, at(10));
	assert_int_equal(s.unheld, 1);
	assert_int_equal(s.last, 4);
	assert_int_equal(take(&v, 0, 9, 29), 3);
	assert_int_equal(take(&v, 0, 8, 29), 4);
	assert_int_equal(take(&v, 0, 7, 30), 5);
	assert_int_equal(s.last, 7);
	assert_int_equal(take(&v, 0, 3, 59), 9);            /* its own back */
	assert_int_equal(s.unheld, 3);
	release(&v, 0, 9, 3, 59);
	assert_int_equal(s.held, 1);
	assert_int_equal(s.last, 9);
	vmids_fini(&v);
}

/* --- random operations against a model -------------------------------------------------------- */

#define M_PORTS 3
#define M_HOSTS 40
#define M_MAX 24
#define M_VMIDS (M_MAX + 2)   /* with M_MAX taken at most, no vmid above M_MAX is given */
#define M_HOLD 5

enum { M_FREE, M_USED, M_HELD };

/* The rules in the plainest form: a state per vmid, scanned in full every time. */
struct model {
	uint8_t st[M_PORTS][M_VMIDS];
	int64_t until[M_PORTS][M_VMIDS];
	unsigned who[M_PORTS][M_VMIDS];
	int vmid_of[M_HOSTS], port_of[M_HOSTS];   /* vmid 0: none */
};

static uint32_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (uint32_t)(*x >> 32);
}

static int model_take(struct model *m, int p, unsigned h, int64_t now, int *own)
{
	int taken = 0;

	for (int q = 0; q < M_PORTS; q++)
		for (int i = 1; i < M_VMIDS; i++)
			if (m->st[q][i] == M_HELD && m->until[q][i] <= now)
				m->st[q][i] = M_FREE;
	for (int i = 1; i < M_VMIDS; i++)
		if (m->st[p][i] == M_HELD && m->who[p][i] == h) {
			m->st[p][i] = M_USED;
			(*own)++;
			return i;
		}
	for (int q = 0; q < M_PORTS; q++)
		for (int i = 1; i < M_VMIDS; i++)
			taken += m->st[q][i] != M_FREE;
	if (taken >= M_MAX)
		return -ENOSPC;
	for (int i = 1; i < M_VMIDS; i++)
		if (m->st[p][i] == M_FREE) {
			m->st[p][i] = M_USED;
			return i;
		}
	return -ENOSPC;
}

static void test_random_against_model(void **state)
{
	struct model m;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	int64_t now = 0;
	struct vmids v;
	int refused = 0, returned = 0;

	memset(&m, 0, sizeof(m));
	vmids_init(&v, M_MAX, M_HOLD * USEC_PER_SEC, NULL, NULL);
	for (int step = 0; step < 20000; step++) {
		unsigned h = rnd(&x) % M_HOSTS;
		int p = (int)(rnd(&x) % M_PORTS), want, got;

		now += rnd(&x) % 3;   /* 0, 1 or 2 s a step */
		if (m.vmid_of[h]) {
			/* it leaves (aged out, or moving), half the times it is picked */
			int op = m.port_of[h], vm = m.vmid_of[h];

			if (rnd(&x) % 2)
				continue;
			release(&v, (uint8_t)op, (uint16_t)vm, h, now);
			m.st[op][vm] = M_HELD;
			m.until[op][vm] = now + M_HOLD;
			m.who[op][vm] = h;
			m.vmid_of[h] = 0;
			continue;
		}
		want = model_take(&m, p, h, now, &returned);
		got = take(&v, (uint8_t)p, h, now);
		if (got != want)
			fail_msg("step %d: host %u on port %d at %lld s got %d, the rules say %d", step,
				 h, p, (long long)now, got, want);
		refused += got < 0;
		if (got > 0) {
			m.vmid_of[h] = got;
			m.port_of[h] = p;
		}
		if (vmids_held(&v) + vmids_in_use(&v) > M_MAX)
			fail_msg("step %d: %zu held + %zu in use, over %d", step, vmids_held(&v),
				 vmids_in_use(&v), M_MAX);
	}
	/* the run went through every case: refusals, and hosts back in their hold */
	assert_true(refused > 0);
	assert_true(returned > 0);
	vmids_fini(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_up_per_port),
		cmocka_unit_test(test_hold),
		cmocka_unit_test(test_own_back),
		cmocka_unit_test(test_lowest_expired_first),
		cmocka_unit_test(test_no_hold),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_max),
		cmocka_unit_test(test_port_full),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
