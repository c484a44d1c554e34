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
# rate (from dnsperf -v), and memory.  Then over TCP (dnsperf -m tcp, the
# 200 outstanding queries pipelined on the 4 clients' connections): QPS at
# saturation and server CPU microseconds per answered query of each.  Then
# clusterdns with one worker thread (CLUSTERDNS_THREADS=1, on CPU
# BENCH_SERVER_CPU) and with two (=2, on the CPUs of BENCH_WORKER_CPUS:
# default that CPU and another one, dnsperf's when there are only two), at
# the same offered load (-w qps, default half the QPS one worker reached
# above, which both sustain; 8 clients, so that the kernel spreads them
# over both workers' sockets): CPU microseconds per query of each and the
# ratio, 2 over 1.  Every table puts the peers' numbers of the same run
# beside ours and the ratio, clusterdns over the better peer; the last
# lines are the headline figures for tools/bench-all.sh (record|...).
# This prints numbers; it asserts nothing.
#
# Usage: tools/bench-nsd.sh [-l seconds] [-s services] [-H headless]
#                           [-e endpoints] [-n namespaces] [-q queries]
#                           [-r rate] [-w rate] [-S seed] [-K]
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
WRATE=0
SEED=1
KNOT=yes
LAT_SECONDS=5
WARM_SECONDS=2

# shellcheck source=tools/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
# knot_conf
# shellcheck source=tools/knot.sh
. "$(dirname "$0")/knot.sh"

while getopts "l:s:H:e:n:q:r:w:S:Kh" opt; do
	case $opt in
	l) DURATION=$OPTARG ;;
	s) NSVC=$OPTARG ;;
	H) NHEADLESS=$OPTARG ;;
	e) NEPS=$OPTARG ;;
	n) NNS=$OPTARG ;;
	q) NQUERIES=$OPTARG ;;
	r) RATE=$OPTARG ;;
	w) WRATE=$OPTARG ;;
	S) SEED=$OPTARG ;;
	K) KNOT=no ;;
	*) bench_opt_other "$opt" ;;
	esac
done
bench_numbers bench-nsd "$DURATION" "$NSVC" "$NHEADLESS" "$NEPS" "$NNS" \
	"$NQUERIES" "$RATE" "$WRATE" "$SEED"
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

# bench NAME PORT PID: run dnsperf against one server, keep the numbers:
# over UDP as NAME, over TCP as NAME-tcp.
bench()
{
	echo "# $1: warming up"
	bench_warm "$2" "$WARM_SECONDS"
	bench_measure "$1" "$2" "$3" "$DURATION"
	bench_latency "$1" "$2" "$LAT_SECONDS" "$RATE"
	BENCH_MODE=tcp bench_measure "$1-tcp" "$2" "$3" "$DURATION"
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

# ---- clusterdns, 1 worker and 2 at the same offered load
if [ "$WRATE" = 0 ]; then
	WRATE=$(awk -v q="${R[clusterdns.qps]:-0}" \
		'BEGIN { r = int(q / 2 / 1000) * 1000; print r < 1000 ? 1000 : r }')
fi
if [ -n "${BENCH_WORKER_CPUS:-}" ]; then
	WCPUS=$BENCH_WORKER_CPUS
else
	other=$(seq 0 $(($(nproc) - 1)) |
		awk -v s="$SCPU" -v c="$CCPU" '$1 != s && $1 != c { print; exit }')
	WCPUS=$SCPU,${other:-$CCPU}
fi
echo "# clusterdns, 1 worker (CPU $SCPU) and 2 workers (CPUs $WCPUS) at $WRATE qps"
bench_warm "$CPORT" "$WARM_SECONDS"
BENCH_RATE=$WRATE BENCH_CLIENTS=8 bench_measure workers1 "$CPORT" "$CPID" \
	"$DURATION"
kill "$CPID" 2>/dev/null
wait "$CPID" 2>/dev/null
C2PORT=$(free_port)
bench_corefile "$C2PORT" >"$W/Corefile.2"
BENCH_THREADS=2 BENCH_CPUS=$WCPUS \
	bench_start_clusterdns clusterdns2 "$W/Corefile.2" "$C2PORT"
bench_warm "$C2PORT" "$WARM_SECONDS"
BENCH_RATE=$WRATE BENCH_CLIENTS=8 bench_measure workers2 "$C2PORT" "$CPID" \
	"$DURATION"
# each thread's CPU time since the start, the loading thread's included:
# shows whether the kernel gave both workers a share of the clients
echo "# clusterdns, 2 workers: CPU ticks per thread since its start: $(
	for t in /proc/"$CPID"/task/*; do
		sed 's/^.*) //' "$t/stat" | awk -v t="${t##*/}" '{ printf "%s:%d ", t, $12 + $13 }'
	done)"
kill "$CPID" 2>/dev/null

