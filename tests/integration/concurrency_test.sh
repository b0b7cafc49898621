#!/bin/bash
# Sixteen clients at once, each echoing random data of a random size up
# to 1 MiB: every byte comes back, in order, to the client that sent it.

. "$(dirname "$0")/lib.sh"

make_pki
start_daemon
PIN=$(tlscert pin "$T/server.pem")

pids=""
for i in $(seq 1 16); do
	size=$(( (RANDOM * 32768 + RANDOM) % 1048576 + 1 ))
	random_file "$T/in.$i" "$size"
	tlsecho --pin "$PIN" --wait 3s 127.0.0.1 "$PORT" <"$T/in.$i" \
	    >"$T/out.$i" 2>"$T/c.$i.log" &
	pids="$pids $!"
	track $!
done
i=0
for p in $pids; do
	i=$((i + 1))
	wait "$p" || fail "client $i exited $?: $(cat "$T/c.$i.log")"
done
total=0
for i in $(seq 1 16); do
	cmp -s "$T/in.$i" "$T/out.$i" ||
	    fail "client $i: sent $(wc -c <"$T/in.$i") bytes, got back $(wc -c <"$T/out.$i")"
	total=$((total + $(wc -c <"$T/in.$i")))
done
wait_until 10 log_count_at_least 'reason=peer-closed' 16 ||
    fail "not all 16 sessions closed as peer-closed"
ok "16 concurrent clients echoed $total bytes in all, each byte-exact"
