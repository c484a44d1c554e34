#!/bin/bash
# shellcheck disable=SC2119
# zonedump.sh -- tools/zonedump prints the fixture's zones as master files:
# they parse, are sorted in canonical order, hold the expected records, and
# NSD serving the dump answers as clusterdns does.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

Z=$ZONE
ZONEDUMP=$top_builddir/tools/zonedump
[ -x "$ZONEDUMP" ] || {
	fail "tools/zonedump built" "an executable" "missing"
	finish
}

# Also the daemon on the same objects, to compare answers with NSD.
start_server main < <(corefile)
CONF=$SERVER_DIR/Corefile
D=$E2E_TMP/dump
mkdir -p "$D"

# ---- dumps
"$ZONEDUMP" -conf "$CONF" -zone "$Z" >"$D/$Z.zone" 2>"$D/err.$Z"
check "zonedump -zone $Z: exit status" 0 "$?"
"$ZONEDUMP" -conf "$CONF" -zone in-addr.arpa >"$D/in-addr.arpa.zone" \
	2>"$D/err.in-addr"
check "zonedump -zone in-addr.arpa: exit status" 0 "$?"
"$ZONEDUMP" -conf "$CONF" -zone ip6.arpa >"$D/ip6.arpa.zone" 2>"$D/err.ip6"
check "zonedump -zone ip6.arpa: exit status" 0 "$?"
"$ZONEDUMP" -conf "$CONF" >"$D/all.zone" 2>"$D/err.all"
check "zonedump (all zones): exit status" 0 "$?"
"$ZONEDUMP" -conf "$CONF" -zone example.org >/dev/null 2>&1
RC=$?
check_match "zonedump -zone example.org (not served): fails" '^[1-9]' "$RC"

# norm FILE: the records, one per line, absolute names, single spaces, via
# ldns-read-zone when present (it expands $ORIGIN, relative names, $TTL).
norm()
{
	if command -v ldns-read-zone >/dev/null 2>&1; then
		ldns-read-zone "$1" 2>/dev/null
	else
		grep -v '^[;$]' "$1"
	fi | awk '!/^;/ && NF { $1 = $1; print }'
}

# ---- they parse
for z in "$Z" in-addr.arpa ip6.arpa; do
	if command -v nsd-checkzone >/dev/null 2>&1; then
		OUT=$(nsd-checkzone "$z" "$D/$z.zone" 2>&1)
		check "nsd-checkzone $z: exit status" 0 "$?"
	fi
	if command -v ldns-read-zone >/dev/null 2>&1; then
		OUT=$(ldns-read-zone "$D/$z.zone" 2>&1 >/dev/null)
		check "ldns-read-zone $z: exit status" 0 "$?"
	fi
done
OUT=

# ---- sorted: owners in DNSSEC canonical order (RFC 4034 6.1), SOA first
if command -v ldns-read-zone >/dev/null 2>&1; then
	for z in "$Z" in-addr.arpa ip6.arpa; do
		owners()
		{
			awk '!/^;/ && NF { print tolower($1) }' | uniq
		}
		got=$(ldns-read-zone "$D/$z.zone" 2>/dev/null | owners | md5sum)
		want=$(ldns-read-zone -z "$D/$z.zone" 2>/dev/null | owners | md5sum)
		check "$z dump: owners in canonical order" "$want" "$got"
		check "$z dump: SOA first" "SOA" \
			"$(norm "$D/$z.zone" | awk 'NR == 1 { print $4 }')"
	done
	check "$Z dump: one SOA" 1 "$(norm "$D/$Z.zone" | awk '$4 == "SOA"' | wc -l)"
fi

# ---- expected records
N=$(norm "$D/$Z.zone")
has()
{
	if printf '%s\n' "$N" | grep -Fxq -- "$1"; then
		ok "$Z dump has: $1"
	else
		fail "$Z dump has: $1" "that record" "not in the dump"
	fi
}
hasnt()
{
	if printf '%s\n' "$N" | grep -Eq -- "$1"; then
		fail "$Z dump lacks /$1/" "no such record" \
			"$(printf '%s\n' "$N" | grep -E -- "$1" | head -n 3)"
	else
		ok "$Z dump lacks /$1/"
	fi
}
check_match "$Z dump: SOA" \
	"^$Z\. 30 IN SOA ns\.dns\.$Z\. hostmaster\.$Z\. [0-9]+ 7200 1800 86400 30\$" \
	"$(printf '%s\n' "$N" | awk '$4 == "SOA"')"
