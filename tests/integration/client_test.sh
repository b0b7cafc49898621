#!/bin/bash
# tlsecho against socat as the TLS echo peer (EXEC:cat), with certificates
# made by tlscert: exact echo, --insecure and its warning, the system store
# refusing a self-signed server, pins (right, wrong, rotation), --ca, -v,
# mutual TLS, option errors, the server closing while stdin is open, and
# connect/handshake timeouts.

. "$(dirname "$0")/lib.sh"

[ -x "$BIN/tlsecho" ] || fail "no $BIN/tlsecho: build it first"
[ -x "$BIN/tlscert" ] || fail "no $BIN/tlscert: build it first"
command -v socat >/dev/null || fail "socat is needed: apt-get install socat"

# free_port: a loopback port that was free a moment ago.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# listening PORT: something accepts TCP connections on 127.0.0.1:PORT.
listening() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# start_peer CERT KEY COMMAND [socat options]: a socat TLS server on a free
# port running COMMAND per connection; sets PEER_PORT.
start_peer() {
	cert=$1 key=$2 cmd=$3
	shift 3
	PEER_PORT=$(free_port)
	socat -d "OPENSSL-LISTEN:$PEER_PORT,bind=127.0.0.1,reuseaddr,fork,cert=$cert,key=$key$*" \
	    "EXEC:$cmd" 2>>"$T/socat-$PEER_PORT.log" &
	track $!
	wait_until 10 listening "$PEER_PORT" ||
	    fail "socat did not listen on $PEER_PORT: $(cat "$T/socat-$PEER_PORT.log")"
}

# elapsed_ms START_NS: milliseconds since START_NS (date +%s%N).
elapsed_ms() {
	echo $(( ($(date +%s%N) - $1) / 1000000 ))
}

# ------------------------------------------------------------ certificates

make_pki
tlscert self --host localhost,127.0.0.1 --cert "$T/self.pem" \
    --key "$T/self.key" >/dev/null || fail "tlscert self"
tlscert self --host localhost,127.0.0.1 --cert "$T/other.pem" \
    --key "$T/other.key" >/dev/null || fail "tlscert self (other)"
PIN=$(tlscert pin "$T/self.pem") || fail "tlscert pin"
OTHER_PIN=$(tlscert pin "$T/other.pem") || fail "tlscert pin (other)"
case "$PIN" in SHA256:*) ;; *) fail "tlscert pin printed '$PIN'" ;; esac
[ "$PIN" != "$OTHER_PIN" ] || fail "two certificates with one pin"

start_peer "$T/self.pem" "$T/self.key" cat ",verify=0"
SELF_PORT=$PEER_PORT
start_peer "$T/server.pem" "$T/server.key" cat ",verify=0"
CA_PORT=$PEER_PORT

# ------------------------------------------------------------ echo

random_file "$T/in.bin" 204800
tlsecho --ca "$T/ca.pem" --wait 500ms localhost "$CA_PORT" \
    <"$T/in.bin" >"$T/out.bin" 2>"$T/echo.log" ||
    fail "echo through --ca exited $?: $(cat "$T/echo.log")"
cmp -s "$T/in.bin" "$T/out.bin" ||
    fail "echo is not exact: sent $(wc -c <"$T/in.bin"), got $(wc -c <"$T/out.bin")"
ok "200 KiB echo exact with --ca"

echo hello | tlsecho --ca "$T/ca.pem" 127.0.0.1 "$CA_PORT" >"$T/out" \
    2>"$T/ca-ip.log" || fail "--ca by IP address: $(cat "$T/ca-ip.log")"
[ "$(cat "$T/out")" = hello ] || fail "--ca by IP echoed '$(cat "$T/out")'"
ok "--ca verifies an IP address against the certificate"

# ------------------------------------------------------------ --insecure

echo hello | tlsecho --insecure --wait 300ms 127.0.0.1 "$SELF_PORT" \
    >"$T/out" 2>"$T/insecure.log" || fail "--insecure exited $?"
[ "$(cat "$T/out")" = hello ] || fail "--insecure echoed '$(cat "$T/out")'"
assert_contains "$T/insecure.log" \
    "tlsecho: warning: --insecure: the server's certificate is not verified"
ok "--insecure works and warns"

# ------------------------------------------------------------ system store

rc=0
echo hello | tlsecho --wait 300ms localhost "$SELF_PORT" >"$T/out" \
    2>"$T/system.log" || rc=$?
[ "$rc" -eq 1 ] || fail "system store against a self-signed server exited $rc"
assert_contains "$T/system.log" "handshake with localhost:$SELF_PORT failed"
grep -Eq 'self.signed|unable to get local issuer|certificate verif' \
    "$T/system.log" || fail "no verification reason: $(cat "$T/system.log")"
[ ! -s "$T/out" ] || fail "data came through an unverified connection"
ok "system store refuses a self-signed server: $(cat "$T/system.log")"

