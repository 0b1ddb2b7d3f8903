/* fuzz_ndisc.c - the input as an IPv6 packet: ip6_parse, then ndisc_parse_ns and
 * ndisc_parse_na. */
#include <stdint.h>
#include <stdlib.h>
#include "pkt/drop.h"
#include "pkt/ndisc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ip6_info ip;
	struct nd_ns ns;
	struct nd_na na;
	int ret;

	if (ip6_parse(data, size, &ip) < 0)
		return 0;
	ret = ndisc_parse_na(&ip, &na);
	if (ret > 0 || ret <= -PKT_DROP_COUNT)
		abort();
	/* RFC 4861 7.1.2 invariants of an accepted NA */
	if (ret == 0 && (ip.hop_limit != 255 || ip.payload_len < 24 ||
			 ip.payload[0] != ICMP6_NA || IN6_IS_ADDR_MULTICAST(&na.target)))
		abort();
	ret = ndisc_parse_ns(&ip, &ns);
	if (ret > 0 || ret <= -PKT_DROP_COUNT)
		abort();
	if (ret < 0)
		return 0;
	/* RFC 4861 7.1.1 invariants of an accepted NS */
	if (ip.hop_limit != 255 || ip.payload_len < 24 || ip.payload[0] != ICMP6_NS ||
	    ip.payload[1] != 0 || IN6_IS_ADDR_MULTICAST(&ns.target) ||
	    (IN6_IS_ADDR_UNSPECIFIED(&ip.src) && ns.has_slla))
		abort();
	return 0;
}
