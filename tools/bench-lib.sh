# shellcheck shell=bash
# bench-lib.sh -- what the benchmarks share (sourced by bash scripts):
# checking tools and binaries, the CPUs to pin to, a work directory removed
# at exit (BENCH_KEEP=1 keeps it) and the processes stopped then.
#
#   bench_setup NAME "TOOL..." "BINARY..."
# sets SCPU and CCPU (BENCH_SERVER_CPU / BENCH_CLIENT_CPU, default 0 and 1),
# W (the work directory) and PIDS (append the pids to stop at exit).
#
# Helpers: bench_usage and bench_opt_other (-h and unknown options),
# bench_paths (where the programs are), bench_numbers (check arguments),
# bench_cluster and bench_zones (a generated cluster, its zone files),
# bench_names (a zone of upstream names and its queries), bench_corefile
# (a Corefile serving the cluster), bench_start_clusterdns (one worker,
# pinned), bench_warm (an unmeasured dnsperf run), free_port,
# bench_wait_up PORT PID [DIG-ARGS...], bench_tree PID (a process and its
# descendants), bench_ticks PID... (their CPU time, all and user, in clock
# ticks), bench_mem PID... (largest RSS and summed PSS in kB),
# bench_measure (dnsperf against a server, CPU per query), bench_latency
# (dnsperf at a fixed rate), bench_pct (a percentile), bench_start_nsd
# (NSD serving zone files), bench_spin (keep the benchmark's CPUs from
# halting; BENCH_HALT=1 lets them), bench_stolen and bench_steal_pct (the
# share of CPU time a hypervisor took), bench_ratio and bench_best (ours
# over a peer's, the better peer) and bench_record (the summary line of a
# headline figure that tools/bench-all.sh collects).

