#!/bin/sh
# logfile.sh: log_file instead of syslog -- the master, its protocol
# children (echo, directly or relayed when unprivileged) and a plain
# program's output all write there, one line per message, under their own
# ident; nothing goes to syslog; a reload reopens the file; /dev/stdout
# with start-fg.  And echo's "connect from" / "disconnect from ...
# requests=N" lines, through syslog first.
. "$(dirname "$0")/lib.sh"

need_cmd socat socat

plan 21
lm_setup logfile
PUB=$T/sock/public
LF=$T/lm.log

lm_table <<EOF
# service	type	private	unpriv	chroot	wakeup	maxproc	command
echo		unix	n	n	n	-	1	echo
uecho		unix	n	y	n	-	1	echo
d		daemon	-	n	n	-	1	/bin/sh -c
	{ echo hello-out; echo hello-err >&2; exec /bin/sleep 1000 }
EOF

# --- echo's client lines, through syslog ------------------------------------------
lm_conf
lm_start || bail_out "cannot start the master"
is "$(req "$PUB/echo" one two three | one_line)" "one|two|three" "echo answers"
E='^linkmaster/echo\[[0-9]+\]: '
wait_log "${E}connect from local \(pid [0-9]+, uid $(id -u)\)\$" &&
    pass "echo logs 'connect from local (pid N, uid U)'" ||
    fail "echo logs 'connect from'"
wait_log "${E}disconnect from local \(pid [0-9]+, uid $(id -u)\) requests=3\$" &&
    pass "echo logs 'disconnect from ... requests=3'" ||
    fail "echo logs 'disconnect from ... requests=3'"
OLD=$MASTER_PID
lm_stop || bail_out "cannot stop the master"
# Its last line may still be on its way to the log sink.
wait_log "^linkmaster/master\[$OLD\]: stopped\$" ||
    diag "the first master's 'stopped' never reached the log"

# --- log_file ---------------------------------------------------------------------------
lm_conf "log_file = \"$LF\""
: >"$LOG"
lm_start || bail_out "cannot start the master with log_file"
M="^[A-Z][a-z][a-z] [ 0-3][0-9] [0-9:]{8} linkmaster/master\[$MASTER_PID\]: "
wait_for "log_file: daemon started" 5 grep -Eq "${M}daemon started -- " "$LF" &&
    pass "the master writes to log_file" || fail "the master writes to log_file"
req "$PUB/echo" a b >/dev/null 2>&1
F='^[A-Z][a-z][a-z] [ 0-3][0-9] [0-9:]{8} linkmaster/echo\[[0-9]+\]: '
wait_for "echo's lines" 5 grep -Eq "${F}disconnect from local .* requests=2\$" "$LF" &&
    pass "echo writes its own lines there" || fail "echo's lines in log_file"
ok 'grep -Eq "${F}connect from local " "$LF"' "echo's connect line too"
wait_for "d's output" 5 grep -Eq 'linkmaster/d\[[0-9]+\]: warning: hello-err$' "$LF" &&
    pass "a plain program's stderr, as a warning under its ident" ||
    fail "d's stderr in log_file"
ok 'grep -Eq "linkmaster/d\[[0-9]+\]: hello-out\$" "$LF"' "and its stdout"
if [ "$(id -u)" = 0 ]; then
	# uecho runs as nobody: it cannot open the root-owned file and
	# relays its lines through the master.
	req "$PUB/uecho" x >/dev/null 2>&1
	U='^[A-Z][a-z][a-z] [ 0-3][0-9] [0-9:]{8} linkmaster/uecho\[[0-9]+\]: '
	wait_for "uecho's lines" 5 grep -Eq "${U}disconnect from local .* requests=1\$" "$LF" &&
	    pass "an unprivileged child's lines reach log_file (relayed)" ||
	    fail "uecho's lines in log_file"
else
	skip "unprivileged relay needs root"
fi
is "$(grep -vEc '^[A-Z][a-z][a-z] [ 0-3][0-9] [0-9:]{8} [a-z/]+\[[0-9]+\]: ' "$LF")" 0 \
    "every line of log_file is 'DATE IDENT[PID]: MESSAGE'"
ok '! grep -q "warning: warning:\|\]: [A-Z][a-z][a-z] [ 0-3][0-9] " "$LF"' \
    "no line is logged twice over"
is "$(wc -l <"$LOG" | tr -d ' ')" 0 "nothing goes to syslog"

# A reload reopens it (log rotation).
mv "$LF" "$LF.1"
lm reload
is "$LM_RC" 0 "reload: exit 0"
wait_for "new log_file" 5 grep -Eq "${M}reload: " "$LF" &&
    pass "reload reopens log_file (after a rotation)" ||
    fail "reload reopens log_file"
lm_stop
ok 'grep -Eq "${M}stopped\$" "$LF"' "'stopped' is the master's last line there"

# A log_file that cannot be opened: start fails and says why.
lm_conf "log_file = \"$T/nodir/lm.log\""
lm_start
is "$LM_RC" 1 "start with an unwritable log_file: exit 1"
ok 'grep -q "^linkmaster: log_file $T/nodir/lm.log: No such file or directory\$" "$T/err"' \
    "it says 'log_file PATH: No such file or directory'"
ok '[ ! -e "$T/master.pid" ]' "no pid file left"

# --- /dev/stdout with start-fg (a container) ------------------------------------------------
lm_conf 'log_file = "/dev/stdout"'
lm_bg "$T/fg.out" $LM start-fg
FG=$LM_BG_PID
LM_MASTERS="$LM_MASTERS $FG"
wait_for "start-fg's log on stdout" 5 grep -q 'linkmaster/master\[[0-9]*\]: daemon started' "$T/fg.out" &&
    pass "log_file /dev/stdout: the master's lines on its stdout" ||
    fail "log_file /dev/stdout"
req "$PUB/echo" z >/dev/null 2>&1
wait_for "echo via stdout" 5 grep -Eq 'linkmaster/echo\[[0-9]+\]: disconnect from .* requests=1$' "$T/fg.out" &&
    pass "and echo's, relayed through the master" || fail "echo's lines on stdout"
MASTER_PID=$FG
lm_stop
is "$(grep -c 'daemon started' "$T/fg.out")" 1 "each line once (no stderr copy of stdout)"
