#!/bin/sh
# run-all.sh: run every benchmark and write tests/bench/README.
#
# "make bench" runs this after building the programs (no arguments).  Each
# benchmark prints its progress and figures on stdout and appends its
# table rows to $BENCH_RESULTS; here they become the README's table.  A
# benchmark that fails or hangs (each gets BENCH_TIMEOUT seconds) is
# listed as such; we still exit 0: benchmarks report, they never assert.
# Exit 1 only if the README cannot be written.
benchdir=$(cd "$(dirname "$0")" && pwd)
if [ -z "${top_builddir:-}" ]; then
	# make runs us from the build tree, which may not be the source tree.
	if [ -x "$PWD/linkmaster" ] && [ -f "$PWD/config.status" ]; then
		top_builddir=$PWD
	else
		top_builddir=$(cd "$benchdir/../.." && pwd)
	fi
fi
export top_builddir

README=$benchdir/README
TIMEOUT=${BENCH_TIMEOUT:-240}
BENCH_RESULTS=$(mktemp /tmp/lmb-results.XXXXXX) || exit 1
export BENCH_RESULTS
trap 'rm -f "$BENCH_RESULTS" "$README.new"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
NPROC=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)
KERNEL=$(uname -sr)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date +%s)

echo "linkmaster benchmarks: $DATE, nproc $NPROC, $KERNEL," \
    "load average $LOAD0"
# The four of the issue, then any other benchmark script found here.
BENCHES="prefork restart spawn idle"
EXTRA=
for f in "$benchdir"/*.sh; do
	b=$(basename "$f" .sh)
	case " $BENCHES lib run-all " in
	*" $b "*) ;;
	*)	# lib-*.sh: functions the benchmarks source, not one.
		case $b in
		lib-*)	;;
		*)	EXTRA="$EXTRA $b" ;;
		esac ;;
	esac
done
STATUS=
for b in $BENCHES $EXTRA; do
	echo
	echo "=== $b"
	t=$(date +%s)
	timeout "$TIMEOUT" sh "$benchdir/$b.sh"
	rc=$?
	t=$(( $(date +%s) - t ))
	case $rc in
	0)	s="ran (${t}s)" ;;
	124)	s="TIMED OUT after ${TIMEOUT}s" ;;
	*)	s="FAILED (exit $rc, ${t}s)" ;;
	esac
	echo "=== $b: $s"
	STATUS="$STATUS
- $b: $s"
done
TOTAL=$(( $(date +%s) - START ))
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

{
	cat <<'EOF'
linkmaster benchmarks
=====================

Run them with `make bench` (about 5 minutes; it builds what they need
first).  One benchmark alone, after that: `sh tests/bench/NAME.sh`.  They
need xinetd, runit, s6 and haproxy installed (autogen.sh installs them;
make check needs none of them) and use
only loopback addresses and temporary directories under /tmp; every
process they start is stopped again.  Their echo services run with
-o log_clients=0 (no log line per connection: they measure the service,
not the log).  Each prints its figure next to a
baseline measured in the same run, and the ratio; none asserts anything.
This file is rewritten by tests/bench/run-all.sh at every run.

prefork.sh -- connections per second, one line echoed per connection
  (tests/helpers/tclient -l 1), 1 and then 8 concurrent clients, all over
  TCP 127.0.0.1: the echo service under the master (inet, maxproc 8,
  max_use = 0 so children are never recycled, max_idle = 1h; 8 clients
  bring it to its 8 children before anything is measured) against the
  same echo code standalone, a single process (the ceiling), and against
  xinetd forking /bin/cat per connection.  Warm-up first, runs sized to
  about 1.5 s, three runs round robin (each run starting with the next
  server), median; a failed run fails its rows, with the reason.
  Targets: >= 0.8x the standalone server, >= 10x xinetd.  A maxproc 1
  service is measured with 1 client as a diagnostic (no target).

restart.sh -- a long-running program is killed with SIGKILL; time until its
  replacement runs: the program (tests/bench/stamp) writes its own
  CLOCK_MONOTONIC start time, the kill time is CLOCK_MONOTONIC just before
  kill() (tests/bench/respawn).  The same program under the master (a
  daemon service), runit's runsv and s6-supervise; 50 kills each, in
  rotating order; median.  Every program has lived >= 1.2 s when killed:
  runsv and s6 wait 1 s before restarting a program that ran less than a
  second, and s6-supervise 2.11 only skips that wait for a program that
  told it it was ready (notification-fd), so stamp does that under s6
  (and says READY to the master).  This measures the steady-state restart
  path of all three.  Target: no slower than the faster of runsv and s6.

spawn.sh -- 500 daemon children: from "linkmaster start" to the last of
  the 500 start stamps, against tests/bench/forkloop, a bare fork+exec
  loop starting the same program.  Two tables: one daemon service with
  maxproc 500, and 500 daemon services with maxproc 1.  Median of 5 runs.
  Target: <= 1.5x the fork+exec loop.

idle.sh -- the master with 200 unix echo services and one idle child each
  (one connection per service made it): CPU ticks (utime + stime) of the
  master and of the children over 10 s, and the master's VmRSS.  Targets:
  0 ticks, VmRSS < 4 MiB.  The standalone echo server, idle, is shown
  alongside.

EOF
	# Other benchmarks describe themselves: their header comment.
	for b in $EXTRA; do
		awk 'NR == 1 { next } !/^#/ { exit }
		    NR == 2 { sub(/^# ?/, ""); print; next }
		    { sub(/^# ?/, "  "); print }' "$benchdir/$b.sh"
		echo
	done
	printf 'Results\n-------\n\n'
	echo "Run: $DATE; nproc $NPROC; $KERNEL; load average $LOAD0 at the"
	echo "start, $LOAD1 at the end; ${TOTAL}s in all."
	if awk -v l="${LOAD0%% *}" -v n="$NPROC" 'BEGIN { exit !(l > n) }'; then
		echo "The machine was shared (a load average above nproc): other"
		echo "work took CPU time, so the absolute figures are low and noisy;"
		echo "the ratios, measured side by side in the same run, are what to"
		echo "compare."
	fi
	echo
	echo "| benchmark | measure | linkmaster | baseline | baseline value |" \
	    "ratio | target | met |"
	echo "|---|---|---|---|---|---|---|---|"
	grep -v '^NOTE|' "$BENCH_RESULTS" | awk -F'|' '{
		printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n",
		    $1, $2, $3, $4, $5, $6, $7, $8 }'
	echo
	echo "Benchmarks:$STATUS"
	if grep -q '^NOTE|' "$BENCH_RESULTS"; then
		echo
		echo "Notes:"
		sed -n 's/^NOTE|/- /p' "$BENCH_RESULTS"
	fi
} >"$README.new" && mv "$README.new" "$README" || {
	echo "run-all.sh: cannot write $README" >&2
	exit 1
}
echo
echo "=== results (also in $README)"
sed -n '/^Results$/,$p' "$README"
exit 0
