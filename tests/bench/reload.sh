#!/bin/sh
# reload.sh: what a reload costs, and that it costs the clients nothing.
#
# 1. A table of 1000 unix services (on demand, no children yet): wall time
#    of "linkmaster reload" with one entry changed (median of 20) and with
#    all 1000 changed (median of 5), next to the command's own floor, a
#    "linkmaster status" round trip.  Target: one change under 100 ms.
# 2. The master's RSS before and after 100 reloads: target within 10%.
# 3. Connections refused or failed during 100 reloads under load (clients
#    looping connect / line / reply on an unchanged and on a changed
#    service): target 0.  Side by side: how many children each reload
#    recycles.  Postfix's master recycles every child of every service on
#    reload (ANCHORS.md); we recycle only the changed service's.
. "$(dirname "$0")/lib.sh"

bench_setup reload

# --- 1. 1000 services -------------------------------------------------------
C=$T/c1000
master_conf "$C"
# table ARG ONE: every service "echo -o timeout=ARG", except svc500 whose
# argument is ONE (so one change flips a single entry).
table1000() {
	awk -v a="$1" -v one="$2" 'BEGIN {
		for (i = 0; i < 1000; i++)
			printf "svc%d unix n n n - 4 echo -o timeout=%s\n",
			    i, i == 500 ? one : a
	}' >"$C/master.cf"
}
table1000 60 60
bench_master_start "$C" || exit 0

# ms CMD...: wall time of one run of CMD, in milliseconds (3 decimals).
ms() {
	_t0=$(now_ns)
	"$@" >"$T/ms.out" 2>&1
	_rc=$?
	_t1=$(now_ns)
	if [ "$_rc" != 0 ]; then
		# We run in $(...): the reason goes to $T/why.
		eval "_last=\${$#}"
		echo "$(basename "$1") $_last: exit $_rc:" \
		    "$(head -n 1 "$T/ms.out")" |
		    tr '|' '/' >>"$T/why"
		echo -
		return
	fi
	awk -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e6 }'
}

# fig MS...: their median, or "failed" if a run failed.
fig() {
	case " $* " in
	*" - "*) echo failed ;;
	*) median "$@" ;;
	esac
}

# against A B: A / B, or, if either failed, "failed (the first reason)":
# no ratio from a failed run.
against() {
	if [ "$1" = failed ] || [ "$2" = failed ]; then
		echo "failed ($(head -n 1 "$T/why"))"
	else
		ratio "$1" "$2"
	fi
}

floor=
one=
i=0
while [ $i -lt 20 ]; do
	floor="$floor $(ms "$LINKMASTER" -c "$C" status)"
	table1000 60 $((61 + i % 2))
	one="$one $(ms "$LINKMASTER" -c "$C" reload)"
	i=$((i + 1))
done
# shellcheck disable=SC2086
m_floor=$(fig $floor)
# shellcheck disable=SC2086
m_one=$(fig $one)
all=
i=0
while [ $i -lt 5 ]; do
	table1000 $((70 + i % 2)) $((70 + i % 2))
	all="$all $(ms "$LINKMASTER" -c "$C" reload)"
	i=$((i + 1))
done
# shellcheck disable=SC2086
m_all=$(fig $all)
say "reload of 1000 services: one changed ${m_one} ms, all changed ${m_all} ms, status round trip ${m_floor} ms"
result reload "1000 services, 1 changed: ms (median of 20)" "$m_one" \
    "status round trip" "$m_floor" "$(against "$m_one" "$m_floor")" \
    "< 100 ms" "$(yesno cmp_ok "$m_one" "<" 100)"
result reload "1000 services, all changed: ms (median of 5)" "$m_all" \
    "status round trip" "$m_floor" "$(against "$m_all" "$m_floor")" \
    "-" "-"