# bench_usage: the Usage part of the calling script's header comment.
bench_usage()
{
	awk 'NR > 1 && !/^#/ { exit } /^# Usage:/ { on = 1 }
		on { sub(/^# ?/, ""); print }' "$0"
}

# bench_opt_other OPT: the getopts cases every benchmark shares: -h prints
# the usage and exits 0, anything unknown prints it and exits 2.
bench_opt_other()
{
	if [ "$1" = h ]; then
		bench_usage
		exit 0
	fi
	bench_usage >&2
	exit 2
}

# bench_paths: where the programs are: top_srcdir (default: the directory
# above the scripts) and top_builddir (default: top_srcdir) as given, and
# CLUSTERDNS, ZONEDUMP, GENCLUSTER and APIEMU below top_builddir.
# shellcheck disable=SC2034 # the callers use them
bench_paths()
{
	local here
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	: "${top_srcdir:=$(cd "$here/.." && pwd)}"
	: "${top_builddir:=$top_srcdir}"
	CLUSTERDNS=$top_builddir/server/clusterdns
	ZONEDUMP=$top_builddir/tools/zonedump
	GENCLUSTER=$top_builddir/tools/gencluster
	APIEMU=$top_builddir/tools/apiemu/apiemu
}

# bench_numbers NAME VALUE...: exit 2 unless every VALUE is a number.
bench_numbers()
{
	local name=$1 v
	shift
	for v in "$@"; do
		case $v in
		'' | *[!0-9]*)
			echo "$name: not a number: $v" >&2
			exit 2
			;;
		esac
	done
}

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

# bench_cluster: tools/gencluster ($GENCLUSTER; compiled from
# $top_srcdir when not built) writes the cluster $W/objects and the query
# file $W/queries.txt: $NNS namespaces, $NSVC ClusterIP services,
# $NHEADLESS headless ones with $NEPS endpoints each, $NQUERIES queries,
# seed $SEED.  Exits on failure.
bench_cluster()
{
	if [ ! -x "$GENCLUSTER" ]; then
		echo "# tools/gencluster not built: compiling it"
		GENCLUSTER=$W/gencluster
		"${CC:-cc}" -O2 -o "$GENCLUSTER" "${top_srcdir:?}/tools/gencluster.c" ||
			exit 1
	fi
	"$GENCLUSTER" -n "$NNS" -s "$NSVC" -H "$NHEADLESS" -e "$NEPS" \
		-q "$NQUERIES" -S "$SEED" -Q "$W/queries.txt" "$W/objects" ||
		exit 1
}

# bench_zones COREFILE ZONE...: tools/zonedump ($ZONEDUMP) writes the zones
# of COREFILE's kubernetes directive to $W/zones/ZONE.zone.  Exits on
# failure.
bench_zones()
{
	local conf=$1 z
	shift
	mkdir -p "$W/zones"
	for z in "$@"; do
		"$ZONEDUMP" -conf "$conf" -zone "$z" >"$W/zones/$z.zone" || {
			echo "zonedump -zone $z failed" >&2
			exit 1
		}
	done
}

# bench_corefile PORT [BEFORE] [AFTER]: a server block on 127.0.0.1:PORT
# serving $ZONE, in-addr.arpa and ip6.arpa from the generated cluster
# ($W/objects, ttl 30), with the directive lines BEFORE and AFTER (each
# may hold several lines) around the kubernetes block.
bench_corefile()
{
	cat <<EOF
.:$1 {
    bind 127.0.0.1
    ${2:-}
    kubernetes $ZONE in-addr.arpa ip6.arpa {
        objects $W/objects
        ttl 30
    }
    ${3:-}
}
EOF
}

# bench_start_clusterdns NAME COREFILE PORT: clusterdns with one worker
# thread, pinned to CPU $SCPU, serving COREFILE (listening on PORT), its
# output in $W/NAME.log, run by the command in the array BENCH_WRAP when
# set (e.g. valgrind and its options).  BENCH_THREADS and BENCH_CPUS, when
# set, give other worker threads and CPUs (a taskset list).  Sets CPID
# (added to PIDS); exits when it does not answer for $ZONE's apex.
bench_start_clusterdns()
{
	CLUSTERDNS_THREADS=${BENCH_THREADS:-1} taskset -c "${BENCH_CPUS:-$SCPU}" \
		${BENCH_WRAP[@]+"${BENCH_WRAP[@]}"} \
		"$CLUSTERDNS" -conf "$2" \
		-quiet >"$W/$1.log" 2>&1 &
	CPID=$!
	PIDS+=("$CPID")
	if ! bench_wait_up "$3" "$CPID"; then
		echo "$(basename "$0" .sh): $1: clusterdns did not start:" >&2
		cat "$W/$1.log" >&2
		exit 1
	fi
}

# bench_warm PORT SECONDS [QUERIES] [OUT]: dnsperf on CPU $CCPU at full
# speed with QUERIES (default $W/queries.txt) for SECONDS, unmeasured;
# its report in OUT (default: discarded).
bench_warm()
{
	taskset -c "$CCPU" dnsperf -s 127.0.0.1 -p "$1" \
		-d "${3:-$W/queries.txt}" -l "$2" -c 4 -q 200 \
		>"${4:-/dev/null}" 2>&1
}

# bench_names N SEED ZONEFILE QUERIES: the zone bench.test of the names
# h1..hN (A, TTL 300) in ZONEFILE, and a query file QUERIES asking each
# once, in an order shuffled with SEED.
bench_names()
{
	{
		echo "\$ORIGIN bench.test."
		echo "\$TTL 300"
		echo "@ IN SOA ns.bench.test. admin.bench.test. 1 3600 600 86400 60"
		echo "@ IN NS ns"
		echo "ns IN A 127.0.0.1"
		awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
			printf "h%d IN A 10.%d.%d.%d\n", i, int(i / 65536) % 256,
				int(i / 256) % 256, i % 256 }'
	} >"$3"
	awk -v n="$1" -v s="$2" 'BEGIN { srand(s); for (i = 1; i <= n; i++)
		printf "%f h%d.bench.test A\n", rand(), i }' | sort -n |
		cut -d' ' -f2- >"$4"
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

