/*
 * The tlsechod stats protocol: JSON Lines over a Unix-domain socket.
 *
 * This header owns the protocol version and every message type; common/
 * proto.c is the only code that knows the wire form (it uses jansson).
 * docs/PROTOCOL.md documents it for the people who script against it.
 *
 * Daemon -> subscriber: one JSON object per line, each with a "type":
 *   hello     greeting on connect
 *   session   one open session (part of a snapshot)
 *   closed    one recently closed session (part of a snapshot)
 *   counters  global counters (complete in a snapshot; in a watch, only the
 *             fields that changed since the last counters line)
 *   end       end of a snapshot
 *   open      event: a session was accepted (watch only)
 *   update    event: a session changed (watch only; id plus changed fields)
 *   close     event: a session ended, with its reason (watch only)
 *   reload    event: the TLS configuration was (or failed to be) reloaded
 *   ok        a command succeeded (kill)
 *   error     a command failed or was malformed; the connection stays
 *   bye       the daemon is shutting down
 *
 * Subscriber -> daemon: one command per line, either a bare word
 * ("snapshot", "watch", "kill 12") or a JSON object
 * ({"cmd":"kill","id":12}).
 *
 * Thread safety: every function is reentrant; none logs or exits.
 */
#ifndef COMMON_PROTO_H
#define COMMON_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION		1
/* Longest command line a daemon accepts; longer ones are cut and counted. */
#define PROTO_COMMAND_MAX	4096

#define PROTO_ADDR_MAX		64
#define PROTO_NAME_MAX		512	/* certificate subject and issuer */
#define PROTO_PIN_MAX		80	/* "SHA256:" + 64 hex */
#define PROTO_SHORT_MAX		64	/* version, cipher, reason, ALPN */
#define PROTO_SNI_MAX		256
#define PROTO_LISTEN_MAX	8
#define PROTO_TALLY_MAX		32
#define PROTO_TEXT_MAX		512	/* error and reload messages */

enum proto_type {
	PROTO_HELLO = 1,
	PROTO_SESSION,
	PROTO_CLOSED,
	PROTO_COUNTERS,
	PROTO_END,
	PROTO_OPEN,
	PROTO_UPDATE,
	PROTO_CLOSE,
	PROTO_RELOAD,
	PROTO_OK,
	PROTO_ERROR,
	PROTO_BYE
};

enum proto_state {
	PROTO_STATE_HANDSHAKE = 0,
	PROTO_STATE_ESTABLISHED,
	PROTO_STATE_CLOSING,
	PROTO_STATE_CLOSED
};

/*
 * Which fields of a proto_session are present. session, closed, open and
 * close messages carry them all; update carries id plus those set.
 */
#define PROTO_F_ADDRS		0x0001	/* peer, local */
#define PROTO_F_STATE		0x0002
#define PROTO_F_STARTED		0x0004
#define PROTO_F_TLS		0x0008	/* handshake_ms, version, cipher,
					   cipher_bits, sni, alpn, resumed */
#define PROTO_F_PEER_CERT	0x0010	/* has_peer_cert and its fields */
#define PROTO_F_BYTES		0x0020	/* bytes_in, bytes_out */
#define PROTO_F_ACTIVITY	0x0040	/* last_activity_ms */
#define PROTO_F_END		0x0080	/* reason, ended_ms (closed ones) */
#define PROTO_F_ALL		0x00ff

struct proto_session {
	uint64_t	 id;		/* unique for the daemon's life */
	uint32_t	 fields;	/* PROTO_F_* present */
	char		 peer[PROTO_ADDR_MAX];	/* "1.2.3.4:5", "[::1]:5" */
	char		 local[PROTO_ADDR_MAX];
	enum proto_state state;
	int64_t		 started_ms;	/* epoch milliseconds */
	int64_t		 handshake_ms;	/* duration; -1 before it ends */
	char		 version[PROTO_SHORT_MAX];	/* "TLSv1.3", "" */
	char		 cipher[PROTO_SHORT_MAX];
	int		 cipher_bits;
	char		 sni[PROTO_SNI_MAX];
	char		 alpn[PROTO_SHORT_MAX];
	int		 resumed;
	int		 has_peer_cert;
	char		 peer_subject[PROTO_NAME_MAX];
	char		 peer_issuer[PROTO_NAME_MAX];
	char		 peer_pin[PROTO_PIN_MAX];
	int64_t		 peer_not_after;	/* epoch seconds, 0 unknown */
	uint64_t	 bytes_in;	/* application bytes read from peer */
	uint64_t	 bytes_out;	/* application bytes written to peer */
	int64_t		 last_activity_ms;	/* epoch milliseconds */
	char		 reason[PROTO_SHORT_MAX];	/* close reason */
	int64_t		 ended_ms;	/* epoch milliseconds */
};

/* A name -> count table, such as closes by reason. */
struct proto_tally {
	size_t		 n;
	struct {
		char	 name[PROTO_SHORT_MAX];
		uint64_t count;
	}		 item[PROTO_TALLY_MAX];
};

#define PROTO_C_ACCEPTED	0x0001
#define PROTO_C_ACTIVE		0x0002
#define PROTO_C_REJECTED	0x0004
#define PROTO_C_BYTES		0x0008
#define PROTO_C_SUBSCRIBERS	0x0010	/* subscribers, dropped, resynced,
					   oversized */
#define PROTO_C_HS_FAILURES	0x0020
#define PROTO_C_CLOSES		0x0040
#define PROTO_C_VERSIONS	0x0080
#define PROTO_C_CIPHERS		0x0100
#define PROTO_C_ALL		0x01ff

