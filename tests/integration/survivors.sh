#!/bin/sh
# survivors.sh: no survivors.  A child that drops privileges itself (which
# clears PR_SET_PDEATHSIG), ignores SIGTERM and has workers that leave its
# process group outlives a SIGKILLed master while holding its inet port;
# the next start kills all of it before it binds (cgroup v2 mode), and a
# stop leaves nothing; a test whose master is SIGKILLed removes its cgroup
# when it ends.  With "cgroups = no" the record in
# state_dir/children does the same for the child's process group.
. "$(dirname "$0")/lib.sh"

HOSTILE=$top_builddir/tests/helpers/hostile
need_root
need_built "$HOSTILE"
id nobody >/dev/null 2>&1 || skip_all "needs the user nobody"
grep -q ' - cgroup2 ' /proc/self/mountinfo || skip_all "needs cgroup2"

plan 19
lm_setup survivors
free_port PORT

# hostile_pids SVC N: wait for N "ready" lines (main and workers) of SVC
# since log line FROM; their pids in HPIDS (also remembered for cleanup).
hostile_pids() {
	wait_for "$2 ready lines of $1" 10 sh -c \
	    "[ \$(tail -n +$FROM '$LOG' | grep -Ec '^linkmaster/$1\[[0-9]+\]: (warning: )?(main|worker) [0-9]+ ready\$') -ge $2 ]" ||
	    return 1
	HPIDS=$(tail -n +"$FROM" "$LOG" |
	    sed -n "s/^linkmaster\/$1\[[0-9]*\]: \(main\|worker\) \([0-9]*\) ready\$/\2/p" |
	    tr '\n' ' ')
	LM_BG="$LM_BG $HPIDS"
}

# grandchildren: the hostile program as an inet service that never
# accepts; a client's connection makes the master spawn it.
lm_table <<EOF
127.0.0.1:$PORT	inet	n	n	n	-	1	$HOSTILE -u nobody -i -s -w 2
EOF
lm_conf
lm_start || bail_out "cannot start the master"
FROM=1
lm_bg "$T/client1.out" "$TCLIENT" -w 2 -n 1 "127.0.0.1:$PORT"
hostile_pids hostile 3 || bail_out "the hostile service did not start"
main=${HPIDS%% *}
ok 'grep -q "^0::/linkmaster-[0-9a-f]*/127.0.0.1:$PORT.inet\$" /proc/$main/cgroup' \
    "the child runs in its service's cgroup"
diag "$(cat /proc/$main/cgroup 2>/dev/null | grep '^0::')"

# --- the master dies by SIGKILL ------------------------------------------------
kill -9 "$MASTER_PID"
wait_for "the master to die" 5 dead "$MASTER_PID"
ok '! all_dead $HPIDS' \
    "the hostile processes outlive the SIGKILLed master (else this proves nothing)"
FROM=$(($(wc -l <"$LOG") + 1))
lm_start
is "$LM_RC" 0 "start after a SIGKILLed master binds the port again"
ok 'all_dead $HPIDS' "every process the old master's child left is gone when start returns"
wait_log_from "$FROM" "^linkmaster/master\[[0-9]+\]: warning: service 127.0.0.1:$PORT.inet: killed 3 processes left by a previous master$" &&
    pass "start says what it killed" || fail "start says what it killed"

# --- stop leaves nothing ----------------------------------------------------------
FROM=$(($(wc -l <"$LOG") + 1))
lm_bg "$T/client2.out" "$TCLIENT" -w 2 -n 1 "127.0.0.1:$PORT"
hostile_pids hostile 3 || bail_out "the hostile service did not start again"
group=$(grep '^0::' /proc/${HPIDS%% *}/cgroup | cut -d: -f3)
lm_stop
is "$LM_RC" 0 "stop"
ok 'all_dead $HPIDS' "stop: the child that ignores SIGTERM and its setsid() workers are gone"
ok '[ -n "$group" ] && [ ! -d "$(grep " - cgroup2 " /proc/self/mountinfo | cut -d" " -f5)${group%/*}" ]' \
    "stop: the master's cgroups are removed"

