#!/bin/sh
# record.sh: without cgroups the master records its children in
# state_dir/children/log ("+PID START" when made, "-PID" when reaped),
# compacted to the live children once it grows (16 KiB): a thousand
# short inetd children later the log is small again and still names the
# long-lived child (one that ignores SIGTERM, so that it outlives the
# master), which the next start kills after a SIGKILLed master;
# a clean stop leaves no record.  A previous version's record (a file
# per pid) is still read.  A recorded pid that now runs with another
# start time is someone else's and is left alone.  The master is its
# children's subreaper: what they orphan (setsid() workers of a child
# killed at stop) is killed too.
. "$(dirname "$0")/lib.sh"

plan 13
lm_setup record
HOSTILE=$top_builddir/tests/helpers/hostile
PUB=$T/sock/public
REC=$T/state/children/log
lm_conf 'cgroups = no' 'service "t/unix" { accept = yes }'
lm_table <<EOF
keep	daemon	-	n	n	-	1	$HOSTILE -i
t	unix	n	n	n	-	-	/bin/true
EOF
# A previous version's record, a file per child: still read at start.
mkdir -p "$T/state/children"
lm_bg "$T/old.out" setsid sleep 1000
old=$LM_BG_PID
wait_for "the old child's own session" 5 eval \
    '[ "$(cut -d" " -f6 /proc/$old/stat 2>/dev/null)" = "$old" ]'
sed 's/.*) //' /proc/"$old"/stat | cut -d" " -f20 >"$T/state/children/$old"
# A record whose pid now belongs to another process (started after the
# recorded child, so its start time is later): not the master's to kill.
lm_bg "$T/reused.out" setsid sleep 1000
reused=$LM_BG_PID
wait_for "the other process's own session" 5 eval \
    '[ "$(cut -d" " -f6 /proc/$reused/stat 2>/dev/null)" = "$reused" ]'
echo "+$reused $(($(sed 's/.*) //' /proc/"$reused"/stat | cut -d" " -f20) - 1))" \
    >"$REC"
lm_start || bail_out "cannot start the master"
wait_log "warning: killing 1 processes left by a previous master" &&
    dead "$old" &&
    pass "start kills a child of an old-style record (a file per pid)" ||
    fail "start kills a child of an old-style record (a file per pid)"
ok 'alive "$reused"' \
    "... but not a process that has a recorded pid with another start time"
wait_for "the daemon's child" 5 test -n "$(lm_children hostile)" ||
    bail_out "keep did not start"
keep=$(lm_children hostile)

# rec_start PID: PID's start time in the record, empty when none.
rec_start() {
	awk -v p="$1" '$0 ~ "^[+]" p " " { s = $2 } $0 == "-" p { s = "" }
	    END { print s }' "$REC" 2>/dev/null
}
start=$(sed 's/.*) //' /proc/"$keep"/stat | cut -d" " -f20)
is "$(rec_start "$keep")" "$start" "the daemon's child is recorded with its start time"

# 1000 connections, a child each (/bin/true: the clients see errors).
"$TCLIENT" -w 60 -c 4 -n 250 -l 1 "$PUB/t" >"$T/tc.out" 2>&1
ok 'grep -q "conns=1000 " "$T/tc.out"' "1000 connections made"
diag_file "$T/tc.out"
nuses() { svc_field t uses; }
wait_for "1000 uses" 20 eval '[ "$(nuses)" = 1000 ]' || diag "uses: $(nuses)"
reaped() { [ "$(lm_nchildren /bin/true)" = 0 ]; }
wait_for "t's children reaped" 10 reaped
size=$(stat -c %s "$REC")
ok '[ "$size" -lt 16384 ]' "the log was compacted (now $size bytes after 2000 events)"
is "$(rec_start "$keep")" "$start" "after compacting, the long-lived child is still recorded"

kill -9 "$MASTER_PID"
wait_for "the master to die" 5 dead "$MASTER_PID"
ok 'alive "$keep"' "the daemon's child outlives the SIGKILLed master"
FROM=$(($(wc -l <"$LOG") + 1))
lm_start || bail_out "cannot start the master again"
ok 'dead "$keep"' "the next start killed the recorded child"
wait_log_from "$FROM" "warning: killing 1 processes left by a previous master" &&
    pass "start says what it killed" || fail "start says what it killed"
lm_stop
ok '[ ! -e "$REC" ] && [ -z "$(ls "$T/state/children")" ]' \
    "a clean stop leaves no record"

# Subreaper: workers that leave their process group (setsid) and ignore
# SIGTERM are orphaned when stop SIGKILLs their parent at stop_timeout;
# they come to the master, which kills them before it exits.
lm_conf 'cgroups = no'
lm_table <<EOF
orph	daemon	-	n	n	-	1	$HOSTILE -i -s -w 2
EOF
FROM=$(($(wc -l <"$LOG") + 1))
lm_start || bail_out "cannot start the master (orphans)"
ready3() {
	[ "$(tail -n +$FROM "$LOG" | grep -Ec '^linkmaster/orph\[[0-9]+\]: (warning: )?(main|worker) [0-9]+ ready$')" -ge 3 ]
}
wait_for "3 ready lines" 10 ready3 || bail_out "orph did not start"
HPIDS=$(tail -n +"$FROM" "$LOG" |
    sed -En 's/^linkmaster\/orph\[[0-9]+\]: (warning: )?(main|worker) ([0-9]+) ready$/\3/p' |
    tr '\n' ' ')
LM_BG="$LM_BG $HPIDS"
lm_stop
is "$LM_RC" 0 "stop with orphaning workers"
ok 'all_dead $HPIDS' "stop: the setsid() workers orphaned at stop are gone too ($HPIDS)"
wait_log "warning: killed 2 orphaned processes of children after stop" &&
    pass "stop says it killed the 2 orphans" ||
    fail "stop says it killed the 2 orphans"
