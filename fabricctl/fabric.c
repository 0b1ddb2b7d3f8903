/*
 * fabric.c - fabricctl's commands for fabricd: ports (as an orchestrator creates them),
 * hosts (agents, their VTEPs and sessions), and the FDB fabricd wants a host's agent to hold.
 *
 *   fabricctl port add --vni N --mac MAC --host H [--host H2 ...] [--ip A ...]
 *                      [--mode track|flood] [--name NAME]
 *   fabricctl port del --vni N --mac MAC
 *   fabricctl port list
 *   fabricctl port master --vni N --mac MAC --host H
 *   fabricctl host [list]
 *   fabricctl fdb HOST
 * Every command takes --json; -s names fabricd's socket.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "fabricctl.h"
#include "pbjson.h"
#include "wire.h"

#include "paths.h"

/* A page of a reply, to the command's printer; errors end the call. */
struct call_ctx {
	int (*page)(const L2f__Reply *r, bool first, void *ctx);
	void *ctx;
	bool first;
	bool failed;                   /* fabricd answered with an error (printed) */
};

static int call_page(const L2f__Reply *r, void *arg)
{
	struct call_ctx *c = arg;
	int ret;

	if (r->error) {
		fprintf(stderr, "fabricctl: %s\n", r->error);
		c->failed = true;
		return 1;
	}
	ret = c->page(r, c->first, c->ctx);
	c->first = false;
	return ret;
}

/* Sends one request and hands each page of the reply to page(); 0, or the exit code after
 * printing why (1: fabricd refused or could not be reached). */
static int call(const struct fabricctl_opts *o, L2f__Request *q,
		int (*page)(const L2f__Reply *r, bool first, void *ctx), void *ctx)
{
	return fabricctl_call(o, FABRICD_SOCKET, q, page, ctx);
}

int fabricctl_call(const struct fabricctl_opts *o, const char *default_socket, L2f__Request *q,
		   int (*page)(const L2f__Reply *r, bool first, void *ctx), void *ctx)
{
	const char *sock = o->socket ? o->socket : default_socket;
	L2f__Envelope env = L2F__ENVELOPE__INIT;
	struct call_ctx c = { page, ctx, true, false };
	struct wire_tls *tls = NULL;
	const char *why = NULL;
	int err;

	err = fabricctl_tls(o, &tls);
	if (err)
		return err;
	env.msg_case = L2F__ENVELOPE__MSG_REQUEST;
	env.request = q;
	err = wire_call(sock, tls, &env, call_page, &c, 5000, &why);
	wire_tls_free(tls);
	if (err) {
		fprintf(stderr, "fabricctl: %s: %s\n", sock, why ? why : strerror(-err));
		return 1;
	}
	return c.failed ? 1 : 0;
}

static json_object *addr_list(const ProtobufCBinaryData *a, size_t n)
{
	json_object *arr = json_object_new_array();
	char buf[IPADDR_STRLEN];

	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(pb_addr_text(&a[i], buf)));
	return arr;
}

/* The i-th entry of a list as text (buf: IPADDR_STRLEN bytes, if the entry needs it). */
typedef const char *(*item_fn)(const void *list, size_t i, char *buf);

static const char *addr_item(const void *list, size_t i, char *buf)
{
	return pb_addr_text(&((const ProtobufCBinaryData *)list)[i], buf);
}

static const char *host_item(const void *list, size_t i, char *buf)
{
	return ((char *const *)list)[i];
}

static const char *vni_item(const void *list, size_t i, char *buf)
{
	snprintf(buf, IPADDR_STRLEN, "%u", ((const uint32_t *)list)[i]);
	return buf;
}

/* Prints a table column holding a list: every entry, joined by commas ("-" for none), padded
 * to width. A list longer than its column makes a longer row: a table shows the lists of a
 * reply whole, as the JSON output does. */
