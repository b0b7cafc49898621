/*
 * Unit tests for tlsmon's model (applying the daemon's messages, sorting,
 * filtering, rates) and its column fitting and string cutting.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/tlsmon.h"
#include "tests/unit/harness.h"

static struct proto_msg	 msg;

static const struct proto_msg *
mk_session(enum proto_type type, uint64_t id, const char *peer,
    const char *version, const char *cipher, const char *subject,
    uint64_t bytes)
{
	struct proto_session	*s = &msg.u.session;

	memset(&msg, 0, sizeof(msg));
	msg.type = type;
	s->id = id;
	s->fields = PROTO_F_ALL;
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	snprintf(s->local, sizeof(s->local), "127.0.0.1:8443");
	s->state = PROTO_STATE_ESTABLISHED;
	s->started_ms = 1000000 + (int64_t)id * 7 % 13 * 1000;
	s->handshake_ms = 5;
	snprintf(s->version, sizeof(s->version), "%s", version);
	snprintf(s->cipher, sizeof(s->cipher), "%s", cipher);
	if (subject != NULL) {
		s->has_peer_cert = 1;
		snprintf(s->peer_subject, sizeof(s->peer_subject), "%s",
		    subject);
		snprintf(s->peer_issuer, sizeof(s->peer_issuer),
		    "/CN=issuer %llu", (unsigned long long)(id % 3));
	}
	s->bytes_in = bytes;
	s->bytes_out = bytes * 2;
	s->last_activity_ms = 2000000 - (int64_t)id * 11 % 17 * 1000;
	return &msg;
}

static const struct proto_msg *
mk_simple(enum proto_type type)
{
	memset(&msg, 0, sizeof(msg));
	msg.type = type;
	if (type == PROTO_HELLO) {
		msg.u.hello.proto = PROTO_VERSION;
		snprintf(msg.u.hello.version, sizeof(msg.u.hello.version),
		    "0.1.0");
		msg.u.hello.max_conns = 1024;
	}
	return &msg;
}

static void
load_snapshot(struct model *m)
{
	model_apply(m, mk_simple(PROTO_HELLO), 0);
	model_apply(m, mk_session(PROTO_SESSION, 1, "10.0.0.1:5000",
	    "TLSv1.3", "TLS_AES_256_GCM_SHA384", "/CN=alice", 100), 0);
	model_apply(m, mk_session(PROTO_SESSION, 2, "10.0.0.2:5001",
	    "TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256", NULL, 50), 0);
	model_apply(m, mk_session(PROTO_CLOSED, 3, "10.0.0.3:5002",
	    "TLSv1.3", "TLS_AES_128_GCM_SHA256", "/CN=bob", 7), 0);
	memset(&msg, 0, sizeof(msg));
	msg.type = PROTO_COUNTERS;
	msg.u.counters.fields = PROTO_C_ALL;
	msg.u.counters.accepted = 3;
	msg.u.counters.active = 2;
	msg.u.counters.bytes_in = 157;
	proto_tally_add(&msg.u.counters.handshake_failures, "unknown-ca", 4);
	model_apply(m, &msg, 0);
	model_apply(m, mk_simple(PROTO_END), 0);
}

static void
test_snapshot(void)
{
	struct model	 m;

	model_init(&m);
	load_snapshot(&m);
	CHECK(m.have_hello);
	CHECK(!m.in_snapshot);
	CHECK(m.nsess == 2);
	CHECK(m.nhist == 1);
	CHECK(model_find(&m, 1) != NULL);
	CHECK(model_find(&m, 3) == NULL);
	CHECK(model_find_closed(&m, 3) != NULL);
	CHECK(m.counters.accepted == 3);
	CHECK(proto_tally_get(&m.counters.handshake_failures,
	    "unknown-ca") == 4);
	CHECK(model_rows(&m) == 2);
	CHECK(model_history_rows(&m) == 1);
	model_free(&m);
}

static void
test_events(void)
{
	struct model		 m;
	struct mon_sess		*s;
	const struct proto_session *c;

	model_init(&m);
	load_snapshot(&m);

	model_apply(&m, mk_session(PROTO_OPEN, 4, "[::1]:6000", "", "",
	    NULL, 0), 0);
	CHECK(m.nsess == 3);
	CHECK((s = model_find(&m, 4)) != NULL);

	/* An update carries only the groups that changed. */
	memset(&msg, 0, sizeof(msg));
	msg.type = PROTO_UPDATE;
	msg.u.session.id = 1;
	msg.u.session.fields = PROTO_F_BYTES;
	msg.u.session.bytes_in = 4096;
	msg.u.session.bytes_out = 4097;
	model_apply(&m, &msg, 0);
	s = model_find(&m, 1);
	CHECK(s != NULL && s->s.bytes_in == 4096 && s->s.bytes_out == 4097);
	CHECK(s != NULL && strcmp(s->s.version, "TLSv1.3") == 0);
	CHECK(s != NULL && strcmp(s->s.peer_subject, "/CN=alice") == 0);

	/* An update for an unknown session is ignored. */
	msg.u.session.id = 99;
	model_apply(&m, &msg, 0);
	CHECK(m.nsess == 3 && model_find(&m, 99) == NULL);

	/* A close moves the session to history with its reason. */
	mk_session(PROTO_CLOSE, 1, "10.0.0.1:5000", "TLSv1.3",
	    "TLS_AES_256_GCM_SHA384", "/CN=alice", 5000);
	snprintf(msg.u.session.reason, sizeof(msg.u.session.reason),
	    "killed");
	msg.u.session.ended_ms = 3000000;
	model_apply(&m, &msg, 0);
	CHECK(m.nsess == 2);
	CHECK(model_find(&m, 1) == NULL);
	c = model_find_closed(&m, 1);
	CHECK(c != NULL && strcmp(c->reason, "killed") == 0);
	CHECK(c != NULL && c->state == PROTO_STATE_CLOSED);
	CHECK(model_history_rows(&m) == 2);
	/* Newest first. */
	CHECK(m.hrows[0]->id == 1);

	/* Counters in a watch carry only what changed: merge them. */
	memset(&msg, 0, sizeof(msg));
	msg.type = PROTO_COUNTERS;
	msg.u.counters.fields = PROTO_C_BYTES;
	msg.u.counters.bytes_in = 9999;
	model_apply(&m, &msg, 0);
	CHECK(m.counters.bytes_in == 9999);
	CHECK(m.counters.accepted == 3);
	CHECK(proto_tally_get(&m.counters.handshake_failures,
	    "unknown-ca") == 4);

	/* Replies. */
	memset(&msg, 0, sizeof(msg));
	msg.type = PROTO_ERROR;
	snprintf(msg.u.error.message, sizeof(msg.u.error.message),
	    "permission denied: uid 1000 may not kill");
	model_apply(&m, &msg, 0);
	CHECK(m.message_is_error);
	CHECK(strstr(m.message, "permission denied") != NULL);
	memset(&msg, 0, sizeof(msg));
	msg.type = PROTO_OK;
	snprintf(msg.u.ok.command, sizeof(msg.u.ok.command), "kill");
	msg.u.ok.id = 4;
	model_apply(&m, &msg, 0);
	CHECK(!m.message_is_error);
	CHECK(strstr(m.message, "session 4 killed") != NULL);
	model_free(&m);
}

