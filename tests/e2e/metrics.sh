#!/bin/bash
# metrics.sh -- the prometheus directive against the running daemon: the
# live /metrics passes `promtool check metrics`, the request, response,
# cache and upstream counters move by exactly what the test sent (a
# kubernetes block and a cache in front of forward to NSD, both naming
# the same prometheus address), a real Prometheus server scrapes it and
# reads back the same values; and the reload directive's timer: a changed
# Corefile is loaded without a signal, a bad one is counted in
# coredns_reload_failed_total and changes nothing, and
# coredns_reload_version_info is the SHA-512 of the Corefile served.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=httplib.sh
. "$(dirname "$0")/httplib.sh"
need nsd promtool prometheus jq sha512sum

Z=$ZONE
WEB=web.prod.svc.$Z

# ---------------------------------------------------------------- upstream

NSD_DIR=$E2E_TMP/nsd
mkdir -p "$NSD_DIR"
{
	echo "\$ORIGIN example.test."
	echo "\$TTL 300"
	echo "@ IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 60"
	echo "@ IN NS ns"
	echo "ns IN A 127.0.0.1"
	echo "www IN A 192.0.2.10"
} >"$NSD_DIR/example.test.zone"
nsd_start "$NSD_DIR" example.test

# ---------------------------------------------------------------- daemon

BIND="bind 127.0.0.1"
if have_ipv6; then
	V6=1
	BIND="bind 127.0.0.1 ::1"
else
	V6=
fi
MP=$(free_port)
start_server metrics <<EOF
$Z:@PORT@ {
    $BIND
    kubernetes $Z {
        objects $FIXTURE
        ttl 30
    }
    prometheus 127.0.0.1:$MP
}
example.test:@PORT@ {
    $BIND
    cache 30
    forward . 127.0.0.1:$NSD_PORT
    prometheus 127.0.0.1:$MP
}
EOF
PID=$SERVER_PID
URL=http://127.0.0.1:$MP/metrics
S4=dns://127.0.0.1:$PORT
S6="dns://[::1]:$PORT"
UP=127.0.0.1:$NSD_PORT

M0=$E2E_TMP/m0.txt
M1=$E2E_TMP/m1.txt
scrape "$URL" "$M0"
check_match "/metrics answers with the build info" '^coredns_build_info\{' \
	"$(cat "$M0")"

# digs N DIG-OPTION... : the same query N times, each answered.
digs()
{
	local n=$1 i got=0
	shift
	for i in $(seq 1 "$n"); do
		dig +norec +time=3 +tries=1 +nocookie -p "$PORT" "$@" 2>&1 |
			grep -q 'status: ' && got=$((got + 1))
	done
	check "answered: dig $*" "$n" "$got"
}

digs 7 @127.0.0.1 "$WEB" A
digs 4 +tcp @127.0.0.1 "$WEB" A
if [ -n "$V6" ]; then
	digs 3 @::1 "$WEB" A
	digs 2 +tcp @::1 "$WEB" A
fi
digs 5 @127.0.0.1 "nope.prod.svc.$Z" SRV
digs 3 @127.0.0.1 www.example.test A
digs 2 @127.0.0.1 nope.example.test A
scrape "$URL" "$M1"

# delta WHAT NAME WANT LABEL=VALUE...: NAME grew by exactly WANT from M0
# to M1.
delta()
{
	local what=$1 name=$2 want=$3 a b
	shift 3
	a=$(metric "$M0" "$name" "$@")
	b=$(metric "$M1" "$name" "$@")
	check "$what: $name $* grew by $want" "$want" "$((b - a))"
}

# promtool on the live output
OUT=$(promtool check metrics <"$M1" 2>&1)
check "promtool check metrics passes on the live /metrics" 0 $?
OUT=

delta "UDP IPv4" coredns_dns_requests_total 7 "server=$S4" "zone=$Z." \
	view= proto=udp family=1 type=A
delta "TCP IPv4" coredns_dns_requests_total 4 "server=$S4" "zone=$Z." \
	view= proto=tcp family=1 type=A
if [ -n "$V6" ]; then
	delta "UDP IPv6" coredns_dns_requests_total 3 "server=$S6" "zone=$Z." \
		proto=udp family=2 type=A
	delta "TCP IPv6" coredns_dns_requests_total 2 "server=$S6" "zone=$Z." \
		proto=tcp family=2 type=A
	NA=16
else
	NA=11
fi
delta "SRV" coredns_dns_requests_total 5 "server=$S4" "zone=$Z." \
	proto=udp family=1 type=SRV
delta "A, every listener" coredns_dns_request_duration_seconds_count "$NA" \
	"zone=$Z." type=A
delta "A, +Inf bucket" coredns_dns_request_duration_seconds_bucket "$NA" \
	"zone=$Z." type=A le=+Inf
