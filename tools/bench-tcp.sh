#!/bin/bash
# bench-tcp.sh -- what TCP load costs UDP clients, for clusterdns and its
# peers: clusterdns (release build, default threads and TCP limits)
# serving tests/fixtures/cluster, and NSD and Knot (when installed)
# serving the same cluster zone as tools/zonedump prints it.  Each is
# asked over UDP at a fixed rate by tools/udplat with no TCP load; with
# 10000 idle TCP connections open (tools/tcphold, from 20 loopback
# addresses so no address is over clusterdns' share), measured from the
# moment all are open until just before the first could time out (idle);
# with the same 10000 reopened as the server closes them, measured for
# the full time, through the burst of closes and reopens at the idle
# timeout (churn); and with 100 slowloris clients (a byte a second,
# reconnecting when closed).  Every
# server runs pinned to one CPU, the clients to another, one server at a
# time; the loads run -k rounds in turn.  Prints one table of medians
# over the rounds: p50 and p99 per load and server, each p99's change
# against the same server's no-load row, how many of the TCP connections
# were still open when the measurement ended, and the CPU time the
# hypervisor stole; then every round's p99.  The peers' TCP settings are
# in its footer; the last lines are the headline figures for
# tools/bench-all.sh (record|...: clusterdns's p99 under each load next to
# the better peer's).  Not a test.
#
# Usage: tools/bench-tcp.sh [-r QPS] [-d SECONDS] [-k ROUNDS] [-n IDLE] [-s SLOW] [-P]
#   -r  UDP queries per second (default 5000)
#   -d  seconds measured per load and round (default 10)
#   -k  rounds of the four loads (default 3); the table shows each
#       figure's median over the rounds, and the p99s of every round
#   -n  idle TCP connections (default 10000)
#   -s  slowloris clients (default 100)
#   -P  clusterdns only, no peers
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
# shellcheck source-path=SCRIPTDIR source=bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
# knot_conf
# shellcheck source-path=SCRIPTDIR source=knot.sh
. "$(dirname "$0")/knot.sh"

IDLE_MS=10000 # every server's idle timeout here
QPS=5000 SECS=10 ROUNDS=3 NIDLE=10000 NSLOW=100 PEERS=yes
while getopts r:d:k:n:s:Ph o; do
	case $o in
	r) QPS=$OPTARG ;;
	d) SECS=$OPTARG ;;
	k) ROUNDS=$OPTARG ;;
	n) NIDLE=$OPTARG ;;
	s) NSLOW=$OPTARG ;;
	P) PEERS=no ;;
	*) bench_opt_other "$o" ;;
	esac
done
bench_numbers bench-tcp "$QPS" "$SECS" "$ROUNDS" "$NIDLE" "$NSLOW"
if [ "$SECS" -lt 1 ] || [ "$SECS" -gt 120 ]; then
	echo "bench-tcp: -d must be 1..120 seconds" >&2
	exit 2
fi
if [ "$ROUNDS" -lt 1 ] || [ "$ROUNDS" -gt 20 ]; then
	echo "bench-tcp: -k must be 1..20 rounds" >&2
	exit 2
fi
bench_paths
UDPLAT=$top_builddir/tools/udplat
TCPHOLD=$top_builddir/tools/tcphold
bench_setup bench-tcp "dig taskset chrt" "$CLUSTERDNS $UDPLAT $TCPHOLD $ZONEDUMP"
# idle CPUs spin instead of halting (bench_spin; BENCH_HALT=1: they halt)
bench_spin
# every server and tcphold hold all the connections at once
NOFILE=$((NIDLE + NSLOW + 2000))
ulimit -n "$NOFILE" 2>/dev/null || {
	echo "bench-tcp: cannot raise the open-file limit to $NOFILE" >&2
	exit 1
}
# the peers' connection limits: room for every connection of a load
PEER_CONNS=$((NIDLE + NSLOW + 100))
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
# the peers' zone file; zonedump's warnings (objects DNS does not use)
# are kept out of the report
(bench_zones "$W/Corefile" "$ZONE") 2>"$W/zonedump.log" || {
	cat "$W/zonedump.log" >&2
	exit 1
}

# measure SERVER LOAD PORT [SECONDS]: udplat for SECONDS (default SECS) at
# QPS; appends
# "SERVER LOAD P50 P99 LOST STEAL" to $W/results (STEAL: the share of
# CPU time the hypervisor took meanwhile, bench_stolen).
measure()
{
	local r s0
	s0=$(bench_stolen)
	r=$(taskset -c "$CCPU" "$UDPLAT" -p "$3" -r "$QPS" -d "${4:-$SECS}" \
		-q "$NAME")
	echo "$1 $2 $(printf '%s\n' "$r" | awk '{ print $8, $10, $6 }')" \
		"$(bench_steal_pct "$s0" "$(bench_stolen)")" >>"$W/results"
}

