#!/bin/sh
# inetd.sh: inetd mode against xinetd, both running /bin/cat once per
# connection on TCP 127.0.0.1 (the issue's target: >= 1.2x xinetd).
#
# The master runs one inet service with "accept = yes" in its service
# section, maxproc 0 (unlimited, as xinetd's instances = UNLIMITED), so
# that both fork and exec /bin/cat for every connection and the figure is
# what each spends around that.  xinetd is Debian's, started here in the
# foreground (-dontfork) and stopped by its pid, cps raised so its rate
# limiter never switches the service off.  Each connection sends one line
# and reads it back (tclient -l 1).  For 1 and 8 concurrent clients: a
# warm-up, a size for about DUR seconds a run, then REPS runs round robin
# (the order rotating each time); the figure is the median rate.  A failed
# run fails the row with its reason.  A note gives each contender's CPU
# per connection over those runs (utime + stime of the spawner and of the
# /bin/cat processes it reaped, from /proc/PID/stat), which a loaded
# machine moves less than the rates, with the load average.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-rate.sh"

DUR=${BENCH_INETD_DUR:-1.5}	# seconds per timed run
REPS=${BENCH_INETD_REPS:-3}

bench_setup inetd
need_cmd xinetd
need /bin/cat

PM=$(free_port)
PX=$(free_port)
[ "$PM" != "$PX" ] || skip "could not find two distinct free ports"

CONF=$T/conf
master_conf "$CONF" "service \"127.0.0.1:$PM/inet\" { accept = yes }" ${BENCH_INETD_CONF:-}
cat >"$CONF/master.cf" <<EOF
# service        type  private unpriv chroot wakeup maxproc command
127.0.0.1:$PM    inet  n       n      n      -      0       /bin/cat
EOF
bench_master_start "$CONF" || exit 1

xinetd_cat_start "$PX"

wait_up "$PM" "$PX" || { cat "$T/xinetd.out" 2>/dev/null; exit 1; }

# run, why, rounds, fig, size, row: lib-rate.sh (shared with prefork.sh).

# one M|X: a timed run of the master or of xinetd.
one() {
	case $1 in
	M)	RM="$RM $(run "$C" "$NM" "$PM")" ;;
	X)	RX="$RX $(run "$C" "$NX" "$PX")" ;;
	esac
}

# tree_ticks PID: CPU ticks of PID and of the children it has reaped
# (utime, stime, cutime, cstime): a spawner and its /bin/cat processes.
tree_ticks() {
	{ read -r _tt </proc/"$1"/stat; } 2>/dev/null || { echo 0; return; }
	set -- ${_tt##*) }
	echo $(( ${12} + ${13} + ${14} + ${15} ))
}

# us_per_conn TICKS CONNS
us_per_conn() {
	awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" \
	    'BEGIN { if (n > 0) printf "%.0f", t * 1000000 / hz / n; else print "-" }'
}

say "master pid $MASTER_PID on :$PM (accept = yes), xinetd pid" \
    "$XINETD_PID on :$PX; /bin/cat per connection, one line each;" \
    "~${DUR}s per run, median of $REPS runs"
for C in 1 8; do
	run "$C" $((200 / C)) "$PM" >/dev/null
	run "$C" $((200 / C)) "$PX" >/dev/null
	NM=$(size "$(run "$C" $((400 / C)) "$PM")" "$C")
	NX=$(size "$(run "$C" $((400 / C)) "$PX")" "$C")
	RM= RX=
	CM0=$(tree_ticks "$MASTER_PID")
	CX0=$(tree_ticks "$XINETD_PID")
	rounds "$REPS" one M X
	CM=$(( $(tree_ticks "$MASTER_PID") - CM0 ))
	CX=$(( $(tree_ticks "$XINETD_PID") - CX0 ))
	say "$C client(s): master:$RM  xinetd:$RX (conn/s)"
	# CPU per connection, which a loaded machine moves less than rates
	# (the reaped children's time reaches the spawner once reaped).
	UM=$(us_per_conn "$CM" $((C * NM * REPS)))
	UX=$(us_per_conn "$CX" $((C * NX * REPS)))
	note "$C client(s): CPU per connection, the spawner and its" \
	    "/bin/cat: master ${UM} us, xinetd ${UX} us" \
	    "($(ratio "$UX" "$UM")x; load average $(cut -d' ' -f1-3 /proc/loadavg))"
	# shellcheck disable=SC2086
	M=$(fig $RM)
	# shellcheck disable=SC2086
	X=$(fig $RX)
	row inetd "conn/s, /bin/cat per connection, $C client(s)" "$M" \
	    "xinetd + /bin/cat" "$X" 1.2 2 "$PM" "$PX"
done
log_problems
note "master: inet service, accept = yes, maxproc 0, /bin/cat; xinetd:" \
    "wait = no, instances UNLIMITED, cps 100000 1, /bin/cat"
exit 0
