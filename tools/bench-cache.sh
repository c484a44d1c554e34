#!/bin/bash
# bench-cache.sh -- the cache's hit path: clusterdns answering from its
# cache next to unbound answering the same names from its cache, measured
# with dnsperf.
#
# tools/gencluster writes a cluster and a query file.  clusterdns serves it
# with `cache 30` in front of the kubernetes directive (one worker thread),
# so every name is cached after its first answer; unbound (one thread)
# caches the same names from NSD, which serves the zones tools/zonedump
# prints.  Both caches are primed by one pass over the query file, then
# dnsperf runs the same file for the measured time, shorter than the TTL
# (30 s), so every measured query is a hit.  clusterdns without the cache
# (answers precomputed in the zone) is measured too, for reference.  Each
# server is pinned to one CPU, dnsperf to another (NSD shares dnsperf's: it
# only answers the priming pass).  Per server: QPS at saturation, server CPU
# microseconds per answered query, dnsperf's average latency, memory.  This
# prints numbers; it asserts nothing.
#
# Until the forwarder lands, the hit path is measured with cluster names;
# the cache is the same for upstream names.
#
# Usage: tools/bench-cache.sh [-l seconds] [-s services] [-H headless]
#                             [-e endpoints] [-n namespaces] [-q queries]
#                             [-S seed]
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
SEED=1
WARM_SECONDS=2

usage()
{
	sed -n '/^# Usage:/,/^# the work directory/s/^# \{0,1\}//p' "$0"
}

while getopts "l:s:H:e:n:q:S:h" opt; do
	case $opt in
	l) DURATION=$OPTARG ;;
	s) NSVC=$OPTARG ;;
	H) NHEADLESS=$OPTARG ;;
	e) NEPS=$OPTARG ;;
	n) NNS=$OPTARG ;;
	q) NQUERIES=$OPTARG ;;
	S) SEED=$OPTARG ;;
	h)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
done
# shellcheck source=tools/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
bench_numbers bench-cache "$DURATION" "$NSVC" "$NHEADLESS" "$NEPS" "$NNS" \
	"$NQUERIES" "$SEED"
if [ "$DURATION" -lt 1 ] || [ "$DURATION" -gt 25 ]; then
	echo "bench-cache: -l must be 1..25 seconds (the TTL is 30)" >&2
	exit 2
fi

HERE=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$HERE/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
CLUSTERDNS=$top_builddir/server/clusterdns
ZONEDUMP=$top_builddir/tools/zonedump
GENCLUSTER=$top_builddir/tools/gencluster
ZONE=cluster.local

bench_setup bench-cache "dnsperf dig taskset unbound nsd" \
	"$CLUSTERDNS $ZONEDUMP"

# ---------------------------------------------------------------- cluster
echo "# work directory: $W"
if [ ! -x "$GENCLUSTER" ]; then
	echo "# tools/gencluster not built: compiling it"
	GENCLUSTER=$W/gencluster
	"${CC:-cc}" -O2 -o "$GENCLUSTER" "$top_srcdir/tools/gencluster.c" ||
		exit 1
fi
"$GENCLUSTER" -n "$NNS" -s "$NSVC" -H "$NHEADLESS" -e "$NEPS" \
	-q "$NQUERIES" -S "$SEED" -Q "$W/queries.txt" "$W/objects" || exit 1
NNAMES=$(LC_ALL=C sort -u "$W/queries.txt" | wc -l)
echo "# cluster: $NNS namespaces, $NSVC ClusterIP services, $NHEADLESS headless x $NEPS endpoints; $NQUERIES query lines, $NNAMES distinct questions"

# corefile PORT CACHE-LINE: clusterdns's Corefile, with or without cache.
corefile()
{
	cat <<EOF
.:$1 {
    bind 127.0.0.1
    $2
    kubernetes $ZONE in-addr.arpa ip6.arpa {
        objects $W/objects
        ttl 30
    }
}
EOF
}

mkdir -p "$W/zones"
corefile 53 "" >"$W/Corefile.dump"
for z in "$ZONE" in-addr.arpa; do
	"$ZONEDUMP" -conf "$W/Corefile.dump" -zone "$z" >"$W/zones/$z.zone" || {
		echo "bench-cache: zonedump -zone $z failed" >&2
		exit 1
	}
done

# ---------------------------------------------------------------- measure
NAMES=()
declare -A R

