/*
 * Column fitting: which columns of a table fit a terminal's width, and how
 * wide each one is, so that nothing wraps; and cutting a network string to
 * a display width at a character boundary, after escaping it.
 *
 * Columns are chosen in a view's priority order at their preferred width;
 * one that does not fit gives way, but a narrower, less important one may
 * still fit after it. Space left over goes to the flexible columns (peer,
 * cipher, subject, issuer, reason) up to their maximum. The chosen columns
 * are laid out in display order (enum col_id) with one space between them.
 */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "common/util.h"
#include "monitor/tlsmon.h"

static const struct col_spec col_specs[COL__COUNT] = {
	[COL_ID] =	{ "ID",		5,	10,	1 },
	[COL_PEER] =	{ "PEER",	15,	47,	0 },
	[COL_STATE] =	{ "STATE",	5,	5,	0 },
	[COL_VERSION] =	{ "VERSION",	8,	8,	0 },
	[COL_CIPHER] =	{ "CIPHER",	22,	32,	0 },
	[COL_SUBJECT] =	{ "SUBJECT",	12,	64,	0 },
	[COL_ISSUER] =	{ "ISSUER",	12,	64,	0 },
	[COL_REASON] =	{ "REASON",	12,	20,	0 },
	[COL_IN] =	{ "IN",		6,	6,	1 },
	[COL_OUT] =	{ "OUT",	6,	6,	1 },
	[COL_AGE] =	{ "AGE",	6,	6,	1 },
	[COL_IDLE] =	{ "IDLE",	6,	6,	1 },
	[COL_DURATION] = { "DUR",	6,	6,	1 },
	[COL_ENDED] =	{ "ENDED",	6,	6,	1 },
};

/* The order in which columns give way: the last one goes first. */
const enum col_id columns_sessions[] = {
	COL_ID, COL_PEER, COL_VERSION, COL_CIPHER, COL_SUBJECT, COL_IN,
	COL_IDLE, COL_OUT, COL_AGE, COL_STATE, COL_ISSUER
};
const size_t columns_nsessions =
    sizeof(columns_sessions) / sizeof(columns_sessions[0]);

const enum col_id columns_history[] = {
	COL_ID, COL_PEER, COL_REASON, COL_VERSION, COL_CIPHER, COL_DURATION,
	COL_ENDED, COL_SUBJECT, COL_IN, COL_OUT, COL_ISSUER
};
const size_t columns_nhistory =
    sizeof(columns_history) / sizeof(columns_history[0]);

/* Which columns take left-over space, in order. */
static const enum col_id col_flex[] = {
	COL_REASON, COL_CIPHER, COL_SUBJECT, COL_ISSUER, COL_PEER, COL_ID,
	COL_VERSION
};

const struct col_spec *
columns_spec(enum col_id id)
{
	if ((int)id < 0 || id >= COL__COUNT)
		return NULL;
	return &col_specs[id];
}

void
columns_fit(const enum col_id *prio, size_t nprio, int width,
    struct col_layout *out)
{
	int	 chosen[COL__COUNT], w[COL__COUNT];
	int	 used = 0, add, x, i;
	size_t	 k;

	memset(out, 0, sizeof(*out));
	memset(chosen, 0, sizeof(chosen));
	if (width <= 0)
		return;
	for (k = 0; k < nprio; k++) {
		enum col_id	 id = prio[k];
		int		 need = col_specs[id].width + (used ? 1 : 0);

		if (chosen[id] || used + need > width)
			continue;
		chosen[id] = 1;
		w[id] = col_specs[id].width;
		used += need;
	}
	/* Even the first column may not fit a very narrow terminal. */
	if (used == 0 && nprio > 0) {
		chosen[prio[0]] = 1;
		w[prio[0]] = width;
		used = width;
	}
	for (k = 0; k < sizeof(col_flex) / sizeof(col_flex[0]); k++) {
		enum col_id	 id = col_flex[k];

		if (!chosen[id] || used >= width)
			continue;
		add = col_specs[id].max - w[id];
		if (add > width - used)
			add = width - used;
		if (add > 0) {
			w[id] += add;
			used += add;
		}
	}
	x = 0;
	for (i = 0; i < COL__COUNT; i++) {
		if (!chosen[i])
			continue;
		out->col[out->n].id = (enum col_id)i;
		out->col[out->n].x = x;
		out->col[out->n].w = w[i];
		out->n++;
		x += w[i] + 1;
	}
	out->total = used;
}

