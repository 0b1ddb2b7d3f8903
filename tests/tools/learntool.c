/*
 * learntool.c - runs vtepd's local learner (vtepd/learn.h) on some bridges and prints what it
 * reports, for the netns test:
 *   learntool VNI:BRIDGE [VNI:BRIDGE...] [--seconds N]
 * The VXLAN device of a segment is vx<VNI> when it exists. One line per event on stdout,
 * flushed at once:
 *   changed VNI MAC IP,IP,...     ("-" when the MAC has no address yet)
 *   gone VNI MAC
 * Once every segment is watched (and its current MACs printed), stderr says
 *   ready
 * After N seconds (default 10), or on SIGINT/SIGTERM, the counters go to stderr as
 *   stats fdb_events=N frames=N dropped=N foreign=N macs=N [REASON=N...]
 * and the tool exits 0.
 */
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "learn.h"
#include "log.h"

#define MAX_SEGMENTS 64

static void on_changed(void *ctx, const struct local_mac *m)
{
	char mac[MAC_STRLEN], ip[IPADDR_STRLEN];

	printf("changed %" PRIu32 " %s ", m->vni, mac_fmt(&m->mac, mac));
	if (!m->nips)
		fputs("-", stdout);
	for (size_t i = 0; i < m->nips; i++)
		printf("%s%s", i ? "," : "", ipaddr_fmt(&m->ips[i], ip));
	putchar('\n');
	fflush(stdout);
}

static void on_gone(void *ctx, uint32_t vni, const struct mac *m)
{
	char mac[MAC_STRLEN];

	printf("gone %" PRIu32 " %s\n", vni, mac_fmt(m, mac));
	fflush(stdout);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopexit(arg, NULL);
}

static int usage(void)
{
	fprintf(stderr, "usage: learntool VNI:BRIDGE [VNI:BRIDGE...] [--seconds N]\n");
	return 2;
}

static void print_stats(const struct learner *l)
{
	struct learn_stats st;

	learner_stats(l, &st);
	fprintf(stderr, "stats fdb_events=%" PRIu64 " frames=%" PRIu64 " dropped=%" PRIu64
		" foreign=%" PRIu64 " macs=%" PRIu64, st.fdb_events, st.frames,
		st.frames_dropped, st.frames_foreign, st.macs);
	for (int i = 1; i < PKT_DROP_COUNT; i++)
		if (st.drops[i])
			fprintf(stderr, " %s=%" PRIu64, pkt_drop_name(i), st.drops[i]);
	fputc('\n', stderr);
}

int main(int argc, char **argv)
{
	static const struct learn_ops ops = { .changed = on_changed, .gone = on_gone };
	struct { uint32_t vni; char *bridge; } segs[MAX_SEGMENTS];
	struct event *stop, *sigs[2];
	struct timeval tv = { .tv_sec = 10 };
	struct event_base *base;
	struct learner *l;
	int nsegs = 0, ret;

	for (int i = 1; i < argc; i++) {
		char *colon, *end;
		unsigned long v;

		if (strcmp(argv[i], "--seconds") == 0) {
			if (++i == argc)
				return usage();
			v = strtoul(argv[i], &end, 10);
			if (*end || end == argv[i] || v == 0 || v > 86400)
				return usage();
			tv.tv_sec = (time_t)v;
			continue;
		}
		colon = strchr(argv[i], ':');
		if (!colon || nsegs == MAX_SEGMENTS)
			return usage();
		*colon = '\0';
		errno = 0;
		v = strtoul(argv[i], &end, 10);
		if (errno || *end || end == argv[i] || v == 0 || v >= (1ul << 24) || !colon[1])
			return usage();
		segs[nsegs].vni = (uint32_t)v;
		segs[nsegs].bridge = colon + 1;
		nsegs++;
	}
	if (!nsegs)
		return usage();

	log_init("learntool", LOG_LVL_INFO);
	base = event_base_new();
	if (!base) {
		fprintf(stderr, "learntool: cannot create the event loop\n");
		return 1;
	}
	l = learner_new(base, &ops, NULL, &ret);
	if (!l) {
		fprintf(stderr, "learntool: learner: %s\n", strerror(-ret));
		return 1;
	}
	for (int i = 0; i < nsegs; i++) {
		char vx[IF_NAMESIZE];
		int br = (int)if_nametoindex(segs[i].bridge);

		if (!br) {
			fprintf(stderr, "learntool: %s: %s\n", segs[i].bridge, strerror(errno));
			return 1;
		}
		snprintf(vx, sizeof(vx), "vx%" PRIu32, segs[i].vni);
		ret = learner_add_segment(l, segs[i].vni, segs[i].bridge, br,
					  (int)if_nametoindex(vx));
		if (ret < 0) {
			fprintf(stderr, "learntool: vni %" PRIu32 " on %s: %s\n", segs[i].vni,
				segs[i].bridge, strerror(-ret));
			return 1;
		}
	}
	fputs("ready\n", stderr);
	stop = evtimer_new(base, on_stop, base);
	evtimer_add(stop, &tv);
	sigs[0] = evsignal_new(base, SIGINT, on_stop, base);
	sigs[1] = evsignal_new(base, SIGTERM, on_stop, base);
	event_add(sigs[0], NULL);
	event_add(sigs[1], NULL);
	event_base_dispatch(base);

	print_stats(l);
	learner_free(l);
	event_free(stop);
	event_free(sigs[0]);
	event_free(sigs[1]);
	event_base_free(base);
	return 0;
}
