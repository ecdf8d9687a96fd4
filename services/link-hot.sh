#!/bin/sh
# link-hot.sh MAP PLAIN-TRACE TLS-TRACE >services/link-hot.ld
#
# Writes the linker script fragment that puts what a static link helper
# touches next to each other (see the header it writes).  A developer's
# tool, run again when the libraries or the helper change much; the build
# only reads its output.  How its inputs were made:
#
#  MAP: the linker's map of the static helper:
#	rm services/link && make services/link LDFLAGS=-Wl,-Map=link.map
#  PLAIN-TRACE, TLS-TRACE: every address a helper touched, from valgrind
#  (lackey) running a helper up to the point where its link is up and
#  idle, then killed (SIGKILL: its exit path is not part of a running
#  helper), once for a peer in plaintext and once over TLS.  Each is two
#  traces concatenated: a standalone helper, as tests/bench/linktls.sh
#  part 4 starts them,
#	valgrind --tool=lackey --trace-mem=yes --log-file=plain.trace \
#	    services/link -o listen=... -o peer_name=... -o config_dir=...
#  and the first helper that a master starts (its daemon_directory's
#  "link" a script that execs valgrind the first time, the helper after):
#  only a helper under a master talks to it (proto.o, fdpass.o), and
#  those sections left cold cost a plaintext helper three windows more.
#  A TLS handshake under lackey takes a minute: the peer's linkd needs
#  -o hello_timeout and the helper -o connect_timeout above that, or the
#  trace has the retries in it.
#  The input sections that hold a touched address are listed; a section
#  of the helper's own, of libevent, libconfuse, libc, libssl or libcrypto
#  alike.  Valgrind hides the kernel's vDSO from the program, so glibc's
#  start-up in a static binary skips setting it up under valgrind
#  (_dl_non_dynamic_init: setup_vdso, then its symbols looked up) but
#  never without it: the code of dl-object.o, dl-setup_hash.o and
#  dl-lookup.o is counted as touched by both helpers (gdb, breakpoints on
#  every function left cold: these and the C run-time's were all a
#  plaintext helper ran of them).  Of the C run-time objects, only the code
#  (crt1.o's _start, crtbegin's frame_dummy) is placed, by file name
#  alone (their path names the compiler's version); crti.o and crtn.o
#  hold the halves of .init and .fini, which must stay in link order.
set -eu
map=$1 plain=$2 tls=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Input sections "START SIZE OUTSEC INSEC FILE", by address (fixed-width hex).
awk '
	/^Linker script and memory map/ { go = 1; next }
	!go { next }
	/^[._a-zA-Z]/ { out = $1; next }
	/^ [._a-zA-Z][^ ]*$/ { pend = $1; next }
	/^ +0x[0-9a-f]+ +0x[0-9a-f]+ / && pend != "" {
		print $1, $2, out, pend, $3; pend = ""; next }
	/^ [._a-zA-Z][^ ]* +0x[0-9a-f]+ +0x[0-9a-f]+ / {
		print $2, $3, out, $1, $4; pend = ""; next }
' "$map" | awk '$1 != "0x0000000000000000" && $2 != "0x0"' |
    sort >"$tmp/secs"
# Distinct addresses: code fetched (I) and data loaded (L, M), per trace.
for t in plain tls; do
	eval f=\$$t
	awk '$1 == "I" { split($2, a, ","); print "I", a[1] }
	    $1 == "L" || $1 == "M" { split($2, a, ","); print "D", a[1] }' \
	    "$f" | sort -u >"$tmp/$t.addr"
done
# Each touched input section: "CLASS FILE INSEC OUTSEC START SIZE PAGES",
# CLASS 0 touched by the plaintext helper, 1 by the TLS one only.
for t in plain tls; do
	awk -v kind="$t" '
	function hex(s,   i, n, c) {
		n = 0; s = tolower(s); sub(/^0x/, "", s)
		for (i = 1; i <= length(s); i++)
			n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return n
	}
	FNR == NR { n++; st[n] = hex($1); sz[n] = hex($2); line[n] = $0; next }
	{
		a = hex($2)
		lo = 1; hi = n
		while (lo < hi) { m = int((lo + hi + 1) / 2); if (st[m] <= a) lo = m; else hi = m - 1 }
		if (st[lo] <= a && a < st[lo] + sz[lo]) {
			split(line[lo], f, " ")
			pg[lo SUBSEP int((a - st[lo]) / 4096)] = 1
			hit[lo] = 1
		}
	}
	END {
		for (k in pg) { split(k, q, SUBSEP); np[q[1]]++ }
		for (i in hit) print line[i], np[i] + 0
	}' "$tmp/secs" "$tmp/$t.addr" >"$tmp/$t.hit"
