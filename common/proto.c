/*
 * The tlsechod stats protocol on the wire: JSON Lines, encoded and decoded
 * with jansson. This is the only file that knows the wire form; proto.h
 * holds the C form and docs/PROTOCOL.md the description for scripts.
 *
 * Every line is one JSON object whose "type" is proto_type_name(). Field
 * names are the struct member names, inline at the top level; one table
 * per message kind below lists them, so that the encoder and the decoder
 * cannot disagree. Peer-controlled strings (certificate names, SNI) may be
 * anything: the encoder replaces each byte that is not valid UTF-8 with
 * U+FFFD, so a line is always valid JSON and encoding fails only when
 * memory runs out or the message is not valid (unknown type or state).
 *
 * The decoder is strict about what it knows (a field of the wrong JSON
 * type is an error that names the field) and ignores what it does not
 * (unknown fields), so that new fields can be added without breaking old
 * readers.
 *
 * Nothing here keeps state: every function is reentrant.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/proto.h"
#include "common/util.h"

/* How a field is represented on the wire. */
enum proto_kind {
	PROTO_K_STRING,		/* char[size], JSON string */
	PROTO_K_INT,		/* int, JSON integer */
	PROTO_K_INT64,		/* int64_t, JSON integer */
	PROTO_K_UINT64,		/* uint64_t, JSON integer >= 0 */
	PROTO_K_BOOL,		/* int, JSON true or false */
	PROTO_K_STATE,		/* enum proto_state, JSON string */
	PROTO_K_OBJECT,		/* nested object of sub fields */
	PROTO_K_CERT,		/* nested object of sub fields, or null;
				   aux is the int that says which */
	PROTO_K_TALLY,		/* struct proto_tally, {"name": count} */
	PROTO_K_LISTEN		/* char[][PROTO_ADDR_MAX], array of strings;
				   aux is the size_t count */
};

/*
 * One field: its wire name, where it lives in struct proto_msg and which
 * PROTO_F_* or PROTO_C_* group it belongs to (0: always present).
 */
struct proto_field {
	const char		 *name;
	enum proto_kind		  kind;
	size_t			  off;
	size_t			  size;
	uint32_t		  group;
	size_t			  aux;
	const struct proto_field *sub;
	size_t			  nsub;
};

#define M_OFF(member)	offsetof(struct proto_msg, member)
#define M_SIZE(member)	sizeof(((struct proto_msg *)0)->member)
#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

#define F_STRING(n, member, g)						\
	{ .name = (n), .kind = PROTO_K_STRING, .off = M_OFF(member),	\
	  .size = M_SIZE(member), .group = (g) }
#define F_SCALAR(n, k, member, g)					\
	{ .name = (n), .kind = (k), .off = M_OFF(member),		\
	  .size = M_SIZE(member), .group = (g) }
#define F_INT(n, member, g)	F_SCALAR(n, PROTO_K_INT, member, g)
#define F_INT64(n, member, g)	F_SCALAR(n, PROTO_K_INT64, member, g)
#define F_UINT64(n, member, g)	F_SCALAR(n, PROTO_K_UINT64, member, g)
#define F_BOOL(n, member, g)	F_SCALAR(n, PROTO_K_BOOL, member, g)
#define F_TALLY(n, member, g)	F_SCALAR(n, PROTO_K_TALLY, member, g)

static const struct proto_field proto_cert_fields[] = {
	F_STRING("subject", u.session.peer_subject, 0),
	F_STRING("issuer", u.session.peer_issuer, 0),
	F_STRING("pin", u.session.peer_pin, 0),
	F_INT64("not_after", u.session.peer_not_after, 0),
};

static const struct proto_field proto_session_fields[] = {
	F_UINT64("id", u.session.id, 0),
	F_STRING("peer", u.session.peer, PROTO_F_ADDRS),
	F_STRING("local", u.session.local, PROTO_F_ADDRS),
	F_SCALAR("state", PROTO_K_STATE, u.session.state, PROTO_F_STATE),
	F_INT64("started_ms", u.session.started_ms, PROTO_F_STARTED),
	F_INT64("handshake_ms", u.session.handshake_ms, PROTO_F_TLS),
	F_STRING("version", u.session.version, PROTO_F_TLS),
	F_STRING("cipher", u.session.cipher, PROTO_F_TLS),
	F_INT("cipher_bits", u.session.cipher_bits, PROTO_F_TLS),
	F_STRING("sni", u.session.sni, PROTO_F_TLS),
	F_STRING("alpn", u.session.alpn, PROTO_F_TLS),
	F_BOOL("resumed", u.session.resumed, PROTO_F_TLS),
	{ .name = "peer_cert", .kind = PROTO_K_CERT,
	  .aux = M_OFF(u.session.has_peer_cert), .group = PROTO_F_PEER_CERT,
	  .sub = proto_cert_fields, .nsub = NITEMS(proto_cert_fields) },
	F_UINT64("bytes_in", u.session.bytes_in, PROTO_F_BYTES),
	F_UINT64("bytes_out", u.session.bytes_out, PROTO_F_BYTES),
	F_INT64("last_activity_ms", u.session.last_activity_ms,
	    PROTO_F_ACTIVITY),
	F_STRING("reason", u.session.reason, PROTO_F_END),
	F_INT64("ended_ms", u.session.ended_ms, PROTO_F_END),
};

