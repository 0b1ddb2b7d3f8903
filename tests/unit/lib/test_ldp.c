/* test_ldp.c - PortLand LDP messages: each type round trips through build and parse, the
 * frame carries EtherType 0x88B5 to the nearest-bridge group, and each check of ldp_parse
 * rejects with its own drop reason; the builder refuses what the parser would reject. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>
#include "pkt/drop.h"
#include "pkt/eth.h"
#include "pkt/ldp.h"

static const struct mac id1 = { { 0x02, 0, 0, 0, 0x01, 0x01 } };
static const struct mac id2 = { { 0x02, 0, 0, 0, 0x02, 0x02 } };

static struct ldp_msg ldm_edge(void)
{
	return (struct ldp_msg){
		.type = LDP_TYPE_LDM, .switch_id = id1, .level = LDP_LEVEL_EDGE,
		.dir = LDP_DIR_UP, .port = 3, .pod = 0x1234, .position = 2,
	};
}

static struct ldp_msg propose(void)
{
	struct ldp_msg m = ldm_edge();

	m.type = LDP_TYPE_PROPOSE;
	m.pod = LDP_NONE;
	m.position = LDP_NONE;
	m.proposal = 1;
	m.nonce = 0xdeadbeef;
	return m;
}

static struct ldp_msg reply(void)
{
	return (struct ldp_msg){
		.type = LDP_TYPE_REPLY, .switch_id = id2, .level = LDP_LEVEL_AGG,
		.dir = LDP_DIR_DOWN, .port = 7, .pod = 9, .position = LDP_NONE, .proposal = 1,
		.nonce = 0x01020304, .verdict = LDP_DENY, .proposer = id1,
	};
}

static void assert_msg_equal(const struct ldp_msg *a, const struct ldp_msg *b)
{
	assert_int_equal(a->type, b->type);
	assert_memory_equal(a->switch_id.b, b->switch_id.b, MAC_LEN);
	assert_int_equal(a->level, b->level);
	assert_int_equal(a->dir, b->dir);
	assert_int_equal(a->port, b->port);
	assert_int_equal(a->pod, b->pod);
	assert_int_equal(a->position, b->position);
	if (a->type == LDP_TYPE_LDM)
		return;
	assert_int_equal(a->proposal, b->proposal);
	assert_int_equal(a->nonce, b->nonce);
	if (a->type == LDP_TYPE_PROPOSE)
		return;
	assert_int_equal(a->verdict, b->verdict);
	assert_memory_equal(a->proposer.b, b->proposer.b, MAC_LEN);
}

static void test_ldm_layout(void **state)
{
	static const uint8_t want[LDP_HDR_LEN] = {
		1, 1, 0, 20, 0x02, 0, 0, 0, 0x01, 0x01,
		1, 1, 3, LDP_F_POD | LDP_F_POS, 0x12, 0x34, 2, 0, 0, 0,
	};
	struct ldp_msg m = ldm_edge(), back;
	uint8_t buf[64];

	assert_int_equal(ldp_build(buf, sizeof(buf), &m), LDP_HDR_LEN);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(ldp_parse(buf, LDP_HDR_LEN, &back), 0);
	assert_msg_equal(&back, &m);
}

static void test_round_trip_each_type(void **state)
{
	const struct ldp_msg msgs[] = {
		ldm_edge(), propose(), reply(),
		{ .type = LDP_TYPE_LDM, .switch_id = id2, .level = LDP_LEVEL_UNKNOWN,
		  .pod = LDP_NONE, .position = LDP_NONE },
		{ .type = LDP_TYPE_LDM, .switch_id = id2, .level = LDP_LEVEL_CORE,
		  .dir = LDP_DIR_DOWN, .port = 255, .pod = LDP_NONE, .position = LDP_NONE },
		{ .type = LDP_TYPE_LDM, .switch_id = id2, .level = LDP_LEVEL_AGG,
		  .dir = LDP_DIR_UP, .pod = PMAC_POD_MAX, .position = LDP_NONE },
	};
	const size_t lens[] = { LDP_HDR_LEN, LDP_PROPOSE_LEN, LDP_REPLY_LEN,
				LDP_HDR_LEN, LDP_HDR_LEN, LDP_HDR_LEN };

	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		struct ldp_msg back;
		uint8_t buf[LDP_MAX_LEN];

		assert_int_equal(ldp_build(buf, sizeof(buf), &msgs[i]), lens[i]);
		assert_int_equal(ldp_parse(buf, lens[i], &back), 0);
		assert_msg_equal(&back, &msgs[i]);
	}
}

/* A frame: the group, the source, 0x88B5, padded; the padding after `length` is ignored. */
static void test_frame(void **state)
{
	struct ldp_msg m = reply(), back;
	uint8_t f[128];
	struct eth_hdr eth;

	assert_int_equal(ldp_build_frame(f, sizeof(f), &id2, &m), ETH_MIN_FRAME);
	assert_int_equal(eth_parse(f, ETH_MIN_FRAME, &eth), 0);
	assert_memory_equal(eth.dst.b, ldp_group.b, MAC_LEN);
	assert_memory_equal(eth.src.b, id2.b, MAC_LEN);
	assert_int_equal(eth.type, ETHERTYPE_LDP);
	assert_int_equal(ldp_parse(f + ETH_HDR_LEN, ETH_MIN_FRAME - ETH_HDR_LEN, &back), 0);
	assert_msg_equal(&back, &m);
	assert_int_equal(ldp_build_frame(f, ETH_MIN_FRAME - 1, &id2, &m), -ENOSPC);
	assert_int_equal(ldp_build(f, LDP_REPLY_LEN - 1, &m), -ENOSPC);
}

