#!/bin/bash
# bench-api.sh -- clusterdns fed by the Kubernetes API: how fast a write
# reaches the answers, how long a start takes at size, and how much memory
# it holds, steady and through a full relist.  Against tools/apiemu/apiemu
# over plain HTTP on 127.0.0.1; prints numbers, asserts nothing.
#
# 1. propagation: tools/bench/apiprobe gives a random service a new
#    ClusterIP through the emulator's /_control/objects and asks A of its
#    name over UDP until the new address is answered; p50/p99 over -c
#    changes, with each cluster size of -P (services with -E endpoints each,
#    pods not watched); before the changes, each size's start -> ready and
#    its RSS once the sync has settled (the 100k services x 2 endpoints
#    cluster of the defaults).
# 2. start -> ready: -s services with -e endpoints each in one EndpointSlice
#    and -p pods loaded in the emulator; time from starting clusterdns to the
#    first answer of an existing name (startup_timeout 60s, so the first sync
#    is measured), with the default Corefile and with `pods verified`.
# 3. RSS at that size: VmRSS after the sync has settled, and the peak while
#    the emulator's expire-watches fault (410 on every watch) makes every
#    kind relist: sampled every -i microseconds and the kernel's VmHWM
#    (reset before the fault).  Next to it the CoreDNS estimate of the issue:
#    (pods + services) x 0.86 KB + 49 MB, twice that on a relist.
# The last lines are the headline figures for tools/bench-all.sh
# (record|...).
#
# The daemon runs with CLUSTERDNS_THREADS=1 on one CPU, the emulator and the
# probe on another.  The emulator gets TCP_NODELAY through a small
# LD_PRELOAD shim (tools/bench/nodelay.c), as the real API server sets it.
#
# Usage: tools/bench-api.sh [-c changes] [-P "sizes"] [-E endpoints]
#                           [-s services] [-e endpoints] [-p pods]
#                           [-n namespaces] [-i interval_us] [-T]
#   -T  skip the start/RSS part (propagation only)
# top_builddir (default: the directory above this script) locates
# server/clusterdns and tools/apiemu/apiemu.  BENCH_SERVER_CPU and
# BENCH_CLIENT_CPU (default 0 and 1) choose the CPUs; BENCH_KEEP=1 keeps
# the work directory.

set -u

CHANGES=1000
PSIZES="1000 100000"
PEPS=2
NSVC=10000
NEPS=15
NPODS=150000
NNS=100
INTERVAL=2000
BIG=yes
ZONE=cluster.local

# shellcheck source=tools/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

while getopts "c:P:E:s:e:p:n:i:Th" opt; do
	case $opt in
	c) CHANGES=$OPTARG ;;
	P) PSIZES=$OPTARG ;;
	E) PEPS=$OPTARG ;;
	s) NSVC=$OPTARG ;;
	e) NEPS=$OPTARG ;;
	p) NPODS=$OPTARG ;;
	n) NNS=$OPTARG ;;
	i) INTERVAL=$OPTARG ;;
	T) BIG=no ;;
	*) bench_opt_other "$opt" ;;
	esac
done
for v in "$CHANGES" "$PEPS" "$NSVC" "$NEPS" "$NPODS" "$NNS" "$INTERVAL" \
	$PSIZES; do
	case $v in
	'' | *[!0-9]*)
		echo "bench-api: not a number: $v" >&2
		exit 2
		;;
	esac
done
if [ "$CHANGES" -lt 1 ] || [ "$CHANGES" -gt 100000 ]; then
	echo "bench-api: -c must be 1..100000" >&2
	exit 2
fi
for v in $PSIZES "$NSVC"; do
	if [ "$v" -lt 1 ] || [ "$v" -gt 200000 ]; then
		echo "bench-api: services must be 1..200000" >&2
		exit 2
	fi
done
if [ "$NNS" -lt 1 ] || [ "$NNS" -gt 999 ] || [ "$NPODS" -gt 2000000 ] ||
	[ "$NEPS" -gt 1000 ] || [ "$PEPS" -gt 1000 ]; then
	echo "bench-api: -n 1..999, -p at most 2000000, -e/-E at most 1000" >&2
	exit 2
