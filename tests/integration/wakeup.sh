#!/bin/sh
# wakeup.sh: the wakeup timer writes "W" to fifo and unix-dgram services
# every N seconds (the echo service logs "trigger: W"); with "N?" only
# once the service has been used.
. "$(dirname "$0")/lib.sh"

plan 10
lm_setup wakeup
PUB=$T/sock/public

lm_conf
lm_table <<EOF
# service	type		private	unpriv	chroot	wakeup	maxproc	command
trig		fifo		n	n	n	1	1	echo
dgram		unix-dgram	n	n	n	1	1	echo
lazy		fifo		n	n	n	1?	1	echo
EOF

lm_start && pass "start" || bail_out "cannot start the master"
ok '[ -p "$PUB/trig" ] && [ -p "$PUB/lazy" ]' "fifos in socket_dir/public"
ok '[ -S "$PUB/dgram" ]' "unix-dgram socket in socket_dir/public"

triggers() {
	count_log "^linkmaster/$1\[[0-9]+\]: trigger: W"
}
at_least() {
	[ "$(triggers "$1")" -ge "$2" ]
}
wait_for "2 wakeups of trig" 6 at_least trig 2 &&
    pass "fifo: 'trigger: W' logged at least twice" ||
    fail "fifo: 'trigger: W' logged at least twice"
wait_for "2 wakeups of dgram" 6 at_least dgram 2 &&
    pass "unix-dgram: 'trigger: W' logged at least twice" ||
    fail "unix-dgram: 'trigger: W' logged at least twice"
# By now more than a second has passed: an unused "1?" service would have
# been woken up already.
is "$(triggers lazy)" 0 "1?: no wakeup before the first use"

timeout 5 sh -c 'printf x >"$1"' sh "$PUB/lazy"
is $? 0 "write to the lazy fifo"
wait_log '^linkmaster/lazy\[[0-9]+\]: trigger: x' 5 &&
    pass "lazy: the client's 'x' is read" || fail "lazy: the client's 'x' is read"
wait_for "a wakeup of lazy" 5 at_least lazy 1 &&
    pass "1?: wakeups start after the first use" ||
    fail "1?: wakeups start after the first use"
is "$(count_log 'warning:')" 0 "no warning logged"
