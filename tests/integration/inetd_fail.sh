#!/bin/sh
# inetd_fail.sh: in inetd mode (accept = yes) a per-connection child that
# cannot set itself up -- here its command is a script whose interpreter
# does not exist, which "check" cannot see -- says why, as an error under
# the service's name, the master's line for its exit names the reason,
# its client's connection is closed at once (not left hanging), and the
# bad startups throttle the service, which meanwhile accepts nobody;
# children that fail together are one step of back-off.  For one
# connection waiting and for several at one wake-up (the master is
# stopped while they connect, so that it accepts them in one batch), each
# with the default settings (as root: clone3 into the service's cgroup)
# and with cgroups = no (vfork, or fork for a batch).
. "$(dirname "$0")/lib.sh"

plan 19
lm_setup inetd_fail
mkdir "$T/bin"
printf '#!/nonexistent/interpreter\n' >"$T/bin/nocat"
chmod 755 "$T/bin/nocat"
PUB=$T/sock/public
WHY="exec $T/bin/nocat: No such file or directory"
lm_table <<EOF
bad	unix	n	n	n	-	-	$T/bin/nocat
EOF

# Each child's reason, under linkmaster/bad[pid], since log line $FROM.
reasons() {
	tail -n +"$FROM" "$LOG" |
	    grep -Ec "^linkmaster/bad\[[0-9]+\]: error: $WHY\$"
}
# The master's lines for those exits that name the reason.
named_exits() {
	tail -n +"$FROM" "$LOG" |
	    grep -Ec "^linkmaster/master\[$MASTER_PID\]: warning: process $T/bin/nocat pid [0-9]+ exit status 127: could not start: $WHY\$"
}
throttles() {
	tail -n +"$FROM" "$LOG" |
	    grep -Ec "^linkmaster/master\[$MASTER_PID\]: warning: service bad: bad command startup -- throttling"
}
backlog4() {
	[ "$(ss -xlH 2>/dev/null |
	    awk -v p="$PUB/bad" '$5 == p { print $3 }')" = 4 ]
}

# fail_case MODE CONF...: the whole story once, with linkmaster.conf lines.
fail_case() {
	_m=$1
	shift
	lm_conf 'service "bad/unix" { accept = yes }' "$@"
	FROM=$(($(wc -l <"$LOG") + 1))
	lm_start || bail_out "cannot start the master ($_m)"

	# One client: end-of-file at once, not its 20 s deadline.
	t0=$(lm_now_ms)
	"$TCLIENT" -w 20 -l 1 "$PUB/bad" >"$T/tc1.out" 2>&1
	el=$(( $(lm_now_ms) - t0 ))
	ok '[ "$el" -lt 5000 ] && grep -q "errors=1" "$T/tc1.out"' \
	    "$_m, one client: its connection is closed at once (${el} ms)"
	diag_file "$T/tc1.out"
	wait_for "the reason and the exit" 5 eval \
	    '[ "$(reasons)" -ge 1 ] && [ "$(named_exits)" -ge 1 ]' &&
	    pass "$_m, one client: the reason as an error under linkmaster/bad[pid], and in the master's exit line" ||
	    fail "$_m, one client: the reason as an error under linkmaster/bad[pid], and in the master's exit line"
	wait_for "a throttle" 5 eval '[ "$(throttles)" = 1 ]' &&
	    pass "$_m: a bad startup throttles the service" ||
	    fail "$_m: a bad startup throttles the service"

	# While throttled nobody is accepted: end the throttle, stop the
	# master, let 4 clients connect into the backlog, go on: one
	# wake-up, 4 children.
	lm retry bad
	wait_for "bad no longer throttled" 5 svc_isnt bad state throttled ||
	    bail_out "bad stays throttled ($_m)"
	FROM=$(($(wc -l <"$LOG") + 1))
	kill -STOP "$MASTER_PID"
	lm_bg "$T/tc4.out" "$TCLIENT" -c 4 -n 1 -w 20 -l 1 "$PUB/bad"
	tc4=$LM_BG_PID
	if command -v ss >/dev/null 2>&1; then
		wait_for "4 connections in the backlog" 10 backlog4 ||
		    diag "ss did not show 4 waiting connections"
	else
		sleep 1
	fi
	t0=$(lm_now_ms)
	kill -CONT "$MASTER_PID"
	wait_for "the 4 clients" 20 dead "$tc4"
	el=$(( $(lm_now_ms) - t0 ))
	ok '[ "$el" -lt 5000 ] && grep -q "conns=4 ok=0 refused=0 errors=4" "$T/tc4.out"' \
	    "$_m, 4 clients at once: all 4 connections closed at once (${el} ms)"
	diag_file "$T/tc4.out"
	wait_for "4 reasons and exits" 5 eval \
	    '[ "$(reasons)" -ge 4 ] && [ "$(named_exits)" -ge 4 ]' &&
	    pass "$_m, 4 clients at once: each child's reason as an error, and in the master's exit line" ||
	    fail "$_m, 4 clients at once: each child's reason as an error, and in the master's exit line"
	is "$(throttles)" 1 \
	    "$_m: the 4 failures together are one more step of back-off, not 4"
	is "$(lm_nchildren)" 0 "$_m: no child left behind"
	lm_stop
	is "$LM_RC" 0 "$_m: stop"
}

fail_case "default"
fail_case "cgroups = no" 'cgroups = no'
# The reasons came by the report pipe, not as stray stderr lines.
is "$(grep -Ec "^linkmaster/bad\[[0-9]+\]: warning: $WHY\$" "$LOG")" 0 \
    "no reason logged twice (as a warning from stderr)"
ok '[ "$(grep -Ec "^linkmaster/bad\[[0-9]+\]: error: $WHY\$" "$LOG")" = 10 ]' \
    "10 children, 10 reasons"
is "$(grep -c "cannot spawn" "$LOG")" 0 "every child was made (the failures are the children's)"
