#!/bin/sh
# autogen.sh: install missing build and test dependencies (Debian, as root),
# then generate the build system.  Without root it only warns about what is
# missing and goes on: configure names what it cannot find.
set -e
cd "$(dirname "$0")"

# Build: autotools, the four libraries (libbsd, libconfuse, libevent,
# OpenSSL), Check (libc6-dev and libmd-dev for the static link helper:
# README, "Static link helper").  Tests: socat (a plain
# client), iproute2 (network namespaces).  Benchmarks only: xinetd, runit, s6,
# haproxy (the link's peer in tests/bench/link.sh; make check never needs it).
PKGS="autoconf automake libtool pkg-config make gcc libc6-dev libbsd-dev
libmd-dev libconfuse-dev libevent-dev libssl-dev check socat iproute2 procps
xinetd runit s6 haproxy"

missing=""
if command -v dpkg-query >/dev/null 2>&1; then
	for p in $PKGS; do
		s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		case "$s" in *" installed") ;; *) missing="$missing $p" ;; esac
	done
fi
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "autogen.sh: installing:$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		# xinetd and runit ship init scripts; keep them from starting
		# system-wide daemons during the install.
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d.linkmaster
		chmod 755 /usr/sbin/policy-rc.d.linkmaster
		if [ ! -e /usr/sbin/policy-rc.d ]; then
			cp /usr/sbin/policy-rc.d.linkmaster /usr/sbin/policy-rc.d
			trap 'rm -f /usr/sbin/policy-rc.d' EXIT
		fi
		rm -f /usr/sbin/policy-rc.d.linkmaster
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $missing
	else
		echo "autogen.sh: warning: missing Debian packages:$missing" >&2
	fi
fi

mkdir -p m4 build-aux
autoreconf -fi
