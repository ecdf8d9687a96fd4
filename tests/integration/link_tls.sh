#!/bin/sh
# link_tls.sh: links between real masters over TLS 1.3 on loopback.
#
#	client -unix-> alpha: link/NAME -tls-> NAME: linkd -unix-> rec
#
# alpha (127.0.0.1) links to eight hosts, each a master with a TLS linkd
# (made with "linkmaster tls-init", or signed by a test CA made with
# openssl(1)), and peer sections that pin each other's fingerprints:
#	beta	all right: requests round trip over TLS, and a raw plaintext
#		hello to beta is refused with a plaintext "ERR TLS required";
#	gamma	no TLS: alpha's TLS is answered in plaintext, refused both ends;
#	delta	alpha pins another fingerprint for it: alpha refuses delta;
#	epsilon	pins another fingerprint for alpha: epsilon refuses alpha;
#	zeta	a CA-signed certificate for another name: alpha refuses it;
#	eta	an expired certificate, theta one not yet valid: refused,
#		saying so;
#	iota	alpha's section for it says "tls = no": iota refuses the
#		plaintext link;
#	kappa, lambda	a linkd from before TLS (socat here), which takes the
#		handshake for a hello line that never ends: kappa waits for
#		ever, lambda gives up after a second; alpha says that the
#		peer may not speak TLS (not "no answer to hello", not
#		"connection closed by peer").
# Every refusal must be in the log with its reason.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-link.sh"

need_built "$LINK" "$LINKD" "$RECORDER"
need_cmd socat "socat"
need_cmd openssl "openssl"

plan 29
lm_setup link_tls
REC_OUT=$T/rec.out
: >"$REC_OUT"
ALPHA_SOCK=$T/alpha/sock/public/link/beta
HOSTS="beta gamma delta epsilon zeta eta theta iota"

# --- certificates --------------------------------------------------------------

# A test CA, and mkcert NAME SAN START END: a key and a certificate for
# subjectAltName DNS:SAN valid from START to END (YYMMDDHHMMSSZ), signed
# by it, in $T/ca/NAME.key and $T/ca/NAME.pem.
CA=$T/ca
mkdir -p "$CA/new"
: >"$CA/index.txt"
echo 01 >"$CA/serial"
cat >"$CA/ca.cnf" <<EOF
[ ca ]
default_ca = tca
[ tca ]
dir = $CA
database = $CA/index.txt
new_certs_dir = $CA/new
serial = $CA/serial
certificate = $CA/ca.pem
private_key = $CA/ca.key
default_md = sha256
policy = anything
unique_subject = no
email_in_dn = no
[ anything ]
commonName = supplied
[ leaf ]
basicConstraints = CA:FALSE
subjectAltName = \$ENV::SAN
EOF
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$CA/ca.key" -out "$CA/ca.pem" -subj /CN=linkmaster-test-ca \
    -days 2 >"$T/openssl.out" 2>&1 || bail_out "cannot make the test CA"
mkcert() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$CA/$1.key" -out "$CA/$1.csr" -subj "/CN=$2" \
	    >>"$T/openssl.out" 2>&1 &&
	SAN="DNS:$2" openssl ca -batch -notext -config "$CA/ca.cnf" \
	    -extensions leaf -in "$CA/$1.csr" -out "$CA/$1.pem" \
	    -startdate "$3" -enddate "$4" >>"$T/openssl.out" 2>&1 ||
	    bail_out "cannot make a certificate for $1: $(tail -n 3 "$T/openssl.out")"
}
NOW_M1D=$(date -u -d '-1 day' +%y%m%d%H%M%SZ)
NOW_P1D=$(date -u -d '+1 day' +%y%m%d%H%M%SZ)
mkcert zeta other "$NOW_M1D" "$NOW_P1D"
mkcert eta eta "$(date -u -d '-3 days' +%y%m%d%H%M%SZ)" \
    "$(date -u -d '-2 days' +%y%m%d%H%M%SZ)"
mkcert theta theta "$(date -u -d '+2 days' +%y%m%d%H%M%SZ)" \
    "$(date -u -d '+3 days' +%y%m%d%H%M%SZ)"
