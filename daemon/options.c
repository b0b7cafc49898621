/*
 * Command-line options of tlsechod. Every malformed option is reported
 * with its name and the expected form; nothing here exits.
 */
#include <sys/stat.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tls.h>

#include "common/addr.h"
#include "daemon/tlsechod.h"

enum {
	OPT_LISTEN = 256,
	OPT_CERT,
	OPT_KEY,
	OPT_CLIENT_CA,
	OPT_CLIENT_CA_OPTIONAL,
	OPT_VERIFY_CLIENT_ADDR,
	OPT_CRL,
	OPT_IDLE,
	OPT_HANDSHAKE,
	OPT_SEND,
	OPT_DRAIN,
	OPT_MAX_CONNS,
	OPT_PROTOCOLS,
	OPT_CIPHERS,
	OPT_CURVES,
	OPT_HISTORY,
	OPT_STATS_SOCKET,
	OPT_STATS_MODE,
	OPT_STATS_GROUP,
	OPT_STATS_BUFFER,
	OPT_COUNTERS_INTERVAL,
	OPT_LOG_LEVEL,
	OPT_SYSLOG,
	OPT_FOREGROUND,
	OPT_HELP,
	OPT_VERSION
};

static const struct option long_options[] = {
	{ "listen",		required_argument, NULL, OPT_LISTEN },
	{ "cert",		required_argument, NULL, OPT_CERT },
	{ "key",		required_argument, NULL, OPT_KEY },
	{ "client-ca",		required_argument, NULL, OPT_CLIENT_CA },
	{ "client-ca-optional",	no_argument,	   NULL, OPT_CLIENT_CA_OPTIONAL },
	{ "verify-client-addr",	no_argument,	   NULL, OPT_VERIFY_CLIENT_ADDR },
	{ "crl",		required_argument, NULL, OPT_CRL },
	{ "idle-timeout",	required_argument, NULL, OPT_IDLE },
	{ "handshake-timeout",	required_argument, NULL, OPT_HANDSHAKE },
	{ "send-timeout",	required_argument, NULL, OPT_SEND },
	{ "drain-timeout",	required_argument, NULL, OPT_DRAIN },
	{ "max-conns",		required_argument, NULL, OPT_MAX_CONNS },
	{ "protocols",		required_argument, NULL, OPT_PROTOCOLS },
	{ "ciphers",		required_argument, NULL, OPT_CIPHERS },
	{ "curves",		required_argument, NULL, OPT_CURVES },
	{ "history",		required_argument, NULL, OPT_HISTORY },
	{ "stats-socket",	required_argument, NULL, OPT_STATS_SOCKET },
	{ "stats-mode",		required_argument, NULL, OPT_STATS_MODE },
	{ "stats-group",	required_argument, NULL, OPT_STATS_GROUP },
	{ "stats-buffer",	required_argument, NULL, OPT_STATS_BUFFER },
	{ "counters-interval",	required_argument, NULL, OPT_COUNTERS_INTERVAL },
	{ "log-level",		required_argument, NULL, OPT_LOG_LEVEL },
	{ "syslog",		no_argument,	   NULL, OPT_SYSLOG },
	{ "foreground",		no_argument,	   NULL, OPT_FOREGROUND },
	{ "help",		no_argument,	   NULL, OPT_HELP },
	{ "version",		no_argument,	   NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 }
};

