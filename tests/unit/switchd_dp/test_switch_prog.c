/*
 * test_switch_prog.c - switchd's BPF program (switchd/bpf/switch.bpf.c) run on crafted frames
 * with BPF_PROG_TEST_RUN: for each frame, the action (pass to the stack, drop, redirect), the
 * one verdict counter that moved (every frame moves exactly one, by one), and the bytes the
 * program leaves in the frame (the PMAC rewrites). Ports are made-up ifindexes given to the
 * program as ingress_ifindex: nothing is attached and no device exists. Needs root (BPF) and
 * a bpffs, mounted privately in a temp directory; skipped otherwise.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>
#include "dp.h"
#include "log.h"

enum { HOST = 10, UP1 = 11, UP2 = 12, DOWN = 13, HOST2 = 14, NOPORT = 99 };

static const struct mac PMAC1 = { { 0x02, 0x01, 0x01, 0x01, 0x00, 0x01 } };  /* pod 1, pos 1 */
static const struct mac AMAC1 = { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 } };
static const struct mac PMAC2 = { { 0x02, 0x02, 0x00, 0x01, 0x00, 0x01 } };  /* pod 2, pos 0 */
static const struct mac PMAC1_UNKNOWN = { { 0x02, 0x01, 0x01, 0x01, 0x00, 0x09 } };
static const struct mac PMAC1_POS7 = { { 0x02, 0x01, 0x07, 0x01, 0x00, 0x01 } };
static const struct mac STRANGER = { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x99 } };
static const struct mac BCAST = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
static const struct mac MLD_DST = { { 0x33, 0x33, 0x00, 0x00, 0x00, 0x16 } };

struct fixture {
	char dir[64], pin_dir[96];
	struct dp *dp;
};

struct frame {
	uint8_t b[128];
	uint32_t len;
};

static void frame_eth(struct frame *f, const struct mac *dst, const struct mac *src,
		      uint16_t type)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->b, dst->b, 6);
	memcpy(f->b + 6, src->b, 6);
	f->b[12] = (uint8_t)(type >> 8);
	f->b[13] = (uint8_t)type;
	f->len = 60;
}

static void frame_ipv4(struct frame *f, const struct mac *dst, const struct mac *src)
{
	static const uint8_t ip[] = { 0x45, 0, 0, 46, 0, 0, 0x40, 0, 64, 17, 0, 0,
				      198, 18, 0, 1, 198, 18, 0, 2, 0x13, 0x88, 0x13, 0x89, 0, 26 };

	frame_eth(f, dst, src, 0x0800);
	memcpy(f->b + 14, ip, sizeof(ip));
}

/* IPv6 with ICMPv6 of the given type right after the fixed header. */
static void frame_icmp6(struct frame *f, const struct mac *dst, const struct mac *src,
			uint8_t type)
{
	frame_eth(f, dst, src, 0x86dd);
	f->b[14] = 0x60;
	f->b[19] = 32;      /* payload length */
	f->b[20] = 58;      /* next header: ICMPv6 */
	f->b[21] = 255;
	f->b[54] = type;
	f->len = 14 + 40 + 32;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	*state = fx;
	if (geteuid() != 0)
		return 0;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/l2f-dpunit-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	if (mount("bpf", fx->dir, "bpf", 0, NULL) < 0) {
		rmdir(fx->dir);
		fx->dir[0] = '\0';
		return 0;
	}
	snprintf(fx->pin_dir, sizeof(fx->pin_dir), "%s/sw", fx->dir);
	return dp_open(fx->pin_dir, &fx->dp) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	dp_close(fx->dp);
	if (fx->dir[0]) {
		umount(fx->dir);
		rmdir(fx->dir);
	}
	free(fx);
	return 0;
}

static struct dp *need_dp(void **state)
{
	struct fixture *fx = *state;

	if (!fx->dp)
		skip();   /* not root, or no bpffs */
	return fx->dp;
}

