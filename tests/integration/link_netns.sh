#!/bin/sh
# link_netns.sh: three hosts in network namespaces, a link cut and back.
#
# As root only.  The test creates three network namespaces, one per host,
# each running its own master (ip netns exec NS linkmaster -c DIR start),
# joined by veth pairs with link-local addresses (only inside the
# namespaces):
#
#	alpha 169.254.12.1 --- 169.254.12.2 beta	(linkd + recorder)
#	alpha 169.254.13.1 --- 169.254.13.3 gamma	(linkd + recorder)
#
# alpha's link service has peers beta and gamma.  While a client sends
# critical requests to beta one after the other, alpha's end of the veth
# to beta is set down for 10 s: requests are answered from beta or
# "queued" (never con_lost or an error), gamma's link keeps working, and
# after the link is back every request reaches beta's backend (at least
# once) and alpha's queue ends empty.  The namespaces are removed at exit.
# Unix sockets (clients, log sink) live in the file system, which the
# namespaces share, so the test talks to them from outside.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-link.sh"

need_built "$LINK" "$LINKD" "$RECORDER"
need_root
need_cmd ip "ip (iproute2)"
need_cmd socat "socat"

lm_setup link_netns

# --- namespaces --------------------------------------------------------------

NS_A=lm$$a
NS_B=lm$$b
NS_C=lm$$c
NS_MADE=

# Abort the masters while their namespaces exist (the linkmaster command
# runs in them), remove the namespaces (their veths go with them), then
# lib.sh's cleanup with the exit status we came with.
netns_cleanup() {
	_nrc=$?
	for _h in alpha beta gamma; do
		[ -d "$T/$_h" ] || continue
		lm_host "$_h"
		alive "$MASTER_PID" && timeout 10 $LM abort >/dev/null 2>&1
	done
	for _ns in $NS_MADE; do
		ip netns del "$_ns" 2>/dev/null ||
		    diag "cleanup: cannot remove namespace $_ns"
	done
	netns_rc "$_nrc"
	lm_cleanup
}

netns_rc() {
	return "$1"
}

trap netns_cleanup EXIT

for _ns in $NS_A $NS_B $NS_C; do
	if ! _e=$(ip netns add "$_ns" 2>&1); then
		skip_all "cannot create network namespaces: $_e"
	fi
	NS_MADE="$NS_MADE $_ns"
	ip -n "$_ns" link set lo up || bail_out "ip -n $_ns link set lo up"
done

# veth NS1 IF1 ADDR1 NS2 IF2 ADDR2: a cable between two namespaces.
veth() {
	ip link add name "$2" netns "$1" type veth peer name "$5" netns "$4" &&
	ip -n "$1" addr add "$3/24" dev "$2" &&
	ip -n "$4" addr add "$6/24" dev "$5" &&
	ip -n "$1" link set "$2" up &&
	ip -n "$4" link set "$5" up
}

veth "$NS_A" ab 169.254.12.1 "$NS_B" ba 169.254.12.2 ||
    skip_all "cannot create a veth pair in the namespaces"
veth "$NS_A" ac 169.254.13.1 "$NS_C" ca 169.254.13.3 ||
    skip_all "cannot create a veth pair in the namespaces"

plan 15

# --- helpers --------------------------------------------------------------------

# Every request the flow sent is in beta's record.
all_recorded() {
	sed -n 's/^\([0-9]*\) .*/critical:flow-\1/p' "$T/flow.out" | sort -u \
	    >"$T/sent"
	sort -u "$T/beta.rec" | comm -23 "$T/sent" - >"$T/missing"
	[ ! -s "$T/missing" ]
}

# Wait until at least MS milliseconds passed since T0 (lm_now_ms).
elapsed() {
	[ $(($(lm_now_ms) - $1)) -ge "$2" ]
}

# --- the hosts --------------------------------------------------------------------

# Each namespace is fresh: the port is free in all of them.
PORT=7070
LINKOPTS="-o retry_min=100ms -o retry_max=1s -o timeout=1s -o connect_timeout=1s"

for h in beta gamma; do
	case $h in
	beta) ns=$NS_B a=169.254.12.2 pa=169.254.12.1 ;;
	*) ns=$NS_C a=169.254.13.3 pa=169.254.13.1 ;;
	esac
	lm_host "$h" ip netns exec "$ns"
	lm_conf "$(peer alpha "$pa" 1)"
	lm_table <<EOF
