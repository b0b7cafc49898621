/*
 * The model: everything the daemon has told this monitor, kept apart from
 * drawing. The feed hands each decoded message to model_apply(); the view
 * reads the model and asks it for the rows to show.
 *
 * Open sessions live in an unordered array (each knows its index, so a
 * close is a swap-remove) and an open-addressing hash by id (linear
 * probing, backward-shift deletion), so that applying an event costs O(1)
 * whatever the number of sessions. The filtered, sorted rows are rebuilt
 * only when something changed and only when the view asks for them, which
 * is at most once per redraw. Closed sessions go to a bounded ring.
 *
 * A snapshot (after hello, or a resynchronisation the daemon starts with
 * fresh session lines) replaces what was known: each session line is
 * stamped with the snapshot's generation, and at "end" sessions from older
 * generations are swept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "monitor/tlsmon.h"

static void	 model_begin_snapshot(struct model *);
static void	 model_upsert(struct model *, const struct proto_session *);
static void	 model_remove(struct model *, struct mon_sess *);
static void	 model_push_closed(struct model *,
		    const struct proto_session *);
static void	 model_merge_counters(struct model *,
		    const struct proto_counters *, int64_t);
static void	 sess_merge(struct proto_session *,
		    const struct proto_session *);
static void	 hash_insert(struct model *, struct mon_sess *);
static void	 hash_delete(struct model *, uint64_t);
static void	 hash_grow(struct model *);
static size_t	 hash_home(const struct model *, uint64_t);
static int	 sess_compare(const void *, const void *, void *);
static int	 hist_compare(const void *, const void *);

void
model_init(struct model *m)
{
	memset(m, 0, sizeof(*m));
	m->hist = xreallocarray(NULL, MON_HISTORY_MAX, sizeof(*m->hist));
	m->sort_col = COL_ID;
	m->rows_dirty = m->hrows_dirty = 1;
}

void
model_free(struct model *m)
{
	size_t	 i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nsess; i++)
		free(m->sess[i]);
	free(m->sess);
	free(m->hash);
	free(m->hist);
	free(m->rows);
	free(m->hrows);
	memset(m, 0, sizeof(*m));
}

/* Forgets the daemon's state; keeps the user's sort and filter. */
void
model_reset(struct model *m)
{
	size_t	 i;

	for (i = 0; i < m->nsess; i++)
		free(m->sess[i]);
	m->nsess = 0;
	if (m->hash != NULL)
		memset(m->hash, 0, m->hashcap * sizeof(*m->hash));
	m->nhist = m->histhead = 0;
	m->nrows = m->nhrows = 0;
	m->have_hello = m->in_snapshot = 0;
	memset(&m->hello, 0, sizeof(m->hello));
	memset(&m->counters, 0, sizeof(m->counters));
	m->nrate = m->ratehead = 0;
	m->bye = 0;
	m->rows_dirty = m->hrows_dirty = m->changed = 1;
}

