#!/bin/bash
# tlscert makes what the design promises, checked with the openssl command
# line: P-256 keys in PKCS#8 files created 0600, positive 128-bit serials,
# extensions per kind, 365-day years, chains that verify, CRLs that
# revoke, pins equal to tls_peer_cert_hash(), and errors that name the
# option or the file.

. "$(dirname "$0")/lib.sh"

TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$T" || fail "cd $T"

# x509 FILE: the certificate as text.
x509() { openssl x509 -in "$1" -text -noout; }

# seconds FILE startdate|enddate: a validity bound as epoch seconds.
seconds() {
	date -u -d "$(openssl x509 -in "$1" -noout -"$2" | cut -d= -f2)" +%s
}

# lifetime FILE: notAfter - notBefore in seconds.
lifetime() { echo $(( $(seconds "$1" enddate) - $(seconds "$1" startdate) )); }

# must_fail LOG COMMAND...: COMMAND exits non-zero; its output goes to LOG.
must_fail() {
	log=$1
	shift
	if "$@" >"$log" 2>&1; then
		fail "succeeded but should not have: $*"
	fi
}

# --- the four kinds -----------------------------------------------------

umask 000	# key files must be 0600 whatever the umask
make_pki
tlscert self --host example.test,10.1.2.3,fd00::1 --cert self.pem \
    --key self.key >self.out || fail "tlscert self"
umask 022
for f in ca server client self; do
	x509 "$f.pem" >"$f.txt" || fail "$f.pem does not parse"
done
ok "self, ca, server and client certificates parse"

for f in ca server client self; do
	mode=$(stat -c %a "$f.key")
	[ "$mode" = 600 ] || fail "$f.key has mode $mode, not 600"
	[ "$(head -n 1 "$f.key")" = "-----BEGIN PRIVATE KEY-----" ] ||
	    fail "$f.key is not PKCS#8: $(head -n 1 "$f.key")"
	openssl pkey -in "$f.key" -noout 2>/dev/null ||
	    fail "$f.key does not parse"
	[ "$(openssl pkey -in "$f.key" -pubout 2>/dev/null)" = \
	    "$(openssl x509 -in "$f.pem" -noout -pubkey)" ] ||
	    fail "$f.key is not the key of $f.pem"
	assert_contains "$f.txt" "NIST CURVE: P-256"
	assert_contains "$f.txt" "Signature Algorithm: ecdsa-with-SHA256"
done
ok "keys are P-256, PKCS#8 'PRIVATE KEY', mode 0600 even under umask 000"

for f in ca server client self; do
	serial=$(openssl x509 -in "$f.pem" -noout -serial | cut -d= -f2)
	case "$serial" in
	*[!0-9A-F]*|"") fail "$f.pem: odd serial '$serial'" ;;
	esac
	[ "${#serial}" -le 32 ] || fail "$f.pem: serial $serial is over 16 bytes"
	[ "${#serial}" -lt 32 ] || case "$serial" in
	[0-7]*) ;;
	*) fail "$f.pem: serial $serial has its top bit set (negative)" ;;
	esac
	[ -n "$(echo "$serial" | tr -d 0)" ] || fail "$f.pem: serial is zero"
	assert_not_contains "$f.txt" "Negative"
done
s1=$(openssl x509 -in server.pem -noout -serial)
s2=$(openssl x509 -in client.pem -noout -serial)
[ "$s1" != "$s2" ] || fail "two certificates share serial $s1"
ok "serials are positive, nonzero, at most 16 bytes, and differ"

assert_contains ca.txt "CA:TRUE"
grep -A1 "Basic Constraints: critical" ca.txt | grep -q "CA:TRUE" ||
    fail "ca.pem: basicConstraints not critical CA:TRUE"
grep -A1 "Key Usage: critical" ca.txt |
    grep -q "Digital Signature, Certificate Sign, CRL Sign" ||
    fail "ca.pem: key usage: $(grep -A1 'Key Usage' ca.txt)"
assert_not_contains ca.txt "Extended Key Usage"
assert_contains ca.txt "Subject Key Identifier"
assert_contains ca.txt "Subject: CN = test CA"
ok "CA: CA:TRUE, keyCertSign+cRLSign+digitalSignature, no EKU, SKI"

