#!/bin/sh
# link_reload.sh: reloading a master that runs a link service.
#
# alpha (127.0.0.1) has a link service with peers beta and gamma, two more
# real masters running linkd in front of a recorder backend (beta listens
# on 127.0.0.2 and 127.0.0.5, gamma on 127.0.0.3).  Reloads of alpha:
#	- the link command changes (an added -o option) while clients loop
#	  requests through alpha's link sockets: each helper hands its live
#	  TCP link to its successor, so beta and gamma see no reconnect (one
#	  "link from alpha" line each) and no request is lost or con_lost;
#	- a peer removed, added back, given a new address: only that peer's
#	  helper stops, starts or restarts (the other helper's pid is the same)
#	  and a helper for a new address connects there;
#	- nothing changed: nothing restarts;
#	- peers and tables that could never work (a peer "..", a socket path
#	  too long or taken, maxproc 3, two link services) are refused by
#	  check and reload, and the running master keeps what it had;
#	- the link service renamed (its helpers wait for the old ones: the
#	  queue is the peer's) and made private (its sockets move).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-link.sh"

need_built "$LINK" "$LINKD" "$RECORDER"
need_cmd socat "socat"
need_cmd ss "ss (iproute2)"

plan 62
lm_setup link_reload
SOCK_B=$T/alpha/sock/public/link/beta
SOCK_G=$T/alpha/sock/public/link/gamma

# --- helpers ----------------------------------------------------------------

# log_since_has N REGEX: a log line after line N matches.
log_since_has() {
	log_since "$1" | grep -Eq -- "$2"
}

log_since_count() {
	log_since "$1" | grep -Ec -- "$2" || true
}

# unit_pid_is UNIT PID: UNIT has exactly one helper, PID.
unit_pid_is() {
	[ "$(unit_pids "$1")" = "$2" ]
}

# unit_pid_new UNIT OLDPID: UNIT has exactly one helper, not OLDPID.
unit_pid_new() {
	_un=$(unit_pids "$1")
	[ -n "$_un" ] && [ "$_un" = "${_un% *}" ] && [ "$_un" != "$2" ]
}

no_row() {
	! svc_field "$1" state >/dev/null
}

# An established TCP connection from 127.0.0.1 to ADDR:PORT.
connected_to() {
	ss -Htn state established "( dst $1 )" 2>/dev/null | grep -q .
}

# alpha_conf PEER...: alpha's linkmaster.conf with these peer lines.
alpha_conf() {
	lm_host alpha
	lm_conf "$@"
}

alpha_table() {
	lm_host alpha
	link_table "$1"
}

# Client loops until $T/stop exists, one result line per round: b* and g*
# send two lines per connection with socat and check both come back; t*
# run tclient (20 connections x 3 lines, each line checked).
cat >"$T/loop.sh" <<'EOF'
#!/bin/sh
# loop.sh SOCK NAME STOPFILE TCLIENT
n=0
while [ ! -e "$3" ]; do
	n=$((n + 1))
	case $2 in
	t*)
		# -r: a line refused by a stopping helper (EPIPE) is sent
		# again; a line sent and left unanswered stays an error.
		if got=$("$4" -w 20 -r -c 1 -n 20 -l 3 "$1" 2>&1); then
			echo ok
		else
			echo "bad $n: $got"
		fi
		continue
		;;
	esac
	want="$2-$n-a|$2-$n-b"
	got=$(printf '%s\n' "$2-$n-a" "$2-$n-b" |
	    timeout 20 socat -t 20 - UNIX-CONNECT:"$1" 2>&1 | paste -sd '|' -)
	if [ "$got" = "$want" ]; then
		echo ok
	elif [ -z "${got%%*Broken pipe*}" ]; then
		# Refused, explicitly (a stopping helper shut its reading
		# side before our lines went in): not lost; try again.
		echo "retry $n"
	else
		echo "bad $n: want '$want' got '$got'"
	fi
done
EOF
LOOPS="b1 b2 t1 t2 g1"

LOOP_PIDS=
loops_start() {
	rm -f "$T/stop"
	LOOP_PIDS=
	for _l in $LOOPS; do
		case $_l in
		g*) _ls=$SOCK_G ;;
		*) _ls=$SOCK_B ;;
		esac
		lm_bg "$T/res.$_l" sh "$T/loop.sh" "$_ls" "$_l" "$T/stop" \
		    "$TCLIENT"
		LOOP_PIDS="$LOOP_PIDS $LM_BG_PID"
	done
}

# loops_ok_at_least N: every loop has N good connections.
loops_ok_at_least() {
	for _l in $LOOPS; do
		[ "$(count "$T/res.$_l" '^ok$')" -ge "$1" ] || return 1
	done
}

loops_ok_total() {
	cat "$T"/res.* | grep -c '^ok$' || true
}

