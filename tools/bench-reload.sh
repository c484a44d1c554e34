#!/bin/bash
# bench-reload.sh -- what reloading a big objects PATH costs the clients:
# clusterdns (default threads, all on one CPU, so that reading the files
# competes with the workers) serving a generated cluster of SERVICES
# ClusterIP services in one file, asked over UDP at a fixed rate by
# tools/udplat (on the other CPU, with curl), first with no reload, then
# while the files are reloaded (SIGHUP) back to back, for -d seconds or
# the time of two reloads, whichever is longer (one reload is timed
# first, so that the phase measures whole reloads, read and apply); /health
# is asked every 100 ms meanwhile.  Prints UDP p50, p99 and lost queries,
# the CPU time the hypervisor stole meanwhile, the slowest /health answer,
# the reloads that ended in the phase and the last one's read and apply
# times, for each clusterdns binary given (the build's own first, then -o
# OTHER, e.g. an older build), side by side.  With -k, the two phases run
# that many rounds in turn, and each binary's rows are the medians over
# the rounds (lost and reloads: the sums; health: the slowest), followed
# by every round's p99: on a noisy host one round says little.  The last
# line is the headline figure for tools/bench-all.sh (record|...: the p99
# while reloading next to the p99 of no reload, or of OTHER reloading
# when -o is given).  Not a test.
#
# Usage: tools/bench-reload.sh [-s SERVICES] [-r QPS] [-d SECONDS] [-k ROUNDS] [-o BINARY]
#   -s  ClusterIP services in the file (default 150000)
#   -r  UDP queries per second (default 5000)
#   -d  seconds measured per phase (default 20; reloading: at least the
#       time of two reloads)
#   -k  rounds of the two phases (default 1)
#   -o  another clusterdns binary to measure the same way
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
# shellcheck source-path=SCRIPTDIR source=bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

NSVC=150000 QPS=5000 SECS=20 ROUNDS=1 OTHER=
while getopts s:r:d:k:o:h o; do
	case $o in
	s) NSVC=$OPTARG ;;
	r) QPS=$OPTARG ;;
	d) SECS=$OPTARG ;;
	k) ROUNDS=$OPTARG ;;
	o) OTHER=$OPTARG ;;
	*) bench_opt_other "$o" ;;
	esac
done
bench_numbers bench-reload "$NSVC" "$QPS" "$SECS" "$ROUNDS"
[ "$ROUNDS" -ge 1 ] || {
	echo "bench-reload: -k needs 1 round at least" >&2
	exit 2
}
bench_paths
UDPLAT=$top_builddir/tools/udplat
bench_setup bench-reload "curl dig chrt" "$CLUSTERDNS $UDPLAT"
# idle CPUs spin instead of halting (bench_spin; BENCH_HALT=1: they halt)
bench_spin
[ -z "$OTHER" ] || [ -x "$OTHER" ] || {
	echo "bench-reload: $OTHER is not a program" >&2
	exit 1
}
ZONE=cluster.local NNS=10 NHEADLESS=0 NEPS=0 NQUERIES=10 SEED=1
bench_cluster >/dev/null
# the first generated service: "name": "svc-N", "namespace": "ns-N"
QNAME=$(grep -o -m 1 '"name": "svc-[0-9]*", "namespace": "ns-[0-9]*"' \
	"$W/objects/services.json" | sed 's/"name": "\([^"]*\)", "namespace": "\([^"]*\)"/\1.\2/').svc.$ZONE

# reloads LOG: how many reloads LOG reports (done or failed).
reloads()
{
	grep -Ec 'plugin/kubernetes: reload(ed|.*failed)' "$1"
}

