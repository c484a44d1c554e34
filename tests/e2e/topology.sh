#!/bin/bash
# topology.sh -- topology-aware answers: CoreDNS's zonal names
# (<zone>.pin|prefer._zone.<svc>.<ns>.svc.<zone>, option `zonal`) and our
# `topology [strict]`, which answers a client pod its own zone's endpoints
# of a headless service first (or only them).  The client pods of the
# fixture have loopback addresses, so `dig -b 127.0.0.12` asks as the pod
# in us-east-1b.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=apilib.sh
. "$(dirname "$0")/apilib.sh"

OBJECTS=$top_srcdir/tests/fixtures/topology
export OBJECTS
Z=$ZONE
DB=db.shop.svc.$Z
ALL="10.9.1.1 | 10.9.1.2 | 10.9.1.3 | 10.9.1.5 | 10.9.1.6"

# order: the answer's addresses of the last query, in the order given.
order()
{
	section ANSWER | awk '$4 == "A" || $4 == "AAAA" { print $5 }' |
		tr '\n' ' '
}

# strict_from WHAT ADDR WANT: `topology strict` answers the client at
# ADDR the A records WANT (rdata), within a few seconds (a change of the
# objects files or the API's watch is on its way).
strict_from()
{
	local i got
	for i in $(seq 1 50); do
		ask -b "$2" "$DB" A
		got=$(rdata ANSWER A)
		[ "$got" = "$3" ] && break
		sleep 0.2
	done
	check "$1 (from $2)" "$3" "$got"
}

# ---- zonal: CoreDNS's names
start_server zonal < <(corefile "pods none" zonal | sed '2a\    transfer {\n        to 127.0.0.1\n    }')

assert_answer "us-east-1b.pin._zone.$DB" A "10.9.1.2 | 10.9.1.3"
assert_answer "us-east-1a.pin._zone.$DB" A "10.9.1.1"
assert_answer "us-east-1a.pin._zone.$DB" AAAA "fd00:9::1"
assert_answer "us-east-1a.prefer._zone.$DB" AAAA "fd00:9::1"
assert_answer "us-east-1b.prefer._zone.$DB" A "10.9.1.2 | 10.9.1.3"
# a zone value with dots spans labels
assert_answer "eu.corp.example.pin._zone.$DB" A "10.9.1.6"
# letter case does not matter, and the question keeps it
assert_answer "US-East-1B.PIN._zone.db.Shop.svc.$Z" A "10.9.1.2 | 10.9.1.3"
check "zonal: question case kept" "US-East-1B.PIN._zone.db.Shop.svc.$Z." \
	"$(section ANSWER | awk 'NR == 1 { print $1 }')"
# pin: a zone without ready endpoints of the service, known or not, is
# NODATA; so is a family the zone has none of
assert_nodata "us-east-1z.pin._zone.$DB" A
assert_nodata "us-east-1c.pin._zone.$DB" A
assert_nodata "us-east-1b.pin._zone.$DB" AAAA
assert_nodata "us-east-1b.pin._zone.$DB" TXT
assert_nodata "us-east-1z.pin._zone.$DB" TXT
# prefer: falls back to every ready endpoint
assert_answer "us-east-1z.prefer._zone.$DB" A "$ALL"
assert_answer "us-east-1c.prefer._zone.$DB" AAAA "fd00:9::1"
assert_nodata "us-east-1z.prefer._zone.$DB" TXT
# SRV: the zone's endpoints, glue for their names
ask "us-east-1b.pin._zone.$DB" SRV
assert_status NOERROR
check "pin SRV" "0 50 5432 10-9-1-2.$DB. | 0 50 5432 10-9-1-3.$DB." \
	"$(rdata ANSWER SRV)"
check "pin SRV: glue" "10.9.1.2 | 10.9.1.3" "$(rdata ADDITIONAL A)"
# prefer's fallback carries the service's SRV answer, glue and all (UDP
# and TCP)
for proto in +notcp +tcp; do
	ask "$proto" "us-east-1z.prefer._zone.$DB" SRV
	assert_status NOERROR
	check "prefer SRV fallback $proto: records" 6 "$(count ANSWER SRV)"
	check "prefer SRV fallback $proto: glue" "$ALL" "$(rdata ADDITIONAL A)"
	check "prefer SRV fallback $proto: glue AAAA" "fd00:9::1" \
		"$(rdata ADDITIONAL AAAA)"
