/*
 * directory.c - bindings and hosts (see directory.h). Bindings sit in a macmap keyed by
 * (vni, mac): one 24-byte slot (at most half full) plus the binding itself each.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "directory.h"

int dir_init(struct directory *d, uint32_t dup_moves, uint32_t dup_window_s)
{
	int err;

	memset(d, 0, sizeof(*d));
	d->dup_moves = dup_moves;
	d->dup_window_s = dup_window_s;
	err = macmap_init(&d->map);
	/* the binding map's seed is random per map: the id index shares it, mixed */
	d->host_seed = d->map.seed ^ 0x9e3779b97f4a7c15ULL;
	return err;
}

static void binding_free(struct binding *b)
{
	free(b->ips);
	free(b->lips);
	free(b->name);
	free(b);
}

static int free_one(void *val, void *ctx)
{
	binding_free(val);
	return 0;
}

void dir_free(struct directory *d)
{
	macmap_foreach(&d->map, free_one, NULL);
	macmap_free(&d->map);
	for (uint16_t h = 0; h < d->nhosts; h++)
		free(d->hosts[h].vnis);
	free(d->hosts);
	free(d->host_index);
	d->hosts = NULL;
	d->host_index = NULL;
	d->nhosts = d->cap_hosts = 0;
	d->host_index_size = 0;
}

size_t dir_count(const struct directory *d)
{
	return d->map.count;
}

struct binding *dir_find(const struct directory *d, uint32_t vni, const uint8_t mac[MAC_LEN])
{
	return macmap_get(&d->map, vni, mac);
}

/* The binding for (vni, mac), created empty when missing. */
static struct binding *get_or_add(struct directory *d, uint32_t vni, const uint8_t mac[MAC_LEN],
				  bool *created)
{
	struct binding *b = dir_find(d, vni, mac);

	*created = false;
	if (b)
		return b;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->vni = vni;
	memcpy(b->mac, mac, MAC_LEN);
	b->master = DIR_NO_HOST;
	if (macmap_put(&d->map, vni, mac, b) < 0) {
		free(b);
		return NULL;
	}
	*created = true;
	return b;
}

/* B_LEARNED and lhost change only here, so that each host's nlearned counts the bindings
 * its agent holds. */
static void learned_at(struct directory *d, struct binding *b, uint16_t h)
{
	if (dir_learned_at(b, h))
		return;
	if (b->flags & B_LEARNED)
		d->hosts[b->lhost].nlearned--;
	b->flags |= B_LEARNED;
	b->lhost = h;
	d->hosts[h].nlearned++;
}

static void learned_clear(struct directory *d, struct binding *b)
{
	if (!(b->flags & B_LEARNED))
		return;
	d->hosts[b->lhost].nlearned--;
	b->flags &= (uint8_t)~B_LEARNED;
}

int dir_del(struct directory *d, uint32_t vni, const uint8_t mac[MAC_LEN])
{
	struct binding *b = macmap_del(&d->map, vni, mac);

	if (!b)
		return -ENOENT;
	learned_clear(d, b);
	binding_free(b);
	return 0;
}

