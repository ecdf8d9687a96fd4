#!/bin/sh
# linkd_pipeline.sh: services/linkd standalone, pipelining requests on its
# backend connections.  The test plays alpha's link itself (socat over
# TCP: "HELLO 1 alpha", then "<id> <payload>" lines, then end-of-file,
# after which linkd answers what is outstanding and closes), against:
#
#	- tests/helpers/recorder (standalone: one connection at a time, so
#	  pool=1), slow (300 ms) for lines holding "slow": every request is
#	  on the one connection at once, the backend answers in order, and
#	  each reply must come back under its own id;
#	- socat-forked shell backends ($T/NAME.sh, one per connection) that
#	  answer only once they have read several lines (which only a
#	  pipelining linkd gets past), answer some and hang up, never answer,
#	  or say one line too many; one is slow for "slow..." lines to see
#	  the pool still spread requests over connections.
#
# Each program logs to its stderr, kept in $T/NAME.err.  Every process is
# started with lm_bg and ended by pid (here, or by lib.sh's cleanup).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-link.sh"

need_built "$LINKD" "$RECORDER"
need_cmd socat "socat"

plan 30
lm_setup linkd_pipeline
export T	# the backend scripts write to it

# --- helpers ----------------------------------------------------------------

# start_linkd NAME OPTION...: linkd_start on a fresh port (in PORT), its
# stderr in $T/linkd-NAME.err.
start_linkd() {
	_ln=$1
	shift
	free_port PORT
	linkd_start "linkd-$_ln" "$PORT" "$@"
}

# link [LINE...]: one link to $PORT: the hello, the lines (without any,
# those on stdin), end-of-file; prints what linkd answered, the hello's
# answer first.
link() {
	{
		echo "HELLO 1 alpha"
		if [ $# -gt 0 ]; then printf '%s\n' "$@"; else cat; fi
	} | timeout 20 socat -t 20 - TCP:127.0.0.1:"$PORT"
}

# numbered N WORD: N request lines "1 WORD1" to "N WORDN".
numbered() {
	_i=1
	while [ $_i -le "$1" ]; do
		echo "$_i $2$_i"
		_i=$((_i + 1))
	done
}

# backend NAME SCRIPT: a socat-forked shell backend on $T/NAME.sock
# running SCRIPT (sh source) per connection.
backend() {
	printf '%s\n' "$2" >"$T/$1.sh"
	lm_bg "$T/$1.socat.err" socat UNIX-LISTEN:"$T/$1.sock",fork \
	    EXEC:"/bin/sh $T/$1.sh"
	wait_for "backend $1" 5 test -S "$T/$1.sock" ||
	    bail_out "backend $1 did not start"
}

# --- 1. one pipelined connection, slow for some ----------------------------

lm_bg "$T/rec.err" "$RECORDER" -o listen="$T/rec.sock" \
    -o file="$T/rec.out" -o delay=300 -o slow=slow
wait_for "recorder" 5 test -S "$T/rec.sock" || bail_out "no recorder"
start_linkd rec -o backend_path="$T/rec.sock" -o pool=1

# Ids need not be consecutive; the slow ones hold up those behind them.
set -- "3 a" "4 slow-b" "7 c" "8 d" "12 slow-e" "13 f" "20 " "21 slow-h" \
    "22 i"
i=1
while [ $i -le 20 ]; do
	set -- "$@" "$((100 + i)) x$i"
	i=$((i + 1))
done
WANT="OK 1 beta|$(printf '%s\n' "$@" | one_line)"
t0=$(lm_now_ms)
GOT=$(link "$@" | one_line)
t1=$(lm_now_ms)
is "$GOT" "$WANT" \
    "29 requests on one connection, 3 slow: each reply under its id, in order"
ok '[ $((t1 - t0)) -ge 800 ]' \
    "... the slow ones took their time ($((t1 - t0)) ms)"
is "$(one_line <"$T/rec.out")" "$(printf '%s\n' "$@" | cut -d' ' -f2- |
    one_line)" "the backend got every payload once, in order"
ok '! has "$T/linkd-rec.err" "warning|error" &&
    ! has "$T/rec.err" "warning|error"' "no warning from linkd or the recorder"
ok 'has "$T/linkd-rec.err" \
    "link from alpha \(127\.0\.0\.1\) down: connection closed\$"' \
    "the link ends after its end-of-file, once all is answered"
kill -TERM "$LINKD_PID"

# --- 2. a backend that needs three lines before it says anything ------------

backend three 'read -r a && read -r b && read -r c &&
printf "%s\n" "re:$a" "re:$b" "re:$c"
while IFS= read -r l; do printf "%s\n" "re:$l"; done'
start_linkd three -o backend_path="$T/three.sock" -o pool=1 \
    -o backend_timeout=5s