# hold PORT ARG...: tcphold in the background until its connections are
# open (60 s at most).  Sets HELD_MS: how long that took.
hold()
{
	local port=$1 t0
	shift
	t0=$(date +%s%3N)
	taskset -c "$CCPU" nice -n 19 "$TCPHOLD" -p "$port" -t 3600 "$@" \
		>"$W/hold.out" 2>&1 &
	HPID=$!
	PIDS+=("$HPID")
	for _ in $(seq 1 600); do
		grep -qs '^held' "$W/hold.out" && break
		sleep 0.1
	done
	HELD_MS=$(($(date +%s%3N) - t0))
	echo "# tcphold $*: $(grep '^held' "$W/hold.out")"
}

# unhold SERVER LOAD: stop tcphold; appends "SERVER LOAD OPEN" (its
# connections open at the end) to $W/open, then lets the server close
# them before the next load.
unhold()
{
	kill "$HPID" 2>/dev/null
	wait "$HPID" 2>/dev/null
	echo "$1 $2 $(awk '/^open/ { o = $2 } END { print o + 0 }' "$W/hold.out")" >>"$W/open"
	sleep 2
}

# idle_secs: how long the idle load can be measured after hold: SECS, or
# less, so that it ends a second before the earliest idle timeout (10 s
# for every server here) of the connections hold opened first.
idle_secs()
{
	local s=$(((IDLE_MS - HELD_MS) / 1000 - 1))
	[ "$s" -gt "$SECS" ] && s=$SECS
	[ "$s" -lt 1 ] && s=1
	echo "$s" >>"$W/idle_secs"
	echo "$s"
}

# loads SERVER PORT: the four measurements against one server, ROUNDS
# times in turn, so that a burst of the host's noise hits one round of a
# load rather than the whole of it.
loads()
{
	local r
	echo "# $1: port $2"
	taskset -c "$CCPU" "$UDPLAT" -p "$2" -r "$QPS" -d 2 -q "$NAME" >/dev/null
	for r in $(seq 1 "$ROUNDS"); do
		echo "# $1: round $r of $ROUNDS"
		measure "$1" none "$2"
		# idle: measured while the connections stay open untouched,
		# ending a second before the first opened could time out
		hold "$2" -s 127.1.0.1 -S 20 -n "$NIDLE" -q "$NAME"
		measure "$1" idle "$2" "$(idle_secs)"
		unhold "$1" idle
		hold "$2" -s 127.1.0.1 -S 20 -n "$NIDLE" -r -q "$NAME"
		measure "$1" churn "$2"
		unhold "$1" churn
		hold "$2" -s 127.2.0.1 -n "$NSLOW" -m trickle -r -q "$NAME"
		measure "$1" slow "$2"
		unhold "$1" slow
	done
}

# answer PORT: the A records of NAME there, sorted, comma-separated.
answer()
{
	dig +norec +time=2 +tries=1 +short -p "$1" @127.0.0.1 "$NAME" A |
		sort | paste -sd, -
}

: >"$W/results"
: >"$W/open"
SERVERS=(clusterdns)
FOOT=()

# ---- clusterdns, default threads and limits
taskset -c "$SCPU" "$CLUSTERDNS" -conf "$W/Corefile" -quiet >"$W/server.log" 2>&1 &
SPID=$!
PIDS+=("$SPID")
bench_wait_up "$PORT" "$SPID" || {
	echo "bench-tcp: clusterdns did not start" >&2
	cat "$W/server.log" >&2
	exit 1
}
echo "# clusterdns answers $NAME A: $(answer "$PORT")"
loads clusterdns "$PORT"
kill "$SPID"
wait "$SPID" 2>/dev/null
FOOT+=("clusterdns: $(nproc) worker threads (one per CPU, the default), TCP defaults: 10 s idle timeout (partial queries do not count), 10000 connections in all (oldest idle closed for a new one), 1000 per client address")

# ---- NSD, one server process
if [ "$PEERS" = yes ] && command -v nsd >/dev/null 2>&1; then
	BENCH_NSD_SERVER="    tcp-count: $PEER_CONNS
    tcp-timeout: 10"
	if bench_start_nsd "$SCPU" "$W/zones" "$ZONE"; then
		echo "# nsd answers $NAME A: $(answer "$NPORT")"
		loads nsd "$NPORT"
		SERVERS+=(nsd)
		FOOT+=("nsd $(nsd -v 2>&1 | awk 'NR == 1 { print $3 }'): server-count 1, tcp-count $PEER_CONNS (default 100), tcp-timeout 10 s (default 120)")
	else
		echo "# nsd did not start (its logs above)"
	fi
	kill "$NPID" 2>/dev/null
	wait "$NPID" 2>/dev/null
fi

