#!/bin/bash
# bench-forward.sh -- what forwarding through clusterdns adds to a query for
# a name outside the cluster: the same queries asked of NSD directly and of
# clusterdns forwarding to that NSD (`forward . 127.0.0.1:PORT`).
#
# NSD serves a zone of generated names; every query misses the cluster zone
# and is forwarded.  Both servers share one CPU, dnsperf runs on another.
# For each path: latency at a fixed rate (avg, p50, p99 from dnsperf -v),
# then QPS at full speed; for clusterdns also its CPU microseconds per
# forwarded query (and NSD's per query it answers directly).  The last
# lines are the headline figures for tools/bench-all.sh (record|...).
# This prints numbers; it asserts nothing.
#
# Usage: tools/bench-forward.sh [-l seconds] [-r rate] [-n names]
# top_builddir (default: the directory above this script) locates
# server/clusterdns.  BENCH_SERVER_CPU and BENCH_CLIENT_CPU (default 0 and
# 1) choose the CPUs; BENCH_KEEP=1 keeps the work directory.

set -u

DURATION=10
RATE=2000
NNAMES=10000

# shellcheck source=tools/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

while getopts "l:r:n:h" opt; do
	case $opt in
	l) DURATION=$OPTARG ;;
	r) RATE=$OPTARG ;;
	n) NNAMES=$OPTARG ;;
	*) bench_opt_other "$opt" ;;
	esac
done
for v in "$DURATION" "$RATE" "$NNAMES"; do
	case $v in
	'' | *[!0-9]* | 0)
		echo "bench-forward: not a positive number: $v" >&2
		exit 2
		;;
	esac
done

bench_paths

bench_setup bench-forward "dnsperf dig nsd taskset" "$CLUSTERDNS"

# The zone and the queries: every name once, in a shuffled order.
mkdir -p "$W/nsd"
bench_names "$NNAMES" 1 "$W/nsd/bench.test.zone" "$W/queries.txt"

bench_start_nsd "$SCPU" "$W/nsd" bench.test || {
	echo "bench-forward: nsd did not start" >&2
	exit 1
}

CPORT=$(free_port)
mkdir -p "$W/objects"
cat >"$W/Corefile" <<EOF2
.:$CPORT {
    bind 127.0.0.1
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        objects $W/objects
        fallthrough in-addr.arpa ip6.arpa
    }
    forward . 127.0.0.1:$NPORT {
        max_concurrent 1000
    }
}
EOF2
CLUSTERDNS_THREADS=1 taskset -c "$SCPU" "$CLUSTERDNS" -conf "$W/Corefile" \
	-quiet >"$W/clusterdns.log" 2>&1 &
CPID=$!
PIDS+=("$CPID")
bench_wait_up "$CPORT" "$CPID" h1.bench.test A || {
	echo "bench-forward: clusterdns did not start" >&2
	cat "$W/clusterdns.log" >&2
	exit 1
}
echo "# nsd pid $NPID port $NPORT; clusterdns pid $CPID port $CPORT (1 worker)"
echo "# $NNAMES names; latency at $RATE qps for $DURATION s, then full speed for $DURATION s"

declare -A R
# measure NAME PORT PID: latency at $RATE, then QPS and the CPU of PID.
measure()
{
	bench_latency "$1" "$2" "$DURATION" "$RATE"
	bench_measure "$1" "$2" "$3" "$DURATION"
}

echo "# direct: nsd"
measure direct "$NPORT" "$NPID"
echo "# forwarded: clusterdns -> nsd"
measure forwarded "$CPORT" "$CPID"

printf '\n%-22s %10s %10s %10s %10s %8s %14s\n' path "avg us" "p50 us" \
	"p99 us" QPS lost "cdns us/query"
printf '%-22s %10s %10s %10s %10s %8s %14s\n' "nsd directly" \
	"${R[direct.lavg]}" "${R[direct.p50]}" "${R[direct.p99]}" \
	"${R[direct.qps]}" "${R[direct.lost]}" "-"
printf '%-22s %10s %10s %10s %10s %8s %14s\n' "clusterdns -> nsd" \
	"${R[forwarded.lavg]}" "${R[forwarded.p50]}" "${R[forwarded.p99]}" \
	"${R[forwarded.qps]}" "${R[forwarded.lost]}" "${R[forwarded.cpu]}"
added()
{
	awk -v a="${R[forwarded.$1]}" -v b="${R[direct.$1]}" \
		'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%+.0f", a - b }'
}
printf '%-22s %10s %10s %10s\n' "added by forwarding" "$(added lavg)" \
	"$(added p50)" "$(added p99)"
echo "(nsd's CPU per query it answers directly: ${R[direct.cpu]:--} us)"

echo
bench_record "forwarded query, p99 latency at $RATE qps (us)" \
	"${R[forwarded.p99]:--}" "nsd directly" "${R[direct.p99]:--}"
bench_record "forwarded query, CPU us/query, 1 worker" \
	"${R[forwarded.cpu]:--}" "nsd directly" "${R[direct.cpu]:--}"
