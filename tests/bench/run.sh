#!/bin/sh
# Benchmarks tlsechod side by side with stunnel4 and socat (make bench).
#
# The three servers run on loopback with the same ECDSA P-256 certificate
# made by tlscert; tests/bench/loadgen drives them one at a time,
# interleaved (the order rotates every round), and the server's own CPU
# and memory are read from /proc for its process tree before and after
# each run. On a 2-core machine the client shares the CPUs, so the rate
# mostly measures the client: the per-unit server cost is the figure that
# compares servers. Medians over the rounds, and each figure as a ratio to
# the best peer, go to stdout and to bench-results/<date>.txt.
#
# Peers:
#   stunnel4  its default thread-per-connection model, forwarding to
#             tests/bench/echod, a one-thread epoll echo started apart,
#             so stunnel's tree is stunnel alone: it pays for TLS and for
#             relaying, not for the echo, and no process is forked per
#             connection (exec = /bin/cat would put a fork+exec and a cat
#             process in every handshake and idle session, which is not
#             TLS work). This leaves stunnel a small advantage.
#   socat     OPENSSL-LISTEN,fork ... PIPE: a process per connection; its
#             tree is the parent and every child, the exited ones through
#             the parent's cutime/cstime.
#
# Knobs (environment): BENCH_ROUNDS (3), BENCH_SECONDS per run (3),
# BENCH_IDLE sessions (2000; 10000 for the full target), BENCH_IDLE_FORK
# cap for socat's process per session (1000), BENCH_PP_CONNS ping-pong
# connections (4), BENCH_BULK_STREAMS (4), BENCH_HS_THREADS (2),
# BENCH_SERVERS ("tlsechod stunnel socat").
set -u

BUILD=${BUILD:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$TOP/$BUILD
LG=$BIN/bench/loadgen
PROCSTAT="python3 $TOP/tests/bench/procstat.py"
ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECONDS:-3}
IDLE=${BENCH_IDLE:-2000}
IDLE_FORK=${BENCH_IDLE_FORK:-1000}
PP_CONNS=${BENCH_PP_CONNS:-4}
BULK_STREAMS=${BENCH_BULK_STREAMS:-4}
HS_THREADS=${BENCH_HS_THREADS:-2}
SERVERS=${BENCH_SERVERS:-tlsechod stunnel socat}

for f in "$BIN/tlsechod" "$BIN/tlscert" "$LG" "$BIN/bench/echod"; do
	[ -x "$f" ] || { echo "bench: $f missing: run make bench" >&2; exit 1; }
