#!/bin/bash
# api.sh -- clusterdns fed by the Kubernetes API (the emulator in
# tools/apiemu over HTTPS): create, update and delete of every kind show in
# the answers; label and namespace-label selectors; endpoint + tls (client
# certificates) and TLS failures; startup gating with the API absent or
# stalled; no token in the log; SIGTERM ends cleanly.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=apilib.sh
. "$(dirname "$0")/apilib.sh"

Z=$ZONE
TOKENS=()

# ================================================================ create,
# update, delete of every kind, kubeconfig with an inline token
start_kc_scenario crud file "pods verified"
LOG=$SERVER_DIR/out.log

converge_emu "first sync" 10 \
	"nosuch.prod.svc.$Z" A NXDOMAIN \
	"db-2.db.prod.svc.$Z" A NXDOMAIN \
	"10-244-1-9.prod.pod.$Z" A NXDOMAIN \
	"10-244-9-9.prod.pod.$Z" A NXDOMAIN \
	"nosuch.svc.$Z" A NXDOMAIN
assert_answer "web.prod.svc.$Z" A 10.96.1.10
assert_answer "10.1.96.10.in-addr.arpa" PTR "web.prod.svc.$Z."
assert_answer "_pg._tcp.db.prod.svc.$Z" SRV \
	"0 50 5432 db-0.db.prod.svc.$Z. | 0 50 5432 db-1.db.prod.svc.$Z."
check_match "the log says it synced with the API" \
	'synced with the API' "$(daemon_log)"

serial()
{
	ask "$Z" SOA
	rdata ANSWER SOA | awk '{ print $3 }'
}
S0=$(serial)
sleep 1.1 # the serial is a time in seconds: let it be able to move

# ---- Namespace
NS='{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"fresh","labels":{"team":"a"}}}'
converge "namespace absent" "fresh.svc.$Z" A NXDOMAIN
emu_put "$NS"
converge "namespace created" "fresh.svc.$Z" A NODATA
S1=$(serial)
check "SOA serial grew after a change ($S0 -> $S1)" 1 \
	"$(awk -v a="$S0" -v b="$S1" 'BEGIN { print (b > a) ? 1 : 0 }')"
emu_put "${NS/\"a\"/\"b\"}"
emu_put '{"apiVersion":"v1","kind":"Service","metadata":{"name":"app","namespace":"fresh"},"spec":{"type":"ClusterIP","clusterIP":"10.96.7.1","clusterIPs":["10.96.7.1"]}}'
converge "service in the new namespace" "app.fresh.svc.$Z" A 10.96.7.1
converge "namespace updated (labels)" "fresh.svc.$Z" A NODATA
emu_del services/fresh/app
emu_del namespaces/fresh
converge "namespace deleted" "fresh.svc.$Z" A NXDOMAIN
converge "its service deleted" "app.fresh.svc.$Z" A NXDOMAIN

# ---- Service, ClusterIP
SVC='{"apiVersion":"v1","kind":"Service","metadata":{"name":"api","namespace":"prod","labels":{"app":"api"}},"spec":{"type":"ClusterIP","clusterIP":"10.96.1.40","clusterIPs":["10.96.1.40"],"ports":[{"name":"grpc","port":9090,"protocol":"TCP"}]}}'
converge "ClusterIP service absent" "api.prod.svc.$Z" A NXDOMAIN
emu_put "$SVC"
converge "ClusterIP service created" "api.prod.svc.$Z" A 10.96.1.40
assert_answer "_grpc._tcp.api.prod.svc.$Z" SRV "0 100 9090 api.prod.svc.$Z."
assert_answer "40.1.96.10.in-addr.arpa" PTR "api.prod.svc.$Z."
emu_put "$(sed 's/10\.96\.1\.40/10.96.1.41/g; s/"grpc","port":9090/"web","port":8443/' <<<"$SVC")"
converge "ClusterIP service updated" "api.prod.svc.$Z" A 10.96.1.41
converge "updated: new port" "_web._tcp.api.prod.svc.$Z" SRV \
	"0 100 8443 api.prod.svc.$Z."
converge "updated: old port gone" "_grpc._tcp.api.prod.svc.$Z" SRV NXDOMAIN
converge "updated: new PTR" "41.1.96.10.in-addr.arpa" PTR "api.prod.svc.$Z."
converge "updated: old PTR gone" "40.1.96.10.in-addr.arpa" PTR NXDOMAIN
emu_del services/prod/api
converge "ClusterIP service deleted" "api.prod.svc.$Z" A NXDOMAIN
converge "deleted: PTR gone" "41.1.96.10.in-addr.arpa" PTR NXDOMAIN
converge "deleted: SRV gone" "_web._tcp.api.prod.svc.$Z" SRV NXDOMAIN

