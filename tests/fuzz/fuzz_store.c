/* fuzz_store.c - fabricd's journal records replayed into a directory (store_replay): the
 * input is a sequence of records, each a u16 length (network order) and that many bytes, as
 * a journal would hand them over after its checksums passed (a bug, a hand-edited file or a
 * future version can still produce them). Nothing may crash, leak or leave the directory
 * inconsistent: every binding found by a walk is found by its key, and names live hosts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "store_replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_one(struct binding *b, void *arg)
{
	const struct directory *d = arg;

	if (dir_find(d, b->vni, b->mac) != b || b->nhosts < 1 || b->nhosts > DIR_MAX_PORT_HOSTS)
		abort();
	for (uint8_t i = 0; i < b->nhosts; i++)
		if (b->hosts[i] >= d->nhosts || !d->hosts[b->hosts[i]].id[0])
			abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct directory *d = malloc(sizeof(*d));
	const char *why;

	if (!d || dir_init(d, 5, 180) < 0)
		abort();
	while (size >= 2) {
		size_t len = (size_t)data[0] << 8 | data[1];

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		why = NULL;
		if (store_replay(d, data, len, &why) < 0 && !why)
			abort();
		data += len;
		size -= len;
	}
	dir_foreach(d, check_one, d);
	dir_free(d);
	free(d);
	return 0;
}
