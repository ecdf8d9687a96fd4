#!/bin/sh
# link.sh: link services between two real masters on loopback, against
# the same job done by two chained haproxy processes.
#
# beta runs "linkd -o backend=echo" (inet, 127.0.0.1, linkd's defaults:
# pool 4, backend_depth 128, backend_lag 2 ms) and the unix echo service
# (public, maxproc 160, -o log_clients=0); alpha runs the link service
# with peer beta.  Both have host_name set, max_use = 0, max_idle = 1h.
# The peer: haproxy 2.6 (Debian), two processes started by this script,
# client -> haproxy "near" (unix socket) -> TCP 127.0.0.1 -> haproxy
# "far" -> beta's echo socket: the link's job, line requests from local
# clients reach the peer host's echo and back.  Each is "mode tcp" with
# "nbthread 1" (one thread per process, as a link helper and a linkd are
# one single-threaded process each), maxconn 4096, timeouts 5 s connect
# and 1 min client/server, no logging, all else default: what an
# operator would write for a TCP relay.  haproxy in tcp mode opens one
# server connection per client connection.  The link carries every
# client over one TCP link, and linkd pipelines what comes over it on
# one echo connection (up to backend_depth requests outstanding: the 128
# of 8 x 16 fit on one), opening another (up to pool) only when every
# one in use lags (no reply for backend_lag): while echo keeps up, one
# connection.
# 1. Requests through client -> alpha's link -> beta's linkd -> echo
#    and through the haproxy chain, with tests/bench/lclient (32-byte
#    lines; every round trip timed; 0.3 s warm-up, 1.2 s measured), four
#    workloads: 1 client x 1 request in flight (round trips), 8 clients
#    x 16 in flight (refilled as replies come, in one write), 64 clients
#    x 1 in flight, and 1 client with a connection per request (connect,
#    one line, reply, close; timed from connect).  Five rounds; in each
#    the two contenders of a workload run back to back, link first in
#    even rounds and haproxy first in odd ones; the figures are medians
#    over the rounds, the ratio the median of the rounds' ratios (link
#    over haproxy in the same round: drift between rounds cancels out).
#    A run with an error (a refused connect, a wrong or missing reply)
#    makes its row "failed" with the reason: no ratio is printed from it.
#    Targets, link / haproxy requests/s: >= 1.3x on 8 x 16 and on 64 x 1,
#    >= 1.0x on 1 x 1, >= 2x on connect per request.  Diagnostics (no
#    target): 8 x 16 through a second linkd of beta with pool=1 (alpha's
#    peer "beta1", the name that linkd gives itself; in the rounds): one
#    echo connection even when it lags, so the default pool's row shows
#    what the connections it opens for a lag cost or bring; and one run
#    each of 8 x 16 straight to beta's echo socket (no chain) and through
#    tests/bench/relay in link's and linkd's places (a bare relay, no
#    protocol: the floor of a process in the link's place on this
#    machine).
# 2. alpha with 200 peer sections (p000..p199, each a linkd service of
#    beta's of its own, on its own port, that names itself pNNN, as a
#    link refuses a linkd naming itself otherwise; they all say hello as
#    alpha, so beta has one peer "alpha"): from just
#    before "linkmaster start" to the first "linkmaster status" that
#    shows 200 link rows with STATUS "up" (a poll every 50 ms plus the
#    status command's own time), and the VmRSS of the 200 link helpers
#    (also RssAnon and Pss, as a diagnostic).  Baseline: 200 standalone
#    link processes started by a shell loop against the same linkds, until
#    their 200 "up" log lines (same poll).  Targets: under 2 s; under
#    1.5 MiB VmRSS per helper (the largest).  Diagnostic: 20 standalone
#    helpers of the dynamically linked build (tests/bench/link-dynamic),
#    next to the standalone ones of this build.
# 3. With all of that up and idle (after a settling second): CPU ticks
#    over 10 s of both masters, the 200 link helpers and beta's linkd
#    children.  Target: 0 in all.  Baseline: the 200 standalone links.
# LINK_BENCH_ONLY=throughput: part 1 only (about 90 s).
# LINK_BENCH_QUICK=1: part 1 only, one round of shorter runs (about 20 s),
# for a look while developing; not for the README.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-link.sh"

