#!/bin/bash
# bench-all.sh -- tools/bench-all.sh's command line, without running a
# benchmark: -h prints the usage and exits 0, every bad argument exits 2
# with a message and prints no table; and the record lines of
# tools/bench-lib.sh that it collects (bench_record, bench_best,
# bench_ratio).  No time is measured or asserted.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

ALL=$top_srcdir/tools/bench-all.sh

# run ARG...: bench-all with ARG (bounded); sets RC, STDOUT and STDERR.
run()
{
	STDOUT=$(timeout 20 "$ALL" "$@" 2>"$E2E_TMP/stderr")
	RC=$?
	STDERR=$(cat "$E2E_TMP/stderr")
}

run -h
check "-h: exit status" 0 "$RC"
check_match "-h: the usage on stdout" '^Usage: tools/bench-all.sh' "$STDOUT"
check_match "-h: names -o" '^ +-o ' "$STDOUT"

# bad WHAT ERE ARG...: exit 2, stderr matches ERE, no table on stdout.
bad()
{
	local what=$1 ere=$2
	shift 2
	run "$@"
	check "$what: exit status" 2 "$RC"
	check_match "$what: the message" "$ere" "$STDERR"
	check "$what: no table" 0 "$(printf '%s\n' "$STDOUT" | grep -c '^|')"
}
bad "-d x" 'not a number: x' -d x
bad "-d 0" '-d must be 1..25' -d 0
bad "-d 26" '-d must be 1..25' -d 26
bad "-b unknown" 'no benchmark soak' -b "nsd soak"
bad "-b empty" 'names no benchmark' -b ""
bad "-x without a colon" 'NAME:ARGS' -x nsd
bad "-x unknown" '-x: no benchmark foo' -x 'foo:-l 1'
bad "an unknown option" '^Usage:' -Z
bad "an operand" 'unexpected argument: nsd' nsd
bad "-o in a missing directory" 'cannot write' -o "$E2E_TMP/none/table.md"

# the line a benchmark prints, and what bench-all makes of it
LIB=$top_srcdir/tools/bench-lib.sh
# shellcheck disable=SC2016 # expanded by the inner bash
OUT=$(bash -c '. "$1"; bench_record "UDP, CPU us/query" 5.44 knot 5.38
	bench_record "start -> ready (ms)" 900
	bench_record "RSS (MB)" - nsd 12
	bench_best nsd 5.86 knot 5.38 unbound -
	bench_best nsd - knot -
	bench_ratio 3 0' _ "$LIB")
check "bench_record with a peer" 'record|UDP, CPU us/query|5.44|knot|5.38|1.01' \
	"$(sed -n 1p <<<"$OUT")"
check "bench_record without a peer" 'record|start -> ready (ms)|900|-|-|-' \
	"$(sed -n 2p <<<"$OUT")"
check "bench_record, ours missing" 'record|RSS (MB)|-|nsd|12|-' \
	"$(sed -n 3p <<<"$OUT")"
check "bench_best: the lowest number" 'knot 5.38' "$(sed -n 4p <<<"$OUT")"
check "bench_best: no number" '- -' "$(sed -n 5p <<<"$OUT")"
check "bench_ratio over 0" '-' "$(sed -n 6p <<<"$OUT")"

finish
