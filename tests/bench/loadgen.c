/*
 * loadgen: the benchmark harness's TLS client, on libtls and pthreads.
 *
 *   loadgen MODE HOST PORT [options]
 *
 * Modes:
 *   handshake  connect, full handshake, close_notify, wait for the
 *              server's close, repeat (a fresh context each time: no
 *              resumption)
 *   pingpong   kept connections, request/response of --size bytes;
 *              round trips per second and p50/p99 latency
 *   bulk       streams that write and read back at the same time on
 *              non-blocking sockets, every byte checked
 *   idle       open --conns sessions (each echoes --size bytes once),
 *              hold them for --duration seconds, then close them
 *
 * Every loop is bounded: by --duration (seconds) or --count (operations
 * in all), and --count runs stop at --duration too. One key=value summary
 * line goes to stdout; idle mode also says "event=idle-ready" on stderr
 * once every session is open, so a harness can measure while they are
 * held.
 */
#include <sys/socket.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tls.h>

#define PAT_LEN		65521		/* prime: chunks never line up */
#define CHUNK		16384		/* one TLS record */
#define THREADS_MAX	1024
#define IO_TIMEOUT_MS	10000

enum mode {
	MODE_HANDSHAKE,
	MODE_PINGPONG,
	MODE_BULK,
	MODE_IDLE
};

/* Errors are counted by kind and printed as errors_<kind>=N. */
enum err_kind {
	E_CONNECT,
	E_HANDSHAKE,
	E_WRITE,
	E_READ,
	E_EOF,
	E_MISMATCH,
	E_TIMEOUT,
	E_CLOSE,
	E_MAX
};

static const char *err_names[E_MAX] = {
	"connect", "handshake", "write", "read", "eof", "mismatch",
	"timeout", "close"
};

struct samples {
	uint32_t	*v;		/* microseconds */
	size_t		 n, cap;
};

struct worker {
	pthread_t	 tid;
	int		 index;
	int		 nconns;	/* idle: sessions this thread opens */
	uint64_t	 ops;
	uint64_t	 bytes;		/* bulk: bytes read back and checked */
	uint64_t	 errors[E_MAX];
	struct samples	 lat;
	int		*fds;		/* idle: sessions held */
	int		 nfds;
};

static enum mode	 mode;
static const char	*host, *port;
static int		 nthreads = 0, nconns = 0;
static double		 duration_s = 5;
static long long	 count = -1;
static size_t		 size = 0;
static int		 insecure;
static const char	*ca_file;
static const char	*protocols = "tlsv1.3";
static const char	*curves = "X25519,P-256";
static struct tls_config *tlscfg;
static struct addrinfo	*addrs;
static unsigned char	*pat;		/* PAT_LEN + CHUNK bytes */

static atomic_llong	 ops_claimed;
static atomic_int	 stop;
static atomic_int	 idle_open;
static pthread_mutex_t	 seen_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int	 seen;
static char		 seen_version[32] = "-", seen_cipher[64] = "-";
static int64_t		 t_end_ms;

static int64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t
now_ms(void)
{
	return now_us() / 1000;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen handshake|pingpong|bulk|idle HOST PORT\n"
	    "    [--threads N] [--conns N] [--duration S] [--count N]\n"
	    "    [--size BYTES] [--insecure | --ca FILE]\n"
	    "    [--protocols SPEC] [--curves LIST]\n"
	    "  handshake: --threads clients in a loop (default 2)\n"
	    "  pingpong, bulk: --conns connections, a thread each "
	    "(default 4)\n"
	    "  idle: --conns sessions opened by --threads threads, held "
	    "--duration s\n"
	    "  --size: pingpong request size (64), idle echo size (16)\n");
	exit(2);
}

/* Claims one operation under --count; 0 when the run is over. */
static int
claim(void)
{
	if (atomic_load(&stop))
		return 0;
	if (now_ms() >= t_end_ms) {
		atomic_store(&stop, 1);
		return 0;
	}
	if (count >= 0 && atomic_fetch_add(&ops_claimed, 1) >= count) {
		atomic_store(&stop, 1);
		return 0;
	}
	return 1;
}

static void
sample_add(struct samples *s, uint32_t us)
{
	uint32_t	*nv;

	if (s->n == s->cap) {
		if (s->cap >= (1u << 24))
			return;		/* enough for any percentile */
		s->cap = s->cap ? s->cap * 2 : 4096;
		if ((nv = realloc(s->v, s->cap * sizeof(*nv))) == NULL) {
			s->cap = s->n;
			return;
		}
		s->v = nv;
	}
	s->v[s->n++] = us;
}

