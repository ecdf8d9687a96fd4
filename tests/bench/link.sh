#!/bin/sh
# link.sh: link services between two real masters on loopback.
#
# beta runs "linkd -o backend=echo -o pool=8" (inet, 127.0.0.1) and the
# unix echo service (public, maxproc 64); alpha runs the link service
# with peer beta.  Both have host_name set, max_use = 0, max_idle = 1h.
# 1. Requests through client -> alpha's link -> beta's linkd -> echo,
#    against the same clients on beta's public/echo socket directly
#    (each direct client has its own echo child).  tests/bench/lclient:
#    1 and 8 clients, one connection each, 16 requests of 32 bytes in
#    flight per client (refilled as replies come, in one write), every
#    round trip timed; 0.3 s warm-up, 1.2 s measured; three runs round
#    robin, median of each figure.  Target: >= 0.5x the direct
#    requests/s with 8 clients.  Diagnostics, one run each: 1 request in
#    flight (plain round trips), and 16 in flight sent in a write each;
#    and, in the rounds, 8 x 16 through a second linkd service of beta
#    with pool=1 (alpha's peer "beta1"): one backend connection, so every
#    request of a round reaches echo in one write (what the manual
#    advises for a backend that answers in microseconds).  The floor,
#    1 and 8 clients: tests/bench/relay in link's and linkd's places, a
#    bare relay that tags lines with their client and writes them on,
#    no protocol (its header says what it leaves out): a link does all
#    it does and more, so its ratio to direct is what bounds a link
#    on this machine.
# 2. alpha with 200 peer sections (p000..p199, all beta's linkd; they
#    all say hello as alpha, so beta has one peer "alpha"): from just
#    before "linkmaster start" to the first "linkmaster status" that
#    shows 200 link rows with STATUS "up" (a poll every 50 ms plus the
#    status command's own time), and the VmRSS of the 200 link helpers
#    (also RssAnon and Pss, as a diagnostic).  Baseline: 200 standalone
#    link processes started by a shell loop against the same linkd, until
#    their 200 "up" log lines (same poll).  Targets: under 2 s; under
#    1.5 MiB VmRSS per helper (the largest).  Diagnostic: 20 standalone
#    helpers of the dynamically linked build (tests/bench/link-dynamic),
#    next to the standalone ones of this build.
# 3. With all of that up and idle (after a settling second): CPU ticks
#    over 10 s of both masters, the 200 link helpers and beta's linkd
#    children.  Target: 0 in all.  Baseline: the 200 standalone links.
# LINK_BENCH_ONLY=throughput: part 1 only (about 20 s).
. "$(dirname "$0")/lib.sh"

LINK=$top_builddir/services/link
LINK_DYN=$top_builddir/tests/bench/link-dynamic
LINKD=$top_builddir/services/linkd
LCLIENT=$top_builddir/tests/bench/lclient
RELAY=$top_builddir/tests/bench/relay
NPEERS=${BENCH_LINK_PEERS:-200}
WINDOW=${BENCH_LINK_IDLE:-10}
ROUNDS=3

bench_setup link
need "$LINK" "$LINKD" "$LCLIENT" "$LINK_DYN" "$RELAY"

# --- two masters -------------------------------------------------------------
# Each host NAME has its configuration in $T/NAME and its sockets, state
# and pid file under $T/NAME too; both log to the one sink, as NAME/....
# lib.sh's master helpers assume one master at $T/master.pid, hence ours.


# host_conf NAME LINE...: $T/NAME/linkmaster.conf.
host_conf() {
	_hn=$1
	shift
	mkdir -p "$T/$_hn"
	{
		cat <<EOF
# written by tests/bench/link.sh
syslog_socket = "$T/log.sock"
syslog_name = "$_hn"
host_name = "$_hn"
socket_dir = "$T/$_hn/sock"
state_dir = "$T/$_hn/state"
pid_file = "$T/$_hn/master.pid"
daemon_directory = "$top_builddir/services"
stop_timeout = 5
max_use = 0
max_idle = 1h
EOF
		for _hl in "$@"; do
			printf '%s\n' "$_hl"
		done
	} >"$T/$_hn/linkmaster.conf"
}

# host_start NAME / host_stop NAME: the master of $T/NAME (lib.sh).
host_start() {
	bench_master_start "$T/$1" || return 1
	HOST_PID=$MASTER_PID
}

host_stop() {
	bench_master_stop "$T/$1"
}

# ms_since NS: milliseconds from NS to now (1 decimal).
ms_since() {
	awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.1f\n", (b - a) / 1e6 }'
}