grep -A1 "Basic Constraints: critical" self.txt | grep -q "CA:TRUE" ||
    fail "self.pem: basicConstraints not critical CA:TRUE"
grep -A1 "Key Usage: critical" self.txt |
    grep -q "Digital Signature, Key Encipherment, Certificate Sign" ||
    fail "self.pem: key usage: $(grep -A1 'Key Usage' self.txt)"
grep -A1 "Extended Key Usage" self.txt | grep -q \
    "TLS Web Server Authentication, TLS Web Client Authentication" ||
    fail "self.pem: EKU: $(grep -A1 'Extended Key Usage' self.txt)"
grep -A1 "Subject Alternative Name" self.txt | grep -q \
    "DNS:example.test, IP Address:10.1.2.3, IP Address:FD00:0:0:0:0:0:0:1" ||
    fail "self.pem: SANs: $(grep -A1 'Subject Alternative Name' self.txt)"
assert_contains self.txt "Subject: CN = example.test"
assert_contains self.txt "Issuer: CN = example.test"
assert_contains self.txt "Subject Key Identifier"
openssl verify -CAfile self.pem self.pem >/dev/null ||
    fail "self.pem does not verify against itself"
ok "self: CA:TRUE, serverAuth+clientAuth, DNS and IP SANs, CN = first host"

grep -A1 "Basic Constraints" server.txt | grep -q "CA:FALSE" ||
    fail "server.pem: not CA:FALSE"
grep -A1 "Key Usage: critical" server.txt | grep -q "Digital Signature$" ||
    fail "server.pem: key usage: $(grep -A1 'Key Usage' server.txt)"
grep -A1 "Extended Key Usage" server.txt |
    grep -q "^ *TLS Web Server Authentication$" ||
    fail "server.pem: EKU: $(grep -A1 'Extended Key Usage' server.txt)"
grep -A1 "Subject Alternative Name" server.txt | grep -q \
    "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1" ||
    fail "server.pem: SANs: $(grep -A1 'Subject Alternative Name' server.txt)"
assert_contains server.txt "Issuer: CN = test CA"
assert_contains server.txt "Subject: CN = localhost"
assert_contains server.txt "Authority Key Identifier"
assert_contains server.txt "Subject Key Identifier"
ok "server: CA:FALSE, digitalSignature, serverAuth only, SANs, AKI and SKI"

grep -A1 "Extended Key Usage" client.txt |
    grep -q "^ *TLS Web Client Authentication$" ||
    fail "client.pem: EKU: $(grep -A1 'Extended Key Usage' client.txt)"
grep -A1 "Basic Constraints" client.txt | grep -q "CA:FALSE" ||
    fail "client.pem: not CA:FALSE"
assert_contains client.txt "Subject: CN = test client"
assert_contains client.txt "IP Address:127.0.0.1"
ok "client: CA:FALSE, clientAuth only, CN = --name, SANs from --host"

openssl verify -CAfile ca.pem server.pem client.pem >verify.log 2>&1 ||
    fail "leaves do not verify: $(cat verify.log)"
openssl verify -purpose sslserver -CAfile ca.pem server.pem >/dev/null ||
    fail "server.pem is not fit for a TLS server"
openssl verify -purpose sslclient -CAfile ca.pem client.pem >/dev/null ||
    fail "client.pem is not fit for a TLS client"
must_fail verify2.log openssl verify -purpose sslclient -CAfile ca.pem server.pem
ok "server and client certificates verify against the CA, for their purpose"

# --- validity -------------------------------------------------------------

[ "$(lifetime ca.pem)" -eq $((10 * 365 * 86400)) ] ||
    fail "ca.pem lives $(lifetime ca.pem) s, not ten 365-day years"
[ "$(lifetime self.pem)" -eq $((3650 * 86400)) ] ||
    fail "self.pem lives $(lifetime self.pem) s, not 3650 days"
[ "$(lifetime server.pem)" -eq $((365 * 86400)) ] ||
    fail "server.pem lives $(lifetime server.pem) s, not 365 days"