/* A resynchronisation: a fresh snapshot replaces the sessions. */
static void
test_resync(void)
{
	struct model	 m;

	model_init(&m);
	load_snapshot(&m);
	model_apply(&m, mk_session(PROTO_SESSION, 2, "10.0.0.2:5001",
	    "TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256", NULL, 60), 0);
	model_apply(&m, mk_session(PROTO_SESSION, 5, "10.0.0.5:5005",
	    "TLSv1.3", "TLS_AES_256_GCM_SHA384", NULL, 1), 0);
	model_apply(&m, mk_simple(PROTO_END), 0);
	CHECK(m.nsess == 2);
	CHECK(model_find(&m, 1) == NULL);
	CHECK(model_find(&m, 2) != NULL && model_find(&m, 2)->s.bytes_in == 60);
	CHECK(model_find(&m, 5) != NULL);
	CHECK(model_rows(&m) == 2);

	/* An empty one empties the table. */
	model_apply(&m, mk_simple(PROTO_END), 0);
	CHECK(m.nsess == 0);
	CHECK(model_rows(&m) == 0);

	/* A new hello forgets everything. */
	load_snapshot(&m);
	model_apply(&m, mk_simple(PROTO_HELLO), 0);
	CHECK(m.nsess == 0 && m.nhist == 0 && m.counters.accepted == 0);
	model_free(&m);
}

