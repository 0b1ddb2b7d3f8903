/*
 * test_config.c - vipd's config loader and printer: every golden file of tests/golden/vipd
 * (NAME.yaml with NAME.out, the expected `vipd -n` output, or with NAME.err, the exact
 * expected error), print -> load -> print round trips, the limits too big for a golden
 * file, defaults, vip_group_cfg_eq and the example etc/vipd.yaml. The golden directory
 * comes from VIPD_GOLDEN_DIR or the first argument; the tests run inside it, so messages
 * carry the bare file name.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "config.h"

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;
	FILE *m;
	int ch;

	if (!f)
		return NULL;
	m = open_memstream(&text, &len);
	assert_non_null(m);
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, m);
	fclose(m);
	fclose(f);
	return text;
}

static char *print_cfg(const struct vipd_cfg *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	assert_non_null(m);
	vipd_cfg_print(c, m);
	fclose(m);
	return text;
}

/* A temporary file holding text; its name goes into path (PATH_MAX bytes). */
static void write_tmp(char *path, const char *text)
{
	const char *dir = getenv("TMPDIR");
	FILE *f;
	int fd;

	snprintf(path, PATH_MAX, "%s/vipd-cfg-XXXXXX", dir ? dir : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void load_ok(const char *path, struct vipd_cfg *c)
{
	char err[512] = "";

	if (vipd_cfg_load(path, c, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

static void assert_cfg_equal(const struct vipd_cfg *a, const struct vipd_cfg *b)
{
	assert_string_equal(a->node, b->node);
	assert_string_equal(a->control_socket, b->control_socket);
	assert_int_equal(a->answer_rate, b->answer_rate);
	assert_int_equal(a->answer_burst, b->answer_burst);
	assert_int_equal(a->nnodes, b->nnodes);
	for (size_t i = 0; i < a->nnodes; i++)
		assert_string_equal(a->nodes[i], b->nodes[i]);
	assert_int_equal(a->ngroups, b->ngroups);
	for (size_t i = 0; i < a->ngroups; i++)
		assert_true(vip_group_cfg_eq(&a->groups[i], &b->groups[i]));
}

/* Printed text loads back to an equal config, which prints the same text. */
static void check_roundtrip(const struct vipd_cfg *c, const char *text)
{
	char path[PATH_MAX];
	struct vipd_cfg again;
	char *text2;

	write_tmp(path, text);
	load_ok(path, &again);
	unlink(path);
	assert_cfg_equal(c, &again);
	text2 = print_cfg(&again);
	assert_string_equal(text, text2);
	free(text2);
	vipd_cfg_free(&again);
}

static void expect_error(const char *path, const char *want)
{
	struct vipd_cfg out, before;
	char err[512] = "";

	memset(&out, 0xa5, sizeof(out));
	before = out;
	assert_int_equal(vipd_cfg_load(path, &out, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_memory_equal(&out, &before, sizeof(out));
}

static void test_golden(void **state)
{
	const char *name = *state;
	char yaml[PATH_MAX], expect[PATH_MAX];
	char *want, *got;
	struct vipd_cfg c;

	snprintf(yaml, sizeof(yaml), "%s.yaml", name);
	snprintf(expect, sizeof(expect), "%s.err", name);
	want = read_text(expect);
	if (want) {
		assert_non_null(strchr(want, '\n'));
		*strchr(want, '\n') = '\0';
		expect_error(yaml, want);
		free(want);
		return;
	}
	snprintf(expect, sizeof(expect), "%s.out", name);
	want = read_text(expect);
	if (!want)
		fail_msg("%s has neither a .out nor a .err", yaml);
	load_ok(yaml, &c);
	got = print_cfg(&c);
	assert_string_equal(got, want);
	check_roundtrip(&c, got);
	free(got);
	free(want);
	vipd_cfg_free(&c);
}

/* One golden file per kind of mistake the loader must catch, and a few valid files. */
static void test_golden_coverage(void **state)
{
	static const char *const required[] = {
		"bad-vrid.err", "bad-interval-multiple.err", "bad-interval-small.err",
		"bad-priority-0.err", "bad-priority-255.err", "bad-address.err",
		"bad-multicast.err", "bad-dup-vip.err", "bad-dup-vrid.err",
		"bad-unknown-key.err", "bad-dup-key.err", "bad-missing-interface.err",
		"bad-syntax.err", "bad-wrong-type.err", "bad-bool.err",
		"bad-node-not-in-nodes.err", "bad-answer-rate.err", "bad-answer-burst.err",
		"full.out", "defaults.out", "auto3.out", "empty-groups.out",
	};

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (access(required[i], R_OK) < 0)
			fail_msg("golden file %s is missing", required[i]);
}

static void test_missing_file(void **state)
{
	expect_error("no-such-file.yaml", "no-such-file.yaml: No such file or directory");
}

static void test_defaults(void **state)
{
	char host[HOST_NAME_MAX + 1] = "", path[PATH_MAX], want[PATH_MAX + 128];
	struct vipd_cfg c;
	char err[512];

	write_tmp(path, "");
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	if (vipd_cfg_load(path, &c, err, sizeof(err)) < 0) {
		/* only a hostname that is no valid node name may fail */
		snprintf(want, sizeof(want), "%s: no node given and hostname '%s'", path, host);
		assert_memory_equal(err, want, strlen(want));
	} else {
		assert_string_equal(c.node, host);
		assert_string_equal(c.control_socket, VIPD_DEFAULT_SOCKET);
		assert_int_equal(c.answer_rate, VIPD_DEFAULT_ANSWER_RATE);
		assert_int_equal(c.answer_burst, VIPD_DEFAULT_ANSWER_BURST);
		assert_int_equal(c.nnodes, 0);
		assert_int_equal(c.ngroups, 0);
		assert_null(c.groups);
		vipd_cfg_free(&c);
	}
	unlink(path);
}

/* Scalars that need quotes come back quoted and read back the same. */
static void test_quoting(void **state)
{
	static const char yaml[] =
		"node: n1\n"
		"control_socket: '/run/a b/#c \"d\".sock'\n"
		"groups:\n"
		"  - name: '-'\n"
		"    interface: 'a\"b\\c'\n"
		"    vrid: 9\n"
		"    addresses: ['::2', '2001:db8::', 2001:db8::2:0]\n";
	char path[PATH_MAX];
	struct vipd_cfg c;
	char *text;

	write_tmp(path, yaml);
	load_ok(path, &c);
	unlink(path);
	assert_string_equal(c.control_socket, "/run/a b/#c \"d\".sock");
	assert_string_equal(c.groups[0].ifname, "a\"b\\c");
	text = print_cfg(&c);
	assert_non_null(strstr(text, "control_socket: \"/run/a b/#c \\\"d\\\".sock\"\n"));
	assert_non_null(strstr(text, "  - name: \"-\"\n    interface: \"a\\\"b\\\\c\"\n"));
	assert_non_null(strstr(text, "addresses: [\"::2\", \"2001:db8::\", 2001:db8::2:0]\n"));
	check_roundtrip(&c, text);
	free(text);
	vipd_cfg_free(&c);
}

/* A config with ngroups groups of naddrs addresses each and nnodes nodes. */
static char *gen_yaml(int ngroups, int naddrs, int nnodes)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	assert_non_null(m);
	fputs("node: n0\nnodes:\n", m);
	for (int i = 0; i < nnodes; i++)
		fprintf(m, "  - n%d\n", i);
	fputs("groups:\n", m);
	for (int i = 0; i < ngroups; i++) {
		fprintf(m, "  - name: g%d\n    interface: eth%d\n    vrid: %d\n"
			"    priority: auto\n    addresses:\n", i, i / 255, 1 + i % 255);
		for (int j = 0; j < naddrs; j++)
			fprintf(m, "      - 2001:db8:%x::%x\n", i, j + 1);
	}
	fclose(m);
	return text;
}

static void expect_gen(int ngroups, int naddrs, int nnodes, int line, const char *problem)
{
	char path[PATH_MAX], want[PATH_MAX + 128];
	char *yaml = gen_yaml(ngroups, naddrs, nnodes);
	struct vipd_cfg c;

	write_tmp(path, yaml);
	free(yaml);
	if (!problem) {
		load_ok(path, &c);
		assert_int_equal(c.ngroups, ngroups);
		assert_int_equal(c.nnodes, nnodes);
		for (size_t i = 0; i < c.ngroups; i++)
			assert_int_equal(c.groups[i].naddrs, naddrs);
		vipd_cfg_free(&c);
	} else {
		snprintf(want, sizeof(want), "%s:%d: %s", path, line, problem);
		expect_error(path, want);
	}
	unlink(path);
}

static void test_limits(void **state)
{
	expect_gen(VIPD_MAX_GROUPS, 1, VIPD_MAX_NODES, 0, NULL);
	expect_gen(VIPD_MAX_GROUPS + 1, 1, 1, 5, "more than 256 groups");  /* the first "-" */
	expect_gen(1, VIPD_MAX_ADDRS, 1, 0, NULL);
	/* line: node, nodes, n0, groups, 5 group lines, 64 addresses, then the 65th */
	expect_gen(1, VIPD_MAX_ADDRS + 1, 1, 4 + 5 + 64 + 1, "more than 64 addresses in a group");
	expect_gen(1, 1, VIPD_MAX_NODES + 1, 3 + VIPD_MAX_NODES, "more than 64 nodes");
}

static void test_socket_length(void **state)
{
	char yaml[256], path[PATH_MAX];
	struct vipd_cfg c;

	snprintf(yaml, sizeof(yaml), "node: n1\ncontrol_socket: /%0106d\n", 0);
	write_tmp(path, yaml);
	load_ok(path, &c);
	assert_int_equal(strlen(c.control_socket), 107);
	vipd_cfg_free(&c);
	unlink(path);
}

/* The error text is cut to errlen, never overflows it, and stays a C string. */
static void test_short_err_buffer(void **state)
{
	char err[12];
	struct vipd_cfg c;

	memset(err, 'x', sizeof(err));
	assert_int_equal(vipd_cfg_load("bad-vrid.yaml", &c, err, 8), -1);
	assert_string_equal(err, "bad-vri");
	assert_int_equal(err[8], 'x');
}

static void test_group_eq(void **state)
{
	struct vip_group_cfg a, b;
	struct vipd_cfg c;

	load_ok("full.yaml", &c);
	a = c.groups[0];
	vipd_cfg_free(&c);
	b = a;
	b.line = a.line + 10;
	memset(&b.addrs[b.naddrs], 0x5a, sizeof(b.addrs[0]));    /* past naddrs: ignored */
	assert_true(vip_group_cfg_eq(&a, &b));

#define DIFFERS(stmt) do { b = a; stmt; assert_false(vip_group_cfg_eq(&a, &b)); } while (0)
	DIFFERS(strcpy(b.name, "web2"));
	DIFFERS(strcpy(b.ifname, "eth1"));
	DIFFERS(b.vrid++);
	DIFFERS(b.priority_auto = true);
	DIFFERS(b.priority++);
	DIFFERS(b.advert_interval_ms += 10);
	DIFFERS(b.preempt = !b.preempt);
	DIFFERS(b.assign = !b.assign);
	DIFFERS(b.announce_count++);
	DIFFERS(b.announce_interval_ms++);
	DIFFERS(b.refresh_interval_s++);
	DIFFERS(b.naddrs--);
	DIFFERS(b.addrs[1].b[15] ^= 1);
	DIFFERS((b.addrs[0] = a.addrs[1], b.addrs[1] = a.addrs[0]));
#undef DIFFERS
}

/* vipd_cfg_load fills in every auto priority with vipd_auto_priority. */
static void test_auto_filled(void **state)
{
	struct vipd_cfg c;

	load_ok("auto3.yaml", &c);
	for (size_t i = 0; i < c.ngroups; i++) {
		const struct vip_group_cfg *g = &c.groups[i];

		if (g->priority_auto)
			assert_int_equal(g->priority, vipd_auto_priority(&c, g));
		else
			assert_int_equal(g->priority, 200);
	}
	vipd_cfg_free(&c);
}

/* etc/vipd.yaml, the commented example, loads and round-trips (VIPD_EXAMPLE_CONFIG). */
static void test_example_config(void **state)
{
	const char *path = getenv("VIPD_EXAMPLE_CONFIG");
	struct vipd_cfg c;
	char *text;

	if (!path)
		skip();
	load_ok(path, &c);
	assert_true(c.ngroups > 0);
	text = print_cfg(&c);
	check_roundtrip(&c, text);
	free(text);
	vipd_cfg_free(&c);
}

static int golden_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 5 && !strcmp(d->d_name + n - 5, ".yaml");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_coverage),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_socket_length),
		cmocka_unit_test(test_short_err_buffer),
		cmocka_unit_test(test_group_eq),
		cmocka_unit_test(test_auto_filled),
		cmocka_unit_test(test_example_config),
	};
	const char *dir = argc > 1 ? argv[1] : getenv("VIPD_GOLDEN_DIR");
	struct CMUnitTest *golden;
	struct dirent **files;
	int n, failed;

	if (!dir || chdir(dir) < 0) {
		fprintf(stderr, "golden dir %s: %s\n", dir ? dir : "(unset: VIPD_GOLDEN_DIR)",
			dir ? strerror(errno) : "give it as argument");
		return 1;
	}
	n = scandir(".", &files, golden_filter, alphasort);
	if (n <= 0) {
		fprintf(stderr, "no golden files in %s\n", dir);
		return 1;
	}
	golden = calloc((size_t)n, sizeof(*golden));
	assert_non_null(golden);
	for (int i = 0; i < n; i++) {
		files[i]->d_name[strlen(files[i]->d_name) - 5] = '\0';
		golden[i] = (struct CMUnitTest) {
			.name = files[i]->d_name,
			.test_func = test_golden,
			.initial_state = files[i]->d_name,
		};
	}
	failed = cmocka_run_group_tests_name("vipd_config", tests, NULL, NULL);
	failed += _cmocka_run_group_tests("vipd_config_golden", golden, (size_t)n, NULL, NULL);
	for (int i = 0; i < n; i++)
		free(files[i]);
	free(files);
	free(golden);
	return failed ? 1 : 0;
}
