/* Unit tests for certs/parse.c and the serial numbers of certs/x509.c. */
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>

#include "certs/tlscert.h"
#include "tests/unit/harness.h"

/* 2026-01-01T00:00:00Z */
#define NOW	((time_t)1767225600)

static void
test_when_relative(void)
{
	char	err[TLSCERT_ERR_MAX];
	time_t	t;

	CHECK(parse_when("--x", "-30d", NOW, &t, err, sizeof(err)) == 0);
	CHECK(t == NOW - 30 * 86400);
	CHECK(parse_when("--x", "+2d", NOW, &t, err, sizeof(err)) == 0);
	CHECK(t == NOW + 2 * 86400);
	CHECK(parse_when("--x", "-1h", NOW, &t, err, sizeof(err)) == 0);
	CHECK(t == NOW - 3600);
	CHECK(parse_when("--x", "+90m", NOW, &t, err, sizeof(err)) == 0);
	CHECK(t == NOW + 5400);
	CHECK(parse_when("--x", "-10s", NOW, &t, err, sizeof(err)) == 0);
	CHECK(t == NOW - 10);
	CHECK(parse_when("--x", "+0d", NOW, &t, err, sizeof(err)) == 0);
	CHECK(t == NOW);
	CHECK(parse_when("--x", "now", NOW, &t, err, sizeof(err)) == 0);
	CHECK(t == NOW);
	CHECK(parse_when("--x", "+36500d", NOW, &t, err, sizeof(err)) == 0);
	CHECK(t == NOW + 36500LL * 86400);
}

static void
test_when_iso(void)
{
	char	err[TLSCERT_ERR_MAX];
	time_t	t;

	CHECK(parse_when("--x", "2020-01-01T00:00:00Z", NOW, &t, err,
	    sizeof(err)) == 0);
	CHECK(t == (time_t)1577836800);
	CHECK(parse_when("--x", "2020-01-01", NOW, &t, err,
	    sizeof(err)) == -1);
}

static void
test_when_bad(void)
{
	static const char *const bad[] = {
		"", "30d", "-d", "-30", "-30x", "-30dd", "+ 2d", "--1d",
		"-36501d", "+99999999999999999999d", "-1.5h", "yesterday",
		"now ", "+2D",
	};
	char	err[TLSCERT_ERR_MAX];
	time_t	t;
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK(parse_when("--not-before", bad[i], NOW, &t, err,
		    sizeof(err)) == -1);
		CHECK(strncmp(err, "--not-before: '", 15) == 0);
		CHECK(strstr(err, "-30d") != NULL);
	}
}

static void
test_eku(void)
{
	char	err[TLSCERT_ERR_MAX];
	int	eku = -1;

	CHECK(parse_eku("--eku", "server", &eku, err, sizeof(err)) == 0);
	CHECK(eku == EKU_SERVER);
	CHECK(parse_eku("--eku", "client", &eku, err, sizeof(err)) == 0);
	CHECK(eku == EKU_CLIENT);
	CHECK(parse_eku("--eku", "both", &eku, err, sizeof(err)) == 0);
	CHECK(eku == (EKU_SERVER | EKU_CLIENT));
	CHECK(parse_eku("--eku", "none", &eku, err, sizeof(err)) == 0);
	CHECK(eku == 0);
	CHECK(parse_eku("--eku", "Server", &eku, err, sizeof(err)) == -1);
	CHECK_STR(err, "--eku: 'Server' is not one of server, client, both, "
	    "none");
}

