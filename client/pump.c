/*
 * The copy loop, like `nc -c`: stdin goes to the server, what the server
 * sends goes to stdout.
 *
 * TLS has no half-close, so the end of stdin sends nothing: the loop keeps
 * reading until the server closes, or until the server has been quiet for
 * --wait after stdin ended; then it sends close_notify. When the server
 * closes, the loop ends at once, even while stdin is still open.
 *
 * The socket is non-blocking. libtls may hold decrypted data that poll()
 * cannot see, so tls_read() is called until it asks for TLS_WANT_POLLIN
 * before polling again. tls_read() and tls_write() each remember what they
 * wait for, since either may need the other direction.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <tls.h>

#include "common/util.h"
#include "client/tlsecho.h"

struct pump {
	struct conn	*c;
	char		 in[TLSECHO_BUF_SIZE];	/* stdin, not yet sent */
	size_t		 in_off;
	size_t		 in_len;
	char		 out[TLSECHO_BUF_SIZE];	/* from the server */
	int		 stdin_open;
	short		 read_want;	/* POLLIN or POLLOUT for tls_read */
	short		 write_want;	/* POLLIN or POLLOUT for tls_write */
	int64_t		 quiet_since;	/* last data in either direction */
};

static int	pump_from_server(struct pump *, char *, size_t);
static int	pump_to_server(struct pump *, char *, size_t);
static int	pump_from_stdin(struct pump *, char *, size_t);
static int	pump_write_stdout(const char *, size_t, char *, size_t);

/*
 * Runs the loop on an open connection. Returns 0 when the session ended
 * cleanly (the server closed, or --wait passed after stdin ended and
 * close_notify went out), or -1 with the reason in err.
 */
int
pump_run(struct conn *c, long long wait_ms, char *err, size_t errlen)
{
	static struct pump	 p;	/* 32 KiB of buffers: not on the stack */
	struct pollfd		 pfd[2];
	char			 ignored[TLSECHO_ERR_MAX];
	int64_t			 left;
	int			 n, timeout;

	memset(&p, 0, sizeof(p));
	p.c = c;
	p.stdin_open = 1;
	p.read_want = POLLIN;
	p.write_want = POLLOUT;
	p.quiet_since = time_mono_ms();

	for (;;) {
		n = pump_from_server(&p, err, errlen);
		if (n == -1)
			return -1;
		if (n == 1) {
			/* The server closed: answer its close_notify. */
			(void)conn_close(c, ignored, sizeof(ignored));
			return 0;
		}
		if (pump_to_server(&p, err, errlen) == -1)
			return -1;

		timeout = -1;
		if (!p.stdin_open && p.in_len == 0) {
			left = wait_ms - (time_mono_ms() - p.quiet_since);
			if (left <= 0)
				return conn_close(c, err, errlen);
			timeout = left > 1000000 ? 1000000 : (int)left;
		}

		pfd[0].fd = p.stdin_open && p.in_len == 0 ? STDIN_FILENO : -1;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		pfd[1].fd = c->fd;
		pfd[1].events = p.read_want | (p.in_len > 0 ? p.write_want : 0);
		pfd[1].revents = 0;
		if (poll(pfd, 2, timeout) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		if (pfd[0].revents != 0 &&
		    pump_from_stdin(&p, err, errlen) == -1)
			return -1;
	}
}

/*
 * Reads from the server until libtls has nothing more, copying to stdout.
 * Returns 1 when the server closed, 0 when more may come, -1 on error.
 */
static int
pump_from_server(struct pump *p, char *err, size_t errlen)
{
	ssize_t	n;

	for (;;) {
		n = tls_read(p->c->ctx, p->out, sizeof(p->out));
		if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
			p->read_want = n == TLS_WANT_POLLIN ? POLLIN : POLLOUT;
			return 0;
		}
		if (n == -1) {
			conn_tls_error(p->c, "reading from", err, errlen);
			return -1;
		}
		if (n == 0)
			return 1;
		p->quiet_since = time_mono_ms();
		if (pump_write_stdout(p->out, (size_t)n, err, errlen) == -1)
			return -1;
	}
}

/* Sends what is left of the stdin buffer, as far as the socket takes it. */
static int
pump_to_server(struct pump *p, char *err, size_t errlen)
{
	ssize_t	n;

	while (p->in_len > 0) {
		n = tls_write(p->c->ctx, p->in + p->in_off, p->in_len);
		if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
			p->write_want = n == TLS_WANT_POLLIN ? POLLIN : POLLOUT;
			return 0;
		}
		if (n == -1) {
			conn_tls_error(p->c, "writing to", err, errlen);
			return -1;
		}
		p->in_off += (size_t)n;
		p->in_len -= (size_t)n;
		p->quiet_since = time_mono_ms();
	}
	p->in_off = 0;
	return 0;
}

/* One read(2) from stdin into the empty buffer; 0 bytes means EOF. */
static int
pump_from_stdin(struct pump *p, char *err, size_t errlen)
{
	ssize_t	n;

	n = read(STDIN_FILENO, p->in, sizeof(p->in));
	if (n == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		snprintf(err, errlen, "reading stdin failed: %s",
		    strerror(errno));
		return -1;
	}
	if (n == 0) {
		p->stdin_open = 0;
		p->quiet_since = time_mono_ms();
		return 0;
	}
	p->in_off = 0;
	p->in_len = (size_t)n;
	return 0;
}

/*
 * Writes all of buf to stdout across partial writes, waiting when stdout
 * is a non-blocking descriptor that is full.
 */
static int
pump_write_stdout(const char *buf, size_t len, char *err, size_t errlen)
{
	struct pollfd	pfd;
	ssize_t		n;

	while (len > 0) {
		n = write(STDOUT_FILENO, buf, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				pfd.fd = STDOUT_FILENO;
				pfd.events = POLLOUT;
				pfd.revents = 0;
				(void)poll(&pfd, 1, -1);
				continue;
			}
			snprintf(err, errlen, "writing stdout failed: %s",
			    strerror(errno));
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