done
for p in stunnel4 socat openssl python3; do
	command -v $p >/dev/null 2>&1 ||
	    { echo "bench: $p missing: run make bench-deps" >&2; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/tlsecho-bench.XXXXXX")
PIDS=""
cleanup() {
	status=$?
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $PIDS; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.2
		done
		kill -9 "$p" 2>/dev/null
	done
	rm -rf "$T"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
track() { PIDS="$PIDS $1"; }

# Every held idle session is a descriptor in the client and in the
# server (two in stunnel: client and backend).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
NOFILE=$(ulimit -n)
[ "$NOFILE" = unlimited ] && NOFILE=1048576

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

"$BIN/tlscert" self --host localhost,127.0.0.1 --cert "$T/cert.pem" \
    --key "$T/key.pem" >/dev/null || exit 1

# wait_ready PORT: a few handshakes succeed (also warms the server up).
wait_ready() {
	for _ in $(seq 1 100); do
		"$LG" handshake 127.0.0.1 "$1" --ca "$T/cert.pem" --count 20 \
		    --duration 5 2>/dev/null | grep -q ' errors=0' && return 0
		sleep 0.1
	done
	echo "bench: nothing answers TLS on port $1" >&2
	return 1
}

start_tlsechod() {
	P_tlsechod=$(free_port)
	"$BIN/tlsechod" --listen "127.0.0.1:$P_tlsechod" \
	    --cert "$T/cert.pem" --key "$T/key.pem" \
	    --stats-socket "$T/stats.sock" --log-level warn \
	    --max-conns $((IDLE + 256)) 2>"$T/tlsechod.log" &
	PID_tlsechod=$!
	track $PID_tlsechod
	wait_ready "$P_tlsechod"
}

start_stunnel() {
	rm -f "$T/echod.port"
	"$BIN/bench/echod" "$T/echod.port" &
	PID_echod=$!
	track $PID_echod
	for _ in $(seq 1 50); do
		[ -s "$T/echod.port" ] && break
		sleep 0.1
	done
	P_stunnel=$(free_port)
	cat >"$T/stunnel.conf" <<EOF
foreground = yes
pid =
syslog = no
debug = 3
output = $T/stunnel.log
socket = l:TCP_NODELAY=1
socket = r:TCP_NODELAY=1
[echo]
accept = 127.0.0.1:$P_stunnel
connect = 127.0.0.1:$(cat "$T/echod.port")
cert = $T/cert.pem
key = $T/key.pem
EOF
	stunnel4 "$T/stunnel.conf" 2>>"$T/stunnel.log" &
	PID_stunnel=$!
	track $PID_stunnel
	wait_ready "$P_stunnel"
}

start_socat() {
	P_socat=$(free_port)
	socat "OPENSSL-LISTEN:$P_socat,bind=127.0.0.1,fork,reuseaddr,cert=$T/cert.pem,key=$T/key.pem,verify=0,nodelay" \
	    PIPE 2>"$T/socat.log" &
	PID_socat=$!
	track $PID_socat
	wait_ready "$P_socat"
}

# settle PID: wait (bounded) until a forking server's children are gone
# and reaped, so that their CPU is in the parent's cutime/cstime.
settle() {
	for _ in $(seq 1 100); do
		[ "$($PROCSTAT kids "$1")" -eq 0 ] && break
		sleep 0.1
	done
	sleep 0.3
}

RAW=$T/raw.txt
: >"$RAW"

# measure ROUND SERVER MODE [loadgen options]
measure() {
	round=$1 srv=$2 mode=$3
	shift 3
	eval "pid=\$PID_$srv port=\$P_$srv"
	settle "$pid"
	c0=$($PROCSTAT cpu "$pid")
	out=$("$LG" "$mode" 127.0.0.1 "$port" --ca "$T/cert.pem" \
	    --duration "$SECS" "$@" 2>>"$T/loadgen.log")
	settle "$pid"
	c1=$($PROCSTAT cpu "$pid")
	echo "round=$round server=$srv cpu_us=$((c1 - c0)) $out" >>"$RAW"
	echo "  $srv $mode: cpu_ms=$(( (c1 - c0) / 1000 )) $out" >&2
}

# restart SERVER: a fresh process, so that memory an earlier run freed
# but kept (malloc arenas) does not hide what new sessions cost.
restart() {
	eval "old=\$PID_$1"
	kill "$old" 2>/dev/null
	wait "$old" 2>/dev/null
	if [ "$1" = stunnel ]; then
		kill "$PID_echod" 2>/dev/null
		wait "$PID_echod" 2>/dev/null
	fi
	start_$1
}

# measure_idle ROUND SERVER: PSS per held session above the baseline of
# a freshly started server.
measure_idle() {
	round=$1 srv=$2
	restart "$srv" || return
	eval "pid=\$PID_$srv port=\$P_$srv"
	n=$IDLE
	case $srv in
	socat) [ "$n" -gt "$IDLE_FORK" ] && n=$IDLE_FORK ;;
	# stunnel allows NOFILE*125/256 clients and resets the rest
	stunnel) [ "$n" -gt $(( NOFILE * 125 / 256 - 64 )) ] &&
	    n=$(( NOFILE * 125 / 256 - 64 )) ;;
	esac
	[ "$n" -gt $((NOFILE - 64)) ] && n=$((NOFILE - 64))
	settle "$pid"
	p0=$($PROCSTAT pss "$pid")
	hold=$(( 5 + n / 1000 ))
	: >"$T/idle.err"
	"$LG" idle 127.0.0.1 "$port" --ca "$T/cert.pem" --conns "$n" \
	    --duration "$hold" >"$T/idle.out" 2>"$T/idle.err" &
	lg=$!
	track $lg
	ready=0
	for _ in $(seq 1 3000); do	# at most 300 s to open them
		grep -q 'event=idle-ready' "$T/idle.err" && { ready=1; break; }
		kill -0 $lg 2>/dev/null || break
		sleep 0.1
	done
	# Held sessions are idle: read PSS once the last one opened has
	# been quiet for 2 s (tlsechod gives back a quiet session's stack
	# pages after 1 s; the same wait for every server).
	[ "$ready" -eq 1 ] && sleep 2
	p1=$($PROCSTAT pss "$pid")
	wait $lg
	held=$(sed -n 's/.*event=idle-ready sessions=\([0-9]*\).*/\1/p' \
	    "$T/idle.err")
	[ "$ready" -eq 1 ] && [ "${held:-0}" -gt 0 ] || {
		echo "  $srv idle: not ready: $(cat "$T/idle.err")" >&2
		return
	}
	echo "round=$round server=$srv sessions=$held" \
	    "pss0_kib=$p0 pss1_kib=$p1 $(cat "$T/idle.out")" >>"$RAW"
	echo "  $srv idle: sessions=$held pss_kib_per_session=$(( (p1 - p0) / held ))" >&2
}

