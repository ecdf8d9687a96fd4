#!/bin/sh
# root.sh: what only root can check -- unpriv y runs a child as nobody
# (supplementary groups dropped), chroot y runs it inside chroot_dir, and
# the control socket is 0600 and refuses other users even when its mode
# would let them in.
. "$(dirname "$0")/lib.sh"

need_root
command -v setpriv >/dev/null 2>&1 || skip_all "setpriv is not installed"
NUID=$(id -u nobody 2>/dev/null) || skip_all "no user nobody"
NGID=$(id -g nobody)

plan 18
lm_setup root
ROOT=$T/root

# The chroot holds showfds and the libraries it needs, at the same paths.
mkdir -p "$ROOT$(dirname "$SHOWFDS")" && cp "$SHOWFDS" "$ROOT$SHOWFDS" ||
    bail_out "cannot copy showfds into $ROOT"
for lib in $(ldd "$SHOWFDS" | grep -o '/[^ ]*'); do
	mkdir -p "$ROOT$(dirname "$lib")" && cp -L "$lib" "$ROOT$lib" ||
	    bail_out "cannot copy $lib into $ROOT"
done
REALROOT=$(cd "$ROOT" && pwd -P)

lm_conf "chroot_dir = \"$ROOT\""
lm_table <<EOF
# service	type	private	unpriv	chroot	wakeup	maxproc	command
upriv		daemon	-	y	n	-	1	$SHOWFDS
jail		daemon	-	n	y	-	1	$SHOWFDS
both		daemon	-	y	y	-	1	$SHOWFDS
echo		unix	n	y	n	-	1	echo
EOF

# child_report NAME: wait for NAME's showfds "done"; pid in P.
child_report() {
	wait_log "^linkmaster/$1\[[0-9]+\]: done\$" 5 || return 1
	P=$(sed -n "s/^linkmaster\/$1\[\([0-9]*\)\]: done\$/\1/p" "$LOG" |
	    head -n 1)
}
# ids PID Uid|Gid|Groups: that line of /proc/PID/status, blanks squeezed.
ids() {
	sed -n "s/^$2:[[:space:]]*//p" /proc/"$1"/status 2>/dev/null |
	    tr -s ' \t' '  ' | sed 's/ $//'
}

lm_start && pass "start" || bail_out "cannot start the master"

child_report upriv && pass "upriv: showfds ran ($P)" || fail "upriv: showfds ran"
is "$(ids "$P" Uid)" "$NUID $NUID $NUID $NUID" "upriv: every uid is nobody's"
is "$(ids "$P" Gid)" "$NGID $NGID $NGID $NGID" "upriv: every gid is nobody's"
ok '[ -z "$(ids "$P" Groups)" ] || [ "$(ids "$P" Groups)" = "$NGID" ]' \
    "upriv: root's supplementary groups dropped ('$(ids "$P" Groups)')"

child_report jail && pass "jail: showfds ran in the chroot ($P)" ||
    fail "jail: showfds ran in the chroot"
is "$(readlink /proc/"$P"/root)" "$REALROOT" "jail: its root is chroot_dir"
ok 'grep -q "^linkmaster/jail\[$P\]: fd 0: chr /dev/null$" "$LOG"' \
    "jail: stdin is /dev/null although the chroot has no /dev"

child_report both && pass "both: showfds ran ($P)" || fail "both: showfds ran"
ok '[ "$(readlink /proc/"$P"/root)" = "$REALROOT" ] && [ "$(ids "$P" Uid)" = "$NUID $NUID $NUID $NUID" ]' \
    "both: chrooted and nobody"

"$TCLIENT" -w 10 -n 3 "$T/sock/public/echo" >"$T/c.out" 2>&1
is $? 0 "an unpriv echo child serves clients"
E=$(lm_children services/echo)
is "$(ids "$E" Uid)" "$NUID $NUID $NUID $NUID" "the echo child runs as nobody"
is "$(count_log 'not running as root')" 0 "no 'not running as root' warning"

# --- the control socket -----------------------------------------------------------
CTL=$T/sock/master.ctl
is "$(stat -c '%a %u' "$CTL")" "600 0" "control socket: mode 0600, owned by root"
setpriv --reuid="$NUID" --regid="$NGID" --clear-groups $LM status \
    >"$T/nobody.out" 2>&1
rc=$?
ok '[ $rc -ne 0 ]' "nobody cannot use the control socket"
diag_file "$T/nobody.out"
# Open the socket to everyone: the master's own uid check must refuse.
chmod 666 "$CTL"
chmod o+rx "$T/sock"
setpriv --reuid="$NUID" --regid="$NGID" --clear-groups $LM status \
    >"$T/nobody.out" 2>&1
rc=$?
ok '[ $rc -ne 0 ]' "nobody is refused even through a 0666 socket"
diag_file "$T/nobody.out"
wait_log "^linkmaster/master\[$MASTER_PID\]: warning: control: refusing uid $NUID\$" 3 &&
    pass "'control: refusing uid $NUID' logged" ||
    fail "'control: refusing uid $NUID' logged"
lm status
is "$LM_RC" 0 "root still gets the status"
