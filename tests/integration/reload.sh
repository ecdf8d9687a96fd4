#!/bin/sh
# reload.sh: "linkmaster reload" applies table edits without a blink.
# Unchanged services keep their children, changed ones drain and restart on
# the same sockets, added/removed/renamed services come and go, an inet
# port moves, maxproc drops below the busy count, and every kind of bad
# configuration is rejected with nothing changed.  SIGHUP is the same.
. "$(dirname "$0")/lib.sh"

plan 55
lm_setup reload
free_port P1
free_port P2
PUB=$T/sock/public

# table VARIANT: a and b differ only in chg's arguments (a restart).
table() {
	lm_table <<EOF
keep	unix	n	n	n	-	4	echo
chg	unix	n	n	n	-	4	echo -o timeout=${1}
lim	unix	n	n	n	-	4	echo
gone	unix	n	n	n	-	2	echo
127.0.0.1:$P1	inet	n	n	n	-	4	echo
EOF
}

lm_conf
table 60
lm_start || bail_out "cannot start the master"
"$TCLIENT" -w 10 -c 2 -n 2 "$PUB/keep" >/dev/null 2>&1 &&
"$TCLIENT" -w 10 -c 2 -n 2 "$PUB/chg" >/dev/null 2>&1 ||
    bail_out "echo does not answer"
# keep's own children: two clients may be served by one child back to
# back, so there may be one or two of them.
KEEP_PIDS=$(unit_pids keep)

# --- 1. a client in the middle of a session keeps it across a restart ----
fifo_start sess socat - "UNIX-CONNECT:$PUB/chg"
echo one >&7
wait_for "first reply" 5 grep -qx one "$T/sess.out" &&
    pass "session on chg: first line echoed" || fail "session: first line"
table 61
lm reload
is "$LM_RC" 0 "reload with chg's arguments changed: exit 0"
is "$(head -n 1 "$T/out")" "reload: 0 added, 1 changed, 0 removed, 4 unchanged" \
    "reload prints the summary"
wait_log "reload: 0 added, 1 changed, 0 removed, 4 unchanged -- restarted: chg" &&
    pass "reload summary logged with names" || fail "summary logged"
ok 'svc_is chg state draining' "status: chg is draining while its client lasts"
echo two >&7
wait_for "second reply" 5 grep -qx two "$T/sess.out" &&
    pass "the session goes on after the reload" || fail "session after reload"
# A second reload while the first generation still drains.
table 60
lm reload
is "$(head -n 1 "$T/out")" "reload: 0 added, 1 changed, 0 removed, 4 unchanged" \
    "a second reload while chg's old child drains"
echo three >&7
wait_for "third reply" 5 grep -qx three "$T/sess.out" &&
    pass "the session survives the second reload too" ||
    fail "session after the second reload"
ok 'svc_field chg procs | grep -q "+1\$"' \
    "status counts the draining child ($(svc_field chg procs))"
table 61
lm reload
"$TCLIENT" -w 10 -c 2 -n 4 "$PUB/chg" >"$T/chg.out" 2>&1
is $? 0 "new clients of chg are served by the new generation meanwhile"
fifo_stop
wait_for "chg drained" 5 svc_is chg state up &&
    pass "chg is up again once the old child finished" || fail "chg drained"
# 4 clients before, 8 during, and the session: a retired child's last
# clients count too.
wait_for "status chg USES 13" 5 svc_is chg uses 13 &&
    pass "status: chg USES 13, the drained child's session counted" ||
    { fail "status: chg USES 13"; diag_file "$T/status.out"; }

# --- 2. unchanged services keep their children ------------------------------
STILL=0
for p in $KEEP_PIDS; do
	pgrep -P "$MASTER_PID" -f echo | grep -qx "$p" || continue
	STILL=$((STILL + 1))
done
ok '[ "$STILL" -ge 1 ] && [ "$STILL" = "$(echo $KEEP_PIDS | wc -w)" ]' \
    "keep's children survived the reload ($STILL of them)"

# --- 3. 50 reloads under load lose nothing ------------------------------------
# Each load client runs short tclient rounds until the stop file appears,
# which is only after the last reload: the load spans every reload,
# however fast or slow the machine.  Every round must be clean.
cat >"$T/load.sh" <<'EOF'
#!/bin/sh
# load.sh TCLIENT CLIENTS ADDR STOPFILE
while [ ! -e "$4" ]; do
	"$1" -w 30 -c "$2" -n 100 -l 1 "$3"
done
EOF
lm_bg "$T/load_keep.out" sh "$T/load.sh" "$TCLIENT" 2 "$PUB/keep" "$T/load.stop"
LK=$LM_BG_PID
lm_bg "$T/load_chg.out" sh "$T/load.sh" "$TCLIENT" 2 "$PUB/chg" "$T/load.stop"
LC=$LM_BG_PID
lm_bg "$T/load_inet.out" sh "$T/load.sh" "$TCLIENT" 1 "127.0.0.1:$P1" "$T/load.stop"
LI=$LM_BG_PID
wait_for "the load to run" 10 sh -c "[ -s '$T/load_chg.out' ]"
BAD=0
i=0
while [ $i -lt 50 ]; do
	table $((62 + i % 2))
	lm reload || BAD=$((BAD + 1))
	i=$((i + 1))
