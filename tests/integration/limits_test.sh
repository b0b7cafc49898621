#!/bin/bash
# tlsechod's limits against misbehaving and excess clients: a handshake
# sent one byte at a time is cut at the handshake deadline, a client that
# never reads is cut at the send limit while another echoes on,
# --max-conns refuses the extra connection and serves the rest, a
# plaintext HTTP request gets a 400 and the reason not-tls, and SIGTERM
# closes sessions with close_notify and exits 0.

. "$(dirname "$0")/lib.sh"

make_pki
start_daemon --handshake-timeout 2s --send-timeout 1s --max-conns 3 \
    --idle-timeout 30s
PIN=$(tlscert pin "$T/server.pem")

# Slow handshake: one byte every half second, cut at the 2 s deadline.
rawclient slow-hello "$PORT" 15 >"$T/slow.out" || fail "slow client: $(cat "$T/slow.out")"
secs=$(sed -n 's/closed after \([0-9.]*\)s/\1/p' "$T/slow.out")
python3 -c "import sys; sys.exit(0 if 1.8 <= $secs < 6 else 1)" ||
    fail "slow handshake closed after ${secs}s; the deadline is 2s"
wait_until 5 grep -q 'reason=handshake-timeout' "$DAEMON_LOG" ||
    fail "no reason=handshake-timeout logged"
ok "one byte at a time: cut after ${secs}s (deadline 2s), reason=handshake-timeout"

# A client that never reads, while another echoes 2 MB alongside it.
random_file "$T/in.bin" 2000000
rawclient no-read "$PORT" 20 >"$T/noread.out" &
NOREAD=$!
track $NOREAD
tlsecho --pin "$PIN" --wait 2s 127.0.0.1 "$PORT" <"$T/in.bin" \
    >"$T/out.bin" 2>"$T/c.log" || fail "echo beside a stuck client: $(cat "$T/c.log")"
cmp -s "$T/in.bin" "$T/out.bin" || fail "echo beside a stuck client is not exact"
wait "$NOREAD" || fail "the stuck client was not cut off: $(cat "$T/noread.out")"
wait_until 5 grep -q 'reason=send-timeout' "$DAEMON_LOG" ||
    fail "no reason=send-timeout logged"
ok "never-reading client $(cat "$T/noread.out"); reason=send-timeout; the other echoed 2 MB exactly"

# A client that reads a trickle (4 KiB every 0.4 s): each bit of
# progress restarts SO_SNDTIMEO, yet a 16 KiB record it does not take
# within the 1 s send limit still ends the session.
sends=$(grep -c 'reason=send-timeout' "$DAEMON_LOG")
rawclient slow-read "$PORT" 30 >"$T/slowread.out" ||
    fail "the trickle reader was not cut off: $(cat "$T/slowread.out")"
wait_until 5 log_count_at_least 'reason=send-timeout' $((sends + 1)) ||
    fail "no second reason=send-timeout logged"
ok "trickle reader $(cat "$T/slowread.out"); reason=send-timeout"

# --max-conns 3: three held sessions, the fourth is accepted and closed.
opens=$(grep -c 'event=session-open' "$DAEMON_LOG")
for i in 1 2 3; do
	hold_stdin "s$i"
	tlsecho --pin "$PIN" 127.0.0.1 "$PORT" <"$T/hold.s$i" >"$T/held$i.out" 2>&1 &
	echo $! >"$T/held$i.pid"
	track $!
done
wait_until 10 log_count_at_least 'event=session-open' $((opens + 3)) ||
    fail "three held sessions did not open"
if echo extra | tlsecho --pin "$PIN" --wait 1s 127.0.0.1 "$PORT" \
    >"$T/extra.out" 2>"$T/extra.log"; then
	[ -s "$T/extra.out" ] && fail "the connection over --max-conns was served"
fi
wait_until 5 grep -q 'event=reject .*reason=max-conns' "$DAEMON_LOG" ||
    fail "no event=reject reason=max-conns logged"
