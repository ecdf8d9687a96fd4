#!/bin/sh
# start.sh: "linkmaster start" checks the configuration first (a missing
# command, even of an on-demand service, refuses the start), then waits
# for every daemon's first children: those that fail are printed with
# their cause and start exits 1, while the master runs on.
. "$(dirname "$0")/lib.sh"

plan 13
lm_setup start
CF=$CONF/master.cf

lm_conf
# An on-demand service whose command does not exist: refused at start,
# not found out at its first client.
lm_table <<EOT
# service	type	private	unpriv	chroot	wakeup	maxproc	command
echo		unix	n	n	n	-	1	echo
nohelper	unix	n	n	n	-	1	nosuch-helper
EOT
lm_start
is "$LM_RC" 1 "start with a missing command: exit 1"
ok 'grep -q "^$CF:3: command \"$top_builddir/services/nosuch-helper\": No such file or directory\$" "$T/err"' \
    "start names the missing command with its line"
ok 'grep -qx "linkmaster: not started: the configuration has errors" "$T/err"' \
    "and says it did not start"
ok '[ ! -e "$T/master.pid" ] && [ ! -e "$T/sock/master.ctl" ]' "no master"

# A daemon whose command exists but cannot be executed (its interpreter
# does not), one that exits at once, and a good one.
mkdir -p "$T/bin"
printf '#!/nonexistent/interpreter\n' >"$T/bin/badinterp"
chmod 755 "$T/bin/badinterp"
lm_table <<EOT
# service	type	private	unpriv	chroot	wakeup	maxproc	command
echo		unix	n	n	n	-	1	echo
bad		daemon	-	n	n	-	1	$T/bin/badinterp
quits		daemon	-	n	n	-	1	/bin/sh -c { echo giving up >&2; exit 3 }
good		daemon	-	n	n	-	2	/bin/sleep 1000
EOT
t0=$(lm_now_ms)
lm_start
t1=$(lm_now_ms)
is "$LM_RC" 1 "start with daemons that fail: exit 1"
ok 'grep -Eq "^started \(pid [0-9]+\)\$" "$T/out" && alive "$MASTER_PID"' \
    "the master started and runs on"
ok 'grep -qx "linkmaster: service bad failed: bad command startup: exec $T/bin/badinterp: No such file or directory" "$T/err"' \
    "bad's failure and its cause (the exec error)"
ok 'grep -qx "linkmaster: service quits failed: bad command startup: giving up" "$T/err"' \
    "quits's failure and its cause (its last line on stderr)"
ok '! grep -q "good" "$T/err"' "good is not reported"
ok 'grep -qx "linkmaster: 2 services failed to start (the master runs on; see \"linkmaster status\")" "$T/err"' \
    "start sums up"
diag_file "$T/err"
# good's children count as started after startup_grace (1 s here).
ok '[ $((t1 - t0)) -ge 900 ]' "start waited for good's children to start ($((t1 - t0)) ms)"
is "$(svc_field good state)" up "good is up"
lm_stop
is "$LM_RC" 0 "stop"
