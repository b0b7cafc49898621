/* Unit tests for common/proto.c: the stats protocol's wire form. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/proto.h"
#include "tests/unit/harness.h"

/* Encodes m, checks the line's shape and decodes it into out. */
static int
round_trip(const struct proto_msg *m, struct proto_msg *out)
{
	char	 err[256];
	char	*line;
	size_t	 len;
	int	 rc;

	line = proto_encode(m, &len);
	CHECK(line != NULL);
	if (line == NULL)
		return -1;
	CHECK(len == strlen(line));
	CHECK(len > 1 && line[len - 1] == '\n');
	CHECK(memchr(line, '\n', len - 1) == NULL);
	rc = proto_decode(line, len, out, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "decode of %s failed: %s\n", line, err);
	CHECK(rc == 0);
	free(line);
	return rc;
}

/* Decodes a NUL-terminated line; on failure err holds the reason. */
static int
decode(const char *line, struct proto_msg *m, char *err, size_t errlen)
{
	return proto_decode(line, strlen(line), m, err, errlen);
}

/* A session with every field set to something distinct. */
static void
fill_session(struct proto_session *s)
{
	s->id = 42;
	s->fields = PROTO_F_ALL;
	strcpy(s->peer, "[2001:db8::1]:50123");
	strcpy(s->local, "127.0.0.1:8443");
	s->state = PROTO_STATE_ESTABLISHED;
	s->started_ms = 1767225600123LL;
	s->handshake_ms = 17;
	strcpy(s->version, "TLSv1.3");
	strcpy(s->cipher, "TLS_AES_256_GCM_SHA384");
	s->cipher_bits = 256;
	strcpy(s->sni, "echo.example.org");
	strcpy(s->alpn, "h2");
	s->resumed = 1;
	s->has_peer_cert = 1;
	strcpy(s->peer_subject, "/CN=client \"one\"/O=Caf\xc3\xa9");
	strcpy(s->peer_issuer, "/CN=tlsecho development CA");
	strcpy(s->peer_pin, "SHA256:0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef");
	s->peer_not_after = 1798761600;
	s->bytes_in = 123456789012ULL;
	s->bytes_out = 123456789013ULL;
	s->last_activity_ms = 1767225601000LL;
	strcpy(s->reason, "peer-closed");
	s->ended_ms = 1767225602000LL;
}

static void
test_names(void)
{
	CHECK_STR(proto_type_name(PROTO_HELLO), "hello");
	CHECK_STR(proto_type_name(PROTO_UPDATE), "update");
	CHECK_STR(proto_type_name(PROTO_BYE), "bye");
	CHECK(proto_type_name((enum proto_type)0) == NULL);
	CHECK(proto_type_name((enum proto_type)99) == NULL);
	CHECK_STR(proto_state_name(PROTO_STATE_HANDSHAKE), "handshake");
	CHECK_STR(proto_state_name(PROTO_STATE_CLOSED), "closed");
	CHECK(proto_state_name((enum proto_state)7) == NULL);
}

static void
test_session_types(void)
{
	static const enum proto_type types[] = {
		PROTO_SESSION, PROTO_CLOSED, PROTO_OPEN, PROTO_CLOSE
	};
	struct proto_msg	m, d;
	size_t			i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		memset(&m, 0, sizeof(m));
		m.type = types[i];
		fill_session(&m.u.session);
		if (round_trip(&m, &d) != 0)
			continue;
		CHECK(d.type == types[i]);
		CHECK(d.u.session.fields == PROTO_F_ALL);
		CHECK(d.u.session.id == 42);
		CHECK_STR(d.u.session.peer, m.u.session.peer);
		CHECK_STR(d.u.session.local, m.u.session.local);
		CHECK(d.u.session.state == PROTO_STATE_ESTABLISHED);
		CHECK(d.u.session.started_ms == m.u.session.started_ms);
		CHECK(d.u.session.handshake_ms == 17);
		CHECK_STR(d.u.session.version, "TLSv1.3");
		CHECK_STR(d.u.session.cipher, m.u.session.cipher);
		CHECK(d.u.session.cipher_bits == 256);
		CHECK_STR(d.u.session.sni, m.u.session.sni);
		CHECK_STR(d.u.session.alpn, "h2");
		CHECK(d.u.session.resumed == 1);
		CHECK(d.u.session.has_peer_cert == 1);
		CHECK_STR(d.u.session.peer_subject, m.u.session.peer_subject);
		CHECK_STR(d.u.session.peer_issuer, m.u.session.peer_issuer);
		CHECK_STR(d.u.session.peer_pin, m.u.session.peer_pin);
		CHECK(d.u.session.peer_not_after == 1798761600);
		CHECK(d.u.session.bytes_in == 123456789012ULL);
		CHECK(d.u.session.bytes_out == 123456789013ULL);
		CHECK(d.u.session.last_activity_ms ==
		    m.u.session.last_activity_ms);
		CHECK_STR(d.u.session.reason, "peer-closed");
		CHECK(d.u.session.ended_ms == m.u.session.ended_ms);
		/* Nothing else: the decoder zeroes what it does not set. */
		CHECK(memcmp(&m, &d, sizeof(m)) == 0);
	}
}

/* Full messages carry every field even when fields says otherwise. */
static void
test_session_without_cert(void)
{
	struct proto_msg	 m, d;
	char			*line;
	size_t			 len;

	memset(&m, 0, sizeof(m));
	m.type = PROTO_SESSION;
	m.u.session.id = 1;
	m.u.session.handshake_ms = -1;
	m.u.session.fields = PROTO_F_STATE;
	line = proto_encode(&m, &len);
	CHECK(line != NULL && strstr(line, "\"peer_cert\":null") != NULL);
	CHECK(line != NULL && strstr(line, "\"handshake_ms\":-1") != NULL);
	CHECK(line != NULL && strstr(line, "\"state\":\"handshake\"") != NULL);
	CHECK(line != NULL && strncmp(line, "{\"type\":\"session\",\"id\":1,",
	    25) == 0);
	free(line);
	if (round_trip(&m, &d) != 0)
		return;
	CHECK(d.u.session.fields == PROTO_F_ALL);
	CHECK(d.u.session.has_peer_cert == 0);
	CHECK(d.u.session.handshake_ms == -1);
}