stats snapshot >"$T/snap.json"
python3 - "$T/snap.json" <<'PY' || fail "snapshot counters: $(cat "$T/snap.json")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
c = [l for l in lines if l["type"] == "counters"][0]
sessions = [l for l in lines if l["type"] == "session"]
assert c["rejected"] == 1, c
assert c["active"] == 3, c
assert len(sessions) == 3, sessions
PY
ok "--max-conns 3: the fourth connection is refused and counted"

# The rest are still served: end one held session, a new client echoes.
closes=$(grep -c 'event=session-close' "$DAEMON_LOG")
release_stdin s1
wait_until 10 log_count_at_least 'event=session-close' $((closes + 1)) ||
    fail "the released session did not close"
echo again | tlsecho --pin "$PIN" --wait 2s 127.0.0.1 "$PORT" >"$T/again.out" 2>"$T/again.log" ||
    fail "no service after the refusal: $(cat "$T/again.log")"
[ "$(cat "$T/again.out")" = again ] || fail "echo after the refusal: '$(cat "$T/again.out")'"
ok "after the refusal, sessions under the limit are served"

# Out of descriptors: a daemon limited to 48 open files gets EMFILE on
# accept once silent connections hold its descriptors; it backs off,
# keeps running, and serves again when they go.  80 connections are
# more than 48 whatever descriptors the daemon inherited.
(ulimit -n 48 && exec "$BIN/tlsechod" --listen 127.0.0.1:0 \
    --cert "$T/server.pem" --key "$T/server.key" --stats-socket none \
    >"$T/fd.log" 2>&1) &
FD_PID=$!
track "$FD_PID"
wait_until 10 grep -q 'event=listening' "$T/fd.log" || fail "fd-limited daemon: $(cat "$T/fd.log")"
FD_PORT=$(sed -n 's/.*event=listening addr=[^ ]*:\([0-9]*\).*/\1/p' "$T/fd.log")
held=""
for i in $(seq 80); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$FD_PORT" || fail "connection $i"
	held="$held $fd"
done
wait_until 10 grep -q 'event=accept-failed action=backoff' "$T/fd.log" ||
    fail "no EMFILE backoff logged: $(tail -n 3 "$T/fd.log")"
for fd in $held; do exec {fd}>&-; done
echo back | tlsecho --pin "$PIN" --wait 2s 127.0.0.1 "$FD_PORT" >"$T/fd.out" 2>"$T/fd.err" ||
    fail "no service after EMFILE: $(cat "$T/fd.err")"
[ "$(cat "$T/fd.out")" = back ] || fail "echo after EMFILE gave '$(cat "$T/fd.out")'"
kill -0 "$FD_PID" || fail "the fd-limited daemon died"
ok "out of descriptors: accept backs off ($(grep -c 'accept-failed' "$T/fd.log") times), then serves again"

# Plaintext HTTP to the TLS port: a 400 telling it to use TLS.
printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' |
    timeout 10 socat -t 5 - "TCP:127.0.0.1:$PORT" >"$T/http.out" 2>&1 || true
assert_contains "$T/http.out" "HTTP/1.1 400 Bad Request"
assert_contains "$T/http.out" "speaks TLS"
wait_until 5 grep -q 'reason=not-tls' "$DAEMON_LOG" || fail "no reason=not-tls logged"
ok "plain HTTP gets '$(head -n 1 "$T/http.out" | tr -d '\r')' and reason=not-tls"

# SIGTERM: held sessions are closed with close_notify (their clients
# exit 0 on a clean close, silently), the daemon exits 0 within the
# drain time.
start=$(date +%s%N)
stop_daemon || fail "tlsechod exited $? on SIGTERM"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 6000 ] || fail "SIGTERM took ${ms}ms"
wait_until 5 grep -q 'reason=shutdown' "$DAEMON_LOG" || fail "no reason=shutdown logged"
assert_contains "$DAEMON_LOG" "event=stopped"
[ -e "$STATS" ] && fail "the stats socket was left behind"
for i in 2 3; do
	wait "$(cat "$T/held$i.pid")" ||
	    fail "held client $i exited $? on shutdown: $(cat "$T/held$i.out")"
	[ -s "$T/held$i.out" ] && fail "held client $i saw: $(cat "$T/held$i.out")"
done
ok "SIGTERM drained in ${ms}ms, exit 0, reason=shutdown, socket removed"