fi
if [ "$INTERVAL" -lt 100 ]; then
	echo "bench-api: -i at least 100 microseconds" >&2
	exit 2
fi

bench_paths

bench_setup bench-api "taskset ${CC:-cc}" "$CLUSTERDNS $APIEMU"

# ---------------------------------------------------------------- helpers

echo "# work directory: $W"
"${CC:-cc}" -O2 -o "$W/apiprobe" "$top_srcdir/tools/bench/apiprobe.c" &&
	"${CC:-cc}" -O2 -o "$W/genapi" "$top_srcdir/tools/bench/genapi.c" &&
	"${CC:-cc}" -O2 -shared -fPIC -o "$W/nodelay.so" \
		"$top_srcdir/tools/bench/nodelay.c" -ldl || exit 1
PROBE=$W/apiprobe

# stop PID: end one process we started and wait (at most 5 s) for it.
stop()
{
	kill "$1" 2>/dev/null || return 0
	for _ in $(seq 1 50); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null
}

# emulator DIR: start apiemu on CPU $CCPU with the objects of DIR, through
# the TCP_NODELAY shim; sets EPORT and EPID.
emulator()
{
	LD_PRELOAD=$W/nodelay.so bench_start_apiemu "$CCPU" "$1" \
		-history 1000000
}

# corefile FILE PODS: a Corefile for the emulator with `pods PODS`.
corefile()
{
	cat >"$1" <<EOF
.:$DPORT {
    bind 127.0.0.1
    kubernetes $ZONE in-addr.arpa ip6.arpa {
        endpoint http://127.0.0.1:$EPORT
        startup_timeout 60s
        pods $2
    }
}
EOF
}

# start NAME PODS: start clusterdns on CPU $SCPU through apiprobe ready;
# sets DPID and R[NAME.ready] (ms).
start()
{
	local out
	DPORT=$(free_port)
	corefile "$W/Corefile.$1" "$2"
	rm -f "$W/clusterdns.pid"
	out=$(taskset -c "$CCPU" "$PROBE" ready -dns "$DPORT" \
		-name "svc-000001.ns-001.svc.$ZONE" -gap 1000 -timeout 120 \
		-pidfile "$W/clusterdns.pid" -log "$W/clusterdns.$1.log" -- \
		env CLUSTERDNS_THREADS=1 taskset -c "$SCPU" "$CLUSTERDNS" \
		-conf "$W/Corefile.$1")
	DPID=$(cat "$W/clusterdns.pid" 2>/dev/null)
	[ -n "$DPID" ] && PIDS+=("$DPID")
	R[$1.ready]=$(printf '%s\n' "$out" | awk '/^ready_ms/ { print $2 }')
	case ${R[$1.ready]} in
	'' | timeout)
		echo "bench-api: clusterdns did not answer:" >&2
		cat "$W/clusterdns.$1.log" >&2
		exit 1
		;;
	esac
	echo "# $1: answering after ${R[$1.ready]} ms ($(grep -o 'synced with the API in [0-9]* ms' "$W/clusterdns.$1.log"))"
}

declare -A R

# ---------------------------------------------------------------- 1. propagation
for n in $PSIZES; do
	echo "# propagation, $n services x $PEPS endpoints, $NNS namespaces"
	rm -rf "$W/objects"
	"$W/genapi" -n "$NNS" -s "$n" -e "$PEPS" -p 0 "$W/objects" || exit 1
	emulator "$W/objects"
	start "prop$n" disabled
	sleep 3
	R[prop$n.rss]=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' \
		"/proc/$DPID/status")
	out=$(taskset -c "$CCPU" "$PROBE" change -api "127.0.0.1:$EPORT" \
		-dns "$DPORT" -services "$n" -namespaces "$NNS" \
		-changes "$CHANGES" -zone "$ZONE" -out "$W/propagation.$n")
	echo "# $out"
	R[prop$n.p50]=$(printf '%s\n' "$out" | awk '{ for (i = 1; i < NF; i++) if ($i == "p50_us") printf "%.2f", $(i + 1) / 1000 }')
	R[prop$n.p99]=$(printf '%s\n' "$out" | awk '{ for (i = 1; i < NF; i++) if ($i == "p99_us") printf "%.2f", $(i + 1) / 1000 }')
	R[prop$n.max]=$(printf '%s\n' "$out" | awk '{ for (i = 1; i < NF; i++) if ($i == "max_us") printf "%.2f", $(i + 1) / 1000 }')
	R[prop$n.lost]=$(printf '%s\n' "$out" | awk '{ for (i = 1; i < NF; i++) if ($i == "timeouts") print $(i + 1) }')
	stop "$DPID"
	stop "$EPID"
