#!/bin/bash
# tlsmon end to end: the real tlsechod, real tlsecho clients, and tlsmon
# driven in a private tmux server and read back with capture-pane.
#
# Checks: a session row with TLSv1.3 and its cipher; 80x24 and 200x50
# layouts (heading present, no wrapped rows); a certificate subject holding
# an escape sequence is shown escaped; / filters; s and r sort; a close
# moves a session to history with its reason; k then y kills; --once and
# --json; the EACCES message names the socket's group; a daemon restart
# shows the disconnected state and then the new daemon's sessions; q quits
# under TERM xterm, screen, tmux, linux and vt100.

. "$(dirname "$0")/lib.sh"

command -v tmux >/dev/null || fail "tmux is needed"

TM="tmux -L tlsmon-test-$$ -f /dev/null"
CIPHER_RE='TLS_[A-Z0-9_]+'

mon_cleanup() {
	mon_status=$?
	if [ "$mon_status" -ne 0 ]; then
		echo "--- tlsmon screen at failure"
		$TM capture-pane -p -t mon 2>/dev/null
	fi
	$TM kill-server 2>/dev/null
	(exit "$mon_status")
	cleanup
}
trap mon_cleanup EXIT

pane() { $TM capture-pane -p -t mon; }
pane_has() { pane | grep -E -q -- "$1"; }
pane_lacks() { ! pane | grep -E -q -- "$1"; }
keys() { $TM send-keys -t mon "$@"; }

# session_rows: the table rows (lines that start with an id and a peer).
session_rows() { pane | grep -E '^ *[0-9]+ 127\.0\.0\.1:[0-9]+ '; }
nrows_is() { [ "$(session_rows | wc -l)" -eq "$1" ]; }
# tls_rows_is N: N rows, every one past its handshake.
tls_rows_is() {
	[ "$(session_rows | grep -E -c ' TLSv1\.[23] ')" -eq "$1" ] && nrows_is "$1"
}

# check_layout WIDTH HEIGHT: the heading is there, every row is whole and
# nothing is wider than the pane.
check_layout() {
	w=$1
	h=$2
	[ "$(pane | wc -l)" -le "$h" ] || fail "more than $h lines at ${w}x$h"
	pane | awk -v w="$w" 'length($0) > w { exit 1 }' ||
	    fail "a line is wider than $w"
	heading=$(pane | sed -n '6p')
	echo "$heading" | grep -E -q '^ *ID[+-]? +PEER +.*VERSION +CIPHER' ||
	    fail "no table heading at ${w}x$h: '$heading'"
	# Between the heading and the status line: rows or blank lines only.
	pane | sed -n "7,$((h - 1))p" |
	    grep -E -v '^ *$|^ *[0-9]+ 127\.0\.0\.1:[0-9]+ +(estab |hshk  )?TLSv1\.[23] ' &&
	    fail "a wrapped or smeared row at ${w}x$h"
	return 0
}

# open_client NAME [tlsecho options]: a client that stays connected until
# its writer (tracked) goes; sets CLIENT_PID and WRITER_PID.
open_client() {
	name=$1
	shift
	mkfifo "$T/$name.in"
	sleep 120 >"$T/$name.in" &
	WRITER_PID=$!
	track "$WRITER_PID"
	tlsecho --ca "$T/ca.pem" "$@" 127.0.0.1 "$PORT" <"$T/$name.in" \
	    >"$T/$name.log" 2>&1 &
	CLIENT_PID=$!
	track "$CLIENT_PID"
}

# session_id N: the id of the Nth session the daemon logged as open.
session_id() {
	sed -n 's/.*event=session-open id=\([0-9]*\) .*/\1/p' "$DAEMON_LOG" |
	    sed -n "${1}p"
}

make_pki
tlscert client --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" \
    --name $'evil\e[31mname' --host 127.0.0.1 \
    --cert "$T/evil.pem" --key "$T/evil.key" >/dev/null ||
    fail "tlscert client with an escape in its name"
start_daemon --client-ca "$T/ca.pem" --client-ca-optional

# -------------------------------------------------------------- batch mode
tlsmon -s "$STATS" --once >"$T/once0.out" 2>"$T/once0.err" ||
    fail "--once against a running daemon: $(cat "$T/once0.err")"
assert_contains "$T/once0.out" "^tlsechod "
assert_contains "$T/once0.out" "open sessions: 0"
if tlsmon -s "$T/nonexistent.sock" --once >/dev/null 2>"$T/once1.err"; then
	fail "--once without a daemon exits 0"
fi
assert_contains "$T/once1.err" "$T/nonexistent.sock"
assert_contains "$T/once1.err" "No such file"
ok "--once answers, and fails with the path and reason without a daemon"

