#!/bin/sh
# spawnfail.sh: a child that cannot set itself up says why, and the reason
# reaches the master whatever state the child's fds are in: logged as an
# error under the service's name, and in the master's line for the exit
# (not only "exit status 127").  Cases: fd exhaustion (the master's
# descriptor limit lowered under it, so that the child's dup fails before
# its stderr is the pipe), a failed exec (a script whose interpreter does
# not exist: "check" cannot see that).
. "$(dirname "$0")/lib.sh"

need_root
need_cmd prlimit "prlimit (util-linux)"

plan 6
lm_setup spawnfail
mkdir "$T/bin"
printf '#!/nonexistent/interpreter\n' >"$T/bin/badinterp"
chmod 755 "$T/bin/badinterp"
lm_conf
lm_table <<EOF
fdx	daemon	-	n	n	-	1	/bin/sleep 1000
bad	daemon	-	n	n	-	1	$T/bin/badinterp
EOF
lm_start
[ -n "$MASTER_PID" ] || bail_out "cannot start the master"
M="^linkmaster/master\[$MASTER_PID\]: "

# --- exec -----------------------------------------------------------------------
wait_log "^linkmaster/bad\[[0-9]+\]: error: exec $T/bin/badinterp: No such file or directory\$" 5 &&
    pass "exec: the reason under linkmaster/bad[pid], as an error" ||
    fail "exec: the reason under linkmaster/bad[pid], as an error"
wait_log "${M}warning: process $T/bin/badinterp pid [0-9]+ exit status 127: could not start: exec $T/bin/badinterp: No such file or directory\$" 5 &&
    pass "exec: the master's line names it" || fail "exec: the master's line names it"

# --- fd exhaustion -------------------------------------------------------------------
# bad's throttle releases respawn it with its pipes open in the master, so
# the master's descriptor count below would depend on when it is taken:
# stop bad first (it stays down), then the count is fdx's alone.
lm stop bad
[ "$LM_RC" -eq 0 ] || bail_out "stop bad failed: $(cat "$T/err" 2>/dev/null)"
wait_for "bad's child gone" 10 test -z "$(lm_children "$T/bin/badinterp")" ||
    bail_out "bad's child still there"
wait_for "fdx's child" 5 test -n "$(lm_children /bin/sleep)" ||
    bail_out "fdx did not start"
kid=$(lm_children /bin/sleep)
limits=$(prlimit --pid "$MASTER_PID" --nofile --noheadings --raw -o SOFT,HARD)
nfd=$(ls /proc/"$MASTER_PID"/fd | wc -l)
# Once fdx's child is reaped the master holds nfd - 3 descriptors and
# needs 6 for the next child's channels: room for those and one more, so
# that the child's own copies of its fds fail.
# (The soft limit only: raising a hard limit again may not be allowed.)
prlimit --pid "$MASTER_PID" --nofile=$((nfd + 4)):"${limits#* }" ||
    bail_out "prlimit failed"
kill -9 "$kid"
wait_log "^linkmaster/fdx\[[0-9]+\]: error: dup: Too many open files\$" 10 &&
    pass "fd exhaustion: 'dup: Too many open files' under linkmaster/fdx[pid]" ||
    fail "fd exhaustion: 'dup: Too many open files' under linkmaster/fdx[pid]"
prlimit --pid "$MASTER_PID" --nofile="${limits% *}:${limits#* }" ||
    diag "prlimit could not restore the master's limit"
wait_log "${M}warning: process /bin/sleep pid [0-9]+ exit status 127: could not start: dup: Too many open files\$" 5 &&
    pass "fd exhaustion: the master's line names it" ||
    fail "fd exhaustion: the master's line names it"
wait_log "${M}warning: service fdx: bad command startup -- throttling" 5 &&
    pass "fd exhaustion: a bad startup, throttled" ||
    fail "fd exhaustion: a bad startup, throttled"
lm_stop
is "$LM_RC" 0 "stop"
