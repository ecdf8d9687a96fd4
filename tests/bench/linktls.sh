#!/bin/sh
# linktls.sh: TLS links (issue 10) against plaintext links, and against
# two chained haproxy processes with TLS between them.
#
# Three masters on loopback, all with host_name set, max_use = 0 and
# max_idle = 1h.  beta runs "linkd -o backend=echo" (inet, 127.0.0.1)
# and the unix echo service (public, maxproc 160, -o log_clients=0), has
# a key and certificate from "linkmaster tls-init" and two peers: alpha,
# pinned by the fingerprint its tls-init printed, and gamma, "tls = no".
# alpha (its own tls-init; beta's fingerprint in its peer section) runs
# the link service with peer beta over TLS; gamma, without a key, runs it
# with peer beta in plaintext.  Both links go to the same linkd service.
# Before anything is measured, "openssl s_client" must see beta's linkd
# answer TLS 1.3 (a linkd that does not speak TLS would carry alpha's
# link in plaintext): if it does not, every TLS row is "failed".
# The peer: haproxy 2.6 (Debian) chained as in link.sh, client ->
# haproxy "near" (unix socket) -> TCP 127.0.0.1 -> haproxy "far" -> beta's
# echo socket, mode tcp, nbthread 1, but TLS 1.3 between the two halves
# with mutual authentication as the link has it: far binds with
# "ssl crt ... verify required ca-file ...", near's server line says
# "ssl crt ... verify required ca-file ... verifyhost far"; the CA and
# the two certificates (EC P-256, as tls-init makes) are made with
# openssl(1) in the temporary directory.
# 1. Requests through gamma's plaintext link, alpha's TLS link and the
#    haproxy TLS chain with tests/bench/lclient (32-byte lines, 0.3 s
#    warm-up, 1.2 s measured): 1 client x 1 in flight and 8 clients x 16
#    for all three; 64 x 1 and a connection per request for the TLS link
#    and haproxy.  Five rounds; in each, a workload's contenders run back
#    to back, the first of them rotating by round; figures are medians,
#    a ratio the median of the rounds' ratios.  A run with an error
#    fails its row ("failed", with the reason): no ratio from it.
#    Targets: TLS link / plaintext link >= 0.8x on 1 x 1 and on 8 x 16;
#    TLS link / haproxy TLS chain >= 1.0x on every workload.
# 2. 200 peers, p000..p199, each a linkd service of beta's of its own
#    that names itself pNNN (as in link.sh), all pinned to beta's
#    certificate: gamma with 200 plaintext peer sections (the baseline),
#    then alpha with 200 TLS ones, from just before "linkmaster start" to
#    the first "linkmaster status" showing all 200 link rows "up" (a poll
#    every 50 ms), and the VmRSS of the 200 link helpers of each.
#    Targets: all TLS links up in < 3 s; < 2 MiB VmRSS per TLS helper
#    (the largest).  The memory map of one TLS helper (Rss of each
#    mapping, from smaps) is noted as a diagnostic.  A TLS helper drops
#    its page-table entries for the binary's code and read-only data once
#    its link is up (linktls_settle), so these are idle links' figures;
#    part 1 ends with a diagnostic row of the two helpers' VmRSS after
#    they carried its workloads, what a busy link maps again, and one of
#    the TLS helper's after 11 s of quiet (-o settle, 10 s by default).
# 3. With alpha's 200 TLS links up and idle (after a settling second):
#    CPU ticks (utime + stime) over 10 s of both masters, the 200 link
#    helpers and beta's linkd children.  Target: 0.
# 4. Diagnostic: 20 standalone TLS helpers (-o config_dir, alpha's
#    configuration) of this build and 20 of the dynamically linked one
#    (tests/bench/link-dynamic): VmRSS and RssAnon of each build.
# LINKTLS_BENCH_QUICK=1: one round (or BENCH_LINK_ROUNDS) of shorter runs
# and a 2 s idle window (about 30 s), for a look while developing; not for
# the README.  LINKTLS_BENCH_ONLY=throughput: part 1 only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-link.sh"