if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	chmod o+x "$T"
	if setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$BIN/tlsmon" -s "$STATS" --once >/dev/null 2>"$T/eacces.err"; then
		fail "nobody could read the stats socket"
	fi
	assert_contains "$T/eacces.err" "Permission denied"
	assert_contains "$T/eacces.err" "group $(stat -c %G "$STATS")"
	assert_contains "$T/eacces.err" "join it"
	ok "permission denied names the socket's group"
fi

# ------------------------------------------------------------- live view
$TM new-session -d -s mon -x 80 -y 24 \
    "LC_ALL=C.UTF-8 TERM=screen exec $BIN/tlsmon -s $STATS" ||
    fail "tmux new-session"
wait_until 10 pane_has '^tlsechod .* pid '"$DAEMON_PID" ||
    fail "tlsmon shows no header"
wait_until 5 pane_has 'no open sessions' || fail "empty table not shown"

open_client plain
A_WRITER=$WRITER_PID
wait_until 10 pane_has "^ *[0-9]+ 127\.0\.0\.1:[0-9]+ +TLSv1\.3 +$CIPHER_RE" ||
    fail "no session row with TLSv1.3 and a cipher"
A_ID=$(session_id 1)
[ -n "$A_ID" ] || fail "no session-open in the daemon log"
cipher=$(sed -n "s/.*event=session-open id=$A_ID .*cipher=\([^ ]*\).*/\1/p" \
    "$DAEMON_LOG")
pane_has " TLSv1\.3 +$cipher " || fail "the row lacks the cipher $cipher"
ok "a session shows TLSv1.3 and $cipher"

open_client evil --cert "$T/evil.pem" --key "$T/evil.key"
wait_until 10 tls_rows_is 2 || fail "the second session does not show"
B_ID=$(session_id 2)
check_layout 80 24
pane_has 'SUBJECT +IN +IDLE *$' || fail "80 columns: SUBJECT IN IDLE missing"
pane_lacks 'ISSUER' || fail "80 columns: ISSUER should give way"
ok "80x24 layout holds its columns"

$TM resize-window -t mon -x 200 -y 50
wait_until 5 pane_has 'STATE +VERSION +CIPHER +SUBJECT +ISSUER +IN +OUT +AGE +IDLE' ||
    fail "200 columns: not every column shows"
check_layout 200 50
ok "200x50 layout holds its columns"

# The subject is /CN=evil<ESC>[31mname: shown escaped, never obeyed (the
# daemon's libtls may already have escaped it as \x1B; either way the
# screen must show the escape as text).
wait_until 5 pane_has 'evil\\+x1[bB]\[31mname' ||
    fail "the escape sequence in the subject is not shown escaped"
pane_lacks 'evilname' || fail "the escape sequence reached the terminal"
ok "a subject with an escape sequence is shown escaped"
$TM resize-window -t mon -x 80 -y 24
wait_until 5 pane_lacks 'ISSUER' || fail "back to 80 columns"

# ------------------------------------------------------- filter and sort
keys /
wait_until 5 pane_has '^filter:' || fail "/ opens no filter prompt"
keys e v i l Enter
wait_until 5 nrows_is 1 || fail "the filter leaves $(session_rows | wc -l) rows"
session_rows | grep -q "^ *$B_ID " || fail "the filter kept the wrong row"
pane_has 'filter: evil' || fail "the active filter is not shown"
keys Escape
wait_until 5 nrows_is 2 || fail "Esc does not clear the filter"
ok "/ filters and Esc clears"

first_id() { session_rows | head -n 1 | awk '{ print $1 }'; }
first_is() { [ "$(first_id)" = "$1" ]; }
wait_until 5 first_is "$A_ID" || fail "ID ascending should list $A_ID first"
keys r
wait_until 5 first_is "$B_ID" || fail "r does not reverse the order"
keys r s
wait_until 5 pane_has '^sort PEER' || fail "s does not move the sort to PEER"
pane_has 'PEER\+' || fail "the sort column is not marked"
session_rows | awk '{ print $2 }' | sort -C ||
    fail "rows are not in peer order"
keys s
wait_until 5 pane_has '^sort VERSION' || fail "s does not cycle on"
pane_has 'VERSION\+' || fail "the sort is not on a shown column"
ok "s cycles the sort column and r reverses it"
for _ in 1 2 3 4 5 6 7 8 9 10 11 12; do
	pane_has '^sort ID  ' && break
	before=$(pane | tail -n 1)
	keys s
	wait_until 5 sh -c "[ \"\$($TM capture-pane -p -t mon | tail -n 1)\" != \"$before\" ]" ||
	    fail "s does not move the sort"
done
pane_has '^sort ID  ' || fail "s does not cycle back to ID"

# ------------------------------------------------------------ close, kill
kill "$A_WRITER"
wait_until 10 nrows_is 1 || fail "the closed session stays in the table"
reason=$(sed -n "s/.*event=session-close id=$A_ID .*reason=\([^ ]*\).*/\1/p" \
    "$DAEMON_LOG")
