# lib.sh: shared code of the integration tests (POSIX sh, sourced; TAP).
#
# Each test script does:
#	. "$(dirname "$0")/lib.sh"
#	plan N
#	lm_setup NAME		# temp dir $T, logsink on $T/log.sock -> $LOG
#	lm_conf [EXTRA LINES]	# $CONF/linkmaster.conf
#	lm_table <<EOF		# $CONF/master.cf
#	...
#	EOF
#	lm_start		# sets MASTER_PID
#	ok 'COND' DESC, is GOT WANT DESC, pass/fail DESC, wait_for, wait_log
#
# Synchronisation is always "wait for a condition, with a deadline"
# (wait_for); the short sleeps inside wait_for are only its polling step.
#
# Cleanup (EXIT trap): abort the master if it runs, kill every process the
# test started (masters and their children, logsink, background clients),
# check that nothing of ours is left (exit 1 if something was), remove the
# cgroups of masters that were killed, print the log as TAP comments when
# anything failed, remove $T.  LM_KEEP=1 keeps $T.
#
# Run by the harness with top_srcdir/top_builddir exported (absolute); by
# hand from anywhere: they default to the script's ../.. .

if [ -z "${top_builddir:-}" ]; then
	top_builddir=$(cd "$(dirname "$0")/../.." && pwd)
fi
if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
export top_srcdir top_builddir

LINKMASTER=$top_builddir/linkmaster
LOGSINK=$top_builddir/tests/helpers/logsink
TCLIENT=$top_builddir/tests/helpers/tclient
SHOWFDS=$top_builddir/tests/helpers/showfds
ECHO_SVC=$top_builddir/services/echo

LM_N=0			# tests run
LM_FAILED=0		# tests failed
LM_PLAN=		# planned count
LM_MASTERS=		# every master pid we saw
LM_BG=			# other background processes we started
LOGSINK_PID=
MASTER_PID=
T=

# --- TAP -------------------------------------------------------------------

plan() {
	LM_PLAN=$1
	echo "1..$1"
}

# diag LINE...: one TAP comment per argument.
diag() {
	for _dl in "$@"; do
		printf '# %s\n' "$_dl"
	done
}

# diag_file FILE...: a file's lines as TAP comments.
diag_file() {
	for _df in "$@"; do
		[ -s "$_df" ] || continue
		sed "s|^|# ${_df##*/}: |" "$_df"
	done
}

pass() {
	LM_N=$((LM_N + 1))
	echo "ok $LM_N - $*"
}

fail() {
	LM_N=$((LM_N + 1))
	LM_FAILED=$((LM_FAILED + 1))
	echo "not ok $LM_N - $*"
	return 1
}

# ok 'SHELL CONDITION' DESC: the condition is eval'ed.
ok() {
	_okc=$1
	shift
	if eval "$_okc"; then
		pass "$@"
	else
		fail "$@"
		diag "failed: $_okc"
		return 1
	fi
}

# is GOT WANT DESC
is() {
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3"
		diag "got:  '$1'" "want: '$2'"
		return 1
	fi
}

skip() {
	LM_N=$((LM_N + 1))
	echo "ok $LM_N # SKIP $*"
}

skip_all() {
	echo "1..0 # SKIP $*"
	LM_PLAN=0
	exit 0
}

bail_out() {
	echo "Bail out! $*"
	exit 99
}

need_root() {
	[ "$(id -u)" = 0 ] || skip_all "needs root"
}

# need_built FILE...: bail out unless each is built (make check builds
# them all; run by hand, a test may come first).
need_built() {
	for _nb in "$@"; do
		[ -x "$_nb" ] || bail_out "$_nb is not built (make check builds it)"
	done
}

# need_cmd CMD WHAT: skip the whole test unless CMD is installed.
need_cmd() {
	command -v "$1" >/dev/null 2>&1 || skip_all "needs $2"
}

# --- time and waiting ------------------------------------------------------