void
model_apply(struct model *m, const struct proto_msg *msg, int64_t now)
{
	const struct proto_session	*s = &msg->u.session;
	struct mon_sess			*ms;

	m->changed = 1;
	switch (msg->type) {
	case PROTO_HELLO:
		model_reset(m);
		m->hello = msg->u.hello;
		m->have_hello = 1;
		m->message[0] = '\0';
		model_begin_snapshot(m);
		break;
	case PROTO_SESSION:
		if (!m->in_snapshot)
			model_begin_snapshot(m);
		model_upsert(m, s);
		break;
	case PROTO_CLOSED:
		if (!m->in_snapshot)
			model_begin_snapshot(m);
		model_push_closed(m, s);
		break;
	case PROTO_COUNTERS:
		model_merge_counters(m, &msg->u.counters, now);
		break;
	case PROTO_END:
		if (!m->in_snapshot)
			m->gen++;	/* an empty resynchronisation */
		m->in_snapshot = 0;
		for (size_t i = 0; i < m->nsess; ) {
			if (m->sess[i]->gen != m->gen)
				model_remove(m, m->sess[i]);
			else
				i++;
		}
		break;
	case PROTO_OPEN:
		model_upsert(m, s);
		break;
	case PROTO_UPDATE:
		if ((ms = model_find(m, s->id)) == NULL)
			break;
		sess_merge(&ms->s, s);
		m->rows_dirty = 1;
		break;
	case PROTO_CLOSE:
		if ((ms = model_find(m, s->id)) != NULL) {
			/* The close record is complete; keep what it lacks. */
			struct proto_session	 c = ms->s;

			sess_merge(&c, s);
			c.state = PROTO_STATE_CLOSED;
			model_remove(m, ms);
			model_push_closed(m, &c);
		} else
			model_push_closed(m, s);
		break;
	case PROTO_RELOAD:
		snprintf(m->message, sizeof(m->message), "reload %s%s%s",
		    msg->u.reload.ok ? "done" : "failed",
		    msg->u.reload.message[0] ? ": " : "",
		    msg->u.reload.message);
		m->message_is_error = !msg->u.reload.ok;
		break;
	case PROTO_OK:
		if (strcmp(msg->u.ok.command, "kill") == 0)
			snprintf(m->message, sizeof(m->message),
			    "session %llu killed",
			    (unsigned long long)msg->u.ok.id);
		else
			snprintf(m->message, sizeof(m->message), "%s: ok",
			    msg->u.ok.command);
		m->message_is_error = 0;
			break;
	case PROTO_ERROR:
		snprintf(m->message, sizeof(m->message), "daemon: %s",
		    msg->u.error.message);
		m->message_is_error = 1;
			break;
	case PROTO_BYE:
		snprintf(m->message, sizeof(m->message),
		    "daemon is shutting down%s%s",
		    msg->u.error.message[0] ? ": " : "", msg->u.error.message);
		m->message_is_error = 1;
		m->bye = 1;
		break;
	}
}

static void
model_begin_snapshot(struct model *m)
{
	m->gen++;
	m->in_snapshot = 1;
	m->nhist = m->histhead = 0;
	m->hrows_dirty = 1;
}

struct mon_sess *
model_find(const struct model *m, uint64_t id)
{
	size_t	 i, mask;

	if (m->hashcap == 0)
		return NULL;
	mask = m->hashcap - 1;
	for (i = hash_home(m, id); m->hash[i] != NULL; i = (i + 1) & mask)
		if (m->hash[i]->s.id == id)
			return m->hash[i];
	return NULL;
}

const struct proto_session *
model_find_closed(const struct model *m, uint64_t id)
{
	size_t	 i;

	for (i = 0; i < m->nhist; i++) {
		const struct proto_session *s = &m->hist[(m->histhead +
		    MON_HISTORY_MAX - 1 - i) % MON_HISTORY_MAX];

		if (s->id == id)
			return s;
	}
	return NULL;
}

static void
model_upsert(struct model *m, const struct proto_session *s)
{
	struct mon_sess	*ms;

	if ((ms = model_find(m, s->id)) != NULL) {
		sess_merge(&ms->s, s);
		ms->gen = m->gen;
		m->rows_dirty = 1;
		return;
	}
	ms = xcalloc(1, sizeof(*ms));
	ms->s = *s;
	ms->s.fields = PROTO_F_ALL;
	ms->gen = m->gen;
	if (m->nsess == m->sesscap) {
		m->sesscap = m->sesscap ? m->sesscap * 2 : 64;
		m->sess = xreallocarray(m->sess, m->sesscap, sizeof(*m->sess));
	}
	ms->idx = m->nsess;
	m->sess[m->nsess++] = ms;
	if ((m->nsess + 1) * 2 > m->hashcap)
		hash_grow(m);
	else
		hash_insert(m, ms);
	m->rows_dirty = 1;
}

static void
model_remove(struct model *m, struct mon_sess *ms)
{
	size_t	 i = ms->idx;

	hash_delete(m, ms->s.id);
	m->sess[i] = m->sess[--m->nsess];
	m->sess[i]->idx = i;
	free(ms);
	m->rows_dirty = 1;
}