LINK=$top_builddir/services/link
LINK_DYN=$top_builddir/tests/bench/link-dynamic
LINKD=$top_builddir/services/linkd
LCLIENT=$top_builddir/tests/bench/lclient
RELAY=$top_builddir/tests/bench/relay
NPEERS=${BENCH_LINK_PEERS:-200}
WINDOW=${BENCH_LINK_IDLE:-10}
ROUNDS=${BENCH_LINK_ROUNDS:-5}
RUN_T=1.2		# lclient: seconds measured
RUN_U=0.3		# and of warm-up before them
if [ -n "${LINK_BENCH_QUICK:-}" ]; then
	ROUNDS=1
	RUN_T=0.5
	RUN_U=0.2
	LINK_BENCH_ONLY=throughput
fi

bench_setup link
need "$LINK" "$LINKD" "$LCLIENT" "$LINK_DYN" "$RELAY"
need_cmd haproxy

# --- two masters -------------------------------------------------------------
# Each host NAME has its configuration in $T/NAME and its sockets, state
# and pid file under $T/NAME too; both log to the one sink, as NAME/....
# lib.sh's master helpers assume one master at $T/master.pid, hence ours.


# --- beta, and alpha with one peer ----------------------------------------------
PORT=$(free_port)
PORT1=$(free_port)
HPORT=$(free_port)
RPORT=$(free_port)
[ "$(printf '%s\n' "$PORT" "$PORT1" "$HPORT" "$RPORT" | sort -u |
    grep -c .)" = 4 ] || { say "no four distinct free ports"; exit 1; }
# Part 2's peers p000...: a link refuses a linkd that names itself
# otherwise than its peer, so each has a linkd service of its own in
# beta, "-o host_name=pNNN", on a port of its own (line N+1 of $T/pports).
: >"$T/pports"
if [ "${LINK_BENCH_ONLY:-}" != throughput ]; then
	peer_ports "$NPEERS" "$PORT" "$PORT1" "$HPORT" "$RPORT" || exit 1
fi
# linkd: one process per link (room for alpha's link, a standalone one
# and a dynamic one).  echo: room for the pools of both linkd services,
# the relay, 8 direct clients and haproxy's 64 connections.
# Part 2's standalone links say hello as peers of their own ("sa",
# "dyn"): a linkd takes a new link from a peer for its old one, so two
# helpers both saying "alpha" would take each other's place for ever.
host_conf beta "default_process_limit = 1000" \
    'peer "alpha" { address = "127.0.0.1" port = 1 }' \
    'peer "sa" { address = "127.0.0.1" port = 1 }' \
    'peer "dyn" { address = "127.0.0.1" port = 1 }'
{
	cat <<EOF
127.0.0.1:$PORT	inet	n	n	n	-	20	linkd -o backend=echo
127.0.0.1:$PORT1	inet	n	n	n	-	4	linkd -o backend=echo -o pool=1 -o host_name=beta1
echo	unix	n	n	n	-	160	echo -o log_clients=0
EOF
	awk '{ printf "127.0.0.1:%s\tinet\tn\tn\tn\t-\t4\tlinkd -o backend=echo -o host_name=p%03d\n", $1, NR - 1 }' \
	    "$T/pports"
} >"$T/beta/master.cf"
host_conf alpha "peer \"beta\" { address = \"127.0.0.1\" port = $PORT }" \
    "peer \"beta1\" { address = \"127.0.0.1\" port = $PORT1 }"
cat >"$T/alpha/master.cf" <<EOF
link	link	-	n	n	-	-	link
EOF
host_start beta || exit 1
BETA_PID=$HOST_PID
host_start alpha || exit 1
ALPHA_PID=$HOST_PID
ECHO_SOCK=$T/beta/sock/public/echo
LINK_SOCK=$T/alpha/sock/private/link/beta
LINK1_SOCK=$T/alpha/sock/private/link/beta1
wait_for 10 eval '[ "$(up_links alpha)" -eq 2 ]' ||
    { say "link/beta and link/beta1 not up within 10 s"; exit 1; }

# --- the peer: two haproxy processes --------------------------------------------
HAP_SOCK=$T/hap.sock
hap_conf far "127.0.0.1:$HPORT" "$ECHO_SOCK"
hap_conf near "$HAP_SOCK" "127.0.0.1:$HPORT"
HAP_PIDS=
for h in far near; do
	haproxy -c -q -f "$T/hap-$h.cfg" >"$T/hap-$h.out" 2>&1 ||
	    { say "haproxy $h: configuration refused:"
	      sed 's/^/    /' "$T/hap-$h.out"; exit 1; }
	# -db: in the foreground, no master-worker: BG_PID is haproxy.
	bench_bg "$T/hap-$h.out" haproxy -db -f "$T/hap-$h.cfg"
	HAP_PIDS="$HAP_PIDS $BG_PID"
	eval "HAP_$h=\$BG_PID"
