#!/bin/sh
# link_standalone.sh: services/link and services/linkd run standalone
# against each other, without the master:
#
#	client -unix-> link (to beta) -tcp-> linkd (beta) -unix-> backend
#
# Backends: services/echo (standalone it serves one connection at a time,
# so that linkd gets pool=1), and a socat-forked shell logger that echoes
# each line and records "in LINE" / "out LINE" in $SEEN ("slow..." lines
# take 0.5 s, "hang..." lines 3 s, "drop..." closes without a reply), to
# see what reached the backend, and in what order.
#
# Each program logs to its stderr, kept in $T/NAME.err.  Every process is
# started with lm_bg and ended by pid (here, or by lib.sh's cleanup).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-link.sh"

need_built "$LINK" "$LINKD" "$ECHO_SVC"
need_cmd socat "socat"

plan 70
lm_setup link_standalone
SOCK=$T/link.sock
QDIR=$T/state/link/beta/queue
SEEN=$T/seen
export SEEN
: >"$SEEN"

# --- helpers ----------------------------------------------------------------

# wait_has FILE REGEX DESC: one test, a line of FILE matches within 10 s.
wait_has() {
	if wait_for "/$2/ in ${1##*/}" 10 has "$1" "$2"; then
		pass "$3"
	else
		fail "$3"
	fi
}

# start_linkd NAME PORT OPTION...: linkd_start with peers alpha, gamma.
start_linkd() {
	_ln=$1
	_lp=$2
	shift 2
	linkd_start "$_ln" "$_lp" -o peers=alpha@127.0.0.1,gamma@127.0.0.3 "$@"
}

# start_link NAME PORT STATE_DIR OPTION...: link to peer beta as alpha,
# its socket $T/NAME.sock.
start_link() {
	_kn=$1
	_kp=$2
	_ks=$3
	shift 3
	lm_bg "$T/$_kn.err" "$LINK" -o listen="$T/$_kn.sock" \
	    -o peer_name=beta -o peer_address=127.0.0.1 -o peer_port="$_kp" \
	    -o host_name=alpha -o state_dir="$_ks" -o retry_min=100ms \
	    -o retry_max=2s "$@"
	LINK_PID=$LM_BG_PID
}

# stop_link: SIGTERM the last link started, wait; its exit status.
stop_link() {
	kill -TERM "$LINK_PID"
	wait_for "link $LINK_PID to exit" 10 dead "$LINK_PID" || return 124
	wait "$LINK_PID"
}

# The retry delays a link logged, in ms, one per line.
delays_ms() {
	sed -n 's/.*connection refused, retry in \([0-9.]*m\{0,1\}s\)$/\1/p' \
	    "$1" | while read -r _d; do
		case $_d in
		*ms) echo "${_d%ms}" ;;
		*s) lm_ms "${_d%s}" ;;
		esac
	done
}

# non_decreasing: the numbers on stdin never go down.
non_decreasing() {
	awk 'NR > 1 && $1 < prev { bad = 1 } { prev = $1 } END { exit bad }'
}

# Line number of the first line of $SEEN that is exactly LINE.
seen_at() {
	grep -nx -- "$1" "$SEEN" | head -n 1 | cut -d: -f1
}

# --- backends ---------------------------------------------------------------

echo_start echo

cat >"$T/backend.sh" <<'EOF'
#!/bin/sh
# One backend connection: echo each line, log it on the way in and out.
while IFS= read -r l; do
	printf 'in %s\n' "$l" >>"$SEEN"
	case $l in
	slow*) sleep 0.5 ;;
	hang*|critical:hang*) sleep 3 ;;
	drop*) exit 0 ;;
	esac
	printf 'out %s\n' "$l" >>"$SEEN"
	printf '%s\n' "$l"
done
EOF
lm_bg "$T/backend.err" socat UNIX-LISTEN:"$T/back.sock",fork \
    EXEC:"/bin/sh $T/backend.sh"
wait_for "logger backend" 5 test -S "$T/back.sock" ||
    bail_out "socat backend did not start"

# --- link and linkd ---------------------------------------------------------

free_port PORT
start_linkd linkd "$PORT" -o backend_path="$T/echo.sock" -o pool=1
start_link link "$PORT" "$T/state" -o timeout=1
wait_has "$T/link.err" 'link to beta up$' "link connects and says hello"
ok 'has "$T/linkd.err" "link from alpha \(127\.0\.0\.1\) up\$"' \
    "linkd logs 'link from alpha (127.0.0.1) up'"
ok '[ -d "$QDIR" ] && [ "$(stat -c %a "$QDIR")" = 700 ]' \
    "queue directory created, mode 700"

