# lib-rate.sh: what inetd.sh and prefork.sh share, sourced after lib.sh:
# connection-rate runs of tclient (one line per connection) against
# servers on 127.0.0.1 ports, sized for about $DUR seconds a run, REPS
# runs round robin with the order rotating each time, the median as the
# figure, and a failed run failing the rows it belongs to with its
# reason (the first tclient line, kept in $T/fails.PORT).  $DUR is the
# script's.

# up ADDR: one round trip works.
up() {
	"$TCLIENT" -w 2 "$1" >/dev/null 2>&1
}

# wait_up PORT...: until each answers (10 s each); 1, said, if one does
# not.
wait_up() {
	for _ua in "$@"; do
		wait_for 10 up 127.0.0.1:"$_ua" || {
			say "nothing answers on 127.0.0.1:$_ua"
			return 1
		}
	done
	return 0
}

# run C N PORT: tclient C clients x N conns; prints the rate, or "-" and
# the tclient line on stderr (and in $T/fails.PORT) if anything failed
# (an error or a refused connection).
run() {
	_out=$("$TCLIENT" -c "$1" -n "$2" -l 1 -w 60 127.0.0.1:"$3" 2>&1)
	case $_out in
	*" errors=0 "*" rate="*)
		case $_out in *" refused=0 "*)
			# The rate alone: other fields follow it.
			_rate=${_out##*rate=}
			echo "${_rate%% *}"
			return 0 ;;
		esac ;;
	esac
	echo "$B_NAME: port $3: $_out" >&2
	printf '%s\n' "$_out" | head -n 1 | tr '|' '/' >>"$T/fails.$3"
	echo -
}

# why PORT...: the first recorded failure of these servers, or nothing.
why() {
	for _wp in "$@"; do
		[ -s "$T/fails.$_wp" ] &&
		    { echo "port $_wp: $(head -n 1 "$T/fails.$_wp")"; return; }
	done
}

# rotate N WORD...: the words, starting with the (N mod count)-th.
rotate() {
	_rn=$1
	shift
	_rn=$((_rn % $#))
	while [ "$_rn" -gt 0 ]; do
		_rw=$1
		shift
		set -- "$@" "$_rw"
		_rn=$((_rn - 1))
	done
	echo "$@"
}

# rounds REPS FUNC KEY...: REPS rounds of "FUNC KEY" for every KEY, each
# round starting with the next KEY, so that none always runs first after
# the warm-up or right after another's load.  The failures recorded
# before are forgotten: only these runs count.
rounds() {
	_rr=$1
	_rf=$2
	shift 2
	rm -f "$T"/fails.*
	_ri=0
	while [ "$_ri" -lt "$_rr" ]; do
		for _rk in $(rotate "$_ri" "$@"); do
			"$_rf" "$_rk"
		done
		_ri=$((_ri + 1))
	done
}

# fig RATE...: their median, or "failed" if a run failed.
fig() {
	case " $* " in
	*" - "*) echo failed ;;
	*) median "$@" ;;
	esac
}

# size RATE C: connections per client for about DUR seconds (20 at least).
size() {
	awk -v r="$1" -v c="$2" -v d="$DUR" \
	    'BEGIN { n = int(r * d / c + 0.5); print n < 20 ? 20 : n }'
}

# row BENCH METRIC OURS BASELINE_NAME BASELINE MIN DECIMALS PORT...: the
# result row of OURS against BASELINE with the target ">= MINx", failed
# with the reason if a run on one of the PORTs failed.
row() {
	_ob=$1 _om=$2 _oo=$3 _on=$4 _ov=$5 _ot=$6 _od=$7
	shift 7
	_of=$(why "$@")
	if [ -n "$_of" ]; then
		result "$_ob" "$_om" "$_oo" "$_on" "$_ov" "failed ($_of)" \
		    ">= ${_ot}x" no
	else
		_oq=$(ratio "$_oo" "$_ov" "$_od")
		result "$_ob" "$_om" "$_oo" "$_on" "$_ov" "${_oq}x" \
		    ">= ${_ot}x" "$(yesno cmp_ok "$_oq" ">=" "$_ot")"
	fi
}