static void
test_update_partial(void)
{
	struct proto_msg	 m, d;
	char			*line, err[256];
	size_t			 len;

	memset(&m, 0, sizeof(m));
	m.type = PROTO_UPDATE;
	fill_session(&m.u.session);
	m.u.session.fields = PROTO_F_BYTES | PROTO_F_ACTIVITY;
	line = proto_encode(&m, &len);
	CHECK_STR(line, "{\"type\":\"update\",\"id\":42,"
	    "\"bytes_in\":123456789012,\"bytes_out\":123456789013,"
	    "\"last_activity_ms\":1767225601000}\n");
	free(line);
	if (round_trip(&m, &d) == 0) {
		CHECK(d.u.session.fields == (PROTO_F_BYTES | PROTO_F_ACTIVITY));
		CHECK(d.u.session.id == 42);
		CHECK(d.u.session.bytes_in == 123456789012ULL);
		CHECK(d.u.session.peer[0] == '\0');
		CHECK(d.u.session.handshake_ms == -1);
	}

	/* Each group alone comes back as itself. */
	for (m.u.session.fields = 1; m.u.session.fields <= PROTO_F_ALL;
	    m.u.session.fields <<= 1) {
		if (round_trip(&m, &d) != 0)
			continue;
		CHECK(d.u.session.fields == m.u.session.fields);
	}

	/* TLS and peer certificate: handshake done, certificate gone. */
	m.u.session.fields = PROTO_F_TLS | PROTO_F_PEER_CERT | PROTO_F_STATE;
	m.u.session.has_peer_cert = 0;
	if (round_trip(&m, &d) == 0) {
		CHECK(d.u.session.fields == m.u.session.fields);
		CHECK(d.u.session.handshake_ms == 17);
		CHECK_STR(d.u.session.cipher, m.u.session.cipher);
		CHECK(d.u.session.has_peer_cert == 0);
		CHECK(d.u.session.state == PROTO_STATE_ESTABLISHED);
		CHECK(d.u.session.bytes_in == 0);
	}

	/* Nothing changed: just the id. */
	m.u.session.fields = 0;
	line = proto_encode(&m, &len);
	CHECK_STR(line, "{\"type\":\"update\",\"id\":42}\n");
	free(line);

	/* One field of a group marks the group present. */
	CHECK(decode("{\"type\":\"update\",\"id\":9,\"sni\":\"a\"}", &d, err,
	    sizeof(err)) == 0);
	CHECK(d.u.session.fields == PROTO_F_TLS);
	CHECK_STR(d.u.session.sni, "a");
	CHECK(decode("{\"type\":\"update\",\"id\":9,\"peer_cert\":null}", &d,
	    err, sizeof(err)) == 0);
	CHECK(d.u.session.fields == PROTO_F_PEER_CERT);
}

static void
test_big_numbers(void)
{
	struct proto_msg	 m, d;
	char			*line;
	size_t			 len;

	memset(&m, 0, sizeof(m));
	m.type = PROTO_UPDATE;
	m.u.session.id = 7;
	m.u.session.fields = PROTO_F_BYTES;
	m.u.session.bytes_in = UINT64_MAX;
	m.u.session.bytes_out = (uint64_t)INT64_MAX;
	line = proto_encode(&m, &len);
	CHECK_STR(line, "{\"type\":\"update\",\"id\":7,"
	    "\"bytes_in\":9223372036854775807,"
	    "\"bytes_out\":9223372036854775807}\n");
	free(line);
	if (round_trip(&m, &d) == 0)
		CHECK(d.u.session.bytes_in == (uint64_t)INT64_MAX);

	memset(&m, 0, sizeof(m));
	m.type = PROTO_SESSION;
	m.u.session.started_ms = INT64_MIN;
	m.u.session.ended_ms = INT64_MAX;
	m.u.session.cipher_bits = -1;
	if (round_trip(&m, &d) == 0) {
		CHECK(d.u.session.started_ms == INT64_MIN);
		CHECK(d.u.session.ended_ms == INT64_MAX);
		CHECK(d.u.session.cipher_bits == -1);
	}
}

static void
fill_counters(struct proto_counters *c)
{
	c->fields = PROTO_C_ALL;
	c->time_ms = 1767225600000LL;
	c->accepted = 1000;
	c->active = 12;
	c->rejected = 3;
	c->bytes_in = 1ULL << 40;
	c->bytes_out = (1ULL << 40) + 1;
	c->subscribers = 2;
	c->subscribers_dropped = 4;
	c->subscribers_resynced = 5;
	c->commands_oversized = 6;
	proto_tally_add(&c->handshake_failures, "handshake-timeout", 7);
	proto_tally_add(&c->handshake_failures, "bad-certificate", 8);
	proto_tally_add(&c->closes, "idle", 9);
	proto_tally_add(&c->closes, "peer-closed", 10);
	proto_tally_add(&c->closes, "killed", 11);
	proto_tally_add(&c->versions, "TLSv1.3", 12);
	proto_tally_add(&c->versions, "TLSv1.2", 13);
	proto_tally_add(&c->ciphers, "TLS_AES_256_GCM_SHA384", 14);
}