done

# ---------------------------------------------------------------- 2, 3. size
if [ "$BIG" = yes ]; then
	echo "# start and memory: $NSVC services x $NEPS endpoints, $NPODS pods, $NNS namespaces"
	rm -rf "$W/objects"
	"$W/genapi" -n "$NNS" -s "$NSVC" -e "$NEPS" -p "$NPODS" "$W/objects" ||
		exit 1
	echo "# objects: $(du -sm "$W/objects" | cut -f1) MB of JSON"
	emulator "$W/objects"
	# what serving the lists costs the emulator alone, pods apart
	R[list.other]=$(taskset -c "$CCPU" "$PROBE" list -api "127.0.0.1:$EPORT" \
		/api/v1/namespaces /api/v1/services \
		/apis/discovery.k8s.io/v1/endpointslices | awk '{ print $2 }')
	R[list.pods]=$(taskset -c "$CCPU" "$PROBE" list -api "127.0.0.1:$EPORT" \
		/api/v1/pods | awk '{ print $2 }')
	echo "# emulator alone, one client reading every page: namespaces+services+slices ${R[list.other]} ms, pods ${R[list.pods]} ms"
	for mode in disabled verified; do
		start "$mode" "$mode"
		sleep 3
		R[$mode.steady]=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' \
			"/proc/$DPID/status")
		w=3
		[ "$mode" = verified ] && w=4
		out=$(taskset -c "$CCPU" "$PROBE" relist -api "127.0.0.1:$EPORT" \
			-pid "$DPID" -watchers "$w" -interval "$INTERVAL" \
			-timeout 120)
		echo "# $mode relist: $out"
		R[$mode.peak]=$(printf '%s\n' "$out" | awk '{ for (i = 1; i < NF; i++) if ($i == "peak_sampled_kb") printf "%.1f", $(i + 1) / 1024 }')
		R[$mode.hwm]=$(printf '%s\n' "$out" | awk '{ for (i = 1; i < NF; i++) if ($i == "hwm_kb") printf "%.1f", $(i + 1) / 1024 }')
		R[$mode.relist]=$(printf '%s\n' "$out" | awk '{ for (i = 1; i < NF; i++) if ($i == "relist_ms") print $(i + 1) }')
		R[$mode.after]=$(printf '%s\n' "$out" | awk '{ for (i = 1; i < NF; i++) if ($i == "rss_after_kb") printf "%.1f", $(i + 1) / 1024 }')
		stop "$DPID"
	done
	stop "$EPID"
fi

# ---------------------------------------------------------------- table
# coredns_mb OBJECTS: the issue's estimate, (objects) x 0.86 KB + 49 MB.
coredns_mb()
{
	awk -v n="$1" 'BEGIN { printf "%.0f", n * 0.86 / 1024 + 49 }'
}
ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", b / a; else print "-" }'
}

