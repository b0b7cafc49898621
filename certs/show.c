/*
 * "tlscert show": one "field: value" line per property of a certificate.
 * Certificates come from anywhere, so every name is escaped before it
 * reaches the terminal.
 */
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/util.h"
#include "certs/tlscert.h"

/* Longest name or list shown; longer ones are cut (and escaped). */
#define SHOW_LINE_MAX	4096

static void	show_name(FILE *, const char *, const X509_NAME *);
static void	show_time(FILE *, const char *, const ASN1_TIME *);
static void	show_serial(FILE *, const X509 *);
static void	show_san(FILE *, X509 *);
static void	show_key(FILE *, X509 *);
static void	show_key_usage(FILE *, X509 *);
static void	show_ext_key_usage(FILE *, X509 *);
static void	show_status(FILE *, X509 *);
static void	show_append(char *, size_t, const char *);

/* Appends ", item" (or just item when buf is empty), escaping item. */
static void
show_append(char *buf, size_t len, const char *item)
{
	size_t	n = strlen(buf);

	if (n > 0) {
		if (n + 2 >= len)
			return;
		memcpy(buf + n, ", ", 3);
		n += 2;
	}
	str_escape(item, buf + n, len - n);
}

/* Prints a name in RFC 2253 order ("CN=x,O=y"), control bytes escaped. */
static void
show_name(FILE *fp, const char *field, const X509_NAME *name)
{
	BIO		*bio;
	char		*data, raw[SHOW_LINE_MAX], esc[SHOW_LINE_MAX];
	long		 len;
	unsigned long	 flags;

	/* Keep UTF-8 and control bytes as they are; str_escape does them. */
	flags = XN_FLAG_RFC2253 & ~(ASN1_STRFLGS_ESC_MSB |
	    ASN1_STRFLGS_ESC_CTRL);
	raw[0] = '\0';
	if ((bio = BIO_new(BIO_s_mem())) != NULL &&
	    X509_NAME_print_ex(bio, name, 0, flags) >= 0) {
		len = BIO_get_mem_data(bio, &data);
		if (len > 0) {
			if ((size_t)len >= sizeof(raw))
				len = sizeof(raw) - 1;
			memcpy(raw, data, (size_t)len);
			raw[len] = '\0';
		}
	}
	BIO_free(bio);
	fprintf(fp, "%s: %s\n", field, str_escape(raw, esc, sizeof(esc)));
}

static void
show_time(FILE *fp, const char *field, const ASN1_TIME *t)
{
	struct tm	tm;
	char		buf[32];

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm)) {
		fprintf(fp, "%s: invalid\n", field);
		return;
	}
	time_format_iso(timegm(&tm), buf, sizeof(buf));
	fprintf(fp, "%s: %s\n", field, buf);
}

/* The serial in hex, as "openssl x509 -serial" prints it. */
static void
show_serial(FILE *fp, const X509 *x)
{
	BIGNUM	*bn;
	char	*hex = NULL;

	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) !=
	    NULL)
		hex = BN_bn2hex(bn);
	fprintf(fp, "serial: %s\n", hex != NULL ? hex : "invalid");
	OPENSSL_free(hex);
	BN_free(bn);
}

static void
show_san(FILE *fp, X509 *x)
{
	GENERAL_NAMES		*gens;
	const GENERAL_NAME	*gen;
	const ASN1_STRING	*s;
	char			 line[SHOW_LINE_MAX], item[SHOW_LINE_MAX];
	char			 ip[INET6_ADDRSTRLEN];
	int			 i;

	line[0] = '\0';
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		gen = sk_GENERAL_NAME_value(gens, i);
		switch (gen->type) {
		case GEN_DNS:
		case GEN_EMAIL:
		case GEN_URI:
			s = gen->d.ia5;
			snprintf(item, sizeof(item), "%s:%.*s",
			    gen->type == GEN_DNS ? "DNS" :
			    gen->type == GEN_EMAIL ? "email" : "URI",
			    ASN1_STRING_length(s),
			    (const char *)ASN1_STRING_get0_data(s));
			break;
		case GEN_IPADD:
			s = gen->d.ip;
			if ((ASN1_STRING_length(s) != 4 &&
			    ASN1_STRING_length(s) != 16) ||
			    inet_ntop(ASN1_STRING_length(s) == 4 ? AF_INET :
			    AF_INET6, ASN1_STRING_get0_data(s), ip,
			    sizeof(ip)) == NULL)
				snprintf(ip, sizeof(ip), "invalid");
			snprintf(item, sizeof(item), "IP:%s", ip);
			break;
		default:
			snprintf(item, sizeof(item), "other");
			break;
		}
		show_append(line, sizeof(line), item);
	}
	GENERAL_NAMES_free(gens);
	fprintf(fp, "san: %s\n", line[0] != '\0' ? line : "none");
}

