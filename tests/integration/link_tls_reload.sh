#!/bin/sh
# link_tls_reload.sh: a TLS link between two masters through reloads,
# rotations and outages.
#
#	client -unix-> alpha: link/beta -tls-> beta: linkd -unix-> rec
#
# Each host's certificate is pinned by the other ("linkmaster tls-init"),
# and each side rotates its key and certificate:
#	- alpha (the link side) gets a new key and certificate and a reload:
#	  the helper is not restarted, the live link stays up (beta logs no
#	  new link) and requests go on; when beta drops the link, the same
#	  helper links again with the new certificate, which beta (pinning
#	  only that one now) accepts;
#	- beta (the linkd side) gets new files at the same paths and a
#	  reload: its live link stays; the next link shows alpha the new
#	  certificate;
#	- alpha's link command changes (reload): a TLS link cannot be handed
#	  over (its TLS state stays in the old process), so the new helper
#	  links again; critical requests sent all along are all delivered;
#	- beta's master stopped: critical requests are queued, and delivered
#	  over TLS in order when beta is back;
#	- a pin added for beta restarts nothing; one taken out restarts
#	  that helper (its live link may have been let in by it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-link.sh"

need_built "$LINK" "$LINKD" "$RECORDER"
need_cmd socat "socat"
need_cmd openssl "openssl"

plan 30
lm_setup link_tls_reload
REC_OUT=$T/rec.out
: >"$REC_OUT"
SOCK=$T/alpha/sock/public/link/beta
QDIR=$T/alpha/state/link/beta/queue

# newcert HOST FILE: a new P-256 key and self-signed certificate for
# HOST in FILE.key and FILE.pem; its fingerprint on stdout.
newcert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$2.key" -out "$2.pem" -subj "/CN=$1" \
	    -addext "subjectAltName=DNS:$1" -days 2 >"$T/openssl.out" 2>&1 ||
	    bail_out "openssl: $(cat "$T/openssl.out")"
	printf 'sha256:%s\n' "$(openssl x509 -in "$2.pem" -noout -fingerprint \
	    -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')"
}

tls_init alpha
tls_init beta
FPA=$FP_alpha
FPB=$FP_beta
FPA2=$(newcert alpha "$T/alpha/conf/alpha2")
FPB2=$(newcert beta "$T/beta2")

# pins FP...: a fingerprint setting.
pins() {
	printf 'fingerprint = {'
	_sep=
	for _f in "$@"; do
		printf '%s"%s"' "$_sep" "$_f"
		_sep=', '
	done
	printf '}'
}

free_port PB
beta_conf() {
	lm_host beta
	lm_conf "$MYTLS" \
	    "peer \"alpha\" { address = \"127.0.0.1\" port = 1 $(pins "$@") }"
}
beta_conf "$FPA" "$FPA2"
lm_table <<EOF
127.0.0.2:$PB	inet	n	n	n	-	8	linkd -o backend=rec
rec	unix	n	n	n	-	32	$RECORDER -o file=$REC_OUT
EOF
lm_start || bail_out "cannot start beta"

ALPHA_PINS="$FPB $FPB2"
alpha_conf() {
	lm_host alpha
	# shellcheck disable=SC2086
	lm_conf "$@" \
	    "peer \"beta\" { address = \"127.0.0.2\" port = $PB $(pins $ALPHA_PINS) }"
}
alpha_table() {
	lm_host alpha
	link_table "$1"
}
alpha_conf "$MYTLS"
alpha_table "-o timeout=20"
lm_start || bail_out "cannot start alpha"

BETA_UP='^beta/linkd\[[0-9]+\]: link from alpha \(127\.0\.0\.1\) up$'
wait_pass "alpha: 'link to beta up (TLS, certificate $FPB)'" 10 has "$LOG" \
    "^alpha/link[^[]*\[[0-9]+\]: link to beta up \(TLS, certificate $FPB\)\$"
is "$(req "$SOCK" one)" one "a request over TLS"
H1=$(unit_pids link/beta)

# beta's linkd children, and the one serving alpha's link.
beta_linkd_stop() {
	lm_host beta
	for _p in $(unit_pids "127.0.0.2:$PB"); do
		kill -TERM "$_p"
	done
	lm_host alpha
}

# --- 1. alpha rotates: reload keeps the link, the next link uses it ------------

M=$(log_mark)
alpha_conf 'tls_key = "alpha2.key"' 'tls_cert = "alpha2.pem"'
lm reload
is "$LM_RC" 0 "alpha reloaded with a new tls_key and tls_cert"
is "$(req "$SOCK" two)" two "requests go on over the live link"
ok '[ "$(unit_pids link/beta)" = "$H1" ]' \
    "alpha's link/beta helper was not restarted ($H1)"
ok '! log_since "$M" | grep -Eq "$BETA_UP|link to beta (up|down)"' \
    "no reconnect: beta logs no new link, alpha no link down or up"
# beta now knows only the new certificate, and drops the link.
beta_conf "$FPA2"
M=$(log_mark)
beta_linkd_stop
wait_pass "the same helper links again: beta accepts alpha's new certificate" \
    10 sh -c "tail -n +$((M + 1)) '$LOG' | grep -Eq '$BETA_UP'"
ok 'log_since "$M" | grep -q "TLS for the link to beta: certificate $FPA2"' \
    "alpha's helper made its TLS context again, with the new certificate"
ok '[ "$(unit_pids link/beta)" = "$H1" ]' "still the same helper ($H1)"
is "$(req "$SOCK" three)" three "requests over the new link"

# --- 2. beta rotates: new files at the same paths -------------------------------------