done
is "$BAD" 0 "50 reloads alternating two tables all succeed"
ok 'alive $LK && alive $LC && alive $LI' "the load ran through all 50 reloads"
touch "$T/load.stop"
wait_for "load clients to finish" 60 all_dead $LK $LC $LI
CLEAN='^conns=([0-9]+) ok=\1 refused=0 errors=0'
for f in keep chg inet; do
	rounds=$(grep -c '^conns=' "$T/load_$f.out")
	clean=$(grep -Ec "$CLEAN" "$T/load_$f.out")
	conns=$(awk -F'[= ]' '/^conns=/ { n += $2 } END { print n + 0 }' \
	    "$T/load_$f.out")
	ok '[ "$rounds" -gt 0 ] && [ "$clean" -eq "$rounds" ]' \
	    "no refused connection, no missing reply on $f ($conns connections in $rounds rounds)"
	grep -Ev "$CLEAN" "$T/load_$f.out" | head -n 3 | sed 's/^/# /'
done

# --- 4. rejected reloads change nothing -----------------------------------------
NOW=$(lm_children | sort | tr '\n' ' ')
cp "$CONF/master.cf" "$T/good.cf"
printf 'keep unix n n n x 4 echo\nfoo tcp - - - - - echo\nbar unix - - - - 1x echo\n' \
    >"$CONF/master.cf"
lm reload
is "$LM_RC" 1 "bad table: exit 1"
ok 'grep -q "master.cf:1: field \"wakeup\": bad value: \"x\"" "$T/err" &&
    grep -q "master.cf:2: bad transport type: \"tcp\"" "$T/err" &&
    grep -q "master.cf:3: field \"maxproc\": bad value: \"1x\"" "$T/err"' \
    "bad table: every error printed as FILE:LINE"
wait_log "warning: reload rejected: 3 errors -- nothing changed" &&
    pass "rejection logged" || fail "rejection logged"

cp "$T/good.cf" "$CONF/master.cf"
echo "no_such_option = 1" >>"$CONF/linkmaster.conf"
lm reload
is "$LM_RC" 1 "unknown main-config option: exit 1"
ok 'grep -q "linkmaster.conf:[0-9]*: no such option \"no_such_option\"" "$T/err"' \
    "unknown option named with file and line"
lm_conf

echo "new unix n n n - 2 /nonexistent/prog" >>"$CONF/master.cf"
lm reload
is "$LM_RC" 1 "missing command: exit 1"
ok 'grep -q "master.cf:6: command \"/nonexistent/prog\": No such file or directory" "$T/err"' \
    "missing command named with file and line"

cp "$T/good.cf" "$CONF/master.cf"
lm_bg "$T/squat.out" socat -u "TCP-LISTEN:$P2,bind=127.0.0.1,reuseaddr" STDOUT
SQUAT=$LM_BG_PID
wait_for "squatter on $P2" 5 sh -c "ss -ltn | grep -q '127.0.0.1:$P2 '"
echo "127.0.0.1:$P2 inet n n n - 2 echo" >>"$CONF/master.cf"
lm reload
is "$LM_RC" 1 "port taken by another process: exit 1"
ok 'grep -q "service 127.0.0.1:$P2: bind 127.0.0.1:$P2: Address already in use" "$T/err"' \
    "taken port named with service and address"
kill "$SQUAT"
wait_for "squatter gone" 5 dead "$SQUAT"

cp "$T/good.cf" "$CONF/master.cf"
# The command itself would look for the master in the new socket_dir, so
# this one goes through SIGHUP; the refusal is in the log.
lm_conf "socket_dir = \"$T/elsewhere\""
kill -HUP "$MASTER_PID"
wait_log "warning: reload: $CONF/linkmaster.conf: option \"socket_dir\" cannot change on reload" &&
    pass "socket_dir change refused, naming the option" ||
    fail "socket_dir change refused"
ok '[ ! -e "$T/elsewhere" ]' "nothing was created in the new socket_dir"
lm_conf
is "$(lm_children | sort | tr '\n' ' ')" "$NOW" "after 5 rejected reloads the children are the same"
"$TCLIENT" -w 10 -c 2 -n 4 "$PUB/keep" >/dev/null 2>&1 &&
"$TCLIENT" -w 10 -c 2 -n 4 "127.0.0.1:$P1" >/dev/null 2>&1
is $? 0 "the old services still answer"

# --- 5. added, removed, renamed; inet port change --------------------------
# (the last of the 50 reloads left chg with timeout=63)
lm_table <<EOF
keep	unix	n	n	n	-	4	echo
chg	unix	n	n	n	-	4	echo -o timeout=63
lim	unix	n	n	n	-	4	echo
added	unix	n	n	n	-	2	echo
127.0.0.1:$P2	inet	n	n	n	-	4	echo
EOF
"$TCLIENT" -w 10 -c 1 -n 1 "$PUB/gone" >/dev/null 2>&1
lm reload
is "$LM_RC" 0 "add + remove + port change: exit 0"
is "$(head -n 1 "$T/out")" "reload: 2 added, 0 changed, 2 removed, 3 unchanged" \
    "summary counts the rename as one added and one removed"
