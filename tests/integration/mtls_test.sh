#!/bin/bash
# Mutual TLS in tlsechod: the chapter's pinned mutual TLS test, every
# refusal with its precise close reason (in the log and in the stats
# snapshot), --verify-client-addr passing by IP SAN and by a
# forward-confirmed name, --client-ca-optional with and without a
# certificate, and the peer certificate fields the monitor shows.

. "$(dirname "$0")/lib.sh"

# closed_json REASON: the last closed record with this reason in a fresh
# snapshot, as JSON (empty when there is none).
closed_json() {
	stats snapshot >"$T/snap.json"
	python3 - "$T/snap.json" "$1" <<'PY'
import json, sys
found = None
for line in open(sys.argv[1]):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if o.get("type") == "closed" and o.get("reason") == sys.argv[2]:
        found = o
if found is not None:
    print(json.dumps(found))
PY
}

# refused NAME REASON [tlsecho options]: a client that must be refused
# with REASON: it receives no echo, the daemon logs the reason and the
# snapshot's closed record carries it.
refused() {
	name=$1
	reason=$2
	shift 2
	echo hi | tlsecho --pin "$SPIN" --wait 300ms "$@" 127.0.0.1 "$PORT" \
	    >"$T/$name.out" 2>"$T/$name.err"
	[ ! -s "$T/$name.out" ] ||
	    fail "$name: a refused client got an echo: $(cat "$T/$name.out")"
	wait_until 5 grep -q "event=session-close .*reason=$reason" \
	    "$DAEMON_LOG" || fail "$name: no reason=$reason in the log: \
$(grep event=session-close "$DAEMON_LOG" | tail -n 1)"
	json=$(closed_json "$reason")
	[ -n "$json" ] || fail "$name: no closed record with reason $reason: \
$(grep '"closed"' "$T/snap.json" | tail -n 1)"
	detail=$(grep -o "reason=$reason detail=\"[^\"]*\"" "$DAEMON_LOG" |
	    tail -n 1)
	ok "$name is refused: ${detail:-reason=$reason} (log and snapshot)"
}

# peer_cert_check FILE PEM: the record in FILE (JSON) carries PEM's
# subject, issuer, pin and notAfter.
peer_cert_check() {
	pin=$(tlscert pin "$2")
	subj=$(openssl x509 -in "$2" -noout -subject -nameopt compat |
	    sed 's/^subject=//')
	iss=$(openssl x509 -in "$2" -noout -issuer -nameopt compat |
	    sed 's/^issuer=//')
	end=$(date -d "$(openssl x509 -in "$2" -noout -enddate |
	    sed 's/^notAfter=//')" +%s)
	python3 - "$1" "$pin" "$subj" "$iss" "$end" <<'PY' ||
import json, sys
o = json.load(open(sys.argv[1]))
pc = o.get("peer_cert")
want = {"pin": sys.argv[2], "subject": sys.argv[3], "issuer": sys.argv[4],
        "not_after": int(sys.argv[5])}
if not isinstance(pc, dict):
    sys.exit("peer_cert is %r" % (pc,))
for k, v in want.items():
    if pc.get(k) != v:
        sys.exit("peer_cert.%s is %r, expected %r" % (k, pc.get(k), v))
PY
	    fail "peer_cert of $(cat "$1")"
}

# ------------------------------------------------------------ the chapter
# Server pinned to the client certificate (its own CA), client pinned to
# the server certificate; TLS 1.3 by default; echo works.
tlscert self --host localhost,127.0.0.1 --cert "$T/server.pem" \
    --key "$T/server.key" >/dev/null || fail "tlscert self (server)"
tlscert self --host localhost,127.0.0.1 --name "pinned client" \
    --cert "$T/cself.pem" --key "$T/cself.key" >/dev/null ||
    fail "tlscert self (client)"
tlscert self --host localhost,127.0.0.1 --name "stranger" \
    --cert "$T/stranger.pem" --key "$T/stranger.key" >/dev/null ||
    fail "tlscert self (stranger)"
SPIN=$(tlscert pin "$T/server.pem")
start_daemon --client-ca "$T/cself.pem"

