/*
 * tlsecho: options, then connect, describe and pump.
 *
 * Exit status: 0 when the session ended cleanly, 1 for a connection, TLS
 * or verification error, 2 for a bad option.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <tls.h>

#include "common/addr.h"
#include "client/tlsecho.h"

enum {
	OPT_CA = 256,
	OPT_PIN,
	OPT_INSECURE,
	OPT_CERT,
	OPT_KEY,
	OPT_SERVERNAME,
	OPT_PROTOCOLS,
	OPT_CIPHERS,
	OPT_ALPN,
	OPT_CONNECT_TIMEOUT,
	OPT_WAIT
};

static const struct option main_longopts[] = {
	{ "ca",			required_argument,	NULL, OPT_CA },
	{ "pin",		required_argument,	NULL, OPT_PIN },
	{ "insecure",		no_argument,		NULL, OPT_INSECURE },
	{ "cert",		required_argument,	NULL, OPT_CERT },
	{ "key",		required_argument,	NULL, OPT_KEY },
	{ "servername",		required_argument,	NULL, OPT_SERVERNAME },
	{ "protocols",		required_argument,	NULL, OPT_PROTOCOLS },
	{ "ciphers",		required_argument,	NULL, OPT_CIPHERS },
	{ "alpn",		required_argument,	NULL, OPT_ALPN },
	{ "connect-timeout",	required_argument,	NULL,
	    OPT_CONNECT_TIMEOUT },
	{ "wait",		required_argument,	NULL, OPT_WAIT },
	{ "source",		required_argument,	NULL, 's' },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

static void	main_help(void);
static void	main_usage(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static int	main_pin_valid(const char *);
static int	main_ip_valid(const char *);
static void	main_parse(int, char **, struct options *);
static void	main_std_fds(void);

static void
main_help(void)
{
	printf(
"usage: tlsecho [options] HOST PORT\n"
"\n"
"Connects to HOST:PORT over TLS, copies stdin to the server and what the\n"
"server sends to stdout, like nc -c. After stdin ends it keeps reading until\n"
"the server closes or has been quiet for --wait, then sends close_notify.\n"
"\n"
"Trust (default: the system store, %s):\n"
"  --ca FILE               verify the server against the CAs in FILE instead\n"
"  --pin SHA256:HEX        accept only a server certificate with this hash\n"
"                          (as `tlscert pin` prints it); repeat for rotation.\n"
"                          Without --ca the pin is the only check; with --ca\n"
"                          both must pass\n"
"  --insecure              verify nothing (prints a warning every time)\n"
"  --servername NAME       name to send (SNI) and verify; default HOST\n"
"\n"
"Client certificate:\n"
"  --cert FILE --key FILE  present this certificate and key (both or neither)\n"
"\n"
"TLS:\n"
"  --protocols LIST        e.g. tlsv1.3, tlsv1.2,tlsv1.3, secure, all\n"
"  --ciphers LIST          secure, compat, legacy or an OpenSSL cipher list\n"
"  --alpn LIST             protocols to offer, e.g. h2,http/1.1\n"
"\n"
"Connection:\n"
"  -4, -6                  IPv4 or IPv6 only\n"
"  -s, --source ADDR       connect from this local IP address (for servers\n"
"                          that check the client's address, e.g. 127.0.0.2)\n"
"  --connect-timeout DUR   bound on TCP connect plus handshake (default 10s)\n"
"  --wait DUR              after stdin ends, how long the server may stay\n"
"                          quiet before we close (default 2s)\n"
"                          DUR: 300 or 300s, 1500ms, 5m\n"
"\n"
"  -v, --verbose           after the handshake print to stderr:\n"
"                          tlsecho: connected version=... cipher=...\n"
"                          subject=\"...\" issuer=\"...\" pin=SHA256:...\n"
"  -h, --help              this text\n"
"  -V, --version           the version\n"
"\n"
"Exit status: 0 done, 1 connection, TLS or verification error, 2 bad option.\n",
	    tls_default_ca_cert_file());
}

static void
main_usage(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "tlsecho: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: tlsecho [options] HOST PORT "
	    "(tlsecho --help lists the options)\n");
	exit(TLSECHO_EXIT_USAGE);
}

/* "SHA256:" (any case) and 64 hex digits. */
static int
main_pin_valid(const char *s)
{
	size_t	plen = strlen(TLSECHO_PIN_PREFIX), i;

	if (strncasecmp(s, TLSECHO_PIN_PREFIX, plen) != 0)
		return 0;
	s += plen;
	for (i = 0; s[i] != '\0'; i++) {
		if (strchr("0123456789abcdefABCDEF", s[i]) == NULL)
			return 0;
	}
	return i == TLSECHO_PIN_HEX;
}

