/* test_directory.c - fabricd's directory: table integrity under churn, MAC mobility (RFC 7432
 * 15), duplicate detection, HA ports in track and flood mode, per-agent views. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "directory.h"

static void mac_of(uint32_t i, uint8_t mac[MAC_LEN])
{
	mac[0] = 0x02;
	mac[1] = 0;
	mac[2] = (uint8_t)(i >> 24);
	mac[3] = (uint8_t)(i >> 16);
	mac[4] = (uint8_t)(i >> 8);
	mac[5] = (uint8_t)i;
}

static struct ipaddr v4(const char *s)
{
	struct ipaddr a;

	assert_int_equal(ipaddr_parse(s, &a), 0);
	return a;
}

static int add_host(struct directory *d, const char *id, const char *vtep, uint32_t vni)
{
	int h = dir_host(d, id);

	assert_true(h >= 0);
	d->hosts[h].vtep = v4(vtep);
	assert_int_equal(dir_host_set_vnis(d, (uint16_t)h, &vni, 1), 0);
	return h;
}

static void table_survives_churn(void **state)
{
	struct directory *d = malloc(sizeof(*d));
	uint8_t mac[MAC_LEN];
	struct binding *b;
	const uint32_t n = 50000;

	assert_int_equal(dir_init(d, 5, 180), 0);
	assert_int_equal(dir_host(d, "hv1"), 0);
	for (uint32_t i = 0; i < n; i++) {
		mac_of(i, mac);
		assert_int_equal(dir_learn(d, 0, 100 + (i & 1), mac, NULL, 0, 0, 0, &b), LEARN_NEW);
	}
	assert_int_equal(dir_count(d), n);
	/* delete every third, then every one must still be found or not, exactly */
	for (uint32_t i = 0; i < n; i += 3) {
		mac_of(i, mac);
		assert_int_equal(dir_del(d, 100 + (i & 1), mac), 0);
	}
	for (uint32_t i = 0; i < n; i++) {
		mac_of(i, mac);
		b = dir_find(d, 100 + (i & 1), mac);
		if (i % 3 == 0)
			assert_null(b);
		else
			assert_non_null(b);
		/* the same MAC in another segment is another binding */
		assert_null(dir_find(d, 300, mac));
	}
	assert_int_equal(dir_count(d), n - (n + 2) / 3);
	/* what the agent holds is counted, deletions included */
	assert_int_equal(d->hosts[0].nlearned, n - (n + 2) / 3);
	dir_free(d);
	free(d);
}

static void mobility_follows_sequence_numbers(void **state)
{
	struct directory d;
	uint8_t mac[MAC_LEN];
	struct binding *b;
	struct ipaddr ip = v4("198.19.100.11");

	assert_int_equal(dir_init(&d, 5, 180), 0);
	int h1 = add_host(&d, "hv1", "198.18.0.11", 100), h2 = add_host(&d, "hv2", "198.18.0.12", 100);

	mac_of(1, mac);
	assert_int_equal(dir_learn(&d, h1, 100, mac, &ip, 1, 0, 10, &b), LEARN_NEW);
	assert_int_equal(dir_learn(&d, h1, 100, mac, &ip, 1, 0, 11, &b), LEARN_SAME);
	/* a move with the same sequence takes ours + 1 */
	assert_int_equal(dir_learn(&d, h2, 100, mac, &ip, 1, 0, 12, &b), LEARN_MOVED);
	assert_int_equal(b->hosts[0], h2);
	assert_int_equal(b->seq, 1);
	/* the old host reporting late, with its old sequence: stale */
	assert_int_equal(dir_learn(&d, h1, 100, mac, &ip, 1, 0, 13, &b), LEARN_STALE);
	assert_int_equal(b->hosts[0], h2);
	/* a move with a higher sequence keeps it */
	assert_int_equal(dir_learn(&d, h1, 100, mac, &ip, 1, 7, 14, &b), LEARN_MOVED);
	assert_int_equal(b->seq, 7);
	/* the host it moved away from no longer has it: nothing happens; the holder: removed */
	assert_false(dir_unlearn(&d, h2, 100, mac));
	assert_true(dir_unlearn(&d, h1, 100, mac));
	assert_null(dir_find(&d, 100, mac));
	dir_free(&d);
}

