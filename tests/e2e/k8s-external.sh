#!/bin/bash
# k8s-external.sh -- the k8s_external directive on the real daemon, fed by
# the objects source (tests/fixtures/external, YAML and JSON): external
# and load balancer addresses, a CNAME to an ingress hostname (chased
# upstream when there is a forwarder), SRV, PTR, headless endpoints, the
# apex's SOA and NS with the name server's address, NXDOMAIN and NODATA
# with that SOA, and fallthrough to the next plugin; then fed by the API
# (the emulator): a load balancer's status as it changes, and deleted.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=apilib.sh
. "$(dirname "$0")/apilib.sh"

FAKEUP=$top_builddir/tests/fakeup
[ -x "$FAKEUP" ] || {
	echo "FAIL: $E2E_NAME: $FAKEUP not built"
	exit 1
}
X=example.org
OBJ=$top_srcdir/tests/fixtures/external
TTL=20

# assert_ext_soa [ZONE]: the authority section is the SOA of the external
# zone ZONE (default $X) as CoreDNS's k8s_external writes it (ns1 and
# hostmaster under the apex label), minimum and TTL the directive's ttl.
assert_ext_soa()
{
	local z=${1:-$X}
	check_match "$QUERY: SOA of $z in authority" \
		"^$z\. $TTL IN SOA ns1\.dns\.$z\. hostmaster\.dns\.$z\. [0-9]+ 7200 1800 86400 $TTL\$" \
		"$(section AUTHORITY | sed 's/ in soa / IN SOA /I')"
}

# ext_nxdomain NAME TYPE [ZONE], ext_nodata NAME TYPE
ext_nxdomain()
{
	ask "$1" "$2"
	assert_status NXDOMAIN
	assert_flag aa
	check "$QUERY: answer empty" 0 "$(count ANSWER)"
	assert_ext_soa "${3:-}"
}

ext_nodata()
{
	ask "$1" "$2"
	assert_status NOERROR
	assert_flag aa
	check "$QUERY: answer empty" 0 "$(count ANSWER)"
	assert_ext_soa
}

check_match "-plugins lists k8s_external before kubernetes" \
	"dns\.k8s_external\$" "$(timeout 10 "$CLUSTERDNS" -plugins 2>&1 |
		grep -B1 -x '  dns.kubernetes' | head -n 1)"

start_server plain <<EOF2
.:@PORT@ {
    bind 127.0.0.1
    kubernetes $ZONE in-addr.arpa {
        objects $OBJ
    }
    k8s_external $X 203.0.113.0/24 ip6.arpa {
        headless
        ttl $TTL
    }
}
EOF2

# ---- external and load balancer addresses (YAML fixture)
assert_answer "web.prod.$X" A "203.0.113.10"
assert_answer "web.prod.$X" AAAA "2001:db8::10"
assert_answer "WEB.Prod.$X" A "203.0.113.10"
check "$QUERY: case kept" "WEB.Prod.$X." "$(section ANSWER | awk '{ print $1 }')"
# externalIPs first, the duplicate once, then the ingress IP
assert_answer "api.prod.$X" A "198.51.100.7 | 203.0.113.11"
# ---- SRV: every port at the name, named ports under it, glue
assert_answer "web.prod.$X" SRV \
	"0 50 443 web.prod.$X. | 0 50 80 web.prod.$X."
assert_answer "_https._tcp.web.prod.$X" SRV "0 100 443 web.prod.$X."
check "$QUERY: glue" "2001:db8::10 | 203.0.113.10" \
	"$(section ADDITIONAL | awk '$4 == "A" || $4 == "AAAA" { print $5 }' |
		LC_ALL=C sort | awk 'NR > 1 { printf " | " } { printf "%s", $0 }')"
assert_answer "_grpc._tcp.api.prod.$X" SRV "0 100 9000 api.prod.$X."
ext_nxdomain "_grpc._udp.api.prod.$X" SRV
ext_nodata "_https._tcp.web.prod.$X" A
# ---- a load balancer hostname: a CNAME (no forwarder: the chain ends)
assert_answer "lb.prod.$X" CNAME "lb-1234.elb.example.test."
ask "lb.prod.$X" A
assert_status NOERROR
check "$QUERY: only the CNAME" "CNAME lb-1234.elb.example.test." \
	"$(section ANSWER | awk '{ print $4, $5 }')"
