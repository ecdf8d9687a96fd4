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

# Orphans come and go; after 3 s of it no zombie may be left.
zombies() {
	_zn=0
	for _zp in $(lm_descendants "$MASTER_PID") $(pgrep -P "$MASTER_PID"); do
		{ read -r _zs </proc/"$_zp"/stat; } 2>/dev/null || continue
		_zs=${_zs##*) }
		[ "${_zs%% *}" = Z ] && _zn=$((_zn + 1))
	done
	echo "$_zn"
}
seen_orphans() {
	[ "$(count_log 'reaped unknown pid')" -ge 5 ] || [ -n "$(pgrep -P "$MASTER_PID" -x sleep)" ]
}
wait_for "orphans reparented to the master" 10 seen_orphans &&
    pass "orphans are reparented to the master" || fail "no orphan seen"
settled() { [ "$(zombies)" -eq 0 ]; }
# A zombie exists for an instant before the SIGCHLD event reaps it:
# wait (with a deadline) for a moment with none, repeatedly.
n=0
i=0
while [ $i -lt 10 ]; do
	wait_for "no zombies" 2 settled && n=$((n + 1))
	i=$((i + 1))
done
is "$n" 10 "no zombie lingers under the master (10 looks over ~2 s)"

kill -TERM "$MASTER_PID"
wait_log "terminating on signal 15" 5 && pass "SIGTERM to PID 1 stops it" ||
    fail "SIGTERM to PID 1"
wait_for "namespace gone" 10 dead "$UNSHARE" && pass "the namespace ends with it" ||
    fail "namespace ended"