static void
model_push_closed(struct model *m, const struct proto_session *s)
{
	m->hist[m->histhead] = *s;
	m->hist[m->histhead].state = PROTO_STATE_CLOSED;
	m->histhead = (m->histhead + 1) % MON_HISTORY_MAX;
	if (m->nhist < MON_HISTORY_MAX)
		m->nhist++;
	m->hrows_dirty = 1;
}

/* Copies the field groups src carries into dst. */
static void
sess_merge(struct proto_session *d, const struct proto_session *s)
{
	uint32_t	 f = s->fields;

	if (f & PROTO_F_ADDRS) {
		memcpy(d->peer, s->peer, sizeof(d->peer));
		memcpy(d->local, s->local, sizeof(d->local));
	}
	if (f & PROTO_F_STATE)
		d->state = s->state;
	if (f & PROTO_F_STARTED)
		d->started_ms = s->started_ms;
	if (f & PROTO_F_TLS) {
		d->handshake_ms = s->handshake_ms;
		memcpy(d->version, s->version, sizeof(d->version));
		memcpy(d->cipher, s->cipher, sizeof(d->cipher));
		d->cipher_bits = s->cipher_bits;
		memcpy(d->sni, s->sni, sizeof(d->sni));
		memcpy(d->alpn, s->alpn, sizeof(d->alpn));
		d->resumed = s->resumed;
	}
	if (f & PROTO_F_PEER_CERT) {
		d->has_peer_cert = s->has_peer_cert;
		memcpy(d->peer_subject, s->peer_subject,
		    sizeof(d->peer_subject));
		memcpy(d->peer_issuer, s->peer_issuer, sizeof(d->peer_issuer));
		memcpy(d->peer_pin, s->peer_pin, sizeof(d->peer_pin));
		d->peer_not_after = s->peer_not_after;
	}
	if (f & PROTO_F_BYTES) {
		d->bytes_in = s->bytes_in;
		d->bytes_out = s->bytes_out;
	}
	if (f & PROTO_F_ACTIVITY)
		d->last_activity_ms = s->last_activity_ms;
	if (f & PROTO_F_END) {
		memcpy(d->reason, s->reason, sizeof(d->reason));
		d->ended_ms = s->ended_ms;
	}
	d->fields |= f;
}

/*
 * A counters line in a snapshot is complete; in a watch it carries only
 * the groups that changed. Either way, copy the groups it has.
 */
static void
model_merge_counters(struct model *m, const struct proto_counters *c,
    int64_t now)
{
	struct proto_counters	*d = &m->counters;
	struct mon_rate_sample	*r;
	uint32_t		 f = c->fields;

	if (f & PROTO_C_ACCEPTED)
		d->accepted = c->accepted;
	if (f & PROTO_C_ACTIVE)
		d->active = c->active;
	if (f & PROTO_C_REJECTED)
		d->rejected = c->rejected;
	if (f & PROTO_C_BYTES) {
		d->bytes_in = c->bytes_in;
		d->bytes_out = c->bytes_out;
	}
	if (f & PROTO_C_SUBSCRIBERS) {
		d->subscribers = c->subscribers;
		d->subscribers_dropped = c->subscribers_dropped;
		d->subscribers_resynced = c->subscribers_resynced;
		d->commands_oversized = c->commands_oversized;
	}
	if (f & PROTO_C_HS_FAILURES)
		d->handshake_failures = c->handshake_failures;
	if (f & PROTO_C_CLOSES)
		d->closes = c->closes;
	if (f & PROTO_C_VERSIONS)
		d->versions = c->versions;
	if (f & PROTO_C_CIPHERS)
		d->ciphers = c->ciphers;
	d->fields |= f;
	d->time_ms = c->time_ms;

	/* A resynchronised or restarted daemon's counters start afresh. */
	if (m->nrate > 0) {
		r = &m->rate[(m->ratehead + MON_RATE_SAMPLES - 1) %
		    MON_RATE_SAMPLES];
		if (d->accepted < r->accepted || d->bytes_in < r->bytes_in ||
		    d->bytes_out < r->bytes_out)
			m->nrate = 0;
	}
	r = &m->rate[m->ratehead];
	r->t = now;
	r->accepted = d->accepted;
	r->bytes_in = d->bytes_in;
	r->bytes_out = d->bytes_out;
	m->ratehead = (m->ratehead + 1) % MON_RATE_SAMPLES;
	if (m->nrate < MON_RATE_SAMPLES)
		m->nrate++;
}

