/*
 * agentload.c - fake vtepd agents that load fabricd with learned bindings, and fabricd's
 * memory before and after, for bench/fabricd_memory.sh:
 *   agentload -f SOCKET -P FABRICD_PID [-a AGENTS] [-n BINDINGS] [-b BATCH] [-v VNIS]
 *             [-t TIMEOUT_S]
 * AGENTS (default 4) sessions on fabricd's Unix socket (where vtepd may speak without TLS;
 * what is measured is the directory, not the sessions) say Hello as vtepd does (role ROLE_VTEPD, id loadK, VTEP
 * 198.18.1.(K+1), VNIs 1000..1000+VNIS-1, default 16), take their full table, send an empty
 * full Report, and then, in turn, delta Reports of BATCH (default 5000) learned MACs, each
 * with one IPv4 and one IPv6 address, as vtepd reports what its VMs use; BINDINGS (default
 * 1000000) in all, binding i in VNI 1000 + i % VNIS. Every agent reads everything fabricd
 * sends it: the next Report goes only once every agent has received the Update adds for the
 * previous one (fabricd pushes a new binding to every agent of its segment, the reporter
 * included), which is also how the tool knows fabricd has taken every binding in.
 * fabricd's memory (/proc/PID/status, /proc/PID/smaps) is read once every agent is synced and
 * again after the load, with nothing in flight. Output on stdout, one "key value" a line:
 *   sizeof_binding, sizeof_ipaddr, sizeof_slot      the directory's structures (this build)
 *   chunk_binding, chunk_ips2                       malloc chunks they take (glibc, header
 *                                                    included) for a binding, 2 addresses
 *   PHASE_rss_kb PHASE_hwm_kb PHASE_heap_kb PHASE_anon_kb PHASE_other_kb   PHASE: before, after
 *     (VmRSS, VmHWM; Rss of [heap], of anonymous mappings, of the rest from smaps)
 *   bindings N   load_ms N   adds_received N
 * Exit 0, or 1 when something failed (message on stderr).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "directory.h"
#include "fabric.pb-c.h"
#include "tpeer.h"
#include "wire.h"

#define MAX_AGENTS 32

struct agent {
	struct tpeer p;
	char id[16];
	uint8_t vtep[4];
	bool hello, synced;
	uint64_t adds, want;
};

static struct agent agents[MAX_AGENTS];
static int nagents = 4;
static uint32_t vnis[64];
static int nvnis = 16;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int send_env(struct agent *a, const L2f__Envelope *env)
{
	return tpeer_send(&a->p, env);
}

static void on_env(struct tpeer *p, const L2f__Envelope *env, void *ctx)
{
	struct agent *a = ctx;

	if (env->msg_case == L2F__ENVELOPE__MSG_HELLO) {
		a->hello = true;
	} else if (env->msg_case == L2F__ENVELOPE__MSG_UPDATE) {
		const L2f__Update *u = env->update;

		if (u->has_full && u->full)
			a->synced = false;
		if (!(u->has_more && u->more))
			a->synced = true;
		a->adds += u->n_add;
	}
}

/* Reads what agent a has and handles every whole frame. -1 when the session broke. */
static int agent_read(struct agent *a)
{
	if (tpeer_read(&a->p, on_env, a) < 0) {
		fprintf(stderr, "agentload: %s: session closed by fabricd\n", a->id);
		return -1;
	}
	return 0;
}

/* Reads from every agent until done() or the deadline. 0, or -1 (timeout or broken). */
static int pump(bool (*done)(void), int64_t deadline)
{
	struct pollfd pfd[MAX_AGENTS];

	while (!done()) {
		int64_t left = deadline - now_ms();

		if (left <= 0) {
			fprintf(stderr, "agentload: timed out\n");
			return -1;
		}
		for (int k = 0; k < nagents; k++)
			pfd[k] = (struct pollfd){ .fd = agents[k].p.fd, .events = POLLIN };
		if (poll(pfd, (nfds_t)nagents, left > 100 ? 100 : (int)left) <= 0)
			continue;
		for (int k = 0; k < nagents; k++)
			if (pfd[k].revents && agent_read(&agents[k]) < 0)
				return -1;
	}
	return 0;
}

static bool all_synced(void)
{
	for (int k = 0; k < nagents; k++)
		if (!agents[k].hello || !agents[k].synced)
			return false;
	return true;
}

