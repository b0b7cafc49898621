/*
 * Certificates and CRLs: building and signing them with the extensions
 * each kind needs, reading an issuer's certificate, writing PEM, and the
 * pin that libtls's tls_peer_cert_hash() reports.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/util.h"
#include "certs/tlscert.h"

/* Bytes of randomness in a serial number (its top bit is cleared). */
#define SERIAL_BYTES	16
/* A PEM certificate, or a chain of them; anything bigger is not one. */
#define CERTFILE_MAX	(1024 * 1024)

static int	x509_add_conf(X509 *, X509V3_CTX *, int, const char *,
		    char *, size_t);
static int	x509_add_san(X509 *, const struct host_list *, char *,
		    size_t);
static int	x509_set_times(X509 *, time_t, time_t, char *, size_t);
static int	x509_pem_out(struct file_out *, BIO *, char *, size_t);

/*
 * Formats a message and appends the first queued OpenSSL error to it,
 * then clears the queue.
 */
void
tlscert_sslerr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list		 ap;
	unsigned long	 e;
	char		 ebuf[256];
	size_t		 n;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, ebuf, sizeof(ebuf));
		n = strlen(err);
		if (n < errlen)
			snprintf(err + n, errlen - n, ": %s", ebuf);
	}
	ERR_clear_error();
}

/*
 * Makes a positive, nonzero serial of up to 127 random bits: 16 random
 * bytes with the top bit cleared, so its DER form is at most 16 bytes.
 */
ASN1_INTEGER *
x509_serial(char *err, size_t errlen)
{
	unsigned char	 buf[SERIAL_BYTES];
	BIGNUM		*bn = NULL;
	ASN1_INTEGER	*serial = NULL;

	do {
		if (RAND_bytes(buf, sizeof(buf)) != 1) {
			tlscert_sslerr(err, errlen, "cannot make a random "
			    "serial number");
			return NULL;
		}
		buf[0] &= 0x7f;
		if ((bn = BN_bin2bn(buf, sizeof(buf), bn)) == NULL) {
			tlscert_sslerr(err, errlen, "serial number");
			return NULL;
		}
	} while (BN_is_zero(bn));
	if ((serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		tlscert_sslerr(err, errlen, "serial number");
	BN_free(bn);
	return serial;
}

/* Adds an extension described in openssl.cnf syntax ("critical,CA:TRUE"). */
static int
x509_add_conf(X509 *x, X509V3_CTX *ctx, int nid, const char *value,
    char *err, size_t errlen)
{
	X509_EXTENSION	*ext;
	int		 rv = 0;

	if ((ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value)) == NULL ||
	    !X509_add_ext(x, ext, -1)) {
		tlscert_sslerr(err, errlen, "cannot add %s = %s",
		    OBJ_nid2ln(nid), value);
		rv = -1;
	}
	X509_EXTENSION_free(ext);
	return rv;
}

/* Adds subjectAltName: an IP entry for each address, DNS for the rest. */
static int
x509_add_san(X509 *x, const struct host_list *hosts, char *err,
    size_t errlen)
{
	GENERAL_NAMES	*gens;
	GENERAL_NAME	*gen = NULL;
	ASN1_STRING	*str = NULL;
	unsigned char	 ip[16];
	size_t		 i, iplen;
	int		 type, rv = -1;

	if ((gens = sk_GENERAL_NAME_new_null()) == NULL) {
		tlscert_sslerr(err, errlen, "cannot add subjectAltName");
		return -1;
	}
	for (i = 0; i < hosts->n; i++) {
		if ((type = parse_host(hosts->v[i], ip, &iplen)) == -1) {
			snprintf(err, errlen, "--host: '%s' is neither an IP "
			    "address nor a DNS name", hosts->v[i]);
			goto out;
		}
		/* iPAddress is an OCTET STRING, dNSName an IA5String. */
		str = type == 1 ? ASN1_OCTET_STRING_new() :
		    ASN1_IA5STRING_new();
		if ((gen = GENERAL_NAME_new()) == NULL || str == NULL ||
		    !(type == 1 ? ASN1_STRING_set(str, ip, (int)iplen) :
		    ASN1_STRING_set(str, hosts->v[i], -1))) {
			tlscert_sslerr(err, errlen, "cannot add subjectAltName "
			    "%s", hosts->v[i]);
			goto out;
		}
		GENERAL_NAME_set0_value(gen, type == 1 ? GEN_IPADD : GEN_DNS,
		    str);
		str = NULL;
		if (!sk_GENERAL_NAME_push(gens, gen)) {
			tlscert_sslerr(err, errlen, "cannot add "
			    "subjectAltName");
			goto out;
		}
		gen = NULL;
	}
	if (!X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
	    X509V3_ADD_DEFAULT)) {
		tlscert_sslerr(err, errlen, "cannot add subjectAltName");
		goto out;
	}
	rv = 0;
out:
	ASN1_STRING_free(str);
	GENERAL_NAME_free(gen);
	GENERAL_NAMES_free(gens);
	return rv;
}