static void configure(struct dp *dp, enum sw_level level, int located)
{
	struct sw_config c = { .level = (uint8_t)level, .located = (uint8_t)located, .pod = 1,
			       .position = 1, .salt = 0x1234 };
	const uint32_t up[] = { UP1, UP2 };

	assert_int_equal(dp_set_config(dp, &c), 0);
	assert_int_equal(dp_set_port(dp, HOST, SW_DIR_HOST), 0);
	assert_int_equal(dp_set_port(dp, HOST2, SW_DIR_HOST), 0);
	assert_int_equal(dp_set_port(dp, UP1, SW_DIR_UP), 0);
	assert_int_equal(dp_set_port(dp, UP2, SW_DIR_UP), 0);
	assert_int_equal(dp_set_port(dp, DOWN, SW_DIR_DOWN), 0);
	assert_int_equal(dp_set_up_group(dp, up, 2), 0);
	assert_int_equal(dp_set_host(dp, &PMAC1, &AMAC1, HOST), 0);
	assert_int_equal(dp_set_position_route(dp, 1, DOWN), 0);
	assert_int_equal(dp_set_pod_route(dp, 1, DOWN), 0);
}

/* Runs f in from port in_if; checks the action and that exactly `reason` moved, by one. */
static void run(struct dp *dp, struct frame *f, int in_if, int action, unsigned reason)
{
	struct __sk_buff ctx = { .ingress_ifindex = (uint32_t)in_if };
	uint8_t out[sizeof(f->b)];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = f->len,
		    .data_out = out, .data_size_out = sizeof(out),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));
	uint64_t before[SW_V_COUNT], after[SW_V_COUNT];
	unsigned r;

	assert_int_equal(dp_read_verdicts(dp, before), 0);
	assert_int_equal(bpf_prog_test_run_opts(dp_prog_fd(dp), &o), 0);
	assert_int_equal(dp_read_verdicts(dp, after), 0);
	if ((int)o.retval != action || after[reason] != before[reason] + 1)
		fail_msg("want action %d and %s +1; got action %u, %s +%llu", action,
			 dp_verdict_name(reason), o.retval, dp_verdict_name(reason),
			 (unsigned long long)(after[reason] - before[reason]));
	for (r = 0; r < SW_V_COUNT; r++)
		if (r != reason && after[r] != before[r])
			fail_msg("%s moved too", dp_verdict_name(r));
	assert_int_equal(o.data_size_out, f->len);
	memcpy(f->b, out, f->len);
}

static void assert_macs(const struct frame *f, const struct mac *dst, const struct mac *src)
{
	assert_memory_equal(f->b, dst->b, 6);
	assert_memory_equal(f->b + 6, src->b, 6);
}

static void test_punts(void **state)
{
	struct dp *dp = need_dp(state);
	struct frame f;

	configure(dp, SW_LEVEL_EDGE, 0);   /* punts come before the location gate */
	frame_eth(&f, &BCAST, &AMAC1, 0x0806);
	run(dp, &f, HOST, TC_ACT_OK, SW_V_PUNTED_ARP);
	frame_eth(&f, &BCAST, &STRANGER, SW_ETH_P_LDP);
	run(dp, &f, UP1, TC_ACT_OK, SW_V_PUNTED_LDP);
	for (uint8_t t = 133; t <= 137; t++) {
		frame_icmp6(&f, &MLD_DST, &AMAC1, t);
		run(dp, &f, HOST, TC_ACT_OK, SW_V_PUNTED_ND);
	}
}

/* A port with an injected fault drops all that arrives, LDMs and ARP too; switchd's rewrite
 * of the port keeps the fault; taken off, the port works again. */
static void test_fault(void **state)
{
	struct dp *dp = need_dp(state);
	struct sw_port p;
	struct frame f;

	configure(dp, SW_LEVEL_EDGE, 1);
	assert_int_equal(dp_set_port_fault(dp, UP1, true), 0);
	frame_eth(&f, &BCAST, &STRANGER, SW_ETH_P_LDP);
	run(dp, &f, UP1, TC_ACT_SHOT, SW_V_DROPPED_FAULT);
	frame_eth(&f, &BCAST, &AMAC1, 0x0806);
	run(dp, &f, UP1, TC_ACT_SHOT, SW_V_DROPPED_FAULT);
	frame_eth(&f, &BCAST, &STRANGER, SW_ETH_P_LDP);
	run(dp, &f, UP2, TC_ACT_OK, SW_V_PUNTED_LDP);   /* only that port */
	assert_int_equal(dp_set_port(dp, UP1, SW_DIR_UP), 0);
	assert_int_equal(dp_get_port(dp, UP1, &p), 0);
	assert_true(p.flags & SW_PORT_F_FAULT);
	assert_int_equal(dp_set_port_fault(dp, UP1, false), 0);
	run(dp, &f, UP1, TC_ACT_OK, SW_V_PUNTED_LDP);
	assert_int_equal(dp_set_port_fault(dp, NOPORT, true), -ENOENT);
}

