/*
 * vrrp.c - VRRPv3 state machine (RFC 5798 section 6.4) for one virtual router and family.
 *
 * Timers are kept at microsecond precision. The RFC computes Skew_Time in whole
 * centiseconds, which at a 10 ms interval rounds every priority's skew to zero and makes
 * backups of different priority time out together; keeping the fraction preserves the
 * priority order the skew exists for, and differs from the RFC's figure by < 10 ms.
 */
#include <string.h>
#include "vrrp.h"

#define US_PER_CS 10000

const char *vrrp_state_name(enum vrrp_state s)
{
	switch (s) {
	case VRRP_INIT:
		return "init";
	case VRRP_BACKUP:
		return "backup";
	case VRRP_MASTER:
		return "master";
	}
	return "?";
}

void vrrp_init(struct vrrp *v, uint8_t priority, bool preempt, uint16_t adver_int_cs,
	       const struct vrrp_ops *ops, void *ctx)
{
	memset(v, 0, sizeof(*v));
	v->state = VRRP_INIT;
	v->priority = priority;
	v->preempt = preempt;
	v->adver_int_cs = adver_int_cs;
	v->master_adver_int_cs = adver_int_cs;
	v->ops = ops;
	v->ctx = ctx;
}

/* 6.1: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256 */
int64_t vrrp_skew_us(const struct vrrp *v)
{
	return (int64_t)(256 - v->priority) * v->master_adver_int_cs * US_PER_CS / 256;
}

/* 6.1: Master_Down_Interval = (3 * Master_Adver_Interval) + Skew_Time */
int64_t vrrp_master_down_us(const struct vrrp *v)
{
	return 3LL * v->master_adver_int_cs * US_PER_CS + vrrp_skew_us(v);
}

static void set_state(struct vrrp *v, enum vrrp_state to)
{
	enum vrrp_state from = v->state;

	v->state = to;
	if (from != to && v->ops->state_change)
		v->ops->state_change(v->ctx, from, to);
}

/* Sends an advert at our priority and restarts the Adver_Timer (6.4.3). */
static void advertise(struct vrrp *v, struct monotime now)
{
	v->ops->send_advert(v->ctx, v->priority);
	v->last_advert = now;
	v->adver_timer = monotime_add_us(now, (int64_t)v->adver_int_cs * US_PER_CS);
}

/* The Adver_Timer fired (6.4.3): advertise and restart it - from when it was due rather than
 * from when the event loop got round to it, so that a late wake-up does not push every later
 * advert back. Restarted from `now`, adverts would come every interval + the loop's latency
 * (a few percent slow at 10 ms, more on a loaded machine, eating into the backups' margin),
 * and the IPv4 and IPv6 instances of a group, which become master together, would drift
 * apart. More than half an interval late (a stall): restart from now, with no catch-up burst. */
static void advertise_on_timer(struct vrrp *v, struct monotime now)
{
	int64_t interval = (int64_t)v->adver_int_cs * US_PER_CS;
	struct monotime due = v->adver_timer;

	advertise(v, now);
	if (monotime_diff_us(now, due) <= interval / 2)
		v->adver_timer = monotime_add_us(due, interval);
}

static void become_backup(struct vrrp *v, struct monotime now)
{
	v->adver_timer = (struct monotime){ 0 };
	v->master_down_timer = monotime_add_us(now, vrrp_master_down_us(v));
	set_state(v, VRRP_BACKUP);
}

static void become_master(struct vrrp *v, struct monotime now)
{
	/* 6.4.2 (Master_Down_Timer fires) / 6.4.1: send an advert, then announce (the caller
	 * does that on the state change), and start the Adver_Timer. */
	v->master_down_timer = (struct monotime){ 0 };
	v->master = v->self;
	v->master_priority = v->priority;
	v->master_adver_int_cs = v->adver_int_cs;
	advertise(v, now);
	set_state(v, VRRP_MASTER);
}

void vrrp_startup(struct vrrp *v, struct monotime now, const struct ipaddr *self)
{
	v->self = *self;
	v->master = (struct ipaddr){ 0 };
	v->master_priority = 0;
	/* 6.4.1: never the address owner (priority 255): Master_Adver_Interval =
	 * Advertisement_Interval, wait Master_Down_Interval as backup. */
	v->master_adver_int_cs = v->adver_int_cs;
	become_backup(v, now);
}

