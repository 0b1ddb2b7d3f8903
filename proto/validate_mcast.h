/* validate_mcast.h - the multicast messages' checks (validate_mcast.c), for validate.c. */
#ifndef L2_VALIDATE_MCAST_H
#define L2_VALIDATE_MCAST_H

#include "fabric.pb-c.h"

/* 0 or -EBADMSG with *why set (a reason with numbers in it is per-thread storage). */
int check_mcast_members(const L2f__McastMembership *m, const char **why);
int check_mcast_table(const L2f__McastTable *t, const char **why);
int check_mcast_groups(L2f__McastGroupInfo *const *g, size_t n, const char **why);

#endif
