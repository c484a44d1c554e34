#!/bin/bash
# api-faults.sh -- clusterdns fed by the Kubernetes API emulator through
# its faults: every watch dropped, a stalled server (a silent watch is
# dead), expired watches, compaction while changes (deletions among them)
# went unseen, 401 and a token rotation, 429 with Retry-After, 500s, a
# garbage line and a 5 MB object.  After each fault the answers converge to
# exactly the emulator's state, and during it the last known zone answers.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=apilib.sh
. "$(dirname "$0")/apilib.sh"

Z=$ZONE
WAIT=40 # bound of a convergence after a fault (backoff reaches 30 s)

TOKEN1=$(new_token)
EMU_TOKEN=$TOKEN1
emu_start faults-emu 0 -load "$API_FIXTURE"
TOKFILE=$E2E_TMP/token
printf '%s\n' "$TOKEN1" >"$TOKFILE"
KC=$E2E_TMP/kubeconfig
write_kubeconfig "$KC" "$EMU_URL" data tokenFile "$TOKFILE"
export CLUSTERDNS_WATCH_IDLE_TIMEOUT=2
start_server faults < <(api_corefile "kubeconfig $KC" "pods verified")
PID=$SERVER_PID
LOG=$SERVER_DIR/out.log

converge_emu "first sync" 10 "nosuch.prod.svc.$Z" A NXDOMAIN

# svc NAME NS IP: a ClusterIP service
svc()
{
	printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"%s","namespace":"%s"},"spec":{"type":"ClusterIP","clusterIP":"%s","clusterIPs":["%s"]}}' \
		"$1" "$2" "$3" "$3"
}
# pod NAME NS IP: a running pod
pod()
{
	printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"%s"},"spec":{"nodeName":"n1"},"status":{"phase":"Running","podIP":"%s"}}' \
		"$1" "$2" "$3"
}
# watchers_at_most N: wait (bounded) until the emulator has at most N
# watches open; prints how many it has.
watchers_at_most()
{
	local i n
	for i in $(seq 1 150); do
		n=$(emu_state .watchers)
		[ "$n" -le "$1" ] && break
		sleep 0.1
	done
	echo "$n"
}
# watching: wait (bounded) until the daemon watches the four resources
# again; prints how many watches are open.
watching()
{
	local i n
	for i in $(seq 1 300); do
		n=$(emu_state .watchers)
		[ "$n" -ge 4 ] && break
		sleep 0.1
	done
	echo "$n"
}
check "the daemon watches the four resources" 4 "$(watching)"
# met_500s N: wait (bounded) until the daemon has met N of the pending 500s
# (a million were injected); prints yes then.
met_500s()
{
	local i n
	for i in $(seq 1 300); do
		n=$(emu_state .pendingStatusFaults)
		[ "$n" -le $((1000000 - $1)) ] && echo yes && return
		sleep 0.1
	done
	echo "no ($((1000000 - n)) met)"
}
# log_count ERE: how many lines of the daemon's log match.
log_count()
{
	grep -Ec -- "$1" "$LOG"
}
# log_grows ERE N: wait (bounded) until more than N lines of the log match;
# prints yes then.
log_grows()
{
	local i
	for i in $(seq 1 300); do
		[ "$(log_count "$1")" -gt "$2" ] && echo yes && return
		sleep 0.1
	done
	echo no
}

# ---- every watch dropped
emu_fault '{"fault":"drop-watches"}'
served "drop-watches" "web.prod.svc.$Z" A 10.96.1.10
emu_put "$(svc d1 prod 10.96.3.1)"
emu_del services/prod/cache
emu_put "$(pod d1 prod 10.244.6.1)"
converge_emu "drop-watches" $WAIT "cache.prod.svc.$Z" A NXDOMAIN \
	"30.1.96.10.in-addr.arpa" PTR NXDOMAIN
check "drop-watches: watching again" 4 "$(watching)"

