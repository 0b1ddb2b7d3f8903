/*
 * dpctl.c - a command line over switchd/dp.h, so the netns test and the benchmark can build
 * a fabric's data plane by hand before switchd's LDP exists. Every command opens the data
 * plane pinned under DIR (loading the program with those maps; the first run creates them):
 *   dpctl -d DIR attach [--hold] IF...   attach to each port's ingress (replacing ours);
 *                                        --hold stays running until killed, like switchd
 *   dpctl -d DIR detach IF...            remove our filter from each port
 *   dpctl -d DIR config level=edge|aggregation|core [pod=N] [pos=N] [salt=N] [located=0|1]
 *   dpctl -d DIR port IF up|down|host
 *   dpctl -d DIR up [IF...]              the ECMP group of up ports (none: empty)
 *   dpctl -d DIR pod POD IF              core: pod -> port
 *   dpctl -d DIR pos POS IF              aggregation: position -> port
 *   dpctl -d DIR host PMAC AMAC IF       edge: a host below this switch
 *   dpctl -d DIR delhost PMAC
 *   dpctl -d DIR counters                "reason count" a line, summed over CPUs
 *   dpctl -d DIR entries                 "map entries" a line
 *   dpctl -d DIR fault IF on|off         a silent link: every frame arriving on IF dropped
 *                                        (LDMs too), counted as dropped_fault; or no more
 *   dpctl -d DIR porttx IF...            "IF frames bytes slot N" a port a line: what the
 *                                        program sent out of it
 *   dpctl -d DIR unknown SECONDS         print "ifindex amac" for each unknown source
 *                                        reported within SECONDS
 *   dpctl -d DIR sync FILE               reconcile to FILE, the switch's whole state, one
 *                                        item a line as the commands above take them (config,
 *                                        port, up, pod, pos, host; # comments): entries not in
 *                                        FILE are removed; prints "removed N"
 *   dpctl -d DIR unpin                   remove the pins (attached programs keep running)
 * Exit 0 on success, 1 on failure (the reason on stderr), 2 on bad usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "dp.h"
#include "log.h"

#define E_USAGE (-100000)

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	if (errno || end == s || *end || *out > max || s[0] == '-')
		return E_USAGE;
	return 0;
}

static int ifindex_of(const char *name)
{
	unsigned idx = if_nametoindex(name);

	if (idx == 0) {
		fprintf(stderr, "dpctl: no interface %s\n", name);
		return -ENODEV;
	}
	return (int)idx;
}

static int cmd_attach(struct dp *dp, int argc, char **argv)
{
	int i, hold = 0, idx, err;

	if (argc > 0 && strcmp(argv[0], "--hold") == 0) {
		hold = 1;
		argc--, argv++;
	}
	if (argc == 0)
		return E_USAGE;
	for (i = 0; i < argc; i++) {
		idx = ifindex_of(argv[i]);
		if (idx < 0)
			return idx;
		err = dp_attach(dp, idx);
		if (err < 0)
			return err;
	}
	if (hold) {
		printf("attached\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	return 0;
}

static int cmd_detach(struct dp *dp, int argc, char **argv)
{
	int i, idx, err;

	for (i = 0; i < argc; i++) {
		idx = ifindex_of(argv[i]);
		if (idx < 0)
			return idx;
		err = dp_detach(dp, idx);
		if (err < 0)
			return err;
	}
	return argc ? 0 : E_USAGE;
}

static int parse_level(const char *s, struct sw_config *c)
{
	if (strcmp(s, "edge") == 0)
		c->level = SW_LEVEL_EDGE;
	else if (strcmp(s, "aggregation") == 0)
		c->level = SW_LEVEL_AGGREGATION;
	else if (strcmp(s, "core") == 0)
		c->level = SW_LEVEL_CORE;
	else
		return E_USAGE;
	return 0;
}

static int parse_config_word(const char *w, struct sw_config *c)
{
	const char *eq = strchr(w, '=');
	unsigned long v;
	size_t klen;

	if (!eq)
		return E_USAGE;
	klen = (size_t)(eq - w);
	if (klen == 5 && strncmp(w, "level", 5) == 0)
		return parse_level(eq + 1, c);
	if (parse_uint(eq + 1, UINT32_MAX, &v) < 0)
		return E_USAGE;
	if (klen == 3 && strncmp(w, "pod", 3) == 0 && v <= UINT16_MAX)
		c->pod = (__u16)v;
	else if (klen == 3 && strncmp(w, "pos", 3) == 0 && v <= UINT8_MAX)
		c->position = (__u8)v;
	else if (klen == 4 && strncmp(w, "salt", 4) == 0)
		c->salt = (__u32)v;
	else if (klen == 7 && strncmp(w, "located", 7) == 0 && v <= 1)
		c->located = (__u8)v;
	else
		return E_USAGE;
	return 0;
}

/* Words not given keep their current value, so "config located=1" flips one flag. */
static int cmd_config(struct dp *dp, int argc, char **argv)
{
	struct sw_config c;
	int i, err;

	memset(&c, 0, sizeof(c));
	err = dp_get_config(dp, &c);
	if (err < 0 && err != -ENOENT)
		return err;
	for (i = 0; i < argc; i++) {
		err = parse_config_word(argv[i], &c);
		if (err < 0)
			return err;
	}
	return argc ? dp_set_config(dp, &c) : E_USAGE;
}

