/* fuzz_ldp.c - ldp_parse on LDP messages (the Ethernet payload). An accepted message is
 * canonical: building it again gives back exactly its `length` bytes, and the rest of the
 * input is padding the parser never read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pkt/drop.h"
#include "pkt/ldp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[LDP_MAX_LEN];
	struct ldp_msg m;
	ssize_t n;
	int ret;

	ret = ldp_parse(data, size, &m);
	if (ret > 0 || ret <= -PKT_DROP_COUNT)
		abort();
	if (ret < 0)
		return 0;
	if (!mac_is_port(&m.switch_id) || (m.pod != LDP_NONE && m.level == LDP_LEVEL_CORE) ||
	    (m.position != LDP_NONE && m.level != LDP_LEVEL_EDGE))
		abort();
	n = ldp_build(out, sizeof(out), &m);
	if (n < LDP_HDR_LEN || (size_t)n > size || memcmp(out, data, (size_t)n) != 0)
		abort();
	return 0;
}
