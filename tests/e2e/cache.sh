#!/bin/bash
# cache.sh -- the cache directive in front of the cluster zone, as CoreDNS's
# cache plugin sits in front of kubernetes.  With plain `cache 30` a cluster
# answer is served from the cache after its service changes, until its TTL
# runs out, and TTLs count down between answers; with `disable success
# cluster.local` the change shows at once.  Also: negative answers cached
# with the SOA's TTL, the client's letter case and TC from cached answers,
# kubeadm's Corefile (both caches disabled for the cluster zone), and
# prefetch and serve_stale refreshing cluster answers from the zone.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

Z=$ZONE
OBJ=$E2E_TMP/objects
cp -R "$FIXTURE" "$OBJ"
KTTL=10 # the zone's TTL: cached for 10 s (within [5, 30])

# cachefile CACHE-LINES...: a Corefile with these lines before kubernetes.
cachefile()
{
	echo ".:@PORT@ {"
	echo "    bind 127.0.0.1 ::1"
	printf '    %s\n' "$@"
	echo "    kubernetes $Z in-addr.arpa ip6.arpa {"
	echo "        objects $OBJ"
	echo "        ttl $KTTL"
	echo "    }"
	echo "}"
}

# answer_ttl: the TTL of the first answer record of the last ask.
answer_ttl()
{
	section ANSWER | awk 'NR == 1 { print $2 }'
}

start_server cached < <(cachefile "cache 30")
PA=$PORT
start_server nosuccess < <(cachefile "cache 30 {" \
	"    disable success $Z" "}")
PB=$PORT
start_server kubeadm < <(cachefile "cache 30 {" \
	"    disable success $Z" "    disable denial $Z" "}")
PC=$PORT
start_server stale < <(cachefile "cache 30 {" "    serve_stale" "}")
PD=$PORT
start_server prefetch < <(cachefile "cache 30 {" \
	"    prefetch 1 1m 90%" "}")
PE=$PORT

# ---- the first answers: from the zone, then from the cache
PORT=$PA
ask "web.prod.svc.$Z" A
T0=$(date +%s.%N)
assert_status NOERROR
check "$QUERY: first answer from the zone" 10.96.1.10 "$(rdata ANSWER A)"
check "$QUERY: first TTL is the cached duration" "$KTTL" "$(answer_ttl)"
PORT=$PB
ask "web.prod.svc.$Z" A
check "$QUERY (success disabled): answer" 10.96.1.10 "$(rdata ANSWER A)"
PORT=$PC
ask "web.prod.svc.$Z" A
check "$QUERY (kubeadm): answer" 10.96.1.10 "$(rdata ANSWER A)"
for PORT in $PE $PD; do
	ask "web.prod.svc.$Z" A
	check "$QUERY (port $PORT): answer" 10.96.1.10 "$(rdata ANSWER A)"
done
TD=$(date +%s.%N) # the last answer cached

# ---- TTLs count down in cached answers
sleep 1.2
PORT=$PA
ask "web.prod.svc.$Z" A
check "$QUERY: cached answer" 10.96.1.10 "$(rdata ANSWER A)"
assert_flag aa
T=$(answer_ttl)
check_match "$QUERY: TTL counted down ($T < $KTTL)" '^1$' \
	"$(awk -v t="$T" -v k="$KTTL" 'BEGIN { print (t < k && t >= 1) ? 1 : 0 }')"
PORT=$PB
ask "web.prod.svc.$Z" A
check "$QUERY (success disabled): TTL from the zone" "$KTTL" "$(answer_ttl)"

# ---- the client's case, from the cache
PORT=$PA
ask "WEB.Prod.svc.$Z" A
check "$QUERY: question echoed as asked" "WEB.Prod.svc.$Z." \
	"$(section QUESTION | awk '{ print $1 }' | tr -d ';')"
check "$QUERY: owner as asked" "WEB.Prod.svc.$Z." \
	"$(section ANSWER | awk 'NR == 1 { print $1 }')"

# ---- negative answers: cached with the SOA (min(ttl, 300) = MINIMUM)
ask "newsvc.prod.svc.$Z" A
assert_status NXDOMAIN
check "$QUERY: SOA TTL" "$KTTL" "$(section AUTHORITY | awk 'NR == 1 { print $2 }')"

# ---- a big answer cached over TCP, cut for a small UDP client
ask +tcp "big.prod.svc.$Z" A
assert_noflag tc
ask +noedns +ignore "big.prod.svc.$Z" A
assert_flag tc
check "$QUERY: cached and truncated: no answer" 0 "$(count ANSWER)"
ask +tcp "big.prod.svc.$Z" A
assert_noflag tc

# ---- the service moves and a new one appears
sed -i 's/"10\.96\.1\.10"/"10.96.1.11"/g' "$OBJ/services.json"
cat >"$OBJ/added.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: newsvc
  namespace: prod
spec:
  clusterIP: 10.96.9.9
EOF
# without the success cache the change shows as soon as the zone has it
PORT=$PB
eventually "web.prod.svc.$Z" A 10.96.1.11
PORT=$PC
eventually "web.prod.svc.$Z" A 10.96.1.11
eventually "newsvc.prod.svc.$Z" A 10.96.9.9
# the cache still says what it was told, while its TTL lasts
PORT=$PA
ask "web.prod.svc.$Z" A
ELAPSED=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%d", b - a }')
if [ "$ELAPSED" -lt $((KTTL - 1)) ]; then
	check "$QUERY: still the cached answer after the change" 10.96.1.10 \
		"$(rdata ANSWER A)"
	ask "newsvc.prod.svc.$Z" A
	check "$QUERY: still the cached NXDOMAIN" NXDOMAIN "$STATUS"
	# prefetch (1 hit, 90 %): a hit a second on refreshes from the zone,
	# so the change shows before the TTL runs out
	PORT=$PE
	GOT=
	while [ "$(awk -v a="$T0" -v b="$(date +%s.%N)" -v k="$KTTL" \
		'BEGIN { print (b - a < k - 1) ? 1 : 0 }')" = 1 ]; do
		ask "web.prod.svc.$Z" A
		GOT=$(rdata ANSWER A)
		[ "$GOT" = 10.96.1.11 ] && break
		sleep 0.3
	done
	check "$QUERY (prefetch): refreshed before expiry" 10.96.1.11 "$GOT"
else
	echo "# the zone took ${ELAPSED}s to change: cached answers not checked"
fi
# and the zone's once it runs out
sleep "$(awk -v a="$TD" -v b="$(date +%s.%N)" -v k="$KTTL" \
	'BEGIN { s = a + k + 0.5 - b; printf "%.1f", (s > 0 ? s : 0) }')"
# serve_stale: the expired answer once with TTL 0, then the refreshed one
PORT=$PD
ask "web.prod.svc.$Z" A
check "$QUERY (serve_stale): the stale answer" 10.96.1.10 "$(rdata ANSWER A)"
check "$QUERY (serve_stale): TTL 0" 0 "$(answer_ttl)"
ask "web.prod.svc.$Z" A
check "$QUERY (serve_stale): refreshed from the zone" 10.96.1.11 \
	"$(rdata ANSWER A)"
PORT=$PA
eventually "web.prod.svc.$Z" A 10.96.1.11
check "$QUERY: a fresh TTL" "$KTTL" "$(answer_ttl)"
eventually "newsvc.prod.svc.$Z" A 10.96.9.9

finish