/* A numeric IPv4 or IPv6 address. */
static int
main_ip_valid(const char *s)
{
	struct in6_addr	a;

	return inet_pton(AF_INET, s, &a) == 1 ||
	    inet_pton(AF_INET6, s, &a) == 1;
}

/* Fills o from the command line; exits 2 on anything wrong. */
static void
main_parse(int argc, char **argv, struct options *o)
{
	const char	**pins;
	char		  err[TLSECHO_ERR_MAX];
	long long	  port;
	int		  ch;

	memset(o, 0, sizeof(*o));
	o->family = AF_UNSPEC;
	o->connect_timeout_ms = TLSECHO_CONNECT_TIMEOUT_MS;
	o->wait_ms = TLSECHO_WAIT_MS;

	opterr = 0;	/* our messages name the program, not argv[0] */
	while ((ch = getopt_long(argc, argv, ":46hs:vV", main_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case '4':
			o->family = AF_INET;
			break;
		case '6':
			o->family = AF_INET6;
			break;
		case 's':
			if (*optarg == '\0')
				main_usage("--source: expected an IP address, "
				    "not an empty string");
			o->source = optarg;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			main_help();
			exit(TLSECHO_EXIT_OK);
		case 'V':
			printf("tlsecho %s\n", TLSECHO_VERSION);
			exit(TLSECHO_EXIT_OK);
		case OPT_CA:
			o->ca_file = optarg;
			break;
		case OPT_PIN:
			if (!main_pin_valid(optarg))
				main_usage("--pin: '%s' is not a pin; expected "
				    "SHA256: and 64 hex digits, as `tlscert "
				    "pin FILE` prints", optarg);
			pins = reallocarray(o->pins, o->npins + 1,
			    sizeof(*o->pins));
			if (pins == NULL) {
				fprintf(stderr, "tlsecho: out of memory\n");
				exit(TLSECHO_EXIT_FAIL);
			}
			o->pins = pins;
			o->pins[o->npins++] = optarg;
			break;
		case OPT_INSECURE:
			o->insecure = 1;
			break;
		case OPT_CERT:
			o->cert_file = optarg;
			break;
		case OPT_KEY:
			o->key_file = optarg;
			break;
		case OPT_SERVERNAME:
			if (*optarg == '\0')
				main_usage("--servername: expected a host "
				    "name, not an empty string");
			o->servername = optarg;
			break;
		case OPT_PROTOCOLS:
			if (tls_config_parse_protocols(&o->protocols,
			    optarg) == -1)
				main_usage("--protocols: '%s' is not a "
				    "protocol list; expected names from "
				    "tlsv1.0, tlsv1.1, tlsv1.2, tlsv1.3, all, "
				    "secure, default, separated by commas "
				    "(for example tlsv1.3 or tlsv1.2,tlsv1.3)",
				    optarg);
			o->has_protocols = 1;
			break;
		case OPT_CIPHERS:
			o->ciphers = optarg;
			break;
		case OPT_ALPN:
			o->alpn = optarg;
			break;
		case OPT_CONNECT_TIMEOUT:
			if (parse_duration_ms("--connect-timeout", optarg,
			    &o->connect_timeout_ms, err, sizeof(err)) == -1)
				main_usage("%s", err);
			if (o->connect_timeout_ms == 0)
				main_usage("--connect-timeout: expected more "
				    "than 0 (for example 10s or 500ms)");
			break;
		case OPT_WAIT:
			if (parse_duration_ms("--wait", optarg, &o->wait_ms,
			    err, sizeof(err)) == -1)
				main_usage("%s", err);
			break;
		case ':':
			main_usage("%s: expected a value after it",
			    argv[optind - 1]);
		default:
			if (optopt != 0)
				main_usage("-%c: unknown option", optopt);
			main_usage("%s: unknown option", argv[optind - 1]);
		}
	}
	argc -= optind;
	argv += optind;

	if (argc != 2)
		main_usage("expected HOST and PORT, got %d argument%s", argc,
		    argc == 1 ? "" : "s");
	o->host = argv[0];
	o->port = argv[1];
	if (*o->host == '\0' || strlen(o->host) >= ADDR_HOST_MAX)
		main_usage("HOST: expected a host name or IP address of at "
		    "most %d characters", ADDR_HOST_MAX - 1);
	if (parse_number("PORT", o->port, 1, 65535, &port, err,
	    sizeof(err)) == -1)
		main_usage("%s", err);

	if (o->source != NULL && !main_ip_valid(o->source))
		main_usage("--source: '%s' is not an IP address; expected "
		    "for example 127.0.0.2 or ::1", o->source);
	if (o->cert_file != NULL && o->key_file == NULL)
		main_usage("--cert needs --key: give the client certificate's "
		    "private key with --key FILE");
	if (o->key_file != NULL && o->cert_file == NULL)
		main_usage("--key needs --cert: give the client certificate "
		    "with --cert FILE");
	if (o->insecure && o->ca_file != NULL)
		main_usage("--insecure and --ca contradict each other: --ca "
		    "verifies the server, --insecure does not; drop one");
	if (o->insecure && o->npins > 0)
		main_usage("--insecure and --pin contradict each other: --pin "
		    "alone already skips chain verification and checks the "
		    "pin; drop --insecure");
}

/* Makes sure 0, 1 and 2 are open, so that the socket is never one. */
static void
main_std_fds(void)
{
	int	fd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF &&
		    open("/dev/null", O_RDWR) == -1)
			exit(TLSECHO_EXIT_FAIL);
	}
}

