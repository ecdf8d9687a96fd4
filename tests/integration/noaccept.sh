#!/bin/sh
# noaccept.sh: a child that exits without accepting while a client waits,
# even with exit status 0 (/bin/cat as a unix service reads /dev/null and
# exits at once), is a bad startup and is throttled, instead of being
# respawned hundreds of times a second while the client hangs.  A child
# that serves its client and exits 0 is not.
. "$(dirname "$0")/lib.sh"

plan 5
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
