#!/bin/sh
# check.sh: what "linkmaster check" adds for the operator: an inet host
# name that does not resolve is an error at its line (a name in .invalid
# fails locally, no network needed), a missing syslog_socket is a warning
# (exit 0), start refuses what check refuses, every bad value of
# linkmaster.conf is reported, not only the first, an include() of a fifo
# or a device is refused at once instead of hanging check, and a NUL byte
# in a value is an error at its line.
. "$(dirname "$0")/lib.sh"

plan 15
lm_setup check
CF=$CONF/master.cf
free_port P

lm_conf
lm_table <<EOT
# service	type	private	unpriv	chroot	wakeup	maxproc	command
echo		unix	n	n	n	-	1	echo
localhost:$P	inet	n	n	n	-	1	echo
nosuchhost.invalid:9	inet	n	n	n	-	1	echo
EOT
lm check
is "$LM_RC" 1 "check: exit 1"
ok 'grep -Eq "^$CF:4: inet service \"nosuchhost\.invalid:9\": host \"nosuchhost\.invalid\": .+" "$T/err"' \
    "the unresolvable host is an error at its line"
ok '! grep -q "localhost" "$T/err"' "localhost resolves"
diag_file "$T/err"
lm start
is "$LM_RC" 1 "start refuses it"

lm_table <<EOT
# service	type	private	unpriv	chroot	wakeup	maxproc	command
echo		unix	n	n	n	-	1	echo
EOT
lm_conf "syslog_socket = \"$T/nosuch.sock\""
lm check
is "$LM_RC" 0 "a missing syslog_socket: exit 0"
ok 'grep -qx "linkmaster: warning: syslog_socket $T/nosuch.sock: No such file or directory: log lines will be lost until it exists (or set log_file)" "$T/err"' \
    "but a warning says the log would be lost"
lm_conf "syslog_socket = \"$T/nosuch.sock\"" "log_file = \"$T/lm.log\""
lm check
is "$LM_RC:$(cat "$T/err")" "0:" "no warning with log_file"
lm_conf
lm check
is "$LM_RC:$(cat "$T/err")" "0:" "no warning with the test's syslog socket"

# show: a long inet name widens the name column for every row.
lm_table <<EOT
# service	type	private	unpriv	chroot	wakeup	maxproc	command
echo		unix	n	n	n	-	1	echo
127.0.0.1:$P	inet	n	n	n	-	1	echo
EOT
lm show
is "$LM_RC:$(grep -v '^#' "$T/out" | awk '{ print index($0, " " $2 " ") }' | sort -u | wc -l | tr -d ' ')" \
    "0:1" "show: the TYPE column is aligned under a long inet name"
diag_file "$T/out"

# show with a bad entry: the good ones are printed, the error on stderr.
lm_table <<EOT
# service	type	private	unpriv	chroot	wakeup	maxproc	command
echo		unix	n	n	n	-	1	echo
bad		tcp	n	n	n	-	1	echo
echo2		unix	n	n	n	-	1	echo
EOT
lm show
ok '[ "$LM_RC" = 1 ] && grep -q "^echo " "$T/out" && grep -q "^echo2 " "$T/out" && ! grep -q "^bad " "$T/out" && grep -q "^$CF:3: " "$T/err"' \
    "show prints every valid entry, the bad one's error on stderr, exit 1"
diag_file "$T/out" "$T/err"

# An unclosed quote: the line where it was opened, not where it ended.
lm_table <<EOT
echo		unix	n	n	n	-	1	echo
EOT
lm_conf 'syslog_name = "oops' 'host_name = "h"'
QL=$(grep -n oops "$CONF/linkmaster.conf" | cut -d: -f1)
lm check
ok '[ "$LM_RC" = 1 ] && grep -qx "$CONF/linkmaster.conf:$QL: unclosed quote (\")" "$T/err"' \
    "an unclosed quote is named at its line ($QL)"
diag_file "$T/err"

# Every bad value of linkmaster.conf is reported at its line, not only the
# first (libconfuse goes on after a value error; the load still fails).
lm_conf 'max_use = abc' 'syslog_facility = "nosuch"' 'stop_timeout = 1x'
LC=$CONF/linkmaster.conf
L1=$(grep -n '^max_use = abc' "$LC" | cut -d: -f1)
L2=$(grep -n '^syslog_facility' "$LC" | cut -d: -f1)
L3=$(grep -n '^stop_timeout = 1x' "$LC" | cut -d: -f1)
lm check
ok '[ "$LM_RC" = 1 ] &&
    grep -qx "$LC:$L1: option \"max_use\": bad number: \"abc\"" "$T/err" &&
    grep -qx "$LC:$L2: option \"syslog_facility\": unknown facility: \"nosuch\"" "$T/err" &&
    grep -qx "$LC:$L3: option \"stop_timeout\": bad time value: \"1x\"" "$T/err"' \
    "check reports all three bad values at their lines ($L1, $L2, $L3), exit 1"
diag_file "$T/err"

# include() of a fifo nobody writes to: refused at once, at its line (an
# open for reading would wait for a writer, and check with it).
mkfifo "$CONF/peers.fifo"
lm_conf 'include("peers.fifo")'
IL=$(grep -n 'peers\.fifo' "$LC" | cut -d: -f1)
t0=$(lm_now_ms)
lm check
t1=$(lm_now_ms)
ok '[ "$LM_RC" = 1 ] && [ $((t1 - t0)) -lt 10000 ] &&
    grep -qx "$LC:$IL: include \"peers.fifo\": $CONF/peers.fifo: not a regular file (a fifo)" "$T/err"' \
    "include() of a fifo is refused at its line ($IL), at once ($((t1 - t0)) ms)"
diag_file "$T/err"
rm -f "$CONF/peers.fifo"

# include() of a device (/dev/zero would be read for ever): refused too.
lm_conf 'include("/dev/zero")'
IL=$(grep -n 'dev/zero' "$LC" | cut -d: -f1)
lm check
ok '[ "$LM_RC" = 1 ] &&
    grep -qx "$LC:$IL: include \"/dev/zero\": /dev/zero: not a regular file (a character device)" "$T/err"' \
    "include() of a device is refused at its line ($IL)"
diag_file "$T/err"

# A NUL byte in a value: an error at its line, not a value cut short.
lm_conf
printf 'host_name = "ab\000cd"\n' >>"$LC"
NL=$(wc -l <"$LC" | tr -d ' ')
lm check
ok '[ "$LM_RC" = 1 ] && grep -qx "$LC:$NL: NUL byte: a value cannot hold one" "$T/err"' \
    "a NUL byte in a value is an error at its line ($NL)"
diag_file "$T/err"
