/*
 * drift.c - putting back vtepd's kernel entries that went (see drift.h): one rtnetlink
 * monitor (RTMGRP_NEIGH: neighbours and bridge FDB; RTMGRP_LINK), one timer for the repairs
 * of every segment, one for the end of holds, and the strike table (strikes.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <json-c/json.h>
#include <libmnl/libmnl.h>
#include <linux/filter.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "drift.h"
#include "log.h"
#include "nl.h"
#include "strikes.h"
#include "vtepd.h"

#define REPAIR_DELAY_US (10 * USEC_PER_MSEC)     /* first deletion -> repair: a burst's span */
#define QUIET_US (5 * USEC_PER_MSEC)             /* a burst still going: wait for this quiet */
#define COALESCE_MAX_US (60 * USEC_PER_MSEC)     /* ... but no longer after its first deletion */
#define REPAIR_SHARE 10                          /* repairs take at most 1/10 of the time */
#define LINK_WINDOW_US (1 * USEC_PER_SEC)        /* a link change this close: the kernel's */
#define FULL_TABLE_WAIT_US (100 * USEC_PER_MSEC) /* a full table is arriving: look again */
#define PENDING_KEYS_MAX 1024                    /* deletions of one batch looked at */
#define REPAIR_KEYS_MAX 64                       /* at most: asked about one by one; more:
						  * the table is dumped */
#define STRIKES_MAX 5
#define STRIKES_WINDOW_US (30 * USEC_PER_SEC)
#define HOLD_US (300 * USEC_PER_SEC)
#define STRIKES_CAPACITY 16384
/* A flush of 10k neighbours is ~10k notifications of ~1 KiB each as skbs. */
#define MON_BUFSIZE (32 << 20)
#define MON_BUDGET 2048                          /* datagrams per wakeup */
#define DRAIN_MAX 65536                          /* read before a repair, at most */
#define RECV_BATCH 64                            /* datagrams per recvmmsg */
#define RECV_BYTES 8192                          /* a notification fits (MNL_SOCKET_BUFFER_SIZE) */

/* A deletion waiting for its repair. A neighbour's deletion by hand (RTM_DELNEIGH of
 * neigh_delete) carries no MAC any more (the entry is made FAILED first): whether vtepd wants
 * it is found out by its address, in a walk of the mirror before the repair. */
enum { PEND_WANTED, PEND_UNRESOLVED, PEND_NOT_WANTED };

struct pend {
	struct strike_key key;
	struct mac mac;               /* a neighbour's, once known */
	uint8_t state;
};

struct dseg {
	uint32_t vni;
	int br, vx;
	char bridge[IF_NAMESIZE];
	struct mac br_mac;
	bool br_up, vx_up, gone;
	int vx_master;
	int assign_type;              /* of the bridge's address, or -errno: unknown */
	unsigned dirty;               /* KREPAIR_* tables to repair */
	struct monotime first;        /* the first deletion (or change) the repair is for */
	struct monotime last;         /* the last deletion */
	struct monotime due;
	struct monotime link_at;      /* the last link change */
	struct monotime last_done;
	int64_t took_us;              /* the last repair's own time */
	bool forced;                  /* to repair even with no wanted deletion (a link change,
				       * lost notifications, a hold's end) */
	uint64_t pending;             /* wanted entries deleted since the last repair, and
				       * deletions beyond the first PENDING_KEYS_MAX */
	struct pend *keys;            /* the first PENDING_KEYS_MAX deletions */
	size_t nkeys, nunresolved;
	bool overflow;                /* there were more */
};

struct drift {
	struct vtepd *v;
	struct nl mon, req;
	struct event *ev_mon, *ev_repair, *ev_hold;
	struct dseg segs[MAX_SEGS];
	size_t nsegs;
	struct strikes strikes;
	/* The neighbour vtepd itself is deleting: neigh_delete makes it FAILED (notified with
	 * the requester's port) right before the RTM_DELNEIGH (notified without). */
	struct strike_key own_del;
	int own_del_ifindex;
	struct drift_stats c;
	struct ratelimit rl;
	struct {
		struct mmsghdr msgs[RECV_BATCH];
		struct iovec iov[RECV_BATCH];
		char bufs[RECV_BATCH][RECV_BYTES];
	} rx;
};

static struct timeval tv_us(int64_t us)
{
	if (us < 0)
		us = 0;
	return (struct timeval){ .tv_sec = us / USEC_PER_SEC, .tv_usec = us % USEC_PER_SEC };
}

/* --- links ------------------------------------------------------------------------------- */

struct linkstate {
	bool have_mac;
	struct mac mac;
	int master;
	bool up;
};

static void link_parse(const struct nlmsghdr *nlh, struct linkstate *ls)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	memset(ls, 0, sizeof(*ls));
	ls->up = ifi->ifi_flags & IFF_UP;
	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		uint16_t len = mnl_attr_get_payload_len(a);

		if (mnl_attr_get_type(a) == IFLA_ADDRESS && len == MAC_LEN) {
			memcpy(ls->mac.b, mnl_attr_get_payload(a), MAC_LEN);
			ls->have_mac = true;
		} else if (mnl_attr_get_type(a) == IFLA_MASTER && len == 4) {
			ls->master = (int)mnl_attr_get_u32(a);
		}
	}
}

static int link_get_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type == RTM_NEWLINK && nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*ifi)))
		link_parse(nlh, data);
	return MNL_CB_OK;
}

static int link_get(struct drift *d, int ifindex, struct linkstate *ls)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	memset(ls, 0, sizeof(*ls));
	nlh->nlmsg_type = RTM_GETLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nl_request_cb(&d->req, nlh, link_get_cb, ls);
}

