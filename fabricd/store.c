/*
 * store.c - what fabricd keeps on disk: the API's ports and the hosts seen, as StoreRecords
 * (fabric.proto) in the journal (journal.h, docs/journal.md). A change is written ahead: its
 * record is appended before the directory changes, so a failed write (a full disk) refuses
 * the change and nothing is applied; the API's reply waits until the record is durable (group
 * commit, store_durable -> api_durable). Learned bindings are not stored: agents report them
 * again when they reconnect. A compaction writes the hosts, then the API ports.
 *
 * A store of the format before the journal (one Reply message, rewritten whole on every
 * change) is imported at start-up: kept as PATH.v0, its content journaled anew.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fabricd.h"
#include "journal.h"
#include "store_replay.h"
#include "log.h"

/* --- records ----------------------------------------------------------------------------- */

static int64_t append(struct fabricd *fd, const L2f__StoreRecord *r)
{
	size_t len = l2f__store_record__get_packed_size(r);
	uint8_t stackbuf[4096], *buf = len <= sizeof(stackbuf) ? stackbuf : malloc(len);
	int64_t seq;

	if (!fd->journal)
		return 0;
	if (!buf)
		return -ENOMEM;
	l2f__store_record__pack(r, buf);
	seq = journal_append(fd->journal, buf, len);
	if (buf != stackbuf)
		free(buf);
	if (seq < 0) {
		static struct ratelimit rl = RATELIMIT_INIT(10000, 1);

		log_rl(&rl, LOG_LVL_ERR, "store %s: cannot write: %s: the change is refused",
		       fd->store_path, strerror((int)-seq));
	}
	return seq;
}

int64_t store_port_set(struct fabricd *fd, const L2f__Port *p)
{
	L2f__StoreRecord r = L2F__STORE_RECORD__INIT;
	L2f__Port rec = L2F__PORT__INIT;

	/* what port add applies, nothing of what the API's replies add (seq, learned...) */
	rec.vni = p->vni;
	rec.mac = p->mac;
	rec.ips = p->ips;
	rec.n_ips = p->n_ips;
	rec.hosts = p->hosts;
	rec.n_hosts = p->n_hosts;
	rec.has_mode = p->has_mode;
	rec.mode = p->mode;
	rec.name = p->name;
	r.op_case = L2F__STORE_RECORD__OP_PORT_SET;
	r.port_set = &rec;
	return append(fd, &r);
}

int64_t store_port_del(struct fabricd *fd, uint32_t vni, const uint8_t mac[MAC_LEN])
{
	L2f__StoreRecord r = L2F__STORE_RECORD__INIT;
	L2f__Port rec = L2F__PORT__INIT;

	rec.vni = vni;
	rec.mac.data = (uint8_t *)mac;
	rec.mac.len = MAC_LEN;
	r.op_case = L2F__STORE_RECORD__OP_PORT_DEL;
	r.port_del = &rec;
	return append(fd, &r);
}

static void host_rec(const struct host *h, L2f__Host *out)
{
	l2f__host__init(out);
	out->id = (char *)h->id;
	if (h->vtep.af) {
		out->has_vtep = true;
		out->vtep.data = (uint8_t *)h->vtep.b;
		out->vtep.len = ipaddr_len(&h->vtep);
	}
	out->vnis = h->vnis;
	out->n_vnis = h->nvnis;
}

int64_t store_host_set(struct fabricd *fd, uint16_t h)
{
	L2f__StoreRecord r = L2F__STORE_RECORD__INIT;
	L2f__Host rec;

	host_rec(&fd->dir.hosts[h], &rec);
	r.op_case = L2F__STORE_RECORD__OP_HOST_SET;
	r.host_set = &rec;
	return append(fd, &r);
}

int64_t store_host_del(struct fabricd *fd, const char *id)
{
	L2f__StoreRecord r = L2F__STORE_RECORD__INIT;

	r.op_case = L2F__STORE_RECORD__OP_HOST_DEL;
	r.host_del = (char *)id;
	return append(fd, &r);
}

static int load_record(const uint8_t *rec, size_t len, void *ctx, const char **why)
{
	struct fabricd *fd = ctx;

	return store_replay(&fd->dir, rec, len, why);
}

