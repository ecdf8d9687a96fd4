#!/bin/sh
# noaccept.sh: a child that exits without accepting while a client waits,
# even with exit status 0 (/bin/cat as a unix service reads /dev/null and
# exits at once), is a bad startup and is throttled, instead of being
# respawned hundreds of times a second while the client hangs.  A child
# that serves its client and exits 0 is not, nor one that said TAKEN and
# exited at once: all it said counts, even what the master had not read
# yet when it reaped it.
. "$(dirname "$0")/lib.sh"

plan 10
lm_setup noaccept
lm_conf "max_use = 1"
lm_table <<EOF
cat	unix	n	n	n	-	1	/bin/sh -c { echo x >>$T/spawns; exec /bin/cat }
echo	unix	n	n	n	-	1	echo
EOF
lm_start || bail_out "cannot start the master"
: >"$T/spawns"

# A client waits on cat's socket for 3 s.
lm_bg "$T/client.out" "$TCLIENT" -w 3 -n 1 "$T/sock/public/cat"
CLIENT=$LM_BG_PID
wait_log '^linkmaster/master\[[0-9]+\]: warning: process /bin/sh pid [0-9]+ exit status 0 without accepting while a client waits$' 5 &&
    pass "exit 0 without accepting while a client waits is logged" ||
    fail "exit 0 without accepting while a client waits is logged"
wait_log '^linkmaster/master\[[0-9]+\]: warning: service cat: bad command startup -- throttling for 1s$' 5 &&
    pass "... and throttled as a bad startup" || fail "... and throttled as a bad startup"
wait_for "the client to give up" 10 dead "$CLIENT"
n=$(wc -l <"$T/spawns" | tr -d ' ')
# Throttled 1 s, 2 s, ...: about 3 in 3 s (without the throttle: hundreds).
ok '[ "$n" -le 5 ]' "cat spawned $n times in the client's 3 s (at most 5)"

# echo serves a client and exits (max_use = 1): no throttle, however often.
"$TCLIENT" -w 10 -n 5 "$T/sock/public/echo" >"$T/echo.out" 2>&1
is $? 0 "echo (max_use = 1) serves 5 clients one after the other"
is "$(count_log 'service echo: bad command startup')" 0 \
    "a child that served its client and exited 0 is not a bad startup"
lm_stop

# --- TAKEN, then exit at once: reaped before its status was read ----------------
# The child says TAKEN after 100 STATUS messages and exits while the
# master is stopped (SIGSTOP): when it runs again, the SIGCHLD and the
# status channel are both ready, and the master reads at most 32 messages
# a turn from a channel, so it reaps the child before it reads the TAKEN
# unless it drains the channel first.  The second child is echo, which
# serves the client.  startup_grace is long, so that only the TAKEN can
# make the first one started.
lm_conf 'startup_grace = 60'
mkfifo "$T/taken.go" || bail_out "mkfifo"
lm_table <<EOF
taken	unix	n	n	n	-	1	/bin/sh -c { [ -e $T/taken.pid ] && exec $ECHO_SVC; echo \$\$ >$T/taken.pid; read _ <$T/taken.go; i=0; while [ \$i -lt 100 ]; do i=\$((i + 1)); printf 'STATUS %d\n' \$i >&\$MASTER_STATUS_FD; done; printf 'TAKEN\n' >&\$MASTER_STATUS_FD }
EOF
MARK=$(log_mark)
lm_start || bail_out "cannot start the master (taken)"
lm_bg "$T/taken.out" "$TCLIENT" -w 10 -n 1 "$T/sock/public/taken"
CLIENT=$LM_BG_PID
wait_for "the first taken child" 5 test -s "$T/taken.pid" ||
    bail_out "the taken service did not spawn"
KID=$(cat "$T/taken.pid")
kill -STOP "$MASTER_PID"
echo go >"$T/taken.go"
wait_for "the taken child to exit" 5 dead "$KID"
kill -CONT "$MASTER_PID"
wait_for "the client to be served" 10 dead "$CLIENT"
wait "$CLIENT"
is $? 0 "the client is served by the next child"
is "$(svc_field taken restarts)" 0 \
    "a child that said TAKEN and exited at once is no bad startup (RESTARTS 0)"
is "$(svc_field taken status)" 100 "all it said was read (STATUS 100)"
lm_stop
wait_log_from "$((MARK + 1))" '^linkmaster/master\[[0-9]+\]: stopped$'
is "$(log_since "$MARK" | grep -Ec "pid $KID exit status 0 without accepting")" 0 \
    "no 'without accepting' for a child whose TAKEN was still unread"
is "$(log_since "$MARK" | grep -Ec 'service taken: .*throttling')" 0 \
    "no throttle logged"
