#!/bin/bash
# shellcheck disable=SC2119
# answers.sh -- every positive row of the answer rules, asked of the daemon
# serving the fixture cluster (tests/fixtures/cluster).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

Z=$ZONE
D="$Z."

start_server main < <(corefile)

# ---- zone apex, NS and its glue, version
ask "$Z" SOA
assert_status NOERROR
assert_flag aa
check_match "$Z SOA" "^ns\.dns\.$Z\. hostmaster\.$Z\. [0-9]+ 7200 1800 86400 30\$" \
	"$(rdata ANSWER SOA)"
check "$Z SOA TTL" 30 "$(section ANSWER | awk '{ print $2 }')"

assert_answer "$Z" NS "ns.dns.$D"
check "$Z NS: glue" "ns.dns.$D 30 IN A 10.96.0.10" "$(section ADDITIONAL |
	grep -v OPT | tr '[:upper:]' '[:lower:]' | sed 's/ in a / IN A /')"

assert_answer "ns.dns.$Z" A "10.96.0.10"
assert_answer "dns-version.$Z" TXT '"1.1.0"'

# ---- ClusterIP services
assert_answer "web.prod.svc.$Z" A "10.96.1.10"
assert_answer "kubernetes.default.svc.$Z" A "10.96.0.1"
assert_answer "kube-dns.kube-system.svc.$Z" A "10.96.0.10"
assert_answer "web.staging.svc.$Z" A "10.96.2.10"
assert_answer "web6.prod.svc.$Z" AAAA "fd00:10:96::30"
# dual-stack: both families
assert_answer "api.prod.svc.$Z" A "10.96.1.20"
assert_answer "api.prod.svc.$Z" AAAA "fd00:10:96::1:20"
# no ready endpoint does not matter for a ClusterIP service by default
assert_answer "idle.prod.svc.$Z" A "10.96.1.40"
# matching is case-insensitive and the question keeps the client's case
ask +noidnout "WeB.PrOd.SvC.cluster.LOCAL" A
assert_status NOERROR
assert_flag aa
check "mixed case: question echoed" "WeB.PrOd.SvC.cluster.LOCAL. IN A" \
	"$(section QUESTION | sed 's/^;//')"
check "mixed case: answer" "10.96.1.10" "$(rdata ANSWER A)"

# ---- headless services: ready endpoints only, slices merged
assert_answer "db.prod.svc.$Z" A "10.244.1.5 | 10.244.1.6 | 10.244.1.7"
assert_answer "v6.prod.svc.$Z" AAAA "fd00:244::5 | fd00:244::6"
# endpoints derived from the selected pods (no EndpointSlice in the files):
# running and ready pods of that namespace only
assert_answer "derived.staging.svc.$Z" A "10.244.2.11 | 10.244.2.12"

# ---- endpoint names: hostname, else the dashed address
assert_answer "db-0.db.prod.svc.$Z" A "10.244.1.5"
assert_answer "db-1.db.prod.svc.$Z" A "10.244.1.6"
assert_answer "10-244-1-7.db.prod.svc.$Z" A "10.244.1.7"
assert_answer "v6-a.v6.prod.svc.$Z" AAAA "fd00:244::5"
assert_answer "fd00-244--6.v6.prod.svc.$Z" AAAA "fd00:244::6"
assert_answer "alpha.derived.staging.svc.$Z" A "10.244.2.11"
assert_answer "10-244-2-12.derived.staging.svc.$Z" A "10.244.2.12"
assert_answer "10-245-0-200.big.prod.svc.$Z" A "10.245.0.200"
assert_answer "10-246-0-40.mid.prod.svc.$Z" A "10.246.0.40"

# ---- SRV: named ports; weight floor(100/n), at least 1
assert_answer "_http._tcp.web.prod.svc.$Z" SRV "0 100 80 web.prod.svc.$D"
check "_http._tcp.web.prod: additional A" "10.96.1.10" "$(rdata ADDITIONAL A)"
assert_answer "_https._tcp.web.prod.svc.$Z" SRV "0 100 443 web.prod.svc.$D"
assert_answer "_dns._udp.kube-dns.kube-system.svc.$Z" SRV \
	"0 100 53 kube-dns.kube-system.svc.$D"
assert_answer "_dns-tcp._tcp.kube-dns.kube-system.svc.$Z" SRV \
	"0 100 53 kube-dns.kube-system.svc.$D"
assert_answer "_grpc._tcp.api.prod.svc.$Z" SRV "0 100 9090 api.prod.svc.$D"
assert_answer "_postgres._tcp.db.prod.svc.$Z" SRV \
	"0 33 5432 10-244-1-7.db.prod.svc.$D | 0 33 5432 db-0.db.prod.svc.$D | 0 33 5432 db-1.db.prod.svc.$D"
check "_postgres._tcp.db.prod: additional A" \
	"10.244.1.5 | 10.244.1.6 | 10.244.1.7" "$(rdata ADDITIONAL A)"