static int cmd_port(struct dp *dp, int argc, char **argv)
{
	enum sw_dir dir;
	int idx;

	if (argc != 2)
		return E_USAGE;
	if (strcmp(argv[1], "up") == 0)
		dir = SW_DIR_UP;
	else if (strcmp(argv[1], "down") == 0)
		dir = SW_DIR_DOWN;
	else if (strcmp(argv[1], "host") == 0)
		dir = SW_DIR_HOST;
	else
		return E_USAGE;
	idx = ifindex_of(argv[0]);
	return idx < 0 ? idx : dp_set_port(dp, idx, dir);
}

static int cmd_up(struct dp *dp, int argc, char **argv)
{
	uint32_t ports[SW_MAX_UP];
	int i, idx;

	if (argc > SW_MAX_UP)
		return -E2BIG;
	for (i = 0; i < argc; i++) {
		idx = ifindex_of(argv[i]);
		if (idx < 0)
			return idx;
		ports[i] = (uint32_t)idx;
	}
	return dp_set_up_group(dp, ports, (unsigned)argc);
}

static int cmd_route(struct dp *dp, int argc, char **argv, int is_pod)
{
	unsigned long key;
	int idx;

	if (argc != 2 || parse_uint(argv[0], is_pod ? UINT16_MAX : UINT8_MAX, &key) < 0)
		return E_USAGE;
	idx = ifindex_of(argv[1]);
	if (idx < 0)
		return idx;
	return is_pod ? dp_set_pod_route(dp, (uint16_t)key, idx)
		      : dp_set_position_route(dp, (uint8_t)key, idx);
}

static int cmd_host(struct dp *dp, int argc, char **argv)
{
	struct mac pmac, amac;
	int idx;

	if (argc != 3 || mac_parse(argv[0], &pmac) < 0 || mac_parse(argv[1], &amac) < 0)
		return E_USAGE;
	idx = ifindex_of(argv[2]);
	return idx < 0 ? idx : dp_set_host(dp, &pmac, &amac, idx);
}

static int cmd_delhost(struct dp *dp, int argc, char **argv)
{
	struct mac pmac;

	if (argc != 1 || mac_parse(argv[0], &pmac) < 0)
		return E_USAGE;
	return dp_del_host(dp, &pmac);
}

static int cmd_counters(struct dp *dp, int argc, char **argv)
{
	uint64_t v[SW_V_COUNT];
	unsigned r;
	int err;

	(void)argv;
	if (argc)
		return E_USAGE;
	err = dp_read_verdicts(dp, v);
	if (err < 0)
		return err;
	for (r = 0; r < SW_V_COUNT; r++)
		printf("%s %" PRIu64 "\n", dp_verdict_name(r), v[r]);
	return 0;
}

static int cmd_fault(struct dp *dp, int argc, char **argv)
{
	int idx;

	if (argc != 2 || (strcmp(argv[1], "on") && strcmp(argv[1], "off")))
		return E_USAGE;
	idx = ifindex_of(argv[0]);
	return idx < 0 ? idx : dp_set_port_fault(dp, idx, !strcmp(argv[1], "on"));
}

static int cmd_porttx(struct dp *dp, int argc, char **argv)
{
	if (argc < 1)
		return E_USAGE;
	for (int i = 0; i < argc; i++) {
		int idx = ifindex_of(argv[i]), err;
		struct sw_port_stats st;
		struct sw_port p;

		if (idx < 0)
			return idx;
		if ((err = dp_get_port(dp, idx, &p)) < 0 || (err = dp_read_port_tx(dp, idx, &st)) < 0)
			return err;
		printf("%s %" PRIu64 " %" PRIu64 " slot %u\n", argv[i], (uint64_t)st.frames,
		       (uint64_t)st.bytes, p.slot);
	}
	return 0;
}