M=$(log_mark)
cp "$T/beta2.key" "$T/beta/conf/tls_key.pem.new"
cp "$T/beta2.pem" "$T/beta/conf/tls_cert.pem.new"
mv "$T/beta/conf/tls_key.pem.new" "$T/beta/conf/tls_key.pem"
mv "$T/beta/conf/tls_cert.pem.new" "$T/beta/conf/tls_cert.pem"
lm_host beta
lm reload
is "$LM_RC" 0 "beta reloaded with a new key and certificate"
lm_host alpha
is "$(req "$SOCK" four)" four "requests go on over the live link"
ok '! log_since "$M" | grep -Eq "$BETA_UP|link to beta (up|down)|link from alpha .* down"' \
    "no reconnect on either side"
M=$(log_mark)
beta_linkd_stop
wait_pass "the next link shows beta's new certificate ($FPB2)" 10 \
    sh -c "tail -n +$((M + 1)) '$LOG' | grep -q 'link to beta up (TLS, certificate $FPB2)'"
is "$(req "$SOCK" five)" five "requests over the new link"

# --- 3. reload restarts the helper: no handoff, nothing lost ---------------------------

cat >"$T/crit.sh" <<'EOF'
#!/bin/sh
# crit.sh SOCK STOPFILE: one critical request per connection until
# STOPFILE.  One refused by a stopping helper (EPIPE: it shut its reading
# side before the line went in, so it never took it) is sent again.
n=1
while [ ! -e "$2" ]; do
	r=$(printf 'critical:k%d\n' "$n" | timeout 20 socat -t 20 - UNIX-CONNECT:"$1" 2>&1)
	case $r in
	*"Broken pipe"*) echo "refused k$n"; continue ;;
	esac
	echo "k$n $r"
	n=$((n + 1))
done
EOF
rm -f "$T/stop"
lm_bg "$T/crit.out" sh "$T/crit.sh" "$SOCK" "$T/stop"
CRIT=$LM_BG_PID
wait_for "critical requests going" 10 count_at_least 20 "$T/crit.out" '^k'
M=$(log_mark)
alpha_table "-o timeout=21"
lm reload
is "$LM_RC" 0 "alpha reloaded with the link command changed"
wait_pass "the old helper does not hand the TLS link over" 10 \
    sh -c "tail -n +$((M + 1)) '$LOG' | grep -q 'not handing the TLS link to beta over: the next generation links again'"
wait_pass "the new helper links again over TLS" 15 \
    sh -c "tail -n +$((M + 1)) '$LOG' | grep -Eq '^alpha/link[^[]*\[[0-9]+\]: link to beta up \(TLS'"
N0=$(count "$T/crit.out" '^k')
wait_for "more requests after the reload" 10 count_at_least $((N0 + 20)) \
    "$T/crit.out" '^k'
touch "$T/stop"
wait_for "critical client" 25 all_dead "$CRIT"
wait_pass "alpha's queue for beta is empty" 20 queue_empty "$QDIR"
sed -n 's/^\(k[0-9]*\) .*/critical:\1/p' "$T/crit.out" | sort -u >"$T/sent"
grep '^critical:k' "$REC_OUT" | sort -u >"$T/got"
NSENT=$(wc -l <"$T/sent" | tr -d ' ')
NQUEUED=$(grep -c ' queued$' "$T/crit.out" || true)
is "$(comm -23 "$T/sent" "$T/got" | one_line)" "" \
    "every critical request reached beta ($NSENT sent, $NQUEUED of them queued first)"
is "$(grep -v -e '^k[0-9]* \(critical:k[0-9]*\|queued\)$' \
    -e '^refused k[0-9]*$' "$T/crit.out" | head -n 3 | one_line)" "" \
    "each was answered with its reply or 'queued' (or refused and sent again: $(count "$T/crit.out" '^refused'))"

# --- 4. the durable queue over TLS ------------------------------------------------------

peer_stop beta
is "$(req "$SOCK" critical:q1 critical:q2 critical:q3 | one_line)" \
    "queued|queued|queued" "beta stopped: critical requests queued"
: >"$REC_OUT"
lm_host beta
lm_start || bail_out "cannot restart beta"
lm_host alpha
wait_pass "beta back: the queue is delivered over TLS, and empty" 20 \
    queue_empty "$QDIR"
is "$(one_line <"$REC_OUT")" "critical:q1|critical:q2|critical:q3" \
    "in order, each once"

# --- 5. other pins for beta: that helper restarts ------------------------------------

wait_for "link/beta up" 10 status_matches link/beta '^up$'
H2=$(unit_pids link/beta)
M=$(log_mark)
ALPHA_PINS="$FPB $FPB2 $FPA"
alpha_conf 'tls_key = "alpha2.key"' 'tls_cert = "alpha2.pem"'
lm reload
is "$LM_RC" 0 "alpha reloaded with one more fingerprint pinned for beta"
is "$(req "$SOCK" six)" six "requests go on"
ok '[ "$(unit_pids link/beta)" = "$H2" ] && ! log_since "$M" | grep -q "link to beta"' \
    "the same helper ($H2), no reconnect"
M=$(log_mark)
ALPHA_PINS=$FPB2
alpha_conf 'tls_key = "alpha2.key"' 'tls_cert = "alpha2.pem"'
lm reload
is "$LM_RC" 0 "alpha reloaded with beta's old fingerprints taken out"
wait_pass "link/beta has a new helper (not $H2), and its link is up" 15 \
    sh -c "tail -n +$((M + 1)) '$LOG' | grep -q 'link to beta up (TLS, certificate $FPB2)'"
ok '[ -n "$(unit_pids link/beta)" ] && [ "$(unit_pids link/beta)" != "$H2" ]' \
    "a new helper: $(unit_pids link/beta)"
