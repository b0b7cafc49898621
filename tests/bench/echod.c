/*
 * echod: a plain TCP echo server on one thread with epoll, used as the
 * backend that stunnel forwards to in the benchmark. It is deliberately
 * cheap (no fork, no thread, no per-connection buffer: what one read
 * gets is written straight back) so that stunnel is measured as a TLS
 * front end, and the backend's own cost, kept outside stunnel's process
 * tree, takes little of the shared cores.
 *
 *   echod PORT-FILE     listens on 127.0.0.1:0, writes the port to
 *                       PORT-FILE, runs until killed
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUF_SIZE	65536

/* Writes all of buf; a full socket buffer is waited out (bounded). */
static int
echo_write(int fd, const char *buf, size_t len)
{
	struct pollfd	pfd;
	ssize_t		n;
	int		waits = 0;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN && waits++ < 100) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			poll(&pfd, 1, 100);
			continue;
		}
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static char		 buf[BUF_SIZE];
	struct sockaddr_in	 sin;
	struct epoll_event	 ev, evs[64];
	struct rlimit		 rl;
	socklen_t		 len = sizeof(sin);
	FILE			*f;
	ssize_t			 n;
	int			 lfd, ep, fd, i, nev, one = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: echod PORT-FILE\n");
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 1024) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1) {
		perror("echod: listen");
		return 1;
	}
	if ((f = fopen(argv[1], "w")) == NULL) {
		perror(argv[1]);
		return 1;
	}
	fprintf(f, "%d\n", ntohs(sin.sin_port));
	fclose(f);

	if ((ep = epoll_create1(0)) == -1)
		return 1;
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		if ((nev = epoll_wait(ep, evs, 64, -1)) == -1) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (i = 0; i < nev; i++) {
			fd = evs[i].data.fd;
			if (fd == lfd) {
				while ((fd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK)) != -1) {
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
					    &one, sizeof(one));
					ev.events = EPOLLIN;
					ev.data.fd = fd;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			n = recv(fd, buf, sizeof(buf), 0);
			if (n > 0 && echo_write(fd, buf, (size_t)n) == 0)
				continue;
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				continue;
			close(fd);	/* EOF, error, or a stuck peer */
		}
	}
}