static void test_not_located(void **state)
{
	struct dp *dp = need_dp(state);
	struct frame f;

	configure(dp, SW_LEVEL_EDGE, 0);
	frame_ipv4(&f, &PMAC2, &AMAC1);
	run(dp, &f, HOST, TC_ACT_SHOT, SW_V_DROPPED_NOT_LOCATED);
	frame_icmp6(&f, &PMAC2, &AMAC1, 128);   /* an echo request is not ND */
	run(dp, &f, HOST, TC_ACT_SHOT, SW_V_DROPPED_NOT_LOCATED);
}

static void test_edge(void **state)
{
	struct dp *dp = need_dp(state);
	struct frame f;

	configure(dp, SW_LEVEL_EDGE, 1);
	/* From its host: source AMAC -> PMAC, then up (another pod). */
	frame_ipv4(&f, &PMAC2, &AMAC1);
	run(dp, &f, HOST, TC_ACT_REDIRECT, SW_V_FORWARDED_UP);
	assert_macs(&f, &PMAC2, &PMAC1);
	/* Last hop: destination PMAC -> AMAC, the source left alone. */
	frame_ipv4(&f, &PMAC1, &PMAC2);
	run(dp, &f, UP1, TC_ACT_REDIRECT, SW_V_TO_HOST);
	assert_macs(&f, &AMAC1, &PMAC2);
	frame_icmp6(&f, &PMAC1, &PMAC2, 128);
	run(dp, &f, UP2, TC_ACT_REDIRECT, SW_V_TO_HOST);
	assert_macs(&f, &AMAC1, &PMAC2);
	/* Constraint 1: in from up, not below: dropped. */
	frame_ipv4(&f, &PMAC2, &PMAC1);
	run(dp, &f, UP1, TC_ACT_SHOT, SW_V_DROPPED_UP_TO_UP);
	frame_ipv4(&f, &PMAC1_UNKNOWN, &PMAC2);
	run(dp, &f, UP1, TC_ACT_SHOT, SW_V_DROPPED_NO_ROUTE);
	/* Sources: unknown, and known but on another port (moved). */
	frame_ipv4(&f, &PMAC2, &STRANGER);
	run(dp, &f, HOST, TC_ACT_SHOT, SW_V_DROPPED_UNKNOWN_SRC);
	frame_ipv4(&f, &PMAC2, &AMAC1);
	run(dp, &f, HOST2, TC_ACT_SHOT, SW_V_DROPPED_UNKNOWN_SRC);
	frame_ipv4(&f, &PMAC2, &AMAC1);
	run(dp, &f, NOPORT, TC_ACT_SHOT, SW_V_DROPPED_UNKNOWN_PORT);
	frame_ipv4(&f, &BCAST, &AMAC1);
	run(dp, &f, HOST, TC_ACT_SHOT, SW_V_DROPPED_MULTICAST);
	frame_icmp6(&f, &MLD_DST, &AMAC1, 143);   /* MLDv2 report: multicast, not ND */
	run(dp, &f, HOST, TC_ACT_SHOT, SW_V_DROPPED_MULTICAST);
	assert_int_equal(dp_set_up_group(dp, NULL, 0), 0);
	frame_ipv4(&f, &PMAC2, &AMAC1);
	run(dp, &f, HOST, TC_ACT_SHOT, SW_V_DROPPED_NO_UPLINK);
}

static void test_aggregation(void **state)
{
	struct dp *dp = need_dp(state);
	struct frame f;

	configure(dp, SW_LEVEL_AGGREGATION, 1);
	frame_ipv4(&f, &PMAC1, &PMAC2);
	run(dp, &f, UP1, TC_ACT_REDIRECT, SW_V_FORWARDED_DOWN);
	assert_macs(&f, &PMAC1, &PMAC2);   /* no rewrite above the edge */
	frame_ipv4(&f, &PMAC2, &PMAC1);
	run(dp, &f, DOWN, TC_ACT_REDIRECT, SW_V_FORWARDED_UP);
	frame_ipv4(&f, &PMAC2, &PMAC1);
	run(dp, &f, UP2, TC_ACT_SHOT, SW_V_DROPPED_UP_TO_UP);
	frame_ipv4(&f, &PMAC1_POS7, &PMAC2);
	run(dp, &f, UP1, TC_ACT_SHOT, SW_V_DROPPED_NO_ROUTE);
}