static int cmd_entries(struct dp *dp, int argc, char **argv)
{
	struct dp_map_count c[DP_COUNTED_MAPS];
	int i, err;

	(void)argv;
	if (argc)
		return E_USAGE;
	err = dp_count_entries(dp, c);
	if (err < 0)
		return err;
	for (i = 0; i < DP_COUNTED_MAPS; i++)
		printf("%s %u\n", c[i].name, c[i].entries);
	return 0;
}

static int print_unknown(void *ctx, void *data, size_t size)
{
	const struct sw_unknown_src *ev = data;
	struct mac m;
	char buf[MAC_STRLEN];

	(void)ctx;
	if (size < sizeof(*ev))
		return 0;
	memcpy(m.b, ev->amac, MAC_LEN);
	printf("%u %s\n", ev->ifindex, mac_fmt(&m, buf));
	fflush(stdout);
	return 0;
}

static int cmd_unknown(struct dp *dp, int argc, char **argv)
{
	struct ring_buffer *rb;
	unsigned long secs, i;
	int err = 0;

	if (argc != 1 || parse_uint(argv[0], 3600, &secs) < 0)
		return E_USAGE;
	rb = ring_buffer__new(dp_unknown_src_fd(dp), print_unknown, NULL, NULL);
	if (!rb)
		return -errno;
	for (i = 0; i < secs * 10 && err >= 0; i++)
		err = ring_buffer__poll(rb, 100);
	ring_buffer__free(rb);
	return err < 0 && err != -EINTR ? err : 0;
}

/* The desired state dpctl sync builds from its file. */
struct want_buf {
	struct dp_want w;
	struct dp_port_want ports[SW_MAX_PORTS];
	uint32_t up[SW_MAX_UP];
	struct dp_route_want pods[SW_MAX_PODS], positions[SW_MAX_POSITIONS];
	struct dp_host_want hosts[SW_MAX_HOSTS];
};

static int want_port(struct want_buf *b, int argc, char **argv)
{
	struct dp_port_want *p = &b->ports[b->w.n_ports];
	int idx;

	if (argc != 2 || b->w.n_ports >= SW_MAX_PORTS)
		return E_USAGE;
	if (strcmp(argv[1], "up") == 0)
		p->dir = SW_DIR_UP;
	else if (strcmp(argv[1], "down") == 0)
		p->dir = SW_DIR_DOWN;
	else if (strcmp(argv[1], "host") == 0)
		p->dir = SW_DIR_HOST;
	else
		return E_USAGE;
	idx = ifindex_of(argv[0]);
	if (idx < 0)
		return idx;
	p->ifindex = idx;
	b->w.n_ports++;
	return 0;
}

static int want_route(struct dp_route_want *r, unsigned *n, unsigned max, unsigned long kmax,
		      int argc, char **argv)
{
	unsigned long key;
	int idx;

	if (argc != 2 || *n >= max || parse_uint(argv[0], kmax, &key) < 0)
		return E_USAGE;
	idx = ifindex_of(argv[1]);
	if (idx < 0)
		return idx;
	r[*n].key = (uint32_t)key;
	r[*n].ifindex = idx;
	(*n)++;
	return 0;
}

static int want_host(struct want_buf *b, int argc, char **argv)
{
	struct dp_host_want *h = &b->hosts[b->w.n_hosts];
	int idx;

	if (argc != 3 || b->w.n_hosts >= SW_MAX_HOSTS || mac_parse(argv[0], &h->pmac) < 0 ||
	    mac_parse(argv[1], &h->amac) < 0)
		return E_USAGE;
	idx = ifindex_of(argv[2]);
	if (idx < 0)
		return idx;
	h->ifindex = idx;
	b->w.n_hosts++;
	return 0;
}

static int want_up(struct want_buf *b, int argc, char **argv)
{
	int i, idx;

	if (argc > SW_MAX_UP)
		return -E2BIG;
	for (i = 0; i < argc; i++) {
		idx = ifindex_of(argv[i]);
		if (idx < 0)
			return idx;
		b->up[i] = (uint32_t)idx;
	}
	b->w.n_up = (unsigned)argc;
	return 0;
}

