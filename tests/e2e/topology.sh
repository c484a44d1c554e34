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
start_server api < <(api_corefile "kubeconfig $KC" zonal "topology strict")
converge "api: pin" "us-east-1b.pin._zone.$DB" A 10.9.1.2
ask -b 127.0.0.12 "$DB" A
check "api: strict us-east-1b" "10.9.1.2" "$(rdata ANSWER A)"
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
assert_nodata "us-east-1z.pin._zone.$DB" A

finish
