#!/bin/sh
# link.sh: link services between two real masters on loopback.
#
#	client -unix-> alpha: link/beta -tcp-> beta: linkd -unix-> rec
#
# alpha (127.0.0.1) runs a link service with peers beta (127.0.0.2, where
# beta's master runs linkd) and gamma (127.0.0.3, where nothing listens:
# that helper stays down and backs off).  beta's backend "rec" is
# tests/helpers/recorder: it echoes each line and appends it to $REC_OUT,
# so that the test sees what reached beta and in which order (lines with
# "slow" in them take 40 ms, to make a replay last).  A third master, delta
# (127.0.0.4), is not in beta's peer list.  Every master logs to the one
# $LOG under its own name (alpha/..., beta/..., delta/...).
#
# Covered: requests through link/linkd and back, 8 concurrent clients;
# refusals (not a peer, wrong hello name for the address); a refused peer
# reports "down: connection refused, retry in ..." while beta's link works;
# beta's master stopped: con_lost at once, critical requests queued; beta
# back: the queue is delivered exactly in order and ends empty; alpha's
# helper SIGKILLed in the middle of a replay: nothing lost after its
# restart (duplicates counted).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-link.sh"

need_built "$LINK" "$LINKD" "$RECORDER"
need_cmd socat "socat"

plan 52
lm_setup link
REC_OUT=$T/rec.out
: >"$REC_OUT"

# --- helpers ----------------------------------------------------------------

# raw ADDR:PORT BIND LINE: one line to a linkd from address BIND; the answer.
raw() {
	printf '%s\n' "$3" | timeout 10 socat -t 5 - \
	    TCP:"$1",bind="$2" 2>/dev/null
}

# One pid of UNIT's helper, different from $2 (if given).
new_unit_pid() {
	for _np in $(unit_pids "$1"); do
		[ "$_np" != "${2:-x}" ] && { echo "$_np"; return 0; }
	done
	return 1
}

has_new_unit_pid() {
	new_unit_pid "$@" >/dev/null
}

# The queue's requests in sequence order, one per line.
queue_lines() {
	for _qf in $(ls "$1" | grep -E '^[0-9]{20}$' | sort); do
		cat "$1/$_qf"
		echo
	done
}

# "delivered queued request N to beta" numbers in log lines on stdin.
delivered_seqs() {
	sed -n 's/.*: delivered queued request \([0-9]*\) to beta$/\1/p'
}

# --- the hosts ---------------------------------------------------------------

free_port PB		# beta's linkd
free_port PG		# gamma: nothing listens there
ALPHA_SOCK=$T/alpha/sock/public/link/beta
QDIR=$T/alpha/state/link/beta/queue

lm_host beta
lm_conf "$(peer alpha 127.0.0.1 1)" "$(peer gamma 127.0.0.3 1)"
lm_table <<EOF
127.0.0.2:$PB	inet	n	n	n	-	8	linkd -o backend=rec -o pool=4
rec	unix	n	n	n	-	32	$RECORDER -o file=$REC_OUT
	-o delay=40 -o slow=slow
EOF
lm_start || bail_out "cannot start beta"

lm_host alpha
lm_conf "$(peer beta 127.0.0.2 "$PB")" "$(peer gamma 127.0.0.3 "$PG")"
link_table -o timeout=5
lm_start || bail_out "cannot start alpha"

# --- requests through the link -------------------------------------------------

wait_pass "alpha: 'link to beta up'" 10 has "$LOG" \
    '^alpha/link[^[]*\[[0-9]+\]: link to beta up$'
wait_pass "beta: 'link from alpha (127.0.0.1) up'" 5 has "$LOG" \
    "^beta/linkd\[[0-9]+\]: link from alpha \(127\.0\.0\.1\) up\$"
wait_pass "status of link/beta: up" 5 status_matches link/beta '^up$'
is "$(req "$ALPHA_SOCK" hello)" hello \
    "a request from alpha's client reaches beta's backend and comes back"
ok 'grep -qx hello "$REC_OUT"' "beta's recorder saw it"
is "$(req "$ALPHA_SOCK" a b '' 'd e' c | one_line)" "a|b||d e|c" \
    "pipelined requests come back in order, empty payload included"
link_loads "$ALPHA_SOCK"
ok '! has "$LOG" "names itself"' \
    "beta's linkd answers the hello with beta's host_name"
grep 'names itself' "$LOG" | head -n 1 | sed 's/^/# /'

# --- a peer that refuses connections -----------------------------------------

wait_pass "status of link/gamma: 'down: connection refused, retry in ...'" \
    5 status_matches link/gamma '^down: connection refused, retry in [0-9.]+m?s$'