/* --- the whole state as records: compaction (in the forked child), import --------------- */

struct snap_ctx {
	const struct directory *d;
	int (*put)(void *sink, const uint8_t *rec, size_t len);
	void *sink;
	int err;
};

static int snap_put(struct snap_ctx *c, const L2f__StoreRecord *r)
{
	size_t len = l2f__store_record__get_packed_size(r);
	uint8_t stackbuf[4096], *buf = len <= sizeof(stackbuf) ? stackbuf : malloc(len);

	if (!buf)
		return c->err = -ENOMEM;
	l2f__store_record__pack(r, buf);
	c->err = c->put(c->sink, buf, len);
	if (buf != stackbuf)
		free(buf);
	return c->err;
}

static int snap_port(struct binding *b, void *arg)
{
	struct snap_ctx *c = arg;
	L2f__StoreRecord r = L2F__STORE_RECORD__INIT;
	L2f__Port p = L2F__PORT__INIT;
	ProtobufCBinaryData ips[DIR_MAX_IPS];
	char *hosts[DIR_MAX_PORT_HOSTS];

	if (!(b->flags & B_API))
		return 0;
	p.vni = b->vni;
	p.mac.data = b->mac;
	p.mac.len = MAC_LEN;
	for (size_t i = 0; i < b->nips; i++) {
		ips[i].data = (uint8_t *)b->ips[i].b;
		ips[i].len = ipaddr_len(&b->ips[i]);
	}
	p.ips = ips;
	p.n_ips = b->nips;
	for (size_t i = 0; i < b->nhosts; i++)
		hosts[i] = (char *)c->d->hosts[b->hosts[i]].id;
	p.hosts = hosts;
	p.n_hosts = b->nhosts;
	p.has_mode = true;
	p.mode = b->flags & B_HA_FLOOD ? L2F__HA_MODE__HA_FLOOD : L2F__HA_MODE__HA_TRACK;
	p.name = b->name;
	r.op_case = L2F__STORE_RECORD__OP_PORT_SET;
	r.port_set = &p;
	return snap_put(c, &r) < 0;
}

/* Hosts with a VTEP first (ports name hosts, and recreate those without one), then ports. */
static int write_state(struct snap_ctx *c)
{
	const struct directory *d = c->d;

	for (uint16_t h = 0; h < d->nhosts && !c->err; h++) {
		L2f__StoreRecord r = L2F__STORE_RECORD__INIT;
		L2f__Host rec;

		if (!d->hosts[h].id[0] || !d->hosts[h].vtep.af)
			continue;
		host_rec(&d->hosts[h], &rec);
		r.op_case = L2F__STORE_RECORD__OP_HOST_SET;
		r.host_set = &rec;
		snap_put(c, &r);
	}
	if (!c->err)
		dir_foreach(d, snap_port, c);
	return c->err;
}

static int put_snapshot(void *sink, const uint8_t *rec, size_t len)
{
	return journal_snapshot_put(sink, rec, len);
}

static int snapshot(struct journal_snap *s, void *ctx)
{
	struct fabricd *fd = ctx;
	struct snap_ctx c = { &fd->dir, put_snapshot, s, 0 };

	return write_state(&c);
}

/* --- the store of before the journal ------------------------------------------------------ */

/* PATH holds a store of the old format (one Reply)? Then it is loaded into the directory:
 * 1. 0 when PATH is not one, -errno. */
static int load_v0(struct fabricd *fd)
{
	struct directory *d = &fd->dir;
	const char *why = NULL;
	L2f__Reply *r = NULL;
	struct stat st;
	uint8_t *buf;
	int f, ret = 0;

	f = open(fd->store_path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(f, &st) < 0 || st.st_size < 12 || st.st_size > (1 << 30)) {
		close(f);
		return 0;
	}
	buf = malloc((size_t)st.st_size);
	/* a journal starts with its header record: length, checksum, then the magic */
	if (buf && read(f, buf, (size_t)st.st_size) == st.st_size && memcmp(buf + 8, "l2fjrnl", 7))
		r = l2f__reply__unpack(NULL, (size_t)st.st_size, buf);
	close(f);
	free(buf);
	if (!r || r->n_fdb || r->n_flood || r->error || (!r->n_ports && !r->n_hosts)) {
		if (r)
			l2f__reply__free_unpacked(r, NULL);
		return 0;
	}
	for (size_t i = 0; i < r->n_hosts && !ret; i++)
		ret = store_apply_host(d, r->hosts[i], &why);
	for (size_t i = 0; i < r->n_ports && !ret; i++)
		ret = store_apply_port(d, r->ports[i], &why);
	l2f__reply__free_unpacked(r, NULL);
	if (ret)
		log_err("store %s: an old-format store, but %s", fd->store_path, why);
	return ret ? ret : 1;
}