done
# zonal names are for headless services that exist; other directives
# are not names
assert_nxdomain "us-east-1a.pin._zone.web.shop.svc.$Z" A
assert_nxdomain "us-east-1a.prefer._zone.web.shop.svc.$Z" A
assert_nxdomain "us-east-1a.pin._zone.nosuch.shop.svc.$Z" A
assert_nxdomain "us-east-1a.florp._zone.$DB" A
assert_nxdomain "us-east-1a.pin.zone.$DB" A
assert_nxdomain "pin._zone.$DB" A
# the names between a stored prefer name and the service exist
assert_nodata "prefer._zone.$DB" A
assert_nodata "_zone.$DB" A
# the marker the zonal names are found by is not a name
assert_nxdomain "db._zone.shop.svc.$Z" A
assert_nxdomain "_zone.shop.svc.$Z" A
# a headless service without a ready endpoint: the names exist, empty
assert_nxdomain "idle.shop.svc.$Z" A
assert_nodata "us-east-1a.pin._zone.idle.shop.svc.$Z" A
assert_nodata "us-east-1a.prefer._zone.idle.shop.svc.$Z" A
# the service's own names do not change
assert_answer "$DB" A "$ALL"
assert_answer "db-0.$DB" A "10.9.1.1"
# zonal names are answered to queries, not transferred (as in CoreDNS)
ask +tcp "$Z" AXFR
XFR=$(printf '%s\n' "$OUT" | grep -v '^;' | awk 'NF >= 5 { $1 = $1; print }')
check "zonal: AXFR begins and ends with the SOA" 2 \
	"$(printf '%s\n' "$XFR" | awk '$4 == "SOA"' | wc -l | tr -d ' ')"
check "zonal: AXFR has the service" "$ALL" \
	"$(printf '%s\n' "$XFR" | awk -v n="$DB." '$1 == n && $4 == "A" { print $5 }' |
		LC_ALL=C sort | awk 'NR > 1 { printf " | " } { printf "%s", $0 }')"
check "zonal: AXFR without zonal names" "" \
	"$(printf '%s\n' "$XFR" | grep -i '_zone\.' || true)"
stop_server "$SERVER_PID"

# ---- without zonal: the names do not exist
start_server plain < <(corefile "pods none")
assert_nxdomain "us-east-1b.pin._zone.$DB" A
assert_nxdomain "us-east-1z.prefer._zone.$DB" A
ask -b 127.0.0.12 "$DB" A
check "plain: no topology" "10.9.1.1 10.9.1.2 10.9.1.3 10.9.1.5 10.9.1.6 " \
	"$(order)"
stop_server "$SERVER_PID"

# ---- topology: the client's zone first
start_server first < <(corefile "pods none" topology)
ask -b 127.0.0.12 "$DB" A
check "topology us-east-1b: its endpoints first" \
	"10.9.1.2 10.9.1.3 10.9.1.1 10.9.1.5 10.9.1.6 " "$(order)"
ask -b 127.0.0.14 "$DB" A
check "topology eu.corp.example: its endpoint first" \
	"10.9.1.6 10.9.1.1 10.9.1.2 10.9.1.3 10.9.1.5 " "$(order)"
# us-east-1c has no ready endpoint of db; 127.0.0.1 is no known pod
for b in 127.0.0.13 127.0.0.1; do
	ask -b "$b" "$DB" A
	check "topology from $b: everyone's answer" \
		"10.9.1.1 10.9.1.2 10.9.1.3 10.9.1.5 10.9.1.6 " "$(order)"
done
ask -b 127.0.0.12 "$DB" SRV
check "topology: SRV unchanged" 6 "$(count ANSWER SRV)"
ask -b 127.0.0.12 "$DB" AAAA
check "topology: AAAA falls back" "fd00:9::1 " "$(order)"
# the zonal names it is built from are not served without zonal
assert_nxdomain "us-east-1b.pin._zone.$DB" A
assert_nxdomain "us-east-1b.prefer._zone.$DB" A
assert_nxdomain "_zone.$DB" A
assert_nxdomain "pin._zone.$DB" A
stop_server "$SERVER_PID"

