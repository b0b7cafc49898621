/*
 * The publisher: one thread that owns the stats socket and every
 * subscriber, and turns the registry into the JSON Lines stream of
 * common/proto.h.
 *
 * Session threads never wait for it: they update their slot and poke an
 * eventfd. The publisher scans the slots (at most every SCAN_MIN_MS),
 * compares them with its view of what watchers were last told, and
 * encodes each event once for every watcher. All socket I/O is
 * non-blocking; each subscriber's unread output is bounded by
 * --stats-buffer (a snapshot is allowed on top of it): one that passes the
 * bound is resynchronised with a fresh snapshot, and one that passes it
 * again without having read anything since is dropped. Both are counted.
 *
 * LOCKING: everything here belongs to the publisher thread except
 * reload_lock, which guards the pending reload event that the main thread
 * posts.
 */
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/tlsechod.h"

#define SUBSCRIBERS_MAX	256
#define SCAN_MIN_MS	2
#define WRITE_CHUNK	65536
#define ACCEPT_BATCH	32	/* subscribers accepted per poll round */

struct subscriber {
	int		 fd;
	uid_t		 uid;
	int		 may_kill;
	int		 watching;
	char		 in[PROTO_COMMAND_MAX + 1];
	size_t		 inlen;
	int		 discarding;	/* inside an oversized line */
	char		*out;
	size_t		 outlen;	/* bytes queued */
	size_t		 outoff;	/* bytes of out already sent */
	size_t		 outcap;
	size_t		 limit;		/* outlen - outoff may reach this */
	int		 resynced;	/* and nothing read since */
	int		 closing;	/* 1: close once out is flushed,
					   2: close now */
	int		 eof;		/* it sent all it will send */
};

/* What watchers were last told about each slot. */
struct view {
	uint64_t		 id;	/* 0: nothing open there */
	unsigned		 version;
	uint64_t		 bytes_in;
	uint64_t		 bytes_out;
};

static int		 stats_fd = -1;
static char		 stats_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static int		 notify_fd = -1;
static int		 stop_fd = -1;
static pthread_t	 publisher_thread;
static int		 publisher_running;

static struct subscriber *subs[SUBSCRIBERS_MAX];
static size_t		 nsubs;
static size_t		 nwatchers;
static struct view	*views;
static uint64_t		 view_closed_seq;
static struct proto_counters last_counters;
static int64_t		 last_scan_ms, last_counters_ms;

static pthread_mutex_t	 reload_lock = PTHREAD_MUTEX_INITIALIZER;
static int		 reload_pending;	/* [reload_lock] */
static int		 reload_ok;		/* [reload_lock] */
static char		 reload_msg[PROTO_TEXT_MAX];	/* [reload_lock] */