LINK=$top_builddir/services/link
LINKD=$top_builddir/services/linkd
LCLIENT=$top_builddir/tests/bench/lclient
NPEERS=${BENCH_LINK_PEERS:-200}
WINDOW=${BENCH_LINK_IDLE:-10}
ROUNDS=${BENCH_LINK_ROUNDS:-5}
RUN_T=1.2		# lclient: seconds measured
RUN_U=0.3		# and of warm-up before them
if [ -n "${LINKTLS_BENCH_QUICK:-}" ]; then
	ROUNDS=${BENCH_LINK_ROUNDS:-1}
	RUN_T=0.5
	RUN_U=0.2
	WINDOW=2
fi

bench_setup linktls
need "$LINK" "$LINKD" "$LCLIENT"
need_cmd haproxy openssl

# --- helpers -------------------------------------------------------------------

# tls_init NAME: "linkmaster tls-init" for host NAME (its key and
# certificate in $T/NAME); prints the fingerprint.
tls_init() {
	host_conf "$1"
	"$LINKMASTER" -c "$T/$1" tls-init >"$T/$1.tls-init" 2>&1 &&
	    "$LINKMASTER" -c "$T/$1" tls-fingerprint 2>>"$T/$1.tls-init" ||
	    { say "$1: tls-init failed:" >&2
	      sed 's/^/    /' "$T/$1.tls-init" >&2; return 1; }
}

# --- ports, certificates, masters ----------------------------------------------
PORT=$(free_port)
HPORT=$(free_port)
[ -n "$PORT" ] && [ -n "$HPORT" ] && [ "$PORT" != "$HPORT" ] ||
    { say "no two distinct free ports"; exit 1; }
# Part 2's peers: a port each, drawn until there are enough distinct ones
# (line N+1 of $T/pports is peer N's).
peer_ports "$NPEERS" "$PORT" "$HPORT" || exit 1

AFP=$(tls_init alpha) && BFP=$(tls_init beta) || exit 1
KEYS='tls_key = "tls_key.pem"
tls_cert = "tls_cert.pem"'
host_conf beta "$KEYS" "default_process_limit = 1000" \
    "peer \"alpha\" { address = \"127.0.0.1\" port = 1 fingerprint = \"$AFP\" }" \
    'peer "gamma" { address = "127.0.0.1" port = 1 tls = no }'
{
	cat <<EOF
127.0.0.1:$PORT	inet	n	n	n	-	20	linkd -o backend=echo
echo	unix	n	n	n	-	160	echo -o log_clients=0
EOF
	awk '{ printf "127.0.0.1:%s\tinet\tn\tn\tn\t-\t4\tlinkd -o backend=echo -o host_name=p%03d\n", $1, NR - 1 }' \
	    "$T/pports"
} >"$T/beta/master.cf"
host_conf alpha "$KEYS" \
    "peer \"beta\" { address = \"127.0.0.1\" port = $PORT fingerprint = \"$BFP\" }"
host_conf gamma \
    "peer \"beta\" { address = \"127.0.0.1\" port = $PORT tls = no }"
for h in alpha gamma; do
	printf 'link\tlink\t-\tn\tn\t-\t-\tlink\n' >"$T/$h/master.cf"
done
host_start beta || exit 1
BETA_PID=$HOST_PID
host_start alpha || exit 1
ALPHA_PID=$HOST_PID
host_start gamma || exit 1
GAMMA_PID=$HOST_PID
ECHO_SOCK=$T/beta/sock/public/echo
TLS_SOCK=$T/alpha/sock/private/link/beta
PLAIN_SOCK=$T/gamma/sock/private/link/beta
wait_for 10 eval '[ "$(up_links alpha)" -eq 1 ] && [ "$(up_links gamma)" -eq 1 ]' ||
    { say "alpha's and gamma's links to beta not up within 10 s"; exit 1; }

# Is it TLS?  beta's linkd must answer a ClientHello with TLS 1.3 (the
# probe has no certificate: linkd refuses it after the handshake).
NOTLS=
timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -brief \
    </dev/null >"$T/probe.out" 2>&1