int
main(int argc, char **argv)
{
	struct options	o;
	struct conn	c;
	char		err[TLSECHO_ERR_MAX], line[4096];
	int		rv = TLSECHO_EXIT_FAIL;

	main_std_fds();
	signal(SIGPIPE, SIG_IGN);
	main_parse(argc, argv, &o);
	conn_init(&c);

	if (o.insecure)
		fprintf(stderr, "tlsecho: warning: --insecure: the server's "
		    "certificate is not verified; anyone on the path can read "
		    "and change this session\n");

	if ((rv = conn_configure(&c, &o, err, sizeof(err))) !=
	    TLSECHO_EXIT_OK) {
		fprintf(stderr, "tlsecho: %s\n", err);
		goto out;
	}
	rv = TLSECHO_EXIT_FAIL;
	if (conn_open(&c, &o, err, sizeof(err)) == -1) {
		fprintf(stderr, "tlsecho: %s\n", err);
		goto out;
	}
	if (o.verbose) {
		conn_describe(&c, line, sizeof(line));
		fprintf(stderr, "tlsecho: %s\n", line);
	}
	if (pump_run(&c, o.wait_ms, err, sizeof(err)) == -1) {
		fprintf(stderr, "tlsecho: %s\n", err);
		goto out;
	}
	rv = TLSECHO_EXIT_OK;
out:
	conn_free(&c);
	free(o.pins);
	return rv;
}