static void
test_counters(void)
{
	struct proto_msg	 m, d;
	char			*line;
	size_t			 len;

	memset(&m, 0, sizeof(m));
	m.type = PROTO_COUNTERS;
	fill_counters(&m.u.counters);
	if (round_trip(&m, &d) == 0) {
		CHECK(d.u.counters.fields == PROTO_C_ALL);
		CHECK(d.u.counters.time_ms == 1767225600000LL);
		CHECK(d.u.counters.accepted == 1000);
		CHECK(d.u.counters.active == 12);
		CHECK(d.u.counters.rejected == 3);
		CHECK(d.u.counters.bytes_in == 1ULL << 40);
		CHECK(d.u.counters.bytes_out == (1ULL << 40) + 1);
		CHECK(d.u.counters.subscribers == 2);
		CHECK(d.u.counters.subscribers_dropped == 4);
		CHECK(d.u.counters.subscribers_resynced == 5);
		CHECK(d.u.counters.commands_oversized == 6);
		CHECK(d.u.counters.closes.n == 3);
		CHECK(proto_tally_get(&d.u.counters.closes, "killed") == 11);
		CHECK(proto_tally_get(&d.u.counters.handshake_failures,
		    "bad-certificate") == 8);
		CHECK(proto_tally_get(&d.u.counters.versions, "TLSv1.2") ==
		    13);
		CHECK(proto_tally_get(&d.u.counters.ciphers,
		    "TLS_AES_256_GCM_SHA384") == 14);
		/* Same order, same names, same counts. */
		CHECK(memcmp(&m, &d, sizeof(m)) == 0);
	}

	/* Only the groups that changed, time always. */
	m.u.counters.fields = PROTO_C_ACTIVE | PROTO_C_CLOSES;
	line = proto_encode(&m, &len);
	CHECK_STR(line, "{\"type\":\"counters\",\"time_ms\":1767225600000,"
	    "\"active\":12,\"closes\":{\"idle\":9,\"peer-closed\":10,"
	    "\"killed\":11}}\n");
	free(line);
	if (round_trip(&m, &d) == 0) {
		CHECK(d.u.counters.fields == (PROTO_C_ACTIVE | PROTO_C_CLOSES));
		CHECK(d.u.counters.accepted == 0);
		CHECK(d.u.counters.versions.n == 0);
		CHECK(proto_tally_get(&d.u.counters.closes, "idle") == 9);
	}
	m.u.counters.fields = PROTO_C_SUBSCRIBERS;
	if (round_trip(&m, &d) == 0) {
		CHECK(d.u.counters.fields == PROTO_C_SUBSCRIBERS);
		CHECK(d.u.counters.commands_oversized == 6);
	}
	m.u.counters.fields = 0;
	line = proto_encode(&m, &len);
	CHECK_STR(line, "{\"type\":\"counters\",\"time_ms\":1767225600000}\n");
	free(line);
}

static void
test_hello(void)
{
	struct proto_msg	m, d;

	memset(&m, 0, sizeof(m));
	m.type = PROTO_HELLO;
	m.u.hello.proto = PROTO_VERSION;
	strcpy(m.u.hello.version, "0.1.0");
	m.u.hello.pid = 4242;
	m.u.hello.started_ms = 1767225600000LL;
	m.u.hello.nlisten = 2;
	strcpy(m.u.hello.listen[0], "127.0.0.1:8443");
	strcpy(m.u.hello.listen[1], "[::1]:8443");
	strcpy(m.u.hello.cert_subject, "/CN=localhost");
	m.u.hello.cert_not_after = 1798761600;
	m.u.hello.max_conns = 1024;
	m.u.hello.idle_timeout_ms = 300000;
	m.u.hello.handshake_timeout_ms = 10000;
	m.u.hello.history = 100;
	m.u.hello.counters_interval_ms = 1000;
	m.u.hello.may_kill = 1;
	if (round_trip(&m, &d) == 0) {
		CHECK(d.type == PROTO_HELLO);
		CHECK(d.u.hello.proto == PROTO_VERSION);
		CHECK_STR(d.u.hello.version, "0.1.0");
		CHECK(d.u.hello.pid == 4242);
		CHECK(d.u.hello.started_ms == 1767225600000LL);
		CHECK(d.u.hello.nlisten == 2);
		CHECK_STR(d.u.hello.listen[1], "[::1]:8443");
		CHECK_STR(d.u.hello.cert_subject, "/CN=localhost");
		CHECK(d.u.hello.cert_not_after == 1798761600);
		CHECK(d.u.hello.max_conns == 1024);
		CHECK(d.u.hello.idle_timeout_ms == 300000);
		CHECK(d.u.hello.handshake_timeout_ms == 10000);
		CHECK(d.u.hello.history == 100);
		CHECK(d.u.hello.counters_interval_ms == 1000);
		CHECK(d.u.hello.may_kill == 1);
		CHECK(memcmp(&m, &d, sizeof(m)) == 0);
	}

	/* More addresses than fit: the first PROTO_LISTEN_MAX are kept. */
	CHECK(decode("{\"type\":\"hello\",\"listen\":[\"a\",\"b\",\"c\",\"d\","
	    "\"e\",\"f\",\"g\",\"h\",\"i\",\"j\"]}", &d, NULL, 0) == 0);
	CHECK(d.u.hello.nlisten == PROTO_LISTEN_MAX);
	CHECK_STR(d.u.hello.listen[PROTO_LISTEN_MAX - 1], "h");
	m.u.hello.nlisten = 1000;	/* a caller's bug must not overrun */
	if (round_trip(&m, &d) == 0)
		CHECK(d.u.hello.nlisten == PROTO_LISTEN_MAX);
}