/*
 * Accepts and bytes per second, over about the last second or more of
 * counter samples. When no counters arrived for three seconds nothing is
 * moving and the rates are zero.
 */
void
model_rates(const struct model *m, int64_t now, double *acc, double *in,
    double *out)
{
	const struct mon_rate_sample	*last, *base = NULL, *s;
	size_t				 i;
	double				 dt;

	*acc = *in = *out = 0;
	if (m->nrate < 2)
		return;
	last = &m->rate[(m->ratehead + MON_RATE_SAMPLES - 1) %
	    MON_RATE_SAMPLES];
	if (now - last->t > 3000)
		return;
	for (i = 1; i < m->nrate; i++) {
		s = &m->rate[(m->ratehead + MON_RATE_SAMPLES - 1 - i) %
		    MON_RATE_SAMPLES];
		base = s;
		if (last->t - s->t >= 900)
			break;
	}
	if (base == NULL || last->t <= base->t)
		return;
	dt = (double)(last->t - base->t) / 1000.0;
	*acc = (double)(last->accepted - base->accepted) / dt;
	*in = (double)(last->bytes_in - base->bytes_in) / dt;
	*out = (double)(last->bytes_out - base->bytes_out) / dt;
}

void
model_set_sort(struct model *m, enum col_id col, int reverse)
{
	if (m->sort_col != col || m->sort_rev != reverse)
		m->rows_dirty = m->changed = 1;
	m->sort_col = col;
	m->sort_rev = reverse;
}

void
model_set_filter(struct model *m, const char *f)
{
	if (strcmp(m->filter, f) == 0)
		return;
	snprintf(m->filter, sizeof(m->filter), "%s", f);
	m->rows_dirty = m->hrows_dirty = m->changed = 1;
}

/* Whether a session matches the filter: a substring, any case. */
static int
model_matches(const struct model *m, const struct proto_session *s)
{
	const char	*f = m->filter;

	if (f[0] == '\0')
		return 1;
	return strcasestr(s->peer, f) != NULL ||
	    strcasestr(s->peer_subject, f) != NULL ||
	    strcasestr(s->peer_issuer, f) != NULL ||
	    strcasestr(s->cipher, f) != NULL;
}

#define CMP(a, b)	((a) < (b) ? -1 : (a) > (b) ? 1 : 0)

static int
sess_compare(const void *pa, const void *pb, void *arg)
{
	const struct model		*m = arg;
	const struct proto_session	*a = &(*(struct mon_sess *const *)pa)->s;
	const struct proto_session	*b = &(*(struct mon_sess *const *)pb)->s;
	int				 c = 0;

	switch (m->sort_col) {
	case COL_PEER:
		c = strcmp(a->peer, b->peer);
		break;
	case COL_STATE:
		c = CMP(a->state, b->state);
		break;
	case COL_VERSION:
		c = strcmp(a->version, b->version);
		break;
	case COL_CIPHER:
		c = strcmp(a->cipher, b->cipher);
		break;
	case COL_SUBJECT:
		c = strcmp(a->peer_subject, b->peer_subject);
		break;
	case COL_ISSUER:
		c = strcmp(a->peer_issuer, b->peer_issuer);
		break;
	case COL_IN:
		c = CMP(a->bytes_in, b->bytes_in);
		break;
	case COL_OUT:
		c = CMP(a->bytes_out, b->bytes_out);
		break;
	case COL_AGE:		/* youngest first */
		c = CMP(b->started_ms, a->started_ms);
		break;
	case COL_IDLE:		/* most recently active first */
		c = CMP(b->last_activity_ms, a->last_activity_ms);
		break;
	default:
		break;
	}
	if (c == 0)
		c = CMP(a->id, b->id);
	return m->sort_rev ? -c : c;
}

