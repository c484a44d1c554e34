#!/bin/bash
# bench-metrics.sh -- what the prometheus directive (and the rest of
# kubeadm's Corefile) costs per query: server CPU per answered query of
# clusterdns with and without them, next to NSD, in one run.
#
# The cluster, the zone files for NSD and the dnsperf query file are
# bench-nsd.sh's (tools/gencluster, tools/zonedump, the same defaults).
# Four servers answer them, one at a time, each pinned to one CPU with
# dnsperf on another, at the same rate (full speed unless -r):
#   bare      clusterdns: bind and the kubernetes block (ttl 30) only;
#   kubeadm   the same kubernetes block inside kubeadm's plugins: errors,
#             health { lameduck 5s }, ready, prometheus, cache 30 (success
#             and denial disabled for cluster.local), loop, reload,
#             loadbalance; no log, no forward (every query is a cluster
#             name);
#   prom      bare plus prometheus alone: the cost of counting;
#   nsd       NSD serving the zones zonedump prints.
# clusterdns runs one worker thread (CLUSTERDNS_THREADS=1); NSD one server
# process.  Every measurement is a warm-up, then dnsperf for the measured
# time, the server's CPU (utime+stime from /proc, all its threads) over
# the queries completed.  -R repeats the four measurements, in a rotated
# order each time; every repetition is printed, then the means.  At the
# end, /metrics of prom is scraped once and its coredns_dns_requests_total
# summed, next to the queries dnsperf completed against that server (the
# warm-ups too; the readiness probe's dig adds a few).
#
# CPU time on a shared machine is noisy (several percent from one run to
# the next), more than the few percent metrics should cost.  -C N counts
# instructions instead, which is exact: the three clusterdns servers, one
# after the other, under valgrind --tool=callgrind, answer the first N
# lines of the query file at $CG_RATE (default 3000) queries a second;
# the user-space instructions of the process (both threads) while they do,
# over the queries completed, are printed with the differences to bare.
# The kernel's part (receiving and sending) is not in those counts; the
# "user %" column of the CPU-time table says how much of the CPU time is
# user space.  The last lines are the headline figures for
# tools/bench-all.sh (record|...; not with -C).  This prints numbers; it
# asserts nothing.
#
# Usage: tools/bench-metrics.sh [-l seconds] [-r rate] [-R repeats]
#                               [-C queries] [-s services] [-H headless]
#                               [-e endpoints] [-n namespaces] [-q queries]
#                               [-S seed]
#   -l  seconds per measurement (default 5)
#   -r  queries a second for every server (default 0: full speed)
#   -R  repetitions of the four measurements (default 2)
#   -C  count instructions over this many queries instead (callgrind)
#   -s -H -e -n -q -S  the generated cluster, as bench-nsd.sh
# top_builddir (default: the directory above this script) locates
# server/clusterdns, tools/zonedump and tools/gencluster; build them
# without sanitizers for numbers that mean something.  BENCH_SERVER_CPU
# and BENCH_CLIENT_CPU (default 0 and 1) choose the CPUs; BENCH_KEEP=1
# keeps the work directory.

set -u

DURATION=5
BENCH_RATE=0
REPEATS=2
NSVC=5000
NHEADLESS=500
NEPS=10
NNS=50
NQUERIES=100000
SEED=1
WARM_SECONDS=1
CG_QUERIES=0
: "${CG_RATE:=3000}"

# shellcheck source=tools/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

while getopts "l:r:R:C:s:H:e:n:q:S:h" opt; do
	case $opt in
	l) DURATION=$OPTARG ;;
	r) BENCH_RATE=$OPTARG ;;
	R) REPEATS=$OPTARG ;;
	C) CG_QUERIES=$OPTARG ;;
	s) NSVC=$OPTARG ;;
	H) NHEADLESS=$OPTARG ;;
	e) NEPS=$OPTARG ;;
	n) NNS=$OPTARG ;;
	q) NQUERIES=$OPTARG ;;
	S) SEED=$OPTARG ;;
	*) bench_opt_other "$opt" ;;
	esac