assert_answer "_http._tcp.v6.prod.svc.$Z" SRV \
	"0 50 80 fd00-244--6.v6.prod.svc.$D | 0 50 80 v6-a.v6.prod.svc.$D"
check "_http._tcp.v6.prod: additional AAAA" "fd00:244::5 | fd00:244::6" \
	"$(rdata ADDITIONAL AAAA)"
# the named targetPort resolved through the pods' container ports
assert_answer "_http._tcp.derived.staging.svc.$Z" SRV \
	"0 50 8080 10-244-2-12.derived.staging.svc.$D | 0 50 8080 alpha.derived.staging.svc.$D"
# 200 targets: weight 1; over TCP so that it fits
assert_answer "_http._tcp.big.prod.svc.$Z" SRV \
	"$(for i in $(seq 1 200); do echo "0 1 80 10-245-0-$i.big.prod.svc.$D"; done |
		LC_ALL=C sort | awk 'NR > 1 { printf " | " } { printf "%s", $0 }')" +tcp
# SRV on the service name itself: every port
assert_answer "web.prod.svc.$Z" SRV "0 50 443 web.prod.svc.$D | 0 50 80 web.prod.svc.$D"
assert_answer "db.prod.svc.$Z" SRV \
	"0 33 5432 10-244-1-7.db.prod.svc.$D | 0 33 5432 db-0.db.prod.svc.$D | 0 33 5432 db-1.db.prod.svc.$D"

# ---- ExternalName
assert_answer "ext.prod.svc.$Z" CNAME "web.prod.svc.$D"
ask "ext.prod.svc.$Z" A
assert_status NOERROR
assert_flag aa
check "ext.prod A: CNAME chased in zone" "web.prod.svc.$D" "$(rdata ANSWER CNAME)"
check "ext.prod A: target's A" "10.96.1.10" "$(rdata ANSWER A)"
check "ext.prod A: CNAME first" "CNAME" "$(section ANSWER | awk 'NR == 1 { print $4 }')"
ask "extout.prod.svc.$Z" A
assert_status NOERROR
assert_flag aa
check "extout.prod A: CNAME only" "CNAME www.example.com." \
	"$(section ANSWER | awk '{ print $4, $5 }' | tr '\n' ' ' | sed 's/ $//')"

# ---- PTR: ClusterIPs (v4 and v6) and endpoint addresses
assert_answer "10.1.96.10.in-addr.arpa" PTR "web.prod.svc.$D"
assert_answer "10.0.96.10.in-addr.arpa" PTR "kube-dns.kube-system.svc.$D"
assert_answer "20.1.96.10.in-addr.arpa" PTR "api.prod.svc.$D"
assert_answer "0.2.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa" \
	PTR "api.prod.svc.$D"
assert_answer "0.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa" \
	PTR "web6.prod.svc.$D"
assert_answer "5.1.244.10.in-addr.arpa" PTR "db-0.db.prod.svc.$D"
assert_answer "7.1.244.10.in-addr.arpa" PTR "10-244-1-7.db.prod.svc.$D"
assert_answer "11.2.244.10.in-addr.arpa" PTR "alpha.derived.staging.svc.$D"
assert_answer "6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.4.2.0.0.0.d.f.ip6.arpa" \
	PTR "fd00-244--6.v6.prod.svc.$D"
assert_answer "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.4.2.0.0.0.d.f.ip6.arpa" \
	PTR "v6-a.v6.prod.svc.$D"

# ---- a ClusterIP service's endpoint names and PTRs (answered by lookup
# beside the zone, shop.yaml): hostname or dashed address, both families
assert_answer "cart-0.shop.prod.svc.$Z" A "10.247.0.5"
assert_answer "CART-0.Shop.prod.svc.$Z" A "10.247.0.5"
assert_answer "cart-0.shop.prod.svc.$Z" AAAA "fd00:247::5"
assert_answer "10-247-0-6.shop.prod.svc.$Z" A "10.247.0.6"
assert_answer "fd00-247--6.shop.prod.svc.$Z" AAAA "fd00:247::6"
assert_nodata "10-247-0-6.shop.prod.svc.$Z" AAAA
assert_nodata "cart-0.shop.prod.svc.$Z" TXT
# ANY: one RRset (RFC 8482), as for every name of the zone
ask "cart-0.shop.prod.svc.$Z" ANY
check "cart-0.shop ANY: one record" "1" "$(count ANSWER)"
check_match "cart-0.shop ANY: an address" '^(A 10\.247\.0\.5|AAAA fd00:247::5)$' \
	"$(section ANSWER | awk '{ print $4, $5 }')"