static void
test_small_types(void)
{
	struct proto_msg	 m, d;
	char			*line;
	size_t			 len;

	memset(&m, 0, sizeof(m));
	m.type = PROTO_RELOAD;
	m.u.reload.ok = 0;
	strcpy(m.u.reload.message, "server.key: permission denied");
	line = proto_encode(&m, &len);
	CHECK_STR(line, "{\"type\":\"reload\",\"ok\":false,"
	    "\"message\":\"server.key: permission denied\"}\n");
	free(line);
	if (round_trip(&m, &d) == 0)
		CHECK(memcmp(&m, &d, sizeof(m)) == 0);
	m.u.reload.ok = 1;
	if (round_trip(&m, &d) == 0)
		CHECK(d.u.reload.ok == 1);

	memset(&m, 0, sizeof(m));
	m.type = PROTO_OK;
	strcpy(m.u.ok.command, "kill");
	m.u.ok.id = 12;
	line = proto_encode(&m, &len);
	CHECK_STR(line, "{\"type\":\"ok\",\"command\":\"kill\",\"id\":12}\n");
	free(line);
	if (round_trip(&m, &d) == 0)
		CHECK(memcmp(&m, &d, sizeof(m)) == 0);

	memset(&m, 0, sizeof(m));
	m.type = PROTO_ERROR;
	strcpy(m.u.error.message, "unknown command 'x'");
	if (round_trip(&m, &d) == 0)
		CHECK(memcmp(&m, &d, sizeof(m)) == 0);

	memset(&m, 0, sizeof(m));
	m.type = PROTO_BYE;
	strcpy(m.u.error.message, "shutting down");
	line = proto_encode(&m, &len);
	CHECK_STR(line, "{\"type\":\"bye\",\"reason\":\"shutting down\"}\n");
	free(line);
	if (round_trip(&m, &d) == 0)
		CHECK(memcmp(&m, &d, sizeof(m)) == 0);

	memset(&m, 0, sizeof(m));
	m.type = PROTO_END;
	line = proto_encode(&m, &len);
	CHECK_STR(line, "{\"type\":\"end\"}\n");
	CHECK(len == 15);
	free(line);
	if (round_trip(&m, &d) == 0)
		CHECK(d.type == PROTO_END);
}

static void
test_encode_invalid(void)
{
	struct proto_msg	m;

	memset(&m, 0, sizeof(m));
	CHECK(proto_encode(&m, NULL) == NULL);	/* type 0 */
	m.type = (enum proto_type)77;
	CHECK(proto_encode(&m, NULL) == NULL);
	m.type = PROTO_SESSION;
	m.u.session.state = (enum proto_state)9;
	CHECK(proto_encode(&m, NULL) == NULL);
	/* An update without the state group does not look at it. */
	m.type = PROTO_UPDATE;
	m.u.session.fields = PROTO_F_BYTES;
	free(proto_encode(&m, NULL));
}

/* Strings longer than their buffer are cut before a split character. */
static void
test_long_strings(void)
{
	struct proto_msg	 d;
	char			 line[4096], big[2048];
	size_t			 i;

	/* "é" is 2 bytes: 63 bytes of buffer hold 31 of them. */
	big[0] = '\0';
	for (i = 0; i < 100; i++)
		strcat(big, "\xc3\xa9");
	snprintf(line, sizeof(line), "{\"type\":\"update\",\"id\":1,"
	    "\"version\":\"%s\",\"cipher\":\"x%s\"}", big, big);
	CHECK(decode(line, &d, NULL, 0) == 0);
	CHECK(strlen(d.u.session.version) == 62);
	CHECK(strlen(d.u.session.cipher) == 63);
	CHECK(strncmp(d.u.session.version, big, 62) == 0);

	/* "€" is 3 bytes: 511 bytes of subject hold 170 of them. */
	big[0] = '\0';
	for (i = 0; i < 200; i++)
		strcat(big, "\xe2\x82\xac");
	snprintf(line, sizeof(line), "{\"type\":\"session\",\"id\":1,"
	    "\"peer_cert\":{\"subject\":\"%s\",\"issuer\":\"ab%s\"}}", big,
	    big);
	CHECK(decode(line, &d, NULL, 0) == 0);
	CHECK(strlen(d.u.session.peer_subject) == 510);
	CHECK(strlen(d.u.session.peer_issuer) == 509);
	CHECK(d.u.session.has_peer_cert == 1);

	/* ASCII is cut at the buffer's end exactly. */
	memset(big, 'a', 300);
	big[300] = '\0';
	snprintf(line, sizeof(line), "{\"type\":\"update\",\"id\":1,"
	    "\"sni\":\"%s\",\"peer\":\"%s\"}", big, big);
	CHECK(decode(line, &d, NULL, 0) == 0);
	CHECK(strlen(d.u.session.sni) == PROTO_SNI_MAX - 1);
	CHECK(strlen(d.u.session.peer) == PROTO_ADDR_MAX - 1);
}

/*
 * A certificate name is whatever the peer put there: invalid UTF-8
 * becomes U+FFFD, control characters are escaped by JSON and survive.
 */
