/*
 * dp_mcast.h - the data plane's multicast entries (sw_mcast, switch_shared.h) from user space:
 * the whole table of this switch reconciled in place, the way dp_reconcile does the rest.
 */
#ifndef SWITCHD_DP_MCAST_H
#define SWITCHD_DP_MCAST_H

#include "dp.h"

struct dp_mcast_want {
	struct sw_mcast_key key;   /* zeroed whole, then filled */
	struct sw_mcast_out out;
};

/* Writes every wanted entry (an equal rewrite changes nothing the program sees), then, unless
 * keep_stale, removes the entries not wanted. Returns how many were removed, or a negative
 * errno. */
int dp_mcast_reconcile(struct dp *dp, const struct dp_mcast_want *want, unsigned n,
		       bool keep_stale);

#endif
