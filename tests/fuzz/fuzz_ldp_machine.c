/* fuzz_ldp_machine.c - switchd's LDP state machine (switchd/ldp.c) fed what a neighbour could
 * send: the input is a list of records, each one byte of opcode then its operands -
 *   0: an LDP payload on a port (port, length, bytes), 1: time passes (ms) and the machine
 *   ticks, 2: a port goes up or down (port), 3: the fabric manager answers (pod, u16).
 * Whatever arrives, every message the machine sends must be one the codec builds (and so
 * parses), the level once decided never changes, and position and pod stay in range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ldp.h"

#define K 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_send(void *ctx, int port, const struct ldp_msg *m)
{
	uint8_t buf[LDP_MAX_LEN];
	struct ldp_msg back;
	ssize_t n = ldp_build(buf, sizeof(buf), m);

	if (port < 0 || port >= K || n < LDP_HDR_LEN || ldp_parse(buf, (size_t)n, &back) != 0)
		abort();
}

static void fz_request_pod(void *ctx)
{
}

static void fz_located(void *ctx, const struct ldp_location *loc)
{
	if (loc->level == LDP_LEVEL_UNKNOWN || loc->nports != K)
		abort();
}

static void fz_miswired(void *ctx, int port, enum ldp_miswire why, const struct ldp_msg *seen)
{
	if (port < 0 || port >= K || (unsigned)why >= LDP_MISWIRE_COUNT)
		abort();
}

static uint32_t fz_random(void *ctx)
{
	uint32_t *s = ctx;

	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static const struct ldp_ops fz_ops = {
	fz_send, fz_request_pod, fz_located, fz_miswired, fz_random,
};

/* A level, once decided, changes only when an edge takes its decision back (level_resets
 * counts it), and then it is sought again from unknown. */
static void check(const struct ldp *l, enum ldp_level was, uint64_t resets)
{
	if (was != LDP_LEVEL_UNKNOWN && l->level != was &&
	    !(was == LDP_LEVEL_EDGE && l->c.level_resets > resets))
		abort();
	if (l->c.level_resets > resets && was != LDP_LEVEL_EDGE)
		abort();
	if (l->position != LDP_NONE && (l->position < 0 || l->position >= K / 2))
		abort();
	if (l->pod != LDP_NONE && (l->pod < 0 || l->pod > PMAC_POD_MAX ||
				   l->level == LDP_LEVEL_CORE))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mac id = { { 0x02, 0, 0, 0, 0, 0x10 } };
	struct monotime now = { .us = USEC_PER_SEC };
	uint32_t seed = 1;
	struct ldp l;
	size_t i = 0;

	if (ldp_init(&l, &id, K, now, NULL, &fz_ops, &seed) != 0)
		abort();
	for (int p = 0; p < K; p++)
		ldp_port_up(&l, now, p);
	while (i < size) {
		enum ldp_level was = l.level;
		uint64_t resets = l.c.level_resets;
		uint8_t op = data[i++];

		if (op % 4 == 0 && i + 2 <= size) {
			int port = data[i] % (K + 1);       /* K: no such port */
			size_t len = data[i + 1];

			i += 2;
			len = len < size - i ? len : size - i;
			ldp_rx_payload(&l, now, port, data + i, len);
			i += len;
		} else if (op % 4 == 1 && i < size) {
			now.us += (int64_t)data[i++] * 10 * USEC_PER_MSEC;
			ldp_tick(&l, now);
			if (ldp_next_deadline(&l).us <= now.us)
				abort();
		} else if (op % 4 == 2 && i < size) {
			int port = data[i++] % K;

			if (l.port[port].state == LDP_PORT_DOWN)
				ldp_port_up(&l, now, port);
			else
				ldp_port_down(&l, now, port);
		} else if (op % 4 == 3 && i + 2 <= size) {
			ldp_pod_assigned(&l, now, data[i] << 8 | data[i + 1]);
			i += 2;
		} else {
			break;
		}
		check(&l, was, resets);
	}
	return 0;
}
