#!/bin/sh
# link_hostile.sh: a link helper against peers and queue entries that an
# attacker or a careless operator would make.
#
#	client -unix-> alpha: link/beta -tcp-> linkd (beta) -unix-> echo
#	               alpha: link/liar -tcp-> socat: "OK 1 gamma"
#	               alpha: link/rude -tcp-> socat: "ERR <bidi and C1>"
#
# alpha is a real master; beta's linkd and echo backend run standalone,
# so do the fake peers (socat running a shell script per connection).
# Covered: bad entries in the queue directory (a 70 KB request, a FIFO)
# are set aside as .bad, logged once, and the link stays up; a request
# the peer refuses again and again (longer than its max_line) is set
# aside after LINK_REPLAY_BREAKS lost links; a linkd that names itself
# differently from the peer is refused; a peer's text reaches the log and
# "linkmaster status" escaped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-link.sh"

need_built "$LINK" "$LINKD" "$ECHO_SVC"
need_cmd socat "socat"

plan 19
lm_setup link_hostile

# status_starts UNIT PREFIX: alpha's status of UNIT begins with PREFIX
# (compared as a string, not a pattern).
status_starts() {
	_ss=$(svc_field "$1" status) || return 1
	case $_ss in
	"$2"*) return 0 ;;
	esac
	return 1
}

# has_text FILE TEXT: a line of FILE holds TEXT (a string).
has_text() {
	grep -Fq -- "$2" "$1" 2>/dev/null
}

# is_up_again: the standalone link came up after it set a request aside.
is_up_again() {
	sed -n '/setting it aside/,$p' "$T/big.err" | grep -q 'link to beta up$'
}

# --- beta: linkd and its backend, standalone ----------------------------------

free_port PB
free_port PL
free_port PR
echo_start echo
linkd_start linkd "$PB" -o backend_path="$T/echo.sock" -o pool=1

# The fake peers: one shell per connection.
cat >"$T/liar.sh" <<'EOF'
IFS= read -r hello
printf 'OK 1 gamma\n'
while IFS= read -r l; do printf '%s\n' "$l"; done
EOF
cat >"$T/rude.sh" <<'EOF'
IFS= read -r hello
printf 'ERR no\342\200\256pe \302\233 \342\201\246x\n'
EOF
lm_bg "$T/liar.err" socat TCP-LISTEN:"$PL",bind=127.0.0.1,reuseaddr,fork \
    EXEC:"/bin/sh $T/liar.sh"
lm_bg "$T/rude.err" socat TCP-LISTEN:"$PR",bind=127.0.0.1,reuseaddr,fork \
    EXEC:"/bin/sh $T/rude.sh"

# --- alpha, with bad entries in its queue for beta ------------------------------

lm_host alpha
QDIR=$T/alpha/state/link/beta/queue
mkdir -p "$QDIR" && chmod 700 "$T/alpha/state/link" \
    "$T/alpha/state/link/beta" "$QDIR" || bail_out "mkdir $QDIR"
{ printf 'critical:'; head -c 70000 /dev/zero | tr '\0' x; } \
    >"$QDIR/00000000000000000001"
mkfifo "$QDIR/00000000000000000002" || bail_out "mkfifo"
printf 'critical:good-3' >"$QDIR/00000000000000000003"
printf 'critical:good-4' >"$QDIR/00000000000000000004"
lm_conf "$(peer beta 127.0.0.1 "$PB")" "$(peer liar 127.0.0.1 "$PL")" \
    "$(peer rude 127.0.0.1 "$PR")"
link_table
lm_start || bail_out "cannot start alpha"

# --- bad queue entries -------------------------------------------------------------

wait_pass "the 70 KB entry is set aside: 'longer than max_line (65536 bytes)'" \
    10 has "$LOG" "^alpha/link[^[]*\[[0-9]+\]: error: queued request 1 for beta: longer than max_line \(65536 bytes\): setting it aside as .*/00000000000000000001\.bad\$"
