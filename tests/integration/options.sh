#!/bin/sh
# options.sh: "-o" as the service library reads it -- "-o name=value" and
# Postfix's "-o { name = value }" both set the option; an option the
# helper does not know, or one that is not "name=value", is a bad startup
# that names it (throttled), never a silent default.
. "$(dirname "$0")/lib.sh"

plan 9
lm_setup options
need_cmd socat socat
PUB=$T/sock/public

lm_conf
lm_table <<EOF
# service	type	private	unpriv	chroot	wakeup	maxproc	command
plain		unix	n	n	n	-	1	echo -o timeout=1
braced		unix	n	n	n	-	1	echo -o { timeout = 1 }
typo		unix	n	n	n	-	1	echo -o timeout=1 -o timeou=1
noeq		unix	n	n	n	-	1	echo -o { timeout 1 }
EOF
lm_start && pass "start" || bail_out "cannot start the master"

# silent_client SOCK: connect, send nothing, read until the server closes;
# the time that took in ms in SILENT_MS, socat's status in SILENT_RC.
silent_client() {
	_sc0=$(lm_now_ms)
	timeout 10 socat -u UNIX-CONNECT:"$1" STDOUT >/dev/null 2>&1
	SILENT_RC=$?
	SILENT_MS=$(( $(lm_now_ms) - _sc0 ))
}

for s in plain braced; do
	silent_client "$PUB/$s"
	ok '[ "$SILENT_RC" = 0 ] && [ "$SILENT_MS" -lt 5000 ]' \
	    "$s: a silent client is closed after the 1 s timeout (rc $SILENT_RC, $SILENT_MS ms)"
done

# A client makes the master spawn the child, which refuses to start.
lm_bg "$T/typo.out" timeout 20 socat -u UNIX-CONNECT:"$PUB/typo" STDOUT
wait_log '^linkmaster/typo\[[0-9]+\]: error: unknown option "-o timeou=1" \(echo does not use "timeou"\)$' &&
    pass "typo: the unknown option is named in the log" ||
    fail "typo: the unknown option is named in the log"
wait_log '^linkmaster/master\[[0-9]+\]: warning: service typo: bad command startup -- throttling' &&
    pass "typo: a bad startup, throttled" ||
    fail "typo: a bad startup, throttled"
is "$(count_log 'typo\[[0-9]+\]: error: unknown option "-o timeout=1"')" 0 \
    "typo: the known option next to it is not blamed"

lm_bg "$T/noeq.out" timeout 20 socat -u UNIX-CONNECT:"$PUB/noeq" STDOUT
wait_log '^linkmaster/noeq\[[0-9]+\]: fatal: bad option "-o timeout 1": expected -o name=value or -o \{ name = value \}' &&
    pass "noeq: '-o { timeout 1 }' is a bad option, named" ||
    fail "noeq: '-o { timeout 1 }' is a bad option, named"
wait_log '^linkmaster/master\[[0-9]+\]: warning: service noeq: bad command startup -- throttling' &&
    pass "noeq: a bad startup, throttled" ||
    fail "noeq: a bad startup, throttled"

lm_stop && pass "stop" || fail "stop"
