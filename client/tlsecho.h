/*
 * tlsecho: a TLS client that verifies the server by CA file, by pin or
 * (loudly) not at all, and pipes stdin and stdout through the connection
 * like `nc -c`. Private header of the client: options, the connection and
 * the prototypes of every client/ file.
 */
#ifndef CLIENT_TLSECHO_H
#define CLIENT_TLSECHO_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

struct tls;
struct tls_config;

/* Exit statuses. */
#define TLSECHO_EXIT_OK		0	/* done, the server closed cleanly */
#define TLSECHO_EXIT_FAIL	1	/* connection, TLS or verification error */
#define TLSECHO_EXIT_USAGE	2	/* bad option */

#define TLSECHO_BUF_SIZE	16384	/* a whole TLS record */
#define TLSECHO_ERR_MAX		1024
#define TLSECHO_PIN_PREFIX	"SHA256:"
#define TLSECHO_PIN_HEX		64	/* hex digits of a SHA-256 hash */

#define TLSECHO_CONNECT_TIMEOUT_MS	10000
#define TLSECHO_WAIT_MS			2000
/* How long a close_notify may take to leave once we decided to close. */
#define TLSECHO_CLOSE_TIMEOUT_MS	1000

/* What the command line asked for; strings point into argv. */
struct options {
	const char	 *host;
	const char	 *port;
	const char	 *servername;	/* SNI and name to verify; NULL: host */
	const char	 *ca_file;	/* NULL: the system store */
	const char	 *cert_file;
	const char	 *key_file;
	const char	 *ciphers;
	const char	 *alpn;
	const char	 *source;	/* local address to bind; NULL: any */
	const char	**pins;		/* "SHA256:<hex>", any case */
	size_t		  npins;
	uint32_t	  protocols;
	int		  has_protocols;
	int		  insecure;
	int		  verbose;
	int		  family;	/* AF_UNSPEC, AF_INET or AF_INET6 */
	long long	  connect_timeout_ms;
	long long	  wait_ms;
};

/* One connection to the server, from TCP connect to close. */
struct conn {
	int			 fd;		/* -1 when closed */
	struct tls		*ctx;
	struct tls_config	*cfg;
	/* "HOST:PORT" as given, for messages. */
	char			 label[ADDR_HOST_MAX + ADDR_PORT_MAX + 2];
	/* The address actually connected to. */
	char			 peer[ADDR_STR_MAX];
};

/* conn.c */
void	 conn_init(struct conn *);
int	 conn_configure(struct conn *, const struct options *, char *,
	    size_t);
int	 conn_open(struct conn *, const struct options *, char *, size_t);
void	 conn_describe(struct conn *, char *, size_t);
int	 conn_close(struct conn *, char *, size_t);
void	 conn_free(struct conn *);
void	 conn_tls_error(struct conn *, const char *, char *, size_t);

/* pump.c */
int	 pump_run(struct conn *, long long, char *, size_t);

#endif
