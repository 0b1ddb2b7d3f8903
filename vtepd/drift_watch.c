/*
 * drift_watch.c - drift's rtnetlink monitor (see drift.h): every RTM_DELNEIGH of vtepd's
 * entries sorted into wanted or not, link changes of the segments' bridges and vx devices,
 * the bridges' addresses, and the scheduling of the repairs drift.c runs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
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
#include "drift_int.h"

struct timeval drift_tv_us(int64_t us)
{
	if (us < 0)
		us = 0;
	return (struct timeval){ .tv_sec = us / USEC_PER_SEC, .tv_usec = us % USEC_PER_SEC };
}

/* --- links ------------------------------------------------------------------------------- */

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

int drift_link_get(struct drift *d, int ifindex, struct linkstate *ls)
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

const char *drift_assign_name(int type)
{
	static const char *const names[] = { "permanent", "random", "stolen", "set" };

	return type >= 0 && type < 4 ? names[type] : "unknown";
}

/* Reads how the bridge's address was assigned; warns when it is not fixed. */
void drift_bridge_check(struct dseg *s, bool changed)
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
			 s->bridge, s->vni, s->assign_type, drift_assign_name(s->assign_type),
			 s->bridge);
}

/* --- scheduling ------------------------------------------------------------------------------ */

void drift_arm(struct drift *d)
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
	tv = drift_tv_us(monotime_diff_us(next, now));
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
		drift_arm(d);
		return;
	}
	s->dirty |= tables;
}

/* A repair for another reason than a deletion of a wanted entry. */
void drift_schedule_forced(struct drift *d, struct dseg *s, unsigned tables,
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

bool drift_want_has_ip(const struct want *w, const struct ipaddr *ip)
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
		if (!drift_want_has_ip(w, &m.ip)) {
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
			drift_arm(d);
			continue;
		}
		link_parse(nlh, &ls);
		if (is_br) {
			if (ls.have_mac && !mac_eq(&ls.mac, &s->br_mac)) {
				link_changed(d, s, now);
				log_info("drift: bridge %s (vni %u): address %s -> %s", s->bridge,
					 s->vni, mac_fmt(&s->br_mac, a), mac_fmt(&ls.mac, b));
				s->br_mac = ls.mac;
				drift_bridge_check(s, true);
				drift_schedule_forced(d, s, KREPAIR_NEIGH, now);
			}
			if (ls.up != s->br_up) {
				link_changed(d, s, now);
				s->br_up = ls.up;
				if (ls.up)
					drift_schedule_forced(d, s, KREPAIR_NEIGH, now);
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
				drift_schedule_forced(d, s, KREPAIR_FDB | KREPAIR_NEIGH, now);
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
			drift_schedule_forced(d, &d->segs[i], KREPAIR_FDB | KREPAIR_NEIGH, now);
}

/* Reads at most max datagrams, RECV_BATCH per recvmmsg (a flush is thousands of them, one
 * notification each); false once the socket is empty. */
bool drift_mon_read(struct drift *d, int max)
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
int drift_mon_filter(struct nl *nl)
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

void drift_on_mon(evutil_socket_t fd, short what, void *arg)
{
	drift_mon_read(arg, MON_BUDGET);
}

