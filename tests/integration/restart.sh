#!/bin/sh
# restart.sh: a child killed after it started is replaced without a
# throttle (a daemon at once, a socket service on the next client); a
# crash storm (more than 10 exits in a second) throttles the service.
. "$(dirname "$0")/lib.sh"

plan 19
lm_setup restart
PUB=$T/sock/public

lm_conf
lm_table <<EOF
# service	type	private	unpriv	chroot	wakeup	maxproc	command
sleeper		daemon	-	n	n	-	1	/bin/sleep 1000
echo		unix	n	n	n	-	1	echo
storm		unix	n	n	n	-	12	echo
EOF

lm_start && pass "start" || bail_out "cannot start the master"
M="^linkmaster/master\[$MASTER_PID\]: "

# --- a daemon child killed with SIGKILL ------------------------------------
wait_for "sleeper STATE up" 5 svc_is sleeper state up &&
    pass "sleeper is up" ||
    { fail "sleeper is up"; diag_file "$T/status.out"; }
A=$(lm_children 'sleep 1000')
is "$(echo $A | wc -w)" 1 "one sleeper child ($A)"
kill -9 $A
new_sleeper() {
	B=$(lm_children 'sleep 1000')
	[ -n "$B" ] && [ "$B" != "$A" ]
}
wait_for "a new sleeper child" 1 new_sleeper &&
    pass "replaced within 1 s by pid $B" || fail "replaced within 1 s"
wait_log "${M}warning: process /bin/sleep pid $A killed by signal 9\$" 2 &&
    pass "'killed by signal 9' logged" || fail "'killed by signal 9' logged"
is "$(count_log 'service sleeper: .*throttling')" 0 "no throttling for sleeper"
is "$(svc_field sleeper restarts)" 1 "status: sleeper RESTARTS 1"
is "$(svc_field sleeper lastexit)" "signal 9" "status: sleeper LAST-EXIT signal 9"
wait_for "sleeper STATE up" 5 svc_is sleeper state up &&
    pass "sleeper is up again" || fail "sleeper is up again"

# --- a socket service child killed after serving -----------------------------
"$TCLIENT" -w 10 -n 1 "$PUB/echo" >"$T/c.out" 2>&1
is $? 0 "echo: first client served"
C=$(lm_children services/echo)
is "$(echo $C | wc -w)" 1 "one echo child ($C)"
kill -9 $C
wait_for "the echo child to die" 2 dead "$C"
"$TCLIENT" -w 10 -n 3 "$PUB/echo" >"$T/c.out" 2>&1
is $? 0 "echo: the next clients are served by a new child"
ok '! lm_children services/echo | grep -qx "$C"' "echo: the killed child is gone"
is "$(count_log 'service echo: .*throttling')" 0 "no throttling for echo"

# --- crash storm: 12 started children killed at once --------------------------
before=$(lm_children services/echo)
hold_start storm -c 12 -w 20 "$PUB/storm"
all_replies() { [ "$(hold_replies storm)" -ge 12 ]; }
wait_for "12 replies" 10 all_replies && pass "12 storm children serving" ||
    fail "12 storm children serving"
wait_for "storm PROCS 12/0/12" 5 svc_is storm procs 12/0/12 ||
    diag_file "$T/status.out"
kids=
for p in $(lm_children services/echo); do
	echo "$before" | grep -qx "$p" || kids="$kids $p"
done
is "$(echo $kids | wc -w)" 12 "12 storm children found"
kill -9 $kids
wait_log "${M}warning: service storm: 11 exits in 1s -- throttling for 1s\$" 3 &&
    pass "crash storm logged: 11 exits in 1s" ||
    fail "crash storm logged: 11 exits in 1s"
is "$(svc_field storm state)" throttled "status: storm is throttled"
is "$(count_log 'service storm: bad command startup')" 0 \
    "the storm is not a startup failure"
hold_stop
