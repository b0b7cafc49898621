/*
 * The connection: building the libtls configuration from the options,
 * the TCP connect (non-blocking, over every address of the name, under one
 * deadline), the TLS handshake under the same deadline, the pin check and
 * the close.
 *
 * Trust: by default libtls verifies the chain against the system store and
 * the name against the certificate. --ca replaces the store. --pin without
 * --ca makes the pin the only trust (chain and name are not checked);
 * --pin with --ca requires both. --insecure checks nothing.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <tls.h>

#include "common/addr.h"
#include "common/util.h"
#include "client/tlsecho.h"

static int	conn_try(const struct addrinfo *, const struct addrinfo *,
	    int64_t, int *);
static int	conn_tcp(struct conn *, const struct options *, int64_t,
		    char *, size_t);
static int	conn_set_timeouts(int, long long);
static int	conn_handshake(struct conn *, const struct options *,
		    int64_t, char *, size_t);
static int	conn_check_pins(struct conn *, const struct options *,
		    char *, size_t);
static void	conn_fmt_ms(long long, char *, size_t);

void
conn_init(struct conn *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/*
 * Builds the libtls configuration. Returns TLSECHO_EXIT_OK, or
 * TLSECHO_EXIT_USAGE when libtls refuses an option's value, or
 * TLSECHO_EXIT_FAIL when a file cannot be loaded, with a message in err.
 */
int
conn_configure(struct conn *c, const struct options *o, char *err,
    size_t errlen)
{
	struct tls_config	*cfg;
	int			 rv = TLSECHO_EXIT_FAIL;

	if ((cfg = tls_config_new()) == NULL) {
		snprintf(err, errlen, "cannot allocate a TLS configuration");
		goto out;
	}
	if (o->has_protocols &&
	    tls_config_set_protocols(cfg, o->protocols) == -1) {
		snprintf(err, errlen, "--protocols: %s",
		    tls_config_error(cfg));
		rv = TLSECHO_EXIT_USAGE;
		goto out;
	}
	if (o->ciphers != NULL &&
	    tls_config_set_ciphers(cfg, o->ciphers) == -1) {
		snprintf(err, errlen, "--ciphers: %s; expected secure, "
		    "compat, legacy, insecure or an OpenSSL cipher list",
		    tls_config_error(cfg));
		rv = TLSECHO_EXIT_USAGE;
		goto out;
	}
	if (o->alpn != NULL && tls_config_set_alpn(cfg, o->alpn) == -1) {
		snprintf(err, errlen, "--alpn: %s; expected protocol names "
		    "separated by commas (for example h2,http/1.1)",
		    tls_config_error(cfg));
		rv = TLSECHO_EXIT_USAGE;
		goto out;
	}
	if (o->ca_file != NULL &&
	    tls_config_set_ca_file(cfg, o->ca_file) == -1) {
		snprintf(err, errlen, "--ca %s: %s", o->ca_file,
		    tls_config_error(cfg));
		goto out;
	}
	if (o->cert_file != NULL && tls_config_set_keypair_file(cfg,
	    o->cert_file, o->key_file) == -1) {
		snprintf(err, errlen, "--cert %s --key %s: %s", o->cert_file,
		    o->key_file, tls_config_error(cfg));
		goto out;
	}
	if (o->insecure || (o->npins > 0 && o->ca_file == NULL)) {
		/* The pin, checked after the handshake, is the trust. */
		tls_config_insecure_noverifycert(cfg);
		tls_config_insecure_noverifyname(cfg);
	}
	c->cfg = cfg;
	cfg = NULL;
	rv = TLSECHO_EXIT_OK;
out:
	tls_config_free(cfg);
	return rv;
}

/*
 * Connects to the server, does the handshake and checks the pins, all
 * within --connect-timeout. On success the socket is non-blocking and has
 * no timeouts. Returns 0, or -1 with a message in err.
 */
int
conn_open(struct conn *c, const struct options *o, char *err, size_t errlen)
{
	int64_t	deadline;

	snprintf(c->label, sizeof(c->label), "%s:%s", o->host, o->port);
	deadline = time_mono_ms() + o->connect_timeout_ms;
	if (conn_tcp(c, o, deadline, err, errlen) == -1)
		return -1;
	if (conn_handshake(c, o, deadline, err, errlen) == -1)
		return -1;
	if (conn_check_pins(c, o, err, errlen) == -1)
		return -1;
	return 0;
}

/*
 * Starts a non-blocking connect to one address, from src when not NULL,
 * and waits for it until deadline. Returns the socket, or -1 with the
 * reason in *errp (ETIMEDOUT when the deadline passed).
 */
