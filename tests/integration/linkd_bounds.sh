#!/bin/sh
# linkd_bounds.sh: what a hostile peer can cost linkd.
#
#	1. standalone linkd (beta) with an echo backend: a peer that says a
#	   valid hello, then sends 4 KB requests as fast as it can for 10 s
#	   and never reads a reply (socat -u never reads its TCP side).
#	   linkd's peak RSS (VmHWM in /proc/PID/status, so that no sample
#	   can miss a peak) must stay under 64 MiB: max_output stops reading
#	   the link while its replies are unread.
#	2. standalone linkd with hello_timeout=1s: a connection that says
#	   one byte is closed after it, with a warning.
#	3. two masters, as in link.sh:
#		client -unix-> alpha: link/beta -tcp-> beta: linkd -unix-> echo
#	   beta's linkd has maxproc 8, hello_timeout=30s and max_use 10
#	   (which counts links, not connections).  Eight
#	   connections from 127.0.0.5 that send one byte and hold on, then
#	   alpha's link must come up and carry requests (when each
#	   connection held one of 8 linkd processes, it could not for 30 s);
#	   beyond hello_per_address (4) they are refused, logged at most 5
#	   a second and the rest counted.  Then six connections from alpha's
#	   address that say a valid hello and never read: each replaces the
#	   link before it, the real link reconnects and replaces the last,
#	   and carries requests again.
#	4. standalone linkd with 16 file descriptors (ulimit -n): hello_limit
#	   is lowered to half of those not in use, twelve connections from
#	   127.0.0.6 that say one byte close the oldest of them in turn,
#	   and the peer's link is served (a process per connection served
#	   the first only, for hello_timeout).
#	5. a master with TLS (linkmaster tls-init) and hello_timeout=1s: a
#	   connection that stops in the middle of its TLS handshake, and one
#	   that finishes it (openssl s_client) and says no hello, are both
#	   closed after hello_timeout: it counts from the accept.
#	6. standalone linkd whose descriptors run out (its soft
#	   RLIMIT_NOFILE lowered by prlimit while it runs, under what it
#	   computed hello_limit from): with room for two more, six one-byte
#	   connections from 127.0.0.8 are all accepted, the oldest before
#	   its hello closed for each ("out of file descriptors"); with none
#	   left and nothing to close, accept's EMFILE is logged, linkd stops
#	   accepting for a second at a time (no busy loop: its CPU is
#	   measured while a connection waits), and once descriptors are
#	   there again the waiting hello is served and its link comes up.
#
# Connections are held by socat -u (which never reads its TCP side)
# from a shell that ends in "cat $T/hold.fifo": all of them end when the
# test closes its fd 7 on that fifo.  Every process is started with
# lm_bg and ended by pid (here, or by lib.sh's cleanup).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-link.sh"

need_built "$LINKD" "$ECHO_SVC"
need_cmd socat "socat"
need_cmd openssl "openssl"
need_cmd prlimit "prlimit (util-linux)"

plan 31
lm_setup linkd_bounds

# --- helpers ----------------------------------------------------------------

# kib PID FIELD: a /proc/PID/status field in KiB (VmRSS, VmHWM).
kib() {
	sed -n "s/^$2:[[:space:]]*\\([0-9]*\\) kB\$/\\1/p" /proc/"$1"/status
}

# over_mib PID MIB: the peak RSS of PID is over MIB MiB.
over_mib() {
	[ "$(kib "$1" VmHWM)" -gt $(($2 * 1024)) ]
}

# hold NAME ADDR:PORT FROM WHAT: a connection from FROM that sends
# $T/WHAT.txt and then nothing, until fd 7 is closed.
hold() {
	# Written once: a shell may be reading it.
	[ -f "$T/$4.sh" ] ||
	    printf 'cat %s/%s.txt; exec cat %s/hold.fifo\n' "$T" "$4" "$T" \
	    >"$T/$4.sh"
	lm_bg "$T/$1.err" socat -d -d -u EXEC:"/bin/sh $T/$4.sh" \
	    TCP:"$2",bind="$3"
}

# hold_n NAME N ADDR:PORT FROM WHAT: N holds, NAME1 to NAMEN.
hold_n() {
	_hi=1
	while [ "$_hi" -le "$2" ]; do
		hold "$1$_hi" "$3" "$4" "$5"
		_hi=$((_hi + 1))
	done
}

# connected NAME N: each of the holds NAME1 to NAMEN made its connection.
connected() {
	_ci=1
	while [ "$_ci" -le "$2" ]; do
		grep -q 'successfully connected' "$T/$1$_ci.err" || return 1
		_ci=$((_ci + 1))
	done
}

