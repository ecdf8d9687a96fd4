#!/bin/sh
# spawn_steps.sh: the set-up steps of a spawn child that spawnfail.sh
# cannot make fail from outside -- chdir (after chroot), setgroups,
# setgid, setuid, fcntl (making its stdout block again), and joining its
# cgroup after fork when clone3 cannot start it there -- each fails in a
# real child, and its reason reaches the log: as an error under the
# service's name, and in the master's line for the exit 127.
# tests/helpers/failsys makes one step fail in the master's spawn child
# and nowhere else (a seccomp filter; chdir only in a chrooted process);
# the cgroup join fails for real: the service's group is removed while
# it is stopped, and the master (under tests/helpers/noclone3, so that
# its children join their group themselves) writes the next child's pid
# into the removed group's cgroup.procs.
. "$(dirname "$0")/lib.sh"

FAILSYS=$top_builddir/tests/helpers/failsys
NOCLONE3=$top_builddir/tests/helpers/noclone3
need_root
need_built "$FAILSYS"
need_built "$NOCLONE3"

plan 19
lm_setup spawn_steps
mkdir -p "$T/jail/bin"
printf '#!/bin/sh\n' >"$T/jail/bin/j"
chmod 755 "$T/jail/bin/j"
lm_conf "chroot_dir = \"$T/jail\""
LM0=$LM

# step STEP SERVICE COMMAND REASON: a master under failsys STEP, whose
# service SERVICE (its table line set by the caller) cannot start COMMAND
# for REASON.
step() {
	LM="$FAILSYS $1 $LM0"
	# start says that the service failed (exit 1): what is tested below.
	lm_start
	[ -n "$MASTER_PID" ] ||
	    bail_out "cannot start the master under failsys $1"
	M="^linkmaster/master\[$MASTER_PID\]: "
	wait_log "^linkmaster/$2\[[0-9]+\]: error: $4\$" 5 &&
	    pass "$1: '$4' under linkmaster/$2[pid], as an error" ||
	    fail "$1: '$4' under linkmaster/$2[pid], as an error"
	wait_log "${M}warning: process $3 pid [0-9]+ exit status 127: could not start: $4\$" 5 &&
	    pass "$1: the master's line names it" ||
	    fail "$1: the master's line names it"
	lm_stop
	is "$LM_RC" 0 "$1: stop"
	LM=$LM0
	: >"$LOG"
}

# --- chdir, setgroups, setgid, setuid, fcntl ------------------------------------
lm_table <<EOF
jail	daemon	-	n	y	-	1	/bin/j
EOF
step chdir jail /bin/j "chdir /: Permission denied"
lm_table <<EOF
u	daemon	-	y	n	-	1	/bin/sleep 1000
EOF
step setgroups u /bin/sleep "setgroups nobody: Operation not permitted"
step setgid u /bin/sleep "setgid nobody: Operation not permitted"
step setuid u /bin/sleep "setuid nobody: Operation not permitted"
lm_table <<EOF
f	daemon	-	n	n	-	1	/bin/sleep 1000
EOF
step fcntl f /bin/sleep "fcntl: Operation not permitted"

# --- joining the cgroup after fork ----------------------------------------------
if ! grep -q ' - cgroup2 ' /proc/self/mountinfo; then
	for _i in 1 2 3 4; do
		skip "needs cgroup2"
	done
	exit 0
fi
lm_table <<EOF
cg	daemon	-	n	n	-	1	/bin/sleep 1000
EOF
LM="$NOCLONE3 $LM0"
lm_start || bail_out "cannot start the master under noclone3"
M="^linkmaster/master\[$MASTER_PID\]: "
wait_for "cg's child" 5 test -n "$(lm_children /bin/sleep)" ||
    bail_out "cg did not start"
kid=$(lm_children /bin/sleep)
mnt=$(awk '/ - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
grp=$mnt$(sed -n 's/^0:://p' /proc/"$kid"/cgroup)
case $grp in
*/linkmaster-*/cg.daemon) ;;
*) bail_out "cg's child is not in its group: $grp" ;;
esac
ok 'wait_log "${M}warning: service cg: clone3 into cgroup .*: children join their cgroup after fork instead" 5' \
    "cgroup: the master falls back to joining after fork"
lm stop cg
[ "$LM_RC" -eq 0 ] || bail_out "stop cg failed: $(cat "$T/err" 2>/dev/null)"
wait_for "cg's group empty" 10 grep -q '^populated 0' "$grp/cgroup.events" ||
    bail_out "cg's group is still populated"
rmdir "$grp" || bail_out "cannot remove $grp"
lm start cg
wait_log "^linkmaster/cg\[[0-9]+\]: error: joining the cgroup of service cg: No such device\$" 5 &&
    pass "cgroup: 'joining the cgroup of service cg: No such device' under linkmaster/cg[pid]" ||
    fail "cgroup: 'joining the cgroup of service cg: No such device' under linkmaster/cg[pid]"
wait_log "${M}warning: process /bin/sleep pid [0-9]+ exit status 127: could not start: joining the cgroup of service cg: No such device\$" 5 &&
    pass "cgroup: the master's line names it" ||
    fail "cgroup: the master's line names it"
lm_stop
is "$LM_RC" 0 "cgroup: stop"
