/*
 * The feed: tlsmon's side of the stats socket. It connects, reads JSON
 * lines without blocking into a bounded buffer, decodes each with
 * proto_decode and hands it to a callback; it sends commands; and when the
 * daemon goes away it remembers why and when to try again, backing off
 * from 0.25 s to 5 s.
 *
 * A line longer than FEED_LINE_MAX is dropped whole and counted, as is one
 * that does not decode: a confused daemon must not take the monitor down.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "monitor/tlsmon.h"

/* Bytes read per feed_read call, so that keys and redraws are not starved. */
#define FEED_READ_BUDGET	(1024 * 1024)

static void	feed_lines(struct feed *, feed_cb, void *);

void
feed_init(struct feed *f, const char *path)
{
	memset(f, 0, sizeof(*f));
	f->path = path;
	f->fd = -1;
	f->backoff_ms = FEED_BACKOFF_MIN_MS;
	f->buf = xreallocarray(NULL, FEED_LINE_MAX, 1);
}

void
feed_free(struct feed *f)
{
	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
	free(f->buf);
	f->buf = NULL;
}

/*
 * The daemon's default socket: $XDG_RUNTIME_DIR/tlsechod.sock for a user
 * with a runtime folder, /run/tlsechod/stats.sock for root.
 */
const char *
feed_default_path(void)
{
	static char	 path[sizeof(((struct sockaddr_un *)0)->sun_path) + 64];
	const char	*xdg = getenv("XDG_RUNTIME_DIR");

	if (xdg != NULL && xdg[0] != '\0' && geteuid() != 0) {
		snprintf(path, sizeof(path), "%s/tlsechod.sock", xdg);
		return path;
	}
	return "/run/tlsechod/stats.sock";
}

/*
 * Says why path cannot be opened, for a human: for "permission denied",
 * which group owns the socket and that joining it helps.
 */
static void
feed_explain(const char *path, int err, char *buf, size_t len)
{
	struct stat	 st;
	struct group	*gr;
	struct passwd	*pw;
	const char	*user;
	char		 gname[64];

	switch (err) {
	case EACCES:
	case EPERM:
		if (stat(path, &st) == -1) {
			snprintf(buf, len, "%s: %s (a folder on the way is "
			    "not open to you)", path, strerror(err));
			return;
		}
		if ((gr = getgrgid(st.st_gid)) != NULL)
			snprintf(gname, sizeof(gname), "%s", gr->gr_name);
		else
			snprintf(gname, sizeof(gname), "%u",
			    (unsigned)st.st_gid);
		pw = getpwuid(getuid());
		user = pw != NULL ? pw->pw_name : "$USER";
		snprintf(buf, len, "%s: %s; the socket belongs to group %s "
		    "(mode %04o): join it (sudo usermod -aG %s %s) and log in "
		    "again", path, strerror(err), gname,
		    (unsigned)(st.st_mode & 07777), gname, user);
		return;
	case ENOENT:
		snprintf(buf, len, "%s: %s (is tlsechod running? -s PATH "
		    "picks another socket)", path, strerror(err));
		return;
	case ECONNREFUSED:
		snprintf(buf, len, "%s: %s (nothing listens: tlsechod is not "
		    "running)", path, strerror(err));
		return;
	default:
		snprintf(buf, len, "%s: %s", path, strerror(err));
		return;
	}
}

/*
 * Connects to the socket without blocking later reads. Returns 0, or -1
 * with errno set and a sentence in err.
 */
int
feed_connect(struct feed *f, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	int			 fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(f->path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", f->path);
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, f->path, strlen(f->path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		saved = errno;
		snprintf(err, errlen, "socket: %s", strerror(saved));
		errno = saved;
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		feed_explain(f->path, saved, err, errlen);
		errno = saved;
		return -1;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
		saved = errno;
		close(fd);
		snprintf(err, errlen, "fcntl: %s", strerror(saved));
		errno = saved;
		return -1;
	}
	f->fd = fd;
	f->len = 0;
	f->discarding = 0;
	f->up = 0;
	return 0;
}

/* Closes the connection and schedules the next attempt. */
void
feed_down(struct feed *f, const char *reason, int64_t now)
{
	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
	f->up = 0;
	f->len = 0;
	f->discarding = 0;
	snprintf(f->reason, sizeof(f->reason), "%s", reason);
	if (f->down_since == 0)
		f->down_since = now;
	f->retry_at = now + f->backoff_ms;
	f->backoff_ms *= 2;
	if (f->backoff_ms > FEED_BACKOFF_MAX_MS)
		f->backoff_ms = FEED_BACKOFF_MAX_MS;
}

/*
 * Reads what is there and hands every complete line, decoded, to cb.
 * Returns 0 while connected, -1 once the daemon has gone (the feed is
 * then down, with the reason recorded).
 */
int
feed_read(struct feed *f, feed_cb cb, void *arg)
{
	size_t	 budget = 0;
	ssize_t	 n;
	char	 why[256];

	if (f->fd == -1)
		return -1;
	while (budget < FEED_READ_BUDGET) {
		n = read(f->fd, f->buf + f->len, FEED_LINE_MAX - f->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			snprintf(why, sizeof(why), "%s", n == 0 ?
			    "the daemon closed the connection" :
			    strerror(errno));
			feed_down(f, why, time_mono_ms());
			return -1;
		}
		budget += (size_t)n;
		f->len += (size_t)n;
		feed_lines(f, cb, arg);
		if (f->fd == -1)	/* the callback gave up */
			return -1;
	}
	return 0;
}

/* Decodes the complete lines in the buffer; keeps a partial one. */
static void
feed_lines(struct feed *f, feed_cb cb, void *arg)
{
	static struct proto_msg	 msg;
	char			 err[256];
	char			*nl;
	size_t			 start = 0, n;

	while (start < f->len &&
	    (nl = memchr(f->buf + start, '\n', f->len - start)) != NULL) {
		n = (size_t)(nl - (f->buf + start));
		if (f->discarding)
			f->discarding = 0;
		else if (n > 0) {
			if (proto_decode(f->buf + start, n, &msg, err,
			    sizeof(err)) == -1)
				f->bad_lines++;
			else {
				if (msg.type == PROTO_HELLO) {
					f->up = f->ever_up = 1;
					f->down_since = 0;
					f->backoff_ms = FEED_BACKOFF_MIN_MS;
				}
				cb(arg, &msg);
			}
		}
		start += n + 1;
		if (f->fd == -1)
			return;
	}
	if (start == 0 && f->len == FEED_LINE_MAX) {
		/* No end in sight: drop this line up to its newline. */
		if (!f->discarding)
			f->long_lines++;
		f->discarding = 1;
		f->len = 0;
		return;
	}
	memmove(f->buf, f->buf + start, f->len - start);
	f->len -= start;
}

/* Sends one command as a bare-word line. Returns 0 or -1. */
int
feed_send_cmd(struct feed *f, enum proto_cmd cmd, uint64_t id)
{
	struct proto_command	 c;
	char			 line[128];
	size_t			 off = 0, len;
	ssize_t			 n;

	if (f->fd == -1)
		return -1;
	memset(&c, 0, sizeof(c));
	c.cmd = cmd;
	c.id = id;
	if (proto_command_format(&c, line, sizeof(line)) < 0)
		return -1;
	len = strlen(line);
	while (off < len) {
		n = send(f->fd, line + off, len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}
