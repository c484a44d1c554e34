#!/bin/bash
# soak.sh -- clusterdns under load and churn for a bounded time: answers
# stay right, nothing is lost, memory stays flat.
#
# tools/gencluster writes a cluster (ClusterIP and headless services and
# their slices); this script adds an EndpointSlice of two endpoints to
# every ClusterIP service and a running Pod behind every endpoint.  The API
# emulator (tools/apiemu) serves it over HTTP; NSD serves two upstream
# zones, fwd.test and cached.test.  clusterdns (one worker thread, pinned)
# runs kubeadm's shape of Corefile against them: `kubernetes` with `pods
# verified`, `cache 30` (cluster zones and fwd.test not cached) and
# `forward . NSD`.  Two dnsperf runs ask it for the whole time: one with
# names that must answer NOERROR (A of ClusterIP and headless services,
# endpoint names of both, pod names, AAAA NODATA, SRV, PTR of ClusterIPs
# and endpoints, forwarded names, cached names), one with names that must
# be NXDOMAIN (services, pods and reverse names that do not exist,
# upstream names that do not exist, forwarded and cached).  Meanwhile the
# emulator's churn (/_control/churn) creates, updates and deletes -c
# Services, EndpointSlices and Pods a second in a namespace of its own, so
# no asked name changes, and every -R seconds the emulator expires every
# watch (410), which makes clusterdns relist every kind.
#
# Every -i seconds it prints clusterdns's RSS; at the end the queries sent,
# completed and lost, the rcodes of each run, the unexpected ones (errors),
# RSS after the first minute and at the end and the drift, and whether the
# goals are met: no error, nothing lost, RSS within 2% of the first
# minute's.  Without -r, a 5 s run at full speed (churn on) finds what the
# machine sustains, and the soak runs at 70% of it.  The exit status is 0
# when the goals are met, 1 when not (or clusterdns died).
#
# Usage: tools/soak.sh [-d seconds] [-r qps] [-c changes] [-R seconds]
#                      [-i seconds] [-s services] [-H headless]
#                      [-e endpoints] [-n namespaces] [-S seed] [-a]
#   -d  how long dnsperf runs (default 600)
#   -r  queries a second, both runs together (default: calibrated)
#   -c  changes a second made by the emulator's churn (default 100)
#   -R  seconds between forced relists (default 60, 0: none)
#   -i  seconds between RSS samples (default 30)
#   -a  the binaries under top_builddir are a sanitizer build: leak
#       detection on, and a sanitizer report in clusterdns's log at exit
#       is a failure (RSS then says little: the allocator keeps a
#       quarantine)
# top_builddir (default: the directory above this script) locates
# server/clusterdns, tools/apiemu/apiemu and tools/gencluster.
# BENCH_SERVER_CPU and BENCH_CLIENT_CPU (default 0 and 1) choose the CPUs
# (clusterdns on the first; dnsperf, the emulator and NSD on the other);
# BENCH_KEEP=1 keeps the work directory.

set -u

DURATION=600
RATE=0
CHANGES=100
RELIST=60
INTERVAL=30
NSVC=2000
NHEADLESS=200
NEPS=5
NNS=20
SEED=1
ASAN=no
NQUERIES=20000
NUP=1000
SLOTS=1000
ZONE=cluster.local

# shellcheck source=tools/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

while getopts "d:r:c:R:i:s:H:e:n:S:ah" opt; do
	case $opt in
	d) DURATION=$OPTARG ;;
	r) RATE=$OPTARG ;;
	c) CHANGES=$OPTARG ;;
	R) RELIST=$OPTARG ;;
	i) INTERVAL=$OPTARG ;;
	s) NSVC=$OPTARG ;;
	H) NHEADLESS=$OPTARG ;;
	e) NEPS=$OPTARG ;;
	n) NNS=$OPTARG ;;
	S) SEED=$OPTARG ;;
	a) ASAN=yes ;;
	*) bench_opt_other "$opt" ;;
	esac
done
bench_numbers soak "$DURATION" "$RATE" "$CHANGES" "$RELIST" "$INTERVAL" \
	"$NSVC" "$NHEADLESS" "$NEPS" "$NNS" "$SEED"
