#!/bin/sh
# missing.sh: a command that does not exist (or cannot be executed) --
# "check" names it as FILE:LINE, "show" still works, and at run time the
# exec failure is logged under the child's ident and the service throttled
# while the others keep working.
. "$(dirname "$0")/lib.sh"

plan 18
lm_setup missing
CF=$CONF/master.cf

lm_conf
: >"$T/noexec"
chmod 644 "$T/noexec"
lm_table <<EOF
# service	type	private	unpriv	chroot	wakeup	maxproc	command
# (line 3 below)
miss		daemon	-	n	n	-	-	/nonexistent/prog
noexec		daemon	-	n	n	-	-	$T/noexec
nohelper	unix	n	n	n	-	-	nosuch-helper
echo		unix	n	n	n	-	-	echo
EOF

# --- check ------------------------------------------------------------------
lm check
is "$LM_RC" 1 "check: exit 1"
ok 'grep -qxF "$CF:3: command \"/nonexistent/prog\": No such file or directory" "$T/err"' \
    "check: '$CF:3: command \"/nonexistent/prog\": No such file or directory'"
ok 'grep -qF "$CF:4: command \"$T/noexec\": " "$T/err"' \
    "check: line 4 names the non-executable $T/noexec"
ok 'grep -q "^$CF:5: .*nosuch-helper" "$T/err"' \
    "check: line 5 names the missing nosuch-helper"
is "$(wc -l <"$T/err" | tr -d ' ')" 3 "check: one line per problem"
diag_file "$T/err"
is "$(wc -c <"$T/out" | tr -d ' ')" 0 "check: nothing on stdout"

# --- show works with missing commands --------------------------------------
# (private "-" is n for a daemon: linkmaster.cf(5))
lm show
is "$LM_RC" 0 "show: exit 0 although commands are missing"
row=$(awk '$1 == "miss"' "$T/out")
ok 'echo "$row" | awk "{ exit !(\$2 == \"daemon\" && \$3 == \"n\" && \$4 == \"n\" && \$5 == \"n\" && \$6 ~ /^[0-9]+[?]?\$/ && \$7 == \"1\" && \$8 == \"/nonexistent/prog\") }"' \
    "show: defaults filled in: '$row'"
ok '! grep -q "[[:space:]]-[[:space:]]" "$T/out"' "show: no '-' left"
diag_file "$T/out"
lm show miss
ok '[ "$LM_RC" = 0 ] && grep -q "^miss[[:space:]]" "$T/out" && ! grep -q "^echo[[:space:]]" "$T/out"' \
    "show miss: only that service"

# --- at run time -------------------------------------------------------------
lm_table <<EOF
# service	type	private	unpriv	chroot	wakeup	maxproc	command
miss		daemon	-	n	n	-	-	/nonexistent/prog
echo		unix	n	n	n	-	-	echo
EOF
lm check
is "$LM_RC" 1 "check still fails on the runtime table"
# start refuses what check finds; start-fg does not check: the master
# must cope with a command that vanished after a check.
lm_bg "$T/fg.out" $LM start-fg
MASTER_PID=$LM_BG_PID
LM_MASTERS="$LM_MASTERS $MASTER_PID"
wait_for "the master" 5 test -S "$T/sock/master.ctl" &&
    pass "start-fg runs although a command is missing" ||
    bail_out "no master"
M="^linkmaster/master\[$MASTER_PID\]: "
wait_log "^linkmaster/miss\[[0-9]+\]: error: exec /nonexistent/prog: No such file or directory\$" 5 &&
    pass "'exec /nonexistent/prog: No such file or directory' under linkmaster/miss[pid]" ||
    fail "'exec /nonexistent/prog: No such file or directory' under linkmaster/miss[pid]"
wait_log "${M}warning: process /nonexistent/prog pid [0-9]+ exit status 127: could not start: exec /nonexistent/prog: No such file or directory\$" 5 &&
    pass "the failed child's exit logged" || fail "the failed child's exit logged"
wait_log "${M}warning: service miss: bad command startup -- throttling for 1s\$" 5 &&
    pass "'bad command startup -- throttling for 1s' logged" ||
    fail "'bad command startup -- throttling for 1s' logged"
wait_for "miss STATE throttled" 3 svc_is miss state throttled &&
    pass "status: miss throttled" ||
    { fail "status: miss throttled"; diag_file "$T/status.out"; }
"$TCLIENT" -w 10 -c 2 -n 5 "$T/sock/public/echo" >"$T/c.out" 2>&1
is $? 0 "echo keeps working meanwhile"
wait_log "service miss: bad command startup -- throttling for 2s\$" 5 &&
    pass "miss retried after its throttle (2s next)" ||
    fail "miss retried after its throttle (2s next)"
