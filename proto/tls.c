/*
 * tls.c - OpenSSL contexts for the control protocol's mutual TLS, and identities read from
 * certificates (see tls.h). The sessions themselves run on libevent's bufferevent_openssl in
 * wire.c.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tls.h"
#include "wire.h"

struct wire_tls {
	SSL_CTX *ctx;
	bool server;
	struct wire_ident self;
};

static const char *const role_names[] = {
	[L2F__ROLE__ROLE_VTEPD] = "vtepd",
	[L2F__ROLE__ROLE_FABRICCTL] = "fabricctl",
	[L2F__ROLE__ROLE_VIPD] = "vipd",
	[L2F__ROLE__ROLE_SWITCHD] = "switchd",
	[L2F__ROLE__ROLE_FABRICD] = "fabricd",
};

#define NROLES (sizeof(role_names) / sizeof(role_names[0]))

const char *wire_role_name(L2f__Role role)
{
	return (unsigned int)role < NROLES ? role_names[role] : NULL;
}

L2f__Role wire_role_parse(const char *s)
{
	for (unsigned int r = 0; r < NROLES; r++)
		if (role_names[r] && strcmp(role_names[r], s) == 0)
			return (L2f__Role)r;
	return 0;
}

const char *wire_tls_errstr(unsigned long e, char *buf, size_t len)
{
	const char *reason = ERR_reason_error_string(e);

	if (reason)
		snprintf(buf, len, "%s", reason);
	else
		ERR_error_string_n(e, buf, len);
	return buf;
}

/* "urn:l2fabric:ROLE:ID" into out: true when it is one. */
static bool parse_urn(const char *uri, size_t len, struct wire_ident *out)
{
	size_t plen = strlen(WIRE_URN_PREFIX);
	char role[16];
	const char *colon, *id;

	if (len <= plen || memcmp(uri, WIRE_URN_PREFIX, plen) != 0 || memchr(uri, 0, len))
		return false;
	uri += plen;
	len -= plen;
	colon = memchr(uri, ':', len);
	if (!colon || (size_t)(colon - uri) >= sizeof(role))
		return false;
	memcpy(role, uri, (size_t)(colon - uri));
	role[colon - uri] = '\0';
	id = colon + 1;
	len -= (size_t)(id - uri);
	if (len < 1 || len > WIRE_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (id[i] <= 0x20 || id[i] >= 0x7f)
			return false;
	out->role = wire_role_parse(role);
	memcpy(out->id, id, len);
	out->id[len] = '\0';
	return out->role != 0;
}

static void add_ip(struct wire_ident *out, const ASN1_OCTET_STRING *ip)
{
	int len = ASN1_STRING_length(ip);
	struct ipaddr *a;

	if ((len != 4 && len != 16) || out->nips == WIRE_IDENT_MAX_IPS)
		return;
	a = &out->ips[out->nips++];
	memset(a, 0, sizeof(*a));
	a->af = len == 4 ? AF_INET : AF_INET6;
	memcpy(a->b, ASN1_STRING_get0_data(ip), (size_t)len);
}

/* The identity in x's subject alternative names: exactly one l2fabric URI, and its IPs. */
static int ident_of(X509 *x, struct wire_ident *out, const char **why)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int nurns = 0;

	memset(out, 0, sizeof(*out));
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const ASN1_IA5STRING *uri;

		if (g->type == GEN_IPADD) {
			add_ip(out, g->d.iPAddress);
			continue;
		}
		if (g->type != GEN_URI)
			continue;
		uri = g->d.uniformResourceIdentifier;
		if (!strncmp((const char *)ASN1_STRING_get0_data(uri), WIRE_URN_PREFIX,
			     strlen(WIRE_URN_PREFIX))) {
			nurns++;
			if (!parse_urn((const char *)ASN1_STRING_get0_data(uri),
				       (size_t)ASN1_STRING_length(uri), out)) {
				*why = "certificate's l2fabric URI is not urn:l2fabric:ROLE:ID";
				nurns = -1;
				break;
			}
		}
	}
	GENERAL_NAMES_free(names);
	if (nurns == 1)
		return 0;
	if (nurns == 0)
		*why = "certificate names no l2fabric identity (URI:urn:l2fabric:ROLE:ID)";
	else if (nurns > 1)
		*why = "certificate names more than one l2fabric identity";
	return -EPERM;
}