static int put_append(void *sink, const uint8_t *rec, size_t len)
{
	int64_t seq = journal_append(sink, rec, len);

	return seq < 0 ? (int)seq : 0;
}

static int fsync_dir_of(const char *path)
{
	char dir[4096];
	char *slash;
	int f, err = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	f = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f < 0 || fsync(f) < 0)
		err = -errno;
	if (f >= 0)
		close(f);
	return err;
}

/* An old-format store at PATH: its content is written to a new journal PATH.import (made
 * durable by closing it), the old file is kept as PATH.v0 (a hard link) and the journal
 * renamed over PATH. A crash before the rename leaves the old store in place, to import
 * again. The directory is left empty, for the journal to load. */
static int import_v0(struct fabricd *fd)
{
	struct journal_opts o = { 0 };
	struct journal_load_report rep;
	char tmp[4096], old[4096];
	struct journal *j;
	size_t n = dir_count(&fd->dir);
	int ret = load_v0(fd);

	if (ret <= 0)
		return ret;
	snprintf(tmp, sizeof(tmp), "%s.import", fd->store_path);
	snprintf(old, sizeof(old), "%s.v0", fd->store_path);
	unlink(tmp);
	o.path = tmp;
	ret = journal_open(fd->base, &o, NULL, NULL, NULL, NULL, &j, &rep);
	if (!ret) {
		struct snap_ctx c = { &fd->dir, put_append, j, 0 };

		n = dir_count(&fd->dir);
		ret = write_state(&c);
		if (journal_close(j) < 0 && !ret)
			ret = -EIO;
	}
	if (!ret) {
		unlink(old);           /* from an import that did not get to the rename */
		if (link(fd->store_path, old) < 0)
			ret = -errno;
	}
	if (!ret && rename(tmp, fd->store_path) < 0)
		ret = -errno;
	if (!ret)
		ret = fsync_dir_of(fd->store_path);
	if (ret) {
		log_err("store %s: cannot import the old-format store: %s", fd->store_path,
			strerror(-ret));
		unlink(tmp);
		return ret;
	}
	log_info("store %s: imported an old-format store (%zu bindings), kept as %s",
		 fd->store_path, n, old);
	dir_free(&fd->dir);
	return dir_init(&fd->dir, fd->dir.dup_moves, fd->dir.dup_window_s);
}

/* --- open, close --------------------------------------------------------------------------- */

static void durable(uint64_t seq, int err, void *ctx)
{
	api_durable(ctx, seq, err);
}

int store_open(struct fabricd *fd, bool recover)
{
	struct journal_opts o = { .path = fd->store_path, .recover = recover };
	struct journal_load_report rep;
	int err;

	if (!fd->store_path)
		return 0;
	err = import_v0(fd);
	if (err < 0)
		return err;
	err = journal_open(fd->base, &o, load_record, snapshot, durable, fd, &fd->journal, &rep);
	if (err) {
		log_err("%s", rep.line);
		if (!recover && rep.corrupt)
			log_err("store %s: start with --recover to keep the valid part (the file is "
				"copied aside first)", fd->store_path);
		return err;
	}
	log_msg(rep.torn_reason || rep.corrupt ? LOG_LVL_WARN : LOG_LVL_INFO, "%s", rep.line);
	log_info("store %s: %zu binding(s), %u host(s)", fd->store_path, dir_count(&fd->dir),
		 fd->dir.nhosts);
	return 0;
}

int store_close(struct fabricd *fd)
{
	int err = 0;

	if (fd->journal) {
		err = journal_close(fd->journal);
		if (err)
			log_err("store %s: closing: %s", fd->store_path, strerror(-err));
		fd->journal = NULL;
	}
	return err;
}