static void put_list(const void *list, size_t n, item_fn item, int width)
{
	char buf[IPADDR_STRLEN];
	int used = 0;

	for (size_t i = 0; i < n; i++)
		used += printf("%s%s", i ? "," : "", item(list, i, buf));
	if (!n)
		used += printf("-");
	if (used < width)
		printf("%*s", width - used, "");
}

/* --- port ------------------------------------------------------------------------------- */

struct port_args {
	uint32_t vni;
	bool has_vni;
	struct mac mac;
	bool has_mac;
	struct ipaddr ips[WIRE_MAX_IPS];
	size_t nips;
	char *hosts[WIRE_MAX_PORT_HOSTS];
	size_t nhosts;
	int mode;                      /* -1 unset */
	const char *name;
};

/* A port's MAC names one station: not the all-zero MAC (the VXLAN flood entry: a port with it
 * would put its host in, or take it out of, every flood list), no group address. */
static int parse_mac(const char *val, struct port_args *a)
{
	const char *why_not;

	if (mac_parse(val, &a->mac) < 0) {
		fprintf(stderr, "fabricctl: --mac %s: not a MAC (xx:xx:xx:xx:xx:xx)\n", val);
		return -EINVAL;
	}
	why_not = mac_port_why_not(&a->mac);
	if (why_not) {
		fprintf(stderr, "fabricctl: --mac %s: %s cannot be a port's address\n", val,
			why_not);
		return -EINVAL;
	}
	a->has_mac = true;
	return 0;
}

/* A port's addresses are a host's (lib/addr: ipaddr_is_host), each once, at most
 * WIRE_MAX_IPS: refused here rather than by fabricd or the validator, with the value named. */
static int parse_ip(const char *val, struct port_args *a)
{
	struct ipaddr ip;
	const char *why_not;

	if (ipaddr_parse(val, &ip) < 0) {
		fprintf(stderr, "fabricctl: --ip %s: not an address\n", val);
		return -EINVAL;
	}
	why_not = ipaddr_host_why_not(&ip);
	if (why_not) {
		fprintf(stderr, "fabricctl: --ip %s: %s cannot be a port's address\n", val,
			why_not);
		return -EINVAL;
	}
	for (size_t i = 0; i < a->nips; i++) {
		if (ipaddr_eq(&a->ips[i], &ip)) {
			fprintf(stderr, "fabricctl: --ip %s: given twice\n", val);
			return -EINVAL;
		}
	}
	if (a->nips == WIRE_MAX_IPS) {
		fprintf(stderr, "fabricctl: --ip %s: a port has at most %d addresses\n", val,
			WIRE_MAX_IPS);
		return -EINVAL;
	}
	a->ips[a->nips++] = ip;
	return 0;
}

static int parse_host(const char *val, struct port_args *a)
{
	if (!*val || strlen(val) > WIRE_ID_MAX) {
		fprintf(stderr, "fabricctl: --host %s: 1-%d characters\n", val, WIRE_ID_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < a->nhosts; i++) {
		if (strcmp(a->hosts[i], val) == 0) {
			fprintf(stderr, "fabricctl: --host %s: given twice\n", val);
			return -EINVAL;
		}
	}
	if (a->nhosts == WIRE_MAX_PORT_HOSTS) {
		fprintf(stderr, "fabricctl: --host %s: a port has at most %d hosts\n", val,
			WIRE_MAX_PORT_HOSTS);
		return -EINVAL;
	}
	a->hosts[a->nhosts++] = (char *)val;
	return 0;
}

static int parse_vni(const char *val, struct port_args *a)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || *end || v < 1 || v > VNI_MAX) {
		fprintf(stderr, "fabricctl: --vni %s: 1 to %u\n", val, VNI_MAX);
		return -EINVAL;
	}
	a->vni = (uint32_t)v;
	a->has_vni = true;
	return 0;
}