if ! grep -q '^Protocol version: TLSv1.3' "$T/probe.out"; then
	# The reason of OpenSSL's first error line ("PID:error:CODE:LIB:
	# FUNC:REASON:FILE:LINE:DATA"), else the first line.
	NOTLS=$(awk -F: '/:error:/ { r = $6; exit }
	    NF && l == "" { l = $0 } END { print (r != "" ? r : l) }' \
	    "$T/probe.out" | head -n 1 | tr '|' '/' | cut -c 1-80)
	NOTLS="beta's linkd does not answer TLS (openssl s_client: ${NOTLS:-no output})"
	say "$NOTLS"
	say "openssl s_client said:"
	sed 's/^/    /' "$T/probe.out"
fi

# --- the peer: haproxy, TLS between its two halves -------------------------------
# cert NAME: $T/NAME.pem, key and certificate for DNS name NAME signed by
# $T/ca.pem (EC P-256, valid for 2 days).
cert() {
	printf 'subjectAltName = DNS:%s\n' "$1" >"$T/$1.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/$1.key" -out "$T/$1.csr" -subj "/CN=$1" &&
	    openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.pem" \
	    -CAkey "$T/ca.key" -set_serial "$2" -days 2 \
	    -extfile "$T/$1.ext" -out "$T/$1.crt" &&
	    cat "$T/$1.crt" "$T/$1.key" >"$T/$1.pem"
}
{ openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/ca.key" -out "$T/ca.pem" -subj /CN=linktls-ca -days 2 &&
    cert far 1 && cert near 2; } >"$T/openssl.out" 2>&1 ||
    { say "openssl could not make the haproxy certificates:"
      sed 's/^/    /' "$T/openssl.out"; exit 1; }

HAP_SOCK=$T/hap.sock
TLSOPT="ssl-min-ver TLSv1.3 ca-file $T/ca.pem verify required"
hap_conf far "127.0.0.1:$HPORT ssl crt $T/far.pem $TLSOPT" "$ECHO_SOCK"
hap_conf near "$HAP_SOCK" \
    "127.0.0.1:$HPORT ssl crt $T/near.pem $TLSOPT verifyhost far sni str(far)"
HAP_PIDS=
for h in far near; do
	haproxy -c -q -f "$T/hap-$h.cfg" >"$T/hap-$h.out" 2>&1 ||
	    { say "haproxy $h: configuration refused:"
	      sed 's/^/    /' "$T/hap-$h.out"; exit 1; }
	bench_bg "$T/hap-$h.out" haproxy -db -f "$T/hap-$h.cfg"
	HAP_PIDS="$HAP_PIDS $BG_PID"
done
wait_for 5 test -S "$HAP_SOCK" ||
    { say "haproxy did not start:"; sed 's/^/    /' "$T"/hap-*.out; exit 1; }
HAP_V=$(haproxy -v | sed -n '1s/^HA-*Proxy version \([^ ]*\).*/\1/p')

# --- 1. throughput and latency ------------------------------------------------

# run, med, runs, fig, paired: lib-link.sh (shared with link.sh); why
# here also fails every TLS label when the link is not TLS.
why() {
	case $1 in
	tls*)	[ -z "$NOTLS" ] || { echo "$NOTLS"; return; } ;;
	esac
	lc_why "$1"
}

# versus WHAT L H BASE OP TARGET: one row, L (linkmaster) against H (the
# baseline BASE), target "OP TARGETx"; a failed run on either side makes
# the ratio "failed" with the reason.
versus() {
	_vw=$1 _vl=$2 _vh=$3 _vb=$4 _vo=$5 _vt=$6
	say "$_vw: runs (req/s): $_vl$(runs "$_vl"); $_vh$(runs "$_vh")"
	_vwho=$_vl
	[ -n "$(why "$_vl")" ] || _vwho=$_vh
	if [ -n "$(why "$_vwho")" ]; then
		result linktls "$_vw" "$(fig "$_vl")" "$_vb" "$(fig "$_vh")" \
		    "failed ($_vwho: $(why "$_vwho"))" "$_vo ${_vt}x" no
		return
	fi
	_vr=$(paired "$_vl" "$_vh")
	[ -n "$_vr" ] || _vr=$(ratio "$(med "$_vl" 2)" "$(med "$_vh" 2)")
	result linktls "$_vw" "$(fig "$_vl")" "$_vb" "$(fig "$_vh")" \
	    "${_vr}x" "$_vo ${_vt}x" "$(yesno cmp_ok "$_vr" "$_vo" "$_vt")"
}