struct proto_counters {
	uint32_t	 fields;	/* PROTO_C_* present */
	int64_t		 time_ms;	/* when they were read, epoch ms */
	uint64_t	 accepted;
	uint64_t	 active;
	uint64_t	 rejected;	/* over --max-conns */
	uint64_t	 bytes_in;
	uint64_t	 bytes_out;
	uint64_t	 subscribers;
	uint64_t	 subscribers_dropped;
	uint64_t	 subscribers_resynced;
	uint64_t	 commands_oversized;
	struct proto_tally handshake_failures;	/* by reason */
	struct proto_tally closes;		/* by reason */
	struct proto_tally versions;		/* sessions by TLS version */
	struct proto_tally ciphers;		/* sessions by cipher suite */
};

struct proto_hello {
	int		 proto;		/* PROTO_VERSION */
	char		 version[PROTO_SHORT_MAX];	/* daemon version */
	int64_t		 pid;
	int64_t		 started_ms;	/* epoch ms */
	size_t		 nlisten;
	char		 listen[PROTO_LISTEN_MAX][PROTO_ADDR_MAX];
	char		 cert_subject[PROTO_NAME_MAX];
	int64_t		 cert_not_after;	/* epoch seconds */
	int64_t		 max_conns;
	int64_t		 idle_timeout_ms;
	int64_t		 handshake_timeout_ms;
	int64_t		 history;	/* closed sessions kept */
	int64_t		 counters_interval_ms;
	int		 may_kill;	/* this subscriber may send kill */
};

/* One message from the daemon. Only the member that type names is set. */
struct proto_msg {
	enum proto_type	 type;
	union {
		struct proto_hello	hello;		/* HELLO */
		struct proto_session	session;	/* SESSION CLOSED OPEN
							   UPDATE CLOSE */
		struct proto_counters	counters;	/* COUNTERS */
		struct {
			int	 ok;
			char	 message[PROTO_TEXT_MAX];
		}			reload;		/* RELOAD */
		struct {
			char	 command[PROTO_SHORT_MAX];
			uint64_t id;
		}			ok;		/* OK */
		struct {
			char	 message[PROTO_TEXT_MAX];
		}			error;		/* ERROR, BYE (reason) */
	} u;
};

enum proto_cmd {
	PROTO_CMD_SNAPSHOT = 1,
	PROTO_CMD_WATCH,
	PROTO_CMD_KILL
};

struct proto_command {
	enum proto_cmd	 cmd;
	uint64_t	 id;	/* KILL */
};

/* "hello", "session", ...; NULL for an unknown value. */
const char	*proto_type_name(enum proto_type);
const char	*proto_state_name(enum proto_state);

/*
 * Encodes m as one line of JSON ending in "\n". Returns a string the
 * caller frees with free(), its length (newline included) in *len (len
 * may be NULL); NULL when memory runs out (errno ENOMEM) or m is not
 * valid: an unknown type, or an unknown state in a message that carries
 * it (errno EINVAL). Strings are read up to their NUL or their buffer's
 * end and emitted as given (jansson escapes control characters); invalid
 * UTF-8 is replaced byte by byte with U+FFFD so the line is always valid
 * JSON. Unsigned counts above INT64_MAX are sent as INT64_MAX.
 */
char	*proto_encode(const struct proto_msg *m, size_t *len);

/*
 * Decodes one line (without or with its trailing newline; need not be
 * NUL-terminated) into m. Unknown fields are ignored; strings longer than
 * their buffer are cut at a UTF-8 character boundary. Returns 0, or -1
 * with a reason in err for malformed JSON, a missing or unknown type, or a
 * field of the wrong JSON type.
 *
 * m is zeroed first (and again on failure); session.handshake_ms is -1
 * when absent. session.fields and counters.fields get the groups present
 * on the line (all of them for a complete session or snapshot counters
 * line). Session messages need an "id". err may be NULL.
 */
int	 proto_decode(const char *line, size_t len, struct proto_msg *m,
	    char *err, size_t errlen);

/*
 * Parses one command line ("snapshot", "watch", "kill 12", or the JSON
 * object form), surrounding white space ignored. Exactly len bytes are
 * read; a NUL among them is an error. Returns 0, or -1 with a reason fit
 * for an error message to the subscriber in err (peer bytes in it are
 * escaped and cut short); *cmd is zeroed on failure.
 */
int	 proto_command_parse(const char *line, size_t len,
	    struct proto_command *cmd, char *err, size_t errlen);

/*
 * Encodes a command as the bare-word form with "\n" into buf (len bytes,
 * NUL-terminated). Returns the length without the NUL, or -1 when it does
 * not fit or cmd is not valid (unknown command, kill of id 0).
 */
int	 proto_command_format(const struct proto_command *cmd, char *buf,
	    size_t len);

/*
 * Adds count to name's entry in t (creating it; names beyond
 * PROTO_TALLY_MAX go to "other"). Returns the entry's new count.
 * The last entry is kept for "other", so PROTO_TALLY_MAX - 1 names get
 * their own; counts saturate at UINT64_MAX; a zeroed tally is empty.
 * proto_tally_get returns 0 for a name without an entry.
 */
uint64_t proto_tally_add(struct proto_tally *t, const char *name,
	    uint64_t count);
uint64_t proto_tally_get(const struct proto_tally *t, const char *name);

/*
 * Fills top[] with the indices of t's (at most n) largest entries, the
 * largest first (ties keep the earlier entry first); returns how many.
 */
size_t	 proto_tally_top(const struct proto_tally *t, size_t *top, size_t n);

#endif
