/*
 * Small string and time helpers shared by every program.
 */
#ifndef COMMON_UTIL_H
#define COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * Copies src into dst (size len, always NUL-terminated) with every byte
 * that is a control character, DEL, a backslash or not part of valid UTF-8
 * escaped as \xNN (backslash as \\). The output is safe to print on a
 * terminal or in a log line. Output that does not fit is cut at a
 * character boundary. Returns dst.
 */
char	*str_escape(const char *src, char *dst, size_t len);

/*
 * str_escape, and '"' as \x22 too, for a value that sits between double
 * quotes in a key="value" line.
 */
char	*str_quote(const char *src, char *dst, size_t len);

/*
 * Length of the valid UTF-8 character at s (avail bytes readable), or 0
 * when it is not one by RFC 3629 (overlong forms, surrogates and values
 * past U+10FFFF are invalid).
 */
size_t	 utf8_len(const unsigned char *s, size_t avail);

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t	 time_mono_ms(void);
/* Milliseconds since the epoch on CLOCK_REALTIME. */
int64_t	 time_real_ms(void);

/* Formats epoch seconds as 2026-12-03T14:00:00Z. */
void	 time_format_iso(time_t t, char *buf, size_t len);
/* Parses what time_format_iso writes; returns -1 on anything else. */
int	 time_parse_iso(const char *s, time_t *t);

/* "512B", "1.5K", "12.0M", "3.2G" into buf. */
void	 fmt_bytes(uint64_t n, char *buf, size_t len);
/* "45s", "12m03s", "3h12m", "4d03h" into buf. */
void	 fmt_duration(int64_t seconds, char *buf, size_t len);

#endif
