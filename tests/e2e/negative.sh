#!/bin/bash
# shellcheck disable=SC2119
# negative.sh -- NXDOMAIN versus NODATA (both with the zone's SOA in
# authority), REFUSED outside the zones, and the kubernetes options that
# hide names: namespaces, ignore empty_service, noendpoints.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

Z=$ZONE
V6NET=0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.4.2.0.0.0.d.f.ip6.arpa

start_server main < <(corefile)

# ---- NODATA: the name exists, not the type
assert_nodata "web.prod.svc.$Z" AAAA
assert_nodata "web.prod.svc.$Z" TXT
assert_nodata "web.prod.svc.$Z" MX
assert_nodata "web6.prod.svc.$Z" A
assert_nodata "db.prod.svc.$Z" AAAA
assert_nodata "v6.prod.svc.$Z" A
assert_nodata "db-0.db.prod.svc.$Z" AAAA
assert_nodata "_http._tcp.web.prod.svc.$Z" A
assert_nodata "$Z" A
assert_nodata "$Z" TXT
assert_nodata "dns-version.$Z" A
assert_nodata "ns.dns.$Z" AAAA
# empty non-terminals
assert_nodata "svc.$Z" A
assert_nodata "pod.$Z" A
assert_nodata "prod.svc.$Z" A
assert_nodata "prod.svc.$Z" SRV
assert_nodata "empty.svc.$Z" A
assert_nodata "staging.svc.$Z" A
assert_nodata "kube-system.svc.$Z" A
assert_nodata "_tcp.web.prod.svc.$Z" SRV
assert_nodata "_udp.kube-dns.kube-system.svc.$Z" SRV
assert_nodata "dns.$Z" A
assert_nodata "96.10.in-addr.arpa" PTR in-addr.arpa
assert_nodata "1.96.10.in-addr.arpa" PTR in-addr.arpa
assert_nodata "10.in-addr.arpa" PTR in-addr.arpa
assert_nodata "10.1.96.10.in-addr.arpa" A in-addr.arpa
assert_nodata "$V6NET" PTR ip6.arpa
# a ClusterIP is not an endpoint name
assert_nodata "10.1.96.10.in-addr.arpa" TXT in-addr.arpa

# ---- NXDOMAIN
assert_nxdomain "nosuch.prod.svc.$Z" A
assert_nxdomain "nosuch.prod.svc.$Z" AAAA
assert_nxdomain "web.nosuchns.svc.$Z" A
assert_nxdomain "nosuchns.svc.$Z" A
assert_nxdomain "nosuch.$Z" A
assert_nxdomain "web.prod.nosuch.$Z" A
assert_nxdomain "a.b.web.prod.svc.$Z" A
assert_nxdomain "x.a.b.web.prod.svc.$Z" A
assert_nxdomain "db-9.db.prod.svc.$Z" A
assert_nxdomain "nosuch.web.prod.svc.$Z" A
# a not-ready endpoint has no name; a headless service without a ready
# endpoint does not exist
assert_nxdomain "db-2.db.prod.svc.$Z" A
assert_nxdomain "10-244-1-9.db.prod.svc.$Z" A
assert_nxdomain "lonely.prod.svc.$Z" A
assert_nxdomain "lonely.prod.svc.$Z" AAAA
assert_nxdomain "10-244-2-13.derived.staging.svc.$Z" A
# pod names are not endpoint names without endpoint_pod_names
assert_nxdomain "db-replica-7.db.prod.svc.$Z" A
# unknown port names and protocols
assert_nxdomain "_nosuch._tcp.web.prod.svc.$Z" SRV
assert_nxdomain "_http._udp.web.prod.svc.$Z" SRV
assert_nxdomain "_dns._tcp.kube-dns.kube-system.svc.$Z" SRV
assert_nxdomain "_postgres._tcp.nosuch.prod.svc.$Z" SRV
# reverse names nobody has
assert_nxdomain "99.99.96.10.in-addr.arpa" PTR in-addr.arpa
assert_nxdomain "9.1.244.10.in-addr.arpa" PTR in-addr.arpa
assert_nxdomain "1.1.1.1.in-addr.arpa" PTR in-addr.arpa
assert_nxdomain "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.4.2.0.0.0.d.f.ip6.arpa" \
	PTR ip6.arpa
