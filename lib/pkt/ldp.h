/*
 * ldp.h - PortLand's Location Discovery Protocol messages (SIGCOMM 2009, 3.4) on EtherType
 * 0x88B5 (IEEE 802 local experimental 1): the LDM every switch sends out every port, and the
 * position proposal and reply of Algorithm 2 between an edge and its pod's aggregation
 * switches. Pure codec: parse with every check, build whole Ethernet frames.
 *
 * All three types share one header - the fields of the paper's LDM - so each of them also
 * proves the link alive and refreshes what the receiver knows of its neighbour. A proposal
 * and its reply are their own types rather than fields of the periodic LDM: a proposal goes
 * to the aggregation switches only, once per attempt, and a reply answers one proposal
 * (matched by its nonce), where an LDM is a periodic state announcement.
 *
 * Header (20 bytes, network order):
 *   0 version (1)    1 type         2 length (of the LDP message, header included)
 *   4 switch_id (6: the lowest MAC of the sender's ports)
 *  10 level         11 dir (the sender's view of this port)   12 port (sender's number)
 *  13 flags (POD: pod valid, POS: position valid; other bits zero)
 *  14 pod (u16, 0 unless POD)   16 position (0 unless POS)   17-19 reserved, zero
 * PROPOSE (+8): 20 position, 21-23 reserved, 24 nonce (u32)
 * REPLY (+16):  20 position, 21 verdict, 22-23 reserved, 24 nonce, 28 proposer (6),
 *               34-35 reserved
 * A frame is padded to 60 bytes; bytes past `length` are Ethernet padding and ignored.
 */
#ifndef L2_PKT_LDP_H
#define L2_PKT_LDP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "addr.h"

#define ETHERTYPE_LDP 0x88b5
#define LDP_VERSION 1
#define LDP_HDR_LEN 20
#define LDP_PROPOSE_LEN (LDP_HDR_LEN + 8)
#define LDP_REPLY_LEN (LDP_HDR_LEN + 16)
#define LDP_MAX_LEN LDP_REPLY_LEN
#define LDP_NONE (-1)          /* pod or position not (yet) known */

#define LDP_F_POD 0x01
#define LDP_F_POS 0x02

/* Sent to the nearest-bridge group (IEEE 802.1Q 8.6.3): no 802.1 bridge forwards it, so an
 * LDM crosses exactly one link, as the paper's neighbour discovery needs. */
extern const struct mac ldp_group;

enum ldp_type {
	LDP_TYPE_LDM = 1,
	LDP_TYPE_PROPOSE = 2,
	LDP_TYPE_REPLY = 3,
};

/* The paper's level 0/1/2 are edge/aggregation/core; 0 here is "not yet known". */
enum ldp_level {
	LDP_LEVEL_UNKNOWN = 0,
	LDP_LEVEL_EDGE = 1,
	LDP_LEVEL_AGG = 2,
	LDP_LEVEL_CORE = 3,
};

enum ldp_dir {
	LDP_DIR_UNKNOWN = 0,
	LDP_DIR_UP = 1,
	LDP_DIR_DOWN = 2,
};

enum ldp_verdict {
	LDP_ACCEPT = 1,
	LDP_DENY = 2,
};

struct ldp_msg {
	enum ldp_type type;
	struct mac switch_id;
	enum ldp_level level;
	enum ldp_dir dir;
	uint8_t port;
	int pod;                   /* LDP_NONE or 0..PMAC_POD_MAX; never set by a core */
	int position;              /* LDP_NONE or 0..255; only an edge has one */
	/* PROPOSE and REPLY */
	uint8_t proposal;          /* the position proposed */
	uint32_t nonce;            /* the edge's attempt, echoed in the reply */
	/* REPLY */
	enum ldp_verdict verdict;
	struct mac proposer;       /* the edge the reply is for */
};

/* Parses an LDP message (the Ethernet payload): 0 or -enum pkt_drop (TRUNCATED,
 * LDP_VERSION, LDP_TYPE, LDP_LENGTH, LDP_RESERVED, LDP_RANGE, LDP_SWITCH_ID). */
int ldp_parse(const uint8_t *p, size_t len, struct ldp_msg *out);
/* Builds the LDP message alone: length, or -ENOSPC, or -EINVAL (a field out of range). */
ssize_t ldp_build(uint8_t *buf, size_t cap, const struct ldp_msg *m);
/* A whole Ethernet frame from src to ldp_group, padded to 60 bytes. */
ssize_t ldp_build_frame(uint8_t *buf, size_t cap, const struct mac *src, const struct ldp_msg *m);

const char *ldp_level_name(enum ldp_level l);
const char *ldp_dir_name(enum ldp_dir d);

#endif