# ---- topology strict: only the client's zone, all when it has none
start_server strict < <(corefile "pods none" "topology strict" zonal)
ask -b 127.0.0.12 "$DB" A
assert_status NOERROR
check "strict us-east-1b" "10.9.1.2 | 10.9.1.3" "$(rdata ANSWER A)"
ask -b 127.0.0.11 "$DB" A
check "strict us-east-1a" "10.9.1.1" "$(rdata ANSWER A)"
ask -b 127.0.0.11 "$DB" AAAA
check "strict us-east-1a AAAA" "fd00:9::1" "$(rdata ANSWER AAAA)"
ask -b 127.0.0.14 "$DB" A
check "strict eu.corp.example" "10.9.1.6" "$(rdata ANSWER A)"
for b in 127.0.0.13 127.0.0.1; do
	ask -b "$b" "$DB" A
	check "strict from $b: falls back to all" "$ALL" "$(rdata ANSWER A)"
done
for proto in +notcp +tcp; do
	ask "$proto" -b 127.0.0.12 "$DB" SRV
	check "strict SRV $proto" "0 50 5432 10-9-1-2.$DB. | 0 50 5432 10-9-1-3.$DB." \
		"$(rdata ANSWER SRV)"
	check "strict SRV $proto: glue" "10.9.1.2 | 10.9.1.3" \
		"$(rdata ADDITIONAL A)"
done
# a client pod on IPv6 (::1, in us-east-1b)
ASK_ADDR=::1 ask -b ::1 "$DB" A
check "strict from ::1" "10.9.1.2 | 10.9.1.3" "$(rdata ANSWER A)"
# the question's case is kept in the answer
ask -b 127.0.0.12 "DB.shop.svc.$Z" A
check "strict: question case kept" "DB.shop.svc.$Z." \
	"$(section ANSWER | awk 'NR == 1 { print $1 }')"
# a ClusterIP service is the same for everyone
assert_answer "web.shop.svc.$Z" A "10.96.9.1" -b 127.0.0.12
# zonal served beside it
assert_answer "us-east-1a.pin._zone.$DB" A "10.9.1.1" -b 127.0.0.12
stop_server "$SERVER_PID"

