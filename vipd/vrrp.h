/*
 * vrrp.h - the VRRPv3 state machine of RFC 5798 section 6 for one virtual router and one
 * address family. Pure: no sockets and no clock of its own; the caller passes `now`, asks for
 * the next deadline, and receives what to do through vrrp_ops.
 */
#ifndef VIPD_VRRP_H
#define VIPD_VRRP_H

#include <stdbool.h>
#include <stdint.h>
#include "addr.h"
#include "monotime.h"

enum vrrp_state { VRRP_INIT, VRRP_BACKUP, VRRP_MASTER };

struct vrrp_ops {
	/* Send one advertisement with this priority now. */
	void (*send_advert)(void *ctx, uint8_t priority);
	/* Entered a new state (after the advert that goes with becoming master was sent). */
	void (*state_change)(void *ctx, enum vrrp_state from, enum vrrp_state to);
	/* As master, heard a master of lower priority: a partition healed, or a peer started
	 * as master; the caller re-announces so caches the peer poisoned point back here. */
	void (*peer_master_lower)(void *ctx);
};

struct vrrp {
	enum vrrp_state state;
	uint8_t priority;                 /* Priority, 1..254 */
	bool preempt;                     /* Preempt_Mode */
	uint16_t adver_int_cs;            /* Advertisement_Interval */
	uint16_t master_adver_int_cs;     /* Master_Adver_Interval, learned from the master */
	struct ipaddr self;               /* our primary address, for the tie-break (6.4.3) */
	struct ipaddr master;             /* who we believe is master (self when we are) */
	uint8_t master_priority;
	struct monotime adver_timer;      /* unset when not running */
	struct monotime last_advert;
	struct monotime master_down_timer;
	uint64_t priority_zero_suppressed; /* as master, priority-0 adverts not answered at once:
					    * within half an interval of our last advert */
	const struct vrrp_ops *ops;
	void *ctx;
};

void vrrp_init(struct vrrp *v, uint8_t priority, bool preempt, uint16_t adver_int_cs,
	       const struct vrrp_ops *ops, void *ctx);
/* The Startup event (6.4.1): to Backup (vipd is never the address owner, priority 255).
 * self: our primary address. */
void vrrp_startup(struct vrrp *v, struct monotime now, const struct ipaddr *self);
/* The Shutdown event: a master sends priority 0 first (6.4.3); to Initialize. */
void vrrp_shutdown(struct vrrp *v);
/* A received advert that passed the checks of 7.1. */
void vrrp_rx_advert(struct vrrp *v, struct monotime now, const struct ipaddr *src,
		    uint8_t priority, uint16_t max_adver_int_cs);
/* Fires the timers that are due at now. */
void vrrp_tick(struct vrrp *v, struct monotime now);
/* The earliest running timer, unset in Initialize. */
struct monotime vrrp_next_deadline(const struct vrrp *v);

/* Skew_Time and Master_Down_Interval (6.1) in microseconds, for the current
 * Master_Adver_Interval and Priority. */
int64_t vrrp_skew_us(const struct vrrp *v);
int64_t vrrp_master_down_us(const struct vrrp *v);

const char *vrrp_state_name(enum vrrp_state s);

#endif
