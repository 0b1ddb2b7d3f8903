/*
 * mcast.c - an edge's multicast (docs/switchd.md "Multicast"): the IGMP and MLD reports its
 * hosts send (the data plane punts them), read by lib/pkt/mcast into joins and leaves of
 * groups; the membership, per group the (port, host) pairs that joined, reported to fabricd
 * whole each time a group gains its first member on a port or loses its last; and fabricd's
 * answer, this switch's multicast table (any level), written to the data plane (sw_mcast).
 *
 * Bounds: WIRE_MAX_MCAST_GROUPS groups (the validator's; a join past it is refused and
 * counted), MCAST_MAX_MEMBERS hosts a group, SW_MAX_MCAST data plane entries, SW_MCAST_MAX_OUT
 * ports an entry (fabricd's entries past those are counted, not written).
 *
 * Rates, so that a host sending joins as fast as it can (or leaves and joins by turns) makes
 * neither this switch nor fabricd work at its pace: each host port's IGMP/MLD frames are read
 * at MCAST_PORT_RATE a second (a burst of MCAST_PORT_BURST; a token bucket per port, so that
 * one host does not take another port's), the rest dropped unread and counted
 * (reports_rate_limited); and a report goes to fabricd at most every MCAST_REPORT_MS, the
 * changes meanwhile coalesced into the next (reports_coalesced): at most 10 a second,
 * half of fabricd's PL_MCAST_REPORT_RATE. A host sends each change of its membership
 * [Robustness Variable] = 2 times, at most [Unsolicited Report Interval] = 1 s apart
 * (RFC 3376 5.1, 8.1, 8.11; RFC 3810 6.1, 9.1, 9.11): hosts that join a few groups a second
 * send a few frames a second, far below the port's rate. A join dropped over the rate is
 * lost (there is no querier to ask again): only the flooding host's own.
 *
 * Make before break: a new table's entries are written at once, the entries it no longer
 * has are removed MCAST_BREAK_MS later. When a tree moves, the switches of the old one keep
 * forwarding until the sender's edge, told last, has turned to the new one: frames of the
 * moment take the old path or the new, never none (each frame one path: no duplicate).
 *
 * Membership is soft only in the hosts' sense: there is no querier, so a host that goes away
 * without a leave stays a member until its port stops being a host port.
 */
#include <errno.h>
#include <event2/event.h>
#include <linux/filter.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "dp_mcast.h"
#include "log.h"
#include "pkt/drop.h"
#include "pkt/eth.h"
#include "pkt/mcast.h"
#include "rawsock.h"
#include "switchd.h"

/* IPv4 with protocol 2 (IGMP); IPv6 whose first next header is Hop-by-Hop (0): MLD's, which
 * mcast_frame then reads. The data plane punts nothing else of these to the stack. */
static const struct sock_filter igmp_filter[] = {
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 9),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};
static const struct sock_filter mld_filter[] = {
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 6),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

static struct ratelimit mcast_rl = RATELIMIT_INIT(1000, 5);

static bool is_host_port(const struct switchd *s, int port)
{
	return s->located && s->loc.level == LDP_LEVEL_EDGE && port >= 0 && port < s->loc.nports &&
	       s->loc.role[port] == LDP_ROLE_HOST;
}

static struct sw_mgroup *group_find(struct switchd *s, const struct ipaddr *g)
{
	for (size_t i = 0; i < s->nmgroups; i++)
		if (ipaddr_eq(&s->mgroups[i].group, g))
			return &s->mgroups[i];
	return NULL;
}

static bool port_in(const struct sw_mgroup *m, uint8_t port)
{
	for (uint16_t i = 0; i < m->n; i++)
		if (m->members[i].port == port)
			return true;
	return false;
}

/* The membership as fabricd wants it: groups and their host ports (by number). */
static void report_now(struct switchd *s)
{
	L2f__McastMembership mm = L2F__MCAST_MEMBERSHIP__INIT;
	L2f__Portland m = L2F__PORTLAND__INIT;
	L2f__McastGroup *g = calloc(s->nmgroups + 1, sizeof(*g));
	L2f__McastGroup **gp = calloc(s->nmgroups + 1, sizeof(*gp));
	uint32_t (*ports)[MCAST_MAX_MEMBERS] = calloc(s->nmgroups + 1, sizeof(*ports));

	if (!g || !gp || !ports)
		goto out;
	for (size_t i = 0; i < s->nmgroups; i++) {
		const struct sw_mgroup *e = &s->mgroups[i];

		l2f__mcast_group__init(&g[i]);
		g[i].group = (ProtobufCBinaryData){ ipaddr_len(&e->group), (uint8_t *)e->group.b };
		g[i].ports = ports[i];
		for (uint16_t k = 0; k < e->n; k++) {
			bool dup = false;

			for (size_t j = 0; j < g[i].n_ports && !dup; j++)
				dup = ports[i][j] == s->ports[e->members[k].port].num;
			if (!dup)
				ports[i][g[i].n_ports++] = s->ports[e->members[k].port].num;
		}
		gp[i] = &g[i];
	}
	mm.groups = gp;
	mm.n_groups = s->nmgroups;
	m.mcast_members = &mm;
	s->mcast_unsent = !switchd_send(s, &m);
	if (!s->mcast_unsent) {
		s->c.mcast_reports_sent++;
		s->mcast_sent_at = monotime_now();
	}
out:
	free(g);
	free(gp);
	free(ports);
}

