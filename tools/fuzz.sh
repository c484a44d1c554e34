#!/bin/sh
# Build a fuzz target (tests/fuzz/fuzz_TARGET.c) with libFuzzer, ASan and
# UBSan, and run it from the repository's corpus (tests/fuzz/corpus/TARGET).
#
#   tools/fuzz.sh [-t SECONDS] [-n RUNS] [-j JOBS] TARGET [LIBFUZZER-ARGS...]
#   tools/fuzz.sh -merge TARGET
#   tools/fuzz.sh -build TARGET
#
# Targets: packet cache podscan query watch objects corefile kubeconfig jparse.
# A run stops after SECONDS (default 60) or RUNS inputs, whichever comes
# first, and leaves what it found (crash-*, leak-*, timeout-*) in
# $FUZZ_BUILD.  -merge adds the inputs of the working corpus that bring
# new coverage to tests/fuzz/corpus/TARGET: new edges only, not new hit
# counts of known ones, so that the repository's corpus stays small.
# -build only builds.
#
# $FUZZ_BUILD (default clusterdns-fuzz under $TMPDIR or /tmp) holds the
# library built with clang (lib/, configured once with
# -fsanitize=fuzzer-no-link,address,undefined), the targets and the
# working corpora (corpus-TARGET, the repository's corpus plus what the
# runs found).  The source tree must not be configured in place (use a
# build directory), since lib/ is a VPATH build of it.  CLANG picks the
# compiler (clang-14).
set -eu

usage() {
	sed -n '4,8p' "$0" | sed 's/^# *//' >&2
	exit 2
}

secs=60
runs=
jobs=
mode=run
while [ $# -gt 0 ]; do
	case $1 in
	-t) secs=$2; shift 2 ;;
	-n) runs=$2; shift 2 ;;
	-j) jobs=$2; shift 2 ;;
	-merge) mode=merge; shift ;;
	-build) mode=build; shift ;;
	-h | --help) usage ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || usage
target=$1
shift

top=$(cd "$(dirname "$0")/.." && pwd)
cc=${CLANG:-clang-14}
build=${FUZZ_BUILD:-${TMPDIR:-/tmp}/clusterdns-fuzz}
# absolute: a merge starts the target again by this name, and the
# corefile and kubeconfig targets change directory
mkdir -p "$build"
build=$(cd "$build" && pwd)
src=$top/tests/fuzz/fuzz_$target.c
seeds=$top/tests/fuzz/corpus/$target
corpus=$build/corpus-$target

case $target in
packet | cache | query) maxlen=1024 ;;
podscan | kubeconfig | corefile) maxlen=8192 ;;
watch | objects | jparse) maxlen=16384 ;;
*)
	echo "fuzz.sh: unknown target $target" >&2
	usage
	;;
esac
[ -f "$src" ] || { echo "fuzz.sh: no $src" >&2; exit 2; }

# The library, with coverage for libFuzzer but without its main().
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
san="$san -fno-omit-frame-pointer"
mkdir -p "$build/lib"
if [ ! -f "$build/lib/Makefile" ]; then
	[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi)
	(cd "$build/lib" && "$top/configure" -q CC="$cc" \
		CFLAGS="-g -O1 -fsanitize=fuzzer-no-link $san")
fi
make -s -C "$build/lib" libclusterdns.a >/dev/null
# The flags the library was built with, from its Makefile.
flags() {
	printf 'fuzz-flags:\n\t@echo $(%s)\n' "$1" |
		make -s -C "$build/lib" -f Makefile -f - fuzz-flags
}
cppflags=$(flags AM_CPPFLAGS)
libs=$(flags DEPLIBS)
# shellcheck disable=SC2086 # lists of flags
"$cc" -std=gnu11 -g -O1 -Wall -Wextra -Wno-unused-parameter -pthread \
	$cppflags -I"$top" -DTEST_SRCDIR="\"$top/tests\"" \
	-fsanitize=fuzzer $san "$src" "$build/lib/libclusterdns.a" $libs \
	-o "$build/fuzz_$target"
[ "$mode" = build ] && exit 0

mkdir -p "$corpus"
[ -d "$seeds" ] && cp -n "$seeds"/* "$corpus"/ 2>/dev/null || :
cd "$build"
if [ "$mode" = merge ]; then
	mkdir -p "$seeds"
	exec "$build/fuzz_$target" -merge=1 -use_counters=0 -max_len="$maxlen" \
		"$seeds" "$corpus"
fi
set -- -max_total_time="$secs" -max_len="$maxlen" -timeout=10 \
	-print_final_stats=1 "$@"
[ -n "$runs" ] && set -- -runs="$runs" "$@"
[ -n "$jobs" ] && set -- -jobs="$jobs" -workers="$jobs" "$@"
exec "$build/fuzz_$target" "$@" "$corpus"