done
awk 'FNR == NR { p[$1] = 1; print 0, $0; next } !($1 in p) { print 1, $0 }' \
    "$tmp/plain.hit" "$tmp/tls.hit" >"$tmp/hit0"
# What valgrind cannot show (see above): the vDSO's set-up.
awk '$3 ~ /^\.text/ && $4 == ".text" &&
    $5 ~ /libc\.a\((dl-object|dl-setup_hash|dl-lookup)\.o\)$/ {
	print 0, $0, 1 }' "$tmp/secs" >>"$tmp/hit0"
# glibc picks a string function's variant by the CPU (ifunc): valgrind's
# CPU is not the one the helper runs on.  A variant touched brings its
# siblings (memmove-*.o for memmove-avx-unaligned-erms.o), small each.
fam='-(sse2|sse4|ssse3|avx|avx2|avx512|evex|erms)'
awk -v fam="$fam" '
function family(f,   m) {
	if (f !~ /libc\.a\(/ || !match(f, /\([a-z0-9_]+-/)) return ""
	m = substr(f, RSTART + 1, RLENGTH - 2)
	return f ~ fam ? m : ""
}
FNR == NR { print; k = family($6); if (k != "" && !(k in cl)) cl[k] = $1; next }
$3 ~ /^\.text/ { k = family($5); if (k != "" && (k in cl)) print cl[k], $0, 1 }
' "$tmp/hit0" "$tmp/secs" >"$tmp/hit1"
# The linker merges equal strings (.rodata.str*: a string, or the tail of
# one, is kept once per output section), so the trace's address of a
# string names one of the objects that have it, not always the one whose
# code reads it; and a string that only the kernel reads (a file name
# passed to open) is in no trace.  An object whose code ran brings its
# strings (a few hundred bytes each).  The lowest class of a section
# wins.
awk 'FNR == NR { print
	if ($5 ~ /^\.text/ && (!($6 in cl) || $1 < cl[$6])) cl[$6] = $1
	next }
$3 ~ /^\.rodata/ && $4 ~ /^\.rodata\.str/ && ($5 in cl) { print cl[$5], $0, 1 }
' "$tmp/hit1" "$tmp/secs" | sort -s -k1,1n | sort -s -u -k6,6 -k5,5 >"$tmp/hit"
# Sparse: a section of more than 16 KiB with less than half its pages
# touched goes after the dense ones, so that its untouched pages do not
# share a fault-around window with touched ones.  Then in link order.
emit() {
	awk -v out="$1" '
	($4 == out || $4 == out ".lmhot") && ($6 !~ /(^|\/)crt[^\/]*\.o$/ ||
	    $5 == ".text" && $6 !~ /\/crt[in]\.o$/) {
		sz = sprintf("%d", $3); pages = int((sz + 4095) / 4096)
		sparse = (sz > 16384 && $7 * 2 < pages) ? 1 : 0
		print $1, sparse, $2, $5, $6
	}' "$tmp/hit" | sort -k1,1n -k2,2n -k3,3 | awk '{
		f = $5
		if (match(f, /[^\/]*\.a\(/)) {
			a = substr(f, RSTART, RLENGTH - 1)
			m = substr(f, RSTART + RLENGTH); sub(/\)$/, "", m)
			f = "*" a ":" m
		} else if (f ~ /^\//)
			sub(/.*\//, "*/", f)	# not ours: by its name alone
		else
			f = "*" f
		if (!seen[f, $4]++)
			printf "\t\t%s(%s)\n", f, $4
	}'
}
cat <<HDR
/*
 * link-hot.ld: where the static link helper's hot code and read-only data
 * go (GNU ld, INSERT: added to the default script, not replacing it).
 * GENERATED by services/link-hot.sh from traces of running helpers;
 * see it for how.  Do not edit by hand.
 *
 * The kernel maps a file's pages into a process in 64 KiB fault-around
 * windows, so a helper's VmRSS counts every 64 KiB window of the binary
 * that it touches once.  In link order, what a helper runs is spread
 * over libc.a, libssl.a and libcrypto.a (3.5 MiB of text): a TLS helper
 * touched 55 windows of code for 1.7 MiB of sections run.  Here the input
 * sections that the traced helpers touched come first, those of the
 * plaintext helper (which runs no TLS) before those of the TLS one only,
 * big sparse ones last.  A name not in the libraries linked (another
 * OpenSSL or glibc build) matches nothing and its section stays where
 * the default script puts it: the layout is worse, nothing breaks.
 */
SECTIONS
{
	.text.lmhot :
	{
HDR
emit .text
cat <<MID
	}
}
INSERT BEFORE .text;

SECTIONS
{
	.rodata.lmhot :
	{
MID
emit .rodata
cat <<TAIL
	}
}
/* After: before it, it would land in the executable segment. */
INSERT AFTER .rodata;
TAIL
