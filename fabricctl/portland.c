/*
 * portland.c - `fabricctl topo [--json]` and `fabricctl hosts [--json]`: the PortLand fabric
 * as fabricd knows it (docs/switchd.md).
 *   topo   every switch that reported: level, pod, position, located or why not, its ports
 *          and their direction; the links between switches (each port's LDM neighbour); the
 *          miswirings the switches found
 *   hosts  every host an edge registered: IP, its own MAC (AMAC), its PMAC, edge and port,
 *          and its moves (migration): how many, and the last one's edge, PMAC and age
 *   switch status  one switchd, on its control socket (-s): its location, ports,
 *          counters (LDP, proxy ARP/ND, the data plane's verdicts and map entries), hosts
 * --json is the typed reply (SwitchLocation, HostBinding, SwitchStatus) by pbjson.c.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "addr.h"
#include "fabricctl.h"
#include "paths.h"
#include "pbjson.h"

static const char *level_name(int l)
{
	static const char *const names[] = { "unknown", "edge", "aggregation", "core" };

	return l >= 0 && l <= 3 ? names[l] : "?";
}

static const char *dir_name(int d)
{
	static const char *const names[] = { "unknown", "up", "down", "host", "disconnected" };

	return d >= 0 && d <= 4 ? names[d] : "?";
}

/* The name of the switch whose id is b, among the reply's. */
static const char *switch_named(const L2f__Reply *r, const ProtobufCBinaryData *b)
{
	for (size_t i = 0; i < r->n_switches; i++)
		if (r->switches[i]->switch_id.len == b->len &&
		    !memcmp(r->switches[i]->switch_id.data, b->data, b->len))
			return r->switches[i]->name ? r->switches[i]->name : "?";
	return NULL;
}

static void num_or_dash(bool has, uint32_t v)
{
	if (has)
		printf(" %5u", v);
	else
		printf(" %5s", "-");
}

static void print_topo(const L2f__Reply *r)
{
	char mac[MAC_STRLEN];
	size_t nmis = 0;

	printf("%-16s %-17s %-12s %5s %5s %-9s %s\n", "SWITCH", "ID", "LEVEL", "POD", "POS",
	       "SESSION", "STATE");
	for (size_t i = 0; i < r->n_switches; i++) {
		const L2f__SwitchLocation *l = r->switches[i];

		printf("%-16s %-17s %-12s", l->name ? l->name : "-", pb_mac_text(&l->switch_id, mac),
		       level_name(l->level));
		num_or_dash(l->has_pod, l->pod);
		num_or_dash(l->has_position, l->position);
		printf(" %-9s %s%s%s\n", l->connected ? "up" : "down",
		       l->located ? "located" : "NOT LOCATED", l->why ? ": " : "",
		       l->why ? l->why : "");
		nmis += l->n_miswirings;
	}
	printf("\n%-16s %4s %-12s %-16s %s\n", "SWITCH", "PORT", "DIRECTION", "NEIGHBOUR", "PORT");
	for (size_t i = 0; i < r->n_switches; i++) {
		const L2f__SwitchLocation *l = r->switches[i];

		for (size_t k = 0; k < l->n_ports; k++) {
			const L2f__SwitchPort *p = l->ports[k];
			const char *peer = p->has_peer_id ? switch_named(r, &p->peer_id) : NULL;

			printf("%-16s %4u %-12s ", l->name ? l->name : "-", p->port, dir_name(p->dir));
			if (p->has_peer_id)
				printf("%-16s %u%s\n", peer ? peer : pb_mac_text(&p->peer_id, mac),
				       p->peer_port, !p->lost ? "" : p->down ? "  (lost: carrier)" : "  (lost: no LDM)");
			else
				printf("%-16s %s\n", "-", "-");
		}
	}
	printf("\nmiswirings: %zu\n", nmis);
	for (size_t i = 0; i < r->n_switches; i++) {
		const L2f__SwitchLocation *l = r->switches[i];

		for (size_t k = 0; k < l->n_miswirings; k++) {
			const L2f__Miswiring *m = l->miswirings[k];
			const char *peer = m->has_peer_id ? switch_named(r, &m->peer_id) : NULL;

			printf("  %s port %u: %s", l->name ? l->name : "-", m->port, m->reason);
			if (m->has_peer_id)
				printf(" (neighbour %s)", peer ? peer : pb_mac_text(&m->peer_id, mac));
			printf("\n");
		}
	}
}

static int topo_page(const L2f__Reply *r, bool first, void *ctx)
{
	const struct fabricctl_opts *o = ctx;

	if (o->json) {
		bool none = true;

		for (size_t i = 0; i < r->n_switches; i++)
			pbjson_element(pbjson(&r->switches[i]->base), &none);
		pbjson_end(none);
	} else {
		print_topo(r);
	}
	return 0;
}