static const char *assign_name(int type)
{
	static const char *const names[] = { "permanent", "random", "stolen", "set" };

	return type >= 0 && type < 4 ? names[type] : "unknown";
}

/* Reads how the bridge's address was assigned; warns when it is not fixed. */
static void bridge_check(struct dseg *s, bool changed)
{
	int was = s->assign_type;

	s->assign_type = kernel_addr_assign_type(s->bridge, s->br);
	if (s->assign_type == KERNEL_ADDR_SET) {
		if (changed && was >= 0 && was != KERNEL_ADDR_SET)
			log_info("drift: bridge %s (vni %u) has a fixed address now", s->bridge,
				 s->vni);
		return;
	}
	if (changed && was == s->assign_type)
		return;
	if (s->assign_type < 0)
		log_warn("drift: bridge %s (vni %u): cannot tell whether its address is fixed: %s",
			 s->bridge, s->vni, strerror(-s->assign_type));
	else
		log_warn("drift: bridge %s (vni %u) has no fixed address (addr_assign_type %d, %s): "
			 "a port that comes or goes can change it, and the kernel then flushes the "
			 "bridge's neighbours, vtepd's suppression entries among them; vtepd puts "
			 "them back, but a fixed one (ip link set %s address ...) avoids the gap",
			 s->bridge, s->vni, s->assign_type, assign_name(s->assign_type),
			 s->bridge);
}

/* --- scheduling ------------------------------------------------------------------------------ */

static void arm(struct drift *d)
{
	struct monotime next = { 0 }, now = monotime_now();
	struct timeval tv;

	for (size_t i = 0; i < d->nsegs; i++)
		if (d->segs[i].dirty)
			next = monotime_min(next, d->segs[i].due);
	if (!monotime_is_set(next)) {
		event_del(d->ev_repair);
		return;
	}
	tv = tv_us(monotime_diff_us(next, now));
	event_add(d->ev_repair, &tv);
}

/* The segment's tables need a repair: due REPAIR_DELAY_US after the first reason for it, and
 * no sooner after the last repair than (REPAIR_SHARE - 1) times what that one took, so that
 * repairs of a segment never take more than 1/REPAIR_SHARE of the time, however often its
 * entries go (an FDB dump of 100k entries takes seconds). */
static void schedule(struct drift *d, struct dseg *s, unsigned tables, struct monotime now)
{
	if (!s->dirty) {
		s->forced = false;
		struct monotime due = monotime_add_us(now, REPAIR_DELAY_US);

		if (monotime_is_set(s->last_done)) {
			struct monotime after = monotime_add_us(s->last_done,
								(REPAIR_SHARE - 1) * s->took_us);

			if (monotime_diff_us(after, due) > 0)
				due = after;
		}
		s->first = now;
		s->due = due;
		s->dirty = tables;
		arm(d);
		return;
	}
	s->dirty |= tables;
}

/* A repair for another reason than a deletion of a wanted entry. */
static void schedule_forced(struct drift *d, struct dseg *s, unsigned tables,
			    struct monotime now)
{
	schedule(d, s, tables, now);
	s->forced = true;
}

/* A deletion of an entry of ours: wanted (the mirror has it; mac: the neighbour's, or the FDB
 * entry's) or unresolved (a neighbour without its MAC: mac NULL). Beyond the first PENDING_KEYS_MAX of a batch, deletions are counted
 * without being looked at (as wanted: the repair adds only what the mirror has). */
static void note_deleted(struct drift *d, struct dseg *s, unsigned table,
			 const struct strike_key *key, const struct mac *mac)
{
	bool unresolved = !mac;

	if (s->nkeys < PENDING_KEYS_MAX && !s->keys)
		s->keys = malloc(PENDING_KEYS_MAX * sizeof(*s->keys));
	if (s->nkeys < PENDING_KEYS_MAX && s->keys) {
		s->keys[s->nkeys++] = (struct pend){ *key, mac ? *mac : mac_zero,
						     unresolved ? PEND_UNRESOLVED : PEND_WANTED };
		if (unresolved)
			s->nunresolved++;
		else
			s->pending++;
	} else {
		s->pending++;
		s->overflow = true;
	}
	s->last = monotime_now();
	schedule(d, s, table, s->last);
}

/* --- notifications ----------------------------------------------------------------------- */

static struct dseg *seg_by_br(struct drift *d, int ifindex)
{
	for (size_t i = 0; i < d->nsegs; i++)
		if (d->segs[i].br == ifindex && !d->segs[i].gone)
			return &d->segs[i];
	return NULL;
}

static struct dseg *seg_by_vx(struct drift *d, int ifindex)
{
	for (size_t i = 0; i < d->nsegs; i++)
		if (d->segs[i].vx == ifindex && !d->segs[i].gone)
			return &d->segs[i];
	return NULL;
}

static const struct seg *vseg(struct drift *d, const struct dseg *s)
{
	return &d->v->segs[s - d->segs];
}

static bool want_has_ip(const struct want *w, const struct ipaddr *ip)
{
	for (size_t i = 0; w && i < w->nips; i++)
		if (ipaddr_eq(&w->ips[i], ip))
			return true;
	return false;
}

static int ip_cmp(const void *x, const void *y)
{
	return ipaddr_cmp(x, y);
}

static bool in_sorted(const struct ipaddr *set, size_t n, const struct ipaddr *a)
{
	return n && bsearch(a, set, n, sizeof(*set), ip_cmp);
}

struct neigh_msg {
	struct ipaddr ip, dst;
	struct mac mac;
	bool have_mac, master, odd;
	uint8_t proto;
};

