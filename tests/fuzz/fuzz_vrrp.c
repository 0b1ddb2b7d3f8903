/* fuzz_vrrp.c - vrrp_parse: the first byte picks the family, the rest is the VRRP message
 * from fixed source and group addresses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pkt/drop.h"
#include "pkt/vrrp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the sources of the seed corpus: 198.18.0.1 and fe80::1 */
static const uint8_t src4[4] = { 198, 18, 0, 1 };
static const uint8_t src6[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vrrp_pkt v;
	struct ipaddr a;
	size_t alen;
	int af, ret;

	if (size < 1)
		return 0;
	af = data[0] & 1 ? AF_INET6 : AF_INET;
	alen = af == AF_INET ? 4 : 16;
	data++;
	size--;
	ret = af == AF_INET ? vrrp_parse(af, src4, &vrrp_group4, data, size, &v) :
			      vrrp_parse(af, src6, &vrrp_group6, data, size, &v);
	if (ret > 0 || ret <= -PKT_DROP_COUNT)
		abort();
	if (ret < 0)
		return 0;
	if (v.af != af || size != VRRP_HDR_LEN + v.naddr * alen ||
	    v.addrs != data + VRRP_HDR_LEN || v.max_adver_int_cs == 0 ||
	    v.max_adver_int_cs > 0xfff || (data[0] >> 4) != VRRP_VERSION)
		abort();
	for (size_t i = 0; i < v.naddr; i++) {
		vrrp_pkt_addr(&v, i, &a);
		if (a.af != af || memcmp(a.b, v.addrs + i * alen, alen) != 0)
			abort();
	}
	return 0;
}