/* Connects a blocking TCP socket with I/O timeouts; -1 on failure. */
static int
tcp_connect(void)
{
	struct addrinfo	*ai;
	struct timeval	 tv = { IO_TIMEOUT_MS / 1000, 0 };
	int		 fd, one = 1;

	for (ai = addrs; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			return fd;
		close(fd);
	}
	return -1;
}

/*
 * Connects and completes a full handshake on a blocking socket. Returns
 * the context and sets *fdp, or NULL with the error counted.
 */
static struct tls *
tls_open(struct worker *w, int *fdp)
{
	struct tls	*t;
	int64_t		 t0;
	int		 fd, r;

	if ((fd = tcp_connect()) == -1) {
		w->errors[E_CONNECT]++;
		return NULL;
	}
	if ((t = tls_client()) == NULL || tls_configure(t, tlscfg) == -1 ||
	    tls_connect_socket(t, fd, host) == -1) {
		w->errors[E_HANDSHAKE]++;
		goto fail;
	}
	/* Blocking socket: a WANT means SO_RCVTIMEO/SO_SNDTIMEO fired. */
	t0 = now_ms();
	while ((r = tls_handshake(t)) == TLS_WANT_POLLIN ||
	    r == TLS_WANT_POLLOUT)
		if (now_ms() - t0 >= IO_TIMEOUT_MS)
			break;
	if (r != 0) {
		if (r == -1) {
			if (w->errors[E_HANDSHAKE]++ == 0)
				fprintf(stderr, "loadgen: handshake: %s\n",
				    tls_error(t));
		} else
			w->errors[E_TIMEOUT]++;
		goto fail;
	}
	if (!atomic_load(&seen)) {
		/* What was negotiated, for the summary line. */
		pthread_mutex_lock(&seen_lock);
		atomic_store(&seen, 1);
		snprintf(seen_version, sizeof(seen_version), "%s",
		    tls_conn_version(t) ? tls_conn_version(t) : "?");
		snprintf(seen_cipher, sizeof(seen_cipher), "%s",
		    tls_conn_cipher(t) ? tls_conn_cipher(t) : "?");
		pthread_mutex_unlock(&seen_lock);
	}
	*fdp = fd;
	return t;
fail:
	tls_free(t);
	close(fd);
	return NULL;
}