tlscert server --ca-cert ca.pem --ca-key ca.key --host localhost --days 7 \
    --cert days.pem --key days.key >/dev/null || fail "tlscert --days 7"
[ "$(lifetime days.pem)" -eq $((7 * 86400)) ] ||
    fail "--days 7 gives $(lifetime days.pem) s"
now=$(date +%s)
nb=$(seconds days.pem startdate)
[ "$nb" -le "$now" ] && [ "$nb" -ge $((now - 60)) ] ||
    fail "notBefore $nb is not now ($now)"
ok "365-day years: defaults 3650 (self, ca) and 365 (leaves), --days exact"

tlscert client --ca-cert ca.pem --ca-key ca.key --name old \
    --not-before -30d --not-after -1d --cert expired.pem \
    --key expired.key >/dev/null || fail "tlscert --not-after -1d"
must_fail expired.log openssl verify -CAfile ca.pem expired.pem
assert_contains expired.log "certificate has expired"
[ $(( $(seconds expired.pem enddate) - $(seconds expired.pem startdate) )) \
    -eq $((29 * 86400)) ] || fail "-30d to -1d is not 29 days"
tlscert server --ca-cert ca.pem --ca-key ca.key --host localhost \
    --not-before +2d --cert future.pem --key future.key >/dev/null ||
    fail "tlscert --not-before +2d"
must_fail future.log openssl verify -CAfile ca.pem future.pem
assert_contains future.log "certificate is not yet valid"
[ "$(lifetime future.pem)" -eq $((365 * 86400)) ] ||
    fail "--not-before +2d does not keep the 365-day lifetime"
tlscert ca --name "old CA" --not-before 2020-01-01T00:00:00Z \
    --not-after 2021-06-30T12:00:00Z --cert iso.pem --key iso.key \
    >/dev/null || fail "tlscert with ISO times"
[ "$(seconds iso.pem startdate)" -eq \
    "$(date -u -d 2020-01-01T00:00:00Z +%s)" ] || fail "ISO notBefore"
[ "$(seconds iso.pem enddate)" -eq \
    "$(date -u -d 2021-06-30T12:00:00Z +%s)" ] || fail "ISO notAfter"
ok "--not-before/--not-after make expired and not-yet-valid certificates"

must_fail when.log tlscert ca --not-after -1h --cert w.pem --key w.key
assert_contains when.log "--not-after"
must_fail when2.log tlscert ca --not-before yesterday --cert w.pem --key w.key
assert_contains when2.log "--not-before: 'yesterday' is not a time"
must_fail when3.log tlscert ca --days 3 --not-after +1d --cert w.pem \
    --key w.key
assert_contains when3.log "not both"
[ ! -e w.pem ] && [ ! -e w.key ] || fail "a refused command left files"
ok "bad times are refused and name the option"

# --- extended key usage override ----------------------------------------

tlscert client --ca-cert ca.pem --ca-key ca.key --name "odd client" \
    --eku server --cert odd.pem --key odd.key >/dev/null ||
    fail "tlscert client --eku server"
x509 odd.pem >odd.txt
grep -A1 "Extended Key Usage" odd.txt |
    grep -q "^ *TLS Web Server Authentication$" ||
    fail "odd.pem: EKU: $(grep -A1 'Extended Key Usage' odd.txt)"
must_fail odd.log openssl verify -purpose sslclient -CAfile ca.pem odd.pem
assert_contains odd.log "unsuitable certificate purpose"
tlscert server --ca-cert ca.pem --ca-key ca.key --host localhost \
    --eku none --cert noeku.pem --key noeku.key >/dev/null ||
    fail "tlscert --eku none"
x509 noeku.pem | grep -q "Extended Key Usage" && fail "--eku none has an EKU"
must_fail eku.log tlscert client --ca-cert ca.pem --ca-key ca.key --name x \
    --eku sever --cert e.pem --key e.key
assert_contains eku.log "--eku: 'sever' is not one of server, client, both, none"
ok "--eku server makes a client certificate that clients cannot use"

# --- files ------------------------------------------------------------------

sum=$(cat server.pem server.key | sha256sum)
must_fail exists.log tlscert server --ca-cert ca.pem --ca-key ca.key \
    --host localhost --cert server.pem --key server.key