# Milliseconds since boot (monotonic; 10 ms resolution, no fork).
lm_now_ms() {
	read -r _up _rest </proc/uptime
	_cs=${_up#*.}
	_cs=${_cs#0}
	echo $(( ${_up%.*} * 1000 + ${_cs:-0} * 10 ))
}

# "1", "0.5", "2.25" seconds -> milliseconds.
lm_ms() {
	case $1 in
	*.*)
		_mi=${1%%.*}
		_mf=${1#*.}000
		_mf=${_mf%"${_mf#???}"}
		_mf=${_mf#0}
		_mf=${_mf#0}
		echo $(( ${_mi:-0} * 1000 + ${_mf:-0} ))
		;;
	*)
		echo $(( $1 * 1000 ))
		;;
	esac
}

# wait_for DESC TIMEOUT CMD...: run CMD until it succeeds; 1 at the
# deadline (with a diagnostic).
wait_for() {
	_wfd=$1
	_wft=$2
	shift 2
	_wfe=$(( $(lm_now_ms) + $(lm_ms "$_wft") ))
	while :; do
		if "$@"; then
			return 0
		fi
		[ "$(lm_now_ms)" -ge "$_wfe" ] && break
		sleep 0.05
	done
	diag "timed out after ${_wft}s waiting for $_wfd"
	return 1
}

# wait_log REGEX [TIMEOUT]: an extended regex matches a line of $LOG.
wait_log() {
	wait_for "log /$1/" "${2:-5}" grep -Eq -- "$1" "$LOG"
}

# log_has_from N REGEX: a line of $LOG from line N on matches; wait for
# it with wait_log_from N REGEX [TIMEOUT] (the log sink writes what a
# process logged a moment later: never grep the log right after a
# command without waiting for the line).
log_has_from() {
	tail -n +"$1" "$LOG" | grep -Eq -- "$2"
}

wait_log_from() {
	wait_for "log /$2/ from line $1" "${3:-5}" log_has_from "$1" "$2"
}

# count_log REGEX: how many lines of $LOG match.
count_log() {
	grep -Ec -- "$1" "$LOG" 2>/dev/null || true
}

# Line number of the first log line matching REGEX (0: none).
line_log() {
	_ll=$(grep -En -- "$1" "$LOG" 2>/dev/null | head -n 1)
	echo "${_ll%%:*}" | sed 's/^$/0/'
}

# --- processes -------------------------------------------------------------

# alive PID: exists and is not a zombie.
alive() {
	[ -n "$1" ] || return 1
	{ read -r _st </proc/"$1"/stat; } 2>/dev/null || return 1
	_st=${_st##*) }
	[ "${_st%% *}" != Z ]
}

dead() {
	! alive "$1"
}

# all_dead PID...
all_dead() {
	for _ad in "$@"; do
		alive "$_ad" && return 1
	done
	return 0
}

# Every live descendant of PID, depth first.
lm_descendants() {
	for _dc in $(pgrep -P "$1" 2>/dev/null); do
		alive "$_dc" && echo "$_dc"
		lm_descendants "$_dc"
	done
}

# Live children of the master, optionally only those whose executable
# path or command line matches an extended regex (the master passes the
# table's command as argv[0], e.g. "echo", so match "services/echo" on the
# executable).
lm_children() {
	[ -n "$MASTER_PID" ] || return 0
	for _lc in $(pgrep -P "$MASTER_PID" 2>/dev/null); do
		alive "$_lc" || continue
		if [ $# -gt 0 ]; then
			_lcx="$(readlink /proc/"$_lc"/exe 2>/dev/null) $(tr '\0' ' ' \
			    </proc/"$_lc"/cmdline 2>/dev/null)"
			printf '%s\n' "$_lcx" | grep -Eq -- "$1" || continue
		fi
		echo "$_lc"
	done
	return 0
}

lm_nchildren() {
	lm_children "$@" | wc -l | tr -d ' '
}

# lm_bg OUTFILE CMD...: start CMD in the background (stdin /dev/null,
# stdout+stderr to OUTFILE), remembered for cleanup; pid in LM_BG_PID.
lm_bg() {
	_bgo=$1
	shift
	"$@" </dev/null >"$_bgo" 2>&1 &
	LM_BG_PID=$!
	LM_BG="$LM_BG $LM_BG_PID"
}

# fifo_start NAME CMD...: CMD in the background with stdin from the fifo
# $T/NAME.in (which we keep open for writing on fd 7) and output in
# $T/NAME.out; pid in FIFO_PID.  fifo_stop closes its stdin and waits (up to
# 20 s) for it to exit; its exit status is then in FIFO_RC.  One at a time.
fifo_start() {
	_ffn=$1
	shift
	rm -f "$T/$_ffn.in"
	mkfifo "$T/$_ffn.in" || bail_out "mkfifo $T/$_ffn.in"
	"$@" <"$T/$_ffn.in" >"$T/$_ffn.out" 2>&1 &
	FIFO_PID=$!
	LM_BG="$LM_BG $FIFO_PID"
	exec 7>"$T/$_ffn.in"
}

fifo_stop() {
	exec 7>&-
	FIFO_RC=124
	if wait_for "pid $FIFO_PID to exit" 20 dead "$FIFO_PID"; then
		wait "$FIFO_PID"
		FIFO_RC=$?
	fi
	return "$FIFO_RC"
}

# hold_start NAME TCLIENT-ARGS...: tclient -H, released by hold_stop.
hold_start() {
	_hn=$1
	shift
	fifo_start "$_hn" "$TCLIENT" -H "$@"
}

hold_stop() {
	fifo_stop
}

# Number of "reply N" lines a holding tclient printed so far.
hold_replies() {
	grep -c '^reply ' "$T/$1.out" 2>/dev/null || true
}

# --- the master --------------------------------------------------------------

# lm CMD [ARGS]: run the linkmaster command; stdout in $T/out, stderr in
# $T/err, exit status in LM_RC (and returned).  Never hangs: 30 s.
lm() {
	timeout 30 $LM "$@" >"$T/out" 2>"$T/err"
	LM_RC=$?
	return $LM_RC
}

lm_setup() {
	LM_NAME=$1
	for _f in "$LINKMASTER" "$LOGSINK" "$TCLIENT" "$SHOWFDS"; do
		[ -x "$_f" ] || bail_out "$_f is not built (make check builds it)"
	done
	T=$(mktemp -d /tmp/lm.XXXXXX) || bail_out "mktemp failed"
	# Children running as nobody (unpriv) must reach the log socket.
	chmod 755 "$T"
	trap lm_cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	CONF=$T/conf
	LOG=$T/log
	LM="$LINKMASTER -c $CONF"
	mkdir "$CONF" "$T/state" || bail_out "mkdir in $T"
	: >"$LOG"
	"$LOGSINK" "$T/log.sock" "$LOG" "$T/logsink.pid" \
	    </dev/null >/dev/null 2>"$T/logsink.err" &
	LOGSINK_PID=$!
	wait_for "logsink to start" 5 test -s "$T/logsink.pid" ||
	    bail_out "logsink did not start: $(cat "$T/logsink.err")"
}

# lm_conf [LINE...]: linkmaster.conf with the test defaults + LINEs.
# (For a host of lm_host: its own directories, syslog_name and host_name.)
lm_conf() {
	{
		cat <<EOF
# written by tests/integration/lib.sh for $LM_NAME
syslog_socket = "$T/log.sock"
socket_dir = "${LM_RUN:-$T}/sock"
state_dir = "${LM_RUN:-$T}/state"
pid_file = "${LM_RUN:-$T}/master.pid"
daemon_directory = "$top_builddir/services"
throttle_min = 1
throttle_max = 8
startup_grace = 1
stop_timeout = 2
EOF
		if [ -n "${LM_HOST:-}" ]; then
			printf 'syslog_name = "%s"\nhost_name = "%s"\n' \
			    "$LM_HOST" "$LM_HOST"
		fi
		for _cl in "$@"; do
			printf '%s\n' "$_cl"
		done
	} >"$CONF/linkmaster.conf"
}

# lm_table: master.cf from stdin.
lm_table() {
	cat >"$CONF/master.cf"
}

# lm_start: "linkmaster start"; MASTER_PID from "started (pid N)" or the
# pid file.  Output in $T/out and $T/err; returns start's exit status.
lm_start() {
	lm start
	_sr=$LM_RC
	MASTER_PID=$(sed -n 's/.*started (pid \([0-9][0-9]*\)).*/\1/p' \
	    "$T/out" "$T/err" | head -n 1)
	if [ -z "$MASTER_PID" ] && [ -s "${LM_RUN:-$T}/master.pid" ]; then
		MASTER_PID=$(tr -dc 0-9 <"${LM_RUN:-$T}/master.pid")
	fi
	[ -n "$MASTER_PID" ] && LM_MASTERS="$LM_MASTERS $MASTER_PID"
	if [ "$_sr" -ne 0 ]; then
		diag "linkmaster start: exit $_sr"
		diag_file "$T/out" "$T/err"
	fi
	return "$_sr"
}

# lm_stop: "linkmaster stop"; waits for the master to be gone.
lm_stop() {
	lm stop
	_sr=$LM_RC
	if [ "$_sr" -ne 0 ]; then
		diag "linkmaster stop: exit $_sr"
		diag_file "$T/out" "$T/err"
	fi
	return "$_sr"
}

# svc_field SERVICE FIELD [TYPE]: one column of "linkmaster status" for
# SERVICE.  FIELD: type state procs uses restarts lastexit throttle up
# status.
# LAST-EXIT may be two words ("exit 1", "signal 9"), STATUS is the rest.
# Exit 1 if status failed or has no such row.
svc_field() {
	# Exit 3 (something is down or throttled) is an answer too.
	timeout 10 $LM status >"$T/status.out" 2>"$T/status.err"
	case $? in 0|3) ;; *) return 1 ;; esac
	awk -v svc="$1" -v f="$2" -v type="${3:-}" '
	$1 == svc && $1 != "NAME" && (type == "" || $2 == type) {
		if ($7 == "exit" || $7 == "signal") {
			last = $7 " " $8; i = 9
		} else {
			last = $7; i = 8
		}
		st = ""
		for (j = i + 2; j <= NF; j++)
			st = st (st == "" ? "" : " ") $j
		v["type"] = $2; v["state"] = $3; v["procs"] = $4
		v["uses"] = $5; v["restarts"] = $6; v["lastexit"] = last
		v["throttle"] = $i; v["up"] = $(i + 1); v["status"] = st
		print v[f]
		found = 1
		exit
	}
	END { exit !found }' "$T/status.out"
}

# svc_is SERVICE FIELD VALUE / svc_isnt SERVICE FIELD VALUE
svc_is() {
	[ "$(svc_field "$1" "$2")" = "$3" ]
}

svc_isnt() {
	_si=$(svc_field "$1" "$2") || return 1
	[ "$_si" != "$3" ]
}

# --- several masters ----------------------------------------------------------

# A test may run several masters, "hosts", each with its configuration in
# $T/NAME/conf and its sockets, state and pid file under $T/NAME (sock/,
# state/, master.pid).  lm_host NAME makes NAME the current one: CONF, LM
# and MASTER_PID follow it, so that lm_conf (which then also sets
# syslog_name and host_name to NAME), lm_table, lm_start, lm_stop, lm,
# svc_field and lm_children act on it.  All hosts log to the one $LOG, each
# under its own name ("alpha/master[12]: ...").  PREFIX (the first time
# only) is a command the linkmaster command runs under, such as
# "ip netns exec NS".  NAME: lower-case letters, digits and "_".
lm_host() {
	case $1 in
	''|[0-9]*|*[!a-z0-9_]*) bail_out "lm_host: bad host name \"$1\"" ;;
	esac
	if [ -n "${LM_HOST:-}" ]; then
		eval "LM_PID_$LM_HOST=\$MASTER_PID"
	fi
	LM_HOST=$1
	shift
	LM_RUN=$T/$LM_HOST
	CONF=$LM_RUN/conf
	if [ ! -d "$CONF" ]; then
		mkdir -p "$CONF" "$LM_RUN/state" || bail_out "mkdir $CONF"
		eval "LM_PFX_$LM_HOST=\$*"
	fi
	eval "_hp=\$LM_PFX_$LM_HOST"
	LM="${_hp:+$_hp }$LINKMASTER -c $CONF"
	eval "MASTER_PID=\${LM_PID_$LM_HOST:-}"
}

# free_port VAR: VAR = a free TCP port of 127.0.0.1 that this test has
# not been given before (the whole of 127/8 is one loopback: a port free
# there is free on 127.0.0.2 too).  Called in the test's own shell, not
# in $(...), so that it remembers what it gave.
PORTS=
free_port() {
	while :; do
		_fp=$("$TCLIENT" -P 127.0.0.1) || bail_out "no free port"
		case " $PORTS " in
		*" $_fp "*) continue ;;
		esac
		PORTS="$PORTS $_fp"
		eval "$1=\$_fp"
		return
	done
}

# --- shared by the link tests ----------------------------------------------------

# has FILE REGEX, count FILE REGEX, count_at_least N FILE REGEX
has() {
	grep -Eq -- "$2" "$1" 2>/dev/null
}

count() {
	grep -Ec -- "$2" "$1" 2>/dev/null || true
}

count_at_least() {
	[ "$(count "$2" "$3")" -ge "$1" ]
}

# wait_pass DESC TIMEOUT CMD...: one test, CMD succeeds within TIMEOUT.
wait_pass() {
	_wd=$1
	shift
	if wait_for "$_wd" "$@"; then
		pass "$_wd"
	else
		fail "$_wd"
	fi
}

# log_mark: the number of lines in the log now, for log_since.
log_mark() {
	wc -l <"$LOG" | tr -d ' '
}

# log_since N: the log from line N+1 on.
log_since() {
	tail -n +"$(($1 + 1))" "$LOG"
}

# unit_pids UNIT: the current host's children serving UNIT
# (MASTER_SERVICE), sorted, on one line.
unit_pids() {
	for _up in $(lm_children); do
		tr '\0' '\n' <"/proc/$_up/environ" 2>/dev/null |
		    grep -qx "MASTER_SERVICE=$1" && echo "$_up"
	done | sort -n | tr '\n' ' ' | sed 's/ $//'
	return 0
}

status_matches() {
	svc_field "$1" status | grep -Eq -- "$2"
}

# req SOCK LINE...: the lines on one connection (pipelined); the replies.
req() {
	_rs=$1
	shift
	printf '%s\n' "$@" | timeout 15 socat -t 15 - UNIX-CONNECT:"$_rs"
}

# req_timed SOCK LINE...: req, with the reply in REQ_REPLY and the time it
# took in ms in REQ_MS.  Compare it with a long timeout the request must
# not have waited for, never with how fast the machine is: make check
# runs on loaded machines (benchmarks time things).
req_timed() {
	_r0=$(lm_now_ms)
	REQ_REPLY=$(req "$@")
	REQ_MS=$(( $(lm_now_ms) - _r0 ))
}

# link_loads SOCK: two tests, many clients on a link's socket at once:
# 8 clients x 20 interleaved lines, then 4 clients x 10 connections x 3
# lines; each client must get exactly its own replies, in order.
link_loads() {
	"$TCLIENT" -w 20 -c 8 -l 20 "$1" >"$T/tc.out" 2>&1
	is $? 0 "8 concurrent clients x 20 interleaved lines: each its own replies, in order"
	diag_file "$T/tc.out"
	"$TCLIENT" -w 20 -c 4 -n 10 -l 3 "$1" >"$T/tc2.out" 2>&1
	is $? 0 "4 clients x 10 connections x 3 lines"
	diag_file "$T/tc2.out"
}

peer() {
	printf 'peer "%s" { address = "%s" port = %s }' "$1" "$2" "$3"
}

# one_line: lines joined with "|", for comparisons.
one_line() {
	paste -sd '|' -
}

queue_files() {
	ls "$1" 2>/dev/null | grep -Ec '^[0-9]{20}$' || true
}

queue_empty() {
	[ "$(queue_files "$1")" = 0 ]
}


# --- cgroups -------------------------------------------------------------------

# The cgroups of this test's masters, one per line: a master running as
# root logs "children run in cgroup DIR" at start (DIR is named after a
# hash of pid_file: the log is where to find it).
lm_cgroups() {
	sed -n 's|^[^ ]*/master\[[0-9]*\]: children run in cgroup \(/.*/linkmaster-[0-9a-f]*\)$|\1|p' \
	    "$LOG" 2>/dev/null | sort -u
}

# lm_cgroup_rmdir DIR: remove DIR and its service groups; 0 once gone.
lm_cgroup_rmdir() {
	for _cgs in "$1"/*/; do
		[ -d "$_cgs" ] && rmdir "$_cgs" 2>/dev/null
	done
	rmdir "$1" 2>/dev/null
	[ ! -d "$1" ]
}

lm_cgroup_empty() {
	! grep -q '^populated 1' "$1/cgroup.events" 2>/dev/null
}

# lm_cgroups_remove: once every process of the test is gone, remove the
# groups its masters left.  A master that stops removes its own, and the
# next start with the same pid_file kills and removes what a SIGKILLed
# one left; but a test's pid_file is never used again, so what its
# SIGKILLed masters left (a host the cleanup killed, say) goes here.  A
# group that still holds processes is killed and reported: 1 then.
lm_cgroups_remove() {
	_cgr=0
	for _cg in $(lm_cgroups); do
		[ -d "$_cg" ] || continue
		if ! lm_cgroup_empty "$_cg"; then
			diag "cleanup: processes left in $_cg:" \
			    "  $(cat "$_cg"/*/cgroup.procs 2>/dev/null | tr '\n' ' ')"
			echo 1 >"$_cg/cgroup.kill" 2>/dev/null ||
			    cat "$_cg"/*/cgroup.procs 2>/dev/null |
			    xargs -r kill -9 2>/dev/null
			wait_for "$_cg to be empty" 5 lm_cgroup_empty "$_cg"
			_cgr=1
		fi
		wait_for "$_cg to be removed" 5 lm_cgroup_rmdir "$_cg" || _cgr=1
	done
	return "$_cgr"
}

# --- cleanup -------------------------------------------------------------------

# Processes that still look like ours: command line naming $T (the master
# is started with -c $T/conf), or cwd/root inside $T.  The grep pattern is
# spelled so that it does not match its own command line.
lm_leftovers() {
	_lt=$(printf '%s' "$T" | sed 's/[.]/[.]/g')
	{
		grep -la -- "$_lt" /proc/[0-9]*/cmdline 2>/dev/null |
		    sed 's|^/proc/\([0-9]*\)/.*|\1|'
		find /proc/[0-9]*/cwd /proc/[0-9]*/root -maxdepth 0 \
		    \( -lname "$T" -o -lname "$T/*" \) 2>/dev/null |
		    sed 's|^/proc/\([0-9]*\)/.*|\1|'
	} | sort -u | while read -r _lp; do
		[ "$_lp" = "$$" ] && continue
		[ "$_lp" = "$LOGSINK_PID" ] && continue
		alive "$_lp" && echo "$_lp"
	done
}