t0=$(lm_now_ms)
is "$(link "5 p" "9 q" "10 r" | one_line)" "OK 1 beta|5 re:p|9 re:q|10 re:r" \
    "three requests reach a backend together, the replies pair up"
t1=$(lm_now_ms)
ok '[ $((t1 - t0)) -lt 4000 ]' \
    "... at once, not after backend_timeout ($((t1 - t0)) ms)"
kill -TERM "$LINKD_PID"
# A link's burst goes to the backend whole at the default backend_depth:
# this one answers nothing before it has 128 lines (a depth of 32 made
# the other 96 wait for replies that never came).
backend many 'i=0; while [ $i -lt 128 ] && IFS= read -r l; do
i=$((i + 1)); set -- "$@" "re:$l"; done
printf "%s\n" "$@"
while IFS= read -r l; do printf "%s\n" "re:$l"; done'
start_linkd many -o backend_path="$T/many.sock" -o pool=1 \
    -o backend_timeout=5s
REQ=$(numbered 128 m)
t0=$(lm_now_ms)
is "$(echo "$REQ" | link | one_line)" \
    "OK 1 beta|$(echo "$REQ" | sed 's/ / re:/' | one_line)" \
    "128 requests reach a backend at once at the default backend_depth"
t1=$(lm_now_ms)
ok '[ $((t1 - t0)) -lt 4000 ]' \
    "... at once, not after backend_timeout ($((t1 - t0)) ms)"
kill -TERM "$LINKD_PID"
start_linkd three1 -o backend_path="$T/three.sock" -o pool=1 \
    -o backend_timeout=1s -o backend_depth=1
TO="error: backend: timed out"
is "$(link "5 p" "9 q" "10 r" | one_line)" "OK 1 beta|5 $TO|9 $TO|10 $TO" \
    "backend_depth=1: one request at a time, so that backend never answers"
kill -TERM "$LINKD_PID"

# --- 3. a backend that hangs up with requests outstanding -------------------

backend hangup 'read -r a && read -r b && read -r c && printf "%s\n" "$a"'
start_linkd hangup -o backend_path="$T/hangup.sock" -o pool=1
CL="error: backend: closed the connection"
is "$(link "1 a" "2 b" "3 c" | one_line)" "OK 1 beta|1 a|2 $CL|3 $CL" \
    "hung up with two outstanding: both get '$CL'"
RE='warning: backend .*/hangup\.sock: closed the connection'
RE="$RE \\(request 2 and 1 more from alpha\\)\$"
ok '[ "$(grep -Ec -- "$RE" "$T/linkd-hangup.err")" = 1 ]' \
    "... logged once: '(request 2 and 1 more from alpha)'"
kill -TERM "$LINKD_PID"

# --- 4. a backend that never answers ----------------------------------------

backend mute 'while read -r l; do :; done'
start_linkd mute -o backend_path="$T/mute.sock" -o pool=1 \
    -o backend_timeout=500ms
t0=$(lm_now_ms)
is "$(link "1 a" "2 b" | one_line)" "OK 1 beta|1 $TO|2 $TO" \
    "no answer within backend_timeout: every outstanding request times out"
t1=$(lm_now_ms)
ok '[ $((t1 - t0)) -ge 400 ] && [ $((t1 - t0)) -lt 4000 ]' \
    "... after about backend_timeout ($((t1 - t0)) ms)"
kill -TERM "$LINKD_PID"

# --- 5. a backend that says one line too many -------------------------------

backend twice 'while IFS= read -r l; do
case $l in
twice*) printf "%s\n" "$l" "$l" ;;
*) printf "%s\n" "$l" ;;
esac
done'
start_linkd twice -o backend_path="$T/twice.sock" -o pool=1
is "$(link "1 twice" | one_line)" "OK 1 beta|1 twice" \
    "the first reply of a backend that answers twice gets through"
wait_for "linkd's warning" 5 \
    has "$T/linkd-twice.err" 'no request was waiting' &&
    pass "the extra line: 'sent a line no request was waiting for'" ||
    fail "the extra line: 'sent a line no request was waiting for'"
is "$(link "2 after" | one_line)" "OK 1 beta|2 after" \
    "the next link is served as usual"
kill -TERM "$LINKD_PID"

# --- 6. the pool: pipelining first, more connections when replies lag ------

backend slow 'echo $$ >>"$T/slow.conns"
while IFS= read -r l; do
case $l in
slow*) echo "$l" >>"$T/slow.got"; sleep 1 ;;
esac
printf "%s\n" "$l"
done'
# A burst that the backend keeps up with goes over one connection, even
# with room for four (backend_lag=10s: however slow this machine is
# today, the shell backend is never taken for a lagging one).
start_linkd burst -o backend_path="$T/slow.sock" -o pool=4 \
    -o backend_lag=10s
REQ=$(numbered 40 r)
is "$(echo "$REQ" | link | sort | one_line)" \
    "$({ echo "OK 1 beta"; echo "$REQ"; } | sort | one_line)" \
    "40 requests at once, pool=4: every reply under its id"
