#!/bin/bash
# tlsechod refuses to start, with one line naming the problem, when the
# key is readable by others, certificate and key do not match, a file is
# missing, the address is in use or invalid, or an option is malformed.

. "$(dirname "$0")/lib.sh"

make_pki
tlscert self --host localhost --cert "$T/other.pem" --key "$T/other.key" \
    >/dev/null || fail "tlscert self"

# refuses EXPECTED ARGS...: tlsechod must exit non-zero at once with a
# single line containing EXPECTED.
refuses() {
	want=$1
	shift
	timeout 10 "$BIN/tlsechod" --stats-socket none "$@" >"$T/out" 2>&1 &&
	    fail "tlsechod started with: $*"
	[ "$(wc -l <"$T/out")" -eq 1 ] ||
	    fail "expected one line for '$*', got: $(cat "$T/out")"
	grep -qF -- "$want" "$T/out" ||
	    fail "expected '$want' for '$*', got: $(cat "$T/out")"
	ok "refuses: $(cat "$T/out")"
}

cp "$T/server.key" "$T/open.key"
chmod 644 "$T/open.key"
refuses "chmod 600" --listen 127.0.0.1:0 --cert "$T/server.pem" --key "$T/open.key"
refuses "mismatch" --listen 127.0.0.1:0 --cert "$T/server.pem" --key "$T/other.key"
refuses "$T/missing.pem: No such file" --listen 127.0.0.1:0 --cert "$T/missing.pem" --key "$T/server.key"
refuses "$T/missing.key: No such file" --listen 127.0.0.1:0 --cert "$T/server.pem" --key "$T/missing.key"
echo "not a certificate" >"$T/junk.pem"
refuses "$T/junk.pem" --listen 127.0.0.1:0 --cert "$T/junk.pem" --key "$T/server.key"

start_daemon
refuses "Address already in use" --listen "127.0.0.1:$PORT" --cert "$T/server.pem" --key "$T/server.key"
refuses "expected HOST:PORT" --listen "127.0.0.1" --cert "$T/server.pem" --key "$T/server.key"
refuses "not a number from 0 to 65535" --listen "127.0.0.1:99999" --cert "$T/server.pem" --key "$T/server.key"
refuses "--idle-timeout" --idle-timeout soon --cert "$T/server.pem" --key "$T/server.key"
refuses "--max-conns" --max-conns 0 --cert "$T/server.pem" --key "$T/server.key"
refuses "--protocols" --protocols tlsv9 --cert "$T/server.pem" --key "$T/server.key"
refuses "--cert FILE is required" --key "$T/server.key"
refuses "--bogus: unknown option" --bogus --cert "$T/server.pem" --key "$T/server.key"

# IPv6 listen works where the machine has ::1.
if [ -e /proc/net/if_inet6 ] && grep -q '^0*1 ' /proc/net/if_inet6 2>/dev/null ||
    ip -6 addr show dev lo 2>/dev/null | grep -q '::1'; then
	"$BIN/tlsechod" --listen '[::1]:0' --cert "$T/server.pem" \
	    --key "$T/server.key" --stats-socket none >"$T/v6.log" 2>&1 &
	track $!
	wait_until 10 grep -q 'event=listening addr=\[::1\]:' "$T/v6.log" ||
	    fail "no IPv6 listener: $(cat "$T/v6.log")"
	port6=$(sed -n 's/.*addr=\[::1\]:\([0-9]*\).*/\1/p' "$T/v6.log")
	echo six | tlsecho --ca "$T/ca.pem" --wait 1s ::1 "$port6" >"$T/v6.out" 2>"$T/v6c.log" ||
	    fail "IPv6 echo: $(cat "$T/v6c.log")"
	[ "$(cat "$T/v6.out")" = six ] || fail "IPv6 echo gave '$(cat "$T/v6.out")'"
	ok "listens on [::1]:$port6 and echoes"
else
	ok "no ::1 on this machine: IPv6 listen not checked"
fi