static void learning_adds_to_an_api_ports_addresses(void **state)
{
	struct directory d;
	uint8_t mac[MAC_LEN];
	struct binding *b;
	struct ipaddr api[2] = { v4("198.19.100.11"), v4("2001:db8:100::11") };
	struct ipaddr seen = v4("198.19.100.11"), extra = v4("198.19.100.99");
	uint16_t h1;

	assert_int_equal(dir_init(&d, 5, 180), 0);
	h1 = (uint16_t)add_host(&d, "hv1", "198.18.0.11", 100);
	mac_of(6, mac);
	assert_int_equal(dir_port_set(&d, 100, mac, api, 2, &h1, 1, false, "vm", &b), 0);
	/* the agent saw only the IPv4 address: the IPv6 one stays */
	assert_int_equal(dir_learn(&d, h1, 100, mac, &seen, 1, 0, 0, &b), LEARN_SAME);
	assert_int_equal(b->nips, 2);
	/* a new address is added */
	assert_int_equal(dir_learn(&d, h1, 100, mac, &extra, 1, 0, 0, &b), LEARN_UPDATED);
	assert_int_equal(b->nips, 3);
	/* a learned-only binding takes the agent's list as it is */
	mac_of(7, mac);
	dir_learn(&d, h1, 100, mac, api, 2, 0, 0, &b);
	assert_int_equal(dir_learn(&d, h1, 100, mac, &seen, 1, 0, 0, &b), LEARN_UPDATED);
	assert_int_equal(b->nips, 1);
	dir_free(&d);
}

static void too_many_moves_freeze_a_duplicate(void **state)
{
	struct directory d;
	uint8_t mac[MAC_LEN];
	struct binding *b;
	uint64_t seq = 0;

	assert_int_equal(dir_init(&d, 5, 180), 0);
	int h[2] = { add_host(&d, "hv1", "198.18.0.11", 100), add_host(&d, "hv2", "198.18.0.12", 100) };

	mac_of(2, mac);
	dir_learn(&d, h[0], 100, mac, NULL, 0, seq, 0, &b);
	for (int i = 1; i <= 5; i++)
		assert_int_equal(dir_learn(&d, h[i & 1], 100, mac, NULL, 0, ++seq, (uint32_t)i, &b),
				 LEARN_MOVED);
	/* the sixth move within 180 s: a duplicate, it stays where it was */
	assert_int_equal(dir_learn(&d, h[0], 100, mac, NULL, 0, ++seq, 6, &b), LEARN_DUPLICATE);
	assert_true(b->flags & B_DUPLICATE);
	assert_int_equal(b->hosts[0], h[1]);
	assert_int_equal(dir_learn(&d, h[0], 100, mac, NULL, 0, ++seq, 500, &b), LEARN_FROZEN);

	/* moves spread over more than the window are no duplicate */
	mac_of(3, mac);
	dir_learn(&d, h[0], 100, mac, NULL, 0, 0, 0, &b);
	for (int i = 1; i <= 20; i++)
		assert_int_equal(dir_learn(&d, h[i & 1], 100, mac, NULL, 0, b->seq + 1,
					   (uint32_t)i * 100, &b), LEARN_MOVED);
	assert_false(b->flags & B_DUPLICATE);
	dir_free(&d);
}

/* b's addresses are exactly want[0..n) */
static void assert_ips(const struct binding *b, const struct ipaddr *want, size_t n)
{
	assert_int_equal(b->nips, n);
	for (size_t i = 0; i < n; i++)
		assert_true(ipaddr_eq(&b->ips[i], &want[i]));
}

