#!/bin/sh
# echo.sh: the echo service through the master -- unix (public and
# private) and inet sockets, spawn on demand, the maxproc limit under twice
# as many holding clients, and max_use rotating children.
. "$(dirname "$0")/lib.sh"

plan 29
lm_setup echo
free_port PORT
INET=127.0.0.1:$PORT
PUB=$T/sock/public
PRIV=$T/sock/private

write_table() {
	lm_table <<EOF
# service	type	private	unpriv	chroot	wakeup	maxproc	command
hold		unix	n	n	n	-	2	echo
echo		unix	n	n	n	-	4	echo
priv		unix	-	n	n	-	2	echo
$INET	inet	n	n	n	-	4	echo
mu		unix	n	n	n	-	1	echo
EOF
}

lm_conf
write_table
lm_start && pass "start" || bail_out "cannot start the master"
ok 'grep -Eq "^started \(pid [0-9]+\)$" "$T/out"' "start prints 'started (pid N)'"
wait_log "^linkmaster/master\[$MASTER_PID\]: daemon started -- version 0\.1\.0, configuration $CONF\$" 5 &&
    pass "'daemon started' logged" || fail "'daemon started' logged"
ok '[ -S "$PUB/echo" ] && [ -S "$PUB/hold" ] && [ -S "$PRIV/priv" ]' \
    "unix sockets in socket_dir/public and socket_dir/private"
is "$(stat -c %a "$T/sock/master.ctl" 2>&1)" 600 "control socket is 0600"
is "$(lm_nchildren)" 0 "no child before the first client"

# --- maxproc 2 under 4 holding clients ------------------------------------
hold_start hold -c 4 -w 20 "$PUB/hold"
two_replies() { [ "$(hold_replies hold)" -ge 2 ]; }
wait_for "2 replies" 10 two_replies && pass "2 holding clients served" ||
    fail "2 holding clients served"
wait_for "status hold PROCS 2/0/2" 5 svc_is hold procs 2/0/2 &&
    pass "status: hold PROCS 2/0/2" ||
    { fail "status: hold PROCS 2/0/2"; diag_file "$T/status.out"; }
is "$(lm_nchildren)" 2 "exactly 2 children for maxproc 2"
is "$(hold_replies hold)" 2 "the other 2 clients wait in the backlog"
hold_stop
is "$FIFO_RC" 0 "after release, every holding client got its reply"
diag_file "$T/hold.out"

# --- bulk echo -----------------------------------------------------------------
"$TCLIENT" -w 20 -c 4 -n 25 -l 3 "$PUB/echo" >"$T/bulk.out" 2>&1
is $? 0 "100 connections x 3 lines over public unix socket"
diag_file "$T/bulk.out"
wait_for "status echo USES 100" 5 svc_is echo uses 100 &&
    pass "status: echo USES 100" ||
    { fail "status: echo USES 100"; diag_file "$T/status.out"; }
ok 'svc_field echo procs | grep -Eq "^0/[1-4]/4\$"' \
    "status: echo PROCS 0/N/4 after the run ($(svc_field echo procs))"

"$TCLIENT" -w 10 -c 1 -n 3 "$PRIV/priv" >"$T/priv.out" 2>&1
is $? 0 "echo over the private unix socket"

"$TCLIENT" -w 20 -c 4 -n 25 -l 3 "$INET" >"$T/inet.out" 2>&1
is $? 0 "100 connections x 3 lines over inet $INET"
diag_file "$T/inet.out"
is "$(svc_field "$INET" type)" inet "status row named $INET, type inet"

is "$(count_log 'throttling')" 0 "no throttling so far"
is "$(count_log 'warning:')" 0 "no warning logged so far"

# --- max_use 3, in a fresh master (max_use is global) ------------------------
lm_stop && pass "stop" || fail "stop"
lm_conf 'max_use = 3'
lm_start && pass "start with max_use = 3" || bail_out "cannot restart"

"$TCLIENT" -w 10 -n 1 "$PUB/mu" >"$T/mu.out" 2>&1
is $? 0 "mu: connection 1"
A=$(lm_children)
is "$(echo $A | wc -w)" 1 "mu: one child ($A)"
"$TCLIENT" -w 10 -n 2 "$PUB/mu" >"$T/mu.out" 2>&1
is $? 0 "mu: connections 2 and 3"
wait_for "the mu child to exit after 3 clients" 5 dead "$A" &&
    pass "mu: child $A exits after max_use 3 clients" ||
    fail "mu: child $A exits after max_use 3 clients"
"$TCLIENT" -w 10 -n 1 "$PUB/mu" >"$T/mu.out" 2>&1
is $? 0 "mu: connection 4"
B=$(lm_children)
ok '[ -n "$B" ] && [ "$B" != "$A" ]' "mu: a new child ($B) serves connection 4"

"$TCLIENT" -w 20 -c 4 -n 25 -l 3 "$PUB/echo" >"$T/bulk.out" 2>&1
is $? 0 "100 connections through children recycled every 3 clients"
diag_file "$T/bulk.out"
is "$(count_log 'throttling|exits in')" 0 "max_use exits are not crashes: no throttling"