static int
x509_set_times(X509 *x, time_t not_before, time_t not_after, char *err,
    size_t errlen)
{
	char	buf[32];

	if (ASN1_TIME_set(X509_getm_notBefore(x), not_before) == NULL) {
		time_format_iso(not_before, buf, sizeof(buf));
		tlscert_sslerr(err, errlen, "notBefore %s cannot be encoded",
		    buf);
		return -1;
	}
	if (ASN1_TIME_set(X509_getm_notAfter(x), not_after) == NULL) {
		time_format_iso(not_after, buf, sizeof(buf));
		tlscert_sslerr(err, errlen, "notAfter %s cannot be encoded",
		    buf);
		return -1;
	}
	return 0;
}

/*
 * Builds and signs a certificate for key. With ca and ca_key it is
 * issued by that CA; without them it is self-signed.
 */
X509 *
x509_build(const struct cert_req *req, EVP_PKEY *key, X509 *ca,
    EVP_PKEY *ca_key, char *err, size_t errlen)
{
	X509		*x = NULL;
	X509_NAME	*name = NULL;
	ASN1_INTEGER	*serial = NULL;
	X509V3_CTX	 ctx;
	const char	*bc, *ku, *eku = NULL;
	char		 esc[512];
	int		 ok = 0;

	switch (req->kind) {
	case CERT_SELF:
		bc = "critical,CA:TRUE";
		ku = "critical,digitalSignature,keyEncipherment,keyCertSign";
		break;
	case CERT_CA:
		bc = "critical,CA:TRUE";
		ku = "critical,keyCertSign,cRLSign,digitalSignature";
		break;
	default:
		bc = "critical,CA:FALSE";
		ku = "critical,digitalSignature";
		break;
	}
	if (req->eku == (EKU_SERVER | EKU_CLIENT))
		eku = "serverAuth,clientAuth";
	else if (req->eku == EKU_SERVER)
		eku = "serverAuth";
	else if (req->eku == EKU_CLIENT)
		eku = "clientAuth";

	if ((x = X509_new()) == NULL || (name = X509_NAME_new()) == NULL) {
		tlscert_sslerr(err, errlen, "cannot make a certificate");
		goto out;
	}
	if ((serial = x509_serial(err, errlen)) == NULL)
		goto out;
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_serialNumber(x, serial)) {
		tlscert_sslerr(err, errlen, "cannot make a certificate");
		goto out;
	}
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)req->name, -1, -1, 0)) {
		tlscert_sslerr(err, errlen, "subject CN '%s' cannot be used "
		    "(it must be UTF-8 of 1 to %d characters; give another "
		    "--name)", str_escape(req->name, esc, sizeof(esc)),
		    TLSCERT_CN_MAX);
		goto out;
	}
	if (!X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, ca != NULL ?
	    X509_get_subject_name(ca) : name) ||
	    !X509_set_pubkey(x, key)) {
		tlscert_sslerr(err, errlen, "cannot make a certificate");
		goto out;
	}
	if (x509_set_times(x, req->not_before, req->not_after, err,
	    errlen) == -1)
		goto out;

	/* For a self-signed certificate the issuer is the subject. */
	X509V3_set_ctx(&ctx, ca != NULL ? ca : x, x, NULL, NULL, 0);
	if (x509_add_conf(x, &ctx, NID_basic_constraints, bc, err,
	    errlen) == -1 ||
	    x509_add_conf(x, &ctx, NID_key_usage, ku, err, errlen) == -1)
		goto out;
	if (eku != NULL && x509_add_conf(x, &ctx, NID_ext_key_usage, eku,
	    err, errlen) == -1)
		goto out;
	if (req->hosts != NULL && req->hosts->n > 0 &&
	    x509_add_san(x, req->hosts, err, errlen) == -1)
		goto out;
	if (x509_add_conf(x, &ctx, NID_subject_key_identifier, "hash", err,
	    errlen) == -1)
		goto out;
	if (ca != NULL && x509_add_conf(x, &ctx,
	    NID_authority_key_identifier, "keyid,issuer", err, errlen) == -1)
		goto out;

	if (X509_sign(x, ca_key != NULL ? ca_key : key, EVP_sha256()) <= 0) {
		tlscert_sslerr(err, errlen, "cannot sign the certificate");
		goto out;
	}
	ok = 1;
