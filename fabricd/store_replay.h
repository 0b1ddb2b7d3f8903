/* store_replay.h - fabricd's journal records into the directory (store_replay.c). */
#ifndef FABRICD_STORE_REPLAY_H
#define FABRICD_STORE_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include "directory.h"
#include "wire.h"

/* One encoded StoreRecord (fabric.proto) applied to d: 0, or -errno with *why (a static
 * string) for a record that does not decode or that the directory must not take. */
int store_replay(struct directory *d, const uint8_t *rec, size_t len, const char **why);
/* An API port as a record or an old-format store holds it (port_set), and a host (host_set). */
int store_apply_port(struct directory *d, const L2f__Port *p, const char **why);
int store_apply_host(struct directory *d, const L2f__Host *h, const char **why);

#endif