assert_answer "_http._tcp.lb.prod.$X" SRV "0 100 80 lb-1234.elb.example.test."
# ---- JSON fixture: an ingress with ip and hostname gives the ip
assert_answer "edge.staging.$X" A "203.0.113.20"
# a headless service with external IPs: those, not its endpoints
assert_answer "cache.staging.$X" A "192.0.2.77"
ext_nxdomain "cache-0.cache.staging.$X" A
# ---- headless endpoints (headless): ready ones only
assert_answer "db.prod.$X" A "10.244.1.10 | 10.244.1.11"
assert_answer "db-0.db.prod.$X" A "10.244.1.10"
ext_nxdomain "db-2.db.prod.$X" A
assert_answer "_pg._tcp.db.prod.$X" SRV \
	"0 50 5432 db-0.db.prod.$X. | 0 50 5432 db-1.db.prod.$X."
assert_answer "db-1.db.prod.$X" SRV "0 100 5432 db-1.db.prod.$X."
# ---- PTR of the external addresses in the k8s_external reverse zones;
# other reverse names stay the cluster zone's
assert_answer "10.113.0.203.in-addr.arpa" PTR "web.prod.$X."
assert_answer "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa" \
	PTR "web.prod.$X."
ext_nxdomain "99.113.0.203.in-addr.arpa" PTR 113.0.203.in-addr.arpa
TTL=5 assert_answer "1.5.96.10.in-addr.arpa" PTR "web.prod.svc.$ZONE."
# ---- the apex: SOA, NS with the name server's address (kube-dns's
# external IP), the apex label's names
ask "$X" SOA
serial=$(section ANSWER | awk '{ print $7 }')
check_match "$QUERY: a serial" '^[0-9]+$' "$serial"
assert_answer "$X" SOA "ns1.dns.$X. hostmaster.dns.$X. $serial 7200 1800 86400 $TTL"
assert_answer "$X" NS "ns1.dns.$X."
check "$QUERY: NS address in additional" "ns1.dns.$X. $TTL IN A 192.0.2.53" \
	"$(section ADDITIONAL | awk '$4 == "A"')"
assert_answer "ns1.dns.$X" A "192.0.2.53"
ext_nodata "ns1.dns.$X" AAAA
ext_nodata "dns.$X" A
ext_nxdomain "ns2.dns.$X" A
# a namespace named like the apex label is hidden by it
ext_nxdomain "trap.dns.$X" A
ext_nodata "$X" A
# ---- NODATA and NXDOMAIN with the SOA
ext_nodata "web.prod.$X" TXT
ext_nodata "api.prod.$X" AAAA
ext_nodata "prod.$X" A
ext_nxdomain "internal.prod.$X" A
ext_nxdomain "nosuch.prod.$X" A
ext_nxdomain "web.nosuch.$X" A
ext_nxdomain "x.web.prod.$X" A
ext_nxdomain "kube-dns.nosuch.$X" SRV
# ---- the cluster zone is unchanged beside it
TTL=5 assert_answer "web.prod.svc.$ZONE" A "10.96.5.1"
TTL=5 assert_answer "db-0.db.prod.svc.$ZONE" A "10.244.1.10"
check_match "the cluster zone's SOA is its own" \
	"hostmaster\.$ZONE\." "$(ask "nosuch.prod.svc.$ZONE" A; section AUTHORITY)"
stop_server "$SERVER_PID"

# ---- without headless, a forwarder and fallthrough: names the zone does
# not have go to the next plugin; the ingress hostname is chased upstream
FAKE_PORT=$(free_port)
"$FAKEUP" -p "$FAKE_PORT" -m spoof -l "$E2E_TMP/fakeup.log" \
	>"$E2E_TMP/fakeup.out" 2>&1 &