static void	*publisher_main(void *);
static int	 stats_socket_prepare(const char *, char *, size_t);
static int	 sub_accept(void);
static void	 sub_refuse(int, const char *);
static void	 sub_free(struct subscriber *);
static void	 sub_read(struct subscriber *);
static void	 sub_command(struct subscriber *, const char *, size_t);
static void	 sub_flush(struct subscriber *);
static void	 sub_send(struct subscriber *, const char *, size_t);
static void	 sub_msg(struct subscriber *, const struct proto_msg *);
static void	 sub_error(struct subscriber *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 sub_snapshot(struct subscriber *);
static void	 sub_overflow(struct subscriber *);
static void	 sub_oversized(struct subscriber *);
static void	 watchers_send(const struct proto_msg *);
static void	 view_reset(void);
static void	 view_scan(int);
static void	 counters_tick(void);
static void	 hello_fill(struct proto_msg *, const struct subscriber *);

/* Called by any thread: wakes the publisher. Never blocks. */
void
publisher_notify(void)
{
	uint64_t	one = 1;

	if (notify_fd != -1 && write(notify_fd, &one, sizeof(one)) == -1) {
		/* The counter is saturated: a wake-up is pending anyway. */
	}
}

/* Called by the main thread after a SIGHUP. */
void
publisher_reload_event(int ok, const char *msg)
{
	pthread_mutex_lock(&reload_lock);
	reload_pending = 1;
	reload_ok = ok;
	snprintf(reload_msg, sizeof(reload_msg), "%s", msg);
	pthread_mutex_unlock(&reload_lock);
	publisher_notify();
}

/*
 * Makes the socket path usable: refuses when another daemon answers on
 * it, removes a stale socket file nobody answers on, refuses anything
 * that is not a socket.
 */
static int
stats_socket_prepare(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "--stats-socket %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "--stats-socket %s: exists and is not a "
		    "socket; remove it or choose another path", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(fd);
		snprintf(err, errlen, "--stats-socket %s: another tlsechod "
		    "answers on it; stop it or choose another path", path);
		return -1;
	}
	/* Only "refused" proves nobody listens; EACCES and the like do not. */
	if (errno != ECONNREFUSED) {
		snprintf(err, errlen, "--stats-socket %s: cannot tell whether "
		    "it is in use: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (unlink(path) == -1) {
		snprintf(err, errlen, "--stats-socket %s: cannot remove the "
		    "stale socket: %s", path, strerror(errno));
		return -1;
	}
	log_info("event=stale-stats-socket-removed path=%s", path);
	return 0;
}

int
publisher_open(const struct config *c, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct group		*gr;
	char			 def[sizeof(stats_path)];
	const char		*path = c->stats_socket;
	mode_t			 old;

	if ((notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    (stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -1;
	}
	if ((views = calloc(registry_size(), sizeof(*views))) == NULL) {
		snprintf(err, errlen, "out of memory for the publisher");
		return -1;
	}
	registry_set_notify(publisher_notify);
	if (path != NULL && (*path == '\0' || strcmp(path, "none") == 0))
		return 0;
	if (path == NULL) {
		path = options_default_stats_socket(def, sizeof(def));
		/* /run/tlsechod is ours to create. */
		if (strncmp(path, "/run/tlsechod/", 14) == 0 &&
		    mkdir("/run/tlsechod", 0755) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "mkdir /run/tlsechod: %s",
			    strerror(errno));
			return -1;
		}
	}
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "--stats-socket: the path is %zu bytes; "
		    "a Unix socket path must be shorter than %zu", strlen(path),
		    sizeof(sun.sun_path));
		return -1;
	}
	snprintf(stats_path, sizeof(stats_path), "%s", path);
	if (stats_socket_prepare(stats_path, err, errlen) == -1)
		return -1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, stats_path, strlen(stats_path));
	stats_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (stats_fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* No moment where the socket has looser permissions than asked. */
	old = umask(0777 & ~(mode_t)c->stats_mode);
	if (bind(stats_fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		snprintf(err, errlen, "--stats-socket %s: %s%s", stats_path,
		    strerror(errno), errno == ENOENT ? " (does its folder "
		    "exist?)" : "");
		stats_path[0] = '\0';
		return -1;
	}
	umask(old);
	if (chmod(stats_path, (mode_t)c->stats_mode) == -1) {
		snprintf(err, errlen, "chmod %s: %s", stats_path,
		    strerror(errno));
		goto fail;
	}
	if (c->stats_group != NULL) {
		if ((gr = getgrnam(c->stats_group)) == NULL) {
			snprintf(err, errlen, "--stats-group %s: no such group",
			    c->stats_group);
			goto fail;
		}
		if (chown(stats_path, (uid_t)-1, gr->gr_gid) == -1) {
			snprintf(err, errlen, "--stats-group %s: chown %s: %s",
			    c->stats_group, stats_path, strerror(errno));
			goto fail;
		}
	}
	/* Room for every subscriber connecting at once. */
	if (listen(stats_fd, SUBSCRIBERS_MAX) == -1) {
		snprintf(err, errlen, "listen %s: %s", stats_path,
		    strerror(errno));
		goto fail;
	}
	log_info("event=stats-socket path=%s mode=%04llo", stats_path,
	    c->stats_mode);
	return 0;
fail:
	unlink(stats_path);
	stats_path[0] = '\0';
	return -1;
}

static void
hello_fill(struct proto_msg *m, const struct subscriber *s)
{
	struct tlsconf	*tc;

	memset(m, 0, sizeof(*m));
	m->type = PROTO_HELLO;
	m->u.hello.proto = PROTO_VERSION;
	snprintf(m->u.hello.version, sizeof(m->u.hello.version), "%s",
	    TLSECHO_VERSION);
	m->u.hello.pid = getpid();
	m->u.hello.started_ms = daemon_started_ms;
	m->u.hello.nlisten = listener_addrs(m->u.hello.listen,
	    PROTO_LISTEN_MAX);
	if ((tc = tlsconf_acquire()) != NULL) {
		memcpy(m->u.hello.cert_subject, tc->subject,
		    sizeof(m->u.hello.cert_subject));
		m->u.hello.cert_not_after = tc->not_after;
		tlsconf_release(tc);
	}
	m->u.hello.max_conns = conf.max_conns;
	m->u.hello.idle_timeout_ms = conf.idle_ms;
	m->u.hello.handshake_timeout_ms = conf.handshake_ms;
	m->u.hello.history = conf.history;
	m->u.hello.counters_interval_ms = conf.counters_ms;
	m->u.hello.may_kill = s->may_kill;
}

/* Tells a connection it is refused, best effort, and closes it. */
static void
sub_refuse(int fd, const char *why)
{
	struct proto_msg	*m;
	char			*line = NULL;
	size_t			 len;

	if ((m = calloc(1, sizeof(*m))) != NULL) {
		m->type = PROTO_ERROR;
		snprintf(m->u.error.message, sizeof(m->u.error.message), "%s",
		    why);
		line = proto_encode(m, &len);
		free(m);
	}
	if (line != NULL && write(fd, line, len) == -1) {
		/* it is being refused anyway */
	}
	free(line);
	close(fd);
}

/* Takes one pending subscriber; -1 when none is waiting. */
static int
sub_accept(void)
{
	struct subscriber	*s;
	struct ucred		 cred;
	socklen_t		 len = sizeof(cred);
	struct proto_msg	*m;
	int			 fd;

	fd = accept4(stats_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno == EMFILE || errno == ENFILE)
			log_warn("event=subscriber-accept-failed");
		return -1;
	}
	if (nsubs == SUBSCRIBERS_MAX) {
		sub_refuse(fd, "too many subscribers; try again later");
		atomic_fetch_add(&counters.subscribers_dropped, 1);
		return 0;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (m = malloc(sizeof(*m))) == NULL) {
		free(s);
		close(fd);
		return 0;
	}
	s->fd = fd;
	s->limit = (size_t)conf.stats_buffer;
	s->uid = (uid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		s->uid = cred.uid;
	s->may_kill = s->uid == 0 || s->uid == geteuid();
	subs[nsubs++] = s;
	atomic_fetch_add(&counters.subscribers, 1);
	hello_fill(m, s);
	sub_msg(s, m);
	free(m);
	log_debug("event=subscriber-open fd=%d uid=%ld", fd, (long)s->uid);
	return 0;
}

static void
sub_free(struct subscriber *s)
{
	size_t	i;

	for (i = 0; i < nsubs; i++) {
		if (subs[i] == s) {
			subs[i] = subs[--nsubs];
			break;
		}
	}
	if (s->watching)
		nwatchers--;
	atomic_fetch_sub(&counters.subscribers, 1);
	close(s->fd);
	free(s->out);
	free(s);
}

/*
 * Appends bytes to a subscriber's output. Past the bound (plus any
 * snapshot allowance), the subscriber is resynchronised or dropped.
 */
static void
sub_send(struct subscriber *s, const char *buf, size_t len)
{
	size_t	 need, cap;
	char	*p;

	if (s->closing)
		return;
	if (s->outoff > 0 && s->outoff == s->outlen)
		s->outoff = s->outlen = 0;
	if (s->outlen - s->outoff + len > s->limit) {
		sub_overflow(s);
		return;
	}
	need = s->outlen + len;
	if (need > s->outcap) {
		if (s->outoff > 0) {
			memmove(s->out, s->out + s->outoff,
			    s->outlen - s->outoff);
			s->outlen -= s->outoff;
			s->outoff = 0;
			need = s->outlen + len;
		}
		if (need > s->outcap) {
			cap = s->outcap ? s->outcap : 4096;
			while (cap < need)
				cap *= 2;
			if ((p = realloc(s->out, cap)) == NULL) {
				s->closing = 1;
				return;
			}
			s->out = p;
			s->outcap = cap;
		}
	}
	memcpy(s->out + s->outlen, buf, len);
	s->outlen += len;
}

static void
sub_msg(struct subscriber *s, const struct proto_msg *m)
{
	char	*line;
	size_t	 len;

	if ((line = proto_encode(m, &len)) == NULL)
		return;
	sub_send(s, line, len);
	free(line);
}

static void
sub_error(struct subscriber *s, const char *fmt, ...)
{
	struct proto_msg	*m;
	va_list			 ap;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return;
	m->type = PROTO_ERROR;
	va_start(ap, fmt);
	vsnprintf(m->u.error.message, sizeof(m->u.error.message), fmt, ap);
	va_end(ap);
	sub_msg(s, m);
	free(m);
}

/* A command line past PROTO_COMMAND_MAX: counted, answered, dropped. */
static void
sub_oversized(struct subscriber *s)
{
	s->inlen = 0;
	atomic_fetch_add(&counters.commands_oversized, 1);
	sub_error(s, "command line longer than %d bytes; it was cut and "
	    "ignored", PROTO_COMMAND_MAX);
}

/*
 * A subscriber's unread output passed its bound. The first time, drop
 * what it has not started reading and queue a fresh snapshot; if it
 * overflows again without reading anything since, drop it.
 */
static void
sub_overflow(struct subscriber *s)
{
	char	*nl;
	size_t	 keep;

	if (s->resynced) {
		atomic_fetch_add(&counters.subscribers_dropped, 1);
		log_info("event=subscriber-dropped fd=%d uid=%ld reason=lagging "
		    "unread_bytes=%zu", s->fd, (long)s->uid,
		    s->outlen - s->outoff);
		s->closing = 2;
		return;
	}
	/* Keep the line being sent so the stream stays whole lines. */
	keep = s->outoff;
	if (keep > 0 && s->out[keep - 1] != '\n' &&
	    (nl = memchr(s->out + keep, '\n', s->outlen - keep)) != NULL)
		keep = (size_t)(nl - s->out) + 1;
	s->outlen = keep;
	s->resynced = 1;
	atomic_fetch_add(&counters.subscribers_resynced, 1);
	log_info("event=subscriber-resync fd=%d uid=%ld", s->fd, (long)s->uid);
	sub_error(s, "resync: you fell more than %lld bytes behind; a fresh "
	    "snapshot follows", conf.stats_buffer);
	sub_snapshot(s);
}

/* Writes what the socket takes now; never blocks. */
static void
sub_flush(struct subscriber *s)
{
	ssize_t	n;
	size_t	chunk;

	while (s->outoff < s->outlen) {
		chunk = s->outlen - s->outoff;
		if (chunk > WRITE_CHUNK)
			chunk = WRITE_CHUNK;
		n = send(s->fd, s->out + s->outoff, chunk, MSG_NOSIGNAL);
		if (n > 0) {
			s->outoff += (size_t)n;
			s->resynced = 0;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		s->closing = 2;
		return;
	}
	s->outoff = s->outlen = 0;
	if (s->limit > (size_t)conf.stats_buffer)
		s->limit = (size_t)conf.stats_buffer;
}

/* Sends one message to every watcher, encoded once. */
static void
watchers_send(const struct proto_msg *m)
{
	char	*line;
	size_t	 len, i;

	if (nwatchers == 0 || (line = proto_encode(m, &len)) == NULL)
		return;
	for (i = 0; i < nsubs; i++)
		if (subs[i]->watching)
			sub_send(subs[i], line, len);
	free(line);
}

/* Silently aligns the view with the registry (no watcher was there). */
static void
view_reset(void)
{
	struct slot	*sl;
	size_t		 i;

	for (i = 0; i < registry_size(); i++) {
		sl = registry_slot(i);
		pthread_mutex_lock(&sl->lock);
		views[i].id = sl->in_use ? sl->info.id : 0;
		views[i].version = atomic_load(&sl->version);
		pthread_mutex_unlock(&sl->lock);
		views[i].bytes_in = atomic_load(&sl->bytes_in);
		views[i].bytes_out = atomic_load(&sl->bytes_out);
	}
	view_closed_seq = registry_closed_seq();
}

/*
 * Compares the registry with the view and sends watchers what changed:
 * close events from the closed ring first, then open events for new
 * sessions and updates for changed ones. Byte counts change with every
 * echoed record and do not wake the publisher; they go out on the
 * counters tick (tick set), so once per interval per session.
 */
static void
view_scan(int tick)
{
	struct proto_msg	*m;
	struct slot		*sl;
	size_t			 i, n;
	unsigned		 version;
	uint64_t		 bin, bout;

	last_scan_ms = time_mono_ms();
	if (nwatchers == 0)
		return;
	if ((m = malloc(sizeof(*m))) == NULL)
		return;
	while (registry_closed_copy(&view_closed_seq, UINT64_MAX,
	    &m->u.session, 1) == 1) {
		m->type = PROTO_CLOSE;
		m->u.session.fields = PROTO_F_ALL;
		watchers_send(m);
	}
	n = registry_size();
	for (i = 0; i < n; i++) {
		sl = registry_slot(i);
		version = atomic_load(&sl->version);
		if (version == views[i].version && (views[i].id == 0 || !tick))
			continue;
		if (!registry_read(sl, &m->u.session, &version)) {
			views[i].id = 0;
			views[i].version = version;
			continue;
		}
		bin = m->u.session.bytes_in;
		bout = m->u.session.bytes_out;
		if (views[i].id != m->u.session.id) {
			m->type = PROTO_OPEN;
			m->u.session.fields = PROTO_F_ALL & ~PROTO_F_END;
		} else if (version != views[i].version) {
			m->type = PROTO_UPDATE;
			m->u.session.fields = PROTO_F_STATE | PROTO_F_TLS |
			    PROTO_F_PEER_CERT | PROTO_F_BYTES |
			    PROTO_F_ACTIVITY;
		} else if (bin != views[i].bytes_in ||
		    bout != views[i].bytes_out) {
			m->type = PROTO_UPDATE;
			m->u.session.fields = PROTO_F_BYTES | PROTO_F_ACTIVITY;
		} else
			continue;
		views[i].id = m->u.session.id;
		views[i].version = version;
		views[i].bytes_in = bin;
		views[i].bytes_out = bout;
		watchers_send(m);
	}
	free(m);
}

/*
 * Queues a snapshot for one subscriber: open sessions (from the view when
 * it is watched, so later events follow on from it), recent closes,
 * complete counters and "end". The snapshot may exceed the bound; what
 * follows it may add --stats-buffer bytes to it before the subscriber
 * has to have read some.
 */
static void
sub_snapshot(struct subscriber *s)
{
	struct proto_msg	*m;
	size_t			 i, n;
	uint64_t		 from, to;

	if ((m = malloc(sizeof(*m))) == NULL)
		return;
	/*
	 * The snapshot itself is bounded by the slots and the history, not
	 * by --stats-buffer; what follows it gets --stats-buffer again.
	 */
	s->limit = SIZE_MAX;
	n = registry_size();
	for (i = 0; i < n; i++) {
		/* A watcher is told only of what its view holds. */
		if (!registry_read(registry_slot(i), &m->u.session, NULL) ||
		    (s->watching && views[i].id != m->u.session.id))
			continue;
		m->type = PROTO_SESSION;
		m->u.session.fields = PROTO_F_ALL & ~PROTO_F_END;
		sub_msg(s, m);
	}
	/* The ring may hold more than --history; list the last history. */
	to = s->watching ? view_closed_seq : registry_closed_seq();
	from = to > (uint64_t)conf.history ? to - (uint64_t)conf.history : 0;
	while (registry_closed_copy(&from, to, &m->u.session, 1) == 1) {
		m->type = PROTO_CLOSED;
		m->u.session.fields = PROTO_F_ALL;
		sub_msg(s, m);
	}
	m->type = PROTO_COUNTERS;
	registry_counters(&m->u.counters);
	sub_msg(s, m);
	m->type = PROTO_END;
	sub_msg(s, m);
	free(m);
	s->limit = s->outlen - s->outoff + (size_t)conf.stats_buffer;
}

static void
sub_command(struct subscriber *s, const char *line, size_t len)
{
	struct proto_command	 cmd;
	struct proto_msg	*m;
	char			 err[PROTO_TEXT_MAX];

	if (proto_command_parse(line, len, &cmd, err, sizeof(err)) == -1) {
		sub_error(s, "%s", err);
		return;
	}
	switch (cmd.cmd) {
	case PROTO_CMD_SNAPSHOT:
		sub_snapshot(s);
		break;
	case PROTO_CMD_WATCH:
		if (s->watching) {
			sub_error(s, "already watching");
			break;
		}
		if (nwatchers == 0)
			view_reset();
		else
			view_scan(0);
		s->watching = 1;
		nwatchers++;
		sub_snapshot(s);
		break;
	case PROTO_CMD_KILL:
		if (!s->may_kill) {
			sub_error(s, "permission denied: kill needs uid %ld "
			    "(the daemon's) or root; you are uid %ld",
			    (long)geteuid(), (long)s->uid);
			break;
		}
		if (registry_stop(cmd.id, STOP_KILLED) == -1) {
			sub_error(s, "kill: no open session %llu",
			    (unsigned long long)cmd.id);
			break;
		}
		log_info("event=kill id=%llu by_uid=%ld",
		    (unsigned long long)cmd.id, (long)s->uid);
		if ((m = calloc(1, sizeof(*m))) == NULL)
			break;
		m->type = PROTO_OK;
		snprintf(m->u.ok.command, sizeof(m->u.ok.command), "kill");
		m->u.ok.id = cmd.id;
		sub_msg(s, m);
		free(m);
		break;
	}
}

/*
 * Reads commands; a line longer than PROTO_COMMAND_MAX is cut: the rest
 * up to its newline is discarded, counted and answered with one error.
 */
static void
sub_read(struct subscriber *s)
{
	char	 buf[8192], *nl;
	ssize_t	 n;
	size_t	 i, start;

	n = recv(s->fd, buf, sizeof(buf), 0);
	if (n == 0) {
		/*
		 * A half-close ("echo snapshot | socat ...") still wants
		 * its answer: a watcher goes on watching, anyone else is
		 * closed once what is queued has been sent.
		 */
		s->eof = 1;
		if (!s->watching)
			s->closing = 1;
		return;
	}
	if (n == -1 && errno != EAGAIN && errno != EINTR &&
	    errno != EWOULDBLOCK) {
		s->closing = 2;
		return;
	}
	if (n < 0)
		return;
	start = 0;
	for (i = 0; i < (size_t)n; i = start) {
		nl = memchr(buf + start, '\n', (size_t)n - start);
		if (s->discarding) {
			if (nl == NULL)
				return;
			s->discarding = 0;
			start = (size_t)(nl - buf) + 1;
			continue;
		}
		if (nl == NULL) {
			if (s->inlen + (size_t)n - start > PROTO_COMMAND_MAX) {
				sub_oversized(s);
				s->discarding = 1;
				return;
			}
			memcpy(s->in + s->inlen, buf + start,
			    (size_t)n - start);
			s->inlen += (size_t)n - start;
			return;
		}
		if (s->inlen + (size_t)(nl - buf) - start >
		    PROTO_COMMAND_MAX)
			sub_oversized(s);
		else {
			memcpy(s->in + s->inlen, buf + start,
			    (size_t)(nl - buf) - start);
			s->inlen += (size_t)(nl - buf) - start;
			if (s->inlen > 0)
				sub_command(s, s->in, s->inlen);
			s->inlen = 0;
		}
		start = (size_t)(nl - buf) + 1;
	}
}

/* Sends watchers the counter groups that changed since the last tick. */
static void
counters_tick(void)
{
	struct proto_msg	*m;
	struct proto_counters	*c, *l = &last_counters;

	last_counters_ms = time_mono_ms();
	if (nwatchers == 0 || (m = malloc(sizeof(*m))) == NULL)
		return;
	m->type = PROTO_COUNTERS;
	c = &m->u.counters;
	registry_counters(c);
	c->fields = 0;
	if (c->accepted != l->accepted)
		c->fields |= PROTO_C_ACCEPTED;
	if (c->active != l->active)
		c->fields |= PROTO_C_ACTIVE;
	if (c->rejected != l->rejected)
		c->fields |= PROTO_C_REJECTED;
	if (c->bytes_in != l->bytes_in || c->bytes_out != l->bytes_out)
		c->fields |= PROTO_C_BYTES;
	if (c->subscribers != l->subscribers ||
	    c->subscribers_dropped != l->subscribers_dropped ||
	    c->subscribers_resynced != l->subscribers_resynced ||
	    c->commands_oversized != l->commands_oversized)
		c->fields |= PROTO_C_SUBSCRIBERS;
	if (memcmp(&c->handshake_failures, &l->handshake_failures,
	    sizeof(c->handshake_failures)) != 0)
		c->fields |= PROTO_C_HS_FAILURES;
	if (memcmp(&c->closes, &l->closes, sizeof(c->closes)) != 0)
		c->fields |= PROTO_C_CLOSES;
	if (memcmp(&c->versions, &l->versions, sizeof(c->versions)) != 0)
		c->fields |= PROTO_C_VERSIONS;
	if (memcmp(&c->ciphers, &l->ciphers, sizeof(c->ciphers)) != 0)
		c->fields |= PROTO_C_CIPHERS;
	*l = *c;
	watchers_send(m);
	free(m);
}

static void
reload_tick(void)
{
	struct proto_msg	*m;
	int			 pending;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return;
	pthread_mutex_lock(&reload_lock);
	pending = reload_pending;
	reload_pending = 0;
	m->type = PROTO_RELOAD;
	m->u.reload.ok = reload_ok;
	memcpy(m->u.reload.message, reload_msg, sizeof(m->u.reload.message));
	pthread_mutex_unlock(&reload_lock);
	if (pending)
		watchers_send(m);
	free(m);
}

static void *
publisher_main(void *arg)
{
	struct pollfd	*pfd;
	size_t		 i, n;
	uint64_t	 v;
	int64_t		 now, wait_ms;
	int		 stop = 0;

	pthread_setname_np(pthread_self(), "stats");
	if ((pfd = calloc(SUBSCRIBERS_MAX + 3, sizeof(*pfd))) == NULL)
		fatalx("out of memory for the publisher");
	while (!stop) {
		pfd[0].fd = notify_fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = stop_fd;
		pfd[1].events = POLLIN;
		pfd[2].fd = stats_fd;
		pfd[2].events = POLLIN;
		n = nsubs;
		for (i = 0; i < n; i++) {
			pfd[3 + i].fd = subs[i]->fd;
			pfd[3 + i].events = subs[i]->eof ? 0 : POLLIN;
			if (subs[i]->outoff < subs[i]->outlen)
				pfd[3 + i].events |= POLLOUT;
		}
		wait_ms = conf.counters_ms - (time_mono_ms() - last_counters_ms);
		if (wait_ms < 0)
			wait_ms = 0;
		if (poll(pfd, 3 + n, (int)wait_ms) == -1 && errno != EINTR) {
			log_warn("event=poll-failed where=publisher");
			usleep(10000);
			continue;
		}
		if (pfd[1].revents)
			stop = 1;
		if (pfd[0].revents & POLLIN) {
			if (read(notify_fd, &v, sizeof(v)) == -1) {
				/* nothing pending after all */
			}
			reload_tick();
			/* Coalesce bursts: at most one scan per SCAN_MIN_MS. */
			now = time_mono_ms();
			if (now - last_scan_ms < SCAN_MIN_MS)
				usleep((useconds_t)(SCAN_MIN_MS -
				    (now - last_scan_ms)) * 1000);
			view_scan(0);
		}
		for (i = 0; i < n; i++) {
			if (!subs[i]->eof &&
			    (pfd[3 + i].revents & (POLLIN | POLLHUP | POLLERR)))
				sub_read(subs[i]);
			else if (pfd[3 + i].revents & POLLERR)
				subs[i]->closing = 2;
			if (subs[i]->closing != 2)
				sub_flush(subs[i]);
		}
		/* A crowd connecting at once must not wait a poll round
		 * each (or overflow the backlog): take a batch. */
		if (pfd[2].revents & POLLIN)
			for (i = 0; i < ACCEPT_BATCH && sub_accept() == 0; i++)
				;
		if (time_mono_ms() - last_counters_ms >= conf.counters_ms) {
			view_scan(1);
			counters_tick();
		}
		for (i = 0; i < nsubs; i++) {
			if (subs[i]->closing != 2)
				sub_flush(subs[i]);
			if (subs[i]->closing == 2 || (subs[i]->closing &&
			    subs[i]->outoff == subs[i]->outlen)) {
				sub_free(subs[i]);
				i--;
			}
		}
	}
	free(pfd);
	return NULL;
}

int
publisher_start(void)
{
	last_counters_ms = time_mono_ms();
	if (pthread_create(&publisher_thread, NULL, publisher_main, NULL) !=
	    0)
		return -1;
	publisher_running = 1;
	return 0;
}

/*
 * Stops the publisher: the last closes reach watchers, every subscriber
 * gets "bye", and the socket file is removed.
 */
void
publisher_stop(void)
{
	struct proto_msg	*m;
	uint64_t		 one = 1;
	size_t			 i;

	if (publisher_running) {
		if (write(stop_fd, &one, sizeof(one)) == -1)
			log_warn("event=publisher-wake-failed");
		pthread_join(publisher_thread, NULL);
		publisher_running = 0;
	}
	view_scan(1);
	if ((m = calloc(1, sizeof(*m))) != NULL) {
		m->type = PROTO_BYE;
		snprintf(m->u.error.message, sizeof(m->u.error.message),
		    "shutdown");
		for (i = 0; i < nsubs; i++) {
			sub_msg(subs[i], m);
			/* Best effort: a subscriber that does not read
			 * loses the tail. */
			sub_flush(subs[i]);
		}
		free(m);
	}
	while (nsubs > 0)
		sub_free(subs[0]);
	if (stats_fd != -1)
		close(stats_fd);
	if (stats_path[0] != '\0')
		unlink(stats_path);
}
