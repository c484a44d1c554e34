#!/bin/bash
# bench-all.sh -- the project's record: every benchmark (tools/bench-*.sh:
# nsd, api, forward, cache, metrics, tcp, reload) run once, one after the
# other, with short defaults, and one markdown table of their headline
# figures: clusterdns's number beside the peer's of the same run and the
# ratio, ours over the peer's (every figure is a cost: below 1 is ours
# ahead), under a line naming the commit, the date and the machine (CPU
# model and count, kernel).  The table goes to stdout and, with -o, to a
# file; each benchmark's own output, as it prints it, goes to stderr.  A
# benchmark names its headline figures in lines of its own output
# (record|FIGURE|OURS|PEER|PEER_VALUE|RATIO, bench_record in
# tools/bench-lib.sh); one that fails, or prints none, gets a row that
# says so, and bench-all exits 1.  The short defaults: -d seconds per
# measurement (bench-nsd -l, bench-forward -l, bench-cache -l,
# bench-metrics -l with one repetition, bench-tcp -d with one round,
# bench-reload -d) and 200 changes for bench-api's propagation; the
# cluster sizes are each benchmark's own.  The numbers are one run: on a
# shared or virtual machine they move by several percent from one run to
# the next.  Not a test.
#
# Usage: tools/bench-all.sh [-d seconds] [-b "benchmarks"] [-x name:args]...
#                           [-F] [-o file]
#   -d  seconds per measurement, 1..25 (default 5)
#   -b  the benchmarks to run, in this order: of nsd api forward cache
#       metrics tcp reload (default: all)
#   -x  NAME:ARGS  more arguments for one benchmark, after bench-all's own
#       (so they win), split at blanks, e.g. -x 'api:-P 1000 -T'; repeatable
#   -F  each benchmark with its own, longer, defaults (-d does not apply)
#   -o  write the table to this file too
# top_builddir (default: the directory above this script) locates the
# programs, as for every benchmark: build without sanitizers (e.g.
# configure CFLAGS="-O2 -g") for numbers that mean something.
# BENCH_SERVER_CPU, BENCH_CLIENT_CPU and the other BENCH_* variables reach
# every benchmark.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
# shellcheck source-path=SCRIPTDIR source=bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

ALL="nsd api forward cache metrics tcp reload"
SECS=5 WHICH=$ALL FULL=no OUT=
declare -A EXTRA
while getopts d:b:x:Fo:h o; do
	case $o in
	d) SECS=$OPTARG ;;
	b) WHICH=$OPTARG ;;
	x)
		case $OPTARG in
		*:*) ;;
		*)
			echo "bench-all: -x wants NAME:ARGS, not $OPTARG" >&2
			exit 2
			;;
		esac
		EXTRA[${OPTARG%%:*}]="${EXTRA[${OPTARG%%:*}]:-} ${OPTARG#*:}"
		;;
	F) FULL=yes ;;
	o) OUT=$OPTARG ;;
	*) bench_opt_other "$o" ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -gt 0 ]; then
	echo "bench-all: unexpected argument: $1" >&2
	bench_usage >&2
	exit 2
fi
bench_numbers bench-all "$SECS"
if [ "$SECS" -lt 1 ] || [ "$SECS" -gt 25 ]; then
	echo "bench-all: -d must be 1..25 seconds" >&2
	exit 2
fi
# known NAME: whether NAME is one of the benchmarks.
known()
{
	case " $ALL " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}
for b in $WHICH; do
	known "$b" || {
		echo "bench-all: no benchmark $b (of: $ALL)" >&2
		exit 2
	}
done
for b in "${!EXTRA[@]}"; do
	known "$b" || {
		echo "bench-all: -x: no benchmark $b (of: $ALL)" >&2
		exit 2
	}
done
[ -n "$WHICH" ] || {
	echo "bench-all: -b names no benchmark" >&2
	exit 2
}
if [ -n "$OUT" ] && ! : >>"$OUT"; then
	echo "bench-all: cannot write $OUT" >&2
	exit 2
fi

bench_paths
bench_setup bench-all "" ""
HERE=$(cd "$(dirname "$0")" && pwd)

# short NAME: bench-all's own arguments for benchmark NAME.
short()
{
	[ "$FULL" = yes ] && return 0
	case $1 in
	nsd | forward | cache) echo "-l $SECS" ;;
	metrics) echo "-l $SECS -R 1" ;;
	tcp) echo "-d $SECS -k 1" ;;
	reload) echo "-d $SECS" ;;
	api) echo "-c 200" ;;
	esac
}

# The machine, the commit and the date, before anything runs.
COMMIT=$(git -C "$top_srcdir" rev-parse --short=12 HEAD 2>/dev/null) ||
	COMMIT=unknown
if [ "$COMMIT" != unknown ] &&
	[ -n "$(git -C "$top_srcdir" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	COMMIT="$COMMIT (with uncommitted changes)"
fi
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
MACHINE="${CPU:-$(uname -m)} x $(nproc) CPUs, $(uname -sr)"

FAILED=0
: >"$W/rows"
for b in $WHICH; do
	read -ra args <<<"$(short "$b") ${EXTRA[$b]:-}"
	echo "# bench-all: tools/bench-$b.sh ${args[*]}" >&2
	"$HERE/bench-$b.sh" "${args[@]}" 2>&1 | tee "$W/$b.out" >&2
	rc=${PIPESTATUS[0]}
	n=$(grep -c '^record|' "$W/$b.out")
	if [ "$rc" != 0 ] || [ "$n" = 0 ]; then
		FAILED=1
		if [ "$rc" != 0 ]; then
			why="failed (exit $rc), its output above"
		else
			why="printed no figure"
		fi
		echo "bench-all: bench-$b.sh $why" >&2
		echo "| $b | $why | - | - | - | - |" >>"$W/rows"
		continue
	fi
	grep '^record|' "$W/$b.out" |
		awk -F'|' -v b="$b" '{ printf "| %s | %s | %s | %s | %s | %s |\n",
			b, $2, $3, $4, $5, $6 }' >>"$W/rows"
done

{
	if [ "$FULL" = yes ]; then
		how="tools/bench-all.sh -F"
	else
		how="tools/bench-all.sh -d $SECS"
	fi
	echo "Commit $COMMIT, $DATE, $MACHINE; one run of \`$how\`."
	echo
	echo "| benchmark | figure | clusterdns | peer | peer's | ours / peer |"
	echo "|---|---|--:|---|--:|--:|"
	cat "$W/rows"
} >"$W/table"
cat "$W/table"
[ -z "$OUT" ] || cp "$W/table" "$OUT"
exit "$FAILED"
