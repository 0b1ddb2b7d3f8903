/* eth.h - Ethernet II header: parse and build (untagged; packet sockets see VLANs stripped). */
#ifndef L2_PKT_ETH_H
#define L2_PKT_ETH_H

#include <stddef.h>
#include <stdint.h>
#include "addr.h"
#include "buf.h"

#define ETH_HDR_LEN 14
#define ETH_MIN_FRAME 60       /* without FCS; builders pad to this */
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86dd

struct eth_hdr {
	struct mac dst;
	struct mac src;
	uint16_t type;         /* host order */
};

/* 0, or -PKT_DROP_TRUNCATED. The payload starts at p + ETH_HDR_LEN. */
int eth_parse(const uint8_t *p, size_t len, struct eth_hdr *out);
int eth_build(struct wbuf *w, const struct mac *dst, const struct mac *src, uint16_t type);
/* Pads with zeros up to ETH_MIN_FRAME. */
int eth_pad(struct wbuf *w);

#endif
