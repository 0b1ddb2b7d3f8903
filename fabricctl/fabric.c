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
#include "wire.h"

#define FABRICD_SOCKET "/run/l2fabric/fabricd.sock"
#define MAX_LIST 16

static const char *sock_of(const struct fabricctl_opts *o)
{
	return o->socket ? o->socket : FABRICD_SOCKET;
}

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
	err = wire_call(sock_of(o), tls, &env, call_page, &c, 5000, &why);
	wire_tls_free(tls);
	if (err) {
		fprintf(stderr, "fabricctl: %s: %s\n", sock_of(o), why ? why : strerror(-err));
		return 1;
	}
	return c.failed ? 1 : 0;
}

static const char *bytes_addr(const ProtobufCBinaryData *b, char *buf)
{
	struct ipaddr a = { 0 };

	if (b->len != 4 && b->len != 16)
		return "?";
	a.af = b->len == 4 ? AF_INET : AF_INET6;
	memcpy(a.b, b->data, b->len);
	return ipaddr_fmt(&a, buf);
}

static const char *bytes_mac(const ProtobufCBinaryData *b, char *buf)
{
	struct mac m;

	if (b->len != MAC_LEN)
		return "?";
	memcpy(m.b, b->data, MAC_LEN);
	return mac_fmt(&m, buf);
}

static json_object *addr_list(const ProtobufCBinaryData *a, size_t n)
{
	json_object *arr = json_object_new_array();
	char buf[IPADDR_STRLEN];

	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(bytes_addr(&a[i], buf)));
	return arr;
}

static void join_addrs(const ProtobufCBinaryData *a, size_t n, char *out, size_t len)
{
	char buf[IPADDR_STRLEN];
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "",
					 bytes_addr(&a[i], buf));
	if (!n)
		snprintf(out, len, "-");
}

/* --- port ------------------------------------------------------------------------------- */

struct port_args {
	uint32_t vni;
	bool has_vni;
	struct mac mac;
	bool has_mac;
	struct ipaddr ips[MAX_LIST];
	size_t nips;
	char *hosts[MAX_LIST];
	size_t nhosts;
	int mode;                      /* -1 unset */
	const char *name;
};

static int parse_port_args(int argc, char **argv, struct port_args *a)
{
	char *end;

	a->mode = -1;
	for (int i = 0; i < argc; i++) {
		const char *k = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!val) {
			fprintf(stderr, "fabricctl: %s needs a value\n", k);
			return -EINVAL;
		}
		i++;
		if (strcmp(k, "--vni") == 0) {
			unsigned long v;

			errno = 0;
			v = strtoul(val, &end, 10);
			if (errno || *end || v < 1 || v > VNI_MAX) {
				fprintf(stderr, "fabricctl: --vni %s: 1 to %u\n", val, VNI_MAX);
				return -EINVAL;
			}
			a->vni = (uint32_t)v;
			a->has_vni = true;
		} else if (strcmp(k, "--mac") == 0) {
			if (mac_parse(val, &a->mac) < 0 || mac_is_multicast(&a->mac)) {
				fprintf(stderr, "fabricctl: --mac %s: not a unicast MAC\n", val);
				return -EINVAL;
			}
			a->has_mac = true;
		} else if (strcmp(k, "--ip") == 0) {
			if (a->nips == MAX_LIST || ipaddr_parse(val, &a->ips[a->nips]) < 0) {
				fprintf(stderr, "fabricctl: --ip %s: not an address (16 at most)\n", val);
				return -EINVAL;
			}
			a->nips++;
		} else if (strcmp(k, "--host") == 0) {
			if (a->nhosts == 8 || !*val || strlen(val) > WIRE_ID_MAX) {
				fprintf(stderr, "fabricctl: --host %s: 1-%d characters, 8 hosts at most\n",
					val, WIRE_ID_MAX);
				return -EINVAL;
			}
			a->hosts[a->nhosts++] = (char *)val;
		} else if (strcmp(k, "--mode") == 0) {
			if (strcmp(val, "track") && strcmp(val, "flood")) {
				fprintf(stderr, "fabricctl: --mode is track or flood\n");
				return -EINVAL;
			}
			a->mode = strcmp(val, "flood") == 0;
		} else if (strcmp(k, "--name") == 0) {
			a->name = val;
		} else {
			fprintf(stderr, "fabricctl: unknown option %s\n", k);
			return -EINVAL;
		}
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
	json_object_object_add(o, "mac", json_object_new_string(bytes_mac(&p->mac, buf)));
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

/* One element of a JSON array printed page by page: "[" before the first, "]" by json_end. */
static void json_element(json_object *o, bool *first)
{
	printf("%s%s", *first ? "[\n" : ",\n",
	       json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						 JSON_C_TO_STRING_NOSLASHESCAPE));
	*first = false;
	json_object_put(o);
}