is "$(req "$SOCK" hello)" hello "a request comes back through the link"
is "$(req "$SOCK" a b '' 'd e' c | one_line)" "a|b||d e|c" \
    "pipelined requests come back in order, empty payload included"

link_loads "$SOCK"

# Parked clients (one request each: not watched, looked at when the next
# one comes, or 1 ms after they parked): a connection per request
# leaves none of its descriptors in the link.
nfds() {
	ls "/proc/$LINK_PID/fd" | wc -l
}
FDS0=$(nfds)
"$TCLIENT" -w 20 -c 1 -n 50 -l 1 "$SOCK" >"$T/tc3.out" 2>&1
is $? 0 "50 connections of one line each, one after the other"
diag_file "$T/tc3.out"
"$TCLIENT" -w 20 -c 4 -n 10 -l 1 "$SOCK" >"$T/tc4.out" 2>&1
is $? 0 "4 clients x 10 connections of one line each"
diag_file "$T/tc4.out"
wait_for "the link to close its clients" 10 eval '[ "$(nfds)" -eq "$FDS0" ]'
is $? 0 "the link has closed every one of them ($FDS0 descriptors, as before)"

LONG=$(head -c 70000 /dev/zero | tr '\0' x)
is "$(req "$SOCK" "$LONG" after)" "error: line too long" \
    "a line over max_line: 'error: line too long', the client is closed"
ok 'has "$T/link.err" "warning: a client of the link to beta sent a line longer than 65536 bytes"' \
    "the long line is logged"
# A thrown-out client that never stops sending is still closed: the
# link reads it to its end-of-file for 2 s at most (LINK_LINGER_MS), so
# socat's next write fails and it exits well before timeout's 10 s.
timeout 10 sh -c "yes | tr -d '\\n' | socat -u - UNIX-CONNECT:$SOCK" \
    >/dev/null 2>&1
ok "[ $? -ne 124 ]" \
    "a client that keeps sending after its over-long line is closed anyway"
is "$(req "$SOCK" still-up)" still-up "the link serves others after that"

# --- linkd killed: con_lost at once, critical requests queued ---------------

kill -KILL "$LINKD_PID"
wait_has "$T/link.err" 'link to beta down: ' "link notices linkd is gone"
ok 'has "$T/link.err" "link to beta down: connection (closed|reset) by peer, retry in 100ms\$"' \
    "'link to beta down: connection closed by peer, retry in 100ms'"

# At once, not held for timeout=1 (con_lost too, but after a "timed out"
# warning); with a long timeout below, held would be no answer at all.
is "$(req "$SOCK" ordinary)" con_lost \
    "an ordinary request gets con_lost while the link is down"
ok '! has "$T/link.err" "timed out"' \
    "... at once, not after timeout=1 (nothing timed out)"

is "$(req "$SOCK" critical:1 plain critical:2 | one_line)" \
    "queued|con_lost|queued" "critical requests: 'queued'; others con_lost"
is "$(req "$SOCK" critical:3)" queued \
    "another client's critical request queues behind"
is "$(queue_files "$QDIR")" 3 "three files in the queue directory"
is "$(cat "$QDIR/00000000000000000002")" critical:2 \
    "a queue file holds the request line exactly"
ok '[ "$(stat -c %a "$QDIR/00000000000000000001")" = 600 ] &&
    ! ls "$QDIR" | grep -q tmp' "queue files are 600, no temporary file left"
wait_for "3 retries" 10 count_at_least 3 "$T/link.err" \
    'down: connection refused, retry in' &&
    pass "link keeps retrying while linkd is away" ||
    fail "link keeps retrying while linkd is away"

# --- linkd back (logger backend, pool 4): the queue drains in order --------

: >"$SEEN"
# backend_depth=1: a request at a time per backend connection, so that
# requests sent together run on several (linkd pipelines first).
start_linkd linkd2 "$PORT" -o backend_path="$T/back.sock" -o pool=4 \
    -o backend_depth=1
wait_has "$T/link.err" 'delivered queued request 3 to beta$' \
    "link back up, queued requests delivered"
is "$(sed -n 's/.*delivered queued request \([0-9]*\) to beta$/\1/p' \
    "$T/link.err" | one_line)" "1|2|3" \
    "delivered in order: 'delivered queued request N to beta'"
is "$(one_line <"$SEEN")" "in critical:1|out critical:1|in critical:2|\
out critical:2|in critical:3|out critical:3" \
    "the backend saw them in order, each after the previous one's reply"
is "$(queue_files "$QDIR")" 0 "the queue directory ends empty"
ok '[ -z "$(ls -A "$QDIR" | grep -vx lock)" ]' "nothing but the lock file left in it"
is "$(req "$SOCK" critical:now)" critical:now \
    "a critical request is sent like any other once the queue is empty"

