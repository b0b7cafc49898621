/*
 * Private keys: ECDSA P-256 generation, reading a CA's key and writing
 * keys as unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"). Every
 * buffer that held key material is wiped before it is freed.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "certs/tlscert.h"

/* A PEM key file is a few hundred bytes; this leaves room for RSA 16384. */
#define KEYFILE_MAX	(64 * 1024)

static int	keyfile_no_passphrase(char *, int, int, void *);

/*
 * Passphrase callback: tlscert reads only unencrypted keys, and never
 * prompts. Records that a passphrase was wanted so the error can say so.
 */
static int
keyfile_no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	*(int *)arg = 1;
	return -1;
}

/* Makes a new ECDSA key on the P-256 curve. */
EVP_PKEY *
keyfile_generate(char *err, size_t errlen)
{
	EVP_PKEY	*key;

	if ((key = EVP_EC_gen("P-256")) == NULL)
		tlscert_sslerr(err, errlen, "cannot make a P-256 key");
	return key;
}

/* Reads an unencrypted PEM private key (PKCS#8 or traditional) from path. */
EVP_PKEY *
keyfile_load(const char *path, char *err, size_t errlen)
{
	unsigned char	*buf = NULL;
	size_t		 len = 0;
	BIO		*bio = NULL;
	EVP_PKEY	*key = NULL;
	int		 wanted_pass = 0;

	if (file_read(path, KEYFILE_MAX, &buf, &len, err, errlen) == -1)
		return NULL;
	/* "PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"... */
	if (strstr((char *)buf, "PRIVATE KEY-----") == NULL) {
		snprintf(err, errlen, "%s: not a PEM private key (no "
		    "-----BEGIN PRIVATE KEY----- line)", path);
		goto out;
	}
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		tlscert_sslerr(err, errlen, "%s", path);
		goto out;
	}
	ERR_clear_error();
	key = PEM_read_bio_PrivateKey(bio, NULL, keyfile_no_passphrase,
	    &wanted_pass);
	if (key != NULL)
		goto out;
	if (wanted_pass) {
		snprintf(err, errlen, "%s: the key is encrypted; tlscert reads "
		    "only unencrypted keys", path);
		ERR_clear_error();
	} else
		tlscert_sslerr(err, errlen, "%s: not a valid private key",
		    path);
out:
	BIO_free(bio);
	file_free(buf, len);
	return key;
}

/* Writes key to f as unencrypted PKCS#8 PEM. */
int
keyfile_write(struct file_out *f, EVP_PKEY *key, char *err, size_t errlen)
{
	BIO	*bio;
	char	*data;
	long	 len;
	int	 rv = -1;

	/* A secure-memory BIO clears its buffer when freed. */
	if ((bio = BIO_new(BIO_s_secmem())) == NULL) {
		tlscert_sslerr(err, errlen, "%s", f->path);
		return -1;
	}
	if (!PEM_write_bio_PKCS8PrivateKey(bio, key, NULL, NULL, 0, NULL,
	    NULL)) {
		tlscert_sslerr(err, errlen, "%s: cannot encode the key",
		    f->path);
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	if (len <= 0) {
		snprintf(err, errlen, "%s: the encoded key is empty", f->path);
		goto out;
	}
	rv = file_write(f, data, (size_t)len, err, errlen);
	OPENSSL_cleanse(data, (size_t)len);
out:
	BIO_free(bio);
	return rv;
}
