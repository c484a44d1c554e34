#!/bin/bash
# bench-nsd.sh -- clusterdns next to NSD (and Knot, when installed) serving
# the same synthetic cluster zone, measured with dnsperf.
#
# tools/gencluster writes the cluster and a query file; clusterdns serves it
# from the objects directory with one worker thread; tools/zonedump prints
# the same zones for NSD and Knot (one server process or worker each).  Each
# server is pinned to one CPU, dnsperf to another, all on 127.0.0.1.  For
# each server: QPS at saturation, server CPU microseconds per answered query
# (utime+stime of the server's processes before/after, over the queries
# completed), dnsperf's average latency, p50/p99 latency at a fixed lower
# rate (from dnsperf -v), and memory.  This prints numbers; it asserts
# nothing.
#
# Usage: tools/bench-nsd.sh [-l seconds] [-s services] [-H headless]
#                           [-e endpoints] [-n namespaces] [-q queries]
#                           [-r rate] [-S seed] [-K]
# top_builddir (default: the directory above this script) locates
# server/clusterdns, tools/zonedump and tools/gencluster.  BENCH_SERVER_CPU
# and BENCH_CLIENT_CPU (default 0 and 1) choose the CPUs; BENCH_KEEP=1 keeps
# the work directory.

set -u

DURATION=20
NSVC=5000
NHEADLESS=500
NEPS=10
NNS=50
NQUERIES=100000
RATE=5000
SEED=1
KNOT=yes
LAT_SECONDS=5
WARM_SECONDS=2

# shellcheck source=tools/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
# knot_conf
# shellcheck source=tools/knot.sh
. "$(dirname "$0")/knot.sh"

while getopts "l:s:H:e:n:q:r:S:Kh" opt; do
	case $opt in
	l) DURATION=$OPTARG ;;
	s) NSVC=$OPTARG ;;
	H) NHEADLESS=$OPTARG ;;
	e) NEPS=$OPTARG ;;
	n) NNS=$OPTARG ;;
	q) NQUERIES=$OPTARG ;;
	r) RATE=$OPTARG ;;
	S) SEED=$OPTARG ;;
	K) KNOT=no ;;
	*) bench_opt_other "$opt" ;;
	esac
done
bench_numbers bench-nsd "$DURATION" "$NSVC" "$NHEADLESS" "$NEPS" "$NNS" \
	"$NQUERIES" "$RATE" "$SEED"
if [ "$DURATION" -lt 1 ] || [ "$DURATION" -gt 600 ]; then
	echo "bench-nsd: -l must be 1..600 seconds" >&2
	exit 2
fi

bench_paths
ZONE=cluster.local

bench_setup bench-nsd "dnsperf dig taskset" "$CLUSTERDNS $ZONEDUMP"

# ---------------------------------------------------------------- cluster
echo "# work directory: $W"
bench_cluster
echo "# cluster: $NNS namespaces, $NSVC ClusterIP services, $NHEADLESS headless x $NEPS endpoints; $NQUERIES query lines"

CPORT=$(free_port)
bench_corefile "$CPORT" >"$W/Corefile"
bench_zones "$W/Corefile" "$ZONE" in-addr.arpa
echo "# zone dump: $(grep -vc '^;' "$W/zones/$ZONE.zone") lines in $ZONE, $(grep -vc '^;' "$W/zones/in-addr.arpa.zone") in in-addr.arpa"

# ---------------------------------------------------------------- measure
NAMES=()
declare -A R

# bench NAME PORT PID: run dnsperf against one server, keep the numbers.
bench()
{
	echo "# $1: warming up"
	bench_warm "$2" "$WARM_SECONDS"
	bench_measure "$1" "$2" "$3" "$DURATION"
	bench_latency "$1" "$2" "$LAT_SECONDS" "$RATE"
	NAMES+=("$1")
}

