/*
 * dp.c - the user side of switchd's eBPF data plane: skeleton load with pinned maps reused,
 * clsact ingress attach per port, and one setter per map (see dp.h for ownership and the
 * restart contract). Map writes are single bpf_map_update_elem calls on whole values, so
 * the program sees each entry old or new, never half written.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dp.h"
#include "dp_priv.h"
#include "log.h"

static const char *const verdict_names[SW_V_COUNT] = {
	[SW_V_FORWARDED_DOWN] = "forwarded_down",
	[SW_V_FORWARDED_UP] = "forwarded_up",
	[SW_V_TO_HOST] = "to_host",
	[SW_V_PUNTED_LDP] = "punted_ldp",
	[SW_V_PUNTED_ARP] = "punted_arp",
	[SW_V_PUNTED_ND] = "punted_nd",
	[SW_V_DROPPED_NOT_LOCATED] = "dropped_not_located",
	[SW_V_DROPPED_UP_TO_UP] = "dropped_up_to_up",
	[SW_V_DROPPED_NO_ROUTE] = "dropped_no_route",
	[SW_V_DROPPED_UNKNOWN_SRC] = "dropped_unknown_src",
	[SW_V_DROPPED_MALFORMED] = "dropped_malformed",
	[SW_V_DROPPED_MULTICAST] = "dropped_multicast",
	[SW_V_DROPPED_UNKNOWN_PORT] = "dropped_unknown_port",
	[SW_V_DROPPED_NO_UPLINK] = "dropped_no_uplink",
	[SW_V_DROPPED_FAULT] = "dropped_fault",
	[SW_V_FORWARDED_UP_AVOIDING] = "forwarded_up_avoiding",
	[SW_V_FORWARDED_MOVED] = "forwarded_moved",
	[SW_V_PUNTED_MCAST] = "punted_mcast",
	[SW_V_MCAST_FORWARDED] = "mcast_forwarded",
	[SW_V_MCAST_COPIES] = "mcast_copies",
	[SW_V_DROPPED_MCAST_UNKNOWN] = "dropped_mcast_unknown",
};

/* Every map the program pins, by its pinned name (= its name in switch.bpf.c). */
static const char *const pinned_maps[] = {
	"sw_config", "sw_ports", "sw_up", "sw_pods", "sw_positions", "sw_hosts", "sw_amacs",
	"sw_verdicts", "sw_unknown", "sw_port_tx", "sw_vmid_holds", "sw_up_dest", "sw_moved",
	"sw_trapped", "sw_mcast",
};

const char *dp_verdict_name(unsigned reason)
{
	return reason < SW_V_COUNT ? verdict_names[reason] : NULL;
}

/* Set around netlink calls whose refusal is an expected answer (a clsact already there, a
 * filter already gone), so the kernel's extack text for it is not logged as a warning. */
static bool expect_refusal;

/* libbpf's own messages (the verifier log among them) go to our log, warnings and up only. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	if (!line[0])
		return 0;
	if (expect_refusal && strstr(line, "Kernel error message"))
		log_debug("%s", line);
	else
		log_warn("%s", line);
	return 0;
}

static int mkdir_p(const char *path)
{
	char buf[256];
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		buf[i] = i < n ? '/' : '\0';
	}
	return 0;
}

/* The pins' filesystem, judged at pin_dir's deepest existing ancestor (before mkdir, so a
 * missing bpffs is reported as such, not as a refused mkdir under /sys). */
static int check_bpffs(const char *pin_dir)
{
	char path[256];
	struct statfs fs;
	char *slash;

	snprintf(path, sizeof(path), "%s", pin_dir);
	while (statfs(path, &fs) < 0) {
		if (errno != ENOENT)
			return -errno;
		slash = strrchr(path, '/');
		if (!slash || slash == path)
			return -ENOENT;
		*slash = '\0';
	}
	if (fs.f_type != BPF_FS_MAGIC) {
		log_err("dp: %s is not on a bpffs (%s is not one; mount -t bpf bpf DIR)", pin_dir,
			path);
		return -ENOTSUP;
	}
	return 0;
}

