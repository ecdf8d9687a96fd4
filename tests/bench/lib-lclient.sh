# lib-lclient.sh: the lclient runs of link.sh and linktls.sh, sourced after
# lib.sh.  Each run of a workload is a line of $T/runs ("LABEL rate p50
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
why() {
	lc_why "$1"
}
	    END { if (n) printf "%d run(s) failed:%s\n", n, w }' "$T/fails"
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