static void test_core(void **state)
{
	struct dp *dp = need_dp(state);
	struct frame f;

	configure(dp, SW_LEVEL_CORE, 1);
	frame_ipv4(&f, &PMAC1_POS7, &PMAC2);   /* a core looks at the pod only */
	run(dp, &f, DOWN, TC_ACT_REDIRECT, SW_V_FORWARDED_DOWN);
	frame_ipv4(&f, &PMAC2, &PMAC1);
	run(dp, &f, DOWN, TC_ACT_SHOT, SW_V_DROPPED_NO_ROUTE);
}

/* A restart: a second dp_open on the same pins sees the entries and counters of the first. */
static void test_pins_reused(void **state)
{
	struct fixture *fx = *state;
	struct dp *dp = need_dp(state), *again;
	struct dp_map_count c[DP_COUNTED_MAPS];
	uint64_t v1[SW_V_COUNT], v2[SW_V_COUNT];

	configure(dp, SW_LEVEL_EDGE, 1);
	assert_int_equal(dp_read_verdicts(dp, v1), 0);
	assert_int_equal(dp_open(fx->pin_dir, &again), 0);
	assert_int_equal(dp_read_verdicts(again, v2), 0);
	assert_memory_equal(v1, v2, sizeof(v1));
	assert_int_equal(dp_count_entries(again, c), 0);
	assert_string_equal(c[4].name, "sw_hosts");
	assert_int_equal(c[4].entries, 1);
	dp_close(again);
}

/* A PMAC handed to a new AMAC: the old AMAC is a stranger now, the new one is rewritten. */
static void test_host_reassigned(void **state)
{
	static const struct mac AMAC3 = { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x03 } };
	struct dp *dp = need_dp(state);
	struct frame f;

	configure(dp, SW_LEVEL_EDGE, 1);
	assert_int_equal(dp_set_host(dp, &PMAC1, &AMAC3, HOST), 0);
	frame_ipv4(&f, &PMAC2, &AMAC1);
	run(dp, &f, HOST, TC_ACT_SHOT, SW_V_DROPPED_UNKNOWN_SRC);
	frame_ipv4(&f, &PMAC2, &AMAC3);
	run(dp, &f, HOST, TC_ACT_REDIRECT, SW_V_FORWARDED_UP);
	assert_macs(&f, &PMAC2, &PMAC1);
	frame_ipv4(&f, &PMAC1, &PMAC2);
	run(dp, &f, UP1, TC_ACT_REDIRECT, SW_V_TO_HOST);
	assert_macs(&f, &AMAC3, &PMAC2);
	assert_int_equal(dp_del_host(dp, &PMAC1), 0);
	assert_int_equal(dp_del_host(dp, &PMAC1), 0);   /* gone already: not an error */
}

/* sw_amacs of the pins, opened as another process would (the test writes a stale second). */
static int amacs_fd(void **state)
{
	struct fixture *fx = *state;
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "%s/sw_amacs", fx->pin_dir);
	fd = bpf_obj_get(path);
	assert_true(fd >= 0);
	return fd;
}

/* Host aging's liveness: a frame through the source rewrite notes its second; setting the
 * host again unchanged (a reconcile) keeps the second it had, a move makes it new. */
