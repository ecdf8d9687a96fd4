#!/bin/sh
# unpriv.sh: unprivileged children (a root master, unpriv y): they can
# reopen /dev/stdout and /dev/stderr (the pipes are theirs); private/ and
# a private link directory belong to default_user, so that linkd as nobody
# reaches its backend in private/ -- the documented link example
# (linkmaster-link(8)) with the defaults, on one master that is its own
# peer.
. "$(dirname "$0")/lib.sh"

need_root
need_built "$top_builddir/services/link" "$top_builddir/services/linkd"
need_cmd socat "socat"
id nobody >/dev/null 2>&1 || skip_all "needs the user nobody"

plan 8
lm_setup unpriv
free_port PORT

lm_conf 'host_name = "self"' "$(peer self 127.0.0.1 "$PORT")"
lm_table <<EOF
say	daemon	-	-	n	-	1	/bin/sh -c
    { id -un; echo out-reopened >/dev/stdout; echo err-reopened >/dev/stderr; exec sleep 1000 }
127.0.0.1:$PORT	inet	n	-	n	-	4	linkd -o backend=echo -o pool=4
echo	unix	-	-	n	-	-	echo
link	link	-	-	n	-	-	link -o retry_min=100ms -o retry_max=1s
EOF
lm_start || bail_out "cannot start the master"

# --- /dev/stdout and /dev/stderr ------------------------------------------------
wait_log '^linkmaster/say\[[0-9]+\]: nobody$' 10 &&
    pass "the unpriv child runs as nobody" || fail "say runs as nobody"
wait_log '^linkmaster/say\[[0-9]+\]: out-reopened$' 5 &&
    pass "nobody reopens /dev/stdout" || fail "nobody reopens /dev/stdout"
wait_log '^linkmaster/say\[[0-9]+\]: warning: err-reopened$' 5 &&
    pass "nobody reopens /dev/stderr" || fail "nobody reopens /dev/stderr"
ok '! grep -q "Permission denied" "$LOG"' "no 'Permission denied' in the log"

# --- private/ ---------------------------------------------------------------------
is "$(stat -c '%U %a' "$T/sock/private")" "nobody 700" \
    "private/ belongs to default_user, mode 700"
is "$(stat -c '%U %a' "$T/sock/private/link")" "nobody 700" \
    "a private link's directory too"

# --- the link example: client -> link (nobody) -> linkd (nobody) -> private/echo
wait_for "link/self's socket" 10 test -S "$T/sock/private/link/self" ||
    bail_out "no socket for link/self"
reply() {
	printf '%s\n' "$1" | timeout 10 socat -t 5 - \
	    UNIX-CONNECT:"$T/sock/private/link/self" 2>/dev/null
}
wait_for "an answer through the link" 10 sh -c \
    "[ \"\$(printf 'ping\n' | timeout 5 socat -t 3 - UNIX-CONNECT:$T/sock/private/link/self 2>/dev/null)\" = ping ]"
is "$(reply hello-through-the-link)" hello-through-the-link \
    "a request goes through link and linkd to private/echo and back"
ok '! grep -Eq "linkd\[[0-9]+\]: .*(Permission denied|cannot connect)" "$LOG"' \
    "linkd reached its backend"
lm_stop