assert_contains exists.log "tlscert: server.key: File exists (use --force to replace it)"
[ "$(cat server.pem server.key | sha256sum)" = "$sum" ] ||
    fail "a refused overwrite changed server.pem or server.key"
chmod 644 server.key
tlscert server --ca-cert ca.pem --ca-key ca.key --host localhost \
    --cert server.pem --key server.key --force >/dev/null ||
    fail "--force did not replace the files"
[ "$(cat server.pem server.key | sha256sum)" != "$sum" ] ||
    fail "--force left the files as they were"
[ "$(stat -c %a server.key)" = 600 ] ||
    fail "a key replaced with --force has mode $(stat -c %a server.key)"
openssl verify -CAfile ca.pem server.pem >/dev/null ||
    fail "the replaced server.pem does not verify"
must_fail same.log tlscert server --ca-cert ca.pem --ca-key ca.key \
    --host localhost --cert new.pem --key ca.key --force
assert_contains same.log "ca.key: that is the --ca-key file"
openssl pkey -in ca.key -noout 2>/dev/null || fail "--force destroyed ca.key"
must_fail same2.log tlscert ca --cert x.pem --key ./x.pem --force
assert_contains same2.log "name the same file"
[ ! -e x.pem ] || fail "x.pem left behind"
ok "existing files are refused without --force, replaced 0600 with it"

# --- pin and show -----------------------------------------------------------

for f in server client ca; do
	want="SHA256:$(openssl x509 -in "$f.pem" -outform DER |
	    openssl dgst -sha256 -r | cut -d' ' -f1)"
	got=$(tlscert pin "$f.pem") || fail "tlscert pin $f.pem"
	[ "$got" = "$want" ] || fail "pin of $f.pem: $got, want $want"
done
[ "$(tlscert pin server.pem | wc -l)" -eq 1 ] || fail "pin is not one line"
ok "pin is SHA256: and the lowercase hex SHA-256 of the DER certificate"

tlscert client --ca-cert ca.pem --ca-key ca.key \
    --name "$(printf 'evil\033[2Jclient')" --cert evil.pem --key evil.key \
    >/dev/null || fail "tlscert client with an escape in the name"
tlscert show evil.pem >show.log || fail "tlscert show"
grep -q "$(printf '\033')" show.log && fail "show printed a raw escape"
assert_contains show.log '^subject: CN=evil\\x1b\[2Jclient$'
assert_contains show.log '^issuer: CN=test CA$'
assert_contains show.log "^serial: $(openssl x509 -in evil.pem -noout -serial | cut -d= -f2)$"
assert_contains show.log '^ca: no$'
assert_contains show.log '^ext-key-usage: clientAuth$'
assert_contains show.log '^key-usage: digitalSignature$'
assert_contains show.log '^key: EC P-256 (prime256v1)$'
assert_contains show.log "^pin: $(tlscert pin evil.pem)$"
assert_contains show.log '^not-after: 20[0-9-]*T[0-9:]*Z$'
tlscert show server.pem >show2.log || fail "tlscert show server.pem"
assert_contains show2.log '^san: DNS:localhost$'
tlscert show self.pem >show3.log || fail "tlscert show self.pem"
assert_contains show3.log '^san: DNS:example.test, IP:10.1.2.3, IP:fd00::1$'
assert_contains show3.log '^ca: yes$'
assert_contains show3.log '^ext-key-usage: serverAuth, clientAuth$'
ok "show prints one field a line and escapes control characters"

# --- revocation ---------------------------------------------------------------

tlscert revoke --ca-cert ca.pem --ca-key ca.key --crl crl.pem client.pem \
    >revoke.log || fail "tlscert revoke"
assert_contains revoke.log "revoked: 1"
openssl crl -in crl.pem -noout -text >crl.txt || fail "crl.pem does not parse"
assert_contains crl.txt "$(openssl x509 -in client.pem -noout -serial | cut -d= -f2)"
must_fail revoked.log openssl verify -crl_check -CRLfile crl.pem \
    -CAfile ca.pem client.pem
