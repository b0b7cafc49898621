/*
 * The view: the only file that includes curses. It draws the model (the
 * header, the sessions table, the history, the breakdown, the detail of
 * one session, the help, the filter prompt, the kill confirmation and the
 * status line) and turns keys into changes of view state or actions for
 * main.c.
 *
 * Every frame is drawn whole into curses' virtual screen (erase, never
 * clear) and refresh() sends only the cells that changed, so there is no
 * flicker; main.c calls view_draw only when the model or the view state
 * changed, or once a second for the ages, at most about 20 times a second.
 *
 * Every string from the network goes through columns_fit_text (str_escape,
 * then cut at a character boundary to the column's display width); text is
 * written with the wide-character functions so that UTF-8 is shown right.
 * Colours only when the terminal has them and NO_COLOR is not set;
 * otherwise reverse video, bold and dim carry the meaning.
 */
#define NCURSES_WIDECHAR	1

#include <curses.h>
#include <langinfo.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "common/util.h"
#include "monitor/tlsmon.h"

enum view_tab {
	TAB_SESSIONS = 0,
	TAB_HISTORY,
	TAB_BREAKDOWN
};

#define PAIR_TITLE	1
#define PAIR_HEADING	2
#define PAIR_WARN	3
#define PAIR_ERROR	4
#define PAIR_GOOD	5

#define HEADER_LINES	5	/* four lines of header and the tab bar */

static int		 v_started;
static int		 v_colors;
static int		 v_ascii;	/* the locale cannot show UTF-8 */
static enum view_tab	 v_tab;
static int		 v_detail;
static int		 v_help;
static int		 v_prompt;
static char		 v_input[MON_FILTER_MAX];
static int		 v_confirm;
static uint64_t		 v_confirm_id;
static uint64_t		 v_kill_id;
static uint64_t		 v_sel_id[2];
static size_t		 v_sel[2], v_top[2];
static attr_t		 v_base;	/* A_DIM while disconnected */
static struct mon_breakdown v_bd;

static void	 put(int, int, int, const char *, attr_t, short);
static void	 putf(int, int, int, attr_t, short, const char *, ...)
		    __attribute__((format(printf, 6, 7)));
static void	 draw_header(struct model *, const struct feed *, int64_t,
		    int);
static void	 draw_tabs(struct model *);
static void	 draw_table(struct model *, int64_t, int, int);
static void	 draw_detail(struct model *, int64_t, int, int);
static void	 draw_breakdown(struct model *, int, int);
static void	 draw_help(int, int);
static void	 draw_status(struct model *, const struct feed *, int64_t,
		    int);
static size_t	 tab_rows(struct model *, enum view_tab);
static uint64_t	 tab_row_id(struct model *, enum view_tab, size_t);
static void	 sync_selection(struct model *, enum view_tab);
static void	 move_selection(struct model *, long);
static int	 body_lines(void);
static enum view_action prompt_key(struct model *, int, wint_t);

/* Starts curses. Returns 0, or -1 when the terminal cannot be used. */
int
view_start(void)
{
	const char	*nc = getenv("NO_COLOR");
	const char	*cs = nl_langinfo(CODESET);

	if (newterm(NULL, stdout, stdin) == NULL)
		return -1;
	v_started = 1;
	v_ascii = cs == NULL || strcmp(cs, "UTF-8") != 0;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	v_colors = has_colors() && (nc == NULL || nc[0] == '\0');
	if (v_colors) {
		start_color();
		use_default_colors();
		init_pair(PAIR_TITLE, COLOR_CYAN, -1);
		init_pair(PAIR_HEADING, COLOR_BLACK, COLOR_CYAN);
		init_pair(PAIR_WARN, COLOR_YELLOW, -1);
		init_pair(PAIR_ERROR, COLOR_RED, -1);
		init_pair(PAIR_GOOD, COLOR_GREEN, -1);
	}
	return 0;
}

/* Gives the terminal back; safe to call more than once, and from atexit. */
void
view_end(void)
{
	if (!v_started)
		return;
	v_started = 0;
	curs_set(1);
	endwin();
	model_breakdown_free(&v_bd);
}

uint64_t
view_kill_id(void)
{
	return v_kill_id;
}