wait_pass "link/gamma keeps retrying (3 attempts logged)" 10 \
    count_at_least 3 "$LOG" 'link to gamma down: connection refused, retry in'
is "$(sed -n 's/.*link to gamma down: .*, retry in \([0-9.]*m\{0,1\}s\)$/\1/p' \
    "$LOG" | grep -Ev '^([0-9]+ms|1s)$' | head -n 1)" "" \
    "its back-off stays within retry_max=1s"
"$TCLIENT" -w 20 -c 4 -l 10 "$ALPHA_SOCK" >"$T/tc3.out" 2>&1
is $? 0 "beta's link works while gamma's is down"
ok 'status_matches link/beta "^up\$"' "link/beta still up"
# linkd tells its session's state to the master: beta's status row.
lm_host beta
wait_pass "beta's linkd row says 'up: link from alpha (127.0.0.1)'" 5 \
    status_matches "127.0.0.2:$PB" '^up: link from alpha \(127\.0\.0\.1\)$'
lm_host alpha

# --- refusals -------------------------------------------------------------------

lm_host delta
lm_conf "$(peer beta 127.0.0.2 "$PB")"
link_table -o bind=127.0.0.4
lm_start || bail_out "cannot start delta"
wait_pass "beta refuses delta: 'hello name \"delta\" is not a peer'" 10 \
    has "$LOG" '^beta/linkd\[[0-9]+\]: warning: refusing link from 127\.0\.0\.4: hello name "delta" is not a peer$'
wait_pass "delta's link/beta: 'down: hello refused: not a peer, retry in ...'" \
    5 status_matches link/beta '^down: hello refused: not a peer, retry in '

# delta now claims gamma's name: a peer, but not at this address.
lm_conf "$(peer beta 127.0.0.2 "$PB")" 'host_name = "gamma"'
lm reload
is "$LM_RC" 0 "delta reloaded with host_name gamma"
wait_pass "beta refuses it: 'address 127.0.0.4 does not match peer \"gamma\"'" \
    10 has "$LOG" '^beta/linkd\[[0-9]+\]: warning: refusing link from 127\.0\.0\.4: address 127\.0\.0\.4 does not match peer "gamma"$'
wait_pass "delta's link/beta: 'down: hello refused: address mismatch, retry in ...'" \
    5 status_matches link/beta '^down: hello refused: address mismatch, retry in '

# beta's peer list gains delta, without a reload of beta: linkd reads
# linkmaster.conf again for each link.  delta goes back to its own name.
lm_host beta
lm_conf "$(peer alpha 127.0.0.1 1)" "$(peer gamma 127.0.0.3 1)" \
    "$(peer delta 127.0.0.4 1)"
lm_host delta
lm_conf "$(peer beta 127.0.0.2 "$PB")"
lm reload
wait_pass "delta added to beta's linkmaster.conf (no reload): its link comes up" \
    10 has "$LOG" '^beta/linkd\[[0-9]+\]: link from delta \(127\.0\.0\.4\) up$'
is "$(req "$T/delta/sock/public/link/beta" from-delta)" from-delta \
    "delta's requests reach beta"
lm_stop
is "$LM_RC" 0 "delta stopped"

is "$(raw "127.0.0.2:$PB" 127.0.0.1 'HELLO 1 nobody')" "ERR not a peer" \
    "a hello with a name that is no peer: 'ERR not a peer'"
is "$(raw "127.0.0.2:$PB" 127.0.0.1 'HELLO 1 gamma')" "ERR address mismatch" \
    "a hello from 127.0.0.1 with gamma's name: 'ERR address mismatch'"
is "$(count "$LOG" '^beta/linkd\[[0-9]+\]: link from (gamma|nobody)')" 0 \
    "no refused link came up"
is "$(req "$ALPHA_SOCK" still-here)" still-here "alpha's link is not disturbed"

# --- beta's master stopped -------------------------------------------------------

lm_host beta
lm_stop
is "$LM_RC" 0 "beta's master stopped"
lm_host alpha
wait_pass "alpha: 'link to beta down: connection closed by peer, retry in 100ms'" \
    10 has "$LOG" '^alpha/link[^[]*\[[0-9]+\]: link to beta down: connection (closed|reset) by peer, retry in 100ms$'
# At once: not held until beta is back (it is not) nor until alpha's
# timeout=5 (then it would be con_lost too, after 5 s, with a "timed out"
# warning).  No speed is asserted: 4 s is far above any load's latency.
req_timed "$ALPHA_SOCK" ordinary
is "$REQ_REPLY" con_lost "an ordinary request gets con_lost"
ok '[ "$REQ_MS" -lt 4000 ] && ! has "$LOG" "^alpha/link.* timed out after"' \
    "... at once, not after timeout=5 ($REQ_MS ms, nothing timed out)"

