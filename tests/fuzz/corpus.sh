#!/bin/sh
# corpus.sh: every fuzz target over every input of its seed corpus
# (tests/fuzz/corpus/NAME), built without libFuzzer (fuzz_main.c).  A
# target aborts on a broken invariant; each input is one TAP test.
: "${top_srcdir:=.}" "${top_builddir:=.}"
n=0
for t in table linkproto; do
	n=$((n + $(ls "$top_srcdir/tests/fuzz/corpus/$t" | wc -l)))
done
echo "1..$n"
err=$top_builddir/tests/fuzz/corpus.err
i=0
for t in table linkproto; do
	for f in "$top_srcdir/tests/fuzz/corpus/$t"/*; do
		i=$((i + 1))
		"$top_builddir/tests/fuzz/fuzz_$t" "$f" 2>"$err"
		rc=$?
		if [ $rc -eq 0 ]; then
			echo "ok $i - fuzz_$t ${f##*/}"
		else
			echo "not ok $i - fuzz_$t ${f##*/} (exit $rc)"
			sed 's/^/# /' "$err"
		fi
	done
done
rm -f "$err"
