#!/bin/sh
# syslog_slow.sh: a syslog that stops reading does not make the master
# deaf: "status" still answers within a second while a child logs, and
# once syslog reads again the queued lines arrive in order, none lost.
. "$(dirname "$0")/lib.sh"

plan 6
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