int wire_tls_peer(SSL *ssl, struct wire_ident *out, const char **why)
{
	X509 *x = SSL_get0_peer_certificate(ssl);

	if (!x) {
		*why = "peer presented no certificate";
		return -EPERM;
	}
	if (SSL_get_verify_result(ssl) != X509_V_OK) {
		*why = "peer's certificate did not verify";
		return -EPERM;
	}
	return ident_of(x, out, why);
}

static int fail(char *err, size_t errlen, const char *what, const char *file)
{
	unsigned long e = ERR_get_error();
	char reason[160];

	snprintf(err, errlen, "%s %s: %s", what, file,
		 e ? wire_tls_errstr(e, reason, sizeof(reason)) : "failed");
	ERR_clear_error();
	return -EINVAL;
}

int wire_tls_new(const struct wire_tls_files *f, bool server, struct wire_tls **out,
		 char *err, size_t errlen)
{
	struct wire_tls *t;
	const char *why = NULL;
	int ret = -EINVAL;

	if (!f->ca || !f->cert || !f->key) {
		snprintf(err, errlen, "TLS needs a CA file, a certificate and a key");
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t || !(t->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()))) {
		snprintf(err, errlen, "out of memory");
		free(t);
		return -ENOMEM;
	}
	t->server = server;
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_3_VERSION);
	/* both ends present a certificate, and the chain must verify */
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	/* idle sessions hold no 34 KB of buffers each */
	SSL_CTX_set_mode(t->ctx, SSL_MODE_RELEASE_BUFFERS);
	if (server)
		SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(t->ctx, 0);
	/* a peer gone without close_notify is an end of stream (frames are length-prefixed,
	 * so a cut never passes for a message), not a TLS error to log as one */
	SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (SSL_CTX_load_verify_locations(t->ctx, f->ca, NULL) != 1)
		ret = fail(err, errlen, "CA file", f->ca);
	else if (SSL_CTX_use_certificate_chain_file(t->ctx, f->cert) != 1)
		ret = fail(err, errlen, "certificate", f->cert);
	else if (SSL_CTX_use_PrivateKey_file(t->ctx, f->key, SSL_FILETYPE_PEM) != 1)
		ret = fail(err, errlen, "key", f->key);
	else if (SSL_CTX_check_private_key(t->ctx) != 1)
		ret = fail(err, errlen, "key does not match the certificate:", f->key);
	else if (ident_of(SSL_CTX_get0_certificate(t->ctx), &t->self, &why) < 0)
		snprintf(err, errlen, "certificate %s: %s", f->cert, why);
	else
		ret = 0;
	if (ret) {
		wire_tls_free(t);
		return ret;
	}
	*out = t;
	return 0;
}

void wire_tls_free(struct wire_tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

int wire_tls_for(const struct wire_tls_files *f, bool server, L2f__Role role, char *id,
		 size_t idlen, struct wire_tls **out, char *err, size_t errlen)
{
	const struct wire_ident *me;

	if (wire_tls_new(f, server, out, err, errlen) < 0)
		return -1;
	me = wire_tls_self(*out);
	if (me->role != role)
		snprintf(err, errlen, "cert %s names a %s, not a %s", f->cert,
			 wire_role_name(me->role), wire_role_name(role));
	else if (id && id[0] && strcmp(id, me->id) != 0)
		snprintf(err, errlen, "id %s, but cert %s names %s %s", id, f->cert,
			 wire_role_name(role), me->id);
	else {
		if (id)
			snprintf(id, idlen, "%s", me->id);
		return 0;
	}
	wire_tls_free(*out);
	*out = NULL;
	return -1;
}

const struct wire_ident *wire_tls_self(const struct wire_tls *t)
{
	return &t->self;
}

bool wire_tls_is_server(const struct wire_tls *t)
{
	return t->server;
}

SSL *wire_tls_ssl(const struct wire_tls *t)
{
	return SSL_new(t->ctx);
}