/* Newest first. */
static int
hist_compare(const void *pa, const void *pb)
{
	const struct proto_session	*a = *(const struct proto_session *const *)pa;
	const struct proto_session	*b = *(const struct proto_session *const *)pb;
	int				 c = CMP(b->ended_ms, a->ended_ms);

	return c != 0 ? c : CMP(b->id, a->id);
}

/* Filters and sorts the open sessions into m->rows if anything changed. */
size_t
model_rows(struct model *m)
{
	size_t	 i;

	if (!m->rows_dirty)
		return m->nrows;
	if (m->rowscap < m->nsess) {
		m->rowscap = m->nsess;
		m->rows = xreallocarray(m->rows, m->rowscap, sizeof(*m->rows));
	}
	m->nrows = 0;
	for (i = 0; i < m->nsess; i++)
		if (model_matches(m, &m->sess[i]->s))
			m->rows[m->nrows++] = m->sess[i];
	if (m->nrows > 1)
		qsort_r(m->rows, m->nrows, sizeof(*m->rows), sess_compare, m);
	m->rows_dirty = 0;
	return m->nrows;
}

/* Filters the closed sessions into m->hrows, newest first. */
size_t
model_history_rows(struct model *m)
{
	size_t	 i;

	if (!m->hrows_dirty)
		return m->nhrows;
	if (m->hrows == NULL)
		m->hrows = xreallocarray(NULL, MON_HISTORY_MAX,
		    sizeof(*m->hrows));
	m->nhrows = 0;
	for (i = 0; i < m->nhist; i++)
		if (model_matches(m, &m->hist[i]))
			m->hrows[m->nhrows++] = &m->hist[i];
	if (m->nhrows > 1)
		qsort(m->hrows, m->nhrows, sizeof(*m->hrows), hist_compare);
	m->hrows_dirty = 0;
	return m->nhrows;
}

static int
bucket_compare(const void *pa, const void *pb)
{
	const struct mon_bucket	*a = pa, *b = pb;
	int			 c = CMP(b->sessions, a->sessions);

	return c != 0 ? c : strcmp(a->name, b->name);
}

/*
 * Open sessions and their bytes by TLS version (kind 0), cipher suite (1)
 * or client-certificate issuer (2), most sessions first.
 */
void
model_breakdown(const struct model *m, int kind, struct mon_breakdown *out)
{
	const struct proto_session	*s;
	const char			*name;
	size_t				 i, j;

	out->n = 0;
	for (i = 0; i < m->nsess; i++) {
		s = &m->sess[i]->s;
		if (kind == 0)
			name = s->version[0] ? s->version : "(handshake)";
		else if (kind == 1)
			name = s->cipher[0] ? s->cipher : "(handshake)";
		else
			name = s->has_peer_cert ? s->peer_issuer :
			    "(no client certificate)";
		for (j = 0; j < out->n; j++)
			if (strcmp(out->b[j].name, name) == 0)
				break;
		if (j == out->n) {
			if (out->n == out->cap) {
				out->cap = out->cap ? out->cap * 2 : 16;
				out->b = xreallocarray(out->b, out->cap,
				    sizeof(*out->b));
			}
			memset(&out->b[j], 0, sizeof(out->b[j]));
			snprintf(out->b[j].name, sizeof(out->b[j].name), "%s",
			    name);
			out->n++;
		}
		out->b[j].sessions++;
		out->b[j].bytes_in += s->bytes_in;
		out->b[j].bytes_out += s->bytes_out;
	}
	if (out->n > 1)
		qsort(out->b, out->n, sizeof(*out->b), bucket_compare);
}

void
model_breakdown_free(struct mon_breakdown *b)
{
	free(b->b);
	memset(b, 0, sizeof(*b));
}

const char *
model_state_name(enum proto_state st)
{
	switch (st) {
	case PROTO_STATE_HANDSHAKE:
		return "hshk";
	case PROTO_STATE_ESTABLISHED:
		return "estab";
	case PROTO_STATE_CLOSING:
		return "clsng";
	case PROTO_STATE_CLOSED:
		return "closd";
	}
	return "?";
}