# not ready, unknown, named by its address while it has a hostname
assert_nxdomain "10-247-0-7.shop.prod.svc.$Z" A
assert_nxdomain "nosuch.shop.prod.svc.$Z" A
assert_nxdomain "10-247-0-5.shop.prod.svc.$Z" A
assert_nxdomain "x.cart-0.shop.prod.svc.$Z" A
assert_nxdomain "cart-0.nosuch.prod.svc.$Z" A
assert_answer "shop.prod.svc.$Z" A "10.96.1.50"
assert_answer "_http._tcp.shop.prod.svc.$Z" SRV "0 100 80 shop.prod.svc.$D"
assert_answer "5.0.247.10.in-addr.arpa" PTR "cart-0.shop.prod.svc.$D"
assert_answer "6.0.247.10.in-addr.arpa" PTR "10-247-0-6.shop.prod.svc.$D"
assert_answer "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.7.4.2.0.0.0.d.f.ip6.arpa" \
	PTR "cart-0.shop.prod.svc.$D"
assert_answer "6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.7.4.2.0.0.0.d.f.ip6.arpa" \
	PTR "fd00-247--6.shop.prod.svc.$D"
assert_nodata "5.0.247.10.in-addr.arpa" A in-addr.arpa
assert_nxdomain "7.0.247.10.in-addr.arpa" PTR in-addr.arpa
assert_nxdomain "05.0.247.10.in-addr.arpa" PTR in-addr.arpa
# the names above them exist (NODATA), as for stored names
assert_nodata "0.247.10.in-addr.arpa" PTR in-addr.arpa
assert_nodata "247.10.in-addr.arpa" PTR in-addr.arpa
assert_nodata "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.7.4.2.0.0.0.d.f.ip6.arpa" \
	PTR ip6.arpa
# an ExternalName pointing at such a name is chased to its address
ask "tocart.prod.svc.$Z" A
assert_status NOERROR
check "tocart.prod A: CNAME" "cart-0.shop.prod.svc.$D" "$(rdata ANSWER CNAME)"
check "tocart.prod A: the endpoint's A" "10.247.0.5" "$(rdata ANSWER A)"
check "tocart.prod A: no authority" 0 "$(count AUTHORITY)"
ask "tocart.prod.svc.$Z" TXT
assert_status NOERROR
check "tocart.prod TXT: CNAME only" "cart-0.shop.prod.svc.$D" \
	"$(rdata ANSWER CNAME)"
check "tocart.prod TXT: SOA in authority" 1 "$(count AUTHORITY)"

# ---- pods verified: only the IP of a pod running in that namespace
assert_answer "10-244-1-5.prod.pod.$Z" A "10.244.1.5"
assert_answer "10-244-2-11.staging.pod.$Z" A "10.244.2.11"
assert_answer "fd00-244--8.prod.pod.$Z" AAAA "fd00:244::8"
assert_nxdomain "10-244-2-11.prod.pod.$Z" A
assert_nxdomain "1-2-3-4.prod.pod.$Z" A

# ---- pods insecure: any address, no pod needed
start_server insecure < <(corefile "pods insecure")
assert_answer "1-2-3-4.prod.pod.$Z" A "1.2.3.4"
assert_answer "10-244-2-11.prod.pod.$Z" A "10.244.2.11"
assert_answer "fd00-1--2.staging.pod.$Z" AAAA "fd00:1::2"
assert_answer "web.prod.svc.$Z" A "10.96.1.10"

# ---- pods disabled: stated, and as the default
start_server disabled < <(corefile "pods disabled")
assert_nxdomain "10-244-1-5.prod.pod.$Z" A
assert_answer "web.prod.svc.$Z" A "10.96.1.10"
start_server podsdefault < <(corefile "pods none")
assert_nxdomain "10-244-1-5.prod.pod.$Z" A
assert_nxdomain "1-2-3-4.prod.pod.$Z" A

# ---- endpoint_pod_names: the pod name when the endpoint has no hostname
start_server podnames < <(corefile endpoint_pod_names)
assert_answer "db-replica-7.db.prod.svc.$Z" A "10.244.1.7"
assert_answer "db-0.db.prod.svc.$Z" A "10.244.1.5"
assert_answer "coredns-76f75df574-2xq8h.kube-dns.kube-system.svc.$Z" A "10.244.0.2"
assert_answer "derived-b.derived.staging.svc.$Z" A "10.244.2.12"
assert_answer "_postgres._tcp.db.prod.svc.$Z" SRV \
	"0 33 5432 db-0.db.prod.svc.$D | 0 33 5432 db-1.db.prod.svc.$D | 0 33 5432 db-replica-7.db.prod.svc.$D"
assert_answer "7.1.244.10.in-addr.arpa" PTR "db-replica-7.db.prod.svc.$D"
assert_nxdomain "10-244-1-7.db.prod.svc.$Z" A

# ---- another TTL
start_server ttl7 < <(corefile "ttl 7")
TTL=7 assert_answer "web.prod.svc.$Z" A "10.96.1.10"
TTL=7 assert_answer "db.prod.svc.$Z" A "10.244.1.5 | 10.244.1.6 | 10.244.1.7"
TTL=7 assert_answer "$Z" NS "ns.dns.$D"

finish