dnsperf_run()
{
	taskset -c "$CCPU" dnsperf -s 127.0.0.1 -p "$1" -d "$W/queries.txt" \
		-c 4 -q 200 "${@:2}"
}

# bench NAME PORT PID: prime the cache (one pass over the queries), warm
# up, then measure.
bench()
{
	echo "# $1: priming (one pass over the queries), warming up"
	dnsperf_run "$2" -n 1 >"$W/$1.prime" 2>&1
	dnsperf_run "$2" -l "$WARM_SECONDS" >/dev/null 2>&1
	bench_measure "$1" "$2" "$3" "$DURATION"
	NAMES+=("$1")
}

# answers PORT: rcode and answer records (owner, type, rdata; no TTL) of
# the first 200 query lines, for comparing two servers.
answers()
{
	local name type
	while read -r name type; do
		echo "$name $type"
		dig +time=2 +tries=1 -p "$1" @127.0.0.1 "$name" "$type" \
			+noall +comments +answer |
			awk '/status:/ { print $6 } /^[^;]/ && NF { $2 = ""; print }' |
			LC_ALL=C sort
	done < <(head -n 200 "$W/queries.txt")
}

# start_clusterdns NAME CACHE-LINE: sets CPORT, CPID.
start_clusterdns()
{
	CPORT=$(bench_free_port)
	corefile "$CPORT" "$2" >"$W/Corefile.$1"
	CLUSTERDNS_THREADS=1 taskset -c "$SCPU" "$CLUSTERDNS" \
		-conf "$W/Corefile.$1" -quiet >"$W/$1.log" 2>&1 &
	CPID=$!
	PIDS+=("$CPID")
	if ! bench_wait_up "$CPORT" "$CPID"; then
		echo "bench-cache: clusterdns did not start:" >&2
		cat "$W/$1.log" >&2
		exit 1
	fi
	echo "# $1: pid $CPID, port $CPORT"
}

# ---- clusterdns, cache 30 in front of the zone
start_clusterdns clusterdns-cache "cache 30"
bench clusterdns-cache "$CPORT" "$CPID"
answers "$CPORT" >"$W/clusterdns.answers"
kill "$CPID" 2>/dev/null

# ---- clusterdns, no cache: the zone's precomputed answers
start_clusterdns clusterdns-zone ""
bench clusterdns-zone "$CPORT" "$CPID"
kill "$CPID" 2>/dev/null

# ---- NSD (authoritative, behind unbound; on the client's CPU)
if ! bench_start_nsd "$CCPU" "$W/zones" "$ZONE" in-addr.arpa; then
	echo "bench-cache: nsd did not start (its logs above)" >&2
	exit 1
fi
echo "# nsd: pid $NPID, port $NPORT"

# ---- unbound, one thread, a cache in front of NSD
UPORT=$(bench_free_port)
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
stub-zone:
    name: "$ZONE"
    stub-addr: 127.0.0.1@$NPORT
stub-zone:
    name: "in-addr.arpa"
    stub-addr: 127.0.0.1@$NPORT
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
DIFF=$(diff "$W/clusterdns.answers" "$W/unbound.answers" | grep -c '^[<>]')
echo "# answer lines differing between clusterdns and unbound on 200 queries: $DIFF"

# ---------------------------------------------------------------- table
echo
echo "cache hits: $NNAMES cluster questions, primed, dnsperf ${DURATION}s, 4 clients, 200 outstanding; server on CPU $SCPU, dnsperf on CPU $CCPU"
printf '%-17s %10s %10s %10s %10s %10s %9s\n' server QPS "CPU us/q" \
	"avg us" "RSS MB" "PSS MB" lost
for n in "${NAMES[@]}"; do
	printf '%-17s %10s %10s %10s %10s %10s %9s\n' "$n" \
		"${R[$n.qps]:--}" "${R[$n.cpu]:--}" "${R[$n.avg]:--}" \
		"$(awk -v k="${R[$n.rss]:-0}" 'BEGIN { printf "%.1f", k / 1024 }')" \
		"$(awk -v k="${R[$n.pss]:-0}" 'BEGIN { printf "%.1f", k / 1024 }')" \
		"${R[$n.lost]:--}"
done
echo "(clusterdns-cache: cache 30 in front of the zone; clusterdns-zone: no cache; unbound: its cache, NSD behind it)"
for n in "${NAMES[@]}"; do
	echo "$n rcodes: ${R[$n.codes]:--}"
done
