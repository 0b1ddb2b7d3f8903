/* fuzz_arp.c - arp_parse on ARP payloads; an accepted packet rebuilds and re-parses the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pkt/arp.h"
#include "pkt/drop.h"
#include "pkt/eth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t frame[ETH_MIN_FRAME];
	struct arp_pkt a, b;
	int ret;

	/* padding too: the two are compared with memcmp */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	ret = arp_parse(data, size, &a);
	if (ret > 0 || ret <= -PKT_DROP_COUNT)
		abort();
	if (ret < 0)
		return 0;
	if (size < ARP_LEN || mac_is_multicast(&a.sha) || mac_eq(&a.sha, &mac_zero))
		abort();
	if (arp_build_frame(frame, sizeof(frame), &mac_broadcast, &a.sha, &a) != ETH_MIN_FRAME)
		abort();
	if (memcmp(frame + ETH_HDR_LEN, data, ARP_LEN) != 0)
		abort();
	if (arp_parse(frame + ETH_HDR_LEN, sizeof(frame) - ETH_HDR_LEN, &b) != 0 ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	return 0;
}
