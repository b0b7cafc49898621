#!/bin/bash
# The stats socket against the real tlsechod: a watcher sees sessions open
# (TLS version, cipher, client issuer), their bytes grow and their close
# with the right reason (peer-closed, idle, killed); snapshot agrees with
# the sessions opened; kill works for the daemon's uid and is refused for
# another; the socket's mode and group are applied; start-up refuses a
# second daemon, a non-socket file and a path too long, and replaces a
# stale socket; SIGTERM sends bye and removes the socket; --history
# bounds the closes a snapshot lists.
# Robustness (lagging, many, oversized, random) is stats_robust_test.sh.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/stats_lib.sh"

make_pki

# ------------------------------------------------------------ events
start_daemon --idle-timeout 1s --counters-interval 100ms
watcher w1

# peer-closed: three bursts with pauses shorter than the idle limit, so
# the bytes can be seen growing; then stdin ends and tlsecho closes.
random_file "$T/a.bin" 200000
(
	for part in 0 1 2; do
		dd if="$T/a.bin" bs=50000 skip=$part count=1 2>/dev/null
		sleep 0.4
	done
	dd if="$T/a.bin" bs=50000 skip=3 count=1 2>/dev/null
) | tlsecho --ca "$T/ca.pem" --wait 300ms 127.0.0.1 "$PORT" \
    >"$T/a.out" 2>"$T/a.log" || fail "echo client: $(cat "$T/a.log")"
cmp "$T/a.bin" "$T/a.out" || fail "echo is not byte-exact"
wait_until 5 has w1 '1 in ids("close")' || fail "no close event: $(tail -n 3 "$T/w1.out")"
[ "$(q w1 'ids("open")')" = "[1]" ] || fail "open events: $(q w1 'ids("open")')"
[ "$(q w1 'S(1)["version"]')" = TLSv1.3 ] ||
    fail "version: $(q w1 'S(1)')"
cipher=$(q w1 'S(1)["cipher"]')
case "$cipher" in TLS_AES_*|TLS_CHACHA20_*) ;; *) fail "cipher '$cipher'" ;; esac
[ "$(q w1 'S(1)["cipher_bits"] >= 128')" = true ] || fail "cipher_bits"
[ "$(q w1 'S(1)["peer_cert"]')" = null ] || fail "peer_cert without a client cert"
# Bytes grow: several distinct, increasing bytes_in values before the close.
grows=$(q w1 '[o["bytes_in"] for o in T("update") if o.get("id") == 1 and "bytes_in" in o]')
[ "$(q w1 'len(set(o["bytes_in"] for o in T("update") if o.get("id") == 1 and "bytes_in" in o)) >= 2')" = true ] ||
    fail "bytes did not grow in updates: $grows"
[ "$(q w1 'all(a <= b for a, b in zip(*(lambda v: (v, v[1:]))([o["bytes_in"] for o in T("update") if o.get("id") == 1 and "bytes_in" in o])))')" = true ] ||
    fail "bytes went down: $grows"
[ "$(q w1 'S(1)["reason"]')" = peer-closed ] || fail "reason: $(q w1 'S(1)')"
[ "$(q w1 'S(1)["bytes_in"]')" = 200000 ] || fail "close bytes_in: $(q w1 'S(1)["bytes_in"]')"
[ "$(q w1 'S(1)["bytes_out"]')" = 200000 ] || fail "close bytes_out"
ok "watcher: open $cipher, bytes grew $grows, close peer-closed 200000 bytes"

# idle: a client that sends nothing is closed at the 1 s limit.
hold_stdin idle
tlsecho --ca "$T/ca.pem" 127.0.0.1 "$PORT" <"$T/hold.idle" >/dev/null \
    2>"$T/idle.log" || fail "idle client: $(cat "$T/idle.log")"
wait_until 5 has w1 '2 in ids("close")' || fail "no close for the idle session"
[ "$(q w1 'S(2)["reason"]')" = idle ] || fail "idle reason: $(q w1 'S(2)')"
[ "$(q w1 'S(2)["bytes_in"]')" = 0 ] || fail "idle bytes"
ok "watcher: idle session closed with reason idle"
# Counters go to watchers with only what changed.
has w1 'len(T("counters")) > 0' || fail "no counters reached the watcher"
[ "$(q w1 'any(o.get("closes", {}).get("idle") == 1 for o in T("counters"))')" = true ] ||
    fail "counters never showed closes.idle=1"
stop_daemon || fail "daemon exit status $?"

# ------------------------------------------------------------ mutual TLS
start_daemon --client-ca "$T/ca.pem" --counters-interval 100ms
watcher w2
echo hi | tlsecho --ca "$T/ca.pem" --cert "$T/client.pem" \
    --key "$T/client.key" --wait 300ms 127.0.0.1 "$PORT" >"$T/m.out" \
    2>"$T/m.log" || fail "mTLS client: $(cat "$T/m.log")"
