#!/bin/sh
# cli.sh: the linkmaster command itself -- mistakes on its command line
# are errors (exit 2, one "linkmaster: " line, then the usage), --help and
# --version; start, stop and restart of single services and link units of
# a running master (a stopped one stays down, across a reload too); status
# with its master line, its exit codes (0 up, 3 something down or
# throttled, 1 no master, 4 no such service), the long form for named
# units with the cause of a throttle, and --json; what "stop" says while it
# waits.
. "$(dirname "$0")/lib.sh"

need_built "$top_builddir/services/link"
need_cmd socat socat
need_cmd jq jq

plan 84
lm_setup cli
free_port PB
PUB=$T/sock/public

# usage_err DESC ARGS...: exit 2, first line "linkmaster: ...", then usage.
usage_err() {
	_ud=$1
	shift
	lm "$@"
	if [ "$LM_RC" = 2 ] && head -n 1 "$T/err" | grep -q '^linkmaster: ' &&
	    sed -n 2p "$T/err" | grep -q '^usage: linkmaster ' &&
	    [ ! -s "$T/out" ]; then
		pass "$_ud: exit 2, one line and the usage"
	else
		fail "$_ud: exit 2, one line and the usage (exit $LM_RC)"
		diag_file "$T/out" "$T/err"
	fi
}

# has_pids UNIT...: each has a child.
has_pids() {
	for _hu in "$@"; do
		[ -n "$(unit_pids "$_hu")" ] || return 1
	done
}

lm_conf "$(peer beta 127.0.0.1 "$PB")" "$(peer gamma 127.0.0.1 "$PB")"
lm_table <<EOF
# service	type	private	unpriv	chroot	wakeup	maxproc	command
echo		unix	n	n	n	-	2	echo
d		daemon	-	n	n	-	2	/bin/sleep 1000
link		link	n	n	n	-	-	link -o retry_min=100ms -o retry_max=1s
EOF

# --- the command line, no master needed -------------------------------------
usage_err "no command"
usage_err "unknown option -x" -x status
usage_err "unknown long option --frobnicate" --frobnicate status
usage_err "unknown command" frobnicate
usage_err "reload with an extra argument" reload now
usage_err "check with an extra argument" check now
usage_err "abort with an extra argument" abort now
usage_err "start-fg with an extra argument" start-fg now
usage_err "show with two services" show echo d
usage_err "restart without a service" restart
usage_err "status with an unknown option" status --xml
ok 'head -n 1 "$T/err" | grep -qx "linkmaster: status: unknown option: --xml"' \
    "the line names the command and the option"
usage_err "-c without its directory" -c

"$LINKMASTER" --help >"$T/out" 2>"$T/err"
is "$?" 0 "--help: exit 0"
ok 'head -n 1 "$T/out" | grep -q "^usage: linkmaster " && [ ! -s "$T/err" ]' \
    "--help prints the usage on stdout"
n=0
for c in start start-fg stop restart abort status check show retry reload; do
	grep -Eq "^  $c( |\$)" "$T/out" && n=$((n + 1))
done
is "$n" 10 "--help: one line per command"
"$LINKMASTER" -h >"$T/out2" 2>&1
ok 'cmp -s "$T/out" "$T/out2"' "-h is --help"
"$LINKMASTER" --version >"$T/out" 2>&1
is "$?:$(cat "$T/out")" "0:linkmaster 0.1.0" "--version"
"$LINKMASTER" -V >"$T/out" 2>&1
is "$?:$(cat "$T/out")" "0:linkmaster 0.1.0" "-V"

lm status
is "$LM_RC" 1 "status without a master: exit 1"
ok 'grep -qx "linkmaster: not running" "$T/err"' "status says 'not running'"
lm stop echo
is "$LM_RC" 1 "stop SERVICE without a master: exit 1"

# --- start, status --------------------------------------------------------------
lm_start && pass "start" || bail_out "cannot start the master"
wait_for "two d children" 5 svc_is d procs 0/2/2 ||
    diag "d did not come up"
wait_for "link units up" 5 has_pids link/beta ||
    diag "link/beta did not come up"

lm status
is "$LM_RC" 0 "status, all up: exit 0"
ok 'head -n 1 "$T/out" | grep -Eq "^master: pid $MASTER_PID, version 0\.1\.0, up [0-9]+s, configuration $CONF\$"' \
    "status: first line is the master (pid, version, uptime, configuration)"
ok 'sed -n 2p "$T/out" | grep -Eq "^NAME +TYPE +STATE +BUSY/IDLE/MAX +USES +RESTARTS +LAST-EXIT +THROTTLE +UP +STATUS\$"' \
    "status: the table's header labels the counts"
