/*
 * The registry: the single source of truth about sessions.
 *
 * A fixed array of slots sized by --max-conns, a ring of recently closed
 * sessions, and global counters. Session threads write their own slot;
 * the publisher only reads.
 *
 * LOCKING
 *   registry_lock   the free list, the closed ring and its sequence, the
 *                   tallies (handshake failures, closes, versions, ciphers).
 *   slot->lock      the slot's in_use, fd and info; held briefly on state
 *                   changes, never per echoed record. Taken before
 *                   registry_lock when both are needed.
 *   atomics         byte counters, last activity, the stop request, the
 *                   slot's version and the global counters.
 * Nothing does I/O under a lock except shutdown(2) of a slot's fd in
 * registry_stop(), which cannot block.
 */
#include <sys/socket.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/tlsechod.h"

/*
 * The closed ring holds at least this many sessions, whatever --history
 * says: watchers get their close events from it, and a burst of closes
 * between two scans must not lose any (snapshots list only --history).
 */
#define CLOSED_RING_MIN	1024

struct counters	 counters;

static pthread_mutex_t	 registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot	*slots;		/* [I] array */
static size_t		 nslots;	/* [I] */
static struct slot	*free_list;	/* [R] */
static _Atomic uint64_t	 next_id = 1;

static struct proto_session *closed_ring;	/* [R] */
static size_t		 closed_cap;		/* [I] */
static uint64_t		 closed_seq;		/* [R] closes so far */

static struct proto_tally tally_hs_failures;	/* [R] */
static struct proto_tally tally_closes;		/* [R] */
static struct proto_tally tally_versions;	/* [R] */
static struct proto_tally tally_ciphers;	/* [R] */

static void		(*notify_fn)(void);	/* [I] once started */

static void
registry_notify(void)
{
	if (notify_fn != NULL)
		notify_fn();
}

void
registry_set_notify(void (*fn)(void))
{
	notify_fn = fn;
}

int
registry_init(size_t max_conns, size_t history)
{
	size_t	i;

	if ((slots = calloc(max_conns, sizeof(*slots))) == NULL)
		return -1;
	nslots = max_conns;
	for (i = nslots; i-- > 0;) {
		pthread_mutex_init(&slots[i].lock, NULL);
		slots[i].fd = -1;
		slots[i].next_free = free_list;
		free_list = &slots[i];
	}
	closed_cap = history > CLOSED_RING_MIN ? history : CLOSED_RING_MIN;
	if ((closed_ring = calloc(closed_cap, sizeof(*closed_ring))) == NULL)
		return -1;
	return 0;
}

size_t
registry_size(void)
{
	return nslots;
}

struct slot *
registry_slot(size_t i)
{
	return &slots[i];
}

/*
 * Copies the session in slot s, with its live byte counts and last
 * activity, into out and sets *version (when not NULL) to the slot's
 * version read with it. Returns 0, out untouched, when the slot is free.
 */
int
registry_read(struct slot *s, struct proto_session *out, unsigned *version)
{
	int	in_use;

	pthread_mutex_lock(&s->lock);
	in_use = s->in_use;
	if (version != NULL)
		*version = atomic_load(&s->version);
	if (in_use)
		*out = s->info;
	pthread_mutex_unlock(&s->lock);
	if (in_use) {
		out->bytes_in = atomic_load(&s->bytes_in);
		out->bytes_out = atomic_load(&s->bytes_out);
		out->last_activity_ms = atomic_load(&s->last_activity_ms);
	}
	return in_use;
}

/*
 * Takes a free slot for a new session on fd and gives it a fresh id; NULL
 * when every slot is in use (the caller rejects the connection). The
 * addresses are set before the slot is visible, so the first "open" a
 * watcher sees already names the peer.
 */
