/*
 * unixsock.h - what every control socket needs, once: a Unix-socket path made ready for a
 * listener (its directory created, a live server refused, a stale socket replaced, any other
 * file left alone), and a blocking client's read/write of a whole buffer before a deadline.
 */
#ifndef L2_UNIXSOCK_H
#define L2_UNIXSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>
#include "monotime.h"

/* 0, or -ENAMETOOLONG when path is empty or does not fit sun_path. */
int unixsock_addr(const char *path, struct sockaddr_un *sun);
/* A non-blocking stream socket connected to path: fd, or -errno (-EAGAIN: the server's
 * backlog is full; -ECONNREFUSED / -ENOENT: no server). */
int unixsock_connect(const char *path);
/* Before binding path: 0, -EADDRINUSE (a server accepts there), -EEXIST (not a socket), or
 * -errno. */
int unixsock_prepare(const char *path);
/* Reads (wr false) or writes len bytes on a socket before deadline: 0, -ETIMEDOUT,
 * -ECONNRESET (the peer closed) or -errno. Writes do not raise SIGPIPE. */
int unixsock_io(int fd, void *buf, size_t len, bool wr, struct monotime deadline);

#endif