# ---- Service, headless, and its EndpointSlices
HL='{"apiVersion":"v1","kind":"Service","metadata":{"name":"kv","namespace":"prod"},"spec":{"type":"ClusterIP","clusterIP":"None","clusterIPs":["None"],"ports":[{"name":"client","port":2379,"protocol":"TCP"}]}}'
EPS='{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"kv-1","namespace":"prod","labels":{"kubernetes.io/service-name":"kv"}},"addressType":"IPv4","endpoints":[{"addresses":["10.244.3.1"],"hostname":"kv-0","conditions":{"ready":true}},{"addresses":["10.244.3.2"],"hostname":"kv-1","conditions":{"ready":true}}],"ports":[{"name":"client","port":2379,"protocol":"TCP"}]}'
emu_put "$HL"
converge "headless service without endpoints" "kv.prod.svc.$Z" A NXDOMAIN
emu_put "$EPS"
converge "EndpointSlice created" "kv.prod.svc.$Z" A "10.244.3.1 | 10.244.3.2"
converge "EndpointSlice created: hostname" "kv-1.kv.prod.svc.$Z" A 10.244.3.2
converge "EndpointSlice created: PTR" "2.3.244.10.in-addr.arpa" PTR \
	"kv-1.kv.prod.svc.$Z."
# kv-1 not ready any more, a new endpoint without hostname
emu_put '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"kv-1","namespace":"prod","labels":{"kubernetes.io/service-name":"kv"}},"addressType":"IPv4","endpoints":[{"addresses":["10.244.3.1"],"hostname":"kv-0","conditions":{"ready":true}},{"addresses":["10.244.3.2"],"hostname":"kv-1","conditions":{"ready":false}},{"addresses":["10.244.3.7"]}],"ports":[{"name":"client","port":2379,"protocol":"TCP"}]}'
converge "EndpointSlice updated" "kv.prod.svc.$Z" A "10.244.3.1 | 10.244.3.7"
converge "updated: unready endpoint gone" "kv-1.kv.prod.svc.$Z" A NXDOMAIN
converge "updated: dashed name of the new endpoint" \
	"10-244-3-7.kv.prod.svc.$Z" A 10.244.3.7
converge "updated: SRV per ready endpoint" "_client._tcp.kv.prod.svc.$Z" SRV \
	"0 50 2379 10-244-3-7.kv.prod.svc.$Z. | 0 50 2379 kv-0.kv.prod.svc.$Z."
# a second slice of the same service is merged
emu_put '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"kv-2","namespace":"prod","labels":{"kubernetes.io/service-name":"kv"}},"addressType":"IPv4","endpoints":[{"addresses":["10.244.4.1"],"hostname":"kv-9"}],"ports":[{"name":"client","port":2379,"protocol":"TCP"}]}'
converge "second slice merged" "kv.prod.svc.$Z" A \
	"10.244.3.1 | 10.244.3.7 | 10.244.4.1"
emu_del endpointslices/prod/kv-1
converge "EndpointSlice deleted" "kv.prod.svc.$Z" A 10.244.4.1
converge "deleted slice: its names gone" "kv-0.kv.prod.svc.$Z" A NXDOMAIN
converge "deleted slice: its PTR gone" "1.3.244.10.in-addr.arpa" PTR NXDOMAIN
emu_del endpointslices/prod/kv-2
converge "last slice deleted" "kv.prod.svc.$Z" A NXDOMAIN
emu_del services/prod/kv
converge "headless service deleted" "_client._tcp.kv.prod.svc.$Z" SRV NXDOMAIN

# ---- Service, ExternalName
EXT='{"apiVersion":"v1","kind":"Service","metadata":{"name":"alias","namespace":"prod"},"spec":{"type":"ExternalName","externalName":"one.example.org"}}'
emu_put "$EXT"
converge "ExternalName created" "alias.prod.svc.$Z" CNAME "one.example.org."
emu_put "${EXT/one.example.org/two.example.net}"
converge "ExternalName updated" "alias.prod.svc.$Z" CNAME "two.example.net."
# into the cluster zone: the CNAME is chased
emu_put "${EXT/one.example.org/web.prod.svc.$Z}"
converge "ExternalName to a cluster name: chased" "alias.prod.svc.$Z" A \
	10.96.1.10
emu_del services/prod/alias
converge "ExternalName deleted" "alias.prod.svc.$Z" CNAME NXDOMAIN

