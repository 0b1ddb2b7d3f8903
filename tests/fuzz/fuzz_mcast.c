/* fuzz_mcast.c - the input as an IP packet, by its version: ip4_parse then igmp_parse, or
 * ip6_parse then mld_parse; an accepted report names only routable groups. */
#include <stdint.h>
#include <stdlib.h>
#include "pkt/drop.h"
#include "pkt/mcast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mcast_report rep;
	struct ip4_info ip4;
	struct ip6_info ip6;
	int ret = -PKT_DROP_IP_VERSION;

	if (size && (data[0] >> 4) == 4 && ip4_parse(data, size, &ip4) == 0)
		ret = igmp_parse(&ip4, &rep);
	else if (size && (data[0] >> 4) == 6 && ip6_parse(data, size, &ip6) == 0)
		ret = mld_parse(&ip6, &rep);
	if (ret > 0 || ret <= -PKT_DROP_COUNT)
		abort();
	if (ret == 0) {
		if (rep.n > MCAST_MAX_RECORDS)
			abort();
		for (uint16_t i = 0; i < rep.n; i++)
			if (!mcast_group_routable(&rep.rec[i].group))
				abort();
	}
	return 0;
}