delta "NXDOMAIN" coredns_dns_responses_total 5 "server=$S4" "zone=$Z." \
	rcode=NXDOMAIN plugin=kubernetes
delta "NOERROR" coredns_dns_responses_total "$NA" "zone=$Z." \
	rcode=NOERROR plugin=kubernetes
delta "request sizes" coredns_dns_request_size_bytes_count 12 "server=$S4" \
	"zone=$Z." proto=udp
delta "example.test" coredns_dns_requests_total 5 "server=$S4" \
	zone=example.test. proto=udp type=A

# the cache in front of forward
delta "cache" coredns_cache_requests_total 5
delta "cache" coredns_cache_misses_total 2
delta "cache" coredns_cache_hits_total 2 type=success
delta "cache" coredns_cache_hits_total 1 type=denial
check "cache: one success entry" 1 "$(metric "$M1" coredns_cache_entries type=success)"
check "cache: one denial entry" 1 "$(metric "$M1" coredns_cache_entries type=denial)"
delta "upstream NOERROR" coredns_proxy_request_duration_seconds_count 1 \
	proxy_name=forward "to=$UP" rcode=NOERROR
delta "upstream NXDOMAIN" coredns_proxy_request_duration_seconds_count 1 \
	proxy_name=forward "to=$UP" rcode=NXDOMAIN
delta "answers from the cache" coredns_dns_responses_total 3 \
	zone=example.test. plugin=cache
delta "answers from forward" coredns_dns_responses_total 2 \
	zone=example.test. plugin=forward

# the plugins of each block, one address shared by both blocks
plugins()
{
	grep "^coredns_plugin_enabled{server=\"$S4\",zone=\"$1\"" "$M1" |
		sed 's/.*name="\([^"]*\)".*/\1/' | LC_ALL=C sort | tr '\n' ' '
}
check "plugin_enabled of $Z." "kubernetes prometheus " "$(plugins "$Z.")"
check "plugin_enabled of example.test." "cache forward prometheus " \
	"$(plugins example.test.)"

# build info, process, clusterdns_*
V=$("$CLUSTERDNS" -version | sed -n 's/^clusterdns-//p' | head -n 1)
check "coredns_build_info: version as -version prints, goversion none" 1 \
	"$(metric "$M1" coredns_build_info "version=$V" goversion=none)"
RSS=$(metric "$M1" process_resident_memory_bytes)
check "process_resident_memory_bytes > 0" yes \
	"$(awk -v v="$RSS" 'BEGIN { print (v > 0) ? "yes" : "no" }')"
for k in Service EndpointSlice Namespace Pod; do
	n=$(metric "$M1" clusterdns_objects "kind=$k")
	check "clusterdns_objects{kind=$k} > 0" yes \
		"$(awk -v v="$n" 'BEGIN { print (v > 0) ? "yes" : "no" }')"
done
ask "$Z" SOA
check "clusterdns_zone_serial is the SOA serial" \
	"$(rdata ANSWER SOA | awk '{ print $3 }')" \
	"$(metric "$M1" clusterdns_zone_serial "zone=$Z.")"
OUT=

# ---------------------------------------------------------------- Prometheus

# A real Prometheus scrapes the daemon every second; what it stored is
# what /metrics says once the queries have stopped.
PD=$E2E_TMP/prom
mkdir -p "$PD"
PP=$(free_port)
cat >"$PD/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: clusterdns
    static_configs:
      - targets: ['127.0.0.1:$MP']
EOF
prometheus --config.file="$PD/prometheus.yml" --storage.tsdb.path="$PD/data" \
	--web.listen-address="127.0.0.1:$PP" >"$PD/out.log" 2>&1 &
PROM=$!
E2E_PIDS+=("$PROM")

# promq QUERY: the value of the first series of an instant query.
promq()
{
	curl -gsS --max-time 3 "http://127.0.0.1:$PP/api/v1/query" \
		--data-urlencode "query=$1" 2>/dev/null |
		jq -r '.data.result[0].value[1] // "none"' 2>/dev/null
}

# prom_until QUERY WANT SECONDS: ask Prometheus again until QUERY's value
# is WANT; prints the last value.
prom_until()
{
	local end=$((SECONDS + $3)) got
	while :; do
		got=$(promq "$1")
		[ "$got" = "$2" ] && break
		[ "$SECONDS" -ge "$end" ] && break
		sleep 0.3
	done
	echo "$got"
}

wait_http "http://127.0.0.1:$PP/-/ready" 200 30
check "prometheus ready" 200 "$HCODE"
check "prometheus: the target is up" 1 \
	"$(prom_until 'up{job="clusterdns"}' 1 20)"
