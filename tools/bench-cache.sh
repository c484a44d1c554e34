#!/bin/bash
# bench-cache.sh -- the cache's hit path: clusterdns answering from its
# cache next to unbound answering the same names from its cache, measured
# with dnsperf, for cluster names and for upstream names.
#
# tools/gencluster writes a cluster and a query file.  NSD serves the zones
# tools/zonedump prints and an upstream zone of generated names
# (bench.test).  Cluster names: clusterdns with `cache 30` in front of the
# kubernetes directive (one worker thread) next to unbound (one thread)
# caching the same names from NSD (stub zones); clusterdns without the
# cache (answers precomputed in the zone) is measured too, for reference.
# Upstream names: clusterdns with `cache 30` and `forward . NSD` next to
# unbound forwarding bench.test to the same NSD (forward-zone).  Every run
# primes the cache with one pass over its query file, then dnsperf runs the
# same file for the measured time, shorter than the TTL (30 s), so every
# measured query is a hit.  Each server is pinned to one CPU, dnsperf to
# another (NSD shares dnsperf's: it only answers the priming passes).  Per
# server: QPS at saturation, server CPU microseconds per answered query,
# dnsperf's average latency, memory.  The last lines are the headline
# figures for tools/bench-all.sh (record|...).  This prints numbers; it
# asserts nothing.
#
# Usage: tools/bench-cache.sh [-l seconds] [-s services] [-H headless]
#                             [-e endpoints] [-n namespaces] [-q queries]
#                             [-u upstream-names] [-S seed]
# top_builddir (default: the directory above this script) locates
# server/clusterdns, tools/zonedump and tools/gencluster; build them
# without sanitizers for numbers that mean something.  BENCH_SERVER_CPU and
# BENCH_CLIENT_CPU (default 0 and 1) choose the CPUs; BENCH_KEEP=1 keeps
# the work directory.

set -u

DURATION=20
NSVC=1000
NHEADLESS=100
NEPS=5
NNS=20
NQUERIES=2000
NUP=2000
SEED=1
WARM_SECONDS=2

# shellcheck source=tools/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

while getopts "l:s:H:e:n:q:u:S:h" opt; do
	case $opt in
	l) DURATION=$OPTARG ;;
	s) NSVC=$OPTARG ;;
	H) NHEADLESS=$OPTARG ;;
	e) NEPS=$OPTARG ;;
	n) NNS=$OPTARG ;;
	q) NQUERIES=$OPTARG ;;
	u) NUP=$OPTARG ;;
	S) SEED=$OPTARG ;;
	*) bench_opt_other "$opt" ;;
	esac
done
bench_numbers bench-cache "$DURATION" "$NSVC" "$NHEADLESS" "$NEPS" "$NNS" \
	"$NQUERIES" "$NUP" "$SEED"
if [ "$DURATION" -lt 1 ] || [ "$DURATION" -gt 25 ]; then
	echo "bench-cache: -l must be 1..25 seconds (the TTL is 30)" >&2
	exit 2
fi

bench_paths
ZONE=cluster.local

bench_setup bench-cache "dnsperf dig taskset unbound nsd" \
	"$CLUSTERDNS $ZONEDUMP"

# ---------------------------------------------------------------- cluster
echo "# work directory: $W"
bench_cluster
NNAMES=$(LC_ALL=C sort -u "$W/queries.txt" | wc -l)
echo "# cluster: $NNS namespaces, $NSVC ClusterIP services, $NHEADLESS headless x $NEPS endpoints; $NQUERIES query lines, $NNAMES distinct questions"

bench_corefile 53 >"$W/Corefile.dump"
bench_zones "$W/Corefile.dump" "$ZONE" in-addr.arpa

# The upstream zone and its queries: every name once, in a shuffled order.
bench_names "$NUP" "$SEED" "$W/zones/bench.test.zone" "$W/upstream.txt"
echo "# upstream: $NUP names in bench.test"

# ---------------------------------------------------------------- measure
NAMES=()
declare -A R

# dnsperf_run PORT QUERIES DNSPERF-ARGS...
dnsperf_run()
{
	taskset -c "$CCPU" dnsperf -s 127.0.0.1 -p "$1" -d "$2" -c 4 -q 200 \
		"${@:3}"
}

# bench NAME PORT PID [QUERIES]: prime the cache (one pass over the query
# file, default $W/queries.txt), warm up, then measure.
bench()
{
	local qf=${4:-$W/queries.txt}
	echo "# $1: priming (one pass over the queries), warming up"
	dnsperf_run "$2" "$qf" -n 1 >"$W/$1.prime" 2>&1
	bench_warm "$2" "$WARM_SECONDS" "$qf"
	bench_measure "$1" "$2" "$3" "$DURATION" "$qf"
	NAMES+=("$1")
}

# answers PORT [QUERIES]: rcode and answer records (owner, type, rdata; no
# TTL) of the first 200 query lines, for comparing two servers.
answers()
{
	local name type
	while read -r name type; do
		echo "$name $type"
		dig +time=2 +tries=1 -p "$1" @127.0.0.1 "$name" "$type" \
			+noall +comments +answer |
			awk '/status:/ { print $6 } /^[^;]/ && NF { $2 = ""; print }' |
			LC_ALL=C sort
	done < <(head -n 200 "${2:-$W/queries.txt}")
}

# differ FILE-A FILE-B: how many answer lines differ.
differ()
{
	diff "$1" "$2" | grep -c '^[<>]'
}

# start_clusterdns NAME CACHE-LINE [FORWARD-LINE]: sets CPORT, CPID.
start_clusterdns()
{
	CPORT=$(free_port)
	bench_corefile "$CPORT" "$2" "${3:-}" >"$W/Corefile.$1"
	bench_start_clusterdns "$1" "$W/Corefile.$1" "$CPORT"
	echo "# $1: pid $CPID, port $CPORT"
}