mkcert eta_ok eta "$NOW_M1D" "$NOW_P1D"
mkcert theta_ok theta "$NOW_M1D" "$NOW_P1D"

for h in alpha beta delta epsilon iota; do
	tls_init "$h"
done
ok '[ -n "$FP_alpha" ] && [ -n "$FP_beta" ] && [ "$FP_alpha" != "$FP_beta" ]' \
    "tls-init on each host prints its fingerprint"

# tpeer NAME ADDRESS PORT [SETTING...]: a peer section.
tpeer() {
	_tn=$1 _ta=$2 _tp=$3
	shift 3
	printf 'peer "%s" { address = "%s" port = %s %s }' "$_tn" "$_ta" \
	    "$_tp" "$*"
}

# linkd_host NAME ADDR PORT [CONF LINES]: a master with a linkd for alpha.
# The port was free when free_port chose it, but until the master binds
# it another test may take it: then start fails with "Address already in
# use" and the host is started again on another port (P_NAME follows).
linkd_host() {
	_lh=$1 _la=$2 _lp=$3
	shift 3
	lm_host "$_lh"
	lm_conf "$@"
	_ltry=1
	while :; do
		lm_table <<EOF
$_la:$_lp	inet	n	n	n	-	8	linkd -o backend=rec
rec	unix	n	n	n	-	32	$RECORDER -o file=$REC_OUT
EOF
		lm_start && break
		grep -q "bind $_la:$_lp: Address already in use" "$T/err" &&
		    [ "$_ltry" -lt 5 ] || bail_out "cannot start $_lh"
		diag "$_lh: port $_lp taken meanwhile, another one"
		free_port "P_$_lh"
		eval "_lp=\$P_$_lh"
		_ltry=$((_ltry + 1))
	done
}

i=2
for h in $HOSTS; do
	free_port "P_$h"
	eval "A_$h=127.0.0.$i"
	i=$((i + 1))
done
PIN_ALPHA="fingerprint = \"$FP_alpha\""

linkd_host beta 127.0.0.2 "$P_beta" "$MYTLS" \
    "$(tpeer alpha 127.0.0.1 1 "$PIN_ALPHA")"
linkd_host gamma 127.0.0.3 "$P_gamma" "$(tpeer alpha 127.0.0.1 1)"
linkd_host delta 127.0.0.4 "$P_delta" "$MYTLS" \
    "$(tpeer alpha 127.0.0.1 1 "$PIN_ALPHA")"
linkd_host epsilon 127.0.0.5 "$P_epsilon" "$MYTLS" \
    "$(tpeer alpha 127.0.0.1 1 "fingerprint = \"$FP_beta\"")"
# eta and theta start with certificates that are valid now (check
# refuses a host's own expired one), then get the bad ones in place:
# linkd reads them at the first TLS connection (the files changed).
for h in zeta eta theta; do
	lm_host "$h"
	lm_conf
	cp "$CA/${h}_ok.key" "$CONF/tls_key.pem" 2>/dev/null ||
	    cp "$CA/$h.key" "$CONF/tls_key.pem"
	cp "$CA/${h}_ok.pem" "$CONF/tls_cert.pem" 2>/dev/null ||
	    cp "$CA/$h.pem" "$CONF/tls_cert.pem"
	eval "linkd_host $h \$A_$h \$P_$h \"\$MYTLS\" \"\$(tpeer alpha 127.0.0.1 1 \"\$PIN_ALPHA\")\""
done
for h in eta theta; do
	cp "$CA/$h.key" "$T/$h/conf/tls_key.pem"
	cp "$CA/$h.pem" "$T/$h/conf/tls_cert.pem"
done
linkd_host iota 127.0.0.9 "$P_iota" "$MYTLS" \
    "$(tpeer alpha 127.0.0.1 1 "$PIN_ALPHA")"
free_port P_kappa
free_port P_lambda
lm_bg "$T/kappa.err" socat TCP-LISTEN:"$P_kappa",bind=127.0.0.10,reuseaddr,fork \
    SYSTEM:'cat >/dev/null'