static void
fill(struct model *m, size_t n)
{
	static const char *const ver[] = { "TLSv1.2", "TLSv1.3" };
	static const char *const ciph[] = { "TLS_AES_256_GCM_SHA384",
	    "TLS_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-AES128-GCM-SHA256" };
	char	 peer[64], subj[64];
	size_t	 i;

	model_apply(m, mk_simple(PROTO_HELLO), 0);
	model_apply(m, mk_simple(PROTO_END), 0);
	for (i = 1; i <= n; i++) {
		snprintf(peer, sizeof(peer), "10.%zu.%zu.%zu:%zu", i % 7,
		    i % 251, i % 13, 1024 + i);
		snprintf(subj, sizeof(subj), "/CN=client %zu", (i * 37) % n);
		model_apply(m, mk_session(PROTO_OPEN, i, peer, ver[i % 2],
		    ciph[i % 3], i % 4 ? subj : NULL, (i * 7919) % 100003), 0);
		if (i % 5 == 0)
			model_find(m, i)->s.state = PROTO_STATE_HANDSHAKE;
	}
}

static void
test_sort_each_column(void)
{
	struct model	 m;
	uint64_t	*fwd;
	size_t		 n, i, k;
	int		 ok;

	model_init(&m);
	fill(&m, 200);
	n = model_rows(&m);
	CHECK(n == 200);
	fwd = calloc(n, sizeof(*fwd));
	for (k = 0; k < columns_nsessions; k++) {
		enum col_id	 col = columns_sessions[k];

		model_set_sort(&m, col, 0);
		CHECK(model_rows(&m) == n);
		for (i = 0; i < n; i++)
			fwd[i] = m.rows[i]->s.id;
		/* Ascending by the column's key. */
		ok = 1;
		for (i = 1; i < n; i++) {
			const struct proto_session *a = &m.rows[i - 1]->s;
			const struct proto_session *b = &m.rows[i]->s;

			switch (col) {
			case COL_ID:
				ok &= a->id < b->id;
				break;
			case COL_PEER:
				ok &= strcmp(a->peer, b->peer) <= 0;
				break;
			case COL_STATE:
				ok &= a->state <= b->state;
				break;
			case COL_VERSION:
				ok &= strcmp(a->version, b->version) <= 0;
				break;
			case COL_CIPHER:
				ok &= strcmp(a->cipher, b->cipher) <= 0;
				break;
			case COL_SUBJECT:
				ok &= strcmp(a->peer_subject,
				    b->peer_subject) <= 0;
				break;
			case COL_ISSUER:
				ok &= strcmp(a->peer_issuer,
				    b->peer_issuer) <= 0;
				break;
			case COL_IN:
				ok &= a->bytes_in <= b->bytes_in;
				break;
			case COL_OUT:
				ok &= a->bytes_out <= b->bytes_out;
				break;
			case COL_AGE:
				ok &= a->started_ms >= b->started_ms;
				break;
			case COL_IDLE:
				ok &= a->last_activity_ms >=
				    b->last_activity_ms;
				break;
			default:
				break;
			}
		}
		if (!ok)
			fprintf(stderr, "column %s not ascending\n",
			    columns_spec(col)->title);
		CHECK(ok);
		/* Reversed is exactly the other way round (ties by id). */
		model_set_sort(&m, col, 1);
		CHECK(model_rows(&m) == n);
		ok = 1;
		for (i = 0; i < n; i++)
			ok &= m.rows[i]->s.id == fwd[n - 1 - i];
		CHECK(ok);
	}
	free(fwd);
	model_free(&m);
}