/* Decodes the UTF-8 character at s (valid: str_escape made it). */
static size_t
col_decode(const unsigned char *s, wchar_t *wc)
{
	if (s[0] < 0x80) {
		*wc = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0 && s[1] != '\0') {
		*wc = ((wchar_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
		return 2;
	}
	if ((s[0] & 0xf0) == 0xe0 && s[1] != '\0' && s[2] != '\0') {
		*wc = ((wchar_t)(s[0] & 0x0f) << 12) |
		    ((wchar_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
		return 3;
	}
	if ((s[0] & 0xf8) == 0xf0 && s[1] != '\0' && s[2] != '\0' &&
	    s[3] != '\0') {
		*wc = ((wchar_t)(s[0] & 0x07) << 18) |
		    ((wchar_t)(s[1] & 0x3f) << 12) |
		    ((wchar_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
		return 4;
	}
	*wc = L'?';
	return 1;
}

/*
 * The display width of one character: wcwidth in a UTF-8 locale; outside
 * one, non-ASCII characters count as one column (and are shown as "?" when
 * ascii_only says the terminal cannot show them).
 */
static int
col_char_width(wchar_t wc)
{
	int	 cw;

	if (wc < 0x80)
		return 1;
	if (MB_CUR_MAX == 1)
		return 1;
	cw = wcwidth(wc);
	return cw < 0 ? 1 : cw;
}

/*
 * Copies into dst as much of src, a string already escaped (valid UTF-8
 * without control characters), as fits width display columns, cut at a
 * character boundary. With ascii_only every non-ASCII character becomes
 * "?". Returns the display width used; *used_bytes (when not NULL) says
 * how much of src went in, so that a caller can wrap the rest.
 */
int
columns_cut(const char *src, int width, int ascii_only, char *dst,
    size_t dstlen, size_t *used_bytes)
{
	const unsigned char	*s = (const unsigned char *)src;
	size_t			 o = 0, n;
	wchar_t			 wc;
	int			 used = 0, cw, printable;

	if (dstlen == 0)
		return 0;
	while (*s != '\0') {
		n = col_decode(s, &wc);
		printable = wc < 0x80 || MB_CUR_MAX == 1 || wcwidth(wc) >= 0;
		cw = col_char_width(wc);
		if (used + cw > width)
			break;
		if ((ascii_only && wc >= 0x80) || !printable) {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = '?';
		} else {
			if (o + n >= dstlen)
				break;
			memcpy(dst + o, s, n);
			o += n;
		}
		used += cw;
		s += n;
	}
	dst[o] = '\0';
	if (used_bytes != NULL)
		*used_bytes = (size_t)((const char *)s - src);
	return used;
}

/*
 * Escapes src (str_escape: control characters become \xNN) and cuts it
 * to width columns as columns_cut does. Returns the display width used.
 */
int
columns_fit_text(const char *src, int width, int ascii_only, char *dst,
    size_t dstlen)
{
	char	 esc[4 * PROTO_NAME_MAX + 8];

	str_escape(src != NULL ? src : "", esc, sizeof(esc));
	return columns_cut(esc, width, ascii_only, dst, dstlen, NULL);
}

/* The display width src would take once escaped, up to max. */
int
columns_text_width(const char *src, int max)
{
	char	 buf[4 * PROTO_NAME_MAX + 8];

	return columns_fit_text(src, max, 0, buf, sizeof(buf));
}
