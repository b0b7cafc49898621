/*
 * One thread per session: plaintext detection, the handshake under a total
 * deadline, the echo loop under the idle and send limits, and the one
 * place a session is torn down (session_close).
 *
 * Socket I/O goes through tls_accept_cbs() callbacks so that an expired
 * SO_RCVTIMEO or SO_SNDTIMEO is seen here (EAGAIN) and ends the session
 * with its reason: libtls would report it as TLS_WANT_POLLIN/POLLOUT with
 * errno cleared, and "repeat the call" would make the idle limit never.
 *
 * Quiet sessions: the idle limit is served in two steps. SO_RCVTIMEO is
 * first QUIET_MS; when that expires the session is quiet, and before it
 * blocks for the rest of the idle limit (SO_RCVTIMEO again) it gives
 * back the stack pages its handshake and echo buffer dirtied, so a held
 * idle session costs only the top of its stack. An active session pays
 * no extra system call.
 *
 * Spare threads: a session thread whose session has ended waits a while
 * for the next connection instead of exiting (at most SPARE_MAX of them,
 * SPARE_LINGER_MS each). Creating and ending a thread, and the state
 * OpenSSL and malloc build in each new thread (random generators, error
 * queue, arena), cost more than the rest of a handshake's bookkeeping.
 * There is still exactly one thread per running session.
 *
 * LOCKING: spare_lock guards the spare list and each spare's handover
 * slot; a spare waits on its own condition variable.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tls.h>

#include "common/addr.h"
#include "common/util.h"
#include "daemon/tlsechod.h"

/* Stack of a session thread: OpenSSL's handshake is the deepest user. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SESSION_STACK_SIZE	(4u << 20)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SESSION_STACK_SIZE	(4u << 20)
#endif
#endif
#ifndef SESSION_STACK_SIZE
#define SESSION_STACK_SIZE	(128u << 10)
#endif

#define DETAIL_MAX	256
#define SPARE_MAX	64		/* idle session threads kept */
#define SPARE_LINGER_MS	10000		/* how long one waits for work */
#define QUIET_MS	1000		/* no data this long: trim the stack */
#define TRIM_MARGIN	512		/* kept below the trimming frame */

enum io_event {
	IO_OK = 0,
	IO_READ_TIMEOUT,
	IO_WRITE_TIMEOUT,
	IO_EOF,
	IO_STOPPED,
	IO_ERROR
};

struct session {
	int			 fd;
	uint64_t		 id;
	struct slot		*slot;
	struct tlsconf		*tc;
	struct tls		*sctx;		/* server ctx accepted on */
	struct tls		*tls;
	int			 in_handshake;
	int			 established;	/* handshake done */
	int64_t			 start_mono;
	int64_t			 deadline_mono;	/* handshake deadline */
	int64_t			 write_deadline;	/* current record's */
	enum io_event		 io;		/* last callback outcome */
	int			 eof;		/* the peer closed TCP */
	int			 io_errno;
	long long		 quiet_ms;	/* first SO_RCVTIMEO step */
	char			*stack_low;	/* this thread's stack */
	char			*stack_high;
	char			 peer[PROTO_ADDR_MAX];
	char			 version[PROTO_SHORT_MAX];
	char			 cipher[PROTO_SHORT_MAX];
	char			 reason[REASON_MAX];
	char			 detail[DETAIL_MAX];
};

/* A session thread between sessions, on its own stack. */
struct spare {
	pthread_cond_t		 cond;
	struct session		*next;		/* [spare_lock] handed over */
	struct spare		*link;		/* [spare_lock] */
};

static pthread_mutex_t	 spare_lock = PTHREAD_MUTEX_INITIALIZER;
static struct spare	*spare_list;		/* [spare_lock] */
static int		 nspare;		/* [spare_lock] */

static ssize_t	session_read_cb(struct tls *, void *, size_t, void *);
static ssize_t	session_write_cb(struct tls *, const void *, size_t, void *);
static void	*session_thread(void *);
static int	 session_handover(struct session *);
static void	 session_run(struct session *);
static int	 session_wait_readable(struct session *);
static int	session_sniff(struct session *);
static int	session_handshake(struct session *);
static void	session_record_tls(struct session *);
static void	session_echo(struct session *);
static int	session_echo_record(struct session *);
static int	session_quiet(struct session *);
static void	session_trim_stack(const struct session *);
static void	set_timeo(int, int, long long);
static int	session_accept(struct session *);
static void	session_fail(struct session *, const char *, const char *);
static void	session_close(struct session *);