$a:$PORT	inet	n	n	n	-	8	linkd -o backend=rec
rec	unix	n	n	n	-	64	$RECORDER -o file=$T/$h.rec
EOF
	lm_start
	is "$LM_RC" 0 "$h's master starts in its namespace"
done

lm_host alpha ip netns exec "$NS_A"
lm_conf "$(peer beta 169.254.12.2 $PORT)" "$(peer gamma 169.254.13.3 $PORT)"
link_table
lm_start
is "$LM_RC" 0 "alpha's master starts in its namespace"

SOCK_B=$T/alpha/sock/public/link/beta
SOCK_G=$T/alpha/sock/public/link/gamma
QDIR=$T/alpha/state/link/beta/queue
wait_pass "alpha's links to beta and gamma come up" 10 \
    status_matches link/beta '^up$'
wait_for "link/gamma up" 10 status_matches link/gamma '^up$'
both_see_alpha() {
	has "$LOG" "^beta/linkd\[[0-9]+\]: link from alpha \(169\.254\.12\.1\) up\$" &&
	    has "$LOG" "^gamma/linkd\[[0-9]+\]: link from alpha \(169\.254\.13\.1\) up\$"
}
wait_pass "beta and gamma see alpha at its address on their cable" 5 \
    both_see_alpha
is "$(req "$SOCK_B" to-beta) $(req "$SOCK_G" to-gamma)" "to-beta to-gamma" \
    "requests cross the namespaces and come back"

# --- the cut -------------------------------------------------------------------------

# The flow: critical requests one at a time until $T/stop; "N reply" lines.
cat >"$T/flow.sh" <<'EOF'
#!/bin/sh
# flow.sh SOCK STOPFILE
n=0
while [ ! -e "$2" ]; do
	n=$((n + 1))
	r=$(printf 'critical:flow-%d\n' "$n" |
	    timeout 20 socat -t 20 - UNIX-CONNECT:"$1" 2>&1)
	echo "$n $r"
	# Pacing (not synchronisation): a few hundred requests in all.
	sleep 0.02
done
EOF
lm_bg "$T/flow.out" sh "$T/flow.sh" "$SOCK_B" "$T/stop"
FLOW=$LM_BG_PID
wait_for "the flow to start" 10 count_at_least 10 "$T/flow.out" \
    '^[0-9]+ critical:flow-[0-9]+$'

ip -n "$NS_A" link set ab down
CUT=$(lm_now_ms)
wait_pass "link to beta cut: critical requests are answered 'queued'" 10 \
    count_at_least 5 "$T/flow.out" '^[0-9]+ queued$'
is "$(req "$SOCK_G" gamma-during-cut)" gamma-during-cut \
    "gamma's link works during the cut"
# The cut lasts 10 s: a scenario, not a synchronisation.
wait_for "10 s of cut" 15 elapsed "$CUT" 10000
ip -n "$NS_A" link set ab up
UP=$(lm_now_ms)
QUEUED_AT_UP=$(queue_files "$QDIR")
ok '[ "$QUEUED_AT_UP" -gt 0 ]' \
    "requests waited in alpha's queue during the cut ($QUEUED_AT_UP)"

wait_pass "after the cut, answers from beta again" 30 sh -c \
    "tail -n 1 '$T/flow.out' | grep -Eq '^[0-9]+ critical:flow-[0-9]+\$'"
touch "$T/stop"
wait_for "the flow to end" 30 dead "$FLOW"
wait_pass "alpha's queue drains to empty" 30 queue_empty "$QDIR"
diag "queue empty $(($(lm_now_ms) - UP)) ms after the link came back;" \
    "$(wc -l <"$T/flow.out") requests sent"
is "$(grep -Evc '^[0-9]+ (critical:flow-[0-9]+|queued)$' "$T/flow.out")" 0 \
    "every request was answered by beta or 'queued' (no con_lost, no error)"
grep -Ev '^[0-9]+ (critical:flow-[0-9]+|queued)$' "$T/flow.out" |
    head -n 5 | sed 's/^/# /'
wait_pass "every critical request reached beta's backend" 10 all_recorded
diag_file "$T/missing"
DUPS=$(($(grep -c '^critical:flow-' "$T/beta.rec") - $(grep '^critical:flow-' \
    "$T/beta.rec" | sort -u | wc -l)))
diag "$DUPS request(s) reached beta twice (at least once delivery)"
ok 'status_matches link/beta "^up\$"' "link/beta is up"
is "$(req "$SOCK_B" after-cut)" after-cut "requests flow again"
