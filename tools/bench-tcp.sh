#!/bin/bash
# bench-tcp.sh -- what TCP load costs UDP clients: clusterdns (release
# build, default threads and TCP limits) serving tests/fixtures/cluster,
# asked over UDP at a fixed rate by tools/udplat with no TCP load, with
# 10000 idle TCP connections open (tools/tcphold, from 20 loopback
# addresses so no address is over its share), and with 100 slowloris
# clients (a byte a second, reconnecting when closed).  Prints p50, p99 and
# the p99 change against no load, side by side.  Not a test.
#
# Usage: tools/bench-tcp.sh [-r QPS] [-d SECONDS] [-n IDLE] [-s SLOW]
#   -r  UDP queries per second (default 5000)
#   -d  seconds measured per load (default 10)
#   -n  idle TCP connections (default 10000)
#   -s  slowloris clients (default 100)
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
# shellcheck source-path=SCRIPTDIR source=bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

QPS=5000 SECS=10 NIDLE=10000 NSLOW=100
while getopts r:d:n:s:h o; do
	case $o in
	r) QPS=$OPTARG ;;
	d) SECS=$OPTARG ;;
	n) NIDLE=$OPTARG ;;
	s) NSLOW=$OPTARG ;;
	*) bench_opt_other "$o" ;;
	esac
done
bench_numbers bench-tcp "$QPS" "$SECS" "$NIDLE" "$NSLOW"
bench_paths
UDPLAT=$top_builddir/tools/udplat
TCPHOLD=$top_builddir/tools/tcphold
bench_setup bench-tcp "dig taskset" "$CLUSTERDNS $UDPLAT $TCPHOLD"
ulimit -n $((NIDLE + NSLOW + 2000)) 2>/dev/null || {
	echo "bench-tcp: cannot raise the open-file limit to $((NIDLE + NSLOW + 2000))" >&2
	exit 1
}
ZONE=cluster.local
NAME=web.prod.svc.$ZONE
PORT=$(free_port)
cat >"$W/Corefile" <<EOC
.:$PORT {
    bind 127.0.0.1
    kubernetes $ZONE in-addr.arpa ip6.arpa {
        objects ${top_srcdir:?}/tests/fixtures/cluster
        ttl 30
    }
}
EOC
taskset -c "$SCPU" "$CLUSTERDNS" -conf "$W/Corefile" -quiet >"$W/server.log" 2>&1 &
SPID=$!
PIDS+=("$SPID")
bench_wait_up "$PORT" "$SPID" || {
	echo "bench-tcp: clusterdns did not start" >&2
	cat "$W/server.log" >&2
	exit 1
}

# measure LABEL: udplat for SECS at QPS; prints LABEL P50 P99 LOST.
measure()
{
	local r
	r=$(taskset -c "$CCPU" "$UDPLAT" -p "$PORT" -r "$QPS" -d "$SECS" -q "$NAME")
	echo "$1 $(printf '%s\n' "$r" | awk '{ print $8, $10, $6 }')"
}

# hold ARG...: tcphold in the background until its connections are open.
hold()
{
	taskset -c "$CCPU" nice -n 19 "$TCPHOLD" -p "$PORT" -t 3600 "$@" >"$W/hold.out" 2>&1 &
	HPID=$!
	PIDS+=("$HPID")
	for _ in $(seq 1 600); do
		grep -q '^held' "$W/hold.out" && break
		sleep 0.1
	done
	echo "# tcphold $*: $(grep '^held' "$W/hold.out")"
}

taskset -c "$CCPU" "$UDPLAT" -p "$PORT" -r "$QPS" -d 2 -q "$NAME" >/dev/null
{
	measure none
	hold -s 127.1.0.1 -S 20 -n "$NIDLE" -q "$NAME"
	measure "idle-$NIDLE"
	kill "$HPID"
	wait "$HPID" 2>/dev/null
	hold -s 127.2.0.1 -n "$NSLOW" -m trickle -r -q "$NAME"
	measure "slowloris-$NSLOW"
	kill "$HPID"
	wait "$HPID" 2>/dev/null
} >"$W/results"
grep '^#' "$W/results"
echo "# clusterdns, UDP at $QPS qps for $SECS s per load (latency in us)"
grep -v '^#' "$W/results" | awk '
	NR == 1 { base = $3 }
	{ printf "%-18s p50 %6d  p99 %6d  p99 change %+6.1f%%  lost %d\n",
		$1, $2, $3, base ? ($3 - base) * 100 / base : 0, $4 }'