lm_bg "$T/lambda.err" socat \
    TCP-LISTEN:"$P_lambda",bind=127.0.0.11,reuseaddr,fork \
    SYSTEM:'timeout 1 cat >/dev/null'

lm_host alpha
lm_conf "$MYTLS" "tls_ca = \"$CA/ca.pem\"" \
    "$(tpeer beta 127.0.0.2 "$P_beta" "fingerprint = \"$FP_beta\"")" \
    "$(tpeer gamma 127.0.0.3 "$P_gamma" "fingerprint = \"$FP_beta\"")" \
    "$(tpeer delta 127.0.0.4 "$P_delta" "fingerprint = \"$FP_beta\"")" \
    "$(tpeer epsilon 127.0.0.5 "$P_epsilon" "fingerprint = \"$FP_epsilon\"")" \
    "$(tpeer zeta 127.0.0.6 "$P_zeta")" \
    "$(tpeer eta 127.0.0.7 "$P_eta")" \
    "$(tpeer theta 127.0.0.8 "$P_theta")" \
    "$(tpeer iota 127.0.0.9 "$P_iota" 'tls = no')" \
    "$(tpeer kappa 127.0.0.10 "$P_kappa")" \
    "$(tpeer lambda 127.0.0.11 "$P_lambda")"
link_table -v -o timeout=5 -o settle=300ms
lm_start || bail_out "cannot start alpha"

# --- requests over TLS -----------------------------------------------------------

wait_pass "alpha: 'link to beta up (TLS, certificate $FP_beta)'" 10 has "$LOG" \
    "^alpha/link[^[]*\[[0-9]+\]: link to beta up \(TLS, certificate $FP_beta\)\$"
wait_pass "beta: 'link from alpha (127.0.0.1) up'" 5 has "$LOG" \
    "^beta/linkd\[[0-9]+\]: link from alpha \(127\.0\.0\.1\) up\$"
is "$(req "$ALPHA_SOCK" hello)" hello \
    "a request goes over TLS to beta's backend and comes back"
is "$(req "$ALPHA_SOCK" a b '' 'd e' c | one_line)" "a|b||d e|c" \
    "pipelined requests come back in order"
link_loads "$ALPHA_SOCK"
# -o settle (-v for its debug line): a TLS link quiet for 300 ms gives
# back the pages its requests mapped, serves the next requests from the
# page cache (the same bytes mapped again), then settles again.
quiet_lines() { grep -c '^alpha/link[^[]*\[[0-9]*\]: link to beta quiet: gives back its pages$' "$LOG"; }
wait_pass "alpha: 'link to beta quiet: gives back its pages' after the requests" \
    10 sh -c "[ \$(grep -c 'link to beta quiet: gives back its pages\$' '$LOG') -ge 1 ]"
Q=$(quiet_lines)
is "$(req "$ALPHA_SOCK" after-settle x y | one_line)" "after-settle|x|y" \
    "requests after the link gave back its pages come back"
wait_pass "the link settles again after those" 10 \
    sh -c "[ \$(grep -c 'link to beta quiet: gives back its pages\$' '$LOG') -gt $Q ]"
lm check
ok '[ "$LM_RC" = 0 ] && ! grep -q "plaintext" "$T/err"' \
    "check on alpha: no warning about plaintext links"
diag_file "$T/err"

# A plaintext hello to beta, from alpha's address.
got=$(printf 'HELLO 1 alpha\n' | timeout 10 socat -t 5 - \
    TCP:127.0.0.2:"$P_beta",bind=127.0.0.1 2>/dev/null)
is "$got" "ERR TLS required" "a plaintext hello to beta is answered 'ERR TLS required'"
wait_pass "beta: 'plaintext connection from 127.0.0.1 refused: this host requires TLS'" \
    5 has "$LOG" '^beta/linkd\[[0-9]+\]: warning: plaintext connection from 127\.0\.0\.1 refused: this host requires TLS'

# --- refusals ------------------------------------------------------------------------