# ---- a large headless service: UDP truncates, TCP carries it all
BIG=$E2E_TMP/big
mkdir -p "$BIG"
cp "$OBJECTS"/*.yaml "$OBJECTS"/*.json "$BIG"/
{
	printf 'apiVersion: v1\nkind: Service\nmetadata: {name: big, namespace: shop}\n'
	printf 'spec: {clusterIP: None, ports: [{name: http, port: 80}]}\n---\n'
	printf 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n'
	printf 'metadata:\n  name: big-1\n  namespace: shop\n'
	printf '  labels: {kubernetes.io/service-name: big}\naddressType: IPv4\n'
	printf 'ports: [{name: http, port: 80}]\nendpoints:\n'
	for i in $(seq 1 300); do
		printf '  - {addresses: [10.10.%d.%d], zone: us-east-1b}\n' \
			$((i / 200)) $((i % 200 + 1))
	done
	for i in $(seq 1 10); do
		printf '  - {addresses: [10.11.0.%d], zone: us-east-1a}\n' "$i"
	done
} >"$BIG/big.yaml"
for mode in topology "topology strict"; do
	OBJECTS=$BIG
	start_server "big-${mode// /-}" < <(corefile "pods none" "$mode")
	ask +ignore -b 127.0.0.12 "big.shop.svc.$Z" A
	assert_flag tc
	ask +tcp -b 127.0.0.12 "big.shop.svc.$Z" A
	want=310
	[ "$mode" = topology ] || want=300
	check "$mode over TCP: all records" "$want" "$(count ANSWER A)"
	check "$mode over TCP: the zone's first" "" \
		"$(section ANSWER | awk '$4 == "A"' | head -n 300 |
			awk '$5 !~ /^10\.10\./')"
	ask +tcp -b 127.0.0.11 "big.shop.svc.$Z" A
	want=310
	[ "$mode" = topology ] || want=10
	check "$mode over TCP from us-east-1a" "$want" "$(count ANSWER A)"
	stop_server "$SERVER_PID"
done

# ---- over TCP, an answer bigger than one DNS message: the first whole
# records that fit (as the service's own answer), the zone's first
HUGE=$E2E_TMP/huge
mkdir -p "$HUGE"
cp "$OBJECTS"/*.yaml "$OBJECTS"/*.json "$HUGE"/
{
	printf 'apiVersion: v1\nkind: Service\nmetadata: {name: huge, namespace: shop}\n'
	printf 'spec: {clusterIP: None, ports: [{name: http, port: 80}]}\n'
	# 5 slices of 1000 endpoints: 4200 in us-east-1b (16 bytes a record,
	# 67200 > 65535), then 10 in us-east-1a and 790 without a zone
	for sl in 0 1 2 3 4; do
		printf -- '---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n'
		printf 'metadata:\n  name: huge-%d\n  namespace: shop\n' "$sl"
		printf '  labels: {kubernetes.io/service-name: huge}\n'
		printf 'addressType: IPv4\nports: [{name: http, port: 80}]\n'
		printf 'endpoints:\n'
		for i in $(seq 0 999); do
			n=$((sl * 1000 + i))
			if [ "$n" -lt 4200 ]; then
				z=", zone: us-east-1b"
			elif [ "$n" -lt 4210 ]; then
				z=", zone: us-east-1a"
			else
				z=
			fi
			printf '  - {addresses: [10.12.%d.%d]%s}\n' \
				$((n / 250)) $((n % 250 + 1)) "$z"
		done
	done
} >"$HUGE/huge.yaml"
for mode in topology "topology strict"; do
	OBJECTS=$HUGE
	start_server "huge-${mode// /-}" < <(corefile "pods none" "$mode")
	# the service's own answer over TCP: what fits of the 5000
	ask +tcp "huge.shop.svc.$Z" A
	assert_noflag tc
	fits=$(count ANSWER A)
	[ "$fits" -gt 4000 ] && [ "$fits" -lt 4200 ]
	check "$mode huge: the plain answer is cut at one message" 0 $?
	ask +ignore -b 127.0.0.12 "huge.shop.svc.$Z" A
	assert_flag tc
	ask +tcp -b 127.0.0.12 "huge.shop.svc.$Z" A
	assert_status NOERROR
	assert_noflag tc
	check "$mode huge over TCP: as many records" "$fits" \
		"$(count ANSWER A)"
	check "$mode huge over TCP: all of us-east-1b" "" \
		"$(section ANSWER | awk '$4 == "A" && $5 !~ /^10\.12\./')"
	check "$mode huge over TCP: us-east-1b only (4200 of them)" "" \
		"$(section ANSWER | awk '$4 == "A"' |
			awk '{ split($5, a, "."); if (a[3] * 250 + a[4] - 1 >= 4200) print }')"
	# us-east-1a's 10 fit: first (topology) or alone (strict)
	ask +tcp -b 127.0.0.11 "huge.shop.svc.$Z" A
	want=$fits
	[ "$mode" = topology ] || want=10
	check "$mode huge over TCP from us-east-1a" "$want" "$(count ANSWER A)"
	check "$mode huge over TCP from us-east-1a: its own first" \
		"10.12.16.201 10.12.16.210" \
		"$(section ANSWER | awk '$4 == "A" { print $5 }' | sed -n '1p;10p' |
			tr '\n' ' ' | sed 's/ $//')"
	stop_server "$SERVER_PID"
done
OBJECTS=$top_srcdir/tests/fixtures/topology

# ---- pods verified: every running pod is a client of known zone, the
# zone of its node as the endpoints on that node tell it; its own
# endpoint, when it has one, decides first
PODS=$E2E_TMP/pods
mkdir -p "$PODS"
cp "$OBJECTS"/*.yaml "$OBJECTS"/*.json "$PODS"/
# jobs_yaml NODE-OF-BATCH-1 [batch-2]: client pods that back no Service
jobs_yaml()
{
	printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: jobs}\n'
	printf -- '---\nkind: Pod\nmetadata: {name: batch-1, namespace: jobs}\n'
	printf 'spec: {nodeName: %s}\n' "$1"
	printf 'status: {phase: Running, podIP: 127.0.0.21}\n'
	if [ -n "${2:-}" ]; then
		printf -- '---\nkind: Pod\nmetadata: {name: batch-2, namespace: jobs}\n'
		printf 'spec: {nodeName: node-a1}\n'
		printf 'status: {phase: Running, podIP: 127.0.0.22}\n'
	fi
	# node-c1 has an endpoint of zone us-east-1c, none of db ready
	printf -- '---\nkind: Pod\nmetadata: {name: on-c1, namespace: jobs}\n'
	printf 'spec: {nodeName: node-c1}\n'
	printf 'status: {phase: Running, podIP: 127.0.0.23}\n'
	# no endpoint lives on node-z: its zone is not known
	printf -- '---\nkind: Pod\nmetadata: {name: far, namespace: jobs}\n'
	printf 'spec: {nodeName: node-z}\n'
	printf 'status: {phase: Running, podIP: 127.0.0.24}\n'
	printf -- '---\nkind: Pod\nmetadata: {name: done, namespace: jobs}\n'
	printf 'spec: {nodeName: node-b1}\n'
	printf 'status: {phase: Succeeded, podIP: 127.0.0.25}\n'
	# the pod behind 127.0.0.12 (us-east-1b by its endpoint) on a node
	# of us-east-1a: its endpoint decides
	printf -- '---\nkind: Pod\nmetadata: {name: app-b, namespace: shop}\n'
	printf 'spec: {nodeName: node-a1}\n'
	printf 'status: {phase: Running, podIP: 127.0.0.12}\n'
}
jobs_yaml node-b1 batch-2 >"$PODS/jobs.yaml"
OBJECTS=$PODS
# without pods verified: today's answers
start_server pods-none < <(corefile "pods none" "topology strict")
ask -b 127.0.0.21 "$DB" A
check "pods none: a pod without endpoint gets all" "$ALL" "$(rdata ANSWER A)"
stop_server "$SERVER_PID"
start_server pods-first < <(corefile "pods verified" topology)
ask -b 127.0.0.21 "$DB" A
check "pods verified, topology: node-b1's zone first" \
	"10.9.1.2 10.9.1.3 10.9.1.1 10.9.1.5 10.9.1.6 " "$(order)"
ask -b 127.0.0.24 "$DB" A
check "pods verified, topology: node of no known zone" \
	"10.9.1.1 10.9.1.2 10.9.1.3 10.9.1.5 10.9.1.6 " "$(order)"
stop_server "$SERVER_PID"
start_server pods-strict < <(corefile "pods verified" "topology strict")
strict_from "pods: on node-b1" 127.0.0.21 "10.9.1.2 | 10.9.1.3"
strict_from "pods: on node-a1" 127.0.0.22 "10.9.1.1"
strict_from "pods: on node-c1, no ready db there" 127.0.0.23 "$ALL"
strict_from "pods: on node-z" 127.0.0.24 "$ALL"
strict_from "pods: a finished pod" 127.0.0.25 "$ALL"
strict_from "pods: its own endpoint first" 127.0.0.12 "10.9.1.2 | 10.9.1.3"
strict_from "pods: no pod" 127.0.0.1 "$ALL"
# the pod's name answers as before
assert_answer "127-0-0-21.jobs.pod.$Z" A 127.0.0.21
# batch-1 is moved to node-a1, batch-2 is deleted: the files reload
sleep 1.1
jobs_yaml node-a1 >"$PODS/jobs.yaml.new"
mv "$PODS/jobs.yaml.new" "$PODS/jobs.yaml"
strict_from "pods: moved to node-a1" 127.0.0.21 "10.9.1.1"
strict_from "pods: deleted" 127.0.0.22 "$ALL"
stop_server "$SERVER_PID"
OBJECTS=$top_srcdir/tests/fixtures/topology

# ---- with a cache in front, answers still follow the client
cat >"$E2E_TMP/cached.Corefile" <<EOC
.:@PORT@ {
    bind 127.0.0.1
    cache 30
    kubernetes $Z {
        objects $OBJECTS
        topology strict
    }
}
EOC
start_server cached <"$E2E_TMP/cached.Corefile"
ask -b 127.0.0.12 "$DB" A
check "cached: us-east-1b" "10.9.1.2 | 10.9.1.3" "$(rdata ANSWER A)"
ask -b 127.0.0.11 "$DB" A
check "cached: us-east-1a after us-east-1b" "10.9.1.1" "$(rdata ANSWER A)"
ask -b 127.0.0.1 "$DB" A
check "cached: no pod" "$ALL" "$(rdata ANSWER A)"
stop_server "$SERVER_PID"

# ---- from the Kubernetes API: zones through LIST and WATCH
EMU_TOKEN=$(new_token)
emu_start emu 0 -load "$top_srcdir/tests/fixtures/api/topology.json"
KC=$E2E_TMP/emu.kubeconfig
write_kubeconfig "$KC" "$EMU_URL" file token "$EMU_TOKEN"
start_server api < <(api_corefile "kubeconfig $KC" zonal "topology strict" \
	"pods verified")
converge "api: pin" "us-east-1b.pin._zone.$DB" A 10.9.1.2
ask -b 127.0.0.12 "$DB" A
check "api: strict us-east-1b" "10.9.1.2" "$(rdata ANSWER A)"
# a pod that backs no Service, on node-a1 (us-east-1a by db-1's endpoint)
# through the Pods watch; it moves to node-b1, then is deleted
api_pod()
{
	emu_put '{"apiVersion":"v1","kind":"Pod",
 "metadata":{"name":"batch-1","namespace":"jobs"},
 "spec":{"nodeName":"'"$1"'","containers":[{"name":"c","image":"x"}]},
 "status":{"phase":"'"$2"'","podIP":"127.0.0.21",
  "podIPs":[{"ip":"127.0.0.21"}]}}'
}
ask -b 127.0.0.21 "$DB" A
check "api: no such pod yet" "10.9.1.1 | 10.9.1.2" "$(rdata ANSWER A)"
api_pod node-a1 Running
strict_from "api: a pod on node-a1" 127.0.0.21 "10.9.1.1"
api_pod node-b1 Running
strict_from "api: the pod on node-b1" 127.0.0.21 "10.9.1.2"
api_pod node-b1 Failed
strict_from "api: the pod has failed" 127.0.0.21 "10.9.1.1 | 10.9.1.2"
api_pod node-a1 Running
strict_from "api: a pod on node-a1 again" 127.0.0.21 "10.9.1.1"
emu_del pods/jobs/batch-1
strict_from "api: the pod is deleted" 127.0.0.21 "10.9.1.1 | 10.9.1.2"
# a pod moves to us-east-1c through a watch event: its endpoint's zone
# follows, and so do its answers
emu_put '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",
 "metadata":{"name":"app-1","namespace":"shop",
  "labels":{"kubernetes.io/service-name":"app"}},"addressType":"IPv4",
 "endpoints":[{"addresses":["127.0.0.12"],"zone":"us-east-1c"}],
 "ports":[{"name":"http","port":8080,"protocol":"TCP"}]}'
emu_put '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",
 "metadata":{"name":"db-2","namespace":"shop",
  "labels":{"kubernetes.io/service-name":"db"}},"addressType":"IPv4",
 "endpoints":[{"addresses":["10.9.1.7"],"zone":"us-east-1c"}],
 "ports":[{"name":"pg","port":5432,"protocol":"TCP"}]}'
converge "api: a new zone" "us-east-1c.pin._zone.$DB" A 10.9.1.7
ask -b 127.0.0.12 "$DB" A
check "api: strict after the move" "10.9.1.7" "$(rdata ANSWER A)"
# a node's zone follows the slices: node-c9 has no endpoint, then one
# (of another service) in us-east-1c, then none again
api_pod node-c9 Running
strict_from "api: a pod on a node of no known zone" 127.0.0.21 \
	"10.9.1.1 | 10.9.1.2 | 10.9.1.7"
emu_put '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",
 "metadata":{"name":"app-2","namespace":"shop",
  "labels":{"kubernetes.io/service-name":"app"}},"addressType":"IPv4",
 "endpoints":[{"addresses":["10.9.9.9"],"zone":"us-east-1c",
  "nodeName":"node-c9","conditions":{"ready":false}}],
 "ports":[{"name":"http","port":8080,"protocol":"TCP"}]}'
strict_from "api: an endpoint tells node-c9's zone" 127.0.0.21 "10.9.1.7"
emu_del endpointslices/shop/app-2
strict_from "api: node-c9's endpoint is gone" 127.0.0.21 \
	"10.9.1.1 | 10.9.1.2 | 10.9.1.7"
assert_nodata "us-east-1z.pin._zone.$DB" A

finish