# ---- stall: the watches go silent (no event, no bookmark), the daemon
# gives them up after CLUSTERDNS_WATCH_IDLE_TIMEOUT; what changes meanwhile
# arrives once the server answers again
emu_fault '{"fault":"stall","seconds":120}'
emu_put "$(svc d2 prod 10.96.3.2)"
emu_del services/prod/d1
emu_del pods/prod/d1
check "stall: the daemon gives up its silent watches" 0 "$(watchers_at_most 0)"
served "stall" "d1.prod.svc.$Z" A 10.96.3.1
served "stall" "10-244-6-1.prod.pod.$Z" A 10.244.6.1
served "stall" "nosuch.prod.svc.$Z" A NXDOMAIN
check "stall: the change is not seen yet" NXDOMAIN \
	"$(dns_value "d2.prod.svc.$Z" A)"
emu_fault '{"fault":"clear"}'
converge_emu "stall cleared" $WAIT "d1.prod.svc.$Z" A NXDOMAIN \
	"10-244-6-1.prod.pod.$Z" A NXDOMAIN
check "stall cleared: watching again" 4 "$(watching)"

# ---- expire-watches: ERROR 410 in every stream, then a relist
emu_put "$(svc d3 prod 10.96.3.3)"
emu_fault '{"fault":"expire-watches"}'
emu_del services/prod/d2
served "expire-watches" "web.prod.svc.$Z" A 10.96.1.10
converge_emu "expire-watches" $WAIT "d2.prod.svc.$Z" A NXDOMAIN
check "expire-watches: watching again" 4 "$(watching)"

# ---- a gap with compaction: the watches drop, every request fails for a
# while, objects change (some are deleted), the history is compacted; the
# resumed watches get 410 and the relist must remove what disappeared
emu_fault '{"fault":"status","code":500,"count":1000000}'
emu_fault '{"fault":"drop-watches"}'
emu_put "$(svc gap-new staging 10.96.4.1)"
emu_put "$(svc d3 prod 10.96.3.33)"
emu_del services/prod/web
emu_del endpointslices/prod/web-fghij
emu_del services/staging/web
emu_del pods/prod/db-1
emu_del namespaces/default
emu_put '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"db-abcde","namespace":"prod","labels":{"kubernetes.io/service-name":"db"}},"addressType":"IPv4","endpoints":[{"addresses":["10.244.1.5"],"hostname":"db-0","conditions":{"ready":true}}],"ports":[{"name":"pg","port":5432,"protocol":"TCP"}]}'
emu_ctl POST compact >/dev/null
check "outage: the daemon's requests fail" yes "$(met_500s 4)"
served "outage (500s)" "web.prod.svc.$Z" A 10.96.1.10
served "outage (500s)" "db.prod.svc.$Z" A "10.244.1.5 | 10.244.1.6"
served "outage (500s)" "10-244-1-6.prod.pod.$Z" A 10.244.1.6
emu_fault '{"fault":"clear"}'
converge_emu "the relist after the gap removes what disappeared" $WAIT \
	"web.prod.svc.$Z" A NXDOMAIN "web.staging.svc.$Z" A NXDOMAIN \
	"10.1.96.10.in-addr.arpa" PTR NXDOMAIN \
	"db-1.db.prod.svc.$Z" A NXDOMAIN "10-244-1-6.prod.pod.$Z" A NXDOMAIN \
	"default.svc.$Z" A NXDOMAIN "33.3.96.10.in-addr.arpa" PTR "d3.prod.svc.$Z."
check "after the gap: watching again" 4 "$(watching)"

# ---- 401 (injected), then recovery with the same token
emu_fault '{"fault":"status","code":401,"count":3}'
emu_fault '{"fault":"drop-watches"}'
emu_put "$(svc a1 prod 10.96.5.1)"
served "401" "d3.prod.svc.$Z" A 10.96.3.33
check "401: the daemon met every 401" 0 "$(emu_wait_faults_consumed)"
converge_emu "after 401s" $WAIT
check "after 401s: watching again" 4 "$(watching)"

# ---- token rotation: the file gets a new token, the server accepts only
# it; the daemon's next requests get 401 until it reads the file again
TOKEN2=$(new_token)
printf '%s\n' "$TOKEN2" >"$TOKFILE.new" && mv "$TOKFILE.new" "$TOKFILE"
emu_rotate "$TOKEN2"
emu_fault '{"fault":"drop-watches"}'
emu_put "$(svc a2 prod 10.96.5.2)"
emu_del services/prod/a1
served "token rotation" "d3.prod.svc.$Z" A 10.96.3.33
converge_emu "token rotation" $WAIT "a1.prod.svc.$Z" A NXDOMAIN
check "token rotation: watching again" 4 "$(watching)"

