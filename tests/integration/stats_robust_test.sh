#!/bin/bash
# The stats socket under abuse, against the real tlsechod: a subscriber
# stopped with SIGSTOP while 16 clients echo at full speed costs the
# echoes nothing, the daemon's memory stays bounded, and the subscriber is
# resynchronised, then dropped, and counted; 100 subscribers at once; a
# 1 MiB line without a newline; subscriber 257 refused; random bytes.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/stats_lib.sh"

STATSCLIENT="$(dirname "$0")/../tools/statsclient.py"
NCLIENTS=16
SIZE=4000000
# Growth of the daemon's resident memory allowed across the run (about
# 2 MiB is typical): 16 session threads with their TLS state and echo
# buffers, the allocator's arenas; a fraction of the 64 MB echoed, and
# independent of how much a stopped subscriber failed to read.
RSS_BOUND_KB=16384

vmrss() { awk '/^VmRSS:/ {print $2}' "/proc/$DAEMON_PID/status"; }
counter() { q "$1" "last(\"counters\")[\"$2\"]"; }

make_pki
start_daemon --stats-buffer 4096 --counters-interval 10ms

# ------------------------------------------------------------ SIGSTOP
watcher lag
kill -STOP "$PID_lag"
rss0=$(vmrss)
random_file "$T/in.bin" "$SIZE"
for i in $(seq 1 $NCLIENTS); do
	ln -sf in.bin "$T/in.$i"
done
start=$(date +%s%N)
parallel_echo "$NCLIENTS"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
rss1=$(vmrss)
ok "$NCLIENTS x $SIZE bytes echoed byte-exact in ${ms}ms with a stopped subscriber"

# The stopped subscriber fell behind: resynchronised once, then dropped.
wait_until 20 sh -c "printf 'snapshot\n' | timeout 5 socat -t 2 - \
    UNIX-CONNECT:$STATS >$T/snap.lag; python3 $JSONL $T/snap.lag \
    'last(\"counters\")[\"subscribers_dropped\"] >= 1' | grep -q true" ||
    fail "the stopped subscriber was not dropped: $(grep counters "$T/snap.lag")"
resynced=$(counter snap.lag subscribers_resynced)
dropped=$(counter snap.lag subscribers_dropped)
[ "$resynced" -ge 1 ] || fail "subscribers_resynced=$resynced"
grep -q 'event=subscriber-resync' "$DAEMON_LOG" || fail "no resync logged"
grep -q 'event=subscriber-dropped.*reason=lagging' "$DAEMON_LOG" ||
    fail "no drop logged"
rss2=$(vmrss)
growth=$((rss2 - rss0))
# ASan's quarantine and TSan's shadow memory make RSS say nothing about
# the daemon's own allocations: report it, bound it in plain builds.
if grep -aq -e __asan_init -e __tsan_init "$BIN/tlsechod"; then
	bound="not checked under a sanitizer"
else
	[ "$growth" -lt "$RSS_BOUND_KB" ] ||
	    fail "VmRSS grew ${growth} kB (${rss0} -> ${rss1} -> ${rss2}), bound ${RSS_BOUND_KB} kB"
	bound="bound +${RSS_BOUND_KB} kB"
fi
ok "stopped subscriber: resynced=$resynced dropped=$dropped; VmRSS ${rss0} -> ${rss1} -> ${rss2} kB ($bound)"

