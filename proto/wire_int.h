/* wire_int.h - what wire.c and socket.c share inside the session library. */
#ifndef L2_WIRE_INT_H
#define L2_WIRE_INT_H

#include <stddef.h>
#include <sys/socket.h>

/* "198.18.0.2:7301", "[2001:db8::2]:7301", or for a Unix socket its peer's pid and uid. */
void wire_peer_fmt(int fd, const struct sockaddr *sa, char *buf, size_t size);

#endif