if [ "$DURATION" -lt 10 ] || [ "$INTERVAL" -lt 1 ] || [ "$NSVC" -lt 1 ] ||
	[ "$NSVC" -gt 30000 ] || [ "$NHEADLESS" -lt 1 ] || [ "$NEPS" -lt 1 ] ||
	[ "$NNS" -lt 1 ] || [ "$NNS" -gt 999 ] || [ "$CHANGES" -gt 100000 ]; then
	echo "soak: -d at least 10, -i at least 1, -s 1..30000, -H and -e at least 1, -n 1..999, -c at most 100000" >&2
	exit 2
fi
if [ "$ASAN" = yes ]; then
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi

bench_paths

bench_setup soak "dnsperf dig taskset nsd curl jq" "$CLUSTERDNS $APIEMU"

# ---------------------------------------------------------------- cluster
echo "# work directory: $W"
bench_cluster
# the queries gencluster writes: the ones that do not exist are NXDOMAIN
grep '^nosuch-' "$W/queries.txt" >"$W/neg.txt"
grep -v '^nosuch-' "$W/queries.txt" >"$W/pos.txt"

# A slice of two endpoints for every ClusterIP service (svc-I in ns-(I %
# NNS), endpoint k at 10.160.0.1 + 2I + k, named by its address), a Pod
# behind every endpoint (those of headless service H at 10.128.0.1 + H *
# NEPS + k, gencluster's), and queries for them.
awk -v nsvc="$NSVC" -v nhl="$NHEADLESS" -v neps="$NEPS" -v nns="$NNS" \
	-v dir="$W/objects" -v zone="$ZONE" -v seed="$SEED" -v nq="$NQUERIES" '
function ip(a) { return sprintf("%d.%d.%d.%d", int(a / 16777216) % 256,
	int(a / 65536) % 256, int(a / 256) % 256, a % 256) }
function dashed(a, s) { s = ip(a); gsub(/\./, "-", s); return s }
function rev(a) { return sprintf("%d.%d.%d.%d.in-addr.arpa", a % 256,
	int(a / 256) % 256, int(a / 65536) % 256, int(a / 16777216) % 256) }
function pod(name, ns, a) {
	printf "%s{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\"},\"spec\":{\"nodeName\":\"node-%d\"},\"status\":{\"phase\":\"Running\",\"podIP\":\"%s\",\"podIPs\":[{\"ip\":\"%s\"}]}}",
		npods++ ? ",\n" : "", name, ns, npods % 64, ip(a), ip(a) >pods
}
BEGIN {
	srand(seed)
	cip = 10 * 16777216 + 160 * 65536 + 1
	hip = 10 * 16777216 + 128 * 65536 + 1
	slices = dir "/soak-slices.json"
	pods = dir "/soak-pods.json"
	printf "{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSliceList\",\"metadata\":{},\"items\":[\n" >slices
	printf "{\"apiVersion\":\"v1\",\"kind\":\"PodList\",\"metadata\":{},\"items\":[\n" >pods
	for (i = 0; i < nsvc; i++) {
		ns = sprintf("ns-%03d", i % nns)
		svc = sprintf("svc-%05d", i)
		a = cip + 2 * i
		printf "%s{\"metadata\":{\"name\":\"%s-soak\",\"namespace\":\"%s\",\"labels\":{\"kubernetes.io/service-name\":\"%s\"}},\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\"}],\"endpoints\":[{\"addresses\":[\"%s\"],\"conditions\":{\"ready\":true}},{\"addresses\":[\"%s\"],\"conditions\":{\"ready\":true}}]}",
			i ? ",\n" : "", svc, ns, svc, ip(a), ip(a + 1) >slices
		pod(svc "-0", ns, a)
		pod(svc "-1", ns, a + 1)
	}
	for (h = 0; h < nhl; h++)
		for (k = 0; k < neps; k++)
			pod(sprintf("hl-%04d-%d", h, k), sprintf("ns-%03d", h % nns),
				hip + h * neps + k)
	print "\n]}" >slices
	print "\n]}" >pods
	# NOERROR: pod names, endpoint names and PTRs of ClusterIP services
	for (q = 0; q < nq / 4; q++) {
		r = rand()
		i = int(rand() * nsvc)
		a = cip + 2 * i + int(rand() * 2)
		ns = sprintf("ns-%03d", i % nns)
		if (r < 0.4) {
			if (rand() < 0.5) {
				h = int(rand() * nhl)
				ns = sprintf("ns-%03d", h % nns)
				a = hip + h * neps + int(rand() * neps)
			}
			printf "%s.%s.pod.%s A\n", dashed(a), ns, zone
		} else if (r < 0.8) {
			printf "%s.svc-%05d.%s.svc.%s A\n", dashed(a), i, ns, zone
		} else {
			printf "%s PTR\n", rev(a)
		}
	}
	# NXDOMAIN: pods and reverse names that do not exist
	for (q = 0; q < nq / 40; q++) {
		i = int(rand() * 65536)
		a = 10 * 16777216 + 200 * 65536 + i
		printf "%s.ns-%03d.pod.%s A\n", dashed(a), i % nns, zone >"/dev/stderr"
		printf "%s PTR\n", rev(a) >"/dev/stderr"
	}
}' >>"$W/pos.txt" 2>>"$W/neg.txt" || exit 1