/*
 * The raw text of one cell (not yet escaped: the caller escapes and cuts
 * it). now is epoch milliseconds.
 */
void
model_cell(const struct proto_session *s, enum col_id col, int64_t now,
    char *buf, size_t len)
{
	const char	*v = NULL;

	switch (col) {
	case COL_ID:
		snprintf(buf, len, "%llu", (unsigned long long)s->id);
		return;
	case COL_PEER:
		v = s->peer;
		break;
	case COL_STATE:
		v = model_state_name(s->state);
		break;
	case COL_VERSION:
		v = s->version;
		break;
	case COL_CIPHER:
		v = s->cipher;
		break;
	case COL_SUBJECT:
		v = s->has_peer_cert ? s->peer_subject : "";
		break;
	case COL_ISSUER:
		v = s->has_peer_cert ? s->peer_issuer : "";
		break;
	case COL_REASON:
		v = s->reason;
		break;
	case COL_IN:
		fmt_bytes(s->bytes_in, buf, len);
		return;
	case COL_OUT:
		fmt_bytes(s->bytes_out, buf, len);
		return;
	case COL_AGE:
		fmt_duration((now - s->started_ms) / 1000, buf, len);
		return;
	case COL_IDLE:
		fmt_duration((now - (s->last_activity_ms ? s->last_activity_ms :
		    s->started_ms)) / 1000, buf, len);
		return;
	case COL_DURATION:
		fmt_duration((s->ended_ms - s->started_ms) / 1000, buf, len);
		return;
	case COL_ENDED:
		fmt_duration((now - s->ended_ms) / 1000, buf, len);
		return;
	case COL__COUNT:
		break;
	}
	snprintf(buf, len, "%s", v != NULL && v[0] != '\0' ? v : "-");
}

/* tlsmon's allocations: out of memory ends it (the terminal is restored
 * by view_end at exit). */
void *
xreallocarray(void *p, size_t n, size_t size)
{
	void	*q;

	if ((q = reallocarray(p, n, size)) == NULL) {
		fprintf(stderr, "tlsmon: out of memory\n");
		exit(1);
	}
	return q;
}

void *
xcalloc(size_t n, size_t size)
{
	void	*q;

	if ((q = calloc(n, size)) == NULL) {
		fprintf(stderr, "tlsmon: out of memory\n");
		exit(1);
	}
	return q;
}

static size_t
hash_home(const struct model *m, uint64_t id)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (size_t)id & (m->hashcap - 1);
}

static void
hash_insert(struct model *m, struct mon_sess *ms)
{
	size_t	 i, mask = m->hashcap - 1;

	for (i = hash_home(m, ms->s.id); m->hash[i] != NULL;
	    i = (i + 1) & mask)
		;
	m->hash[i] = ms;
}

/* Rebuilds the hash twice as large from the session array. */
static void
hash_grow(struct model *m)
{
	size_t	 i;

	m->hashcap = m->hashcap ? m->hashcap * 2 : 128;
	free(m->hash);
	m->hash = xcalloc(m->hashcap, sizeof(*m->hash));
	for (i = 0; i < m->nsess; i++)
		hash_insert(m, m->sess[i]);
}

static void
hash_delete(struct model *m, uint64_t id)
{
	size_t	 i, j, k, mask;

	if (m->hashcap == 0)
		return;
	mask = m->hashcap - 1;
	for (i = hash_home(m, id); m->hash[i] != NULL; i = (i + 1) & mask)
		if (m->hash[i]->s.id == id)
			break;
	if (m->hash[i] == NULL)
		return;
	m->hash[i] = NULL;
	/* Shift back entries that probed past the hole. */
	for (j = (i + 1) & mask; m->hash[j] != NULL; j = (j + 1) & mask) {
		k = hash_home(m, m->hash[j]->s.id);
		if ((j > i && (k <= i || k > j)) ||
		    (j < i && (k <= i && k > j))) {
			m->hash[i] = m->hash[j];
			m->hash[j] = NULL;
			i = j;
		}
	}
}
