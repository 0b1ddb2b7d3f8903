/*
 * fabricctl.c - the operator's CLI for l2fabric daemons: a table of subcommand groups, each
 * in its own file, talking to a daemon's control socket.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "paths.h"
#include "fabricctl.h"
#include "tls.h"

static const struct subcommand subcommands[] = {
	{ "vip", cmd_vip, "service VIPs (vipd): status" },
	{ "port", cmd_port, "overlay ports (fabricd): add, del, list, master" },
	{ "host", cmd_host, "agents (fabricd): their VTEPs, segments and sessions" },
	{ "fdb", cmd_fdb, "what fabricd wants a host's agent to hold" },
	{ "status", cmd_status, "fabricd itself: sessions, bounds hit, refusals, the store" },
	{ "agent", cmd_agent, "a host's agent (vtepd) itself: status, fdb (what it programmed)" },
	{ "topo", cmd_topo, "PortLand (fabricd): switches, levels, pods, positions, links, miswirings" },
	{ "hosts", cmd_hosts, "PortLand (fabricd): hosts, their PMACs, edges and ports" },
	{ "faults", cmd_faults, "PortLand (fabricd): links whose LDMs stopped, who says so, since when" },
	{ "groups", cmd_groups, "PortLand (fabricd): multicast groups, members, cores, trees" },
	{ "switch", cmd_switch, "a PortLand switch (switchd) itself: status" },
};

#define NSUB (sizeof(subcommands) / sizeof(subcommands[0]))

int fabricctl_tls(const struct fabricctl_opts *o, struct wire_tls **out)
{
	struct wire_tls_files files = { o->ca, o->cert, o->key };
	char err[256];

	*out = NULL;
	if (!o->ca && !o->cert && !o->key)
		return 0;
	if (wire_tls_new(&files, false, out, err, sizeof(err)) < 0) {
		fprintf(stderr, "fabricctl: %s\n", err);
		return 2;
	}
	if (wire_tls_self(*out)->role != L2F__ROLE__ROLE_FABRICCTL) {
		fprintf(stderr, "fabricctl: --cert %s names a %s: the API takes a fabricctl "
			"certificate (URI:urn:l2fabric:fabricctl:NAME)\n", o->cert,
			wire_role_name(wire_tls_self(*out)->role));
		wire_tls_free(*out);
		*out = NULL;
		return 2;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: fabricctl [-s SOCKET|HOST:PORT] [--ca FILE --cert FILE --key FILE] "
		   "[--json] COMMAND ...\n\ncommands:\n");
	for (size_t i = 0; i < NSUB; i++)
		fprintf(f, "  %-8s %s\n", subcommands[i].name, subcommands[i].description);
	fprintf(f, "\ndefault sockets (-s):\n"
		   "  vip              vipd     " VIPD_SOCKET "\n"
		   "  port, host, fdb, status, topo, hosts  fabricd  " FABRICD_SOCKET "\n"
		   "  agent            vtepd    " VTEPD_SOCKET "\n"
		   "  switch           switchd  " SWITCHD_SOCKET "\n"
		   "fabricd over TCP (-s HOST:PORT) takes TLS: a certificate of role fabricctl\n"
		   "(URI:urn:l2fabric:fabricctl:NAME) and the fabric's CA.\n");
}

int main(int argc, char **argv)
{
	struct fabricctl_opts o = { 0 };
	char **rest = argv + 1;
	int n = 0;

	/* Options may stand anywhere: `fabricctl vip status --json` reads naturally. The other
	 * words are moved down in argv (rest), every one of them, however many. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0) {
			o.json = true;
		} else if (strcmp(argv[i], "-s") == 0 || strcmp(argv[i], "--socket") == 0) {
			if (++i == argc) {
				usage(stderr);
				return 2;
			}
			o.socket = argv[i];
		} else if (!strcmp(argv[i], "--ca") || !strcmp(argv[i], "--cert") ||
			   !strcmp(argv[i], "--key")) {
			const char **slot = argv[i][2] == 'c' && argv[i][3] == 'a' ? &o.ca :
					    argv[i][2] == 'c' ? &o.cert : &o.key;

			if (++i == argc) {
				usage(stderr);
				return 2;
			}
			*slot = argv[i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			rest[n++] = argv[i];
		}
	}
	rest[n] = NULL;
	/* sessions write with write(2): a fabricd gone mid-reply must not kill us */
	signal(SIGPIPE, SIG_IGN);
	if (n == 0) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < NSUB; i++)
		if (strcmp(rest[0], subcommands[i].name) == 0)
			return subcommands[i].run(&o, n - 1, rest + 1);
	fprintf(stderr, "fabricctl: unknown command '%s'\n", rest[0]);
	usage(stderr);
	return 2;
}