static void
test_hostile_strings(void)
{
	struct proto_msg	 m, d;
	char			*line;
	size_t			 len;
	json_t			*j;

	memset(&m, 0, sizeof(m));
	m.type = PROTO_SESSION;
	m.u.session.has_peer_cert = 1;
	strcpy(m.u.session.peer_subject, "/CN=a\xff" "b\x1b[31m\x01\t\"\\");
	strcpy(m.u.session.peer_issuer, "\xc3");	/* cut short */
	strcpy(m.u.session.sni, "\xed\xa0\x80");	/* a surrogate */
	strcpy(m.u.session.alpn, "\xc0\xaf");		/* overlong "/" */
	strcpy(m.u.session.reason, "\xc2\x9b ok");	/* C1: valid UTF-8 */
	line = proto_encode(&m, &len);
	CHECK(line != NULL);
	if (line == NULL)
		return;
	/* Valid JSON by jansson's own strict reading, on one line. */
	j = json_loadb(line, len, 0, NULL);
	CHECK(j != NULL);
	json_decref(j);
	CHECK(memchr(line, '\x1b', len) == NULL);
	CHECK(strstr(line, "\\u001b") != NULL ||
	    strstr(line, "\\u001B") != NULL);
	free(line);
	if (round_trip(&m, &d) != 0)
		return;
	CHECK_STR(d.u.session.peer_subject,
	    "/CN=a\xef\xbf\xbd" "b\x1b[31m\x01\t\"\\");
	CHECK_STR(d.u.session.peer_issuer, "\xef\xbf\xbd");
	CHECK_STR(d.u.session.sni, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	CHECK_STR(d.u.session.alpn, "\xef\xbf\xbd\xef\xbf\xbd");
	CHECK_STR(d.u.session.reason, "\xc2\x9b ok");

	/* A buffer without its NUL is read up to its size, no further. */
	memset(&m, 0, sizeof(m));
	m.type = PROTO_UPDATE;
	m.u.session.fields = PROTO_F_TLS;
	memset(m.u.session.version, 'v', sizeof(m.u.session.version));
	memset(m.u.session.cipher, 'c', sizeof(m.u.session.cipher));
	if (round_trip(&m, &d) == 0)
		CHECK(strlen(d.u.session.version) == PROTO_SHORT_MAX - 1);

	/* Tally names are made valid too; equal ones are added up. */
	memset(&m, 0, sizeof(m));
	m.type = PROTO_COUNTERS;
	m.u.counters.fields = PROTO_C_CIPHERS;
	proto_tally_add(&m.u.counters.ciphers, "x\xfe", 1);
	proto_tally_add(&m.u.counters.ciphers, "x\xff", 2);
	if (round_trip(&m, &d) == 0) {
		CHECK(d.u.counters.ciphers.n == 1);
		CHECK(proto_tally_get(&d.u.counters.ciphers,
		    "x\xef\xbf\xbd") == 3);
	}
}

static void
test_decode_line_endings(void)
{
	static const char	 line[] = "{\"type\":\"end\"}\r\nGARBAGE";
	struct proto_msg	 d;
	char			 err[256];

	CHECK(proto_decode(line, 14, &d, err, sizeof(err)) == 0);
	CHECK(d.type == PROTO_END);
	CHECK(proto_decode(line, 15, &d, err, sizeof(err)) == 0);
	CHECK(proto_decode(line, 16, &d, err, sizeof(err)) == 0);
	CHECK(proto_decode(line, 17, &d, err, sizeof(err)) == -1);
	CHECK(decode("  {\"type\":\"end\"}  \n", &d, err, sizeof(err)) == 0);
}

static void
test_decode_malformed(void)
{
	static const struct {
		const char	*line;
		const char	*err;	/* a part of the message */
	} bad[] = {
		{ "", "not valid JSON" },
		{ "\n", "not valid JSON" },
		{ "hello", "not valid JSON" },
		{ "{\"type\":\"end\"", "not valid JSON" },
		{ "{\"type\":\"end\"} {}", "not valid JSON" },
		{ "{\"type\":\"end\"}\n{\"type\":\"end\"}", "not valid JSON" },
		{ "{\"type\":\"end\",\"type\":\"end\"}", "duplicate" },
		{ "[{\"type\":\"end\"}]", "expected a JSON object, got an array" },
		{ "42", "not valid JSON" },
		{ "{}", "missing field 'type'" },
		{ "{\"id\":1}", "missing field 'type'" },
		{ "{\"type\":1}", "field 'type': expected a string" },
		{ "{\"type\":null}", "field 'type'" },
		{ "{\"type\":\"sessions\"}", "unknown type 'sessions'" },
		{ "{\"type\":\"END\"}", "unknown type 'END'" },
		{ "{\"type\":\"\"}", "unknown type ''" },
		{ "{\"type\":\"session\"}", "missing field 'id'" },
		{ "{\"type\":\"update\",\"id\":\"x\"}", "field 'id'" },
		{ "{\"type\":\"update\",\"id\":-1}", "field 'id'" },
		{ "{\"type\":\"update\",\"id\":1.5}", "field 'id'" },
		{ "{\"type\":\"update\",\"id\":99999999999999999999}",
		    "not valid JSON" },
		{ "{\"type\":\"update\",\"id\":1,\"peer\":5}",
		    "field 'peer': expected a string, got an integer" },
		{ "{\"type\":\"update\",\"id\":1,\"sni\":null}", "field 'sni'" },
		{ "{\"type\":\"update\",\"id\":1,\"resumed\":1}",
		    "field 'resumed': expected true or false" },
		{ "{\"type\":\"update\",\"id\":1,\"cipher_bits\":4294967296}",
		    "field 'cipher_bits': 4294967296 is out of range" },
		{ "{\"type\":\"update\",\"id\":1,\"state\":\"open\"}",
		    "field 'state': unknown state 'open'" },
		{ "{\"type\":\"update\",\"id\":1,\"state\":1}", "field 'state'" },
		{ "{\"type\":\"update\",\"id\":1,\"peer_cert\":\"x\"}",
		    "field 'peer_cert': expected an object or null" },
		{ "{\"type\":\"update\",\"id\":1,\"peer_cert\":"
		    "{\"not_after\":\"2027\"}}", "field 'peer_cert.not_after'" },
		{ "{\"type\":\"update\",\"id\":1,\"bytes_in\":-5}",
		    "field 'bytes_in': expected a non-negative integer" },
		{ "{\"type\":\"update\",\"id\":1,\"sni\":\"a\\u0000b\"}",
		    "not valid JSON" },
		{ "{\"type\":\"update\",\"id\":1,\"sni\":\"\xff\"}",
		    "not valid JSON" },
		{ "{\"type\":\"counters\",\"closes\":[]}",
		    "field 'closes': expected an object" },
		{ "{\"type\":\"counters\",\"closes\":{\"idle\":\"3\"}}",
		    "field 'closes.idle'" },
		{ "{\"type\":\"counters\",\"time_ms\":true}", "field 'time_ms'" },
		{ "{\"type\":\"hello\",\"listen\":\"a\"}",
		    "field 'listen': expected an array" },
		{ "{\"type\":\"hello\",\"listen\":[\"a\",2]}",
		    "field 'listen[1]'" },
		{ "{\"type\":\"hello\",\"limits\":{\"history\":\"x\"}}",
		    "field 'limits.history'" },
		{ "{\"type\":\"hello\",\"may_kill\":\"yes\"}",
		    "field 'may_kill'" },
		{ "{\"type\":\"reload\",\"ok\":null}", "field 'ok'" },
		{ "{\"type\":\"ok\",\"id\":\"12\"}", "field 'id'" },
		{ "{\"type\":\"bye\",\"reason\":{}}", "field 'reason'" },
	};
	struct proto_msg	d;
	char			err[256];
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&d, 0xa5, sizeof(d));
		strcpy(err, "untouched");
		CHECK(decode(bad[i].line, &d, err, sizeof(err)) == -1);
		if (strstr(err, bad[i].err) == NULL) {
			fprintf(stderr, "line %s: error '%s' lacks '%s'\n",
			    bad[i].line, err, bad[i].err);
			CHECK(strstr(err, bad[i].err) != NULL);
		}
		CHECK(d.type == 0);
	}
	/* No error buffer, or a tiny one, is fine. */
	CHECK(decode("{}", &d, NULL, 0) == -1);
	CHECK(decode("{}", &d, err, 4) == -1);
	CHECK(strlen(err) == 3);
	/* A truncated line. */
	CHECK(proto_decode("{\"type\":\"end\"}", 10, &d, err,
	    sizeof(err)) == -1);
	CHECK(proto_decode(NULL, 0, &d, err, sizeof(err)) == -1);
}

