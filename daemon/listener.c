/*
 * The listener: binds every --listen address and runs the accept loop on
 * one thread, handing each connection to session_start().
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/addr.h"
#include "daemon/tlsechod.h"

#define LISTEN_FDS_MAX	(LISTEN_MAX * 4)

static int		 listen_fds[LISTEN_FDS_MAX];	/* [I] once open */
static char		 listen_names[LISTEN_FDS_MAX][PROTO_ADDR_MAX];
static size_t		 nlisten_fds;
static int		 wake_pipe[2] = { -1, -1 };
static pthread_t	 listener_thread;
static int		 listener_running;

static void	*listener_main(void *);
static int	 listener_bind(const char *, char *, size_t);

/* Binds one ADDR:PORT spec (every address it resolves to). */
static int
listener_bind(const char *spec, char *err, size_t errlen)
{
	struct addrinfo		 hints, *res, *ai;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 host[ADDR_HOST_MAX], port[ADDR_PORT_MAX];
	int			 fd, one = 1, gai, bound = 0;

	if (addr_split(spec, host, sizeof(host), port, sizeof(port), err,
	    errlen) == -1) {
		char tmp[512];

		snprintf(tmp, sizeof(tmp), "--listen %s", err);
		snprintf(err, errlen, "%s", tmp);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "--listen %s: %s", spec,
		    gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (nlisten_fds == LISTEN_FDS_MAX) {
			snprintf(err, errlen, "--listen %s: too many "
			    "addresses", spec);
			goto fail;
		}
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			/* No IPv6 on this host: skip that family. */
			if (errno == EAFNOSUPPORT)
				continue;
			snprintf(err, errlen, "--listen %s: socket: %s", spec,
			    strerror(errno));
			goto fail;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
		    listen(fd, 512) == -1) {
			char a[ADDR_STR_MAX];

			addr_format(ai->ai_addr, a, sizeof(a));
			snprintf(err, errlen, "--listen %s: cannot listen on "
			    "%s: %s", spec, a, strerror(errno));
			close(fd);
			goto fail;
		}
		sslen = sizeof(ss);
		getsockname(fd, (struct sockaddr *)&ss, &sslen);
		addr_format((struct sockaddr *)&ss,
		    listen_names[nlisten_fds], PROTO_ADDR_MAX);
		listen_fds[nlisten_fds++] = fd;
		bound++;
	}
	freeaddrinfo(res);
	if (bound == 0) {
		snprintf(err, errlen, "--listen %s: no usable address", spec);
		return -1;
	}
	return 0;
fail:
	freeaddrinfo(res);
	return -1;
}

int
listener_open(const struct config *c, char *err, size_t errlen)
{
	size_t	i;

	for (i = 0; i < c->nlisten; i++)
		if (listener_bind(c->listen[i], err, errlen) == -1)
			return -1;
	if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	return 0;
}

size_t
listener_addrs(char out[][PROTO_ADDR_MAX], size_t max)
{
	size_t	i;

	for (i = 0; i < nlisten_fds && i < max; i++)
		memcpy(out[i], listen_names[i], PROTO_ADDR_MAX);
	return i;
}

static void *
listener_main(void *arg)
{
	struct pollfd		 pfd[LISTEN_FDS_MAX + 1];
	struct sockaddr_storage	 peer, local;
	socklen_t		 plen, llen;
	size_t			 i;
	int			 fd;

	pthread_setname_np(pthread_self(), "listener");
	for (i = 0; i < nlisten_fds; i++) {
		pfd[i].fd = listen_fds[i];
		pfd[i].events = POLLIN;
		log_info("event=listening addr=%s", listen_names[i]);
	}
	pfd[nlisten_fds].fd = wake_pipe[0];
	pfd[nlisten_fds].events = POLLIN;

	for (;;) {
		if (poll(pfd, nlisten_fds + 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("event=poll-failed where=listener");
			continue;
		}
		if (pfd[nlisten_fds].revents)
			break;
		for (i = 0; i < nlisten_fds; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			plen = sizeof(peer);
			fd = accept4(listen_fds[i], (struct sockaddr *)&peer,
			    &plen, SOCK_CLOEXEC);
			if (fd == -1) {
				if (errno == EMFILE || errno == ENFILE ||
				    errno == ENOBUFS || errno == ENOMEM) {
					/* Out of descriptors: back off. */
					log_warn("event=accept-failed "
					    "action=backoff-100ms");
					usleep(100000);
				} else if (errno != EAGAIN &&
				    errno != ECONNABORTED && errno != EINTR)
					log_warn("event=accept-failed");
				continue;
			}
			llen = sizeof(local);
			getsockname(fd, (struct sockaddr *)&local, &llen);
			session_start(fd, &peer, &local);
		}
	}
	for (i = 0; i < nlisten_fds; i++)
		close(listen_fds[i]);
	return NULL;
}

int
listener_start(void)
{
	if (pthread_create(&listener_thread, NULL, listener_main, NULL) != 0)
		return -1;
	listener_running = 1;
	return 0;
}

/* Stops accepting: wakes the accept loop and waits for it to end. */
void
listener_stop(void)
{
	char	c = 'x';

	if (!listener_running)
		return;
	if (write(wake_pipe[1], &c, 1) == -1)
		log_warn("event=listener-wake-failed");
	pthread_join(listener_thread, NULL);
	listener_running = 0;
}