# The upstream zones (NUP names each) and their queries: existing names
# NOERROR, others NXDOMAIN; fwd.test is not cached, cached.test is.
mkdir -p "$W/zones"
bench_names "$NUP" "$SEED" "$W/zones/bench.zone" "$W/bench.txt"
for z in fwd cached; do
	sed "s/bench\.test/$z.test/g" "$W/zones/bench.zone" >"$W/zones/$z.test.zone"
	sed "s/bench\.test/$z.test/" "$W/bench.txt" >>"$W/pos.txt"
	sed -n "s/^h\([0-9]*\)\.bench\.test/nosuch\1.$z.test/p" "$W/bench.txt" |
		head -n $((NUP / 10)) >>"$W/neg.txt"
done
# one file each, shuffled
for f in pos neg; do
	awk -v s="$SEED" 'BEGIN { srand(s) } { printf "%f\t%s\n", rand(), $0 }' \
		"$W/$f.txt" | sort -n | cut -f2- >"$W/$f.shuf" &&
		mv "$W/$f.shuf" "$W/$f.txt"
done
NPOS=$(wc -l <"$W/pos.txt")
NNEG=$(wc -l <"$W/neg.txt")
echo "# cluster: $NNS namespaces, $NSVC ClusterIP services with 2 endpoints, $NHEADLESS headless x $NEPS endpoints, a pod per endpoint; queries: $NPOS NOERROR, $NNEG NXDOMAIN"

# ---------------------------------------------------------------- servers
if ! bench_start_nsd "$CCPU" "$W/zones" fwd.test cached.test; then
	echo "soak: nsd did not start (its logs above)" >&2
	exit 1
fi
echo "# nsd: pid $NPID, port $NPORT"

bench_start_apiemu "$CCPU" "$W/objects"
EMU=http://127.0.0.1:$EPORT
echo "# emulator: pid $EPID, $EMU"

# emu METHOD PATH [CURL-ARG...]: the emulator's control interface.
emu()
{
	local m=$1 p=$2
	shift 2
	curl -sS --max-time 10 -X "$m" "$EMU/_control/$p" "$@"
}

DPORT=$(free_port)
MPORT=$(free_port)
cat >"$W/Corefile" <<EOF
.:$DPORT {
    bind 127.0.0.1
    prometheus 127.0.0.1:$MPORT
    cache 30 {
        disable success $ZONE in-addr.arpa fwd.test
        disable denial $ZONE in-addr.arpa fwd.test
    }
    kubernetes $ZONE in-addr.arpa ip6.arpa {
        endpoint $EMU
        pods verified
        startup_timeout 60s
        ttl 30
    }
    forward . 127.0.0.1:$NPORT
}
EOF
bench_start_clusterdns clusterdns "$W/Corefile" "$DPORT"
# synced: a pod name (pods are listed last) answers
if ! bench_wait_up "$DPORT" "$CPID" +norec \
	"10-160-0-1.ns-000.pod.$ZONE" A; then
	echo "soak: clusterdns did not sync:" >&2
	cat "$W/clusterdns.log" >&2
	exit 1
fi
echo "# clusterdns: pid $CPID, port $DPORT"

# ---------------------------------------------------------------- soak
# metric NAME: the sum of a clusterdns metric's samples (0 when absent).
metric()
{
	curl -sS --max-time 10 "http://127.0.0.1:$MPORT/metrics" |
		awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 }
			END { printf "%d", s }'
}