static const struct proto_field proto_counters_fields[] = {
	F_INT64("time_ms", u.counters.time_ms, 0),
	F_UINT64("accepted", u.counters.accepted, PROTO_C_ACCEPTED),
	F_UINT64("active", u.counters.active, PROTO_C_ACTIVE),
	F_UINT64("rejected", u.counters.rejected, PROTO_C_REJECTED),
	F_UINT64("bytes_in", u.counters.bytes_in, PROTO_C_BYTES),
	F_UINT64("bytes_out", u.counters.bytes_out, PROTO_C_BYTES),
	F_UINT64("subscribers", u.counters.subscribers, PROTO_C_SUBSCRIBERS),
	F_UINT64("subscribers_dropped", u.counters.subscribers_dropped,
	    PROTO_C_SUBSCRIBERS),
	F_UINT64("subscribers_resynced", u.counters.subscribers_resynced,
	    PROTO_C_SUBSCRIBERS),
	F_UINT64("commands_oversized", u.counters.commands_oversized,
	    PROTO_C_SUBSCRIBERS),
	F_TALLY("handshake_failures", u.counters.handshake_failures,
	    PROTO_C_HS_FAILURES),
	F_TALLY("closes", u.counters.closes, PROTO_C_CLOSES),
	F_TALLY("versions", u.counters.versions, PROTO_C_VERSIONS),
	F_TALLY("ciphers", u.counters.ciphers, PROTO_C_CIPHERS),
};

static const struct proto_field proto_limits_fields[] = {
	F_INT64("max_conns", u.hello.max_conns, 0),
	F_INT64("idle_timeout_ms", u.hello.idle_timeout_ms, 0),
	F_INT64("handshake_timeout_ms", u.hello.handshake_timeout_ms, 0),
	F_INT64("history", u.hello.history, 0),
	F_INT64("counters_interval_ms", u.hello.counters_interval_ms, 0),
};

static const struct proto_field proto_hello_fields[] = {
	F_INT("proto", u.hello.proto, 0),
	F_STRING("version", u.hello.version, 0),
	F_INT64("pid", u.hello.pid, 0),
	F_INT64("started_ms", u.hello.started_ms, 0),
	{ .name = "listen", .kind = PROTO_K_LISTEN, .off = M_OFF(u.hello.listen),
	  .size = M_SIZE(u.hello.listen[0]), .aux = M_OFF(u.hello.nlisten) },
	F_STRING("cert_subject", u.hello.cert_subject, 0),
	F_INT64("cert_not_after", u.hello.cert_not_after, 0),
	{ .name = "limits", .kind = PROTO_K_OBJECT, .sub = proto_limits_fields,
	  .nsub = NITEMS(proto_limits_fields) },
	F_BOOL("may_kill", u.hello.may_kill, 0),
};

static const struct proto_field proto_reload_fields[] = {
	F_BOOL("ok", u.reload.ok, 0),
	F_STRING("message", u.reload.message, 0),
};

static const struct proto_field proto_ok_fields[] = {
	F_STRING("command", u.ok.command, 0),
	F_UINT64("id", u.ok.id, 0),
};

static const struct proto_field proto_error_fields[] = {
	F_STRING("message", u.error.message, 0),
};

static const struct proto_field proto_bye_fields[] = {
	F_STRING("reason", u.error.message, 0),
};

static const char *const proto_type_names[] = {
	[PROTO_HELLO] = "hello",
	[PROTO_SESSION] = "session",
	[PROTO_CLOSED] = "closed",
	[PROTO_COUNTERS] = "counters",
	[PROTO_END] = "end",
	[PROTO_OPEN] = "open",
	[PROTO_UPDATE] = "update",
	[PROTO_CLOSE] = "close",
	[PROTO_RELOAD] = "reload",
	[PROTO_OK] = "ok",
	[PROTO_ERROR] = "error",
	[PROTO_BYE] = "bye",
};

static const char *const proto_state_names[] = {
	[PROTO_STATE_HANDSHAKE] = "handshake",
	[PROTO_STATE_ESTABLISHED] = "established",
	[PROTO_STATE_CLOSING] = "closing",
	[PROTO_STATE_CLOSED] = "closed",
};

#define PROTO_WHITE(c)	((c) == ' ' || (c) == '\t' || (c) == '\r' ||	\
			 (c) == '\n' || (c) == '\v' || (c) == '\f')
