/*
 * Batch mode, for scripts, pipes and `ssh host tlsmon --once`: one
 * snapshot, printed, then exit. It never touches the terminal's modes.
 *
 * --once prints the daemon's header, the counters, the open sessions and
 * the recently closed ones as plain text tables (strings escaped, columns
 * cut to fit 200 columns or $COLUMNS).
 *
 * --json prints ONE JSON array holding the snapshot's objects in the order
 * the daemon sent them: the hello, every session, every closed session and
 * the counters (the closing "end" is left out). Each object is re-encoded
 * by proto_encode from what was decoded, so the output is valid JSON even
 * if the daemon was not, and carries exactly the fields of common/proto.h.
 *
 * The exit status is 0 when the daemon answered with a complete snapshot,
 * 1 when not (the socket path and the reason go to stderr).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "monitor/tlsmon.h"

struct batch {
	struct feed	*feed;
	struct model	*model;
	int		 json;
	int		 done;
	int		 failed;
	char		**lines;
	size_t		 nlines, cap;
	char		 error[PROTO_TEXT_MAX + 32];
};

static void	batch_msg(void *, const struct proto_msg *);
static void	batch_table(FILE *, const struct proto_session *const *,
		    size_t, const enum col_id *, size_t, int, int64_t);
static void	batch_tally(FILE *, const char *, const struct proto_tally *);
static int	batch_width(void);

static void
batch_msg(void *arg, const struct proto_msg *msg)
{
	struct batch	*b = arg;
	char		*line;
	size_t		 len;

	if (b->done)
		return;
	if (msg->type == PROTO_HELLO &&
	    feed_send_cmd(b->feed, PROTO_CMD_SNAPSHOT, 0) == -1) {
		snprintf(b->error, sizeof(b->error), "cannot send the "
		    "snapshot command");
		b->failed = 1;
		return;
	}
	if (msg->type == PROTO_ERROR) {
		snprintf(b->error, sizeof(b->error), "daemon: %s",
		    msg->u.error.message);
		b->failed = 1;
		return;
	}
	if (msg->type == PROTO_END) {
		b->done = 1;
		return;
	}
	model_apply(b->model, msg, time_mono_ms());
	if (!b->json || msg->type == PROTO_BYE)
		return;
	if ((line = proto_encode(msg, &len)) == NULL) {
		fprintf(stderr, "tlsmon: out of memory\n");
		exit(1);
	}
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (b->nlines == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->lines = xreallocarray(b->lines, b->cap, sizeof(*b->lines));
	}
	b->lines[b->nlines++] = line;
}

/*
 * Connects to path, asks for a snapshot and prints it as text or JSON.
 * Gives up after timeout_ms. Returns the exit status.
 */
int
batch_run(const char *path, int json, int64_t timeout_ms)
{
	struct feed	 feed;
	struct model	 model;
	struct batch	 b;
	struct pollfd	 pfd;
	char		 err[512];
	int64_t		 deadline = time_mono_ms() + timeout_ms, left;
	int		 status = 1;
	size_t		 i;

	feed_init(&feed, path);
	model_init(&model);
	memset(&b, 0, sizeof(b));
	b.feed = &feed;
	b.model = &model;
	b.json = json;
	if (feed_connect(&feed, err, sizeof(err)) == -1) {
		fprintf(stderr, "tlsmon: %s\n", err);
		goto out;
	}
	while (!b.done && !b.failed) {
		if ((left = deadline - time_mono_ms()) <= 0) {
			fprintf(stderr, "tlsmon: %s: no complete snapshot "
			    "within %lld ms\n", path, (long long)timeout_ms);
			goto out;
		}
		pfd.fd = feed.fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(left > 1000 ? 1000 : left)) <= 0)
			continue;
		if (feed_read(&feed, batch_msg, &b) == -1 && !b.done) {
			fprintf(stderr, "tlsmon: %s: %s before the snapshot "
			    "ended\n", path, feed.reason);
			goto out;
		}
	}
	if (b.failed) {
		fprintf(stderr, "tlsmon: %s: %s\n", path, b.error);
		goto out;
	}
	if (json) {
		printf("[");
		for (i = 0; i < b.nlines; i++)
			printf("%s\n%s", i ? "," : "", b.lines[i]);
		printf("\n]\n");
	} else
		batch_print_text(&model, stdout);
	status = fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
out:
	for (i = 0; i < b.nlines; i++)
		free(b.lines[i]);
	free(b.lines);
	model_free(&model);
	feed_free(&feed);
	return status;
}

static int
batch_width(void)
{
	const char	*c = getenv("COLUMNS");
	long		 w;

	if (c != NULL && (w = strtol(c, NULL, 10)) >= 40 && w <= 1000)
		return (int)w;
	return 200;
}