echo
echo "clusterdns fed by the API emulator over HTTP on 127.0.0.1; daemon: 1 worker thread on CPU $SCPU; emulator and probe on CPU $CCPU"
printf '%-48s %14s %14s %18s\n' metric value goal "CoreDNS estimate"
for n in $PSIZES; do
	goal=-
	[ "$n" -ge 100000 ] && goal="<= 100"
	printf '%-48s %14s %14s %18s\n' "start -> ready, $n services x $PEPS (ms)" \
		"${R[prop$n.ready]:--}" "-" "-"
	printf '%-48s %14s %14s %18s\n' "RSS steady, $n services x $PEPS (MB)" \
		"${R[prop$n.rss]:--}" "$goal" "$(coredns_mb "$n")"
	printf '%-48s %14s %14s %18s\n' "propagation p50, $n services (ms)" \
		"${R[prop$n.p50]:--}" "-" "-"
	printf '%-48s %14s %14s %18s\n' "propagation p99, $n services (ms)" \
		"${R[prop$n.p99]:--}" "<= 20" "-"
	printf '%-48s %14s %14s %18s\n' "propagation max, $n services (ms)" \
		"${R[prop$n.max]:--}" "-" "-"
	[ "${R[prop$n.lost]:-0}" = 0 ] ||
		printf '%-48s %14s %14s %18s\n' \
			"  changes never answered (5 s)" "${R[prop$n.lost]}" 0 "-"
done
if [ "$BIG" = yes ]; then
	cd_svc=$(coredns_mb "$NSVC")
	cd_all=$(coredns_mb "$((NSVC + NPODS))")
	for mode in disabled verified; do
		if [ "$mode" = disabled ]; then
			label="pods disabled" est=$cd_svc
		else
			label="pods verified" est=$cd_all
		fi
		printf '%-48s %14s %14s %18s\n' "start -> ready, $label (ms)" \
			"${R[$mode.ready]:--}" "<= 1000" "-"
		printf '%-48s %14s %14s %18s\n' "RSS steady, $label (MB)" \
			"${R[$mode.steady]:--}" "<= 40" "$est"
		printf '%-48s %14s %14s %18s\n' \
			"RSS peak in relist, sampled, $label (MB)" \
			"${R[$mode.peak]:--}" \
			"$(awk -v s="${R[$mode.steady]:-0}" 'BEGIN { printf "<= %.1f", s * 1.1 }')" \
			"$((est * 2))"
		printf '%-48s %14s %14s %18s\n' \
			"RSS peak in relist, VmHWM, $label (MB)" \
			"${R[$mode.hwm]:--}" "-" "-"
		printf '%-48s %14s %14s %18s\n' "  peak / steady" \
			"$(ratio "${R[$mode.steady]:-0}" "${R[$mode.hwm]:-0}")" \
			"<= 1.10" "2.00"
		printf '%-48s %14s %14s %18s\n' "  relist duration, $label (ms)" \
			"${R[$mode.relist]:--}" "-" "-"
	done
	echo "(start/RSS: $NSVC ClusterIP services, one EndpointSlice of $NEPS endpoints each, $NPODS running pods; the emulator alone serves its lists to one reader in ${R[list.other]:--} ms, pods ${R[list.pods]:--} ms)"
	echo "(CoreDNS estimate: (pods + services) x 0.86 KB + 49 MB; pods counted only when watched, i.e. with pods verified; doubled on relist)"
fi
echo "(propagation: $CHANGES ClusterIP changes to random services, each with $PEPS endpoints; time from the HTTP write to the first UDP answer carrying the new address, asked every 0.1 ms)"

echo
# the largest cluster of -P, and the one with pods
LARGEST=0
for n in $PSIZES; do
	[ "$n" -gt "$LARGEST" ] && LARGEST=$n
done
bench_record "RSS steady, $LARGEST services x $PEPS endpoints (MB)" \
	"${R[prop$LARGEST.rss]:--}" "CoreDNS (estimate)" "$(coredns_mb "$LARGEST")"
bench_record "start -> ready, $LARGEST services x $PEPS endpoints (ms)" \
	"${R[prop$LARGEST.ready]:--}"
bench_record "propagation p99, $LARGEST services (ms)" \
	"${R[prop$LARGEST.p99]:--}"
if [ "$BIG" = yes ]; then
	bench_record "RSS steady, $NSVC services x $NEPS endpoints + $NPODS pods, pods verified (MB)" \
		"${R[verified.steady]:--}" "CoreDNS (estimate)" "$cd_all"
	bench_record "start -> ready, $NSVC services + $NPODS pods, pods verified (ms)" \
		"${R[verified.ready]:--}"
fi
