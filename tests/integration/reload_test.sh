#!/bin/bash
# SIGHUP reloads without dropping: after rotating the server certificate a
# new client sees the new pin while a session opened before the reload
# still echoes on the old configuration; a reload with a broken key (or a
# key that does not match) keeps the running configuration, logs
# event=reload-failed and the daemon keeps serving with the old pin; a
# stats watcher is told of every reload, ok or failed.
# Runs with client certificates, where each session has its own context.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/stats_lib.sh"

make_pki
rm -f "$T/server.pem" "$T/server.key"
tlscert self --host localhost,127.0.0.1 --cert "$T/server.pem" \
    --key "$T/server.key" >/dev/null || fail "tlscert self"
OLD=$(tlscert pin "$T/server.pem")
start_daemon --client-ca "$T/ca.pem"
watcher w	# every reload, good or failed, is published to watchers

# echo_pin PIN: a new client pinned to PIN echoes and sees that pin.
echo_pin() {
	echo hi | tlsecho -v --pin "$1" --cert "$T/client.pem" \
	    --key "$T/client.key" --wait 300ms 127.0.0.1 "$PORT" \
	    >"$T/out" 2>"$T/c.log" || return 1
	[ "$(cat "$T/out")" = hi ] && grep -q "pin=$1" "$T/c.log"
}
echo_pin "$OLD" || fail "first client: $(cat "$T/c.log")"

# A session opened before the reload: its stdin is a fifo written at two
# moments, before and after the reload.
mkfifo "$T/old.in"
"$BIN/tlsecho" -v --wait 300ms --pin "$OLD" --cert "$T/client.pem" --key "$T/client.key" \
    127.0.0.1 "$PORT" <"$T/old.in" >"$T/old.out" 2>"$T/old.err" &
OLDPID=$!
track "$OLDPID"
exec 3>"$T/old.in"
echo before >&3
wait_until 5 grep -q '^before$' "$T/old.out" ||
    fail "the long session did not echo: $(cat "$T/old.err")"

# Rotate the certificate and key, then SIGHUP.
tlscert self --force --host localhost,127.0.0.1 --cert "$T/server.pem" \
    --key "$T/server.key" >/dev/null || fail "tlscert self --force"
NEW=$(tlscert pin "$T/server.pem")
[ "$NEW" != "$OLD" ] || fail "the rotated certificate has the old pin"
kill -HUP "$DAEMON_PID"
wait_until 5 grep -q 'event=reloaded' "$DAEMON_LOG" ||
    fail "no event=reloaded: $(tail -n 3 "$DAEMON_LOG")"
echo_pin "$NEW" || fail "a new client does not see the new pin: $(cat "$T/c.log")"
ok "after SIGHUP a new client sees the new pin $NEW"
if echo_pin "$OLD"; then
	fail "a new client still got the old certificate"
fi
ok "and a client pinned to the old certificate is refused"

# The old session still echoes, then ends cleanly.
echo after >&3
wait_until 5 grep -q '^after$' "$T/old.out" ||
    fail "the session opened before the reload stopped echoing: \
$(cat "$T/old.err"; tail -n 3 "$DAEMON_LOG")"
exec 3>&-
wait "$OLDPID" || fail "the old session's client exited $?: $(cat "$T/old.err")"
grep -q "pin=$OLD" "$T/old.err" || fail "the old session was not on $OLD"
wait_until 5 grep -q "event=session-close id=2 .*reason=peer-closed" \
    "$DAEMON_LOG" || fail "the old session did not close as peer-closed: \
$(grep 'id=2 ' "$DAEMON_LOG")"
ok "a session opened before the reload still echoes and closes cleanly"

# A broken key file: garbage. The running configuration stays.
cp -p "$T/server.key" "$T/good.key"
echo "not a key" >"$T/server.key"
kill -HUP "$DAEMON_PID"
wait_until 5 grep -q 'event=reload-failed' "$DAEMON_LOG" ||
    fail "no event=reload-failed for a garbage key: $(tail -n 3 "$DAEMON_LOG")"
kill -0 "$DAEMON_PID" || fail "tlsechod died on a broken key"
echo_pin "$NEW" || fail "after a failed reload: $(cat "$T/c.log")"
ok "a garbage key: $(grep -o 'event=reload-failed.*' "$DAEMON_LOG" |
    tail -n 1 | cut -c1-100)...; still serving $NEW"

# A valid key that does not match the certificate.
tlscert self --host localhost --cert "$T/unused.pem" --key "$T/other.key" \
    >/dev/null || fail "tlscert self (other key)"
cp "$T/other.key" "$T/server.key"
kill -HUP "$DAEMON_PID"
wait_until 5 log_count_at_least 'event=reload-failed' 2 ||
    fail "no event=reload-failed for a mismatched key"
kill -0 "$DAEMON_PID" || fail "tlsechod died on a mismatched key"
echo_pin "$NEW" || fail "after a mismatched key: $(cat "$T/c.log")"
ok "a key that does not match: reload-failed; still serving $NEW"
wait_until 5 has w '[o["ok"] for o in T("reload")] == [True, False, False]' ||
    fail "watcher saw reloads $(q w '[(o["ok"], o["message"]) for o in T("reload")]')"
ok "the watcher was told of each: ok, then failed with $(q w 'T("reload")[1]["message"][:60]')..."

# Put the good key back: the next reload succeeds again.
cp -p "$T/good.key" "$T/server.key"
kill -HUP "$DAEMON_PID"
wait_until 5 log_count_at_least 'event=reloaded' 2 ||
    fail "the reload after the repair failed: $(tail -n 2 "$DAEMON_LOG")"
echo_pin "$NEW" || fail "after the repair: $(cat "$T/c.log")"
ok "with the key repaired the next SIGHUP reloads"
stop_daemon || fail "tlsechod exited $? on SIGTERM"