static int parse_mode(const char *val, struct port_args *a)
{
	if (strcmp(val, "track") && strcmp(val, "flood")) {
		fprintf(stderr, "fabricctl: --mode is track or flood\n");
		return -EINVAL;
	}
	a->mode = strcmp(val, "flood") == 0;
	return 0;
}

static int parse_port_arg(const char *k, const char *val, struct port_args *a)
{
	if (strcmp(k, "--vni") == 0)
		return parse_vni(val, a);
	if (strcmp(k, "--mac") == 0)
		return parse_mac(val, a);
	if (strcmp(k, "--ip") == 0)
		return parse_ip(val, a);
	if (strcmp(k, "--host") == 0)
		return parse_host(val, a);
	if (strcmp(k, "--mode") == 0)
		return parse_mode(val, a);
	if (strcmp(k, "--name") == 0) {
		a->name = val;
		return 0;
	}
	fprintf(stderr, "fabricctl: unknown option %s\n", k);
	return -EINVAL;
}

static int parse_port_args(int argc, char **argv, struct port_args *a)
{
	a->mode = -1;
	for (int i = 0; i < argc; i += 2) {
		int ret;

		if (i + 1 == argc) {
			fprintf(stderr, "fabricctl: %s needs a value\n", argv[i]);
			return -EINVAL;
		}
		ret = parse_port_arg(argv[i], argv[i + 1], a);
		if (ret < 0)
			return ret;
	}
	if (!a->has_vni || !a->has_mac) {
		fprintf(stderr, "fabricctl: --vni and --mac are required\n");
		return -EINVAL;
	}
	return 0;
}

static json_object *port_json(const L2f__Port *p)
{
	json_object *o = json_object_new_object(), *hosts = json_object_new_array();
	char buf[MAC_STRLEN];

	json_object_object_add(o, "vni", json_object_new_int64(p->vni));
	json_object_object_add(o, "mac", json_object_new_string(pb_mac_text(&p->mac, buf)));
	json_object_object_add(o, "name", p->name ? json_object_new_string(p->name) : NULL);
	json_object_object_add(o, "ips", addr_list(p->ips, p->n_ips));
	for (size_t i = 0; i < p->n_hosts; i++)
		json_object_array_add(hosts, json_object_new_string(p->hosts[i]));
	json_object_object_add(o, "hosts", hosts);
	json_object_object_add(o, "mode", p->n_hosts > 1 ? json_object_new_string(
		p->mode == L2F__HA_MODE__HA_FLOOD ? "flood" : "track") : NULL);
	json_object_object_add(o, "master", p->master ? json_object_new_string(p->master) : NULL);
	json_object_object_add(o, "seq", json_object_new_uint64(p->seq));
	json_object_object_add(o, "duplicate", json_object_new_boolean(p->duplicate));
	json_object_object_add(o, "learned", json_object_new_boolean(p->learned));
	return o;
}

struct ports_out {
	bool json;
	bool none;                     /* no JSON element printed yet */
};

static int print_ports(const L2f__Reply *r, bool first, void *arg)
{
	struct ports_out *po = arg;

	if (po->json) {
		for (size_t i = 0; i < r->n_ports; i++)
			pbjson_element(port_json(r->ports[i]), &po->none);
		return 0;
	}
	if (first)
		printf("%-8s %-17s %-12s %-22s %-6s %-8s %6s %-8s %s\n", "VNI", "MAC", "NAME",
		       "HOSTS", "MODE", "MASTER", "SEQ", "SOURCE", "ADDRESSES");
	for (size_t i = 0; i < r->n_ports; i++) {
		const L2f__Port *p = r->ports[i];
		char mac[MAC_STRLEN];

		printf("%-8u %-17s %-12s ", p->vni, pb_mac_text(&p->mac, mac),
		       p->name ? p->name : "-");
		put_list(p->hosts, p->n_hosts, host_item, 22);
		printf(" %-6s %-8s %6llu %-8s ",
		       p->n_hosts > 1 ? (p->mode == L2F__HA_MODE__HA_FLOOD ? "flood" : "track") : "-",
		       p->master ? p->master : "-", (unsigned long long)p->seq,
		       p->duplicate ? "DUP" : p->learned ? "learned" : "api");
		put_list(p->ips, p->n_ips, addr_item, 0);
		printf("\n");
	}
	return 0;
}

