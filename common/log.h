/*
 * Logging shared by every tlsecho program.
 *
 * One line per call, written with a single write(2) so that lines from
 * different threads never interleave; no static buffers; errno is preserved.
 * Foreground programs log to stderr, a daemon may ask for syslog.
 * Lines are "ts=... level=... " followed by the caller's key=value text.
 *
 * fatal() and fatalx() print "prog: message" (plus ": strerror" for fatal)
 * and exit 1: they are for start-up problems and broken invariants only.
 * The x variants do not append strerror(errno), as in OpenBSD daemons.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

/* Sets the program name, the threshold and the sink. Not thread-safe: call once at start. */
void	log_init(const char *prog, enum log_level level, int use_syslog);
/* Parses "error", "warn", "info" or "debug"; returns -1 for anything else. */
int	log_level_parse(const char *s, enum log_level *level);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
