# lib.sh: shared code of the benchmarks (POSIX sh, sourced).
#
# Each benchmark script does:
#	. "$(dirname "$0")/lib.sh"
#	bench_setup NAME	# temp dir $T (short path under /tmp), traps
#	...			# bench_bg / bench_master_start / ...
#	result ...		# one row for the README (see result below)
#
# Rules kept here for every script: loopback only, temp files only under
# $T, and every process we start is remembered by pid and ended at exit
# (EXIT trap), masters through "linkmaster stop" first.  A benchmark never
# asserts: it prints its figure next to a baseline measured in the same
# run, and exits 0 unless it could not run at all.  A peer that is missing
# is a "SKIP: why" line and exit 0.
#
# Run by "make bench" (run-all.sh exports top_builddir and BENCH_RESULTS)
# or by hand: top_builddir defaults to the script's ../.., results then
# only go to stdout.

if [ -z "${top_builddir:-}" ]; then
	top_builddir=$(cd "$(dirname "$0")/../.." && pwd)
fi
export top_builddir

LINKMASTER=$top_builddir/linkmaster
ECHO_SVC=$top_builddir/services/echo
TCLIENT=$top_builddir/tests/helpers/tclient
LOGSINK=$top_builddir/tests/helpers/logsink
STAMP=$top_builddir/tests/bench/stamp
FORKLOOP=$top_builddir/tests/bench/forkloop
RESPAWN=$top_builddir/tests/bench/respawn

B_PIDS=			# background processes, ended at exit
B_MASTERS=		# master confdirs we started, stopped at exit
B_NAME=
T=

say() {
	printf '%s: %s\n' "$B_NAME" "$*"
}

# Could not run at all: say why, exit 0 (a missing peer is not a failure).
skip() {
	printf 'SKIP: %s: %s\n' "$B_NAME" "$*"
	exit 0
}

# need FILE...: every file must be an executable, or SKIP.
need() {
	for _n in "$@"; do
		[ -x "$_n" ] || skip "$_n is missing (make bench builds ours)"
	done
}

# need_cmd NAME...: every command must be on PATH, or SKIP.
need_cmd() {
	for _n in "$@"; do
		command -v "$_n" >/dev/null 2>&1 || skip "$_n is not installed"
	done
}

# --- processes ---------------------------------------------------------------

# alive PID: exists and is not a zombie.
alive() {
	[ -n "$1" ] || return 1
	{ read -r _st </proc/"$1"/stat; } 2>/dev/null || return 1
	_st=${_st##*) }
	[ "${_st%% *}" != Z ]
}

# Every live descendant of PID (one ps snapshot, whatever the number).
descendants() {
	ps -e -o pid= -o ppid= -o stat= 2>/dev/null | awk -v root="$1" '
	$3 !~ /^Z/ { kids[$2] = kids[$2] " " $1 }
	END {
		n = split(kids[root], todo, " ")
		while (n > 0) {
			p = todo[n--]
			print p
			m = split(kids[p], more, " ")
			for (i = 1; i <= m; i++)
				todo[++n] = more[i]
		}
	}'
}

# bench_bg OUT CMD...: CMD in the background, stdin /dev/null, stdout and
# stderr to OUT; its pid in BG_PID, remembered for the cleanup.
bench_bg() {
	_bo=$1
	shift
	"$@" </dev/null >"$_bo" 2>&1 &
	BG_PID=$!
	B_PIDS="$BG_PID $B_PIDS"
}

# xinetd_cat_start PORT: xinetd on 127.0.0.1:PORT forking /bin/cat for
# each connection (wait = no, no rate limit, its log in $T); the peer of
# prefork.sh and inetd.sh.  XINETD_PID is its pid.
xinetd_cat_start() {
	cat >"$T/xinetd.conf" <<EOF
service lmbench
{
	type		= UNLISTED
	id		= lmbench
	port		= $1
	bind		= 127.0.0.1
	socket_type	= stream
	protocol	= tcp
	wait		= no
	user		= root
	server		= /bin/cat
	instances	= UNLIMITED
	per_source	= UNLIMITED
	cps		= 100000 1
	log_type	= FILE $T/xinetd.log
	log_on_success	=
	log_on_failure	=
}
EOF
	bench_bg "$T/xinetd.out" xinetd -dontfork -f "$T/xinetd.conf" \
	    -pidfile "$T/xinetd.pid"
	XINETD_PID=$BG_PID
}

# wait_gone TIMEOUT_S PID...: until none is alive; 1 at the deadline.
wait_gone() {
	_wt=$(( $1 * 20 ))
	shift
	while [ "$_wt" -gt 0 ]; do
		_any=0
		for _wp in "$@"; do
			alive "$_wp" && _any=1
		done
		[ "$_any" = 0 ] && return 0
		_wt=$((_wt - 1))
		sleep 0.05
	done
	return 1
}

# end_pids PID...: SIGTERM, up to 5 s, then SIGKILL; their descendants
# (found first) get the same.  Reaps what is ours.
end_pids() {
	_ep=
	for _e in "$@"; do
		alive "$_e" || continue
		_ep="$_ep $_e $(descendants "$_e")"
	done
	[ -n "$_ep" ] || return 0
	# shellcheck disable=SC2086
	kill -TERM $_ep 2>/dev/null
	# shellcheck disable=SC2086
	if ! wait_gone 5 $_ep; then
		for _e in $_ep; do
			alive "$_e" && { say "pid $_e ignored SIGTERM: killing it"
			    kill -KILL "$_e" 2>/dev/null; }
		done
	fi
	for _e in "$@"; do
		wait "$_e" 2>/dev/null
	done
	return 0
}

# --- set-up and clean-up -------------------------------------------------------

bench_cleanup() {
	_rc=$?
	trap - EXIT
	for _c in $B_MASTERS; do
		bench_master_stop "$_c"
	done
	# shellcheck disable=SC2086
	end_pids $B_PIDS
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ -n "${BENCH_KEEP:-}" ]; then
			say "kept $T"
		else
			rm -rf "$T"
		fi
	fi
	exit "$_rc"
}