static int ignore_page(const L2f__Reply *r, bool first, void *arg)
{
	return 0;
}

int cmd_port(const struct fabricctl_opts *o, int argc, char **argv)
{
	L2f__Request q = L2F__REQUEST__INIT;
	L2f__Port p = L2F__PORT__INIT;
	L2f__Master m = L2F__MASTER__INIT;
	ProtobufCBinaryData ips[WIRE_MAX_IPS];
	struct port_args a = { 0 };
	struct ports_out po = { o->json, true };
	const char *verb = argc ? argv[0] : "list";
	bool print;
	int ret;

	if (strcmp(verb, "list") == 0) {
		q.op_case = L2F__REQUEST__OP_PORT_LIST;
		q.port_list = true;
	} else if (strcmp(verb, "add") == 0 || strcmp(verb, "del") == 0 ||
		   strcmp(verb, "master") == 0) {
		if (parse_port_args(argc - 1, argv + 1, &a) < 0)
			return 2;
		p.vni = m.vni = a.vni;
		p.mac.data = m.mac.data = a.mac.b;
		p.mac.len = m.mac.len = MAC_LEN;
		if (verb[0] == 'a') {
			if (!a.nhosts) {
				fprintf(stderr, "fabricctl: port add needs --host\n");
				return 2;
			}
			for (size_t i = 0; i < a.nips; i++) {
				ips[i].data = a.ips[i].b;
				ips[i].len = ipaddr_len(&a.ips[i]);
			}
			p.ips = ips;
			p.n_ips = a.nips;
			p.hosts = a.hosts;
			p.n_hosts = a.nhosts;
			p.has_mode = a.mode >= 0;
			p.mode = a.mode == 1 ? L2F__HA_MODE__HA_FLOOD : L2F__HA_MODE__HA_TRACK;
			p.name = (char *)a.name;
			q.op_case = L2F__REQUEST__OP_PORT_ADD;
			q.port_add = &p;
		} else if (verb[0] == 'd') {
			q.op_case = L2F__REQUEST__OP_PORT_DEL;
			q.port_del = &p;
		} else {
			if (a.nhosts != 1) {
				fprintf(stderr, "fabricctl: port master needs one --host\n");
				return 2;
			}
			m.host = a.hosts[0];
			q.op_case = L2F__REQUEST__OP_PORT_MASTER;
			q.port_master = &m;
		}
	} else {
		fprintf(stderr, "fabricctl: port add|del|list|master\n");
		return 2;
	}
	print = q.op_case == L2F__REQUEST__OP_PORT_LIST || q.op_case == L2F__REQUEST__OP_PORT_ADD;
	ret = call(o, &q, print ? print_ports : ignore_page, &po);
	if (!ret && print && o->json)
		pbjson_end(po.none);
	return ret;
}

/* --- host -------------------------------------------------------------------------------- */

static json_object *host_json(const L2f__Host *h)
{
	json_object *ho = json_object_new_object(), *vnis = json_object_new_array();
	char buf[IPADDR_STRLEN];

	json_object_object_add(ho, "id", json_object_new_string(h->id));
	json_object_object_add(ho, "vtep", h->has_vtep ?
			       json_object_new_string(pb_addr_text(&h->vtep, buf)) : NULL);
	json_object_object_add(ho, "connected", json_object_new_boolean(h->connected));
	for (size_t k = 0; k < h->n_vnis; k++)
		json_object_array_add(vnis, json_object_new_int64(h->vnis[k]));
	json_object_object_add(ho, "vnis", vnis);
	json_object_object_add(ho, "connected_for_ms", h->has_connected_for_ms ?
			       json_object_new_uint64(h->connected_for_ms) : NULL);
	return ho;
}