void vrrp_shutdown(struct vrrp *v)
{
	/* 6.4.3: a master sends an advert with priority 0 so a backup takes over after
	 * Skew_Time instead of Master_Down_Interval. */
	if (v->state == VRRP_MASTER)
		v->ops->send_advert(v->ctx, 0);
	v->adver_timer = (struct monotime){ 0 };
	v->master_down_timer = (struct monotime){ 0 };
	v->master = (struct ipaddr){ 0 };
	set_state(v, VRRP_INIT);
}

static void rx_backup(struct vrrp *v, struct monotime now, const struct ipaddr *src,
		      uint8_t priority, uint16_t interval_cs)
{
	if (priority == 0) {
		/* 6.4.2: the master is leaving: take over after Skew_Time. */
		v->master_down_timer = monotime_add_us(now, vrrp_skew_us(v));
		v->master = (struct ipaddr){ 0 };
		return;
	}
	if (!v->preempt || priority >= v->priority) {
		/* 6.4.2: follow this master and its interval. */
		v->master_adver_int_cs = interval_cs;
		v->master = *src;
		v->master_priority = priority;
		v->master_down_timer = monotime_add_us(now, vrrp_master_down_us(v));
	}
	/* else: preempt and a lower priority: discard, our timer runs out and we take over */
}

/* Half an Advertisement_Interval or more since our last advert. */
static bool since_half_interval(const struct vrrp *v, struct monotime now)
{
	return monotime_diff_us(now, v->last_advert) >= (int64_t)v->adver_int_cs * US_PER_CS / 2;
}

static void rx_master(struct vrrp *v, struct monotime now, const struct ipaddr *src,
		      uint8_t priority, uint16_t interval_cs)
{
	if (priority == 0) {
		/* 6.4.3: a leaving peer: assert ourselves at once - at most once per half
		 * interval, or forged priority-0 adverts would set our rate (one advert each,
		 * multicast to the whole segment). One that comes sooner is counted; the advert
		 * of a moment ago, or the next one, tells the backups what this one would. */
		if (since_half_interval(v, now))
			advertise(v, now);
		else
			v->priority_zero_suppressed++;
		return;
	}
	/* 6.4.3: a higher priority, or the same one from a higher primary address, wins. */
	if (priority > v->priority ||
	    (priority == v->priority && ipaddr_cmp(src, &v->self) > 0)) {
		v->master_adver_int_cs = interval_cs;
		v->master = *src;
		v->master_priority = priority;
		become_backup(v, now);
		return;
	}
	/* We stay master. The RFC discards this advert; we also advertise at once so the
	 * other side yields without waiting for our timer, and re-announce - at most every
	 * half interval, so that no peer can make us advertise at its own rate. */
	if (since_half_interval(v, now))
		advertise(v, now);
	if (v->ops->peer_master_lower)
		v->ops->peer_master_lower(v->ctx);
}

void vrrp_rx_advert(struct vrrp *v, struct monotime now, const struct ipaddr *src,
		    uint8_t priority, uint16_t max_adver_int_cs)
{
	if (v->state == VRRP_BACKUP)
		rx_backup(v, now, src, priority, max_adver_int_cs);
	else if (v->state == VRRP_MASTER)
		rx_master(v, now, src, priority, max_adver_int_cs);
}

void vrrp_tick(struct vrrp *v, struct monotime now)
{
	if (v->state == VRRP_BACKUP && monotime_is_set(v->master_down_timer) &&
	    v->master_down_timer.us <= now.us) {
		become_master(v, now);
		return;
	}
	if (v->state == VRRP_MASTER && monotime_is_set(v->adver_timer) &&
	    v->adver_timer.us <= now.us) {
		/* 6.4.3: Adver_Timer fires: advertise and restart it. */
		advertise_on_timer(v, now);
	}
}

struct monotime vrrp_next_deadline(const struct vrrp *v)
{
	return monotime_min(v->adver_timer, v->master_down_timer);
}
