/*
 * fdbtool.c - a command line over vtepd/kernel.h, for the netns test and the benchmark:
 *   fdbtool ensure VNI BRIDGE LOCAL [UNDERLAY]   create or fix vx<VNI>
 *   fdbtool apply FILE                           reconcile to FILE ("-": stdin), stats as JSON
 *   fdbtool repair FILE [fdb|neigh]              kernel_repair: add what FILE has and the
 *                                                kernel lacks, remove nothing (both tables,
 *                                                or the one named); stats as apply's
 *   fdbtool repair-keys FILE KEY...              kernel_repair_keys: the same for the
 *                                                neighbour addresses and unicast MACs named
 *                                                only, without dumps
 *   fdbtool dump VNI [KNOWN[,KNOWN...]]          what is ours, in apply's format
 *   fdbtool ops FILE                             incremental operations, one commit
 *   fdbtool stall ops|apply FILE [wait]          the same, or apply, from an event loop
 *                                                with a 1 ms timer: the loop's longest
 *                                                stall while the kernel takes it (with
 *                                                wait: kernel_wait after queueing, as the
 *                                                blocking commit did), as JSON
 *   fdbtool del VNI                              delete vx<VNI>
 * FILE, one item a line (# comments, blank lines):
 *   vni VNI                      the VNI is reconciled even when nothing else names it
 *   fdb VNI MAC DST[,DST...]     a unicast entry
 *   flood VNI DST[,DST...]       flood remotes
 *   neigh VNI IP MAC             a suppression neighbour (IPv4 or IPv6)
 *   known DST                    a fabric VTEP (flood ownership)
 * ops FILE: fdb-set VNI MAC DST, fdb-del VNI MAC DST, flood-add VNI DST, flood-del VNI DST,
 * neigh-set VNI IP MAC, neigh-del VNI IP; prints {"refused":N}.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include "kernel.h"
#include "log.h"
#include "monotime.h"

#define MAX_DSTS 64
#define E_USAGE (-100000)  /* a command's answer to bad arguments: print the usage */

static int parse_vni(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v == 0 || v >= KERNEL_VNI_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* "a,b,c" -> up to max addresses; the count or -EINVAL. */
static int parse_dsts(char *s, struct ipaddr *out, int max)
{
	int n = 0;

	for (char *save = NULL, *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n == max || ipaddr_parse(t, &out[n]) < 0)
			return -EINVAL;
		n++;
	}
	return n ? n : -EINVAL;
}

static struct ipaddr *known;
static size_t nknown, capknown;

static int add_known(const struct ipaddr *a)
{
	if (nknown == capknown) {
		size_t cap = capknown ? 2 * capknown : 16;
		struct ipaddr *p = realloc(known, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		known = p;
		capknown = cap;
	}
	known[nknown++] = *a;
	return 0;
}

static int parse_line(struct kdesired *d, char *line)
{
	char *w[5], *save = NULL;
	struct ipaddr dst[MAX_DSTS], ip;
	struct mac mac;
	uint32_t vni = 0;
	int n = 0, ndst;

	for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == 5)
			return -EINVAL;
		w[n++] = t;
	}
	if (n == 0 || w[0][0] == '#')
		return 0;
	if (!strcmp(w[0], "known") && n == 2)
		return ipaddr_parse(w[1], &ip) < 0 ? -EINVAL : add_known(&ip);
	if (n < 2 || parse_vni(w[1], &vni) < 0)
		return -EINVAL;
	if (!strcmp(w[0], "vni") && n == 2)
		return kdesired_vni(d, vni);
	if (!strcmp(w[0], "fdb") && n == 4) {
		ndst = parse_dsts(w[3], dst, MAX_DSTS);
		if (mac_parse(w[2], &mac) < 0 || ndst < 0)
			return -EINVAL;
		return kdesired_fdb(d, vni, &mac, dst, (size_t)ndst);
	}
	if (!strcmp(w[0], "flood") && n == 3) {
		ndst = parse_dsts(w[2], dst, MAX_DSTS);
		for (int i = 0; i < ndst; i++)
			if (kdesired_flood(d, vni, &dst[i]) < 0)
				return -EINVAL;
		return ndst < 0 ? -EINVAL : 0;
	}
	if (!strcmp(w[0], "neigh") && n == 4) {
		if (ipaddr_parse(w[2], &ip) < 0 || mac_parse(w[3], &mac) < 0)
			return -EINVAL;
		return kdesired_neigh(d, vni, &ip, &mac);
	}
	return -EINVAL;
}

