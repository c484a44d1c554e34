#!/bin/bash
# forward-cache.sh -- the cache in front of forward, as CoreDNS's cache
# plugin in front of its forward plugin, against NSD on loopback: upstream
# answers kept with their TTLs counted down, per DNSSEC OK bit, negative
# answers for the SOA's MINIMUM, prefetch refreshing an answer the upstream
# changed, and what a dead upstream leaves: cached answers, stale ones
# (TTL 0) under serve_stale (immediate and verify), SERVFAIL without.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

need nsd
Z=$ZONE
NSD_DIR=$E2E_TMP/nsd
mkdir -p "$NSD_DIR"
NEG=4 # the SOA's MINIMUM: negative answers are cached for 4 s

# zones VERSION: example.test and its reverse zone for NSD.  Version 2
# adds new.example.test and changes pf.example.test.
zones()
{
	{
		echo "\$ORIGIN example.test."
		echo "\$TTL 300"
		echo "@ IN SOA ns.example.test. admin.example.test. $1 3600 600 86400 $NEG"
		echo "@ IN NS ns"
		echo "ns IN A 127.0.0.1"
		echo "www IN A 192.0.2.10"
		echo "tick IN A 192.0.2.11"
		echo "dok IN A 192.0.2.70"
		echo "do2 IN A 192.0.2.71"
		echo "brief 2 IN A 192.0.2.80"
		if [ "$1" = 1 ]; then
			echo "pf 30 IN A 192.0.2.60"
		else
			echo "pf 30 IN A 192.0.2.61"
			echo "new IN A 192.0.2.50"
		fi
	} >"$NSD_DIR/example.test.zone"
	{
		echo "\$ORIGIN 2.0.192.in-addr.arpa."
		echo "\$TTL 300"
		echo "@ IN SOA ns.example.test. admin.example.test. $1 3600 600 86400 60"
		echo "@ IN NS ns.example.test."
		echo "10 IN PTR www.example.test."
	} >"$NSD_DIR/2.0.192.in-addr.arpa.zone"
}

# fc_corefile CACHE-LINE...: the test Corefile with these lines before
# kubernetes and forward to NSD.
fc_corefile()
{
	echo ".:@PORT@ {"
	echo "    bind 127.0.0.1"
	echo "    errors"
	printf '    %s\n' "$@"
	echo "    kubernetes $Z in-addr.arpa ip6.arpa {"
	echo "        objects $FIXTURE"
	echo "        ttl 30"
	echo "        fallthrough in-addr.arpa ip6.arpa"
	echo "    }"
	echo "    forward . 127.0.0.1:$NSD_PORT"
	echo "}"
}