static void neigh_parse(const struct nlmsghdr *nlh, struct neigh_msg *m)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	memset(m, 0, sizeof(*m));
	mnl_attr_for_each(a, nlh, sizeof(*ndm)) {
		uint16_t len = mnl_attr_get_payload_len(a);

		switch (mnl_attr_get_type(a)) {
		case NDA_DST:
			if (len == 4 || len == 16) {
				m->dst.af = len == 4 ? AF_INET : AF_INET6;
				memcpy(m->dst.b, mnl_attr_get_payload(a), len);
			}
			break;
		case NDA_LLADDR:
			if (len == MAC_LEN) {
				memcpy(m->mac.b, mnl_attr_get_payload(a), MAC_LEN);
				m->have_mac = true;
			}
			break;
		case NDA_PROTOCOL:
			if (len == 1)
				m->proto = mnl_attr_get_u8(a);
			break;
		case NDA_MASTER:
			m->master = true;
			break;
		case NDA_PORT:
		case NDA_VNI:
		case NDA_IFINDEX:
		case NDA_SRC_VNI:
		case NDA_NH_ID:
			m->odd = true;           /* never what vtepd installs */
			break;
		case NDA_VLAN:
			m->odd |= len == 2 && mnl_attr_get_u16(a) != 0;
			break;
		}
	}
	/* For a neighbour, NDA_DST is its IP. */
	if (ndm->ndm_family == AF_INET || ndm->ndm_family == AF_INET6)
		m->ip = m->dst;
}

static void on_delneigh(struct drift *d, const struct nlmsghdr *nlh)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct vtepd *v = d->v;
	struct neigh_msg m;
	struct strike_key key;
	const struct want *w;
	struct dseg *s;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ndm)))
		return;
	neigh_parse(nlh, &m);
	if (ndm->ndm_family == AF_INET || ndm->ndm_family == AF_INET6) {
		s = seg_by_br(d, ndm->ndm_ifindex);
		if (!s || m.proto != KERNEL_RTPROT || !m.ip.af)
			return;
		strike_key_set(&key, s->vni, STRIKE_NEIGH, m.ip.b, ipaddr_len(&m.ip));
		if (d->own_del_ifindex == ndm->ndm_ifindex && !memcmp(&key, &d->own_del, sizeof(key))) {
			d->own_del_ifindex = 0;
			d->c.not_wanted++;          /* vtepd's own removal */
			return;
		}
		if (!m.have_mac) {
			note_deleted(d, s, KREPAIR_NEIGH, &key, NULL);
			return;
		}
		w = macmap_get(&v->want, s->vni, m.mac.b);
		if (!want_has_ip(w, &m.ip)) {
			d->c.not_wanted++;
			return;
		}
		note_deleted(d, s, KREPAIR_NEIGH, &key, &m.mac);
		return;
	}
	if (ndm->ndm_family != AF_BRIDGE || !m.have_mac || m.odd)
		return;
	s = seg_by_vx(d, ndm->ndm_ifindex);
	if (!s)
		return;
	if ((ndm->ndm_flags & NTF_SELF) && mac_eq(&m.mac, &mac_zero)) {
		/* A flood remote: ours when its VTEP is one the segment floods to. */
		const struct seg *vs = vseg(d, s);

		if (!m.dst.af)
			return;
		if (!in_sorted(vs->flood, vs->nflood, &m.dst)) {
			if (vtepset_has(&v->known, &m.dst))
				d->c.not_wanted++;
			return;
		}
		strike_key_set(&key, s->vni, STRIKE_FLOOD, m.dst.b, ipaddr_len(&m.dst));
		note_deleted(d, s, KREPAIR_FDB, &key, &m.mac);
		return;
	}
	/* A unicast entry: the vxlan driver's (NTF_SELF, the VTEP) or the bridge's (NDA_MASTER,
	 * the port), ours when extern_learn. */
	if (!(ndm->ndm_flags & NTF_EXT_LEARNED) || !((ndm->ndm_flags & NTF_SELF) || m.master))
		return;
	w = macmap_get(&v->want, s->vni, m.mac.b);
	if (!w || !w->has_dst || ((ndm->ndm_flags & NTF_SELF) && !ipaddr_eq(&w->dst, &m.dst))) {
		d->c.not_wanted++;
		return;
	}
	strike_key_set(&key, s->vni, STRIKE_FDB, m.mac.b, MAC_LEN);
	note_deleted(d, s, KREPAIR_FDB, &key, &m.mac);
}

/* RTM_NEWNEIGH: remembers a neighbour of ours that vtepd's own request makes FAILED. */
static void on_newneigh(struct drift *d, const struct nlmsghdr *nlh)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct neigh_msg m;
	struct dseg *s;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ndm)) || !nlh->nlmsg_pid ||
	    nlh->nlmsg_pid != kernel_portid(d->v->k) || !(ndm->ndm_state & NUD_FAILED) ||
	    (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6))
		return;
	s = seg_by_br(d, ndm->ndm_ifindex);
	neigh_parse(nlh, &m);
	if (!s || m.proto != KERNEL_RTPROT || !m.ip.af)
		return;
	strike_key_set(&d->own_del, s->vni, STRIKE_NEIGH, m.ip.b, ipaddr_len(&m.ip));
	d->own_del_ifindex = ndm->ndm_ifindex;
}

static void link_changed(struct drift *d, struct dseg *s, struct monotime now)
{
	s->link_at = now;
	d->c.link_changes++;
}

