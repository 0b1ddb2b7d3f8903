/* fabricctl.h - what the subcommand files of fabricctl share. */
#ifndef FABRICCTL_H
#define FABRICCTL_H

#include <stdbool.h>
#include "fabric.pb-c.h"

struct wire_tls;

struct fabricctl_opts {
	const char *socket;        /* -s; NULL: the subcommand group's default */
	bool json;
	const char *ca, *cert, *key;   /* --ca/--cert/--key: TLS for fabricd over TCP */
};

/* One subcommand group: `fabricctl NAME ARGS...`. Returns the exit code. */
struct subcommand {
	const char *name;
	int (*run)(const struct fabricctl_opts *o, int argc, char **argv);
	const char *description;
};

int cmd_vip(const struct fabricctl_opts *o, int argc, char **argv);
int cmd_port(const struct fabricctl_opts *o, int argc, char **argv);
int cmd_host(const struct fabricctl_opts *o, int argc, char **argv);
int cmd_fdb(const struct fabricctl_opts *o, int argc, char **argv);
int cmd_status(const struct fabricctl_opts *o, int argc, char **argv);
int cmd_agent(const struct fabricctl_opts *o, int argc, char **argv);
int cmd_topo(const struct fabricctl_opts *o, int argc, char **argv);
int cmd_hosts(const struct fabricctl_opts *o, int argc, char **argv);
int cmd_faults(const struct fabricctl_opts *o, int argc, char **argv);
int cmd_switch(const struct fabricctl_opts *o, int argc, char **argv);
int cmd_groups(const struct fabricctl_opts *o, int argc, char **argv);

/* The TLS context the options name (*out NULL when none): 0, or the exit code 2 after
 * printing why. */
int fabricctl_tls(const struct fabricctl_opts *o, struct wire_tls **out);
/* One Request to a daemon (fabricd, or vipd / vtepd on their control sockets: one client
 * stack, proto/'s wire_call) at -s or default_socket; each page of the reply to page(). 0, or
 * the exit code after printing why. */
int fabricctl_call(const struct fabricctl_opts *o, const char *default_socket, L2f__Request *q,
		   int (*page)(const L2f__Reply *r, bool first, void *ctx), void *ctx);

#endif
