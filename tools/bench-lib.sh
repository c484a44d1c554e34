# bench-lib.sh -- what the benchmarks share (sourced by bash scripts):
# checking tools and binaries, the CPUs to pin to, a work directory removed
# at exit (BENCH_KEEP=1 keeps it) and the processes stopped then.
#
#   bench_setup NAME "TOOL..." "BINARY..."
# sets SCPU and CCPU (BENCH_SERVER_CPU / BENCH_CLIENT_CPU, default 0 and 1),
# W (the work directory) and PIDS (append the pids to stop at exit).

bench_setup()
{
	local name=$1 t f
	SCPU=${BENCH_SERVER_CPU:-0}
	CCPU=${BENCH_CLIENT_CPU:-1}
	for t in $2; do
		command -v "$t" >/dev/null 2>&1 || {
			echo "$name: $t not found" >&2
			exit 1
		}
	done
	for f in $3; do
		[ -x "$f" ] || {
			echo "$name: $f not built (make)" >&2
			exit 1
		}
	done
	if [ "$(nproc)" -lt 2 ]; then
		echo "$name: warning: fewer than 2 CPUs, client and server share one" >&2
		CCPU=$SCPU
	fi
	W=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
	PIDS=()
	trap bench_cleanup EXIT
	trap 'exit 1' INT TERM
}

bench_cleanup()
{
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	if [ -n "${BENCH_KEEP:-}" ]; then
		echo "# work directory kept: $W"
	else
		rm -rf "$W"
	fi
}
