/*
 * tlscert: options and subcommands. Each subcommand reads its inputs
 * first, then creates its outputs (never over an existing file without
 * --force), then makes the keys and certificates, so that a mistake in
 * the command line costs nothing and a failure leaves nothing behind.
 */
#include <sys/stat.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/addr.h"
#include "common/log.h"
#include "common/util.h"
#include "certs/tlscert.h"

#ifndef TLSECHO_VERSION
#define TLSECHO_VERSION "unknown"
#endif

/* Options, as bits, so that each command can say which it takes. */
enum {
	OPT_HOST = 0,
	OPT_NAME,
	OPT_DAYS,
	OPT_CERT,
	OPT_KEY,
	OPT_CA_CERT,
	OPT_CA_KEY,
	OPT_CRL,
	OPT_NOT_BEFORE,
	OPT_NOT_AFTER,
	OPT_EKU,
	OPT_FORCE,
	OPT_HELP
};
#define BIT(o)		(1U << (o))
#define OPTS_TIMES	(BIT(OPT_DAYS) | BIT(OPT_NOT_BEFORE) | \
			    BIT(OPT_NOT_AFTER) | BIT(OPT_EKU))
#define OPTS_OUT	(BIT(OPT_CERT) | BIT(OPT_KEY) | BIT(OPT_FORCE))
#define OPTS_ISSUER	(BIT(OPT_CA_CERT) | BIT(OPT_CA_KEY))

#define DEFAULT_CA_NAME		"tlsecho CA"
/* In days; 3650 is ten 365-day years. */
#define DEFAULT_DAYS_CA		3650	/* self-signed and CA */
#define DEFAULT_DAYS_LEAF	365	/* server and client */
#define DEFAULT_DAYS_CRL	30	/* until the CRL's nextUpdate */

struct options {
	struct host_list	 hosts;
	const char		*name;
	const char		*cert;
	const char		*key;
	const char		*ca_cert;
	const char		*ca_key;
	const char		*crl;
	const char		*not_before;
	const char		*not_after;
	long long		 days;	/* 0: the command's default */
	int			 eku;
	int			 eku_set;
	int			 force;
	int			 argc;		/* operands */
	char			**argv;
	time_t			 now;
};

struct command {
	const char	*name;
	int		(*run)(const struct command *, struct options *,
			    char *, size_t);
	unsigned	 opts;		/* BIT(OPT_*) it accepts */
	enum cert_kind	 kind;
	const char	*usage;
	const char	*help;
};

static int	cmd_make(const struct command *, struct options *, char *,
		    size_t);
static int	cmd_revoke(const struct command *, struct options *, char *,
		    size_t);
static int	cmd_pin(const struct command *, struct options *, char *,
		    size_t);
static int	cmd_show(const struct command *, struct options *, char *,
		    size_t);
static int	cmd_validity(const struct command *, const struct options *,
		    struct cert_req *, char *, size_t);
static int	cmd_not_input(const char *, const char *, const char *,
		    const char *, char *, size_t);
static void	usage(FILE *);
static void	usage_command(FILE *, const struct command *);
static void	parse_options(const struct command *, int, char **,
		    struct options *);