# bench_setup NAME: $T, traps, the log sink ($T/log.sock -> $T/log).
bench_setup() {
	B_NAME=$1
	need "$LINKMASTER" "$ECHO_SVC" "$TCLIENT" "$LOGSINK" "$STAMP" \
	    "$FORKLOOP" "$RESPAWN"
	need_cmd pgrep
	T=$(mktemp -d /tmp/lmb.XXXXXX) || { echo "mktemp failed"; exit 1; }
	trap bench_cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	LOG=$T/log
	: >"$LOG"
	bench_bg "$T/logsink.out" "$LOGSINK" "$T/log.sock" "$LOG" \
	    "$T/logsink.pid"
	wait_for 5 test -s "$T/logsink.pid" ||
	    { echo "$B_NAME: logsink did not start"; exit 1; }
}

# --- time ----------------------------------------------------------------------

# CLOCK_MONOTONIC in ns (the clock stamp and respawn use).
now_ns() {
	"$STAMP" -n
}

# wait_for TIMEOUT_S CMD...: run CMD until it succeeds; 1 at the deadline.
wait_for() {
	_wf=$(( $(now_ns) + $1 * 1000000000 ))
	shift
	until "$@"; do
		[ "$(now_ns)" -ge "$_wf" ] && return 1
		sleep 0.02
	done
	return 0
}

# lines FILE: its number of lines (0 if missing).
lines() {
	if [ -f "$1" ]; then
		wc -l <"$1" | tr -d ' '
	else
		echo 0
	fi
}

has_lines() {
	[ "$(lines "$1")" -ge "$2" ]
}

# max_stamp FILE: the largest first field (ns) of a stamp file.
max_stamp() {
	cut -d' ' -f1 "$1" | sort -n | tail -n 1
}

# --- arithmetic (awk: the shell has no floats) ---------------------------------

# A number, as the figures are written: awk would take anything else as 0.
NUM_RE='^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$'

# ratio A B [DECIMALS]: A / B; "-" unless both are numbers and B is not 0.
ratio() {
	awk -v a="$1" -v b="$2" -v d="${3:-2}" -v re="$NUM_RE" 'BEGIN {
		if (a !~ re || b !~ re || b == 0) print "-"
		else printf "%.*f\n", d, a / b }'
}

