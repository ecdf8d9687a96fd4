# lib-link.sh: what link.sh and linktls.sh share, sourced after lib.sh:
# masters of their own (host_*), process figures (mem, smaps_top, snap, delta,
# ticks summed), and the lclient runs.  Each run of a workload is a line of $T/runs ("LABEL rate p50
# p99 ROUND") or of $T/fails ("LABEL why"); med, runs and fig read them
# back, paired gives the median of the per-round ratios.  $LCLIENT,
# $RUN_U, $RUN_T and $ROUNDS are the script's; $ROUND is the round being
# run (empty outside the rounds).  A script may define why again (calling
# lc_why) to fail labels of its own.

# run LABEL SOCK LCLIENT-OPTION...: one lclient run; appends
# "LABEL rate p50 p99 ROUND" ($ROUND, or "-" outside the rounds) to
# $T/runs, or, if anything went wrong (lclient counted an error or printed no figures), "LABEL why" to $T/fails and
# says so.
run() {
	_rl=$1
	_rs=$2
	shift 2
	"$LCLIENT" -w 30 -u "$RUN_U" -t "$RUN_T" "$@" "$_rs" \
	    >"$T/lc.out" 2>"$T/lc.err"
	_rc=$?
	_line=$(cat "$T/lc.out")
	case "$_rc $_line" in
	"0 "*" errors=0 "*" rate="*" p99_us="*)
		echo "$_line" | awk -v l="$_rl" -v r="${ROUND:--}" '{
			for (i = 1; i <= NF; i++) {
				split($i, kv, "="); v[kv[1]] = kv[2]
			}
			printf "%s %.1f %.1f %.1f %s\n", l, v["rate"],
			    v["p50_us"], v["p99_us"], r }' >>"$T/runs"
		return 0 ;;
	esac
	# The first client's complaint, or the summary: one line, no '|'.
	_why=$(head -n 1 "$T/lc.err")
	[ -n "$_why" ] || _why="lclient exit $_rc: ${_line:-no output}"
	_why=$(printf '%s' "$_why" | tr '|' '/' | cut -c 1-160)
	say "$_rl: run failed: $_why"
	printf '%s %s\n' "$_rl" "$_why" >>"$T/fails"
	return 1
}

# med LABEL FIELD: median of FIELD (2 rate, 3 p50, 4 p99) over LABEL's runs.
med() {
	# shellcheck disable=SC2046
	median $(awk -v l="$1" -v f="$2" '$1 == l { print $f }' "$T/runs")
}

# why LABEL: the first failure of LABEL's runs (and how many failed);
# empty if none failed.
lc_why() {
	awk -v l="$1" '$1 == l { n++; if (n == 1) { $1 = ""; w = $0 } }
	    END { if (n) printf "%d run(s) failed:%s\n", n, w }' "$T/fails"
}
why() {
	lc_why "$1"
}

# runs LABEL: the requests/s of each of LABEL's good runs, " R1 R2...".
runs() {
	awk -v l="$1" '$1 == l { printf " %s", $2 }' "$T/runs"
}

# fig LABEL: "rate (p50 / p99 us)" of LABEL, or "failed".
fig() {
	if [ -n "$(why "$1")" ]; then
		echo failed
	else
		echo "$(med "$1" 2) ($(med "$1" 3) / $(med "$1" 4) us)"
	fi
}

# paired L H: the median, over the rounds, of L's requests/s over H's
# in the same round (the two ran back to back, so drift of the machine's
# load between rounds cancels out); empty unless both ran in every round.
paired() {
	awk -v a="$1" -v b="$2" -v n="$ROUNDS" '
	    $5 != "-" && $1 == a { x[$5] = $2 }
	    $5 != "-" && $1 == b { y[$5] = $2 }
	    END {
		for (r = 0; r < n; r++) {
			if (!(r in x) || !(r in y) || y[r] == 0)
				exit
			q[r + 1] = x[r] / y[r]
		}
		for (r = 2; r <= n; r++)	# insertion sort: n is small
			for (k = r; k > 1 && q[k - 1] > q[k]; k--) {
				t = q[k]; q[k] = q[k - 1]; q[k - 1] = t
			}
		m = n % 2 ? q[(n + 1) / 2] : (q[n / 2] + q[n / 2 + 1]) / 2
		printf "%.2f\n", m
	    }' "$T/runs"
}

# --- masters and processes ---------------------------------------------------

# host_conf NAME LINE...: $T/NAME/linkmaster.conf.
host_conf() {
	_hn=$1
	shift
	mkdir -p "$T/$_hn"
	{
		cat <<EOF
# written by $0
syslog_socket = "$T/log.sock"
syslog_name = "$_hn"
host_name = "$_hn"
socket_dir = "$T/$_hn/sock"
state_dir = "$T/$_hn/state"
pid_file = "$T/$_hn/master.pid"
daemon_directory = "$top_builddir/services"
stop_timeout = 5
max_use = 0
max_idle = 1h
EOF
		for _hl in "$@"; do
			printf '%s\n' "$_hl"
		done
	} >"$T/$_hn/linkmaster.conf"
}