static void on_report(evutil_socket_t fd, short what, void *arg)
{
	report_now(arg);
}

void mcast_report(struct switchd *s)
{
	int64_t wait = MCAST_REPORT_MS * USEC_PER_MSEC -
		       monotime_diff_us(monotime_now(), s->mcast_sent_at);
	struct timeval tv;

	if (evtimer_pending(s->mcast_report_ev, NULL)) {
		s->c.mcast_reports_coalesced++;   /* the one waiting will say it */
		return;
	}
	if (!monotime_is_set(s->mcast_sent_at) || wait <= 0) {
		report_now(s);
		return;
	}
	tv.tv_sec = wait / USEC_PER_SEC;
	tv.tv_usec = wait % USEC_PER_SEC;
	evtimer_add(s->mcast_report_ev, &tv);
}

/* A join or leave of host amac on port; whether the group's port set changed. */
static bool member(struct switchd *s, int port, const struct mac *amac, const struct mcast_record *r)
{
	struct sw_mgroup *m = group_find(s, &r->group);
	char b[IPADDR_STRLEN];
	bool had;

	if (r->join) {
		s->c.mcast_joins++;
		if (!m) {
			if (s->nmgroups >= WIRE_MAX_MCAST_GROUPS) {
				s->c.mcast_groups_over_cap++;
				if (ratelimit_ok(&mcast_rl))
					log_warn("mcast: port %s: group %s refused: %u groups already",
						 s->ports[port].name, ipaddr_fmt(&r->group, b),
						 WIRE_MAX_MCAST_GROUPS);
				return false;
			}
			m = &s->mgroups[s->nmgroups++];
			memset(m, 0, sizeof(*m));
			m->group = r->group;
		}
		for (uint16_t i = 0; i < m->n; i++)
			if (m->members[i].port == port && mac_eq(&m->members[i].amac, amac))
				return false;
		if (m->n >= MCAST_MAX_MEMBERS) {
			s->c.mcast_members_over_cap++;
			return false;
		}
		had = port_in(m, (uint8_t)port);
		m->members[m->n].port = (uint8_t)port;
		m->members[m->n++].amac = *amac;
		return !had;
	}
	s->c.mcast_leaves++;
	if (!m)
		return false;
	for (uint16_t i = 0; i < m->n; i++)
		if (m->members[i].port == port && mac_eq(&m->members[i].amac, amac)) {
			m->members[i] = m->members[--m->n];
			break;
		}
	if (port_in(m, (uint8_t)port))
		return false;
	if (m->n == 0)
		*m = s->mgroups[--s->nmgroups];
	return true;
}

static void mcast_frame(struct switchd *s, int port, const uint8_t *f, size_t len)
{
	struct mcast_report rep;
	struct ip4_info ip4;
	struct ip6_info ip6;
	struct eth_hdr eh;
	bool changed = false;
	int ret;

	if (!is_host_port(s, port) || eth_parse(f, len, &eh) < 0 || (eh.src.b[0] & 1))
		return;   /* not a host's: the data plane forwards none of these anyway */
	s->c.mcast_reports_rx++;
	if (!bucket_take(&s->io[port].mcast_rate, monotime_now())) {
		s->c.mcast_rate_limited++;
		if (ratelimit_ok(&mcast_rl))
			log_warn("mcast: port %s: reports dropped unread: over %u a second "
				 "(%llu so far)", s->ports[port].name, MCAST_PORT_RATE,
				 (unsigned long long)s->c.mcast_rate_limited);
		return;
	}
	if (eh.type == ETHERTYPE_IPV4)
		ret = ip4_parse(f + ETH_HDR_LEN, len - ETH_HDR_LEN, &ip4);
	else
		ret = ip6_parse(f + ETH_HDR_LEN, len - ETH_HDR_LEN, &ip6);
	if (ret == 0)
		ret = eh.type == ETHERTYPE_IPV4 ? igmp_parse(&ip4, &rep) : mld_parse(&ip6, &rep);
	if (ret < 0) {
		s->c.mcast_reports_dropped++;
		if (ratelimit_ok(&mcast_rl))
			log_warn("mcast: port %s: report dropped: %s", s->ports[port].name,
				 pkt_drop_name(-ret));
		return;
	}
	for (uint16_t i = 0; i < rep.n; i++)
		changed |= member(s, port, &eh.src, &rep.rec[i]);
	if (changed)
		mcast_report(s);
}