# refused_all N: N refusals of 127.0.0.5 accounted for in the log, logged
# or counted in "N more connections closed before their hello".
refused_all() {
	_rl=$(count "$LOG" 'warning: refusing a connection from 127\.0\.0\.5: ')
	_rm=$(sed -n 's/.*: \([0-9]*\) more connections\{0,1\} closed before their hello.*/\1/p' \
	    "$LOG" | awk '{ n += $1 } END { print n + 0 }')
	[ $((_rl + _rm)) -eq "$1" ]
}

# req_is SOCK LINE: one request through SOCK is answered LINE.
req_is() {
	[ "$(req "$1" "$2")" = "$2" ]
}

# --- 1. a peer that sends requests and never reads the replies --------------

free_port PB
echo_start echo
linkd_start linkd "$PB" -o backend_path="$T/echo.sock" -o pool=1
RSS0=$(kib "$LINKD_PID" VmRSS)

cat >"$T/flood.awk" <<'EOF'
BEGIN {
	print "HELLO 1 alpha"
	p = sprintf("%4000s", "")
	gsub(/ /, "x", p)
	for (i = 1; ; i++)
		print i, p
}
EOF
lm_bg "$T/flood.err" timeout 10 socat -u EXEC:"awk -f $T/flood.awk" \
    TCP:127.0.0.1:"$PB"
FLOOD_PID=$LM_BG_PID
wait_for "the flood's link up" 5 has "$T/linkd.err" 'link from alpha .* up$' ||
    diag_file "$T/linkd.err"
# For the flood's 10 s: the peak must never pass 64 MiB (over it, stop).
if wait_for "linkd's peak RSS to pass 64 MiB (it should not)" 10 \
    over_mib "$LINKD_PID" 64; then
	kill -TERM "$FLOOD_PID"
fi
wait_for "the flood to end" 5 dead "$FLOOD_PID"
HWM=$(kib "$LINKD_PID" VmHWM)
ok '[ "$HWM" -lt $((64 * 1024)) ]' \
    "a peer that floods for 10 s and never reads: linkd's peak RSS ${HWM} KiB < 64 MiB (at the start ${RSS0} KiB)"
wait_pass "the flood's link ends once the peer has gone" 10 \
    has "$T/linkd.err" 'link from alpha \(127\.0\.0\.1\) down: '
RSS1=$(kib "$LINKD_PID" VmRSS)
ok '[ "$RSS1" -lt $((64 * 1024)) ]' \
    "linkd's RSS after the peer left: ${RSS1} KiB"
ok 'alive "$LINKD_PID"' "linkd is still running"
ok '! has "$T/linkd.err" "fatal|error:"' "no error from linkd"
kill -TERM "$LINKD_PID"

# --- 2. hello_timeout ----------------------------------------------------------

free_port PH
linkd_start linkd2 "$PH" -o backend_path="$T/echo.sock" -o hello_timeout=1s
rm -f "$T/hold.fifo"
mkfifo "$T/hold.fifo" || bail_out "mkfifo"
exec 7<>"$T/hold.fifo"
printf H >"$T/byte.txt"
printf 'HELLO 1 alpha\n' >"$T/hello.txt"
t0=$(lm_now_ms)
hold slow0 127.0.0.1:"$PH" 127.0.0.1 byte
wait_pass "one byte and no hello: 'no hello from 127.0.0.1 within 1s: closing the connection'" \
    10 has "$T/linkd2.err" 'warning: no hello from 127\.0\.0\.1 within 1s: closing the connection$'
t1=$(lm_now_ms)
ok '[ $((t1 - t0)) -ge 900 ]' "... after hello_timeout ($((t1 - t0)) ms)"
kill -TERM "$LINKD_PID"

# --- 3. two masters: the real link against held connections -----------------

free_port PB
ALPHA_SOCK=$T/alpha/sock/public/link/beta
lm_host beta
lm_conf "$(peer alpha 127.0.0.1 1)" "max_use = 10"
lm_table <<EOF
127.0.0.2:$PB	inet	n	n	n	-	8	linkd -o backend=echo
	-o hello_timeout=30s
echo	unix	n	n	n	-	8	echo
EOF
lm_start || bail_out "cannot start beta"

hold_n slow 8 127.0.0.2:"$PB" 127.0.0.5 byte
wait_for "the eight connections from 127.0.0.5" 10 connected slow 8

lm_host alpha
lm_conf "$(peer beta 127.0.0.2 "$PB")"
link_table
lm_start || bail_out "cannot start alpha"
wait_pass "with 8 one-byte connections held at beta, the link carries a request" \
    10 req_is "$ALPHA_SOCK" ping1