# port_busy PORT, free_port
. "$(dirname "${BASH_SOURCE[0]}")/ports.sh"

# bench_wait_up PORT PID [DIG-ARGS...]: wait (at most about 60 s, zones may
# be large) until the server answers NOERROR to dig DIG-ARGS (default
# `+norec $ZONE SOA`, the zone apex); 1 when PID ends first or time is up.
bench_wait_up()
{
	local port=$1 pid=$2 i
	shift 2
	[ $# -gt 0 ] || set -- +norec "$ZONE" SOA
	for i in $(seq 1 600); do
		kill -0 "$pid" 2>/dev/null || return 1
		dig +time=1 +tries=1 -p "$port" @127.0.0.1 "$@" 2>/dev/null |
			grep -q 'status: NOERROR' && return 0
		sleep 0.1
	done
	return 1
}

# bench_tree PID: the pid and all its descendants.
bench_tree()
{
	local c
	echo "$1"
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		bench_tree "$c"
	done
}

# bench_ticks PID...: "utime+stime utime" of the processes (all their
# threads), in clock ticks.
bench_ticks()
{
	local p t=0 u=0 v
	for p in "$@"; do
		# fields after "pid (comm) ": utime and stime are the 12th, 13th
		v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null |
			awk '{ print $12 + $13, $12 }')
		v=${v:-0 0}
		t=$((t + ${v% *})) u=$((u + ${v#* }))
	done
	echo "$t $u"
}

# bench_stolen: "stolen all" -- the ticks the hypervisor took from this
# machine's CPUs (steal in /proc/stat) and all ticks, summed over CPUs,
# since boot.  On a virtual machine a host that runs other guests takes
# CPU time in bursts of milliseconds, which no server can hide from its
# p99: the benchmarks print the share taken during each measurement.
bench_stolen()
{
	awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t }' /proc/stat
}

# bench_steal_pct "STOLEN ALL" "STOLEN ALL": the share of CPU time stolen
# between two bench_stolen readings, in percent (one decimal).
bench_steal_pct()
{
	awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ")
		d = y[2] - x[2]
		if (d > 0) printf "%.1f", (y[1] - x[1]) * 100 / d; else print "-" }'
}

# bench_spin: a busy loop at SCHED_IDLE on $SCPU and on $CCPU (once when
# they are the same CPU), until the script ends.  A virtual CPU with nothing to run halts, and the host
# takes from tens of microseconds to milliseconds to run it again when a
# packet arrives: measured here, 5000 qps against an idle server had a p99
# of 1.3-2 ms with halting CPUs and 0.1-0.4 ms with these loops.  A
# SCHED_IDLE task runs only when nothing else wants the CPU, so the
# servers and clients lose nothing to it (the idle=poll of a kernel
# command line, for one script).  The latency benchmarks run it unless
# BENCH_HALT is set.
bench_spin()
{
	local c
	[ -z "${BENCH_HALT:-}" ] || return 0
	for c in $(printf '%s\n' "$SCPU" "$CCPU" | sort -u); do
		chrt -i 0 taskset -c "$c" sh -c 'while :; do :; done' &
		PIDS+=("$!")
	done
}

# bench_mem PID...: "largest VmRSS in kB, sum of Pss in kB".
bench_mem()
{
	local p rss max=0 pss=0 v
	for p in "$@"; do
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		[ "${rss:-0}" -gt "$max" ] && max=${rss:-0}
		v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" \
			2>/dev/null)
		pss=$((pss + ${v:-${rss:-0}}))
	done
	echo "$max $pss"
}

# bench_measure NAME PORT PID SECONDS [QUERIES]: dnsperf on CPU $CCPU with
# the query file QUERIES (default $W/queries.txt; 4 clients, or
# $BENCH_CLIENTS, 200 outstanding) against the server PID (and its
# children) for SECONDS, at full speed, or at $BENCH_RATE queries a second
# when that is set and not 0, over UDP, or $BENCH_MODE (dnsperf -m: tcp
# pipelines the outstanding queries on each client's connection).
# Sets R[NAME.qps], .done, .lost, .avg (average latency in us), .codes
# (response codes), .cpu (server CPU us per completed query), .user (the
# percentage of that CPU time spent in user space), .rss and
# .pss (kB); the caller declares R with declare -A.
bench_measure()
{
	local name=$1 port=$2 pid=$3 pids t0 t1 u0 u1 out hz rate=()
	local mode=${BENCH_MODE:-udp}
	mapfile -t pids < <(bench_tree "$pid")
	if [ "${BENCH_RATE:-0}" != 0 ]; then
		rate=(-Q "$BENCH_RATE")
		echo "# $name: $4 s at $BENCH_RATE qps over $mode (server pids ${pids[*]})"
	else
		echo "# $name: $4 s at full speed over $mode (server pids ${pids[*]})"
	fi
	out=$W/$name.dnsperf
	read -r t0 u0 < <(bench_ticks "${pids[@]}")
	taskset -c "$CCPU" dnsperf -s 127.0.0.1 -p "$port" -m "$mode" \
		-d "${5:-$W/queries.txt}" -l "$4" -c "${BENCH_CLIENTS:-4}" \
		-q 200 "${rate[@]}" >"$out" 2>&1
	read -r t1 u1 < <(bench_ticks "${pids[@]}")
	hz=$(getconf CLK_TCK)
	R[$name.qps]=$(awk '/Queries per second:/ { printf "%.0f", $4 }' "$out")
	R[$name.done]=$(awk '/Queries completed:/ { print $3 }' "$out")
	R[$name.lost]=$(awk '/Queries lost:/ { print $3 }' "$out")
	R[$name.avg]=$(awk '/Average Latency/ && !n++ { printf "%.1f", $4 * 1e6 }' "$out")
	R[$name.codes]=$(sed -n 's/^ *Response codes: *//p' "$out")
	R[$name.cpu]=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" \
		-v n="${R[$name.done]:-0}" \
		'BEGIN { if (n > 0) printf "%.2f", (b - a) * 1e6 / hz / n; else print "-" }')
	R[$name.user]=$(awk -v t=$((t1 - t0)) -v u=$((u1 - u0)) \
		'BEGIN { if (t > 0) printf "%.0f", u * 100 / t; else print "-" }')
	read -r R["$name.rss"] R["$name.pss"] < <(bench_mem "${pids[@]}")
}

# bench_pct P: the P-th percentile of the numbers on stdin (sorted).
bench_pct()
{
	awk -v p="$1" '{ v[NR] = $1 } END {
		if (!NR) { print "-"; exit }
		i = int(NR * p); if (NR * p > i) i++; if (i < 1) i = 1
		printf "%.0f", v[i] }'
}