out:
	ASN1_INTEGER_free(serial);
	X509_NAME_free(name);
	if (!ok) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/* Reads the first PEM certificate in path. */
X509 *
x509_load(const char *path, char *err, size_t errlen)
{
	unsigned char	*buf = NULL;
	size_t		 len = 0;
	BIO		*bio;
	X509		*x = NULL;

	if (file_read(path, CERTFILE_MAX, &buf, &len, err, errlen) == -1)
		return NULL;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		tlscert_sslerr(err, errlen, "%s", path);
		goto out;
	}
	ERR_clear_error();
	if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		if (ERR_GET_REASON(ERR_peek_last_error()) ==
		    PEM_R_NO_START_LINE) {
			snprintf(err, errlen, "%s: not a PEM certificate (no "
			    "-----BEGIN CERTIFICATE----- line)", path);
			ERR_clear_error();
		} else
			tlscert_sslerr(err, errlen, "%s: not a valid "
			    "certificate", path);
	}
	BIO_free(bio);
out:
	file_free(buf, len);
	return x;
}

/*
 * Checks that ca_key belongs to ca and that ca may sign certificates
 * (or, with crl set, CRLs).
 */
int
x509_check_issuer(const char *ca_path, X509 *ca, const char *key_path,
    EVP_PKEY *ca_key, int crl, char *err, size_t errlen)
{
	uint32_t	ku;

	if (X509_check_private_key(ca, ca_key) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "%s: does not match the certificate in "
		    "%s", key_path, ca_path);
		return -1;
	}
	if (X509_check_ca(ca) == 0) {
		snprintf(err, errlen, "%s: not a CA certificate "
		    "(basicConstraints CA:TRUE is missing)", ca_path);
		return -1;
	}
	ku = X509_get_key_usage(ca);
	if (!crl && (ku & KU_KEY_CERT_SIGN) == 0) {
		snprintf(err, errlen, "%s: its key usage does not allow "
		    "signing certificates (no keyCertSign)", ca_path);
		return -1;
	}
	if (crl && (ku & KU_CRL_SIGN) == 0) {
		snprintf(err, errlen, "%s: its key usage does not allow "
		    "signing CRLs (no cRLSign; make the CA with tlscert ca)",
		    ca_path);
		return -1;
	}
	return 0;
}

/* Writes what a memory BIO holds to f. */
static int
x509_pem_out(struct file_out *f, BIO *bio, char *err, size_t errlen)
{
	char	*data;
	long	 len;

	len = BIO_get_mem_data(bio, &data);
	if (len <= 0) {
		snprintf(err, errlen, "%s: nothing to write", f->path);
		return -1;
	}
	return file_write(f, data, (size_t)len, err, errlen);
}

int
x509_write(struct file_out *f, X509 *x, char *err, size_t errlen)
{
	BIO	*bio;
	int	 rv = -1;

	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509(bio, x)) {
		tlscert_sslerr(err, errlen, "%s: cannot encode the "
		    "certificate", f->path);
		goto out;
	}
	rv = x509_pem_out(f, bio, err, errlen);
out:
	BIO_free(bio);
	return rv;
}

/*
 * Formats "SHA256:" and the lowercase hex SHA-256 of the certificate's
 * DER encoding, as tls_peer_cert_hash() does; len must be at least 72.
 */