SEL="coredns_dns_requests_total{server=\"$S4\",zone=\"$Z.\",proto=\"udp\",family=\"1\",type=\"A\"}"
scrape "$URL" "$M1"
WANT=$(metric "$M1" coredns_dns_requests_total "server=$S4" "zone=$Z." \
	proto=udp family=1 type=A)
check "/metrics: the 7 UDP IPv4 queries" 7 "$WANT"
check "prometheus: $SEL as /metrics says" "$WANT" \
	"$(prom_until "$SEL" "$WANT" 10)"
WANT=$(metric "$M1" coredns_cache_hits_total type=success)
check "prometheus: coredns_cache_hits_total as /metrics says" "$WANT" \
	"$(prom_until 'sum(coredns_cache_hits_total{type="success"})' "$WANT" 10)"
stop_server "$PROM"
stop_server "$PID"

# ---------------------------------------------------------------- reload

# reload 2s 1s: the Corefile is checked every 1.5 to 2.5 s.
RP=$(free_port)
rl_corefile()
{
	echo ".:@PORT@ {"
	echo "    bind 127.0.0.1"
	echo "    reload 2s 1s"
	echo "    prometheus 127.0.0.1:$RP"
	echo "    kubernetes $Z {"
	echo "        objects $FIXTURE"
	echo "        ttl $1"
	echo "    }"
	printf '%s\n' "${@:2}"
	echo "}"
}
start_server reload < <(rl_corefile 30)
PID=$SERVER_PID
CF=$SERVER_DIR/Corefile
LOG=$SERVER_DIR/out.log
URL=http://127.0.0.1:$RP/metrics
M=$E2E_TMP/reload.txt

# write_cf TTL [LINE...]: replace the Corefile (in one rename).
write_cf()
{
	rl_corefile "$@" | sed "s/@PORT@/$PORT/" >"$CF.new"
	mv "$CF.new" "$CF"
}

# version: the value of coredns_reload_version_info.
version()
{
	scrape "$URL" "$M"
	sed -n 's/^coredns_reload_version_info{hash="sha512",value="\([0-9a-f]*\)"} 1$/\1/p' "$M"
}

ttl_of()
{
	ask "$WEB" A
	section ANSWER | awk 'NR == 1 { print $2 }'
}

# wait_ttl N: wait (bounded, 20 s) until the answers have TTL N.
wait_ttl()
{
	local end=$((SECONDS + 20))
	while [ "$(ttl_of)" != "$1" ] && [ "$SECONDS" -lt "$end" ]; do
		sleep 0.2
	done
}

H0=$(sha512sum <"$CF" | awk '{ print $1 }')
check "reload_version_info is the SHA-512 of the Corefile" "$H0" "$(version)"
check "ttl 30 at first" 30 "$(ttl_of)"

write_cf 10
H1=$(sha512sum <"$CF" | awk '{ print $1 }')
wait_ttl 10
check "timer: the changed Corefile is loaded without a signal (ttl 10)" 10 "$(ttl_of)"
check "timer: reload_version_info follows the new Corefile" "$H1" "$(version)"
check "timer: ... and changed" yes "$([ "$H0" != "$H1" ] && echo yes || echo no)"
check "timer: nothing failed" 0 "$(metric "$M" coredns_reload_failed_total)"

# a bad Corefile: counted, logged, nothing changes
write_cf 5 "    nosuchplugin"
end=$((SECONDS + 20))
while [ "$(scrape "$URL" "$M"; metric "$M" coredns_reload_failed_total)" = 0 ] &&
	[ "$SECONDS" -lt "$end" ]; do
	sleep 0.2
done
check "bad Corefile: coredns_reload_failed_total" 1 \
	"$(metric "$M" coredns_reload_failed_total)"
check "bad Corefile: answers unchanged (ttl 10)" 10 "$(ttl_of)"
check "bad Corefile: reload_version_info unchanged" "$H1" "$(version)"
OUT=$(grep 'new Corefile is not used' "$LOG")
check_match "bad Corefile: the log names the error" \
	"Corefile:9 - Error during parsing: Unknown directive 'nosuchplugin'" "$OUT"
OUT=
# the timer does not try the same bad content again: three more periods
sleep 7.5
scrape "$URL" "$M"
check "bad Corefile: counted once, not on every check" 1 \
	"$(metric "$M" coredns_reload_failed_total)"
check "bad Corefile: logged once" 1 "$(grep -c 'new Corefile is not used' "$LOG")"
# fixed again: loaded, the hash follows
write_cf 12
H2=$(sha512sum <"$CF" | awk '{ print $1 }')
wait_ttl 12
check "fixed Corefile: loaded (ttl 12)" 12 "$(ttl_of)"
check "fixed Corefile: reload_version_info follows" "$H2" "$(version)"
F=$(metric "$M" coredns_reload_failed_total)
check "fixed Corefile: the failure counted before is kept" 1 "$F"
OUT=
stop_server "$PID"

finish