static int
body_lines(void)
{
	int	 n = LINES - HEADER_LINES - 2;	/* heading, status */

	return n > 0 ? n : 0;
}

/*
 * Writes text (escaped and cut to w columns) at y, x with attributes;
 * pair 0 means no colour. Returns nothing: a cut is silent.
 */
static void
put(int y, int x, int w, const char *text, attr_t attr, short pair)
{
	char	 cut[4 * PROTO_NAME_MAX + 8];
	wchar_t	 wide[4 * PROTO_NAME_MAX + 8];
	size_t	 n;

	if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
		return;
	if (x + w > COLS)
		w = COLS - x;
	/* Never write the bottom-right cell: some terminals scroll. */
	if (y == LINES - 1 && x + w >= COLS)
		w = COLS - x - 1;
	if (w <= 0)
		return;
	columns_fit_text(text, w, v_ascii, cut, sizeof(cut));
	n = mbstowcs(wide, cut, sizeof(wide) / sizeof(wide[0]) - 1);
	if (n == (size_t)-1)
		return;
	wide[n] = L'\0';
	attr |= v_base;
	if (!v_colors)
		pair = 0;
	attr_set(attr, pair, NULL);
	mvaddnwstr(y, x, wide, (int)n);
	attr_set(A_NORMAL, 0, NULL);
}

static void
putf(int y, int x, int w, attr_t attr, short pair, const char *fmt, ...)
{
	char	 buf[2048];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put(y, x, w, buf, attr, pair);
}

/* Redraws the whole screen from the model; curses sends what changed. */
void
view_draw(struct model *m, const struct feed *f, int64_t now, int paused)
{
	int	 y0 = HEADER_LINES, lines = body_lines();

	if (!v_started)
		return;
	v_base = f->up ? A_NORMAL : A_DIM;
	erase();
	draw_header(m, f, now, paused);
	draw_tabs(m);
	if (v_help)
		draw_help(y0, lines + 1);
	else if (v_detail && v_tab != TAB_BREAKDOWN)
		draw_detail(m, now, y0, lines + 1);
	else if (v_tab == TAB_BREAKDOWN)
		draw_breakdown(m, y0, lines + 1);
	else
		draw_table(m, now, y0, lines);
	draw_status(m, f, now, paused);
	refresh();
}