# bench_latency NAME PORT SECONDS RATE: dnsperf on CPU $CCPU with
# $W/queries.txt at RATE queries a second for SECONDS.  Sets R[NAME.lavg],
# .p50 and .p99 (latency in us at that rate).
bench_latency()
{
	local name=$1 lat
	echo "# $name: $3 s at $4 qps for the latency distribution"
	lat=$(taskset -c "$CCPU" dnsperf -s 127.0.0.1 -p "$2" \
		-d "$W/queries.txt" -l "$3" -Q "$4" -v 2>/dev/null |
		awk '/^> / { print $NF * 1e6 }' | LC_ALL=C sort -g)
	R[$name.lavg]=$(printf '%s\n' "$lat" |
		awk 'NF { s += $1; n++ } END { if (n) printf "%.0f", s / n; else print "-" }')
	R[$name.p50]=$(printf '%s\n' "$lat" | bench_pct 0.50)
	R[$name.p99]=$(printf '%s\n' "$lat" | bench_pct 0.99)
}

# bench_start_nsd CPU DIR ZONE...: NSD (one server process, pinned to CPU)
# serving the zone files DIR/ZONE.zone on a free port, with the lines of
# BENCH_NSD_SERVER (e.g. "    tcp-count: 1000", one per line) added to
# its server: clause when set.  Sets NPORT and NPID (added to PIDS);
# prints NSD's logs and returns 1 when it does not answer for the first
# ZONE's apex.
bench_start_nsd()
{
	local cpu=$1 dir=$2 z
	shift 2
	NPORT=$(free_port)
	mkdir -p "$W/nsd"
	{
		cat <<EOF
server:
    ip-address: 127.0.0.1
    port: $NPORT
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$dir"
    database: ""
    zonelistfile: "$W/nsd/zone.list"
    xfrdfile: "$W/nsd/xfrd.state"
    pidfile: "$W/nsd/nsd.pid"
    logfile: "$W/nsd/nsd.log"
    verbosity: 1
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
    minimal-responses: no
    refuse-any: no
${BENCH_NSD_SERVER:-}
remote-control:
    control-enable: no
EOF
		for z in "$@"; do
			printf 'zone:\n    name: %s\n    zonefile: %s.zone\n' "$z" "$z"
		done
	} >"$W/nsd/nsd.conf"
	taskset -c "$cpu" nsd -d -c "$W/nsd/nsd.conf" >"$W/nsd/out.log" 2>&1 &
	NPID=$!
	PIDS+=("$NPID")
	bench_wait_up "$NPORT" "$NPID" +norec "$1" SOA && return 0
	cat "$W/nsd/out.log" "$W/nsd/nsd.log" 2>/dev/null
	return 1
}

