/*
 * tlsechod: the TLS echo daemon. Private header, prototypes grouped by file.
 *
 * Threads: the main thread handles signals and start-up; one listener
 * thread accepts; one detached thread per session; one publisher thread
 * owns the stats socket. They meet in the registry (registry.c), whose
 * LOCKING comment says which lock guards what.
 */
#ifndef DAEMON_TLSECHOD_H
#define DAEMON_TLSECHOD_H

#include <sys/types.h>
#include <netinet/in.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

struct tls;

#include "common/log.h"
#include "common/proto.h"

#define DAEMON_NAME		"tlsechod"
#define LISTEN_MAX		PROTO_LISTEN_MAX
#define ECHO_BUF_SIZE		16384	/* one TLS record */
#define REASON_MAX		PROTO_SHORT_MAX

/* Options in force; immutable once the daemon runs. */
struct config {
	const char	*listen[LISTEN_MAX];
	size_t		 nlisten;
	const char	*cert_file;
	const char	*key_file;
	const char	*client_ca_file;
	int		 client_ca_optional;
	int		 verify_client_addr;
	const char	*crl_file;
	uint32_t	 protocols;
	int		 protocols_set;
	const char	*ciphers;
	const char	*curves;
	long long	 idle_ms;
	long long	 handshake_ms;
	long long	 send_ms;
	long long	 drain_ms;
	long long	 max_conns;
	long long	 history;
	const char	*stats_socket;	/* NULL: default; "" or "none": off */
	long long	 stats_mode;
	const char	*stats_group;
	long long	 stats_buffer;	/* bytes of unread output per subscriber */
	long long	 counters_ms;
	enum log_level	 log_level;
	int		 use_syslog;
};

/*
 * A built server TLS configuration. Sessions hold a reference for their
 * whole life, so a reload never pulls a configuration from under one.
 */
struct tlsconf {
	struct tls		*ctx;		/* [I] configured server ctx */
	struct tls_config	*config;	/* [I] */
	atomic_int		 refs;		/* [a] */
	int			 per_session;	/* [I] a server ctx per session
						   (client certificates) */
	char			 subject[PROTO_NAME_MAX];	/* [I] */
	int64_t			 not_after;	/* [I] epoch seconds */
};

/* Why a session ended; the strings are the protocol's reasons. */
#define REASON_PEER_CLOSED	"peer-closed"
#define REASON_IDLE		"idle"
#define REASON_HS_TIMEOUT	"handshake-timeout"
#define REASON_HS_FAILED	"handshake-failed"
#define REASON_SEND_TIMEOUT	"send-timeout"
#define REASON_RESET		"reset"
#define REASON_SHUTDOWN		"shutdown"
#define REASON_NOT_TLS		"not-tls"
#define REASON_KILLED		"killed"
#define REASON_ERROR		"error"

/* Asynchronous stop requests a session thread checks (slot.stop). */
enum stop_request {
	STOP_NONE = 0,
	STOP_SHUTDOWN,
	STOP_KILLED
};

/*
 * One session's slot. [O] written only by the owning session thread,
 * [L] slot lock, [a] atomic, [R] registry lock.
 */
struct slot {
	pthread_mutex_t		 lock;
	int			 in_use;	/* [L] */
	int			 fd;		/* [L] -1 when closed */
	atomic_int		 stop;		/* [a] enum stop_request */
	atomic_uint		 version;	/* [a] bumped on each change
						   the publisher must see */
	struct proto_session	 info;		/* [L] strings and state */
	_Atomic uint64_t	 bytes_in;	/* [a] */
	_Atomic uint64_t	 bytes_out;	/* [a] */
	_Atomic int64_t		 last_activity_ms;	/* [a] */
	struct slot		*next_free;	/* [R] */
};

/* Global counters; all [a]. Tallies are guarded by the registry lock. */
struct counters {
	_Atomic uint64_t	 accepted;
	_Atomic uint64_t	 active;
	_Atomic uint64_t	 rejected;
	_Atomic uint64_t	 bytes_in;
	_Atomic uint64_t	 bytes_out;
	_Atomic uint64_t	 subscribers;
	_Atomic uint64_t	 subscribers_dropped;
	_Atomic uint64_t	 subscribers_resynced;
	_Atomic uint64_t	 commands_oversized;
};

/* daemon/main.c */
extern struct config	 conf;
extern int64_t		 daemon_started_ms;

/* daemon/options.c */
int	 options_parse(int, char **, struct config *, char *, size_t);
const char *options_default_stats_socket(char *, size_t);

/* daemon/tlsconf.c */
int	 tlsconf_init(const struct config *, char *, size_t);
int	 tlsconf_reload(const struct config *, char *, size_t);
struct tlsconf *tlsconf_acquire(void);
struct tls *tlsconf_session_ctx(struct tlsconf *, char *, size_t);
void	 tlsconf_session_ctx_free(struct tlsconf *, struct tls *);
void	 tlsconf_release(struct tlsconf *);
void	 tlsconf_shutdown(void);

/* daemon/registry.c */
int	 registry_init(size_t, size_t);
struct slot *registry_claim(uint64_t *, int, const char *, const char *);
void	 registry_release(struct slot *, const char *, int64_t);
void	 registry_set_info(struct slot *, const struct proto_session *,
	    uint32_t);
void	 registry_add_bytes(struct slot *, uint64_t, uint64_t);
int	 registry_stop(uint64_t, enum stop_request);
void	 registry_stop_all(enum stop_request);
void	 registry_count_rejected(void);
void	 registry_count_hs_failure(const char *);
void	 registry_note_tls(const char *, const char *);
size_t	 registry_size(void);
struct slot *registry_slot(size_t);
int	 registry_read(struct slot *, struct proto_session *, unsigned *);
size_t	 registry_closed_copy(uint64_t *, uint64_t, struct proto_session *,
	    size_t);
uint64_t registry_closed_seq(void);
void	 registry_counters(struct proto_counters *);
void	 registry_set_notify(void (*)(void));
extern struct counters	 counters;

/* daemon/listener.c */
int	 listener_open(const struct config *, char *, size_t);
int	 listener_start(void);
void	 listener_stop(void);
size_t	 listener_addrs(char [][PROTO_ADDR_MAX], size_t);

/* daemon/session.c */
int	 session_start(int, const struct sockaddr_storage *,
	    const struct sockaddr_storage *);

/* daemon/clientauth.c */
const char *session_hs_reason(struct tls *, struct tls *, const char **);
int	 session_verify_client(struct tls *, int, int64_t, char *, size_t,
	    char *, size_t);

/* daemon/publisher.c */
int	 publisher_open(const struct config *, char *, size_t);
int	 publisher_start(void);
void	 publisher_stop(void);
void	 publisher_notify(void);
void	 publisher_reload_event(int, const char *);

#endif