int cmd_topo(const struct fabricctl_opts *o, int argc, char **argv)
{
	L2f__Request q = L2F__REQUEST__INIT;

	if (argc) {
		fprintf(stderr, "usage: fabricctl topo [--json]\n");
		return 2;
	}
	q.op_case = L2F__REQUEST__OP_TOPO;
	q.topo = true;
	return fabricctl_call(o, FABRICD_SOCKET, &q, topo_page, (void *)o);
}

/* The fault matrix: the links whose LDMs stopped or whose carrier went, one line per switch
 * that says so (a link dead both ways is reported by both ends), and what fabricd told each
 * switch to avoid for which destinations because of them. */
static int faults_page(const L2f__Reply *r, bool first, void *ctx)
{
	const struct fabricctl_opts *o = ctx;
	char mac[MAC_STRLEN], when[32];
	size_t n = 0;

	if (o->json) {
		/* each reporting switch, with its lost ports only */
		L2f__SwitchPort *lost[256];
		bool none = true;

		for (size_t i = 0; i < r->n_switches; i++) {
			L2f__SwitchLocation l = *r->switches[i];

			l.n_ports = 0;
			l.ports = lost;
			for (size_t k = 0; k < r->switches[i]->n_ports && l.n_ports < 256; k++)
				if (r->switches[i]->ports[k]->lost)
					lost[l.n_ports++] = r->switches[i]->ports[k];
			l.n_miswirings = 0;
			if (l.n_ports || l.n_avoid)
				pbjson_element(pbjson(&l.base), &none);
		}
		pbjson_end(none);
		return 0;
	}
	printf("%-16s %4s %-16s %4s  %-8s %s\n", "REPORTED BY", "PORT", "NEIGHBOUR", "PORT", "HOW",
	       "LOST SINCE");
	for (size_t i = 0; i < r->n_switches; i++) {
		const L2f__SwitchLocation *l = r->switches[i];

		for (size_t k = 0; k < l->n_ports; k++) {
			const L2f__SwitchPort *p = l->ports[k];
			const char *peer;
			time_t t;

			if (!p->lost || !p->has_peer_id)
				continue;
			peer = switch_named(r, &p->peer_id);
			t = (time_t)(p->lost_since_ms / 1000);
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&t));
			printf("%-16s %4u %-16s %4u  %-8s %s.%03u\n", l->name ? l->name : "-", p->port,
			       peer ? peer : pb_mac_text(&p->peer_id, mac), p->peer_port,
			       p->down ? "carrier" : "no LDM", when, (unsigned)(p->lost_since_ms % 1000));
			n++;
		}
	}
	printf("\nlinks lost: %zu report(s)\n", n);
	n = 0;
	printf("\n%-16s %-22s %s\n", "SWITCH", "TO (POD.POSITION)", "AVOIDS");
	for (size_t i = 0; i < r->n_switches; i++) {
		const L2f__SwitchLocation *l = r->switches[i];

		for (size_t k = 0; k < l->n_avoid; k++) {
			const L2f__UplinkAvoid *a = l->avoid[k];
			char dest[24];

			if (a->has_position)
				snprintf(dest, sizeof(dest), "%u.%u", a->pod, a->position);
			else
				snprintf(dest, sizeof(dest), "%u.* (the pod)", a->pod);
			printf("%-16s %-22s", l->name ? l->name : "-", dest);
			for (size_t j = 0; j < a->n_avoid; j++) {
				const char *peer = switch_named(r, &a->avoid[j]);

				printf(" %s", peer ? peer : pb_mac_text(&a->avoid[j], mac));
			}
			printf("\n");
			n++;
		}
	}
	printf("\nrouted around: %zu entr%s\n", n, n == 1 ? "y" : "ies");
	return 0;
}

int cmd_faults(const struct fabricctl_opts *o, int argc, char **argv)
{
	L2f__Request q = L2F__REQUEST__INIT;

	if (argc) {
		fprintf(stderr, "usage: fabricctl faults [--json]\n");
		return 2;
	}
	q.op_case = L2F__REQUEST__OP_TOPO;
	q.topo = true;
	return fabricctl_call(o, FABRICD_SOCKET, &q, faults_page, (void *)o);
}

struct hosts_out {
	bool json, none;
};

