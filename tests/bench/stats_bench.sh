#!/bin/bash
# What the stats socket costs: echo throughput of tlsechod with 0 and with
# 10 watching subscribers (MB/s, and the daemon's CPU per MB from
# /proc/PID/stat utime+stime), and the time from a TCP connect to the
# session's "open" line reaching a watcher. Prints figures; never passes
# or fails on them. Bounded: about a minute.
#
#   make bench-stats            (BUILD=... for another build folder)
#   CLIENTS=4 MB=32 REPS=3 LATENCY_N=200 bash tests/bench/stats_bench.sh

BIN=${BIN:-$(cd "$(dirname "$0")/../../${BUILD:-build}" && pwd)}
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/stats_lib.sh"

CLIENTS=${CLIENTS:-4}
MB=${MB:-32}
REPS=${REPS:-3}
LATENCY_N=${LATENCY_N:-200}
HZ=$(getconf CLK_TCK)
STATSCLIENT="$(dirname "$0")/../tools/statsclient.py"

# cpu_ticks PID: utime + stime of the process (all its threads).
cpu_ticks() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

# run_echo: CLIENTS tlsecho clients each echo $MB MiB at once; prints
# "MB/s cpu_ms_per_MB".
run_echo() {
	c0=$(cpu_ticks "$DAEMON_PID")
	t0=$(date +%s%N)
	pids=""
	for i in $(seq 1 "$CLIENTS"); do
		"$BIN/tlsecho" --ca "$T/ca.pem" --wait 300ms 127.0.0.1 "$PORT" \
		    <"$T/in.bin" >"$T/out.$i" 2>>"$T/clients.log" &
		pids="$pids $!"
	done
	for p in $pids; do
		wait "$p" || fail "a client failed: $(tail -n 3 "$T/clients.log")"
	done
	t1=$(date +%s%N)
	c1=$(cpu_ticks "$DAEMON_PID")
	for i in $(seq 1 "$CLIENTS"); do
		cmp -s "$T/in.bin" "$T/out.$i" || fail "echo $i is not byte-exact"
	done
	# MB counts the bytes echoed (each one read and written once).
	awk -v mb=$((MB * CLIENTS)) -v ns=$((t1 - t0)) -v ticks=$((c1 - c0)) \
	    -v hz="$HZ" 'BEGIN { printf "%.1f %.2f\n", mb / (ns / 1e9),
	    ticks * 1000 / hz / mb }'
}

# scenario NAME SUBSCRIBERS [daemon options]
scenario() {
	name=$1 nsubs=$2
	shift 2
	start_daemon --log-level info "$@"
	for i in $(seq 1 "$nsubs"); do
		watcher "b${DAEMON_N}_$i"
	done
	results=""
	for r in $(seq 1 "$REPS"); do
		results="$results$(run_echo)
"
	done
	printf '%s' "$results" | sort -n | awk -v name="$name" \
	    -v reps="$REPS" '{ mbs[NR] = $1; cpu[NR] = $2 }
	    END { m = int((NR + 1) / 2);
	    printf "%-36s %7.1f MB/s  %6.2f ms CPU/MB   (median of %d; MB/s %.1f..%.1f)\n",
	    name, mbs[m], cpu[m], reps, mbs[1], mbs[NR] }'
	# every watcher must still be there: none was dropped
	ask snapshot >"$T/bsnap" 2>/dev/null
	dropped=$(q bsnap 'last("counters").get("subscribers_dropped")')
	[ "$dropped" = 0 ] || echo "   (subscribers dropped: $dropped)"
	stop_daemon >/dev/null 2>&1
}

make_pki
random_file "$T/in.bin" $((MB * 1048576))
echo "tlsechod stats bench: $CLIENTS clients x $MB MiB echoed at once," \
    "$(nproc) CPUs (clients share them), $REPS runs each"
scenario "0 subscribers" 0
scenario "10 watchers, counters every 1s" 10
scenario "10 watchers, counters every 10ms" 10 --counters-interval 10ms

start_daemon --log-level info
timeout 60 python3 "$STATSCLIENT" latency "$STATS" "$PORT" "$LATENCY_N" ||
    echo "latency run failed"
stop_daemon >/dev/null 2>&1