static void on_link(struct drift *d, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct monotime now = monotime_now();
	char a[MAC_STRLEN], b[MAC_STRLEN];
	struct linkstate ls;

	/* AF_BRIDGE link messages are about bridge ports (one is sent when a port leaves its
	 * bridge, as RTM_DELLINK): the device's own come as AF_UNSPEC. */
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)) || ifi->ifi_family != AF_UNSPEC)
		return;
	for (size_t i = 0; i < d->nsegs; i++) {
		struct dseg *s = &d->segs[i];
		bool is_br = s->br == ifi->ifi_index, is_vx = s->vx == ifi->ifi_index;

		if ((!is_br && !is_vx) || s->gone)
			continue;
		if (nlh->nlmsg_type == RTM_DELLINK) {
			s->gone = true;
			s->dirty = 0;
			link_changed(d, s, now);
			log_warn("drift: %s of vni %u was deleted: vtepd puts nothing back on it "
				 "until it is started again", is_br ? s->bridge : "the vx device",
				 s->vni);
			arm(d);
			continue;
		}
		link_parse(nlh, &ls);
		if (is_br) {
			if (ls.have_mac && !mac_eq(&ls.mac, &s->br_mac)) {
				link_changed(d, s, now);
				log_info("drift: bridge %s (vni %u): address %s -> %s", s->bridge,
					 s->vni, mac_fmt(&s->br_mac, a), mac_fmt(&ls.mac, b));
				s->br_mac = ls.mac;
				bridge_check(s, true);
				schedule_forced(d, s, KREPAIR_NEIGH, now);
			}
			if (ls.up != s->br_up) {
				link_changed(d, s, now);
				s->br_up = ls.up;
				if (ls.up)
					schedule_forced(d, s, KREPAIR_NEIGH, now);
			}
		}
		if (is_vx && (ls.master != s->vx_master || ls.up != s->vx_up)) {
			link_changed(d, s, now);
			s->vx_master = ls.master;
			s->vx_up = ls.up;
			if (ls.master != s->br)
				log_rl(&d->rl, LOG_LVL_WARN, "drift: vx%u is not a port of %s: its "
				       "entries cannot be put back until it is again", s->vni,
				       s->bridge);
			else if (ls.up)
				schedule_forced(d, s, KREPAIR_FDB | KREPAIR_NEIGH, now);
		}
	}
}

static int mon_msg(const struct nlmsghdr *nlh, void *data)
{
	struct drift *d = data;

	/* While a full table arrives the mirror is partial: the reconcile at its end decides
	 * about entries (links are followed all the same). */
	if (nlh->nlmsg_type == RTM_DELNEIGH && !d->v->in_full)
		on_delneigh(d, nlh);
	else if (nlh->nlmsg_type == RTM_NEWNEIGH && !d->v->in_full)
		on_newneigh(d, nlh);
	else if (nlh->nlmsg_type == RTM_NEWLINK || nlh->nlmsg_type == RTM_DELLINK)
		on_link(d, nlh);
	return MNL_CB_OK;
}

static void lost(struct drift *d)
{
	struct monotime now = monotime_now();

	d->c.events_lost++;
	log_rl(&d->rl, LOG_LVL_WARN, "drift: netlink notifications lost: repairing every segment");
	for (size_t i = 0; i < d->nsegs; i++)
		if (!d->segs[i].gone)
			schedule_forced(d, &d->segs[i], KREPAIR_FDB | KREPAIR_NEIGH, now);
}

/* Reads at most max datagrams, RECV_BATCH per recvmmsg (a flush is thousands of them, one
 * notification each); false once the socket is empty. */