# rw_calls PID...: their read- and write-type system calls so far
# (syscr + syscw of /proc/PID/io), summed.
rw_calls() {
	for _p in "$@"; do
		cat "/proc/$_p/io" 2>/dev/null
	done | awk '$1 == "syscr:" || $1 == "syscw:" { n += $2 }
	    END { print n + 0 }'
}

# contenders NAME "WHO..." OPTION...: NAME's runs through each of WHO
# (tls, plain, hap), starting with the R-th (mod their number): who goes
# first rotates by round.
sock_of() {
	case $1 in
	tls)	echo "$TLS_SOCK" ;;
	plain)	echo "$PLAIN_SOCK" ;;
	hap)	echo "$HAP_SOCK" ;;
	esac
}
contenders() {
	_cn=$1
	_cw=$2
	shift 2
	# shellcheck disable=SC2086
	_cc=$(echo $_cw | wc -w)
	_ck=0
	while [ $_ck -lt "$_cc" ]; do
		# shellcheck disable=SC2086
		_cx=$(echo $_cw | cut -d' ' -f$(( (R + _ck) % _cc + 1 )))
		# shellcheck disable=SC2046
		{ _c0=$(sum_ticks $(relays "$_cx"))
		  _s0=$(rw_calls $(relays "$_cx")); }
		run "$_cx-$_cn" "$(sock_of "$_cx")" "$@"
		# shellcheck disable=SC2046
		echo "$_cx-$_cn $(( $(sum_ticks $(relays "$_cx")) - _c0 ))" \
		    "$(( $(rw_calls $(relays "$_cx")) - _s0 ))" >>"$T/cpu"
		_ck=$((_ck + 1))
	done
}

: >"$T/runs"
: >"$T/fails"
: >"$T/cpu"
ROUND=
for s in "$TLS_SOCK" "$PLAIN_SOCK" "$HAP_SOCK"; do
	run warm "$s" -c 64 -W 1 -t 0.3
	run warm "$s" -C -t 0.3
done
[ -s "$T/fails" ] && say "warm-up had errors (above); going on"
: >"$T/fails"
TLSP=$(children link "$ALPHA_PID")
PLAINP=$(children link "$GAMMA_PID")
LINKDS=$(children linkd "$BETA_PID")
# relays WHO: the pids that relay WHO's requests (the link helper and
# beta's linkd children, or the two haproxy): their CPU is WHO's cost.
relays() {
	case $1 in
	tls)	echo "$TLSP $LINKDS" ;;
	plain)	echo "$PLAINP $LINKDS" ;;
	hap)	echo "$HAP_PIDS" ;;
	esac
}
ROUND=0
while [ $ROUND -lt "$ROUNDS" ]; do
	contenders 11 "tls plain hap" -c 1 -W 1
	contenders 816 "tls plain hap" -c 8 -W 16
	contenders 641 "tls hap" -c 64 -W 1
	contenders cpr "tls hap" -c 1 -C
	ROUND=$((ROUND + 1))
done
ROUND=
# What the two helpers map once their links have carried every workload:
# a TLS helper drops its handshake's pages when its link comes up
# (linktls_settle), so its VmRSS in part 2 is an idle link's; this is a
# busy one's.
# shellcheck disable=SC2086
{ TRAF_T=$(mem VmRSS $TLSP); TRAF_P=$(mem VmRSS $PLAINP)
  TRAF_MAP=$(smaps_top "$TLSP"); }