static void
test_filter(void)
{
	struct model	 m;

	model_init(&m);
	load_snapshot(&m);
	model_set_filter(&m, "10.0.0.2");
	CHECK(model_rows(&m) == 1 && m.rows[0]->s.id == 2);
	model_set_filter(&m, "ALICE");		/* subject, any case */
	CHECK(model_rows(&m) == 1 && m.rows[0]->s.id == 1);
	model_set_filter(&m, "issuer 1");	/* issuer */
	CHECK(model_rows(&m) == 1 && m.rows[0]->s.id == 1);
	model_set_filter(&m, "ecdhe");		/* cipher */
	CHECK(model_rows(&m) == 1 && m.rows[0]->s.id == 2);
	model_set_filter(&m, "bob");		/* history too */
	CHECK(model_rows(&m) == 0);
	CHECK(model_history_rows(&m) == 1);
	model_set_filter(&m, "nothing like it");
	CHECK(model_rows(&m) == 0 && model_history_rows(&m) == 0);
	model_set_filter(&m, "");
	CHECK(model_rows(&m) == 2 && model_history_rows(&m) == 1);
	model_free(&m);
}

static int
has_col(const struct col_layout *l, enum col_id id)
{
	int	 i;

	for (i = 0; i < l->n; i++)
		if (l->col[i].id == id)
			return 1;
	return 0;
}

static void
check_layout(const struct col_layout *l, int width)
{
	int	 i;

	CHECK(l->total <= width);
	for (i = 0; i < l->n; i++) {
		CHECK(l->col[i].w > 0);
		CHECK(l->col[i].x + l->col[i].w <= width);
		if (i > 0)
			CHECK(l->col[i].x > l->col[i - 1].x +
			    l->col[i - 1].w - 1);
	}
}

static void
test_columns(void)
{
	struct col_layout	 l;
	int			 w;

	columns_fit(columns_sessions, columns_nsessions, 80, &l);
	check_layout(&l, 80);
	CHECK(has_col(&l, COL_ID));
	CHECK(has_col(&l, COL_PEER));
	CHECK(has_col(&l, COL_VERSION));
	CHECK(has_col(&l, COL_CIPHER));
	CHECK(has_col(&l, COL_SUBJECT));
	CHECK(has_col(&l, COL_IN));
	CHECK(has_col(&l, COL_IDLE));
	CHECK(!has_col(&l, COL_ISSUER));
	CHECK(!has_col(&l, COL_STATE));
	/* The whole cipher suite name fits on 80 columns. */
	CHECK(l.col[3].id == COL_CIPHER && l.col[3].w >= 22);

	columns_fit(columns_sessions, columns_nsessions, 200, &l);
	check_layout(&l, 200);
	CHECK(l.n == (int)columns_nsessions);
	CHECK(has_col(&l, COL_ISSUER) && has_col(&l, COL_STATE));

	columns_fit(columns_history, columns_nhistory, 80, &l);
	check_layout(&l, 80);
	CHECK(has_col(&l, COL_REASON) && has_col(&l, COL_DURATION));

	for (w = 1; w <= 400; w++) {
		columns_fit(columns_sessions, columns_nsessions, w, &l);
		check_layout(&l, w);
		CHECK(l.n >= 1);
		columns_fit(columns_history, columns_nhistory, w, &l);
		check_layout(&l, w);
	}
}

