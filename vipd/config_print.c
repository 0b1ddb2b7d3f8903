/*
 * config_print.c - vipd's configuration printed back, normalized (`vipd -n`, the golden
 * files of tests/golden/vipd), and the comparison of two groups' settings that a reload uses
 * to keep unchanged groups running. The loader is config.c.
 */
#include <stdio.h>
#include <string.h>
#include "config.h"

static void put_group(const struct vipd_cfg *c, const struct vip_group_cfg *g, FILE *f)
{
	char buf[IPADDR_STRLEN];

	conf_put_key(f, "  - ", "name", g->name);
	conf_put_key(f, "    ", "interface", g->ifname);
	fprintf(f, "    vrid: %u\n", g->vrid);
	if (g->priority_auto)
		fprintf(f, "    priority: auto  # %u on %s\n", g->priority, c->node);
	else
		fprintf(f, "    priority: %u\n", g->priority);
	fprintf(f, "    advert_interval_ms: %u\n", g->advert_interval_ms);
	fprintf(f, "    preempt: %s\n", g->preempt ? "true" : "false");
	fprintf(f, "    assign: %s\n", g->assign ? "true" : "false");
	fprintf(f, "    announce_count: %u\n", g->announce_count);
	fprintf(f, "    announce_interval_ms: %u\n", g->announce_interval_ms);
	fprintf(f, "    refresh_interval_s: %u\n", g->refresh_interval_s);
	fputs("    addresses: [", f);
	for (size_t j = 0; j < g->naddrs; j++) {
		fputs(j ? ", " : "", f);
		conf_put_scalar(f, ipaddr_fmt(&g->addrs[j], buf));
	}
	fputs("]\n", f);
	if (g->has_vmac) {
		char mac[MAC_STRLEN];

		fprintf(f, "    virtual_mac: %s\n", mac_fmt(&g->vmac, mac));
		conf_put_key(f, "    ", "virtual_interface", g->vmac_ifname);
	}
	if (g->fabric_vni)
		fprintf(f, "    fabric_vni: %u\n", g->fabric_vni);
}

void vipd_cfg_print(const struct vipd_cfg *c, FILE *f)
{
	conf_put_key(f, "", "node", c->node);
	conf_put_key(f, "", "control_socket", c->control_socket);
	if (c->status_socket[0])
		conf_put_key(f, "", "status_socket", c->status_socket);
	if (c->log_level != LOG_LVL_INFO)
		fprintf(f, "log_level: %s\n", conf_log_level_name(c->log_level));
	if (c->log_file[0])
		conf_put_key(f, "", "log_file", c->log_file);
	if (c->metrics[0])
		conf_put_key(f, "", "metrics", c->metrics);
	if (c->nnodes) {
		fputs("nodes: [", f);
		for (size_t i = 0; i < c->nnodes; i++) {
			fputs(i ? ", " : "", f);
			conf_put_scalar(f, c->nodes[i]);
		}
		fputs("]\n", f);
	}
	fprintf(f, "answer_rate: %u\n", c->answer_rate);
	fprintf(f, "answer_burst: %u\n", c->answer_burst);
	if (c->fabric.connect[0]) {
		fputs("fabric:\n", f);
		conf_put_key(f, "  ", "connect", c->fabric.connect);
		conf_put_key(f, "  ", "host", c->fabric.host);
		if (c->fabric.ca[0]) {
			conf_put_key(f, "  ", "ca", c->fabric.ca);
			conf_put_key(f, "  ", "cert", c->fabric.cert);
			conf_put_key(f, "  ", "key", c->fabric.key);
		}
	}
	fputs(c->ngroups ? "groups:\n" : "groups: []\n", f);
	for (size_t i = 0; i < c->ngroups; i++)
		put_group(c, &c->groups[i], f);
}

bool vip_group_cfg_eq(const struct vip_group_cfg *a, const struct vip_group_cfg *b)
{
	if (strcmp(a->name, b->name) || strcmp(a->ifname, b->ifname) || a->vrid != b->vrid ||
	    a->priority_auto != b->priority_auto || a->priority != b->priority ||
	    a->advert_interval_ms != b->advert_interval_ms || a->preempt != b->preempt ||
	    a->assign != b->assign || a->announce_count != b->announce_count ||
	    a->announce_interval_ms != b->announce_interval_ms ||
	    a->refresh_interval_s != b->refresh_interval_s || a->naddrs != b->naddrs ||
	    a->has_vmac != b->has_vmac || a->fabric_vni != b->fabric_vni ||
	    (a->has_vmac && (!mac_eq(&a->vmac, &b->vmac) ||
			     strcmp(a->vmac_ifname, b->vmac_ifname))))
		return false;
	for (size_t i = 0; i < a->naddrs; i++)
		if (!ipaddr_eq(&a->addrs[i], &b->addrs[i]))
			return false;
	return true;
}
