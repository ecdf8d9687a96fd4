#!/bin/sh
# pid1.sh: as PID 1 of a PID namespace (a container), the master reaps
# every zombie, also orphans that were never its children, and stops
# cleanly on SIGTERM.  Needs root (unshare).
. "$(dirname "$0")/lib.sh"

need_root
command -v unshare >/dev/null 2>&1 || skip_all "no unshare"
unshare --pid --fork true 2>/dev/null || skip_all "cannot create a PID namespace here"

plan 6
lm_setup pid1
lm_conf
# "orphans" leaves an orphan behind every 0.2 s: the subshell exits at
# once, so each sleep is reparented to PID 1 -- the master -- and dies
# 1 s later.  Unreaped, they would pile up as zombies.  (Each lives 1 s,
# so that some are always there to be seen: one that lived 0.1 s could
# die before a loaded machine let its subshell exit and reparent it.)
lm_table <<'EOF'
orphans	daemon	-	n	n	-	1	/bin/sh -c
    { while :; do (sleep 1 &); sleep 0.2; done }
EOF
lm_bg "$T/fg.out" unshare --pid --fork "$LINKMASTER" -c "$CONF" start-fg
UNSHARE=$LM_BG_PID
wait_log "daemon started" 10 && pass "the master runs as PID 1 of a new PID namespace" ||
    fail "master started in a PID namespace"
MASTER_PID=$(pgrep -P "$UNSHARE" | head -n 1)
LM_MASTERS="$LM_MASTERS $MASTER_PID"
ok 'grep -q "^NSpid:.*[[:space:]]1$" /proc/$MASTER_PID/status' \
    "inside its namespace the master is pid 1"

# Orphans come and go; none may stay a zombie.
# zombies: the pids of the master's descendants that are zombies now.
zombies() {
	for _zp in $(lm_descendants "$MASTER_PID") $(pgrep -P "$MASTER_PID"); do
		{ read -r _zs </proc/"$_zp"/stat; } 2>/dev/null || continue
		_zs=${_zs##*) }
		[ "${_zs%% *}" = Z ] && echo "$_zp"
	done
}
seen_orphans() {
	[ "$(count_log 'reaped unknown pid')" -ge 5 ] || [ -n "$(pgrep -P "$MASTER_PID" -x sleep)" ]
}
wait_for "orphans reparented to the master" 10 seen_orphans &&
    pass "orphans are reparented to the master" || fail "no orphan seen"
# reaped PID...: none of them is still a zombie (gone, or a new process
# under a reused pid, which a zombie of ours cannot be any more).
reaped() {
	for _rp in "$@"; do
		{ read -r _rs </proc/"$_rp"/stat; } 2>/dev/null || continue
		_rs=${_rs##*) }
		[ "${_rs%% *}" = Z ] && return 1
	done
	return 0
}
# A zombie exists for an instant before the SIGCHLD event reaps it, and
# a loaded machine may never show a moment with none while orphans keep
# dying: so follow the zombies seen in each look until they are reaped
# (with a deadline far above a reaping's latency; an unreaped orphan
# stays a zombie for ever).
more_reaped() { [ "$(count_log 'reaped unknown pid')" -gt "$1" ]; }
n=0
i=0
while [ $i -lt 10 ]; do
	# shellcheck disable=SC2046
	wait_for "the zombies seen to be reaped" 10 reaped $(zombies) &&
	    n=$((n + 1))
	# The next look after the next orphan has come and gone.
	wait_for "another orphan reaped" 10 more_reaped \
	    "$(count_log 'reaped unknown pid')"
	i=$((i + 1))
done
is "$n" 10 "every zombie seen under the master is reaped (10 looks)"

kill -TERM "$MASTER_PID"
wait_log "terminating on signal 15" 5 && pass "SIGTERM to PID 1 stops it" ||
    fail "SIGTERM to PID 1"
wait_for "namespace gone" 10 dead "$UNSHARE" && pass "the namespace ends with it" ||
    fail "namespace ended"