done
wait_for 5 test -S "$HAP_SOCK" ||
    { say "haproxy did not start:"; sed 's/^/    /' "$T"/hap-*.out; exit 1; }
HAP_V=$(haproxy -v | sed -n '1s/^HA-*Proxy version \([^ ]*\).*/\1/p')

# The floor: tests/bench/relay in link's and linkd's places, on beta's
# echo service.
RELAY_SOCK=$T/relay.sock
bench_bg "$T/relay-far.out" "$RELAY" far "$RPORT" "$ECHO_SOCK"
wait_for 5 grep -q '^listening' "$T/relay-far.out" &&
    bench_bg "$T/relay-near.out" "$RELAY" near "$RELAY_SOCK" "$RPORT" &&
    wait_for 5 grep -q '^ready' "$T/relay-near.out" ||
    { say "relay did not start:" $(cat "$T"/relay-*.out); exit 1; }

# --- 1. throughput and latency ------------------------------------------------

# run, med, why, runs, fig, paired: lib-link.sh (shared with linktls.sh).

# versus WHAT L H OP TARGET: one row, requests/s of runs L (linkmaster)
# against runs H (a baseline named BASE), target "OP TARGETx" (OP "-" for
# a diagnostic).  A failed run on either side fails the row: the reason
# instead of a ratio.
BASE="haproxy chain"
versus() {
	_vw=$1 _vl=$2 _vh=$3 _vo=$4 _vt=$5
	_vf="$(why "$_vl")$(why "$_vh")"
	say "$_vw: runs (req/s): $_vl$(runs "$_vl"); $_vh$(runs "$_vh")"
	if [ "$_vo" = - ]; then
		_vg="(none)"
	else
		_vg="$_vo ${_vt}x"
	fi
	if [ -n "$_vf" ]; then
		_vwho=$_vl
		[ -n "$(why "$_vl")" ] || _vwho=$_vh
		result link "$_vw" "$(fig "$_vl")" "$BASE" "$(fig "$_vh")" \
		    "failed ($_vwho: $(why "$_vwho"))" "$_vg" \
		    "$([ "$_vo" = - ] && echo - || echo no)"
		return
	fi
	_vr=$(paired "$_vl" "$_vh")
	[ -n "$_vr" ] || _vr=$(ratio "$(med "$_vl" 2)" "$(med "$_vh" 2)")
	if [ "$_vo" = - ]; then
		_vm=-
	else
		_vm=$(yesno cmp_ok "$_vr" "$_vo" "$_vt")
	fi
	result link "$_vw" "$(fig "$_vl")" "$BASE" "$(fig "$_vh")" \
	    "${_vr}x" "$_vg" "$_vm"
}

: >"$T/runs"
: >"$T/fails"
ROUND=		# not a round: the warm-up
# Warm-up: echo children for linkd's pools, for haproxy's connections and
# for the direct clients; the relay's echo connection.
run warm "$LINK_SOCK" -c 64 -W 1 -t 0.3
run warm "$LINK1_SOCK" -c 8 -W 16 -t 0.3
run warm "$HAP_SOCK" -c 64 -W 1 -t 0.3
run warm "$HAP_SOCK" -C -t 0.3
run warm "$LINK_SOCK" -C -t 0.3
run warm "$ECHO_SOCK" -c 8 -t 0.3
run warm "$RELAY_SOCK" -c 8 -t 0.3
[ -s "$T/fails" ] && say "warm-up had errors (above); going on"
LINKDS=$(children linkd "$BETA_PID")
# link/beta's helper (not link/beta1's): its PEER_NAME.
for p in $(children link "$ALPHA_PID"); do
	tr '\0' '\n' <"/proc/$p/environ" | grep -qx PEER_NAME=beta &&
	    LINKP=$p
done
# rw_calls PID...: their read- and write-type system calls so far
# (syscr + syscw of /proc/PID/io), summed.
rw_calls() {
	for _p in "$@"; do
		cat "/proc/$_p/io" 2>/dev/null
	done | awk '$1 == "syscr:" || $1 == "syscw:" { n += $2 } END { print n + 0 }'
}

