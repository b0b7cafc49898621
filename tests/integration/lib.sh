# Shared by the integration tests: a private folder, daemons killed by PID
# on every exit path, certificates made by tlscert, readiness by
# connecting, never by sleeping a fixed time.
#
#   . "$(dirname "$0")/lib.sh"
#   make_pki                      # $T/ca.pem server.pem/key client.pem/key
#   start_daemon [tlsechod options]   # sets DAEMON_PID, PORT, STATS
#   echo hi | tlsecho --ca "$T/ca.pem" 127.0.0.1 "$PORT"
#
# BIN points at the build folder (tests/run.sh sets it).

set -u
BIN=${BIN:-$(cd "$(dirname "$0")/../../build" && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/tlsecho-test.XXXXXX")
PIDS=""

tlsechod() { "$BIN/tlsechod" "$@"; }
tlsecho() { "$BIN/tlsecho" "$@"; }
tlscert() { "$BIN/tlscert" "$@"; }
tlsmon() { "$BIN/tlsmon" "$@"; }

cleanup() {
	status=$?
	for p in $PIDS; do
		kill -CONT "$p" 2>/dev/null
		kill "$p" 2>/dev/null
	done
	for p in $PIDS; do
		# give each a moment to drain, then insist
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.2
		done
		kill -9 "$p" 2>/dev/null
	done
	if [ "$status" -ne 0 ]; then
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "--- $f (last 40 lines)"
			tail -n 40 "$f"
		done
	fi
	rm -rf "$T"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# track PID: remember a background process so cleanup kills it.
track() { PIDS="$PIDS $1"; }

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ok() { echo "ok - $*"; }

# wait_until SECONDS COMMAND...: polls COMMAND every 50 ms.
wait_until() {
	limit=$1
	shift
	end=$(( $(date +%s) + limit ))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.05
	done
	return 0
}

assert_contains() {
	grep -q -- "$2" "$1" || fail "$1 does not contain '$2': $(tail -n 5 "$1")"
}

assert_not_contains() {
	! grep -q -- "$2" "$1" || fail "$1 contains '$2'"
}

# make_pki: a CA, a server certificate for localhost/127.0.0.1/::1 and a
# client certificate, all from tlscert.
make_pki() {
	tlscert ca --name "test CA" --cert "$T/ca.pem" --key "$T/ca.key" >/dev/null ||
	    fail "tlscert ca"
	tlscert server --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" \
	    --host localhost,127.0.0.1,::1 \
	    --cert "$T/server.pem" --key "$T/server.key" >/dev/null ||
	    fail "tlscert server"
	tlscert client --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" \
	    --name "test client" --host localhost,127.0.0.1 \
	    --cert "$T/client.pem" --key "$T/client.key" >/dev/null ||
	    fail "tlscert client"
}

# start_daemon [options]: starts tlsechod on an ephemeral loopback port
# with its log in $T/daemon.log, waits until it listens, sets DAEMON_PID
# and PORT. Defaults: --cert/--key $T/server.pem/key, stats socket
# $T/stats.sock; later options override.
DAEMON_N=0
start_daemon() {
	DAEMON_N=$((DAEMON_N + 1))
	DAEMON_LOG="$T/daemon$DAEMON_N.log"
	STATS="$T/stats.sock"
	"$BIN/tlsechod" --listen 127.0.0.1:0 --cert "$T/server.pem" \
	    --key "$T/server.key" --stats-socket "$STATS" --log-level debug \
	    "$@" >"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	track "$DAEMON_PID"
	wait_until 10 grep -q 'event=listening' "$DAEMON_LOG" ||
	    fail "tlsechod did not start: $(cat "$DAEMON_LOG")"
	PORT=$(sed -n 's/.*event=listening addr=[^ ]*:\([0-9]*\).*/\1/p' \
	    "$DAEMON_LOG" | head -n 1)
	[ -n "$PORT" ] || fail "no port in $DAEMON_LOG"
}

# stop_daemon: SIGTERM and wait; returns the daemon's exit status.
stop_daemon() {
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID"
}

# random_file PATH BYTES
random_file() {
	head -c "$2" /dev/urandom >"$1"
}

# parallel_echo N: N tlsecho clients at once, client i sending $T/in.i
# (verified by $T/ca.pem); each must exit 0 and get back exactly what it
# sent (in $T/out.i).
parallel_echo() {
	local i p pids=""
	for i in $(seq 1 "$1"); do
		"$BIN/tlsecho" --ca "$T/ca.pem" --wait 2s 127.0.0.1 "$PORT" \
		    <"$T/in.$i" >"$T/out.$i" 2>"$T/c$i.log" &
		pids="$pids $!"
		track $!
	done
	i=0
	for p in $pids; do
		i=$((i + 1))
		wait "$p" || fail "client $i exited $?: $(cat "$T/c$i.log")"
	done
	for i in $(seq 1 "$1"); do
		cmp -s "$T/in.$i" "$T/out.$i" || fail "client $i: sent \
$(wc -c <"$T/in.$i") bytes, got back $(wc -c <"$T/out.$i")"
	done
}

# hold_stdin NAME: $T/hold.NAME becomes a fifo whose writer stays open for
# a minute (a client's stdin that never ends); the writer is tracked.
hold_stdin() {
	mkfifo "$T/hold.$1"
	sleep 60 >"$T/hold.$1" &
	echo $! >"$T/hold.$1.pid"
	track $!
}

# release_stdin NAME: ends that held stdin (the client sees EOF).
release_stdin() {
	kill "$(cat "$T/hold.$1.pid")" 2>/dev/null
}

# rawclient MODE PORT SECONDS: a misbehaving client (tests/tools).
rawclient() {
	python3 "$(dirname "$0")/../tools/rawclient.py" "$@"
}

# stats COMMAND: one command to the stats socket; prints every reply
# line. The daemon closes a subscriber that has half-closed once its
# answer is sent, so this returns as soon as the answer is complete.
stats() {
	printf '%s\n' "$1" | timeout 10 socat -t 5 - "UNIX-CONNECT:$STATS"
}

# log_count_at_least PATTERN N: the daemon log has N lines matching
# PATTERN (a function, so that wait_until counts again each time).
log_count_at_least() {
	[ "$(grep -c -- "$1" "$DAEMON_LOG")" -ge "$2" ]
}