echo hi | tlsecho -v --pin "$SPIN" --cert "$T/cself.pem" \
    --key "$T/cself.key" --wait 300ms 127.0.0.1 "$PORT" >"$T/out" \
    2>"$T/c.log" || fail "pinned mutual TLS failed: $(cat "$T/c.log")"
[ "$(cat "$T/out")" = hi ] || fail "pinned mutual TLS echoed '$(cat "$T/out")'"
assert_contains "$T/c.log" "version=TLSv1.3"
assert_contains "$T/c.log" "pin=$SPIN"
ok "mutual TLS pinned both ways: TLSv1.3, echo works"
refused "no-certificate" no-client-cert
refused "another-self-signed" unknown-ca --cert "$T/stranger.pem" \
    --key "$T/stranger.key"

# The monitor's record of a live session: subject, issuer, pin, notAfter.
hold_stdin live
# (the binary itself, not the tlsecho function, so that $! is the client)
"$BIN/tlsecho" --pin "$SPIN" --cert "$T/cself.pem" --key "$T/cself.key" \
    127.0.0.1 "$PORT" <"$T/hold.live" >"$T/live.out" 2>"$T/live.err" &
LIVE=$!
track "$LIVE"
live_json() {
	stats snapshot >"$T/snap.json"
	python3 - "$T/snap.json" >"$T/live.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get("type") == "session" and o.get("peer_cert"):
        print(json.dumps(o))
        sys.exit(0)
sys.exit(1)
PY
}
wait_until 5 live_json || fail "no live session with a peer_cert: \
$(cat "$T/snap.json")"
peer_cert_check "$T/live.json" "$T/cself.pem"
kill "$LIVE"
ok "the session record carries the client's subject, issuer, pin and notAfter"
stop_daemon || fail "tlsechod exited $? on SIGTERM"

# ------------------------------------------------------------ refusals
rm -f "$T"/server.pem "$T"/server.key
make_pki
tlscert ca --name "other CA" --cert "$T/oca.pem" --key "$T/oca.key" \
    >/dev/null || fail "tlscert ca (other)"
SPIN=$(tlscert pin "$T/server.pem")
client() {	# client NAME [CA] [tlscert client options]
	n=$1
	ca=$2
	shift 2
	tlscert client --ca-cert "$T/$ca.pem" --ca-key "$T/$ca.key" \
	    --name "$n" "$@" --cert "$T/$n.pem" --key "$T/$n.key" \
	    >/dev/null || fail "tlscert client $n"
}
client other oca --host 127.0.0.1,localhost
client expired ca --host 127.0.0.1,localhost --not-before -30d \
    --not-after -1d
client future ca --host 127.0.0.1,localhost --not-before +1d \
    --not-after +30d
client revoked ca --host 127.0.0.1,localhost
client serveronly ca --host 127.0.0.1,localhost --eku server
client elsewhere ca --host 192.0.2.7,elsewhere.invalid
client ipsan ca --host 127.0.0.2
client byname ca --host localhost
tlscert revoke --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" \
    --crl "$T/crl.pem" "$T/revoked.pem" >/dev/null || fail "tlscert revoke"

start_daemon --client-ca "$T/ca.pem" --crl "$T/crl.pem" --verify-client-addr

echo hi | tlsecho -v --pin "$SPIN" --cert "$T/client.pem" \
    --key "$T/client.key" --wait 300ms 127.0.0.1 "$PORT" >"$T/out" \
    2>"$T/c.log" || fail "CA-issued client failed: $(cat "$T/c.log")"
[ "$(cat "$T/out")" = hi ] || fail "CA-issued client echoed '$(cat "$T/out")'"
ok "a client certificate from the CA, naming 127.0.0.1, is accepted"
json=$(closed_json peer-closed)
[ -n "$json" ] || fail "no closed record for the accepted client"
printf '%s\n' "$json" >"$T/closed.json"
peer_cert_check "$T/closed.json" "$T/client.pem"
ok "its closed record carries subject, issuer, pin (= tlscert pin) and notAfter"