static void json_end(bool first)
{
	printf("%s\n", first ? "[]" : "\n]");
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
			json_element(port_json(r->ports[i]), &po->none);
		return 0;
	}
	if (first)
		printf("%-8s %-17s %-12s %-22s %-6s %-8s %6s %-8s %s\n", "VNI", "MAC", "NAME",
		       "HOSTS", "MODE", "MASTER", "SEQ", "SOURCE", "ADDRESSES");
	for (size_t i = 0; i < r->n_ports; i++) {
		const L2f__Port *p = r->ports[i];
		char mac[MAC_STRLEN], hosts[128] = "", addrs[512];
		size_t used = 0;

		for (size_t k = 0; k < p->n_hosts && used < sizeof(hosts); k++)
			used += (size_t)snprintf(hosts + used, sizeof(hosts) - used, "%s%s",
						 k ? "," : "", p->hosts[k]);
		join_addrs(p->ips, p->n_ips, addrs, sizeof(addrs));
		printf("%-8u %-17s %-12s %-22s %-6s %-8s %6llu %-8s %s\n", p->vni,
		       bytes_mac(&p->mac, mac), p->name ? p->name : "-", hosts,
		       p->n_hosts > 1 ? (p->mode == L2F__HA_MODE__HA_FLOOD ? "flood" : "track") : "-",
		       p->master ? p->master : "-", (unsigned long long)p->seq,
		       p->duplicate ? "DUP" : p->learned ? "learned" : "api", addrs);
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
	ProtobufCBinaryData ips[MAX_LIST];
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
		json_end(po.none);
	return ret;
}

/* --- host -------------------------------------------------------------------------------- */

static json_object *host_json(const L2f__Host *h)
{
	json_object *ho = json_object_new_object(), *vnis = json_object_new_array();
	char buf[IPADDR_STRLEN];

	json_object_object_add(ho, "id", json_object_new_string(h->id));
	json_object_object_add(ho, "vtep", h->has_vtep ?
			       json_object_new_string(bytes_addr(&h->vtep, buf)) : NULL);
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
			json_element(host_json(r->hosts[i]), &po->none);
		return 0;
	}
	if (first)
		printf("%-16s %-26s %-10s %-12s %s\n", "HOST", "VTEP", "SESSION", "UP FOR",
		       "SEGMENTS");
	for (size_t i = 0; i < r->n_hosts; i++) {
		const L2f__Host *h = r->hosts[i];
		char buf[IPADDR_STRLEN], up[32] = "-", vnis[256] = "";
		size_t used = 0;

		if (h->has_connected_for_ms)
			snprintf(up, sizeof(up), "%.1fs", h->connected_for_ms / 1000.0);
		for (size_t k = 0; k < h->n_vnis && used < sizeof(vnis); k++)
			used += (size_t)snprintf(vnis + used, sizeof(vnis) - used, "%s%u",
						 k ? "," : "", h->vnis[k]);
		printf("%-16s %-26s %-10s %-12s %s\n", h->id,
		       h->has_vtep ? bytes_addr(&h->vtep, buf) : "-",
		       h->connected ? "up" : "down", up, used ? vnis : "-");
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
		json_end(po.none);
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
	json_object_object_add(f, "mac", json_object_new_string(bytes_mac(&e->mac, mac)));
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
	json_end(fo->none);
	printf("}\n");
}

static int print_fdb(const L2f__Reply *r, bool first, void *arg)
{
	struct fdb_out *fo = arg;
	char mac[MAC_STRLEN], a1[1024], a2[1024], v[sizeof(a1) + 16];

	if (fo->json) {
		for (size_t i = 0; i < r->n_flood; i++) {
			fdb_part(fo, 1);
			json_element(flood_json(r->flood[i]), &fo->none);
		}
		for (size_t i = 0; i < r->n_fdb; i++) {
			fdb_part(fo, 2);
			json_element(fdb_json(r->fdb[i]), &fo->none);
		}
		return 0;
	}
	if (first)
		printf("%-8s %-17s %-34s %s\n", "VNI", "MAC", "VTEPS", "ADDRESSES");
	for (size_t i = 0; i < r->n_flood; i++) {
		join_addrs(r->flood[i]->vteps, r->flood[i]->n_vteps, a1, sizeof(a1));
		printf("%-8u %-17s %-34s %s\n", r->flood[i]->vni, "(flood)", a1, "-");
	}
	for (size_t i = 0; i < r->n_fdb; i++) {
		const L2f__Fdb *e = r->fdb[i];

		join_addrs(e->vteps, e->n_vteps, a1, sizeof(a1));
		join_addrs(e->ips, e->n_ips, a2, sizeof(a2));
		if (e->has_flood && e->flood)
			snprintf(v, sizeof(v), "ha-flood %s", a1);
		else
			snprintf(v, sizeof(v), "%s", e->n_vteps ? a1 : "(local)");
		printf("%-8u %-17s %-34s %s\n", e->vni, bytes_mac(&e->mac, mac), v, a2);
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