static void port_del_leaves_what_an_agent_holds(void **state)
{
	struct directory d;
	uint8_t mac[MAC_LEN];
	struct binding *b, *left;
	struct fdb_view v;
	struct ipaddr api[2] = { v4("198.19.100.11"), v4("2001:db8:100::11") };
	struct ipaddr seen[2] = { v4("198.19.100.11"), v4("198.19.100.111") };
	uint16_t h1, h2, h3, ha[2];
	uint64_t seq;

	assert_int_equal(dir_init(&d, 5, 180), 0);
	h1 = (uint16_t)add_host(&d, "hv1", "198.18.0.11", 100);
	h2 = (uint16_t)add_host(&d, "hv2", "198.18.0.12", 100);
	h3 = (uint16_t)add_host(&d, "hv3", "198.18.0.13", 100);

	/* an API port its agent never reported: deleted */
	mac_of(20, mac);
	assert_int_equal(dir_port_set(&d, 100, mac, api, 2, &h1, 1, false, "vm", &b), 0);
	assert_int_equal(dir_port_del(&d, 100, mac, &left), 0);
	assert_null(left);
	assert_null(dir_find(&d, 100, mac));
	assert_int_equal(dir_port_del(&d, 100, mac, &left), -ENOENT);

	/* reported by hv1's agent: learned on hv1 with the addresses it reported */
	mac_of(21, mac);
	assert_int_equal(dir_port_set(&d, 100, mac, api, 2, &h1, 1, false, "vm", &b), 0);
	assert_int_equal(dir_learn(&d, h1, 100, mac, &seen[0], 1, 0, 0, &b), LEARN_SAME);
	assert_int_equal(dir_learn(&d, h1, 100, mac, seen, 2, 0, 0, &b), LEARN_UPDATED);
	assert_int_equal(b->nips, 3);   /* the API's two and the one learning added */
	seq = b->seq;
	assert_int_equal(dir_port_del(&d, 100, mac, &left), 1);
	assert_ptr_equal(left, dir_find(&d, 100, mac));
	assert_int_equal(left->flags, B_LEARNED);
	assert_int_equal(left->nhosts, 1);
	assert_int_equal(left->hosts[0], h1);
	assert_null(left->name);
	assert_ips(left, seen, 2);
	assert_true(left->seq > seq);
	dir_fdb_for(&d, left, h2, &v);
	assert_true(v.nvteps == 1 && ipaddr_eq(&v.vteps[0], &d.hosts[h1].vtep));
	assert_int_equal(v.nips, 2);
	/* a learned binding is no API port; its agent's withdrawal still removes it */
	assert_int_equal(dir_port_del(&d, 100, mac, &left), -EINVAL);
	assert_non_null(dir_find(&d, 100, mac));
	assert_true(dir_unlearn(&d, h1, 100, mac));
	assert_null(dir_find(&d, 100, mac));

	/* withdrawn before the port goes: nothing is left */
	mac_of(22, mac);
	assert_int_equal(dir_port_set(&d, 100, mac, api, 2, &h1, 1, false, "vm", &b), 0);
	dir_learn(&d, h1, 100, mac, seen, 2, 0, 0, &b);
	assert_false(dir_unlearn(&d, h1, 100, mac));
	assert_int_equal(dir_port_del(&d, 100, mac, &left), 0);
	assert_null(dir_find(&d, 100, mac));

	/* learned first, then the API puts the port on hv2 while hv1's agent still has it:
	 * back on hv1 when the port goes */
	mac_of(23, mac);
	assert_int_equal(dir_learn(&d, h1, 100, mac, seen, 2, 0, 0, &b), LEARN_NEW);
	assert_int_equal(dir_port_set(&d, 100, mac, api, 1, &h2, 1, false, "vm", &b), 0);
	assert_ips(b, api, 1);
	/* hv2's agent has not seen it: hv2 withdrawing something is no news */
	assert_false(dir_unlearn(&d, h2, 100, mac));
	assert_int_equal(dir_port_del(&d, 100, mac, &left), 1);
	assert_int_equal(left->hosts[0], h1);
	assert_ips(left, seen, 2);
	assert_true(dir_unlearn(&d, h1, 100, mac));

	/* moved by a report: left where it moved to; the old host's late withdrawal changes
	 * nothing */
	mac_of(24, mac);
	assert_int_equal(dir_port_set(&d, 100, mac, api, 2, &h1, 1, false, "vm", &b), 0);
	dir_learn(&d, h1, 100, mac, seen, 1, 0, 0, &b);
	assert_int_equal(dir_learn(&d, h3, 100, mac, &seen[1], 1, 1, 0, &b), LEARN_MOVED);
	assert_false(dir_unlearn(&d, h1, 100, mac));
	assert_int_equal(dir_port_del(&d, 100, mac, &left), 1);
	assert_int_equal(left->hosts[0], h3);
	assert_ips(left, &seen[1], 1);

	/* an HA port is not moved by reports, but remembers who holds it */
	mac_of(25, mac);
	ha[0] = h1;
	ha[1] = h2;
	assert_int_equal(dir_port_set(&d, 100, mac, api, 2, ha, 2, false, "ha", &b), 0);
	assert_int_equal(dir_learn(&d, h2, 100, mac, seen, 1, 0, 0, &b), LEARN_HA_IGNORED);
	assert_int_equal(dir_port_del(&d, 100, mac, &left), 1);
	assert_int_equal(left->nhosts, 1);
	assert_int_equal(left->hosts[0], h2);
	assert_int_equal(left->master, DIR_NO_HOST);
	assert_ips(left, seen, 1);
	dir_free(&d);
}