/* A port that is no host port any more: its members are gone. */
void mcast_ports_changed(struct switchd *s)
{
	bool changed = false;

	for (size_t i = 0; i < s->nmgroups;) {
		struct sw_mgroup *m = &s->mgroups[i];
		uint16_t before = m->n;

		for (uint16_t k = 0; k < m->n;)
			if (!is_host_port(s, m->members[k].port))
				m->members[k] = m->members[--m->n];
			else
				k++;
		changed |= m->n != before;
		if (m->n == 0)
			*m = s->mgroups[--s->nmgroups];
		else
			i++;
	}
	if (changed)
		mcast_report(s);
}

/* The stale entries go: the data plane reconciled to the last table. */
static void on_break(evutil_socket_t fd, short what, void *arg)
{
	struct switchd *s = arg;
	int removed;

	if (!s->dp)
		return;
	removed = dp_mcast_reconcile(s->dp, s->mcast_want, s->n_mcast_want, false);
	if (removed < 0)
		log_err("mcast: stale entries not removed: %s", strerror(-removed));
	else
		s->c.mcast_entries_removed += (uint64_t)removed;
}

int mcast_start(struct switchd *s)
{
	int err = 0;

	s->mgroups = calloc(WIRE_MAX_MCAST_GROUPS, sizeof(*s->mgroups));
	s->mcast_ev = evtimer_new(s->base, on_break, s);
	s->mcast_report_ev = evtimer_new(s->base, on_report, s);
	if (!s->mgroups || !s->mcast_ev || !s->mcast_report_ev)
		return -ENOMEM;
	for (int i = 0; i < s->nports && !err; i++) {
		bucket_init(&s->io[i].mcast_rate, MCAST_PORT_RATE, MCAST_PORT_BURST, monotime_now());
		err = port_sock_open(s, i, ETHERTYPE_IPV4, igmp_filter, 4, mcast_frame,
				     &s->io[i].igmp);
		if (!err)
			err = port_sock_open(s, i, ETHERTYPE_IPV6, mld_filter, 4, mcast_frame,
					     &s->io[i].mld);
		if (err < 0)
			log_err("mcast: port %s: packet socket: %s", s->ports[i].name, strerror(-err));
	}
	return err;
}

void mcast_stop(struct switchd *s)
{
	for (int i = 0; i < s->nports; i++) {
		port_sock_close(&s->io[i].igmp);
		port_sock_close(&s->io[i].mld);
	}
	if (s->mcast_ev)
		event_free(s->mcast_ev);
	if (s->mcast_report_ev)
		event_free(s->mcast_report_ev);
	free(s->mgroups);
	free(s->mcast_want);
}

static int index_of_num(const struct switchd *s, uint32_t num)
{
	for (int i = 0; i < s->nports; i++)
		if (s->ports[i].num == num)
			return i;
	return -1;
}

/* fabricd's table for this switch: the data plane's sw_mcast reconciled to it. */
void mcast_table(struct switchd *s, const L2f__McastTable *t)
{
	struct dp_mcast_want *w = calloc(t->n_entries + 1, sizeof(*w));
	unsigned n = 0;
	int removed;

	s->c.mcast_tables++;
	if (!w || !s->dp) {
		free(w);
		log_err("mcast: the table from fabricd is not taken: %s",
			s->dp ? "out of memory" : "no data plane");
		return;
	}
	for (size_t i = 0; i < t->n_entries; i++) {
		const L2f__McastEntry *e = t->entries[i];
		struct dp_mcast_want *d = &w[n];
		int in = e->has_in_port ? index_of_num(s, e->in_port) : -1;

		if (n >= SW_MAX_MCAST || e->n_out_ports > SW_MCAST_MAX_OUT ||
		    (e->has_in_port && in < 0)) {
			s->c.mcast_entries_over_cap++;
			continue;
		}
		/* the validator has bounded the group's length and the port numbers */
		if (e->group.len == 4) {
			d->key.group[10] = d->key.group[11] = 0xff;
			memcpy(&d->key.group[12], e->group.data, 4);
		} else {
			memcpy(d->key.group, e->group.data, 16);
		}
		d->key.in_ifindex = in < 0 ? SW_MCAST_FROM_HOSTS : (uint32_t)s->ports[in].ifindex;
		for (size_t k = 0; k < e->n_out_ports; k++) {
			int o = index_of_num(s, e->out_ports[k]);

			if (o >= 0)
				d->out.ifindex[d->out.count++] = (uint32_t)s->ports[o].ifindex;
		}
		n++;
	}
	removed = dp_mcast_reconcile(s->dp, w, n, true);
	free(s->mcast_want);
	s->mcast_want = w;
	s->n_mcast_want = n;
	if (removed < 0) {
		log_err("mcast: the data plane could not take the table: %s", strerror(-removed));
		return;
	}
	s->c.mcast_entries = n;
	if (!evtimer_pending(s->mcast_ev, NULL)) {
		struct timeval tv = { 0, MCAST_BREAK_MS * 1000 };

		evtimer_add(s->mcast_ev, &tv);
	}
	log_info("mcast: %u multicast entries from fabricd", n);
}
