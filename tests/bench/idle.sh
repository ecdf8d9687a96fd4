#!/bin/sh
# idle.sh: what the master costs when nothing happens.
#
# The master runs 200 unix echo services (maxproc default, max_idle = 1h
# so that nothing expires during the run); one connection to each makes
# one child per service, which then sits idle.  After a settling second
# (startup-grace timers, log lines), CPU ticks (utime + stime from
# /proc/PID/stat) of the master and of all its children are read, again
# WINDOW seconds later.  Targets: the master uses 0 ticks and its VmRSS
# stays under 4 MiB.  The children's ticks are reported too.  The
# baseline printed next to the master is the standalone echo server (one
# process, the same code, idle on one socket) over the same window.
. "$(dirname "$0")/lib.sh"

NSVC=${BENCH_IDLE_SERVICES:-200}
WINDOW=${BENCH_IDLE_WINDOW:-10}

bench_setup idle

CONF=$T/conf
master_conf "$CONF" "max_idle = 1h"
{
	echo "# service type private unpriv chroot wakeup maxproc command"
	i=1
	while [ $i -le "$NSVC" ]; do
		echo "e$i unix n n n - - echo -o log_clients=0"
		i=$((i + 1))
	done
} >"$CONF/master.cf"
bench_master_start "$CONF" || exit 1
RSS0=$(rss_kb "$MASTER_PID")

bench_bg "$T/echo.out" "$ECHO_SVC" -o listen="$T/standalone.sock" \
    -o log_clients=0
ECHO_PID=$BG_PID
wait_for 10 test -S "$T/standalone.sock" ||
    { say "standalone echo did not start"; exit 1; }

# One connection per service: one child each.
bad=0
i=1
while [ $i -le "$NSVC" ]; do
	"$TCLIENT" -w 10 "$T/sock/public/e$i" >/dev/null 2>&1 || bad=$((bad + 1))
	i=$((i + 1))
done
"$TCLIENT" -w 10 "$T/standalone.sock" >/dev/null 2>&1 || bad=$((bad + 1))
[ "$bad" = 0 ] || say "$bad connections failed"

nkids() {
	descendants "$MASTER_PID" | wc -l | tr -d ' '
}
wait_for 10 eval '[ "$(nkids)" -ge "$NSVC" ]' ||
    say "only $(nkids) children after $NSVC connections"
KIDS=$(descendants "$MASTER_PID")
NK=$(echo "$KIDS" | wc -l | tr -d ' ')

# kids_ticks: the children's ticks, summed.
kids_ticks() {
	_kt=0
	for _k in $KIDS; do
		_kt=$((_kt + $(ticks "$_k")))
	done
	echo "$_kt"
}

sleep 1		# settle: startup-grace timers, the last log lines
M0=$(ticks "$MASTER_PID")
K0=$(kids_ticks)
E0=$(ticks "$ECHO_PID")
say "master pid $MASTER_PID with $NK children; watching ${WINDOW}s"
sleep "$WINDOW"
M1=$(ticks "$MASTER_PID")
K1=$(kids_ticks)
E1=$(ticks "$ECHO_PID")
RSS1=$(rss_kb "$MASTER_PID")
HWM=$(awk '$1 == "VmHWM:" { print $2 }' /proc/"$MASTER_PID"/status)
ERSS=$(rss_kb "$ECHO_PID")
NK1=$(descendants "$MASTER_PID" | wc -l | tr -d ' ')

DM=$((M1 - M0))
DK=$((K1 - K0))
DE=$((E1 - E0))
say "ticks over ${WINDOW}s: master $DM, its $NK children $DK in all," \
    "standalone echo $DE (CLK_TCK $(getconf CLK_TCK))"
say "master VmRSS ${RSS0} kB at start, ${RSS1} kB with $NK children" \
    "(peak ${HWM} kB); standalone echo ${ERSS} kB"
[ "$NK1" = "$NK" ] || say "children: $NK before the window, $NK1 after"
log_problems

if [ "$bad" != 0 ] || [ "$NK" -lt "$NSVC" ]; then
	# Not the load we meant to measure: no figure from it.
	f="failed ($bad of $((NSVC + 1)) connections failed; $NK children)"
	result idle "CPU ticks in ${WINDOW}s, $NSVC services + $NK idle children" \
	    "$DM" "standalone echo, idle" "$DE" "$f" "0 ticks" no
	result idle "VmRSS, $NSVC services + $NK children" "${RSS1} kB" \
	    "standalone echo" "${ERSS} kB" "$f" "< 4096 kB" no
else
	result idle "CPU ticks in ${WINDOW}s, $NSVC services + $NK idle children" \
	    "$DM" "standalone echo, idle" "$DE" "-" "0 ticks" \
	    "$(yesno test "$DM" -eq 0)"
	result idle "VmRSS, $NSVC services + $NK children" "${RSS1} kB" \
	    "standalone echo" "${ERSS} kB" "$(ratio "$RSS1" "$ERSS" 1)x" \
	    "< 4096 kB" "$(yesno test "$RSS1" -lt 4096)"
fi
note "children's ticks over the same ${WINDOW}s: $DK in all ($NK" \
    "processes); master VmRSS peak $HWM kB; max_idle = 1h"
exit 0