static void views_per_agent(void **state)
{
	struct directory d;
	uint8_t mac[MAC_LEN];
	struct binding *b;
	struct fdb_view v;
	struct ipaddr fl[8];

	assert_int_equal(dir_init(&d, 5, 180), 0);
	int h1 = add_host(&d, "hv1", "198.18.0.11", 100), h2 = add_host(&d, "hv2", "198.18.0.12", 100);
	int h3 = add_host(&d, "hv3", "198.18.0.13", 100);
	uint16_t hosts[2] = { (uint16_t)h1, (uint16_t)h2 };

	/* plain port on hv1: hv2 sends it to hv1's VTEP; hv1 holds no remote entry */
	mac_of(4, mac);
	assert_int_equal(dir_port_set(&d, 100, mac, NULL, 0, hosts, 1, false, "p1", &b), 0);
	dir_fdb_for(&d, b, (uint16_t)h2, &v);
	assert_int_equal(v.nvteps, 1);
	assert_true(ipaddr_eq(&v.vteps[0], &d.hosts[h1].vtep));
	dir_fdb_for(&d, b, (uint16_t)h1, &v);
	assert_int_equal(v.nvteps, 0);

	/* HA track: first host until a master is reported, then the master */
	mac_of(5, mac);
	assert_int_equal(dir_port_set(&d, 100, mac, NULL, 0, hosts, 2, false, "ha", &b), 0);
	dir_fdb_for(&d, b, (uint16_t)h3, &v);
	assert_true(v.nvteps == 1 && ipaddr_eq(&v.vteps[0], &d.hosts[h1].vtep));
	assert_int_equal(dir_set_master(&d, b, (uint16_t)h2), 0);
	assert_int_equal(dir_set_master(&d, b, (uint16_t)h2), 1);
	assert_int_equal(dir_set_master(&d, b, (uint16_t)h3), -EINVAL);
	dir_fdb_for(&d, b, (uint16_t)h3, &v);
	assert_true(v.nvteps == 1 && ipaddr_eq(&v.vteps[0], &d.hosts[h2].vtep));
	/* an agent's learning does not move an HA port */
	assert_int_equal(dir_learn(&d, h3, 100, mac, NULL, 0, 99, 0, &b), LEARN_HA_IGNORED);

	/* HA flood: every host of the port but the agent's own */
	assert_int_equal(dir_port_set(&d, 100, mac, NULL, 0, hosts, 2, true, "ha", &b), 0);
	dir_fdb_for(&d, b, (uint16_t)h3, &v);
	assert_int_equal(v.nvteps, 2);
	dir_fdb_for(&d, b, (uint16_t)h1, &v);
	assert_true(v.nvteps == 1 && ipaddr_eq(&v.vteps[0], &d.hosts[h2].vtep));

	/* flood list: the other hosts of the segment */
	assert_int_equal(dir_flood_for(&d, 100, (uint16_t)h1, fl, 8), 2);
	assert_int_equal(dir_flood_for(&d, 200, (uint16_t)h1, fl, 8), 0);
	dir_free(&d);
}

/* One report of the largest sequence number does not wedge a MAC: it is taken at most
 * SEQ_MAX_JUMP beyond ours, and the honest owner's next report (ours + 1) moves it back. */
static void a_huge_sequence_number_does_not_wedge(void **state)
{
	struct directory *d = malloc(sizeof(*d));
	uint8_t mac[MAC_LEN] = { 2, 0, 0, 0, 0, 1 };
	struct binding *b;
	int h1, h2;

	assert_non_null(d);
	assert_int_equal(dir_init(d, 100, 180), 0);
	h1 = add_host(d, "hv1", "198.18.0.11", 100);
	h2 = add_host(d, "hv2", "198.18.0.12", 100);
	assert_int_equal(dir_learn(d, (uint16_t)h1, 100, mac, NULL, 0, 3, 0, &b), LEARN_NEW);
	assert_int_equal(dir_learn(d, (uint16_t)h2, 100, mac, NULL, 0, UINT64_MAX, 1, &b),
			 LEARN_MOVED);
	assert_int_equal(b->seq, 3 + SEQ_MAX_JUMP);
	assert_int_equal(dir_learn(d, (uint16_t)h1, 100, mac, NULL, 0, b->seq + 1, 2, &b),
			 LEARN_MOVED);
	assert_int_equal(b->hosts[0], h1);
	/* at the very top nothing wraps: a tie still moves, nothing goes back to 0 */
	b->seq = UINT64_MAX;
	assert_int_equal(dir_learn(d, (uint16_t)h2, 100, mac, NULL, 0, UINT64_MAX, 3, &b),
			 LEARN_MOVED);
	assert_true(b->seq == UINT64_MAX);
	dir_free(d);
	free(d);
}