# since T: seconds (with a fraction) since the date +%s.%N T.
since()
{
	awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

# before T S: true while fewer than S seconds have passed since T.
before()
{
	awk -v a="$1" -v b="$(date +%s.%N)" -v s="$2" \
		'BEGIN { exit !(b - a < s) }'
}

# answer_ttl: the TTL of the first answer record of the last ask.
answer_ttl()
{
	section ANSWER | awk 'NR == 1 { print $2 }'
}

zones 1
nsd_start "$NSD_DIR" example.test 2.0.192.in-addr.arpa

# plain: only example.test cached, TTLs down to 1 s kept as they are
start_server plain < <(fc_corefile "cache 30 example.test {" \
	"    success 9984 30 1" "    denial 9984 30 1" "}")
P_PLAIN=$PORT
start_server stale < <(fc_corefile "cache 30 {" "    success 9984 30 1" \
	"    serve_stale" "}")
P_STALE=$PORT
start_server verify < <(fc_corefile "cache 30 {" "    success 9984 30 1" \
	"    serve_stale 1h verify" "}")
P_VERIFY=$PORT
start_server prefetch < <(fc_corefile "cache 30 {" \
	"    prefetch 1 1m 90%" "}")
P_PREFETCH=$PORT

# ---------------------------------------------------------------- TTLs

PORT=$P_PLAIN
ask tick.example.test A
check "$QUERY: forwarded" 192.0.2.11 "$(rdata ANSWER A)"
check "$QUERY: first TTL is the cached one, min(300, 30)" 30 "$(answer_ttl)"
sleep 1.2
ask TiCk.Example.TEST A
check "$QUERY: answered from the cache" 192.0.2.11 "$(rdata ANSWER A)"
T=$(answer_ttl)
check "$QUERY: TTL counted down ($T < 30)" 1 \
	"$(awk -v t="$T" 'BEGIN { print (t >= 1 && t < 30) ? 1 : 0 }')"
check "$QUERY: owner in the client's case" "TiCk.Example.TEST." \
	"$(section ANSWER | awk 'NR == 1 { print $1 }')"

# ---------------------------------------------------------------- denial

ask new.example.test A
T_NEG=$(date +%s.%N)
assert_status NXDOMAIN
check "$QUERY: cached for the SOA's MINIMUM (SOA TTL)" "$NEG" \
	"$(section AUTHORITY | awk '$4 == "SOA" { print $2 }')"

# ---------------------------------------------------------------- prefetch

PORT=$P_PREFETCH
ask pf.example.test A
T_PF=$(date +%s.%N)
check "$QUERY (prefetch): first answer" 192.0.2.60 "$(rdata ANSWER A)"
PORT=$P_PLAIN
ask pf.example.test A
check "$QUERY: first answer" 192.0.2.60 "$(rdata ANSWER A)"

# ---------------------------------------------------------------- upstream changes

stop_server "$NSD_PID"
zones 2
nsd_start "$NSD_DIR" example.test 2.0.192.in-addr.arpa
OUT=$(dig +norec +time=2 +tries=1 -p "$NSD_PORT" @127.0.0.1 new.example.test A)
check "upstream now has new.example.test" 192.0.2.50 "$(rdata ANSWER A)"

PORT=$P_PLAIN
if before "$T_NEG" $((NEG - 1)); then
	ask new.example.test A
	check "$QUERY: still the cached NXDOMAIN" NXDOMAIN "$STATUS"
else
	echo "# $(since "$T_NEG") s since the NXDOMAIN: its cache not checked"
fi
eventually new.example.test A 192.0.2.50
check "$QUERY: answered once the SOA's MINIMUM ran out" NOERROR "$STATUS"

# prefetch (1 hit, at 90 % of the TTL left): hits after the first 3 s of
# the 30 s refresh the entry, so the new answer shows long before it expires
PORT=$P_PREFETCH
GOT=
while before "$T_PF" 25; do
	ask pf.example.test A
	GOT=$(rdata ANSWER A)
	[ "$GOT" = 192.0.2.61 ] && break
	sleep 0.3
done
check "pf.example.test (prefetch): refreshed before it expired" 192.0.2.61 \
	"$GOT"
PORT=$P_PLAIN
if before "$T_PF" 28; then
	ask pf.example.test A
	check "$QUERY (no prefetch): still the cached answer" 192.0.2.60 \
		"$(rdata ANSWER A)"
fi

# ---------------------------------------------------------------- upstream gone

PORT=$P_PLAIN
ask www.example.test A
check "$QUERY: forwarded" 192.0.2.10 "$(rdata ANSWER A)"
ask dok.example.test A
check "$QUERY: forwarded without DO" 192.0.2.70 "$(rdata ANSWER A)"
ask +dnssec do2.example.test A
check "$QUERY: forwarded with DO" 192.0.2.71 "$(rdata ANSWER A)"
ask -x 192.0.2.10
check "$QUERY: forwarded" www.example.test. "$(rdata ANSWER PTR)"
for PORT in $P_PLAIN $P_STALE $P_VERIFY; do
	ask brief.example.test A
	check "$QUERY (port $PORT): forwarded" 192.0.2.80 "$(rdata ANSWER A)"
done
T_BRIEF=$(date +%s.%N)
PORT=$P_STALE
ask www.example.test A
stop_server "$NSD_PID"
echo "# nsd stopped"

PORT=$P_PLAIN
ask www.example.test A
assert_status NOERROR
check "$QUERY: cached, answered without upstream" 192.0.2.10 \
	"$(rdata ANSWER A)"
ask dok.example.test A
check "$QUERY: cached without DO" 192.0.2.70 "$(rdata ANSWER A)"
ask +time=10 +dnssec dok.example.test A
check "$QUERY: with DO not cached: upstream asked" SERVFAIL "$STATUS"
ask +dnssec do2.example.test A
check "$QUERY: cached with DO" 192.0.2.71 "$(rdata ANSWER A)"
check_match "$QUERY: DO in the answer's OPT" "flags: do;" "$OUT"
ask +time=10 do2.example.test A
check "$QUERY: without DO not cached: upstream asked" SERVFAIL "$STATUS"
ask +time=10 -x 192.0.2.10
check "$QUERY: outside the cache's zones: upstream asked" SERVFAIL "$STATUS"

# brief.example.test (TTL 2) expires
while before "$T_BRIEF" 2.5; do sleep 0.2; done
PORT=$P_STALE
ask brief.example.test A
assert_status NOERROR
check "$QUERY (serve_stale): the expired answer" 192.0.2.80 \
	"$(rdata ANSWER A)"
check "$QUERY (serve_stale): TTL 0" 0 "$(answer_ttl)"
ask www.example.test A
check "$QUERY (serve_stale): a fresh answer as it is" 192.0.2.10 \
	"$(rdata ANSWER A)"
PORT=$P_VERIFY
ask +time=10 brief.example.test A
assert_status NOERROR
check "$QUERY (serve_stale verify): upstream failed, the expired answer" \
	192.0.2.80 "$(rdata ANSWER A)"
check "$QUERY (serve_stale verify): TTL 0" 0 "$(answer_ttl)"
PORT=$P_PLAIN
ask +time=10 brief.example.test A
check "$QUERY (no serve_stale): expired, upstream dead" SERVFAIL "$STATUS"

# the upstream back: serve_stale verify takes its answer again
nsd_start "$NSD_DIR" example.test 2.0.192.in-addr.arpa
PORT=$P_VERIFY
ask +time=10 brief.example.test A
check "$QUERY (serve_stale verify): upstream back, its answer" 2 \
	"$(answer_ttl)"

finish
