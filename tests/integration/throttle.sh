#!/bin/sh
# throttle.sh: a command that fails at startup is throttled with a doubling
# delay (1s, 2s, 4s, ... capped at throttle_max), "status" shows it, and
# "retry" releases it at once.
. "$(dirname "$0")/lib.sh"

plan 26
lm_setup throttle

# "flaky" fails until $T/ok exists, then stays up.
lm_conf
lm_table <<EOF
# service	type	private	unpriv	chroot	wakeup	maxproc	command
false		daemon	-	n	n	-	1	/bin/false
flaky		daemon	-	n	n	-	1	/bin/sh -c
	{ test -e $T/ok || exit 1; exec /bin/sleep 1000 }
EOF

# false and flaky fail at startup: start says so (exit 1), the master runs.
lm_start
is "$LM_RC" 1 "start: exit 1 (false and flaky failed)"
alive "$MASTER_PID" || bail_out "cannot start the master"
M="^linkmaster/master\[$MASTER_PID\]: "

wait_log "${M}warning: process /bin/false pid [0-9]+ exit status 1\$" 5 &&
    pass "exit status 1 of /bin/false logged" ||
    fail "exit status 1 of /bin/false logged"
for d in 1 2 4; do
	wait_log "${M}warning: service false: bad command startup -- throttling for ${d}s\$" 10 &&
	    pass "throttling for ${d}s logged" ||
	    fail "throttling for ${d}s logged"
done
l1=$(line_log 'service false: bad command startup -- throttling for 1s$')
l2=$(line_log 'service false: bad command startup -- throttling for 2s$')
l4=$(line_log 'service false: bad command startup -- throttling for 4s$')
ok '[ "$l1" -gt 0 ] && [ "$l1" -lt "$l2" ] && [ "$l2" -lt "$l4" ]' \
    "1s, 2s, 4s in that order (lines $l1 $l2 $l4)"
is "$(count_log 'service false: bad command startup -- throttling for 1s$')" 1 \
    "the 1s delay is used once (it doubles)"

wait_for "status false STATE throttled" 3 svc_is false state throttled &&
    pass "status: false is throttled" ||
    { fail "status: false is throttled"; diag_file "$T/status.out"; }
ok 'svc_field false throttle | grep -Eq "^[1-8]s$"' \
    "status: THROTTLE shows the time left ($(svc_field false throttle))"
is "$(svc_field false lastexit)" "exit 1" "status: LAST-EXIT exit 1"
ok '[ "$(svc_field false restarts)" -ge 3 ]' \
    "status: RESTARTS counts the failures ($(svc_field false restarts))"

# --- retry ------------------------------------------------------------------
wait_log 'service flaky: bad command startup -- throttling for 2s$' 10 ||
    diag "flaky was not throttled twice"
# retry must find it throttled: wait for a throttle with time to spare.
flaky_held() {
	[ "$(svc_field flaky state)" = throttled ] || return 1
	_left=$(svc_field flaky throttle)
	[ "${_left%s}" -ge 2 ] 2>/dev/null
}
wait_for "flaky throttled with 2s or more left" 20 flaky_held ||
    diag "flaky was never throttled long enough"
touch "$T/ok"
nflaky=$(count_log 'service flaky: .*throttling')
lm retry flaky
is "$LM_RC" 0 "retry flaky: exit 0"
ok 'grep -qx "released flaky" "$T/out"' "retry flaky prints 'released flaky'"
diag_file "$T/out" "$T/err"
ok 'svc_isnt flaky state throttled' \
    "status right after retry: flaky not throttled ($(svc_field flaky state))"
wait_log "${M}service flaky: throttle released\$" 2 &&
    pass "'throttle released' logged" || fail "'throttle released' logged"
wait_for "flaky STATE up" 5 svc_is flaky state up &&
    pass "flaky is up once its command works" ||
    { fail "flaky is up once its command works"; diag_file "$T/status.out"; }
is "$(lm_nchildren 'sleep 1000')" 1 "flaky's child runs"

wait_for "false STATE throttled" 10 svc_is false state throttled
lm retry false
is "$LM_RC" 0 "retry false: exit 0"
ok 'grep -qx "released false" "$T/out"' "retry false prints 'released false'"
wait_log "${M}service false: throttle released\$" 2 &&
    pass "'service false: throttle released' logged" ||
    fail "'service false: throttle released' logged"

lm retry nosuch
ok '[ "$LM_RC" -ne 0 ]' "retry of an unknown service fails"
lm retry
is "$LM_RC" 0 "retry without a service: exit 0"
is "$(count_log 'service flaky: .*throttling')" "$nflaky" \
    "flaky was not throttled again once its command worked"

# --- the cap: throttle_max = 2 -----------------------------------------------
lm_stop && pass "stop" || fail "stop"
rm -f "$T/ok"
lm_conf 'throttle_max = 2'
lm_start
alive "$MASTER_PID" || bail_out "cannot restart"
# Only the new master's lines count: the old one's last lines may still
# be on their way to the log (stop does not wait for the log sink).
M="^linkmaster/master\[$MASTER_PID\]: "
two_2s() {
	[ "$(count_log "${M}warning: service false: bad command startup -- throttling for 2s\$")" -ge 2 ]
}
wait_for "two 2s throttles" 20 two_2s &&
    pass "with throttle_max = 2 the delay stays at 2s" ||
    fail "with throttle_max = 2 the delay stays at 2s"
is "$(count_log "${M}warning: service false: bad command startup -- throttling for 4s\$")" 0 \
    "no 4s delay beyond throttle_max"