# And once it has been quiet for -o settle (10 s by default), a TLS link
# gives those pages back again (link_req.c): what a link that was busy
# and is idle now holds.  A bench, not a test: the wait is the measure.
sleep 11
# shellcheck disable=SC2086
QUIET_T=$(mem VmRSS $TLSP)
for p in $HAP_PIDS; do
	alive "$p" || say "haproxy pid $p is gone: $(tail -n 3 "$T"/hap-*.out)"
done
HB="haproxy chain, TLS between halves"
say "haproxy $HAP_V; $ROUNDS round(s); medians; rate in req/s" \
    "(p50 / p99 us); ratio: median of the rounds' ratios"
versus "TLS link req/s (p50 / p99 us), 1 client x 1 in flight" \
    tls-11 plain-11 "plaintext link" ">=" 0.8
versus "TLS link req/s (p50 / p99 us), 8 clients x 16 in flight" \
    tls-816 plain-816 "plaintext link" ">=" 0.8
versus "TLS link req/s (p50 / p99 us), 1 client x 1 in flight" \
    tls-11 hap-11 "$HB" ">=" 1.0
versus "TLS link req/s (p50 / p99 us), 8 clients x 16 in flight" \
    tls-816 hap-816 "$HB" ">=" 1.0
versus "TLS link req/s (p50 / p99 us), 64 clients x 1 in flight" \
    tls-641 hap-641 "$HB" ">=" 1.0
versus "TLS link req/s (p50 / p99 us), 1 client, a connection per request" \
    tls-cpr hap-cpr "$HB" ">=" 1.0
result linktls "TLS link helper VmRSS kB after carrying the workloads above (diagnostic)" \
    "${TRAF_T:-?}" "plaintext link helper" "${TRAF_P:-?}" \
    "$(ratio "${TRAF_T:-0}" "${TRAF_P:-0}")x" "(none)" -
result linktls "TLS link helper VmRSS kB after the workloads and 11 s quiet (-o settle 10 s; diagnostic)" \
    "${QUIET_T:-?}" "the same, just after the workloads" "${TRAF_T:-?}" \
    "$(ratio "${QUIET_T:-0}" "${TRAF_T:-0}")x" "(none)" -
note "the TLS link helper's largest mappings (Rss) after the workloads:" \
    "$TRAF_MAP"
note "the peer: haproxy $HAP_V, two processes (near: unix socket ->" \
    "TCP 127.0.0.1 with TLS 1.3, client certificate, verifyhost; far:" \
    "TLS 1.3, verify required -> beta's echo socket), each mode tcp," \
    "nbthread 1, maxconn 4096; CA and certificates EC P-256 by openssl(1)." \
    "TLS link: alpha -> beta pinned both ways (tls-init); plaintext" \
    "link: gamma -> beta, tls = no; both to the same linkd service." \
    "TLS check: $( [ -z "$NOTLS" ] && echo "beta's linkd answered" \
    "openssl s_client with TLSv1.3" || echo "$NOTLS")"
# us_per LABEL: CPU microseconds of LABEL's relays per request (requests:
# rate x (warm-up + measured) in each run); calls_per LABEL: their read-
# and write-type system calls per request.
us_per() {
	awk -v l="$1" -v u="$RUN_U" -v t="$RUN_T" -v hz="$(getconf CLK_TCK)" '
	    FILENAME ~ /cpu$/ && $1 == l { k += $2; next }
	    $1 == l { n += $2 * (u + t) }
	    END { printf "%.2f", (n > 0 ? k / hz * 1e6 / n : 0) }' \
	    "$T/cpu" "$T/runs"
}
calls_per() {
	awk -v l="$1" -v u="$RUN_U" -v t="$RUN_T" '
	    FILENAME ~ /cpu$/ && $1 == l { k += $3; next }
	    $1 == l { n += $2 * (u + t) }
	    END { printf "%.2f", (n > 0 ? k / n : 0) }' "$T/cpu" "$T/runs"
}
note "CPU of the relays per request (us; TLS link: alpha's link helper" \
    "and beta's linkd children; plaintext: gamma's and the same;" \
    "haproxy: its two processes; from utime + stime, CLK_TCK" \
    "$(getconf CLK_TCK), so coarse): 1 x 1 TLS $(us_per tls-11)," \
    "plaintext $(us_per plain-11), haproxy $(us_per hap-11); 8 x 16 TLS" \
    "$(us_per tls-816), plaintext $(us_per plain-816), haproxy" \
    "$(us_per hap-816); 64 x 1 TLS $(us_per tls-641), haproxy" \
    "$(us_per hap-641); a connection per request TLS $(us_per tls-cpr)," \
    "haproxy $(us_per hap-cpr).  Less CPU per request is what a busier" \
    "machine would turn into a higher rate.  Read/write-type system" \
    "calls of the link helper and linkd per request (/proc/PID/io, which" \
    "does not count haproxy's recv/send): 1 x 1 TLS $(calls_per tls-11)," \
    "plaintext $(calls_per plain-11); 8 x 16 TLS $(calls_per tls-816)," \
    "plaintext $(calls_per plain-816)"