static int
conn_try(const struct addrinfo *ai, const struct addrinfo *src,
    int64_t deadline, int *errp)
{
	struct pollfd	pfd;
	socklen_t	slen;
	int64_t		left;
	int		fd, soerr, n;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1) {
		*errp = errno;
		return -1;
	}
	if (src != NULL && bind(fd, src->ai_addr, src->ai_addrlen) == -1) {
		*errp = errno;
		goto fail;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		*errp = errno;
		goto fail;
	}
	for (;;) {
		left = deadline - time_mono_ms();
		if (left <= 0) {
			*errp = ETIMEDOUT;
			goto fail;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*errp = errno;
			goto fail;
		}
		if (n > 0)
			break;
	}
	slen = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) == -1) {
		*errp = errno;
		goto fail;
	}
	if (soerr != 0) {
		*errp = soerr;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* Resolves the host and connects to the first address that answers. */
static int
conn_tcp(struct conn *c, const struct options *o, int64_t deadline,
    char *err, size_t errlen)
{
	struct addrinfo	 hints, *res = NULL, *src = NULL, *ai;
	char		 addr[ADDR_STR_MAX] = "", ms[32];
	int		 gerr, fd = -1, lasterr = 0, rv = -1;

	if (o->source != NULL) {
		/* main_parse made sure it is a numeric address. */
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = o->family;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
		if ((gerr = getaddrinfo(o->source, NULL, &hints, &src)) != 0) {
			snprintf(err, errlen, "--source %s: %s", o->source,
			    gai_strerror(gerr));
			goto out;
		}
	}

	memset(&hints, 0, sizeof(hints));
	/* With --source, only addresses of its family can be reached. */
	hints.ai_family = src != NULL ? src->ai_family : o->family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	if ((gerr = getaddrinfo(o->host, o->port, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve %s%s%s: %s", c->label,
		    src != NULL ? " from --source " : "",
		    src != NULL ? o->source : "",
		    gerr == EAI_SYSTEM ? strerror(errno) : gai_strerror(gerr));
		goto out;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		addr_format(ai->ai_addr, addr, sizeof(addr));
		if ((fd = conn_try(ai, src, deadline, &lasterr)) != -1)
			break;
		if (lasterr == ETIMEDOUT)
			break;
	}
	if (fd == -1) {
		/* Name the address tried when the host was a name. */
		if (strcmp(addr, c->label) == 0)
			addr[0] = '\0';
		if (lasterr == ETIMEDOUT) {
			conn_fmt_ms(o->connect_timeout_ms, ms, sizeof(ms));
			snprintf(err, errlen, "connect to %s%s%s%s timed out "
			    "after %s; check the address or raise "
			    "--connect-timeout", c->label, *addr ? " (" : "",
			    addr, *addr ? ")" : "", ms);
		} else
			snprintf(err, errlen, "connect to %s%s%s%s failed: %s",
			    c->label, *addr ? " (" : "", addr,
			    *addr ? ")" : "", strerror(lasterr));
		goto out;
	}
	c->fd = fd;
	snprintf(c->peer, sizeof(c->peer), "%s", addr);
	rv = 0;
out:
	if (res != NULL)
		freeaddrinfo(res);
	if (src != NULL)
		freeaddrinfo(src);
	return rv;
}

/* Sets SO_RCVTIMEO and SO_SNDTIMEO; 0 clears them. */
static int
conn_set_timeouts(int fd, long long ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		return -1;
	return 0;
}

/*
 * The handshake runs on a blocking socket whose timeouts are what is left
 * of the deadline. A TLS_WANT_POLLIN/POLLOUT from a blocking socket means a
 * timeout fired (or a signal arrived): the deadline, not the manual's
 * "repeat the call", decides whether to go on.
 */
static int
conn_handshake(struct conn *c, const struct options *o, int64_t deadline,
    char *err, size_t errlen)
{
	const char	*name = o->servername != NULL ? o->servername : o->host;
	char		 ms[32];
	int64_t		 left;
	int		 flags, r;

	if ((flags = fcntl(c->fd, F_GETFL)) == -1 ||
	    fcntl(c->fd, F_SETFL, flags & ~O_NONBLOCK) == -1) {
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		return -1;
	}
	if ((c->ctx = tls_client()) == NULL) {
		snprintf(err, errlen, "cannot allocate a TLS context");
		return -1;
	}
	if (tls_configure(c->ctx, c->cfg) == -1 ||
	    tls_connect_socket(c->ctx, c->fd, name) == -1) {
		conn_tls_error(c, "handshake with", err, errlen);
		return -1;
	}
	/* The context holds its own copy now. */
	tls_config_clear_keys(c->cfg);

	for (;;) {
		left = deadline - time_mono_ms();
		if (left <= 0) {
			conn_fmt_ms(o->connect_timeout_ms, ms, sizeof(ms));
			snprintf(err, errlen, "handshake with %s timed out "
			    "after %s; the server accepted the connection but "
			    "did not finish TLS (raise --connect-timeout if it "
			    "is slow)", c->label, ms);
			return -1;
		}
		if (conn_set_timeouts(c->fd, left) == -1) {
			snprintf(err, errlen, "setsockopt: %s",
			    strerror(errno));
			return -1;
		}
		r = tls_handshake(c->ctx);
		if (r == 0)
			break;
		if (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT)
			continue;
		conn_tls_error(c, "handshake with", err, errlen);
		return -1;
	}

	if (conn_set_timeouts(c->fd, 0) == -1 ||
	    fcntl(c->fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		snprintf(err, errlen, "socket options: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* With --pin, the server's certificate hash must be one of the pins. */
static int
conn_check_pins(struct conn *c, const struct options *o, char *err,
    size_t errlen)
{
	const char	*hash;
	char		 seen[128];
	size_t		 i, off;
	int		 n;

	if (o->npins == 0)
		return 0;
	if ((hash = tls_peer_cert_hash(c->ctx)) == NULL) {
		snprintf(err, errlen, "server %s sent no certificate to "
		    "compare with --pin", c->label);
		return -1;
	}
	for (i = 0; i < o->npins; i++) {
		if (strcasecmp(hash, o->pins[i]) == 0)
			return 0;
	}
	str_escape(hash, seen, sizeof(seen));
	n = snprintf(err, errlen, "server certificate pin %s is not one of "
	    "the pinned:", seen);
	off = n < 0 ? 0 : (size_t)n;
	for (i = 0; i < o->npins && off < errlen; i++) {
		n = snprintf(err + off, errlen - off, "%s %s",
		    i == 0 ? "" : ",", o->pins[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	return -1;
}

/*
 * The -v line: version=... cipher=... subject="..." issuer="..."
 * pin=SHA256:..., then alpn=... when one was negotiated. Every value is
 * escaped; quoted ones have their quotes escaped too.
 */
void
conn_describe(struct conn *c, char *buf, size_t len)
{
	const char	*v;
	char		 version[64], cipher[128], subject[1024];
	char		 issuer[1024], pin[128], alpn[256];

	v = tls_conn_version(c->ctx);
	str_escape(v != NULL ? v : "", version, sizeof(version));
	v = tls_conn_cipher(c->ctx);
	str_escape(v != NULL ? v : "", cipher, sizeof(cipher));
	v = tls_peer_cert_subject(c->ctx);
	str_quote(v != NULL ? v : "", subject, sizeof(subject));
	v = tls_peer_cert_issuer(c->ctx);
	str_quote(v != NULL ? v : "", issuer, sizeof(issuer));
	v = tls_peer_cert_hash(c->ctx);
	str_escape(v != NULL ? v : "", pin, sizeof(pin));
	v = tls_conn_alpn_selected(c->ctx);
	alpn[0] = '\0';
	if (v != NULL) {
		snprintf(alpn, sizeof(alpn), " alpn=");
		str_escape(v, alpn + 6, sizeof(alpn) - 6);
	}
	snprintf(buf, len, "connected version=%s cipher=%s subject=\"%s\" "
	    "issuer=\"%s\" pin=%s%s", version, cipher, subject, issuer, pin,
	    alpn);
}

/*
 * Sends close_notify, waiting at most TLSECHO_CLOSE_TIMEOUT_MS for the
 * non-blocking socket, then closes the socket. Returns 0, or -1 with the
 * reason in err; the socket is closed either way.
 */
int
conn_close(struct conn *c, char *err, size_t errlen)
{
	struct pollfd	 pfd;
	int64_t		 deadline, left;
	int		 r, rv = -1;

	if (c->ctx == NULL || c->fd == -1)
		return 0;
	deadline = time_mono_ms() + TLSECHO_CLOSE_TIMEOUT_MS;
	for (;;) {
		r = tls_close(c->ctx);
		if (r == 0)
			break;
		if (r != TLS_WANT_POLLIN && r != TLS_WANT_POLLOUT) {
			conn_tls_error(c, "closing the connection to", err,
			    errlen);
			goto out;
		}
		left = deadline - time_mono_ms();
		if (left <= 0) {
			snprintf(err, errlen, "closing the connection to %s "
			    "timed out: the server does not read", c->label);
			goto out;
		}
		pfd.fd = c->fd;
		pfd.events = r == TLS_WANT_POLLIN ? POLLIN : POLLOUT;
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			goto out;
		}
	}
	rv = 0;
out:
	close(c->fd);
	c->fd = -1;
	return rv;
}

/* Frees everything; safe on a connection that never opened. */
void
conn_free(struct conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	tls_free(c->ctx);
	tls_config_free(c->cfg);
	conn_init(c);
}

/* "10s" or "1500ms". */
static void
conn_fmt_ms(long long ms, char *buf, size_t len)
{
	if (ms % 1000 == 0)
		snprintf(buf, len, "%llds", ms / 1000);
	else
		snprintf(buf, len, "%lldms", ms);
}

/* "WHAT HOST:PORT failed: <tls_error, escaped>" */
void
conn_tls_error(struct conn *c, const char *what, char *err, size_t errlen)
{
	const char	*e = tls_error(c->ctx);
	char		 reason[TLSECHO_ERR_MAX];

	str_escape(e != NULL ? e : "unknown error", reason, sizeof(reason));
	snprintf(err, errlen, "%s %s failed: %s", what, c->label, reason);
}
