#!/bin/sh
# restart.sh: how fast a killed long-running program is running again,
# under the master (a daemon service), runit's runsv and s6-supervise.
#
# All three supervise the same program, tests/bench/stamp, which appends
# its CLOCK_MONOTONIC start time to a file first thing in main (and says
# READY to the master, a newline on notification-fd to s6-supervise:
# each gets the readiness message it understands; runsv has none).  runsv
# and s6-supervise run it as DIR/run, a symbolic link to the binary (no
# shell in between), the master runs it directly.  tests/bench/respawn then does KILLS rounds; in each, every
# supervisor's program in turn (rotating order) is sent SIGKILL and the
# sample is "stamp of the replacement - CLOCK_MONOTONIC just before
# kill()".  Before each round every program has lived at least LIVE_MS:
# runsv waits 1 s before restarting a program that ran less than a
# second, s6-supervise (2.11) unless it had been ready for a second, and
# we measure the steady-state restart path, not that back-off.  Figure: the median.  Target: no slower than the faster
# of runsv and s6-supervise.
. "$(dirname "$0")/lib.sh"

KILLS=${BENCH_RESTART_KILLS:-50}
LIVE_MS=${BENCH_RESTART_LIVE_MS:-1200}

bench_setup restart
need_cmd runsv s6-supervise

# The master: one daemon service, one process.
CONF=$T/conf
master_conf "$CONF"
cat >"$CONF/master.cf" <<EOF
# service type    private unpriv chroot wakeup maxproc command
stamp     daemon  -       n      n      -      1       $STAMP $T/m.st
EOF
bench_master_start "$CONF" || exit 1

# runit and s6: a service directory each, ./run -> stamp.
mkdir "$T/runit" "$T/s6"
ln -s "$STAMP" "$T/runit/run"
ln -s "$STAMP" "$T/s6/run"
echo 3 >"$T/s6/notification-fd"
bench_bg "$T/runsv.out" env STAMP_FILE="$T/r.st" runsv "$T/runit"
RUNSV_PID=$BG_PID
bench_bg "$T/s6.out" env STAMP_FILE="$T/s.st" STAMP_NOTIFY_FD=3 \
    s6-supervise "$T/s6"
S6_PID=$BG_PID

say "master pid $MASTER_PID, runsv pid $RUNSV_PID, s6-supervise pid $S6_PID"
say "$KILLS kills each, every program alive >= ${LIVE_MS} ms when killed" \
    "(about $(( KILLS * (LIVE_MS + 70) / 1000 )) s)"
"$RESPAWN" -n "$KILLS" -l "$LIVE_MS" -s 20 master="$T/m.st" \
    runit="$T/r.st" s6="$T/s.st" >"$T/respawn.out" 2>&1
sed 's/^/    /' "$T/respawn.out"

# field NAME KEY: KEY=value of NAME's line.
field() {
	sed -n "s/^$1 .*$2=\([0-9.]*\).*/\1/p" "$T/respawn.out"
}
M=$(field master median_us)
R=$(field runit median_us)
S=$(field s6 median_us)
if [ -z "$M" ] || [ -z "$R" ] || [ -z "$S" ]; then
	say "a supervisor did not restart its program; no figure"
	log_problems 'killed by signal 9'
	# No ratio from a failed run: respawn's first complaint instead.
	why=$(grep -v '^master \|^runit \|^s6 ' "$T/respawn.out" | head -n 1 |
	    tr '|' '/')
	result restart "kill -> running, median us" "${M:-failed}" \
	    "runsv / s6-supervise" "${R:-failed} / ${S:-failed}" \
	    "failed (${why:-no median from respawn})" "<= 1.00x fastest" no
	exit 0
fi
if cmp_ok "$R" "<=" "$S"; then
	FN=runsv F=$R
else
	FN=s6-supervise F=$S
fi
Q=$(ratio "$M" "$F")
result restart "kill -> running, median us" "$M" "runsv / s6-supervise" \
    "$R / $S" "${Q}x $FN" "<= 1.00x fastest" "$(yesno cmp_ok "$Q" "<=" 1)"
log_problems 'killed by signal 9'
note "same program (stamp) under all three, killed with SIGKILL $KILLS" \
    "times each after living >= ${LIVE_MS} ms (to stay clear of the 1 s" \
    "restart back-off of runsv and s6; s6 also gets readiness through" \
    "notification-fd, without which s6-supervise 2.11 always waits 1 s);" \
    "ratio: master median / faster median.  master p90 $(field master p90_us) us, runsv p90" \
    "$(field runit p90_us) us, s6 p90 $(field s6 p90_us) us"
exit 0