# --- the hosts ----------------------------------------------------------------

free_port PB
free_port PG

lm_host beta
lm_conf "$(peer alpha 127.0.0.1 1)"
lm_table <<EOF
127.0.0.2:$PB	inet	n	n	n	-	8	linkd -o backend=rec
127.0.0.5:$PB	inet	n	n	n	-	8	linkd -o backend=rec
rec	unix	n	n	n	-	64	$RECORDER -o file=$T/beta.rec
EOF
lm_start || bail_out "cannot start beta"

lm_host gamma
lm_conf "$(peer alpha 127.0.0.1 1)"
lm_table <<EOF
127.0.0.3:$PG	inet	n	n	n	-	8	linkd -o backend=rec
rec	unix	n	n	n	-	64	$RECORDER -o file=$T/gamma.rec
EOF
lm_start || bail_out "cannot start gamma"

PEER_B="$(peer beta 127.0.0.2 "$PB")"
PEER_B5="$(peer beta 127.0.0.5 "$PB")"
PEER_G="$(peer gamma 127.0.0.3 "$PG")"
alpha_conf "$PEER_B" "$PEER_G"
alpha_table "-o timeout=20"
lm_start || bail_out "cannot start alpha"

BETA_UP='^beta/linkd\[[0-9]+\]: link from alpha \(127\.0\.0\.1\) up$'
GAMMA_UP='^gamma/linkd\[[0-9]+\]: link from alpha \(127\.0\.0\.1\) up$'
wait_pass "alpha's links to beta and gamma are up" 10 \
    status_matches link/beta '^up$'
wait_for "link/gamma up" 10 status_matches link/gamma '^up$'
is "$(req "$SOCK_B" b-hello) $(req "$SOCK_G" g-hello)" "b-hello g-hello" \
    "requests through both links come back"
B1=$(unit_pids link/beta)
G1=$(unit_pids link/gamma)
ok '[ -n "$B1" ] && [ -n "$G1" ] && [ "$B1" = "${B1% *}" ]' \
    "one helper per peer (link/beta $B1, link/gamma $G1)"

# --- 1. the command changes under load: the links are handed over -----------

loops_start
wait_for "load running" 20 loops_ok_at_least 10 ||
    diag "the client loops are slow: $(loops_ok_total) connections"
M=$(log_mark)
alpha_table "-o timeout=21"
lm reload
is "$LM_RC" 0 "reload with the link command changed (-o timeout=21): exit 0"
is "$(head -n 1 "$T/out")" "reload: 0 added, 1 changed, 0 removed, 0 unchanged" \
    "... 'reload: 0 added, 1 changed, 0 removed, 0 unchanged'"
wait_pass "both helpers hand their link over ('handing the link to ... over')" \
    15 sh -c "tail -n +$((M + 1)) '$LOG' | grep -c 'handing the link to \(beta\|gamma\) over to the master\$' | grep -qx 2"
wait_pass "the new helpers take over ('took over the link to beta/gamma')" 15 \
    sh -c "tail -n +$((M + 1)) '$LOG' | grep -c 'took over the link to \(beta\|gamma\)\$' | grep -qx 2"
both_new() {
	unit_pid_new link/beta "$B1" && unit_pid_new link/gamma "$G1"
}
wait_pass "new link/beta and link/gamma helpers" 10 both_new
B2=$(unit_pids link/beta)
G2=$(unit_pids link/gamma)
N0=$(loops_ok_total)
wait_pass "clients keep being served after the hand-over" 20 \
    sh -c "[ \$(cat '$T'/res.* | grep -c '^ok\$') -ge $((N0 + 40)) ]"
touch "$T/stop"
# shellcheck disable=SC2086
wait_for "client loops to end" 30 all_dead $LOOP_PIDS
is "$(cat "$T"/res.* | grep -c '^bad ')" 0 \
    "every request got its own reply, or was refused outright and sent again ($(loops_ok_total) rounds)"
is "$(cat "$T"/res.* | grep -c con_lost)" 0 "no con_lost"
cat "$T"/res.* | grep -v '^ok$' | head -n 5 | sed 's/^/# /'
is "$(count "$LOG" "$BETA_UP")" 1 \
    "no reconnect seen by beta: exactly one 'link from alpha' line"
is "$(count "$LOG" "$GAMMA_UP")" 1 "nor by gamma"
is "$(log_since_count "$M" 'link to (beta|gamma) (up|down)')" 0 \
    "alpha logs no link going down or up"
is "$(log_since_count "$M" 'warning: process .*/link pid [0-9]+ (killed|exit|did not stop)')" \
    0 "the old helpers exited on their own (not killed, status 0)"
is "$(req "$SOCK_B" b-after) $(req "$SOCK_G" g-after)" "b-after g-after" \
    "both links work after the reload"