# The workloads: NAME and lclient options.
W11="-c 1 -W 1"
W816="-c 8 -W 16"
W641="-c 64 -W 1"
WCPR="-c 1 -C"
# CPU ticks and system calls of each hop in the 8 x 16 runs: link, linkd,
# echo children and wall time (ns) through the link; haproxy's two and
# echo's through haproxy.
cl=0 cd=0 ce=0 cn=0 sl=0 sd=0 se=0 ch=0 che=0 chn=0
# pair NAME OPTIONS...: NAME through the link (link-NAME) and through
# haproxy (hap-NAME), in this round's ORDER.
pair() {
	_pn=$1
	shift
	for _ps in $ORDER; do
		if [ "$_ps" = link ]; then
			run "link-$_pn" "$LINK_SOCK" "$@"
		else
			run "hap-$_pn" "$HAP_SOCK" "$@"
		fi
	done
}
ROUND=0
while [ $ROUND -lt $ROUNDS ]; do
	if [ $((ROUND % 2)) = 0 ]; then
		ORDER="link hap"
	else
		ORDER="hap link"
	fi
	# shellcheck disable=SC2086
	pair 11 $W11
	# The 8 x 16 pair by hand: CPU and system calls of every hop.
	for side in $ORDER; do
		ECHOS=$(children echo "$BETA_PID")
		if [ "$side" = link ]; then
			# shellcheck disable=SC2086
			{ l1=$(ticks "$LINKP"); d1=$(sum_ticks $LINKDS)
			  e1=$(sum_ticks $ECHOS); sl1=$(rw_calls "$LINKP")
			  sd1=$(rw_calls $LINKDS); se1=$(rw_calls $ECHOS)
			  t1=$(now_ns); }
			# shellcheck disable=SC2086
			run link-816 "$LINK_SOCK" $W816
			# shellcheck disable=SC2086
			{ cn=$((cn + $(now_ns) - t1))
			  cl=$((cl + $(ticks "$LINKP") - l1))
			  cd=$((cd + $(sum_ticks $LINKDS) - d1))
			  ce=$((ce + $(sum_ticks $ECHOS) - e1))
			  sl=$((sl + $(rw_calls "$LINKP") - sl1))
			  sd=$((sd + $(rw_calls $LINKDS) - sd1))
			  se=$((se + $(rw_calls $ECHOS) - se1)); }
		else
			# shellcheck disable=SC2086
			{ h1=$(sum_ticks $HAP_PIDS); e1=$(sum_ticks $ECHOS)
			  t1=$(now_ns); }
			# shellcheck disable=SC2086
			run hap-816 "$HAP_SOCK" $W816
			# shellcheck disable=SC2086
			{ chn=$((chn + $(now_ns) - t1))
			  ch=$((ch + $(sum_ticks $HAP_PIDS) - h1))
			  che=$((che + $(sum_ticks $ECHOS) - e1)); }
		fi
	done
	# shellcheck disable=SC2086
	run link1-816 "$LINK1_SOCK" $W816
	# shellcheck disable=SC2086
	pair 641 $W641
	# shellcheck disable=SC2086
	pair cpr $WCPR
	ROUND=$((ROUND + 1))
done
ROUND=		# not a round
# Diagnostics, one run each.
# shellcheck disable=SC2086
run direct-816 "$ECHO_SOCK" $W816
# shellcheck disable=SC2086
run relay-816 "$RELAY_SOCK" $W816
for p in $HAP_PIDS; do
	alive "$p" || say "haproxy pid $p is gone: $(tail -n 3 "$T"/hap-*.out)"
done

say "haproxy $HAP_V chain: near pid $HAP_near, far pid $HAP_far;" \
    "$ROUNDS round(s)," \
    "medians; rate in req/s (p50 / p99 us); ratio: median of the" \
    "rounds' ratios"
versus "req/s (p50 / p99 us), 1 client x 1 in flight" link-11 hap-11 \
    ">=" 1.0
versus "req/s (p50 / p99 us), 8 clients x 16 in flight" link-816 hap-816 \
    ">=" 1.3
versus "req/s (p50 / p99 us), 64 clients x 1 in flight" link-641 hap-641 \
    ">=" 1.3