# --- 2. 200 peers -------------------------------------------------------------
host_stop alpha
host_stop gamma
if [ "${LINKTLS_BENCH_ONLY:-}" = throughput ]; then
	host_stop beta
	exit 0
fi

# peers_conf NAME EXTRA: NAME with the 200 peer sections, EXTRA inside each.
peers_conf() {
	_pc=$1
	_px=$2
	_pk=
	[ "$_pc" = alpha ] && _pk=$KEYS
	_pp=
	_pi=0
	while [ $_pi -lt "$NPEERS" ]; do
		_pp="$_pp$(printf 'peer "p%03d" { address = "127.0.0.1" port = %s %s }' \
		    $_pi "$(pport $_pi)" "$_px")
"
		_pi=$((_pi + 1))
	done
	host_conf "$_pc" "$_pk" "$_pp"
}

# peers_up NAME: start NAME with its 200 peers; UP_MS (or -), START_MS,
# and the VmRSS, RssAnon and Pss of its link helpers in $T/NAME.FIELD.
peers_up() {
	# shellcheck disable=SC2046
	_d0=$(sum_ticks $(children linkd "$BETA_PID"))
	_t0=$(now_ns)
	host_start "$1" || return 1
	START_MS=$(ms_since "$_t0")
	eval "${1}_up() { [ \"\$(up_links $1)\" -ge $NPEERS ]; }"
	if poll_until 20 "${1}_up"; then
		UP_MS=$(ms_since "$_t0")
	else
		UP_MS=-
		say "$1: only $(up_links "$1") of $NPEERS links up after 20 s"
	fi
	LINKS=$(children link "$HOST_PID")
	# shellcheck disable=SC2086
	UP_TICKS=$(sum_ticks $LINKS)
	UP_MAP=$(smaps_top "$(echo "$LINKS" | head -n 1)")
	# shellcheck disable=SC2046
	UP_DTICKS=$(( $(sum_ticks $(children linkd "$BETA_PID")) - _d0 ))
	for f in VmRSS RssAnon Pss; do
		# shellcheck disable=SC2086
		mem $f $LINKS >"$T/$1.$f"
	done
}

# gamma twice: the first start is a warm-up that has beta spawn its 200
# linkd children, which then serve the measured starts of both.
peers_conf gamma "tls = no"
peers_up gamma || exit 1
host_stop gamma
peers_up gamma || exit 1
p_ms=$UP_MS p_start=$START_MS p_ticks=$UP_TICKS p_dticks=$UP_DTICKS p_map=$UP_MAP
host_stop gamma
peers_conf alpha "fingerprint = \"$BFP\""
peers_up alpha || exit 1
ALPHA_PID=$HOST_PID
t_ms=$UP_MS t_start=$START_MS t_ticks=$UP_TICKS t_dticks=$UP_DTICKS
TLINKS=$LINKS
NL=$(echo "$TLINKS" | wc -w | tr -d ' ')
say "$NPEERS links: TLS all up ${t_ms} ms after linkmaster start" \
    "(start returned after $t_start ms); plaintext $p_ms ms ($p_start ms)"