wait_pass "gamma (no TLS): 'TLS connection from 127.0.0.1 refused: this host has no tls_key and tls_cert'" \
    10 has "$LOG" '^gamma/linkd\[[0-9]+\]: warning: TLS connection from 127\.0\.0\.1 refused: this host has no tls_key and tls_cert$'
wait_pass "alpha's link/gamma: 'down: TLS: the peer does not speak TLS (plaintext?)'" \
    10 has "$LOG" '^alpha/link[^[]*\[[0-9]+\]: link to gamma down: TLS: the peer does not speak TLS \(plaintext\?\), retry in'

wait_pass "alpha refuses delta's certificate: 'fingerprint mismatch'" 10 \
    has "$LOG" "^alpha/link[^[]*\[[0-9]+\]: link to delta down: TLS: fingerprint mismatch: the certificate of peer delta is $FP_delta, not the one pinned, retry in"
wait_pass "delta logs alpha's refusal (TLS alert)" 10 \
    has "$LOG" '^delta/linkd\[[0-9]+\]: warning: TLS with 127\.0\.0\.1 failed: refused by the peer \(TLS alert: '
wait_pass "status of link/delta shows the reason" 5 \
    status_matches link/delta '^down: TLS: fingerprint mismatch: '

wait_pass "epsilon refuses alpha's certificate: 'fingerprint mismatch'" 10 \
    has "$LOG" "^epsilon/linkd\[[0-9]+\]: warning: refusing link from 127\.0\.0\.1 \(hello name \"alpha\"\): fingerprint mismatch: the certificate of peer alpha is $FP_alpha, not the one pinned\$"
wait_pass "alpha's link/epsilon: 'hello refused: certificate refused'" 10 \
    has "$LOG" '^alpha/link[^[]*\[[0-9]+\]: link to epsilon down: hello refused: certificate refused, retry in'

wait_pass "zeta's certificate is for another name: 'name mismatch'" 10 \
    has "$LOG" '^alpha/link[^[]*\[[0-9]+\]: link to zeta down: TLS: name mismatch: the certificate signed by tls_ca is for other, not for peer zeta, retry in'
wait_pass "eta's expired certificate: 'expired on'" 10 \
    has "$LOG" '^alpha/link[^[]*\[[0-9]+\]: link to eta down: TLS: the certificate of peer eta expired on [0-9-]+ [0-9:]+ UTC, retry in'
wait_pass "theta's certificate: 'is not yet valid'" 10 \
    has "$LOG" '^alpha/link[^[]*\[[0-9]+\]: link to theta down: TLS: the certificate of peer theta is not yet valid \(not before [0-9-]+ [0-9:]+ UTC\), retry in'

wait_pass "iota refuses alpha's plaintext link" 10 \
    has "$LOG" '^iota/linkd\[[0-9]+\]: warning: plaintext connection from 127\.0\.0\.1 refused: this host requires TLS \(hello name "alpha"\)$'
wait_pass "alpha's link/iota: 'hello refused: TLS required'" 10 \
    has "$LOG" '^alpha/link[^[]*\[[0-9]+\]: link to iota down: hello refused: TLS required, retry in'

# connect_timeout (10 s) for kappa's.
wait_pass "a linkd from before TLS that never answers: 'no answer to the TLS handshake: the peer may not speak TLS'" \
    20 has "$LOG" '^alpha/link[^[]*\[[0-9]+\]: link to kappa down: no answer to the TLS handshake: the peer may not speak TLS \(tls_key and tls_cert missing there, or tls = no meant for it\), retry in'
wait_pass "one that closes: 'peer closed the connection during the TLS handshake: it may not speak TLS'" \
    10 has "$LOG" '^alpha/link[^[]*\[[0-9]+\]: link to lambda down: peer closed the connection during the TLS handshake: it may not speak TLS \(tls_key and tls_cert missing there, or tls = no meant for it\), retry in'

ok '! grep -Eq "^(gamma|delta|epsilon|zeta|eta|theta|iota)/linkd\[[0-9]+\]: link from alpha" "$LOG"' \
    "no refused link ever came up"
is "$(grep -c "^hello\$" "$REC_OUT")" 1 "only beta's backend saw requests"
