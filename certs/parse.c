/*
 * Parsing of tlscert's option values: times (ISO or relative to now),
 * extended key usages and host lists. Pure functions, so that the unit
 * tests can reach them without making certificates.
 */
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "certs/tlscert.h"

/* More names than anyone puts in one certificate. */
#define HOSTS_MAX	1024
#define DNS_NAME_MAX	253
#define DNS_LABEL_MAX	63

static int	parse_offset(const char *s, time_t now, time_t *out);
static int	parse_dns_name(const char *s);

/*
 * Parses "[+-]N" followed by a unit s, m, h or d as an offset from now.
 * Offsets are bounded by TLSCERT_DAYS_MAX days either way.
 */
static int
parse_offset(const char *s, time_t now, time_t *out)
{
	const char	*p = s + 1;
	long long	 n = 0, unit;

	if (*s != '+' && *s != '-')
		return -1;
	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		n = n * 10 + (*p - '0');
		if (n > TLSCERT_DAYS_MAX * 86400LL)
			return -1;
		p++;
	}
	switch (*p) {
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		return -1;
	}
	if (p[1] != '\0' || n > TLSCERT_DAYS_MAX * 86400LL / unit)
		return -1;
	n *= unit;
	*out = *s == '-' ? now - (time_t)n : now + (time_t)n;
	return 0;
}

/*
 * Parses a time given to --not-before or --not-after: "now", an ISO UTC
 * time such as 2020-01-01T00:00:00Z, or an offset from now such as -30d,
 * +2d, -1h, +90m or -10s.
 */
int
parse_when(const char *opt, const char *s, time_t now, time_t *out,
    char *err, size_t errlen)
{
	if (strcmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	if (parse_offset(s, now, out) == 0)
		return 0;
	if (time_parse_iso(s, out) == 0)
		return 0;
	snprintf(err, errlen, "%s: '%s' is not a time; expected a UTC time "
	    "such as 2020-01-01T00:00:00Z, now, or an offset from now such as "
	    "-30d, +2d, -1h (units s, m, h, d; at most %d days)", opt, s,
	    TLSCERT_DAYS_MAX);
	return -1;
}

/* Parses server, client, both or none into EKU_* bits. */
int
parse_eku(const char *opt, const char *s, int *eku, char *err, size_t errlen)
{
	if (strcmp(s, "server") == 0)
		*eku = EKU_SERVER;
	else if (strcmp(s, "client") == 0)
		*eku = EKU_CLIENT;
	else if (strcmp(s, "both") == 0)
		*eku = EKU_SERVER | EKU_CLIENT;
	else if (strcmp(s, "none") == 0)
		*eku = 0;
	else {
		snprintf(err, errlen, "%s: '%s' is not one of server, client, "
		    "both, none", opt, s);
		return -1;
	}
	return 0;
}

/*
 * Checks a DNS name for a certificate: dot-separated labels of letters,
 * digits, '-' and '_', each 1 to 63 long; the leftmost label may be '*'.
 */
static int
parse_dns_name(const char *s)
{
	const char	*p;
	size_t		 label = 0;

	if (*s == '\0' || strlen(s) > DNS_NAME_MAX)
		return -1;
	if (s[0] == '*' && s[1] == '.')
		s += 2;
	for (p = s; ; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0)
				return -1;
			if (*p == '\0')
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return -1;
		if (++label > DNS_LABEL_MAX)
			return -1;
	}
}

/*
 * Classifies one host: returns 1 with the address in ip (4 or 16 bytes)
 * for an IPv4 or IPv6 address (brackets allowed), 0 for a DNS name, -1
 * for neither. ip must have room for 16 bytes.
 */
int
parse_host(const char *s, unsigned char *ip, size_t *iplen)
{
	char	buf[INET6_ADDRSTRLEN + 2];
	size_t	len = strlen(s);

	if (inet_pton(AF_INET, s, ip) == 1) {
		*iplen = 4;
		return 1;
	}
	if (inet_pton(AF_INET6, s, ip) == 1) {
		*iplen = 16;
		return 1;
	}
	/* "[::1]", as in URLs; brackets hold only IPv6 addresses. */
	if (len > 2 && len < sizeof(buf) && s[0] == '[' && s[len - 1] == ']') {
		memcpy(buf, s + 1, len - 2);
		buf[len - 2] = '\0';
		if (inet_pton(AF_INET6, buf, ip) == 1) {
			*iplen = 16;
			return 1;
		}
		return -1;
	}
	return parse_dns_name(s) == 0 ? 0 : -1;
}

/*
 * Splits a comma-separated host list and appends each entry to hl.
 * Entries are checked with parse_host. On failure hl keeps what it had.
 */
int
parse_hosts(const char *opt, const char *list, struct host_list *hl,
    char *err, size_t errlen)
{
	char		*copy, *p, *entry, *sep, **v;
	unsigned char	 ip[16];
	size_t		 iplen, n0 = hl->n;
	int		 rv = -1;

	if ((copy = strdup(list)) == NULL) {
		snprintf(err, errlen, "%s: %s", opt, strerror(errno));
		return -1;
	}
	p = copy;
	for (;;) {
		entry = p;
		if ((sep = strchr(p, ',')) != NULL)
			*sep = '\0';
		if (*entry == '\0') {
			snprintf(err, errlen, "%s: '%s' has an empty entry; "
			    "expected names or addresses separated by commas, "
			    "for example localhost,127.0.0.1,::1", opt, list);
			goto out;
		}
		if (parse_host(entry, ip, &iplen) == -1) {
			snprintf(err, errlen, "%s: '%s' is neither an IP "
			    "address nor a DNS name", opt, entry);
			goto out;
		}
		if (hl->n >= HOSTS_MAX) {
			snprintf(err, errlen, "%s: more than %d names", opt,
			    HOSTS_MAX);
			goto out;
		}
		v = reallocarray(hl->v, hl->n + 1, sizeof(*hl->v));
		if (v == NULL) {
			snprintf(err, errlen, "%s: %s", opt, strerror(errno));
			goto out;
		}
		hl->v = v;
		if ((hl->v[hl->n] = strdup(entry)) == NULL) {
			snprintf(err, errlen, "%s: %s", opt, strerror(errno));
			goto out;
		}
		hl->n++;
		if (sep == NULL)
			break;
		p = sep + 1;
	}
	rv = 0;
out:
	if (rv == -1) {
		while (hl->n > n0)
			free(hl->v[--hl->n]);
	}
	free(copy);
	return rv;
}

void
parse_hosts_free(struct host_list *hl)
{
	size_t	i;

	for (i = 0; i < hl->n; i++)
		free(hl->v[i]);
	free(hl->v);
	hl->v = NULL;
	hl->n = 0;
}