/* *out: a heap copy of ips, NULL when nips is 0. */
static int ips_dup(const struct ipaddr *ips, size_t nips, struct ipaddr **out)
{
	*out = NULL;
	if (nips > DIR_MAX_IPS)
		return -E2BIG;
	if (!nips)
		return 0;
	*out = malloc(nips * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	memcpy(*out, ips, nips * sizeof(**out));
	return 0;
}

static int set_ips(struct binding *b, const struct ipaddr *ips, size_t nips)
{
	struct ipaddr *copy;
	int err = ips_dup(ips, nips, &copy);

	if (err)
		return err;
	free(b->ips);
	b->ips = copy;
	b->nips = (uint8_t)nips;
	return 0;
}

static void set_lips(struct binding *b, const struct ipaddr *ips, size_t nips)
{
	struct ipaddr *copy;

	if (ips_dup(ips, nips, &copy) < 0)
		return;        /* the previous list stays: out of date, still the agent's */
	free(b->lips);
	b->lips = copy;
	b->nlips = (uint8_t)nips;
}

static void forget_lips(struct binding *b)
{
	free(b->lips);
	b->lips = NULL;
	b->nlips = 0;
}

static bool ips_equal(const struct binding *b, const struct ipaddr *ips, size_t nips)
{
	if (b->nips != nips)
		return false;
	for (size_t i = 0; i < nips; i++)
		if (!ipaddr_eq(&b->ips[i], &ips[i]))
			return false;
	return true;
}

/* An API port's addresses are the orchestrator's: what an agent learns adds to them (up to
 * DIR_MAX_IPS) and never removes one. A learned binding takes the agent's list as it is.
 * true when the list changed. */
static bool learn_ips(struct binding *b, const struct ipaddr *ips, size_t nips)
{
	struct ipaddr merged[DIR_MAX_IPS];
	size_t n = 0;

	if (!nips)
		return false;
	if (!(b->flags & B_API)) {
		if (ips_equal(b, ips, nips))
			return false;
		return set_ips(b, ips, nips) == 0;
	}
	memcpy(merged, b->ips, b->nips * sizeof(*merged));
	n = b->nips;
	for (size_t i = 0; i < nips && n < DIR_MAX_IPS; i++) {
		bool have = false;

		for (size_t k = 0; k < n && !have; k++)
			have = ipaddr_eq(&merged[k], &ips[i]);
		if (!have)
			merged[n++] = ips[i];
	}
	return n != b->nips && set_ips(b, merged, n) == 0;
}

/* --- hosts --------------------------------------------------------------------------------- */

/* FNV-1a under the directory's seed, finished by a multiply-xorshift: host ids come from
 * certificates and the API, but nothing outside should know where one lands. */
static uint64_t id_hash(uint64_t seed, const char *id)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;

	for (; *id; id++)
		h = (h ^ (uint8_t)*id) * 0x100000001b3ULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 32);
}

/* The index slot where id is, or the empty slot where it would go. */
static uint32_t index_slot(const struct directory *d, const char *id)
{
	uint32_t mask = d->host_index_size - 1, i = (uint32_t)id_hash(d->host_seed, id) & mask;

	while (d->host_index[i] && strcmp(d->hosts[d->host_index[i] - 1].id, id) != 0)
		i = (i + 1) & mask;
	return i;
}