static void
options_usage(FILE *f)
{
	fprintf(f,
"usage: tlsechod --cert FILE --key FILE [options]\n"
"\n"
"A TLS echo daemon that publishes live per-session stats on a Unix socket.\n"
"\n"
"  --listen ADDR:PORT       address to listen on, repeatable; IPv6 as\n"
"                           [::1]:8443; port 0 picks a free port\n"
"                           (default localhost:8443)\n"
"  --cert FILE              server certificate chain (PEM)\n"
"  --key FILE               private key (PEM); must not be readable by\n"
"                           group or others\n"
"  --client-ca FILE         require client certificates from these CAs\n"
"                           (then TLS 1.3 only unless --protocols)\n"
"  --client-ca-optional     verify a client certificate when offered\n"
"  --verify-client-addr     the client's address must be in its\n"
"                           certificate (IP, or forward-confirmed PTR name)\n"
"  --crl FILE               refuse client certificates this CRL revokes\n"
"  --idle-timeout DUR       close a session idle this long (default 300s)\n"
"  --handshake-timeout DUR  total handshake deadline (default 10s)\n"
"  --send-timeout DUR       close a peer that stops reading (default 30s)\n"
"  --drain-timeout DUR      on SIGTERM, wait this long for sessions\n"
"                           (default 5s)\n"
"  --max-conns N            concurrent sessions (default 1024)\n"
"  --protocols LIST         libtls protocol string (default tlsv1.2,tlsv1.3)\n"
"  --ciphers LIST           libtls cipher string (default \"secure\")\n"
"  --curves LIST            key exchange groups (default X25519,P-256,P-384)\n"
"  --history N              closed sessions kept for the monitor (1000)\n"
"  --stats-socket PATH      stats socket; \"none\" disables it (default\n"
"                           $XDG_RUNTIME_DIR/tlsechod.sock, or\n"
"                           /run/tlsechod/stats.sock as root)\n"
"  --stats-mode MODE        octal mode of the stats socket (default 0660)\n"
"  --stats-group GROUP      group of the stats socket\n"
"  --stats-buffer BYTES     unread output kept per subscriber (1048576)\n"
"  --counters-interval DUR  counters to watchers every DUR (default 1s)\n"
"  --log-level LEVEL        error, warn, info or debug (default info)\n"
"  --syslog                 log to syslog instead of stderr\n"
"  --foreground             stay in the foreground (the default)\n"
"  --help, --version\n"
"\n"
"Durations are seconds, or a number with ms, s or m (1500ms, 5m).\n"
"SIGHUP reloads certificates, keys, client CAs and the CRL; SIGTERM drains.\n");
}

const char *
options_default_stats_socket(char *buf, size_t len)
{
	const char	*dir = getenv("XDG_RUNTIME_DIR");

	if (geteuid() != 0 && dir != NULL && *dir != '\0')
		snprintf(buf, len, "%s/tlsechod.sock", dir);
	else
		snprintf(buf, len, "/run/tlsechod/stats.sock");
	return buf;
}

static int
parse_duration_opt(const char *opt, const char *arg, long long min,
    long long *out, char *err, size_t errlen)
{
	if (parse_duration_ms(opt, arg, out, err, errlen) == -1)
		return -1;
	if (*out < min) {
		snprintf(err, errlen, "%s: '%s' is too short; at least %lldms",
		    opt, arg, min);
		return -1;
	}
	return 0;
}

/*
 * Fills c from argv. Returns 0, 1 when --help or --version was handled
 * (the caller exits 0), or -1 with the reason in err.
 */