refused "no-certificate" no-client-cert
refused "another CA" unknown-ca --cert "$T/other.pem" --key "$T/other.key"
refused "expired" cert-expired --cert "$T/expired.pem" --key "$T/expired.key"
refused "not-yet-valid" cert-not-yet-valid --cert "$T/future.pem" \
    --key "$T/future.key"
refused "revoked" cert-revoked --cert "$T/revoked.pem" --key "$T/revoked.key"
refused "serverAuth-only" bad-key-usage --cert "$T/serveronly.pem" \
    --key "$T/serveronly.key"
refused "address not in certificate" addr-not-in-cert \
    --cert "$T/elsewhere.pem" --key "$T/elsewhere.key"
# With client certificates the default is TLS 1.3 only.
refused "TLS 1.2 with a good certificate" protocol-version \
    --protocols tlsv1.2 --cert "$T/client.pem" --key "$T/client.key"

# Refusals at the same moment each keep their own reason (libtls writes
# the verify error into the server context; each session has its own).
n=$(grep -c 'reason=cert-expired' "$DAEMON_LOG")
pids=""
for i in 1 2 3 4 5 6 7 8; do
	echo hi | "$BIN/tlsecho" --pin "$SPIN" --cert "$T/expired.pem" \
	    --key "$T/expired.key" --wait 300ms 127.0.0.1 "$PORT" \
	    >/dev/null 2>&1 &
	pids="$pids $!"
done
for p in $pids; do
	wait "$p"
done
wait_until 5 log_count_at_least 'reason=cert-expired' $((n + 8)) ||
    fail "8 concurrent expired clients: $(grep -c 'reason=cert-expired' \
"$DAEMON_LOG") cert-expired closes, expected $((n + 8))"
kill -0 "$DAEMON_PID" || fail "tlsechod died under concurrent refusals"
ok "8 concurrent refusals each close as cert-expired"
# The counters tally handshake failures by reason, as the log has them.
stats snapshot >"$T/snap.json"
python3 - "$T/snap.json" "$((n + 8))" <<'PY' ||
import json, sys
c = [json.loads(l) for l in open(sys.argv[1])]
hf = [o for o in c if o["type"] == "counters"][0]["handshake_failures"]
want = {"cert-expired": int(sys.argv[2]), "unknown-ca": 1,
        "no-client-cert": 1, "cert-not-yet-valid": 1, "cert-revoked": 1,
        "bad-key-usage": 1, "addr-not-in-cert": 1, "protocol-version": 1}
bad = {k: (hf.get(k), v) for k, v in want.items() if hf.get(k) != v}
assert not bad, (bad, hf)
PY
    fail "handshake_failures in the snapshot: $(grep -o '"handshake_failures":{[^}]*}' "$T/snap.json")"
ok "counters: $(grep -o '"handshake_failures":{[^}]*}' "$T/snap.json")"

# Address binding by IP SAN: the certificate names 127.0.0.2 only, and
# the client connects from there.
echo hi | tlsecho -s 127.0.0.2 --pin "$SPIN" --cert "$T/ipsan.pem" \
    --key "$T/ipsan.key" --wait 300ms 127.0.0.1 "$PORT" >"$T/out" \
    2>"$T/c.log" || fail "IP SAN client failed: $(cat "$T/c.log")"
[ "$(cat "$T/out")" = hi ] ||
    fail "IP SAN client from 127.0.0.2 echoed '$(cat "$T/out")'; $(tail -n 1 "$DAEMON_LOG")"
assert_contains "$DAEMON_LOG" "event=session-open id=[0-9]* peer=127.0.0.2:"
ok "address bound by IP SAN: 127.0.0.2 passes from 127.0.0.2"
# ... and the same certificate from 127.0.0.1 is refused.
n=$(grep -c 'reason=addr-not-in-cert' "$DAEMON_LOG")
echo hi | tlsecho --pin "$SPIN" --cert "$T/ipsan.pem" --key "$T/ipsan.key" \
    --wait 300ms 127.0.0.1 "$PORT" >"$T/out" 2>"$T/c.log"
