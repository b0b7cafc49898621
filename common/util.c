/*
 * String escaping for peer-controlled text, clocks and human formats.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/util.h"

size_t
utf8_len(const unsigned char *s, size_t avail)
{
	size_t		n, i;
	uint32_t	cp;

	if (avail == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n > avail)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF. */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* A C1 control character (U+0080..U+009F) is "\xc2\x80".."\xc2\x9f". */
static int
utf8_is_c1(const unsigned char *s, size_t n)
{
	return n == 2 && s[0] == 0xc2 && s[1] < 0xa0;
}

static char	*escape(const char *, char *, size_t, int);

char *
str_escape(const char *src, char *dst, size_t len)
{
	return escape(src, dst, len, 0);
}

char *
str_quote(const char *src, char *dst, size_t len)
{
	return escape(src, dst, len, 1);
}

/* str_escape, and with quote set '"' as \x22 as well. */
static char *
escape(const char *src, char *dst, size_t len, int quote)
{
	const unsigned char	*s = (const unsigned char *)src;
	size_t			 o = 0, n;
	char			 esc[5];

	if (len == 0)
		return dst;
	while (*s != '\0') {
		n = utf8_len(s, strnlen((const char *)s, 4));
		if (utf8_is_c1(s, n))
			n = 0;
		if (n == 1 && (*s < 0x20 || *s == 0x7f || *s == '\\' ||
		    (quote && *s == '"'))) {
			if (*s == '\\')
				snprintf(esc, sizeof(esc), "\\\\");
			else
				snprintf(esc, sizeof(esc), "\\x%02x", *s);
			if (o + strlen(esc) >= len)
				break;
			memcpy(dst + o, esc, strlen(esc));
			o += strlen(esc);
			s++;
		} else if (n == 0) {
			if (o + 4 >= len)
				break;
			snprintf(dst + o, 5, "\\x%02x", *s);
			o += 4;
			s++;
		} else {
			if (o + n >= len)
				break;
			memcpy(dst + o, s, n);
			o += n;
			s += n;
		}
	}
	dst[o] = '\0';
	return dst;
}

int64_t
time_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
time_real_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
time_format_iso(time_t t, char *buf, size_t len)
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
time_parse_iso(const char *s, time_t *t)
{
	struct tm	 tm;
	const char	*end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	*t = timegm(&tm);
	return 0;
}

void
fmt_bytes(uint64_t n, char *buf, size_t len)
{
	static const char	 units[] = "KMGTPE";
	double			 v = (double)n;
	int			 u = -1;

	if (n < 1024) {
		snprintf(buf, len, "%lluB", (unsigned long long)n);
		return;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
}

void
fmt_duration(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", (long long)(s / 60),
		    (long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lldd%02lldh", (long long)(s / 86400),
		    (long long)(s % 86400 / 3600));
}
