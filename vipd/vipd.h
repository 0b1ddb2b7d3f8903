/*
 * vipd.h - the daemon's runtime objects. A group (one per configured group) has up to two
 * VRRP instances, one per address family with VIPs; groups sharing an interface share one
 * struct iface, which owns the packet sockets (one for VRRP adverts, one for the segment's
 * ARP and NS), the interface's addresses and the counters of frames dropped before they can
 * be tied to a group.
 */
#ifndef VIPD_VIPD_H
#define VIPD_VIPD_H

#include <stdbool.h>
#include <stdint.h>
#include "addr.h"
#include "config.h"
#include "daemon.h"
#include "fabric.pb-c.h"
#include "nl.h"
#include "srclimit.h"
#include "pkt/drop.h"
#include "pkt/frame.h"
#include "log.h"
#include "monotime.h"
#include "vrrp.h"

struct event;
struct event_base;
struct ctlsrv;
struct vipd;

struct iface {
	struct iface *next;
	struct vipd *d;
	char name[IF_NAMESIZE];
	int ifindex;                   /* 0 while the interface does not exist */
	bool running;                  /* IFF_RUNNING: up with carrier */
	bool mac_changed;              /* since the last scan: masters re-announce */
	bool forwarding6;              /* sets R in our Neighbor Advertisements */
	struct mac mac;
	struct ipaddr primary4;        /* VRRP source and tie-break address, per family */
	struct ipaddr linklocal6;
	/* Two packet sockets, -1 when closed: adverts on their own, so that a flood of ARP or
	 * NS, which overruns the segment socket's queue, cannot crowd out a single advert. */
	int fd;                        /* ARP and Neighbor Solicitations; sends answers */
	int vrrp_fd;                   /* VRRP adverts; sends ours */
	int mfd4, mfd6;                /* hold the IPv4 / IPv6 multicast memberships */
	struct event *ev_rx;
	struct event *ev_vrrp;
	unsigned int refs;
	uint64_t frames;               /* read from either socket */
	struct iface_sock_counters {
		uint64_t frames;           /* read */
		uint64_t queue_drops;      /* dropped by the kernel: the receive queue was full */
	} seg, vrrp;
	struct srclimit answers;       /* ARP / NS answers per asker (answer_rate, answer_burst) */
	uint64_t drops[PKT_DROP_COUNT];
};

struct instance_counters {
	uint64_t adverts_sent;
	uint64_t adverts_received;
	uint64_t priority_zero_sent;
	uint64_t priority_zero_received;
	uint64_t addr_list_mismatch;   /* RFC 5798 7.1: logged, the advert is still used */
	uint64_t arp_answered;
	uint64_t ns_answered;
	uint64_t arp_rate_limited;     /* not answered: the asker's bucket was empty */
	uint64_t ns_rate_limited;
	uint64_t announcements_sent;
	uint64_t conflicts;            /* another MAC announced our VIP while we were master */
	uint64_t transitions;
	uint64_t became_master;
	uint64_t send_errors;
};

struct group;

struct instance {
	struct group *g;
	int af;
	bool active;                   /* the group has VIPs of this family */
	struct vrrp vrrp;
	struct event *ev_timer;
	struct event *ev_announce;
	unsigned int announce_left;
	struct monotime last_burst;
	struct ratelimit rl;           /* log lines a peer can trigger */
	bool assigned;
	bool stale_removed;            /* VIPs left by a crashed predecessor are gone */
	const char *why_init;          /* why the instance is not running, for status */
	struct instance_counters c;
};

struct group {
	struct group *next;
	struct vipd *d;
	struct vip_group_cfg cfg;
	struct iface *ifp;
	struct instance inst[2];       /* [0] IPv4, [1] IPv6 */
	/* virtual MAC (vmac.c) */
	int vmac_ifindex;              /* the macvlan, 0 when it does not exist */
	int vmac_parent;               /* the parent's ifindex it was created on */
	bool vmac_up;
#define VMAC_PARENT_SYSCTLS 2
	bool parent_set;               /* the parent's sysctls were seen to */
	int parent_saved[VMAC_PARENT_SYSCTLS];   /* values to put back, -1: none */
};

