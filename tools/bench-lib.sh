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

# bench_free_port: print a loopback port nothing listens on (UDP or TCP).
bench_free_port()
{
	local i p hex f busy
	for i in $(seq 1 200); do
		p=$((20000 + (RANDOM * 32768 + RANDOM + i) % 40000))
		hex=$(printf ':%04X ' "$p")
		busy=no
		for f in /proc/net/udp /proc/net/udp6 /proc/net/tcp /proc/net/tcp6; do
			[ -r "$f" ] || continue
			awk '{ print $2 " " }' "$f" | grep -q -- "$hex" && busy=yes
		done
		[ "$busy" = no ] && {
			echo "$p"
			return 0
		}
	done
	return 1
}

# bench_ticks PID...: CPU time (utime + stime, clock ticks) of the processes.
bench_ticks()
{
	local p t=0 v
	for p in "$@"; do
		v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null |
			awk '{ print $12 + $13 }')
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# bench_pct P: the P-th percentile of the numbers on stdin (sorted).
bench_pct()
{
	awk -v p="$1" '{ v[NR] = $1 } END {
		if (!NR) { print "-"; exit }
		i = int(NR * p); if (NR * p > i) i++; if (i < 1) i = 1
		printf "%.0f", v[i] }'
}