# ---- NSD (authoritative, behind both caches; on the client's CPU)
if ! bench_start_nsd "$CCPU" "$W/zones" "$ZONE" in-addr.arpa bench.test; then
	echo "bench-cache: nsd did not start (its logs above)" >&2
	exit 1
fi
echo "# nsd: pid $NPID, port $NPORT"

# ---- clusterdns, cache 30 in front of the zone
start_clusterdns clusterdns-cache "cache 30"
bench clusterdns-cache "$CPORT" "$CPID"
answers "$CPORT" >"$W/clusterdns.answers"
kill "$CPID" 2>/dev/null

# ---- clusterdns, no cache: the zone's precomputed answers
start_clusterdns clusterdns-zone ""
bench clusterdns-zone "$CPORT" "$CPID"
kill "$CPID" 2>/dev/null

# ---- clusterdns, cache 30 in front of forward: upstream names
start_clusterdns clusterdns-fwd "cache 30" "forward . 127.0.0.1:$NPORT"
bench clusterdns-fwd "$CPORT" "$CPID" "$W/upstream.txt"
answers "$CPORT" "$W/upstream.txt" >"$W/clusterdns-fwd.answers"
kill "$CPID" 2>/dev/null

# ---- unbound, one thread, a cache in front of NSD
UPORT=$(free_port)
mkdir -p "$W/unbound"
cat >"$W/unbound/unbound.conf" <<EOF
server:
    interface: 127.0.0.1
    port: $UPORT
    num-threads: 1
    so-reuseport: no
    username: ""
    chroot: ""
    directory: "$W/unbound"
    pidfile: "$W/unbound/unbound.pid"
    do-daemonize: no
    use-syslog: no
    logfile: ""
    verbosity: 0
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "iterator"
    qname-minimisation: no
    minimal-responses: no
    prefetch: no
    unblock-lan-zones: yes
    insecure-lan-zones: yes
    num-queries-per-thread: 4096
    msg-cache-size: 64m
    rrset-cache-size: 128m
    local-zone: "local." nodefault
    local-zone: "test." nodefault
stub-zone:
    name: "$ZONE"
    stub-addr: 127.0.0.1@$NPORT
stub-zone:
    name: "in-addr.arpa"
    stub-addr: 127.0.0.1@$NPORT
forward-zone:
    name: "bench.test"
    forward-addr: 127.0.0.1@$NPORT
remote-control:
    control-enable: no
EOF
taskset -c "$SCPU" unbound -d -c "$W/unbound/unbound.conf" \
	>"$W/unbound/out.log" 2>&1 &
UPID=$!
PIDS+=("$UPID")
if ! bench_wait_up "$UPORT" "$UPID" "$ZONE" SOA; then
	echo "bench-cache: unbound did not start:" >&2
	cat "$W/unbound/out.log" >&2
	exit 1
fi
echo "# unbound: pid $UPID, port $UPORT ($(unbound -V | head -n 1))"
bench unbound "$UPORT" "$UPID"
answers "$UPORT" >"$W/unbound.answers"
echo "# answer lines differing between clusterdns and unbound on 200 cluster queries: $(differ "$W/clusterdns.answers" "$W/unbound.answers")"
bench unbound-fwd "$UPORT" "$UPID" "$W/upstream.txt"
answers "$UPORT" "$W/upstream.txt" >"$W/unbound-fwd.answers"
echo "# answer lines differing between clusterdns and unbound on 200 upstream queries: $(differ "$W/clusterdns-fwd.answers" "$W/unbound-fwd.answers")"

# ---------------------------------------------------------------- table

# table TITLE NAME...: the numbers of these runs, one line each.
table()
{
	local n
	echo
	echo "$1"
	printf '%-17s %10s %10s %10s %10s %10s %9s\n' server QPS "CPU us/q" \
		"avg us" "RSS MB" "PSS MB" lost
	for n in "${@:2}"; do
		printf '%-17s %10s %10s %10s %10s %10s %9s\n' "$n" \
			"${R[$n.qps]:--}" "${R[$n.cpu]:--}" "${R[$n.avg]:--}" \
			"$(awk -v k="${R[$n.rss]:-0}" 'BEGIN { printf "%.1f", k / 1024 }')" \
			"$(awk -v k="${R[$n.pss]:-0}" 'BEGIN { printf "%.1f", k / 1024 }')" \
			"${R[$n.lost]:--}"
	done
}

table "cache hits, cluster names: $NNAMES questions, primed, dnsperf ${DURATION}s, 4 clients, 200 outstanding; server on CPU $SCPU, dnsperf on CPU $CCPU" \
	clusterdns-cache clusterdns-zone unbound
echo "(clusterdns-cache: cache 30 in front of the zone; clusterdns-zone: no cache; unbound: its cache, NSD behind it as stub zones)"
table "cache hits, upstream names: $NUP questions under bench.test, primed, same dnsperf and pinning" \
	clusterdns-fwd unbound-fwd
echo "(clusterdns-fwd: cache 30 in front of forward . NSD; unbound-fwd: its cache, forward-zone bench.test to the same NSD)"
for n in "${NAMES[@]}"; do
	echo "$n rcodes: ${R[$n.codes]:--}"
done
echo
bench_record "cache hit, cluster names, CPU us/query, 1 worker" \
	"${R[clusterdns-cache.cpu]:--}" unbound "${R[unbound.cpu]:--}"
bench_record "cache hit, upstream names, CPU us/query, 1 worker" \
	"${R[clusterdns-fwd.cpu]:--}" unbound "${R[unbound-fwd.cpu]:--}"