/* Unknown fields are ignored, at the top level and inside objects. */
static void
test_decode_forward_compatible(void)
{
	struct proto_msg	d;
	char			err[256];

	CHECK(decode("{\"future\":[1,{\"x\":null}],\"type\":\"update\","
	    "\"id\":5,\"zone\":\"eu\",\"peer_cert\":{\"subject\":\"s\","
	    "\"serial\":\"01\"},\"bytes_in\":3}", &d, err, sizeof(err)) == 0);
	CHECK(d.type == PROTO_UPDATE);
	CHECK(d.u.session.id == 5);
	CHECK(d.u.session.fields == (PROTO_F_PEER_CERT | PROTO_F_BYTES));
	CHECK_STR(d.u.session.peer_subject, "s");
	CHECK(d.u.session.bytes_in == 3);
	CHECK(decode("{\"type\":\"hello\",\"proto\":2,\"limits\":"
	    "{\"new_limit\":1,\"history\":9},\"features\":[\"x\"]}", &d, err,
	    sizeof(err)) == 0);
	CHECK(d.u.hello.proto == 2);
	CHECK(d.u.hello.history == 9);
	/* A session message without fields gives what it has. */
	CHECK(decode("{\"type\":\"session\",\"id\":8,\"state\":\"closing\"}",
	    &d, err, sizeof(err)) == 0);
	CHECK(d.u.session.fields == PROTO_F_STATE);
	CHECK(d.u.session.state == PROTO_STATE_CLOSING);
	CHECK(d.u.session.handshake_ms == -1);
}

static void
test_command_parse(void)
{
	static const struct {
		const char	*line;
		enum proto_cmd	 cmd;
		uint64_t	 id;
	} good[] = {
		{ "snapshot", PROTO_CMD_SNAPSHOT, 0 },
		{ "snapshot\n", PROTO_CMD_SNAPSHOT, 0 },
		{ "  watch\r\n", PROTO_CMD_WATCH, 0 },
		{ "\twatch \t", PROTO_CMD_WATCH, 0 },
		{ "kill 12", PROTO_CMD_KILL, 12 },
		{ "kill   7\n", PROTO_CMD_KILL, 7 },
		{ "kill\t007", PROTO_CMD_KILL, 7 },
		{ "kill 18446744073709551615", PROTO_CMD_KILL, UINT64_MAX },
		{ "{\"cmd\":\"snapshot\"}", PROTO_CMD_SNAPSHOT, 0 },
		{ " {\"cmd\" : \"watch\"}\r\n", PROTO_CMD_WATCH, 0 },
		{ "{\"cmd\":\"kill\",\"id\":12}", PROTO_CMD_KILL, 12 },
		{ "{\"id\":9223372036854775807,\"cmd\":\"kill\"}",
		    PROTO_CMD_KILL, INT64_MAX },
		{ "{\"cmd\":\"snapshot\",\"future\":true}", PROTO_CMD_SNAPSHOT,
		    0 },
	};
	struct proto_command	c;
	char			err[256];
	size_t			i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		err[0] = '\0';
		if (proto_command_parse(good[i].line, strlen(good[i].line), &c,
		    err, sizeof(err)) != 0) {
			fprintf(stderr, "'%s': %s\n", good[i].line, err);
			CHECK(0);
			continue;
		}
		CHECK(c.cmd == good[i].cmd);
		CHECK(c.id == good[i].id);
	}
	/* Only len bytes count; the rest of the buffer is not looked at. */
	CHECK(proto_command_parse("watchdog", 5, &c, err, sizeof(err)) == 0);
	CHECK(c.cmd == PROTO_CMD_WATCH);
	CHECK(proto_command_parse("kill 123", 6, &c, err, sizeof(err)) == 0);
	CHECK(c.id == 1);
}

