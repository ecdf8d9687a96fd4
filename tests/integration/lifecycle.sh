#!/bin/sh
# lifecycle.sh: start, stop, abort, start-fg and status as commands; what
# stop leaves behind (nothing); a SIGKILLed master's children; a stale pid
# file; SIGHUP and SIGTERM; start failing on a taken port and on a bad
# master.cf; how stop (status channel, SIGTERM, SIGKILL after stop_timeout)
# and abort end children.
. "$(dirname "$0")/lib.sh"

plan 42
lm_setup lifecycle
PUB=$T/sock/public

good_table() {
	lm_table <<EOF
# service	type	private	unpriv	chroot	wakeup	maxproc	command
echo		unix	n	n	n	-	2	echo
sfd		daemon	-	n	n	-	1	$SHOWFDS
sleeper		daemon	-	n	n	-	1	/bin/sleep 1000
EOF
}

# Wait until both daemons are up and echo has a child; the master's
# children then go to CHILDREN.
all_up() {
	wait_for "sfd up" 5 svc_is sfd state up &&
	    wait_for "sleeper up" 5 svc_is sleeper state up &&
	    "$TCLIENT" -w 10 -n 1 "$PUB/echo" >"$T/c.out" 2>&1 || return 1
	CHILDREN=$(lm_children)
}

# Sockets or fifos left under socket_dir.
sockets_left() {
	find "$T/sock" \( -type s -o -type p \) 2>/dev/null
}

lm_conf
good_table

# --- not running ---------------------------------------------------------------
for c in status stop abort; do
	lm $c
	ok '[ "$LM_RC" -ne 0 ] && grep -qx "linkmaster: not running" "$T/err"' \
	    "$c when not running: exit $LM_RC, 'linkmaster: not running'"
done

# --- start, start again, stop ------------------------------------------------
lm_start
is "$LM_RC" 0 "start: exit 0"
[ -n "$MASTER_PID" ] || bail_out "no master pid"
ok 'grep -qx "started (pid $MASTER_PID)" "$T/out"' "start prints 'started (pid $MASTER_PID)'"
is "$(tr -dc 0-9 <"$T/master.pid" 2>/dev/null)" "$MASTER_PID" "pid file holds the master's pid"
lm start
ok '[ "$LM_RC" -ne 0 ] && grep -qx "linkmaster: already running (pid $MASTER_PID)" "$T/err"' \
    "second start: exit $LM_RC, 'already running (pid $MASTER_PID)'"
diag_file "$T/out" "$T/err"
all_up
is "$(echo $CHILDREN | wc -w)" 3 "three children: echo, sfd, sleeper"
OLD=$MASTER_PID
lm_stop
ok '[ "$LM_RC" = 0 ] && grep -qx stopped "$T/out"' "stop: exit 0, 'stopped'"
# The stop client's connection is closed by the master's exit itself, so
# the process may still be finishing exit(2) in the kernel: allow that.
wait_for "the master to finish exiting" 0.5 dead "$OLD" &&
    pass "the master is gone when stop returns" ||
    fail "the master is gone when stop returns"
ok 'all_dead $CHILDREN' "no child left when stop returns"
is "$(sockets_left)" "" "no socket or fifo left under socket_dir"
ok '[ ! -e "$T/master.pid" ]' "pid file removed"

# --- start through a pipe; SIGKILL the master -------------------------------
timeout 15 sh -c "$LM start | cat" >"$T/pipe.out" 2>&1
is $? 0 "start returns even when its stdout is a pipe (master detached)"
MASTER_PID=$(sed -n 's/^started (pid \([0-9][0-9]*\))$/\1/p' "$T/pipe.out")
[ -n "$MASTER_PID" ] || MASTER_PID=$(tr -dc 0-9 <"$T/master.pid")
LM_MASTERS="$LM_MASTERS $MASTER_PID"
all_up || diag "services not up"
proto_kids=$(lm_children 'services/echo|showfds')
other_kids=$(lm_children 'sleep 1000')
OLD=$MASTER_PID
kill -9 "$MASTER_PID"
wait_for "echo and showfds children to exit" 1 all_dead $proto_kids &&
    pass "master SIGKILLed: echo and showfds children gone within 1 s" ||
    fail "master SIGKILLed: echo and showfds children gone within 1 s"
wait_for "the sleep child to exit" 1 all_dead $other_kids &&
    pass "master SIGKILLed: the /bin/sleep child gone within 1 s too" ||
    { fail "master SIGKILLed: the /bin/sleep child gone within 1 s too"
      for p in $other_kids; do kill -9 "$p"; done; }

# --- a stale pid file ---------------------------------------------------------
[ -s "$T/master.pid" ] || echo "$OLD" >"$T/master.pid"
lm_start
is "$LM_RC" 0 "start works despite the stale pid file"
ok '[ "$MASTER_PID" != "$OLD" ] && alive "$MASTER_PID"' "a new master ($MASTER_PID)"
"$TCLIENT" -w 10 -c 2 -n 5 "$PUB/echo" >"$T/c.out" 2>&1
is $? 0 "echo works over the re-created socket"
M="^linkmaster/master\[$MASTER_PID\]: "

# --- signals -------------------------------------------------------------------
kill -HUP "$MASTER_PID"
wait_log "${M}reload" 5 && pass "SIGHUP: reload logged" ||
    fail "SIGHUP: reload logged"
grep -E "${M}reload" "$LOG" | sed 's/^/# /'
lm status
is "$LM_RC" 0 "still running after SIGHUP"
kill -TERM "$MASTER_PID"
wait_log "${M}terminating on signal 15\$" 5 &&
    pass "SIGTERM: 'terminating on signal 15'" ||
    fail "SIGTERM: 'terminating on signal 15'"