static bool all_caught_up(void)
{
	for (int k = 0; k < nagents; k++)
		if (agents[k].adds < agents[k].want)
			return false;
	return true;
}

static bool never(void)
{
	return false;
}

static int agent_connect(struct agent *a, int k, const char *path)
{
	L2f__Hello hello = L2F__HELLO__INIT;

	snprintf(a->id, sizeof(a->id), "load%d", k);
	a->vtep[0] = 198, a->vtep[1] = 18, a->vtep[2] = 1, a->vtep[3] = (uint8_t)(k + 1);
	hello.version = PROTO_VERSION;
	hello.role = L2F__ROLE__ROLE_VTEPD;
	hello.id = a->id;
	hello.has_vtep = true;
	hello.vtep.data = a->vtep;
	hello.vtep.len = 4;
	hello.vnis = vnis;
	hello.n_vnis = (size_t)nvnis;
	return tpeer_connect(&a->p, path, &hello);
}

static int send_report(struct agent *a, uint64_t first, size_t n, bool full, L2f__Learned *l,
		       L2f__Learned **lp, ProtobufCBinaryData *ipd, uint8_t *raw)
{
	L2f__Envelope env = L2F__ENVELOPE__INIT;
	L2f__Report r = L2F__REPORT__INIT;

	for (size_t j = 0; j < n; j++) {
		uint64_t i = first + j;
		uint32_t vni = vnis[i % (uint64_t)nvnis];
		uint8_t *m = raw + 28 * j, *v4 = m + 6, *v6 = m + 10;

		l2f__learned__init(&l[j]);
		m[0] = 0x02, m[1] = 0x01, m[2] = (uint8_t)(i >> 24), m[3] = (uint8_t)(i >> 16);
		m[4] = (uint8_t)(i >> 8), m[5] = (uint8_t)i;
		v4[0] = 198, v4[1] = (uint8_t)(18 + ((i >> 16) & 1)), v4[2] = (uint8_t)(i >> 8);
		v4[3] = (uint8_t)i;
		memcpy(v6, "\x20\x01\x0d\xb8\x00\x01", 6);
		v6[6] = (uint8_t)(vni >> 8), v6[7] = (uint8_t)vni;
		memset(v6 + 8, 0, 4);
		v6[12] = (uint8_t)(i >> 24), v6[13] = (uint8_t)(i >> 16), v6[14] = (uint8_t)(i >> 8);
		v6[15] = (uint8_t)i;
		l[j].vni = vni;
		l[j].mac.data = m;
		l[j].mac.len = 6;
		ipd[2 * j] = (ProtobufCBinaryData){ 4, v4 };
		ipd[2 * j + 1] = (ProtobufCBinaryData){ 16, v6 };
		l[j].ips = &ipd[2 * j];
		l[j].n_ips = 2;
		lp[j] = &l[j];
	}
	r.has_full = full;
	r.full = full;
	r.entries = lp;
	r.n_entries = n;
	env.msg_case = L2F__ENVELOPE__MSG_REPORT;
	env.report = &r;
	return send_env(a, &env);
}

struct mem {
	long rss, hwm, heap, anon, other;
};

static int read_mem(int pid, struct mem *m)
{
	char path[64], line[512];
	FILE *f;
	int cls = 2;   /* of the mapping whose fields follow: 0 heap, 1 anon, 2 other */

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %ld", &m->rss);
		sscanf(line, "VmHWM: %ld", &m->hwm);
	}
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8], name[256] = "";
		long kb;
		int used = 0;

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s%n", &lo, &hi, perms, &used) == 3) {
			sscanf(line + used, " %255s", name);
			cls = strcmp(name, "[heap]") == 0 ? 0 : !name[0] ? 1 : 2;
		} else if (sscanf(line, "Rss: %ld kB", &kb) == 1) {
			if (cls == 0)
				m->heap += kb;
			else if (cls == 1)
				m->anon += kb;
			else
				m->other += kb;
		}
	}
	fclose(f);
	return 0;
}

static void print_mem(const char *phase, const struct mem *m)
{
	printf("%s_rss_kb %ld\n%s_hwm_kb %ld\n%s_heap_kb %ld\n%s_anon_kb %ld\n%s_other_kb %ld\n",
	       phase, m->rss, phase, m->hwm, phase, m->heap, phase, m->anon, phase, m->other);
}

static size_t chunk(size_t n)
{
	void *p = malloc(n);
	size_t c = malloc_usable_size(p) + sizeof(size_t);

	free(p);
	return c;
}