static void
draw_header(struct model *m, const struct feed *f, int64_t now, int paused)
{
	const struct proto_hello	*h = &m->hello;
	const struct proto_counters	*c = &m->counters;
	const struct proto_tally	*hf = &c->handshake_failures;
	char				 a[256], b[256], t1[32], t2[32];
	double				 acc, in, out;
	uint64_t			 hftotal = 0, total = 0;
	int64_t				 days;
	size_t				 i, top[2], ntop;
	int				 x;
	short				 pair;

	if (!m->have_hello) {
		putf(0, 0, COLS, A_BOLD, PAIR_TITLE, "tlsmon %s: %s",
		    TLSECHO_VERSION, f->path);
	} else {
		fmt_duration((now - h->started_ms) / 1000, t1, sizeof(t1));
		snprintf(a, sizeof(a), "%s", h->nlisten ? h->listen[0] : "-");
		if (h->nlisten > 1)
			snprintf(b, sizeof(b), " +%zu", h->nlisten - 1);
		else
			b[0] = '\0';
		putf(0, 0, COLS, A_BOLD, PAIR_TITLE,
		    "tlsechod %s  pid %lld  up %s  listen %s%s", h->version,
		    (long long)h->pid, t1, a, b);
	}
	if (f->fd == -1) {
		snprintf(a, sizeof(a), " DISCONNECTED ");
		x = COLS - (int)strlen(a);
		put(0, x > 0 ? x : 0, COLS, a, A_BOLD | A_REVERSE, PAIR_ERROR);
	} else if (paused) {
		x = COLS - 8;
		put(0, x > 0 ? x : 0, COLS, " PAUSED ", A_BOLD | A_REVERSE,
		    PAIR_WARN);
	}

	days = (h->cert_not_after - now / 1000) / 86400;
	pair = days < 7 ? PAIR_ERROR : days < 30 ? PAIR_WARN : 0;
	if (m->have_hello) {
		put(1, 0, 5, "cert ", A_NORMAL, 0);
		x = columns_text_width(h->cert_subject, COLS / 2);
		put(1, 5, x, h->cert_subject, A_NORMAL, 0);
		putf(1, 5 + x, COLS - 5 - x,
		    pair ? A_BOLD : A_NORMAL, pair, "  expires in %lldd",
		    (long long)days);
	}

	for (i = 0; i < hf->n; i++)
		hftotal += hf->item[i].count;
	ntop = proto_tally_top(hf, top, 2);
	b[0] = '\0';
	for (i = 0; i < ntop; i++) {
		size_t	 len = strlen(b);

		snprintf(b + len, sizeof(b) - len, "%s%s %llu", i ? ", " : " (",
		    hf->item[top[i]].name,
		    (unsigned long long)hf->item[top[i]].count);
	}
	if (ntop > 0 && strlen(b) + 1 < sizeof(b))
		memcpy(b + strlen(b), ")", 2);
	model_rates(m, time_mono_ms(), &acc, &in, &out);
	putf(2, 0, COLS, A_NORMAL, 0,
	    "sessions %zu/%lld  accepted %llu (%.1f/s)  rejected %llu  "
	    "hs-fail %llu%s", m->nsess, (long long)h->max_conns,
	    (unsigned long long)c->accepted, acc,
	    (unsigned long long)c->rejected, (unsigned long long)hftotal, b);

	fmt_bytes((uint64_t)in, t1, sizeof(t1));
	fmt_bytes((uint64_t)out, t2, sizeof(t2));
	snprintf(a, sizeof(a), "in %s/s  out %s/s ", t1, t2);
	model_breakdown(m, 0, &v_bd);
	for (i = 0; i < v_bd.n; i++)
		total += v_bd.b[i].sessions;
	for (i = 0; i < v_bd.n && total > 0; i++) {
		size_t	 len = strlen(a);

		if (snprintf(a + len, sizeof(a) - len, " %s %.0f%%",
		    v_bd.b[i].name, 100.0 * (double)v_bd.b[i].sessions /
		    (double)total) >= (int)(sizeof(a) - len))
			break;
	}
	put(3, 0, COLS, a, A_NORMAL, 0);
}

static void
draw_tabs(struct model *m)
{
	static const char *const names[] = { "Sessions", "History",
	    "Breakdown" };
	char	 buf[64];
	size_t	 counts[3];
	int	 x = 0, i;

	counts[0] = model_rows(m);
	counts[1] = model_history_rows(m);
	counts[2] = m->nsess;
	for (i = 0; i < 3; i++) {
		if (i < 2)
			snprintf(buf, sizeof(buf), " %d %s (%zu) ", i + 1,
			    names[i], counts[i]);
		else
			snprintf(buf, sizeof(buf), " %d %s ", i + 1, names[i]);
		put(4, x, COLS - x, buf,
		    (int)v_tab == i ? A_REVERSE | A_BOLD : A_NORMAL, 0);
		x += (int)strlen(buf) + 1;
	}
	if (m->filter[0] != '\0') {
		char	 f[MON_FILTER_MAX + 16];

		snprintf(f, sizeof(f), "filter: %s", m->filter);
		put(4, x + 1, COLS - x - 1, f, A_BOLD, PAIR_WARN);
	}
}

static size_t
tab_rows(struct model *m, enum view_tab tab)
{
	return tab == TAB_HISTORY ? model_history_rows(m) : model_rows(m);
}

static uint64_t
tab_row_id(struct model *m, enum view_tab tab, size_t i)
{
	return tab == TAB_HISTORY ? m->hrows[i]->id : m->rows[i]->s.id;
}

/* Keeps the selection on the same session when rows move. */
static void
sync_selection(struct model *m, enum view_tab tab)
{
	size_t	 n = tab_rows(m, tab), i, vis = (size_t)body_lines();
	int	 t = tab == TAB_HISTORY;

	if (n == 0) {
		v_sel[t] = v_top[t] = 0;
		return;
	}
	if (v_sel[t] >= n || tab_row_id(m, tab, v_sel[t]) != v_sel_id[t]) {
		for (i = 0; i < n; i++)
			if (tab_row_id(m, tab, i) == v_sel_id[t])
				break;
		if (i < n)
			v_sel[t] = i;
		else if (v_sel[t] >= n)
			v_sel[t] = n - 1;
	}
	v_sel_id[t] = tab_row_id(m, tab, v_sel[t]);
	if (vis == 0)
		vis = 1;
	if (v_sel[t] < v_top[t])
		v_top[t] = v_sel[t];
	if (v_sel[t] >= v_top[t] + vis)
		v_top[t] = v_sel[t] - vis + 1;
	if (v_top[t] + vis > n)
		v_top[t] = n > vis ? n - vis : 0;
}