[ ! -s "$T/out" ] || fail "a certificate for 127.0.0.2 passed from 127.0.0.1"
wait_until 5 log_count_at_least 'reason=addr-not-in-cert' $((n + 1)) ||
    fail "no addr-not-in-cert for 127.0.0.2's certificate from 127.0.0.1"
ok "the 127.0.0.2 certificate is refused from 127.0.0.1"

# Address binding by a forward-confirmed name: 127.0.0.1's PTR is
# localhost and localhost resolves back to 127.0.0.1 (/etc/hosts).
ptr=$(getent hosts 127.0.0.1 | awk '{ print $2; exit }')
if [ "$ptr" != localhost ] ||
    ! getent ahostsv4 localhost | grep -q '^127\.0\.0\.1 '; then
	ok "# SKIP forward-confirmed name: 127.0.0.1's name here is" \
	    "'$ptr', or localhost does not resolve to 127.0.0.1"
else
	echo hi | tlsecho --pin "$SPIN" --cert "$T/byname.pem" \
	    --key "$T/byname.key" --wait 300ms 127.0.0.1 "$PORT" \
	    >"$T/out" 2>"$T/c.log" ||
	    fail "localhost client failed: $(cat "$T/c.log")"
	[ "$(cat "$T/out")" = hi ] || fail "a certificate for localhost \
from 127.0.0.1 was refused: $(grep session-close "$DAEMON_LOG" | tail -n 1)"
	ok "address bound by forward-confirmed name: localhost from 127.0.0.1"
fi
stop_daemon || fail "tlsechod exited $? on SIGTERM"

# ------------------------------------------------------------ optional
start_daemon --client-ca "$T/ca.pem" --client-ca-optional
echo hi | tlsecho --pin "$SPIN" --wait 300ms 127.0.0.1 "$PORT" >"$T/out" \
    2>"$T/c.log" || fail "optional, no certificate: $(cat "$T/c.log")"
[ "$(cat "$T/out")" = hi ] || fail "optional, no certificate echoed '$(cat "$T/out")'"
wait_until 5 grep -q 'reason=peer-closed' "$DAEMON_LOG" ||
    fail "no close for the client without a certificate"
json=$(closed_json peer-closed)
printf '%s\n' "$json" | python3 -c 'import json,sys; o=json.load(sys.stdin); sys.exit(o["peer_cert"] is not None)' ||
    fail "optional, no certificate: peer_cert is not null: $json"
ok "optional mode without a certificate: echo works, peer_cert is null"
echo hi | tlsecho --pin "$SPIN" --cert "$T/client.pem" --key "$T/client.key" \
    --wait 300ms 127.0.0.1 "$PORT" >"$T/out" 2>"$T/c.log" ||
    fail "optional, with a certificate: $(cat "$T/c.log")"
[ "$(cat "$T/out")" = hi ] || fail "optional, with a certificate echoed '$(cat "$T/out")'"
wait_until 5 log_count_at_least 'reason=peer-closed' 2 ||
    fail "no close for the client with a certificate"
closed_json peer-closed >"$T/closed.json"
peer_cert_check "$T/closed.json" "$T/client.pem"
ok "optional mode with a certificate: echo works, peer_cert recorded"
# A subject with a double quote stays inside its quoted log value.
tlscert client --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" --name 'say "hi"' \
    --host 127.0.0.1 --cert "$T/quote.pem" --key "$T/quote.key" >/dev/null ||
    fail "tlscert client (quote)"
echo hi | tlsecho --pin "$SPIN" --cert "$T/quote.pem" --key "$T/quote.key" \
    --wait 300ms 127.0.0.1 "$PORT" >"$T/out" 2>"$T/c.log" ||
    fail "optional, quoted subject: $(cat "$T/c.log")"
wait_until 5 grep -q 'client_subject="/CN=say \\x22hi\\x22" ' "$DAEMON_LOG" ||
    fail "the quoted subject is not escaped in the log: $(grep 'say' "$DAEMON_LOG")"
ok "a subject with double quotes is logged as client_subject=\"/CN=say \\x22hi\\x22\""
refused "optional, another CA" unknown-ca --cert "$T/other.pem" \
    --key "$T/other.key"
stop_daemon || fail "tlsechod exited $? on SIGTERM"