done
bench_numbers bench-metrics "$DURATION" "$BENCH_RATE" "$REPEATS" \
	"$CG_QUERIES" "$CG_RATE" "$NSVC" "$NHEADLESS" "$NEPS" "$NNS" "$NQUERIES" "$SEED"
if [ "$DURATION" -lt 1 ] || [ "$DURATION" -gt 120 ] ||
	[ "$REPEATS" -lt 1 ] || [ "$REPEATS" -gt 10 ]; then
	echo "bench-metrics: -l must be 1..120 seconds, -R 1..10" >&2
	exit 2
fi

bench_paths
ZONE=cluster.local

TOOLS="dnsperf dig taskset curl"
[ "$CG_QUERIES" = 0 ] || TOOLS="$TOOLS valgrind callgrind_control"
bench_setup bench-metrics "$TOOLS" "$CLUSTERDNS $ZONEDUMP"

# ---------------------------------------------------------------- cluster
echo "# work directory: $W"
bench_cluster
echo "# cluster: $NNS namespaces, $NSVC ClusterIP services, $NHEADLESS headless x $NEPS endpoints; $NQUERIES query lines"

# port: a free loopback port that none of the earlier calls returned.
TAKEN=" "
port()
{
	local p
	while p=$(free_port); do
		case $TAKEN in
		*" $p "*) ;;
		*)
			TAKEN="$TAKEN$p "
			echo "$p"
			return 0
			;;
		esac
	done
	return 1
}

declare -A PORT PID R
NAMES=(bare kubeadm prom)

PORT[bare]=$(port)
PORT[kubeadm]=$(port)
PORT[prom]=$(port)
HPORT=$(port)
RPORT=$(port)
MPORT=$(port)
PPORT=$(port)
bench_corefile "${PORT[bare]}" >"$W/Corefile.bare"
bench_corefile "${PORT[kubeadm]}" "errors
    health 127.0.0.1:$HPORT {
        lameduck 5s
    }
    ready 127.0.0.1:$RPORT
    prometheus 127.0.0.1:$MPORT
    cache 30 {
        disable success $ZONE
        disable denial $ZONE
    }
    loop
    reload
    loadbalance" >"$W/Corefile.kubeadm"
bench_corefile "${PORT[prom]}" "prometheus 127.0.0.1:$PPORT" \
	>"$W/Corefile.prom"
bench_zones "$W/Corefile.bare" "$ZONE" in-addr.arpa

# ratio A B: A / B, or - when either is missing.
ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || b == 0) print "-"
		else printf "%.3f", a / b }'
}

# pct A B: (A - B) / B in percent.
pct()
{
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || b == 0) print "-"
		else printf "%+.1f", (a - b) * 100 / b }'
}

# ------------------------------------------------ instructions (-C N)
if [ "$CG_QUERIES" != 0 ]; then
	head -n "$CG_QUERIES" "$W/queries.txt" >"$W/cg.queries"
	declare -A IR
	for n in "${NAMES[@]}"; do
		BENCH_WRAP=(valgrind --tool=callgrind --callgrind-out-file="$W/$n.cg")
		bench_start_clusterdns "$n" "$W/Corefile.$n" "${PORT[$n]}"
		echo "# $n: under callgrind, pid $CPID, port ${PORT[$n]}: $CG_QUERIES queries at $CG_RATE qps"
		sleep 2 # past the first probes of loop and health
		callgrind_control -z "$CPID" >/dev/null 2>&1
		taskset -c "$CCPU" dnsperf -s 127.0.0.1 -p "${PORT[$n]}" \
			-d "$W/cg.queries" -n 1 -c 4 -q 50 -Q "$CG_RATE" \
			>"$W/$n.cg.dnsperf" 2>&1
		callgrind_control -d "$CPID" >/dev/null 2>&1
		kill "$CPID" 2>/dev/null
		wait "$CPID" 2>/dev/null
		R[$n.done]=$(awk '/Queries completed:/ { print $3 }' "$W/$n.cg.dnsperf")
		IR[$n]=$(awk '/^summary:/ { print $2 }' "$W/$n.cg.1" 2>/dev/null)
	done
	echo
	echo "user-space instructions per answered query (callgrind, both threads of the process): the first $CG_QUERIES query lines at $CG_RATE qps, 4 clients, 50 outstanding"
	printf '%-8s %12s %10s %12s %9s\n' server instructions completed "Ir/query" "vs bare"
	for n in "${NAMES[@]}"; do
		q=$(awk -v i="${IR[$n]:-0}" -v d="${R[$n.done]:-0}" \
			'BEGIN { if (d > 0 && i > 0) printf "%.0f", i / d; else print "-" }')
		R[$n.ir]=$q
		printf '%-8s %12s %10s %12s %8s%%\n' "$n" "${IR[$n]:--}" \
			"${R[$n.done]:--}" "$q" "$(pct "$q" "${R[bare.ir]}")"
	done
	exit 0