# rss: clusterdns's VmRSS in kB.
rss()
{
	bench_mem "$CPID" | awk '{ print $1 }'
}

# perf NAME FILE QPS SECONDS: dnsperf on CPU $CCPU with FILE, at QPS (0:
# full speed), in the background; its report in $W/NAME.dnsperf.
perf()
{
	local q=()
	[ "$3" = 0 ] || q=(-Q "$3")
	taskset -c "$CCPU" dnsperf -s 127.0.0.1 -p "$DPORT" -d "$2" -l "$4" \
		-c 2 -q 100 -t 10 "${q[@]}" >"$W/$1.dnsperf" 2>&1 &
	PIDS+=("$!")
	PERF+=("$!")
}

# field WHAT NAME...: the sum of a number of dnsperf's reports NAME
# ("Queries sent", ...); 0 when missing.
field()
{
	local w=$1 n
	shift
	for n in "$@"; do
		awk -v w="$w:" 'index($0, w) { for (i = 1; i <= NF; i++)
			if ($i ~ /^[0-9.]+$/) { print $i; exit } }' "$W/$n.dnsperf"
	done | awk '{ s += $1 } END { printf "%d", s }'
}

# rcodes NAME: dnsperf's "Response codes" line of NAME, as "RCODE N" pairs.
rcodes()
{
	sed -n 's/^ *Response codes: *//p' "$W/$1.dnsperf" |
		tr ',' '\n' | awk 'NF { print $1, $2 }'
}

emu POST churn -d "{\"rate\":$CHANGES,\"namespace\":\"churn\",\"slots\":$SLOTS}" \
	>/dev/null || exit 1
[ "$CHANGES" = 0 ] && emu POST churn -d '{"rate":0}' >/dev/null
if [ "$RATE" = 0 ]; then
	cat "$W/pos.txt" "$W/neg.txt" >"$W/all.txt"
	PERF=()
	perf calibrate "$W/all.txt" 0 5
	wait "${PERF[@]}"
	R0=$(awk '/Queries per second:/ { printf "%d", $4 }' "$W/calibrate.dnsperf")
	RATE=$((${R0:-0} * 7 / 10))
	echo "# calibration: $R0 qps at full speed for 5 s (lost $(field 'Queries lost' calibrate)); the soak runs at $RATE"
	if [ "$RATE" -lt 10 ]; then
		echo "soak: calibration failed:" >&2
		cat "$W/calibrate.dnsperf" >&2
		exit 1
	fi
fi
QPOS=$((RATE * NPOS / (NPOS + NNEG)))
QNEG=$((RATE - QPOS))
[ "$QNEG" -ge 1 ] || QNEG=1
[ "$QPOS" -ge 1 ] || QPOS=1

echo "# soak: $DURATION s at $RATE qps ($QPOS NOERROR names, $QNEG NXDOMAIN names), churn $CHANGES changes/s, relist every $RELIST s"
C0=$(emu GET churn | jq -r .changes)
G0=$(metric clusterdns_relists_total)
PERF=()
perf pos "$W/pos.txt" "$QPOS" "$DURATION"
perf neg "$W/neg.txt" "$QNEG" "$DURATION"
T0=$SECONDS
NEXT=$INTERVAL
NEXTR=$RELIST
FORCED=0
RSS1=
RSSN=
printf '%8s %10s %12s %10s\n' "time (s)" "RSS (MB)" "churn" "relists"
while :; do
	kill -0 "$CPID" 2>/dev/null || break
	T=$((SECONDS - T0))
	[ "$T" -ge "$DURATION" ] && break
	if [ "$RELIST" -gt 0 ] && [ "$T" -ge "$NEXTR" ]; then
		emu POST fault -d '{"fault":"expire-watches"}' >/dev/null &&
			FORCED=$((FORCED + 1))
		NEXTR=$((NEXTR + RELIST))
	fi
	if [ "$T" -ge "$NEXT" ]; then
		RSSN=$(rss)
		# the first sample at or after the first minute is the reference
		[ -z "$RSS1" ] && [ "$T" -ge 60 ] && RSS1=$RSSN
		printf '%8d %10.1f %12s %10s\n' "$T" "$(awk -v k="$RSSN" \
			'BEGIN { print k / 1024 }')" \
			"$(($(emu GET churn | jq -r .changes) - C0))" "$FORCED"
		NEXT=$((NEXT + INTERVAL))
	fi
	sleep 1
