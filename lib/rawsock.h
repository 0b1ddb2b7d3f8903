/*
 * rawsock.h - AF_PACKET sockets bound to one interface, with a classic BPF filter attached
 * before the bind (so no unfiltered frame is ever queued) and our own transmissions ignored.
 */
#ifndef L2_RAWSOCK_H
#define L2_RAWSOCK_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "addr.h"

/* Non-blocking packet socket on ifindex receiving what filter accepts: fd or -errno. It sees
 * every frame of the interface (ETH_P_ALL: a tap, run before tc ingress). */
int rawsock_open(int ifindex, const struct sock_filter *filter, size_t nfilter);
/* The same for frames of one EtherType only: the kernel delivers them after tc ingress
 * (ptype_base), so a data plane in tc forwards everything else without this socket seeing a
 * copy (switchd: LDP, ARP, IPv6 for ND). filter may be NULL (nfilter 0: every such frame). */
int rawsock_open_proto(int ifindex, uint16_t ethertype, const struct sock_filter *filter,
		       size_t nfilter);
/* 0 or -errno. */
int rawsock_send(int fd, int ifindex, const void *frame, size_t len);
/* A receive buffer of `bytes`, beyond net.core.rmem_max when CAP_NET_ADMIN allows. 0 or -errno. */
int rawsock_set_rcvbuf(int fd, int bytes);
/* Frames the kernel dropped because the receive queue was full, since the last call
 * (PACKET_STATISTICS reads and resets). 0 or -errno. */
int rawsock_queue_drops(int fd, uint64_t *drops);

#endif
