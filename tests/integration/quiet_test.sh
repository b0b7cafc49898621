#!/bin/bash
# Quiet sessions: a session with no data for a second gives back the
# stack pages its handshake and echo buffer dirtied (so 10,000 held idle
# sessions stay small), still echoes when data comes back, and is closed
# at the idle limit counted from its last data, not a second later (the
# bound allows 850 ms of scheduling and polling; a second late fails).

. "$(dirname "$0")/lib.sh"

N=6
IDLE_MS=5000
make_pki
start_daemon --idle-timeout 5s
PIN=$(tlscert pin "$T/server.pem")

# Each client's stdin is a fifo the test keeps open, so it can send more
# later; 20,000 bytes first make the daemon use its whole echo buffer.
random_file "$T/first.bin" 20000
for i in $(seq "$N"); do
	mkfifo "$T/in$i"
	tlsecho --pin "$PIN" 127.0.0.1 "$PORT" <"$T/in$i" >"$T/out$i" \
	    2>"$T/err$i" &
	track $!
	exec {w}>"$T/in$i"
	eval "W$i=$w"
	cat "$T/first.bin" >&"$w"
done
echoed() { [ "$(stat -c %s "$T/out$1")" -eq "$2" ]; }
for i in $(seq "$N"); do
	wait_until 10 echoed "$i" 20000 ||
	    fail "session $i echoed $(stat -c %s "$T/out$i") of 20000 bytes: $(cat "$T/err$i")"
done
sent_ms=$(date +%s%3N)

# The resident part of each session thread's stack (the mapping its
# stack pointer is in, found through /proc/PID/task/TID/syscall), in KiB.
stack_rss() {
	python3 - "$DAEMON_PID" <<'PY'
import os, re, sys
pid = sys.argv[1]
maps = []
cur = None
for line in open(f"/proc/{pid}/smaps"):
    m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) ", line)
    if m:
        cur = [int(m.group(1), 16), int(m.group(2), 16), 0]
        maps.append(cur)
    elif line.startswith("Rss:"):
        cur[2] = int(line.split()[1])
out = []
for tid in os.listdir(f"/proc/{pid}/task"):
    try:
        comm = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
        if comm != "session":
            continue
        f = open(f"/proc/{pid}/task/{tid}/syscall").read().split()
    except OSError:
        continue
    if len(f) < 8:
        continue
    sp = int(f[-2], 16)
    for lo, hi, rss in maps:
        if lo <= sp < hi:
            out.append(rss)
print(" ".join(str(r) for r in sorted(out)))
PY
}
rss=$(stack_rss)
[ "$(echo "$rss" | wc -w)" -eq "$N" ] ||
    fail "found $(echo "$rss" | wc -w) session stacks, not $N: '$rss'"
before=$rss
# Quiet after 1 s: every session stack is down to a few pages.
all_small() {
	rss=$(stack_rss)
	[ "$(echo "$rss" | wc -w)" -eq "$N" ] || return 1
	for r in $rss; do [ "$r" -le 12 ] || return 1; done
}
wait_until 4 all_small ||
    fail "quiet session stacks still hold $rss KiB (before: $before KiB)"
ok "quiet sessions trimmed their stacks: $before KiB -> $rss KiB"

# A trimmed session echoes again, byte-exact, across whole records.
random_file "$T/second.bin" 50000
cat "$T/second.bin" >&"$W1"
wait_until 10 echoed 1 70000 ||
    fail "session 1 echoed $(stat -c %s "$T/out1") of 70000 bytes after its trim"
cat "$T/first.bin" "$T/second.bin" | cmp -s - "$T/out1" ||
    fail "session 1's echo after its trim is not exact"
ok "a trimmed session echoes 50,000 more bytes exactly"

# The idle limit holds from the last data: sessions 2..N close about 5 s
# after their data, not 5 s after the quiet second.
wait_until 10 log_count_at_least 'reason=idle' $((N - 1)) ||
    fail "sessions were not closed for idle: $(grep -c reason=idle "$DAEMON_LOG")"
closed_ms=$(date +%s%3N)
waited=$((closed_ms - sent_ms))
[ "$waited" -ge $((IDLE_MS - 1000)) ] ||
    fail "idle sessions closed ${waited}ms after their data, before the 5s limit"
[ "$waited" -lt $((IDLE_MS + 850)) ] ||
    fail "idle sessions closed ${waited}ms after their data; the limit is 5s"
ok "the other quiet sessions closed for idle ${waited}ms after their data (limit 5s)"

for i in $(seq "$N"); do eval "exec {W$i}>&-"; done
