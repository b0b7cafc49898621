/*
 * Unit tests for daemon/registry.c: claiming and releasing slots, ids,
 * the closed ring and its wrap, counters and tallies, stop requests, and
 * NULL from registry_claim when every slot is taken.
 *
 * The registry is process-wide state initialised once, so the tests run
 * in order and each leaves every slot free.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/tlsechod.h"
#include "tests/unit/harness.h"

/* daemon/main.c is not in libdaemon.a; its globals live here. */
struct config		 conf;
int64_t			 daemon_started_ms;

#define NSLOTS		4
#define HISTORY		3
#define RING_MIN	1024	/* CLOSED_RING_MIN in registry.c */

static int	notified;

static void
count_notify(void)
{
	notified++;
}

static int
tally_get(const struct proto_tally *t, const char *name, uint64_t *count)
{
	size_t	i;

	for (i = 0; i < t->n; i++) {
		if (strcmp(t->item[i].name, name) == 0) {
			*count = t->item[i].count;
			return 0;
		}
	}
	return -1;
}

static void
test_claim_release(void)
{
	struct proto_session	 info, out[2];
	struct proto_counters	 c;
	struct slot		*s;
	uint64_t		 id, id2, from, n;
	unsigned		 version;
	int			 before = notified;

	s = registry_claim(&id, -1, "127.0.0.1:5001", "127.0.0.1:8443");
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(id == 1);
	CHECK(s->in_use);
	CHECK(s->info.id == id);
	CHECK(s->info.state == PROTO_STATE_HANDSHAKE);
	CHECK(s->info.handshake_ms == -1);
	CHECK(s->info.started_ms > 0);
	/* Addresses and fd are there before the slot is visible. */
	CHECK_STR(s->info.peer, "127.0.0.1:5001");
	CHECK_STR(s->info.local, "127.0.0.1:8443");
	CHECK(s->fd == -1);
	CHECK(notified > before);

	memset(&info, 0, sizeof(info));
	snprintf(info.peer, sizeof(info.peer), "127.0.0.1:5000");
	snprintf(info.local, sizeof(info.local), "127.0.0.1:8443");
	snprintf(info.version, sizeof(info.version), "TLSv1.3");
	info.state = PROTO_STATE_ESTABLISHED;
	/* Only the groups named are copied; addresses never change. */
	registry_set_info(s, &info, PROTO_F_TLS);
	CHECK_STR(s->info.version, "TLSv1.3");
	CHECK(s->info.state == PROTO_STATE_HANDSHAKE);
	registry_set_info(s, &info, PROTO_F_STATE | PROTO_F_ADDRS);
	CHECK(s->info.state == PROTO_STATE_ESTABLISHED);
	CHECK_STR(s->info.peer, "127.0.0.1:5001");
	registry_note_tls("TLSv1.3", "TLS_AES_256_GCM_SHA384");

	registry_add_bytes(s, 100, 90);
	registry_add_bytes(s, 10, 20);
	CHECK(atomic_load(&s->bytes_in) == 110);
	CHECK(atomic_load(&s->bytes_out) == 110);
	/* A read gives the record with the live counts and its version. */
	CHECK(registry_read(s, &out[0], &version) == 1);
	CHECK(out[0].id == id && out[0].state == PROTO_STATE_ESTABLISHED);
	CHECK(out[0].bytes_in == 110 && out[0].bytes_out == 110);
	CHECK(version == atomic_load(&s->version));

	registry_counters(&c);
	CHECK(c.accepted == 1);
	CHECK(c.active == 1);
	CHECK(c.bytes_in == 110);
	CHECK(c.fields == PROTO_C_ALL);
	CHECK(tally_get(&c.versions, "TLSv1.3", &n) == 0 && n == 1);
	CHECK(tally_get(&c.ciphers, "TLS_AES_256_GCM_SHA384", &n) == 0 &&
	    n == 1);

	CHECK(registry_closed_seq() == 0);
	registry_release(s, REASON_PEER_CLOSED, 12345);
	CHECK(!s->in_use);
	CHECK(registry_closed_seq() == 1);
	from = 0;
	CHECK(registry_closed_copy(&from, UINT64_MAX, out, 2) == 1);
	CHECK(from == 1);
	CHECK(out[0].id == id);
	CHECK_STR(out[0].reason, "peer-closed");
	CHECK_STR(out[0].peer, "127.0.0.1:5001");
	CHECK(out[0].bytes_in == 110 && out[0].bytes_out == 110);
	CHECK(out[0].ended_ms == 12345);
	CHECK(out[0].state == PROTO_STATE_CLOSED);
	/* Nothing new since: the copy is empty and from stays. */
	CHECK(registry_closed_copy(&from, UINT64_MAX, out, 2) == 0);
	CHECK(from == 1);

	registry_counters(&c);
	CHECK(c.active == 0);
	CHECK(tally_get(&c.closes, "peer-closed", &n) == 0 && n == 1);

	/* Ids are never reused, and a reused slot starts clean. */
	s = registry_claim(&id2, -1, "127.0.0.1:5002", "127.0.0.1:8443");
	CHECK(s != NULL && id2 == id + 1);
	if (s != NULL) {
		CHECK_STR(s->info.peer, "127.0.0.1:5002");
		CHECK(s->info.version[0] == '\0');
		CHECK(atomic_load(&s->bytes_in) == 0);
		registry_release(s, REASON_IDLE, 1);
		/* A free slot reads as free. */
		CHECK(registry_read(s, &out[0], NULL) == 0);
	}
}