struct slot *
registry_claim(uint64_t *idp, int fd, const char *peer, const char *local)
{
	struct slot	*s;

	pthread_mutex_lock(&registry_lock);
	if ((s = free_list) != NULL)
		free_list = s->next_free;
	pthread_mutex_unlock(&registry_lock);
	if (s == NULL)
		return NULL;

	pthread_mutex_lock(&s->lock);
	memset(&s->info, 0, sizeof(s->info));
	s->info.id = *idp = atomic_fetch_add(&next_id, 1);
	s->info.state = PROTO_STATE_HANDSHAKE;
	s->info.started_ms = time_real_ms();
	s->info.handshake_ms = -1;
	snprintf(s->info.peer, sizeof(s->info.peer), "%s", peer);
	snprintf(s->info.local, sizeof(s->info.local), "%s", local);
	s->fd = fd;
	s->in_use = 1;
	atomic_store(&s->stop, STOP_NONE);
	atomic_store(&s->bytes_in, 0);
	atomic_store(&s->bytes_out, 0);
	atomic_store(&s->last_activity_ms, s->info.started_ms);
	atomic_fetch_add(&s->version, 1);
	pthread_mutex_unlock(&s->lock);

	atomic_fetch_add(&counters.accepted, 1);
	atomic_fetch_add(&counters.active, 1);
	registry_notify();
	return s;
}

/*
 * Copies the field groups named by fields (state, TLS, peer certificate)
 * from info into the slot. Addresses are set once, by registry_claim().
 */
void
registry_set_info(struct slot *s, const struct proto_session *info,
    uint32_t fields)
{
	pthread_mutex_lock(&s->lock);
	if (fields & PROTO_F_STATE)
		s->info.state = info->state;
	if (fields & PROTO_F_TLS) {
		s->info.handshake_ms = info->handshake_ms;
		memcpy(s->info.version, info->version,
		    sizeof(s->info.version));
		memcpy(s->info.cipher, info->cipher, sizeof(s->info.cipher));
		s->info.cipher_bits = info->cipher_bits;
		memcpy(s->info.sni, info->sni, sizeof(s->info.sni));
		memcpy(s->info.alpn, info->alpn, sizeof(s->info.alpn));
		s->info.resumed = info->resumed;
	}
	if (fields & PROTO_F_PEER_CERT) {
		s->info.has_peer_cert = info->has_peer_cert;
		memcpy(s->info.peer_subject, info->peer_subject,
		    sizeof(s->info.peer_subject));
		memcpy(s->info.peer_issuer, info->peer_issuer,
		    sizeof(s->info.peer_issuer));
		memcpy(s->info.peer_pin, info->peer_pin,
		    sizeof(s->info.peer_pin));
		s->info.peer_not_after = info->peer_not_after;
	}
	atomic_fetch_add(&s->version, 1);
	pthread_mutex_unlock(&s->lock);
	registry_notify();
}

/* Counts echoed bytes: atomics only, no lock, no wake-up. */
void
registry_add_bytes(struct slot *s, uint64_t in, uint64_t out)
{
	if (in)
		atomic_fetch_add_explicit(&s->bytes_in, in,
		    memory_order_relaxed);
	if (out)
		atomic_fetch_add_explicit(&s->bytes_out, out,
		    memory_order_relaxed);
	atomic_store_explicit(&s->last_activity_ms, time_real_ms(),
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&counters.bytes_in, in, memory_order_relaxed);
	atomic_fetch_add_explicit(&counters.bytes_out, out,
	    memory_order_relaxed);
}

/*
 * Ends a session's slot: records it in the closed ring with its reason,
 * counts the reason, and returns the slot to the free list. The caller
 * has already closed the fd.
 */
void
registry_release(struct slot *s, const char *reason, int64_t ended_ms)
{
	struct proto_session	*rec;

	pthread_mutex_lock(&s->lock);
	s->fd = -1;
	s->info.state = PROTO_STATE_CLOSED;
	s->info.bytes_in = atomic_load(&s->bytes_in);
	s->info.bytes_out = atomic_load(&s->bytes_out);
	s->info.last_activity_ms = atomic_load(&s->last_activity_ms);
	snprintf(s->info.reason, sizeof(s->info.reason), "%s", reason);
	s->info.ended_ms = ended_ms;
	s->info.fields = PROTO_F_ALL;

	pthread_mutex_lock(&registry_lock);
	rec = &closed_ring[closed_seq % closed_cap];
	*rec = s->info;
	closed_seq++;
	proto_tally_add(&tally_closes, reason, 1);
	s->in_use = 0;
	atomic_fetch_add(&s->version, 1);
	s->next_free = free_list;
	free_list = s;
	pthread_mutex_unlock(&registry_lock);
	pthread_mutex_unlock(&s->lock);

	atomic_fetch_sub(&counters.active, 1);
	registry_notify();
}

