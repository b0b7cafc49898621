/*
 * tlsechod: start-up, signals and shutdown.
 *
 * Every start-up problem is a one-line refusal naming what is wrong. Once
 * running, the main thread only waits for signals: SIGHUP reloads the TLS
 * configuration, SIGTERM and SIGINT drain and exit.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tls.h>

#include "common/util.h"
#include "daemon/tlsechod.h"

struct config		 conf;
int64_t			 daemon_started_ms;

static void	daemon_reload(void);
static int	daemon_drain(void);

static void
daemon_reload(void)
{
	char	err[1024], shown[1024];

	if (tlsconf_reload(&conf, err, sizeof(err)) == -1) {
		log_warnx("event=reload-failed action=kept-running-config "
		    "error=\"%s\"", str_quote(err, shown, sizeof(shown)));
		publisher_reload_event(0, err);
		return;
	}
	log_info("event=reloaded cert=%s key=%s", conf.cert_file,
	    conf.key_file);
	publisher_reload_event(1, "reloaded");
}

/*
 * Asks every session to close with close_notify and waits for them up to
 * --drain-timeout. Returns how many were still open at the end.
 */
static int
daemon_drain(void)
{
	int64_t		deadline = time_mono_ms() + conf.drain_ms;
	uint64_t	left;

	registry_stop_all(STOP_SHUTDOWN);
	while ((left = atomic_load(&counters.active)) > 0 &&
	    time_mono_ms() < deadline) {
		usleep(10000);
		/* Sessions still in accept may have missed the first call. */
		registry_stop_all(STOP_SHUTDOWN);
	}
	return (int)left;
}

int
main(int argc, char **argv)
{
	char		 err[1024];
	sigset_t	 set;
	int		 sig, r, left;

	r = options_parse(argc, argv, &conf, err, sizeof(err));
	if (r == 1)
		return 0;
	if (r == -1) {
		fprintf(stderr, "tlsechod: %s\n", err);
		return 2;
	}
	log_init(DAEMON_NAME, conf.log_level, conf.use_syslog);
	daemon_started_ms = time_real_ms();

	if (tls_init() == -1)
		fatalx("tls_init failed");
	if (tlsconf_init(&conf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (registry_init((size_t)conf.max_conns, (size_t)conf.history) == -1)
		fatalx("cannot allocate %lld session slots", conf.max_conns);
	if (listener_open(&conf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (publisher_open(&conf, err, sizeof(err)) == -1)
		fatalx("%s", err);

	/* Workers inherit this mask; only this thread takes signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (publisher_start() == -1)
		fatalx("cannot start the publisher thread");
	if (listener_start() == -1)
		fatalx("cannot start the listener thread");
	log_info("event=started version=%s pid=%ld max_conns=%lld "
	    "idle_timeout_ms=%lld handshake_timeout_ms=%lld", TLSECHO_VERSION,
	    (long)getpid(), conf.max_conns, conf.idle_ms, conf.handshake_ms);

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			daemon_reload();
			continue;
		}
		break;
	}
	log_info("event=stopping signal=%s", sig == SIGINT ? "INT" : "TERM");
	listener_stop();
	left = daemon_drain();
	publisher_stop();
	if (left > 0)
		log_warnx("event=stopped sessions_left=%d reason=drain-timeout",
		    left);
	else
		log_info("event=stopped");
	tlsconf_shutdown();
	return 0;
}