static void
move_selection(struct model *m, long delta)
{
	enum view_tab	 tab = v_tab == TAB_HISTORY ? TAB_HISTORY :
			    TAB_SESSIONS;
	int		 t = tab == TAB_HISTORY;
	size_t		 n = tab_rows(m, tab);
	long		 s;

	if (n == 0)
		return;
	sync_selection(m, tab);
	s = (long)v_sel[t] + delta;
	if (s < 0)
		s = 0;
	if (s >= (long)n)
		s = (long)n - 1;
	v_sel[t] = (size_t)s;
	v_sel_id[t] = tab_row_id(m, tab, v_sel[t]);
}

static void
draw_table(struct model *m, int64_t now, int y0, int lines)
{
	const enum col_id	*cols = v_tab == TAB_HISTORY ? columns_history :
				    columns_sessions;
	size_t			 ncols = v_tab == TAB_HISTORY ?
				    columns_nhistory : columns_nsessions;
	struct col_layout	 l;
	const struct col_spec	*sp;
	const struct proto_session *s;
	char			 raw[PROTO_NAME_MAX], title[32];
	size_t			 n, r;
	int			 c, t = v_tab == TAB_HISTORY, y, w, x;

	columns_fit(cols, ncols, COLS, &l);
	sync_selection(m, v_tab);
	n = tab_rows(m, v_tab);

	/* The heading, with the sort column marked. */
	attr_set(A_REVERSE | v_base, v_colors ? PAIR_HEADING : 0, NULL);
	mvhline(y0, 0, ' ', COLS);
	for (c = 0; c < l.n; c++) {
		sp = columns_spec(l.col[c].id);
		if (!t && l.col[c].id == m->sort_col)
			snprintf(title, sizeof(title), "%s%s", sp->title,
			    m->sort_rev ? "-" : "+");
		else
			snprintf(title, sizeof(title), "%s", sp->title);
		w = (int)strlen(title);
		x = l.col[c].x + (sp->right && w < l.col[c].w ?
		    l.col[c].w - w : 0);
		put(y0, x, l.col[c].w, title, A_REVERSE | A_BOLD,
		    PAIR_HEADING);
	}
	attr_set(A_NORMAL, 0, NULL);

	if (n == 0) {
		put(y0 + 2, 2, COLS - 4, m->filter[0] ? "no row matches "
		    "the filter (Esc clears it)" : t ? "no closed sessions "
		    "yet" : "no open sessions", A_DIM, 0);
		return;
	}
	for (r = v_top[t], y = y0 + 1; r < n && y < y0 + 1 + lines; r++, y++) {
		attr_t	 a = r == v_sel[t] ? A_REVERSE : A_NORMAL;

		s = t ? m->hrows[r] : &m->rows[r]->s;
		if (a != A_NORMAL) {
			attr_set(a | v_base, 0, NULL);
			mvhline(y, 0, ' ', COLS);
			attr_set(A_NORMAL, 0, NULL);
		}
		for (c = 0; c < l.n; c++) {
			char	 cut[4 * PROTO_NAME_MAX];

			sp = columns_spec(l.col[c].id);
			model_cell(s, l.col[c].id, now, raw, sizeof(raw));
			w = columns_fit_text(raw, l.col[c].w, v_ascii, cut,
			    sizeof(cut));
			x = l.col[c].x + (sp->right ? l.col[c].w - w : 0);
			put(y, x, l.col[c].w, raw, a,
			    l.col[c].id == COL_REASON &&
			    strcmp(s->reason, "killed") == 0 ? PAIR_ERROR : 0);
		}
	}
}