rc=0
echo hello | tlsecho --ca "$T/ca.pem" localhost "$SELF_PORT" \
    >/dev/null 2>"$T/wrong-ca.log" || rc=$?
[ "$rc" -eq 1 ] || fail "--ca with another authority exited $rc"
ok "--ca refuses a server from another authority"

# ------------------------------------------------------------ pins

echo hello | tlsecho --pin "$PIN" --wait 300ms 127.0.0.1 "$SELF_PORT" \
    >"$T/out" 2>"$T/pin.log" || fail "right --pin: $(cat "$T/pin.log")"
[ "$(cat "$T/out")" = hello ] || fail "--pin echoed '$(cat "$T/out")'"
ok "--pin with the server's pin works without a CA"

UPPER=$(echo "$PIN" | tr a-f A-F)
echo hello | tlsecho --pin "$UPPER" --wait 300ms 127.0.0.1 "$SELF_PORT" \
    >/dev/null 2>"$T/pin-upper.log" || fail "upper-case --pin: $(cat "$T/pin-upper.log")"
ok "--pin compares hex without regard to case"

rc=0
echo hello | tlsecho --pin "$OTHER_PIN" 127.0.0.1 "$SELF_PORT" >"$T/out" \
    2>"$T/pin-wrong.log" || rc=$?
[ "$rc" -eq 1 ] || fail "wrong --pin exited $rc"
assert_contains "$T/pin-wrong.log" "server certificate pin $PIN is not one of the pinned"
assert_contains "$T/pin-wrong.log" "$OTHER_PIN"
[ ! -s "$T/out" ] || fail "data came through a mismatched pin"
ok "--pin with another certificate's pin fails showing both"

echo hello | tlsecho --pin "$OTHER_PIN" --pin "$PIN" --wait 300ms \
    127.0.0.1 "$SELF_PORT" >"$T/out" 2>"$T/pin-two.log" ||
    fail "two pins, one right: $(cat "$T/pin-two.log")"
[ "$(cat "$T/out")" = hello ] || fail "two pins echoed '$(cat "$T/out")'"
ok "two --pin, one of them right, works (rotation)"

SERVER_PIN=$(tlscert pin "$T/server.pem") || fail "tlscert pin server.pem"
echo hello | tlsecho --ca "$T/ca.pem" --pin "$SERVER_PIN" --wait 300ms \
    localhost "$CA_PORT" >/dev/null 2>"$T/ca-pin.log" ||
    fail "--ca and the right --pin: $(cat "$T/ca-pin.log")"
rc=0
echo hello | tlsecho --ca "$T/ca.pem" --pin "$OTHER_PIN" localhost \
    "$CA_PORT" >/dev/null 2>"$T/ca-pin-wrong.log" || rc=$?
[ "$rc" -eq 1 ] || fail "--ca with a wrong --pin exited $rc"
ok "--ca and --pin together: both must pass"

# ------------------------------------------------------------ -v

echo hello | tlsecho -v --pin "$PIN" --wait 300ms 127.0.0.1 "$SELF_PORT" \
    >/dev/null 2>"$T/verbose.log" || fail "-v: $(cat "$T/verbose.log")"
assert_contains "$T/verbose.log" '^tlsecho: connected version=TLSv1\.[23] '
assert_contains "$T/verbose.log" ' cipher=[A-Z]'
assert_contains "$T/verbose.log" ' subject="[^"]*CN'
assert_contains "$T/verbose.log" ' issuer="'
assert_contains "$T/verbose.log" " pin=$PIN"
ok "-v: $(cat "$T/verbose.log")"

echo hello | tlsecho -v --protocols tlsv1.2 --ca "$T/ca.pem" --wait 300ms \
    localhost "$CA_PORT" >/dev/null 2>"$T/tls12.log" ||
    fail "--protocols tlsv1.2: $(cat "$T/tls12.log")"
assert_contains "$T/tls12.log" 'version=TLSv1.2 '
ok "--protocols tlsv1.2 negotiates TLS 1.2"

# ------------------------------------------------------------ mutual TLS

start_peer "$T/server.pem" "$T/server.key" cat ",verify=1,cafile=$T/ca.pem"
MTLS_PORT=$PEER_PORT
echo hello | tlsecho --ca "$T/ca.pem" --cert "$T/client.pem" \
    --key "$T/client.key" --wait 300ms localhost "$MTLS_PORT" >"$T/out" \
    2>"$T/mtls.log" || fail "client certificate: $(cat "$T/mtls.log")"
[ "$(cat "$T/out")" = hello ] || fail "mutual TLS echoed '$(cat "$T/out")'"
rc=0
echo hello | tlsecho --ca "$T/ca.pem" --wait 300ms localhost "$MTLS_PORT" \
    >"$T/out" 2>"$T/mtls-none.log" || rc=$?
[ "$rc" -eq 1 ] || fail "no client certificate exited $rc"
[ ! -s "$T/out" ] || fail "echo without the required client certificate"
ok "--cert/--key present a client certificate; without one the server refuses"

