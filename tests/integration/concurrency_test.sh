#!/bin/bash
# Sixteen clients at once, each echoing random data of a random size up
# to 1 MiB: every byte comes back, in order, to the client that sent it.

. "$(dirname "$0")/lib.sh"

make_pki
start_daemon
total=0
for i in $(seq 1 16); do
	size=$(( (RANDOM * 32768 + RANDOM) % 1048576 + 1 ))
	random_file "$T/in.$i" "$size"
	total=$((total + size))
done
parallel_echo 16
wait_until 10 log_count_at_least 'reason=peer-closed' 16 ||
    fail "not all 16 sessions closed as peer-closed"
ok "16 concurrent clients echoed $total bytes in all, each byte-exact"