static void
test_command_errors(void)
{
	static const struct {
		const char	*line;
		size_t		 len;	/* 0: strlen */
		const char	*err;
	} bad[] = {
		{ "", 0, "empty command" },
		{ " \r\n", 0, "empty command; expected snapshot, watch or "
		    "kill ID" },
		{ "foo", 0, "unknown command 'foo'; expected snapshot, "
		    "watch or kill ID" },
		{ "SNAPSHOT", 0, "unknown command 'SNAPSHOT'" },
		{ "snap", 0, "unknown command 'snap'" },
		{ "snapshots", 0, "unknown command 'snapshots'" },
		{ "snapshot now", 0, "snapshot takes no argument" },
		{ "watch 5", 0, "watch takes no argument" },
		{ "kill", 0, "kill: missing session id" },
		{ "kill  \n", 0, "kill: missing session id" },
		{ "kill x", 0, "kill: 'x' is not a session id" },
		{ "kill 0", 0, "kill: '0' is not a session id" },
		{ "kill -3", 0, "kill: '-3' is not a session id" },
		{ "kill +3", 0, "kill: '+3' is not a session id" },
		{ "kill 0x10", 0, "is not a session id" },
		{ "kill 1 2", 0, "kill: '1 2' is not a session id" },
		{ "kill 18446744073709551616", 0, "is not a session id" },
		{ "kill 99999999999999999999999999999999999999999999999999",
		    0, "is not a session id" },
		{ "kill\x1b[2J", 0, "unknown command 'kill\\x1b[2J'" },
		{ "snapshot\0", 9, "NUL" },
		{ "kill 1\0" "2", 8, "NUL" },
		{ "\0", 1, "NUL" },
		{ "kill \xff", 0, "not valid UTF-8" },
		{ "\xc3\xa9t\xc3\xa9", 0, "unknown command '\xc3\xa9t\xc3\xa9'" },
		{ "{", 0, "command line is not valid JSON" },
		{ "{\"cmd\":\"snapshot\"} x", 0, "not valid JSON" },
		{ "{\"cmd\":\"snapshot\",\"cmd\":\"watch\"}", 0, "duplicate" },
		{ "[\"snapshot\"]", 0, "unknown command '[\"snapshot\"]'" },
		{ "{}", 0, "\"cmd\"" },
		{ "{\"cmd\":5}", 0, "\"cmd\"" },
		{ "{\"cmd\":\"nope\"}", 0, "unknown command 'nope'" },
		{ "{\"cmd\":\"kill\"}", 0, "kill: missing session id" },
		{ "{\"cmd\":\"kill\",\"id\":\"12\"}", 0,
		    "kill: '\"12\"' is not a session id" },
		{ "{\"cmd\":\"kill\",\"id\":0}", 0, "kill: '0' is not" },
		{ "{\"cmd\":\"kill\",\"id\":-4}", 0, "kill: '-4' is not" },
		{ "{\"cmd\":\"kill\",\"id\":1.0}", 0, "kill: '1.0' is not" },
		{ "{\"cmd\":\"kill\",\"id\":99999999999999999999}", 0,
		    "not valid JSON" },
		{ "{\"cmd\":\"sn\\u0000apshot\"}", 0, "not valid JSON" },
	};
	struct proto_command	c;
	char			err[256], big[PROTO_COMMAND_MAX + 100];
	size_t			i, len;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = bad[i].len ? bad[i].len : strlen(bad[i].line);
		strcpy(err, "untouched");
		c.cmd = PROTO_CMD_KILL;
		c.id = 99;
		CHECK(proto_command_parse(bad[i].line, len, &c, err,
		    sizeof(err)) == -1);
		if (strstr(err, bad[i].err) == NULL) {
			fprintf(stderr, "'%s': error '%s' lacks '%s'\n",
			    bad[i].line, err, bad[i].err);
			CHECK(0);
		}
		CHECK(c.cmd == 0 && c.id == 0);
	}
	/* A long word is quoted only in part. */
	memset(big, 'z', sizeof(big));
	CHECK(proto_command_parse(big, sizeof(big), &c, err, sizeof(err)) ==
	    -1);
	CHECK(strlen(err) < 120);
	CHECK(strstr(err, "...'") != NULL);
	CHECK(proto_command_parse(big, sizeof(big), &c, NULL, 0) == -1);
}

static void
test_command_format(void)
{
	struct proto_command	c, p;
	char			buf[64], err[256];

	c.cmd = PROTO_CMD_SNAPSHOT;
	c.id = 0;
	CHECK(proto_command_format(&c, buf, sizeof(buf)) == 9);
	CHECK_STR(buf, "snapshot\n");
	c.cmd = PROTO_CMD_WATCH;
	CHECK(proto_command_format(&c, buf, sizeof(buf)) == 6);
	CHECK_STR(buf, "watch\n");
	c.cmd = PROTO_CMD_KILL;
	c.id = 12;
	CHECK(proto_command_format(&c, buf, sizeof(buf)) == 8);
	CHECK_STR(buf, "kill 12\n");
	/* Exactly fits with its NUL, one byte short does not. */
	CHECK(proto_command_format(&c, buf, 9) == 8);
	CHECK(proto_command_format(&c, buf, 8) == -1);
	CHECK_STR(buf, "");
	CHECK(proto_command_format(&c, buf, 0) == -1);
	c.id = UINT64_MAX;
	CHECK(proto_command_format(&c, buf, sizeof(buf)) > 0);
	CHECK(proto_command_parse(buf, strlen(buf), &p, err,
	    sizeof(err)) == 0);
	CHECK(p.cmd == PROTO_CMD_KILL && p.id == UINT64_MAX);
	c.id = 0;
	CHECK(proto_command_format(&c, buf, sizeof(buf)) == -1);
	c.cmd = (enum proto_cmd)0;
	CHECK(proto_command_format(&c, buf, sizeof(buf)) == -1);
}