done
wait "${PERF[@]}"
ALIVE=no
kill -0 "$CPID" 2>/dev/null && ALIVE=yes
RSSN=$(rss)
[ -n "$RSS1" ] || RSS1=$RSSN
CHURN=$(emu GET churn)
emu POST churn -d '{"rate":0}' >/dev/null
G1=$(metric clusterdns_relists_total)

# ---------------------------------------------------------------- stop
STATUS=-
SANITIZER=0
if [ "$ALIVE" = yes ]; then
	kill -TERM "$CPID"
	wait "$CPID"
	STATUS=$?
else
	wait "$CPID"
	STATUS="died ($?)"
fi
SANITIZER=$(grep -Ec 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
	"$W/clusterdns.log")

# ---------------------------------------------------------------- report
SENT=$(field 'Queries sent' pos neg)
DONE=$(field 'Queries completed' pos neg)
LOST=$(field 'Queries lost' pos neg)
ERRORS=$({
	rcodes pos | awk '$1 != "NOERROR"'
	rcodes neg | awk '$1 != "NXDOMAIN"'
} | awk '{ s += $2 } END { printf "%d", s }')
DRIFT=$(awk -v a="$RSS1" -v b="$RSSN" \
	'BEGIN { if (a > 0) printf "%+.2f", (b - a) * 100 / a; else print "-" }')

# goal OK: "met" or "NOT met".
goal()
{
	if [ "$1" = yes ]; then echo met; else echo "NOT met"; fi
}
# yes_if AWK-CONDITION: yes or no.
yes_if()
{
	if awk "BEGIN { exit !($1) }"; then echo yes; else echo no; fi
}
G_ERR=$(yes_if "$ERRORS == 0")
G_LOST=$(yes_if "$LOST == 0")
G_RSS=$(yes_if "${DRIFT#+} <= 2 && ${DRIFT#+} >= -2")
G_LIVE=$(yes_if "\"$ALIVE\" == \"yes\" && \"$STATUS\" == \"0\" && $SANITIZER == 0")

echo
echo "soak of clusterdns: $DURATION s, dnsperf at $RATE qps, churn $CHANGES changes/s, a forced relist every $RELIST s"
echo "(1 worker on CPU $SCPU; dnsperf, emulator and NSD on CPU $CCPU; $NSVC ClusterIP + $NHEADLESS headless services, $(grep -c '"podIP"' "$W/objects/soak-pods.json") pods)"
printf '%-44s %s\n' "queries sent" "$SENT" \
	"queries completed" "$DONE" \
	"queries lost" "$LOST" \
	"queries completed a second" "$((DONE / DURATION))" \
	"rcodes, NOERROR names" "$(rcodes pos | xargs)" \
	"rcodes, NXDOMAIN names" "$(rcodes neg | xargs)" \
	"unexpected rcodes (errors)" "$ERRORS" \
	"churn: changes (creates updates deletes)" \
	"$(jq -r '"\(.changes) (\(.creates) \(.updates) \(.deletes))"' <<<"$CHURN")" \
	"relists forced / clusterdns relists" "$FORCED / $((G1 - G0))" \
	"RSS after the first minute (MB)" \
	"$(awk -v k="$RSS1" 'BEGIN { printf "%.1f", k / 1024 }')" \
	"RSS at the end (MB)" \
	"$(awk -v k="$RSSN" 'BEGIN { printf "%.1f", k / 1024 }')" \
	"RSS drift (%)" "$DRIFT" \
	"clusterdns exit status" "$STATUS" \
	"sanitizer reports" "$SANITIZER"
echo "goals:"
printf '  %-42s %s\n' "0 unexpected rcodes" "$(goal "$G_ERR")" \
	"0 lost" "$(goal "$G_LOST")" \
	"RSS within 2% of the first minute's" "$(goal "$G_RSS")" \
	"alive, clean exit, no sanitizer report" "$(goal "$G_LIVE")"
[ "$ASAN" = yes ] && echo "(sanitizer build: RSS includes the allocator's quarantine)"
if [ "$SANITIZER" != 0 ]; then
	grep -E -A20 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		"$W/clusterdns.log" | head -n 60
fi
[ "$G_ERR$G_LOST$G_RSS$G_LIVE" = yesyesyesyes ]