versus "req/s (p50 / p99 us), 1 client, a connection per request" \
    link-cpr hap-cpr ">=" 2
versus "req/s (p50 / p99 us), 8 clients x 16 in flight, linkd pool=1 (diagnostic)" \
    link1-816 hap-816 - -
versus "req/s (p50 / p99 us), 8 clients x 16 in flight, tests/bench/relay in link's and linkd's places, the floor (diagnostic, one run)" \
    relay-816 hap-816 - -
versus "req/s (p50 / p99 us), 8 clients x 16 in flight, straight to beta's echo socket, no chain (diagnostic, one run)" \
    direct-816 hap-816 - -
HZ=$(getconf CLK_TCK)
# Requests in all the 8 x 16 runs, warm-up included: rate x (u + t).
per() {
	awk -v a="$1" -v n="$2" 'BEGIN { printf "%.2f", (n > 0 ? a / n : 0) }'
}
# reqs LABEL: requests in LABEL's runs, warm-up included: rate x (u + t).
reqs() {
	awk -v l="$1" -v s="$RUN_U" -v t="$RUN_T" '$1 == l { n += $2 * (s + t) }
	    END { print n + 0 }' "$T/runs"
}
nl=$(reqs link-816)
nh=$(reqs hap-816)
# cpu TICKS REQUESTS NS: "X us of CPU per request, Y% of the CPUs".
cpu() {
	awk -v k="$1" -v n="$2" -v ns="$3" -v hz="$HZ" -v c="$(nproc)" '
	    BEGIN { printf "%.2f us of CPU per request, %.0f%% of the CPUs\n",
		(n > 0 ? k / hz * 1e6 / n : 0),
		(ns > 0 ? 100 * k / hz / (ns / 1e9) / c : 0) }'
}
secs() {
	awk -v n="$1" 'BEGIN { printf "%.1f", n / 1e9 }'
}
note "the peer: haproxy $HAP_V, two processes (near: unix socket ->" \
    "TCP 127.0.0.1; far: TCP -> beta's echo socket), each mode tcp," \
    "nbthread 1, maxconn 4096, timeout connect 5s, client/server 1m," \
    "no log; link: alpha's link helper -> beta's linkd (default pool)" \
    "-> echo (maxproc 160).  Each workload's two contenders run back to" \
    "back, the order alternating by round; a target ratio is the median" \
    "of the rounds' ratios (link / haproxy in the same round)"
note "CPU ticks in the 8 x 16 runs ($HZ a second per CPU, $(nproc) CPUs):" \
    "through the link, link $cl, linkd $cd, echo children $ce in" \
    "$(secs "$cn") s; through haproxy, the two haproxy $ch, echo" \
    "children $che in $(secs "$chn") s: the link chain" \
    "$(cpu $((cl + cd + ce)) "$nl" "$cn"), the haproxy chain" \
    "$(cpu $((ch + che)) "$nh" "$chn") (the rest went to other processes" \
    "of the machine, or idle)"
note "read/write-type system calls per request in the 8 x 16 runs through" \
    "the link (/proc/PID/io; requests counted as rate x $RUN_U + $RUN_T s," \
    "warm-up included; epoll_wait comes on top): link $(per "$sl" "$nl")," \
    "linkd $(per "$sd" "$nl"), echo $(per "$se" "$nl")"
host_stop alpha
if [ "${LINK_BENCH_ONLY:-}" = throughput ]; then
	log_problems 'calls itself'
	host_stop beta
	exit 0
fi

# --- 2. 200 peers -------------------------------------------------------------

# start_links PROG NAME N: N standalone helpers of PROG for peers p000...
# (all beta's linkd), saying hello as NAME (a peer of beta's), sockets
# and queue under $T/NAME, log in $T/NAME.log; their pids in STARTED.
start_links() {
	_sp=$1
	_sn=$2
	_sc=$3
	mkdir -p "$T/$_sn"
	: >"$T/$_sn.log"
	STARTED=
	_si=0
	while [ $_si -lt "$_sc" ]; do
		_pn=$(printf 'p%03d' $_si)
		"$_sp" -o listen="$T/$_sn/$_pn" -o peer_name="$_pn" \
		    -o peer_address=127.0.0.1 -o peer_port="$(pport $_si)" \
		    -o host_name="$_sn" -o state_dir="$T/$_sn/state" -o drain=1 \
		    </dev/null >>"$T/$_sn.log" 2>&1 &
		STARTED="$STARTED $!"
		B_PIDS="$! $B_PIDS"
		_si=$((_si + 1))
	done
}
# links_up NAME N: N helpers of $T/NAME.log have said they are up.
links_up() {
	[ "$(grep -c ': link to p[0-9]* up$' "$T/$1.log")" -ge "$2" ]
}
# Baseline: 200 standalone link processes, one shell loop.
t0=$(now_ns)
start_links "$LINK" sa "$NPEERS"
SA=$STARTED
if poll_until 20 links_up sa "$NPEERS"; then
	sa_ms=$(ms_since "$t0")
	sa_polls=$POLLS