/* Each host counts the bindings its agent holds, through moves, withdrawals, the API taking a
 * learned MAC over and letting it go. */
static void learned_bindings_counted_per_host(void **state)
{
	struct directory *d = malloc(sizeof(*d));
	uint8_t m1[MAC_LEN] = { 2, 0, 0, 0, 0, 1 }, m2[MAC_LEN] = { 2, 0, 0, 0, 0, 2 };
	struct binding *b;
	uint16_t h1, h2, hosts[1];

	assert_non_null(d);
	assert_int_equal(dir_init(d, 100, 180), 0);
	h1 = (uint16_t)add_host(d, "hv1", "198.18.0.11", 100);
	h2 = (uint16_t)add_host(d, "hv2", "198.18.0.12", 100);
	dir_learn(d, h1, 100, m1, NULL, 0, 0, 0, &b);
	dir_learn(d, h1, 100, m2, NULL, 0, 0, 0, &b);
	assert_int_equal(d->hosts[h1].nlearned, 2);
	dir_learn(d, h2, 100, m1, NULL, 0, 1, 1, &b);           /* moved */
	assert_int_equal(d->hosts[h1].nlearned, 1);
	assert_int_equal(d->hosts[h2].nlearned, 1);
	hosts[0] = h2;                                          /* the API takes m1 over */
	assert_int_equal(dir_port_set(d, 100, m1, NULL, 0, hosts, 1, false, "p", &b), 0);
	assert_int_equal(d->hosts[h2].nlearned, 1);
	assert_false(dir_unlearn(d, h2, 100, m1));              /* the port stays, not held */
	assert_int_equal(d->hosts[h2].nlearned, 0);
	assert_int_equal(dir_port_del(d, 100, m1, &b), 0);
	assert_true(dir_unlearn(d, h1, 100, m2));
	assert_int_equal(d->hosts[h1].nlearned, 0);
	assert_int_equal(dir_count(d), 0);
	dir_free(d);
	free(d);
}

/* More hosts than the old fixed table held, each found by id; a freed slot is reused by the
 * next new host and the others keep their indexes. */
static void hosts_grow_expire_and_reuse(void **state)
{
	struct directory *d = malloc(sizeof(*d));
	uint32_t vnis[] = { 300, 100, 200 };
	char id[32];
	int h;

	assert_non_null(d);
	assert_int_equal(dir_init(d, 5, 180), 0);
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "hv%d", i);
		assert_int_equal(dir_host(d, id), i);
	}
	for (int i = 0; i < 5000; i += 7) {
		snprintf(id, sizeof(id), "hv%d", i);
		assert_int_equal(dir_host_find(d, id), i);
	}
	assert_int_equal(dir_host_find(d, "hv5000"), -ENOENT);
	assert_int_equal(dir_host_set_vnis(d, 42, vnis, 3), 0);
	assert_true(host_has_vni(&d->hosts[42], 200));
	assert_false(host_has_vni(&d->hosts[42], 400));
	dir_host_del(d, 42);
	assert_int_equal(dir_host_find(d, "hv42"), -ENOENT);
	assert_int_equal(dir_host_find(d, "hv43"), 43);
	h = dir_host(d, "new");
	assert_int_equal(h, 42);
	assert_int_equal(d->hosts[42].nvnis, 0);
	assert_int_equal(dir_host_find(d, "new"), 42);
	assert_int_equal(dir_host_find(d, "hv4999"), 4999);
	assert_int_equal(dir_host(d, ""), -EINVAL);
	dir_free(d);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_survives_churn),
		cmocka_unit_test(mobility_follows_sequence_numbers),
		cmocka_unit_test(learning_adds_to_an_api_ports_addresses),
		cmocka_unit_test(too_many_moves_freeze_a_duplicate),
		cmocka_unit_test(views_per_agent),
		cmocka_unit_test(port_del_leaves_what_an_agent_holds),
		cmocka_unit_test(hosts_grow_expire_and_reuse),
		cmocka_unit_test(a_huge_sequence_number_does_not_wedge),
		cmocka_unit_test(learned_bindings_counted_per_host),
	};

	return cmocka_run_group_tests_name("directory", tests, NULL, NULL);
}