/* Rebuilds the id index for at least `want` hosts (growing it, or after a delete). */
static int index_rebuild(struct directory *d, uint32_t want)
{
	uint32_t size = d->host_index_size > 16 ? d->host_index_size : 16;
	uint16_t *idx;

	while (size < 2 * want)
		size *= 2;
	idx = calloc(size, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	free(d->host_index);
	d->host_index = idx;
	d->host_index_size = size;
	for (uint16_t h = 0; h < d->nhosts; h++)
		if (d->hosts[h].id[0])
			d->host_index[index_slot(d, d->hosts[h].id)] = (uint16_t)(h + 1);
	return 0;
}

int dir_host_find(const struct directory *d, const char *id)
{
	uint32_t i;

	if (!d->host_index_size || !*id)
		return -ENOENT;
	i = index_slot(d, id);
	return d->host_index[i] ? d->host_index[i] - 1 : -ENOENT;
}

/* A free slot to reuse, or a new one at the end (the array grows by doubling). */
static int host_slot(struct directory *d)
{
	for (uint16_t h = 0; h < d->nhosts; h++)
		if (!d->hosts[h].id[0])
			return h;
	if (d->nhosts >= DIR_MAX_HOSTS)
		return -ENOSPC;
	if (d->nhosts == d->cap_hosts) {
		uint32_t cap = d->cap_hosts ? 2u * d->cap_hosts : 16;
		struct host *nh;

		if (cap > DIR_MAX_HOSTS)
			cap = DIR_MAX_HOSTS;
		nh = realloc(d->hosts, cap * sizeof(*nh));
		if (!nh)
			return -ENOMEM;
		d->hosts = nh;
		d->cap_hosts = (uint16_t)cap;
	}
	return d->nhosts++;
}

int dir_host(struct directory *d, const char *id)
{
	int i = dir_host_find(d, id), err;

	if (i >= 0)
		return i;
	if (!*id || strlen(id) > DIR_HOST_ID_MAX)
		return -EINVAL;
	if ((uint32_t)d->nhosts + 1 > d->host_index_size / 2) {
		err = index_rebuild(d, (uint32_t)d->nhosts + 1);
		if (err)
			return err;
	}
	i = host_slot(d);
	if (i < 0)
		return i;
	memset(&d->hosts[i], 0, sizeof(d->hosts[0]));
	strcpy(d->hosts[i].id, id);
	d->host_index[index_slot(d, id)] = (uint16_t)(i + 1);
	return i;
}

static int vni_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int dir_host_set_vnis(struct directory *d, uint16_t h, const uint32_t *vnis, size_t n)
{
	struct host *hh = &d->hosts[h];
	uint32_t *copy = NULL;

	if (n > DIR_MAX_VNIS)
		return -E2BIG;
	if (n && !(copy = malloc(n * sizeof(*copy))))
		return -ENOMEM;
	if (n)
		memcpy(copy, vnis, n * sizeof(*copy));
	/* sorted, so that host_has_vni is a binary search */
	if (n > 1)
		qsort(copy, n, sizeof(*copy), vni_cmp);
	free(hh->vnis);
	hh->vnis = copy;
	hh->nvnis = (uint16_t)n;
	return 0;
}

void dir_host_del(struct directory *d, uint16_t h)
{
	free(d->hosts[h].vnis);
	memset(&d->hosts[h], 0, sizeof(d->hosts[h]));
	/* An open-addressing index cannot just clear the slot: rebuild it (hosts go rarely).
	 * Without memory the old one still works: its entry for h names an empty id, which no
	 * lookup matches, or the id of the host that reuses h, which is then right. */
	(void)index_rebuild(d, d->nhosts);
}

bool dir_binding_on_host(const struct binding *b, uint16_t h)
{
	if (dir_learned_at(b, h))
		return true;
	for (uint8_t i = 0; i < b->nhosts; i++)
		if (b->hosts[i] == h)
			return true;
	return false;
}

bool host_has_vni(const struct host *h, uint32_t vni)
{
	return h->nvnis && bsearch(&vni, h->vnis, h->nvnis, sizeof(vni), vni_cmp);
}

int dir_port_set(struct directory *d, uint32_t vni, const uint8_t mac[MAC_LEN],
		 const struct ipaddr *ips, size_t nips, const uint16_t *hosts, size_t nhosts,
		 bool ha_flood, const char *name, struct binding **out)
{
	struct ipaddr *copy = NULL;
	struct binding *b;
	char *n = NULL;
	bool created;
	int err;

	if (nhosts < 1 || nhosts > DIR_MAX_PORT_HOSTS || nips > DIR_MAX_IPS)
		return -EINVAL;
	b = get_or_add(d, vni, mac, &created);
	if (!b)
		return -ENOMEM;
	err = ips_dup(ips, nips, &copy);
	if (!err && name && !(n = strdup(name)))
		err = -ENOMEM;
	if (err) {
		free(copy);
		if (created)
			dir_del(d, vni, mac);
		return err;
	}
	if (name) {
		free(b->name);
		b->name = n;
	}
	if ((b->flags & (B_API | B_LEARNED)) == B_LEARNED) {
		/* The API takes over a learned binding: what the agent reported is kept for when
		 * the port goes (dir_port_del). */
		free(b->lips);
		b->lips = b->ips;
		b->nlips = b->nips;
		learned_at(d, b, b->hosts[0]);
	} else {
		free(b->ips);
	}
	b->ips = copy;
	b->nips = (uint8_t)nips;
	memcpy(b->hosts, hosts, nhosts * sizeof(*hosts));
	b->nhosts = (uint8_t)nhosts;
	b->flags = (uint8_t)((b->flags & B_LEARNED) | B_API | (ha_flood ? B_HA_FLOOD : 0));
	/* A reported master stays only while it is still one of the port's hosts. */
	bool master_kept = false;

	for (size_t i = 0; nhosts > 1 && i < nhosts; i++)
		master_kept |= hosts[i] == b->master;
	if (!master_kept)
		b->master = DIR_NO_HOST;
	if (!created)
		b->seq++;
	*out = b;
	return 0;
}

int dir_port_del(struct directory *d, uint32_t vni, const uint8_t mac[MAC_LEN],
		 struct binding **out)
{
	struct binding *b = dir_find(d, vni, mac);

	*out = NULL;
	if (!b)
		return -ENOENT;
	if (!(b->flags & B_API))
		return -EINVAL;
	if (!(b->flags & B_LEARNED))
		return dir_del(d, vni, mac);
	/* Back to what the agent's reports made it: no name, no HA, its host and addresses. */
	b->flags = (uint8_t)(B_LEARNED | (b->flags & B_DUPLICATE));
	b->hosts[0] = b->lhost;
	b->nhosts = 1;
	b->master = DIR_NO_HOST;
	free(b->ips);
	b->ips = b->lips;
	b->nips = b->nlips;
	b->lips = NULL;
	b->nlips = 0;
	free(b->name);
	b->name = NULL;
	b->seq++;
	*out = b;
	return 1;
}

/* The agent on h reported b (already located according to the report): b remembers that h
 * holds it, and for an API port the addresses reported, as a learned binding keeps them (an
 * empty list changes nothing). */
static void note_learned(struct directory *d, struct binding *b, uint16_t h,
			 const struct ipaddr *ips, size_t nips)
{
	learned_at(d, b, h);
	if ((b->flags & B_API) && nips)
		set_lips(b, ips, nips);
}

/* Duplicate detection (RFC 7432 15.1): more than dup_moves moves within dup_window_s. */
static bool count_move(struct directory *d, struct binding *b, uint32_t now_s)
{
	if (now_s - b->window_start_s >= d->dup_window_s || b->moves == 0) {
		b->window_start_s = now_s;
		b->moves = 0;
	}
	if (b->moves < UINT8_MAX)
		b->moves++;
	if (b->moves > d->dup_moves) {
		b->flags |= B_DUPLICATE;
		return true;
	}
	return false;
}

/* A reported sequence number is taken at most SEQ_MAX_JUMP beyond ours, and none wraps: one
 * report of 2^64 - 1 must not leave a MAC where every later, honest move looks stale. */
static uint64_t seq_capped(uint64_t ours, uint64_t reported)
{
	uint64_t cap = ours < UINT64_MAX - SEQ_MAX_JUMP ? ours + SEQ_MAX_JUMP : UINT64_MAX;

	return reported < cap ? reported : cap;
}

/* RFC 7432 15: a move takes max(reported, ours + 1). */
static uint64_t moved_seq(uint64_t ours, uint64_t reported)
{
	uint64_t up = ours < UINT64_MAX ? ours + 1 : ours;

	reported = seq_capped(ours, reported);
	return reported > up ? reported : up;
}

enum learn_result dir_learn(struct directory *d, uint16_t h, uint32_t vni,
			    const uint8_t mac[MAC_LEN], const struct ipaddr *ips, size_t nips,
			    uint64_t seq, uint32_t now_s, struct binding **out)
{
	struct binding *b;
	bool created;

	b = get_or_add(d, vni, mac, &created);
	*out = b;
	if (!b)
		return LEARN_SAME;
	if (created) {
		b->flags = 0;
		learned_at(d, b, h);
		b->hosts[0] = h;
		b->nhosts = 1;
		b->seq = seq < SEQ_MAX_JUMP ? seq : SEQ_MAX_JUMP;
		set_ips(b, ips, nips);
		return LEARN_NEW;
	}
	if (b->nhosts > 1) {
		/* Not moved; the port remembers who holds it, should it stop being an API port. */
		note_learned(d, b, h, ips, nips);
		return LEARN_HA_IGNORED;
	}
	if (b->hosts[0] != h) {
		/* RFC 7432 15: a report older than what we hold is stale. */
		if (seq < b->seq)
			return LEARN_STALE;
		if (b->flags & B_DUPLICATE)
			return LEARN_FROZEN;
		if (count_move(d, b, now_s))
			return LEARN_DUPLICATE;
		/* the move takes max(reported, ours + 1) */
		b->seq = moved_seq(b->seq, seq);
		b->hosts[0] = h;
		learn_ips(b, ips, nips);
		note_learned(d, b, h, ips, nips);
		return LEARN_MOVED;
	}
	bool changed = learn_ips(b, ips, nips);

	note_learned(d, b, h, ips, nips);
	seq = seq_capped(b->seq, seq);
	if (changed || seq > b->seq) {
		if (seq > b->seq)
			b->seq = seq;
		return LEARN_UPDATED;
	}
	return LEARN_SAME;
}

bool dir_unlearn(struct directory *d, uint16_t h, uint32_t vni, const uint8_t mac[MAC_LEN])
{
	struct binding *b = dir_find(d, vni, mac);

	if (!b || !dir_learned_at(b, h))
		return false;
	if (b->flags & B_API) {
		/* The orchestrator's port stays; it forgets what the agent reported. */
		learned_clear(d, b);
		forget_lips(b);
		return false;
	}
	dir_del(d, vni, mac);
	return true;
}

int dir_set_master(struct directory *d, struct binding *b, uint16_t h)
{
	bool member = false;

	for (uint8_t i = 0; i < b->nhosts; i++)
		member |= b->hosts[i] == h;
	if (b->nhosts < 2 || !member)
		return -EINVAL;
	if (b->master == h)
		return 1;
	b->master = h;
	b->seq++;
	return 0;
}

static void add_vtep(const struct directory *d, struct fdb_view *v, uint16_t host, uint16_t self)
{
	if (host == self || host >= d->nhosts || !d->hosts[host].vtep.af)
		return;
	v->vteps[v->nvteps++] = d->hosts[host].vtep;
}

void dir_fdb_for(const struct directory *d, const struct binding *b, uint16_t h,
		 struct fdb_view *out)
{
	memset(out, 0, sizeof(*out));
	out->vni = b->vni;
	memcpy(out->mac, b->mac, MAC_LEN);
	out->ips = b->ips;
	out->nips = b->nips;
	out->seq = b->seq;
	if (b->nhosts == 1) {
		add_vtep(d, out, b->hosts[0], h);
	} else if (b->flags & B_HA_FLOOD) {
		out->flood = true;
		for (uint8_t i = 0; i < b->nhosts; i++)
			add_vtep(d, out, b->hosts[i], h);
	} else {
		/* track: the master, or the first host until one is reported */
		add_vtep(d, out, b->master != DIR_NO_HOST ? b->master : b->hosts[0], h);
	}
}

size_t dir_flood_for(const struct directory *d, uint32_t vni, uint16_t h, struct ipaddr *out,
		     size_t max)
{
	size_t n = 0;

	for (uint16_t i = 0; i < d->nhosts && n < max; i++)
		if (i != h && d->hosts[i].vtep.af && host_has_vni(&d->hosts[i], vni))
			out[n++] = d->hosts[i].vtep;
	return n;
}

struct foreach_ctx {
	int (*cb)(struct binding *b, void *ctx);
	void *ctx;
};

static int foreach_one(void *val, void *arg)
{
	struct foreach_ctx *c = arg;

	return c->cb(val, c->ctx);
}

void dir_foreach(const struct directory *d, int (*cb)(struct binding *b, void *ctx), void *ctx)
{
	struct foreach_ctx c = { cb, ctx };

	macmap_foreach(&d->map, foreach_one, &c);
}
