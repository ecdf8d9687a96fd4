#!/bin/sh
# notify.sh: the sd_notify protocol, with a datagram socket this test owns
# in systemd's place: READY=1 and STATUS= once the master serves,
# RELOADING=1 with MONOTONIC_USEC then READY=1 around a reload, STOPPING=1;
# an abstract socket ('@name') too; children never see NOTIFY_SOCKET.
. "$(dirname "$0")/lib.sh"

need_cmd socat socat

plan 12
lm_setup notify
NS=$T/notify.sock
NO=$T/notify.out

lm_conf
lm_table <<EOT
# service	type	private	unpriv	chroot	wakeup	maxproc	command
echo		unix	n	n	n	-	1	echo
env		daemon	-	n	n	-	1	/bin/sh -c
	{ echo "ns=\${NOTIFY_SOCKET:-unset}"; exec /bin/sleep 1000 }
EOT

lm_bg "$NO" socat -u UNIX-RECV:"$NS" -
wait_for "the notify socket" 5 test -S "$NS" || bail_out "socat did not start"
lm_bg "$T/fg.out" env NOTIFY_SOCKET="$NS" $LM start-fg
MASTER_PID=$LM_BG_PID
LM_MASTERS="$LM_MASTERS $MASTER_PID"

wait_for "READY=1" 5 grep -qx 'READY=1' "$NO" &&
    pass "READY=1 once the master serves" || fail "READY=1"
ok 'grep -Eqx "STATUS=serving: 2 units, [0-9]+ process(es)?, 0 down, 0 throttled" "$NO"' \
    "STATUS= with a summary"
wait_log '^linkmaster/env\[[0-9]+\]: ns=unset$' &&
    pass "children do not see NOTIFY_SOCKET" || fail "NOTIFY_SOCKET leaked"

t0=$(lm_now_ms)
lm reload
is "$LM_RC" 0 "reload"
wait_for "READY=1 after the reload" 5 sh -c "[ \$(grep -cx READY=1 '$NO') -ge 2 ]" &&
    pass "READY=1 again after the reload" || fail "READY=1 after reload"
ok 'grep -qx "RELOADING=1" "$NO"' "RELOADING=1 when it began"
usec=$(sed -n 's/^MONOTONIC_USEC=\([0-9]*\)$/\1/p' "$NO")
ms=$((${usec:-0} / 1000))
ok '[ "$ms" -ge $((t0 - 2000)) ] && [ "$ms" -le $(($(lm_now_ms) + 2000)) ]' \
    "MONOTONIC_USEC is the monotonic clock at the reload ($ms ms, reload at $t0 ms)"
is "$(grep -n '' "$NO" | grep -E ':(READY|RELOADING)=1$' | sed 's/^[0-9]*://' | one_line)" \
    "READY=1|RELOADING=1|READY=1" "in that order"

lm_stop
is "$LM_RC" 0 "stop"
ok 'grep -qx "STOPPING=1" "$NO"' "STOPPING=1"

# An abstract socket: '@name'.
AB=lm-notify-test-$$
lm_bg "$T/abs.out" socat -u ABSTRACT-RECV:"$AB" -
wait_for "socat on @$AB" 5 grep -q "@$AB" /proc/net/unix ||
    diag "socat did not bind @$AB"
lm_bg "$T/fg2.out" env NOTIFY_SOCKET="@$AB" $LM start-fg
MASTER_PID=$LM_BG_PID
LM_MASTERS="$LM_MASTERS $MASTER_PID"
wait_for "READY=1 on @$AB" 5 grep -qx 'READY=1' "$T/abs.out" &&
    pass "READY=1 to an abstract socket" || fail "READY=1 to @$AB"
lm_stop
ok 'grep -qx "STOPPING=1" "$T/abs.out"' "STOPPING=1 there too"