static void
show_key(FILE *fp, X509 *x)
{
	EVP_PKEY	*key;
	const char	*nist;
	char		 group[64];
	size_t		 glen;

	if ((key = X509_get0_pubkey(x)) == NULL) {
		fprintf(fp, "key: unknown\n");
		return;
	}
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_group_name(key, group, sizeof(group),
		    &glen))
			snprintf(group, sizeof(group), "unknown curve");
		/* "P-256 (prime256v1)": the NIST name people know, if any. */
		if ((nist = EC_curve_nid2nist(OBJ_sn2nid(group))) != NULL)
			fprintf(fp, "key: EC %s (%s)\n", nist, group);
		else
			fprintf(fp, "key: EC %s\n", group);
		break;
	case EVP_PKEY_RSA:
		fprintf(fp, "key: RSA %d bits\n", EVP_PKEY_get_bits(key));
		break;
	default:
		fprintf(fp, "key: %s\n", OBJ_nid2sn(EVP_PKEY_get_base_id(key)));
		break;
	}
}

static void
show_key_usage(FILE *fp, X509 *x)
{
	static const struct {
		uint32_t	 bit;
		const char	*name;
	} ku[] = {
		{ KU_DIGITAL_SIGNATURE, "digitalSignature" },
		{ KU_NON_REPUDIATION, "nonRepudiation" },
		{ KU_KEY_ENCIPHERMENT, "keyEncipherment" },
		{ KU_DATA_ENCIPHERMENT, "dataEncipherment" },
		{ KU_KEY_AGREEMENT, "keyAgreement" },
		{ KU_KEY_CERT_SIGN, "keyCertSign" },
		{ KU_CRL_SIGN, "cRLSign" },
		{ KU_ENCIPHER_ONLY, "encipherOnly" },
		{ KU_DECIPHER_ONLY, "decipherOnly" },
	};
	char		line[SHOW_LINE_MAX];
	uint32_t	bits;
	size_t		i;

	if ((X509_get_extension_flags(x) & EXFLAG_KUSAGE) == 0) {
		fprintf(fp, "key-usage: none (any)\n");
		return;
	}
	bits = X509_get_key_usage(x);
	line[0] = '\0';
	for (i = 0; i < sizeof(ku) / sizeof(ku[0]); i++) {
		if (bits & ku[i].bit)
			show_append(line, sizeof(line), ku[i].name);
	}
	fprintf(fp, "key-usage: %s\n", line);
}

static void
show_ext_key_usage(FILE *fp, X509 *x)
{
	EXTENDED_KEY_USAGE	*eku;
	const ASN1_OBJECT	*obj;
	char			 line[SHOW_LINE_MAX], oid[128];
	int			 i, nid;

	line[0] = '\0';
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	if (eku == NULL) {
		fprintf(fp, "ext-key-usage: none (any)\n");
		return;
	}
	for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		obj = sk_ASN1_OBJECT_value(eku, i);
		if ((nid = OBJ_obj2nid(obj)) != NID_undef)
			show_append(line, sizeof(line), OBJ_nid2sn(nid));
		else {
			OBJ_obj2txt(oid, sizeof(oid), obj, 1);
			show_append(line, sizeof(line), oid);
		}
	}
	EXTENDED_KEY_USAGE_free(eku);
	fprintf(fp, "ext-key-usage: %s\n", line);
}

/* Whether the certificate is valid now, by its dates alone. */
static void
show_status(FILE *fp, X509 *x)
{
	if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		fprintf(fp, "dates: not yet valid\n");
	else if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		fprintf(fp, "dates: expired\n");
	else
		fprintf(fp, "dates: valid now\n");
}

/* Prints x as "field: value" lines. */
int
show_cert(FILE *fp, X509 *x, char *err, size_t errlen)
{
	char	pin[80];

	/* Fill the extension cache (and see whether it parses). */
	if (X509_check_purpose(x, -1, 0) != 1) {
		tlscert_sslerr(err, errlen, "the certificate's extensions "
		    "are malformed");
		return -1;
	}
	show_name(fp, "subject", X509_get_subject_name(x));
	show_name(fp, "issuer", X509_get_issuer_name(x));
	show_serial(fp, x);
	show_san(fp, x);
	show_time(fp, "not-before", X509_get0_notBefore(x));
	show_time(fp, "not-after", X509_get0_notAfter(x));
	show_status(fp, x);
	show_key(fp, x);
	fprintf(fp, "signature: %s\n",
	    OBJ_nid2ln(X509_get_signature_nid(x)));
	show_key_usage(fp, x);
	show_ext_key_usage(fp, x);
	fprintf(fp, "ca: %s\n",
	    (X509_get_extension_flags(x) & EXFLAG_CA) ? "yes" : "no");
	if (x509_pin(x, pin, sizeof(pin)) == -1) {
		tlscert_sslerr(err, errlen, "cannot compute the pin");
		return -1;
	}
	fprintf(fp, "pin: %s\n", pin);
	return 0;
}