/*
 * Waits until the socket is readable or the handshake deadline passes;
 * -1 on the deadline.
 */
static int
session_wait_readable(struct session *s)
{
	struct pollfd	pfd;
	int64_t		left;
	int		r;

	for (;;) {
		left = s->deadline_mono - time_mono_ms();
		if (left <= 0)
			return -1;
		pfd.fd = s->fd;
		pfd.events = POLLIN;
		if ((r = poll(&pfd, 1, (int)left)) > 0)
			return 0;
		if (r == 0)
			return -1;
		if (errno != EINTR)
			return 0;	/* let recv report the error */
	}
}

static ssize_t
session_read_cb(struct tls *ctx, void *buf, size_t len, void *arg)
{
	struct session	*s = arg;
	ssize_t		 n;

	for (;;) {
		if (s->in_handshake) {
			/*
			 * The handshake's deadline is total, not per read:
			 * take what is there, and wait only when nothing is.
			 */
			n = recv(s->fd, buf, len, MSG_DONTWAIT);
			if (n == -1 && (errno == EAGAIN ||
			    errno == EWOULDBLOCK)) {
				if (session_wait_readable(s) == -1) {
					s->io = IO_READ_TIMEOUT;
					return TLS_WANT_POLLIN;
				}
				continue;
			}
		} else
			n = recv(s->fd, buf, len, 0);
		if (n > 0)
			return n;
		/*
		 * A stop request shuts our read side; report it as "no data
		 * yet" so the TLS state stays sound and close_notify can
		 * still be sent.
		 */
		if (n == 0 && atomic_load(&s->slot->stop) != STOP_NONE) {
			s->io = IO_STOPPED;
			return TLS_WANT_POLLIN;
		}
		if (n == 0) {
			s->io = IO_EOF;
			s->eof = 1;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			s->io = IO_READ_TIMEOUT;
			return TLS_WANT_POLLIN;
		}
		s->io = IO_ERROR;
		s->io_errno = errno;
		return -1;
	}
}

static ssize_t
session_write_cb(struct tls *ctx, const void *buf, size_t len, void *arg)
{
	struct session	*s = arg;
	ssize_t		 n;
	int64_t		 deadline;

	for (;;) {
		/*
		 * SO_SNDTIMEO restarts whenever a few bytes get through, so
		 * a peer that reads a trickle would never time out: bound
		 * the whole record (or the whole handshake) instead.
		 */
		deadline = s->in_handshake ? s->deadline_mono :
		    s->write_deadline;
		if (deadline != 0 && time_mono_ms() >= deadline) {
			s->io = IO_WRITE_TIMEOUT;
			return TLS_WANT_POLLOUT;
		}
		n = send(s->fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			s->io = IO_WRITE_TIMEOUT;
			return TLS_WANT_POLLOUT;
		}
		s->io = IO_ERROR;
		s->io_errno = errno;
		return -1;
	}
}

/*
 * Called on the listener thread for each accepted connection: claims a
 * registry slot (or rejects the connection when all are taken), creates
 * the libtls context with the current configuration and starts the
 * session's thread. Returns 0, or -1 when the connection was closed here.
 */
int
session_start(int fd, const struct sockaddr_storage *peer,
    const struct sockaddr_storage *local)
{
	struct session		*s;
	pthread_attr_t		 attr;
	pthread_t		 tid;
	uint64_t		 id;
	char			 paddr[PROTO_ADDR_MAX], laddr[PROTO_ADDR_MAX];
	int			 err;

	addr_format((const struct sockaddr *)peer, paddr, sizeof(paddr));
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("event=reject peer=%s reason=out-of-memory", paddr);
		close(fd);
		return -1;
	}
	addr_format((const struct sockaddr *)local, laddr, sizeof(laddr));
	if ((s->slot = registry_claim(&id, fd, paddr, laddr)) == NULL) {
		registry_count_rejected();
		log_warnx("event=reject peer=%s reason=max-conns "
		    "max_conns=%lld", paddr, conf.max_conns);
		close(fd);
		free(s);
		return -1;
	}
	s->fd = fd;
	s->id = id;
	s->start_mono = time_mono_ms();
	memcpy(s->peer, paddr, sizeof(s->peer));

	s->tc = tlsconf_acquire();
	if (s->tc == NULL) {
		session_fail(s, REASON_ERROR, "no TLS configuration");
		session_close(s);
		return -1;
	}
	/*
	 * Only this (the accept) thread touches the shared server context;
	 * a session with a context of its own configures it on its own
	 * thread, so the accept loop does not wait for that work.
	 */
	if (!s->tc->per_session && session_accept(s) == -1) {
		session_close(s);
		return -1;
	}

	if (session_handover(s) == 0)
		return 0;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, SESSION_STACK_SIZE);
	err = pthread_create(&tid, &attr, session_thread, s);
	pthread_attr_destroy(&attr);
	if (err != 0) {
		session_fail(s, REASON_ERROR, strerror(err));
		session_close(s);
		return -1;
	}
	return 0;
}