# ---- Pod (pods verified)
POD='{"apiVersion":"v1","kind":"Pod","metadata":{"name":"batch-0","namespace":"prod"},"spec":{"nodeName":"n1"},"status":{"phase":"Running","podIP":"10.244.5.5"}}'
emu_put "$POD"
converge "Pod created" "10-244-5-5.prod.pod.$Z" A 10.244.5.5
converge "Pod in another namespace: not verified" "10-244-5-5.staging.pod.$Z" A \
	NXDOMAIN
emu_put "${POD//10.244.5.5/10.244.5.6}"
converge "Pod updated: new IP" "10-244-5-6.prod.pod.$Z" A 10.244.5.6
converge "Pod updated: old IP gone" "10-244-5-5.prod.pod.$Z" A NXDOMAIN
emu_put "$(sed 's/10\.244\.5\.5/10.244.5.6/; s/Running/Succeeded/' <<<"$POD")"
converge "Pod finished (leaves the field selector)" "10-244-5-6.prod.pod.$Z" A \
	NXDOMAIN
emu_put "${POD//10.244.5.5/10.244.5.7}"
converge "Pod running again" "10-244-5-7.prod.pod.$Z" A 10.244.5.7
emu_del pods/prod/batch-0
converge "Pod deleted" "10-244-5-7.prod.pod.$Z" A NXDOMAIN

converge_emu "after the changes" 10 \
	"api.prod.svc.$Z" A NXDOMAIN "kv.prod.svc.$Z" A NXDOMAIN \
	"alias.prod.svc.$Z" A NXDOMAIN "fresh.svc.$Z" A NXDOMAIN

# ---- a batch of changes in one go
BATCH='{"kind":"List","apiVersion":"v1","items":['
for i in $(seq 1 40); do
	BATCH="$BATCH{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"b$i\",\"namespace\":\"staging\"},\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"10.96.8.$i\",\"clusterIPs\":[\"10.96.8.$i\"]}},"
done
BATCH="${BATCH%,}]}"
emu_put "$BATCH"
converge_emu "40 services at once" 10
for i in $(seq 1 40); do
	emu_del "services/staging/b$i"
done
converge_emu "40 services deleted" 10 "b1.staging.svc.$Z" A NXDOMAIN \
	"b40.staging.svc.$Z" A NXDOMAIN

check_match "the daemon is alive" '^ok$' \
	"$(kill -0 "$PID" 2>/dev/null && echo ok)"
stop_daemon crud "$PID" "$LOG"
emu_stop

# ================================================================ labels
start_kc_scenario labels data "labels tier in (front, back)"
converge "labels: matching service" "web.prod.svc.$Z" A 10.96.1.10
converge "labels: matching headless service and slice" "db.prod.svc.$Z" A \
	"10.244.1.5 | 10.244.1.6"
converge "labels: matching service in another namespace" \
	"web.staging.svc.$Z" A 10.96.2.10
converge "labels: service without the label" "cache.prod.svc.$Z" A NXDOMAIN
converge "labels: ExternalName without the label" "ext.prod.svc.$Z" CNAME \
	NXDOMAIN
converge "labels: PTR of a service without the label" \
	"30.1.96.10.in-addr.arpa" PTR NXDOMAIN
# cache gets the label, staging/web loses it
emu_put '{"apiVersion":"v1","kind":"Service","metadata":{"name":"cache","namespace":"prod","labels":{"app":"cache","tier":"back"}},"spec":{"type":"ClusterIP","clusterIP":"10.96.1.30","clusterIPs":["10.96.1.30"]}}'
emu_put '{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"staging","labels":{"app":"web"}},"spec":{"type":"ClusterIP","clusterIP":"10.96.2.10","clusterIPs":["10.96.2.10"]}}'
converge "labels: a service that gets the label is served" \
	"cache.prod.svc.$Z" A 10.96.1.30
converge "labels: a service that loses the label is not" \
	"web.staging.svc.$Z" A NXDOMAIN
converge "labels: and its PTR neither" "10.2.96.10.in-addr.arpa" PTR NXDOMAIN
# a slice that loses the label: its endpoints go
emu_put '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"db-abcde","namespace":"prod","labels":{"kubernetes.io/service-name":"db"}},"addressType":"IPv4","endpoints":[{"addresses":["10.244.1.5"],"hostname":"db-0","conditions":{"ready":true}}],"ports":[{"name":"pg","port":5432,"protocol":"TCP"}]}'
converge "labels: a slice that loses the label is not served" \
	"db.prod.svc.$Z" A NXDOMAIN
converge "labels: unchanged service still served" "web.prod.svc.$Z" A 10.96.1.10
stop_daemon labels "$PID" "$SERVER_DIR/out.log"
emu_stop