# ---- the server rotates first: the old token is refused (401) until the
# file holds the new one
TOKEN3=$(new_token)
N401=$(log_count 'HTTP 401')
emu_rotate "$TOKEN3"
emu_fault '{"fault":"drop-watches"}'
emu_put "$(svc a3 prod 10.96.5.7)"
emu_del services/prod/a2
check "server rotated: the old token is refused" yes \
	"$(log_grows 'HTTP 401' "$N401")"
served "server rotated" "a2.prod.svc.$Z" A 10.96.5.2
served "server rotated" "d3.prod.svc.$Z" A 10.96.3.33
check "server rotated: no change seen without a valid token" NXDOMAIN \
	"$(dns_value "a3.prod.svc.$Z" A)"
printf '%s\n' "$TOKEN3" >"$TOKFILE.new" && mv "$TOKFILE.new" "$TOKFILE"
converge_emu "token file updated" $WAIT "a2.prod.svc.$Z" A NXDOMAIN
check "token file updated: watching again" 4 "$(watching)"

# ---- 429 with Retry-After
emu_fault '{"fault":"status","code":429,"count":3,"retry_after":2}'
emu_fault '{"fault":"drop-watches"}'
emu_put "$(svc r1 prod 10.96.5.3)"
emu_del services/prod/a3
served "429" "d3.prod.svc.$Z" A 10.96.3.33
check "429: the daemon met every 429" 0 "$(emu_wait_faults_consumed)"
converge_emu "after 429s" $WAIT "a3.prod.svc.$Z" A NXDOMAIN
check "after 429s: watching again" 4 "$(watching)"

# ---- 500s
emu_fault '{"fault":"status","code":500,"count":4}'
emu_fault '{"fault":"drop-watches"}'
emu_put "$(svc e1 prod 10.96.5.4)"
emu_del services/prod/r1
served "500" "d3.prod.svc.$Z" A 10.96.3.33
check "500: the daemon met every 500" 0 "$(emu_wait_faults_consumed)"
converge_emu "after 500s" $WAIT "r1.prod.svc.$Z" A NXDOMAIN
check "after 500s: watching again" 4 "$(watching)"

# ---- a garbage line in every stream: a relist, no crash
emu_fault '{"fault":"garbage-line"}'
emu_put "$(svc g1 prod 10.96.5.5)"
emu_del services/prod/e1
served "garbage line" "d3.prod.svc.$Z" A 10.96.3.33
converge_emu "after a garbage line" $WAIT "e1.prod.svc.$Z" A NXDOMAIN
check "garbage line: the daemon is alive" ok \
	"$(kill -0 "$PID" 2>/dev/null && echo ok)"
check "after a garbage line: watching again" 4 "$(watching)"

# ---- a 5 MB object: an existing service grows a 5 MB annotation, and a
# new 5 MB service appears
emu_fault '{"fault":"big-object","bytes":5000000,"namespace":"prod","name":"d3"}'
emu_fault '{"fault":"big-object","bytes":5000000,"namespace":"staging","name":"huge"}'
served "5 MB object" "g1.prod.svc.$Z" A 10.96.5.5
converge "5 MB object: the new service" "huge.staging.svc.$Z" A 10.96.255.254 \
	$WAIT
converge "5 MB object: the grown service" "d3.prod.svc.$Z" A 10.96.3.33
emu_put "$(svc after-big prod 10.96.5.6)"
emu_del services/prod/g1
converge_emu "after a 5 MB object" $WAIT "g1.prod.svc.$Z" A NXDOMAIN
check "5 MB object: the daemon is alive" ok \
	"$(kill -0 "$PID" 2>/dev/null && echo ok)"

# ---- through it all
check_no_secret "no token in the daemon's log" "$TOKEN1" "$TOKEN2" "$TOKEN3"
stop_daemon faults "$PID" "$LOG"
emu_stop
finish