is "$(req "$ALPHA_SOCK" critical:q01 plain critical:q02 critical:q03 |
    one_line)" "queued|con_lost|queued|queued" \
    "critical requests get 'queued', an ordinary one con_lost"
CRIT_PIDS=
for c in 1 2 3 4; do
	lm_bg "$T/crit$c.out" sh -c "printf 'critical:c$c-%s\n' 1 2 3 4 5 |
	    timeout 15 socat -t 15 - UNIX-CONNECT:$ALPHA_SOCK"
	CRIT_PIDS="$CRIT_PIDS $LM_BG_PID"
done
# shellcheck disable=SC2086
wait_for "critical clients" 20 all_dead $CRIT_PIDS
NQ=0
for c in 1 2 3 4; do
	[ "$(one_line <"$T/crit$c.out")" = "queued|queued|queued|queued|queued" ] &&
	    NQ=$((NQ + 1))
done
is "$NQ" 4 "4 concurrent clients x 5 critical requests: all 'queued'"
is "$(queue_files "$QDIR")" 23 "23 requests in alpha's queue for beta"
wait_pass "link/beta: 'down: connection refused, retry in ...'" 5 \
    status_matches link/beta '^down: connection refused, retry in '
queue_lines "$QDIR" >"$T/expected"

# --- beta back: the queue is delivered in order ------------------------------------

: >"$REC_OUT"
M0=$(log_mark)
lm_host beta
lm_start
is "$LM_RC" 0 "beta's master started again"
lm_host alpha
wait_pass "every queued request delivered ('delivered queued request 23 to beta')" \
    20 has "$LOG" 'alpha/link[^[]*\[[0-9]+\]: delivered queued request 23 to beta$'
is "$(log_since "$M0" | delivered_seqs | one_line)" \
    "$(seq 1 23 | one_line)" "delivered in sequence order, each once"
is "$(one_line <"$REC_OUT")" "$(one_line <"$T/expected")" \
    "beta's backend got them exactly in order, nothing twice"
is "$(queue_files "$QDIR")" 0 "the queue is empty"
ok '[ -z "$(ls -A "$QDIR" | grep -vx lock)" ]' "nothing but the lock file left in the queue directory"
is "$(req "$ALPHA_SOCK" critical:direct)" critical:direct \
    "with the queue empty a critical request is sent directly"

# --- alpha's helper SIGKILLed in the middle of a replay ---------------------------

peer_stop beta
i=10
set --
while [ $i -lt 60 ]; do
	set -- "$@" "critical:slow-$i"
	i=$((i + 1))
done
req "$ALPHA_SOCK" "$@" >"$T/slow.out"
is "$(sort -u "$T/slow.out")" queued "50 slow critical requests queued"
queue_lines "$QDIR" >"$T/expected"
: >"$REC_OUT"
OLD=$(new_unit_pid link/beta)
lm_host beta
lm_start || bail_out "cannot restart beta"
lm_host alpha
wait_for "10 replayed" 10 count_at_least 10 "$REC_OUT" '^critical:slow-'
DONE_AT_KILL=$(wc -l <"$REC_OUT" | tr -d ' ')
kill -KILL "$OLD"
ok '[ "$DONE_AT_KILL" -lt 50 ]' \
    "alpha's link/beta helper SIGKILLed during the replay ($DONE_AT_KILL of 50 done)"
wait_pass "the master logs it: 'pid $OLD killed by signal 9'" 5 \
    has "$LOG" "^alpha/master\[[0-9]+\]: warning: process .*/link pid $OLD killed by signal 9\$"
wait_pass "a new link/beta helper starts" 5 has_new_unit_pid link/beta "$OLD"
wait_pass "the replay resumes and ends: queue empty" 20 queue_empty "$QDIR"
wait_for "last reply" 5 grep -qx critical:slow-59 "$REC_OUT"
awk '!seen[$0]++' "$REC_OUT" >"$T/firsts"
DUPS=$(($(wc -l <"$REC_OUT") - $(wc -l <"$T/firsts")))
is "$(one_line <"$T/firsts")" "$(one_line <"$T/expected")" \
    "nothing lost: every request reached beta, in order ($DUPS duplicate(s))"
ok '[ "$DUPS" -le 1 ]' "at most the one request in flight was repeated ($DUPS)"
is "$(svc_field link/beta restarts) $(svc_field link/beta lastexit)" \
    "1 signal 9" "status: link/beta restarted once, last exit 'signal 9'"
wait_pass "link/beta up again" 5 status_matches link/beta '^up$'
is "$(req "$ALPHA_SOCK" after)" after "requests flow again"
