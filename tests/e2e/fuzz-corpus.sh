#!/bin/sh
# Every fuzz target (tests/fuzz/), built with the replay driver, over its
# seed corpus in tests/fuzz/corpus/: no input may crash or abort, and each
# target must replay at least one input.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
fail=0
for t in packet cache podscan query watch objects corefile kubeconfig jparse; do
	out=$("$top_builddir/tests/fuzz/fuzz_$t" "$top_srcdir/tests/fuzz/corpus/$t") || {
		echo "FAIL: fuzz_$t crashed on its corpus" >&2
		fail=1
		continue
	}
	n=$(printf '%s\n' "$out" | sed -n 's/^replayed \([0-9]*\) inputs$/\1/p')
	if [ -z "$n" ] || [ "$n" -eq 0 ]; then
		echo "FAIL: fuzz_$t replayed no input" >&2
		fail=1
	else
		echo "ok: fuzz_$t replayed $n inputs"
	fi
done
exit $fail