# host_start NAME / host_stop NAME: the master of $T/NAME (lib.sh).
host_start() {
	bench_master_start "$T/$1" || return 1
	HOST_PID=$MASTER_PID
}

host_stop() {
	bench_master_stop "$T/$1"
}

# ms_since NS: milliseconds from NS to now (1 decimal).
ms_since() {
	awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.1f\n", (b - a) / 1e6 }'
}

# up_links NAME: how many link rows of NAME's status say "up".
up_links() {
	timeout 10 "$LINKMASTER" -c "$T/$1" status 2>/dev/null |
	    awk '$2 == "link" && $NF == "up" { n++ } END { print n + 0 }'
}

# children NAME PID: PID's children called NAME (comm), one per line.
children() {
	pgrep -P "$2" -x "$1" || true
}

# sum_ticks PID...: their utime + stime, summed.
sum_ticks() {
	_st=0
	for _p in "$@"; do
		_st=$((_st + $(ticks "$_p")))
	done
	echo "$_st"
}

# mem FIELD PID...: FIELD (kB) of each, one per line: a field of
# /proc/PID/status (VmRSS, RssAnon) or Pss from /proc/PID/smaps_rollup.
mem() {
	_mf=$1
	shift
	for _p in "$@"; do
		if [ "$_mf" = Pss ]; then
			printf '/proc/%s/smaps_rollup\n' "$_p"
		else
			printf '/proc/%s/status\n' "$_p"
		fi
	done | xargs awk -v f="$_mf:" '$1 == f { print $2 }' 2>/dev/null
}

# smaps_top PID: the mappings of PID with the most Rss, "name perms kB"
# (anonymous ones by what they are), the largest first, comma-separated.
smaps_top() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { n = ($6 == "" ? "[anon]" : $6)
		sub(/.*\//, "", n); k = n " " $2; next }
	    $1 == "Rss:" { r[k] += $2 }
	    END { for (k in r) if (r[k] > 0) print r[k], k }' \
	    "/proc/$1/smaps" 2>/dev/null | sort -rn | head -n 8 |
	    awk '{ printf "%s%s %s %d kB", (NR > 1 ? ", " : ""), $2, $3, $1 }'
}

# pport N: the port of peer N's linkd.
pport() {
	sed -n "$(($1 + 1))p" "$T/pports"
}

# poll_until TIMEOUT_S CMD...: CMD every 50 ms until it succeeds; the
# number of polls in POLLS; 1 at the deadline.
poll_until() {
	_pd=$(( $(now_ns) + $1 * 1000000000 ))
	shift
	POLLS=1
	until "$@"; do
		[ "$(now_ns)" -ge "$_pd" ] && return 1
		sleep 0.05
		POLLS=$((POLLS + 1))
	done
	return 0
}

# rss_stats FILE: "sum avg median max" of the numbers in FILE.
rss_stats() {
	sort -n "$1" | awk '{ v[NR] = $1; s += $1 }
	END { if (NR == 0) { print "- - - -"; exit }
	    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	    printf "%d %.0f %.0f %d\n", s, s / NR, m, v[NR] }'
}

# snap FILE PID...: "PID TICKS" lines.
snap() {
	_sf=$1
	shift
	for _p in "$@"; do
		echo "$_p $(ticks "$_p")"
	done >"$_sf"
}

# delta A B: "SUM BUSY" between two snaps, BUSY listing pid:ticks (or -).
delta() {
	awk 'NR == FNR { a[$1] = $2; next }
	{ d = $2 - a[$1]; s += d; if (d > 0) b = b (b == "" ? "" : ",") $1 ":" d }
	END { print s + 0, (b == "" ? "-" : b) }' "$1" "$2"
}

# peer_ports N USED...: N free ports for the peers p000..., distinct from
# each other and from USED, to $T/pports (line N+1 is peer N's); the
# kernel's picks repeat now and then (200 of ~28000), so draw until there
# are enough.  1 (said) when there are not.
peer_ports() {
	_pn=$1
	shift
	printf '%s\n' "$@" >"$T/pused"
	: >"$T/pports"
	_pi=0
	_pt=0
	while [ $_pi -lt "$_pn" ] && [ $_pt -lt $((_pn * 3)) ]; do
		_pp=$(free_port)
		_pt=$((_pt + 1))
		[ -n "$_pp" ] && ! grep -qx "$_pp" "$T/pused" || continue
		echo "$_pp" >>"$T/pused"
		echo "$_pp" >>"$T/pports"
		_pi=$((_pi + 1))
	done
	[ $_pi = "$_pn" ] || { say "no $_pn more distinct free ports"; return 1; }
}

# hap_conf NAME BIND SERVER: $T/hap-NAME.cfg, one frontend to one server.
hap_conf() {
	cat >"$T/hap-$1.cfg" <<EOF
# written by $0: haproxy "$1" of the chain
global
	nbthread 1
	maxconn 4096
defaults
	mode tcp
	timeout connect 5s
	timeout client 1m
	timeout server 1m
frontend $1
	bind $2
	default_backend $1-out
backend $1-out
	server s1 $3
EOF
}