ok '[ ! -e "$PUB/gone" ] && [ -S "$PUB/added" ]' \
    "the removed socket file is gone, the added one exists"
"$TCLIENT" -w 10 -c 1 -n 2 "$PUB/added" >/dev/null 2>&1
is $? 0 "the added service answers"
"$TCLIENT" -w 10 -c 1 -n 2 "127.0.0.1:$P2" >/dev/null 2>&1
is $? 0 "the inet service answers on its new port"
"$TCLIENT" -w 3 -c 1 -n 1 "127.0.0.1:$P1" >"$T/old.out" 2>&1
ok 'grep -q "refused=1" "$T/old.out"' "the old port is closed"
wait_for "gone's child gone" 5 sh -c "! pgrep -P $MASTER_PID -f . >/dev/null || ! $LM status | grep -q '^gone '" &&
    pass "the removed service's child exited and its row went" ||
    fail "removed service cleaned up"

# --- 6. maxproc lowered below the busy children -----------------------------
hold_start lim -c 3 -w 30 "$PUB/lim"
three() { [ "$(hold_replies lim)" -ge 3 ]; }
wait_for "3 busy lim children" 10 three && pass "3 clients hold 3 lim children" ||
    fail "3 lim children"
sed -i 's/^lim\(.*\)4\(\techo\)$/lim\1 1\2/' "$CONF/master.cf"
lm reload
is "$LM_RC" 0 "maxproc 4 -> 1 with 3 busy: exit 0"
is "$(head -n 1 "$T/out")" "reload: 0 added, 1 changed, 0 removed, 4 unchanged" \
    "a limit change counts as changed"
is "$(lm_nchildren)" "$(lm_nchildren)" "no child was killed by the limit change"
ok 'svc_field lim procs | grep -q "^3/0/1"' "status: lim PROCS 3/0/1 ($(svc_field lim procs))"
hold_stop
wait_for "lim back to its limit" 10 sh -c "$LM status | grep -Eq '^lim +unix +up +0/1/1 '" &&
    pass "surplus children stopped as they became idle: lim 0/1/1" ||
    { fail "lim back to 0/1/1"; diag_file "$T/status.out"; }

# --- 7. SIGHUP does the same; throttle kept for an unchanged service -------
echo "bad daemon - n n - 1 /bin/false" >>"$CONF/master.cf"
kill -HUP "$MASTER_PID"
wait_log "reload: 1 added, 0 changed, 0 removed, 5 unchanged -- added: bad" &&
    pass "SIGHUP reloads; the result is logged" || fail "SIGHUP reload"
wait_for "bad throttled" 5 svc_is bad state throttled &&
    pass "the added broken daemon is throttled" || fail "bad throttled"
N=$(count_log "service bad: bad command startup")
lm reload
wait_for "bad still throttled" 5 svc_is bad state throttled &&
    pass "an unchanged throttled service stays throttled across a reload" ||
    fail "throttle kept"
ok '[ "$(count_log "service bad: bad command startup")" -eq "$N" ] ||
    [ "$(count_log "throttling for [2-9]s")" -ge 1 ]' \
    "its back-off went on (no reset to a fresh start)"
sed -i 's|^bad daemon - n n - 1 /bin/false$|bad daemon - n n - 1 /bin/sleep 1000|' "$CONF/master.cf"
lm reload
is "$(head -n 1 "$T/out")" "reload: 0 added, 1 changed, 0 removed, 5 unchanged" \
    "fixing the broken command is a change"
wait_for "bad up" 5 svc_is bad state up &&
    pass "the fixed service starts at once (throttle reset)" || fail "bad up"
# --- 8. an environment change (syslog_name) restarts every service ------------
"$TCLIENT" -w 10 -c 1 -n 1 "$PUB/keep" >/dev/null 2>&1
OLDKEEP=$(lm_children | sort | tr '\n' ' ')
lm_conf 'syslog_name = "lmtest"'
lm reload
is "$(head -n 1 "$T/out")" "reload: 0 added, 6 changed, 0 removed, 0 unchanged" \
    "syslog_name changed: every service restarts (its children's environment)"
wait_log '^lmtest/master\[[0-9]+\]: ' 5 &&
    pass "the master logs under the new syslog_name" || fail "master ident"
echo "no-newline" | socat - "UNIX-CONNECT:$PUB/keep" >/dev/null 2>&1
wait_for "bad restarted under the new name" 10 svc_is bad state up &&
    pass "the restarted daemon runs" || fail "bad after syslog_name change"
ok '! lm_children | grep -qx "$(echo $OLDKEEP | cut -d" " -f1)" ||
    [ -z "$OLDKEEP" ]' "old children were replaced"
lm_stop
is "$LM_RC" 0 "stop"