E2E_PIDS+=("$!")
sleep 0.2
start_server fall <<EOF2
.:@PORT@ {
    bind 127.0.0.1
    kubernetes $ZONE in-addr.arpa {
        objects $OBJ
    }
    k8s_external $X in-addr.arpa {
        fallthrough
    }
    forward . 127.0.0.1:$FAKE_PORT
}
EOF2
TTL=5
assert_answer "web.prod.$X" A "203.0.113.10"
ask "nosuch.prod.$X" A
assert_status NOERROR
check "$QUERY: answered upstream" "192.0.2.99" "$(rdata ANSWER A)"
check "$QUERY: with the upstream's TTL" "60" "$(section ANSWER | awk '{ print $2 }')"
# headless is off: the headless service's names are not the zone's
ask "db.prod.$X" A
check "$QUERY: fell through" "192.0.2.99" "$(rdata ANSWER A)"
# the CNAME to the ingress hostname, then the hostname's address upstream
ask "lb.prod.$X" A
assert_status NOERROR
check "$QUERY: CNAME" "lb-1234.elb.example.test." "$(rdata ANSWER CNAME)"
check "$QUERY: chased upstream" "192.0.2.99" "$(rdata ANSWER A)"
check_match "upstream asked for the hostname" "^lb-1234\.elb\.example\.test\. 1\$" \
	"$(cat "$E2E_TMP/fakeup.log")"
# reverse names: the external addresses' from the external zone, the
# others fall through to the cluster zone (kubernetes is the next plugin)
assert_answer "10.113.0.203.in-addr.arpa" PTR "web.prod.$X."
assert_answer "1.5.96.10.in-addr.arpa" PTR "web.prod.svc.$ZONE."
assert_nxdomain "9.9.9.9.in-addr.arpa" PTR in-addr.arpa
# NODATA is no fallthrough
ask "web.prod.$X" TXT
assert_status NOERROR
assert_flag aa
check "$QUERY: answer empty" 0 "$(count ANSWER)"
check "upstream never asked for web.prod" "" \
	"$(grep -i "^web\.prod" "$E2E_TMP/fakeup.log")"
stop_server "$SERVER_PID"

# ---- the API source: the status of a LoadBalancer as the API changes it
EMU_TOKEN=$(new_token)
emu_start api-emu 0 -load "$API_FIXTURE"
KC=$E2E_TMP/api.kubeconfig
write_kubeconfig "$KC" "$EMU_URL" file token "$EMU_TOKEN"
start_server api <<EOF2
.:@PORT@ {
    bind 127.0.0.1
    k8s_external $X
    kubernetes $ZONE {
        kubeconfig $KC
        startup_timeout 1s
    }
}
EOF2
LB='{"apiVersion":"v1","kind":"Service","metadata":{"name":"gw","namespace":"prod"},"spec":{"type":"LoadBalancer","clusterIP":"10.96.9.9","ports":[{"name":"https","port":443,"protocol":"TCP"}]},"status":{"loadBalancer":{}}}'
NOLB='"loadBalancer":{}'
converge "api: not there yet" "gw.prod.$X" A NXDOMAIN
emu_put "$LB"
converge "api: the cluster name first" "gw.prod.svc.$ZONE" A 10.96.9.9
served "api: no ingress yet" "gw.prod.$X" A NXDOMAIN
emu_put "${LB/"$NOLB"/'"loadBalancer":{"ingress":[{"ip":"203.0.113.50"}]}'}"
converge "api: the ingress IP" "gw.prod.$X" A 203.0.113.50
served "api: SRV" "_https._tcp.gw.prod.$X" SRV "0 100 443 gw.prod.$X."
emu_put "${LB/"$NOLB"/'"loadBalancer":{"ingress":[{"hostname":"gw.lb.example.test"}]}'}"
converge "api: a hostname instead" "gw.prod.$X" CNAME gw.lb.example.test.
emu_del services/prod/gw
converge "api: deleted" "gw.prod.$X" A NXDOMAIN
served "api: the cluster name deleted" "gw.prod.svc.$ZONE" A NXDOMAIN

finish