/*
 * A map already pinned must be what this build would create, or the load cannot reuse it
 * (libbpf says only "parameter mismatch"): each pin is checked first, and the first that
 * differs is named with what differs, so an upgrade that changed a map says which and how.
 */
static int check_pin(struct bpf_map *map, const char *pin_dir)
{
	const char *path = bpf_map__pin_path(map);
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	const char *what = NULL;
	unsigned have = 0, want = 0;
	int fd, err;

	if (!path || access(path, F_OK) < 0)
		return 0;           /* not pinned yet: the load creates and pins it */
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;           /* not a map we can open: the load says why */
	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (err < 0)
		return 0;
	if (info.type != (__u32)bpf_map__type(map))
		what = "type", have = info.type, want = bpf_map__type(map);
	else if (info.key_size != bpf_map__key_size(map))
		what = "key size", have = info.key_size, want = bpf_map__key_size(map);
	else if (info.value_size != bpf_map__value_size(map))
		what = "value size", have = info.value_size, want = bpf_map__value_size(map);
	else if (info.max_entries != bpf_map__max_entries(map))
		what = "max entries", have = info.max_entries, want = bpf_map__max_entries(map);
	else if (info.map_flags != bpf_map__map_flags(map))
		what = "flags", have = info.map_flags, want = bpf_map__map_flags(map);
	if (!what)
		return 0;
	log_err("dp: %s was pinned by another build of switchd: its %s is %u, this build's %u; "
		"remove the old pins (dpctl -d %s unpin) and start again: the old program forwards "
		"meanwhile, the new maps start empty (hosts get new PMACs)", path, what, have, want,
		pin_dir);
	return -EINVAL;
}

int dp_open(const char *pin_dir, struct dp **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir);
	struct bpf_map *map;
	struct dp *dp;
	int err;

	libbpf_set_print(libbpf_log);
	if (strlen(pin_dir) >= sizeof(dp->pin_dir))
		return -ENAMETOOLONG;
	err = check_bpffs(pin_dir);
	if (err < 0)
		return err;
	err = mkdir_p(pin_dir);
	if (err < 0) {
		log_err("dp: cannot create %s: %s", pin_dir, strerror(-err));
		return err;
	}
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s", pin_dir);
	dp->skel = switch_bpf__open_opts(&opts);
	if (!dp->skel) {
		err = -errno;
		log_err("dp: cannot open the BPF object: %s", strerror(-err));
		free(dp);
		return err;
	}
	bpf_object__for_each_map(map, dp->skel->obj) {
		err = check_pin(map, pin_dir);
		if (err < 0) {
			dp_close(dp);
			return err;
		}
	}
	/* Load creates the maps, or reuses those pinned under pin_dir, and pins new ones. */
	err = switch_bpf__load(dp->skel);
	if (err < 0) {
		log_err("dp: cannot load the program with the maps of %s: %s (pins from an "
			"incompatible build? remove them: dpctl -d %s unpin)", pin_dir,
			strerror(-err), pin_dir);
		dp_close(dp);
		return err;
	}
	*out = dp;
	return 0;
}

void dp_close(struct dp *dp)
{
	if (!dp)
		return;
	switch_bpf__destroy(dp->skel);
	free(dp);
}

int dp_unpin(const char *pin_dir)
{
	char path[512];
	size_t i;
	int err = 0;

	for (i = 0; i < sizeof(pinned_maps) / sizeof(pinned_maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, pinned_maps[i]);
		if (unlink(path) < 0 && errno != ENOENT && err == 0)
			err = -errno;
	}
	if (rmdir(pin_dir) < 0 && errno != ENOENT && errno != ENOTEMPTY && err == 0)
		err = -errno;
	if (err < 0)
		log_err("dp: cannot unpin %s: %s", pin_dir, strerror(-err));
	return err;
}