assert_contains revoked.log "certificate revoked"
openssl verify -crl_check -CRLfile crl.pem -CAfile ca.pem server.pem \
    >/dev/null || fail "the CRL rejects server.pem, which is not revoked"
must_fail crlexists.log tlscert revoke --ca-cert ca.pem --ca-key ca.key \
    --crl crl.pem server.pem
assert_contains crlexists.log "crl.pem: File exists (use --force"
tlscert revoke --ca-cert ca.pem --ca-key ca.key --crl crl.pem --force \
    client.pem server.pem >/dev/null || fail "tlscert revoke --force"
must_fail revoked2.log openssl verify -crl_check -CRLfile crl.pem \
    -CAfile ca.pem server.pem
assert_contains revoked2.log "certificate revoked"
must_fail foreign.log tlscert revoke --ca-cert ca.pem --ca-key ca.key \
    --crl crl2.pem self.pem
assert_contains foreign.log "self.pem: was not issued by this CA"
must_fail crlsign.log tlscert revoke --ca-cert self.pem --ca-key self.key \
    --crl crl2.pem self.pem
assert_contains crlsign.log "cRLSign"
ok "revoke writes a CRL that openssl verify -crl_check honours"

# --- errors -------------------------------------------------------------------

must_fail days.log tlscert ca --days x --cert d.pem --key d.key
assert_contains days.log "tlscert: --days: 'x' is not a number from 1 to 36500"
must_fail days2.log tlscert ca --days 0 --cert d.pem --key d.key
assert_contains days2.log "tlscert: --days: '0' is not a number from 1 to 36500"
must_fail missing.log tlscert server --ca-cert nope.pem --ca-key ca.key \
    --host localhost --cert m.pem --key m.key
assert_contains missing.log "tlscert: nope.pem: No such file or directory"
echo "not a certificate" >junk.pem
must_fail junk.log tlscert pin junk.pem
assert_contains junk.log "tlscert: junk.pem: not a PEM certificate"
must_fail junk2.log tlscert server --ca-cert ca.key --ca-key ca.key \
    --host localhost --cert m.pem --key m.key
assert_contains junk2.log "tlscert: ca.key: not a PEM certificate"
must_fail junk3.log tlscert server --ca-cert ca.pem --ca-key junk.pem \
    --host localhost --cert m.pem --key m.key
assert_contains junk3.log "tlscert: junk.pem: not a PEM private key"
must_fail wrongkey.log tlscert server --ca-cert ca.pem --ca-key server.key \
    --host localhost --cert m.pem --key m.key
assert_contains wrongkey.log "server.key: does not match the certificate in ca.pem"
must_fail notca.log tlscert server --ca-cert server.pem --ca-key server.key \
    --host localhost --cert m.pem --key m.key
assert_contains notca.log "server.pem: not a CA certificate"
must_fail host.log tlscert server --ca-cert ca.pem --ca-key ca.key \
    --host "bad host" --cert m.pem --key m.key
assert_contains host.log "--host: 'bad host' is neither an IP address nor a DNS name"
must_fail nohost.log tlscert server --ca-cert ca.pem --ca-key ca.key \
    --cert m.pem --key m.key
assert_contains nohost.log "--host is required"
must_fail opt.log tlscert ca --host x --cert m.pem --key m.key
assert_contains opt.log "--host is not an option of this command"
must_fail cmd.log tlscert frobnicate
assert_contains cmd.log "'frobnicate' is not a command"
[ ! -e m.pem ] && [ ! -e m.key ] && [ ! -e d.pem ] && [ ! -e d.key ] ||
    fail "a failed command left files behind"
ok "errors name the option or the file and leave no files behind"

tlscert --help >help.log || fail "tlscert --help"
assert_contains help.log "tlscert revoke"
tlscert server --help >help2.log || fail "tlscert server --help"
assert_contains help2.log "usage: tlscert server --ca-cert FILE"
[ "$(tlscert --version)" = "tlscert $(sed -n 's/^VERSION[^0-9]*//p' \
    "$TOP/GNUmakefile")" ] || fail "tlscert --version: $(tlscert --version)"
ok "--help, COMMAND --help and --version"