static int op_line(struct kernel *k, char *line)
{
	char *w[5], *save = NULL;
	struct ipaddr a;
	struct mac mac;
	uint32_t vni;
	int n = 0;

	for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == 5)
			return -EINVAL;
		w[n++] = t;
	}
	if (n == 0 || w[0][0] == '#')
		return 0;
	if (n < 3 || parse_vni(w[1], &vni) < 0)
		return -EINVAL;
	if (!strcmp(w[0], "fdb-set") && n == 4 && !mac_parse(w[2], &mac) && !ipaddr_parse(w[3], &a))
		return kernel_fdb_set(k, vni, &mac, &a);
	if (!strcmp(w[0], "fdb-del") && n == 4 && !mac_parse(w[2], &mac) && !ipaddr_parse(w[3], &a))
		return kernel_fdb_del(k, vni, &mac, &a);
	if (!strcmp(w[0], "flood-add") && n == 3 && !ipaddr_parse(w[2], &a))
		return kernel_flood_add(k, vni, &a);
	if (!strcmp(w[0], "flood-del") && n == 3 && !ipaddr_parse(w[2], &a))
		return kernel_flood_del(k, vni, &a);
	if (!strcmp(w[0], "neigh-set") && n == 4 && !ipaddr_parse(w[2], &a) && !mac_parse(w[3], &mac))
		return kernel_neigh_set(k, vni, &a, &mac);
	if (!strcmp(w[0], "neigh-del") && n == 3 && !ipaddr_parse(w[2], &a))
		return kernel_neigh_del(k, vni, &a);
	return -EINVAL;
}

/* kernel_commit's and kernel_reconcile's answers, waited for with kernel_wait. */
struct answer {
	uint32_t refused;
	int first_err;
	struct kstats st;
};

static void committed(void *ctx, uint32_t refused, int first_err)
{
	struct answer *c = ctx;

	c->refused = refused;
	c->first_err = first_err;
}

static void synced(void *ctx, int err, const struct kstats *st)
{
	struct answer *c = ctx;

	c->first_err = err;
	c->st = *st;
}