int dp_attach(struct dp *dp, int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc, .handle = SW_TC_HANDLE, .priority = SW_TC_PRIORITY,
		    .flags = BPF_TC_F_REPLACE,
		    .prog_fd = bpf_program__fd(dp->skel->progs.sw_ingress));
	int err;

	expect_refusal = true;
	err = bpf_tc_hook_create(&hook);
	expect_refusal = false;
	if (err < 0 && err != -EEXIST) {   /* EEXIST: a clsact already there, ours or not */
		log_err("dp: ifindex %d: cannot add clsact: %s", ifindex, strerror(-err));
		return err;
	}
	/* REPLACE: a filter left at our handle by a previous run is swapped, not stacked. */
	err = bpf_tc_attach(&hook, &tc);
	if (err < 0)
		log_err("dp: ifindex %d: cannot attach to ingress: %s", ifindex, strerror(-err));
	return err;
}

int dp_detach(struct dp *dp, int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc, .handle = SW_TC_HANDLE, .priority = SW_TC_PRIORITY);
	int err;

	(void)dp;
	expect_refusal = true;
	err = bpf_tc_detach(&hook, &tc);
	expect_refusal = false;
	if (err == -ENOENT || err == -EINVAL)   /* no filter (EINVAL: no clsact at all) */
		return 0;
	if (err < 0)
		log_err("dp: ifindex %d: cannot detach: %s", ifindex, strerror(-err));
	return err;
}

static int map_set(struct bpf_map *map, const void *key, const void *value)
{
	int err = bpf_map__update_elem(map, key, bpf_map__key_size(map), value,
				       bpf_map__value_size(map), BPF_ANY);

	if (err < 0)
		log_err("dp: %s: update: %s", bpf_map__name(map), strerror(-err));
	return err;
}

/* Deleting an entry that is already gone is not an error. */
int dp_map_del(struct bpf_map *map, const void *key)
{
	int err = bpf_map__delete_elem(map, key, bpf_map__key_size(map), 0);

	if (err == -ENOENT)
		return 0;
	if (err < 0)
		log_err("dp: %s: delete: %s", bpf_map__name(map), strerror(-err));
	return err;
}

int dp_set_config(struct dp *dp, const struct sw_config *cfg)
{
	struct sw_config c = *cfg;
	__u32 zero = 0;

	if (c.level > SW_LEVEL_CORE)
		return -EINVAL;
	memset(c.pad, 0, sizeof(c.pad));
	return map_set(dp->skel->maps.sw_config, &zero, &c);
}

int dp_get_config(struct dp *dp, struct sw_config *cfg)
{
	__u32 zero = 0;

	return bpf_map__lookup_elem(dp->skel->maps.sw_config, &zero, sizeof(zero), cfg,
				    sizeof(*cfg), 0);
}

/* The port's slot in sw_port_tx: the one it has, unless another port has it too (entries
 * pinned before slots existed all say 0), else the lowest free, its counters zeroed (they
 * may be a departed port's). */
static int port_slot(struct dp *dp, __u32 key, __u16 *slot, __u8 *own_flags)
{
	struct bpf_map *ports = dp->skel->maps.sw_ports;
	uint8_t used[SW_MAX_PORTS] = { 0 };
	struct sw_port p;
	__u32 k, prev_k, *prev = NULL;
	int ncpu = libbpf_num_possible_cpus(), err, own = -1;
	struct sw_port_stats *zero;
	unsigned i, n = 0;

	while (n++ < SW_MAX_PORTS && bpf_map__get_next_key(ports, prev, &k, sizeof(k)) == 0) {
		if (bpf_map__lookup_elem(ports, &k, sizeof(k), &p, sizeof(p), 0) == 0 &&
		    p.slot < SW_MAX_PORTS) {
			if (k == key) {
				own = p.slot;
				*own_flags = p.flags;
			} else
				used[p.slot] = 1;
		}
		prev_k = k;
		prev = &prev_k;
	}
	if (own >= 0 && !used[own]) {
		*slot = (__u16)own;
		return 0;
	}
	for (i = 0; i < SW_MAX_PORTS && used[i]; i++)
		;
	if (i == SW_MAX_PORTS)
		return -ENOSPC;
	if (ncpu <= 0 || !(zero = calloc((size_t)ncpu, sizeof(*zero))))
		return ncpu < 0 ? ncpu : -ENOMEM;
	k = i;
	err = bpf_map__update_elem(dp->skel->maps.sw_port_tx, &k, sizeof(k), zero,
				   (size_t)ncpu * sizeof(*zero), BPF_ANY);
	free(zero);
	*slot = (__u16)i;
	return err;
}

