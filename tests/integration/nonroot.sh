#!/bin/sh
# nonroot.sh: a master that is not root cannot honour unpriv and chroot; it
# says so once per service and runs the child as itself.  Run as root, the
# test starts the master as nobody (setpriv).
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null 2>&1 || skip_all "root without setpriv"
	RUID=$(id -u nobody 2>/dev/null) || skip_all "no user nobody"
	RGID=$(id -g nobody)
else
	RUID=$(id -u)
fi

plan 9
lm_setup nonroot
if [ "$(id -u)" = 0 ]; then
	chown -R "$RUID:$RGID" "$T/state" "$CONF"
	chown "$RUID:$RGID" "$T"
	LM="setpriv --reuid=$RUID --regid=$RGID --clear-groups $LINKMASTER -c $CONF"
fi

lm_conf
lm_table <<EOF
# service	type	private	unpriv	chroot	wakeup	maxproc	command
sfd		daemon	-	y	y	-	1	$SHOWFDS
echo		unix	n	-	n	-	1	echo
plain		daemon	-	n	n	-	1	/bin/sleep 1000
EOF

WT='not running as root: ignoring unpriv and chroot'
W="$WT\$"
lm_start && pass "start as uid $RUID" || bail_out "cannot start the master"

reports() {
	count_log '^linkmaster/sfd\[[0-9]+\]: done$'
}
wait_for "sfd's report" 5 eval '[ "$(reports)" -ge 1 ]' &&
    pass "sfd runs" || fail "sfd runs"
P=$(sed -n 's/^linkmaster\/sfd\[\([0-9]*\)\]: done$/\1/p' "$LOG" | head -n 1)
wait_log "^linkmaster/master\[$MASTER_PID\]: warning: service sfd: $W" 5 &&
    pass "'service sfd: $WT' logged" || fail "'service sfd: $WT' logged"
ok '[ "$(readlink /proc/"$P"/root)" = / ] && grep -Eq "^Uid:[[:space:]]+$RUID[[:space:]]" /proc/"$P"/status' \
    "sfd runs unchrooted as uid $RUID"

kill -9 "$P"
wait_for "a second sfd report" 5 eval '[ "$(reports)" -ge 2 ]' &&
    pass "sfd replaced" || fail "sfd replaced"
is "$(count_log "service sfd: $W")" 1 "the warning is given once per service"

"$TCLIENT" -w 10 -n 2 "$T/sock/public/echo" >"$T/c.out" 2>&1
is $? 0 "echo (unpriv by default) serves"
wait_log "^linkmaster/master\[$MASTER_PID\]: warning: service echo: $W" 5
is "$(count_log "service echo: $W")" 1 "warned once for echo"
is "$(count_log "service plain: $W")" 0 "no warning for an unpriv n service"
