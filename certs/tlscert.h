/*
 * tlscert: makes CA, server, client and self-signed ECDSA P-256
 * certificates, revokes them in a CRL, prints pins and shows certificates.
 *
 * Functions outside main.c never print or exit: they return -1 or NULL and
 * describe the failure, naming the file or option, in the caller's error
 * buffer. main.c turns that into one "tlscert: ..." line.
 */
#ifndef CERTS_TLSCERT_H
#define CERTS_TLSCERT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* Room for a message naming a file, an option and an OpenSSL error. */
#define TLSCERT_ERR_MAX		1024

/*
 * --days counts days of 86400 seconds; a year is 365 of them, so the
 * default of ten years is 3650 days, as in the Go original.
 */
#define TLSCERT_DAY		86400LL
#define TLSCERT_DAYS_MAX	36500

/* Subject CN is at most 64 characters (RFC 5280 ub-common-name). */
#define TLSCERT_CN_MAX		64

/* Extended key usages, as bits; 0 means no extendedKeyUsage extension. */
#define EKU_SERVER		0x1
#define EKU_CLIENT		0x2

enum cert_kind {
	CERT_SELF,
	CERT_CA,
	CERT_SERVER,
	CERT_CLIENT
};

/* Subject alternative names, in the order given. */
struct host_list {
	char		**v;
	size_t		  n;
};

/* What to put in a new certificate. */
struct cert_req {
	enum cert_kind		 kind;
	const char		*name;		/* subject CN, UTF-8 */
	const struct host_list	*hosts;
	time_t			 not_before;
	time_t			 not_after;
	int			 eku;		/* EKU_* bits */
};

/* An output file, created with O_EXCL so that nothing is overwritten. */
struct file_out {
	const char	*path;
	int		 fd;
	int		 created;	/* file_abort unlinks it */
};

/* parse.c */
int	parse_when(const char *opt, const char *s, time_t now, time_t *out,
	    char *err, size_t errlen);
int	parse_eku(const char *opt, const char *s, int *eku, char *err,
	    size_t errlen);
int	parse_host(const char *s, unsigned char *ip, size_t *iplen);
int	parse_hosts(const char *opt, const char *list, struct host_list *hl,
	    char *err, size_t errlen);
void	parse_hosts_free(struct host_list *hl);

/* file.c */
int	file_read(const char *path, size_t max, unsigned char **buf,
	    size_t *len, char *err, size_t errlen);
void	file_free(unsigned char *buf, size_t len);
void	file_init(struct file_out *f, const char *path);
int	file_create(struct file_out *f, mode_t mode, int force, char *err,
	    size_t errlen);
int	file_same(const struct file_out *a, const struct file_out *b);
int	file_write(struct file_out *f, const void *buf, size_t len,
	    char *err, size_t errlen);
int	file_finish(struct file_out *f, char *err, size_t errlen);
void	file_abort(struct file_out *f);

/* keyfile.c */
EVP_PKEY *keyfile_generate(char *err, size_t errlen);
EVP_PKEY *keyfile_load(const char *path, char *err, size_t errlen);
int	keyfile_write(struct file_out *f, EVP_PKEY *key, char *err,
	    size_t errlen);

/* x509.c */
void	tlscert_sslerr(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
ASN1_INTEGER *x509_serial(char *err, size_t errlen);
X509	*x509_build(const struct cert_req *req, EVP_PKEY *key, X509 *ca,
	    EVP_PKEY *ca_key, char *err, size_t errlen);
X509	*x509_load(const char *path, char *err, size_t errlen);
int	x509_check_issuer(const char *ca_path, X509 *ca,
	    const char *key_path, EVP_PKEY *ca_key, int crl, char *err,
	    size_t errlen);
int	x509_write(struct file_out *f, X509 *x, char *err, size_t errlen);
int	x509_pin(X509 *x, char *buf, size_t len);
X509_CRL *x509_crl(X509 *ca, EVP_PKEY *ca_key, X509 **certs,
	    const char **paths, size_t n, time_t last, time_t next,
	    char *err, size_t errlen);
int	x509_crl_write(struct file_out *f, X509_CRL *crl, char *err,
	    size_t errlen);

/* show.c */
int	show_cert(FILE *fp, X509 *x, char *err, size_t errlen);

#endif
