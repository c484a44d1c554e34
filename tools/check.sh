#!/bin/sh
# Install the dependencies, build clusterdns with AddressSanitizer and
# UndefinedBehaviorSanitizer, and run every test: the cmocka unit tests and
# the end-to-end tests that ask the real daemon with dig and kdig; then
# `make distcheck` (the release tarball built, tested from a read-only
# source tree in a separate build directory, installed and uninstalled).
#
#   tools/check.sh            everything
#   JOBS=4 tools/check.sh     more parallel make jobs
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=${JOBS:-2}

tools/install-deps.sh

# Always regenerate the build system, so a stale one never hides a change.
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi

build="$top/_build/check"
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ]; then
	"$top/configure" --enable-sanitizers -q CFLAGS="-g -O1"
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

status=0
make -j"$jobs" all >/dev/null || { make all; exit 1; }
make -j"$jobs" check || status=$?

# The release tarball, built and tested as a user would (only when the
# tests above passed; it runs them again, without the sanitizers).
dist=skipped
if [ "$status" -eq 0 ]; then
	if make -j"$jobs" distcheck >distcheck.log 2>&1; then
		dist=passed
	else
		dist=failed
		status=1
		echo "---- make distcheck failed (_build/check/distcheck.log) ----"
		tail -n 60 distcheck.log
	fi
fi
echo "make distcheck: $dist"

# One plain summary line, whatever the harness printed above; make
# distcheck counts as one test more.
if [ -f test-suite.log ]; then
	pass=$(sed -n 's/^# PASS: *\([0-9]*\)$/\1/p' test-suite.log | head -1)
	fail=$(sed -n 's/^# FAIL: *\([0-9]*\)$/\1/p' test-suite.log | head -1)
	errs=$(sed -n 's/^# ERROR: *\([0-9]*\)$/\1/p' test-suite.log | head -1)
	skip=$(sed -n 's/^# SKIP: *\([0-9]*\)$/\1/p' test-suite.log | head -1)
	fail=$((${fail:-0} + ${errs:-0}))
	pass=${pass:-0}
	case $dist in
	passed) pass=$((pass + 1)) ;;
	failed) fail=$((fail + 1)) ;;
	esac
	if [ "$status" -ne 0 ] && [ "$dist" != failed ]; then
		echo "---- logs of failed tests ----"
		for f in $(find . -path ./clusterdns-\* -prune -o -name '*.log' ! -name test-suite.log ! -name config.log ! -name distcheck.log -print); do
			if grep -q '^:test-result: \(FAIL\|ERROR\)' "${f%.log}.trs" 2>/dev/null; then
				echo "==== $f"
				tail -n 60 "$f"
			fi
		done
	fi
	echo "${pass} passed, ${fail} failed, ${skip:-0} skipped"
fi
exit "$status"