# ---- Knot, one UDP and one TCP worker
if [ "$PEERS" = yes ] && command -v knotd >/dev/null 2>&1; then
	KPORT=$(free_port)
	mkdir -p "$W/knot"
	KNOT_SERVER="    tcp-max-clients: $PEER_CONNS
    tcp-idle-timeout: 10s"
	knot_conf "$W/knot" "127.0.0.1@$KPORT" "$W/zones" "$ZONE" \
		>"$W/knot/knot.conf"
	taskset -c "$SCPU" knotd -c "$W/knot/knot.conf" >"$W/knot/out.log" 2>&1 &
	KPID=$!
	PIDS+=("$KPID")
	if bench_wait_up "$KPORT" "$KPID"; then
		echo "# knot answers $NAME A: $(answer "$KPORT")"
		loads knot "$KPORT"
		SERVERS+=(knot)
		FOOT+=("knot $(knotd -V 2>&1 | awk '{ print $NF }'): udp-workers 1, tcp-workers 1, tcp-max-clients $PEER_CONNS (default: half the open-file limit), tcp-idle-timeout 10 s (the default), tcp-io-timeout 500 ms (the default: a message must arrive whole within it)")
	else
		echo "# knotd did not start:"
		cat "$W/knot/out.log"
	fi
	kill "$KPID" 2>/dev/null
	wait "$KPID" 2>/dev/null
fi

# ---------------------------------------------------------------- table
echo
echo "UDP latency under TCP load: udplat at $QPS qps for $SECS s per load and round, $ROUNDS rounds, in us (medians over the rounds); servers on CPU $SCPU, clients on CPU $CCPU"
echo "loads: none; idle = $NIDLE idle TCP connections (20 source addresses), measured for $(sort -n "$W/idle_secs" | head -n 1)-$(sort -n "$W/idle_secs" | tail -n 1) s while they stay open, before any times out;"
echo "  churn = the same, reopened as the server closes them after its idle timeout, so that $NIDLE stay open; slow = $NSLOW slowloris clients (a byte a second, reconnecting)"
awk -v servers="${SERVERS[*]}" -v rec="$W/records" -v qps="$QPS" \
	-v nidle="$NIDLE" -v nslow="$NSLOW" '
	# median of the numbers in the space-separated list l
	function median(l,    v, n, i, j, t) {
		n = split(l, v, " ")
		if (!n)
			return ""
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
				t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
			}
		return n % 2 ? v[(n + 1) / 2] : int((v[n / 2] + v[n / 2 + 1]) / 2 + 0.5)
	}
	function add(a, k, x) { a[k] = a[k] == "" ? x : a[k] " " x }
	# open: the fewest still open in any round
	FNR == NR { k = $1 " " $2
		if (!(k in open) || $3 + 0 < open[k]) open[k] = $3 + 0
		next }
	{ k = $1 " " $2; add(l50, k, $3); add(l99, k, $4); lost[k] += $5
	  add(lsteal, k, $6) }
	END {
		for (k in l99) {
			p50[k] = median(l50[k]); p99[k] = median(l99[k])
			steal[k] = median(lsteal[k])
		}
		n = split(servers, s, " ")
		nl = split("none idle churn slow", loads, " ")
		printf "%-6s", ""
		for (i = 1; i <= n; i++)
			printf " | %-38s", s[i]
		printf "\n%-6s", "load"
		for (i = 1; i <= n; i++)
			printf " | %6s %6s %7s %5s %5s %5s", "p50", "p99", "p99 chg",
				"lost", "open", "steal"
		printf "\n"
		for (l = 1; l <= nl; l++) {
			printf "%-6s", loads[l]
			for (i = 1; i <= n; i++) {
				k = s[i] " " loads[l]
				b = p99[s[i] " none"]
				chg = loads[l] == "none" ? "-" : \
					b ? sprintf("%+.0f%%", (p99[k] - b) * 100 / b) : "-"
				printf " | %6s %6s %7s %5s %5s %5s", p50[k], p99[k], chg, \
					lost[k], loads[l] == "none" ? "-" : open[k], \
					steal[k] == "" ? "-" : steal[k] "%"
			}
			printf "\n"
		}
		# FIGURE|OURS|PEER|PEER_VALUE: the better peer under each load
		what["idle"] = nidle " idle TCP connections"
		what["churn"] = nidle " TCP connections, reopened (churn)"
		what["slow"] = nslow " slowloris clients"
		for (l = 2; l <= nl; l++) {
			best = ""; bv = ""
			for (i = 2; i <= n; i++) {
				v = p99[s[i] " " loads[l]]
				if (v != "" && (bv == "" || v + 0 < bv + 0)) {
					best = s[i]; bv = v
				}
			}
			printf "UDP p99 at %s qps with %s (us)|%s|%s|%s\n", qps,
				what[loads[l]], p99["clusterdns " loads[l]], best, bv > rec
		}
	}' "$W/open" "$W/results" | sed 's/ *$//'
echo "(lost: UDP queries unanswered within 1 s, all rounds; open: TCP connections of the load still open when it ended, the fewest of any round;"
echo " steal: CPU time the hypervisor took from this machine meanwhile, 0% on bare metal; a p99 measured with more than a few percent stolen says more about the host than about the server)"
echo "p99 of every round, in us:"
awk '{ k = $1 " " $2; r[k] = r[k] " " $4; if (!(k in seen)) { seen[k] = 1; o[++n] = k } }
	END { for (i = 1; i <= n; i++) printf "  %-16s%s\n", o[i], r[o[i]] }' "$W/results"
for f in "${FOOT[@]}"; do
	echo "$f"
done
echo
while IFS='|' read -r fig ours peer pv; do
	bench_record "$fig" "$ours" "$peer" "$pv"
done <"$W/records"
