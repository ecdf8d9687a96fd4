#!/bin/sh
# debian.sh: "dpkg-buildpackage -us -uc -b" on a copy of the source tree
# builds a package with the command, the helpers, the man pages, the
# configuration as conffiles and the systemd unit.  Skipped without
# dpkg-dev (or git, to copy the tree).  The one slow test: it builds the
# whole tree once more (about a minute on two cores).
. "$(dirname "$0")/lib.sh"

need_cmd dpkg-buildpackage dpkg-dev
need_cmd git git
git -C "$top_srcdir" rev-parse >/dev/null 2>&1 || skip_all "not a git tree"

plan 8
lm_setup debian
mkdir "$T/src"
(cd "$top_srcdir" && git ls-files -z | tar --null -T - -cf -) |
    tar -C "$T/src" -xf - || bail_out "cannot copy the tree"
# Not the caller's make flags (the jobserver of make check).
unset MAKEFLAGS MFLAGS MAKELEVEL
(cd "$T/src" && MAKEFLAGS=-j2 dpkg-buildpackage -us -uc -b) \
    >"$T/build.log" 2>&1
rc=$?
is "$rc" 0 "dpkg-buildpackage -us -uc -b"
[ "$rc" = 0 ] || tail -n 30 "$T/build.log" | sed 's/^/# /'
DEB=$(ls "$T"/linkmaster_*.deb 2>/dev/null | head -n 1)
ok '[ -n "$DEB" ]' "a .deb ($(basename "${DEB:-none}"))"
dpkg-deb -c "$DEB" >"$T/contents" 2>&1
sed 's/^/# /' "$T/contents"
has_file() { grep -Eq " \\.$1\$" "$T/contents"; }
ok 'has_file /usr/bin/linkmaster' "the command"
ok 'has_file /usr/libexec/linkmaster/echo && has_file /usr/libexec/linkmaster/link && has_file /usr/libexec/linkmaster/linkd && has_file /usr/libexec/linkmaster/tlstool' \
    "the helpers"
ok 'has_file /usr/share/man/man1/linkmaster.1.gz && has_file /usr/share/man/man5/linkmaster.cf.5.gz && has_file /usr/share/man/man8/linkmaster-link.8.gz' \
    "the man pages"
dpkg-deb -I "$DEB" conffiles >"$T/conffiles" 2>&1
is "$(one_line <"$T/conffiles")" "/etc/linkmaster/linkmaster.conf|/etc/linkmaster/master.cf" \
    "the configuration is conffiles"
ok 'has_file /usr/lib/systemd/system/linkmaster.service' "the systemd unit"
dpkg-deb --fsys-tarfile "$DEB" |
    tar -xOf - ./usr/lib/systemd/system/linkmaster.service >"$T/unit" 2>&1
ok 'grep -qx "ExecStart=/usr/bin/linkmaster start-fg" "$T/unit" && grep -qx "Type=notify" "$T/unit"' \
    "the unit runs /usr/bin/linkmaster start-fg, Type=notify"