struct vipd {
	struct daemon dm;              /* lib/daemon: options, signals, the event base */
	struct event_base *base;        /* dm.base */
	const char *cfg_path;
	struct vipd_cfg cfg;
	struct group *groups;
	struct iface *ifaces;
	struct nl nlreq;               /* start-up and teardown requests (the macvlans) */
	struct nlq *nlq;               /* changes on the hot path: addresses, macvlan up/down */
	uint64_t nl_async_failed;      /* of those, refused or lost */
	struct nl nlmon;               /* link / address / netconf notifications */
	struct event *ev_nl;
	struct event *ev_rescan;
	struct ctlsrv *ctl;
	struct ctlsrv *ctl_status;    /* read-only, mode 0666, when configured */
	struct fabric *fabric;         /* the session with fabricd, NULL without `fabric` */
};

/* iface.c */
struct iface *iface_get(struct vipd *d, const char *name);
void iface_put(struct iface *ifp);
/* Re-reads every interface (index, carrier, MAC, addresses), opens or closes sockets and
 * lets the groups on it start or stop. */
void iface_rescan_all(struct vipd *d);
#define RESCAN_COALESCE_US (10 * USEC_PER_MSEC)
#define RESCAN_RETRY_US (1 * USEC_PER_SEC)
void iface_schedule_rescan(struct vipd *d, int64_t after_us);
/* An answer or announcement (segment socket) / an advert (VRRP socket). 0 or -errno. */
int iface_send(struct iface *ifp, const void *frame, size_t len);
int iface_send_vrrp(struct iface *ifp, const void *frame, size_t len);
/* Reads what the VRRP socket holds now (bounded): before a timer acts on the absence of
 * adverts, and before each batch of the segment socket. */
void iface_read_vrrp(struct iface *ifp);
/* Adds the kernel's queue drops since the last call to the counters (status). */
void iface_update_queue_drops(struct iface *ifp);
/* Lets the interface receive the MACs the groups on it listen to. */
void iface_sync_mcast(struct iface *ifp);

/* group.c */
struct group *group_new(struct vipd *d, const struct vip_group_cfg *cfg);
/* Stops (priority 0 if master, VIPs removed) and frees. */
void group_free(struct group *g);
void group_iface_changed(struct group *g);
/* The interface is going away under its groups: stop their instances now. */
void group_iface_stop(struct iface *ifp);
void group_rx_frame(struct iface *ifp, const struct frame *f);
struct instance *group_instance(struct group *g, int af);
/* Some instance of g (either family) is master. */
bool group_is_master(const struct group *g);

/* vmac.c: the group's macvlan with its virtual MAC, up while master. 0 or -errno. */
int vmac_ensure(struct group *g);
int vmac_set_up(struct group *g, bool up);
void vmac_destroy(struct group *g);

/* fabric.c: reports masters of groups with fabric_vni to fabricd. */
struct fabric_status {
	bool configured, connected;
	const char *connect;
	const char *last_error;
	uint64_t sessions, reports_sent, reports_failed;
};
/* (Re)starts the session when the configured address changed; stops it when none. */
int fabric_start(struct vipd *d);
void fabric_stop(struct vipd *d);
/* g became master: tell fabricd now (or at the next connect). */
void fabric_master(struct group *g);
void fabric_status(const struct vipd *d, struct fabric_status *out);

/* status.c */
struct ctlsrv_cleanup;
/* vip status as a typed VipStatus in r (status.c); cl frees it once sent. */
void vipd_status_reply(struct vipd *d, L2f__Reply *r, struct ctlsrv_cleanup *cl);

struct metrics_out;
/* GET /metrics (metrics.c); ctx is the struct vipd. */
void vipd_metrics(struct metrics_out *m, void *ctx);

#endif
