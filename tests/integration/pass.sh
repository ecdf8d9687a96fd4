#!/bin/sh
# pass.sh: Postfix's "pass" type -- a unix socket over which clients hand
# connections as passed descriptors (postscreen -> smtpd).  The service
# library serves the passed connection; a sender that passes nothing only
# loses its own client.  And Postfix's stock master.cf (with postscreen,
# submission and smtps on) passes "linkmaster check" as it is.
. "$(dirname "$0")/lib.sh"

PASSFD=$top_builddir/tests/helpers/passfd
plan 11
lm_setup pass
need_built "$PASSFD"
PUB=$T/sock/public

# --- the stock Postfix table, its commands stubbed ---------------------------
mkdir "$T/pf" "$T/pf/conf" "$T/pf/libexec"
for c in $(awk '/^[a-z0-9]/ { print $8 }' "$top_srcdir/tests/integration/postfix-master.cf" | sort -u); do
	printf '#!/bin/sh\nexit 0\n' >"$T/pf/libexec/$c"
	chmod 755 "$T/pf/libexec/$c"
done
# chroot y: as root, check looks for the commands inside chroot_dir.
mkdir -p "$T/pf/chroot$T/pf"
cp -a "$T/pf/libexec" "$T/pf/chroot$T/pf/"
cp "$top_srcdir/tests/integration/postfix-master.cf" "$T/pf/conf/master.cf"
cat >"$T/pf/conf/linkmaster.conf" <<EOF
daemon_directory = "$T/pf/libexec"
chroot_dir = "$T/pf/chroot"
socket_dir = "$T/pf/sock"
state_dir = "$T/pf/state"
pid_file = "$T/pf/master.pid"
EOF
timeout 30 "$LINKMASTER" -c "$T/pf/conf" check >"$T/pf.out" 2>&1
rc=$?
is "$rc" 0 "Postfix's stock master.cf passes check"
diag_file "$T/pf.out"
ok '! grep -q "type" "$T/pf.out"' "no complaint about a type"
timeout 30 "$LINKMASTER" -c "$T/pf/conf" show >"$T/pfshow.out" 2>&1
ok 'grep -Eq "^smtpd +pass " "$T/pfshow.out"' "show prints smtpd as a pass service"

# --- a pass service, served through the service library ------------------------
lm_conf
lm_table <<EOF
# service	type	private	unpriv	chroot	wakeup	maxproc	command
echopass	pass	n	n	n	-	2	echo -o timeout=5
EOF
lm_start && pass "start" || bail_out "cannot start the master"
ok '[ -S "$PUB/echopass" ]' "a unix socket in public/"

out=$("$PASSFD" "$PUB/echopass" "hello through a passed fd" 2>&1)
is "$out" "hello through a passed fd" "the passed connection is served"
"$PASSFD" "$PUB/echopass" second >/dev/null 2>&1 &&
    "$PASSFD" "$PUB/echopass" third >/dev/null 2>&1
is $? 0 "two more clients, one after the other"

# A carrier with data but no descriptor: closed, logged, no harm done.
"$PASSFD" -n "$PUB/echopass" >"$T/nofd.out" 2>&1
is $? 0 "a message without a descriptor: the carrier is closed"
wait_log '^linkmaster/echopass\[[0-9]+\]: warning: pass: a message without a connection \(1 bytes\): closing$' &&
    pass "that is logged under the service's name" ||
    fail "that is logged under the service's name"
out=$("$PASSFD" "$PUB/echopass" "still serving" 2>&1)
is "$out" "still serving" "the service still serves afterwards, not throttled ($(count_log throttling) throttling lines)"
lm_stop && pass "stop" || fail "stop"
