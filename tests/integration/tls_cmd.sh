#!/bin/sh
# tls_cmd.sh: "linkmaster tls-init" makes a key (mode 0600) and a
# self-signed certificate for host_name and prints its fingerprint, never
# replacing a file; tls-fingerprint prints the same; check verifies the
# files and warns about plaintext links that leave the host; a reload
# with a key that does not match its certificate is refused and the
# running master keeps its configuration.  (link_tls.sh: TLS on links.)
. "$(dirname "$0")/lib.sh"

plan 27
lm_setup tls_cmd
LM_HOST=alpha
lm_conf
lm_table <<EOF
echo		unix	n	n	n	-	-	echo
EOF

# --- tls-init ----------------------------------------------------------------
lm tls-init
is "$LM_RC" 0 "tls-init: exit 0"
diag_file "$T/out" "$T/err"
ok 'test -s "$CONF/tls_key.pem" && test -s "$CONF/tls_cert.pem"' \
    "tls-init: tls_key.pem and tls_cert.pem in the configuration directory"
is "$(stat -c %a "$CONF/tls_key.pem")" 600 "tls-init: the key has mode 0600"
fp=$(sed -n 's/^	fingerprint = "\(sha256:[0-9a-f]\{64\}\)"$/\1/p' "$T/out")
ok '[ -n "$fp" ]' "tls-init: prints the fingerprint line to paste: '$fp'"
ok 'grep -qxF "	tls_key = \"tls_key.pem\"" "$T/out" && grep -qxF "	tls_cert = \"tls_cert.pem\"" "$T/out"' \
    "tls-init: prints the tls_key and tls_cert lines to add"
ok 'grep -q "for alpha, valid until " "$T/out"' "tls-init: names host_name"
if command -v openssl >/dev/null 2>&1; then
	ofp=$(openssl x509 -in "$CONF/tls_cert.pem" -noout -fingerprint \
	    -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
	is "sha256:$ofp" "$fp" "the fingerprint is openssl's SHA-256 of the certificate"
	ok 'openssl x509 -in "$CONF/tls_cert.pem" -noout -ext subjectAltName | grep -q "DNS:alpha"' \
	    "the certificate's subjectAltName is DNS:alpha"
	ok 'openssl pkey -in "$CONF/tls_key.pem" -noout -text | grep -q "NIST CURVE: P-256"' \
	    "the key is ECDSA P-256"
else
	skip 3 "no openssl command"
fi

# --- never replaces ------------------------------------------------------------
cp "$CONF/tls_key.pem" "$T/key.before"
lm tls-init
is "$LM_RC" 1 "tls-init again: exit 1"
ok 'grep -q "tls_key.pem exists already: not replacing it" "$T/err"' \
    "tls-init again: says the key exists"
ok 'cmp -s "$CONF/tls_key.pem" "$T/key.before"' "tls-init again: the key is untouched"

# --- tls-fingerprint -------------------------------------------------------------
lm tls-fingerprint
is "$LM_RC" 0 "tls-fingerprint: exit 0"
is "$(cat "$T/out")" "$fp" "tls-fingerprint: the same fingerprint"

# --- check -------------------------------------------------------------------
lm_conf 'tls_key = "tls_key.pem"' 'tls_cert = "tls_cert.pem"' \
    "peer beta { address = \"192.0.2.2\" port = 7070 fingerprint = \"$fp\" }" \
    'peer gamma { address = "10.9.9.9" port = 7070 tls = no }' \
    'peer delta { address = "127.0.0.4" port = 7070 tls = no }'
lm check
is "$LM_RC" 0 "check with TLS set up: exit 0 (warnings only)"
diag_file "$T/err"
ok 'grep -q "linkmaster.conf:[0-9]*: peer \"gamma\": tls = no: requests to 10.9.9.9 cross the network in the clear" "$T/err"' \
    "check warns about tls = no for a non-loopback peer"
ok '! grep -q "peer \"delta\"" "$T/err"' "check: no warning for tls = no on loopback"
ok '! grep -q "do not use it yet" "$T/err"' \
    "check no longer says that links do not use TLS yet"

lm_conf 'tls_key = "tls_key.pem"' 'tls_cert = "tls_cert.pem"' \
    'peer beta { address = "192.0.2.2" port = 7070 }'
lm check
ok '[ "$LM_RC" = 1 ] && grep -q "peer \"beta\": no way to authenticate it" "$T/err"' \
    "check: a TLS peer without fingerprint or tls_ca is an error"

# Findings come from tlstool (the master links no OpenSSL): a warning
# passes through as a warning, an error as an error, a missing helper is
# an error that names it.
LM_HOST=beta lm_conf 'tls_key = "tls_key.pem"' 'tls_cert = "tls_cert.pem"'
lm check
ok '[ "$LM_RC" = 0 ] && grep -q "linkmaster.conf: tls_cert .*tls_cert.pem is for alpha, not for host_name beta" "$T/err"' \
    "check: a certificate for another name is a warning (exit 0)"
diag_file "$T/err"
echo "not a certificate" >"$T/ca.pem"
lm_conf "tls_ca = \"$T/ca.pem\""
lm check
ok '[ "$LM_RC" = 1 ] && grep -q "linkmaster.conf: tls_ca: " "$T/err"' \
    "check: a tls_ca that is no certificate is an error"
diag_file "$T/err"
mkdir "$T/dd"
ln -s "$top_builddir/services/echo" "$T/dd/echo"
lm_conf 'tls_key = "tls_key.pem"' 'tls_cert = "tls_cert.pem"'
sed -i "s|^daemon_directory = .*|daemon_directory = \"$T/dd\"|" \
    "$CONF/linkmaster.conf"
lm check
ok '[ "$LM_RC" = 1 ] && grep -q "cannot check the TLS files: $T/dd/tlstool: No such file" "$T/err"' \
    "check without the tlstool helper: an error naming it"
diag_file "$T/err"
lm tls-fingerprint
ok '[ "$LM_RC" = 1 ] && grep -q "tls-fingerprint: cannot run $T/dd/tlstool: No such file" "$T/err"' \
    "tls-fingerprint without the tlstool helper: exit 1, naming it"
diag_file "$T/err"

# --- reload refuses a key that does not match --------------------------------
lm_conf 'tls_key = "tls_key.pem"' 'tls_cert = "tls_cert.pem"'
lm_start || bail_out "cannot start"
mv "$CONF/tls_key.pem" "$CONF/old_key.pem"
mkdir "$T/other"
LM="$LINKMASTER -c $T/other"
cp "$CONF/linkmaster.conf" "$CONF/master.cf" "$T/other/"
lm tls-init
LM="$LINKMASTER -c $CONF"
cp "$T/other/tls_key.pem" "$CONF/tls_key.pem"
lm reload
ok '[ "$LM_RC" = 1 ] && grep -q "tls_key .*tls_key.pem does not match tls_cert" "$T/err"' \
    "reload with a key that does not match the certificate: refused"
diag_file "$T/err"
lm status
is "$LM_RC" 0 "the master still runs"
ok '! grep -Eq "lib(ssl|crypto)" /proc/$MASTER_PID/maps' \
    "the master, after a reload that checked the TLS files, maps no OpenSSL"
lm_stop
is "$LM_RC" 0 "stop"