ok '[ "$(svc_field link/beta status)" = up ] && [ "$(svc_field link/gamma status)" = up ]' \
    "status: both up"

# A helper logs as syslog_name/service/peer, however it was started.
ok '! has "$LOG" "^alpha/link\[" && has "$LOG" "^alpha/link/beta\["' \
    "the helpers log under the same ident (alpha/link/PEER) before and after a reload"

# --- 2. a reload that changes nothing ------------------------------------------

lm reload
is "$(head -n 1 "$T/out")" "reload: 0 added, 0 changed, 0 removed, 1 unchanged" \
    "a reload without changes: 1 unchanged"
ok 'unit_pid_is link/beta "$B2" && unit_pid_is link/gamma "$G2"' \
    "... and both helpers keep running"

# --- 3. a peer removed ---------------------------------------------------------

M=$(log_mark)
alpha_conf "$PEER_B"
lm reload
is "$(head -n 1 "$T/out")" "reload: 0 added, 1 changed, 0 removed, 0 unchanged" \
    "gamma removed from alpha's peers: link changed"
wait_pass "the reload names it: '-- peers: link'" 5 \
    log_since_has "$M" '^alpha/master\[[0-9]+\]: reload: .* -- peers: link$'
wait_pass "link/gamma's helper exits" 10 all_dead $G2
wait_pass "link/gamma is gone from status" 5 no_row link/gamma
ok '[ ! -e "$SOCK_G" ]' "its socket is removed"
ok 'unit_pid_is link/beta "$B2"' "link/beta's helper is untouched (pid $B2)"
is "$(req "$SOCK_B" b-3)" b-3 "beta's link still works"

# --- 4. a peer added -------------------------------------------------------------

M=$(log_mark)
alpha_conf "$PEER_B" "$PEER_G"
lm reload
is "$(head -n 1 "$T/out")" "reload: 0 added, 1 changed, 0 removed, 0 unchanged" \
    "gamma added back: link changed"
wait_pass "a link/gamma helper starts and connects ('link to gamma up')" 10 \
    log_since_has "$M" 'link to gamma up$'
wait_for "gamma socket" 5 test -S "$SOCK_G"
is "$(req "$SOCK_G" g-4)" g-4 "requests reach gamma again"
ok 'grep -qx g-4 "$T/gamma.rec"' "... its recorder saw it"
ok 'unit_pid_is link/beta "$B2"' "link/beta's helper is untouched (pid $B2)"
is "$(count "$LOG" "$BETA_UP")" 1 "beta still saw a single link from alpha"
G3=$(unit_pids link/gamma)

# --- 5. a peer's address changed ---------------------------------------------------

M=$(log_mark)
alpha_conf "$PEER_B5" "$PEER_G"
lm reload
is "$(head -n 1 "$T/out")" "reload: 0 added, 1 changed, 0 removed, 0 unchanged" \
    "beta's address changed to 127.0.0.5: link changed"
wait_pass "link/beta gets a new helper" 10 unit_pid_new link/beta "$B2"
ok 'unit_pid_is link/gamma "$G3"' "link/gamma's helper is untouched (pid $G3)"
wait_for "a link to beta" 10 status_matches link/beta '^up$'
ok 'wait_for "new address" 5 connected_to "127.0.0.5:$PB"' \
    "the new helper is connected to the new address"
ok '! connected_to "127.0.0.2:$PB"' "nothing is connected to the old one"
ok '! log_since_has "$M" "took over the link to beta"' \
    "the new helper did not take over the link to the old address"
wait_for "beta up" 5 status_matches link/beta '^up$'
is "$(req "$SOCK_B" b-5)" b-5 "requests reach beta at its new address"

# --- 6. peers and tables that could never work are refused ------------------------
# Before issue 9 each of these reloads said "reload: ... 1 changed": a peer
# ".." got a unit with no socket and a queue outside state_dir/link/, a
# taken socket path only made a warning, maxproc 3 or a second link
# service made helpers fight for one queue.  Now check and reload refuse
# them with FILE:LINE, and the running master keeps what it had.

B6=$(unit_pids link/beta)
G6=$(unit_pids link/gamma)
# out_has REGEX: the command's stdout or stderr has a line matching.
out_has() {
	cat "$T/out" "$T/err" | grep -Eq -- "$1"
}
# refused DESC REGEX: "check" and "reload" both exit 1 naming the problem.
refused() {
	_rre=$2		# ok evals its test in its own arguments' scope
	lm check
	ok '[ "$LM_RC" = 1 ] && out_has "$_rre"' "check refuses $1" ||
	    diag_file "$T/out" "$T/err"
	# (The command itself may refuse a linkmaster.conf it cannot read.)
	lm reload
	ok '[ "$LM_RC" = 1 ] && out_has "$_rre"' "reload refuses $1" ||
	    diag_file "$T/out" "$T/err"
}

