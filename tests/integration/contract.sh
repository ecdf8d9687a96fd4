#!/bin/sh
# contract.sh: what a child gets from the master (linkmaster-contract(7)):
# exactly stdin /dev/null, stdout/stderr pipes to the log, the status
# channel, and for a socket service its listen socket at fd 3 with
# LISTEN_FDS/LISTEN_PID; an environment reduced to import_environment plus
# MASTER_* and LISTEN_*; the table's arguments with { } grouping; stdout
# lines logged as info, stderr lines as warnings, under the child's ident.
. "$(dirname "$0")/lib.sh"

plan 26
lm_setup contract

lm_conf 'import_environment = {"TZ", "PATH", "LANG"}'
lm_table <<EOF
# service	type	private	unpriv	chroot	wakeup	maxproc	command
sfd		daemon	-	n	n	-	1	$SHOWFDS a {b c}
usfd		unix	n	n	n	-	1	$SHOWFDS x
say		daemon	-	n	n	-	1	/bin/sh -c
	{ echo to-stdout; echo to-stderr >&2; exec /bin/sleep 1000 }
EOF

# child_report NAME: wait for the "done" of NAME's showfds; its pid in P,
# its lines (without the ident) in $T/NAME.lines.
child_report() {
	wait_log "^linkmaster/$1\[[0-9]+\]: done\$" 5 || return 1
	P=$(sed -n "s/^linkmaster\/$1\[\([0-9]*\)\]: done\$/\1/p" "$LOG" |
	    head -n 1)
	sed -n "s/^linkmaster\/$1\[$P\]: //p" "$LOG" >"$T/$1.lines"
}
# fd_kind FILE N, env_val FILE NAME, fd_list FILE
fd_kind() {
	sed -n "s/^fd $2: //p" "$1"
}
env_val() {
	sed -n "s/^env $2=//p" "$1"
}
env_has() {
	grep -q "^env $2=" "$1"
}
fd_list() {
	sed -n 's/^fd \([0-9]*\):.*/\1/p' "$1" | sort -n | tr '\n' ' ' |
	    sed 's/ $//'
}

export FOO=bar TZ=UTC LANG=C
lm_start && pass "start" || bail_out "cannot start the master"

# --- a daemon ------------------------------------------------------------------
child_report sfd && pass "sfd's report logged under linkmaster/sfd[$P]" ||
    bail_out "no report from showfds"
F=$T/sfd.lines
is "$(fd_kind "$F" 0)" "chr /dev/null" "daemon: fd 0 is /dev/null"
is "$(fd_kind "$F" 1)" "pipe" "daemon: fd 1 is a pipe"
is "$(fd_kind "$F" 2)" "pipe" "daemon: fd 2 is a pipe"
S=$(env_val "$F" MASTER_STATUS_FD)
is "$(fd_kind "$F" "${S:-none}")" "socket seqpacket" \
    "daemon: MASTER_STATUS_FD=$S is a seqpacket socket"
is "$(fd_list "$F")" "0 1 2 $S" "daemon: no other fd"
ok '! env_has "$F" LISTEN_FDS || [ "$(env_val "$F" LISTEN_FDS)" = 0 ]' \
    "daemon: no listen fds announced"
ok '! env_has "$F" FOO' "FOO (not imported) is absent"
is "$(env_val "$F" TZ)" UTC "TZ imported"
is "$(env_val "$F" PATH)" "$PATH" "PATH imported"
is "$(env_val "$F" LANG)" C "LANG imported"
extra=$(sed -n 's/^env \([^=]*\)=.*/\1/p' "$F" |
    grep -Ev '^(TZ|PATH|LANG|MASTER_.*|LISTEN_.*)$' | tr '\n' ' ')
is "$extra" "" "no other environment variable"
is "$(sed -n 's/^argv 1: //p' "$F")" a "argv 1: a"
is "$(sed -n 's/^argv 2: //p' "$F")" "b c" "argv 2: 'b c' ({ } groups one argument)"
ok '! grep -q "^argv 3:" "$F"' "no argv 3"
ok '! grep -q "^warning:" "$F"' "stdout lines are logged as info"
diag_file "$F"

# --- a unix service, spawned by a client --------------------------------------
"$TCLIENT" -w 5 -n 1 -l 0 "$T/sock/public/usfd" >"$T/c.out" 2>&1
is $? 0 "connect to usfd"
child_report usfd && pass "usfd spawned by the connection, report logged" ||
    bail_out "no report from the unix showfds"
F=$T/usfd.lines
is "$(fd_kind "$F" 3)" "socket stream listening" "unix: fd 3 is the listening socket"
is "$(env_val "$F" LISTEN_FDS)" 1 "unix: LISTEN_FDS=1"
is "$(env_val "$F" LISTEN_PID)" "$P" "unix: LISTEN_PID is the child's pid"
S=$(env_val "$F" MASTER_STATUS_FD)
ok '[ "$(fd_kind "$F" "${S:-none}")" = "socket seqpacket" ] && [ "$(fd_list "$F")" = "0 1 2 3 $S" ]' \
    "unix: fds 0 1 2 3 and the status channel $S, nothing else ($(fd_list "$F"))"
ok '[ "$(sed -n "s/^argv 1: //p" "$F")" = x ] && ! grep -q "^argv 2:" "$F"' \
    "unix: argv 1: x and nothing more"
diag_file "$F"

# --- stdout and stderr of a child -------------------------------------------
wait_log '^linkmaster/say\[[0-9]+\]: to-stdout$' 5 &&
    pass "a stdout line is logged as 'linkmaster/say[pid]: to-stdout'" ||
    fail "a stdout line is logged as 'linkmaster/say[pid]: to-stdout'"
wait_log '^linkmaster/say\[[0-9]+\]: warning: to-stderr$' 5 &&
    pass "a stderr line is logged as 'linkmaster/say[pid]: warning: to-stderr'" ||
    fail "a stderr line is logged as 'linkmaster/say[pid]: warning: to-stderr'"