ok 'grep -Eq "^link/beta +link +" "$T/out" && grep -Eq "^link/gamma +link +" "$T/out"' \
    "status: a row per link unit"

lm status nosuch
is "$LM_RC" 4 "status nosuch: exit 4"
ok 'grep -qx "linkmaster: no such service: nosuch" "$T/err"' \
    "status nosuch: 'linkmaster: no such service: nosuch'"

lm status d
is "$LM_RC" 0 "status d: exit 0"
D_PIDS=$(unit_pids d)
ok 'grep -Eqx "d \(daemon\): (up|starting)" "$T/out"' "status d: 'd (daemon): up'"
ok 'grep -qx "  processes: busy 0, idle 2, draining 0, limit 2" "$T/out"' \
    "status d: labelled process counts"
p1=${D_PIDS%% *}
ok 'grep -Eq "^  pids: .*\\b$p1 \(up [0-9]+s\)" "$T/out"' "status d: its pids and their uptime"

# --- stop SERVICE ------------------------------------------------------------------
[ "$(req "$PUB/echo" hello)" = hello ] || diag "echo did not answer"
lm stop echo
is "$LM_RC:$(cat "$T/out")" "0:stopped echo" "stop echo: exit 0, 'stopped echo'"
ok 'alive "$MASTER_PID"' "stop echo leaves the master running"
is "$(svc_field echo state)" down "status: echo is down"
is "$(unit_pids echo)" "" "no echo child left"
lm status
is "$LM_RC" 3 "status with a service down: exit 3"
lm status d
is "$LM_RC" 0 "status d alone: exit 0"
timeout 5 "$TCLIENT" -w 2 "$PUB/echo" </dev/null >/dev/null 2>&1
ok '[ -z "$(unit_pids echo)" ]' "a client of a stopped service spawns nothing"

lm stop d
is "$LM_RC" 0 "stop d: exit 0"
ok 'all_dead $D_PIDS' "stop d: its children are gone when stop returns"
is "$(svc_field d state)" down "status: d is down"
sleep_d() { [ "$(svc_field d procs)" = 0/0/2 ]; }
ok sleep_d "d spawns nothing while down ($(svc_field d procs))"

# A reload (with d's limit changed) keeps them down.
sed -i 's/^d\t\tdaemon\t-\tn\tn\t-\t2/d\t\tdaemon\t-\tn\tn\t-\t3/' "$CONF/master.cf"
lm reload
is "$LM_RC" 0 "reload: exit 0"
is "$(one_line <"$T/out")" "reload: 0 added, 1 changed, 0 removed, 2 unchanged|limits only: d" \
    "reload prints what it did by name"
is "$(svc_field d state):$(svc_field echo state)" "down:down" \
    "after a reload d and echo are still down"
is "$(unit_pids d)" "" "no d child after the reload"

lm stop nosuch d
is "$LM_RC" 1 "stop nosuch d: exit 1"
ok 'grep -qx "linkmaster: no such service: nosuch" "$T/err"' \
    "stop nosuch: 'linkmaster: no such service: nosuch'"

# --- start SERVICE, restart SERVICE ---------------------------------------------------
lm start d echo
is "$LM_RC:$(cat "$T/out" | one_line)" "0:started d|started echo" \
    "start d echo: exit 0, 'started d', 'started echo'"
wait_for "three d children" 5 svc_is d procs 0/3/3 &&
    pass "d is up again with its new limit" || fail "d is up again"
is "$(req "$PUB/echo" hello)" "hello" "echo serves again"
lm status
is "$LM_RC" 0 "status: exit 0 again"

D_PIDS=$(unit_pids d)
lm restart d
is "$LM_RC:$(cat "$T/out")" "0:restarted d" "restart d: exit 0"
new_d() {
	_nd=$(unit_pids d)
	[ "$(echo "$_nd" | wc -w)" = 3 ] || return 1
	for _p in $D_PIDS; do
		case " $_nd " in *" $_p "*) return 1 ;; esac
	done
}
wait_for "three new d children" 5 new_d && pass "restart d: three new pids" ||
    fail "restart d: three new pids"
wait_for "old d children gone" 5 all_dead $D_PIDS &&
    pass "restart d: the old ones are gone" || fail "restart d: old ones gone"

# --- link units ------------------------------------------------------------------------
G=$(unit_pids link/gamma)
B=$(unit_pids link/beta)
lm stop link/beta
is "$LM_RC:$(cat "$T/out")" "0:stopped link/beta" "stop link/beta: exit 0"
is "$(svc_field link/beta state)" down "link/beta is down"
ok '[ -n "$G" ] && [ "$(unit_pids link/gamma)" = "$G" ] && dead "$B"' \
    "link/gamma's helper untouched, link/beta's gone"
