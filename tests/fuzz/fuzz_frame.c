/* fuzz_frame.c - frame_parse on whole Ethernet frames; what it accepts must be consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pkt/drop.h"
#include "pkt/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_vrrp(const struct frame *f, const uint8_t *data, size_t size)
{
	size_t alen = f->vrrp.af == AF_INET ? 4 : 16;
	struct ipaddr a;

	if (f->vrrp.af != f->ip_src.af || f->vrrp.max_adver_int_cs == 0 ||
	    f->vrrp.max_adver_int_cs > 0xfff)
		abort();
	if (f->vrrp.addrs < data + ETH_HDR_LEN ||
	    (size_t)(f->vrrp.addrs - data) + f->vrrp.naddr * alen > size)
		abort();
	for (size_t i = 0; i < f->vrrp.naddr; i++)
		vrrp_pkt_addr(&f->vrrp, i, &a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame f;
	int ret = frame_parse(data, size, &f);

	if (ret > 0 || ret <= -PKT_DROP_COUNT || !pkt_drop_name(-ret))
		abort();
	if (ret < 0)
		return 0;
	switch (f.kind) {
	case FRAME_ARP:
		if (f.eth.type != ETHERTYPE_ARP || mac_is_multicast(&f.arp.sha) ||
		    mac_eq(&f.arp.sha, &mac_zero) ||
		    (f.arp.op != ARP_OP_REQUEST && f.arp.op != ARP_OP_REPLY))
			abort();
		break;
	case FRAME_VRRP:
		check_vrrp(&f, data, size);
		break;
	case FRAME_NS:
		if (f.eth.type != ETHERTYPE_IPV6 || IN6_IS_ADDR_MULTICAST(&f.ns.target) ||
		    (IN6_IS_ADDR_UNSPECIFIED(&f.ip_src.v6) && f.ns.has_slla))
			abort();
		break;
	default:
		abort();
	}
	return 0;
}