int
x509_pin(X509 *x, char *buf, size_t len)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen, i;
	size_t		o;

	if (!X509_digest(x, EVP_sha256(), md, &mdlen) ||
	    len < 7 + 2 * (size_t)mdlen + 1)
		return -1;
	o = (size_t)snprintf(buf, len, "SHA256:");
	for (i = 0; i < mdlen; i++, o += 2)
		snprintf(buf + o, len - o, "%02x", md[i]);
	return 0;
}

/*
 * Builds a CRL signed by ca_key that revokes the serials of certs (read
 * from paths, for messages), each of which must have been issued by ca.
 * Revocation dates and lastUpdate are last; nextUpdate is next; the CRL
 * number is last, so a later CRL has a larger number.
 */
X509_CRL *
x509_crl(X509 *ca, EVP_PKEY *ca_key, X509 **certs, const char **paths,
    size_t n, time_t last, time_t next, char *err, size_t errlen)
{
	X509_CRL	*crl = NULL;
	X509_REVOKED	*rev = NULL;
	X509_EXTENSION	*ext = NULL;
	ASN1_TIME	*tlast = NULL, *tnext = NULL;
	ASN1_INTEGER	*num = NULL;
	X509V3_CTX	 ctx;
	EVP_PKEY	*capub;
	size_t		 i, j;
	int		 ok = 0;

	capub = X509_get0_pubkey(ca);
	for (i = 0; i < n; i++) {
		if (X509_NAME_cmp(X509_get_issuer_name(certs[i]),
		    X509_get_subject_name(ca)) != 0 || capub == NULL ||
		    X509_verify(certs[i], capub) != 1) {
			ERR_clear_error();
			snprintf(err, errlen, "%s: was not issued by this CA",
			    paths[i]);
			goto out;
		}
	}
	if ((crl = X509_CRL_new()) == NULL ||
	    !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) ||
	    (tlast = ASN1_TIME_set(NULL, last)) == NULL ||
	    (tnext = ASN1_TIME_set(NULL, next)) == NULL ||
	    !X509_CRL_set1_lastUpdate(crl, tlast) ||
	    !X509_CRL_set1_nextUpdate(crl, tnext)) {
		tlscert_sslerr(err, errlen, "cannot make the CRL");
		goto out;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++) {
			if (ASN1_INTEGER_cmp(X509_get0_serialNumber(certs[i]),
			    X509_get0_serialNumber(certs[j])) == 0)
				break;
		}
		if (j < i)
			continue;	/* the same certificate twice */
		if ((rev = X509_REVOKED_new()) == NULL ||
		    !X509_REVOKED_set_serialNumber(rev,
		    (ASN1_INTEGER *)X509_get0_serialNumber(certs[i])) ||
		    !X509_REVOKED_set_revocationDate(rev, tlast) ||
		    !X509_CRL_add0_revoked(crl, rev)) {
			tlscert_sslerr(err, errlen, "%s: cannot revoke it",
			    paths[i]);
			goto out;
		}
		rev = NULL;
	}
	if ((num = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_INTEGER_set_int64(num, (int64_t)last) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0)) {
		tlscert_sslerr(err, errlen, "cannot add the CRL number");
		goto out;
	}
	X509V3_set_ctx(&ctx, ca, NULL, NULL, crl, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx,
	    NID_authority_key_identifier, "keyid,issuer")) == NULL ||
	    !X509_CRL_add_ext(crl, ext, -1)) {
		tlscert_sslerr(err, errlen, "cannot add "
		    "authorityKeyIdentifier to the CRL");
		goto out;
	}
	if (!X509_CRL_sort(crl) ||
	    X509_CRL_sign(crl, ca_key, EVP_sha256()) <= 0) {
		tlscert_sslerr(err, errlen, "cannot sign the CRL");
		goto out;
	}
	ok = 1;
out:
	X509_REVOKED_free(rev);
	X509_EXTENSION_free(ext);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(tlast);
	ASN1_TIME_free(tnext);
	if (!ok) {
		X509_CRL_free(crl);
		crl = NULL;
	}
	return crl;
}

int
x509_crl_write(struct file_out *f, X509_CRL *crl, char *err, size_t errlen)
{
	BIO	*bio;
	int	 rv = -1;

	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509_CRL(bio, crl)) {
		tlscert_sslerr(err, errlen, "%s: cannot encode the CRL",
		    f->path);
		goto out;
	}
	rv = x509_pem_out(f, bio, err, errlen);
out:
	BIO_free(bio);
	return rv;
}