static int usage(void)
{
	fprintf(stderr, "usage: agentload -f ADDR:PORT -P FABRICD_PID [-a AGENTS] [-n BINDINGS] "
			"[-b BATCH] [-v VNIS] [-t TIMEOUT_S]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char addr[108] = "";
	uint64_t total = 1000000;
	size_t batch = 5000;
	int opt, pid = 0;
	int64_t timeout_ms = 150000, deadline, t_load;
	struct mem before, after;

	while ((opt = getopt(argc, argv, "f:P:a:n:b:v:t:")) != -1) {
		switch (opt) {
		case 'f': snprintf(addr, sizeof(addr), "%s", optarg); break;
		case 'P': pid = atoi(optarg); break;
		case 'a': nagents = atoi(optarg); break;
		case 'n': total = strtoull(optarg, NULL, 10); break;
		case 'b': batch = strtoul(optarg, NULL, 10); break;
		case 'v': nvnis = atoi(optarg); break;
		case 't': timeout_ms = strtoll(optarg, NULL, 10) * 1000; break;
		default: return usage();
		}
	}
	if (addr[0] != '/' || strlen(addr) >= sizeof(sa.sun_path) || pid <= 0 || nagents < 2 || nagents > MAX_AGENTS || nvnis < 1 || nvnis > 64 ||
	    batch < 1 || batch > 100000 || total < 1 || total > (1u << 24) || timeout_ms <= 0)
		return usage();
	strcpy(sa.sun_path, addr);
	for (int k = 0; k < nvnis; k++)
		vnis[k] = 1000 + (uint32_t)k;
	printf("sizeof_binding %zu\nsizeof_ipaddr %zu\nsizeof_slot %zu\n", sizeof(struct binding),
	       sizeof(struct ipaddr), sizeof(struct macmap_slot));
	printf("chunk_binding %zu\nchunk_ips2 %zu\n", chunk(sizeof(struct binding)),
	       chunk(2 * sizeof(struct ipaddr)));

	deadline = now_ms() + timeout_ms;
	for (int k = 0; k < nagents; k++)
		if (agent_connect(&agents[k], k, addr) < 0)
			return 1;
	if (pump(all_synced, deadline) < 0)
		return 1;

	L2f__Learned *l = calloc(batch, sizeof(*l));
	L2f__Learned **lp = calloc(batch, sizeof(*lp));
	ProtobufCBinaryData *ipd = calloc(2 * batch, sizeof(*ipd));
	uint8_t *raw = calloc(batch, 28);

	if (!l || !lp || !ipd || !raw)
		return 1;
	/* As vtepd after its Hello: the full table of what it learned, nothing yet. */
	for (int k = 0; k < nagents; k++)
		if (send_report(&agents[k], 0, 0, true, l, lp, ipd, raw) < 0)
			return 1;
	for (int k = 0; k < nagents; k++)
		agents[k].want = agents[k].adds;
	pump(never, now_ms() + 300);   /* whatever the new agents' Hellos caused, settled */
	for (int k = 0; k < nagents; k++)
		agents[k].want = agents[k].adds;
	if (read_mem(pid, &before) < 0) {
		fprintf(stderr, "agentload: cannot read /proc/%d\n", pid);
		return 1;
	}

	t_load = now_ms();
	for (uint64_t first = 0, j = 0; first < total; first += batch, j++) {
		size_t n = total - first < batch ? (size_t)(total - first) : batch;
		struct agent *a = &agents[j % (uint64_t)nagents];

		if (send_report(a, first, n, false, l, lp, ipd, raw) < 0)
			return 1;
		/* fabricd pushes each new binding to every agent of its segment: the others get
		 * its VTEP and addresses, the reporter its addresses (suppression neighbours). */
		for (int k = 0; k < nagents; k++)
			agents[k].want += n;
		if (pump(all_caught_up, deadline) < 0)
			return 1;
	}
	t_load = now_ms() - t_load;
	pump(never, now_ms() + 300);
	if (read_mem(pid, &after) < 0)
		return 1;

	uint64_t adds = 0;

	for (int k = 0; k < nagents; k++)
		adds += agents[k].adds;
	print_mem("before", &before);
	print_mem("after", &after);
	printf("bindings %" PRIu64 "\nload_ms %" PRId64 "\nadds_received %" PRIu64 "\n", total,
	       t_load, adds);
	for (int k = 0; k < nagents; k++)
		tpeer_close(&agents[k].p);
	return 0;
}
