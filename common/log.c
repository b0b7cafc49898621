/*
 * Thread-safe one-line logging: each call formats into a stack buffer and
 * emits it with one write(2) (or one syslog(3) call).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define LOG_LINE_MAX	2048

static const char	*log_prog = "tlsecho";
static enum log_level	 log_threshold = LOG_LEVEL_INFO;
static int		 log_syslog;

static const char *const log_names[] = { "error", "warn", "info", "debug" };

static void	log_emit(enum log_level, int, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));
static void	fatal_emit(int, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

void
log_init(const char *prog, enum log_level level, int use_syslog)
{
	log_prog = prog;
	log_threshold = level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_level_parse(const char *s, enum log_level *level)
{
	size_t	i;

	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
		if (strcmp(s, log_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static void
log_emit(enum log_level level, int with_errno, const char *fmt, va_list ap)
{
	char		 line[LOG_LINE_MAX];
	struct timespec	 ts;
	struct tm	 tm;
	int		 saved_errno = errno, n, m;
	size_t		 len;
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

	if (level > log_threshold)
		return;

	if (log_syslog) {
		n = snprintf(line, sizeof(line), "level=%s ", log_names[level]);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = snprintf(line, sizeof(line),
		    "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		    log_names[level]);
	}
	if (n < 0)
		n = 0;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	len = strnlen(line, sizeof(line) - 2);
	if (m >= 0 && with_errno) {
		snprintf(line + len, sizeof(line) - len - 1, " error=\"%s\"",
		    strerror(saved_errno));
		len = strnlen(line, sizeof(line) - 2);
	}

	if (log_syslog) {
		syslog(prio[level], "%s", line);
	} else {
		line[len++] = '\n';
		if (write(STDERR_FILENO, line, len) == -1) {
			/* nowhere left to report it */
		}
	}
	errno = saved_errno;
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_WARN, 1, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_WARN, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_INFO, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_DEBUG, 0, fmt, ap);
	va_end(ap);
}

static void
fatal_emit(int with_errno, const char *fmt, va_list ap)
{
	char	msg[LOG_LINE_MAX];
	int	saved_errno = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_syslog)
		syslog(LOG_CRIT, "%s%s%s", msg, with_errno ? ": " : "",
		    with_errno ? strerror(saved_errno) : "");
	dprintf(STDERR_FILENO, "%s: %s%s%s\n", log_prog, msg,
	    with_errno ? ": " : "", with_errno ? strerror(saved_errno) : "");
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fatal_emit(1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fatal_emit(0, fmt, ap);
	va_end(ap);
	exit(1);
}