/* Every prefix shorter than its own length field is truncated. */
static void test_truncated(void **state)
{
	const struct ldp_msg msgs[] = { ldm_edge(), propose(), reply() };

	for (size_t i = 0; i < 3; i++) {
		struct ldp_msg out;
		uint8_t buf[LDP_MAX_LEN];
		ssize_t n = ldp_build(buf, sizeof(buf), &msgs[i]);

		for (ssize_t len = 0; len < n; len++)
			assert_int_equal(ldp_parse(buf, (size_t)len, &out), -PKT_DROP_TRUNCATED);
	}
}

struct mutation {
	const char *what;
	int type;              /* which message to start from: LDP_TYPE_* */
	size_t off;
	uint8_t val;
	enum pkt_drop want;
};

static const struct mutation mutations[] = {
	{ "version 0", LDP_TYPE_LDM, 0, 0, PKT_DROP_LDP_VERSION },
	{ "version 2", LDP_TYPE_LDM, 0, 2, PKT_DROP_LDP_VERSION },
	{ "type 0", LDP_TYPE_LDM, 1, 0, PKT_DROP_LDP_TYPE },
	{ "type 4", LDP_TYPE_LDM, 1, 4, PKT_DROP_LDP_TYPE },
	{ "LDM length 19", LDP_TYPE_LDM, 3, 19, PKT_DROP_LDP_LENGTH },
	{ "LDM with a PROPOSE's type", LDP_TYPE_LDM, 1, LDP_TYPE_PROPOSE, PKT_DROP_LDP_LENGTH },
	{ "length high byte", LDP_TYPE_REPLY, 2, 1, PKT_DROP_TRUNCATED },
	{ "PROPOSE length 20", LDP_TYPE_PROPOSE, 3, 20, PKT_DROP_LDP_LENGTH },
	{ "PROPOSE length 36 in 28 bytes", LDP_TYPE_PROPOSE, 3, 36, PKT_DROP_TRUNCATED },
	{ "unknown flag", LDP_TYPE_LDM, 13, LDP_F_POD | LDP_F_POS | 0x04, PKT_DROP_LDP_RESERVED },
	{ "pod without POD", LDP_TYPE_LDM, 13, LDP_F_POS, PKT_DROP_LDP_RESERVED },
	{ "position without POS", LDP_TYPE_LDM, 13, LDP_F_POD, PKT_DROP_LDP_RESERVED },
	{ "header byte 17", LDP_TYPE_LDM, 17, 1, PKT_DROP_LDP_RESERVED },
	{ "header byte 19", LDP_TYPE_LDM, 19, 0x80, PKT_DROP_LDP_RESERVED },
	{ "PROPOSE byte 21", LDP_TYPE_PROPOSE, 21, 1, PKT_DROP_LDP_RESERVED },
	{ "PROPOSE byte 23", LDP_TYPE_PROPOSE, 23, 1, PKT_DROP_LDP_RESERVED },
	{ "REPLY byte 22", LDP_TYPE_REPLY, 22, 1, PKT_DROP_LDP_RESERVED },
	{ "REPLY byte 35", LDP_TYPE_REPLY, 35, 1, PKT_DROP_LDP_RESERVED },
	{ "level 4", LDP_TYPE_LDM, 10, 4, PKT_DROP_LDP_RANGE },
	{ "dir 3", LDP_TYPE_LDM, 11, 3, PKT_DROP_LDP_RANGE },
	{ "pod 0x4000", LDP_TYPE_LDM, 14, 0x40, PKT_DROP_LDP_RANGE },
	{ "core with a pod", LDP_TYPE_LDM, 10, LDP_LEVEL_CORE, PKT_DROP_LDP_RANGE },
	{ "agg with a position", LDP_TYPE_LDM, 10, LDP_LEVEL_AGG, PKT_DROP_LDP_RANGE },
	{ "edge facing down", LDP_TYPE_LDM, 11, LDP_DIR_DOWN, PKT_DROP_LDP_RANGE },
	{ "unknown level with a direction", LDP_TYPE_PROPOSE, 10, LDP_LEVEL_UNKNOWN,
	  PKT_DROP_LDP_RANGE },
	{ "proposal from an agg", LDP_TYPE_PROPOSE, 10, LDP_LEVEL_AGG, PKT_DROP_LDP_RANGE },
	{ "reply from an edge", LDP_TYPE_REPLY, 10, LDP_LEVEL_EDGE, PKT_DROP_LDP_RANGE },
	{ "verdict 0", LDP_TYPE_REPLY, 21, 0, PKT_DROP_LDP_RANGE },
	{ "verdict 3", LDP_TYPE_REPLY, 21, 3, PKT_DROP_LDP_RANGE },
	{ "multicast switch id", LDP_TYPE_LDM, 4, 0x03, PKT_DROP_LDP_SWITCH_ID },
	{ "multicast proposer", LDP_TYPE_REPLY, 28, 0x01, PKT_DROP_LDP_SWITCH_ID },
};