wait_pass "the FIFO is set aside: 'not a regular file'" 10 \
    has "$LOG" "^alpha/link[^[]*\[[0-9]+\]: error: queued request 2 for beta: not a regular file: setting it aside as .*/00000000000000000002\.bad\$"
wait_pass "the good entries behind them are delivered" 10 \
    has "$LOG" 'delivered queued request 4 to beta$'
ok '[ -f "$QDIR/00000000000000000001.bad" ] &&
    [ -p "$QDIR/00000000000000000002.bad" ] && queue_empty "$QDIR"' \
    "1.bad and 2.bad kept for the operator, nothing else left"
ok 'status_matches link/beta "^up\$"' "link/beta is up"
is "$(count "$LOG" 'link to beta (up|down)')" 1 \
    "the link came up once and never went down"
is "$(count "$LOG" 'setting it aside')" 2 "each bad entry is logged once"
is "$(req "$T/alpha/sock/public/link/beta" after-bad)" after-bad \
    "requests go through"

# --- a linkd that names itself differently --------------------------------------

wait_pass "link/liar refused: 'the linkd at 127.0.0.1 port $PL names itself \"gamma\", not \"liar\"'" \
    10 has "$LOG" "^alpha/link[^[]*\[[0-9]+\]: warning: the linkd at 127\.0\.0\.1 port $PL names itself \"gamma\", not \"liar\": refusing the link\$"
wait_pass "status of link/liar: 'down: peer names itself \"gamma\", retry in ...'" \
    5 status_starts link/liar 'down: peer names itself "gamma", retry in '
is "$(count "$LOG" 'link to liar up')" 0 "the link to liar never came up"
is "$(req "$T/alpha/sock/public/link/liar" not-for-gamma)" con_lost \
    "its clients get con_lost"

# --- a peer's words, escaped -------------------------------------------------------

RUDE='hello refused: no\u{202e}pe \u{009b} \u{2066}x'
wait_pass "link/rude's status shows the ERR reason escaped" 10 \
    status_starts link/rude "down: $RUDE, retry in "
ok 'has_text "$LOG" "link to rude down: $RUDE, retry in "' \
    "... and so does the log"
ok '! grep -q "$(printf "\342\200\256")" "$LOG" &&
    ! grep -q "$(printf "\302\233")" "$LOG"' \
    "no bidi override or C1 control reaches the log"

# --- a request the peer refuses, again and again --------------------------------------
# linkd closes a link that sends a line over its max_line (65536): a link
# with a larger max_line queues it when the link breaks, and would replay
# it (and break the link) for ever.

# A linkd of its own (beta's serves one link from alpha at a time), and
# an echo of its own (standalone, echo serves one connection at a time).
free_port PB2
echo_start echo2
linkd_start linkd2 "$PB2" -o backend_path="$T/echo2.sock" -o pool=1
lm_bg "$T/big.err" "$LINK" -o listen="$T/big.sock" -o peer_name=beta \
    -o peer_address=127.0.0.1 -o peer_port="$PB2" -o host_name=alpha \
    -o state_dir="$T/state2" -o max_line=200000 $LINKOPTS
wait_for "standalone link up" 10 has "$T/big.err" 'link to beta up$' ||
    diag "the standalone link did not come up"
BIG="critical:$(head -c 100000 /dev/zero | tr '\0' y)"
is "$(req "$T/big.sock" "$BIG")" queued \
    "a 100 KB critical request: the link breaks, it is queued"
wait_pass "set aside after 3 lost links: 'the link broke 3 times in a row'" \
    10 has "$T/big.err" 'error: queued request 1 for beta: the link broke 3 times in a row while it was on its way: setting it aside as .*/00000000000000000001\.bad$'
wait_for "the link up again" 10 is_up_again ||
    diag "no 'link to beta up' after the set-aside"
is "$(req "$T/big.sock" after-big)" after-big \
    "the link carries requests again"
is "$(count "$T/big.err" 'link to beta up$')" 5 \
    "the link came up 5 times in all: first, after the request broke it, and after each of its 3 replays"