echo "bench: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" >&2
echo "bench: rounds=$ROUNDS seconds=$SECS idle=$IDLE (socat $IDLE_FORK) ulimit_n=$NOFILE" >&2

for srv in $SERVERS; do
	start_$srv || exit 1
done

# The floor for bulk: AES-GCM over 16 KiB blocks on one core.
for c in aes-128-gcm aes-256-gcm; do
	k=$(openssl speed -evp $c -bytes 16384 -seconds 2 2>/dev/null |
	    awk '/^[Aa][Ee][Ss]-/ { v = $NF } END { sub(/k$/, "", v); print v }')
	echo "floor=$c kbytes_s=${k:-0}" >>"$RAW"
done

order=$SERVERS
for r in $(seq 1 "$ROUNDS"); do
	echo "bench: round $r of $ROUNDS ($order)" >&2
	for srv in $order; do
		measure "$r" "$srv" handshake --threads "$HS_THREADS"
	done
	for srv in $order; do
		measure "$r" "$srv" bulk --conns "$BULK_STREAMS"
	done
	for srv in $order; do
		measure "$r" "$srv" pingpong --conns "$PP_CONNS" --size 64
	done
	for srv in $order; do
		measure_idle "$r" "$srv"
	done
	# rotate: A B C, B C A, C A B, ...
	set -- $order
	first=$1
	shift
	order="$* $first"
done

mkdir -p "$TOP/bench-results"
OUTF=$TOP/bench-results/$(date +%Y-%m-%d-%H%M%S).txt
{
	echo "tlsecho benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(uname -sr)"
	echo "command: make bench (BENCH_ROUNDS=$ROUNDS BENCH_SECONDS=$SECS BENCH_IDLE=$IDLE BENCH_IDLE_FORK=$IDLE_FORK BENCH_PP_CONNS=$PP_CONNS BENCH_BULK_STREAMS=$BULK_STREAMS BENCH_HS_THREADS=$HS_THREADS)"
	echo "peers: $(stunnel4 -version 2>&1 | sed -n 's/^stunnel \([^ ]*\).*/stunnel \1/p' | head -n 1), $(socat -V 2>/dev/null | sed -n 's/^socat version \([^ ]*\).*/socat \1/p'), $(openssl version | cut -d' ' -f1-2)"
	echo
	python3 "$TOP/tests/bench/report.py" "$RAW"
	echo
	echo "raw runs:"
	sed 's/^/  /' "$RAW"
} >"$OUTF"
sed '/^raw runs:/,$d' "$OUTF"
echo "bench: written to ${OUTF#$TOP/}" >&2
if grep -q 'errors=[1-9]' "$RAW"; then
	echo "bench: some runs had errors (see the raw runs in the file)" >&2
fi
exit 0
