#!/bin/sh
# paths.sh: the master's paths.  The pid file is opened without following
# a symlink (a root master would truncate its target) and must not be a
# hard link; a symlinked socket_dir/private is refused, not chmod'ed;
# socket_dir, state_dir, the pid file's directory and their parents must
# be owned by root or the master's user and not be group- or
# world-writable (a sticky /tmp above them is fine), as OpenSSH's
# StrictModes and "postfix check" want, with a clear error.
. "$(dirname "$0")/lib.sh"

need_root
id nobody >/dev/null 2>&1 || skip_all "needs the user nobody"

plan 16
lm_setup paths
lm_table <<'EOF'
echo	unix	n	n	n	-	2	echo
EOF
mkdir "$T/run"
chmod 755 "$T/run"
# Everything under $T/run, which the cases below spoil one at a time.
lm_conf "socket_dir = \"$T/run/sock\"" "state_dir = \"$T/run/state\"" \
    "pid_file = \"$T/run/pid/master.pid\""
mkdir -p "$T/run/pid"
echo precious >"$T/victim"

# --- the pid file ------------------------------------------------------------------
ln -s "$T/victim" "$T/run/pid/master.pid"
lm start
ok '[ "$LM_RC" = 1 ] && grep -qx "linkmaster: pid file $T/run/pid/master.pid: is a symbolic link: refusing to follow it" "$T/err"' \
    "a symlinked pid file is refused"
is "$(cat "$T/victim")" precious "... and its target is untouched"
rm "$T/run/pid/master.pid"
ln "$T/victim" "$T/run/pid/master.pid"
lm start
ok '[ "$LM_RC" = 1 ] && grep -q "pid file .*: not a regular file with one link: refusing it" "$T/err"' \
    "a hard-linked pid file is refused"
is "$(cat "$T/victim")" precious "... and the linked file is untouched"
rm "$T/run/pid/master.pid"

# --- socket_dir/private as a symlink -------------------------------------------------
mkdir -p "$T/run/sock" "$T/elsewhere"
chmod 755 "$T/elsewhere"
ln -s "$T/elsewhere" "$T/run/sock/private"
lm start
ok '[ "$LM_RC" != 0 ] && grep -q "$T/run/sock/private: not a directory (a symbolic link)" "$T/err"' \
    "a symlinked private/ is refused"
is "$(stat -c '%a %U' "$T/elsewhere")" "755 root" "... and its target is neither chmod'ed nor chown'ed"
ok '[ ! -e "$T/run/pid/master.pid" ]' "... and no pid file is left"
rm "$T/run/sock/private"

# --- ownership and modes ------------------------------------------------------------------
chmod 775 "$T/run"
lm check
ok '[ "$LM_RC" = 1 ] && grep -qx "$CONF/linkmaster.conf: socket_dir $T/run/sock: $T/run is writable by its group (mode 0775): refusing it (chmod go-w $T/run)" "$T/err"' \
    "check: a group-writable parent of socket_dir is an error"
ok 'grep -q "^$CONF/linkmaster.conf: state_dir $T/run/state: $T/run is writable" "$T/err"' \
    "check: ... and of state_dir (which does not exist yet)"
ok 'grep -q "^$CONF/linkmaster.conf: pid_file $T/run/pid: $T/run is writable" "$T/err"' \
    "check: ... and of the pid file's directory"
lm start
ok '[ "$LM_RC" != 0 ] && grep -q "socket_dir $T/run/sock: $T/run is writable by its group" "$T/err"' \
    "start: refused with the same error"
chmod 755 "$T/run"
mkdir -p "$T/run/state"
chmod 1777 "$T/run/state"
lm check
ok '[ "$LM_RC" = 1 ] && grep -q "state_dir $T/run/state: $T/run/state is writable by its group and others (mode 1777)" "$T/err"' \
    "check: a world-writable state_dir is an error, sticky or not"
chmod 755 "$T/run/state"
chown nobody "$T/run/state"
lm check
ok '[ "$LM_RC" = 1 ] && grep -q "state_dir $T/run/state: $T/run/state is owned by uid $(id -u nobody), not by root or the master.s user (uid 0): refusing it" "$T/err"' \
    "check: a state_dir owned by someone else is an error"
chown root "$T/run/state"

# --- all well ------------------------------------------------------------------------------
lm check
is "$LM_RC" 0 "check: all well (a sticky /tmp above is fine)"
diag_file "$T/err"
lm_start
is "$LM_RC" 0 "start: all well"
lm_stop
ok '[ ! -e "$T/run/pid/master.pid" ]' "stop removes the pid file"