static int cmd_ops(struct kernel *k, int argc, char **argv)
{
	struct answer c = { 0 };
	char line[1024];
	int lineno = 0, ret;
	FILE *f;

	if (argc != 1)
		return E_USAGE;
	f = strcmp(argv[0], "-") ? fopen(argv[0], "r") : stdin;
	if (!f) {
		fprintf(stderr, "fdbtool: %s: %s\n", argv[0], strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		ret = op_line(k, line);
		if (ret < 0) {
			fprintf(stderr, "fdbtool: %s:%d: %s\n", argv[0], lineno, strerror(-ret));
			if (f != stdin)
				fclose(f);
			return ret;
		}
	}
	if (f != stdin)
		fclose(f);
	kernel_commit(k, committed, &c);
	kernel_wait(k);
	if (c.first_err == -ENOBUFS || c.first_err == -ETIMEDOUT)
		return c.first_err;
	printf("{\"refused\":%u}\n", c.refused);
	return 0;
}

static void print_count(const char *name, const struct kcount *c, const char *sep)
{
	printf("\"%s\":{\"added\":%u,\"updated\":%u,\"removed\":%u,\"kept\":%u,"
	       "\"foreign\":%u,\"conflicts\":%u}%s",
	       name, c->added, c->updated, c->removed, c->kept, c->foreign, c->conflicts, sep);
}

/* apply (repair 0), repair (1: the tables of argv[1], both by default) or repair-keys (2: the
 * keys of argv[1..]). */
static int apply_or_repair(struct kernel *k, int argc, char **argv, int repair)
{
	struct kdesired *d = kdesired_new();
	unsigned tables = KREPAIR_FDB | KREPAIR_NEIGH;
	struct ipaddr ips[MAX_DSTS];
	struct mac macs[MAX_DSTS];
	size_t nips = 0, nmacs = 0;
	struct kstats st = { 0 };
	struct answer a = { 0 };
	struct monotime t0;
	char line[1024];
	FILE *f;
	int ret, lineno = 0;

	if (!d)
		return -ENOMEM;
	if (repair == 2) {
		for (int i = 1; i < argc; i++) {
			if (nips + nmacs == MAX_DSTS) {
				kdesired_free(d);
				return E_USAGE;
			}
			if (mac_parse(argv[i], &macs[nmacs]) == 0)
				nmacs++;
			else if (ipaddr_parse(argv[i], &ips[nips]) == 0)
				nips++;
			else {
				kdesired_free(d);
				return E_USAGE;
			}
		}
		argc = argc > 1 ? 1 : argc;
	}
	if (repair == 1 && argc == 2 && !strcmp(argv[1], "fdb"))
		tables = KREPAIR_FDB;
	else if (repair == 1 && argc == 2 && !strcmp(argv[1], "neigh"))
		tables = KREPAIR_NEIGH;
	else if (argc != 1) {
		kdesired_free(d);
		return E_USAGE;
	}
	f = strcmp(argv[0], "-") ? fopen(argv[0], "r") : stdin;
	if (!f) {
		fprintf(stderr, "fdbtool: %s: %s\n", argv[0], strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (parse_line(d, line) < 0) {
			fprintf(stderr, "fdbtool: %s:%d: bad line\n", argv[0], lineno);
			kdesired_free(d);
			return -EINVAL;
		}
	}
	if (f != stdin)
		fclose(f);
	t0 = monotime_now();
	if (repair == 2)
		ret = kernel_repair_keys(k, d, ips, nips, macs, nmacs, synced, &a);
	else if (repair == 1)
		ret = kernel_repair(k, d, tables, synced, &a);
	else
		ret = kernel_reconcile(k, d, known, nknown, synced, &a);
	kernel_wait(k);
	st = a.st;
	if (!ret)
		ret = a.first_err;
	printf("{");
	print_count("fdb", &st.fdb, ",");
	print_count("flood", &st.flood, ",");
	print_count("neigh", &st.neigh, ",");
	printf("\"fdb_flooded\":%u,\"errors\":%u,\"dump_ms\":%.1f,\"program_ms\":%.1f,"
	       "\"total_ms\":%.1f}\n",
	       st.fdb_flooded, st.errors, st.dump_us / 1000.0, st.program_us / 1000.0,
	       monotime_diff_us(monotime_now(), t0) / 1000.0);
	kdesired_free(d);
	return ret;
}

static int cmd_apply(struct kernel *k, int argc, char **argv)
{
	return apply_or_repair(k, argc, argv, 0);
}

static int cmd_repair(struct kernel *k, int argc, char **argv)
{
	return apply_or_repair(k, argc, argv, 1);
}

static int cmd_repair_keys(struct kernel *k, int argc, char **argv)
{
	return argc < 2 ? E_USAGE : apply_or_repair(k, argc, argv, 2);
}

static int print_vni(void *ctx, uint32_t vni)
{
	printf("vni %u\n", vni);
	return 0;
}

static int print_fdb(void *ctx, uint32_t vni, const struct mac *mac, const struct ipaddr *dsts,
		     size_t ndst)
{
	char m[MAC_STRLEN], a[IPADDR_STRLEN];

	printf("fdb %u %s ", vni, mac_fmt(mac, m));
	for (size_t i = 0; i < ndst; i++)
		printf("%s%s", i ? "," : "", ipaddr_fmt(&dsts[i], a));
	printf("\n");
	return 0;
}

static int print_flood(void *ctx, uint32_t vni, const struct ipaddr *dst)
{
	char a[IPADDR_STRLEN];

	printf("flood %u %s\n", vni, ipaddr_fmt(dst, a));
	return 0;
}

static int print_neigh(void *ctx, uint32_t vni, const struct ipaddr *ip, const struct mac *mac)
{
	char m[MAC_STRLEN], a[IPADDR_STRLEN];

	printf("neigh %u %s %s\n", vni, ipaddr_fmt(ip, a), mac_fmt(mac, m));
	return 0;
}

static int cmd_dump(struct kernel *k, int argc, char **argv)
{
	static const struct kdesired_visitor v = {
		.vni = print_vni, .fdb = print_fdb, .flood = print_flood, .neigh = print_neigh,
	};
	struct ipaddr dst[MAX_DSTS];
	struct kdesired *d;
	uint32_t vni;
	int n = 0, ret;

	if (argc < 1 || argc > 2 || parse_vni(argv[0], &vni) < 0)
		return E_USAGE;
	if (argc == 2 && (n = parse_dsts(argv[1], dst, MAX_DSTS)) < 0)
		return E_USAGE;
	d = kdesired_new();
	if (!d)
		return -ENOMEM;
	ret = kernel_dump(k, vni, argc == 2 ? dst : NULL, (size_t)n, d);
	if (ret == 0)
		kdesired_walk(d, &v, NULL);
	kdesired_free(d);
	return ret;
}

static int cmd_ensure(struct kernel *k, int argc, char **argv)
{
	struct ipaddr local;
	uint32_t vni;
	int vx, br, ret;

	if (argc < 3 || argc > 4 || parse_vni(argv[0], &vni) < 0 ||
	    ipaddr_parse(argv[2], &local) < 0)
		return E_USAGE;
	ret = kernel_vxlan_ensure(k, vni, argv[1], &local, argc == 4 ? argv[3] : NULL, &vx, &br);
	if (ret < 0)
		return ret;
	printf("{\"vx_ifindex\":%d,\"br_ifindex\":%d,\"created\":%s,\"recreated\":%s,"
	       "\"fixed\":%s,\"bridge_created\":%s}\n", vx, br,
	       ret & KVX_CREATED ? "true" : "false", ret & KVX_RECREATED ? "true" : "false",
	       ret & KVX_FIXED ? "true" : "false", ret & KVX_BRIDGE_CREATED ? "true" : "false");
	return 0;
}

static int cmd_del(struct kernel *k, int argc, char **argv)
{
	uint32_t vni;

	if (argc != 1 || parse_vni(argv[0], &vni) < 0)
		return E_USAGE;
	return kernel_vxlan_del(k, vni);
}

/* --- stall: the event loop's longest stall while the kernel takes a batch ----------------- */

static struct event_base *base;

struct stall {
	struct kernel *k;
	char **lines;                  /* ops: the file, read before the clock starts */
	size_t nlines;
	struct kdesired *d;            /* apply */
	bool wait;
	struct monotime t0, last_tick;
	int64_t max_gap_us, queue_us, total_us;
	struct answer a;
	int ret;
};

static void stall_tick(evutil_socket_t fd, short what, void *arg)
{
	struct stall *s = arg;
	struct monotime now = monotime_now();
	int64_t gap = monotime_diff_us(now, s->last_tick);

	if (gap > s->max_gap_us)
		s->max_gap_us = gap;
	s->last_tick = now;
}

static void stall_end(struct stall *s)
{
	s->total_us = monotime_diff_us(monotime_now(), s->t0);
	stall_tick(-1, 0, s);
	event_base_loopbreak(base);
}

static void stall_committed(void *ctx, uint32_t refused, int first_err)
{
	struct stall *s = ctx;

	committed(&s->a, refused, first_err);
	stall_end(s);
}

static void stall_synced(void *ctx, int err, const struct kstats *st)
{
	struct stall *s = ctx;

	synced(&s->a, err, st);
	stall_end(s);
}

static void stall_start(evutil_socket_t fd, short what, void *arg)
{
	struct stall *s = arg;

	s->t0 = monotime_now();
	for (size_t i = 0; i < s->nlines && !s->ret; i++)
		s->ret = op_line(s->k, s->lines[i]);
	if (s->d)
		s->ret = kernel_reconcile(s->k, s->d, known, nknown, stall_synced, s);
	else
		kernel_commit(s->k, stall_committed, s);
	s->queue_us = monotime_diff_us(monotime_now(), s->t0);
	if (s->ret)
		event_base_loopbreak(base);
	else if (s->wait)
		kernel_wait(s->k);
}

static int stall_load(struct stall *s, const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char **l;

		if (s->d) {
			if (parse_line(s->d, line) < 0) {
				fclose(f);
				return -EINVAL;
			}
			continue;
		}
		l = realloc(s->lines, (s->nlines + 1) * sizeof(*l));
		if (l)
			s->lines = l;
		if (!l || !(l[s->nlines] = strdup(line))) {
			fclose(f);
			return -ENOMEM;
		}
		s->nlines++;
	}
	fclose(f);
	return 0;
}

static int cmd_stall(struct kernel *k, int argc, char **argv)
{
	struct stall s = { .k = k };
	struct timeval ms = { 0, 1000 }, now = { 0, 0 };
	struct event *tick, *start;

	if (argc < 2 || argc > 3 || (strcmp(argv[0], "ops") && strcmp(argv[0], "apply")) ||
	    (argc == 3 && strcmp(argv[2], "wait")))
		return E_USAGE;
	s.wait = argc == 3;
	if (!strcmp(argv[0], "apply") && !(s.d = kdesired_new()))
		return -ENOMEM;
	s.ret = stall_load(&s, argv[1]);
	tick = event_new(base, -1, EV_PERSIST, stall_tick, &s);
	start = event_new(base, -1, 0, stall_start, &s);
	if (!s.ret && (!tick || !start))
		s.ret = -ENOMEM;
	if (!s.ret) {
		s.last_tick = monotime_now();
		event_add(tick, &ms);
		event_add(start, &now);
		event_base_dispatch(base);
	}
	if (!s.ret)
		printf("{\"ops\":%zu,\"refused\":%u,\"errors\":%u,\"queue_ms\":%.1f,"
		       "\"total_ms\":%.1f,\"stall_max_ms\":%.1f}\n", s.nlines, s.a.refused,
		       s.a.st.errors, s.queue_us / 1000.0, s.total_us / 1000.0,
		       s.max_gap_us / 1000.0);
	if (tick)
		event_free(tick);
	if (start)
		event_free(start);
	for (size_t i = 0; i < s.nlines; i++)
		free(s.lines[i]);
	free(s.lines);
	kdesired_free(s.d);
	return s.ret;
}

static const struct {
	const char *name;
	int (*fn)(struct kernel *k, int argc, char **argv);
	const char *usage;
} cmds[] = {
	{ "ensure", cmd_ensure, "ensure VNI BRIDGE LOCAL [UNDERLAY]" },
	{ "apply", cmd_apply, "apply FILE|-" },
	{ "repair", cmd_repair, "repair FILE|- [fdb|neigh]" },
	{ "repair-keys", cmd_repair_keys, "repair-keys FILE|- MAC|IP..." },
	{ "dump", cmd_dump, "dump VNI [KNOWN[,KNOWN...]]" },
	{ "ops", cmd_ops, "ops FILE|-" },
	{ "stall", cmd_stall, "stall ops|apply FILE [wait]" },
	{ "del", cmd_del, "del VNI" },
};

static void usage(void)
{
	fprintf(stderr, "usage:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(stderr, "  fdbtool %s\n", cmds[i].usage);
}

int main(int argc, char **argv)
{
	struct kernel *k;
	int ret;

	log_init("fdbtool", LOG_LVL_WARN);
	if (argc < 2) {
		usage();
		return 2;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		base = event_base_new();
		ret = base ? kernel_open(base, &k) : -ENOMEM;
		if (ret < 0) {
			fprintf(stderr, "fdbtool: netlink: %s\n", strerror(-ret));
			return 1;
		}
		ret = cmds[i].fn(k, argc - 2, argv + 2);
		kernel_close(k);
		event_base_free(base);
		free(known);
		if (ret == E_USAGE) {
			usage();
			return 2;
		}
		if (ret < 0)
			fprintf(stderr, "fdbtool %s: %s\n", argv[1], strerror(-ret));
		return ret < 0 ? 1 : 0;
	}
	usage();
	return 2;
}