else
	sa_ms=-
	say "standalone links: only $(grep -c 'up$' "$T/sa.log") up after 20 s"
fi
for f in VmRSS RssAnon Pss; do
	# shellcheck disable=SC2086
	mem $f $SA >"$T/sa.$f"
done

# The same, 20 of them, from the dynamically linked build of the helper
# (tests/bench/link-dynamic), for its memory.
NDYN=20
start_links "$LINK_DYN" dyn $NDYN
DYN=$STARTED
poll_until 20 links_up dyn $NDYN ||
    say "dynamic links: only $(grep -c 'up$' "$T/dyn.log") up after 20 s"
for f in VmRSS RssAnon; do
	# shellcheck disable=SC2086
	mem $f $DYN >"$T/dyn.$f"
done
# shellcheck disable=SC2086
end_pids $DYN

# alpha with 200 peers.
P=
i=0
while [ $i -lt "$NPEERS" ]; do
	P="$P$(printf 'peer "p%03d" { address = "127.0.0.1" port = %s }' \
	    $i "$(pport $i)")
"
	i=$((i + 1))
done
host_conf alpha "$P"
alpha_up() {
	[ "$(up_links alpha)" -ge "$NPEERS" ]
}
t0=$(now_ns)
host_start alpha || exit 1
ALPHA_PID=$HOST_PID
start_ms=$(ms_since "$t0")
t1=$(now_ns)
if poll_until 20 alpha_up; then
	up_ms=$(ms_since "$t0")
	up_polls=$POLLS
	poll_ms=$(awk -v a="$t1" -v b="$(now_ns)" -v n="$POLLS" \
	    'BEGIN { printf "%.0f\n", (b - a) / 1e6 / n }')
else
	up_ms=-
	say "alpha: only $(up_links alpha) of $NPEERS links up after 20 s"
fi
LINKS=$(children link "$ALPHA_PID")
NL=$(echo "$LINKS" | wc -w | tr -d ' ')
for f in VmRSS RssAnon Pss; do
	# shellcheck disable=SC2086
	mem $f $LINKS >"$T/m.$f"
done
m_map=$(smaps_top "$(echo "$LINKS" | head -n 1)")
say "$NPEERS links: all up ${up_ms} ms after linkmaster start (start" \
    "returned after ${start_ms} ms; $up_polls polls, one every ~${poll_ms:-?} ms);" \
    "standalone ${sa_ms} ms ($sa_polls polls)"

# shellcheck disable=SC2046
set -- $(rss_stats "$T/m.VmRSS")
m_sum=$1 m_avg=$2 m_med=$3 m_max=$4
# shellcheck disable=SC2046
set -- $(rss_stats "$T/sa.VmRSS")
s_sum=$1 s_avg=$2 s_med=$3 s_max=$4
# shellcheck disable=SC2046
set -- $(rss_stats "$T/m.RssAnon") $(rss_stats "$T/m.Pss")
m_anon=$2 m_pss=$6
# shellcheck disable=SC2046
set -- $(rss_stats "$T/sa.RssAnon") $(rss_stats "$T/sa.Pss")
s_anon=$2 s_pss=$6
say "link helpers VmRSS (kB): under the master sum $m_sum avg $m_avg" \
    "median $m_med max $m_max ($NL helpers); standalone sum $s_sum" \
    "avg $s_avg median $s_med max $s_max"

if [ "$up_ms" != - ] && [ "$sa_ms" != - ]; then
	r=$(ratio "$up_ms" "$sa_ms")x
	met=$(yesno cmp_ok "$up_ms" "<" 2000)
else
	r=-
	met=no
fi
result link "$NPEERS peers: linkmaster start -> all up, ms" "$up_ms" \
    "$NPEERS standalone links (shell loop)" "$sa_ms" "$r" "< 2000 ms" "$met"
