#!/bin/sh
# flood.sh: a child that floods its output pipes or its status channel
# cannot flood the log: at most 100 output lines and 10 bad-status
# warnings a second are logged per child, with one "N lines suppressed"
# summary for the rest; the master still answers "status" meanwhile.
. "$(dirname "$0")/lib.sh"

plan 9
lm_setup flood

# Each floods for 1 s (yes(1) writes as fast as the master reads), then
# says "done" on stderr and stays up quietly.
lm_conf
lm_table <<EOF
# service	type	private	unpriv	chroot	wakeup	maxproc	command
noisy		daemon	-	n	n	-	1	/bin/sh -c
	{ timeout 1 yes out-line; echo done >&2; exec sleep 1000 }
junk		daemon	-	n	n	-	1	/bin/sh -c
	{ timeout 1 yes junk >&\$MASTER_STATUS_FD; echo done >&2; exec sleep 1000 }
EOF
lm_start && pass "start" || bail_out "cannot start the master"

# Answered within a second, mid-flood.
t0=$(lm_now_ms)
timeout 5 $LM status >"$T/st.out" 2>&1
rc=$?
t1=$(lm_now_ms)
ok '[ "$rc" = 0 ] && [ $((t1 - t0)) -lt 1000 ]' \
    "status answers within a second during the floods (rc $rc, $((t1 - t0)) ms)"

wait_log '^linkmaster/noisy\[[0-9]+\]: warning: done$' 10 &&
    pass "noisy: the flood ends" || fail "noisy: the flood ends"
wait_log '^linkmaster/junk\[[0-9]+\]: warning: done$' 10 &&
    pass "junk: the flood ends" || fail "junk: the flood ends"
wait_log '^linkmaster/noisy\[[0-9]+\]: warning: [0-9]+ lines suppressed \(more than 100 lines a second\)$' 3 &&
    pass "noisy: the rest is one 'N lines suppressed' line" ||
    fail "noisy: the rest is one 'N lines suppressed' line"
wait_log '^linkmaster/master\[[0-9]+\]: warning: service junk: pid [0-9]+: [0-9]+ lines suppressed \(more than 10 bad status messages a second\)$' 3 &&
    pass "junk: the rest is one 'N lines suppressed' line" ||
    fail "junk: the rest is one 'N lines suppressed' line"

# 1 s of flood, windows of a second: 2 windows' worth, 4 if the master lags.
n=$(count_log '^linkmaster/noisy\[[0-9]+\]: out-line$')
ok '[ "$n" -ge 100 ] && [ "$n" -le 400 ]' \
    "noisy: 100 to 400 output lines logged ($n)"
n=$(count_log 'service junk: pid [0-9]+: bad status message')
ok '[ "$n" -ge 10 ] && [ "$n" -le 40 ]' \
    "junk: 10 to 40 bad-status warnings logged ($n)"
lm_stop && pass "stop" || fail "stop"
