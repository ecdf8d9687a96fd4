#!/bin/sh
# syslog_slow.sh: a syslog that stops reading does not make the master
# deaf: "status" still answers within a second while a child logs, and
# once syslog reads again the queued lines arrive in order, none lost.
# Lines beyond the queue's 1000 are dropped, counted and reported in one
# line once syslog reads again: every line is logged or counted.
. "$(dirname "$0")/lib.sh"

plan 10
lm_setup syslog_slow

# Numbered lines, 50 a second (under the output rate limit).
lm_conf
lm_table <<'EOF'
# service	type	private	unpriv	chroot	wakeup	maxproc	command
chatty		daemon	-	n	n	-	1	/bin/sh -c
	{ i=0; while :; do i=$((i + 1)); echo "tick $i"; sleep 0.02; done }
EOF
lm_start && pass "start" || bail_out "cannot start the master"
wait_log '^linkmaster/chatty\[[0-9]+\]: tick 5$' 5 || bail_out "no ticks"

# Syslog stops reading: its socket queue (10 datagrams) fills in 0.2 s.
kill -STOP "$LOGSINK_PID"
worst=0
fails=0
end=$(( $(lm_now_ms) + 2000 ))
while [ "$(lm_now_ms)" -lt "$end" ]; do
	t0=$(lm_now_ms)
	timeout 5 $LM status >/dev/null 2>&1 || fails=$((fails + 1))
	el=$(( $(lm_now_ms) - t0 ))
	[ "$el" -gt "$worst" ] && worst=$el
done
kill -CONT "$LOGSINK_PID"
is "$fails" 0 "status always answers while syslog is stopped"
ok '[ "$worst" -lt 1000 ]' "each answer within a second (slowest $worst ms)"

# The lines of those 2 s (about 100) come out of the queue, in order.
last=$(sed -n 's/^linkmaster\/chatty\[[0-9]*\]: tick \([0-9]*\)$/\1/p' "$LOG" | tail -n 1)
want=$((last + 150))
wait_log "^linkmaster/chatty\\[[0-9]+\\]: tick $want\$" 10 &&
    pass "ticks go on after syslog reads again" ||
    fail "ticks go on after syslog reads again"
seqs=$(sed -n 's/^linkmaster\/chatty\[[0-9]*\]: tick \([0-9]*\)$/\1/p' "$LOG" |
    awk 'NR > 1 && $1 != prev + 1 { bad++ } { prev = $1 } END { print bad + 0 }')
is "$seqs" 0 "no tick missing or out of order"
lm_stop && pass "stop" || fail "stop"

# --- more than the queue holds -------------------------------------------------
# 20 children wait for $T/go, then say 80 numbered lines each at once
# (under the output rate limit): 1600 lines for a queue of 1000 while
# syslog is stopped.  Each then says it is done in $T/done.N.
N=20
{
	i=1
	while [ $i -le $N ]; do
		printf 'n%d\tdaemon\t-\tn\tn\t-\t1\t/bin/sh -c\n' $i
		printf '\t{ until [ -e %s/go ]; do sleep 0.02; done; seq -f "many %d line %%g" 1 80; : >%s/done.%d; exec sleep 1000 }\n' \
		    "$T" $i "$T" $i
		i=$((i + 1))
	done
} | lm_table
lm_start && pass "start with $N children" ||
    bail_out "cannot start the master with $N children"
kill -STOP "$LOGSINK_PID"
: >"$T/go"
wait_for "$N children to have said their lines" 10 eval \
    '[ "$(ls "$T" | grep -c "^done\.")" = $N ]'
# The master reads their pipes in its loop: a status round trip later
# it has met the full queue.
lm status
kill -CONT "$LOGSINK_PID"
RE='^linkmaster/master\[[0-9]+\]: warning: [0-9]+ log lines dropped: the syslog socket was full \(a queue of 1000 lines\)$'
wait_log "$RE" 10 &&
    pass "the dropped lines are reported once syslog reads again" ||
    fail "the dropped lines are reported once syslog reads again"
dropped=$(sed -En 's/^linkmaster\/master\[[0-9]+\]: warning: ([0-9]+) log lines dropped: .*/\1/p' "$LOG" |
    awk '{ s += $1 } END { print s + 0 }')
counted() {
	logged=$(count_log '^linkmaster/n[0-9]+\[[0-9]+\]: many [0-9]+ line [0-9]+$')
	[ $((logged + dropped)) -ge $((N * 80)) ]
}
wait_for "every line logged or counted" 10 counted
ok '[ "$dropped" -gt 0 ] && [ $((logged + dropped)) -eq $((N * 80)) ]' \
    "every line is logged ($logged) or counted as dropped ($dropped)"
lm_stop && pass "stop ($N children)" || fail "stop ($N children)"