static void
test_host(void)
{
	unsigned char	ip[16];
	size_t		len;
	static const unsigned char v6one[16] = { [15] = 1 };

	CHECK(parse_host("127.0.0.1", ip, &len) == 1);
	CHECK(len == 4 && memcmp(ip, "\x7f\0\0\x01", 4) == 0);
	CHECK(parse_host("::1", ip, &len) == 1);
	CHECK(len == 16 && memcmp(ip, v6one, 16) == 0);
	CHECK(parse_host("[::1]", ip, &len) == 1);
	CHECK(len == 16 && memcmp(ip, v6one, 16) == 0);
	CHECK(parse_host("localhost", ip, &len) == 0);
	CHECK(parse_host("a-b.example_1.test", ip, &len) == 0);
	CHECK(parse_host("*.example.test", ip, &len) == 0);
	/* Not an address, so it must be a name, and it is not one. */
	CHECK(parse_host("", ip, &len) == -1);
	CHECK(parse_host("a b", ip, &len) == -1);
	CHECK(parse_host("a..b", ip, &len) == -1);
	CHECK(parse_host(".a", ip, &len) == -1);
	CHECK(parse_host("a.", ip, &len) == -1);
	CHECK(parse_host("*", ip, &len) == -1);
	CHECK(parse_host("a.*.b", ip, &len) == -1);
	CHECK(parse_host("fe80::1%eth0", ip, &len) == -1);
	CHECK(parse_host("caf\xc3\xa9.test", ip, &len) == -1);
	CHECK(parse_host("a\x1b" "b", ip, &len) == -1);
	CHECK(parse_host("[localhost]", ip, &len) == -1);
	CHECK(parse_host("0123456789012345678901234567890123456789012345678901"
	    "23456789abcd.test", ip, &len) == -1);	/* 64-byte label */
}

static void
test_hosts_list(void)
{
	struct host_list	hl = { NULL, 0 };
	char			err[TLSCERT_ERR_MAX];

	CHECK(parse_hosts("--host", "localhost,127.0.0.1,::1", &hl, err,
	    sizeof(err)) == 0);
	CHECK(hl.n == 3);
	CHECK(parse_hosts("--host", "example.test", &hl, err,
	    sizeof(err)) == 0);
	CHECK(hl.n == 4);
	if (hl.n == 4) {
		CHECK_STR(hl.v[0], "localhost");
		CHECK_STR(hl.v[2], "::1");
		CHECK_STR(hl.v[3], "example.test");
	}
	/* A bad entry adds nothing, not even the good ones before it. */
	CHECK(parse_hosts("--host", "good.test,bad name", &hl, err,
	    sizeof(err)) == -1);
	CHECK_STR(err, "--host: 'bad name' is neither an IP address nor a "
	    "DNS name");
	CHECK(hl.n == 4);
	CHECK(parse_hosts("--host", "a,,b", &hl, err, sizeof(err)) == -1);
	CHECK(strstr(err, "empty entry") != NULL);
	CHECK(parse_hosts("--host", "a,", &hl, err, sizeof(err)) == -1);
	CHECK(parse_hosts("--host", "", &hl, err, sizeof(err)) == -1);
	CHECK(hl.n == 4);
	parse_hosts_free(&hl);
	CHECK(hl.n == 0 && hl.v == NULL);
}

static void
test_serial(void)
{
	char		 err[TLSCERT_ERR_MAX];
	ASN1_INTEGER	*s, *prev = NULL;
	BIGNUM		*bn;
	int		 i;

	for (i = 0; i < 64; i++) {
		if ((s = x509_serial(err, sizeof(err))) == NULL) {
			CHECK(s != NULL);
			break;
		}
		bn = ASN1_INTEGER_to_BN(s, NULL);
		CHECK(bn != NULL);
		CHECK(!BN_is_negative(bn) && !BN_is_zero(bn));
		CHECK(BN_num_bits(bn) <= 127);
		CHECK(prev == NULL || ASN1_INTEGER_cmp(s, prev) != 0);
		BN_free(bn);
		ASN1_INTEGER_free(prev);
		prev = s;
	}
	ASN1_INTEGER_free(prev);
}

TEST_MAIN("certs_parse",
    TEST(test_when_relative),
    TEST(test_when_iso),
    TEST(test_when_bad),
    TEST(test_eku),
    TEST(test_host),
    TEST(test_hosts_list),
    TEST(test_serial))