# up_links NAME: how many link rows of NAME's status say "up".
up_links() {
	timeout 10 "$LINKMASTER" -c "$T/$1" status 2>/dev/null |
	    awk '$2 == "link" && $NF == "up" { n++ } END { print n + 0 }'
}

# children NAME PID: PID's children called NAME (comm), one per line.
children() {
	pgrep -P "$2" -x "$1" || true
}

# sum_ticks PID...: their utime + stime, summed.
sum_ticks() {
	_st=0
	for _p in "$@"; do
		_st=$((_st + $(ticks "$_p")))
	done
	echo "$_st"
}

# mem FIELD PID...: FIELD (kB) of each, one per line: a field of
# /proc/PID/status (VmRSS, RssAnon) or Pss from /proc/PID/smaps_rollup.
mem() {
	_mf=$1
	shift
	for _p in "$@"; do
		if [ "$_mf" = Pss ]; then
			printf '/proc/%s/smaps_rollup\n' "$_p"
		else
			printf '/proc/%s/status\n' "$_p"
		fi
	done | xargs awk -v f="$_mf:" '$1 == f { print $2 }' 2>/dev/null
}

# --- beta, and alpha with one peer ----------------------------------------------
PORT=$(free_port)
PORT1=$(free_port)
[ -n "$PORT" ] && [ -n "$PORT1" ] && [ "$PORT" != "$PORT1" ] ||
    { say "no free ports"; exit 1; }
# linkd: one process per link; room for the 200 links of alpha, the 200
# standalone ones and the first.
host_conf beta "default_process_limit = 1000" \
    'peer "alpha" { address = "127.0.0.1" port = 1 }'
cat >"$T/beta/master.cf" <<EOF
127.0.0.1:$PORT	inet	n	n	n	-	$((2 * NPEERS + 20))	linkd -o backend=echo -o pool=8
127.0.0.1:$PORT1	inet	n	n	n	-	4	linkd -o backend=echo -o pool=1
echo	unix	n	n	n	-	64	echo
EOF
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
# The floor: tests/bench/relay in link's and linkd's places, on beta's
# echo service.
RPORT=$(free_port)
RELAY_SOCK=$T/relay.sock
bench_bg "$T/relay-far.out" "$RELAY" far "$RPORT" "$ECHO_SOCK"
wait_for 5 grep -q '^listening' "$T/relay-far.out" &&
    bench_bg "$T/relay-near.out" "$RELAY" near "$RELAY_SOCK" "$RPORT" &&
    wait_for 5 grep -q '^ready' "$T/relay-near.out" ||
    { say "relay did not start:" $(cat "$T"/relay-*.out); exit 1; }

# --- 1. throughput and latency ------------------------------------------------

# run LABEL SOCK LCLIENT-OPTION...: one lclient run; appends
# "LABEL rate p50 p99" to $T/runs; shows what went wrong if a client erred.
run() {
	_rl=$1
	_rs=$2
	shift 2
	"$LCLIENT" -w 30 -u 0.3 -t 1.2 "$@" "$_rs" >"$T/lc.out" 2>"$T/lc.err"
	_line=$(cat "$T/lc.out")
	case $_line in
	*" errors=0 "*) ;;
	*) say "$_rl: lclient: $_line"; sed -n '1,3s/^/    /p' "$T/lc.err" ;;
	esac
	echo "$_line" | awk -v l="$_rl" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%s %.1f %.1f %.1f\n", l, v["rate"], v["p50_us"],
		    v["p99_us"]
	}' >>"$T/runs"
}

# med LABEL FIELD: median of FIELD (2 rate, 3 p50, 4 p99) over LABEL's runs.
med() {
	# shellcheck disable=SC2046
	median $(awk -v l="$1" -v f="$2" '$1 == l { print $f }' "$T/runs")
}

: >"$T/runs"
# Warm-up: echo children for the direct clients and for linkd's pool.
run warm "$ECHO_SOCK" -c 8 -t 0.3
run warm "$LINK_SOCK" -c 8 -t 0.3
run warm "$LINK1_SOCK" -c 8 -t 0.3
run warm "$RELAY_SOCK" -c 8 -t 0.3
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