static int want_line(struct want_buf *b, int argc, char **argv)
{
	int i, err;

	if (strcmp(argv[0], "config") == 0) {
		for (i = 1, err = 0; i < argc && err == 0; i++)
			err = parse_config_word(argv[i], &b->w.config);
		return err;
	}
	if (strcmp(argv[0], "port") == 0)
		return want_port(b, argc - 1, argv + 1);
	if (strcmp(argv[0], "up") == 0)
		return want_up(b, argc - 1, argv + 1);
	if (strcmp(argv[0], "pod") == 0)
		return want_route(b->pods, &b->w.n_pods, SW_MAX_PODS, UINT16_MAX, argc - 1, argv + 1);
	if (strcmp(argv[0], "pos") == 0)
		return want_route(b->positions, &b->w.n_positions, SW_MAX_POSITIONS, UINT8_MAX,
				  argc - 1, argv + 1);
	if (strcmp(argv[0], "host") == 0)
		return want_host(b, argc - 1, argv + 1);
	return E_USAGE;
}

static int read_want(FILE *f, struct want_buf *b)
{
	char line[512], *words[SW_MAX_UP + 2], *save;
	unsigned lineno = 0;
	int n, err;

	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "#\n")] = '\0';
		n = 0;
		for (char *w = strtok_r(line, " \t", &save); w && n < (int)(sizeof(words) / sizeof(words[0]));
		     w = strtok_r(NULL, " \t", &save))
			words[n++] = w;
		if (n == 0)
			continue;
		err = want_line(b, n, words);
		if (err < 0) {
			fprintf(stderr, "dpctl: sync: line %u: %s\n", lineno,
				err == E_USAGE ? "not understood" : strerror(-err));
			return -EINVAL;
		}
	}
	return 0;
}

static int cmd_sync(struct dp *dp, int argc, char **argv)
{
	struct want_buf *b;
	FILE *f;
	int err;

	if (argc != 1)
		return E_USAGE;
	f = fopen(argv[0], "r");
	if (!f)
		return -errno;
	b = calloc(1, sizeof(*b));
	if (!b) {
		fclose(f);
		return -ENOMEM;
	}
	b->w.ports = b->ports;
	b->w.up = b->up;
	b->w.pods = b->pods;
	b->w.positions = b->positions;
	b->w.hosts = b->hosts;
	err = read_want(f, b);
	fclose(f);
	if (err == 0)
		err = dp_reconcile(dp, &b->w);
	free(b);
	if (err >= 0)
		printf("removed %d\n", err);
	return err < 0 ? err : 0;
}

struct command {
	const char *name;
	int (*fn)(struct dp *dp, int argc, char **argv);
};

static int cmd_pod(struct dp *dp, int argc, char **argv) { return cmd_route(dp, argc, argv, 1); }
static int cmd_pos(struct dp *dp, int argc, char **argv) { return cmd_route(dp, argc, argv, 0); }

static const struct command commands[] = {
	{ "attach", cmd_attach }, { "detach", cmd_detach }, { "config", cmd_config },
	{ "port", cmd_port }, { "up", cmd_up }, { "pod", cmd_pod }, { "pos", cmd_pos },
	{ "host", cmd_host }, { "delhost", cmd_delhost }, { "counters", cmd_counters },
	{ "porttx", cmd_porttx }, { "fault", cmd_fault },
	{ "entries", cmd_entries }, { "unknown", cmd_unknown }, { "sync", cmd_sync },
};

static int usage(void)
{
	fprintf(stderr, "usage: dpctl -d PIN_DIR attach|detach|config|port|up|pod|pos|host|"
		"delhost|counters|porttx|fault|entries|unknown|sync|unpin ARGS... (see tests/tools/dpctl.c)\n");
	return 2;
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	struct dp *dp;
	size_t i;
	int err;

	log_init("dpctl", LOG_LVL_WARN);
	if (argc < 4 || strcmp(argv[1], "-d") != 0)
		return usage();
	if (strcmp(argv[3], "unpin") == 0)
		return argc == 4 && dp_unpin(argv[2]) == 0 ? 0 : 1;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[3], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd)
		return usage();
	err = dp_open(argv[2], &dp);
	if (err < 0) {
		fprintf(stderr, "dpctl: %s: %s\n", argv[2], strerror(-err));
		return 1;
	}
	err = cmd->fn(dp, argc - 4, argv + 4);
	dp_close(dp);
	if (err == E_USAGE)
		return usage();
	if (err < 0) {
		fprintf(stderr, "dpctl: %s: %s\n", argv[3], strerror(-err));
		return 1;
	}
	return 0;
}
