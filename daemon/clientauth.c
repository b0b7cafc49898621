/*
 * Client authentication beyond what libtls checks: a precise reason for
 * every refused handshake, and --verify-client-addr, which accepts a
 * client only when its IP address, or a name its PTR record gives and
 * that resolves back to the same IP (forward-confirmed), is among its
 * certificate's subject alternative names.
 *
 * The DNS lookups run on a helper thread so that they are bounded by the
 * session's handshake deadline: a slow resolver cannot hold a session.
 *
 * LOCKING: struct addr_lookup is shared by the session thread and its
 * lookup thread; its lock guards done, name and refs. Whoever drops the
 * last reference frees it.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tls.h>

#include "common/addr.h"
#include "common/util.h"
#include "daemon/tlsechod.h"

#define REASON_NO_CERT		"no-client-cert"
#define REASON_UNKNOWN_CA	"unknown-ca"
#define REASON_EXPIRED		"cert-expired"
#define REASON_NOT_YET_VALID	"cert-not-yet-valid"
#define REASON_REVOKED		"cert-revoked"
#define REASON_KEY_USAGE	"bad-key-usage"
#define REASON_ADDR		"addr-not-in-cert"
#define REASON_PROTOCOL		"protocol-version"
#define REASON_CIPHER		"no-shared-cipher"
#define REASON_PEER_ALERT	"peer-alert"
#define REASON_CRL_MISSING	"crl-unusable"

struct addr_lookup {
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	int			 refs;		/* [lock] */
	int			 done;		/* [lock] */
	struct sockaddr_storage	 peer;		/* [I] */
	socklen_t		 peerlen;	/* [I] */
	char			 name[NI_MAXHOST];	/* [lock] "" if none */
};

static void	*addr_lookup_main(void *);
static void	 addr_lookup_unref(struct addr_lookup *);
static int	 same_ip(const struct sockaddr *, const struct sockaddr *);

/*
 * Maps a failed handshake to a close reason and sets *text to the most
 * precise description there is. libtls reports the X.509 verification
 * error only as text, and only in the server context the verify callback
 * was configured on (sctx, private to the session when client
 * certificates are checked; NULL otherwise): the connection's own error
 * just says "certificate verify failed". So the mapping is by phrase,
 * over the verify error first.
 */
const char *
session_hs_reason(struct tls *tls, struct tls *sctx, const char **text)
{
	static const struct {
		const char	*phrase;
		const char	*reason;
	} map[] = {
		/* X.509 verification (X509_verify_cert_error_string). */
		{ "certificate has expired",		REASON_EXPIRED },
		{ "certificate is not yet valid",	REASON_NOT_YET_VALID },
		{ "certificate revoked",		REASON_REVOKED },
		{ "unsupported certificate purpose",	REASON_KEY_USAGE },
		{ "unsuitable certificate purpose",	REASON_KEY_USAGE },
		{ "unable to get local issuer",		REASON_UNKNOWN_CA },
		{ "unable to get issuer",		REASON_UNKNOWN_CA },
		{ "self-signed",			REASON_UNKNOWN_CA },
		{ "self signed",			REASON_UNKNOWN_CA },
		{ "certificate signature failure",	REASON_UNKNOWN_CA },
		{ "unable to get certificate CRL",	REASON_CRL_MISSING },
		{ "CRL has expired",			REASON_CRL_MISSING },
		{ "CRL is not yet valid",		REASON_CRL_MISSING },
		/* An alert the client sent: it refused us, not we it. */
		{ "alert",				REASON_PEER_ALERT },
		/* TLS-level refusals. */
		{ "did not return a certificate",	REASON_NO_CERT },
		{ "certificate required",		REASON_NO_CERT },
		{ "no certificate",			REASON_NO_CERT },
		{ "no shared cipher",			REASON_CIPHER },
		{ "unsupported protocol",		REASON_PROTOCOL },
		{ "wrong version",			REASON_PROTOCOL },
		{ "version too low",			REASON_PROTOCOL },
		{ "protocol version",			REASON_PROTOCOL },
	};
	const char	*e = tls_error(tls), *v;
	size_t		 i;

	*text = e;
	if (e != NULL && sctx != NULL && strcasestr(e,
	    "certificate verify failed") != NULL &&
	    (v = tls_error(sctx)) != NULL)
		*text = e = v;
	if (e == NULL)
		return REASON_HS_FAILED;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcasestr(e, map[i].phrase) != NULL)
			return map[i].reason;
	return REASON_HS_FAILED;
}

static int
same_ip(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in6	*a6, *b6;

	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->sa_family == AF_INET6) {
		a6 = (const struct sockaddr_in6 *)a;
		b6 = (const struct sockaddr_in6 *)b;
		return memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0;
	}
	return 0;
}