/* Creates the session's libtls context from its server context. */
static int
session_accept(struct session *s)
{
	char	err[DETAIL_MAX];

	if ((s->sctx = tlsconf_session_ctx(s->tc, err, sizeof(err))) ==
	    NULL) {
		session_fail(s, REASON_ERROR, err);
		return -1;
	}
	if (tls_accept_cbs(s->sctx, &s->tls, session_read_cb,
	    session_write_cb, s) == -1) {
		session_fail(s, REASON_ERROR, tls_error(s->sctx));
		return -1;
	}
	return 0;
}

static void
session_fail(struct session *s, const char *reason, const char *detail)
{
	if (s->reason[0] != '\0')
		return;
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	if (detail != NULL)
		str_quote(detail, s->detail, sizeof(s->detail));
}

/* Gives the session to a spare thread; -1 when there is none. */
static int
session_handover(struct session *s)
{
	struct spare	*sp;

	pthread_mutex_lock(&spare_lock);
	if ((sp = spare_list) != NULL) {
		spare_list = sp->link;
		nspare--;
		sp->next = s;
		pthread_cond_signal(&sp->cond);
	}
	pthread_mutex_unlock(&spare_lock);
	return sp != NULL ? 0 : -1;
}

/*
 * A session thread: runs its session, then waits as a spare for another
 * one (see the top of the file) and exits when none comes in time or
 * there are spares enough.
 */
static void *
session_thread(void *arg)
{
	struct session		*s = arg;
	struct spare		 sp, **pp;
	pthread_condattr_t	 ca;
	struct timespec		 until;
	pthread_attr_t		 attr;
	void			*low = NULL;
	size_t			 size = 0;
	int			 r;

	/* Named for top -H and ps -L, and for the quiet-session test. */
	pthread_setname_np(pthread_self(), "session");
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		if (pthread_attr_getstack(&attr, &low, &size) != 0)
			low = NULL;
		pthread_attr_destroy(&attr);
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sp.cond, &ca);
	pthread_condattr_destroy(&ca);
	while (s != NULL) {
		if (low != NULL) {
			s->stack_low = low;
			s->stack_high = (char *)low + size;
		}
		session_run(s);
		s = NULL;

		pthread_mutex_lock(&spare_lock);
		if (nspare >= SPARE_MAX) {
			pthread_mutex_unlock(&spare_lock);
			break;
		}
		sp.next = NULL;
		sp.link = spare_list;
		spare_list = &sp;
		nspare++;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += SPARE_LINGER_MS / 1000;
		r = 0;
		while (sp.next == NULL && r != ETIMEDOUT)
			r = pthread_cond_timedwait(&sp.cond, &spare_lock,
			    &until);
		if ((s = sp.next) == NULL) {
			/* Timed out: still listed, so unlist. */
			for (pp = &spare_list; *pp != NULL; pp = &(*pp)->link)
				if (*pp == &sp) {
					*pp = sp.link;
					nspare--;
					break;
				}
		}
		pthread_mutex_unlock(&spare_lock);
	}
	pthread_cond_destroy(&sp.cond);
	return NULL;
}

static void
session_run(struct session *s)
{
	char		 reason[REASON_MAX], detail[DETAIL_MAX];
	int		 one = 1;

	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	set_timeo(s->fd, SO_SNDTIMEO, conf.send_ms);
	s->quiet_ms = conf.idle_ms > 2 * QUIET_MS ? QUIET_MS : conf.idle_ms;
	set_timeo(s->fd, SO_RCVTIMEO, s->quiet_ms);

	s->deadline_mono = s->start_mono + conf.handshake_ms;
	if ((s->tls != NULL || session_accept(s) == 0) &&
	    session_sniff(s) == 0 && session_handshake(s) == 0) {
		if (session_verify_client(s->tls, s->fd, s->deadline_mono,
		    reason, sizeof(reason), detail, sizeof(detail)) == 0)
			session_echo(s);
		else {
			session_fail(s, reason, detail);
			registry_count_hs_failure(s->reason);
		}
	}
	session_close(s);
}

