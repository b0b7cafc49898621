#!/bin/bash
# The tests of the classic Go TLS echo chapter, against the real tlsechod:
# an unknown authority is refused, --insecure works (and warns), pinning by
# CA file and by --pin works and a different pin is refused, echo is
# byte-exact, and an idle session is closed at the limit with the client
# reading EOF.

. "$(dirname "$0")/lib.sh"

tlscert self --host localhost,127.0.0.1 --cert "$T/server.pem" \
    --key "$T/server.key" >/dev/null || fail "tlscert self"
tlscert self --host localhost,127.0.0.1 --cert "$T/other.pem" \
    --key "$T/other.key" >/dev/null || fail "tlscert self (other)"
start_daemon --idle-timeout 1s

# A client that trusts only the system store: unknown authority.
if echo hi | tlsecho --wait 300ms 127.0.0.1 "$PORT" >"$T/out" 2>"$T/c.log"; then
	fail "the system store accepted a self-signed server"
fi
grep -Eiq 'self-signed|unknown|local issuer' "$T/c.log" ||
    fail "no unknown-authority reason: $(cat "$T/c.log")"
ok "unknown authority is refused: $(tail -n 1 "$T/c.log")"

# --insecure: works, and says loudly what it gave up.
echo hi | tlsecho --insecure --wait 300ms 127.0.0.1 "$PORT" >"$T/out" \
    2>"$T/c.log" || fail "--insecure failed: $(cat "$T/c.log")"
[ "$(cat "$T/out")" = hi ] || fail "--insecure echoed '$(cat "$T/out")'"
assert_contains "$T/c.log" "warning: --insecure"
ok "--insecure echoes and warns"

# Pinned by CA file (the self-signed certificate is its own CA).
echo hi | tlsecho --ca "$T/server.pem" --wait 300ms localhost "$PORT" \
    >"$T/out" 2>"$T/c.log" || fail "--ca pin failed: $(cat "$T/c.log")"
[ "$(cat "$T/out")" = hi ] || fail "--ca echoed '$(cat "$T/out")'"
ok "pinned by CA file"

# Pinned by hash.
PIN=$(tlscert pin "$T/server.pem")
echo hi | tlsecho --pin "$PIN" --wait 300ms 127.0.0.1 "$PORT" \
    >"$T/out" 2>"$T/c.log" || fail "--pin failed: $(cat "$T/c.log")"
[ "$(cat "$T/out")" = hi ] || fail "--pin echoed '$(cat "$T/out")'"
ok "pinned by --pin"

# Pinned to another certificate: refused, both by CA file and by hash.
if echo hi | tlsecho --ca "$T/other.pem" --wait 300ms localhost "$PORT" \
    >"$T/out" 2>"$T/c.log"; then
	fail "a client pinned to another CA file was accepted"
fi
[ ! -s "$T/out" ] || fail "a refused client received data"
OTHER=$(tlscert pin "$T/other.pem")
if echo hi | tlsecho --pin "$OTHER" --wait 300ms 127.0.0.1 "$PORT" \
    >"$T/out" 2>"$T/c.log"; then
	fail "a client pinned to another certificate was accepted"
fi
assert_contains "$T/c.log" "$PIN"
assert_contains "$T/c.log" "$OTHER"
ok "a different pin is refused: $(tail -n 1 "$T/c.log" | cut -c1-100)..."

# Echo is byte-exact, across many records.
random_file "$T/in.bin" 3000000
tlsecho --pin "$PIN" --wait 2s 127.0.0.1 "$PORT" <"$T/in.bin" \
    >"$T/out.bin" 2>"$T/c.log" || fail "echo failed: $(cat "$T/c.log")"
cmp "$T/in.bin" "$T/out.bin" || fail "echo is not byte-exact"
ok "3 MB echo is byte-exact"

# Idle: the client sends nothing and keeps stdin open; the daemon closes
# at the 1 s limit and the client reads EOF and exits.
hold_stdin idle
start=$(date +%s%N)
tlsecho --pin "$PIN" 127.0.0.1 "$PORT" <"$T/hold.idle" >"$T/out" 2>"$T/c.log" ||
    fail "idle client exited $?: $(cat "$T/c.log")"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -ge 900 ] || fail "closed after ${ms}ms, before the 1s idle limit"
[ "$ms" -lt 10000 ] || fail "idle limit of 1s took ${ms}ms"
wait_until 5 grep -q 'reason=idle' "$DAEMON_LOG" ||
    fail "no reason=idle in the log"
ok "idle session closed after ${ms}ms with reason=idle; client read EOF"
