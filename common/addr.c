/*
 * Parsing of addresses, numbers and durations given on command lines, and
 * formatting of socket addresses for logs and the stats protocol.
 */
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"

int
addr_split(const char *spec, char *host, size_t hostlen, char *port,
    size_t portlen, char *err, size_t errlen)
{
	const char	*colon, *h, *p;
	size_t		 hl;
	long long	 n;

	if (spec[0] == '[') {
		colon = strchr(spec, ']');
		if (colon == NULL || colon[1] != ':') {
			snprintf(err, errlen, "'%s': expected [IPV6]:PORT, "
			    "for example [::1]:8443", spec);
			return -1;
		}
		h = spec + 1;
		hl = (size_t)(colon - h);
		p = colon + 2;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL || strchr(spec, ':') != colon) {
			snprintf(err, errlen, "'%s': expected HOST:PORT, "
			    "for example localhost:8443 or [::1]:8443", spec);
			return -1;
		}
		h = spec;
		hl = (size_t)(colon - h);
		p = colon + 1;
	}
	if (hl == 0 || hl >= hostlen) {
		snprintf(err, errlen, "'%s': the host part is %s", spec,
		    hl == 0 ? "empty" : "too long");
		return -1;
	}
	if (parse_number("port", p, 0, 65535, &n, err, errlen) == -1)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, portlen, "%lld", n);
	return 0;
}

void
addr_format_ip(const struct sockaddr *sa, char *buf, size_t len)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)sa;
		if (inet_ntop(AF_INET, &sin->sin_addr, buf, len) == NULL)
			snprintf(buf, len, "?");
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)sa;
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, buf, len) == NULL)
			snprintf(buf, len, "?");
		break;
	default:
		snprintf(buf, len, "unknown-family-%d", sa->sa_family);
		break;
	}
}

void
addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char	ip[ADDR_STR_MAX];

	addr_format_ip(sa, ip, sizeof(ip));
	switch (sa->sa_family) {
	case AF_INET:
		snprintf(buf, len, "%s:%u", ip,
		    ntohs(((const struct sockaddr_in *)sa)->sin_port));
		break;
	case AF_INET6:
		snprintf(buf, len, "[%s]:%u", ip,
		    ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
		break;
	default:
		snprintf(buf, len, "%s", ip);
		break;
	}
}

int
parse_number(const char *opt, const char *s, long long min, long long max,
    long long *out, char *err, size_t errlen)
{
	char		*end;
	long long	 n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno == ERANGE || n < min ||
	    n > max) {
		snprintf(err, errlen, "%s: '%s' is not a number from %lld to "
		    "%lld", opt, s, min, max);
		return -1;
	}
	*out = n;
	return 0;
}

int
parse_duration_ms(const char *opt, const char *s, long long *ms, char *err,
    size_t errlen)
{
	char		*end;
	long long	 n, mult;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (end == s || errno == ERANGE || n < 0)
		goto bad;
	if (*end == '\0' || strcmp(end, "s") == 0)
		mult = 1000;
	else if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0)
		mult = 60000;
	else
		goto bad;
	if (n > 86400LL * 1000 * 365 / mult)
		goto bad;
	*ms = n * mult;
	return 0;
bad:
	snprintf(err, errlen, "%s: '%s' is not a duration; expected a number "
	    "of seconds, or a number with ms, s or m (for example 300, 1500ms, "
	    "5m)", opt, s);
	return -1;
}