/*
 * Looks at the first bytes before any TLS: a client that speaks plaintext
 * to a TLS port gets the reason not-tls, and an HTTP client gets a 400
 * that tells it to use TLS, instead of a cryptic handshake error.
 */
static int
session_sniff(struct session *s)
{
	static const char	 http400[] =
	    "HTTP/1.1 400 Bad Request\r\n"
	    "Content-Type: text/plain\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "This port speaks TLS: connect with https:// or tlsecho, "
	    "not plain HTTP.\n";
	unsigned char		 b[8];
	char			 raw[9], shown[40];
	ssize_t			 n;

	for (;;) {
		/* The ClientHello has usually arrived: wait only if not. */
		n = recv(s->fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (session_wait_readable(s) == -1) {
				session_fail(s, REASON_HS_TIMEOUT, "no data "
				    "before the handshake deadline");
				return -1;
			}
			continue;
		}
		break;
	}
	if (n == 0) {
		session_fail(s, REASON_PEER_CLOSED, "closed before the "
		    "handshake");
		return -1;
	}
	if (n < 0) {
		session_fail(s, errno == ECONNRESET ? REASON_RESET :
		    REASON_ERROR, strerror(errno));
		return -1;
	}
	/* A TLS handshake record starts with content type 22. */
	if (b[0] == 0x16)
		return 0;
	memcpy(raw, b, (size_t)n);
	raw[n] = '\0';
	str_quote(raw, shown, sizeof(shown));
	if (b[0] >= 'A' && b[0] <= 'Z') {
		send(s->fd, http400, sizeof(http400) - 1, MSG_NOSIGNAL);
		session_fail(s, REASON_NOT_TLS, "plaintext HTTP; sent 400");
	} else
		session_fail(s, REASON_NOT_TLS, "first bytes are not a TLS "
		    "handshake");
	log_debug("event=not-tls id=%llu peer=%s first_bytes=\"%s\"",
	    (unsigned long long)s->id, s->peer, shown);
	return -1;
}

static int
session_handshake(struct session *s)
{
	const char	*reason, *text;
	int		 ret;

	s->in_handshake = 1;
	for (;;) {
		s->io = IO_OK;
		ret = tls_handshake(s->tls);
		if (ret == 0)
			break;
		if (atomic_load(&s->slot->stop) != STOP_NONE)
			return -1;
		if (ret == TLS_WANT_POLLIN || ret == TLS_WANT_POLLOUT) {
			if (s->io == IO_READ_TIMEOUT ||
			    s->io == IO_WRITE_TIMEOUT) {
				session_fail(s, REASON_HS_TIMEOUT, NULL);
				return -1;
			}
			continue;
		}
		if (s->io == IO_ERROR && s->io_errno == ECONNRESET)
			session_fail(s, REASON_RESET, "during the handshake");
		else {
			reason = session_hs_reason(s->tls,
			    s->tc->per_session ? s->sctx : NULL, &text);
			session_fail(s, reason, text);
		}
		registry_count_hs_failure(s->reason);
		return -1;
	}
	s->in_handshake = 0;
	s->established = 1;
	session_record_tls(s);
	return 0;
}