# shellcheck disable=SC2046
set -- $(rss_stats "$T/alpha.VmRSS")
t_sum=$1 t_avg=$2 t_med=$3 t_max=$4
# shellcheck disable=SC2046
set -- $(rss_stats "$T/gamma.VmRSS")
p_avg=$2 p_med=$3 p_max=$4
# shellcheck disable=SC2046
set -- $(rss_stats "$T/alpha.RssAnon") $(rss_stats "$T/alpha.Pss") \
    $(rss_stats "$T/gamma.RssAnon") $(rss_stats "$T/gamma.Pss")
t_anon=$2 t_pss=$6 p_anon=${10} p_pss=${14}
MAP=$UP_MAP

if [ -n "$NOTLS" ]; then
	bad="failed ($NOTLS)"
	result linktls "$NPEERS TLS peers: linkmaster start -> all up, ms" \
	    "$t_ms" "$NPEERS plaintext peers" "$p_ms" "$bad" "< 3000 ms" no
	result linktls "TLS link helper VmRSS kB, avg (median / max) of $NL" \
	    "$t_avg ($t_med / $t_max)" "plaintext link helper" \
	    "$p_avg ($p_med / $p_max)" "$bad" "< 2048 kB each" no
else
	if [ "$t_ms" != - ] && [ "$p_ms" != - ]; then
		r=$(ratio "$t_ms" "$p_ms")x
	else
		r="failed (not all up in 20 s)"
	fi
	result linktls "$NPEERS TLS peers: linkmaster start -> all up, ms" \
	    "$t_ms" "$NPEERS plaintext peers" "$p_ms" "$r" "< 3000 ms" \
	    "$( [ "$t_ms" != - ] && yesno cmp_ok "$t_ms" "<" 3000 || echo no)"
	result linktls "TLS link helper VmRSS kB, avg (median / max) of $NL" \
	    "$t_avg ($t_med / $t_max)" "plaintext link helper" \
	    "$p_avg ($p_med / $p_max)" "$(ratio "$t_avg" "$p_avg")x" \
	    "< 2048 kB each" "$(yesno test "${t_max:-99999}" -lt 2048)"
fi
result linktls "TLS link helper RssAnon / Pss kB, avg of $NL (diagnostic)" \
    "$t_anon / $t_pss" "plaintext link helper" "$p_anon / $p_pss" \
    "$(ratio "$t_anon" "$p_anon")x" "(none)" -
note "$NPEERS peers: the first \"linkmaster status\" (polled every 50 ms)" \
    "that showed all rows up (\"linkmaster start\" returned after" \
    "$t_start ms with TLS, $p_start ms in plaintext); CPU ticks of the" \
    "$NPEERS link helpers by then: TLS $t_ticks, plaintext $p_ticks;" \
    "of beta's linkd children meanwhile: TLS $t_dticks, plaintext" \
    "$p_dticks (CLK_TCK $(getconf CLK_TCK)).  TLS VmRSS sum $t_sum kB." \
    "The largest" \
    "mappings (Rss) of a TLS link helper: $MAP; of a plaintext one:" \
    "$p_map; the" \
    "helper's text + data (size(1)): $(size "$LINK" 2>/dev/null |
    awk 'NR == 2 { printf "%d + %d kB", $1 / 1024, $2 / 1024 }').  The" \
    "kernel maps a file's pages in large folios, so VmRSS follows the" \
    "binary's size more than the code run; the file pages are shared by" \
    "all helpers (Pss), RssAnon is each one's own"

# --- 3. idle ----------------------------------------------------------------------
LINKDS=$(children linkd "$BETA_PID")
ND=$(echo "$LINKDS" | wc -w | tr -d ' ')
sleep 1		# settle: startup-grace timers, the last log lines
for g in 0 1; do
	snap "$T/m$g" "$ALPHA_PID" "$BETA_PID"
	# shellcheck disable=SC2086
	snap "$T/li$g" $TLINKS
	# shellcheck disable=SC2086
	snap "$T/ld$g" $LINKDS
	[ $g = 0 ] && sleep "$WINDOW"