static void
batch_tally(FILE *fp, const char *title, const struct proto_tally *t)
{
	char	 name[4 * PROTO_SHORT_MAX];
	size_t	 i;

	if (t->n == 0)
		return;
	fprintf(fp, "%s:", title);
	for (i = 0; i < t->n; i++) {
		str_escape(t->item[i].name, name, sizeof(name));
		fprintf(fp, "%s %s %llu", i ? "," : "", name,
		    (unsigned long long)t->item[i].count);
	}
	fprintf(fp, "\n");
}

static void
batch_table(FILE *fp, const struct proto_session *const *rows, size_t n,
    const enum col_id *cols, size_t ncols, int width, int64_t now)
{
	struct col_layout	 l;
	char			 raw[PROTO_NAME_MAX], cell[4 * PROTO_NAME_MAX];
	char			 line[8192];
	size_t			 r, o;
	int			 c, used, pad, k;

	columns_fit(cols, ncols, width, &l);
	for (r = 0; r <= n; r++) {
		o = 0;
		for (c = 0; c < l.n; c++) {
			const struct col_spec *sp = columns_spec(l.col[c].id);

			if (r == 0)
				snprintf(raw, sizeof(raw), "%s", sp->title);
			else
				model_cell(rows[r - 1], l.col[c].id, now, raw,
				    sizeof(raw));
			used = columns_fit_text(raw, l.col[c].w, 0, cell,
			    sizeof(cell));
			pad = l.col[c].w - used;
			if (c > 0 && o < sizeof(line) - 1)
				line[o++] = ' ';
			for (k = 0; sp->right && k < pad &&
			    o < sizeof(line) - 1; k++)
				line[o++] = ' ';
			o += (size_t)snprintf(line + o, sizeof(line) - o, "%s",
			    cell);
			if (o >= sizeof(line))
				o = sizeof(line) - 1;
			for (k = 0; !sp->right && k < pad &&
			    o < sizeof(line) - 1; k++)
				line[o++] = ' ';
		}
		while (o > 0 && line[o - 1] == ' ')
			o--;
		line[o] = '\0';
		fprintf(fp, "%s\n", line);
	}
}

/* Prints the model as plain text: header, counters, sessions, history. */
void
batch_print_text(struct model *m, FILE *fp)
{
	const struct proto_hello	*h = &m->hello;
	const struct proto_counters	*c = &m->counters;
	const struct proto_session	**rows;
	char				 a[4 * PROTO_NAME_MAX], t[64];
	char				 b1[32], b2[32];
	int64_t				 now = time_real_ms();
	size_t				 i, n;
	int				 width = batch_width();

	if (m->have_hello) {
		fmt_duration((now - h->started_ms) / 1000, t, sizeof(t));
		fprintf(fp, "tlsechod %s pid %lld up %s listen",
		    str_escape(h->version, a, sizeof(a)), (long long)h->pid, t);
		for (i = 0; i < h->nlisten; i++)
			fprintf(fp, " %s", str_escape(h->listen[i], a,
			    sizeof(a)));
		fprintf(fp, "\n");
		time_format_iso((time_t)h->cert_not_after, t, sizeof(t));
		fprintf(fp, "certificate %s expires %s (%lld days)\n",
		    str_escape(h->cert_subject, a, sizeof(a)), t,
		    (long long)((h->cert_not_after - now / 1000) / 86400));
	}
	fmt_bytes(c->bytes_in, b1, sizeof(b1));
	fmt_bytes(c->bytes_out, b2, sizeof(b2));
	fprintf(fp, "sessions %zu max %lld accepted %llu rejected %llu "
	    "bytes in %s out %s subscribers %llu\n", m->nsess,
	    (long long)h->max_conns, (unsigned long long)c->accepted,
	    (unsigned long long)c->rejected, b1, b2,
	    (unsigned long long)c->subscribers);
	batch_tally(fp, "handshake failures", &c->handshake_failures);
	batch_tally(fp, "closes", &c->closes);
	batch_tally(fp, "versions", &c->versions);
	batch_tally(fp, "ciphers", &c->ciphers);

	n = model_rows(m);
	fprintf(fp, "\nopen sessions: %zu\n", n);
	rows = xcalloc(n + 1, sizeof(*rows));
	for (i = 0; i < n; i++)
		rows[i] = &m->rows[i]->s;
	batch_table(fp, rows, n, columns_sessions, columns_nsessions, width,
	    now);
	free(rows);

	n = model_history_rows(m);
	fprintf(fp, "\nrecently closed: %zu\n", n);
	batch_table(fp, m->hrows, n, columns_history, columns_nhistory, width,
	    now);
}