# pods
assert_nxdomain "10-244-1-5.nosuchns.pod.$Z" A
assert_nxdomain "not-an-ip.prod.pod.$Z" A

# ---- case does not change the outcome
assert_nxdomain "NoSuch.PROD.svc.$Z" A
assert_nodata "WEB.prod.SVC.$Z" AAAA
ask +noidnout "NoSuch.PROD.svc.Cluster.Local" A
check "NXDOMAIN: question echoed in the client's case" \
	"NoSuch.PROD.svc.Cluster.Local. IN A" "$(section QUESTION | sed 's/^;//')"

# ---- REFUSED: outside every zone, or not class IN
for n in www.example.com. local. cluster. "$Z.example.com." arpa. .; do
	ask "$n" A
	assert_status REFUSED
	assert_noflag aa
	check "$QUERY: no answer" 0 "$(count ANSWER)"
done
ask -c CH "web.prod.svc.$Z" A
assert_status REFUSED
ask -c CH version.bind TXT
assert_status REFUSED
ask -c HS "web.prod.svc.$Z" A
assert_status REFUSED

# ---- negative TTL is min(ttl, 300); the SOA minimum is the ttl
start_server ttl600 < <(corefile "ttl 600")
TTL=600 assert_nxdomain "nosuch.prod.svc.$Z" A
TTL=600 assert_nodata "web.prod.svc.$Z" AAAA
TTL=600 assert_answer "web.prod.svc.$Z" A 10.96.1.10

# ---- namespaces: only the listed ones exist
start_server nsfilter < <(corefile "namespaces prod kube-system")
assert_answer "web.prod.svc.$Z" A 10.96.1.10
assert_answer "kube-dns.kube-system.svc.$Z" A 10.96.0.10
assert_nxdomain "web.staging.svc.$Z" A
assert_nxdomain "staging.svc.$Z" A
assert_nxdomain "empty.svc.$Z" A
assert_nxdomain "kubernetes.default.svc.$Z" A
assert_nxdomain "10.2.96.10.in-addr.arpa" PTR in-addr.arpa
assert_nxdomain "10-244-2-11.staging.pod.$Z" A
assert_answer "10-244-1-5.prod.pod.$Z" A 10.244.1.5

# ---- ignore empty_service: no ready endpoint -> NXDOMAIN, ClusterIP too
start_server ignore < <(corefile "ignore empty_service")
assert_nxdomain "idle.prod.svc.$Z" A
assert_nxdomain "web.staging.svc.$Z" A
assert_nxdomain "lonely.prod.svc.$Z" A
assert_answer "web.prod.svc.$Z" A 10.96.1.10
assert_answer "db.prod.svc.$Z" A "10.244.1.5 | 10.244.1.6 | 10.244.1.7"

# ---- fallthrough for other zones only: the cluster zone still denies
start_server fallthrough < <(corefile "fallthrough in-addr.arpa ip6.arpa")
assert_answer "web.prod.svc.$Z" A 10.96.1.10
assert_nxdomain "nosuch.prod.svc.$Z" A
assert_nodata "web.prod.svc.$Z" AAAA
assert_answer "10.1.96.10.in-addr.arpa" PTR "web.prod.svc.$Z."

# ---- noendpoints: no endpoint names, headless services answer NXDOMAIN
start_server noendpoints < <(corefile noendpoints)
assert_answer "web.prod.svc.$Z" A 10.96.1.10
assert_nxdomain "db.prod.svc.$Z" A
assert_nxdomain "db-0.db.prod.svc.$Z" A
assert_nxdomain "5.1.244.10.in-addr.arpa" PTR in-addr.arpa
assert_answer "10.1.96.10.in-addr.arpa" PTR "web.prod.svc.$Z."

finish