static int	registry_stop_matching(uint64_t, enum stop_request);

/*
 * Asks session id to stop: sets its stop request and shuts its socket's
 * read side so a blocked read returns at once. Returns 0, or -1 when no
 * open session has that id.
 */
int
registry_stop(uint64_t id, enum stop_request why)
{
	return registry_stop_matching(id, why);
}

/* The same for every open session. */
void
registry_stop_all(enum stop_request why)
{
	registry_stop_matching(0, why);
}

/* Stops the session with id, or every session for id 0 (ids start at 1). */
static int
registry_stop_matching(uint64_t id, enum stop_request why)
{
	size_t	i;
	int	found = -1;

	for (i = 0; i < nslots; i++) {
		pthread_mutex_lock(&slots[i].lock);
		if (slots[i].in_use && (id == 0 || slots[i].info.id == id)) {
			atomic_store(&slots[i].stop, why);
			if (slots[i].fd != -1)
				shutdown(slots[i].fd, SHUT_RD);
			found = 0;
		}
		pthread_mutex_unlock(&slots[i].lock);
		if (found == 0 && id != 0)
			break;
	}
	return found;
}

void
registry_count_rejected(void)
{
	atomic_fetch_add(&counters.rejected, 1);
	registry_notify();
}

void
registry_count_hs_failure(const char *reason)
{
	pthread_mutex_lock(&registry_lock);
	proto_tally_add(&tally_hs_failures, reason, 1);
	pthread_mutex_unlock(&registry_lock);
}

/* Counts a completed handshake's version and cipher suite. */
void
registry_note_tls(const char *version, const char *cipher)
{
	pthread_mutex_lock(&registry_lock);
	proto_tally_add(&tally_versions, version, 1);
	proto_tally_add(&tally_ciphers, cipher, 1);
	pthread_mutex_unlock(&registry_lock);
}

/*
 * Copies the closed sessions numbered from *from up to (not including)
 * to, oldest first, at most max, never older than the ring holds, into
 * out; advances *from past them. Returns how many were copied.
 */
size_t
registry_closed_copy(uint64_t *from, uint64_t to, struct proto_session *out,
    size_t max)
{
	size_t		n = 0;
	uint64_t	i;

	pthread_mutex_lock(&registry_lock);
	if (to > closed_seq)
		to = closed_seq;
	i = *from;
	if (to - i > closed_cap || i > to)
		i = to - (to < closed_cap ? to : closed_cap);
	while (i < to && n < max) {
		out[n++] = closed_ring[i % closed_cap];
		i++;
	}
	*from = i;
	pthread_mutex_unlock(&registry_lock);
	return n;
}

/* How many sessions have closed so far. */
uint64_t
registry_closed_seq(void)
{
	uint64_t	seq;

	pthread_mutex_lock(&registry_lock);
	seq = closed_seq;
	pthread_mutex_unlock(&registry_lock);
	return seq;
}

/* Fills every counter group of c. */
void
registry_counters(struct proto_counters *c)
{
	memset(c, 0, sizeof(*c));
	c->fields = PROTO_C_ALL;
	c->time_ms = time_real_ms();
	c->accepted = atomic_load(&counters.accepted);
	c->active = atomic_load(&counters.active);
	c->rejected = atomic_load(&counters.rejected);
	c->bytes_in = atomic_load(&counters.bytes_in);
	c->bytes_out = atomic_load(&counters.bytes_out);
	c->subscribers = atomic_load(&counters.subscribers);
	c->subscribers_dropped = atomic_load(&counters.subscribers_dropped);
	c->subscribers_resynced = atomic_load(&counters.subscribers_resynced);
	c->commands_oversized = atomic_load(&counters.commands_oversized);
	pthread_mutex_lock(&registry_lock);
	c->handshake_failures = tally_hs_failures;
	c->closes = tally_closes;
	c->versions = tally_versions;
	c->ciphers = tally_ciphers;
	pthread_mutex_unlock(&registry_lock);
}