# ---------------------------------------------------------------- table
# better SUFFIX: "PEER CPU" of the peer (nsd or knot) with the lower CPU
# us per query: over UDP for SUFFIX "", over TCP for "-tcp".
better()
{
	bench_best nsd "${R[nsd$1.cpu]:--}" knot "${R[knot$1.cpu]:--}"
}
read -r UBEST UBESTV < <(better "")
read -r TBEST TBESTV < <(better -tcp)

echo
echo "clusterdns vs peers: $NSVC ClusterIP + $NHEADLESS headless x $NEPS endpoints over $NNS namespaces; dnsperf ${DURATION}s, 4 clients, 200 outstanding; server on CPU $SCPU, dnsperf on CPU $CCPU"
printf '%-11s %10s %10s %10s %10s %10s %10s %10s %9s %9s\n' server QPS \
	"CPU us/q" "avg us" "p50 us" "p99 us" "RSS MB" "PSS MB" lost ours/it
for n in "${NAMES[@]}"; do
	printf '%-11s %10s %10s %10s %10s %10s %10s %10s %9s %9s\n' "$n" \
		"${R[$n.qps]:--}" "${R[$n.cpu]:--}" "${R[$n.avg]:--}" \
		"${R[$n.p50]:--}" "${R[$n.p99]:--}" \
		"$(awk -v k="${R[$n.rss]:-0}" 'BEGIN { printf "%.1f", k / 1024 }')" \
		"$(awk -v k="${R[$n.pss]:-0}" 'BEGIN { printf "%.1f", k / 1024 }')" \
		"${R[$n.lost]:--}" \
		"$(bench_ratio "${R[clusterdns.cpu]:--}" "${R[$n.cpu]:--}")"
done
echo "(p50/p99: dnsperf -v at $RATE qps for $LAT_SECONDS s; avg: at full speed; RSS: largest process; PSS: all processes of the server; ours/it: clusterdns's CPU us/q over this server's)"
echo "CPU us per query, clusterdns / the better peer ($UBEST $UBESTV): $(bench_ratio "${R[clusterdns.cpu]:--}" "$UBESTV")"

echo
echo "over TCP: dnsperf -m tcp ${DURATION}s at full speed, 4 clients (one connection each), 200 queries outstanding pipelined on them; same pinning"
printf '%-11s %10s %10s %10s %9s %9s\n' server QPS "CPU us/q" "avg us" lost \
	ours/it
for n in "${NAMES[@]}"; do
	printf '%-11s %10s %10s %10s %9s %9s\n' "$n" "${R[$n-tcp.qps]:--}" \
		"${R[$n-tcp.cpu]:--}" "${R[$n-tcp.avg]:--}" "${R[$n-tcp.lost]:--}" \
		"$(bench_ratio "${R[clusterdns-tcp.cpu]:--}" "${R[$n-tcp.cpu]:--}")"
done
echo "CPU us per query over TCP, clusterdns / the better peer ($TBEST $TBESTV): $(bench_ratio "${R[clusterdns-tcp.cpu]:--}" "$TBESTV")"

echo
echo "clusterdns, 1 worker vs 2, the same offered load: dnsperf ${DURATION}s at $WRATE qps, 8 clients, 200 outstanding, on CPU $CCPU"
printf '%-8s %-8s %10s %10s %10s %9s\n' workers CPUs QPS "CPU us/q" \
	"avg us" lost
printf '%-8s %-8s %10s %10s %10s %9s\n' 1 "$SCPU" "${R[workers1.qps]:--}" \
	"${R[workers1.cpu]:--}" "${R[workers1.avg]:--}" "${R[workers1.lost]:--}"
printf '%-8s %-8s %10s %10s %10s %9s\n' 2 "$WCPUS" "${R[workers2.qps]:--}" \
	"${R[workers2.cpu]:--}" "${R[workers2.avg]:--}" "${R[workers2.lost]:--}"
echo "CPU us per query, 2 workers / 1: $(bench_ratio "${R[workers2.cpu]:--}" "${R[workers1.cpu]:--}")"
case ",$WCPUS," in
*",$CCPU,"*) echo "(one of the 2 workers shares CPU $CCPU with dnsperf: this machine has no third CPU, or BENCH_WORKER_CPUS says so)" ;;
esac
for n in "${NAMES[@]}"; do
	echo "$n rcodes: ${R[$n.codes]:--}; over TCP: ${R[$n-tcp.codes]:--}"
done
echo
bench_record "UDP, cluster names, CPU us/query, 1 worker" \
	"${R[clusterdns.cpu]:--}" "$UBEST" "$UBESTV"
bench_record "TCP pipelined, cluster names, CPU us/query, 1 worker" \
	"${R[clusterdns-tcp.cpu]:--}" "$TBEST" "$TBESTV"
bench_record "UDP, CPU us/query with 2 workers, at $WRATE qps, vs 1 worker" \
	"${R[workers2.cpu]:--}" "1-worker" "${R[workers1.cpu]:--}"
