#!/bin/sh
# inetd.sh: inetd mode (linkmaster.conf: service "NAME/TYPE" { accept =
# yes }) -- the master accepts each connection and runs the command with
# the connection on fds 0 and 1, stderr to the log (an inet service logs under its command's name), REMOTE_ADDR and
# REMOTE_PORT set, nothing else open; maxproc caps concurrent
# connections (the rest wait in the backlog); accept on a type that has
# no connections is a configuration error.
. "$(dirname "$0")/lib.sh"

plan 14
lm_setup inetd
need_cmd socat socat
free_port PORT
free_port PORT2
PUB=$T/sock/public

lm_conf "service \"127.0.0.1:$PORT/inet\" { accept = yes }" \
    'service "ucat/unix" { accept = yes }' \
    "service \"127.0.0.1:$PORT2/inet\" { accept = yes }"
lm_table <<EOF
# service	type	private	unpriv	chroot	wakeup	maxproc	command
127.0.0.1:$PORT	inet	n	n	n	-	2	/bin/cat
ucat		unix	n	n	n	-	-	/bin/cat
127.0.0.1:$PORT2	inet	n	n	n	-	-	/bin/sh -c
	{ echo "addr=\$REMOTE_ADDR port=\$REMOTE_PORT svc=\$MASTER_SERVICE status=\${MASTER_STATUS_FD:-none}"; ls /proc/self/fd | tr '\n' ' '; echo; echo to-stderr >&2 }
EOF
lm check
is "$LM_RC" 0 "check takes accept = yes on inet and unix services"
lm_start && pass "start" || bail_out "cannot start the master"
is "$(lm_nchildren)" 0 "no child before a connection"

"$TCLIENT" -w 20 -c 4 -n 10 -l 3 "127.0.0.1:$PORT" >"$T/tc.out" 2>&1
is $? 0 "40 connections x 3 lines through /bin/cat, a child each (maxproc 2)"
diag_file "$T/tc.out"
"$TCLIENT" -w 20 -c 2 -n 10 -l 3 "$PUB/ucat" >"$T/tcu.out" 2>&1
is $? 0 "20 connections over a unix socket"
wait_for "status USES 40" 5 svc_is "127.0.0.1:$PORT" uses 40 &&
    pass "status counts 40 uses" || { fail "status counts 40 uses"; diag_file "$T/status.out"; }

# maxproc 2: two held connections get children, the third waits.
hold_start hold -c 3 -w 20 "127.0.0.1:$PORT"
two_replies() { [ "$(hold_replies hold)" -ge 2 ]; }
wait_for "2 replies" 10 two_replies && pass "2 held connections served" ||
    fail "2 held connections served"
is "$(lm_nchildren /bin/cat)" 2 "2 children for maxproc 2"
is "$(hold_replies hold)" 2 "the third waits in the backlog"
hold_stop
is "$FIFO_RC" 0 "after release the third is served too"

out=$(printf '' | timeout 10 socat - TCP:127.0.0.1:$PORT2 2>&1)
ok 'printf "%s\n" "$out" | grep -Eq "^addr=127\.0\.0\.1 port=[0-9]+ svc=127\.0\.0\.1:$PORT2 status=none\$"' \
    "REMOTE_ADDR, REMOTE_PORT set; no status channel ($(printf '%s' "$out" | head -n 1))"
fds=$(printf '%s\n' "$out" | sed -n 2p)
is "$fds" "0 1 2 3 " "fds 0, 1, 2 only (3 is ls's own directory)"
wait_log "^linkmaster/sh\\[[0-9]+\\]: warning: to-stderr\$" &&
    pass "stderr goes to the log" || fail "stderr goes to the log"

lm_stop
lm_conf 'service "w/fifo" { accept = yes }'
lm_table <<EOF
w	fifo	n	n	n	-	1	/bin/cat
EOF
lm check
ok '[ "$LM_RC" != 0 ] && grep -q "service \"w/fifo\": accept is for inet and unix services only" "$T/err" "$T/out"' \
    "accept on a fifo: an error naming the section"