# Resumed, it reads what the kernel held (whole lines), then the end of
# the connection.
kill -CONT "$PID_lag"
wait_until 10 gone "$PID_lag" || fail "the dropped subscriber's socat still runs"
[ "$(python3 -c 'import json, sys
for l in open(sys.argv[1], "rb"): json.loads(l)
print("whole")' "$T/lag.out")" = whole ] || fail "the dropped subscriber got a cut line"
ok "resumed subscriber read $(wc -l <"$T/lag.out") whole lines, then EOF"

# One that lags and then reads again gets the resync notice, a fresh
# snapshot, and the watch goes on.
timeout 30 python3 "$STATSCLIENT" resync "$STATS" >"$T/resync.txt" 2>&1 ||
    fail "resync: $(cat "$T/resync.txt")"
assert_contains "$T/resync.txt" "error: resync: you fell more than 4096 bytes behind"
assert_contains "$T/resync.txt" "then: counters"
ok "a lagging subscriber that reads again: $(head -n 1 "$T/resync.txt" | cut -c1-60)..., snapshot, events"

# ------------------------------------------------------------ 100 at once
python3 "$STATSCLIENT" many "$STATS" 100 >"$T/many.txt" 2>"$T/many.err" &
MPID=$!
track $MPID
wait_until 20 grep -q '^ready' "$T/many.txt" ||
    fail "100 subscribers did not all get a snapshot: $(cat "$T/many.txt" "$T/many.err")"
echo hi | tlsecho --ca "$T/ca.pem" --wait 200ms 127.0.0.1 "$PORT" >/dev/null ||
    fail "echo with 100 subscribers"
wait "$MPID" || fail "subscribers: $(cat "$T/many.txt" "$T/many.err")"
assert_contains "$T/many.txt" "ready 100 subscribers=100"
assert_contains "$T/many.txt" "open 100"
ok "100 concurrent subscribers: all got hello and snapshot, all saw the open"

# ------------------------------------------------------------ oversized
timeout 20 python3 "$STATSCLIENT" oversized "$STATS" >"$T/big.txt" 2>&1 ||
    fail "oversized: $(cat "$T/big.txt")"
assert_contains "$T/big.txt" "error: command line longer than 4096 bytes; it was cut"
assert_contains "$T/big.txt" "commands_oversized=1"
ok "1 MiB without a newline: $(head -n 1 "$T/big.txt"); then snapshot answered, counted"

# ------------------------------------------------------------ full
timeout 60 python3 "$STATSCLIENT" full "$STATS" 256 >"$T/full.txt" 2>&1 ||
    fail "256 subscribers and one more: $(cat "$T/full.txt")"
assert_contains "$T/full.txt" "refused: too many subscribers; try again later"
assert_contains "$T/full.txt" "dropped +1"
ok "subscriber 257 is told 'too many subscribers', closed and counted; then served again"

# ------------------------------------------------------------ random bytes
for i in 1 2 3 4 5; do
	head -c 64K /dev/urandom | timeout 10 socat -t 1 - \
	    "UNIX-CONNECT:$STATS" >"$T/rand$i.out" 2>"$T/rand$i.err"
	kill -0 "$DAEMON_PID" || fail "the daemon died on random bytes"
	[ "$(q "rand$i.out" 'len(T("error")) > 0')" = true ] ||
	    fail "no error for random bytes: $(head -c 300 "$T/rand$i.out")"
	[ "$(q "rand$i.out" 'all(o["type"] in ("hello", "error") for o in L)')" = true ] ||
	    fail "random bytes got more than errors: $(grep -v '"error"' "$T/rand$i.out" | head -n 3)"
done
errors=$(cat "$T"/rand*.out | grep -c '"type":"error"')
stats snapshot >"$T/after"
assert_contains "$T/after" '"type":"end"'
echo still | tlsecho --ca "$T/ca.pem" --wait 200ms 127.0.0.1 "$PORT" >"$T/still" ||
    fail "echo after random bytes"
[ "$(cat "$T/still")" = still ] || fail "echo after random bytes"
ok "5 x 64 KiB of random bytes: $errors error lines, daemon still serves"

# ------------------------------------------------------------ half-closed
# "echo snapshot | socat" shuts its write side at once; a snapshot far
# larger than the socket buffer (1200 closed sessions: not-tls probes)
# must still arrive whole.
for i in $(seq 1200); do
	exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf 'x' >&3 && exec 3>&-
done
wait_until 20 log_count_at_least 'reason=not-tls' 1200 ||
    fail "the 1200 probes did not all close"
printf 'snapshot\n' | timeout 20 socat -t 10 - "UNIX-CONNECT:$STATS" >"$T/halfclosed.out"
python3 - "$T/halfclosed.out" <<'PY' || fail "a half-closed snapshot was cut: $(tail -c 200 "$T/halfclosed.out")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines[-1]["type"] == "end", lines[-1]
assert len([l for l in lines if l["type"] == "closed"]) >= 1000
PY
ok "a $(wc -c <"$T/halfclosed.out")-byte snapshot through a half-closed socket arrives whole"

stop_daemon || fail "daemon exit status $?"
