#!/bin/sh
# inetd_fail.sh: in inetd mode (accept = yes) a per-connection child that
# cannot set itself up -- here its command is a script whose interpreter
# does not exist, which "check" cannot see -- says why under the
# service's name, its client's connection is closed at once (not left
# hanging), and the bad startups throttle the service, which meanwhile
# accepts nobody; children that fail together are one step of back-off.
# Both ways a child is made: vfork (one connection waiting) and fork
# (several waiting at one wake-up: the master is stopped while they
# connect, so that it accepts them in one batch).
. "$(dirname "$0")/lib.sh"

plan 9
lm_setup inetd_fail
mkdir "$T/bin"
printf '#!/nonexistent/interpreter\n' >"$T/bin/nocat"
chmod 755 "$T/bin/nocat"
PUB=$T/sock/public
lm_conf 'service "bad/unix" { accept = yes }'
lm_table <<EOF
bad	unix	n	n	n	-	-	$T/bin/nocat
EOF
lm_start || bail_out "cannot start the master"
WHY="exec $T/bin/nocat: No such file or directory"

# One client: its reply is end-of-file at once, not a wait for the
# client's 20 s deadline.
t0=$(lm_now_ms)
"$TCLIENT" -w 20 -l 1 "$PUB/bad" >"$T/tc1.out" 2>&1
el=$(( $(lm_now_ms) - t0 ))
ok '[ "$el" -lt 5000 ] && grep -q "errors=1" "$T/tc1.out"' \
    "one client: its connection is closed at once (${el} ms)"
diag_file "$T/tc1.out"
wait_log "^linkmaster/bad\[[0-9]+\]: (error|warning): $WHY\$" 5 &&
    pass "one client: the reason, under linkmaster/bad[pid]" ||
    fail "one client: the reason, under linkmaster/bad[pid]"
wait_log "^linkmaster/master\[$MASTER_PID\]: warning: process $T/bin/nocat pid [0-9]+ exit status 127" 5 &&
    pass "one client: the master logs the exit" ||
    fail "one client: the master logs the exit"
wait_log "^linkmaster/master\[$MASTER_PID\]: warning: service bad: bad command startup -- throttling" 5 &&
    pass "a bad startup throttles the service" ||
    fail "a bad startup throttles the service"

# While throttled nobody is accepted: end the throttle, stop the master,
# let 4 clients connect into the backlog, go on: one wake-up, 4 children
# (3 of them forked).
lm retry bad
wait_for "bad no longer throttled" 5 svc_isnt bad state throttled ||
    bail_out "bad stays throttled"
n0=$(count_log "^linkmaster/bad\[[0-9]+\]: (error|warning): $WHY\$")
kill -STOP "$MASTER_PID"
lm_bg "$T/tc4.out" "$TCLIENT" -c 4 -n 1 -w 20 -l 1 "$PUB/bad"
tc4=$LM_BG_PID
# Each client is connected once its socket appears in the backlog.
four_waiting() {
	[ "$(ss -xlH 2>/dev/null | awk -v p="$PUB/bad" '$5 == p { print $3 }')" = 4 ]
}
if command -v ss >/dev/null 2>&1; then
	wait_for "4 connections in the backlog" 10 four_waiting ||
	    diag "ss did not show 4 waiting connections"
else
	sleep 1
fi
t0=$(lm_now_ms)
kill -CONT "$MASTER_PID"
wait_for "the 4 clients" 20 dead "$tc4"
el=$(( $(lm_now_ms) - t0 ))
ok '[ "$el" -lt 5000 ] && grep -q "conns=4 ok=0 refused=0 errors=4" "$T/tc4.out"' \
    "4 clients at once: all 4 connections closed at once (${el} ms)"
diag_file "$T/tc4.out"
four_reasons() {
	[ "$(count_log "^linkmaster/bad\[[0-9]+\]: (error|warning): $WHY\$")" -ge $((n0 + 4)) ]
}
wait_for "4 more reasons" 5 four_reasons &&
    pass "4 clients at once: each child's reason, under linkmaster/bad[pid]" ||
    fail "4 clients at once: each child's reason, under linkmaster/bad[pid]"
ok '[ "$(count_log "service bad: bad command startup -- throttling")" = 2 ]' \
    "the 4 failures together are one more step of back-off, not 4"
is "$(lm_nchildren)" 0 "no child left behind"
lm_stop
is "$LM_RC" 0 "stop"
