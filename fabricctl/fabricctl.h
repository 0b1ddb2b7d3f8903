/* fabricctl.h - what the subcommand files of fabricctl share. */
#ifndef FABRICCTL_H
#define FABRICCTL_H

#include <stdbool.h>

struct fabricctl_opts {
	const char *socket;        /* -s; NULL: the subcommand group's default */
	bool json;
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
int cmd_agent(const struct fabricctl_opts *o, int argc, char **argv);

/* Sends req to the socket and returns the reply (malloc'd), or NULL after printing why. */
char *fabricctl_request(const char *socket, const char *req);

#endif
