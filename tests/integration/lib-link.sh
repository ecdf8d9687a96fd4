# lib-link.sh: what the link tests share beyond lib.sh (POSIX sh, sourced
# after it): the link programs, standalone linkd and echo backends
# started and waited for, and keys made by "linkmaster tls-init".  What
# one of these starts and does not come up bails the test out.

LINK=$top_builddir/services/link
LINKD=$top_builddir/services/linkd
RECORDER=$top_builddir/tests/helpers/recorder
# A link that dials again soon: the default back-off is for real networks.
LINKOPTS="-o retry_min=100ms -o retry_max=1s"
# This host's key and certificate, where tls_init (tls-init) puts them.
MYTLS='tls_key = "tls_key.pem"
tls_cert = "tls_cert.pem"'

# listening PORT: a TCP socket listens on PORT (state 0A in /proc/net:
# no ss needed).
listening() {
	awk -v p=":$(printf '%04X' "$1")" '$4 == "0A" &&
	    substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
	    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# echo_start NAME: an echo backend on $T/NAME.sock (its output in
# $T/NAME.err), once the socket is there.
echo_start() {
	lm_bg "$T/$1.err" "$ECHO_SVC" -o listen="$T/$1.sock"
	wait_for "$1 backend" 5 test -S "$T/$1.sock" ||
	    bail_out "$1 did not start"
}

# linkd_start NAME PORT [OPTION...]: a standalone linkd on 127.0.0.1:PORT
# as host beta for peer alpha@127.0.0.1 (an OPTION may say otherwise:
# the last -o of a name wins), its log in $T/NAME.err, its pid in
# LINKD_PID; once it listens.
linkd_start() {
	_lsn=$1
	_lsp=$2
	shift 2
	lm_bg "$T/$_lsn.err" "$LINKD" -o listen=127.0.0.1:"$_lsp" \
	    -o peers=alpha@127.0.0.1 -o host_name=beta "$@"
	LINKD_PID=$LM_BG_PID
	wait_for "$_lsn to listen" 5 listening "$_lsp" ||
	    bail_out "$_lsn did not start"
}

# tls_init HOST: "linkmaster tls-init" for HOST (its conf dir gets the
# files MYTLS names); the fingerprint it prints in FP_HOST.
tls_init() {
	lm_host "$1"
	lm_conf
	lm tls-init || bail_out "tls-init for $1: $(cat "$T/err")"
	eval "FP_$1=\$(sed -n 's/^	fingerprint = \"\\(sha256:[0-9a-f]*\\)\"\$/\\1/p' \"\$T/out\")"
}

# link_table [OPTION...]: the current host's master.cf, one link service
# (a helper per peer section): link $LINKOPTS OPTION...
link_table() {
	lm_table <<LINKEOF
link	link	n	n	n	-	-	link $LINKOPTS${*:+ $*}
LINKEOF
}

# peer_stop HOST: stop HOST's master; alpha's link/HOST goes down (alpha
# is the current host then).
peer_stop() {
	lm_host "$1"
	lm_stop || bail_out "cannot stop $1"
	lm_host alpha
	wait_for "link down" 10 status_matches link/"$1" '^down: ' ||
	    bail_out "link/$1 does not go down"
}
