/*
 * nl.h - rtnetlink over libmnl: a request socket (one request, wait for its ack), dumps,
 * and a monitor socket subscribed to multicast groups for the event loop. All of it but the
 * monitor blocks: for start-up, tools and dumps (docs/daemons.md, "Where blocking is
 * allowed"); changes on hot paths go through lib/nlq (one at a time) or lib/nlbatch (many
 * per sendmsg), both acknowledged from the event loop.
 */
#ifndef L2_NL_H
#define L2_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "addr.h"

struct mnl_socket;
struct nlmsghdr;

/* Same type as libmnl's mnl_cb_t: MNL_CB_OK (1) to go on, MNL_CB_STOP (0), MNL_CB_ERROR (-1). */
typedef int (*nl_msg_cb)(const struct nlmsghdr *nlh, void *data);

struct nl {
	struct mnl_socket *sk;
	uint32_t portid;
	uint32_t seq;
};

/* groups: RTMGRP_* bitmask for a monitor (non-blocking), 0 for a request socket (blocking,
 * an ack awaited at most 1 s). 0 or -errno. */
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
/* The same request built in buf (NL_ADDR_MSG_MAX bytes), for lib/nlq. */
#define NL_ADDR_MSG_MAX 128
struct nlmsghdr *nl_addr_msg(void *buf, int cmd, int ifindex, const struct ipaddr *a);

/* RTM_DELLINK of ifindex. 0 or -errno. */
int nl_link_del(struct nl *nl, int ifindex);

/* Sends nlh (NLM_F_REQUEST|NLM_F_ACK added) and waits for its ack; cb (may be NULL) sees the
 * answers that come before the ack (the reply to a GET). 0 or -errno (the kernel's answer). */
int nl_request(struct nl *nl, struct nlmsghdr *nlh);
int nl_request_cb(struct nl *nl, struct nlmsghdr *nlh, nl_msg_cb cb, void *data);
/* Socket buffers of `bytes` each way, beyond net.core.[rw]mem_max when CAP_NET_ADMIN allows:
 * big batches and their errors, and fast dumps, need more than the default 208 KiB. */
int nl_set_bufsize(struct nl *nl, int bytes);
/* A monitor of neighbour notifications keeps those of one family only (a classic BPF filter
 * on ndm_family: AF_BRIDGE for the FDB), so the others cannot fill its buffer. 0 or -errno. */
int nl_filter_neigh_family(struct nl *nl, uint8_t family);
/* NETLINK_GET_STRICT_CHK: the kernel honours (and checks) the filters of dump requests. */
int nl_set_strict(struct nl *nl);
/* Sends nlh with NLM_F_DUMP and calls cb for every message until NLMSG_DONE. 0, -EINTR when
 * the kernel flagged the dump inconsistent (NLM_F_DUMP_INTR; every message was still passed
 * to cb, the caller may dump again), or -errno. */
int nl_dump(struct nl *nl, struct nlmsghdr *nlh, nl_msg_cb cb, void *data);

#endif
