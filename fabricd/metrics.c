/* metrics.c - fabricd's Prometheus metrics: every counter and limit of `fabricctl status`
 * (fabricd_counters), named l2f_fabricd_<counter with '.' as '_'>, with bounds and refusals
 * as one family each, labelled by reason. */
#include <stdio.h>
#include <string.h>
#include "fabricd.h"
#include "metrics.h"

/* What is a level now rather than a count since start. */
static const char *const gauges[] = {
	"sessions.open", "sessions.tcp", "sessions.unix", "sessions.status", "sessions.pre_hello", "sessions.vtepd",
	"sessions.vipd", "sessions.fabricctl", "directory.bindings", "directory.hosts",
	"directory.hosts_connected", "store.records", "store.bytes", "store.seq_durable",
	"store.sync_records_max", "store.failed", "sessions.switchd", "portland.switches",
	"portland.switches_connected", "portland.switches_located", "portland.hosts",
	"portland.faults.links_dead", "portland.faults.switches_avoiding", "portland.faults.entries",
	"portland.faults.compute_us_last", "portland.faults.view_complete", NULL,
};

struct mctx {
	struct metrics_out *m;
	char family[96];               /* the last family whose HELP/TYPE went out */
};

static bool is_gauge(const char *name)
{
	for (int i = 0; gauges[i]; i++)
		if (!strcmp(gauges[i], name))
			return true;
	return false;
}

static void family_once(struct mctx *x, const char *family, const char *type, const char *help)
{
	if (!strcmp(x->family, family))
		return;
	snprintf(x->family, sizeof(x->family), "%s", family);
	metrics_family(x->m, family, type, help);
}

static void put(void *ctx, const char *name, uint64_t v, bool limit)
{
	struct mctx *x = ctx;
	char metric[96], help[128];
	const char *dot = strchr(name, '.');
	bool gauge = is_gauge(name);

	if (limit) {
		family_once(x, "l2f_fabricd_limit", "gauge", "a configured limit (fabricd.yaml limits)");
		metrics_value(x->m, "l2f_fabricd_limit", v, "limit", name, NULL);
		return;
	}
	if (dot && (!strncmp(name, "bound.", 6) || !strncmp(name, "refused.", 8))) {
		bool bound = name[0] == 'b';

		family_once(x, bound ? "l2f_fabricd_bound_total" : "l2f_fabricd_refused_total",
			    "counter", bound ? "a bound hit, by bound (docs/protocol.md, Limits)"
					     : "what was refused, by reason (docs/protocol.md)");
		metrics_value(x->m, bound ? "l2f_fabricd_bound_total" : "l2f_fabricd_refused_total",
			      v, bound ? "bound" : "reason", dot + 1, NULL);
		return;
	}
	/* A time counted in microseconds ("compute_us", "compute_us_last") goes out in seconds. */
	const char *us = strstr(name, "_us");
	bool in_us = us && (us[3] == '\0' || us[3] == '_');

	if (in_us)
		snprintf(metric, sizeof(metric), "l2f_fabricd_%.*s_seconds%s%s", (int)(us - name), name,
			 us + 3, gauge ? "" : "_total");
	else
		snprintf(metric, sizeof(metric), "l2f_fabricd_%s%s", name, gauge ? "" : "_total");
	for (char *p = metric; *p; p++)
		if (*p == '.')
			*p = '_';
	snprintf(help, sizeof(help), "%s (fabricctl status: %s%s)", gauge ? "now" : "since start",
		 name, in_us ? ", in microseconds there" : "");
	family_once(x, metric, gauge ? "gauge" : "counter", help);
	if (in_us)
		metrics_value_us(x->m, metric, v);
	else
		metrics_value(x->m, metric, v, NULL);
}

void fabricd_metrics(struct metrics_out *m, void *ctx)
{
	struct mctx x = { .m = m };

	fabricd_counters(ctx, put, &x);
}
