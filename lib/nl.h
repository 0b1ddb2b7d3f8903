/*
 * nl.h - rtnetlink over libmnl: a request socket (one request, wait for its ack) and a
 * monitor socket subscribed to multicast groups for the event loop.
 */
#ifndef L2_NL_H
#define L2_NL_H

#include <stdint.h>
#include "addr.h"

struct mnl_socket;

struct nl {
	struct mnl_socket *sk;
	uint32_t portid;
	uint32_t seq;
};

/* groups: RTMGRP_* bitmask for a monitor, 0 for a request socket. 0 or -errno. */
int nl_open(struct nl *nl, unsigned int groups);
void nl_close(struct nl *nl);
int nl_fd(const struct nl *nl);
/* Reads and discards what is queued on a monitor socket; returns the number of messages
 * (a caller that only needs "something changed" rescans), or -errno. ENOBUFS (the kernel
 * dropped notifications) is reported as a positive count too: the rescan covers it. */
int nl_drain(struct nl *nl);

/* RTM_NEWADDR (with NLM_F_CREATE|NLM_F_REPLACE) or RTM_DELADDR for a host address on
 * ifindex; IPv6 addresses are added with IFA_F_NODAD. 0 or -errno (the kernel's answer). */
int nl_addr(struct nl *nl, int cmd, int ifindex, const struct ipaddr *a);

#endif