static void test_seen(void **state)
{
	struct dp *dp = need_dp(state);
	struct sw_mac key = { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 }, { 0, 0 } };
	struct sw_amac_entry e;
	uint32_t seen, now;
	struct frame f;
	int fd;

	configure(dp, SW_LEVEL_EDGE, 1);
	now = dp_clock_s();
	assert_int_equal(dp_host_seen(dp, &AMAC1, &seen), 0);
	assert_true(seen >= now - 1 && seen <= now + 1);
	assert_int_equal(dp_host_seen(dp, &STRANGER, &seen), -ENOENT);
	fd = amacs_fd(state);
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &e), 0);
	e.seen = 5;
	assert_int_equal(bpf_map_update_elem(fd, &key, &e, BPF_EXIST), 0);
	assert_int_equal(dp_set_host(dp, &PMAC1, &AMAC1, HOST), 0);
	assert_int_equal(dp_host_seen(dp, &AMAC1, &seen), 0);
	assert_int_equal(seen, 5);
	/* a punted frame (ARP) is switchd's to note, not the program's */
	frame_eth(&f, &BCAST, &AMAC1, 0x0806);
	run(dp, &f, HOST, TC_ACT_OK, SW_V_PUNTED_ARP);
	assert_int_equal(dp_host_seen(dp, &AMAC1, &seen), 0);
	assert_int_equal(seen, 5);
	frame_ipv4(&f, &PMAC2, &AMAC1);
	run(dp, &f, HOST, TC_ACT_REDIRECT, SW_V_FORWARDED_UP);
	now = dp_clock_s();
	assert_int_equal(dp_host_seen(dp, &AMAC1, &seen), 0);
	assert_true(seen >= now - 1 && seen <= now);
	e.seen = 5;
	assert_int_equal(bpf_map_update_elem(fd, &key, &e, BPF_EXIST), 0);
	assert_int_equal(dp_set_host(dp, &PMAC1, &AMAC1, HOST2), 0);   /* moved */
	assert_int_equal(dp_host_seen(dp, &AMAC1, &seen), 0);
	assert_true(seen >= now);
	close(fd);
}

/* Pins of another build (here sw_amacs with last release's 12-byte value) are refused
 * before the load, and nothing of this build is pinned beside them. */
