#!/bin/sh
# spawn_clone3.sh: in cgroup mode a child is created in its service's
# cgroup (clone3 with CLONE_INTO_CGROUP), and where clone3 is missing the
# master says so once and the child joins its group itself after fork:
# either way every child, the first and a restarted one, runs in its
# group.  The kernel without clone3 is played by tests/helpers/noclone3
# (a seccomp filter: clone3 fails with ENOSYS, as before Linux 5.3 and
# under older container runtimes).
. "$(dirname "$0")/lib.sh"

NOCLONE3=$top_builddir/tests/helpers/noclone3
need_root
need_built "$NOCLONE3"
grep -q ' - cgroup2 ' /proc/self/mountinfo || skip_all "needs cgroup2"

plan 12
lm_setup spawn_clone3
lm_table <<EOF
sl	daemon	-	n	n	-	1	/bin/sleep 1000
EOF
lm_conf

# in_group PID: PID runs in sl's cgroup.
in_group() {
	grep -q '^0::/linkmaster-[0-9a-f]*/sl\.daemon$' /proc/"$1"/cgroup
}

# one_child [OLD]: the pid of sl's child, once there is one (other than
# OLD).
one_child() {
	wait_for "sl's child" 5 sh -c \
	    "k=\$(pgrep -P $MASTER_PID -x sleep) && [ \"\$k\" != '${1:-}' ]" ||
	    return 1
	pgrep -P "$MASTER_PID" -x sleep
}

# nfds: how many descriptors the master holds.
nfds() {
	ls /proc/"$MASTER_PID"/fd | wc -l
}

# leaks WHAT: once a child has exec'd, the master holds its 3 channels
# (status socket, stdout and stderr pipes) and nothing more: its report
# pipe is closed.  Counted with sl stopped, then started again.
leaks() {
	lm stop sl
	wait_for "sl stopped" 5 sh -c "! pgrep -P $MASTER_PID -x sleep" ||
	    bail_out "sl did not stop"
	n0=$(nfds)
	lm start sl
	kid=$(one_child) || bail_out "sl did not start again"
	wait_for "the master's descriptors" 5 test "$(nfds)" -eq $((n0 + 3)) &&
	    pass "$1: 3 more descriptors for a child, no report pipe left" ||
	    fail "$1: 3 more descriptors for a child, no report pipe left ($n0, then $(nfds))"
}

FALLBACK='warning: service sl: clone3 into cgroup .*/sl\.daemon: Function not implemented: children join their cgroup after fork instead'

# --- clone3 -----------------------------------------------------------------------
lm_start || bail_out "cannot start the master"
kid=$(one_child) || bail_out "sl did not start"
ok 'in_group $kid' "clone3: the child runs in its service's cgroup"
kill -9 "$kid"
kid2=$(one_child "$kid") || bail_out "sl was not restarted"
ok 'in_group $kid2' "clone3: the restarted child runs in its service's cgroup"
leaks clone3
is "$(grep -Ec "$FALLBACK" "$LOG")" 0 "clone3: no fallback"
lm_stop
is "$LM_RC" 0 "stop"

# --- no clone3: the child joins its group itself ---------------------------------
LM="$NOCLONE3 $LM"
lm_start || bail_out "cannot start the master under noclone3"
kid=$(one_child) || bail_out "sl did not start under noclone3"
wait_log "^linkmaster/master\[$MASTER_PID\]: $FALLBACK" 5 &&
    pass "no clone3: the master says it falls back" ||
    fail "no clone3: the master says it falls back"
ok 'in_group $kid' "no clone3: the child runs in its service's cgroup"
kill -9 "$kid"
kid2=$(one_child "$kid") || bail_out "sl was not restarted under noclone3"
ok 'in_group $kid2' "no clone3: the restarted child runs in its service's cgroup"
leaks "no clone3"
is "$(grep -Ec "$FALLBACK" "$LOG")" 1 "no clone3: said once, not at every spawn"
ok '! grep -q "error:" "$LOG"' "no set-up error logged"
lm_stop
is "$LM_RC" 0 "stop"