static int print_hosts(const L2f__Reply *r, bool first, void *arg)
{
	struct ports_out *po = arg;

	if (po->json) {
		for (size_t i = 0; i < r->n_hosts; i++)
			pbjson_element(host_json(r->hosts[i]), &po->none);
		return 0;
	}
	if (first)
		printf("%-16s %-26s %-10s %-12s %s\n", "HOST", "VTEP", "SESSION", "UP FOR",
		       "SEGMENTS");
	for (size_t i = 0; i < r->n_hosts; i++) {
		const L2f__Host *h = r->hosts[i];
		char buf[IPADDR_STRLEN], up[32] = "-";

		if (h->has_connected_for_ms)
			snprintf(up, sizeof(up), "%.1fs", h->connected_for_ms / 1000.0);
		printf("%-16s %-26s %-10s %-12s ", h->id,
		       h->has_vtep ? pb_addr_text(&h->vtep, buf) : "-",
		       h->connected ? "up" : "down", up);
		put_list(h->vnis, h->n_vnis, vni_item, 0);
		printf("\n");
	}
	return 0;
}

int cmd_host(const struct fabricctl_opts *o, int argc, char **argv)
{
	L2f__Request q = L2F__REQUEST__INIT;
	struct ports_out po = { o->json, true };
	int ret;

	if (argc > 1 || (argc == 1 && strcmp(argv[0], "list") != 0)) {
		fprintf(stderr, "fabricctl: host [list]\n");
		return 2;
	}
	q.op_case = L2F__REQUEST__OP_HOST_LIST;
	q.host_list = true;
	ret = call(o, &q, print_hosts, &po);
	if (!ret && o->json)
		pbjson_end(po.none);
	return ret;
}

/* --- fdb --------------------------------------------------------------------------------- */

static json_object *flood_json(const L2f__Flood *fl)
{
	json_object *f = json_object_new_object();

	json_object_object_add(f, "vni", json_object_new_int64(fl->vni));
	json_object_object_add(f, "vteps", addr_list(fl->vteps, fl->n_vteps));
	return f;
}

static json_object *fdb_json(const L2f__Fdb *e)
{
	json_object *f = json_object_new_object();
	char mac[MAC_STRLEN];

	json_object_object_add(f, "vni", json_object_new_int64(e->vni));
	json_object_object_add(f, "mac", json_object_new_string(pb_mac_text(&e->mac, mac)));
	json_object_object_add(f, "vteps", addr_list(e->vteps, e->n_vteps));
	json_object_object_add(f, "ips", addr_list(e->ips, e->n_ips));
	json_object_object_add(f, "seq", json_object_new_uint64(e->seq));
	/* An HA port in flood mode: no unicast entry; vteps are its other hosts. */
	json_object_object_add(f, "ha_flood", json_object_new_boolean(e->has_flood && e->flood));
	return f;
}

/* {"host": H, "flood": [...], "fdb": [...]}, page by page: flood lists come first. */
struct fdb_out {
	bool json;
	const char *host;
	int part;                      /* 0 nothing yet, 1 in "flood", 2 in "fdb" */
	bool none;                     /* no element in the current list yet */
};

static void fdb_part(struct fdb_out *fo, int part)
{
	if (fo->part == 0) {
		json_object *h = json_object_new_string(fo->host);

		printf("{\n\"host\": %s,\n\"flood\": ", json_object_to_json_string(h));
		json_object_put(h);
	}
	if (fo->part < 2 && part == 2) {
		if (fo->part == 0 || fo->none)
			printf("[]");
		else
			printf("\n]");
		printf(",\n\"fdb\": ");
		fo->none = true;
	}
	if (fo->part == 0)
		fo->none = true;
	fo->part = part > fo->part ? part : fo->part;
}