c0=0
l0=0
d0=0
e0=0
# The same for system calls, and for the direct runs' echo children.
sl0=0
sd0=0
se0=0
sx0=0
i=0
while [ $i -lt $ROUNDS ]; do
	run direct1 "$ECHO_SOCK" -c 1 -W 16
	run link1 "$LINK_SOCK" -c 1 -W 16
	ECHOS=$(children echo "$BETA_PID")
	# shellcheck disable=SC2086
	x1=$(rw_calls $ECHOS)
	run direct8 "$ECHO_SOCK" -c 8 -W 16
	# shellcheck disable=SC2086
	sx0=$((sx0 + $(rw_calls $ECHOS) - x1))
	# CPU of each hop during the 8-client runs through the link.
	ECHOS=$(children echo "$BETA_PID")
	# shellcheck disable=SC2086
	{ l1=$(ticks "$LINKP"); d1=$(sum_ticks $LINKDS); e1=$(sum_ticks $ECHOS)
	  sl1=$(rw_calls "$LINKP"); sd1=$(rw_calls $LINKDS)
	  se1=$(rw_calls $ECHOS); }
	t1=$(now_ns)
	run link8 "$LINK_SOCK" -c 8 -W 16
	c0=$((c0 + $(now_ns) - t1))
	# shellcheck disable=SC2086
	{ l0=$((l0 + $(ticks "$LINKP") - l1))
	  d0=$((d0 + $(sum_ticks $LINKDS) - d1))
	  e0=$((e0 + $(sum_ticks $ECHOS) - e1))
	  sl0=$((sl0 + $(rw_calls "$LINKP") - sl1))
	  sd0=$((sd0 + $(rw_calls $LINKDS) - sd1))
	  se0=$((se0 + $(rw_calls $ECHOS) - se1)); }
	run link8p1 "$LINK1_SOCK" -c 8 -W 16
	run relay1 "$RELAY_SOCK" -c 1 -W 16
	run relay8 "$RELAY_SOCK" -c 8 -W 16
	i=$((i + 1))
done
for c in 1 8; do
	run wdirect$c "$ECHO_SOCK" -c $c -W 1
	run wlink$c "$LINK_SOCK" -c $c -W 1
done
run sdirect8 "$ECHO_SOCK" -c 8 -W 16 -S
run slink8 "$LINK_SOCK" -c 8 -W 16 -S

for c in 1 8; do
	dr=$(med direct$c 2)
	lr=$(med link$c 2)
	say "$c client(s), window 16: link $lr req/s (p50 $(med link$c 3)," \
	    "p99 $(med link$c 4) us), direct $dr req/s (p50" \
	    "$(med direct$c 3), p99 $(med direct$c 4) us)"
	if [ $c = 8 ]; then
		tg=">= 0.5x"
		met=$(yesno cmp_ok "$(ratio "$lr" "$dr" 3)" ">=" 0.5)
	else
		tg="(none)"
		met=-
	fi
	result link "req/s, $c client(s) x 16 in flight" "$lr" \
	    "direct to echo" "$dr" "$(ratio "$lr" "$dr")x" "$tg" "$met"
	result link "p50 / p99 us, $c client(s) x 16 in flight" \
	    "$(med link$c 3) / $(med link$c 4)" "direct to echo" \
	    "$(med direct$c 3) / $(med direct$c 4)" \
	    "$(ratio "$(med link$c 3)" "$(med direct$c 3)" 1)x p50" "-" "-"
	result link "req/s (p50 us), $c client(s) x 1 in flight (diagnostic)" \
	    "$(med wlink$c 2) ($(med wlink$c 3))" "direct to echo" \
	    "$(med wdirect$c 2) ($(med wdirect$c 3))" \
	    "$(ratio "$(med wlink$c 2)" "$(med wdirect$c 2)")x" "(none)" -
done
result link "req/s (p50 us), 8 clients x 16 in flight, linkd pool=1 (diagnostic)" \
    "$(med link8p1 2) ($(med link8p1 3))" "direct to echo" \
    "$(med direct8 2) ($(med direct8 3))" \
    "$(ratio "$(med link8p1 2)" "$(med direct8 2)")x" "(none)" -
for c in 1 8; do
	result link "req/s (p50 us), $c client(s) x 16 in flight, the floor: tests/bench/relay in link's and linkd's places (diagnostic)" \
	    "$(med relay$c 2) ($(med relay$c 3))" "direct to echo" \
	    "$(med direct$c 2) ($(med direct$c 3))" \
	    "$(ratio "$(med relay$c 2)" "$(med direct$c 2)")x" "(none)" -
done
note "against the floor, 8 x 16: link $(ratio "$(med link8 2)" \
    "$(med relay8 2)")x the relay's requests/s (linkd pool=1:" \
    "$(ratio "$(med link8p1 2)" "$(med relay8 2)")x).  The relay does" \
    "nothing a link could leave out (it reads, tags and writes lines," \
    "once per descriptor per round), so a target above its ratio to" \
    "direct cannot be met by any link on this machine: what is left is" \
    "the cost of waking four processes in turn per batch, not work done" \
    "per request"