wait_for "the master to exit" 10 dead "$MASTER_PID" &&
    pass "SIGTERM: the master exits" || fail "SIGTERM: the master exits"
ok '[ ! -e "$T/master.pid" ] && [ -z "$(sockets_left)" ]' \
    "SIGTERM: pid file and sockets removed"

# --- start fails: port taken -------------------------------------------------
fifo_start port "$TCLIENT" -L 127.0.0.1:0
wait_for "the port holder" 5 grep -q '^listening ' "$T/port.out" ||
    bail_out "tclient -L failed: $(cat "$T/port.out")"
PORT=$(sed -n 's/^listening //p' "$T/port.out")
good_table
echo "127.0.0.1:$PORT	inet	n	n	n	-	-	echo" >>"$CONF/master.cf"
lm_start
is "$LM_RC" 1 "start with a taken port: exit 1"
ok 'grep -q "service 127.0.0.1:$PORT: bind 127.0.0.1:$PORT: Address already in use" "$T/err"' \
    "start names the service and 'bind 127.0.0.1:$PORT: Address already in use'"
lm status
is "$LM_RC" 1 "no master left running"
fifo_stop

# --- start fails: bad master.cf -------------------------------------------------
lm_table <<EOF
# service	type	private	unpriv	chroot	wakeup	maxproc	command
echo		unix	n	n	n	-	2	echo
bad		tcp	n	n	n	-	2	echo
EOF
lm_start
is "$LM_RC" 1 "start with a bad master.cf: exit 1"
ok 'grep -q "^$CONF/master.cf:3: " "$T/err"' "the error names $CONF/master.cf:3"
lm status
is "$LM_RC" 1 "nothing started"
ok '[ -z "$(sockets_left)" ]' "no socket created"

# --- start-fg -----------------------------------------------------------------
good_table
lm_bg "$T/fg.out" $LM start-fg
FG=$LM_BG_PID
MASTER_PID=$FG
LM_MASTERS="$LM_MASTERS $FG"
wait_for "daemon started on stderr" 5 grep -q "daemon started -- version 0.1.0" "$T/fg.out" &&
    pass "start-fg copies the log to stderr" ||
    fail "start-fg copies the log to stderr"
wait_log "^linkmaster/master\[$FG\]: daemon started" 5 &&
    pass "start-fg: the master is the foreground process ($FG)" ||
    fail "start-fg: the master is the foreground process ($FG)"
"$TCLIENT" -w 10 -n 2 "$PUB/echo" >"$T/c.out" 2>&1
is $? 0 "start-fg: echo works"
lm_stop
is "$LM_RC" 0 "stop the foreground master"
wait_for "start-fg to return" 10 dead "$FG"
wait "$FG"
is $? 0 "start-fg exits 0 after stop"

# --- how stop and abort end children ---------------------------------------
# Children that read their status channel leave on end-of-file: no signal
# is needed, stop is quick.
lm_table <<EOF2
# service	type	private	unpriv	chroot	wakeup	maxproc	command
echo		unix	n	n	n	-	2	echo
sfd		daemon	-	n	n	-	1	$SHOWFDS
EOF2
lm_start || bail_out "cannot start the master"
wait_for "sfd up" 5 svc_is sfd state up
"$TCLIENT" -w 10 -n 1 "$PUB/echo" >"$T/c.out" 2>&1
t0=$(lm_now_ms)
lm_stop
el=$(( $(lm_now_ms) - t0 ))
ok '[ "$LM_RC" = 0 ] && [ "$el" -lt 1000 ]' \
    "stop with protocol-speaking children only: quick (${el} ms)"

# A child that ignores SIGTERM: SIGKILL after stop_timeout (2 s).
lm_table <<EOF2
# service	type	private	unpriv	chroot	wakeup	maxproc	command
echo		unix	n	n	n	-	2	echo
stubborn	daemon	-	n	n	-	1	/bin/sh -c
	{ trap "" TERM; exec /bin/sleep 1000 }
EOF2
lm_start || bail_out "cannot start the master"
wait_for "stubborn up" 5 svc_is stubborn state up
S=$(lm_children 'sleep 1000')
t0=$(lm_now_ms)
lm_stop
el=$(( $(lm_now_ms) - t0 ))
ok '[ "$LM_RC" = 0 ] && [ "$el" -ge 1900 ] && [ "$el" -lt 6000 ]' \
    "stop with a child ignoring SIGTERM ends by SIGKILL after stop_timeout (${el} ms)"
ok '[ -n "$S" ] && all_dead $S' "the stubborn child ($S) is gone"

# abort SIGKILLs at once; waiting for SIGTERM would leave stubborn until
# stop_timeout: made long (30 s), so that is unmistakable without timing
# the machine.
sed -i 's/^stop_timeout = 2$/stop_timeout = 30/' "$CONF/linkmaster.conf"
lm_start || bail_out "cannot start the master"
wait_for "stubborn up" 5 svc_is stubborn state up
"$TCLIENT" -w 10 -n 1 "$PUB/echo" >"$T/c.out" 2>&1
KIDS=$(lm_children)
OLD=$MASTER_PID
t0=$(lm_now_ms)
lm abort
el=$(( $(lm_now_ms) - t0 ))
ok '[ "$LM_RC" = 0 ] && grep -qx aborted "$T/out"' "abort: exit 0, 'aborted'"
ok '[ "$el" -lt 15000 ]' \
    "abort does not wait for SIGTERM nor stop_timeout=30 ($el ms)"
wait_for "everything gone" 10 all_dead "$OLD" $KIDS &&
    pass "abort: master and children (even stubborn) gone" ||
    fail "abort: master and children (even stubborn) gone"