# bench_start_apiemu CPU DIR [APIEMU-FLAG...]: the API emulator ($APIEMU)
# on CPU over HTTP on a free port of 127.0.0.1 with the objects of DIR and
# the flags given, its output in $W/emu.log.  Sets EPORT and EPID (added to
# PIDS); waits until it has loaded (a large cluster takes a while: up to
# 10 minutes), else prints its log and exits.
bench_start_apiemu()
{
	local cpu=$1 dir=$2
	shift 2
	EPORT=$(free_port)
	rm -f "$W/emu.pid"
	taskset -c "$cpu" "$APIEMU" -listen "127.0.0.1:$EPORT" -load "$dir" \
		-pidfile "$W/emu.pid" "$@" >"$W/emu.log" 2>&1 &
	EPID=$!
	PIDS+=("$EPID")
	for _ in $(seq 1 6000); do
		[ -s "$W/emu.pid" ] && break
		kill -0 "$EPID" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -s "$W/emu.pid" ]; then
		echo "$(basename "$0" .sh): the emulator did not start:" >&2
		cat "$W/emu.log" >&2
		exit 1
	fi
	echo "# $(grep 'loaded' "$W/emu.log")"
}

# bench_ratio A B: A / B (two decimals), "-" unless both are positive
# numbers.
bench_ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && a > 0 && b > 0)
			printf "%.2f", a / b; else print "-" }'
}

# bench_best NAME VALUE...: "NAME VALUE" of the pair with the lowest
# number (every figure recorded is a cost: lower is better), "- -" when
# no VALUE is a number.
bench_best()
{
	printf '%s %s\n' "$@" | awk '$2 ~ /^[0-9.]+$/ &&
		(!n++ || $2 + 0 < best + 0) { name = $1; best = $2 }
		END { if (n) print name, best; else print "- -" }'
}

# bench_record FIGURE OURS [PEER PEER_VALUE]: the machine-readable line of
# one headline figure, which tools/bench-all.sh collects:
#   record|FIGURE|OURS|PEER|PEER_VALUE|OURS / PEER_VALUE
# FIGURE says what and in which unit (no "|"); a missing number is "-",
# and so are PEER and the ratio when there is no peer.
bench_record()
{
	printf 'record|%s|%s|%s|%s|%s\n' "$1" "${2:--}" "${3:--}" "${4:--}" \
		"$(bench_ratio "${2:--}" "${4:--}")"
}