# same_answers PORT_A PORT_B: on the first 200 query lines, how many
# answers (rcode and sorted answer section) differ between two servers.
same_answers()
{
	local n=0 name type a b
	while read -r name type; do
		a=$(dig +norec +time=2 +tries=1 -p "$1" @127.0.0.1 "$name" "$type" \
			+noall +comments +answer |
			awk '/status:/ { print $6 } /^[^;]/ && NF { print }' | sort)
		b=$(dig +norec +time=2 +tries=1 -p "$2" @127.0.0.1 "$name" "$type" \
			+noall +comments +answer |
			awk '/status:/ { print $6 } /^[^;]/ && NF { print }' | sort)
		[ "$a" = "$b" ] || n=$((n + 1))
	done < <(head -n 200 "$W/queries.txt")
	echo "$n"
}

# ---- clusterdns, one worker thread
bench_start_clusterdns clusterdns "$W/Corefile" "$CPORT"
echo "# clusterdns: pid $CPID, port $CPORT, $(find "/proc/$CPID/task" -mindepth 1 -maxdepth 1 | wc -l) threads"
bench clusterdns "$CPORT" "$CPID"

# ---- NSD, one server process
if command -v nsd >/dev/null 2>&1; then
	if bench_start_nsd "$SCPU" "$W/zones" "$ZONE" in-addr.arpa; then
		echo "# nsd: pid $NPID, port $NPORT"
		echo "# answers differing from clusterdns on 200 queries: $(same_answers "$CPORT" "$NPORT")"
		bench nsd "$NPORT" "$NPID"
	else
		echo "# nsd did not start (its logs above)"
	fi
	kill "$NPID" 2>/dev/null
else
	echo "# nsd not installed"
fi

# ---- Knot, one UDP worker
if [ "$KNOT" = yes ] && command -v knotd >/dev/null 2>&1; then
	KPORT=$(free_port)
	mkdir -p "$W/knot"
	knot_conf "$W/knot" "127.0.0.1@$KPORT" "$W/zones" "$ZONE" in-addr.arpa \
		>"$W/knot/knot.conf"
	taskset -c "$SCPU" knotd -c "$W/knot/knot.conf" >"$W/knot/out.log" 2>&1 &
	KPID=$!
	PIDS+=("$KPID")
	if bench_wait_up "$KPORT" "$KPID"; then
		echo "# knotd: pid $KPID, port $KPORT"
		echo "# answers differing from clusterdns on 200 queries: $(same_answers "$CPORT" "$KPORT")"
		bench knot "$KPORT" "$KPID"
	else
		echo "# knotd did not start:"
		cat "$W/knot/out.log"
	fi
	kill "$KPID" 2>/dev/null
fi

# ---------------------------------------------------------------- table
echo
echo "clusterdns vs peers: $NSVC ClusterIP + $NHEADLESS headless x $NEPS endpoints over $NNS namespaces; dnsperf ${DURATION}s, 4 clients, 200 outstanding; server on CPU $SCPU, dnsperf on CPU $CCPU"
printf '%-11s %10s %10s %10s %10s %10s %10s %10s %9s\n' server QPS \
	"CPU us/q" "avg us" "p50 us" "p99 us" "RSS MB" "PSS MB" lost
for n in "${NAMES[@]}"; do
	printf '%-11s %10s %10s %10s %10s %10s %10s %10s %9s\n' "$n" \
		"${R[$n.qps]:--}" "${R[$n.cpu]:--}" "${R[$n.avg]:--}" \
		"${R[$n.p50]:--}" "${R[$n.p99]:--}" \
		"$(awk -v k="${R[$n.rss]:-0}" 'BEGIN { printf "%.1f", k / 1024 }')" \
		"$(awk -v k="${R[$n.pss]:-0}" 'BEGIN { printf "%.1f", k / 1024 }')" \
		"${R[$n.lost]:--}"
done
echo "(p50/p99: dnsperf -v at $RATE qps for $LAT_SECONDS s; avg: at full speed; RSS: largest process; PSS: all processes of the server)"
for n in "${NAMES[@]}"; do
	echo "$n rcodes: ${R[$n.codes]:--}"
done