# measure NAME BINARY: one row per phase into $W/NAME.rows.
measure()
{
	local name=$1 bin=$2 port hport pid log n n0 end worst t lat phase s0 steal
	local one secs done_in
	port=$(free_port)
	hport=$(free_port)
	log=$W/$name.log
	bench_corefile "$port" "health 127.0.0.1:$hport" >"$W/$name.Corefile"
	taskset -c "$SCPU" "$bin" -conf "$W/$name.Corefile" >"$log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	bench_wait_up "$port" "$pid" +norec "$QNAME" A || {
		echo "bench-reload: $name did not start:" >&2
		cat "$log" >&2
		exit 1
	}
	# One reload first, timed: the reloading phase lasts long enough for
	# two (at least -d seconds), so that it measures whole reloads, their
	# read and their apply, and not the start of one.
	n=$(reloads "$log")
	t=$(date +%s%N)
	kill -HUP "$pid"
	end=$((SECONDS + 300))
	while [ "$(reloads "$log")" -le "$n" ] && [ "$SECONDS" -lt "$end" ]; do
		sleep 0.1
	done
	one=$((($(date +%s%N) - t) / 1000000))
	echo "# $name: one reload (read and apply) takes $one ms here"
	: >"$W/$name.rows"
	for phase in $(for _ in $(seq "$ROUNDS"); do echo steady reloading; done); do
		secs=$SECS
		[ "$phase" = reloading ] && [ $((2 * one / 1000 + 1)) -gt "$secs" ] &&
			secs=$((2 * one / 1000 + 1))
		n=$(reloads "$log")
		n0=$n
		s0=$(bench_stolen)
		taskset -c "$CCPU" "$UDPLAT" -p "$port" -r "$QPS" -d "$secs" \
			-q "$QNAME" >"$W/$name.$phase.lat" &
		lat=$!
		end=$((SECONDS + secs))
		worst=0
		[ "$phase" = reloading ] && kill -HUP "$pid"
		while [ "$SECONDS" -lt "$end" ]; do
			t=$(taskset -c "$CCPU" curl -s -o /dev/null -m 10 \
				-w '%{time_total}' \
				"http://127.0.0.1:$hport/health" || echo 10)
			worst=$(awk -v a="$worst" -v b="$t" \
				'BEGIN { print (b * 1000 > a) ? b * 1000 : a }')
			if [ "$phase" = reloading ] &&
				[ "$(reloads "$log")" -gt "$n" ]; then
				n=$(reloads "$log")
				kill -HUP "$pid"
			fi
			sleep 0.1
		done
		wait "$lat"
		steal=$(bench_steal_pct "$s0" "$(bench_stolen)")
		# the reloads that ended within the phase; then let the last
		# one end
		done_in=$(($(reloads "$log") - n0))
		while [ "$phase" = reloading ] &&
			[ "$(reloads "$log")" -le "$n" ]; do
			sleep 0.2
		done
		read -r _ _ _ _ _ lost _ p50 _ p99 <"$W/$name.$phase.lat"
		echo "$name $phase $p50 $p99 $lost $steal $(printf '%.0f' "$worst")" \
			"$done_in" \
			"$(grep -Eo 'read in [0-9]+ ms, applied in [0-9]+ ms' "$log" |
				tail -n 1 | tr -s ' ' | cut -d' ' -f3,7)" \
			>>"$W/$name.rows"
	done
	kill "$pid"
	wait "$pid" 2>/dev/null
}

echo "# $NSVC services in one file ($(du -h "$W/objects/services.json" | cut -f1)), UDP at $QPS qps for ${SECS}s per phase and round, $ROUNDS round(s), /health every 100 ms"
measure clusterdns "$CLUSTERDNS"
[ -n "$OTHER" ] && measure other "$OTHER"
# summary ROWS: one row per phase of ROWS: p50, p99 and steal the
# medians over the rounds, lost and reloads the sums, health the slowest,
# read and apply the last round's.
summary()
{
	awk '
	function med(list, n,    a, i, j, t) {
		n = split(list, a, " ")
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{
		k = $2
		if (!(k in p50)) order[++n] = k
		p50[k] = p50[k] " " $3; p99[k] = p99[k] " " $4
		steal[k] = steal[k] " " $6
		lost[k] += $5; rel[k] += $8
		if ($7 + 0 > worst[k]) worst[k] = $7 + 0
		rd[k] = NF >= 9 ? $9 : "-"; ap[k] = NF >= 10 ? $10 : "-"
		name = $1
	}
	END {
		for (i = 1; i <= n; i++) {
			k = order[i]
			printf "%-10s %-10s %8.0f %8.0f %6d %5.1f%% %11d %8d %8s %9s\n",
				name, k, med(p50[k]), med(p99[k]), lost[k],
				med(steal[k]), worst[k], rel[k], rd[k], ap[k]
		}
	}' "$1"
}

printf '%-10s %-10s %8s %8s %6s %6s %11s %8s %8s %9s\n' binary phase p50_us p99_us lost steal health_ms reloads read_ms apply_ms
for f in "$W"/clusterdns.rows ${OTHER:+"$W"/other.rows}; do
	summary "$f"
done
if [ "$ROUNDS" -gt 1 ]; then
	echo "# $ROUNDS rounds: p50, p99 and steal are medians; lost and reloads sums; health the slowest. p99 of every round, in us:"
	for f in "$W"/clusterdns.rows ${OTHER:+"$W"/other.rows}; do
		for phase in steady reloading; do
			awk -v p="$phase" '$2 == p { l = l " " $4; n = $1 }
				END { printf "#   %-10s %-10s%s\n", n, p, l }' "$f"
		done
	done
fi
echo "# steal: CPU time the hypervisor took from this machine during the phase (bench_stolen), 0% on bare metal"
[ -n "$OTHER" ] && echo "# other: $OTHER"
# p99 NAME PHASE: the p99 of that phase (the median over the rounds).
p99()
{
	summary "$W/$1.rows" | awk -v p="$2" '$2 == p { print $4 }'
}
echo
if [ -n "$OTHER" ]; then
	bench_record "UDP p99 at $QPS qps while reloading $NSVC services (us)" \
		"$(p99 clusterdns reloading)" "other build" "$(p99 other reloading)"
else
	bench_record "UDP p99 at $QPS qps while reloading $NSVC services (us)" \
		"$(p99 clusterdns reloading)" "no reload" "$(p99 clusterdns steady)"
fi