int dp_set_port(struct dp *dp, int ifindex, enum sw_dir dir)
{
	struct sw_port p = { .dir = (__u8)dir };
	__u32 key = (__u32)ifindex;
	__u8 flags = 0;
	int err;

	if (ifindex <= 0 || dir > SW_DIR_HOST)
		return -EINVAL;
	if ((err = port_slot(dp, key, &p.slot, &flags)) < 0) {
		log_err("dp: port %d: no counter slot: %s", ifindex, strerror(-err));
		return err;
	}
	p.flags = flags & SW_PORT_F_FAULT;   /* an injected fault stays */
	return map_set(dp->skel->maps.sw_ports, &key, &p);
}

int dp_set_port_fault(struct dp *dp, int ifindex, bool fault)
{
	__u32 key = (__u32)ifindex;
	struct sw_port p;
	int err = dp_get_port(dp, ifindex, &p);

	if (err < 0)
		return err;   /* not a port of the data plane: nothing to break */
	p.flags = fault ? p.flags | SW_PORT_F_FAULT : p.flags & ~SW_PORT_F_FAULT;
	return map_set(dp->skel->maps.sw_ports, &key, &p);
}

int dp_get_port(struct dp *dp, int ifindex, struct sw_port *out)
{
	__u32 key = (__u32)ifindex;

	return bpf_map__lookup_elem(dp->skel->maps.sw_ports, &key, sizeof(key), out,
				    sizeof(*out), 0);
}

int dp_read_port_tx(struct dp *dp, int ifindex, struct sw_port_stats *out)
{
	int ncpu = libbpf_num_possible_cpus(), err;
	struct sw_port_stats *per_cpu;
	struct sw_port p;
	__u32 slot;

	memset(out, 0, sizeof(*out));
	err = dp_get_port(dp, ifindex, &p);
	if (err < 0)
		return err;
	if (ncpu <= 0 || !(per_cpu = calloc((size_t)ncpu, sizeof(*per_cpu))))
		return ncpu < 0 ? ncpu : -ENOMEM;
	slot = p.slot;
	err = bpf_map__lookup_elem(dp->skel->maps.sw_port_tx, &slot, sizeof(slot), per_cpu,
				   (size_t)ncpu * sizeof(*per_cpu), 0);
	for (int c = 0; err == 0 && c < ncpu; c++) {
		out->frames += per_cpu[c].frames;
		out->bytes += per_cpu[c].bytes;
	}
	free(per_cpu);
	return err;
}

int dp_del_port(struct dp *dp, int ifindex)
{
	__u32 key = (__u32)ifindex;

	return dp_map_del(dp->skel->maps.sw_ports, &key);
}

int dp_set_up_group(struct dp *dp, const uint32_t *ifindex, unsigned n)
{
	struct sw_up_group g = { .count = n };
	__u32 zero = 0;

	if (n > SW_MAX_UP)
		return -E2BIG;
	if (n)
		memcpy(g.ifindex, ifindex, n * sizeof(*ifindex));
	return map_set(dp->skel->maps.sw_up, &zero, &g);
}

int dp_set_dest_group(struct dp *dp, uint32_t key, const uint32_t *ifindex, unsigned n)
{
	struct sw_up_group g = { .count = n };

	if (n > SW_MAX_UP)
		return -E2BIG;
	if (n)
		memcpy(g.ifindex, ifindex, n * sizeof(*ifindex));
	return map_set(dp->skel->maps.sw_up_dest, &key, &g);
}

int dp_del_dest_group(struct dp *dp, uint32_t key)
{
	return dp_map_del(dp->skel->maps.sw_up_dest, &key);
}

