#!/bin/sh
# output.sh: children's stdout/stderr reach the log line by line; a long
# line is split into pieces of 2048 bytes; a child flooding its output
# does not stop the master from serving everyone else, and is rate-limited:
# what is not logged is counted in "N lines suppressed" lines, exactly.
. "$(dirname "$0")/lib.sh"

plan 7
lm_setup output
lm_conf
lm_table <<'EOF'
echo	unix	n	n	n	-	4	echo
long	daemon	-	n	n	-	1	/bin/sh -c
    { head -c 5000 /dev/zero | tr '\0' a; echo; echo after-the-long-line; exec /bin/sleep 1000 }
flood	daemon	-	n	n	-	1	/bin/sh -c
    { yes flooding-the-master | head -n 300000; echo flood-done; exec /bin/sleep 1000 }
EOF
lm_start || bail_out "cannot start the master"

# --- a 5000-byte line -----------------------------------------------------------
wait_log '^linkmaster/long\[[0-9]+\]: after-the-long-line$' 10 &&
    pass "the line after the long one is logged" || fail "long: next line"
pieces=$(grep -E '^linkmaster/long\[[0-9]+\]: a+$' "$LOG" |
    sed 's/^[^:]*: //' | awk '{ printf "%s%d", (NR > 1 ? " " : ""), length($0) }')
is "$pieces" "2048 2048 904" "a 5000-byte line is logged in pieces of 2048, 2048, 904 bytes"

# --- the flood ---------------------------------------------------------------------
wait_log '^linkmaster/flood\[[0-9]+\]: flooding-the-master$' 10 &&
    pass "the flood reaches the log" || fail "flood logged"
# While it floods: the master still answers and the echo service works.
"$TCLIENT" -w 10 -c 2 -n 20 "$T/sock/public/echo" >"$T/during.out" 2>&1
is $? 0 "echo serves 40 connections during the flood"
lm status
is "$LM_RC" 0 "status answers during the flood"
# The 300000 lines and "flood-done": each is logged or counted as
# suppressed (the summary comes at most a second after the flood).
flood_counted() {
	_fl=$(count_log '^linkmaster/flood\[[0-9]+\]: (flooding-the-master|flood-done)$')
	_fs=$(sed -n 's/^linkmaster\/flood\[[0-9]*\]: warning: \([0-9]*\) lines suppressed (more than 100 lines a second)$/\1/p' \
	    "$LOG" | awk '{ s += $1 } END { print s + 0 }')
	FLOOD_N=$((_fl + _fs))
	[ "$FLOOD_N" -ge 300001 ]
}
wait_for "300001 flood lines logged or counted" 60 flood_counted
is "$FLOOD_N" 300001 "every flood line is logged or counted as suppressed"
n=$(count_log '^linkmaster/flood\[[0-9]+\]: flooding-the-master$')
# Counted: drop them, so that a failure's log dump stays readable.
sed -i '/: flooding-the-master$/d' "$LOG"
ok '[ "$n" -ge 100 ] && [ "$n" -lt 1000 ]' \
    "of them, 100 a second were logged ($n)"
lm_stop
