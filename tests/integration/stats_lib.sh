# Helpers of the stats-socket tests (after lib.sh).
#
#   watcher NAME        a socat subscriber that sent "watch"; its lines go
#                       to $T/NAME.out, its pid is in $PID_NAME (tracked)
#   say NAME COMMAND    sends one more command line to watcher NAME
#   q FILE EXPR         tests/tools/jsonl.py on $T/FILE or $T/FILE.out
#   has FILE EXPR       true when q prints "true" (for wait_until)

JSONL="$(dirname "$0")/../tools/jsonl.py"

q() {
	f="$T/$1"
	[ -f "$f" ] || f="$T/$1.out"
	python3 "$JSONL" "$f" "$2"
}

has() {
	[ "$(q "$1" "$2" 2>/dev/null)" = true ]
}

# The fifo is held open read-write by this shell, so socat's stdin never
# ends while the test runs.
watcher() {
	mkfifo "$T/$1.in"
	exec {fd}<>"$T/$1.in"
	eval "FD_$1=$fd"
	socat - "UNIX-CONNECT:$STATS" <"$T/$1.in" >"$T/$1.out" \
	    2>"$T/$1.err" &
	eval "PID_$1=$!"
	track $!
	say "$1" "${2:-watch}"
	wait_until 10 grep -q '"type":"end"' "$T/$1.out" ||
	    fail "watcher $1 got no snapshot: $(cat "$T/$1.out" "$T/$1.err")"
}

say() {
	eval "printf '%s\n' \"\$2\" >&\$FD_$1"
}

# gone PID: the process has exited (a zombie not yet waited for counts).
gone() {
	[ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]
}