[ "$(cat "$T/m.out")" = hi ] || fail "mTLS echo"
wait_until 5 has w2 '1 in ids("close")' || fail "no close (mTLS)"
issuer=$(q w2 '(S(1)["peer_cert"] or {}).get("issuer", "")')
subject=$(q w2 '(S(1)["peer_cert"] or {}).get("subject", "")')
[ "$issuer" = "/CN=test CA" ] || fail "peer_cert.issuer '$issuer': $(q w2 'S(1)')"
case "$subject" in *"CN=test client"*) ;; *) fail "peer_cert.subject '$subject'" ;; esac
[ "$(q w2 'S(1)["peer_cert"]["pin"]')" = "$(tlscert pin "$T/client.pem")" ] ||
    fail "peer_cert.pin differs from tlscert pin"
ok "watcher: mTLS session with issuer '$issuer', subject '$subject', pin"
stop_daemon || fail "daemon exit status $?"

# ------------------------------------------------------------ snapshot, kill
# The socket in group nogroup, 0660: nobody (whose group is nogroup) may
# connect and read but not kill.
chmod 0755 "$T"
start_daemon --stats-group nogroup --stats-mode 0660 --counters-interval 100ms
[ "$(stat -c '%a %G' "$STATS")" = "660 nogroup" ] ||
    fail "socket mode/group: $(stat -c '%a %G' "$STATS")"
watcher w3
for c in c1 c2 c3; do
	hold_stdin "$c"
	"$BIN/tlsecho" --ca "$T/ca.pem" 127.0.0.1 "$PORT" <"$T/hold.$c" \
	    >"$T/$c.out" 2>"$T/$c.log" &
	eval "PID_$c=$!"
	track $!
done
wait_until 5 has w3 'sum(1 for i in ids("open") if S(i).get("state") == "established") == 3' ||
    fail "three sessions did not open: $(q w3 'ids("open")')"
# The peers as the clients' side sees them (local ends of their sockets).
peers=$(ss -Htn state established "dport = :$PORT" | awk '{print $3}' | sort |
    tr '\n' ' ')
stats snapshot >"$T/snap1"
[ "$(q snap1 'len(T("session"))')" = 3 ] || fail "snapshot: $(q snap1 'ids("session")')"
[ "$(q snap1 'sorted(ids("session"))')" = "[1, 2, 3]" ] ||
    fail "snapshot ids: $(q snap1 'ids("session")')"
speers=$(q snap1 '" ".join(sorted(o["peer"] for o in T("session"))) + " "')
[ "$speers" = "$peers" ] || fail "snapshot peers '$speers', clients '$peers'"
[ "$(q snap1 'last("counters")["active"]')" = 3 ] || fail "active"
[ "$(q snap1 'L[-1]["type"]')" = end ] || fail "snapshot does not end with end"
ok "snapshot: ids 1 2 3, peers $speers"
# Session 2's client, found by its port.
vport=$(q snap1 '[o["peer"] for o in T("session") if o["id"] == 2][0].split(":")[-1]')
VPID=$(ss -Htnp state established "sport = :$vport" |
    sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1)
case " $PID_c1 $PID_c2 $PID_c3 " in *" $VPID "*) ;;
	*) fail "session 2 (port $vport) is not one of our clients: '$VPID'" ;; esac

# kill refused for nobody: an error saying why; the session stays.
printf 'kill 2\n' | timeout 10 setpriv --reuid=nobody --regid=nogroup \
    --clear-groups socat -t 2 - "UNIX-CONNECT:$STATS" >"$T/nobody.out" \
    2>"$T/nobody.err" || fail "nobody could not connect: $(cat "$T/nobody.err")"
[ "$(q nobody.out 'T("hello")[0]["may_kill"]')" = false ] || fail "nobody may_kill"
msg=$(q nobody.out 'last("error").get("message", "")')
case "$msg" in *"permission denied"*"uid 65534"*) ;;
	*) fail "refused kill: '$(cat "$T/nobody.out")'" ;; esac
[ "$(q nobody.out 'len(T("ok"))')" = 0 ] || fail "nobody got ok"
sleep 0.3
! gone "$VPID" || fail "session 2's client ended after a refused kill"
stats snapshot >"$T/snap2"
[ "$(q snap2 'sorted(ids("session"))')" = "[1, 2, 3]" ] || fail "session 2 gone"
ok "kill as nobody refused: $msg"

# kill as the daemon's uid: ok, the watcher sees reason killed, the
# client sees the end (close_notify) and exits.
stats 'kill 2' >"$T/kill.out"
[ "$(q kill.out 'last("ok")')" = '{"type": "ok", "command": "kill", "id": 2}' ] ||
    fail "kill answer: $(cat "$T/kill.out")"
wait_until 5 has w3 '2 in ids("close")' || fail "no close for killed session"
[ "$(q w3 'S(2)["reason"]')" = killed ] || fail "reason: $(q w3 'S(2)')"
wait_until 5 gone "$VPID" || fail "killed client still runs"
wait "$VPID" || fail "killed client exited $?"
stats 'kill 2' >"$T/kill2.out"
assert_contains "$T/kill2.out" '"message":"kill: no open session 2"'
stats 'kill x' >"$T/kill3.out"
assert_contains "$T/kill3.out" '"type":"error"'
ok "kill as uid $(id -u): ok, close reason killed, client exited; unknown id refused"

