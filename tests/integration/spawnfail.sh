#!/bin/sh
# spawnfail.sh: a child that cannot set itself up says why, and the reason
# reaches the master over its close-on-exec report pipe whatever state the
# child's fds are in: logged as an error under the service's name, and in
# the master's line for the exit (not only "exit status 127").  Cases: fd
# exhaustion (the master's descriptor limit lowered under it, so that the
# child's dup fails before its stderr is the pipe), a failed exec (a
# script whose interpreter does not exist, and one whose interpreter is
# not executable: "check" cannot see either), a chroot_dir gone after
# start.  (dup2 cannot be made to fail from outside: its targets are below
# the copies just made above them.)
. "$(dirname "$0")/lib.sh"

need_root
need_cmd prlimit "prlimit (util-linux)"

plan 12
lm_setup spawnfail
mkdir "$T/bin"
printf '#!/nonexistent/interpreter\n' >"$T/bin/badinterp"
chmod 755 "$T/bin/badinterp"
printf '#!/bin/sh\nexit 0\n' >"$T/bin/notx"
chmod 644 "$T/bin/notx"
printf '#!%s\n' "$T/bin/notx" >"$T/bin/noexec"
chmod 755 "$T/bin/noexec"
lm_conf
lm_table <<EOF
fdx	daemon	-	n	n	-	1	/bin/sleep 1000
bad	daemon	-	n	n	-	1	$T/bin/badinterp
noexec	daemon	-	n	n	-	1	$T/bin/noexec
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
wait_log "^linkmaster/noexec\[[0-9]+\]: error: exec $T/bin/noexec: Permission denied\$" 5 &&
    pass "exec of a non-executable interpreter: the reason under linkmaster/noexec[pid]" ||
    fail "exec of a non-executable interpreter: the reason under linkmaster/noexec[pid]"
wait_log "${M}warning: process $T/bin/noexec pid [0-9]+ exit status 127: could not start: exec $T/bin/noexec: Permission denied\$" 5 &&
    pass "exec of a non-executable interpreter: the master's line names it" ||
    fail "exec of a non-executable interpreter: the master's line names it"

# --- fd exhaustion -------------------------------------------------------------------
# bad's and noexec's throttle releases respawn them with their pipes open
# in the master, so the master's descriptors below would depend on when
# they are looked at: stop both first (they stay down), then they are
# fdx's alone.
lm stop bad
[ "$LM_RC" -eq 0 ] || bail_out "stop bad failed: $(cat "$T/err" 2>/dev/null)"
lm stop noexec
[ "$LM_RC" -eq 0 ] || bail_out "stop noexec failed: $(cat "$T/err" 2>/dev/null)"
wait_for "bad's child gone" 10 test -z "$(lm_children "$T/bin/badinterp")" ||
    bail_out "bad's child still there"
wait_for "noexec's child gone" 10 test -z "$(lm_children "$T/bin/noexec")" ||
    bail_out "noexec's child still there"
wait_for "fdx's child" 5 test -n "$(lm_children /bin/sleep)" ||
    bail_out "fdx did not start"
kid=$(lm_children /bin/sleep)
limits=$(prlimit --pid "$MASTER_PID" --nofile --noheadings --raw -o SOFT,HARD)
# New descriptors take the lowest free numbers, below the limit.  Once
# fdx's child is reaped, 3 of the master's (its channels) are free again,
# and the next child needs 8 (its channels and its report pipe): the
# lowest limit that leaves free numbers for those and one more, so that
# the master can spawn it and the child's own copies of its fds fail.
# (The soft limit only: raising a hard limit again may not be allowed.)
lim=$(ls /proc/"$MASTER_PID"/fd | sort -n | awk '
	{ open[$1] = 1 }
	END { n = 0; for (l = 0; l < 100000; l++) { if (l - n + 3 >= 9) break;
	    if (l in open) n++ } print l }')
prlimit --pid "$MASTER_PID" --nofile="$lim":"${limits#* }" ||
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

# --- chroot -----------------------------------------------------------------------
# A script in chroot_dir: check finds it there; it cannot run (no /bin/sh
# in the chroot), which shows that the child got into the chroot.  Then
# chroot_dir goes away, and the next child cannot get in.
mkdir -p "$T/jail/bin"
printf '#!/bin/sh\n' >"$T/jail/bin/j"
chmod 755 "$T/jail/bin/j"
lm_conf "chroot_dir = \"$T/jail\""
lm_table <<EOF
jail	daemon	-	n	y	-	1	/bin/j
EOF
lm_start
[ -n "$MASTER_PID" ] || bail_out "cannot start the master (chroot)"
M="^linkmaster/master\[$MASTER_PID\]: "
wait_log "^linkmaster/jail\[[0-9]+\]: error: exec /bin/j: No such file or directory\$" 5 &&
    pass "chroot: exec inside chroot_dir, the reason under linkmaster/jail[pid]" ||
    fail "chroot: exec inside chroot_dir, the reason under linkmaster/jail[pid]"
mv "$T/jail" "$T/jail.gone" || bail_out "cannot move $T/jail"
lm retry jail
wait_log "^linkmaster/jail\[[0-9]+\]: error: chroot $T/jail: No such file or directory\$" 10 &&
    pass "chroot: chroot_dir gone, the reason under linkmaster/jail[pid]" ||
    fail "chroot: chroot_dir gone, the reason under linkmaster/jail[pid]"
wait_log "${M}warning: process /bin/j pid [0-9]+ exit status 127: could not start: chroot $T/jail: No such file or directory\$" 5 &&
    pass "chroot: the master's line names it" ||
    fail "chroot: the master's line names it"
lm_stop
is "$LM_RC" 0 "stop (chroot)"
