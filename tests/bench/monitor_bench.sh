#!/bin/bash
# tlsmon under load (prints figures; never passes or fails):
#   1. 10,000 idle sessions: tlsmon's CPU over 30 s, and how long
#      End (scroll to the bottom) and a filter take to show on screen;
#   2. a stream of full handshakes (connect, handshake, close) at the
#      daemon's full rate for 20 s: tlsmon's CPU, and whether its header
#      agrees with the daemon's accepted count once the stream stops.
#
#   BENCH_SESSIONS=N   sessions for part 1 (default 10000)
#   BENCH_SECONDS=S    CPU sampling window for part 1 (default 30)
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$TOP/build}
N=${BENCH_SESSIONS:-10000}
SECS=${BENCH_SECONDS:-30}
T=$(mktemp -d /tmp/tlsecho-monbench.XXXXXX)
SOCK=tlsmon-bench-$$
PIDS=""

cleanup() {
	tmux -L "$SOCK" kill-server 2>/dev/null
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((N + 100)) ] || {
	echo "monitor_bench: need $((N + 100)) descriptors, have $(ulimit -n)"
	N=$(( $(ulimit -n) - 200 ))
	echo "monitor_bench: using $N sessions"
}

# cpu_ticks PID: utime+stime of one process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
screen() { tmux -L "$SOCK" capture-pane -p -t 0; }
# wait_screen SECONDS REGEX: polls the screen; prints the ms it took.
wait_screen() {
	local start end
	start=$(now_ms)
	end=$((start + $1 * 1000))
	while ! screen | grep -Eq -- "$2"; do
		[ "$(now_ms)" -ge "$end" ] && { echo timeout; return 1; }
		sleep 0.01
	done
	echo $(( $(now_ms) - start ))
}

"$BIN/tlscert" self --host localhost,127.0.0.1 --cert "$T/s.pem" \
    --key "$T/s.key" >/dev/null || exit 1
"$BIN/tlsechod" --listen 127.0.0.1:0 --cert "$T/s.pem" --key "$T/s.key" \
    --stats-socket "$T/stats.sock" --max-conns $((N + 1000)) \
    --idle-timeout 10m --log-level warn 2>"$T/d.log" &
DAEMON=$!
PIDS="$PIDS $DAEMON"
for _ in $(seq 100); do
	[ -S "$T/stats.sock" ] && break
	sleep 0.05
done
# The port: the daemon logs nothing at warn; ask the stats socket.
PORT=$(printf 'snapshot\n' | timeout 5 socat -t 2 - "UNIX-CONNECT:$T/stats.sock" |
    python3 -c 'import json,sys
for l in sys.stdin:
    o = json.loads(l)
    if o["type"] == "hello":
        print(o["listen"][0].rsplit(":", 1)[1]); break')
[ -n "$PORT" ] || { echo "monitor_bench: daemon did not start"; cat "$T/d.log"; exit 1; }

tmux -L "$SOCK" -f /dev/null new-session -d -x 200 -y 50 \
    "$BIN/tlsmon -s $T/stats.sock"
MON=$(tmux -L "$SOCK" display -p -t 0 '#{pane_pid}')
wait_screen 10 'sessions 0/' >/dev/null || { echo "tlsmon did not start"; exit 1; }

echo "== tlsmon with $N idle sessions ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
"$BIN/bench/loadgen" idle 127.0.0.1 "$PORT" --conns "$N" --threads 8 \
    --duration $((SECS + 120)) --insecure >"$T/idle.out" 2>"$T/idle.err" &
LOADGEN=$!
PIDS="$PIDS $LOADGEN"
t0=$(now_ms)
c0=$(cpu_ticks "$MON")
ms=$(wait_screen 180 "sessions $N/") || { echo "sessions never reached $N: $(screen | head -3)"; exit 1; }
c1=$(cpu_ticks "$MON")
open_s=$(( ($(now_ms) - t0) / 1000 ))
echo "opening:   $N sessions in ${open_s}s; tlsmon CPU $(( (c1 - c0) * 1000 / HZ )) ms while they opened"

sleep 2
c0=$(cpu_ticks "$MON")
sleep "$SECS"
c1=$(cpu_ticks "$MON")
cpu_ms=$(( (c1 - c0) * 1000 / HZ ))
echo "steady:    tlsmon CPU ${cpu_ms} ms over ${SECS}s = $(awk "BEGIN{printf \"%.2f\", $cpu_ms / ($SECS * 10)}")% of one core"

tmux -L "$SOCK" send-keys -t 0 End
ms=$(wait_screen 10 "^ *$N ") && echo "scroll:    End shows session $N after ${ms} ms" ||
    echo "scroll:    End did not show session $N within 10 s"
tmux -L "$SOCK" send-keys -t 0 Home
wait_screen 10 '^ *1 ' >/dev/null
tmux -L "$SOCK" send-keys -t 0 / ':4444' Enter
ms=$(wait_screen 10 '127\.0\.0\.1:4444') && echo "filter:    '/:4444' shows its match after ${ms} ms" ||
    echo "filter:    no row for port 4444 (the kernel may not have used it)"
tmux -L "$SOCK" send-keys -t 0 Escape
kill "$LOADGEN" 2>/dev/null
wait "$LOADGEN" 2>/dev/null
wait_screen 60 'sessions 0/' >/dev/null

echo "== tlsmon under a stream of handshakes for 20 s"
c0=$(cpu_ticks "$MON")
d0=$(cpu_ticks "$DAEMON")
"$BIN/bench/loadgen" handshake 127.0.0.1 "$PORT" --threads 2 --duration 20 \
    --insecure >"$T/hs.out" 2>"$T/hs.err"
c1=$(cpu_ticks "$MON")
d1=$(cpu_ticks "$DAEMON")
rate=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' "$T/hs.out")
echo "stream:    $(cat "$T/hs.out")"
echo "stream:    tlsmon CPU $(( (c1 - c0) * 1000 / HZ )) ms, tlsechod CPU $(( (d1 - d0) * 1000 / HZ )) ms over 20 s (${rate:-?} handshakes/s)"
accepted=$(printf 'snapshot\n' | timeout 5 socat -t 2 - "UNIX-CONNECT:$T/stats.sock" |
    python3 -c 'import json,sys
for l in sys.stdin:
    o = json.loads(l)
    if o["type"] == "counters":
        print(o["accepted"]); break')
ms=$(wait_screen 10 "accepted $accepted ") &&
    echo "keeps up:  tlsmon shows accepted $accepted ${ms} ms after the stream ended" ||
    echo "keeps up:  NO - tlsmon shows '$(screen | grep -o 'accepted [0-9]*' | head -1)', daemon $accepted"