static void test_pins_mismatch(void **state)
{
	struct fixture *fx = *state;
	char dir[128], path[160];
	struct dp *dp;
	int fd;

	(void)need_dp(state);
	snprintf(dir, sizeof(dir), "%s/old", fx->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/sw_amacs", dir);
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "sw_amacs", sizeof(struct sw_mac), 12, SW_MAX_HOSTS,
			    NULL);
	assert_true(fd >= 0);
	assert_int_equal(bpf_obj_pin(fd, path), 0);
	close(fd);
	assert_int_equal(dp_open(dir, &dp), -EINVAL);
	snprintf(path, sizeof(path), "%s/sw_hosts", dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(dp_unpin(dir), 0);
}

struct holds_seen {
	struct dp *dp;
	int n;
	uint32_t sum;     /* of port << 16 | vmid, each seen once */
	uint32_t until;
};

static int count_hold(void *ctx, uint8_t port, uint16_t vmid, const struct mac *amac,
		      uint32_t until_s)
{
	struct holds_seen *h = ctx;

	h->n++;
	h->sum += (uint32_t)port << 16 | vmid;
	h->until = until_s;
	assert_memory_equal(amac->b, AMAC1.b, MAC_LEN);
	return dp_del_vmid_hold(h->dp, port, vmid);   /* deleting while walking */
}

/* Held vmids outlive the process in the pins: a second open (a restart) walks them, each once
 * even when the walk deletes them; a reconcile leaves them alone. */
static void test_vmid_holds(void **state)
{
	struct fixture *fx = *state;
	struct dp *dp = need_dp(state), *again;
	struct dp_want want = { .config = { .level = SW_LEVEL_EDGE } };
	struct holds_seen h = { 0 };

	for (uint16_t v = 1; v <= 50; v++)
		assert_int_equal(dp_set_vmid_hold(dp, 3, v, &AMAC1, 1234), 0);
	assert_int_equal(dp_set_vmid_hold(dp, 255, 65535, &AMAC1, 1234), 0);
	assert_int_equal(dp_del_vmid_hold(dp, 3, 50), 0);
	assert_int_equal(dp_del_vmid_hold(dp, 3, 50), 0);   /* gone already: not an error */
	assert_true(dp_reconcile(dp, &want) >= 0);
	assert_int_equal(dp_open(fx->pin_dir, &again), 0);
	h.dp = again;
	assert_int_equal(dp_walk_vmid_holds(again, count_hold, &h), 0);
	assert_int_equal(h.n, 50);
	assert_int_equal(h.sum, 49 * (3u << 16) + 49 * 50 / 2 + (255u << 16 | 65535));
	assert_int_equal(h.until, 1234);
	h.n = 0;
	assert_int_equal(dp_walk_vmid_holds(again, count_hold, &h), 0);
	assert_int_equal(h.n, 0);
	dp_close(again);
}

/* Reconcile: stale entries go, wanted ones stay, and the program forwards throughout. */
static void test_reconcile(void **state)
{
	static const struct mac STALE_PMAC = { { 0x02, 0x01, 0x01, 0x02, 0x00, 0x07 } };
	static const struct dp_port_want ports[] = { { HOST, SW_DIR_HOST }, { UP1, SW_DIR_UP } };
	static const uint32_t up[] = { UP1 };
	struct dp_host_want hosts[] = { { PMAC1, AMAC1, HOST } };
	struct dp_want want = {
		.config = { .level = SW_LEVEL_EDGE, .located = 1, .pod = 1, .position = 1 },
		.ports = ports, .n_ports = 2, .up = up, .n_up = 1, .hosts = hosts, .n_hosts = 1,
	};
	struct dp *dp = need_dp(state);
	struct dp_map_count c[DP_COUNTED_MAPS];
	struct frame f;

	configure(dp, SW_LEVEL_EDGE, 1);
	assert_int_equal(dp_set_host(dp, &STALE_PMAC, &STRANGER, HOST2), 0);
	/* Stale: host + amac, ports HOST2 UP2 DOWN, position 1, pod 1. */
	assert_int_equal(dp_reconcile(dp, &want), 7);
	assert_int_equal(dp_count_entries(dp, c), 0);
	for (int i = 0; i < DP_COUNTED_MAPS; i++) {
		unsigned expect = strcmp(c[i].name, "sw_ports") == 0 ? 2
				  : strcmp(c[i].name, "sw_pods") == 0 ||
				    strcmp(c[i].name, "sw_positions") == 0 ||
				    strcmp(c[i].name, "sw_up_dest") == 0 ||
				    strcmp(c[i].name, "sw_moved") == 0 ||
				    strcmp(c[i].name, "sw_mcast") == 0 ? 0 : 1;
		if (c[i].entries != expect)
			fail_msg("%s holds %u, want %u", c[i].name, c[i].entries, expect);
	}
	frame_ipv4(&f, &PMAC2, &AMAC1);
	run(dp, &f, HOST, TC_ACT_REDIRECT, SW_V_FORWARDED_UP);
	frame_ipv4(&f, &PMAC2, &AMAC1);
	run(dp, &f, DOWN, TC_ACT_SHOT, SW_V_DROPPED_UNKNOWN_PORT);
	assert_int_equal(dp_reconcile(dp, &want), 0);   /* again: nothing to do */
}

static uint64_t tx_of(struct dp *dp, int ifindex)
{
	struct sw_port_stats st;

	assert_int_equal(dp_read_port_tx(dp, ifindex, &st), 0);
	return st.frames;
}

/* n flows (UDP source ports) from the host to dst, each with the verdict given. */
static void flows_to(struct dp *dp, const struct mac *dst, int n, unsigned reason)
{
	struct frame f;

	for (int i = 0; i < n; i++) {
		frame_ipv4(&f, dst, &AMAC1);
		f.b[34] = (uint8_t)(i >> 8);
		f.b[35] = (uint8_t)i;
		run(dp, &f, HOST, TC_ACT_REDIRECT, reason);
	}
}

/* fabricd's fault matrix: a destination edge's own group is taken first, then its pod's,
 * then the whole up group; only while config says there are groups. A reconcile that keeps
 * them (no row from fabricd yet) leaves them as pinned; one without them removes them all. */
static void test_dest_groups(void **state)
{
	static const struct mac PMAC3 = { { 0x02, 0x03, 0x05, 0x01, 0x00, 0x01 } };  /* pod 3 */
	static const struct mac PMAC4 = { { 0x02, 0x04, 0x00, 0x01, 0x00, 0x01 } };  /* pod 4 */
	static const struct dp_port_want ports[] = {
		{ HOST, SW_DIR_HOST }, { UP1, SW_DIR_UP }, { UP2, SW_DIR_UP } };
	static const uint32_t up[] = { UP1, UP2 };
	struct dp_host_want hosts[] = { { PMAC1, AMAC1, HOST } };
	struct dp_dest_want dests[] = { { SW_DEST_KEY(2, 0), { UP2 }, 1 },
					{ SW_DEST_KEY(3, SW_DEST_POD), { UP1 }, 1 } };
	struct dp_want want = {
		.config = { .level = SW_LEVEL_EDGE, .located = 1, .pod = 1, .position = 1 },
		.ports = ports, .n_ports = 3, .up = up, .n_up = 2, .hosts = hosts, .n_hosts = 1,
		.dests = dests, .n_dests = 2,
	};
	struct dp *dp = need_dp(state);
	struct dp_map_count c[DP_COUNTED_MAPS];
	struct sw_config cfg;
	uint64_t u1, u2;

	configure(dp, SW_LEVEL_EDGE, 1);
	assert_true(dp_reconcile(dp, &want) >= 0);
	assert_int_equal(dp_get_config(dp, &cfg), 0);
	assert_int_equal(cfg.dests, 1);
	u1 = tx_of(dp, UP1);
	u2 = tx_of(dp, UP2);
	flows_to(dp, &PMAC2, 32, SW_V_FORWARDED_UP_AVOIDING);     /* pod 2 position 0: UP2 */
	assert_int_equal(tx_of(dp, UP1), u1);
	assert_int_equal(tx_of(dp, UP2), u2 + 32);
	flows_to(dp, &PMAC3, 32, SW_V_FORWARDED_UP_AVOIDING);     /* all of pod 3: UP1 */
	assert_int_equal(tx_of(dp, UP1), u1 + 32);
	flows_to(dp, &PMAC4, 32, SW_V_FORWARDED_UP);              /* no group: both */
	assert_true(tx_of(dp, UP1) > u1 + 32 && tx_of(dp, UP2) > u2 + 32);
	/* no row yet (a restarted switchd): the pinned groups stay, and so does the flag */
	want.dests = NULL;
	want.n_dests = 0;
	want.keep_dests = true;
	assert_true(dp_reconcile(dp, &want) >= 0);
	assert_int_equal(dp_get_config(dp, &cfg), 0);
	assert_int_equal(cfg.dests, 1);
	flows_to(dp, &PMAC2, 1, SW_V_FORWARDED_UP_AVOIDING);
	/* an empty row: every group goes */
	want.keep_dests = false;
	assert_int_equal(dp_reconcile(dp, &want), 2);
	assert_int_equal(dp_get_config(dp, &cfg), 0);
	assert_int_equal(cfg.dests, 0);
	assert_int_equal(dp_count_entries(dp, c), 0);
	for (int i = 0; i < DP_COUNTED_MAPS; i++)
		if (strcmp(c[i].name, "sw_up_dest") == 0)
			assert_int_equal(c[i].entries, 0);
	flows_to(dp, &PMAC2, 1, SW_V_FORWARDED_UP);
}

static int on_trapped(void *ctx, void *data, size_t len)
{
	struct sw_trapped *out = ctx;

	if (len == sizeof(*out))
		memcpy(out, data, sizeof(*out));
	return 0;
}

static uint64_t event_count(struct dp *dp, unsigned e)
{
	uint64_t ev[SW_E_COUNT];

	assert_int_equal(dp_read_events(dp, ev), 0);
	return ev[e];
}

/* Migration: a frame to a PMAC whose host moved (sw_moved) is rewritten to the new PMAC and
 * sent on - up, even after arriving from up, or to a host of the same edge - and its sender
 * is reported on sw_trapped (once a millisecond per moved PMAC); unicast ARP from a switch
 * port goes the same way without a report; a frame to a PMAC with neither a host nor a moved
 * entry is still no route. */
static void test_moved(void **state)
{
	static const struct mac OLD = { { 0x02, 0x01, 0x01, 0x01, 0x00, 0x05 } };   /* ours */
	static const struct mac OLD2 = { { 0x02, 0x01, 0x01, 0x01, 0x00, 0x06 } };
	struct sw_moved m = { .pmac = { 0x02, 0x02, 0x00, 0x01, 0x00, 0x01 },
			      .ip4 = { 198, 18, 0, 2 } };                      /* pod 2 */
	struct sw_moved here = { .pmac = { 0x02, 0x01, 0x01, 0x01, 0x00, 0x01 } };   /* PMAC1 */
	struct dp *dp = need_dp(state);
	struct ring_buffer *rb;
	struct sw_trapped t;
	struct frame f;
	uint64_t trapped;

	configure(dp, SW_LEVEL_EDGE, 1);
	frame_ipv4(&f, &OLD, &PMAC2);
	run(dp, &f, UP1, TC_ACT_SHOT, SW_V_DROPPED_NO_ROUTE);
	assert_int_equal(dp_set_moved(dp, &OLD, &m), 0);
	rb = ring_buffer__new(dp_trapped_fd(dp), on_trapped, &t, NULL);
	assert_non_null(rb);
	ring_buffer__consume(rb);   /* whatever an earlier test left */
	trapped = event_count(dp, SW_E_TRAPPED);
	memset(&t, 0, sizeof(t));
	frame_ipv4(&f, &OLD, &PMAC2);
	run(dp, &f, UP1, TC_ACT_REDIRECT, SW_V_FORWARDED_MOVED);
	assert_memory_equal(f.b, m.pmac, 6);   /* the new PMAC, back up */
	assert_memory_equal(f.b + 6, PMAC2.b, 6);
	assert_int_equal(event_count(dp, SW_E_TRAPPED), trapped + 1);
	assert_int_equal(ring_buffer__consume(rb), 1);
	assert_memory_equal(t.dst, OLD.b, 6);
	assert_memory_equal(t.src, PMAC2.b, 6);
	assert_int_equal(t.ifindex, UP1);
	assert_int_equal(t.family, 4);
	assert_memory_equal(t.ip, ((uint8_t[]){ 198, 18, 0, 1 }), 4);
	/* from its own host too: source rewritten first, then the same */
	frame_icmp6(&f, &OLD, &AMAC1, 128);
	run(dp, &f, HOST, TC_ACT_REDIRECT, SW_V_FORWARDED_MOVED);
	assert_macs(&f, (const struct mac *)m.pmac, &PMAC1);
	/* a unicast ARP from a switch port: forwarded, not trapped and not punted */
	trapped = event_count(dp, SW_E_TRAPPED) + event_count(dp, SW_E_TRAP_LIMITED);
	frame_eth(&f, &OLD, &PMAC2, 0x0806);
	run(dp, &f, UP2, TC_ACT_REDIRECT, SW_V_FORWARDED_MOVED);
	assert_int_equal(event_count(dp, SW_E_TRAPPED) + event_count(dp, SW_E_TRAP_LIMITED),
			 trapped);
	/* ... to a host of ours: delivered as any last hop */
	frame_eth(&f, &PMAC1, &PMAC2, 0x0806);
	run(dp, &f, UP2, TC_ACT_REDIRECT, SW_V_TO_HOST);
	assert_macs(&f, &AMAC1, &PMAC2);
	/* a host that moved to another port of the same edge: delivered here */
	assert_int_equal(dp_set_moved(dp, &OLD2, &here), 0);
	frame_ipv4(&f, &OLD2, &PMAC2);
	run(dp, &f, UP1, TC_ACT_REDIRECT, SW_V_FORWARDED_MOVED);
	assert_macs(&f, &AMAC1, &PMAC2);
	ring_buffer__free(rb);
	assert_int_equal(dp_del_moved(dp, &OLD), 0);
	assert_int_equal(dp_del_moved(dp, &OLD2), 0);
	frame_ipv4(&f, &OLD, &PMAC2);
	run(dp, &f, UP1, TC_ACT_SHOT, SW_V_DROPPED_NO_ROUTE);
	/* broadcast ARP from a switch port stays switchd's */
	frame_eth(&f, &BCAST, &PMAC2, 0x0806);
	run(dp, &f, UP1, TC_ACT_OK, SW_V_PUNTED_ARP);
}

/* Pins anywhere but on a bpffs are refused, with the reason. */
static void test_not_bpffs(void **state)
{
	char dir[] = "/tmp/l2f-dpunit-plain-XXXXXX", sub[64];
	struct dp *dp;

	(void)need_dp(state);
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/sw", dir);
	assert_int_equal(dp_open(sub, &dp), -ENOTSUP);
	assert_int_equal(rmdir(dir), 0);   /* and nothing was created under it */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_punts),
		cmocka_unit_test(test_not_located),
		cmocka_unit_test(test_fault),
		cmocka_unit_test(test_edge),
		cmocka_unit_test(test_aggregation),
		cmocka_unit_test(test_core),
		cmocka_unit_test(test_pins_reused),
		cmocka_unit_test(test_host_reassigned),
		cmocka_unit_test(test_reconcile),
		cmocka_unit_test(test_dest_groups),
		cmocka_unit_test(test_moved),
		cmocka_unit_test(test_seen),
		cmocka_unit_test(test_vmid_holds),
		cmocka_unit_test(test_pins_mismatch),
		cmocka_unit_test(test_not_bpffs),
	};

	log_init("test_switch_prog", LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, setup, teardown);
}