# ------------------------------------------------------------ usage errors

rc=0
tlsecho --protocols tlsv9 127.0.0.1 "$SELF_PORT" </dev/null \
    2>"$T/usage-proto.log" || rc=$?
[ "$rc" -eq 2 ] || fail "bad --protocols exited $rc"
assert_contains "$T/usage-proto.log" "tlsecho: --protocols: 'tlsv9'"
assert_contains "$T/usage-proto.log" "tlsv1.3"
ok "a bad --protocols names the option and the expected form"

rc=0
tlsecho --cert "$T/client.pem" 127.0.0.1 "$SELF_PORT" </dev/null \
    2>"$T/usage-key.log" || rc=$?
[ "$rc" -eq 2 ] || fail "--cert without --key exited $rc"
assert_contains "$T/usage-key.log" "--key"
ok "--cert without --key names --key"

rc=0
tlsecho --pin deadbeef 127.0.0.1 "$SELF_PORT" </dev/null \
    2>"$T/usage-pin.log" || rc=$?
[ "$rc" -eq 2 ] || fail "malformed --pin exited $rc"
assert_contains "$T/usage-pin.log" "SHA256:"
rc=0
tlsecho --connect-timeout soon 127.0.0.1 "$SELF_PORT" </dev/null \
    2>"$T/usage-timeout.log" || rc=$?
[ "$rc" -eq 2 ] || fail "bad --connect-timeout exited $rc"
assert_contains "$T/usage-timeout.log" "--connect-timeout"
ok "malformed --pin and --connect-timeout are usage errors"

# ------------------------------------------------------------ server closes

start_peer "$T/self.pem" "$T/self.key" "head -c 5" ",verify=0"
CLOSE_PORT=$PEER_PORT
mkfifo "$T/stdin"
# The writer keeps stdin open for 30 s after "hello".
{ printf hello; exec sleep 30; } >"$T/stdin" &
track $!
start=$(date +%s%N)
rc=0
timeout 10 "$BIN/tlsecho" --pin "$PIN" 127.0.0.1 "$CLOSE_PORT" \
    <"$T/stdin" >"$T/out" 2>"$T/close.log" || rc=$?
ms=$(elapsed_ms "$start")
[ "$rc" -eq 0 ] || fail "server close: exited $rc: $(cat "$T/close.log")"
[ "$ms" -lt 5000 ] || fail "server close: took $ms ms with stdin open"
[ "$(cat "$T/out")" = hello ] || fail "server close: got '$(cat "$T/out")'"
ok "the server closing ends the session at once with stdin open ($ms ms)"

# ------------------------------------------------------------ --wait

start=$(date +%s%N)
tlsecho --pin "$PIN" --wait 400ms 127.0.0.1 "$SELF_PORT" </dev/null \
    >/dev/null 2>"$T/wait.log" || fail "--wait: $(cat "$T/wait.log")"
ms=$(elapsed_ms "$start")
[ "$ms" -ge 350 ] && [ "$ms" -lt 3000 ] ||
    fail "--wait 400ms with a quiet server took $ms ms"
ok "after stdin ends, a quiet server is closed after --wait ($ms ms)"

# ------------------------------------------------------------ timeouts

DEAD_PORT=$(free_port)
start=$(date +%s%N)
rc=0
tlsecho --connect-timeout 2s --insecure 127.0.0.1 "$DEAD_PORT" </dev/null \
    2>"$T/refused.log" || rc=$?
ms=$(elapsed_ms "$start")
[ "$rc" -eq 1 ] || fail "connect to a closed port exited $rc"
[ "$ms" -lt 2500 ] || fail "connect to a closed port took $ms ms"
assert_contains "$T/refused.log" "connect to 127.0.0.1:$DEAD_PORT"
assert_contains "$T/refused.log" "refused"
ok "nobody listening: fails in $ms ms: $(tail -n 1 "$T/refused.log")"

# A listener that never accepts: TCP connects (backlog), TLS never starts.
python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
time.sleep(60)
' >"$T/mute.port" &
track $!
wait_until 10 test -s "$T/mute.port" || fail "mute listener did not start"
MUTE_PORT=$(cat "$T/mute.port")
start=$(date +%s%N)
rc=0
tlsecho --connect-timeout 700ms --pin "$PIN" 127.0.0.1 "$MUTE_PORT" \
    </dev/null 2>"$T/mute.log" || rc=$?
ms=$(elapsed_ms "$start")
[ "$rc" -eq 1 ] || fail "silent server exited $rc"
[ "$ms" -ge 600 ] && [ "$ms" -lt 3000 ] ||
    fail "--connect-timeout 700ms took $ms ms"
assert_contains "$T/mute.log" "handshake with 127.0.0.1:$MUTE_PORT timed out"
ok "--connect-timeout bounds the handshake ($ms ms)"

echo "all client tests passed"
