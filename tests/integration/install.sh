#!/bin/sh
# install.sh: "make install" into a DESTDIR installs the command, the
# helpers, the man pages, the systemd unit (Type=notify, ExecReload running
# "linkmaster reload") and the sample configuration, whose in-place paths
# give way to the defaults; a second install keeps the operator's files.
. "$(dirname "$0")/lib.sh"

need_cmd make make

plan 9
lm_setup install
D=$T/inst
PFX=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
SYSCONF=$(sed -n 's/^sysconfdir = //p' "$top_builddir/Makefile" |
    sed "s|\${prefix}|$PFX|")
# Not the caller's make: its flags (-j, the jobserver) are not for us.
unset MAKEFLAGS MFLAGS MAKELEVEL
make -s -C "$top_builddir" install DESTDIR="$D" >"$T/make.out" 2>&1
is "$?" 0 "make install DESTDIR=..."
[ "$(cat "$T/make.out" | grep -c .)" -gt 0 ] && [ -n "${LM_VERBOSE:-}" ] && diag_file "$T/make.out"
ok '[ -x "$D$PFX/bin/linkmaster" ] && [ -x "$D$PFX/libexec/linkmaster/echo" ] && [ -x "$D$PFX/libexec/linkmaster/tlstool" ]' \
    "the command and the helpers"
ok '[ -f "$D$PFX/share/man/man1/linkmaster.1" ] && [ -f "$D$PFX/share/man/man5/linkmaster.cf.5" ]' \
    "the man pages"
U=$D$PFX/lib/systemd/system/linkmaster.service
ok 'grep -qx "Type=notify" "$U" && grep -qx "ExecReload=$PFX/bin/linkmaster reload" "$U" && grep -qx "ExecStart=$PFX/bin/linkmaster start-fg" "$U"' \
    "linkmaster.service: Type=notify, start-fg, ExecReload runs reload"
E=$D$SYSCONF/linkmaster
ok '[ -f "$E/master.cf" ] && [ -f "$E/linkmaster.conf" ]' \
    "master.cf and linkmaster.conf in \$(sysconfdir)/linkmaster"
ok '! grep -Eq "^[a-z_]+ = \"\\.\\./" "$E/linkmaster.conf"' \
    "no in-place relative path left active"
"$D$PFX/bin/linkmaster" -c "$E" show >"$T/show.out" 2>&1
is "$?" 0 "the installed configuration reads (show)"
diag_file "$T/show.out"
echo "# mine" >>"$E/master.cf"
make -s -C "$top_builddir" install DESTDIR="$D" >"$T/make2.out" 2>&1
is "$?" 0 "a second make install"
ok 'tail -n 1 "$E/master.cf" | grep -qx "# mine"' "the operator's master.cf is kept"