# median N...: "-", and a complaint on stderr, if one is not a number.
median() {
	printf '%s\n' "$@" | sort -g | awk -v re="$NUM_RE" '
	$1 !~ re { printf "median: not a number: %s\n", $1 | "cat >&2"
	    bad = 1 }
	{ v[NR] = $1 }
	END { if (bad || NR == 0) print "-"; else if (NR % 2)
	    print v[(NR + 1) / 2];
	    else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# cmp_ok A OP B: numeric comparison (floats), OP one of <= >= < >.
cmp_ok() {
	awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {
		if (op == "<=") r = a <= b; else if (op == ">=") r = a >= b;
		else if (op == "<") r = a < b; else r = a > b;
		exit !r }'
}

yesno() {
	if "$@"; then echo yes; else echo no; fi
}

# --- results -------------------------------------------------------------------

# result BENCH METRIC OURS BASELINE_NAME BASELINE RATIO TARGET MET
# One row of the README's table, in $BENCH_RESULTS (if set), '|'-separated.
result() {
	say "RESULT $1 / $2: linkmaster $3, $4 $5, ratio $6 (target $7): $8"
	[ -n "${BENCH_RESULTS:-}" ] || return 0
	printf '%s|%s|%s|%s|%s|%s|%s|%s\n' "$@" >>"$BENCH_RESULTS"
}

# note TEXT: a free line for the README under the table.
note() {
	say "note: $*"
	[ -n "${BENCH_RESULTS:-}" ] || return 0
	printf 'NOTE|%s: %s\n' "$B_NAME" "$*" >>"$BENCH_RESULTS"
}

# --- /proc ---------------------------------------------------------------------

# ticks PID: utime + stime (clock ticks) of PID, 0 if it is gone.
ticks() {
	{ read -r _tk </proc/"$1"/stat; } 2>/dev/null || { echo 0; return; }
	# Fields after "comm)": state is field 3, utime 14, stime 15.
	set -- ${_tk##*) }
	echo $(( ${12} + ${13} ))
}

# rss_kb PID: VmRSS in kB.
rss_kb() {
	awk '$1 == "VmRSS:" { print $2 }' /proc/"$1"/status 2>/dev/null
}

# --- the master ----------------------------------------------------------------

# master_conf DIR [LINE...]: DIR/linkmaster.conf, private paths under $T,
# logging to our sink, plus LINEs.  master.cf is the caller's.
master_conf() {
	_md=$1
	shift
	mkdir -p "$_md"
	{
		cat <<EOF
# written by tests/bench/lib.sh for $B_NAME
syslog_socket = "$T/log.sock"
socket_dir = "$T/sock"
state_dir = "$T/state"
pid_file = "$T/master.pid"
daemon_directory = "$top_builddir/services"
stop_timeout = 5
EOF
		for _ml in "$@"; do
			printf '%s\n' "$_ml"
		done
	} >"$_md/linkmaster.conf"
}

# master_pidfile CONFDIR: the pid_file its linkmaster.conf names.
master_pidfile() {
	sed -n 's/^pid_file = "\(.*\)"$/\1/p' "$1/linkmaster.conf" | tail -n 1
}

# bench_master_start CONFDIR: "linkmaster start"; MASTER_PID, or 1 with the
# output shown.
bench_master_start() {
	MASTER_PID=
	if ! "$LINKMASTER" -c "$1" start >"$1.start" 2>&1; then
		say "$1: linkmaster start failed:"
		sed 's/^/    /' "$1.start"
		return 1
	fi
	B_MASTERS="$1 $B_MASTERS"
	MASTER_PID=$(sed -n 's/.*started (pid \([0-9][0-9]*\)).*/\1/p' \
	    "$1.start" | head -n 1)
	[ -n "$MASTER_PID" ] ||
	    MASTER_PID=$(tr -dc 0-9 <"$(master_pidfile "$1")")
	return 0
}

# bench_master_stop CONFDIR: "linkmaster stop", then make sure that the
# master and every child it had are gone (by pid).
bench_master_stop() {
	_mp=$(tr -dc 0-9 <"$(master_pidfile "$1")" 2>/dev/null)
	_mk=
	[ -n "$_mp" ] && _mk="$_mp $(descendants "$_mp")"
	timeout 30 "$LINKMASTER" -c "$1" stop >"$1.stop" 2>&1 ||
	    { say "$1: linkmaster stop failed:"; sed 's/^/    /' "$1.stop"; }
	# shellcheck disable=SC2086
	if [ -n "$_mk" ] && ! wait_gone 10 $_mk; then
		for _e in $_mk; do
			alive "$_e" && { say "pid $_e left after stop: killing it"
			    kill -KILL "$_e" 2>/dev/null; }
		done
	fi
	B_MASTERS=$(echo " $B_MASTERS " | sed "s| $1 | |")
	return 0
}

# log_problems: the master's warnings and errors so far (a count, and
# the first few lines), except those matching the extended regex $1.
log_problems() {
	_lp=$(grep -E 'warning:|error:|fatal:' "$LOG" |
	    grep -Ev "${1:-^\$}" | head -n 5)
	if [ -n "$_lp" ]; then
		say "master log has warnings/errors (first 5):"
		printf '%s\n' "$_lp" | sed 's/^/    /'
	fi
}

# free_port: a TCP port on 127.0.0.1 the kernel considers free now.
free_port() {
	"$TCLIENT" -P 127.0.0.1
}