/* Publishes what the handshake negotiated and logs the session's open. */
static void
session_record_tls(struct session *s)
{
	struct proto_session	 info;
	const char		*v;
	char			 subj[PROTO_NAME_MAX], iss[PROTO_NAME_MAX];
	char			 sni[PROTO_SNI_MAX];

	memset(&info, 0, sizeof(info));
	info.state = PROTO_STATE_ESTABLISHED;
	info.handshake_ms = time_mono_ms() - s->start_mono;
	if ((v = tls_conn_version(s->tls)) != NULL)
		snprintf(info.version, sizeof(info.version), "%s", v);
	if ((v = tls_conn_cipher(s->tls)) != NULL)
		snprintf(info.cipher, sizeof(info.cipher), "%s", v);
	info.cipher_bits = tls_conn_cipher_strength(s->tls);
	if ((v = tls_conn_servername(s->tls)) != NULL)
		snprintf(info.sni, sizeof(info.sni), "%s", v);
	if ((v = tls_conn_alpn_selected(s->tls)) != NULL)
		snprintf(info.alpn, sizeof(info.alpn), "%s", v);
	info.resumed = tls_conn_session_resumed(s->tls) == 1;
	if (tls_peer_cert_provided(s->tls)) {
		info.has_peer_cert = 1;
		if ((v = tls_peer_cert_subject(s->tls)) != NULL)
			snprintf(info.peer_subject, sizeof(info.peer_subject),
			    "%s", v);
		if ((v = tls_peer_cert_issuer(s->tls)) != NULL)
			snprintf(info.peer_issuer, sizeof(info.peer_issuer),
			    "%s", v);
		if ((v = tls_peer_cert_hash(s->tls)) != NULL)
			snprintf(info.peer_pin, sizeof(info.peer_pin), "%s", v);
		info.peer_not_after = tls_peer_cert_notafter(s->tls);
	}
	memcpy(s->version, info.version, sizeof(s->version));
	memcpy(s->cipher, info.cipher, sizeof(s->cipher));
	registry_set_info(s->slot, &info,
	    PROTO_F_STATE | PROTO_F_TLS | PROTO_F_PEER_CERT);
	registry_note_tls(info.version, info.cipher);

	str_quote(info.peer_subject, subj, sizeof(subj));
	str_quote(info.peer_issuer, iss, sizeof(iss));
	str_quote(info.sni, sni, sizeof(sni));
	log_info("event=session-open id=%llu peer=%s version=%s cipher=%s "
	    "handshake_ms=%lld sni=\"%s\" client_subject=\"%s\" "
	    "client_issuer=\"%s\"", (unsigned long long)s->id, s->peer,
	    info.version, info.cipher, (long long)info.handshake_ms, sni,
	    subj, iss);
}

enum echo_result {
	ECHO_AGAIN,		/* a record was echoed */
	ECHO_QUIET,		/* no data for quiet_ms */
	ECHO_DONE		/* the session ends; reason set */
};

/*
 * Echoes every byte back, in order, until the peer closes, the idle or
 * send limit expires, an error happens or a stop is requested.
 */
static void
session_echo(struct session *s)
{
	int	r;

	while ((r = session_echo_record(s)) != ECHO_DONE)
		if (r == ECHO_QUIET && session_quiet(s) == -1)
			break;
}

/*
 * The session has had no data for quiet_ms: trims the stack, then waits
 * for data for the rest of the idle limit. -1 when it expires.
 */
static int
session_quiet(struct session *s)
{
	char	c;
	ssize_t	n;
	int	err;

	if (s->quiet_ms >= conf.idle_ms) {
		session_fail(s, REASON_IDLE, NULL);
		return -1;
	}
	session_trim_stack(s);
	set_timeo(s->fd, SO_RCVTIMEO, conf.idle_ms - s->quiet_ms);
	while ((n = recv(s->fd, &c, 1, MSG_PEEK)) == -1 && errno == EINTR)
		;
	err = errno;
	set_timeo(s->fd, SO_RCVTIMEO, s->quiet_ms);
	if (n == -1 && (err == EAGAIN || err == EWOULDBLOCK)) {
		session_fail(s, REASON_IDLE, NULL);
		return -1;
	}
	return 0;	/* data, EOF, a stop or an error: tls_read sees it */
}

/*
 * Gives back the pages of this thread's stack below this function's frame
 * (less a margin for the calls it still makes): the handshake reaches some
 * 16 KiB deep and the echo buffer is as large, and a quiet session needs
 * none of it until data comes. Never inlined: its frame must lie below
 * every live frame of its callers, whatever the compiler merges into them.
 */
static __attribute__((noinline)) void
session_trim_stack(const struct session *s)
{
	uintptr_t	 low, high, page;

	page = (uintptr_t)sysconf(_SC_PAGESIZE);
	low = (uintptr_t)s->stack_low;
	high = (uintptr_t)__builtin_frame_address(0);
	/* Not on the known stack (no bounds, or a sanitizer's frame). */
	if (low == 0 || high <= low || high >= (uintptr_t)s->stack_high)
		return;
	if (high - low <= TRIM_MARGIN)
		return;
	high = (high - TRIM_MARGIN) & ~(page - 1);
	if (high > low)
		madvise((void *)low, high - low, MADV_DONTNEED);
}