# SIGTERM: the open sessions close (shutdown), watchers get bye, the
# socket file goes.
stop_daemon || fail "daemon exit status $?"
wait_until 5 has w3 'len(T("bye")) == 1' || fail "no bye: $(tail -n 2 "$T/w3.out")"
[ "$(q w3 'L[-1]["type"]')" = bye ] || fail "bye is not the last line"
[ "$(q w3 'last("bye")["reason"]')" = shutdown ] || fail "bye reason"
[ "$(q w3 'sorted(S(i)["reason"] for i in (1, 3))')" = '["shutdown", "shutdown"]' ] ||
    fail "shutdown closes: $(q w3 'ids("close")')"
[ ! -e "$STATS" ] || fail "socket file left after SIGTERM"
for p in $PID_c1 $PID_c2 $PID_c3; do
	wait_until 5 gone "$p" || fail "client $p still runs after SIGTERM"
done
ok "SIGTERM: closes with reason shutdown, then bye; socket removed"

# ------------------------------------------------------------ socket mode
start_daemon --stats-mode 0640 --stats-group nogroup
[ "$(stat -c '%a %G %F' "$STATS")" = "640 nogroup socket" ] ||
    fail "mode/group: $(stat -c '%a %G %F' "$STATS")"
if printf 'snapshot\n' | timeout 10 setpriv --reuid=nobody --regid=nogroup \
    --clear-groups socat -t 1 - "UNIX-CONNECT:$STATS" >/dev/null 2>"$T/deny.err"; then
	fail "nobody connected to a 0640 socket"
fi
assert_contains "$T/deny.err" "Permission denied"
ok "socket is 0640 group nogroup; nobody cannot connect"

# ------------------------------------------------------------ start-up
FIRST=$DAEMON_PID
if tlsechod --listen 127.0.0.1:0 --cert "$T/server.pem" --key "$T/server.key" \
    --stats-socket "$STATS" >"$T/second.out" 2>&1; then
	fail "a second daemon started on the same socket"
fi
[ "$(wc -l <"$T/second.out")" = 1 ] || fail "not one line: $(cat "$T/second.out")"
assert_contains "$T/second.out" "another tlsechod answers"
stats snapshot >"$T/snap3"
assert_contains "$T/snap3" '"type":"end"'
ok "second daemon refused: $(cat "$T/second.out")"

# Stale: the first daemon dies by SIGKILL and leaves its socket file.
kill -KILL "$FIRST"
wait "$FIRST" 2>/dev/null
[ -S "$STATS" ] || fail "no stale socket left to test with"
start_daemon --stats-mode 0640
assert_contains "$DAEMON_LOG" "event=stale-stats-socket-removed"
stats snapshot >"$T/snap4"
[ "$(q snap4 'T("hello")[0]["pid"]')" = "$DAEMON_PID" ] || fail "stale socket not replaced"
stop_daemon
ok "stale socket replaced"

# A path too long for sun_path.
long="$T/$(printf 'x%.0s' $(seq 1 120)).sock"
if tlsechod --listen 127.0.0.1:0 --cert "$T/server.pem" --key "$T/server.key" \
    --stats-socket "$long" >"$T/long.out" 2>&1; then
	fail "started with a ${#long}-byte socket path"
fi
[ "$(wc -l <"$T/long.out")" = 1 ] || fail "not one line: $(cat "$T/long.out")"
assert_contains "$T/long.out" "must be shorter than 108"
ok "long path: $(cat "$T/long.out")"

# A file that is not a socket is left alone.
echo keep >"$T/notsock"
if tlsechod --listen 127.0.0.1:0 --cert "$T/server.pem" --key "$T/server.key" \
    --stats-socket "$T/notsock" >"$T/ns.out" 2>&1; then
	fail "started over a regular file"
fi
[ "$(wc -l <"$T/ns.out")" = 1 ] || fail "not one line: $(cat "$T/ns.out")"
assert_contains "$T/ns.out" "is not a socket"
[ "$(cat "$T/notsock")" = keep ] || fail "the regular file was changed"
ok "non-socket file refused: $(cat "$T/ns.out")"

# --history N: hello says N, and a snapshot lists only the last N closes.
start_daemon --history 2
for i in 1 2 3; do
	echo "h$i" | tlsecho --ca "$T/ca.pem" --wait 300ms 127.0.0.1 "$PORT" \
	    >/dev/null 2>"$T/h.err" || fail "echo $i: $(cat "$T/h.err")"
done
wait_until 5 log_count_at_least 'event=session-close' 3 ||
    fail "three sessions did not close"
stats snapshot >"$T/hist.json"
[ "$(q hist.json 'T("hello")[0]["limits"]["history"]')" = 2 ] ||
    fail "hello does not say history 2: $(head -n 1 "$T/hist.json")"
[ "$(q hist.json '[o["id"] for o in T("closed")]')" = "[2, 3]" ] ||
    fail "closed records with --history 2: $(q hist.json '[o["id"] for o in T("closed")]')"
ok "--history 2: hello says 2, the snapshot lists closes 2 and 3 of 3"
stop_daemon || fail "daemon exit status $?"