static void
test_full(void)
{
	struct slot		*s[NSLOTS];
	struct proto_counters	 c;
	uint64_t		 id, last = 0;
	size_t			 i;

	for (i = 0; i < NSLOTS; i++) {
		s[i] = registry_claim(&id, -1, "127.0.0.1:5001", "127.0.0.1:8443");
		CHECK(s[i] != NULL);
		CHECK(id > last);
		last = id;
	}
	CHECK(registry_claim(&id, -1, "127.0.0.1:5001", "127.0.0.1:8443") == NULL);
	CHECK(registry_claim(&id, -1, "127.0.0.1:5001", "127.0.0.1:8443") == NULL);
	registry_count_rejected();
	registry_counters(&c);
	CHECK(c.active == NSLOTS);
	CHECK(c.rejected == 1);
	/* One freed slot can be claimed again, once. */
	if (s[1] != NULL)
		registry_release(s[1], REASON_IDLE, 1);
	s[1] = registry_claim(&id, -1, "127.0.0.1:5001", "127.0.0.1:8443");
	CHECK(s[1] != NULL);
	CHECK(registry_claim(&id, -1, "127.0.0.1:5001", "127.0.0.1:8443") == NULL);
	for (i = 0; i < NSLOTS; i++)
		if (s[i] != NULL)
			registry_release(s[i], REASON_ERROR, 1);
	registry_counters(&c);
	CHECK(c.active == 0);
}

static void
test_ring_wrap(void)
{
	struct proto_session	*out;
	struct slot		*s;
	uint64_t		 id, first = 0, seq0, from;
	size_t			 i, n, total = RING_MIN + 7;

	if ((out = calloc(RING_MIN + 8, sizeof(*out))) == NULL) {
		CHECK(out != NULL);
		return;
	}
	seq0 = registry_closed_seq();
	for (i = 0; i < total; i++) {
		s = registry_claim(&id, -1, "127.0.0.1:5001", "127.0.0.1:8443");
		CHECK(s != NULL);
		if (s == NULL)
			break;
		if (i == 0)
			first = id;
		registry_release(s, i % 2 ? REASON_IDLE : REASON_KILLED, 1);
	}
	CHECK(registry_closed_seq() == seq0 + total);
	/* From the start: only the last RING_MIN are still there. */
	from = 0;
	n = registry_closed_copy(&from, UINT64_MAX, out, RING_MIN + 8);
	CHECK(n == RING_MIN);
	CHECK(from == seq0 + total);
	CHECK(out[0].id == first + total - RING_MIN);
	CHECK(out[n - 1].id == first + total - 1);
	for (i = 1; i < n; i++)
		CHECK(out[i].id == out[i - 1].id + 1);
	/* A reader that fell behind by more than the ring skips ahead. */
	from = seq0 + 1;
	n = registry_closed_copy(&from, UINT64_MAX, out, 2);
	CHECK(n == 2);
	CHECK(out[0].id == first + total - RING_MIN);
	/* "to" bounds the copy. */
	from = seq0 + total - 3;
	n = registry_closed_copy(&from, seq0 + total - 1, out, 10);
	CHECK(n == 2);
	CHECK(from == seq0 + total - 1);
	CHECK(out[1].id == first + total - 2);
	free(out);
}

static void
test_stop(void)
{
	struct slot	*s;
	uint64_t	 id;
	int		 sv[2];
	char		 b;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	s = registry_claim(&id, sv[0], "127.0.0.1:5001", "127.0.0.1:8443");
	CHECK(s != NULL);
	if (s == NULL)
		return;

	CHECK(registry_stop(id + 1000, STOP_KILLED) == -1);
	CHECK(atomic_load(&s->stop) == STOP_NONE);
	CHECK(registry_stop(id, STOP_KILLED) == 0);
	CHECK(atomic_load(&s->stop) == STOP_KILLED);
	/* The read side is shut: a blocked reader would return at once. */
	CHECK(recv(sv[0], &b, 1, MSG_DONTWAIT) == 0);
	/* The write side is not: close_notify can still go out. */
	CHECK(send(sv[0], "x", 1, MSG_NOSIGNAL) == 1);

	registry_stop_all(STOP_SHUTDOWN);
	CHECK(atomic_load(&s->stop) == STOP_SHUTDOWN);

	pthread_mutex_lock(&s->lock);
	close(sv[0]);
	s->fd = -1;
	pthread_mutex_unlock(&s->lock);
	close(sv[1]);
	registry_release(s, REASON_KILLED, 1);
	/* A released session cannot be stopped. */
	CHECK(registry_stop(id, STOP_KILLED) == -1);
}

static void
test_hs_failures(void)
{
	struct proto_counters	c;
	uint64_t		n;

	registry_count_hs_failure("unknown-ca");
	registry_count_hs_failure("unknown-ca");
	registry_count_hs_failure("handshake-timeout");
	registry_counters(&c);
	CHECK(tally_get(&c.handshake_failures, "unknown-ca", &n) == 0 &&
	    n == 2);
	CHECK(tally_get(&c.handshake_failures, "handshake-timeout", &n) ==
	    0 && n == 1);
}

static void
setup(void)
{
	if (registry_init(NSLOTS, HISTORY) == -1) {
		fprintf(stderr, "registry_init failed\n");
		exit(1);
	}
	registry_set_notify(count_notify);
}

static void
test_setup(void)
{
	setup();
	CHECK(registry_size() == NSLOTS);
}

TEST_MAIN("daemon_registry",
    TEST(test_setup),
    TEST(test_claim_release),
    TEST(test_full),
    TEST(test_ring_wrap),
    TEST(test_stop),
    TEST(test_hs_failures))