result link "req/s (p50 us), 8 clients x 16 in flight, a write per request (diagnostic)" \
    "$(med slink8 2) ($(med slink8 3))" "direct to echo" \
    "$(med sdirect8 2) ($(med sdirect8 3))" \
    "$(ratio "$(med slink8 2)" "$(med sdirect8 2)")x" "(none)" -
HZ=$(getconf CLK_TCK)
# Requests in all the 8 x 16 runs, warm-up included: rate x (u + t).
nl=$(awk '$1 == "link8" { n += $2 * 1.5 } END { print n }' "$T/runs")
nx=$(awk '$1 == "direct8" { n += $2 * 1.5 } END { print n }' "$T/runs")
per() {
	awk -v a="$1" -v n="$2" 'BEGIN { printf "%.2f", (n > 0 ? a / n : 0) }'
}
note "read/write-type system calls per request in the 8-client x 16" \
    "runs (/proc/PID/io; requests counted as rate x 1.5 s, warm-up" \
    "included; epoll_wait and poll come on top): through the link," \
    "alpha's link $(per "$sl0" "$nl"), beta's linkd $(per "$sd0" "$nl")," \
    "echo $(per "$se0" "$nl"); direct, echo $(per "$sx0" "$nx")"
note "CPU ticks in the 8-client x 16 runs through the link: alpha's link" \
    "$l0, beta's linkd $d0, echo children $e0, of" \
    "$(awk -v n="$c0" -v hz="$HZ" -v c="$(nproc)" \
    'BEGIN { printf "%.0f", n / 1e9 * hz * c }') available" \
    "($(awk -v n="$c0" 'BEGIN { printf "%.1f", n / 1e9 }') s x $(nproc)" \
    "CPUs x $HZ/s); linkd pipelines on its backend connections, but" \
    "each request still crosses two more processes and is parsed and" \
    "framed twice, while a direct client's 16 requests reach its echo" \
    "child in one write and come back in one read (echo does not parse" \
    "lines): compare the one-write-per-request row.  And linkd's pool" \
    "of 8 spreads each burst over up to 8 echo processes to wake, where" \
    "pool=1 sends it to one: compare the pool=1 row (linkmaster-link(8)" \
    "says when to choose which)"
host_stop alpha
if [ "${LINK_BENCH_ONLY:-}" = throughput ]; then
	log_problems 'calls itself'
	host_stop beta
	exit 0
fi

# --- 2. 200 peers -------------------------------------------------------------

# start_links PROG NAME N: N standalone helpers of PROG for peers p000...
# (all beta's linkd), sockets and queue under $T/NAME, log in
# $T/NAME.log; their pids in STARTED.
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
		    -o peer_address=127.0.0.1 -o peer_port="$PORT" \
		    -o host_name=alpha -o state_dir="$T/$_sn/state" -o drain=1 \
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
# poll_until TIMEOUT_S CMD...: CMD every 50 ms until it succeeds; the
# number of polls in POLLS; 1 at the deadline.
poll_until() {
	_pd=$(( $(now_ns) + $1 * 1000000000 ))
	shift
	POLLS=1
	until "$@"; do
		[ "$(now_ns)" -ge "$_pd" ] && return 1
		sleep 0.05
		POLLS=$((POLLS + 1))
	done
	return 0
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
	    $i "$PORT")
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
say "$NPEERS links: all up ${up_ms} ms after linkmaster start (start" \
    "returned after ${start_ms} ms; $up_polls polls, one every ~${poll_ms:-?} ms);" \
    "standalone ${sa_ms} ms ($sa_polls polls)"

# rss_stats FILE: "sum avg median max" of the numbers in FILE.
rss_stats() {
	sort -n "$1" | awk '{ v[NR] = $1; s += $1 }
	END { if (NR == 0) { print "- - - -"; exit }
	    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	    printf "%d %.0f %.0f %d\n", s, s / NR, m, v[NR] }'
}
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
    "own memory, Pss that plus its share of the pages it shares"

# --- 3. idle ----------------------------------------------------------------------
LINKDS=$(children linkd "$BETA_PID")
ND=$(echo "$LINKDS" | wc -w | tr -d ' ')

# snap FILE PID...: "PID TICKS" lines.
snap() {
	_sf=$1
	shift
	for _p in "$@"; do
		echo "$_p $(ticks "$_p")"
	done >"$_sf"
}

# delta A B: "SUM BUSY" between two snaps, BUSY listing pid:ticks (or -).
delta() {
	awk 'NR == FNR { a[$1] = $2; next }
	{ d = $2 - a[$1]; s += d; if (d > 0) b = b (b == "" ? "" : ",") $1 ":" d }
	END { print s + 0, (b == "" ? "-" : b) }' "$1" "$2"
}

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
