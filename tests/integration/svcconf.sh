#!/bin/sh
# svcconf.sh: "service NAME/TYPE" sections of linkmaster.conf: a section
# naming no master.cf entry is an error with file and line (check, start);
# show prints every service's settings; stop_signal and kill_mode decide
# who gets which signal at stop; stdout_level and stderr_level set the
# level of the children's output lines.
. "$(dirname "$0")/lib.sh"

HOSTILE=$top_builddir/tests/helpers/hostile
need_built "$HOSTILE"

plan 14
lm_setup svcconf

lm_table <<EOF
mixed	daemon	-	n	n	-	1	$HOSTILE -w 1
group	daemon	-	n	n	-	1	$HOSTILE -w 1
EOF

# --- a section for an entry that does not exist ------------------------------
lm_conf 'service "mixed/daemon" { kill_mode = mixed }' \
    'service "nosuch/unix" { stop_signal = INT }'
lm check
ok '[ "$LM_RC" = 1 ] && grep -q "^$CONF/linkmaster.conf:[0-9]*: service \"nosuch/unix\": no such entry in $CONF/master.cf\$" "$T/err"' \
    "check: a section without an entry is an error naming file and line"
lm start
ok '[ "$LM_RC" != 0 ] && grep -q "service \"nosuch/unix\": no such entry" "$T/err"' \
    "start: refused with the same error"
lm_conf 'service "group/inet" { stop_signal = INT }'
lm check
ok '[ "$LM_RC" = 1 ] && grep -q "service \"group/inet\": no such entry" "$T/err"' \
    "check: the type is part of the identity"

# --- show --------------------------------------------------------------------
lm_conf 'service "mixed/daemon" {' \
    '  stop_signal = QUIT' \
    '  kill_mode = mixed' \
    '  stdout_level = notice' \
    '  stderr_level = err' \
    '}' \
    'service "group/daemon" { stop_signal = SIGUSR1 stdout_level = warning }'
lm check
is "$LM_RC" 0 "check: sections naming entries pass"
diag_file "$T/err"
lm show
ok 'grep -qx "#	service \"mixed/daemon\" { stop_signal = QUIT kill_mode = mixed stdout_level = notice stderr_level = err }" "$T/out"' \
    "show: the settings of mixed/daemon"
ok 'grep -qx "#	service \"group/daemon\" { stop_signal = USR1 kill_mode = control-group stdout_level = warning stderr_level = warning }" "$T/out"' \
    "show: group/daemon with the defaults filled in"
diag_file "$T/out"

# --- at run time ---------------------------------------------------------------
lm_start || bail_out "cannot start the master"
wait_log '^linkmaster/mixed\[[0-9]+\]: worker [0-9]+ ready$' 10 &&
wait_log '^linkmaster/group\[[0-9]+\]: warning: worker [0-9]+ ready$' 10 ||
    bail_out "the hostile services did not start"
ok 'grep -Eq "^linkmaster/mixed\[[0-9]+\]: main [0-9]+ ready$" "$LOG"' \
    "stdout_level notice: no prefix"
ok 'grep -Eq "^linkmaster/group\[[0-9]+\]: warning: main [0-9]+ ready$" "$LOG"' \
    "stdout_level warning: logged as a warning"
lm_stop
is "$LM_RC" 0 "stop"
# mixed: QUIT to the main process only; its worker hears of it from main.
wait_pass "mixed: the main process got the stop signal (QUIT)" 5 \
    grep -Eq '^linkmaster/mixed\[[0-9]+\]: main [0-9]+ got SIGQUIT$' "$LOG"
wait_pass "mixed: the worker got SIGTERM from its main process, not QUIT" 5 \
    grep -Eq '^linkmaster/mixed\[[0-9]+\]: worker [0-9]+ got SIGTERM$' "$LOG"
# control-group: USR1 to every process of the group at once.
wait_pass "control-group: the main process got USR1" 5 \
    grep -Eq '^linkmaster/group\[[0-9]+\]: warning: main [0-9]+ got SIGUSR1$' "$LOG"
wait_pass "control-group: the worker got USR1 too" 5 \
    grep -Eq '^linkmaster/group\[[0-9]+\]: warning: worker [0-9]+ got SIGUSR1$' "$LOG"

# --- stderr_level: a child's error output ---------------------------------------
lm_table <<EOF
say	daemon	-	n	n	-	1	/bin/sh -c { echo to-stderr >&2; exec sleep 1000 }
EOF
lm_conf 'service "say/daemon" { stderr_level = info }'
lm_start || bail_out "cannot start the master"
wait_log '^linkmaster/say\[[0-9]+\]: to-stderr$' 10 &&
    pass "stderr_level info: stderr logged without warning:" ||
    fail "stderr_level info: stderr logged without warning:"
lm_stop