lm_cleanup() {
	_rc=$?
	trap - EXIT HUP INT TERM
	cd / || true
	exec 7>&-
	[ -n "$T" ] || exit "$_rc"
	# Even with $T gone (removed under us), what we started is ended.
	if [ ! -d "$T" ]; then
		diag "cleanup: $T was removed while the test ran"
		[ "$_rc" -eq 0 ] && _rc=1
	fi

	# Everything we know of, gathered before anything is killed (once the
	# master is gone its children are orphans and pgrep -P cannot find
	# them).
	_pids=
	_running=
	for _p in $LM_MASTERS; do
		alive "$_p" || continue
		_running=$_p
		_pids="$_pids $_p $(lm_descendants "$_p")"
	done
	for _p in $LM_BG; do
		alive "$_p" && _pids="$_pids $_p $(lm_descendants "$_p")"
	done
	if [ -n "$_running" ]; then
		timeout 10 $LM abort >/dev/null 2>&1 ||
		    diag "cleanup: linkmaster abort failed"
	fi
	for _p in $_pids; do
		alive "$_p" && kill -9 "$_p" 2>/dev/null
	done
	# shellcheck disable=SC2086
	wait_for "our processes to exit" 5 all_dead $_pids
	for _p in $LM_BG; do
		wait "$_p" 2>/dev/null
	done

	_left=$(lm_leftovers)
	if [ -n "$_left" ]; then
		diag "cleanup: processes left behind:"
		for _p in $_left; do
			diag "  $_p: $(tr '\0' ' ' </proc/"$_p"/cmdline 2>/dev/null)"
			kill -9 "$_p" 2>/dev/null
		done
		[ "$_rc" -eq 0 ] && _rc=1
	fi
	if ! lm_cgroups_remove; then
		[ "$_rc" -eq 0 ] && _rc=1
	fi

	if [ -n "$LOGSINK_PID" ]; then
		# A test may have stopped it (SIGSTOP): CONT first, then TERM.
		# Not the other way round: a CONT that lands while the sink
		# exits would cancel the SIGSTOP by which LeakSanitizer's
		# tracer stops it at exit (--enable-sanitizers), and both would
		# wait for ever.
		kill -CONT "$LOGSINK_PID" 2>/dev/null
		kill -TERM "$LOGSINK_PID" 2>/dev/null
		wait "$LOGSINK_PID" 2>/dev/null
	fi

	if [ "$LM_FAILED" -gt 0 ] || [ "$_rc" -ne 0 ] ||
	    { [ -n "$LM_PLAN" ] && [ "$LM_N" != "$LM_PLAN" ]; }; then
		diag "---- $LOG ----"
		sed 's/^/# /' "$LOG" 2>/dev/null
		diag_file "$T/logsink.err"
	fi
	if [ "${LM_KEEP:-0}" = 1 ]; then
		diag "kept $T"
	else
		rm -rf "$T"
	fi
	# A failed test is already a "not ok" line: the exit status is kept
	# for what TAP cannot say (bail out, leftovers, a script error).
	exit "$_rc"
}