done
set -- $(delta "$T/m0" "$T/m1")
dm=$1 bm=$2
set -- $(delta "$T/li0" "$T/li1")
dl=$1 bl=$2
set -- $(delta "$T/ld0" "$T/ld1")
dd=$1 bd=$2
all=$((dm + dl + dd))
still=$(up_links alpha)
say "idle ${WINDOW}s ticks: 2 masters $dm, $NL TLS link helpers $dl," \
    "$ND linkd $dd; $still of $NPEERS still up"
[ "$bm$bl$bd" = --- ] || say "busy (pid:ticks): masters $bm; links $bl; linkd $bd"
if [ -n "$NOTLS" ]; then
	met="failed ($NOTLS)"
else
	met=-
fi
result linktls "idle CPU ticks in ${WINDOW}s: 2 masters + $NL TLS links + $ND linkd" \
    "$all" "(none)" - "$met" "0 ticks" \
    "$( [ -z "$NOTLS" ] && yesno test "$all" -eq 0 || echo no)"
note "idle: masters $dm, the $NL TLS link helpers $dl, beta's $ND linkd" \
    "children $dd ticks (CLK_TCK $(getconf CLK_TCK)); $still of $NPEERS" \
    "links still up at the end"
host_stop alpha

# --- 4. static or dynamic, with TLS -------------------------------------------
# NDYN standalone TLS helpers (-o config_dir: alpha's linkmaster.conf, so
# TLS with beta's pin) of this build, then as many of the dynamically
# linked one (tests/bench/link-dynamic), on p000...: their memory.
LINK_DYN=$top_builddir/tests/bench/link-dynamic
NDYN=20
# alone PROG NAME: NDYN standalone helpers of PROG, their log in
# $T/NAME.log; VmRSS and RssAnon in $T/NAME.FIELD; ended again.
alone() {
	mkdir -p "$T/$2"
	: >"$T/$2.log"
	_ap=
	_ai=0
	while [ $_ai -lt $NDYN ]; do
		"$1" -o listen="$T/$2/$_ai" -o peer_name="$(printf p%03d $_ai)" \
		    -o peer_address=127.0.0.1 -o peer_port="$(pport $_ai)" \
		    -o host_name=alpha -o state_dir="$T/$2/state" -o drain=1 \
		    -o config_dir="$T/alpha" </dev/null >>"$T/$2.log" 2>&1 &
		_ap="$_ap $!"
		B_PIDS="$! $B_PIDS"
		_ai=$((_ai + 1))
	done
	ALOG=$T/$2.log
	poll_until 20 eval \
	    '[ "$(grep -c "link to p[0-9]* up (TLS" "$ALOG")" -ge $NDYN ]' ||
	    say "$2: only $(grep -c 'up (TLS' "$ALOG") of $NDYN TLS links up"
	for f in VmRSS RssAnon; do
		# shellcheck disable=SC2086
		mem $f $_ap >"$T/$2.$f"
	done
	# shellcheck disable=SC2086
	end_pids $_ap
}
if [ -x "$LINK_DYN" ]; then
	alone "$LINK" static
	alone "$LINK_DYN" dyn
	# shellcheck disable=SC2046
	set -- $(rss_stats "$T/static.VmRSS") $(rss_stats "$T/static.RssAnon") \
	    $(rss_stats "$T/dyn.VmRSS") $(rss_stats "$T/dyn.RssAnon")
	if ldd "$LINK" >/dev/null 2>&1; then
		build=dynamic
	else
		build=static
	fi
	result linktls "TLS link helper VmRSS / RssAnon kB, this build ($build) vs the dynamic one, avg of $NDYN standalone (diagnostic)" \
	    "$2 / $6" "dynamic build" "${10} / ${14}" "$(ratio "$2" "${10}")x" \
	    "(none)" -
else
	say "no $LINK_DYN (make bench builds it): no static/dynamic row"
fi
log_problems 'calls itself|s_client|certificate|handshake'
host_stop beta
exit 0