/* Writes "label: value", wrapping a long value over several lines. */
static int
detail_line(int y, int ymax, const char *label, const char *value)
{
	char	 esc[4 * PROTO_NAME_MAX + 8], cut[4 * PROTO_NAME_MAX + 8];
	size_t	 off = 0, used;
	int	 x = 16, w = COLS - x;

	if (y >= ymax)
		return y;
	put(y, 2, x - 2, label, A_BOLD, 0);
	str_escape(value, esc, sizeof(esc));
	if (esc[0] == '\0')
		snprintf(esc, sizeof(esc), "-");
	do {
		if (w <= 0 || y >= ymax)
			break;
		columns_cut(esc + off, w, v_ascii, cut, sizeof(cut), &used);
		if (used == 0)
			break;
		/* Already escaped: do not escape the backslashes again. */
		{
			wchar_t	 wide[4 * PROTO_NAME_MAX + 8];
			size_t	 n = mbstowcs(wide, cut,
				    sizeof(wide) / sizeof(wide[0]) - 1);

			if (n != (size_t)-1) {
				attr_set(v_base, 0, NULL);
				mvaddnwstr(y, x, wide, (int)n);
				attr_set(A_NORMAL, 0, NULL);
			}
		}
		off += used;
		y++;
	} while (esc[off] != '\0');
	return y;
}

