/*
 * tlsmon: options, signals and the main loop.
 *
 * The loop polls the terminal and the stats socket with a timeout of at
 * most a second, applies what the daemon sent to the model, and redraws
 * only when something changed (or once a second, for the ages), at most
 * about 20 times a second however fast events arrive. When the daemon goes
 * away the last state stays on screen, dimmed, and the feed reconnects
 * with backoff.
 *
 * The terminal is restored on every exit path: view_end runs from atexit,
 * and SIGINT, SIGTERM and SIGHUP only set a flag that ends the loop (the
 * poll has no SA_RESTART, so it wakes at once), so that endwin is never
 * called from inside a signal handler.
 *
 * -n N or --exit-after SECONDS bound the run; with standard output not a
 * terminal the bounded run is headless (no curses: feed, model, sorting
 * and column fitting only) and prints the final state as --once would, so
 * that it can run under sanitizers in CI.
 */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/util.h"
#include "monitor/tlsmon.h"

#define FRAME_MIN_MS	50	/* at most about 20 redraws a second */
#define TICK_MS		1000	/* ages and rates move once a second */

struct app {
	struct model	 model;
	struct feed	 feed;
	int		 headless;
	uint64_t	 messages;
};

static volatile sig_atomic_t quit_signal;

static void	on_signal(int);
static void	app_msg(void *, const struct proto_msg *);
static int	app_loop(struct app *, long long, long long);
static void	usage(FILE *);

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: tlsmon [-s PATH] [-n N | --exit-after SECONDS]\n"
	    "       tlsmon [-s PATH] --once | --json\n"
	    "\n"
	    "Live monitor of a tlsechod stats socket.\n"
	    "\n"
	    "  -s, --socket PATH       the daemon's stats socket (default:\n"
	    "                          $XDG_RUNTIME_DIR/tlsechod.sock, or\n"
	    "                          /run/tlsechod/stats.sock for root)\n"
	    "      --once              print the sessions and counters as "
	    "text, exit\n"
	    "      --json              print one snapshot as a JSON array of "
	    "the\n"
	    "                          daemon's objects (hello, session...,\n"
	    "                          closed..., counters), exit\n"
	    "  -n, --iterations N      exit after N screen updates\n"
	    "      --exit-after SECS   exit after SECS seconds\n"
	    "                          (bounded runs are headless when "
	    "output\n"
	    "                          is not a terminal)\n"
	    "  -h, --help              this text\n"
	    "  -V, --version           the version\n"
	    "\n"
	    "Keys: arrows/j ^N ^P, PgUp/PgDn, Home/End move; Enter details;\n"
	    "Tab or 1/2/3 sessions, history, breakdown; s sort, r reverse;\n"
	    "/ filter (Esc clears); k kill (y/n); p pause; ? help; q quit.\n"
	    "Exit status: 0 when the daemon answered, 1 when not.\n");
}

static void
on_signal(int sig)
{
	quit_signal = sig;
}

/* Every decoded message: a hello is answered with "watch". */
static void
app_msg(void *arg, const struct proto_msg *msg)
{
	struct app	*a = arg;

	a->messages++;
	if (msg->type == PROTO_HELLO &&
	    feed_send_cmd(&a->feed, PROTO_CMD_WATCH, 0) == -1) {
		feed_down(&a->feed, "cannot send the watch command",
		    time_mono_ms());
		return;
	}
	model_apply(&a->model, msg, time_mono_ms());
}