int dp_set_pod_route(struct dp *dp, uint16_t pod, int ifindex)
{
	__u32 key = pod, port = (__u32)ifindex;

	if (ifindex <= 0)
		return -EINVAL;
	return map_set(dp->skel->maps.sw_pods, &key, &port);
}

int dp_del_pod_route(struct dp *dp, uint16_t pod)
{
	__u32 key = pod;

	return dp_map_del(dp->skel->maps.sw_pods, &key);
}

int dp_set_position_route(struct dp *dp, uint8_t pos, int ifindex)
{
	__u32 key = pos, port = (__u32)ifindex;

	if (ifindex <= 0)
		return -EINVAL;
	return map_set(dp->skel->maps.sw_positions, &key, &port);
}

int dp_del_position_route(struct dp *dp, uint8_t pos)
{
	__u32 key = pos;

	return dp_map_del(dp->skel->maps.sw_positions, &key);
}

static struct sw_mac sw_mac_of(const struct mac *m)
{
	struct sw_mac k;

	memset(&k, 0, sizeof(k));
	memcpy(k.addr, m->b, MAC_LEN);
	return k;
}

/*
 * Source rewrite first: frames to the host can only flow once it can answer with its PMAC.
 * A PMAC given to a new AMAC (a vmid reused) drops the old AMAC's rewrite, when it was this
 * PMAC's; anything else stale is dp_reconcile's to sweep.
 */
int dp_set_host(struct dp *dp, const struct mac *pmac, const struct mac *amac, int ifindex)
{
	struct sw_mac pkey = sw_mac_of(pmac), akey = sw_mac_of(amac), okey;
	struct sw_amac_entry a, old_a;
	struct sw_host h, old;
	int err, had_old;

	if (ifindex <= 0 || mac_is_multicast(pmac) || mac_is_multicast(amac))
		return -EINVAL;
	had_old = bpf_map__lookup_elem(dp->skel->maps.sw_hosts, &pkey, sizeof(pkey), &old,
				       sizeof(old), 0) == 0 && memcmp(old.amac, amac->b, MAC_LEN);
	memset(&a, 0, sizeof(a));
	memcpy(a.pmac, pmac->b, MAC_LEN);
	a.ifindex = (__u32)ifindex;
	/* a reconcile rewrites every host: an unchanged one must not look freshly seen (it would
	 * never age). A frame the program notes between the lookup and the update is forgotten
	 * until the host's next frame in a later second: a host looks older, never younger. */
	if (bpf_map__lookup_elem(dp->skel->maps.sw_amacs, &akey, sizeof(akey), &old_a,
				 sizeof(old_a), 0) == 0 && old_a.ifindex == a.ifindex &&
	    memcmp(old_a.pmac, a.pmac, MAC_LEN) == 0)
		a.seen = old_a.seen;
	else
		a.seen = dp_clock_s();
	memset(&h, 0, sizeof(h));
	memcpy(h.amac, amac->b, MAC_LEN);
	h.ifindex = (__u32)ifindex;
	err = map_set(dp->skel->maps.sw_amacs, &akey, &a);
	if (err == 0)
		err = map_set(dp->skel->maps.sw_hosts, &pkey, &h);
	if (err < 0 || !had_old)
		return err;
	memset(&okey, 0, sizeof(okey));
	memcpy(okey.addr, old.amac, MAC_LEN);
	if (bpf_map__lookup_elem(dp->skel->maps.sw_amacs, &okey, sizeof(okey), &old_a,
				 sizeof(old_a), 0) == 0 && memcmp(old_a.pmac, pmac->b, MAC_LEN) == 0)
		err = dp_map_del(dp->skel->maps.sw_amacs, &okey);
	return err;
}

int dp_del_host(struct dp *dp, const struct mac *pmac)
{
	struct sw_mac pkey = sw_mac_of(pmac), akey;
	struct sw_host h;
	struct mac amac;
	int err;

	err = bpf_map__lookup_elem(dp->skel->maps.sw_hosts, &pkey, sizeof(pkey), &h, sizeof(h), 0);
	if (err == -ENOENT)
		return 0;
	if (err < 0)
		return err;
	memcpy(amac.b, h.amac, MAC_LEN);
	akey = sw_mac_of(&amac);
	err = dp_map_del(dp->skel->maps.sw_hosts, &pkey);
	if (err < 0)
		return err;
	return dp_map_del(dp->skel->maps.sw_amacs, &akey);
}

