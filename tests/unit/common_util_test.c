/* Unit tests for common/util.c and common/addr.c. */
#include <netinet/in.h>
#include <arpa/inet.h>

#include "common/addr.h"
#include "common/util.h"
#include "tests/unit/harness.h"

static void
test_escape_controls(void)
{
	char	out[64];

	CHECK_STR(str_escape("plain", out, sizeof(out)), "plain");
	CHECK_STR(str_escape("a\x1b[31mb", out, sizeof(out)), "a\\x1b[31mb");
	CHECK_STR(str_escape("back\\slash", out, sizeof(out)), "back\\\\slash");
	CHECK_STR(str_escape("del\x7f", out, sizeof(out)), "del\\x7f");
	/* Valid UTF-8 passes, an invalid byte and a C1 control are escaped. */
	CHECK_STR(str_escape("caf\xc3\xa9", out, sizeof(out)), "caf\xc3\xa9");
	CHECK_STR(str_escape("x\xff", out, sizeof(out)), "x\\xff");
	CHECK_STR(str_escape("\xc2\x9b", out, sizeof(out)), "\\xc2\\x9b");
	/* A quote is left alone, but for a value between quotes. */
	CHECK_STR(str_escape("CN=\"x\"", out, sizeof(out)), "CN=\"x\"");
	CHECK_STR(str_quote("CN=\"x\"\n", out, sizeof(out)),
	    "CN=\\x22x\\x22\\x0a");
}

static void
test_escape_cuts_at_boundary(void)
{
	char	out[5];

	/* "ab" + 3-byte character does not fit in 4 bytes: cut before it. */
	CHECK_STR(str_escape("ab\xe2\x82\xac", out, sizeof(out)), "ab");
	CHECK_STR(str_escape("\x01", out, sizeof(out)), "\\x01");
	CHECK_STR(str_escape("a\x01", out, sizeof(out)), "a");
}

static void
test_addr_split(void)
{
	char	host[64], port[16], err[256];

	CHECK(addr_split("localhost:8443", host, sizeof(host), port,
	    sizeof(port), err, sizeof(err)) == 0);
	CHECK_STR(host, "localhost");
	CHECK_STR(port, "8443");
	CHECK(addr_split("[::1]:0", host, sizeof(host), port, sizeof(port),
	    err, sizeof(err)) == 0);
	CHECK_STR(host, "::1");
	CHECK_STR(port, "0");
	CHECK(addr_split("::1:80", host, sizeof(host), port, sizeof(port),
	    err, sizeof(err)) == -1);
	CHECK(strstr(err, "[::1]:8443") != NULL);
	CHECK(addr_split("host:99999", host, sizeof(host), port,
	    sizeof(port), err, sizeof(err)) == -1);
	CHECK(addr_split("host", host, sizeof(host), port, sizeof(port),
	    err, sizeof(err)) == -1);
	CHECK(addr_split(":80", host, sizeof(host), port, sizeof(port),
	    err, sizeof(err)) == -1);
}

static void
test_addr_format(void)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	char			buf[ADDR_STR_MAX];

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(8443);
	inet_pton(AF_INET, "127.0.0.2", &sin.sin_addr);
	addr_format((struct sockaddr *)&sin, buf, sizeof(buf));
	CHECK_STR(buf, "127.0.0.2:8443");
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(1);
	inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
	addr_format((struct sockaddr *)&sin6, buf, sizeof(buf));
	CHECK_STR(buf, "[::1]:1");
}

static void
test_durations_and_numbers(void)
{
	long long	v;
	char		err[256];

	CHECK(parse_duration_ms("--idle-timeout", "300", &v, err,
	    sizeof(err)) == 0 && v == 300000);
	CHECK(parse_duration_ms("--idle-timeout", "1500ms", &v, err,
	    sizeof(err)) == 0 && v == 1500);
	CHECK(parse_duration_ms("--idle-timeout", "5m", &v, err,
	    sizeof(err)) == 0 && v == 300000);
	CHECK(parse_duration_ms("--idle-timeout", "5x", &v, err,
	    sizeof(err)) == -1);
	CHECK(strstr(err, "--idle-timeout") != NULL);
	CHECK(parse_number("--max-conns", "12", 1, 100, &v, err,
	    sizeof(err)) == 0 && v == 12);
	CHECK(parse_number("--max-conns", "0", 1, 100, &v, err,
	    sizeof(err)) == -1);
	CHECK(strstr(err, "--max-conns") != NULL);
}

static void
test_formats(void)
{
	char	buf[32];
	time_t	t;

	fmt_bytes(512, buf, sizeof(buf));
	CHECK_STR(buf, "512B");
	fmt_bytes(1536, buf, sizeof(buf));
	CHECK_STR(buf, "1.5K");
	fmt_bytes(50ULL << 20, buf, sizeof(buf));
	CHECK_STR(buf, "50M");
	fmt_duration(45, buf, sizeof(buf));
	CHECK_STR(buf, "45s");
	fmt_duration(723, buf, sizeof(buf));
	CHECK_STR(buf, "12m03s");
	time_format_iso(0, buf, sizeof(buf));
	CHECK_STR(buf, "1970-01-01T00:00:00Z");
	CHECK(time_parse_iso("2026-12-03T14:00:00Z", &t) == 0 &&
	    t == 1796306400);
	CHECK(time_parse_iso("yesterday", &t) == -1);
}

TEST_MAIN("common_util",
    TEST(test_escape_controls),
    TEST(test_escape_cuts_at_boundary),
    TEST(test_addr_split),
    TEST(test_addr_format),
    TEST(test_durations_and_numbers),
    TEST(test_formats))