static int hosts_page(const L2f__Reply *r, bool first, void *ctx)
{
	struct hosts_out *h = ctx;
	char ip[IPADDR_STRLEN], amac[MAC_STRLEN], pmac[MAC_STRLEN];

	char from[MAC_STRLEN];

	if (first && !h->json)
		printf("%-40s %-17s %-17s %-16s %-4s %-5s %s\n", "IP", "AMAC", "PMAC", "EDGE", "PORT",
		       "MOVES", "LAST MOVE (FROM EDGE, PMAC, WHEN)");
	for (size_t i = 0; i < r->n_pl_hosts; i++) {
		const L2f__HostBinding *b = r->pl_hosts[i];

		if (h->json) {
			pbjson_element(pbjson(&b->base), &h->none);
			continue;
		}
		printf("%-40s %-17s %-17s %-16s %-4u %-5u", pb_addr_text(&b->ip, ip),
		       pb_mac_text(&b->amac, amac), pb_mac_text(&b->pmac, pmac),
		       b->edge ? b->edge : "-", b->port, b->has_moves ? b->moves : 0);
		if (b->has_moves && b->moves) {
			time_t t = (time_t)(b->moved_at_ms / 1000);
			char when[32];

			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&t));
			printf(" %s %s %s.%03u", b->moved_from ? b->moved_from : "-",
			       b->has_moved_from_pmac ? pb_mac_text(&b->moved_from_pmac, from) : "-",
			       when, (unsigned)(b->moved_at_ms % 1000));
		}
		printf("\n");
	}
	return 0;
}

int cmd_hosts(const struct fabricctl_opts *o, int argc, char **argv)
{
	L2f__Request q = L2F__REQUEST__INIT;
	struct hosts_out h = { o->json, true };
	int ret;

	if (argc) {
		fprintf(stderr, "usage: fabricctl hosts [--json]\n");
		return 2;
	}
	q.op_case = L2F__REQUEST__OP_PL_HOSTS;
	q.pl_hosts = true;
	ret = fabricctl_call(o, FABRICD_SOCKET, &q, hosts_page, &h);
	if (!ret && o->json)
		pbjson_end(h.none);
	return ret;
}

static int switch_page(const L2f__Reply *r, bool first, void *ctx)
{
	const struct fabricctl_opts *o = ctx;
	const L2f__SwitchStatus *st = r->switch_status;
	L2f__Reply one = L2F__REPLY__INIT;
	L2f__SwitchLocation copy, *l = &copy;
	char ip[IPADDR_STRLEN], amac[MAC_STRLEN], pmac[MAC_STRLEN];

	if (!st) {
		fprintf(stderr, "fabricctl: the reply holds no switch status (not switchd's socket?)\n");
		return 1;
	}
	if (o->json) {
		pbjson_print(&st->base);
		return 0;
	}
	copy = *st->location;           /* named and marked connected for print_topo only */
	printf("switch %s  fabricd %s: %s%s%s  (control interface %s)\n\n", st->id, st->fabricd,
	       st->fabricd_connected ? "connected" : "not connected",
	       st->fabricd_last_error ? "; last error: " : "",
	       st->fabricd_last_error ? st->fabricd_last_error : "",
	       st->control_interface ? st->control_interface : "-");
	one.switches = &l;
	one.n_switches = 1;
	l->name = st->id;
	l->has_connected = true;
	l->connected = st->fabricd_connected;
	print_topo(&one);
	printf("\n%-8s %14s %16s   (what the data plane sent out of each port)\n", "PORT",
	       "TX FRAMES", "TX BYTES");
	for (size_t i = 0; i < st->location->n_ports; i++) {
		const L2f__SwitchPort *p = st->location->ports[i];

		if (p->has_tx_frames)
			printf("%-8s %14llu %16llu\n", p->name ? p->name : "?",
			       (unsigned long long)p->tx_frames, (unsigned long long)p->tx_bytes);
	}
	printf("\ncounters\n");
	for (size_t i = 0; i < st->n_counters; i++)
		printf("  %-36s %llu\n", st->counters[i]->name,
		       (unsigned long long)st->counters[i]->value);
	if (st->n_hosts)
		printf("\n%-40s %-17s %-17s %s\n", "HOST", "AMAC", "PMAC", "PORT");
	for (size_t i = 0; i < st->n_hosts; i++)
		printf("%-40s %-17s %-17s %u\n", pb_addr_text(&st->hosts[i]->ip, ip),
		       pb_mac_text(&st->hosts[i]->amac, amac), pb_mac_text(&st->hosts[i]->pmac, pmac),
		       st->hosts[i]->port);
	return 0;
}

int cmd_switch(const struct fabricctl_opts *o, int argc, char **argv)
{
	L2f__Request q = L2F__REQUEST__INIT;

	if (argc != 1 || strcmp(argv[0], "status")) {
		fprintf(stderr, "usage: fabricctl [-s SOCKET] switch status [--json]\n");
		return 2;
	}
	q.op_case = L2F__REQUEST__OP_SWITCH_STATUS;
	q.switch_status = true;
	return fabricctl_call(o, SWITCHD_SOCKET, &q, switch_page, (void *)o);
}