static const struct command commands[] = {
	{ "self", cmd_make, BIT(OPT_HOST) | BIT(OPT_NAME) | OPTS_TIMES |
	    OPTS_OUT, CERT_SELF,
	  "self --host HOST[,HOST...] [--name CN] [--days N] --cert FILE "
	  "--key FILE",
	  "Makes a self-signed certificate that is its own CA, for servers\n"
	  "and clients alike (extended key usage serverAuth and clientAuth).\n"
	  "Each HOST becomes an IP or DNS subject alternative name; the\n"
	  "subject CN is --name or the first HOST. Default --days 3650.\n" },
	{ "ca", cmd_make, BIT(OPT_NAME) | OPTS_TIMES | OPTS_OUT, CERT_CA,
	  "ca [--name CN] [--days N] --cert FILE --key FILE",
	  "Makes a CA certificate (keyCertSign, cRLSign) for signing server\n"
	  "and client certificates and CRLs. Default --name \"" DEFAULT_CA_NAME
	  "\",\n--days 3650.\n" },
	{ "server", cmd_make, BIT(OPT_HOST) | BIT(OPT_NAME) | OPTS_TIMES |
	    OPTS_OUT | OPTS_ISSUER, CERT_SERVER,
	  "server --ca-cert FILE --ca-key FILE --host HOST[,HOST...]\n"
	  "\t[--name CN] [--days N] --cert FILE --key FILE",
	  "Makes a server certificate (serverAuth) signed by the CA. Each\n"
	  "HOST becomes an IP or DNS subject alternative name; the subject CN\n"
	  "is --name or the first HOST. Default --days 365.\n" },
	{ "client", cmd_make, BIT(OPT_HOST) | BIT(OPT_NAME) | OPTS_TIMES |
	    OPTS_OUT | OPTS_ISSUER, CERT_CLIENT,
	  "client --ca-cert FILE --ca-key FILE --name NAME [--host HOST,...]\n"
	  "\t[--days N] --cert FILE --key FILE",
	  "Makes a client certificate (clientAuth) for NAME signed by the CA.\n"
	  "Give --host with the client's addresses or names for daemons that\n"
	  "check the client's address. Default --days 365.\n" },
	{ "revoke", cmd_revoke, OPTS_ISSUER | BIT(OPT_CRL) | BIT(OPT_DAYS) |
	    BIT(OPT_FORCE), CERT_CA,
	  "revoke --ca-cert FILE --ca-key FILE --crl FILE [--days N] "
	  "[--force]\n\t[CERT...]",
	  "Writes a CRL signed by the CA that revokes every CERT given (each\n"
	  "must have been issued by the CA). To revoke more later, list all\n"
	  "of them again with --force. Without CERT the CRL is empty.\n"
	  "--days N: the CRL's nextUpdate is N days from now (default 30).\n" },
	{ "pin", cmd_pin, 0, CERT_CA,
	  "pin FILE",
	  "Prints the certificate's pin as libtls's tls_peer_cert_hash()\n"
	  "gives it: SHA256: and the hex SHA-256 of the certificate's DER.\n" },
	{ "show", cmd_show, 0, CERT_CA,
	  "show FILE",
	  "Prints subject, issuer, serial, names, dates, key, key usages,\n"
	  "whether it is a CA, and the pin, one \"field: value\" a line.\n" },
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static const char options_help[] =
    "Options:\n"
    "  --host HOST,...     names and addresses (repeatable)\n"
    "  --name CN           subject common name (UTF-8, up to 64 characters)\n"
    "  --days N            validity in days, 1 to 36500 (3650: ten years)\n"
    "  --not-before TIME   start of validity instead of now\n"
    "  --not-after TIME    end of validity instead of --days after the start\n"
    "                      TIME: 2020-01-01T00:00:00Z, now, or an offset\n"
    "                      from now such as -30d, +2d, -1h, +90m, -10s\n"
    "  --eku KIND          extended key usage: server, client, both, none\n"
    "  --cert FILE         certificate to write (PEM)\n"
    "  --key FILE          private key to write (PKCS#8 PEM, mode 0600)\n"
    "  --ca-cert FILE      the issuing CA's certificate\n"
    "  --ca-key FILE       the issuing CA's private key\n"
    "  --crl FILE          CRL to write (PEM)\n"
    "  -f, --force         replace existing output files\n"
    "  -h, --help          this help\n";

static const struct option long_options[] = {
	{ "host",	required_argument,	NULL, OPT_HOST },
	{ "name",	required_argument,	NULL, OPT_NAME },
	{ "days",	required_argument,	NULL, OPT_DAYS },
	{ "cert",	required_argument,	NULL, OPT_CERT },
	{ "key",	required_argument,	NULL, OPT_KEY },
	{ "ca-cert",	required_argument,	NULL, OPT_CA_CERT },
	{ "ca-key",	required_argument,	NULL, OPT_CA_KEY },
	{ "crl",	required_argument,	NULL, OPT_CRL },
	{ "not-before",	required_argument,	NULL, OPT_NOT_BEFORE },
	{ "not-after",	required_argument,	NULL, OPT_NOT_AFTER },
	{ "eku",	required_argument,	NULL, OPT_EKU },
	{ "force",	no_argument,		NULL, OPT_FORCE },
	{ "help",	no_argument,		NULL, OPT_HELP },
	{ NULL,		0,			NULL, 0 }
};

static void
usage(FILE *fp)
{
	size_t	i;

	fprintf(fp, "usage: tlscert COMMAND [options]\n"
	    "       tlscert --version\n\n"
	    "Makes ECDSA P-256 certificates and PKCS#8 keys for tlsecho.\n\n"
	    "Commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  tlscert %s\n", commands[i].usage);
	fprintf(fp, "\n%s\n'tlscert COMMAND --help' says more about each.\n",
	    options_help);
}

static void
usage_command(FILE *fp, const struct command *cmd)
{
	fprintf(fp, "usage: tlscert %s\n\n%s", cmd->usage, cmd->help);
	if (cmd->opts & BIT(OPT_EKU))
		fprintf(fp, "Also: --not-before TIME, --not-after TIME, "
		    "--eku server|client|both|none,\n--force.\n");
	fprintf(fp, "\n%s", options_help);
}

/*
 * Parses the options of cmd into o. Mistakes are fatal and name the
 * option; --help prints the command's help and exits.
 */
static void
parse_options(const struct command *cmd, int argc, char **argv,
    struct options *o)
{
	char	err[TLSCERT_ERR_MAX];
	int	ch;

	opterr = 0;
	optind = 0;		/* glibc: start again from scratch */
	while ((ch = getopt_long(argc, argv, ":hf", long_options, NULL)) !=
	    -1) {
		switch (ch) {
		case 'h':
			ch = OPT_HELP;
			break;
		case 'f':
			ch = OPT_FORCE;
			break;
		case ':':
			fatalx("%s: %s needs a value (see tlscert %s --help)",
			    cmd->name, argv[optind - 1], cmd->name);
		case '?':
			/* optopt is the character of an unknown short one. */
			if (optopt > ' ' && optopt < 0x7f)
				fatalx("%s: unknown option '-%c' (see tlscert "
				    "%s --help)", cmd->name, optopt,
				    cmd->name);
			fatalx("%s: unknown option '%s' (see tlscert %s "
			    "--help)", cmd->name, argv[optind - 1],
			    cmd->name);
		}
		if (ch == OPT_HELP) {
			usage_command(stdout, cmd);
			exit(0);
		}
		/* long_options is in OPT_* order. */
		if ((cmd->opts & BIT(ch)) == 0)
			fatalx("%s: --%s is not an option of this command "
			    "(see tlscert %s --help)", cmd->name,
			    long_options[ch].name, cmd->name);
		switch (ch) {
		case OPT_HOST:
			if (parse_hosts("--host", optarg, &o->hosts, err,
			    sizeof(err)) == -1)
				fatalx("%s", err);
			break;
		case OPT_NAME:
			if (*optarg == '\0')
				fatalx("--name: the name is empty");
			o->name = optarg;
			break;
		case OPT_DAYS:
			if (parse_number("--days", optarg, 1,
			    TLSCERT_DAYS_MAX, &o->days, err, sizeof(err)) == -1)
				fatalx("%s", err);
			break;
		case OPT_CERT:
			o->cert = optarg;
			break;
		case OPT_KEY:
			o->key = optarg;
			break;
		case OPT_CA_CERT:
			o->ca_cert = optarg;
			break;
		case OPT_CA_KEY:
			o->ca_key = optarg;
			break;
		case OPT_CRL:
			o->crl = optarg;
			break;
		case OPT_NOT_BEFORE:
			o->not_before = optarg;
			break;
		case OPT_NOT_AFTER:
			o->not_after = optarg;
			break;
		case OPT_EKU:
			if (parse_eku("--eku", optarg, &o->eku, err,
			    sizeof(err)) == -1)
				fatalx("%s", err);
			o->eku_set = 1;
			break;
		case OPT_FORCE:
			o->force = 1;
			break;
		}
	}
	o->argc = argc - optind;
	o->argv = argv + optind;
}

/* Works out notBefore and notAfter from --not-before, --not-after, --days. */
static int
cmd_validity(const struct command *cmd, const struct options *o,
    struct cert_req *req, char *err, size_t errlen)
{
	char		nb[32], na[32];
	long long	days;

	req->not_before = o->now;
	if (o->not_before != NULL && parse_when("--not-before",
	    o->not_before, o->now, &req->not_before, err, errlen) == -1)
		return -1;
	if (o->not_after != NULL) {
		if (o->days != 0) {
			snprintf(err, errlen, "%s: give --days or --not-after, "
			    "not both", cmd->name);
			return -1;
		}
		if (parse_when("--not-after", o->not_after, o->now,
		    &req->not_after, err, errlen) == -1)
			return -1;
	} else {
		days = o->days;
		if (days == 0)
			days = cmd->kind == CERT_SELF || cmd->kind == CERT_CA ?
			    DEFAULT_DAYS_CA : DEFAULT_DAYS_LEAF;
		req->not_after = req->not_before + (time_t)(days *
		    TLSCERT_DAY);
	}
	if (req->not_after <= req->not_before) {
		time_format_iso(req->not_before, nb, sizeof(nb));
		time_format_iso(req->not_after, na, sizeof(na));
		snprintf(err, errlen, "--not-after: %s is not after the "
		    "start of validity, %s", na, nb);
		return -1;
	}
	return 0;
}

/*
 * Refuses an output file that is also an input: --force would otherwise
 * unlink the CA's own key or certificate.
 */
static int
cmd_not_input(const char *out_opt, const char *out, const char *in_opt,
    const char *in, char *err, size_t errlen)
{
	struct stat	so, si;

	if (in == NULL || out == NULL)
		return 0;
	if (strcmp(in, out) == 0 || (stat(out, &so) == 0 &&
	    stat(in, &si) == 0 && so.st_dev == si.st_dev &&
	    so.st_ino == si.st_ino)) {
		snprintf(err, errlen, "%s %s: that is the %s file; refusing "
		    "to replace it", out_opt, out, in_opt);
		return -1;
	}
	return 0;
}

/* self, ca, server and client: a new key and a certificate for it. */
static int
cmd_make(const struct command *cmd, struct options *o, char *err,
    size_t errlen)
{
	struct cert_req	 req;
	struct file_out	 fkey, fcert;
	X509		*ca = NULL, *x = NULL;
	EVP_PKEY	*ca_key = NULL, *key = NULL;
	char		 pin[80], na[32];
	int		 created, rv = -1;

	file_init(&fkey, o->key);
	file_init(&fcert, o->cert);
	memset(&req, 0, sizeof(req));
	req.kind = cmd->kind;
	req.hosts = &o->hosts;

	if (o->argc > 0) {
		snprintf(err, errlen, "%s: unexpected argument '%s' (see "
		    "tlscert %s --help)", cmd->name, o->argv[0], cmd->name);
		goto out;
	}
	if (o->cert == NULL || o->key == NULL) {
		snprintf(err, errlen, "%s: --cert FILE and --key FILE are "
		    "required", cmd->name);
		goto out;
	}
	if ((cmd->opts & OPTS_ISSUER) &&
	    (o->ca_cert == NULL || o->ca_key == NULL)) {
		snprintf(err, errlen, "%s: --ca-cert FILE and --ca-key FILE "
		    "are required (make them with tlscert ca)", cmd->name);
		goto out;
	}
	if ((cmd->kind == CERT_SELF || cmd->kind == CERT_SERVER) &&
	    o->hosts.n == 0) {
		snprintf(err, errlen, "%s: --host is required, for example "
		    "--host localhost,127.0.0.1,::1", cmd->name);
		goto out;
	}
	if (cmd->kind == CERT_CLIENT && o->name == NULL) {
		snprintf(err, errlen, "%s: --name NAME is required",
		    cmd->name);
		goto out;
	}
	if (strcmp(o->cert, o->key) == 0) {
		snprintf(err, errlen, "%s: --cert and --key name the same "
		    "file", cmd->name);
		goto out;
	}
	if (cmd_not_input("--cert", o->cert, "--ca-cert", o->ca_cert, err,
	    errlen) == -1 ||
	    cmd_not_input("--cert", o->cert, "--ca-key", o->ca_key, err,
	    errlen) == -1 ||
	    cmd_not_input("--key", o->key, "--ca-cert", o->ca_cert, err,
	    errlen) == -1 ||
	    cmd_not_input("--key", o->key, "--ca-key", o->ca_key, err,
	    errlen) == -1)
		goto out;

	req.name = o->name;
	if (req.name == NULL)
		req.name = o->hosts.n > 0 ? o->hosts.v[0] : DEFAULT_CA_NAME;
	switch (cmd->kind) {
	case CERT_SELF:
		req.eku = EKU_SERVER | EKU_CLIENT;
		break;
	case CERT_CA:
		req.eku = 0;
		break;
	case CERT_SERVER:
		req.eku = EKU_SERVER;
		break;
	case CERT_CLIENT:
		req.eku = EKU_CLIENT;
		break;
	}
	if (o->eku_set)
		req.eku = o->eku;
	if (cmd_validity(cmd, o, &req, err, errlen) == -1)
		goto out;

	if (o->ca_cert != NULL) {
		if ((ca = x509_load(o->ca_cert, err, errlen)) == NULL ||
		    (ca_key = keyfile_load(o->ca_key, err, errlen)) == NULL ||
		    x509_check_issuer(o->ca_cert, ca, o->ca_key, ca_key, 0,
		    err, errlen) == -1)
			goto out;
	}

	if (file_create(&fkey, 0600, o->force, err, errlen) == -1)
		goto out;
	created = file_create(&fcert, 0644, o->force, err, errlen) == 0;
	if (file_same(&fkey, &fcert)) {
		snprintf(err, errlen, "%s: --cert and --key name the same "
		    "file", cmd->name);
		goto out;
	}
	if (!created)
		goto out;
	if ((key = keyfile_generate(err, errlen)) == NULL ||
	    (x = x509_build(&req, key, ca, ca_key, err, errlen)) == NULL ||
	    x509_pin(x, pin, sizeof(pin)) == -1)
		goto out;
	if (keyfile_write(&fkey, key, err, errlen) == -1 ||
	    x509_write(&fcert, x, err, errlen) == -1 ||
	    file_finish(&fkey, err, errlen) == -1 ||
	    file_finish(&fcert, err, errlen) == -1)
		goto out;

	time_format_iso(req.not_after, na, sizeof(na));
	printf("cert: %s\nkey: %s\nnot-after: %s\npin: %s\n", o->cert,
	    o->key, na, pin);
	rv = 0;
out:
	if (rv == -1) {
		file_abort(&fkey);
		file_abort(&fcert);
	}
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	return rv;
}

/* revoke: a CRL listing the serials of the certificates given. */
static int
cmd_revoke(const struct command *cmd, struct options *o, char *err,
    size_t errlen)
{
	struct file_out	  fcrl;
	X509		 *ca = NULL, **certs = NULL;
	EVP_PKEY	 *ca_key = NULL;
	X509_CRL	 *crl = NULL;
	const char	**paths;
	char		  next[32];
	time_t		  next_update;
	int		  i, n = 0, rv = -1;

	file_init(&fcrl, o->crl);
	paths = (const char **)o->argv;
	if (o->ca_cert == NULL || o->ca_key == NULL || o->crl == NULL) {
		snprintf(err, errlen, "%s: --ca-cert FILE, --ca-key FILE and "
		    "--crl FILE are required", cmd->name);
		goto out;
	}
	if (cmd_not_input("--crl", o->crl, "--ca-cert", o->ca_cert, err,
	    errlen) == -1 ||
	    cmd_not_input("--crl", o->crl, "--ca-key", o->ca_key, err,
	    errlen) == -1)
		goto out;
	for (i = 0; i < o->argc; i++) {
		if (cmd_not_input("--crl", o->crl, "certificate", paths[i],
		    err, errlen) == -1)
			goto out;
	}
	next_update = o->now + (time_t)((o->days != 0 ? o->days :
	    DEFAULT_DAYS_CRL) * TLSCERT_DAY);

	if ((ca = x509_load(o->ca_cert, err, errlen)) == NULL ||
	    (ca_key = keyfile_load(o->ca_key, err, errlen)) == NULL ||
	    x509_check_issuer(o->ca_cert, ca, o->ca_key, ca_key, 1, err,
	    errlen) == -1)
		goto out;
	if (o->argc > 0 &&
	    (certs = calloc((size_t)o->argc, sizeof(*certs))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", cmd->name);
		goto out;
	}
	for (n = 0; n < o->argc; n++) {
		if ((certs[n] = x509_load(paths[n], err, errlen)) == NULL)
			goto out;
	}

	if (file_create(&fcrl, 0644, o->force, err, errlen) == -1)
		goto out;
	if ((crl = x509_crl(ca, ca_key, certs, paths, (size_t)n, o->now,
	    next_update, err, errlen)) == NULL ||
	    x509_crl_write(&fcrl, crl, err, errlen) == -1 ||
	    file_finish(&fcrl, err, errlen) == -1)
		goto out;

	time_format_iso(next_update, next, sizeof(next));
	printf("crl: %s\nrevoked: %d\nnext-update: %s\n", o->crl,
	    X509_CRL_get_REVOKED(crl) != NULL ?
	    sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) : 0, next);
	rv = 0;
out:
	if (rv == -1)
		file_abort(&fcrl);
	for (i = 0; i < n; i++)
		X509_free(certs[i]);
	free(certs);
	X509_CRL_free(crl);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	return rv;
}

static int
cmd_pin(const struct command *cmd, struct options *o, char *err,
    size_t errlen)
{
	X509	*x;
	char	 pin[80];
	int	 rv = -1;

	if (o->argc != 1) {
		snprintf(err, errlen, "%s: expected one certificate file "
		    "(usage: tlscert %s)", cmd->name, cmd->usage);
		return -1;
	}
	if ((x = x509_load(o->argv[0], err, errlen)) == NULL)
		return -1;
	if (x509_pin(x, pin, sizeof(pin)) == -1)
		tlscert_sslerr(err, errlen, "%s: cannot compute the pin",
		    o->argv[0]);
	else {
		printf("%s\n", pin);
		rv = 0;
	}
	X509_free(x);
	return rv;
}

static int
cmd_show(const struct command *cmd, struct options *o, char *err,
    size_t errlen)
{
	X509	*x;
	char	 msg[TLSCERT_ERR_MAX];
	int	 rv;

	if (o->argc != 1) {
		snprintf(err, errlen, "%s: expected one certificate file "
		    "(usage: tlscert %s)", cmd->name, cmd->usage);
		return -1;
	}
	if ((x = x509_load(o->argv[0], err, errlen)) == NULL)
		return -1;
	if ((rv = show_cert(stdout, x, msg, sizeof(msg))) == -1)
		snprintf(err, errlen, "%s: %s", o->argv[0], msg);
	X509_free(x);
	return rv;
}

int
main(int argc, char **argv)
{
	const struct command	*cmd = NULL;
	struct options		 o;
	char			 err[TLSCERT_ERR_MAX];
	size_t			 i;
	int			 rv;

	log_init("tlscert", LOG_LEVEL_INFO, 0);
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("tlscert %s\n", TLSECHO_VERSION);
		return 0;
	}
	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name) == 0)
			cmd = &commands[i];
	}
	if (cmd == NULL)
		fatalx("'%s' is not a command; expected self, ca, server, "
		    "client, revoke, pin or show (see tlscert --help)",
		    argv[1]);

	memset(&o, 0, sizeof(o));
	o.now = time(NULL);
	parse_options(cmd, argc - 1, argv + 1, &o);
	rv = cmd->run(cmd, &o, err, sizeof(err));
	parse_hosts_free(&o.hosts);
	if (fflush(stdout) == EOF || ferror(stdout))
		fatal("stdout");
	if (rv == -1)
		fatalx("%s", err);
	return 0;
}