CONF_RE='linkmaster\.conf:[0-9]+: peer'
alpha_conf "$PEER_B5" "$PEER_G" "$(peer .. 127.0.0.4 1)"
refused 'a peer named ".."' "$CONF_RE \"\\.\\.\": bad name: \"\\.\" and \"\\.\\.\" are not names"
ok '[ ! -e "$T/alpha/state/queue" ] && no_row link/..' \
    "... no unit, no queue outside state_dir/link/"

LONG=$(printf '%080d' 0 | tr 0 p)
alpha_conf "$PEER_B5" "$PEER_G" "$(peer "$LONG" 127.0.0.4 1)"
refused "a peer whose socket path is too long" \
    "$CONF_RE \"$LONG\": the socket of link service \"link\", $T/alpha/sock/public/link/$LONG, is [0-9]+ bytes long; a unix socket's path has at most 107"

# The socket is bound before the reload commits: a bind that fails is a
# rejected reload (check cannot know; reload can).
: >"$T/alpha/sock/public/link/delta"
alpha_conf "$PEER_B5" "$PEER_G" "$(peer delta 127.0.0.4 1)"
lm reload
ok '[ "$LM_RC" = 1 ] && out_has "^service link/delta: bind $T/alpha/sock/public/link/delta: file exists and is not a socket$" && out_has "^reload rejected -- nothing changed$"' \
    "reload refuses a peer whose socket cannot be bound"
ok 'no_row link/delta && [ -f "$T/alpha/sock/public/link/delta" ]' \
    "... no link/delta unit, and the file in its way is left alone"
rm -f "$T/alpha/sock/public/link/delta"

alpha_conf "$PEER_B5" "$PEER_G"
lm_table <<EOF
link	link	n	n	n	-	3	link $LINKOPTS -o timeout=21
EOF
refused "a link service with maxproc 3" \
    'master\.cf:1: field "maxproc": a link service runs one helper per peer \(use 1 or -\): "3"'
lm_table <<EOF
link	link	n	n	n	-	-	link $LINKOPTS -o timeout=21
link2	link	n	n	n	-	-	link $LINKOPTS
EOF
refused "a second link service" \
    'master\.cf:2: second link service "link2" \(the first is "link" at line 1\): each peer has one queue, for one helper'

alpha_table "-o timeout=21"
lm reload
is "$(cat "$T/out")" "reload: 0 added, 0 changed, 0 removed, 1 unchanged" \
    "after the refused reloads the master still runs the old configuration"
ok 'unit_pid_is link/beta "$B6" && unit_pid_is link/gamma "$G6"' \
    "... and both helpers were never touched"
is "$(req "$SOCK_B" b-6) $(req "$SOCK_G" g-6)" "b-6 g-6" "both links still work"

# --- 7. the link service renamed ----------------------------------------------------
# The queue is the peer's, whatever the service is called: link2's helpers
# wait for link's to be gone instead of failing on its queue lock.
M=$(log_mark)
lm_table <<EOF
link2	link	n	n	n	-	-	link $LINKOPTS -o timeout=21
EOF
lm reload
is "$(head -n 1 "$T/out")" "reload: 1 added, 0 changed, 1 removed, 0 unchanged" \
    "the link service renamed to link2: one added, one removed"
link2_up() {
	status_matches link2/beta '^up$' && status_matches link2/gamma '^up$'
}
wait_pass "link2/beta and link2/gamma come up" 20 link2_up
is "$(log_since_count "$M" 'is in use by another helper')" 0 \
    "no new helper found its peer's queue locked by an old one"
is "$(req "$T/alpha/sock/public/link2/beta" b-7)" b-7 \
    "requests go through link2/beta"

# --- 8. the link service made private -------------------------------------------
# Its sockets move from public/ to private/ (before issue 9's fix the
# reload called this "unchanged" and left them public).
lm_table <<EOF
link2	link	y	n	n	-	-	link $LINKOPTS -o timeout=21
EOF
lm reload
is "$(head -n 1 "$T/out")" "reload: 0 added, 1 changed, 0 removed, 0 unchanged" \
    "link2 made private: changed"
wait_pass "its helpers come back up" 20 link2_up
ok '[ -S "$T/alpha/sock/private/link2/beta" ] && [ -S "$T/alpha/sock/private/link2/gamma" ] &&
    [ ! -e "$T/alpha/sock/public/link2/beta" ] && [ ! -e "$T/alpha/sock/public/link2/gamma" ]' \
    "its sockets moved from public/link2/ to private/link2/"
is "$(req "$T/alpha/sock/private/link2/beta" b-8) $(req "$T/alpha/sock/private/link2/gamma" g-8)" \
    "b-8 g-8" "requests go through the private sockets"