[ -n "$reason" ] || fail "no close reason for $A_ID in the daemon log"
keys 2
wait_until 5 pane_has "^ *$A_ID 127\.0\.0\.1:[0-9]+ .* $reason " ||
    fail "history lacks session $A_ID with reason $reason"
ok "a close moves the session to history ($reason)"

keys 1
wait_until 5 pane_has 'Sessions \(1\)' || fail "back to the sessions view"
keys Home k
wait_until 5 pane_has "^kill session $B_ID from 127\.0\.0\.1:[0-9]+\? y/n" ||
    fail "k asks no confirmation"
keys n
wait_until 5 pane_has 'kill cancelled' || fail "n does not cancel"
nrows_is 1 || fail "n killed the session anyway"
keys k
wait_until 5 pane_has "^kill session $B_ID " || fail "k asks no confirmation"
keys y
wait_until 10 pane_has "session $B_ID killed" || fail "no kill confirmation"
wait_until 10 grep -q "event=session-close id=$B_ID .*reason=killed" \
    "$DAEMON_LOG" || fail "the daemon did not log the kill"
wait_until 5 nrows_is 0 || fail "the killed session stays"
keys 2
wait_until 5 pane_has "^ *$B_ID 127\.0\.0\.1:[0-9]+ .* killed " ||
    fail "history lacks the killed session"
keys 1
ok "k then y kills the selected session"

# ------------------------------------------------------ batch with data
open_client third
wait_until 10 tls_rows_is 1 || fail "the third session does not show"
tlsmon -s "$STATS" --once >"$T/once.out" 2>&1 || fail "--once: $(cat "$T/once.out")"
grep -E -q "^ *[0-9]+ 127\.0\.0\.1:[0-9]+ +estab +TLSv1\.3 +$CIPHER_RE" \
    "$T/once.out" || fail "--once lacks the session row: $(cat "$T/once.out")"
assert_contains "$T/once.out" "killed"
tlsmon -s "$STATS" --json >"$T/snap.json" 2>&1 || fail "--json failed"
python3 - "$T/snap.json" <<'EOF' || fail "--json is not the snapshot"
import json, sys
snap = json.load(open(sys.argv[1]))
types = [o["type"] for o in snap]
assert types[0] == "hello", types
assert types[-1] == "counters", types
sessions = [o for o in snap if o["type"] == "session"]
assert len(sessions) == 1 and sessions[0]["version"] == "TLSv1.3", sessions
closed = [o for o in snap if o["type"] == "closed"]
assert any(o["reason"] == "killed" for o in closed), closed
EOF
ok "--once and --json print the snapshot"

# --------------------------------------------------------- daemon restart
OLD_PID=$DAEMON_PID
stop_daemon
wait_until 10 pane_has 'DISCONNECTED' || fail "no disconnected state shown"
pane_has '^disconnected from ' || fail "the status line does not say so"
pane_has "pid $OLD_PID" || fail "the last state is not kept"
ok "a stopped daemon shows as disconnected"
start_daemon --client-ca "$T/ca.pem" --client-ca-optional
wait_until 15 pane_has "pid $DAEMON_PID " ||
    fail "tlsmon did not reconnect to the new daemon"
open_client fourth
wait_until 10 tls_rows_is 1 ||
    fail "the new daemon's session does not show"
pane_lacks 'DISCONNECTED' || fail "still shown as disconnected"
ok "tlsmon reconnects and shows the new daemon's sessions"

# ---------------------------------------------------- help, pause, quit
keys '?'
wait_until 5 pane_has 'keys \(any key closes\)' || fail "? shows no help"
keys Escape p
wait_until 5 pane_has 'PAUSED' || fail "p does not pause"
keys p
wait_until 5 pane_lacks 'PAUSED' || fail "p does not resume"
keys q
wait_until 5 sh -c "! $TM has-session -t mon 2>/dev/null" ||
    fail "q does not quit"
ok "?, p and q"

terms=""
for term in xterm screen tmux linux vt100; do
	infocmp "$term" >/dev/null 2>&1 || continue
	terms="$terms $term"
	$TM new-session -d -s mon -x 80 -y 24 \
	    "TERM=$term exec $BIN/tlsmon -s $STATS"
	wait_until 10 tls_rows_is 1 || fail "TERM=$term: no table"
	check_layout 80 24
	keys q
	wait_until 5 sh -c "! $TM has-session -t mon 2>/dev/null" ||
	    fail "TERM=$term: q does not quit"
done
[ -n "$terms" ] || fail "none of xterm, screen, tmux, linux, vt100 has a terminfo entry"
ok "works under TERM$terms"

# A bounded headless run, as the sanitizer builds use it.
tlsmon -s "$STATS" -n 3 >"$T/headless.out" 2>&1 || fail "headless -n 3"
assert_contains "$T/headless.out" "open sessions: 1"
ok "a bounded headless run"
