/*
 * tls.h - mutual TLS for the control protocol's TCP sessions (OpenSSL 3). Each process has a
 * CA file (the certificates its peers must chain to), its own certificate and key. A peer's
 * identity is what its certificate proves, never what it says: the certificate's subject
 * alternative names hold exactly one URI `urn:l2fabric:ROLE:ID` (ROLE one of vtepd, vipd,
 * fabricctl, switchd, fabricd; ID as a Hello id) and, for an agent, the IP addresses it may
 * use as its VTEP (IP SANs). A session's Hello must name the same role and id as the
 * certificate (wire.c checks it before any daemon sees the Hello).
 *
 * TLS 1.3 only; both sides present a certificate and verify the other's chain.
 */
#ifndef L2_TLS_H
#define L2_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include "addr.h"
#include "fabric.pb-c.h"

#define WIRE_URN_PREFIX "urn:l2fabric:"
#define WIRE_IDENT_MAX_IPS 16

/* Who a certificate says its holder is. */
struct wire_ident {
	L2f__Role role;
	char id[64 + 1];                          /* WIRE_ID_MAX */
	struct ipaddr ips[WIRE_IDENT_MAX_IPS];    /* IP SANs: addresses it may use as a VTEP */
	size_t nips;
};

struct wire_tls_files {
	const char *ca;                /* PEM: the CA certificate(s) peers must chain to */
	const char *cert;              /* PEM: our certificate (chain) */
	const char *key;               /* PEM: its private key */
};

struct wire_tls;

/* Loads the files into a context for the server (accepting) or client (connecting) side and
 * reads our own identity from our certificate. 0, or -errno with a message in err naming
 * the file and OpenSSL's reason. */
int wire_tls_new(const struct wire_tls_files *f, bool server, struct wire_tls **out,
		 char *err, size_t errlen);
/* wire_tls_new, then our certificate must be of role, and name id when id[0] is set (else id
 * takes the certificate's; id may be NULL: any). 0, or -1 with the reason in err ("cert F
 * names a vipd, not a vtepd", "id X, but cert F names vtepd Y"). */
int wire_tls_for(const struct wire_tls_files *f, bool server, L2f__Role role, char *id,
		 size_t idlen, struct wire_tls **out, char *err, size_t errlen);
void wire_tls_free(struct wire_tls *t);
/* The identity in our own certificate. */
const struct wire_ident *wire_tls_self(const struct wire_tls *t);
bool wire_tls_is_server(const struct wire_tls *t);
/* A new SSL object of t's context (for bufferevent_openssl), or NULL. */
struct ssl_st *wire_tls_ssl(const struct wire_tls *t);
/* The identity of the peer of a finished handshake: 0, or -EPERM with *why. */
int wire_tls_peer(struct ssl_st *ssl, struct wire_ident *out, const char **why);
/* The text of OpenSSL's error e, for log lines and close reasons. */
const char *wire_tls_errstr(unsigned long e, char *buf, size_t len);

/* "vtepd", "fabricd", ...; NULL for a value the enum does not define. */
const char *wire_role_name(L2f__Role role);
/* The role named s, or 0. */
L2f__Role wire_role_parse(const char *s);

#endif