/* How much of a peer's word an error message quotes. */
#define PROTO_QUOTE_MAX	40
#define PROTO_CMD_EXPECTED "expected snapshot, watch or kill ID"

/* A growing output buffer for json_dump_callback. */
struct proto_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static int	 proto_fail(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 proto_utf8_valid(const char *, size_t);
static void	 proto_copy_cut(char *, size_t, const char *, size_t);
static void	 proto_quote(const char *, size_t, char *, size_t);
static const char *proto_json_kind(const json_t *);
static json_t	*proto_json_string(const char *, size_t);
static int	 proto_put_fields(json_t *, const struct proto_field *,
		    size_t, const struct proto_msg *, uint32_t);
static json_t	*proto_put_value(const struct proto_field *,
		    const struct proto_msg *);
static json_t	*proto_put_tally(const struct proto_tally *);
static int	 proto_get_fields(json_t *, const struct proto_field *,
		    size_t, struct proto_msg *, uint32_t *, const char *,
		    char *, size_t);
static int	 proto_get_value(json_t *, const struct proto_field *,
		    struct proto_msg *, const char *, char *, size_t);
static int	 proto_get_tally(json_t *, struct proto_tally *,
		    const char *, char *, size_t);
static int	 proto_get_listen(json_t *, const struct proto_field *,
		    struct proto_msg *, const char *, char *, size_t);
static const struct proto_field *proto_fields(enum proto_type, size_t *);
static int	 proto_buf_dump(const char *, size_t, void *);
static int	 proto_command_json(const char *, size_t,
		    struct proto_command *, char *, size_t);
static int	 proto_command_id(const char *, size_t, uint64_t *);

const char *
proto_type_name(enum proto_type type)
{
	if ((size_t)type >= NITEMS(proto_type_names))
		return NULL;
	return proto_type_names[type];
}

const char *
proto_state_name(enum proto_state state)
{
	if ((size_t)state >= NITEMS(proto_state_names))
		return NULL;
	return proto_state_names[state];
}

/* Writes a message into err (when there is one) and returns -1. */
static int
proto_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
proto_utf8_valid(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0, n;

	while (i < len) {
		if ((n = utf8_len(u + i, len - i)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

/*
 * Copies the first len bytes of src into dst (size dstlen, always
 * NUL-terminated); what does not fit is cut before the UTF-8 character
 * that would straddle the end.
 */
static void
proto_copy_cut(char *dst, size_t dstlen, const char *src, size_t len)
{
	if (dstlen == 0)
		return;
	if (len >= dstlen) {
		len = dstlen - 1;
		while (len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/*
 * Quotes a peer's word for an error message: at most PROTO_QUOTE_MAX
 * bytes, control characters and invalid UTF-8 escaped, "..." when cut.
 */
static void
proto_quote(const char *s, size_t len, char *out, size_t outlen)
{
	char	tmp[PROTO_QUOTE_MAX + 1], esc[PROTO_QUOTE_MAX * 4 + 1];

	proto_copy_cut(tmp, sizeof(tmp), s, len);
	str_escape(tmp, esc, sizeof(esc));
	snprintf(out, outlen, "%s%s", esc, strlen(tmp) < len ? "..." : "");
}

static const char *
proto_json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "something else";
}

/*
 * A JSON string of the first strnlen(s, max) bytes of s, each byte that
 * does not begin a valid UTF-8 character replaced with U+FFFD. NULL when
 * memory runs out.
 */
static json_t *
proto_json_string(const char *s, size_t max)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 len, i, n, o = 0;
	char			*tmp;
	json_t			*v;

	len = strnlen(s, max);
	if (proto_utf8_valid(s, len))
		return json_stringn(s, len);
	if ((tmp = malloc(len * 3 + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i += n) {
		if ((n = utf8_len(u + i, len - i)) == 0) {
			memcpy(tmp + o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		} else {
			memcpy(tmp + o, s + i, n);
			o += n;
		}
	}
	v = json_stringn(tmp, o);
	free(tmp);
	return v;
}

/*
 * Adds the fields of table f that are always present or whose group is
 * in groups to object o. Returns 0, or -1 (errno set).
 */
static int
proto_put_fields(json_t *o, const struct proto_field *f, size_t nf,
    const struct proto_msg *m, uint32_t groups)
{
	size_t	 i;
	json_t	*v;

	for (i = 0; i < nf; i++) {
		if (f[i].group != 0 && (f[i].group & groups) == 0)
			continue;
		if ((v = proto_put_value(&f[i], m)) == NULL)
			return -1;
		if (json_object_set_new(o, f[i].name, v) == -1) {
			errno = ENOMEM;
			return -1;
		}
	}
	return 0;
}

/* The JSON value of one field; NULL with errno set on failure. */
static json_t *
proto_put_value(const struct proto_field *f, const struct proto_msg *m)
{
	const char	*p = (const char *)m + f->off;
	const char	*name;
	json_t		*v = NULL;
	size_t		 i, n;
	uint64_t	 u;
	int64_t		 i64;
	int		 i32;

	switch (f->kind) {
	case PROTO_K_STRING:
		v = proto_json_string(p, f->size);
		break;
	case PROTO_K_INT:
	case PROTO_K_BOOL:
		memcpy(&i32, p, sizeof(i32));
		v = f->kind == PROTO_K_INT ? json_integer(i32) :
		    json_boolean(i32 != 0);
		break;
	case PROTO_K_INT64:
		memcpy(&i64, p, sizeof(i64));
		v = json_integer(i64);
		break;
	case PROTO_K_UINT64:
		memcpy(&u, p, sizeof(u));
		v = json_integer(u > INT64_MAX ? INT64_MAX : (json_int_t)u);
		break;
	case PROTO_K_STATE:
		if ((name = proto_state_name(*(const enum proto_state *)p)) ==
		    NULL) {
			errno = EINVAL;
			return NULL;
		}
		v = json_string(name);
		break;
	case PROTO_K_CERT:
		memcpy(&i32, (const char *)m + f->aux, sizeof(i32));
		if (i32 == 0) {
			v = json_null();
			break;
		}
		/* FALLTHROUGH */
	case PROTO_K_OBJECT:
		if ((v = json_object()) == NULL)
			break;
		if (proto_put_fields(v, f->sub, f->nsub, m, 0) == -1) {
			json_decref(v);
			return NULL;
		}
		return v;
	case PROTO_K_TALLY:
		v = proto_put_tally((const struct proto_tally *)p);
		break;
	case PROTO_K_LISTEN:
		memcpy(&n, (const char *)m + f->aux, sizeof(n));
		if (n > PROTO_LISTEN_MAX)
			n = PROTO_LISTEN_MAX;
		if ((v = json_array()) == NULL)
			break;
		for (i = 0; i < n; i++) {
			if (json_array_append_new(v,
			    proto_json_string(p + i * f->size, f->size)) == -1) {
				json_decref(v);
				v = NULL;
				break;
			}
		}
		break;
	}
	if (v == NULL)
		errno = ENOMEM;
	return v;
}

/*
 * {"name": count, ...}. Names that become equal once made valid UTF-8
 * are added up, so no count is lost.
 */
static json_t *
proto_put_tally(const struct proto_tally *t)
{
	json_t		*o, *key, *old;
	size_t		 i, n;
	uint64_t	 count;

	if ((o = json_object()) == NULL)
		return NULL;
	n = t->n > PROTO_TALLY_MAX ? PROTO_TALLY_MAX : t->n;
	for (i = 0; i < n; i++) {
		if ((key = proto_json_string(t->item[i].name,
		    sizeof(t->item[i].name))) == NULL)
			goto fail;
		count = t->item[i].count > INT64_MAX ? INT64_MAX :
		    t->item[i].count;
		old = json_object_get(o, json_string_value(key));
		if (old != NULL) {
			if ((uint64_t)json_integer_value(old) >
			    INT64_MAX - count)
				count = INT64_MAX;
			else
				count += json_integer_value(old);
		}
		if (json_object_set_new(o, json_string_value(key),
		    json_integer((json_int_t)count)) == -1) {
			json_decref(key);
			goto fail;
		}
		json_decref(key);
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

static int
proto_buf_dump(const char *s, size_t n, void *arg)
{
	struct proto_buf	*b = arg;
	size_t			 cap;
	char			*p;

	/* Room for the newline and the NUL that proto_encode adds. */
	if (b->len + n + 2 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (b->len + n + 2 > cap)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

/* The field table of a message type (besides "type"). */
static const struct proto_field *
proto_fields(enum proto_type type, size_t *n)
{
	switch (type) {
	case PROTO_HELLO:
		*n = NITEMS(proto_hello_fields);
		return proto_hello_fields;
	case PROTO_SESSION:
	case PROTO_CLOSED:
	case PROTO_OPEN:
	case PROTO_UPDATE:
	case PROTO_CLOSE:
		*n = NITEMS(proto_session_fields);
		return proto_session_fields;
	case PROTO_COUNTERS:
		*n = NITEMS(proto_counters_fields);
		return proto_counters_fields;
	case PROTO_RELOAD:
		*n = NITEMS(proto_reload_fields);
		return proto_reload_fields;
	case PROTO_OK:
		*n = NITEMS(proto_ok_fields);
		return proto_ok_fields;
	case PROTO_ERROR:
		*n = NITEMS(proto_error_fields);
		return proto_error_fields;
	case PROTO_BYE:
		*n = NITEMS(proto_bye_fields);
		return proto_bye_fields;
	case PROTO_END:
		break;
	}
	*n = 0;
	return NULL;
}

/*
 * session, closed, open and close carry every field; update carries id
 * plus the groups in session.fields; counters carries time_ms plus the
 * groups in counters.fields. On failure errno is ENOMEM, or EINVAL for an
 * unknown type or session state.
 */
char *
proto_encode(const struct proto_msg *m, size_t *len)
{
	const struct proto_field	*f;
	const char			*name;
	struct proto_buf		 b = { NULL, 0, 0 };
	json_t				*o;
	size_t				 nf;
	uint32_t			 groups = 0;

	if ((name = proto_type_name(m->type)) == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((o = json_object()) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (json_object_set_new(o, "type", json_string(name)) == -1) {
		errno = ENOMEM;
		goto fail;
	}
	switch (m->type) {
	case PROTO_UPDATE:
		groups = m->u.session.fields & PROTO_F_ALL;
		break;
	case PROTO_COUNTERS:
		groups = m->u.counters.fields & PROTO_C_ALL;
		break;
	default:
		groups = UINT32_MAX;
		break;
	}
	f = proto_fields(m->type, &nf);
	if (proto_put_fields(o, f, nf, m, groups) == -1)
		goto fail;
	if (json_dump_callback(o, proto_buf_dump, &b,
	    JSON_COMPACT | JSON_PRESERVE_ORDER) == -1) {
		errno = ENOMEM;
		goto fail;
	}
	json_decref(o);
	b.p[b.len++] = '\n';
	b.p[b.len] = '\0';
	if (len != NULL)
		*len = b.len;
	return b.p;
fail:
	json_decref(o);
	free(b.p);
	return NULL;
}

/*
 * Reads the fields of table f present in object o into m, adding their
 * groups to *groups. prefix names the enclosing object in errors.
 */
static int
proto_get_fields(json_t *o, const struct proto_field *f, size_t nf,
    struct proto_msg *m, uint32_t *groups, const char *prefix, char *err,
    size_t errlen)
{
	json_t	*v;
	size_t	 i;

	for (i = 0; i < nf; i++) {
		if ((v = json_object_get(o, f[i].name)) == NULL)
			continue;
		if (proto_get_value(v, &f[i], m, prefix, err, errlen) == -1)
			return -1;
		if (groups != NULL)
			*groups |= f[i].group;
	}
	return 0;
}

static int
proto_get_value(json_t *v, const struct proto_field *f, struct proto_msg *m,
    const char *prefix, char *err, size_t errlen)
{
	char		*p = (char *)m + f->off;
	char		 name[128], quoted[PROTO_QUOTE_MAX * 4 + 8];
	const char	*expected, *s;
	json_int_t	 i;
	int64_t		 i64;
	uint64_t	 u;
	int		 i32;
	size_t		 k;

	snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "",
	    f->name);
	switch (f->kind) {
	case PROTO_K_STRING:
		if (!json_is_string(v)) {
			expected = "a string";
			goto wrong;
		}
		proto_copy_cut(p, f->size, json_string_value(v),
		    json_string_length(v));
		return 0;
	case PROTO_K_INT:
	case PROTO_K_INT64:
	case PROTO_K_UINT64:
		if (!json_is_integer(v)) {
			expected = f->kind == PROTO_K_UINT64 ?
			    "a non-negative integer" : "an integer";
			goto wrong;
		}
		i = json_integer_value(v);
		if (f->kind == PROTO_K_INT) {
			if (i < INT_MIN || i > INT_MAX)
				return proto_fail(err, errlen,
				    "field '%s': %lld is out of range", name,
				    (long long)i);
			i32 = (int)i;
			memcpy(p, &i32, sizeof(i32));
		} else if (f->kind == PROTO_K_INT64) {
			i64 = i;
			memcpy(p, &i64, sizeof(i64));
		} else {
			if (i < 0)
				return proto_fail(err, errlen,
				    "field '%s': expected a non-negative "
				    "integer, got %lld", name, (long long)i);
			u = (uint64_t)i;
			memcpy(p, &u, sizeof(u));
		}
		return 0;
	case PROTO_K_BOOL:
		if (!json_is_boolean(v)) {
			expected = "true or false";
			goto wrong;
		}
		i32 = json_is_true(v);
		memcpy(p, &i32, sizeof(i32));
		return 0;
	case PROTO_K_STATE:
		if (!json_is_string(v)) {
			expected = "a string";
			goto wrong;
		}
		s = json_string_value(v);
		for (k = 0; k < NITEMS(proto_state_names); k++) {
			if (strcmp(s, proto_state_names[k]) == 0) {
				*(enum proto_state *)p = (enum proto_state)k;
				return 0;
			}
		}
		proto_quote(s, json_string_length(v), quoted, sizeof(quoted));
		return proto_fail(err, errlen, "field '%s': unknown state '%s'",
		    name, quoted);
	case PROTO_K_CERT:
		if (json_is_null(v)) {
			i32 = 0;
			memcpy((char *)m + f->aux, &i32, sizeof(i32));
			return 0;
		}
		if (!json_is_object(v)) {
			expected = "an object or null";
			goto wrong;
		}
		i32 = 1;
		memcpy((char *)m + f->aux, &i32, sizeof(i32));
		return proto_get_fields(v, f->sub, f->nsub, m, NULL, name, err,
		    errlen);
	case PROTO_K_OBJECT:
		if (!json_is_object(v)) {
			expected = "an object";
			goto wrong;
		}
		return proto_get_fields(v, f->sub, f->nsub, m, NULL, name, err,
		    errlen);
	case PROTO_K_TALLY:
		if (!json_is_object(v)) {
			expected = "an object";
			goto wrong;
		}
		return proto_get_tally(v, (struct proto_tally *)p, name, err,
		    errlen);
	case PROTO_K_LISTEN:
		if (!json_is_array(v)) {
			expected = "an array";
			goto wrong;
		}
		return proto_get_listen(v, f, m, name, err, errlen);
	}
	return proto_fail(err, errlen, "field '%s': unknown kind", name);
wrong:
	return proto_fail(err, errlen, "field '%s': expected %s, got %s", name,
	    expected, proto_json_kind(v));
}

/* {"name": count}; more names than fit are added up under "other". */
static int
proto_get_tally(json_t *o, struct proto_tally *t, const char *name,
    char *err, size_t errlen)
{
	const char	*key;
	json_t		*v;
	char		 quoted[PROTO_QUOTE_MAX * 4 + 8];

	json_object_foreach(o, key, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			proto_quote(key, strlen(key), quoted, sizeof(quoted));
			return proto_fail(err, errlen, "field '%s.%s': "
			    "expected a non-negative integer, got %s", name,
			    quoted, json_is_integer(v) ? "a negative one" :
			    proto_json_kind(v));
		}
		proto_tally_add(t, key, (uint64_t)json_integer_value(v));
	}
	return 0;
}

/* An array of address strings; those beyond PROTO_LISTEN_MAX are dropped. */
static int
proto_get_listen(json_t *a, const struct proto_field *f, struct proto_msg *m,
    const char *name, char *err, size_t errlen)
{
	json_t	*v;
	size_t	 i, n = 0;

	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			return proto_fail(err, errlen, "field '%s[%zu]': "
			    "expected a string, got %s", name, i,
			    proto_json_kind(v));
		if (n == PROTO_LISTEN_MAX)
			continue;
		proto_copy_cut((char *)m + f->off + n * f->size, f->size,
		    json_string_value(v), json_string_length(v));
		n++;
	}
	memcpy((char *)m + f->aux, &n, sizeof(n));
	return 0;
}

int
proto_decode(const char *line, size_t len, struct proto_msg *m, char *err,
    size_t errlen)
{
	const struct proto_field	*f;
	json_t				*o, *v;
	json_error_t			 jerr;
	char				 quoted[PROTO_QUOTE_MAX * 4 + 8];
	const char			*s;
	size_t				 nf, k;
	uint32_t			 groups = 0;
	int				 rc = -1;

	memset(m, 0, sizeof(*m));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (line == NULL)
		line = "";
	/* No JSON_ALLOW_NUL: a "\u0000" in a string is an error. */
	if ((o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL)
		return proto_fail(err, errlen, "not valid JSON: %s (at byte "
		    "%d)", jerr.text, jerr.position);
	if (!json_is_object(o)) {
		proto_fail(err, errlen, "expected a JSON object, got %s",
		    proto_json_kind(o));
		goto done;
	}
	if ((v = json_object_get(o, "type")) == NULL) {
		proto_fail(err, errlen, "missing field 'type'");
		goto done;
	}
	if (!json_is_string(v)) {
		proto_fail(err, errlen, "field 'type': expected a string, "
		    "got %s", proto_json_kind(v));
		goto done;
	}
	s = json_string_value(v);
	for (k = 0; k < NITEMS(proto_type_names); k++) {
		if (proto_type_names[k] != NULL &&
		    strcmp(s, proto_type_names[k]) == 0)
			break;
	}
	if (k == NITEMS(proto_type_names)) {
		proto_quote(s, json_string_length(v), quoted, sizeof(quoted));
		proto_fail(err, errlen, "unknown type '%s'", quoted);
		goto done;
	}
	m->type = (enum proto_type)k;
	f = proto_fields(m->type, &nf);
	switch (m->type) {
	case PROTO_SESSION:
	case PROTO_CLOSED:
	case PROTO_OPEN:
	case PROTO_UPDATE:
	case PROTO_CLOSE:
		if (json_object_get(o, "id") == NULL) {
			proto_fail(err, errlen, "missing field 'id'");
			goto done;
		}
		m->u.session.handshake_ms = -1;
		if (proto_get_fields(o, f, nf, m, &groups, "", err, errlen) ==
		    -1)
			goto done;
		m->u.session.fields = groups;
		break;
	case PROTO_COUNTERS:
		if (proto_get_fields(o, f, nf, m, &groups, "", err, errlen) ==
		    -1)
			goto done;
		m->u.counters.fields = groups;
		break;
	default:
		if (proto_get_fields(o, f, nf, m, NULL, "", err, errlen) == -1)
			goto done;
		break;
	}
	rc = 0;
done:
	json_decref(o);
	if (rc == -1) {
		/* Leave nothing half-decoded behind. */
		memset(m, 0, sizeof(*m));
	}
	return rc;
}

/* Parses a session id: decimal digits only, 1 to UINT64_MAX. */
static int
proto_command_id(const char *s, size_t len, uint64_t *id)
{
	uint64_t	v = 0;
	size_t		i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v == 0)
		return -1;
	*id = v;
	return 0;
}

/* {"cmd":"snapshot"}, {"cmd":"watch"}, {"cmd":"kill","id":12}. */
static int
proto_command_json(const char *line, size_t len, struct proto_command *cmd,
    char *err, size_t errlen)
{
	json_t		*o, *v;
	json_error_t	 jerr;
	char		 quoted[PROTO_QUOTE_MAX * 4 + 8], *dump;
	const char	*s;
	int		 rc = -1;

	if ((o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL)
		return proto_fail(err, errlen, "command line is not valid "
		    "JSON: %s (at byte %d)", jerr.text, jerr.position);
	if (!json_is_object(o)) {
		proto_fail(err, errlen, "command line is %s, not an object",
		    proto_json_kind(o));
		goto done;
	}
	if ((v = json_object_get(o, "cmd")) == NULL || !json_is_string(v)) {
		proto_fail(err, errlen, "command object needs a \"cmd\" "
		    "string; " PROTO_CMD_EXPECTED);
		goto done;
	}
	s = json_string_value(v);
	if (strcmp(s, "snapshot") == 0)
		cmd->cmd = PROTO_CMD_SNAPSHOT;
	else if (strcmp(s, "watch") == 0)
		cmd->cmd = PROTO_CMD_WATCH;
	else if (strcmp(s, "kill") == 0) {
		if ((v = json_object_get(o, "id")) == NULL) {
			proto_fail(err, errlen, "kill: missing session id; "
			    "expected {\"cmd\":\"kill\",\"id\":ID}");
			goto done;
		}
		if (!json_is_integer(v) || json_integer_value(v) <= 0) {
			dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
			proto_quote(dump ? dump : "?", dump ? strlen(dump) : 1,
			    quoted, sizeof(quoted));
			free(dump);
			proto_fail(err, errlen, "kill: '%s' is not a session id",
			    quoted);
			goto done;
		}
		cmd->cmd = PROTO_CMD_KILL;
		cmd->id = (uint64_t)json_integer_value(v);
	} else {
		proto_quote(s, json_string_length(v), quoted, sizeof(quoted));
		proto_fail(err, errlen, "unknown command '%s'; "
		    PROTO_CMD_EXPECTED, quoted);
		goto done;
	}
	rc = 0;
done:
	json_decref(o);
	if (rc == -1)
		memset(cmd, 0, sizeof(*cmd));
	return rc;
}

/*
 * Exactly len bytes of line are read: a NUL among them is an error (so is
 * passing a buffer's size for a shorter string).
 */
int
proto_command_parse(const char *line, size_t len, struct proto_command *cmd,
    char *err, size_t errlen)
{
	char		 quoted[PROTO_QUOTE_MAX * 4 + 8];
	const char	*word, *arg, *end;
	size_t		 wlen, alen;

	memset(cmd, 0, sizeof(*cmd));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (line == NULL)
		line = "";
	if (memchr(line, '\0', len) != NULL)
		return proto_fail(err, errlen, "command line contains a NUL "
		    "byte");
	while (len > 0 && PROTO_WHITE(line[0])) {
		line++;
		len--;
	}
	while (len > 0 && PROTO_WHITE(line[len - 1]))
		len--;
	if (!proto_utf8_valid(line, len))
		return proto_fail(err, errlen, "command line is not valid "
		    "UTF-8");
	if (len == 0)
		return proto_fail(err, errlen, "empty command; "
		    PROTO_CMD_EXPECTED);
	if (line[0] == '{')
		return proto_command_json(line, len, cmd, err, errlen);

	/* A word, then optionally white space and an argument. */
	end = line + len;
	word = line;
	for (arg = word; arg < end && !PROTO_WHITE(*arg); arg++)
		;
	wlen = arg - word;
	while (arg < end && PROTO_WHITE(*arg))
		arg++;
	alen = end - arg;

	if ((wlen == 8 && memcmp(word, "snapshot", 8) == 0) ||
	    (wlen == 5 && memcmp(word, "watch", 5) == 0)) {
		if (alen > 0)
			return proto_fail(err, errlen, "%.*s takes no "
			    "argument", (int)wlen, word);
		cmd->cmd = wlen == 8 ? PROTO_CMD_SNAPSHOT : PROTO_CMD_WATCH;
		return 0;
	}
	if (wlen == 4 && memcmp(word, "kill", 4) == 0) {
		if (alen == 0)
			return proto_fail(err, errlen, "kill: missing session "
			    "id; expected kill ID");
		if (proto_command_id(arg, alen, &cmd->id) == -1) {
			proto_quote(arg, alen, quoted, sizeof(quoted));
			cmd->id = 0;
			return proto_fail(err, errlen, "kill: '%s' is not a "
			    "session id", quoted);
		}
		cmd->cmd = PROTO_CMD_KILL;
		return 0;
	}
	proto_quote(word, wlen, quoted, sizeof(quoted));
	return proto_fail(err, errlen, "unknown command '%s'; "
	    PROTO_CMD_EXPECTED, quoted);
}

/*
 * Returns the length written (without the NUL), or -1 when buf is too
 * small or cmd is not valid (unknown command, kill of id 0); buf then
 * holds "" when it has room for it.
 */
int
proto_command_format(const struct proto_command *cmd, char *buf, size_t len)
{
	int	n;

	switch (cmd->cmd) {
	case PROTO_CMD_SNAPSHOT:
		n = snprintf(buf, len, "snapshot\n");
		break;
	case PROTO_CMD_WATCH:
		n = snprintf(buf, len, "watch\n");
		break;
	case PROTO_CMD_KILL:
		if (cmd->id == 0) {
			n = -1;
			break;
		}
		n = snprintf(buf, len, "kill %llu\n",
		    (unsigned long long)cmd->id);
		break;
	default:
		n = -1;
		break;
	}
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return -1;
	}
	return n;
}

/*
 * The last slot is kept for "other": at most PROTO_TALLY_MAX - 1 names
 * have their own entry, the rest are added up under "other". Counts
 * saturate at UINT64_MAX. Names are cut like decoded strings.
 */
uint64_t
proto_tally_add(struct proto_tally *t, const char *name, uint64_t count)
{
	char	key[PROTO_SHORT_MAX];
	size_t	i, n;

	if (name == NULL)
		name = "other";
	proto_copy_cut(key, sizeof(key), name, strlen(name));
	n = t->n > PROTO_TALLY_MAX ? PROTO_TALLY_MAX : t->n;
	for (;;) {
		for (i = 0; i < n; i++) {
			if (strcmp(t->item[i].name, key) == 0)
				goto found;
		}
		if (n < PROTO_TALLY_MAX - 1 ||
		    (n < PROTO_TALLY_MAX && strcmp(key, "other") == 0)) {
			i = n;
			t->n = n + 1;
			memset(t->item[i].name, 0, sizeof(t->item[i].name));
			memcpy(t->item[i].name, key, strlen(key) + 1);
			t->item[i].count = 0;
			goto found;
		}
		if (strcmp(key, "other") == 0)
			break;
		snprintf(key, sizeof(key), "other");
	}
	/*
	 * Full, and without "other" (a table not filled by this function):
	 * the last entry becomes "other", so totals stay right.
	 */
	i = n - 1;
	snprintf(t->item[i].name, sizeof(t->item[i].name), "other");
found:
	if (t->item[i].count > UINT64_MAX - count)
		t->item[i].count = UINT64_MAX;
	else
		t->item[i].count += count;
	return t->item[i].count;
}

size_t
proto_tally_top(const struct proto_tally *t, size_t *top, size_t n)
{
	size_t	i, j, ntop = 0, items;

	items = t->n > PROTO_TALLY_MAX ? PROTO_TALLY_MAX : t->n;
	for (i = 0; i < items; i++) {
		/* Insert i after the entries at least as large. */
		for (j = ntop; j > 0 &&
		    t->item[top[j - 1]].count < t->item[i].count; j--)
			if (j < n)
				top[j] = top[j - 1];
		if (j < n) {
			top[j] = i;
			if (ntop < n)
				ntop++;
		}
	}
	return ntop;
}

uint64_t
proto_tally_get(const struct proto_tally *t, const char *name)
{
	char	key[PROTO_SHORT_MAX];
	size_t	i, n;

	if (name == NULL)
		return 0;
	proto_copy_cut(key, sizeof(key), name, strlen(name));
	n = t->n > PROTO_TALLY_MAX ? PROTO_TALLY_MAX : t->n;
	for (i = 0; i < n; i++) {
		if (strcmp(t->item[i].name, key) == 0)
			return t->item[i].count;
	}
	return 0;
}