# --- concurrency and order over the pool ------------------------------------

: >"$SEEN"
is "$(req "$SOCK" slow1 fast1 fast2 | one_line)" "slow1|fast1|fast2" \
    "replies held back until the client's earlier ones are in"
ok '[ "$(seen_at "out fast2")" -lt "$(seen_at "out slow1")" ]' \
    "... although the backend answered them out of order"
is "$(req "$SOCK" drop-me next | one_line)" \
    "error: backend: closed the connection|next" \
    "a backend closing mid-request: 'error: backend: closed the connection'"

# --- timeout ----------------------------------------------------------------

: >"$SEEN"
t0=$(lm_now_ms)
is "$(req "$SOCK" hang1)" con_lost "no reply within timeout=1: con_lost"
t1=$(lm_now_ms)
ok '[ $((t1 - t0)) -ge 900 ] && [ $((t1 - t0)) -lt 2500 ]' \
    "... after about a second ($((t1 - t0)) ms)"
ok 'has "$T/link.err" "warning: 1 request to beta timed out after 1s"' \
    "the timeout is logged"
is "$(req "$SOCK" critical:hang2)" queued \
    "a critical request that times out is queued"
wait_for "late replies" 10 count_at_least 2 "$SEEN" '^out (critical:)?hang'
wait_has "$T/link.err" 'delivered queued request 4 to beta$' \
    "late replies dropped; the timed-out critical request is delivered"
is "$(count "$T/link.err" 'protocol error')" 0 \
    "no protocol error from late replies"
is "$(req "$SOCK" after-timeout)" after-timeout "the link is fine afterwards"

# --- stop on SIGTERM: outstanding requests are answered first ----------------

: >"$SEEN"
lm_bg "$T/slowreq.out" sh -c \
    "printf 'slow-last\n' | socat -t 15 - UNIX-CONNECT:$SOCK"
SLOWREQ=$LM_BG_PID
wait_for "slow request at the backend" 5 has "$SEEN" '^in slow-last$'
stop_link
is $? 0 "SIGTERM: link exits 0 once its client is answered"
wait_for "client done" 5 dead "$SLOWREQ"
is "$(cat "$T/slowreq.out")" slow-last \
    "the outstanding request was answered before the exit"
wait_has "$T/linkd2.err" \
    'link from alpha \(127\.0\.0\.1\) down: connection closed$' \
    "linkd: 'link from alpha (127.0.0.1) down: connection closed'"
kill -TERM "$LINKD_PID"
wait_for "linkd to exit" 5 dead "$LINKD_PID" && pass "linkd ends on SIGTERM" ||
    fail "linkd ends on SIGTERM"

# --- backend unreachable: errors, and queued requests wait for it ------------

free_port P2
start_link good "$P2" "$T/state-good"
wait_for "link down" 5 has "$T/good.err" 'down: connection refused' ||
    diag "the link never reported down"
# Down, with the default timeout (300 s) and no linkd: an ordinary request
# held for the link or for its timeout would get no answer here (req gives
# up after 15 s); the reply must be con_lost, well before that, and the
# link still down (never up) when it came.
req_timed "$T/good.sock" plain
ok '[ "$REQ_REPLY" = con_lost ] && [ "$REQ_MS" -lt 10000 ] &&
    ! has "$T/good.err" "link to beta up"' \
    "down, timeout 300s: an ordinary request gets con_lost at once ($REQ_MS ms)"
is "$(req "$T/good.sock" critical:retry)" queued "queued while down"
start_linkd linkd3 "$P2" -o backend_path="$T/nowhere.sock"
wait_has "$T/good.err" 'warning: queued request 1 to beta not delivered: "error: backend: connect .*/nowhere\.sock: No such file or directory", retry in ' \
    "a replay answered 'error: backend: ...' stays queued, retried later"
is "$(req "$T/good.sock" plain)" \
    "error: backend: connect $T/nowhere.sock: No such file or directory" \
    "backend unreachable: '<id> error: backend: <reason>' reaches the client"
is "$(ls "$T/state-good/link/beta/queue" | grep -vx lock)" 00000000000000000001 \
    "the undelivered request is still in the queue"
lm_bg "$T/echo3.err" "$ECHO_SVC" -o listen="$T/nowhere.sock"
wait_has "$T/good.err" 'delivered queued request 1 to beta$' \
    "delivered once the backend is there"
stop_link
is $? 0 "link exits 0"

# --- refusals ---------------------------------------------------------------

start_link bad-name "$P2" "$T/state-bn" -o host_name=delta
wait_has "$T/linkd3.err" 'warning: refusing link from 127\.0\.0\.1: hello name "delta" is not a peer$' \
    "linkd: 'refusing link from 127.0.0.1: hello name \"delta\" is not a peer'"
