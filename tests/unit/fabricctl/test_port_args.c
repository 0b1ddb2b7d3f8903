/* test_port_args.c - what `fabricctl port add|del|master` refuses before it sends anything:
 * a MAC that is no station's, an address that is no host's, a list over the protocol's limit
 * or naming an entry twice - exit status 2 and one line naming the value and why. fabricd is
 * not running: arguments that pass get as far as the connect and fail there (status 1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "fabricctl.h"

#define NOBODY "/nonexistent/l2fabric-test/fabricd.sock"
#define MAX_ARGS 64

/* fabricctl.c's, beside main: a Unix socket takes no TLS. */
int fabricctl_tls(const struct fabricctl_opts *o, struct wire_tls **out)
{
	*out = NULL;
	return 0;
}

/* Runs cmd_port on the words of `line` (space-separated); its stderr goes to err. */
static int run(const char *line, char *err, size_t size)
{
	struct fabricctl_opts o = { .socket = NOBODY };
	char words[1024], *argv[MAX_ARGS], *save = NULL;
	FILE *tmp = tmpfile();
	int argc = 0, saved, ret;
	size_t n;

	assert_non_null(tmp);
	snprintf(words, sizeof(words), "%s", line);
	for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		assert_true(argc < MAX_ARGS - 1);
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	ret = cmd_port(&o, argc, argv);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(err, 1, size - 1, tmp);
	err[n] = '\0';
	fclose(tmp);
	return ret;
}

static void expect(const char *line, int status, const char *message)
{
	char err[1024];

	assert_int_equal(run(line, err, sizeof(err)), status);
	assert_string_equal(err, message);
}

static void test_mac_not_a_port(void **state)
{
	expect("add --vni 100 --mac 00:00:00:00:00:00 --host hv1", 2,
	       "fabricctl: --mac 00:00:00:00:00:00: the all-zero MAC cannot be a port's address\n");
	expect("del --vni 100 --mac 00:00:00:00:00:00", 2,
	       "fabricctl: --mac 00:00:00:00:00:00: the all-zero MAC cannot be a port's address\n");
	expect("del --vni 100 --mac ff:ff:ff:ff:ff:ff", 2, "fabricctl: --mac ff:ff:ff:ff:ff:ff: "
	       "the broadcast MAC cannot be a port's address\n");
	expect("master --vni 100 --mac 01:00:5e:00:00:05 --host hv1", 2,
	       "fabricctl: --mac 01:00:5e:00:00:05: a multicast MAC cannot be a port's address\n");
	expect("add --vni 100 --mac 02:00:00:00:00 --host hv1", 2,
	       "fabricctl: --mac 02:00:00:00:00: not a MAC (xx:xx:xx:xx:xx:xx)\n");
}

static void test_ip_not_a_host(void **state)
{
	static const char *const cases[][2] = {
		{ "224.0.0.5", "a multicast address" },
		{ "0.0.0.0", "an unspecified address" },
		{ "0.1.2.3", "a \"this network\" address" },
		{ "255.255.255.255", "the limited broadcast address" },
		{ "127.0.0.1", "a loopback address" },
		{ "::", "an unspecified address" },
		{ "::1", "a loopback address" },
		{ "ff02::1", "a multicast address" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char line[128], message[160];

		snprintf(line, sizeof(line), "add --vni 100 --mac 02:00:00:00:00:01 --host hv1 "
			 "--ip 198.18.0.1 --ip %s", cases[i][0]);
		snprintf(message, sizeof(message),
			 "fabricctl: --ip %s: %s cannot be a port's address\n", cases[i][0],
			 cases[i][1]);
		expect(line, 2, message);
	}
	expect("add --vni 100 --mac 02:00:00:00:00:01 --host hv1 --ip 198.18.0.256", 2,
	       "fabricctl: --ip 198.18.0.256: not an address\n");
}

static void test_lists(void **state)
{
	char line[1024];
	size_t used;

	expect("add --vni 100 --mac 02:00:00:00:00:01 --host hv1 --ip 198.18.0.1 --ip 198.18.0.1",
	       2, "fabricctl: --ip 198.18.0.1: given twice\n");
	expect("add --vni 100 --mac 02:00:00:00:00:01 --host hv1 --host hv2 --host hv1", 2,
	       "fabricctl: --host hv1: given twice\n");
	used = (size_t)snprintf(line, sizeof(line),
				"add --vni 100 --mac 02:00:00:00:00:01 --host hv1");
	for (int i = 1; i <= 17; i++)
		used += (size_t)snprintf(line + used, sizeof(line) - used, " --ip 198.18.0.%d", i);
	expect(line, 2, "fabricctl: --ip 198.18.0.17: a port has at most 16 addresses\n");
	used = (size_t)snprintf(line, sizeof(line), "add --vni 100 --mac 02:00:00:00:00:01");
	for (int i = 1; i <= 9; i++)
		used += (size_t)snprintf(line + used, sizeof(line) - used, " --host hv%d", i);
	expect(line, 2, "fabricctl: --host hv9: a port has at most 8 hosts\n");
}

/* What passes is sent: with nobody listening, the connect is what fails. */
static void test_valid_goes_to_fabricd(void **state)
{
	char line[1024], err[1024];
	size_t used;

	used = (size_t)snprintf(line, sizeof(line), "add --vni 100 --mac 02:00:00:00:00:01 "
				"--ip 198.18.0.1 --ip 2001:db8::1 --ip 223.255.255.255 "
				"--ip fe80::1");
	for (int i = 1; i <= 8; i++)
		used += (size_t)snprintf(line + used, sizeof(line) - used, " --host hv%d", i);
	for (int i = 2; i <= 13; i++)
		used += (size_t)snprintf(line + used, sizeof(line) - used, " --ip 198.18.1.%d", i);
	assert_int_equal(run(line, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "fabricctl: " NOBODY ": "));
	assert_int_equal(run("del --vni 100 --mac 02:00:00:00:00:01", err, sizeof(err)), 1);
	assert_int_equal(run("master --vni 100 --mac 02:00:00:00:00:01 --host hv2", err,
			     sizeof(err)), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mac_not_a_port),
		cmocka_unit_test(test_ip_not_a_host),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_valid_goes_to_fabricd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