static void
set_timeo(int fd, int opt, long long ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

/*
 * Reads one record (up to 16 KiB) and writes it back whole. The buffer is
 * on this function's frame, not the heap and not session_echo's: a quiet
 * session trims it away (session_quiet), where a malloc'd buffer would
 * come from arena memory earlier sessions left resident.
 */
static __attribute__((noinline)) int
session_echo_record(struct session *s)
{
	unsigned char	 buf[ECHO_BUF_SIZE];
	ssize_t		 n, w;
	size_t		 off;

	s->io = IO_OK;
	n = tls_read(s->tls, buf, ECHO_BUF_SIZE);
	if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
		if (s->io == IO_STOPPED)
			return ECHO_DONE;
		if (s->io == IO_READ_TIMEOUT)
			return ECHO_QUIET;
		if (s->io == IO_WRITE_TIMEOUT) {
			session_fail(s, REASON_SEND_TIMEOUT, NULL);
			return ECHO_DONE;
		}
		return ECHO_AGAIN;
	}
	if (n == 0) {
		session_fail(s, REASON_PEER_CLOSED, NULL);
		return ECHO_DONE;
	}
	if (n < 0) {
		if (s->eof)
			session_fail(s, REASON_PEER_CLOSED,
			    "without close_notify");
		else if (s->io == IO_ERROR && (s->io_errno == ECONNRESET ||
		    s->io_errno == EPIPE))
			session_fail(s, REASON_RESET, NULL);
		else
			session_fail(s, REASON_ERROR, tls_error(s->tls));
		return ECHO_DONE;
	}
	s->write_deadline = time_mono_ms() + conf.send_ms;
	for (off = 0; off < (size_t)n; off += (size_t)w) {
		s->io = IO_OK;
		w = tls_write(s->tls, buf + off, (size_t)n - off);
		if (w == TLS_WANT_POLLIN || w == TLS_WANT_POLLOUT) {
			if (s->io == IO_WRITE_TIMEOUT ||
			    s->io == IO_READ_TIMEOUT) {
				session_fail(s, REASON_SEND_TIMEOUT, NULL);
				return ECHO_DONE;
			}
			w = 0;
			continue;
		}
		if (w < 0) {
			session_fail(s, s->io == IO_ERROR &&
			    (s->io_errno == ECONNRESET ||
			    s->io_errno == EPIPE) ? REASON_RESET :
			    REASON_ERROR, tls_error(s->tls));
			return ECHO_DONE;
		}
	}
	s->write_deadline = 0;
	registry_add_bytes(s->slot, (uint64_t)n, (uint64_t)n);
	return ECHO_AGAIN;
}

/*
 * The one place a session ends: settles the reason (a requested stop
 * wins), sends close_notify when the connection is still sound, frees the
 * TLS context, closes the socket under the slot lock, publishes the close
 * and logs one summary line.
 */
static void
session_close(struct session *s)
{
	struct slot	*slot = s->slot;
	enum stop_request stop = atomic_load(&slot->stop);
	uint64_t	 in = atomic_load(&slot->bytes_in);
	uint64_t	 out = atomic_load(&slot->bytes_out);
	int		 sound;

	if (stop != STOP_NONE) {
		s->reason[0] = s->detail[0] = '\0';
		session_fail(s, stop == STOP_KILLED ? REASON_KILLED :
		    REASON_SHUTDOWN, NULL);
	} else if (s->reason[0] == '\0')
		session_fail(s, REASON_ERROR, "unknown");

	sound = strcmp(s->reason, REASON_RESET) != 0 &&
	    strcmp(s->reason, REASON_SEND_TIMEOUT) != 0 &&
	    strcmp(s->reason, REASON_NOT_TLS) != 0 &&
	    s->established;
	if (sound) {
		s->io = IO_OK;
		s->write_deadline = time_mono_ms() + conf.send_ms;
		tls_close(s->tls);
	}
	tls_free(s->tls);
	s->tls = NULL;
	tlsconf_session_ctx_free(s->tc, s->sctx);
	s->sctx = NULL;

	pthread_mutex_lock(&slot->lock);
	close(s->fd);
	slot->fd = -1;
	pthread_mutex_unlock(&slot->lock);
	registry_release(slot, s->reason, time_real_ms());

	log_info("event=session-close id=%llu peer=%s version=%s cipher=%s "
	    "bytes_in=%llu bytes_out=%llu duration_ms=%lld reason=%s%s%s%s",
	    (unsigned long long)s->id, s->peer,
	    s->version[0] ? s->version : "-", s->cipher[0] ? s->cipher : "-",
	    (unsigned long long)in, (unsigned long long)out,
	    (long long)(time_mono_ms() - s->start_mono), s->reason,
	    s->detail[0] ? " detail=\"" : "", s->detail,
	    s->detail[0] ? "\"" : "");

	tlsconf_release(s->tc);
	free(s);
}