static bool mon_read(struct drift *d, int max)
{
	/* Segments a reload added, if nobody said so (drift_segments_added). */
	if (d->nsegs < d->v->nsegs)
		drift_segments_added(d);
	for (int done = 0; done < max;) {
		int n = recvmmsg(nl_fd(&d->mon), d->rx.msgs, RECV_BATCH, MSG_DONTWAIT, NULL);

		if (n < 0) {
			if (errno == ENOBUFS) {
				lost(d);
				done++;
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_rl(&d->rl, LOG_LVL_WARN, "drift: netlink monitor: %s",
				       strerror(errno));
			return false;
		}
		/* seq 0, portid 0: notifications are not checked against a request. */
		for (int i = 0; i < n; i++)
			mnl_cb_run(d->rx.bufs[i], d->rx.msgs[i].msg_len, 0, 0, mon_msg, d);
		done += n;
		if (n < RECV_BATCH)
			return false;
	}
	return true;
}

/* The kernel drops, before queueing them, the notifications drift has no use for: every
 * RTM_NEWNEIGH but a FAILED one (a repair of 10k entries would queue 10k of them). Classic
 * BPF loads halfwords big-endian: the constants are the host's values read that way. */
static int mon_filter(struct nl *nl)
{
	struct sock_filter code[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, offsetof(struct nlmsghdr, nlmsg_type)),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohs(RTM_NEWNEIGH), 0, 2),
		/* 2 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS,
				 sizeof(struct nlmsghdr) + offsetof(struct ndmsg, ndm_state)),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, ntohs(NUD_FAILED), 0, 1),
		/* 4 */ BPF_STMT(BPF_RET | BPF_K, 0xffffffff),       /* keep */
		/* 5 */ BPF_STMT(BPF_RET | BPF_K, 0),                /* drop */
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	if (setsockopt(nl_fd(nl), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		return -errno;
	return 0;
}

static void on_mon(evutil_socket_t fd, short what, void *arg)
{
	mon_read(arg, MON_BUDGET);
}

/* --- repairs ------------------------------------------------------------------------------ */

struct build {
	struct drift *d;
	struct kdesired *kd[MAX_SEGS];    /* per segment to repair, else NULL */
	bool keyed[MAX_SEGS];             /* built from its deletions alone (build_keys) */
	int64_t now;
	int err;
};

static bool held(struct drift *d, uint32_t vni, enum strike_kind kind, const void *b,
		 size_t len, int64_t now)
{
	struct strike_key key;

	if (!d->strikes.held)
		return false;
	strike_key_set(&key, vni, kind, b, len);
	return strikes_held(&d->strikes, &key, now);
}

static int build_one(void *val, void *ctx)
{
	const struct want *w = val;
	struct build *b = ctx;
	struct drift *d = b->d;

	for (size_t i = 0; i < d->nsegs; i++) {
		struct kdesired *kd = b->kd[i];

		if (!kd || b->keyed[i] || d->segs[i].vni != w->vni)
			continue;
		if ((d->segs[i].dirty & KREPAIR_FDB) && w->has_dst &&
		    !held(d, w->vni, STRIKE_FDB, w->mac.b, MAC_LEN, b->now) &&
		    kdesired_fdb(kd, w->vni, &w->mac, &w->dst, 1) < 0)
			b->err = -ENOMEM;
		for (size_t k = 0; (d->segs[i].dirty & KREPAIR_NEIGH) && k < w->nips; k++)
			if (!held(d, w->vni, STRIKE_NEIGH, w->ips[k].b, ipaddr_len(&w->ips[k]),
				  b->now) &&
			    kdesired_neigh(kd, w->vni, &w->ips[k], &w->mac) < 0)
				b->err = -ENOMEM;
		break;
	}
	return 0;
}

static int pend_cmp(const void *x, const void *y)
{
	return memcmp(&((const struct pend *)x)->key, &((const struct pend *)y)->key,
		      sizeof(struct strike_key));
}

struct resolve {
	struct drift *d;
	bool seg[MAX_SEGS];           /* due, with unresolved deletions (keys sorted) */
};

/* Marks the unresolved deletions of key in s wanted (equal keys are neighbours when sorted). */
static void resolve_key(struct dseg *s, const struct strike_key *key, const struct mac *mac)
{
	struct pend k = { .key = *key };
	struct pend *p = bsearch(&k, s->keys, s->nkeys, sizeof(*s->keys), pend_cmp);

	if (!p)
		return;
	while (p > s->keys && !pend_cmp(p - 1, &k))
		p--;
	for (; p < s->keys + s->nkeys && !pend_cmp(p, &k); p++) {
		if (p->state != PEND_UNRESOLVED)
			continue;
		p->state = PEND_WANTED;
		p->mac = *mac;
		s->nunresolved--;
		s->pending++;
	}
}

static int resolve_one(void *val, void *ctx)
{
	const struct want *w = val;
	struct resolve *r = ctx;

	for (size_t i = 0; i < r->d->nsegs; i++) {
		struct dseg *s = &r->d->segs[i];
		struct strike_key key;

		if (!r->seg[i] || s->vni != w->vni)
			continue;
		for (size_t k = 0; k < w->nips && s->nunresolved; k++) {
			strike_key_set(&key, w->vni, STRIKE_NEIGH, w->ips[k].b,
				       ipaddr_len(&w->ips[k]));
			resolve_key(s, &key, &w->mac);
		}
		break;
	}
	return 0;
}

/* Which of the neighbours deleted without their MAC vtepd wants: one walk of the mirror for
 * every segment due. The others are not wanted (counted, no strikes). */
static void resolve(struct drift *d, const bool *due)
{
	struct resolve r = { .d = d };
	bool any = false;

	for (size_t i = 0; i < d->nsegs; i++) {
		struct dseg *s = &d->segs[i];

		if (!due[i] || !s->nunresolved)
			continue;
		if (s->nkeys > 1)
			qsort(s->keys, s->nkeys, sizeof(*s->keys), pend_cmp);
		r.seg[i] = any = true;
	}
	if (!any)
		return;
	macmap_foreach(&d->v->want, resolve_one, &r);
	for (size_t i = 0; i < d->nsegs; i++) {
		struct dseg *s = &d->segs[i];

		if (!r.seg[i])
			continue;
		for (size_t k = 0; k < s->nkeys; k++)
			if (s->keys[k].state == PEND_UNRESOLVED)
				s->keys[k].state = PEND_NOT_WANTED;
		d->c.not_wanted += s->nunresolved;
		s->nunresolved = 0;
	}
}

/* Few deletions and nothing else to look at: the repair asks the kernel about those entries
 * only (kernel_repair_keys), and their desired state comes from the mirror by MAC, without a
 * walk. Flood remotes take the dump. */
static bool keyed_ok(const struct dseg *s)
{
	size_t n = 0;

	if (s->forced || s->overflow)
		return false;
	for (size_t i = 0; i < s->nkeys; i++) {
		if (s->keys[i].state != PEND_WANTED)
			continue;
		if (s->keys[i].key.kind == STRIKE_FLOOD || ++n > REPAIR_KEYS_MAX)
			return false;
	}
	return n > 0;
}

static struct ipaddr key_ip(const struct strike_key *k)
{
	struct ipaddr a = { .af = k->len == 4 ? AF_INET : AF_INET6 };

	memcpy(a.b, k->b, k->len);
	return a;
}

static int build_keys(struct drift *d, const struct dseg *s, struct kdesired *kd, int64_t now)
{
	for (size_t i = 0; i < s->nkeys; i++) {
		const struct pend *p = &s->keys[i];
		bool fdb = p->key.kind == STRIKE_FDB;
		const struct want *w;
		struct ipaddr ip;

		if (p->state != PEND_WANTED)
			continue;
		w = macmap_get(&d->v->want, s->vni, fdb ? p->key.b : p->mac.b);
		if (!w || held(d, s->vni, p->key.kind, p->key.b, p->key.len, now))
			continue;
		ip = key_ip(&p->key);
		if (fdb && w->has_dst && kdesired_fdb(kd, s->vni, &w->mac, &w->dst, 1) < 0)
			return -ENOMEM;
		if (!fdb && want_has_ip(w, &ip) && kdesired_neigh(kd, s->vni, &ip, &w->mac) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int repair_keys(struct drift *d, const struct dseg *s, const struct kdesired *kd,
		       struct kstats *st)
{
	struct ipaddr ips[REPAIR_KEYS_MAX];
	struct mac macs[REPAIR_KEYS_MAX];
	size_t nips = 0, nmacs = 0;

	for (size_t i = 0; i < s->nkeys && nips + nmacs < REPAIR_KEYS_MAX; i++) {
		const struct pend *p = &s->keys[i];

		if (p->state != PEND_WANTED)
			continue;
		if (p->key.kind == STRIKE_FDB)
			memcpy(macs[nmacs++].b, p->key.b, MAC_LEN);
		else
			ips[nips++] = key_ip(&p->key);
	}
	return kernel_repair_keys(d->v->k, kd, ips, nips, macs, nmacs, st);
}

static uint64_t kc_repaired(const struct kcount *c)
{
	return (uint64_t)c->added + c->updated;
}

static const char *key_fmt(const struct strike_key *k, char *buf)
{
	struct ipaddr a = key_ip(k);

	if (k->kind == STRIKE_FDB)
		return mac_fmt((const struct mac *)k->b, buf);
	return ipaddr_fmt(&a, buf);
}

/* Who deleted what the repair is for; strikes for someone else's deletions. True: the
 * kernel, with a link change. */
static bool attribute(struct drift *d, struct dseg *s, int64_t now)
{
	bool link = monotime_is_set(s->link_at) &&
		    monotime_diff_us(s->link_at, s->first) >= -LINK_WINDOW_US;
	char buf[IPADDR_STRLEN];

	if (link) {
		d->c.flushed_by_link_change += s->pending;
		return true;
	}
	d->c.deleted_by_operator += s->pending;
	for (size_t i = 0; i < s->nkeys; i++) {
		const struct strike_key *k = &s->keys[i].key;

		if (s->keys[i].state != PEND_WANTED ||
		    strikes_hit(&d->strikes, k, now) != STRIKE_BACKOFF)
			continue;
		d->c.backed_off++;
		log_warn("drift: vni %u: %s %s was deleted more than %d times in %d s: not put "
			 "back for %d s", k->vni, k->kind == STRIKE_NEIGH ? "neighbour" :
			 k->kind == STRIKE_FDB ? "FDB entry" : "flood remote", key_fmt(k, buf),
			 STRIKES_MAX, (int)(STRIKES_WINDOW_US / USEC_PER_SEC),
			 (int)(HOLD_US / USEC_PER_SEC));
		if (!event_pending(d->ev_hold, EV_TIMEOUT, NULL)) {
			struct timeval tv = tv_us(HOLD_US);

			event_add(d->ev_hold, &tv);
		}
	}
	return false;
}

/* Repairs every segment that is due, in one walk of the mirror. */
static void repair_due(struct drift *d, struct monotime now)
{
	struct build b = { .d = d, .now = now.us };
	struct vtepd *v = d->v;
	bool due[MAX_SEGS] = { false }, link[MAX_SEGS] = { false }, any = false, walk = false;
	struct monotime walk_t0;
	int64_t walk_us;

	for (size_t i = 0; i < d->nsegs; i++) {
		struct dseg *s = &d->segs[i];

		due[i] = s->dirty && monotime_diff_us(s->due, now) <= 0;
		/* A flush still under way (deletions less than QUIET_US ago) is waited for, so that
		 * it is one batch, up to COALESCE_MAX_US after its first deletion. */
		if (due[i] && monotime_is_set(s->last) &&
		    monotime_diff_us(now, s->last) < QUIET_US &&
		    monotime_diff_us(now, s->first) < COALESCE_MAX_US) {
			s->due = monotime_min(monotime_add_us(s->last, QUIET_US),
					      monotime_add_us(s->first, COALESCE_MAX_US));
			due[i] = false;
		}
		any |= due[i];
	}
	if (!any)
		return;
	/* The walks of the mirror (a neighbour's MAC, the desired state) count in each segment's
	 * share too. */
	walk_t0 = monotime_now();
	resolve(d, due);
	/* Only deletions vtepd does not want: nothing to put back, no dump. */
	for (size_t i = 0; i < d->nsegs; i++) {
		struct dseg *s = &d->segs[i];

		if (due[i] && !s->pending && !s->forced) {
			due[i] = false;
			s->dirty = 0;
			s->nkeys = 0;
			s->overflow = false;
			s->last = (struct monotime){ 0 };
		}
	}
	for (size_t i = 0; i < d->nsegs; i++) {
		struct dseg *s = &d->segs[i];
		const struct seg *vs = &v->segs[i];

		if (!due[i])
			continue;
		link[i] = attribute(d, s, now.us);
		b.kd[i] = kdesired_new();
		if (!b.kd[i] || kdesired_vni(b.kd[i], s->vni) < 0) {
			b.err = -ENOMEM;
			continue;
		}
		b.keyed[i] = keyed_ok(s);
		if (b.keyed[i]) {
			if (build_keys(d, s, b.kd[i], now.us) < 0)
				b.err = -ENOMEM;
			continue;
		}
		walk = true;
		for (size_t k = 0; (s->dirty & KREPAIR_FDB) && k < vs->nflood; k++)
			if (!held(d, s->vni, STRIKE_FLOOD, vs->flood[k].b,
				  ipaddr_len(&vs->flood[k]), now.us) &&
			    kdesired_flood(b.kd[i], s->vni, &vs->flood[k]) < 0)
				b.err = -ENOMEM;
	}
	if (!b.err && walk)
		macmap_foreach(&v->want, build_one, &b);
	walk_us = monotime_diff_us(monotime_now(), walk_t0);
	for (size_t i = 0; i < d->nsegs; i++) {
		struct dseg *s = &d->segs[i];
		struct kstats st = { 0 };
		struct monotime t0;
		bool keyed = false;
		uint64_t fixed;
		int64_t took;
		int ret;

		if (!due[i])
			continue;
		/* Out of memory: this batch is given up (counted); the next deletion, or the next
		 * full table, tries again. */
		t0 = monotime_now();
		keyed = b.keyed[i];
		ret = b.err ? b.err : keyed ? repair_keys(d, s, b.kd[i], &st) :
					       kernel_repair(v->k, b.kd[i], s->dirty, &st);
		s->took_us = walk_us + monotime_diff_us(monotime_now(), t0);
		kdesired_free(b.kd[i]);
		fixed = kc_repaired(&st.fdb) + kc_repaired(&st.flood) + kc_repaired(&st.neigh);
		took = monotime_diff_us(monotime_now(), s->first);
		d->c.repairs++;
		d->c.repaired += fixed;
		d->c.conflicts += st.fdb.conflicts + st.flood.conflicts + st.neigh.conflicts;
		if (ret < 0 || st.errors)
			d->c.errors++;
		d->c.last_repair_us = took;
		if (took > d->c.max_repair_us)
			d->c.max_repair_us = took;
		if (fixed || s->pending || ret < 0)
			log_rl(&d->rl, ret < 0 ? LOG_LVL_WARN : LOG_LVL_INFO,
			       "drift: vni %u: put back %llu entr%s (%llu deleted%s): %s, %lld us "
			       "after the first (mirror %lld us, %s %lld us, requests %lld us)",
			       s->vni, (unsigned long long)fixed, fixed == 1 ? "y" : "ies",
			       (unsigned long long)s->pending,
			       !s->pending ? "" : link[i] ? " with a link change" : " by someone",
			       ret < 0 ? strerror(-ret) : "ok", (long long)took, (long long)walk_us,
			       keyed ? "lookups" : "dump", (long long)st.dump_us,
			       (long long)st.program_us);
		s->dirty = 0;
		s->pending = 0;
		s->nkeys = 0;
		s->overflow = false;
		s->last = (struct monotime){ 0 };
		s->last_done = monotime_now();
	}
}

static void on_repair(evutil_socket_t fd, short what, void *arg)
{
	struct drift *d = arg;
	struct monotime now;

	/* What is queued first: the rest of a flush belongs to this batch. */
	mon_read(d, DRAIN_MAX);
	now = monotime_now();
	if (d->v->in_full) {
		for (size_t i = 0; i < d->nsegs; i++)
			if (d->segs[i].dirty)
				d->segs[i].due = monotime_add_us(now, FULL_TABLE_WAIT_US);
		arm(d);
		return;
	}
	repair_due(d, now);
	arm(d);
}

static void hold_ended(void *ctx, const struct strike_key *k)
{
	struct drift *d = ctx;

	for (size_t i = 0; i < d->nsegs; i++)
		if (d->segs[i].vni == k->vni && !d->segs[i].gone)
			schedule_forced(d, &d->segs[i],
					k->kind == STRIKE_NEIGH ? KREPAIR_NEIGH : KREPAIR_FDB,
					monotime_now());
}

static void on_hold(evutil_socket_t fd, short what, void *arg)
{
	struct drift *d = arg;
	struct monotime now = monotime_now();
	int64_t next = strikes_expire(&d->strikes, now.us, hold_ended, d);

	if (next) {
		struct timeval tv = tv_us(next - now.us);

		event_add(d->ev_hold, &tv);
	}
}

/* --- the API --------------------------------------------------------------------------------- */

int drift_segments_added(struct drift *d)
{
	const struct vtepd *v = d->v;

	while (d->nsegs < v->nsegs) {
		struct dseg *s = &d->segs[d->nsegs];
		const struct seg *vs = &v->segs[d->nsegs];
		struct linkstate br, vx;
		int ret;

		*s = (struct dseg){ .vni = vs->vni, .br = vs->br_ifindex, .vx = vs->vx_ifindex };
		snprintf(s->bridge, sizeof(s->bridge), "%s", vs->bridge);
		ret = link_get(d, s->br, &br);
		if (!ret)
			ret = link_get(d, s->vx, &vx);
		if (ret) {
			log_rl(&d->rl, LOG_LVL_ERR, "drift: vni %u: reading its devices: %s", s->vni,
			       strerror(-ret));
			return ret;
		}
		s->br_mac = br.mac;
		s->br_up = br.up;
		s->vx_master = vx.master;
		s->vx_up = vx.up;
		s->assign_type = -ENODATA;
		bridge_check(s, false);
		d->nsegs++;
	}
	return 0;
}

struct drift *drift_new(struct vtepd *v, int *err)
{
	struct drift *d = calloc(1, sizeof(*d));
	int ret;

	if (!d) {
		*err = -ENOMEM;
		return NULL;
	}
	d->v = v;
	d->rl = (struct ratelimit)RATELIMIT_INIT(1000, 20);
	for (int i = 0; i < RECV_BATCH; i++) {
		d->rx.iov[i] = (struct iovec){ d->rx.bufs[i], RECV_BYTES };
		d->rx.msgs[i].msg_hdr.msg_iov = &d->rx.iov[i];
		d->rx.msgs[i].msg_hdr.msg_iovlen = 1;
	}
	ret = strikes_init(&d->strikes, STRIKES_CAPACITY, STRIKES_MAX, STRIKES_WINDOW_US, HOLD_US);
	if (!ret)
		ret = nl_open(&d->req, 0);
	if (!ret)
		ret = nl_open(&d->mon, RTMGRP_NEIGH | RTMGRP_LINK);
	if (!ret && nl_set_bufsize(&d->mon, MON_BUFSIZE) < 0)
		log_warn("drift: no large netlink buffer: a big flush may overflow it (then every "
			 "segment is repaired)");
	if (!ret && mon_filter(&d->mon) < 0)
		log_warn("drift: no socket filter: every neighbour notification is read");
	if (!ret)
		ret = drift_segments_added(d);
	if (!ret) {
		d->ev_mon = event_new(v->base, nl_fd(&d->mon), EV_READ | EV_PERSIST, on_mon, d);
		d->ev_repair = evtimer_new(v->base, on_repair, d);
		d->ev_hold = evtimer_new(v->base, on_hold, d);
		if (!d->ev_mon || !d->ev_repair || !d->ev_hold || event_add(d->ev_mon, NULL) < 0)
			ret = -ENOMEM;
	}
	if (ret) {
		drift_free(d);
		*err = ret;
		return NULL;
	}
	return d;
}

void drift_free(struct drift *d)
{
	if (!d)
		return;
	if (d->ev_mon)
		event_free(d->ev_mon);
	if (d->ev_repair)
		event_free(d->ev_repair);
	if (d->ev_hold)
		event_free(d->ev_hold);
	nl_close(&d->mon);
	nl_close(&d->req);
	for (size_t i = 0; i < d->nsegs; i++)
		free(d->segs[i].keys);
	strikes_free(&d->strikes);
	free(d);
}

void drift_stats(const struct drift *d, struct drift_stats *out)
{
	*out = d->c;
	out->held = d->strikes.held;
	out->bridges_unfixed = 0;
	for (size_t i = 0; i < d->nsegs; i++)
		out->bridges_unfixed += !d->segs[i].gone && d->segs[i].assign_type >= 0 &&
					d->segs[i].assign_type != KERNEL_ADDR_SET;
}

#define U64(o, name, val) json_object_object_add(o, name, json_object_new_uint64(val))

json_object *drift_counters_json(const struct drift *d)
{
	json_object *o;
	struct drift_stats st;

	if (!d)
		return NULL;
	drift_stats(d, &st);
	o = json_object_new_object();
	U64(o, "deleted_by_operator", st.deleted_by_operator);
	U64(o, "flushed_by_link_change", st.flushed_by_link_change);
	U64(o, "not_wanted", st.not_wanted);
	U64(o, "repairs", st.repairs);
	U64(o, "repaired", st.repaired);
	U64(o, "conflicts", st.conflicts);
	U64(o, "backed_off", st.backed_off);
	U64(o, "held", st.held);
	U64(o, "link_changes", st.link_changes);
	U64(o, "events_lost", st.events_lost);
	U64(o, "errors", st.errors);
	json_object_object_add(o, "last_repair_us", json_object_new_int64(st.last_repair_us));
	json_object_object_add(o, "max_repair_us", json_object_new_int64(st.max_repair_us));
	return o;
}

static const struct dseg *dseg_of(const struct drift *d, uint32_t vni)
{
	for (size_t i = 0; d && i < d->nsegs; i++)
		if (d->segs[i].vni == vni)
			return &d->segs[i];
	return NULL;
}

void drift_segment_json(const struct drift *d, uint32_t vni, json_object *seg)
{
	const struct dseg *s = dseg_of(d, vni);
	char mac[MAC_STRLEN];

	if (!s)
		return;
	json_object_object_add(seg, "bridge_mac", json_object_new_string(mac_fmt(&s->br_mac, mac)));
	json_object_object_add(seg, "bridge_mac_fixed", s->assign_type < 0 ? NULL :
			       json_object_new_boolean(s->assign_type == KERNEL_ADDR_SET));
	json_object_object_add(seg, "bridge_addr_assign_type", s->assign_type < 0 ? NULL :
			       json_object_new_int(s->assign_type));
}

json_object *drift_warnings_json(const struct drift *d)
{
	json_object *a = json_object_new_array();
	char buf[256];

	for (size_t i = 0; d && i < d->nsegs; i++) {
		const struct dseg *s = &d->segs[i];

		if (s->gone)
			snprintf(buf, sizeof(buf), "vni %u: a device of the segment was deleted; "
				 "nothing is put back on it until vtepd starts again", s->vni);
		else if (s->assign_type < 0)
			snprintf(buf, sizeof(buf), "bridge %s: cannot tell whether its address is "
				 "fixed (%s)", s->bridge, strerror(-s->assign_type));
		else if (s->assign_type != KERNEL_ADDR_SET)
			snprintf(buf, sizeof(buf), "bridge %s has no fixed MAC address (%s): a port "
				 "that comes or goes can change it, and the kernel then flushes its "
				 "neighbours", s->bridge, assign_name(s->assign_type));
		else
			continue;
		json_object_array_add(a, json_object_new_string(buf));
	}
	return a;
}