wait_pass "four of them refused: 'refusing a connection from 127.0.0.5: 4 from that address are before their hello already (hello_per_address)'" \
    5 has "$LOG" '^beta/linkd\[[0-9]+\]: warning: refusing a connection from 127\.0\.0\.5: 4 from that address are before their hello already \(hello_per_address\)$'
ok 'refused_all 4' "... each of the four accounted for once"

# A burst of twelve more, each closed at once: five lines a second at
# most, the rest counted, none lost.
i=1
while [ $i -le 12 ]; do
	timeout 10 socat -u OPEN:/dev/null TCP:127.0.0.2:"$PB",bind=127.0.0.5 \
	    2>/dev/null
	i=$((i + 1))
done
wait_pass "sixteen refusals accounted for, logged or counted" 10 refused_all 16
ok '[ "$(count "$LOG" "refusing a connection from 127\.0\.0\.5")" -lt 16 ]' \
    "... not each logged ($(count "$LOG" "refusing a connection from 127\.0\.0\.5") lines)"

lm_host beta
ok '[ "$(unit_pids "127.0.0.2:$PB" | wc -w)" -eq 1 ]' \
    "beta serves them all with one linkd process (20 connections, max_use = 10: only links count)"
lm_host alpha

# Six that say alpha's hello from alpha's address and never read, one
# after the other: six at once could be more than hello_per_address (4)
# before their hello, and be refused.
REPLACED='^beta/linkd\[[0-9]+\]: link from alpha \(127\.0\.0\.1\) down: replaced by a new link from 127\.0\.0\.1$'
i=1
while [ $i -le 6 ]; do
	hold "idle$i" 127.0.0.2:"$PB" 127.0.0.1 hello
	wait_for "idle$i's link" 10 count_at_least $i "$LOG" "$REPLACED"
	i=$((i + 1))
done
wait_pass "the six idle links replace the link, one after the other" 10 \
    count_at_least 6 "$LOG" "$REPLACED"
wait_pass "... the real link reconnects and carries requests again" 10 \
    req_is "$ALPHA_SOCK" ping2
lm_host beta
wait_pass "beta's status row: one link up, 'up: link from alpha (127.0.0.1)'" \
    5 status_matches "127.0.0.2:$PB" '^up: link from alpha \(127\.0\.0\.1\)$'
lm_host alpha
is "$(req "$ALPHA_SOCK" a b c | one_line)" "a|b|c" "... and it stays up"
exec 7>&-

# --- 4. few descriptors --------------------------------------------------------

free_port P4
lm_bg "$T/linkd4.err" sh -c 'ulimit -n 16 && exec "$0" "$@"' "$LINKD" \
    -o listen=127.0.0.1:"$P4" -o peers=alpha@127.0.0.1 -o host_name=beta \
    -o backend_path="$T/echo.sock" -o hello_per_address=100
LINKD_PID=$LM_BG_PID
wait_for "linkd 4 to listen" 5 listening "$P4" || bail_out "linkd 4 did not start"
ok 'has "$T/linkd4.err" "hello_limit 64 lowered to [1-7]: 16 file descriptors, [0-9]+ in use\$"' \
    "16 descriptors: 'hello_limit 64 lowered to N: 16 file descriptors, M in use' ($(sed -n 's/.*hello_limit 64 lowered to //p' "$T/linkd4.err"))"
exec 7<>"$T/hold.fifo"
hold_n few 12 127.0.0.1:"$P4" 127.0.0.6 byte
wait_for "the twelve connections from 127.0.0.6" 10 connected few 12
wait_pass "the oldest closed for the newest: 'closing the connection from 127.0.0.6 before its hello: too many connections before their hello (hello_limit)'" \
    10 count_at_least 4 "$T/linkd4.err" 'warning: closing the connection from 127\.0\.0\.6 before its hello: too many connections before their hello \(hello_limit\)$'
peer_says() {
	[ "$(printf 'HELLO 1 alpha\n1 x\n' | timeout 5 socat -t 2 - \
	    TCP:127.0.0.1:"$P4",bind=127.0.0.1 2>/dev/null | one_line)" = \
	    "OK 1 beta|1 x" ]
}
wait_pass "the peer's link is served all the same" 10 peer_says
ok '! has "$T/linkd4.err" "fatal|error:|Too many open files"' \
    "no error, no descriptor ran out"
kill -TERM "$LINKD_PID"
exec 7>&-

# --- 5. TLS: the handshake counts against hello_timeout --------------------------

free_port PZ
tls_init zeta
lm_conf "$MYTLS" \
    'peer "alpha" { address = "127.0.0.1" port = 1 tls = no }'
