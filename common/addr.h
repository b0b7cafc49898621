/*
 * Address helpers shared by the daemon, the client and the monitor.
 *
 * Nothing here logs or exits: failures return -1 and describe themselves in
 * the caller's error buffer.
 */
#ifndef COMMON_ADDR_H
#define COMMON_ADDR_H

#include <sys/socket.h>
#include <stddef.h>

#define ADDR_HOST_MAX	256
#define ADDR_PORT_MAX	16
/* "[" + INET6_ADDRSTRLEN + "]:" + port, with room to spare. */
#define ADDR_STR_MAX	64

/*
 * Splits "HOST:PORT", "[V6]:PORT" or "V4:PORT" into host and port.
 * The port must be a number from 0 to 65535. Returns 0, or -1 with a
 * message naming the expected form in err.
 */
int	addr_split(const char *spec, char *host, size_t hostlen, char *port,
	    size_t portlen, char *err, size_t errlen);

/* Formats a socket address as "1.2.3.4:5" or "[::1]:5"; never fails. */
void	addr_format(const struct sockaddr *sa, char *buf, size_t len);

/* Formats only the IP address (no port, no brackets). */
void	addr_format_ip(const struct sockaddr *sa, char *buf, size_t len);

/*
 * Parses a decimal number into [min, max]. Returns 0, or -1 with a message
 * that names the option and the expected form in err.
 */
int	parse_number(const char *opt, const char *s, long long min,
	    long long max, long long *out, char *err, size_t errlen);

/*
 * Parses a duration: a number with an optional unit s, ms or m
 * ("300", "300s", "1500ms", "5m") into milliseconds.
 */
int	parse_duration_ms(const char *opt, const char *s, long long *ms,
	    char *err, size_t errlen);

#endif
