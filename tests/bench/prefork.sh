#!/bin/sh
# prefork.sh: connections/s of the echo service under the master, against
# the same echo code standalone (the ceiling) and xinetd running /bin/cat
# per connection, all on TCP 127.0.0.1.
#
# Each connection sends one line and reads it back (tclient -l 1).  The
# master runs one inet echo service, maxproc 8, with max_use = 0 (children
# are never recycled: a fair run measures the prefork path, not the
# respawn path) and max_idle = 1h.  Before anything is measured, 8
# concurrent clients bring the service to its steady state under load, 8
# children, which then stay (1 client alone also ends up there, as new
# connections race the idle children's AVAIL messages, but after a
# run-dependent while).  For 1 and then 8 concurrent clients:
# each server is warmed up, the number of connections is sized from the
# warm-up so that one run takes about DUR seconds, then REPS runs go round
# robin over the three servers (drift hits all of them alike); the figure
# is the median rate.  The order of the servers rotates from one run to
# the next (each run starts with the next server), so that none always
# runs first after the warm-up or right after another's load.  A failed
# run (an error or a refused connection) fails the rows it belongs to,
# with its reason: no ratio is printed from it (lib-rate.sh, shared with
# inetd.sh).  Targets: >= 0.8x the standalone ceiling, >= 10x xinetd.  A second master service, the same with maxproc 1, is measured
# with 1 client as a diagnostic row (no target): with one client at a
# time a single child suffices, and the difference to maxproc 8 is what
# idle siblings waking up for every connection cost.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-rate.sh"

DUR=${BENCH_PREFORK_DUR:-1.5}	# seconds per timed run
REPS=${BENCH_PREFORK_REPS:-3}

bench_setup prefork
need_cmd xinetd

PM=$(free_port)
PS=$(free_port)
PX=$(free_port)
P1=$(free_port)
[ "$(printf '%s\n' "$PM" "$PS" "$PX" "$P1" | sort -u | wc -l)" = 4 ] ||
    skip "could not find four distinct free ports"

# --- the three servers -----------------------------------------------------------
CONF=$T/conf
master_conf "$CONF" "max_use = 0" "max_idle = 1h"
cat >"$CONF/master.cf" <<EOF
# service        type  private unpriv chroot wakeup maxproc command
127.0.0.1:$PM    inet  n       n      n      -      8       echo -o log_clients=0
127.0.0.1:$P1    inet  n       n      n      -      1       echo -o log_clients=0
EOF
bench_master_start "$CONF" || exit 1

bench_bg "$T/echo.out" "$ECHO_SVC" -o listen=127.0.0.1:"$PS" -o log_clients=0
ECHO_PID=$BG_PID

xinetd_cat_start "$PX"

wait_up "$PM" "$PS" "$PX" "$P1" ||
    { cat "$T/xinetd.out" "$T/echo.out" 2>/dev/null; exit 1; }

# run, why, rounds, fig, size, row: lib-rate.sh (shared with inetd.sh).

# one M|S|X|1: a timed run of one server (the master's CPU counted).
one() {
	case $1 in
	M)
		t0=$(ticks "$MASTER_PID")
		n0=$(now_ns)
		RM="$RM $(run "$C" "$NM" "$PM")"
		MT=$((MT + $(ticks "$MASTER_PID") - t0))
		MN=$((MN + $(now_ns) - n0)) ;;
	S)	RS="$RS $(run "$C" "$NS" "$PS")" ;;
	X)	RX="$RX $(run "$C" "$NX" "$PX")" ;;
	1)	R1="$R1 $(run "$C" "$N1" "$P1")" ;;
	esac
}

# procs PORT: the master service's "busy/idle/limit" column.
procs() {
	"$LINKMASTER" -c "$CONF" status 2>/dev/null |
	    awk -v n="127.0.0.1:$1" '$1 == n { print $4 }'
}

run 8 250 "$PM" >/dev/null
say "master pid $MASTER_PID on :$PM, standalone echo pid $ECHO_PID on :$PS," \
    "xinetd pid $XINETD_PID on :$PX"
say "one line per connection; ~${DUR}s per run, median of $REPS runs"
for C in 1 8; do
	# Warm-up (and the master's children): a fixed small load.
	for p in "$PM" "$PS" "$P1"; do
		run "$C" $((2000 / C)) "$p" >/dev/null
	done
	run "$C" $((200 / C)) "$PX" >/dev/null
	# Size from a second, short run.
	NM=$(size "$(run "$C" $((2000 / C)) "$PM")" "$C")
	NS=$(size "$(run "$C" $((2000 / C)) "$PS")" "$C")
	NX=$(size "$(run "$C" $((200 / C)) "$PX")" "$C")
	N1=$(size "$(run "$C" $((2000 / C)) "$P1")" "$C")
	RM= RS= RX= R1=
	MT=0
	MN=0
	SERVERS="M S X"
	[ "$C" = 1 ] && SERVERS="M S X 1"
	# shellcheck disable=SC2086
	rounds "$REPS" one $SERVERS
	say "$C client(s): master:$RM  standalone:$RS  xinetd:$RX (conn/s);" \
	    "master children busy/idle/limit: $(procs "$PM")"
	[ "$C" = 1 ] && say "$C client(s): master, maxproc 1:$R1 (conn/s)"
	note "$C client(s): the master process itself used $MT CPU ticks" \
	    "in its $REPS runs ($(awk -v n="$MN" 'BEGIN { printf "%.1f", n / 1e9 }') s;" \
	    "$(getconf CLK_TCK) ticks a second per CPU, $(nproc) CPUs)"
	# shellcheck disable=SC2086
	M=$(fig $RM)
	# shellcheck disable=SC2086
	S=$(fig $RS)
	# shellcheck disable=SC2086
	X=$(fig $RX)
	row prefork "conn/s, $C client(s)" "$M" "standalone echo" "$S" 0.8 2 \
	    "$PM" "$PS"
	row prefork "conn/s, $C client(s)" "$M" "xinetd + /bin/cat" "$X" 10 1 \
	    "$PM" "$PX"
	if [ "$C" = 1 ]; then
		# shellcheck disable=SC2086
		M1=$(fig $R1)
		f=$(why "$P1" "$PS")
		if [ -n "$f" ]; then
			r="failed ($f)"
		else
			r="$(ratio "$M1" "$S")x"
		fi
		result prefork "conn/s, $C client, maxproc 1 (diagnostic)" \
		    "$M1" "standalone echo" "$S" "$r" "(none)" "-"
	fi
done

# How many children served, and whether the master complained.
"$LINKMASTER" -c "$CONF" status >"$T/status.out" 2>&1 &&
    sed 's/^/    /' "$T/status.out"
log_problems
note "master: one inet echo service on 127.0.0.1, maxproc 8, max_use = 0" \
    "(unlimited), max_idle = 1h, brought to 8 children by 8 clients" \
    "before the runs; standalone: services/echo -o listen=...;" \
    "xinetd: /bin/cat per connection, instances UNLIMITED, cps 100000 1"
exit 0