static void
test_fit_text(void)
{
	char	 out[256];
	int	 w;

	/* A terminal escape from a certificate is shown, not obeyed. */
	w = columns_fit_text("evil\x1b[31mname", 40, 0, out, sizeof(out));
	CHECK_STR(out, "evil\\x1b[31mname");
	CHECK(w == 16);
	columns_fit_text("a\x1b" "b", 3, 0, out, sizeof(out));
	CHECK_STR(out, "a\\x");

	if (setlocale(LC_ALL, "C.UTF-8") == NULL)
		return;
	/* Cut at character boundaries, counting display width. */
	w = columns_fit_text("caf\xc3\xa9 au lait", 4, 0, out, sizeof(out));
	CHECK_STR(out, "caf\xc3\xa9");
	CHECK(w == 4);
	w = columns_fit_text("\xe6\x97\xa5\xe6\x9c\xac", 3, 0, out,
	    sizeof(out));
	CHECK_STR(out, "\xe6\x97\xa5");	/* one double-width character */
	CHECK(w == 2);
	w = columns_fit_text("caf\xc3\xa9", 10, 1, out, sizeof(out));
	CHECK_STR(out, "caf?");
	CHECK(columns_text_width("\xe6\x97\xa5\xe6\x9c\xac", 100) == 4);
	setlocale(LC_ALL, "C");
}

static void
test_rates(void)
{
	struct model	 m;
	double		 acc, in, out;

	model_init(&m);
	model_apply(&m, mk_simple(PROTO_HELLO), 0);
	memset(&msg, 0, sizeof(msg));
	msg.type = PROTO_COUNTERS;
	msg.u.counters.fields = PROTO_C_ALL;
	model_apply(&m, &msg, 10000);
	msg.u.counters.fields = PROTO_C_ACCEPTED | PROTO_C_BYTES;
	msg.u.counters.accepted = 20;
	msg.u.counters.bytes_in = 2048;
	msg.u.counters.bytes_out = 4096;
	model_apply(&m, &msg, 12000);
	model_rates(&m, 12100, &acc, &in, &out);
	CHECK(acc > 9.9 && acc < 10.1);
	CHECK(in > 1023 && in < 1025);
	CHECK(out > 2047 && out < 2049);
	/* Nothing heard for a while: nothing moves. */
	model_rates(&m, 20000, &acc, &in, &out);
	CHECK(acc == 0 && in == 0 && out == 0);
	model_free(&m);
}

/* 10,000 sessions: apply, sort, filter, update and close them all. */
static void
test_many_sessions(void)
{
	struct model	 m;
	size_t		 i, k;

	model_init(&m);
	fill(&m, 10000);
	CHECK(m.nsess == 10000);
	for (k = 0; k < columns_nsessions; k++) {
		model_set_sort(&m, columns_sessions[k], k % 2);
		CHECK(model_rows(&m) == 10000);
	}
	model_set_filter(&m, "client 1");
	CHECK(model_rows(&m) > 0 && model_rows(&m) < 10000);
	model_set_filter(&m, "");
	for (i = 1; i <= 10000; i++) {
		memset(&msg, 0, sizeof(msg));
		msg.type = PROTO_UPDATE;
		msg.u.session.id = i;
		msg.u.session.fields = PROTO_F_BYTES;
		msg.u.session.bytes_in = i;
		model_apply(&m, &msg, 0);
	}
	CHECK(model_find(&m, 5000)->s.bytes_in == 5000);
	for (i = 1; i <= 10000; i += 2) {
		memset(&msg, 0, sizeof(msg));
		msg.type = PROTO_CLOSE;
		msg.u.session.id = i;
		msg.u.session.fields = PROTO_F_END;
		snprintf(msg.u.session.reason, sizeof(msg.u.session.reason),
		    "idle");
		model_apply(&m, &msg, 0);
	}
	CHECK(m.nsess == 5000);
	for (i = 1; i <= 10000; i++)
		CHECK((model_find(&m, i) != NULL) == (i % 2 == 0));
	CHECK(model_rows(&m) == 5000);
	CHECK(model_history_rows(&m) == 5000 ||
	    model_history_rows(&m) == MON_HISTORY_MAX);
	CHECK(m.nhist == (5000 < MON_HISTORY_MAX ? 5000 : MON_HISTORY_MAX));
	model_free(&m);
}

TEST_MAIN("monitor_model",
    TEST(test_snapshot),
    TEST(test_events),
    TEST(test_resync),
    TEST(test_sort_each_column),
    TEST(test_filter),
    TEST(test_columns),
    TEST(test_fit_text),
    TEST(test_rates),
    TEST(test_many_sessions))