is "$(sort -u "$T/slow.conns" | wc -l | tr -d ' ')" 1 \
    "... all pipelined on one backend connection"
kill -TERM "$LINKD_PID"
rm -f "$T/slow.conns"

# A slow request makes its connection lag: what comes after it goes on a
# second one.  Between linkd sending "slow-a" and the others arriving lie
# the backend's read and its write of slow.got, our poll of it and a
# write through socat: many times backend_lag=1ms.
start_linkd slow -o backend_path="$T/slow.sock" -o pool=2 -o backend_lag=1ms
fifo_start slowlink timeout 20 socat -t 20 - TCP:127.0.0.1:"$PORT"
printf '%s\n' "HELLO 1 alpha" "1 slow-a" >&7
wait_for "the slow request at the backend" 5 test -s "$T/slow.got"
printf '%s\n' "2 b" "3 c" "4 d" "5 slow-e" "6 f" >&7
fifo_stop
GOT=$(cat "$T/slowlink.out")
is "$(echo "$GOT" | sort | one_line)" \
    "1 slow-a|2 b|3 c|4 d|5 slow-e|6 f|OK 1 beta" \
    "6 requests over a pool of 2, one slow: every reply under its id"
is "$(echo "$GOT" | sed -n 2,4p | one_line)" "2 b|3 c|4 d" \
    "... the slow one did not hold up those sent after it"
is "$(sort -u "$T/slow.conns" | wc -l | tr -d ' ')" 2 \
    "... over two backend connections, no more"
kill -TERM "$LINKD_PID"

# --- 7. bad option -----------------------------------------------------------

free_port P7
"$LINKD" -o listen=127.0.0.1:"$P7" -o peers=alpha@127.0.0.1 \
    -o backend_path="$T/rec.sock" -o backend_depth=0 >"$T/bad.err" 2>&1
is $? 1 "backend_depth=0: exit 1"
ok 'has "$T/bad.err" "fatal: .*backend_depth"' "... naming the option"

# --- 8. ids must grow on a link ----------------------------------------------

lm_bg "$T/rec8.err" "$RECORDER" -o listen="$T/rec8.sock" \
    -o file="$T/rec8.out"
wait_for "recorder 8" 5 test -S "$T/rec8.sock" || bail_out "no recorder 8"
start_linkd ids -o backend_path="$T/rec8.sock" -o pool=1
GOT=$(link "5 a" "9 b" "9 dup" "10 c" | one_line)
ok 'case $GOT in "OK 1 beta"*) ! echo "$GOT" | grep -Eq "dup|10 c" ;;
    *) false ;; esac' "a repeated id ends the link; nothing after it is answered ($GOT)"
RE='protocol error on the link from alpha \(127\.0\.0\.1\): id 9 is not'
RE="$RE above the previous one \(9\): \"9 dup\"\$"
ok 'has "$T/linkd-ids.err" "$RE"' "... logged as a protocol error naming both ids"
ok '! grep -Eq "^(dup|c)\$" "$T/rec8.out"' \
    "... and neither it nor what follows reached the backend"
GOT=$(link "7 a" "3 b" | one_line)
ok 'case $GOT in "OK 1 beta"*) ! echo "$GOT" | grep -q "3 b" ;;
    *) false ;; esac &&
    has "$T/linkd-ids.err" "id 3 is not above the previous one \\(7\\)"' \
    "a decreasing id is a protocol error too"
kill -TERM "$LINKD_PID"

# --- 9. what a peer sends reaches the log escaped ---------------------------

start_linkd esc -o backend_path="$T/rec8.sock" -o pool=1
# A bidi override (U+202E) in the hello, a C1 control (U+0085) and an
# escape in a bad request line.
printf 'HELLO 1 al\342\200\256pha\n' |
    timeout 20 socat -t 20 - TCP:127.0.0.1:"$PORT" >/dev/null
printf 'HELLO 1 alpha\nx\302\205\033[2J\n' |
    timeout 20 socat -t 20 - TCP:127.0.0.1:"$PORT" >/dev/null
wait_for "linkd's warnings" 5 has "$T/linkd-esc.err" 'no space after the id' ||
    diag_file "$T/linkd-esc.err"
ok 'grep -Fq "bad name in hello: \"HELLO 1 al\\u{202e}pha\"" \
    "$T/linkd-esc.err" &&
    grep -Fq "\"x\\u{0085}\\x1b[2J\"" "$T/linkd-esc.err"' \
    "a bidi override and a C1 control are logged as \\u{HHHH}, an escape as \\xHH"
ok '! LC_ALL=C grep -q "$(printf "[\200-\377\033]")" "$T/linkd-esc.err"' \
    "... and no raw byte of them reaches the log"
kill -TERM "$LINKD_PID"