int dp_host_seen(struct dp *dp, const struct mac *amac, uint32_t *seen_s)
{
	struct sw_mac akey = sw_mac_of(amac);
	struct sw_amac_entry a;
	int err;

	err = bpf_map__lookup_elem(dp->skel->maps.sw_amacs, &akey, sizeof(akey), &a, sizeof(a), 0);
	if (err == 0)
		*seen_s = a.seen;
	return err;
}

uint32_t dp_clock_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec;
}

static __u32 hold_key(uint8_t port, uint16_t vmid)
{
	return (__u32)port << 16 | vmid;
}

int dp_set_vmid_hold(struct dp *dp, uint8_t port, uint16_t vmid, const struct mac *amac,
		     uint32_t until_s)
{
	struct sw_vmid_hold h;
	__u32 key = hold_key(port, vmid);

	memset(&h, 0, sizeof(h));
	memcpy(h.amac, amac->b, MAC_LEN);
	h.until = until_s;
	return map_set(dp->skel->maps.sw_vmid_holds, &key, &h);
}

int dp_del_vmid_hold(struct dp *dp, uint8_t port, uint16_t vmid)
{
	__u32 key = hold_key(port, vmid);

	return dp_map_del(dp->skel->maps.sw_vmid_holds, &key);
}

int dp_walk_vmid_holds(struct dp *dp, int (*cb)(void *ctx, uint8_t port, uint16_t vmid,
						const struct mac *amac, uint32_t until_s),
		       void *ctx)
{
	struct bpf_map *map = dp->skel->maps.sw_vmid_holds;
	size_t max = bpf_map__max_entries(map), n = 0;
	__u32 *keys = calloc(max, sizeof(*keys));
	struct sw_vmid_hold h;

	if (!keys)
		return -ENOMEM;
	/* keys first: a delete while walking get_next_key would start the walk over */
	while (n < max && bpf_map__get_next_key(map, n ? &keys[n - 1] : NULL, &keys[n],
						sizeof(*keys)) == 0)
		n++;
	for (size_t i = 0; i < n; i++) {
		struct mac amac;

		if (keys[i] >> 24 ||
		    bpf_map__lookup_elem(map, &keys[i], sizeof(*keys), &h, sizeof(h), 0) < 0)
			continue;
		memcpy(amac.b, h.amac, MAC_LEN);
		if (cb(ctx, (uint8_t)(keys[i] >> 16), (uint16_t)keys[i], &amac, h.until))
			break;
	}
	free(keys);
	return 0;
}

int dp_sum_percpu(struct bpf_map *map, __u32 first, unsigned n, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	__u64 *per_cpu;

	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	per_cpu = calloc((size_t)ncpu, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	for (unsigned i = 0; i < n && err == 0; i++) {
		__u32 key = first + i;

		err = bpf_map__lookup_elem(map, &key, sizeof(key), per_cpu,
					   (size_t)ncpu * sizeof(*per_cpu), 0);
		out[i] = 0;
		for (int c = 0; err == 0 && c < ncpu; c++)
			out[i] += per_cpu[c];
	}
	free(per_cpu);
	return err;
}

int dp_read_verdicts(struct dp *dp, uint64_t out[SW_V_COUNT])
{
	int err = dp_sum_percpu(dp->skel->maps.sw_verdicts, 0, SW_V_COUNT, out);

	if (err < 0)
		log_err("dp: sw_verdicts: read: %s", strerror(-err));
	return err;
}

int dp_mcast_fd(struct dp *dp)
{
	return bpf_map__fd(dp->skel->maps.sw_mcast);
}

int dp_unknown_src_fd(struct dp *dp)
{
	return bpf_map__fd(dp->skel->maps.sw_unknown);
}

int dp_prog_fd(struct dp *dp)
{
	return bpf_program__fd(dp->skel->progs.sw_ingress);
}