static void fdb_end(struct fdb_out *fo)
{
	fdb_part(fo, 2);
	pbjson_end(fo->none);
	printf("}\n");
}

static int print_fdb(const L2f__Reply *r, bool first, void *arg)
{
	struct fdb_out *fo = arg;
	char mac[MAC_STRLEN];

	if (fo->json) {
		for (size_t i = 0; i < r->n_flood; i++) {
			fdb_part(fo, 1);
			pbjson_element(flood_json(r->flood[i]), &fo->none);
		}
		for (size_t i = 0; i < r->n_fdb; i++) {
			fdb_part(fo, 2);
			pbjson_element(fdb_json(r->fdb[i]), &fo->none);
		}
		return 0;
	}
	if (first)
		printf("%-8s %-17s %-34s %s\n", "VNI", "MAC", "VTEPS", "ADDRESSES");
	for (size_t i = 0; i < r->n_flood; i++) {
		printf("%-8u %-17s ", r->flood[i]->vni, "(flood)");
		put_list(r->flood[i]->vteps, r->flood[i]->n_vteps, addr_item, 34);
		printf(" -\n");
	}
	for (size_t i = 0; i < r->n_fdb; i++) {
		const L2f__Fdb *e = r->fdb[i];
		bool ha_flood = e->has_flood && e->flood;

		printf("%-8u %-17s %s", e->vni, pb_mac_text(&e->mac, mac), ha_flood ? "ha-flood " : "");
		if (ha_flood || e->n_vteps)
			put_list(e->vteps, e->n_vteps, addr_item,
				 ha_flood ? 34 - (int)strlen("ha-flood ") : 34);
		else
			printf("%-34s", "(local)");
		printf(" ");
		put_list(e->ips, e->n_ips, addr_item, 0);
		printf("\n");
	}
	return 0;
}

int cmd_fdb(const struct fabricctl_opts *o, int argc, char **argv)
{
	L2f__Request q = L2F__REQUEST__INIT;
	struct fdb_out fo = { .json = o->json };
	int ret;

	if (argc != 1) {
		fprintf(stderr, "fabricctl: fdb HOST\n");
		return 2;
	}
	fo.host = argv[0];
	q.op_case = L2F__REQUEST__OP_FDB_OF_HOST;
	q.fdb_of_host = argv[0];
	ret = call(o, &q, print_fdb, &fo);
	if (!ret && o->json)
		fdb_end(&fo);
	return ret;
}

/* --- status ------------------------------------------------------------------------------ */

static int print_status(const L2f__Reply *r, bool first, void *arg)
{
	const struct fabricctl_opts *o = arg;
	const L2f__Status *st = r->status;

	if (!st) {
		fprintf(stderr, "fabricctl: fabricd sent no status\n");
		return 1;
	}
	if (o->json) {
		pbjson_print(&st->base);
		return 0;
	}
	printf("fabricd %s, up %.1f s\n", st->id, st->uptime_ms / 1000.0);
	for (size_t i = 0; i < st->n_counters; i++)
		printf("  %-36s %llu\n", st->counters[i]->name,
		       (unsigned long long)st->counters[i]->value);
	printf("limits\n");
	for (size_t i = 0; i < st->n_limits; i++)
		printf("  %-36s %llu\n", st->limits[i]->name,
		       (unsigned long long)st->limits[i]->value);
	return 0;
}

int cmd_status(const struct fabricctl_opts *o, int argc, char **argv)
{
	L2f__Request q = L2F__REQUEST__INIT;

	if (argc != 0) {
		fprintf(stderr, "fabricctl: status takes no argument\n");
		return 2;
	}
	q.op_case = L2F__REQUEST__OP_STATUS;
	q.status = true;
	return call(o, &q, print_status, (void *)o);
}