static ssize_t build_type(int type, uint8_t *buf, size_t cap)
{
	struct ldp_msg m = type == LDP_TYPE_LDM ? ldm_edge() :
			   type == LDP_TYPE_PROPOSE ? propose() : reply();

	return ldp_build(buf, cap, &m);
}

static void test_each_rejection(void **state)
{
	for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
		const struct mutation *t = &mutations[i];
		struct ldp_msg out = { .port = 99 };
		uint8_t buf[LDP_MAX_LEN];
		ssize_t n = build_type(t->type, buf, sizeof(buf));

		assert_true(n > 0);
		buf[t->off] = t->val;
		print_message("%s\n", t->what);
		assert_int_equal(ldp_parse(buf, (size_t)n, &out), -(int)t->want);
		assert_int_equal(out.port, 99);
	}
}

static void test_zero_switch_id(void **state)
{
	struct ldp_msg m = propose(), out;
	uint8_t buf[LDP_MAX_LEN];

	assert_int_equal(ldp_build(buf, sizeof(buf), &m), LDP_PROPOSE_LEN);
	memset(buf + 4, 0, MAC_LEN);
	assert_int_equal(ldp_parse(buf, LDP_PROPOSE_LEN, &out), -PKT_DROP_LDP_SWITCH_ID);
}

/* What parse refuses, build refuses too, so the daemon cannot send it. */
static void test_build_refuses(void **state)
{
	struct ldp_msg m;
	uint8_t buf[LDP_MAX_LEN];

	m = ldm_edge();
	m.type = 0;
	assert_int_equal(ldp_build(buf, sizeof(buf), &m), -EINVAL);
	m = ldm_edge();
	m.pod = PMAC_POD_MAX + 1;
	assert_int_equal(ldp_build(buf, sizeof(buf), &m), -EINVAL);
	m = ldm_edge();
	m.level = LDP_LEVEL_CORE;
	m.dir = LDP_DIR_DOWN;
	assert_int_equal(ldp_build(buf, sizeof(buf), &m), -EINVAL);
	m = ldm_edge();
	m.position = 256;
	assert_int_equal(ldp_build(buf, sizeof(buf), &m), -EINVAL);
	m = ldm_edge();
	m.switch_id = mac_broadcast;
	assert_int_equal(ldp_build(buf, sizeof(buf), &m), -EINVAL);
	m = reply();
	m.verdict = 0;
	assert_int_equal(ldp_build(buf, sizeof(buf), &m), -EINVAL);
	m = reply();
	m.proposer = mac_zero;
	assert_int_equal(ldp_build(buf, sizeof(buf), &m), -EINVAL);
}

static void test_names(void **state)
{
	assert_string_equal(ldp_level_name(LDP_LEVEL_AGG), "aggregation");
	assert_string_equal(ldp_dir_name(LDP_DIR_DOWN), "down");
	assert_string_equal(pkt_drop_name(PKT_DROP_LDP_HOST_PORT), "ldp_host_port");
	assert_string_equal(pkt_drop_name(PKT_DROP_LDP_RESERVED), "ldp_reserved");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ldm_layout),
		cmocka_unit_test(test_round_trip_each_type),
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_each_rejection),
		cmocka_unit_test(test_zero_switch_id),
		cmocka_unit_test(test_build_refuses),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