has "$Z. 30 IN NS ns.dns.$Z."
has "ns.dns.$Z. 30 IN A 10.96.0.10"
has "dns-version.$Z. 30 IN TXT \"1.1.0\""
has "web.prod.svc.$Z. 30 IN A 10.96.1.10"
has "api.prod.svc.$Z. 30 IN A 10.96.1.20"
has "api.prod.svc.$Z. 30 IN AAAA fd00:10:96::1:20"
has "db.prod.svc.$Z. 30 IN A 10.244.1.7"
has "db-0.db.prod.svc.$Z. 30 IN A 10.244.1.5"
has "10-244-1-7.db.prod.svc.$Z. 30 IN A 10.244.1.7"
has "fd00-244--6.v6.prod.svc.$Z. 30 IN AAAA fd00:244::6"
has "alpha.derived.staging.svc.$Z. 30 IN A 10.244.2.11"
has "_http._tcp.web.prod.svc.$Z. 30 IN SRV 0 100 80 web.prod.svc.$Z."
has "_postgres._tcp.db.prod.svc.$Z. 30 IN SRV 0 33 5432 db-0.db.prod.svc.$Z."
has "ext.prod.svc.$Z. 30 IN CNAME web.prod.svc.$Z."
has "extout.prod.svc.$Z. 30 IN CNAME www.example.com."
# endpoint names answered beside the zone are dumped too
has "cart-0.shop.prod.svc.$Z. 30 IN A 10.247.0.5"
has "cart-0.shop.prod.svc.$Z. 30 IN AAAA fd00:247::5"
has "10-247-0-6.shop.prod.svc.$Z. 30 IN A 10.247.0.6"
check "$Z dump: 200 A for big.prod" 200 \
	"$(printf '%s\n' "$N" | grep -c "^big\.prod\.svc\.$Z\. 30 IN A ")"
hasnt "\.svc\.$Z\. [0-9]+ IN A 10\.244\.1\.9\$"
hasnt "^db-2\."
hasnt "^lonely\.prod\."
hasnt "\.svc\.$Z\. [0-9]+ IN A 10\.244\.2\.13\$"
hasnt "^[^ ]*[A-Z]"

N=$(norm "$D/in-addr.arpa.zone")
Z=in-addr.arpa has "10.1.96.10.in-addr.arpa. 30 IN PTR web.prod.svc.cluster.local."
Z=in-addr.arpa has "5.1.244.10.in-addr.arpa. 30 IN PTR db-0.db.prod.svc.cluster.local."
Z=in-addr.arpa has "5.0.247.10.in-addr.arpa. 30 IN PTR cart-0.shop.prod.svc.cluster.local."
Z=in-addr.arpa has "6.0.247.10.in-addr.arpa. 30 IN PTR 10-247-0-6.shop.prod.svc.cluster.local."
N=$(norm "$D/ip6.arpa.zone")
Z=ip6.arpa has "0.2.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa. 30 IN PTR api.prod.svc.cluster.local."
N=$(norm "$D/all.zone")
Z=all has "web.prod.svc.cluster.local. 30 IN A 10.96.1.10"
Z=all has "10.1.96.10.in-addr.arpa. 30 IN PTR web.prod.svc.cluster.local."

# ---- NSD serving the dump answers like clusterdns
if ! command -v nsd >/dev/null 2>&1; then
	echo "# nsd not found: answers not compared"
	finish
fi
CDNS_PORT=$PORT
NSD_PORT=$(free_port)
ND=$E2E_TMP/nsd
mkdir -p "$ND"
cp "$D/$Z.zone" "$ND/"
cat >"$ND/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1
    port: $NSD_PORT
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$ND"
    database: ""
    zonelistfile: "$ND/zone.list"
    xfrdfile: "$ND/xfrd.state"
    pidfile: "$ND/nsd.pid"
    logfile: "$ND/nsd.log"
    verbosity: 1
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: $Z
    zonefile: $Z.zone
EOF
nsd -d -c "$ND/nsd.conf" >"$ND/out.log" 2>&1 &
NSD_PID=$!
E2E_PIDS+=("$NSD_PID")
if ! wait_answering "$NSD_PORT" "$NSD_PID"; then
	OUT=$(cat "$ND/out.log" "$ND/nsd.log" 2>/dev/null)
	fail "nsd loads the dump" "nsd answering" "nsd did not start"
	finish
fi
ok "nsd loads the dump"

# same NAME TYPE: clusterdns and NSD give the same rcode and answer
# (TTL and rdata, sorted).
same()
{
	local a b
	PORT=$CDNS_PORT ask +tcp "$1" "$2"
	a="$STATUS $(section ANSWER | awk '{ $1 = tolower($1); print }' |
		LC_ALL=C sort | tr '\n' ';')"
	PORT=$NSD_PORT ask +tcp "$1" "$2"
	b="$STATUS $(section ANSWER | awk '{ $1 = tolower($1); print }' |
		LC_ALL=C sort | tr '\n' ';')"
	OUT=
	check "$1 $2: clusterdns answers as nsd" "$b" "$a"
}
for n in web.prod api.prod db.prod big.prod kube-dns.kube-system \
	kubernetes.default web.staging derived.staging idle.prod \
	db-0.db.prod 10-244-1-7.db.prod alpha.derived.staging \
	10-245-0-17.big.prod ext.prod extout.prod nosuch.prod lonely.prod \
	db-2.db.prod web.nosuch cart-0.shop.prod 10-247-0-6.shop.prod \
	10-247-0-7.shop.prod tocart.prod; do
	same "$n.svc.$Z" A
done
for n in api.prod web6.prod v6.prod web.prod v6-a.v6.prod cart-0.shop.prod; do
	same "$n.svc.$Z" AAAA
done
for n in _http._tcp.web.prod _postgres._tcp.db.prod _http._tcp.big.prod \
	_dns._udp.kube-dns.kube-system _http._tcp.derived.staging web.prod \
	db.prod; do
	same "$n.svc.$Z" SRV
done
same "$Z" NS
same "ns.dns.$Z" A
same "dns-version.$Z" TXT
same "prod.svc.$Z" A
same "_tcp.web.prod.svc.$Z" SRV
same "ext.prod.svc.$Z" CNAME

finish