# --- 2. memory across 100 reloads ---------------------------------------------
rss0=$(rss_kb "$MASTER_PID")
: >"$T/why"
i=0
while [ $i -lt 100 ]; do
	table1000 60 $((61 + i % 2))
	[ "$(ms "$LINKMASTER" -c "$C" reload)" = - ] && rss_failed=1
	i=$((i + 1))
done
rss1=$(rss_kb "$MASTER_PID")
if [ -n "${rss_failed:-}" ]; then
	# A reload that failed allocated nothing: no figure from it.
	result reload "master RSS after 100 reloads: kB" "$rss1" "before" \
	    "$rss0" "failed ($(grep -c . "$T/why") reloads failed: $(head \
	    -n 1 "$T/why"))" "<= 1.10" no
else
	result reload "master RSS after 100 reloads: kB" "$rss1" "before" \
	    "$rss0" "$(ratio "$rss1" "$rss0")" "<= 1.10" \
	    "$(yesno cmp_ok "$(ratio "$rss1" "$rss0" 3)" "<=" 1.10)"
fi
bench_master_stop "$C"

# --- 3. 100 reloads under load --------------------------------------------------
C=$T/cload
master_conf "$C"
PORT=$(free_port)
tableload() {
	cat >"$C/master.cf" <<EOF
keep	unix	n	n	n	-	4	echo -o log_clients=0
chg	unix	n	n	n	-	4	echo -o log_clients=0 -o timeout=$1
127.0.0.1:$PORT	inet	n	n	n	-	4	echo -o log_clients=0
EOF
}
tableload 60
bench_master_start "$C" || exit 0
"$TCLIENT" -w 10 -c 2 -n 4 "$T/sock/public/keep" >/dev/null 2>&1
"$TCLIENT" -w 10 -c 2 -n 4 "$T/sock/public/chg" >/dev/null 2>&1
bench_bg "$T/lk.out" "$TCLIENT" -w 120 -c 2 -n 60000 -l 1 "$T/sock/public/keep"
LK=$BG_PID
bench_bg "$T/lc.out" "$TCLIENT" -w 120 -c 2 -n 60000 -l 1 "$T/sock/public/chg"
LC=$BG_PID
bench_bg "$T/li.out" "$TCLIENT" -w 120 -c 1 -n 60000 -l 1 "127.0.0.1:$PORT"
LI=$BG_PID
recycled=0
total=0
i=0
while [ $i -lt 100 ]; do
	# Before each reload: every child (Postfix would recycle them all),
	# and chg's (the only ones we ask to go: "-o timeout=" in argv).
	for p in $(pgrep -P "$MASTER_PID"); do
		total=$((total + 1))
		{ tr '\0' ' ' </proc/"$p"/cmdline; } 2>/dev/null |
		    grep -q 'timeout=' && recycled=$((recycled + 1))
	done
	tableload $((61 + i % 2))
	"$LINKMASTER" -c "$C" reload >/dev/null 2>&1
	i=$((i + 1))
done
still=$(yesno alive "$LK")
wait_gone 120 "$LK" "$LC" "$LI"
bad=0
for f in lk lc li; do
	line=$(cat "$T/$f.out")
	say "load $f: $line"
	r=$(echo "$line" | sed -n 's/.*refused=\([0-9]*\).*/\1/p')
	e=$(echo "$line" | sed -n 's/.*errors=\([0-9]*\).*/\1/p')
	bad=$((bad + ${r:-1} + ${e:-1}))
done
note "load still running after the 100 reloads: $still"
result reload "refused or failed connections during 100 reloads" "$bad" \
    "target" 0 "-" "0" "$(yesno [ "$bad" -eq 0 ])"
result reload "children recycled per reload (avg)" \
    "$(ratio "$recycled" 100 1)" "Postfix (all children)" \
    "$(ratio "$total" 100 1)" "$(ratio "$recycled" "$total")" "-" "-"
log_problems
bench_master_stop "$C"
exit 0
