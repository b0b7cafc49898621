/*
 * Building and reloading the server's libtls configuration.
 *
 * LOCKING: tlsconf_lock guards the current pointer only. Each struct
 * tlsconf is immutable once published and freed when its last reference
 * goes: the "current" slot holds one, every session holds one, so a reload
 * never frees a configuration a running session still uses.
 *
 * With client certificates, every session gets a server context of its
 * own (tlsconf_session_ctx). libtls's certificate verify callback writes
 * its error into the server context it was configured on, not into the
 * connection's: with one shared context, two clients failing verification
 * at once would free and replace the same error string from two threads,
 * and the precise X.509 error ("certificate has expired") would be lost
 * to the next one. A private context makes that error the session's own.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tls.h>

#include "common/util.h"
#include "daemon/tlsechod.h"

static pthread_mutex_t	 tlsconf_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tlsconf	*tlsconf_current;	/* [tlsconf_lock] */

static int	tlsconf_check_file(const char *, const char *, char *, size_t);
static struct tlsconf *tlsconf_build(const struct config *, char *, size_t);
static int	tlsconf_probe(struct tlsconf *, char *, size_t);
static void	tlsconf_free(struct tlsconf *);
static void	tlsconf_explain(const struct config *, const char *, char *,
		    size_t);

/*
 * Turns libtls's terse keypair errors into what went wrong and with
 * which file: libtls says "failed to read" when the PEM does not parse
 * and "failed to load" when OpenSSL refuses the key for the certificate.
 */
static void
tlsconf_explain(const struct config *c, const char *e, char *err,
    size_t errlen)
{
	if (e == NULL)
		e = "unknown error";
	if (strstr(e, "failed to load private key") != NULL)
		snprintf(err, errlen, "--key %s: the private key does not match "
		    "the certificate in --cert %s (key mismatch)", c->key_file,
		    c->cert_file);
	else if (strstr(e, "failed to read private key") != NULL)
		snprintf(err, errlen, "--key %s: not a PEM private key (%s)",
		    c->key_file, e);
	else if (strstr(e, "certificate") != NULL)
		snprintf(err, errlen, "--cert %s: %s", c->cert_file, e);
	else
		snprintf(err, errlen, "--cert %s / --key %s: %s", c->cert_file,
		    c->key_file, e);
}