lm restart link/beta
is "$LM_RC" 0 "restart link/beta (a stopped unit): exit 0"
wait_for "link/beta back" 5 has_pids link/beta &&
    pass "link/beta has a helper again" || fail "link/beta back"
lm stop link
is "$LM_RC:$(cat "$T/out")" "0:stopped link" "stop link: every unit"
is "$(svc_field link/beta state):$(svc_field link/gamma state)" "down:down" \
    "both link units down"
lm start link
is "$LM_RC" 0 "start link: exit 0"
wait_for "both link helpers" 5 has_pids link/beta link/gamma &&
    pass "both link units have their helper again" || fail "link units back"

# --- a throttle and its cause ---------------------------------------------------------------
# check wants an executable file: this one is, but cannot be executed
# (its interpreter does not exist).  Only exec finds out.
mkdir -p "$T/bin"
printf '#!/nonexistent/interpreter\n' >"$T/bin/cmd"
chmod 755 "$T/bin/cmd"
cat >>"$CONF/master.cf" <<EOF
gone		daemon	-	n	n	-	1	$T/bin/cmd
EOF
lm reload
is "$LM_RC" 0 "reload adds gone"
ok 'grep -qx "added: gone" "$T/out"' "reload prints 'added: gone'"
wait_for "gone throttled" 5 svc_is gone state throttled &&
    pass "gone is throttled" || fail "gone is throttled"
lm status gone
is "$LM_RC" 3 "status gone (throttled): exit 3"
ok 'grep -Eq "^  throttled: [0-9]+s left, cause: bad command startup: exec $T/bin/cmd: No such file or directory\$" "$T/out"' \
    "status gone: the cause is the exec error"
diag_file "$T/out"
ok 'grep -Eq "^  last exit: pid [0-9]+, exit 127, [0-9]+s ago\$" "$T/out"' \
    "status gone: when and how it last exited"

# --- status --json ---------------------------------------------------------------------------
lm status --json
is "$LM_RC" 3 "status --json: exit 3 (gone is throttled)"
ok 'jq -e ".master.pid == $MASTER_PID and .master.version == \"0.1.0\" and .master.config == \"$CONF\" and (.master.uptime | type) == \"number\"" "$T/out" >/dev/null' \
    "status --json: the master object"
ok 'jq -e "[.units[] | select(.name == \"d\")][0] | .state == \"up\" and (.pids | length) == 3 and .idle == 3 and .limit == 3 and .throttle == null" "$T/out" >/dev/null' \
    "status --json: d, its pids and counts"
ok 'jq -e "[.units[] | select(.name == \"gone\")][0] | .state == \"throttled\" and (.throttle.cause | test(\"No such file\")) and .last_exit.how == \"exit 127\"" "$T/out" >/dev/null' \
    "status --json: gone's throttle cause and last exit"
ok 'jq -e "[.units[] | select(.service == \"link\")] | length == 2" "$T/out" >/dev/null' \
    "status --json: both link units, with their service"
lm status --json d
is "$LM_RC" 0 "status --json d: exit 0"
ok 'jq -e "(.units | length) == 1" "$T/out" >/dev/null' "status --json d: d alone"

# --- stop: what it waits for -------------------------------------------------------------------
lm stop gone
cat >>"$CONF/master.cf" <<EOF
stubborn	daemon	-	n	n	-	1	/bin/sh -c
	{ trap '' TERM; exec /bin/sleep 1000 }
EOF
lm reload
wait_for "stubborn up" 5 has_pids stubborn ||
    diag "stubborn did not start"
S=$(unit_pids stubborn)
lm stop
is "$LM_RC" 0 "stop: exit 0"
ok 'grep -Eq "^waiting for [0-9]+ process(es)?: .*stubborn \(pid $S\).*; killing (it|them) in [0-9.]+m?s\$" "$T/out"' \
    "stop says what it waits for and how long until the kill"
ok 'tail -n 1 "$T/out" | grep -qx stopped' "then 'stopped'"
diag_file "$T/out"
# The master may still be finishing exit(2) when the client sees EOF.
gone_both() { dead "$MASTER_PID" && dead "$S"; }
wait_for "the master and stubborn to be gone" 2 gone_both &&
    pass "the master and stubborn are gone" ||
    fail "the master and stubborn are gone"
lm stop
is "$LM_RC" 1 "stop without a master: exit 1"