# ================================================================ namespace_labels
start_kc_scenario nslabels file "namespace_labels env=prod"
converge "namespace_labels: service of a matching namespace" \
	"web.prod.svc.$Z" A 10.96.1.10
converge "namespace_labels: matching namespace" "prod.svc.$Z" A NODATA
converge "namespace_labels: service of another namespace" \
	"web.staging.svc.$Z" A NXDOMAIN
converge "namespace_labels: namespace without the label" "default.svc.$Z" A \
	NXDOMAIN
emu_put '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"staging","labels":{"env":"prod"}}}'
emu_put '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"prod","labels":{"env":"retired"}}}'
converge "namespace_labels: a namespace that gets the label is served" \
	"web.staging.svc.$Z" A 10.96.2.10
converge "namespace_labels: a namespace that loses it is not" \
	"web.prod.svc.$Z" A NXDOMAIN
converge "namespace_labels: nor its headless service" "db.prod.svc.$Z" A \
	NXDOMAIN
converge "namespace_labels: nor its namespace name" "prod.svc.$Z" A NXDOMAIN
emu_put '{"apiVersion":"v1","kind":"Service","metadata":{"name":"late","namespace":"prod"},"spec":{"type":"ClusterIP","clusterIP":"10.96.1.77","clusterIPs":["10.96.1.77"]}}'
emu_put '{"apiVersion":"v1","kind":"Service","metadata":{"name":"late","namespace":"staging"},"spec":{"type":"ClusterIP","clusterIP":"10.96.2.77","clusterIPs":["10.96.2.77"]}}'
converge "namespace_labels: new service in a matching namespace" \
	"late.staging.svc.$Z" A 10.96.2.77
converge "namespace_labels: new service in another namespace" \
	"late.prod.svc.$Z" A NXDOMAIN
stop_daemon nslabels "$PID" "$SERVER_DIR/out.log"
emu_stop

# ================================================================ namespaces
# One namespace: the server filters through namespaced paths.
start_kc_scenario onens file "namespaces prod"
converge "namespaces prod: its service" "web.prod.svc.$Z" A 10.96.1.10
converge "namespaces prod: its namespace name" "prod.svc.$Z" A NODATA
converge "namespaces prod: another namespace's service" \
	"web.staging.svc.$Z" A NXDOMAIN
converge "namespaces prod: another namespace" "staging.svc.$Z" A NXDOMAIN
emu_put '{"apiVersion":"v1","kind":"Service","metadata":{"name":"late","namespace":"prod"},"spec":{"type":"ClusterIP","clusterIP":"10.96.1.78","clusterIPs":["10.96.1.78"]}}'
emu_put '{"apiVersion":"v1","kind":"Service","metadata":{"name":"late","namespace":"staging"},"spec":{"type":"ClusterIP","clusterIP":"10.96.2.78","clusterIPs":["10.96.2.78"]}}'
converge "namespaces prod: a new service there" "late.prod.svc.$Z" A 10.96.1.78
converge "namespaces prod: not one elsewhere" "late.staging.svc.$Z" A NXDOMAIN
stop_daemon onens "$PID" "$SERVER_DIR/out.log"
emu_stop

# ================================================================ endpoint +
# tls: client certificates (the emulator also wants a token otherwise)
EMU_TOKEN=$(new_token)
TOKENS+=("$EMU_TOKEN")
emu_start mtls-emu 0 -client-ca "$PKI/ca.crt" -load "$API_FIXTURE"
start_server mtls < <(api_corefile "endpoint $EMU_URL" \
	"tls $PKI/client.crt $PKI/client.key $PKI/ca.crt" "pods verified")
PID=$SERVER_PID
converge_emu "mTLS: first sync" 10 "nosuch.prod.svc.$Z" A NXDOMAIN
emu_put '{"apiVersion":"v1","kind":"Service","metadata":{"name":"mtls","namespace":"prod"},"spec":{"type":"ClusterIP","clusterIP":"10.96.1.50","clusterIPs":["10.96.1.50"]}}'
converge "mTLS: created" "mtls.prod.svc.$Z" A 10.96.1.50
emu_del services/prod/mtls
converge "mTLS: deleted" "mtls.prod.svc.$Z" A NXDOMAIN
stop_daemon mtls "$PID" "$SERVER_DIR/out.log"

# wrong CA for the server's certificate: nothing is learned, no crash
start_server badca < <(api_corefile "endpoint $EMU_URL" \
	"tls $PKI/client.crt $PKI/client.key $PKI/rogue.crt")
PID=$SERVER_PID
converge "wrong CA: unsynced, an unknown name is SERVFAIL" \
	"nosuch.prod.svc.$Z" A SERVFAIL