/* The lookup thread: PTR name, then forward-confirm it. */
static void *
addr_lookup_main(void *arg)
{
	struct addr_lookup	*l = arg;
	struct addrinfo		 hints, *res = NULL, *ai;
	char			 name[NI_MAXHOST];
	int			 confirmed = 0;

	pthread_setname_np(pthread_self(), "addr-lookup");
	if (getnameinfo((struct sockaddr *)&l->peer, l->peerlen, name,
	    sizeof(name), NULL, 0, NI_NAMEREQD) == 0) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = l->peer.ss_family;
		hints.ai_socktype = SOCK_STREAM;
		if (getaddrinfo(name, NULL, &hints, &res) == 0) {
			for (ai = res; ai != NULL && !confirmed;
			    ai = ai->ai_next)
				confirmed = same_ip(ai->ai_addr,
				    (struct sockaddr *)&l->peer);
			freeaddrinfo(res);
		}
	}
	pthread_mutex_lock(&l->lock);
	if (confirmed)
		memcpy(l->name, name, sizeof(l->name));
	l->done = 1;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->lock);
	addr_lookup_unref(l);
	return NULL;
}

static void
addr_lookup_unref(struct addr_lookup *l)
{
	int	refs;

	pthread_mutex_lock(&l->lock);
	refs = --l->refs;
	pthread_mutex_unlock(&l->lock);
	if (refs == 0) {
		pthread_cond_destroy(&l->cond);
		pthread_mutex_destroy(&l->lock);
		free(l);
	}
}

/*
 * Finds a forward-confirmed name for the peer, waiting no later than
 * deadline_mono. Fills name ("" when there is none or time ran out).
 */
static void
addr_confirmed_name(const struct sockaddr_storage *peer, socklen_t len,
    int64_t deadline_mono, char *name, size_t namelen, int *timed_out)
{
	struct addr_lookup	*l;
	pthread_attr_t		 attr;
	pthread_t		 tid;
	struct timespec		 ts;
	int64_t			 left;

	name[0] = '\0';
	*timed_out = 0;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->cond, NULL);
	l->refs = 2;
	l->peer = *peer;
	l->peerlen = len;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, addr_lookup_main, l) != 0) {
		pthread_attr_destroy(&attr);
		l->refs = 1;
		addr_lookup_unref(l);
		return;
	}
	pthread_attr_destroy(&attr);

	pthread_mutex_lock(&l->lock);
	while (!l->done) {
		left = deadline_mono - time_mono_ms();
		if (left <= 0) {
			*timed_out = 1;
			break;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (left % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&l->cond, &l->lock, &ts);
	}
	if (l->done)
		snprintf(name, namelen, "%s", l->name);
	pthread_mutex_unlock(&l->lock);
	addr_lookup_unref(l);
}

/*
 * After the handshake: with --verify-client-addr, refuse a client whose
 * certificate names neither its IP address nor its forward-confirmed
 * PTR name. Returns 0 to go on, or -1 with reason and detail set (raw:
 * the caller records them through session_fail, which escapes).
 */
int
session_verify_client(struct tls *tls, int fd, int64_t deadline_mono,
    char *reason, size_t reasonlen, char *detail, size_t detaillen)
{
	struct sockaddr_storage	 peer;
	socklen_t		 len = sizeof(peer);
	char			 ip[PROTO_ADDR_MAX], name[NI_MAXHOST];
	int			 timed_out;

	if (!conf.verify_client_addr || !tls_peer_cert_provided(tls))
		return 0;
	if (getpeername(fd, (struct sockaddr *)&peer, &len) == -1) {
		snprintf(reason, reasonlen, "%s", REASON_ERROR);
		snprintf(detail, detaillen, "getpeername: %s",
		    strerror(errno));
		return -1;
	}
	addr_format_ip((struct sockaddr *)&peer, ip, sizeof(ip));
	if (tls_peer_cert_contains_name(tls, ip) == 1)
		return 0;
	addr_confirmed_name(&peer, len, deadline_mono, name, sizeof(name),
	    &timed_out);
	if (name[0] != '\0' && tls_peer_cert_contains_name(tls, name) == 1)
		return 0;
	snprintf(reason, reasonlen, "%s", REASON_ADDR);
	if (timed_out)
		snprintf(detail, detaillen, "%s is not in the certificate and "
		    "its PTR lookup passed the handshake deadline", ip);
	else if (name[0] != '\0')
		snprintf(detail, detaillen, "neither %s nor its "
		    "forward-confirmed name %s is in the certificate", ip,
		    name);
	else
		snprintf(detail, detaillen, "%s is not in the certificate and "
		    "has no forward-confirmed PTR name", ip);
	return -1;
}