static void
test_tally(void)
{
	struct proto_tally	t;
	char			name[32], longname[200];
	size_t			i;

	memset(&t, 0, sizeof(t));
	CHECK(proto_tally_get(&t, "idle") == 0);
	CHECK(proto_tally_add(&t, "idle", 1) == 1);
	CHECK(proto_tally_add(&t, "idle", 2) == 3);
	CHECK(proto_tally_add(&t, "eof", 5) == 5);
	CHECK(t.n == 2);
	CHECK(proto_tally_get(&t, "idle") == 3);
	CHECK(proto_tally_get(&t, NULL) == 0);

	/* Up to PROTO_TALLY_MAX - 1 names get their own entry. */
	memset(&t, 0, sizeof(t));
	for (i = 0; i < PROTO_TALLY_MAX - 1; i++) {
		snprintf(name, sizeof(name), "r%zu", i);
		CHECK(proto_tally_add(&t, name, i + 1) == i + 1);
	}
	CHECK(t.n == PROTO_TALLY_MAX - 1);
	/* Then they go to "other", in the last entry. */
	CHECK(proto_tally_add(&t, "late1", 10) == 10);
	CHECK(proto_tally_add(&t, "late2", 5) == 15);
	CHECK(proto_tally_add(&t, "other", 1) == 16);
	CHECK(t.n == PROTO_TALLY_MAX);
	CHECK_STR(t.item[PROTO_TALLY_MAX - 1].name, "other");
	CHECK(proto_tally_get(&t, "other") == 16);
	CHECK(proto_tally_get(&t, "late1") == 0);
	/* Known names still count on their own. */
	CHECK(proto_tally_add(&t, "r3", 1) == 5);

	/* A table some caller filled to the brim without "other". */
	memset(&t, 0, sizeof(t));
	for (i = 0; i < PROTO_TALLY_MAX; i++) {
		snprintf(t.item[i].name, sizeof(t.item[i].name), "n%zu", i);
		t.item[i].count = 1;
	}
	t.n = PROTO_TALLY_MAX;
	CHECK(proto_tally_add(&t, "new", 1) == 2);
	CHECK(proto_tally_get(&t, "other") == 2);
	CHECK(t.n == PROTO_TALLY_MAX);

	/* Counts saturate; long names are cut like decoded strings. */
	memset(&t, 0, sizeof(t));
	CHECK(proto_tally_add(&t, "x", UINT64_MAX - 1) == UINT64_MAX - 1);
	CHECK(proto_tally_add(&t, "x", 5) == UINT64_MAX);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK(proto_tally_add(&t, longname, 1) == 1);
	CHECK(proto_tally_get(&t, longname) == 1);
	CHECK(strlen(t.item[1].name) == PROTO_SHORT_MAX - 1);
}

/* More names on the wire than a tally holds end up under "other". */
static void
test_tally_decode_overflow(void)
{
	struct proto_msg	 d;
	char			 line[4096];
	size_t			 i, o;

	o = snprintf(line, sizeof(line),
	    "{\"type\":\"counters\",\"time_ms\":1,\"ciphers\":{");
	for (i = 0; i < 40; i++)
		o += snprintf(line + o, sizeof(line) - o, "%s\"c%zu\":%zu",
		    i ? "," : "", i, i + 1);
	snprintf(line + o, sizeof(line) - o, "}}");
	CHECK(decode(line, &d, NULL, 0) == 0);
	CHECK(d.u.counters.fields == PROTO_C_CIPHERS);
	CHECK(d.u.counters.ciphers.n == PROTO_TALLY_MAX);
	CHECK(proto_tally_get(&d.u.counters.ciphers, "c30") == 31);
	/* c31..c39 hold 32 + ... + 40 = 324. */
	CHECK(proto_tally_get(&d.u.counters.ciphers, "other") == 324);
}

/* The largest entries, largest first, whatever order they came in. */
static void
test_tally_top(void)
{
	struct proto_tally	 t;
	size_t			 top[3];

	memset(&t, 0, sizeof(t));
	CHECK(proto_tally_top(&t, top, 2) == 0);
	proto_tally_add(&t, "a", 1);
	CHECK(proto_tally_top(&t, top, 2) == 1 && top[0] == 0);
	proto_tally_add(&t, "b", 5);
	proto_tally_add(&t, "c", 3);
	CHECK(proto_tally_top(&t, top, 2) == 2);
	CHECK(top[0] == 1 && top[1] == 2);	/* b 5, c 3 */
	proto_tally_add(&t, "d", 3);
	proto_tally_add(&t, "e", 9);
	CHECK(proto_tally_top(&t, top, 3) == 3);
	CHECK(top[0] == 4 && top[1] == 1 && top[2] == 2);	/* e, b, c */
}

TEST_MAIN("common_proto",
    TEST(test_names),
    TEST(test_session_types),
    TEST(test_session_without_cert),
    TEST(test_update_partial),
    TEST(test_big_numbers),
    TEST(test_counters),
    TEST(test_hello),
    TEST(test_small_types),
    TEST(test_encode_invalid),
    TEST(test_long_strings),
    TEST(test_hostile_strings),
    TEST(test_decode_line_endings),
    TEST(test_decode_malformed),
    TEST(test_decode_forward_compatible),
    TEST(test_command_parse),
    TEST(test_command_errors),
    TEST(test_command_format),
    TEST(test_tally),
    TEST(test_tally_decode_overflow),
    TEST(test_tally_top))
