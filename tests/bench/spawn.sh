#!/bin/sh
# spawn.sh: time from "linkmaster start" until 500 daemon children have
# started, against a bare fork+exec loop (tests/bench/forkloop) starting
# the same program.
#
# The program is tests/bench/stamp: it appends its CLOCK_MONOTONIC start
# time to a file first thing in main.  t0 is CLOCK_MONOTONIC taken by the
# script just before it runs "linkmaster start" (or forkloop); the figure
# is the latest stamp - t0, so it includes reading the configuration and
# every fork, exec and set-up in between.  Two tables are measured:
#   one: one daemon service with maxproc 500 (the master tops it up);
#   many: 500 daemon services with maxproc 1 each.
# Each is run REPS times, alternating with the baseline; figure: median.
# Target: master / forkloop <= 1.5 (for the one-service table; the
# 500-service table is reported as well).
. "$(dirname "$0")/lib.sh"

N=${BENCH_SPAWN_N:-500}
REPS=${BENCH_SPAWN_REPS:-5}

bench_setup spawn

# The two tables.
CONF1=$T/c1
master_conf "$CONF1"
cat >"$CONF1/master.cf" <<EOF
# service type    private unpriv chroot wakeup maxproc command
stamps    daemon  -       n      n      -      $N     $STAMP $T/st
EOF
CONFN=$T/cn
master_conf "$CONFN"
{
	echo "# service type    private unpriv chroot wakeup maxproc command"
	i=1
	while [ $i -le "$N" ]; do
		echo "s$i daemon - n n - 1 $STAMP $T/st"
		i=$((i + 1))
	done
} >"$CONFN/master.cf"

# elapsed_us T0 WHO: latest stamp - T0, once $T/st has N lines ("-" if
# not within 60 s, and why in $T/why).
elapsed_us() {
	if ! wait_for 60 has_lines "$T/st" "$N"; then
		# We run in $(...): the reason goes to stderr and $T/why.
		say "$2: only $(lines "$T/st") of $N started within 60 s" |
		    tee -a "$T/why" >&2
		echo -
		return
	fi
	echo $(( ($(max_stamp "$T/st") - $1) / 1000 ))
}

# master CONFDIR: one timed start; prints the figure (us).
master_run() {
	rm -f "$T/st"
	t0=$(now_ns)
	if ! bench_master_start "$1" >&2; then
		say "$1: linkmaster start failed" >>"$T/why"
		echo -
		return
	fi
	elapsed_us "$t0" "master ($1)"
	bench_master_stop "$1" >&2
}

baseline_run() {
	rm -f "$T/st"
	t0=$(now_ns)
	bench_bg "$T/forkloop.out" "$FORKLOOP" "$N" "$STAMP" "$T/st"
	elapsed_us "$t0" forkloop
	end_pids "$BG_PID"
}

# Warm the page cache and the dynamic loader's files.
baseline_run >/dev/null
A= B= F=
i=0
while [ $i -lt "$REPS" ]; do
	F="$F $(baseline_run)"
	A="$A $(master_run "$CONF1")"
	B="$B $(master_run "$CONFN")"
	i=$((i + 1))
done
say "$N children, microseconds from start to the last stamp:"
say "  forkloop:$F"
say "  master, 1 service x maxproc $N:$A"
say "  master, $N services x maxproc 1:$B"
log_problems
case "$A $B $F" in
*-*)
	# No ratio from a failed run: the first reason instead.
	result spawn "$N daemon children, start -> all running" failed \
	    "fork+exec loop" "-" "failed ($(head -n 1 "$T/why" |
	    tr '|' '/'))" "<= 1.5x" no
	exit 0 ;;
esac
# shellcheck disable=SC2086
MA=$(median $A)
# shellcheck disable=SC2086
MB=$(median $B)
# shellcheck disable=SC2086
MF=$(median $F)
QA=$(ratio "$MA" "$MF")
QB=$(ratio "$MB" "$MF")
ms() {
	awk -v u="$1" 'BEGIN { printf "%.1f ms\n", u / 1000 }'
}
result spawn "$N children, start -> all running (1 service, maxproc $N)" \
    "$(ms "$MA")" "fork+exec loop" "$(ms "$MF")" "${QA}x" "<= 1.5x" \
    "$(yesno cmp_ok "$QA" "<=" 1.5)"
result spawn "$N children, start -> all running ($N services, maxproc 1)" \
    "$(ms "$MB")" "fork+exec loop" "$(ms "$MF")" "${QB}x" "<= 1.5x" \
    "$(yesno cmp_ok "$QB" "<=" 1.5)"
note "start = CLOCK_MONOTONIC just before \"linkmaster start\" (or" \
    "forkloop); end = the last of the $N children's own start stamps;" \
    "median of $REPS runs each"
exit 0