result link "link helper VmRSS kB, avg (median / max) of $NL" \
    "$m_avg ($m_med / $m_max)" "standalone link" \
    "$s_avg ($s_med / $s_max)" "$(ratio "$m_avg" "$s_avg")x" \
    "< 1536 kB each" "$(yesno test "${m_max:-99999}" -lt 1536)"
# shellcheck disable=SC2046
set -- $(rss_stats "$T/dyn.VmRSS") $(rss_stats "$T/dyn.RssAnon")
d_avg=$2 d_max=$4 d_anon=$6
if ldd "$LINK" >/dev/null 2>&1; then
	build=dynamic
else
	build=static
fi
result link "link helper VmRSS / RssAnon kB, this build ($build) vs the dynamic one, avg of standalone (diagnostic)" \
    "$s_avg / $s_anon" "dynamic build ($NDYN)" "$d_avg / $d_anon" \
    "$(ratio "$s_avg" "$d_avg")x" "(none)" -
result link "link helper RssAnon / Pss kB, avg of $NL (diagnostic)" \
    "$m_anon / $m_pss" "standalone link" "$s_anon / $s_pss" \
    "$(ratio "$m_anon" "$s_anon")x" "(none)" -
note "$NPEERS peers: time of the first \"linkmaster status\" (polled every" \
    "50 ms plus the command's ~$(( ${poll_ms:-50} - 50 )) ms, so the" \
    "resolution is ~${poll_ms:-50} ms) that showed all $NPEERS rows up;" \
    "\"linkmaster start\" itself returned after $start_ms ms; the baseline" \
    "polls its processes' log lines the same way.  VmRSS sums: $m_sum kB" \
    "under the master, $s_sum kB standalone.  A dynamically linked" \
    "helper's VmRSS also counts its mapped pages of libc, libevent," \
    "libbsd and libmd, which is why the helper is linked statically" \
    "(README, compare the dynamic build's row); RssAnon is a helper's" \
    "own memory, Pss that plus its share of the pages it shares.  One" \
    "helper's mappings (Rss): $m_map"

# --- 3. idle ----------------------------------------------------------------------
LINKDS=$(children linkd "$BETA_PID")
ND=$(echo "$LINKDS" | wc -w | tr -d ' ')

sleep 1		# settle: startup-grace timers, the last log lines
for g in 0 1; do
	snap "$T/am$g" "$ALPHA_PID"
	snap "$T/bm$g" "$BETA_PID"
	# shellcheck disable=SC2086
	snap "$T/li$g" $LINKS
	# shellcheck disable=SC2086
	snap "$T/ld$g" $LINKDS
	# shellcheck disable=SC2086
	snap "$T/sa$g" $SA
	[ $g = 0 ] && sleep "$WINDOW"
done
# first WORDS / rest WORDS: the first word, and the others.
first() {
	echo "${1%% *}"
}
rest() {
	echo "${1#* }"
}
r=$(delta "$T/am0" "$T/am1")
am=$(first "$r")
r=$(delta "$T/bm0" "$T/bm1")
bm=$(first "$r")
r=$(delta "$T/li0" "$T/li1")
dl=$(first "$r")
bl=$(rest "$r")
r=$(delta "$T/ld0" "$T/ld1")
dd=$(first "$r")
bd=$(rest "$r")
r=$(delta "$T/sa0" "$T/sa1")
ds=$(first "$r")
all=$((am + bm + dl + dd))
say "idle ${WINDOW}s ticks: alpha master $am, $NL link helpers $dl," \
    "beta master $bm, $ND linkd $dd; standalone links $ds"
[ "$bl$bd" = -- ] || say "busy (pid:ticks): links $bl; linkd $bd"
still=$(up_links alpha)
result link "idle CPU ticks in ${WINDOW}s: 2 masters + $NL links + $ND linkd" \
    "$all" "$NPEERS standalone links, idle" "$ds" "-" "0 ticks" \
    "$(yesno test "$all" -eq 0)"
note "idle: alpha's master $am, its $NL link helpers $dl, beta's master" \
    "$bm, its $ND linkd children $dd ticks (CLK_TCK $HZ);" \
    "$still of $NPEERS links still up at the end"
log_problems 'calls itself'
host_stop alpha
# shellcheck disable=SC2086
end_pids $SA
host_stop beta
exit 0
