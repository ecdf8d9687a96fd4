#!/bin/sh
# linkd_bounds.sh: what a hostile peer can cost linkd.
#
#	1. standalone linkd (beta) with an echo backend: a peer that says a
#	   valid hello, then sends 4 KB requests as fast as it can for 10 s
#	   and never reads a reply (socat -u never reads its TCP side).
#	   linkd's peak RSS (VmHWM in /proc/PID/status, so that no sample
#	   can miss a peak) must stay under 64 MiB: max_output stops reading
#	   the link while its replies are unread.
#
# Every process is started with lm_bg and ended by pid (here, or by
# lib.sh's cleanup).
. "$(dirname "$0")/lib.sh"

LINKD=$top_builddir/services/linkd
need_built "$LINKD" "$ECHO_SVC"
need_cmd socat "socat"
need_cmd ss "ss (iproute2)"

plan 5
lm_setup linkd_bounds

# --- helpers ----------------------------------------------------------------

listening() {
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q LISTEN
}

# kib PID FIELD: a /proc/PID/status field in KiB (VmRSS, VmHWM).
kib() {
	sed -n "s/^$2:[[:space:]]*\\([0-9]*\\) kB\$/\\1/p" /proc/"$1"/status
}

# over_mib PID MIB: the peak RSS of PID is over MIB MiB.
over_mib() {
	[ "$(kib "$1" VmHWM)" -gt $(($2 * 1024)) ]
}

# --- 1. a peer that sends requests and never reads the replies --------------

free_port PB
lm_bg "$T/echo.err" "$ECHO_SVC" -o listen="$T/echo.sock"
wait_for "echo backend" 5 test -S "$T/echo.sock" ||
    bail_out "echo did not start"
lm_bg "$T/linkd.err" "$LINKD" -o listen=127.0.0.1:"$PB" \
    -o peers=alpha@127.0.0.1 -o host_name=beta \
    -o backend_path="$T/echo.sock" -o pool=1
LINKD_PID=$LM_BG_PID
wait_for "linkd to listen" 5 listening "$PB" || bail_out "linkd did not start"
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