lm_table <<EOF
127.0.0.7:$PZ	inet	n	n	n	-	8	linkd -o backend=echo
	-o hello_timeout=1s
echo	unix	n	n	n	-	8	echo
EOF
lm_start || bail_out "cannot start zeta"
NOHELLO='^zeta/linkd\[[0-9]+\]: warning: no hello from 127\.0\.0\.1 within 1s: closing the connection$'
# The header of a TLS handshake record, and nothing more.
printf '\026\003\001' >"$T/tls3.txt"
exec 7<>"$T/hold.fifo"
hold tls3 127.0.0.7:"$PZ" 127.0.0.1 tls3
wait_pass "a TLS handshake that stops: 'no hello from 127.0.0.1 within 1s: closing the connection'" \
    10 has "$LOG" "$NOHELLO"
lm_bg "$T/s_client.out" openssl s_client -connect 127.0.0.7:"$PZ" \
    -cert "$CONF/tls_cert.pem" -key "$CONF/tls_key.pem" -ign_eof
wait_for "the handshake" 10 grep -q 'TLSv1\.3' "$T/s_client.out" ||
    diag_file "$T/s_client.out"
wait_pass "a TLS handshake done and no hello: closed after hello_timeout too" \
    10 count_at_least 2 "$LOG" "$NOHELLO"
ok '! has "$LOG" "^zeta/.*(fatal|error:)"' "no error on zeta"
exec 7>&-

# --- 6. out of file descriptors ---------------------------------------------------

# fd_room PID N: the soft RLIMIT_NOFILE that leaves PID exactly N
# descriptor numbers free (accept takes the lowest free one).
fd_room() {
	ls /proc/"$1"/fd | sort -n | awk -v n="$2" '
	{ open[$1] = 1 }
	END { for (fd = 0; n > 0; fd++) if (!(fd in open)) n--; print fd }'
}

# linkd_ticks PID: its utime + stime, in clock ticks.
linkd_ticks() {
	awk '{ sub(/.*\) /, ""); print $12 + $13 }' /proc/"$1"/stat
}

free_port P6
linkd_start linkd6 "$P6" -o backend_path="$T/echo.sock" \
    -o hello_per_address=100
prlimit --pid "$LINKD_PID" --nofile="$(fd_room "$LINKD_PID" 2):" ||
    bail_out "prlimit"
exec 7<>"$T/hold.fifo"
hold_n out 6 127.0.0.1:"$P6" 127.0.0.8 byte
wait_pass "room for two: six connections are all accepted ..." 10 \
    connected out 6
wait_pass "... the oldest closed for each: 'closing the connection from 127.0.0.8 before its hello: out of file descriptors'" \
    10 count_at_least 4 "$T/linkd6.err" 'warning: closing the connection from 127\.0\.0\.8 before its hello: out of file descriptors$'
exec 7>&-

# None left, nothing to close: the limit under the descriptors open.
prlimit --pid "$LINKD_PID" --nofile=3: || bail_out "prlimit"
exec 7<>"$T/hold.fifo"
hold late 127.0.0.1:"$P6" 127.0.0.1 hello
wait_pass "none left: 'accept: Too many open files: not accepting for 1 s'" \
    10 has "$T/linkd6.err" 'warning: accept: Too many open files: not accepting for 1 s$'
EMFILE='accept: Too many open files: not accepting'
n0=$(count "$T/linkd6.err" "$EMFILE")
c0=$(linkd_ticks "$LINKD_PID")
t0=$(lm_now_ms)
wait_for "two more of them" 10 \
    count_at_least $((n0 + 2)) "$T/linkd6.err" "$EMFILE"
c1=$(linkd_ticks "$LINKD_PID")
t1=$(lm_now_ms)
ok '[ $((t1 - t0)) -ge 900 ] && [ $((c1 - c0)) -le 20 ]' \
    "... no busy loop: a second between tries, $((c1 - c0)) CPU ticks in $((t1 - t0)) ms with a connection waiting"
ok '! has "$T/linkd6.err" "link from alpha"' "... the waiting hello is not served yet"
prlimit --pid "$LINKD_PID" --nofile=1024: || bail_out "prlimit"
wait_pass "descriptors back: the waiting hello is served, 'link from alpha (127.0.0.1) up'" \
    10 has "$T/linkd6.err" 'link from alpha \(127\.0\.0\.1\) up$'
ok 'alive "$LINKD_PID" && ! has "$T/linkd6.err" "fatal|error:"' \
    "linkd 6 is still running, no error"
kill -TERM "$LINKD_PID"
exec 7>&-