int
options_parse(int argc, char **argv, struct config *c, char *err,
    size_t errlen)
{
	long long	 n;
	char		*end;
	int		 ch;
	const char	*name;

	memset(c, 0, sizeof(*c));
	c->idle_ms = 300000;
	c->handshake_ms = 10000;
	c->send_ms = 30000;
	c->drain_ms = 5000;
	c->max_conns = 1024;
	c->history = 1000;
	c->stats_mode = 0660;
	c->stats_buffer = 1 << 20;
	c->counters_ms = 1000;
	c->log_level = LOG_LEVEL_INFO;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":hV", long_options, NULL)) != -1) {
		name = optind > 1 ? argv[optind - 1] : "option";
		switch (ch) {
		case OPT_LISTEN:
			if (c->nlisten == LISTEN_MAX) {
				snprintf(err, errlen, "--listen: at most %d "
				    "addresses", LISTEN_MAX);
				return -1;
			}
			c->listen[c->nlisten++] = optarg;
			break;
		case OPT_CERT:
			c->cert_file = optarg;
			break;
		case OPT_KEY:
			c->key_file = optarg;
			break;
		case OPT_CLIENT_CA:
			c->client_ca_file = optarg;
			break;
		case OPT_CLIENT_CA_OPTIONAL:
			c->client_ca_optional = 1;
			break;
		case OPT_VERIFY_CLIENT_ADDR:
			c->verify_client_addr = 1;
			break;
		case OPT_CRL:
			c->crl_file = optarg;
			break;
		case OPT_IDLE:
			if (parse_duration_opt("--idle-timeout", optarg, 1,
			    &c->idle_ms, err, errlen) == -1)
				return -1;
			break;
		case OPT_HANDSHAKE:
			if (parse_duration_opt("--handshake-timeout", optarg,
			    1, &c->handshake_ms, err, errlen) == -1)
				return -1;
			break;
		case OPT_SEND:
			if (parse_duration_opt("--send-timeout", optarg, 1,
			    &c->send_ms, err, errlen) == -1)
				return -1;
			break;
		case OPT_DRAIN:
			if (parse_duration_opt("--drain-timeout", optarg, 0,
			    &c->drain_ms, err, errlen) == -1)
				return -1;
			break;
		case OPT_COUNTERS_INTERVAL:
			if (parse_duration_opt("--counters-interval", optarg,
			    10, &c->counters_ms, err, errlen) == -1)
				return -1;
			break;
		case OPT_MAX_CONNS:
			if (parse_number("--max-conns", optarg, 1, 1000000,
			    &c->max_conns, err, errlen) == -1)
				return -1;
			break;
		case OPT_HISTORY:
			if (parse_number("--history", optarg, 0, 1000000,
			    &c->history, err, errlen) == -1)
				return -1;
			break;
		case OPT_STATS_BUFFER:
			if (parse_number("--stats-buffer", optarg, 4096,
			    1LL << 30, &c->stats_buffer, err, errlen) == -1)
				return -1;
			break;
		case OPT_PROTOCOLS:
			if (tls_config_parse_protocols(&c->protocols,
			    optarg) == -1) {
				snprintf(err, errlen, "--protocols: '%s' is not "
				    "a protocol list; expected for example "
				    "tlsv1.3, tlsv1.2,tlsv1.3 or secure",
				    optarg);
				return -1;
			}
			c->protocols_set = 1;
			break;
		case OPT_CIPHERS:
			c->ciphers = optarg;
			break;
		case OPT_CURVES:
			c->curves = optarg;
			break;
		case OPT_STATS_SOCKET:
			c->stats_socket = optarg;
			break;
		case OPT_STATS_MODE:
			n = strtoll(optarg, &end, 8);
			if (*optarg == '\0' || *end != '\0' || n < 0 ||
			    n > 0777) {
				snprintf(err, errlen, "--stats-mode: '%s' is "
				    "not an octal mode; expected for example "
				    "0660", optarg);
				return -1;
			}
			c->stats_mode = n;
			break;
		case OPT_STATS_GROUP:
			c->stats_group = optarg;
			break;
		case OPT_LOG_LEVEL:
			if (log_level_parse(optarg, &c->log_level) == -1) {
				snprintf(err, errlen, "--log-level: '%s' is not "
				    "a level; expected error, warn, info or "
				    "debug", optarg);
				return -1;
			}
			break;
		case OPT_SYSLOG:
			c->use_syslog = 1;
			break;
		case OPT_FOREGROUND:
			break;
		case 'h':
		case OPT_HELP:
			options_usage(stdout);
			return 1;
		case 'V':
		case OPT_VERSION:
			printf("tlsechod %s\n", TLSECHO_VERSION);
			return 1;
		case ':':
			snprintf(err, errlen, "%s: needs a value; see "
			    "tlsechod --help", name);
			return -1;
		default:
			snprintf(err, errlen, "%s: unknown option; see "
			    "tlsechod --help", name);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'; see tlsechod "
		    "--help", argv[optind]);
		return -1;
	}
	if (c->cert_file == NULL || c->key_file == NULL) {
		snprintf(err, errlen, "%s is required; make one with "
		    "'tlscert self --host localhost --cert server.pem --key "
		    "server.key'", c->cert_file == NULL ? "--cert FILE" :
		    "--key FILE");
		return -1;
	}
	if ((c->client_ca_optional || c->verify_client_addr ||
	    c->crl_file != NULL) && c->client_ca_file == NULL) {
		snprintf(err, errlen, "%s needs --client-ca FILE",
		    c->client_ca_optional ? "--client-ca-optional" :
		    c->verify_client_addr ? "--verify-client-addr" : "--crl");
		return -1;
	}
	if (c->nlisten == 0)
		c->listen[c->nlisten++] = "localhost:8443";
	if (!c->protocols_set)
		c->protocols = c->client_ca_file != NULL ?
		    TLS_PROTOCOL_TLSv1_3 : TLS_PROTOCOLS_DEFAULT;
	return 0;
}