static int
app_loop(struct app *a, long long iterations, long long exit_after_ms)
{
	struct pollfd	 pfd[2];
	struct model	*m = &a->model;
	struct feed	*f = &a->feed;
	struct col_layout l;
	char		 err[512];
	int64_t		 start = time_mono_ms(), now, last_draw = 0;
	int64_t		 frozen = 0, timeout;
	long long	 frames = 0;
	int		 paused = 0, want = 1, nfds, action, was_up = 0;

	for (;;) {
		if (quit_signal)
			break;
		now = time_mono_ms();
		if (exit_after_ms > 0 && now - start >= exit_after_ms)
			break;
		if (f->fd == -1 && now >= f->retry_at) {
			if (feed_connect(f, err, sizeof(err)) == -1)
				feed_down(f, err, now);
			want = 1;
		}
		if (f->up != was_up) {
			was_up = f->up;
			want = 1;
		}
		if (m->changed)
			want = 1;
		if ((want && now - last_draw >= FRAME_MIN_MS) ||
		    now - last_draw >= TICK_MS) {
			if (a->headless) {
				model_rows(m);
				model_history_rows(m);
				columns_fit(columns_sessions,
				    columns_nsessions, 80, &l);
			} else
				view_draw(m, f, paused ? frozen :
				    time_real_ms(), paused);
			m->changed = 0;
			want = 0;
			last_draw = now;
			if (iterations > 0 && ++frames >= iterations)
				break;
		}

		timeout = want ? FRAME_MIN_MS - (now - last_draw) :
		    TICK_MS - (now - last_draw);
		if (f->fd == -1 && f->retry_at - now < timeout)
			timeout = f->retry_at - now;
		if (exit_after_ms > 0 && start + exit_after_ms - now < timeout)
			timeout = start + exit_after_ms - now;
		if (timeout < 0)
			timeout = 0;
		nfds = 0;
		if (!a->headless) {
			pfd[nfds].fd = STDIN_FILENO;
			pfd[nfds].events = POLLIN;
			pfd[nfds++].revents = 0;
		}
		if (f->fd != -1 && !paused) {
			pfd[nfds].fd = f->fd;
			pfd[nfds].events = POLLIN;
			pfd[nfds++].revents = 0;
		}
		if (poll(pfd, (nfds_t)nfds, (int)timeout) == -1) {
			if (errno != EINTR)
				break;
			/* A SIGWINCH: curses has a KEY_RESIZE for us. */
			nfds = 0;
		}
		if (nfds > 0 && f->fd != -1 && !paused &&
		    pfd[nfds - 1].revents & (POLLIN | POLLHUP | POLLERR))
			feed_read(f, app_msg, a);
		if (a->headless)
			continue;
		while ((action = view_key(m)) != VIEW_IDLE) {
			want = 1;
			if (action == VIEW_QUIT)
				return 0;
			if (action == VIEW_PAUSE) {
				paused = !paused;
				frozen = time_real_ms();
			}
			if (action == VIEW_KILL &&
			    feed_send_cmd(f, PROTO_CMD_KILL,
			    view_kill_id()) == -1) {
				snprintf(m->message, sizeof(m->message),
				    "cannot send the kill command: not "
				    "connected");
				m->message_is_error = 1;
			}
		}
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "socket",	required_argument,	NULL, 's' },
		{ "once",	no_argument,		NULL, 'o' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "iterations",	required_argument,	NULL, 'n' },
		{ "exit-after",	required_argument,	NULL, 'x' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	static struct app	 a;
	struct sigaction	 sa;
	const char		*path = NULL;
	char			 err[512];
	long long		 iterations = 0, exit_after_ms = 0;
	int			 ch, once = 0, json = 0, status;

	setlocale(LC_ALL, "");
	while ((ch = getopt_long(argc, argv, "s:n:hV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'o':
			once = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'n':
			if (parse_number("-n", optarg, 1, 1000000000LL,
			    &iterations, err, sizeof(err)) == -1) {
				fprintf(stderr, "tlsmon: %s\n", err);
				return 2;
			}
			break;
		case 'x':
			if (parse_duration_ms("--exit-after", optarg,
			    &exit_after_ms, err, sizeof(err)) == -1) {
				fprintf(stderr, "tlsmon: %s\n", err);
				return 2;
			}
			if (exit_after_ms <= 0) {
				fprintf(stderr, "tlsmon: --exit-after must "
				    "be more than zero\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tlsmon %s (stats protocol %d)\n",
			    TLSECHO_VERSION, PROTO_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (path == NULL)
		path = feed_default_path();
	if (once || json)
		return batch_run(path, json, 5000);

	a.headless = (iterations > 0 || exit_after_ms > 0) &&
	    !isatty(STDOUT_FILENO);
	if (!a.headless && (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))) {
		fprintf(stderr, "tlsmon: not a terminal; --once or --json "
		    "print a snapshot for scripts\n");
		return 1;
	}

	model_init(&a.model);
	feed_init(&a.feed, path);
	if (feed_connect(&a.feed, err, sizeof(err)) == -1) {
		fprintf(stderr, "tlsmon: %s\n", err);
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: poll must wake */
	signal(SIGPIPE, SIG_IGN);

	if (!a.headless) {
		if (view_start() == -1) {
			fprintf(stderr, "tlsmon: cannot use the terminal "
			    "(TERM=%s)\n", getenv("TERM") ? getenv("TERM") :
			    "unset");
			return 1;
		}
		atexit(view_end);
	}
	/* After curses, so that ours replace the handlers it installs. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	status = app_loop(&a, iterations, exit_after_ms);
	view_end();
	if (quit_signal)
		status = 128 + quit_signal;
	if (a.headless) {
		batch_print_text(&a.model, stdout);
		printf("\nmessages %llu, undecodable lines %llu, over-long "
		    "lines %llu\n", (unsigned long long)a.messages,
		    (unsigned long long)a.feed.bad_lines,
		    (unsigned long long)a.feed.long_lines);
		if (!a.feed.ever_up) {
			fprintf(stderr, "tlsmon: %s: the daemon never said "
			    "hello\n", path);
			status = 1;
		}
	}
	model_free(&a.model);
	feed_free(&a.feed);
	return status;
}