/* Writes all of buf on a blocking session; -1 with the error counted. */
static int
write_all(struct worker *w, struct tls *t, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	int64_t			 t0 = now_ms();
	ssize_t			 n;

	while (len > 0) {
		n = tls_write(t, p, len);
		if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
			if (now_ms() - t0 >= IO_TIMEOUT_MS) {
				w->errors[E_TIMEOUT]++;
				return -1;
			}
			continue;
		}
		if (n < 0) {
			w->errors[E_WRITE]++;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly len bytes on a blocking session and checks them. */
static int
read_check(struct worker *w, struct tls *t, unsigned char *buf,
    const unsigned char *want, size_t len)
{
	int64_t	t0 = now_ms();
	size_t	got = 0;
	ssize_t	n;

	while (got < len) {
		n = tls_read(t, buf + got, len - got);
		if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
			/* Blocking socket: SO_RCVTIMEO fired (libtls
			 * clears errno, so look at the clock). */
			if (now_ms() - t0 >= IO_TIMEOUT_MS) {
				w->errors[E_TIMEOUT]++;
				return -1;
			}
			continue;
		}
		if (n == 0) {
			w->errors[E_EOF]++;
			return -1;
		}
		if (n < 0) {
			w->errors[E_READ]++;
			return -1;
		}
		got += (size_t)n;
	}
	if (memcmp(buf, want, len) != 0) {
		w->errors[E_MISMATCH]++;
		return -1;
	}
	return 0;
}

/* Sends close_notify and waits (bounded) for the server to close TCP. */
static void
tls_finish(struct worker *w, struct tls *t, int fd)
{
	char	b[256];
	int	i;

	if (tls_close(t) == -1 && w->errors[E_CLOSE]++ == 0)
		fprintf(stderr, "loadgen: close: %s\n", tls_error(t));
	tls_free(t);
	shutdown(fd, SHUT_WR);
	for (i = 0; i < 64; i++)
		if (recv(fd, b, sizeof(b), 0) <= 0)
			break;
	close(fd);
}

static void
run_handshake(struct worker *w)
{
	struct tls	*t;
	int64_t		 t0;
	int		 fd;

	while (claim()) {
		t0 = now_us();
		if ((t = tls_open(w, &fd)) == NULL)
			continue;
		tls_finish(w, t, fd);
		sample_add(&w->lat, (uint32_t)(now_us() - t0));
		w->ops++;
	}
}

static void
run_pingpong(struct worker *w)
{
	struct tls	*t;
	unsigned char	*buf;
	const unsigned char *req;
	int64_t		 t0;
	int		 fd;

	if ((buf = malloc(size)) == NULL)
		return;
	if ((t = tls_open(w, &fd)) == NULL) {
		free(buf);
		return;
	}
	req = pat + (size_t)w->index * 7919 % PAT_LEN;
	while (claim()) {
		t0 = now_us();
		if (write_all(w, t, req, size) == -1 ||
		    read_check(w, t, buf, req, size) == -1)
			break;
		sample_add(&w->lat, (uint32_t)(now_us() - t0));
		w->ops++;
	}
	tls_finish(w, t, fd);
	free(buf);
}

/*
 * One bulk stream on a non-blocking socket: writes 16 KiB chunks of the
 * pattern while reading the echo back and comparing every byte with what
 * was sent at that offset. After the time is up it stops writing and
 * drains what is in flight (bounded).
 */
static void
run_bulk(struct worker *w)
{
	struct tls	*t;
	struct pollfd	 pfd;
	unsigned char	*rbuf;
	uint64_t	 woff, roff;
	ssize_t		 n;
	size_t		 wlen = CHUNK;
	int64_t		 drain_end = 0, last_progress;
	int		 fd, progress, writing = 1, pending = 0, fl;

	if ((rbuf = malloc(CHUNK)) == NULL)
		return;
	if ((t = tls_open(w, &fd)) == NULL) {
		free(rbuf);
		return;
	}
	fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	woff = roff = (uint64_t)w->index * 7919;
	last_progress = now_ms();
	for (;;) {
		progress = 0;
		pfd.fd = fd;
		pfd.events = 0;
		/* A write that returned WANT must be repeated until it
		 * completes, or a partial record would stay behind. */
		if (writing && !pending && !claim()) {
			writing = 0;
			drain_end = now_ms() + IO_TIMEOUT_MS;
		}
		if (writing) {
			/* Same pointer and length on every retry. */
			n = tls_write(t, pat + woff % PAT_LEN, wlen);
			pending = n == TLS_WANT_POLLOUT || n == TLS_WANT_POLLIN;
			if (n == TLS_WANT_POLLOUT)
				pfd.events |= POLLOUT;
			else if (n == TLS_WANT_POLLIN)
				pfd.events |= POLLIN;
			else if (n < 0) {
				w->errors[E_WRITE]++;
				break;
			} else {
				woff += (uint64_t)n;
				w->ops++;
				progress = 1;
			}
		}
		n = tls_read(t, rbuf, CHUNK);
		if (n == TLS_WANT_POLLIN)
			pfd.events |= POLLIN;
		else if (n == TLS_WANT_POLLOUT)
			pfd.events |= POLLOUT;
		else if (n == 0) {
			w->errors[E_EOF]++;
			break;
		} else if (n < 0) {
			w->errors[E_READ]++;
			break;
		} else {
			if (roff + (uint64_t)n > woff ||
			    memcmp(rbuf, pat + roff % PAT_LEN, (size_t)n) != 0) {
				w->errors[E_MISMATCH]++;
				break;
			}
			roff += (uint64_t)n;
			w->bytes += (uint64_t)n;
			progress = 1;
		}
		if (progress)
			last_progress = now_ms();
		if (!writing && roff == woff)
			break;
		if (!writing && now_ms() >= drain_end) {
			w->errors[E_TIMEOUT]++;
			break;
		}
		if (!progress) {
			if (now_ms() - last_progress > IO_TIMEOUT_MS) {
				w->errors[E_TIMEOUT]++;
				break;
			}
			poll(&pfd, 1, 100);
		}
	}
	fcntl(fd, F_SETFL, fl);
	tls_finish(w, t, fd);
	free(rbuf);
}

/*
 * Opens this thread's share of idle sessions: handshake, echo --size
 * bytes once so the server has seen data, then free the client context
 * and keep only the socket (10,000 client contexts would crowd the
 * machine the server is measured on).
 */
static void
run_idle(struct worker *w)
{
	struct tls	*t;
	unsigned char	 buf[4096];
	int		 fd, i;

	if ((w->fds = calloc((size_t)w->nconns, sizeof(int))) == NULL)
		return;
	for (i = 0; i < w->nconns && !atomic_load(&stop); i++) {
		if (now_ms() >= t_end_ms) {
			w->errors[E_TIMEOUT]++;
			break;
		}
		if ((t = tls_open(w, &fd)) == NULL)
			continue;
		if (size > 0 && (write_all(w, t, pat, size) == -1 ||
		    read_check(w, t, buf, pat, size) == -1)) {
			tls_free(t);
			close(fd);
			continue;
		}
		tls_free(t);
		w->fds[w->nfds++] = fd;
		w->ops++;
		atomic_fetch_add(&idle_open, 1);
	}
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	switch (mode) {
	case MODE_HANDSHAKE:
		run_handshake(w);
		break;
	case MODE_PINGPONG:
		run_pingpong(w);
		break;
	case MODE_BULK:
		run_bulk(w);
		break;
	case MODE_IDLE:
		run_idle(w);
		break;
	}
	return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static long long
num_arg(const char *opt, const char *s, long long min, long long max)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < min || v > max) {
		fprintf(stderr, "loadgen: %s %s: want a number in %lld..%lld\n",
		    opt, s, min, max);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	static struct worker	 ws[THREADS_MAX];
	struct addrinfo		 hints;
	struct samples		 all = { NULL, 0, 0 };
	uint64_t		 ops = 0, bytes = 0, errs[E_MAX] = { 0 };
	uint64_t		 errors = 0;
	int64_t			 t0, t1;
	double			 el, p50 = 0, p99 = 0;
	const char		*mname;
	char			*end;
	struct rlimit		 rl;
	const char		*pos[3];
	int			 i, k, gai, npos = 0;
	size_t			 j;

	/* A server that resets a session must not kill the client. */
	signal(SIGPIPE, SIG_IGN);

	/* Options may come before or after MODE HOST PORT. */
	for (i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strncmp(o, "--", 2) != 0) {
			if (npos == 3)
				usage();
			pos[npos++] = o;
			continue;
		}
		if (strcmp(o, "--insecure") == 0) {
			insecure = 1;
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (strcmp(o, "--threads") == 0)
			nthreads = (int)num_arg(o, v, 1, THREADS_MAX);
		else if (strcmp(o, "--conns") == 0)
			nconns = (int)num_arg(o, v, 1, 1000000);
		else if (strcmp(o, "--count") == 0)
			count = num_arg(o, v, 0, LLONG_MAX);
		else if (strcmp(o, "--size") == 0)
			size = (size_t)num_arg(o, v, 1, 4096);
		else if (strcmp(o, "--ca") == 0)
			ca_file = v;
		else if (strcmp(o, "--protocols") == 0)
			protocols = v;
		else if (strcmp(o, "--curves") == 0)
			curves = v;
		else if (strcmp(o, "--duration") == 0) {
			duration_s = strtod(v, &end);
			if (*end != '\0' || duration_s <= 0 ||
			    duration_s > 3600) {
				fprintf(stderr, "loadgen: --duration %s: want "
				    "seconds in (0, 3600]\n", v);
				return 2;
			}
		} else
			usage();
	}
	if (npos != 3)
		usage();
	mname = pos[0];
	if (strcmp(mname, "handshake") == 0)
		mode = MODE_HANDSHAKE;
	else if (strcmp(mname, "pingpong") == 0)
		mode = MODE_PINGPONG;
	else if (strcmp(mname, "bulk") == 0)
		mode = MODE_BULK;
	else if (strcmp(mname, "idle") == 0)
		mode = MODE_IDLE;
	else
		usage();
	host = pos[1];
	port = pos[2];
	if (!insecure && ca_file == NULL) {
		fprintf(stderr, "loadgen: say --ca FILE or --insecure\n");
		return 2;
	}
	switch (mode) {
	case MODE_HANDSHAKE:
		if (nthreads == 0)
			nthreads = nconns ? nconns : 2;
		nconns = nthreads;
		break;
	case MODE_PINGPONG:
	case MODE_BULK:
		if (nconns == 0)
			nconns = nthreads ? nthreads : 4;
		if (nconns > THREADS_MAX) {
			fprintf(stderr, "loadgen: at most %d connections\n",
			    THREADS_MAX);
			return 2;
		}
		nthreads = nconns;
		if (size == 0)
			size = 64;
		break;
	case MODE_IDLE:
		if (nconns == 0)
			nconns = 100;
		if (nthreads == 0)
			nthreads = 2;
		if (nthreads > nconns)
			nthreads = nconns;
		if (size == 0)
			size = 16;
		/* every held session is a descriptor */
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur < (rlim_t)nconns + 64) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
			getrlimit(RLIMIT_NOFILE, &rl);
			if (rl.rlim_cur < (rlim_t)nconns + 64) {
				fprintf(stderr, "loadgen: %d sessions need more "
				    "descriptors than ulimit -n allows "
				    "(%llu)\n", nconns,
				    (unsigned long long)rl.rlim_cur);
				return 2;
			}
		}
		break;
	}

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((gai = getaddrinfo(host, port, &hints, &addrs)) != 0) {
		fprintf(stderr, "loadgen: %s %s: %s\n", host, port,
		    gai_strerror(gai));
		return 2;
	}
	if ((pat = malloc(PAT_LEN + CHUNK)) == NULL)
		return 1;
	for (j = 0; j < PAT_LEN + CHUNK; j++)
		pat[j] = (unsigned char)((j % PAT_LEN) * 2654435761u >> 13);

	if ((tlscfg = tls_config_new()) == NULL)
		return 1;
	{
		uint32_t	proto;

		if (tls_config_parse_protocols(&proto, protocols) == -1 ||
		    tls_config_set_protocols(tlscfg, proto) == -1 ||
		    tls_config_set_ecdhecurves(tlscfg, curves) == -1) {
			fprintf(stderr, "loadgen: --protocols/--curves: %s\n",
			    tls_config_error(tlscfg));
			return 2;
		}
	}
	if (insecure) {
		tls_config_insecure_noverifycert(tlscfg);
		tls_config_insecure_noverifyname(tlscfg);
	} else if (tls_config_set_ca_file(tlscfg, ca_file) == -1) {
		fprintf(stderr, "loadgen: --ca %s: %s\n", ca_file,
		    tls_config_error(tlscfg));
		return 2;
	}

	t0 = now_us();
	t_end_ms = t0 / 1000 + (int64_t)(duration_s * 1000);
	if (mode == MODE_IDLE)	/* opening is bounded separately */
		t_end_ms = t0 / 1000 + 600000;
	for (i = 0; i < nthreads; i++) {
		ws[i].index = i;
		ws[i].nconns = nconns / nthreads + (i < nconns % nthreads);
		if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0) {
			fprintf(stderr, "loadgen: pthread_create failed\n");
			atomic_store(&stop, 1);
			nthreads = i;
			break;
		}
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(ws[i].tid, NULL);
	t1 = now_us();

	if (mode == MODE_IDLE) {
		int64_t	hold_end;

		fprintf(stderr, "event=idle-ready sessions=%d open_s=%.2f\n",
		    atomic_load(&idle_open), (double)(t1 - t0) / 1e6);
		fflush(stderr);
		hold_end = now_ms() + (int64_t)(duration_s * 1000);
		while (now_ms() < hold_end)
			usleep(20000);
		for (i = 0; i < nthreads; i++)
			for (k = 0; k < ws[i].nfds; k++)
				close(ws[i].fds[k]);
	}

	for (i = 0; i < nthreads; i++) {
		ops += ws[i].ops;
		bytes += ws[i].bytes;
		for (k = 0; k < E_MAX; k++)
			errs[k] += ws[i].errors[k];
		for (j = 0; j < ws[i].lat.n; j++)
			sample_add(&all, ws[i].lat.v[j]);
	}
	for (k = 0; k < E_MAX; k++)
		errors += errs[k];
	if (all.n > 0) {
		qsort(all.v, all.n, sizeof(*all.v), cmp_u32);
		p50 = all.v[all.n / 2];
		p99 = all.v[all.n * 99 / 100];
	}
	el = (double)(t1 - t0) / 1e6;
	printf("mode=%s conns=%d threads=%d duration_s=%.3f ops=%llu "
	    "rate=%.1f p50_us=%.0f p99_us=%.0f mb=%.3f mb_s=%.2f "
	    "size=%zu version=%s cipher=%s errors=%llu", mname, nconns,
	    nthreads, el,
	    (unsigned long long)ops, el > 0 ? (double)ops / el : 0, p50, p99,
	    (double)bytes / 1e6, el > 0 ? (double)bytes / 1e6 / el : 0,
	    mode == MODE_BULK ? (size_t)CHUNK : size, seen_version,
	    seen_cipher, (unsigned long long)errors);
	for (k = 0; k < E_MAX; k++)
		if (errs[k] > 0)
			printf(" errors_%s=%llu", err_names[k],
			    (unsigned long long)errs[k]);
	printf("\n");
	return errors > 0 && ops == 0 ? 1 : 0;
}