static void
draw_detail(struct model *m, int64_t now, int y0, int lines)
{
	const struct proto_session	*s = NULL;
	struct mon_sess			*ms;
	char				 buf[PROTO_NAME_MAX + 64], t[64], d[32];
	uint64_t			 id = v_sel_id[v_tab == TAB_HISTORY];
	int				 y = y0, ymax = y0 + lines;

	if (v_tab == TAB_SESSIONS && (ms = model_find(m, id)) != NULL)
		s = &ms->s;
	if (s == NULL)
		s = model_find_closed(m, id);
	if (s == NULL || tab_rows(m, v_tab) == 0) {
		put(y0 + 1, 2, COLS - 4, "no session selected (Enter or Esc "
		    "goes back)", A_DIM, 0);
		return;
	}
	snprintf(buf, sizeof(buf), " session %llu%s (Enter or Esc goes back) ",
	    (unsigned long long)s->id, s->state == PROTO_STATE_CLOSED ?
	    ", closed" : "");
	attr_set(A_REVERSE | v_base, v_colors ? PAIR_HEADING : 0, NULL);
	mvhline(y, 0, ' ', COLS);
	attr_set(A_NORMAL, 0, NULL);
	put(y++, 0, COLS, buf, A_REVERSE | A_BOLD, PAIR_HEADING);

	y = detail_line(y, ymax, "state", proto_state_name(s->state) != NULL ?
	    proto_state_name(s->state) : "?");
	y = detail_line(y, ymax, "peer", s->peer);
	y = detail_line(y, ymax, "local", s->local);
	time_format_iso((time_t)(s->started_ms / 1000), t, sizeof(t));
	fmt_duration((now - s->started_ms) / 1000, d, sizeof(d));
	snprintf(buf, sizeof(buf), "%s (%s ago)", t, d);
	y = detail_line(y, ymax, "started", buf);
	if (s->handshake_ms >= 0)
		snprintf(buf, sizeof(buf), "%lld ms", (long long)s->handshake_ms);
	else
		snprintf(buf, sizeof(buf), "in progress");
	y = detail_line(y, ymax, "handshake", buf);
	y = detail_line(y, ymax, "version", s->version);
	if (s->cipher_bits > 0)
		snprintf(buf, sizeof(buf), "%s (%d bits)", s->cipher,
		    s->cipher_bits);
	else
		snprintf(buf, sizeof(buf), "%s", s->cipher);
	y = detail_line(y, ymax, "cipher", buf);
	y = detail_line(y, ymax, "SNI", s->sni);
	y = detail_line(y, ymax, "ALPN", s->alpn);
	y = detail_line(y, ymax, "resumed", s->resumed ? "yes" : "no");
	if (s->has_peer_cert) {
		y = detail_line(y, ymax, "subject", s->peer_subject);
		y = detail_line(y, ymax, "issuer", s->peer_issuer);
		y = detail_line(y, ymax, "pin", s->peer_pin);
		if (s->peer_not_after > 0) {
			time_format_iso((time_t)s->peer_not_after, t,
			    sizeof(t));
			snprintf(buf, sizeof(buf), "%s (in %lld days)", t,
			    (long long)((s->peer_not_after - now / 1000) /
			    86400));
		} else
			snprintf(buf, sizeof(buf), "unknown");
		y = detail_line(y, ymax, "notAfter", buf);
	} else
		y = detail_line(y, ymax, "client cert", "none");
	snprintf(buf, sizeof(buf), "%llu in, %llu out",
	    (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out);
	y = detail_line(y, ymax, "bytes", buf);
	if (s->last_activity_ms > 0) {
		fmt_duration(((s->state == PROTO_STATE_CLOSED ? s->ended_ms :
		    now) - s->last_activity_ms) / 1000, d, sizeof(d));
		y = detail_line(y, ymax, "idle", d);
	}
	if (s->state == PROTO_STATE_CLOSED) {
		y = detail_line(y, ymax, "reason", s->reason);
		time_format_iso((time_t)(s->ended_ms / 1000), t, sizeof(t));
		fmt_duration((s->ended_ms - s->started_ms) / 1000, d,
		    sizeof(d));
		snprintf(buf, sizeof(buf), "%s (lasted %s)", t, d);
		detail_line(y, ymax, "ended", buf);
	}
}

static void
draw_breakdown(struct model *m, int y0, int lines)
{
	static const char *const titles[] = { "TLS version", "cipher suite",
	    "client certificate issuer" };
	char	 in[32], out[32], line[128];
	size_t	 i, total;
	int	 k, y = y0, per = lines / 3, nw, used;

	for (k = 0; k < 3 && y < y0 + lines; k++) {
		model_breakdown(m, k, &v_bd);
		total = m->nsess;
		nw = COLS - 34;
		if (nw < 10)
			nw = 10;
		attr_set(A_REVERSE | v_base, v_colors ? PAIR_HEADING : 0, NULL);
		mvhline(y, 0, ' ', COLS);
		attr_set(A_NORMAL, 0, NULL);
		put(y, 0, nw, titles[k], A_REVERSE | A_BOLD, PAIR_HEADING);
		put(y, nw + 1, COLS - nw - 1, "SESSIONS  SHARE      IN     OUT",
		    A_REVERSE | A_BOLD, PAIR_HEADING);
		y++;
		used = 1;
		if (v_bd.n == 0) {
			put(y++, 2, COLS - 2, "no open sessions", A_DIM, 0);
			used++;
		}
		for (i = 0; i < v_bd.n && used < per - 0 &&
		    y < y0 + lines; i++, y++, used++) {
			fmt_bytes(v_bd.b[i].bytes_in, in, sizeof(in));
			fmt_bytes(v_bd.b[i].bytes_out, out, sizeof(out));
			put(y, 0, nw, v_bd.b[i].name, A_NORMAL, 0);
			snprintf(line, sizeof(line), "%8llu %5.1f%% %7s %7s",
			    (unsigned long long)v_bd.b[i].sessions,
			    total ? 100.0 * (double)v_bd.b[i].sessions /
			    (double)total : 0.0, in, out);
			put(y, nw + 1, COLS - nw - 1, line, A_NORMAL, 0);
		}
		if (i < v_bd.n && y < y0 + lines)
			putf(y++, 2, COLS - 2, A_DIM, 0, "(%zu more)",
			    v_bd.n - i);
	}
}

static void
draw_help(int y0, int lines)
{
	static const char *const help[] = {
		"Up/Down, j, ^N/^P  move          PgUp/PgDn, Home/End  page",
		"Enter              details of the selected session",
		"Tab, 1, 2, 3       sessions, history, breakdown",
		"s / r              cycle the sort column / reverse it",
		"/                  filter: address, subject, issuer, cipher",
		"Esc                clear the filter, leave a view",
		"k                  kill the selected session (asks y/n)",
		"p                  pause the display",
		"?                  this help",
		"q                  quit",
		"",
		"Strings from the network are shown escaped (\\xNN).",
		"tlsmon --once or --json prints a snapshot for scripts.",
	};
	size_t	 i;
	int	 y = y0;

	put(y++, 0, COLS, " tlsmon " TLSECHO_VERSION " keys (any key "
	    "closes) ", A_REVERSE | A_BOLD, PAIR_HEADING);
	for (i = 0; i < sizeof(help) / sizeof(help[0]) && y < y0 + lines;
	    i++)
		put(y++, 2, COLS - 2, help[i], A_NORMAL, 0);
}

static void
draw_status(struct model *m, const struct feed *f, int64_t now, int paused)
{
	const struct col_spec	*sp = columns_spec(m->sort_col);
	struct mon_sess		*ms;
	char			 buf[1024], d[32];
	int64_t			 mono = time_mono_ms();
	int			 y = LINES - 1;

	if (v_prompt) {
		snprintf(buf, sizeof(buf), "filter: %s", v_input);
		put(y, 0, COLS, buf, A_BOLD, 0);
		return;
	}
	if (v_confirm) {
		ms = model_find(m, v_confirm_id);
		snprintf(buf, sizeof(buf), "kill session %llu from %s? y/n%s",
		    (unsigned long long)v_confirm_id,
		    ms != NULL ? ms->s.peer : "?", m->hello.may_kill ? "" :
		    " (the daemon will likely refuse: you are not its user)");
		put(y, 0, COLS, buf, A_BOLD | A_REVERSE, PAIR_WARN);
		return;
	}
	if (f->fd != -1 && !f->up) {
		snprintf(buf, sizeof(buf), "connected to %s, waiting for the "
		    "daemon's hello", f->path);
		put(y, 0, COLS, buf, A_BOLD, PAIR_WARN);
		return;
	}
	if (!f->up) {
		fmt_duration((mono - (f->down_since ? f->down_since : mono)) /
		    1000, d, sizeof(d));
		snprintf(buf, sizeof(buf), "disconnected from %s for %s: %s; "
		    "retrying%s", f->path, d, f->reason[0] ? f->reason :
		    "connecting", f->retry_at > mono ? " soon" : "");
		put(y, 0, COLS, buf, A_BOLD, PAIR_ERROR);
		return;
	}
	if (m->message[0] != '\0') {
		put(y, 0, COLS, m->message, A_BOLD,
		    m->message_is_error ? PAIR_ERROR : PAIR_GOOD);
		return;
	}
	snprintf(buf, sizeof(buf), "sort %s%s  %s?:help q:quit",
	    sp != NULL ? sp->title : "?", m->sort_rev ? " (reversed)" : "",
	    paused ? "PAUSED (p resumes)  " : "");
	put(y, 0, COLS, buf, A_NORMAL, 0);
}

/* A key while the filter prompt is open: the filter follows the input. */
static enum view_action
prompt_key(struct model *m, int r, wint_t wc)
{
	size_t	 len = strlen(v_input);
	char	 mb[MB_LEN_MAX + 1];
	size_t	 n;

	if (r == KEY_CODE_YES && wc == KEY_RESIZE)
		return VIEW_REDRAW;
	if ((r == OK && wc == 27)) {
		v_input[0] = '\0';
		v_prompt = 0;
	} else if ((r == OK && (wc == '\n' || wc == '\r')) ||
	    (r == KEY_CODE_YES && wc == KEY_ENTER)) {
		v_prompt = 0;
	} else if ((r == KEY_CODE_YES && wc == KEY_BACKSPACE) ||
	    (r == OK && (wc == 127 || wc == 8))) {
		while (len > 0 && ((unsigned char)v_input[len - 1] & 0xc0) ==
		    0x80)
			len--;
		if (len > 0)
			len--;
		v_input[len] = '\0';
	} else if (r == OK && wc == 21) {	/* ^U */
		v_input[0] = '\0';
	} else if (r == OK && wc >= 0x20 && wc != 0x7f) {
		mbstate_t	 st;

		memset(&st, 0, sizeof(st));
		n = wcrtomb(mb, (wchar_t)wc, &st);
		if (n != (size_t)-1 && len + n < sizeof(v_input)) {
			memcpy(v_input + len, mb, n);
			v_input[len + n] = '\0';
		}
	}
	model_set_filter(m, v_input);
	v_sel[0] = v_sel[1] = 0;
	return VIEW_REDRAW;
}

/*
 * Reads one key and acts on it. Returns VIEW_IDLE when no key was
 * waiting; otherwise what main.c should do.
 */
enum view_action
view_key(struct model *m)
{
	wint_t		 wc;
	int		 r, page;

	if (!v_started)
		return VIEW_IDLE;
	r = get_wch(&wc);
	if (r == ERR)
		return VIEW_IDLE;
	if (r == KEY_CODE_YES && wc == KEY_RESIZE)
		return VIEW_REDRAW;
	if (v_prompt)
		return prompt_key(m, r, wc);
	m->message[0] = '\0';
	if (v_confirm) {
		v_confirm = 0;
		if (r == OK && (wc == 'y' || wc == 'Y')) {
			v_kill_id = v_confirm_id;
			snprintf(m->message, sizeof(m->message),
			    "killing session %llu...",
			    (unsigned long long)v_kill_id);
			m->message_is_error = 0;
			return VIEW_KILL;
		}
		snprintf(m->message, sizeof(m->message), "kill cancelled");
		m->message_is_error = 0;
		return VIEW_REDRAW;
	}
	if (v_help) {
		v_help = 0;
		if (r == OK && wc == 'q')
			return VIEW_QUIT;
		return VIEW_REDRAW;
	}
	page = body_lines() > 1 ? body_lines() - 1 : 1;
	if (r == KEY_CODE_YES) {
		switch (wc) {
		case KEY_UP:
			move_selection(m, -1);
			break;
		case KEY_DOWN:
			move_selection(m, 1);
			break;
		case KEY_PPAGE:
			move_selection(m, -page);
			break;
		case KEY_NPAGE:
			move_selection(m, page);
			break;
		case KEY_HOME:
			move_selection(m, -(long)tab_rows(m, v_tab));
			break;
		case KEY_END:
			move_selection(m, (long)tab_rows(m, v_tab));
			break;
		case KEY_ENTER:
			v_detail = !v_detail;
			break;
		case KEY_BTAB:
			v_tab = (v_tab + 2) % 3;
			v_detail = 0;
			break;
		}
		return VIEW_REDRAW;
	}
	switch (wc) {
	case 'q':
	case 'Q':
		return VIEW_QUIT;
	case 'j':
	case 14:	/* ^N */
		move_selection(m, 1);
		break;
	case 16:	/* ^P */
		move_selection(m, -1);
		break;
	case '\n':
	case '\r':
		if (v_tab != TAB_BREAKDOWN)
			v_detail = !v_detail;
		break;
	case 27:
		if (v_detail)
			v_detail = 0;
		else
			model_set_filter(m, "");
		v_input[0] = '\0';
		break;
	case '\t':
		v_tab = (v_tab + 1) % 3;
		v_detail = 0;
		break;
	case '1':
	case '2':
	case '3':
		v_tab = (enum view_tab)(wc - '1');
		v_detail = 0;
		break;
	case 's':
		/* Cycle in display order over the columns on screen. */
		{
			struct col_layout	 l;
			int			 c;

			columns_fit(columns_sessions, columns_nsessions, COLS,
			    &l);
			for (c = 0; c < l.n; c++)
				if (l.col[c].id > m->sort_col)
					break;
			if (l.n > 0)
				model_set_sort(m, l.col[c < l.n ? c : 0].id,
				    m->sort_rev);
		}
		v_tab = TAB_SESSIONS;
		break;
	case 'r':
		model_set_sort(m, m->sort_col, !m->sort_rev);
		break;
	case '/':
		v_prompt = 1;
		snprintf(v_input, sizeof(v_input), "%s", m->filter);
		break;
	case 'k':
	case 'K':
		if (v_tab != TAB_SESSIONS || model_rows(m) == 0) {
			snprintf(m->message, sizeof(m->message),
			    "select an open session to kill");
			m->message_is_error = 1;
			break;
		}
		sync_selection(m, TAB_SESSIONS);
		v_confirm = 1;
		v_confirm_id = v_sel_id[0];
		break;
	case 'p':
	case 'P':
		return VIEW_PAUSE;
	case '?':
	case 'h':
		v_help = 1;
		break;
	case 12:	/* ^L */
		clearok(curscr, TRUE);
		break;
	}
	return VIEW_REDRAW;
}