wait_has "$T/bad-name.err" \
    'link to beta down: hello refused: not a peer, retry in ' \
    "link: 'down: hello refused: not a peer, retry in ...'"
stop_link

start_link bad-addr "$P2" "$T/state-ba" -o bind=127.0.0.2
wait_has "$T/linkd3.err" 'warning: refusing link from 127\.0\.0\.2: address 127\.0\.0\.2 does not match peer "alpha"$' \
    "linkd: 'refusing link from 127.0.0.2: address 127.0.0.2 does not match peer \"alpha\"'"
wait_has "$T/bad-addr.err" \
    'link to beta down: hello refused: address mismatch, retry in ' \
    "link: 'down: hello refused: address mismatch, retry in ...'"
stop_link
is "$(count "$T/linkd3.err" 'link from (delta|alpha \(127\.0\.0\.2\)) up')" \
    0 "no refused link came up"

# --- a peer given by host name -----------------------------------------------
# A statically linked helper resolves it at run time through glibc's NSS
# (README, "Static link helper"), the path numeric addresses never take.
if getent ahostsv4 localhost 2>/dev/null | grep -q '^127\.0\.0\.1 '; then
	start_link byname "$P2" "$T/state-byname" -o peer_address=localhost
	wait_has "$T/byname.err" 'link to beta up$' \
	    "a peer given as 'localhost' is resolved and the link comes up"
	is "$(req "$T/byname.sock" by-name)" by-name "... and carries requests"
	stop_link
else
	skip "localhost does not resolve to 127.0.0.1 here"
	skip "localhost does not resolve to 127.0.0.1 here"
fi

# --- nothing listening: growing retry delays; an unwritable queue -----------

free_port P3
start_link nobody "$P3" "$T/state-nb"
wait_for "4 retries" 10 count_at_least 4 "$T/nobody.err" \
    'link to beta down: connection refused, retry in ' &&
    pass "nothing listening: 'down: connection refused, retry in ...'" ||
    fail "nothing listening: 'down: connection refused, retry in ...'"
D=$(delays_ms "$T/nobody.err" | head -n 4)
is "$(echo "$D" | head -n 1)" 100 "first retry after retry_min (100ms)"
ok 'echo "$D" | non_decreasing && [ "$(echo "$D" | tail -n 1)" -ge 400 ]' \
    "retry delays grow: $(echo $D | tr ' ' ',') ms"

is "$(req "$T/nobody.sock" critical:x)" queued \
    "critical request queued while nothing listens"
rm -rf "$T/state-nb/link/beta/queue"
is "$(req "$T/nobody.sock" critical:y)" \
    "error: queue: No such file or directory" \
    "queue not writable: 'error: queue: <strerror>', not a silent drop"
ok 'has "$T/nobody.err" "error: cannot queue a critical request for beta"' \
    "the queue failure is logged as an error"
stop_link
is $? 0 "link exits 0 on SIGTERM while the link is down"

# --- bad startups -----------------------------------------------------------

"$LINK" -o listen="$T/x.sock" -o state_dir="$T/state-x" >"$T/nopeer.err" 2>&1
is $? 1 "no peer name: exit 1"
ok 'has "$T/nopeer.err" "fatal: no peer name: PEER_NAME is not set and there is no -o peer_name="' \
    "... with 'no peer name: PEER_NAME is not set ...'"
timeout 5 "$LINK" -o listen="$T/x.sock" -o peer_name=.. -o peer_address=127.0.0.1 \
    -o peer_port="$P3" -o state_dir="$T/state-dd" >"$T/dotdot.err" 2>&1
rc=$?
ok '[ $rc -eq 1 ] && [ ! -e "$T/state-dd" ] &&
    has "$T/dotdot.err" "fatal: bad peer name \"\.\.\": \"\.\" and \"\.\.\" are not names"' \
    "peer name '..': exit 1, nothing made outside state_dir/link (the rule of check)"
mkdir -p "$T/state-f/link/beta"
: >"$T/state-f/link/beta/queue"
"$LINK" -o listen="$T/x.sock" -o peer_name=beta -o peer_address=127.0.0.1 \
    -o peer_port="$P3" -o state_dir="$T/state-f" >"$T/qfile.err" 2>&1
rc=$?
ok '[ $rc -eq 1 ] &&
    has "$T/qfile.err" "fatal: queue .*/link/beta/queue: not a directory\$"' \
    "a queue path that is a file: exit 1, 'not a directory'"
"$LINKD" -o listen=127.0.0.1:"$P3" -o host_name=beta >"$T/noback.err" 2>&1
rc=$?
ok '[ $rc -eq 1 ] && has "$T/noback.err" "fatal: no backend"' \
    "linkd without a backend: exit 1"