fi

for n in "${NAMES[@]}"; do
	bench_start_clusterdns "$n" "$W/Corefile.$n" "${PORT[$n]}"
	PID[$n]=$CPID
	echo "# $n: pid $CPID, port ${PORT[$n]}"
done
if command -v nsd >/dev/null 2>&1 &&
	bench_start_nsd "$SCPU" "$W/zones" "$ZONE" in-addr.arpa; then
	PORT[nsd]=$NPORT
	PID[nsd]=$NPID
	NAMES+=(nsd)
	echo "# nsd: pid $NPID, port $NPORT"
else
	echo "# nsd not installed or did not start: no NSD column"
fi

# ---------------------------------------------------------------- measure
WARMED=0 # queries the warm-ups completed against prom

for rep in $(seq 1 "$REPEATS"); do
	k=$(((rep - 1) % ${#NAMES[@]}))
	for n in "${NAMES[@]:k}" "${NAMES[@]:0:k}"; do
		bench_warm "${PORT[$n]}" "$WARM_SECONDS" "" "$W/$n.$rep.warm"
		if [ "$n" = prom ]; then
			WARMED=$((WARMED + $(awk '/Queries completed:/ { print $3 }' \
				"$W/$n.$rep.warm")))
		fi
		bench_measure "$n.$rep" "${PORT[$n]}" "${PID[$n]}" "$DURATION"
	done
done

# Once, at the end: what prom counted, next to what dnsperf got answered.
curl -s --max-time 5 "http://127.0.0.1:$PPORT/metrics" >"$W/prom.metrics"
COUNTED=$(awk '/^coredns_dns_requests_total[{ ]/ { s += $NF }
	END { printf "%.0f", s }' "$W/prom.metrics")
ANSWERED=$(awk '/^coredns_dns_responses_total[{ ]/ { s += $NF }
	END { printf "%.0f", s }' "$W/prom.metrics")
COMPLETED=$WARMED
for rep in $(seq 1 "$REPEATS"); do
	COMPLETED=$((COMPLETED + ${R[prom.$rep.done]:-0}))
done

# ---------------------------------------------------------------- table

# mean KEY: the mean of R[NAME.REP.KEY] over the repetitions of NAME.
mean()
{
	local rep
	for rep in $(seq 1 "$REPEATS"); do
		echo "${R[$1.$rep.$2]:--}"
	done | awk '$1 != "-" { s += $1; n++ }
		END { if (n) printf "%.2f", s / n; else print "-" }'
}

# spread NAME: "min..max" of its CPU us/q over the repetitions.
spread()
{
	local rep
	for rep in $(seq 1 "$REPEATS"); do
		echo "${R[$1.$rep.cpu]:--}"
	done | awk '$1 != "-" { if (!n || $1 < lo) lo = $1
			if (!n || $1 > hi) hi = $1; n++ }
		END { if (n) printf "%.2f..%.2f", lo, hi; else print "-" }'
}

if [ "$BENCH_RATE" != 0 ]; then
	how="$BENCH_RATE qps"
else
	how="full speed"
fi
echo
echo "server CPU per answered query: $NSVC ClusterIP + $NHEADLESS headless x $NEPS endpoints over $NNS namespaces; dnsperf ${DURATION}s at $how, 4 clients, 200 outstanding, after a ${WARM_SECONDS}s warm-up; server on CPU $SCPU (clusterdns: 1 worker thread), dnsperf on CPU $CCPU"
printf '%-4s %-8s %10s %10s %7s %7s %9s %10s\n' rep server "CPU us/q" QPS \
	"CPU %" "user %" lost completed
for rep in $(seq 1 "$REPEATS"); do
	for n in "${NAMES[@]}"; do
		printf '%-4s %-8s %10s %10s %7s %7s %9s %10s\n' "$rep" "$n" \
			"${R[$n.$rep.cpu]:--}" "${R[$n.$rep.qps]:--}" \
			"$(awk -v c="${R[$n.$rep.cpu]:--}" \
				-v q="${R[$n.$rep.done]:-0}" -v l="$DURATION" \
				'BEGIN { if (c == "-") print "-"
					else printf "%.0f", c * q / l / 1e4 }')" \
			"${R[$n.$rep.user]:--}" "${R[$n.$rep.lost]:--}" "${R[$n.$rep.done]:--}"
	done
done
echo "(CPU %: the server's CPU time over the measured seconds; user %: the part of it in user space)"

echo
echo "means over $REPEATS repetitions"
printf '%-8s %10s %14s %10s %9s %9s\n' server "CPU us/q" "min..max" QPS \
	"/bare" "/nsd"
for n in "${NAMES[@]}"; do
	c=$(mean "$n" cpu)
	printf '%-8s %10s %14s %10.0f %9s %9s\n' "$n" "$c" "$(spread "$n")" \
		"$(mean "$n" qps)" "$(ratio "$c" "$(mean bare cpu)")" \
		"$(ratio "$c" "$(mean nsd cpu)")"
done
echo "(/bare, /nsd: CPU us per query over bare clusterdns's, over NSD's)"

echo
echo "overhead in CPU per query over bare, each repetition and the means"
printf '%-6s %12s %12s\n' rep "prom" "kubeadm"
for rep in $(seq 1 "$REPEATS"); do
	printf '%-6s %11s%% %11s%%\n' "$rep" \
		"$(pct "${R[prom.$rep.cpu]:--}" "${R[bare.$rep.cpu]:--}")" \
		"$(pct "${R[kubeadm.$rep.cpu]:--}" "${R[bare.$rep.cpu]:--}")"
done
printf '%-6s %11s%% %11s%%\n' mean \
	"$(pct "$(mean prom cpu)" "$(mean bare cpu)")" \
	"$(pct "$(mean kubeadm cpu)" "$(mean bare cpu)")"
echo "(prom: ((3)-(1))/(1), the metrics alone; kubeadm: ((2)-(1))/(1), kubeadm's plugins)"

echo
echo "prom's /metrics at the end: coredns_dns_requests_total sum $COUNTED, coredns_dns_responses_total sum $ANSWERED; dnsperf queries completed against it $COMPLETED (measured and warm-ups), difference $((COUNTED - COMPLETED)) (the readiness probe's queries, and answers dnsperf gave up on)"
for n in "${NAMES[@]}"; do
	echo "$n rcodes (last repetition): ${R[$n.$REPEATS.codes]:--}"
done
echo
bench_record "kubeadm's Corefile (prometheus, cache, ...), CPU us/query, 1 worker" \
	"$(mean kubeadm cpu)" nsd "$(mean nsd cpu)"
bench_record "prometheus alone, CPU us/query, 1 worker" \
	"$(mean prom cpu)" "bare clusterdns" "$(mean bare cpu)"
