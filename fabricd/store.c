/*
 * store.c - fabricd's store on disk: a Reply message (fabric.proto) holding the API's ports
 * and the hosts seen, written whole to a temporary file and renamed over the old one, so a
 * crash leaves either the old store or the new one. Learned bindings are not stored: agents
 * report them again when they reconnect.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fabricd.h"
#include "log.h"

struct collect {
	const struct directory *dir;
	L2f__Port **ports;
	size_t n, cap;
	int err;
};

static void bytes_of(ProtobufCBinaryData *out, const void *p, size_t len)
{
	out->data = (uint8_t *)p;
	out->len = len;
}

static int collect_port(struct binding *b, void *arg)
{
	struct collect *c = arg;
	L2f__Port *p;

	if (!(b->flags & B_API))
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		L2f__Port **np = realloc(c->ports, cap * sizeof(*np));

		if (!np)
			return c->err = -ENOMEM;
		c->ports = np;
		c->cap = cap;
	}
	p = calloc(1, sizeof(*p) + b->nips * sizeof(ProtobufCBinaryData) +
			      b->nhosts * sizeof(char *));
	if (!p)
		return c->err = -ENOMEM;
	l2f__port__init(p);
	p->vni = b->vni;
	bytes_of(&p->mac, b->mac, MAC_LEN);
	p->ips = (ProtobufCBinaryData *)(p + 1);
	p->n_ips = b->nips;
	for (size_t i = 0; i < b->nips; i++)
		bytes_of(&p->ips[i], b->ips[i].b, ipaddr_len(&b->ips[i]));
	p->hosts = (char **)(p->ips + b->nips);
	p->n_hosts = b->nhosts;
	for (size_t i = 0; i < b->nhosts; i++)
		p->hosts[i] = (char *)c->dir->hosts[b->hosts[i]].id;
	p->has_mode = true;
	p->mode = b->flags & B_HA_FLOOD ? L2F__HA_MODE__HA_FLOOD : L2F__HA_MODE__HA_TRACK;
	p->name = b->name;
	c->ports[c->n++] = p;
	return 0;
}

int store_save(const struct fabricd *fd)
{
	const struct directory *d = &fd->dir;
	struct collect c = { .dir = d };
	L2f__Reply r = L2F__REPLY__INIT;
	L2f__Host *hosts = NULL, **hostp = NULL;
	uint8_t *buf = NULL;
	char tmp[4096];
	size_t len;
	int err = 0, f;

	if (!fd->store_path)
		return 0;
	dir_foreach(d, collect_port, &c);
	hosts = calloc(d->nhosts + 1, sizeof(*hosts));
	hostp = calloc(d->nhosts + 1, sizeof(*hostp));
	if (c.err || !hosts || !hostp) {
		err = -ENOMEM;
		goto out;
	}
	for (uint16_t i = 0; i < d->nhosts; i++) {
		l2f__host__init(&hosts[i]);
		hosts[i].id = (char *)d->hosts[i].id;
		if (d->hosts[i].vtep.af) {
			hosts[i].has_vtep = true;
			bytes_of(&hosts[i].vtep, d->hosts[i].vtep.b, ipaddr_len(&d->hosts[i].vtep));
		}
		hosts[i].vnis = d->hosts[i].vnis;
		hosts[i].n_vnis = d->hosts[i].nvnis;
		hostp[i] = &hosts[i];
	}
	r.ports = c.ports;
	r.n_ports = c.n;
	r.hosts = hostp;
	r.n_hosts = d->nhosts;
	len = l2f__reply__get_packed_size(&r);
	buf = malloc(len ? len : 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	l2f__reply__pack(&r, buf);
	snprintf(tmp, sizeof(tmp), "%s.tmp", fd->store_path);
	f = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (f < 0 || write(f, buf, len) != (ssize_t)len || fsync(f) < 0) {
		err = -errno;
		if (f >= 0)
			close(f);
		unlink(tmp);
		goto out;
	}
	close(f);
	if (rename(tmp, fd->store_path) < 0)
		err = -errno;
out:
	if (err)
		log_err("store %s: %s", fd->store_path, strerror(-err));
	for (size_t i = 0; i < c.n; i++)
		free(c.ports[i]);
	free(c.ports);
	free(hosts);
	free(hostp);
	free(buf);
	return err;
}

static int load_port(struct directory *d, const L2f__Port *p)
{
	struct ipaddr ips[DIR_MAX_IPS];
	uint16_t hosts[DIR_MAX_PORT_HOSTS];
	struct binding *b;

	if (p->mac.len != MAC_LEN || p->n_ips > DIR_MAX_IPS || p->n_hosts < 1 ||
	    p->n_hosts > DIR_MAX_PORT_HOSTS || p->vni > VNI_MAX)
		return -EINVAL;
	for (size_t i = 0; i < p->n_ips; i++) {
		memset(&ips[i], 0, sizeof(ips[i]));
		if (p->ips[i].len != 4 && p->ips[i].len != 16)
			return -EINVAL;
		ips[i].af = p->ips[i].len == 4 ? AF_INET : AF_INET6;
		memcpy(ips[i].b, p->ips[i].data, p->ips[i].len);
	}
	for (size_t i = 0; i < p->n_hosts; i++) {
		int h = dir_host(d, p->hosts[i]);

		if (h < 0)
			return h;
		hosts[i] = (uint16_t)h;
	}
	return dir_port_set(d, p->vni, p->mac.data, ips, p->n_ips, hosts, p->n_hosts,
			    p->has_mode && p->mode == L2F__HA_MODE__HA_FLOOD, p->name, &b);
}

int store_load(struct fabricd *fd)
{
	struct directory *d = &fd->dir;
	L2f__Reply *r;
	struct stat st;
	uint8_t *buf;
	int f, err = 0;

	if (!fd->store_path)
		return 0;
	f = open(fd->store_path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(f, &st) < 0 || st.st_size > (1 << 30)) {
		close(f);
		return -EFBIG;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf || read(f, buf, (size_t)st.st_size) != st.st_size) {
		close(f);
		free(buf);
		return -EIO;
	}
	close(f);
	r = l2f__reply__unpack(NULL, (size_t)st.st_size, buf);
	free(buf);
	if (!r)
		return -EBADMSG;
	for (size_t i = 0; i < r->n_hosts && !err; i++) {
		const L2f__Host *h = r->hosts[i];
		int idx = dir_host(d, h->id);

		if (idx < 0) {
			err = idx;
			break;
		}
		if (h->has_vtep && (h->vtep.len == 4 || h->vtep.len == 16)) {
			d->hosts[idx].vtep.af = h->vtep.len == 4 ? AF_INET : AF_INET6;
			memcpy(d->hosts[idx].vtep.b, h->vtep.data, h->vtep.len);
		}
		err = dir_host_set_vnis(d, (uint16_t)idx, h->vnis, h->n_vnis);
	}
	for (size_t i = 0; i < r->n_ports && !err; i++)
		err = load_port(d, r->ports[i]);
	l2f__reply__free_unpacked(r, NULL);
	if (!err)
		log_info("store %s: %zu binding(s), %u host(s)", fd->store_path, dir_count(d),
			 d->nhosts);
	return err;
}