# --- a test that SIGKILLs its master leaves no cgroup ----------------------------
# The master logs where its children run (the name is a hash of pid_file).
# A test whose master dies by SIGKILL removes that group when it ends
# (lib.sh): its pid_file is never used again, so no later start would.
wait_log '^linkmaster/master\[[0-9]+\]: children run in cgroup /.*/linkmaster-[0-9a-f]{16}$' &&
    pass "the master logs the cgroup its children run in" ||
    fail "the master logs the cgroup its children run in"
cat >"$T/inner.sh" <<'EOF'
. "$top_srcdir/tests/integration/lib.sh"
plan 1
lm_setup inner
lm_conf
lm_table <<EOT
sleeper	daemon	-	n	n	-	1	/bin/sleep 1000
EOT
lm_start || bail_out "cannot start the master"
sleeper() { KID=$(lm_children 'sleep 1000'); [ -n "$KID" ]; }
wait_for "the sleeper" 5 sleeper || bail_out "no sleeper"
grep '^0::' "/proc/$KID/cgroup" | cut -d: -f3 >"$INNER_GROUP"
kill -9 "$MASTER_PID"
wait_for "the master and its child to die" 5 all_dead "$MASTER_PID" "$KID" &&
    pass "the master is SIGKILLed" || fail "the master is SIGKILLed"
EOF
INNER_GROUP=$T/inner.group sh "$T/inner.sh" >"$T/inner.out" 2>&1
is $? 0 "a test that SIGKILLs its master passes (nothing left behind)" ||
    diag_file "$T/inner.out"
ig=$(cat "$T/inner.group" 2>/dev/null)
mnt=$(grep " - cgroup2 " /proc/self/mountinfo | cut -d" " -f5)
ok '[ -n "$ig" ] && [ ! -d "$mnt${ig%/*}" ]' \
    "... and its master's cgroup is gone when it ends ($ig)"
# Without that, remove it here: this test leaves nothing either.
[ -n "$ig" ] && rmdir "$mnt$ig" "$mnt${ig%/*}" 2>/dev/null

# --- without cgroups: the record in state_dir ------------------------------------
lm_table <<EOF
127.0.0.1:$PORT	inet	n	n	n	-	1	$HOSTILE -u nobody -i -w 2
EOF
lm_conf 'cgroups = no'
lm_start || bail_out "cannot start the master (cgroups = no)"
FROM=$(($(wc -l <"$LOG") + 1))
lm_bg "$T/client3.out" "$TCLIENT" -w 2 -n 1 "127.0.0.1:$PORT"
hostile_pids hostile 3 || bail_out "the hostile service did not start (cgroups = no)"
main=${HPIDS%% *}
ok 'grep -q "^0::/\$" /proc/$main/cgroup' "cgroups = no: the child stays in the master's cgroup"
# rec_start PID: PID's start time in the record (state_dir/children/log:
# "+PID START" when made, "-PID" when reaped), empty when none.
rec_start() {
	awk -v p="$1" '$0 ~ "^[+]" p " " { s = $2 } $0 == "-" p { s = "" }
	    END { print s }' "$T/state/children/log" 2>/dev/null
}
# Records of children still there, old-style files (one per pid) included.
rec_live() {
	awk '/^[+]/ { l[substr($1, 2)] = 1 } /^-/ { delete l[substr($1, 2)] }
	    END { for (p in l) print p }' "$T/state/children/log" 2>/dev/null
	ls "$T/state/children" | grep -v '^log'
}
ok '[ -n "$(rec_start "$main")" ]' "the child is recorded in state_dir/children/log"
start=$(sed 's/.*) //' /proc/"$main"/stat | cut -d" " -f20)
is "$(rec_start "$main")" "$start" "the record holds its start time"
kill -9 "$MASTER_PID"
wait_for "the master to die" 5 dead "$MASTER_PID"
ok '! all_dead $HPIDS' "the hostile processes outlive the SIGKILLed master"
FROM=$(($(wc -l <"$LOG") + 1))
lm_start
is "$LM_RC" 0 "start after a SIGKILLed master binds the port again (record)"
ok 'all_dead $HPIDS' "every recorded process and its group is gone when start returns"
wait_log_from "$FROM" "^linkmaster/master\[[0-9]+\]: warning: killing 3 processes left by a previous master" &&
    pass "start says what it killed (record)" ||
    fail "start says what it killed (record)"
lm_stop
ok '[ -z "$(rec_live)" ]' "stop: the record is empty"
