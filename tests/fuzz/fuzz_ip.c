/* fuzz_ip.c - ip4_parse and ip6_parse on the same input; payloads must stay inside it. */
#include <stdint.h>
#include <stdlib.h>
#include "pkt/drop.h"
#include "pkt/ip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_inside(const uint8_t *data, size_t size, const uint8_t *p, size_t len,
			 size_t min_hdr)
{
	if (p < data + min_hdr || p > data + size || len > (size_t)(data + size - p))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ip4_info ip4;
	struct ip6_info ip6;
	int ret;

	ret = ip4_parse(data, size, &ip4);
	if (ret > 0 || ret <= -PKT_DROP_COUNT)
		abort();
	if (ret == 0)
		check_inside(data, size, ip4.payload, ip4.payload_len, IP4_HDR_LEN);
	ret = ip6_parse(data, size, &ip6);
	if (ret > 0 || ret <= -PKT_DROP_COUNT)
		abort();
	if (ret == 0)
		check_inside(data, size, ip6.payload, ip6.payload_len, IP6_HDR_LEN);
	return 0;
}