/* A file named by an option must exist and be a readable regular file. */
static int
tlsconf_check_file(const char *opt, const char *path, char *err,
    size_t errlen)
{
	struct stat	st;

	if (stat(path, &st) == -1 || access(path, R_OK) == -1) {
		snprintf(err, errlen, "%s %s: %s", opt, path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s: not a regular file", opt, path);
		return -1;
	}
	return 0;
}

/* Refuses a private key that group or others may read or write. */
static int
tlsconf_check_key_mode(const char *path, char *err, size_t errlen)
{
	struct stat	st;

	if (tlsconf_check_file("--key", path, err, errlen) == -1)
		return -1;
	if (stat(path, &st) == -1) {
		snprintf(err, errlen, "--key %s: %s", path, strerror(errno));
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen, "--key %s: the private key is accessible "
		    "by group or others (mode %04o); run 'chmod 600 %s'", path,
		    (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

static struct tlsconf *
tlsconf_build(const struct config *c, char *err, size_t errlen)
{
	struct tlsconf	*tc;
	size_t		 len;

	if (tlsconf_check_file("--cert", c->cert_file, err, errlen) == -1 ||
	    tlsconf_check_key_mode(c->key_file, err, errlen) == -1)
		return NULL;
	if (c->client_ca_file != NULL && tlsconf_check_file("--client-ca",
	    c->client_ca_file, err, errlen) == -1)
		return NULL;
	if (c->crl_file != NULL && tlsconf_check_file("--crl", c->crl_file,
	    err, errlen) == -1)
		return NULL;

	if ((tc = calloc(1, sizeof(*tc))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&tc->refs, 1);
	if ((tc->config = tls_config_new()) == NULL) {
		snprintf(err, errlen, "tls_config_new: out of memory");
		goto fail;
	}
	if (tls_config_set_cert_file(tc->config, c->cert_file) == -1) {
		snprintf(err, errlen, "--cert %s: %s", c->cert_file,
		    tls_config_error(tc->config));
		goto fail;
	}
	if (tls_config_set_key_file(tc->config, c->key_file) == -1) {
		snprintf(err, errlen, "--key %s: %s", c->key_file,
		    tls_config_error(tc->config));
		goto fail;
	}
	if (tls_config_set_protocols(tc->config, c->protocols) == -1) {
		snprintf(err, errlen, "--protocols: %s",
		    tls_config_error(tc->config));
		goto fail;
	}
	if (tls_config_set_ciphers(tc->config,
	    c->ciphers != NULL ? c->ciphers : "secure") == -1) {
		snprintf(err, errlen, "--ciphers '%s': %s", c->ciphers,
		    tls_config_error(tc->config));
		goto fail;
	}
	if (tls_config_set_ecdhecurves(tc->config,
	    c->curves != NULL ? c->curves : "X25519,P-256,P-384") == -1) {
		snprintf(err, errlen, "--curves '%s': %s", c->curves,
		    tls_config_error(tc->config));
		goto fail;
	}
	tls_config_prefer_ciphers_server(tc->config);
	if (c->client_ca_file != NULL) {
		if (tls_config_set_ca_file(tc->config, c->client_ca_file) ==
		    -1) {
			snprintf(err, errlen, "--client-ca %s: %s",
			    c->client_ca_file, tls_config_error(tc->config));
			goto fail;
		}
		if (c->client_ca_optional)
			tls_config_verify_client_optional(tc->config);
		else
			tls_config_verify_client(tc->config);
		if (c->crl_file != NULL && tls_config_set_crl_file(tc->config,
		    c->crl_file) == -1) {
			snprintf(err, errlen, "--crl %s: %s", c->crl_file,
			    tls_config_error(tc->config));
			goto fail;
		}
	}
	if ((tc->ctx = tls_server()) == NULL) {
		snprintf(err, errlen, "tls_server: out of memory");
		goto fail;
	}
	if (tls_configure(tc->ctx, tc->config) == -1) {
		tlsconf_explain(c, tls_error(tc->ctx), err, errlen);
		goto fail;
	}
	/*
	 * The server context has its own copy; wipe ours, unless each
	 * session configures a context of its own from it.
	 */
	tc->per_session = c->client_ca_file != NULL;
	if (!tc->per_session)
		tls_config_clear_keys(tc->config);
	if (tlsconf_probe(tc, err, errlen) == -1)
		goto fail;
	return tc;
fail:
	/* libtls appends strerror(errno) even when errno is 0. */
	if ((len = strlen(err)) > 9 && strcmp(err + len - 9, ": Success") == 0)
		err[len - 9] = '\0';
	tlsconf_free(tc);
	return NULL;
}

/*
 * Handshakes with the new configuration over a socketpair, in this
 * thread, to prove it works and to read the certificate's subject and
 * expiry through libtls (the daemon does not parse certificates itself).
 */
static int
tlsconf_probe(struct tlsconf *tc, char *err, size_t errlen)
{
	struct tls_config	*ccfg = NULL;
	struct tls		*client = NULL, *sconn = NULL;
	int			 sv[2] = { -1, -1 }, cdone = 0, sdone = 0;
	int			 i, ret = -1, r;
	struct pollfd		 pfd[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		goto out;
	}
	if ((ccfg = tls_config_new()) == NULL ||
	    (client = tls_client()) == NULL) {
		snprintf(err, errlen, "probe: out of memory");
		goto out;
	}
	tls_config_insecure_noverifycert(ccfg);
	tls_config_insecure_noverifyname(ccfg);
	tls_config_set_protocols(ccfg, TLS_PROTOCOLS_ALL);
	if (tls_configure(client, ccfg) == -1 ||
	    tls_connect_socket(client, sv[0], "localhost") == -1) {
		snprintf(err, errlen, "probe: %s", tls_error(client));
		goto out;
	}
	if (tls_accept_socket(tc->ctx, &sconn, sv[1]) == -1) {
		snprintf(err, errlen, "probe: %s", tls_error(tc->ctx));
		goto out;
	}
	/*
	 * Step both ends in turn. The client is done first in TLS 1.3, and
	 * that is all we need: the server end may still wait for a client
	 * certificate the probe does not send.
	 */
	for (i = 0; i < 200; i++) {
		r = tls_handshake(client);
		if (r == 0) {
			cdone = 1;
			break;
		}
		if (r == -1) {
			snprintf(err, errlen, "the configuration does not "
			    "complete a handshake: %s", tls_error(client));
			goto out;
		}
		if (!sdone && ((r = tls_handshake(sconn)) == 0 || r == -1))
			sdone = 1;
		pfd[0].fd = sv[0];
		pfd[1].fd = sv[1];
		pfd[0].events = pfd[1].events = POLLIN;
		poll(pfd, 2, 100);
	}
	if (!cdone) {
		snprintf(err, errlen, "the configuration does not complete a "
		    "handshake");
		goto out;
	}
	if (tls_peer_cert_subject(client) != NULL)
		snprintf(tc->subject, sizeof(tc->subject), "%s",
		    tls_peer_cert_subject(client));
	tc->not_after = tls_peer_cert_notafter(client);
	ret = 0;
out:
	tls_free(sconn);
	tls_free(client);
	tls_config_free(ccfg);
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	return ret;
}

static void
tlsconf_free(struct tlsconf *tc)
{
	if (tc == NULL)
		return;
	tls_free(tc->ctx);
	tls_config_free(tc->config);
	free(tc);
}

int
tlsconf_init(const struct config *c, char *err, size_t errlen)
{
	/* The first configuration: a reload with nothing to replace. */
	return tlsconf_reload(c, err, errlen);
}

/*
 * Builds a new configuration from the files; on success it becomes the
 * one new sessions get. On failure the running one stays.
 */
int
tlsconf_reload(const struct config *c, char *err, size_t errlen)
{
	struct tlsconf	*tc, *old;

	if ((tc = tlsconf_build(c, err, errlen)) == NULL)
		return -1;
	pthread_mutex_lock(&tlsconf_lock);
	old = tlsconf_current;
	tlsconf_current = tc;
	pthread_mutex_unlock(&tlsconf_lock);
	tlsconf_release(old);
	return 0;
}

/*
 * The server context a new session accepts on: the shared one, or with
 * client certificates a fresh one configured from the same tls_config
 * (see the LOCKING comment). The shared one is used on the accept thread
 * only; a fresh one may be made on any thread (libtls locks the
 * tls_config's reference count, and only reads the rest). Returns
 * NULL with the reason in err; free with tlsconf_session_ctx_free.
 */
struct tls *
tlsconf_session_ctx(struct tlsconf *tc, char *err, size_t errlen)
{
	struct tls	*ctx;

	if (!tc->per_session)
		return tc->ctx;
	if ((ctx = tls_server()) == NULL) {
		snprintf(err, errlen, "tls_server: out of memory");
		return NULL;
	}
	if (tls_configure(ctx, tc->config) == -1) {
		snprintf(err, errlen, "tls_configure: %s", tls_error(ctx));
		tls_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Frees a context tlsconf_session_ctx made; the shared one stays. */
void
tlsconf_session_ctx_free(struct tlsconf *tc, struct tls *ctx)
{
	if (tc != NULL && ctx != NULL && ctx != tc->ctx)
		tls_free(ctx);
}

struct tlsconf *
tlsconf_acquire(void)
{
	struct tlsconf	*tc;

	pthread_mutex_lock(&tlsconf_lock);
	tc = tlsconf_current;
	if (tc != NULL)
		atomic_fetch_add(&tc->refs, 1);
	pthread_mutex_unlock(&tlsconf_lock);
	return tc;
}

void
tlsconf_release(struct tlsconf *tc)
{
	if (tc != NULL && atomic_fetch_sub(&tc->refs, 1) == 1)
		tlsconf_free(tc);
}

void
tlsconf_shutdown(void)
{
	struct tlsconf	*tc;

	pthread_mutex_lock(&tlsconf_lock);
	tc = tlsconf_current;
	tlsconf_current = NULL;
	pthread_mutex_unlock(&tlsconf_lock);
	tlsconf_release(tc);
}