check "wrong CA: nothing learned" SERVFAIL "$(dns_value "web.prod.svc.$Z" A)"
sleep 2 # let it retry a few times
check "wrong CA: still nothing learned" SERVFAIL \
	"$(dns_value "web.prod.svc.$Z" A)"
check "wrong CA: the daemon still answers" '"1.1.0"' \
	"$(dns_value "dns-version.$Z" TXT)"
check "wrong CA: the process is alive" ok \
	"$(kill -0 "$PID" 2>/dev/null && echo ok)"
check_match "wrong CA: an error is logged" \
	'(ERROR|WARN).*(certificate|SSL|TLS|ssl|tls|verif)' "$(daemon_log)"
stop_daemon badca "$PID" "$SERVER_DIR/out.log"

# a client certificate of a CA the server does not trust
start_server badcert < <(api_corefile "endpoint $EMU_URL" \
	"tls $PKI/bad.crt $PKI/bad.key $PKI/ca.crt")
PID=$SERVER_PID
converge "untrusted client certificate: unsynced" "nosuch.prod.svc.$Z" A \
	SERVFAIL
sleep 1
check "untrusted client certificate: nothing learned" SERVFAIL \
	"$(dns_value "web.prod.svc.$Z" A)"
check_match "untrusted client certificate: an error is logged" \
	'(ERROR|WARN)' "$(daemon_log)"
stop_daemon badcert "$PID" "$SERVER_DIR/out.log"
emu_stop

# ================================================================ startup
# gating: the API absent, then there
EMU_TOKEN=$(new_token)
TOKENS+=("$EMU_TOKEN")
EPORT=$(free_port)
KC=$E2E_TMP/absent.kubeconfig
write_kubeconfig "$KC" "https://127.0.0.1:$EPORT" file token "$EMU_TOKEN"
api_certs
start_server absent < <(api_corefile "kubeconfig $KC" "pods verified")
PID=$SERVER_PID
check "API absent: answers after startup_timeout, unknown name SERVFAIL" \
	SERVFAIL "$(dns_value "nosuch.prod.svc.$Z" A)"
check "API absent: a service is SERVFAIL too" SERVFAIL \
	"$(dns_value "web.prod.svc.$Z" A)"
check "API absent: a reverse name is SERVFAIL" SERVFAIL \
	"$(dns_value "99.99.96.10.in-addr.arpa" PTR)"
check "API absent: dns-version answers" '"1.1.0"' \
	"$(dns_value "dns-version.$Z" TXT)"
check "API absent: svc.$Z exists (NODATA)" NODATA "$(dns_value "svc.$Z" A)"
check_match "API absent: the SOA answers" \
	"^ns\.dns\.$Z\. hostmaster\.$Z\. [0-9]+ 7200 1800 86400 30\$" \
	"$(dns_value "$Z" SOA)"
check_match "API absent: the log says it starts unsynced" 'unsynced' \
	"$(daemon_log)"
emu_start absent-emu "$EPORT" -load "$API_FIXTURE"
converge "API back: the service resolves" "web.prod.svc.$Z" A 10.96.1.10 40
converge "API back: NXDOMAIN returns" "nosuch.prod.svc.$Z" A NXDOMAIN
converge "API back: reverse NXDOMAIN returns" "99.99.96.10.in-addr.arpa" PTR \
	NXDOMAIN
converge_emu "API back" 10
stop_daemon absent "$PID" "$SERVER_DIR/out.log"

# the API stalled at startup, then answering
emu_fault '{"fault":"stall","seconds":60}'
start_server stalled < <(api_corefile "kubeconfig $KC" "pods verified")
PID=$SERVER_PID
check "API stalled: unknown name SERVFAIL" SERVFAIL \
	"$(dns_value "nosuch.prod.svc.$Z" A)"
check "API stalled: a service is SERVFAIL" SERVFAIL \
	"$(dns_value "web.prod.svc.$Z" A)"
emu_fault '{"fault":"clear"}'
converge "API unstalled: the service resolves" "web.prod.svc.$Z" A 10.96.1.10 40
converge "API unstalled: NXDOMAIN returns" "nosuch.prod.svc.$Z" A NXDOMAIN
converge_emu "API unstalled" 10
stop_daemon stalled "$PID" "$SERVER_DIR/out.log"
emu_stop

check_no_secret "no token in any daemon log" "${TOKENS[@]}"
check_no_secret "no client key in any daemon log" \
	"$(sed -n 2p "$PKI/client.key")" "$(sed -n 2p "$PKI/bad.key")"

finish
