#!/bin/bash
# autopath.sh -- `autopath @kubernetes`: a pod's first search-path query
# answered under the first name of the server's search path that exists.
# The pods of tests/fixtures/autopath have loopback addresses, so dig -b
# asks as one of them; NSD serves the root zone as the upstream.  Then the
# glibc stub resolver of a network namespace whose resolv.conf is a pod's
# (ndots:5) resolves example.com, and the queries that reach the server
# are counted with and without autopath.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

need nsd unshare curl
[ "$(id -u)" = 0 ] || skip "needs root (a mount namespace for the server's resolv.conf)"
Z=$ZONE
REAL_CLUSTERDNS=$CLUSTERDNS

OUT=$("$CLUSTERDNS" -plugins 2>&1)
check_match "-plugins lists autopath" '(^|[^a-z_])autopath([^a-z_]|$)' "$OUT"
printf '.:53 {\n    autopath my-resolv.conf\n}\n' >"$E2E_TMP/bad.Corefile"
OUT=$(timeout 10 "$CLUSTERDNS" -conf "$E2E_TMP/bad.Corefile" 2>&1)
RC=$?
check "a resolv.conf file: exit status" 1 "$RC"
check_match "a resolv.conf file: the message" \
	'bad.Corefile:2 - Error during setup: autopath: a resolv.conf file is not supported' \
	"$OUT"
OUT=

# The objects, copied: the test changes the pods.
OBJ=$E2E_TMP/objects
mkdir -p "$OBJ"
cp "$top_srcdir/tests/fixtures/autopath/cluster.yaml" \
	"$top_srcdir/tests/fixtures/autopath/pods.json" "$OBJ/"

# The server's own resolv.conf (its search domains come after the
# cluster's), shown to the daemon in a mount namespace of its own.
printf 'nameserver 127.0.0.1\nsearch corp.test\n' >"$E2E_TMP/server-resolv.conf"
cat >"$E2E_TMP/clusterdns" <<EOF
#!/bin/sh
exec unshare -m sh -c 'mount --bind "\$0" /etc/resolv.conf && exec "\$@"' \
	"$E2E_TMP/server-resolv.conf" "$REAL_CLUSTERDNS" "\$@"
EOF
chmod +x "$E2E_TMP/clusterdns"
unshare -m true 2>/dev/null || skip "unshare -m does not work here"
CLUSTERDNS=$E2E_TMP/clusterdns

# root_zone DIR: the upstream's zone, the root, in DIR/..zone.
root_zone()
{
	mkdir -p "$1"
	cat >"$1/..zone" <<EOF
\$ORIGIN .
\$TTL 300
@ IN SOA ns.test. admin.test. 1 3600 600 86400 60
@ IN NS ns.test.
ns.test. IN A 127.0.0.1
example.com. IN A 192.0.2.80
example.com. IN AAAA 2001:db8::80
www.example.com. IN A 192.0.2.81
host1.corp.test. IN A 192.0.2.41
EOF
}

# ap_corefile PORT UPSTREAM [autopath]: the block of the test.
ap_corefile()
{
	echo ".:$1 {"
	echo "    bind 127.0.0.1"
	echo "    log"
	[ -z "${MPORT:-}" ] || echo "    prometheus 127.0.0.1:$MPORT"
	[ -z "${3:-}" ] || echo "    autopath @kubernetes"
	[ -z "${CACHE:-}" ] || echo "    cache 30"
	echo "    kubernetes $Z {"
	echo "        objects $OBJ"
	echo "        pods verified"
	echo "        ttl 30"
	echo "    }"
	echo "    forward . $2"
	echo "}"
}

# from ADDR NAME [TYPE]: ask as the client ADDR.
from()
{
	local a=$1
	shift
	ask -b "$a" "$@"
}

# ------------------------------------------------- dig as a pod

root_zone "$E2E_TMP/nsd"
nsd_start "$E2E_TMP/nsd" .
MPORT=$(free_port)
start_server ap < <(ap_corefile @PORT@ "127.0.0.1:$NSD_PORT" autopath)

POD=127.0.0.21 # client-a, namespace prod

from $POD api.shop.prod.svc.$Z A
assert_status NOERROR
check "pod: CNAME to the name found" "api.shop.svc.$Z." "$(rdata ANSWER CNAME)"
check "pod: its address" "10.96.5.20" "$(rdata ANSWER A)"
check "pod: CNAME first, owner the asked name" \
	"api.shop.prod.svc.$Z. 30 IN CNAME api.shop.svc.$Z." \
	"$(section ANSWER | head -n 1)"
check "pod: question as asked" "api.shop.prod.svc.$Z. IN A" \
	"$(section QUESTION | sed 's/^;//')"

from $POD api.shop.prod.svc.$Z AAAA
assert_status NOERROR
check "pod AAAA: CNAME" "api.shop.svc.$Z." "$(rdata ANSWER CNAME)"
check "pod AAAA: no address, SOA" "0 1" \
	"$(count ANSWER AAAA) $(count AUTHORITY SOA)"

# A and AAAA at the same time, as glibc asks them
dig +norec +time=3 +tries=1 -p "$PORT" @127.0.0.1 -b $POD \
	"web.prod.prod.svc.$Z" A >"$E2E_TMP/par-a" 2>&1 &
pa=$!
dig +norec +time=3 +tries=1 -p "$PORT" @127.0.0.1 -b $POD \
	"web.prod.prod.svc.$Z" AAAA >"$E2E_TMP/par-aaaa" 2>&1 &
pb=$!
wait "$pa" "$pb"
OUT=$(cat "$E2E_TMP/par-a")
check "parallel A: CNAME and address" "web.prod.svc.$Z. | 10.96.5.10" \
	"$(rdata ANSWER CNAME) | $(rdata ANSWER A)"
OUT=$(cat "$E2E_TMP/par-aaaa")
check "parallel AAAA: CNAME" "web.prod.svc.$Z." "$(rdata ANSWER CNAME)"

from $POD www.example.com.prod.svc.$Z A
assert_status NOERROR
check "upstream name: CNAME and its address" "www.example.com. | 192.0.2.81" \
	"$(rdata ANSWER CNAME) | $(rdata ANSWER A)"

from $POD host1.prod.svc.$Z A
check "server's search domain: CNAME and address" \
	"host1.corp.test. | 192.0.2.41" \
	"$(rdata ANSWER CNAME) | $(rdata ANSWER A)"

from $POD out.shop.prod.svc.$Z A
check "ExternalName found: the chain and the address" \
	"out.shop.svc.$Z. | www.example.com. | 192.0.2.81" \
	"$(section ANSWER | awk '$4 == "CNAME" { print $5 }' | paste -sd'|' |
		sed 's/|/ | /g') | $(rdata ANSWER A)"

from $POD nosuch.prod.svc.$Z A
assert_status NXDOMAIN
check "nothing exists: no CNAME, SOA of the zone" "0 $Z." \
	"$(count ANSWER) $(section AUTHORITY | awk '{ print $1 }')"

from 127.0.0.30 api.shop.prod.svc.$Z A
assert_status NXDOMAIN
from 127.0.0.22 api.shop.prod.svc.$Z A
assert_status NXDOMAIN
from $POD api.shop.svc.$Z A
check "not the first search name: no CNAME" "0 10.96.5.20" \
	"$(count ANSWER CNAME) $(rdata ANSWER A)"
from $POD web.prod.svc.$Z A
check "the asked name exists: its answer" "0 10.96.5.10" \
	"$(count ANSWER CNAME) $(rdata ANSWER A)"

from $POD +tcp www.example.com.prod.svc.$Z A
check "over TCP: CNAME and address" "www.example.com. | 192.0.2.81" \
	"$(rdata ANSWER CNAME) | $(rdata ANSWER A)"
METRICS=$(curl -s "http://127.0.0.1:$MPORT/metrics")
printf '%s\n' "$METRICS" >"$E2E_TMP/metrics.txt"
check "coredns_autopath_success_total counts the CNAME answers" \
	"coredns_autopath_success_total{server=\"dns://127.0.0.1:$PORT\"} 8" \
	"$(printf '%s\n' "$METRICS" | grep '^coredns_autopath_success_total')"
check_match "coredns_plugin_enabled names autopath" \
	'coredns_plugin_enabled\{[^}]*name="autopath"\} 1' "$METRICS"
check_match "responses written by autopath" \
	'coredns_dns_responses_total\{[^}]*rcode="NOERROR",plugin="autopath"\} 8' \
	"$METRICS"

# A reused pod address: client-a is deleted and its address goes to a pod
# of shop; then that pod finishes.
sed -e 's/"client-a"/"client-c"/' -e 's/"ap-client-a"/"ap-client-c"/' \
	-e '0,/"namespace": "prod"/s//"namespace": "shop"/' \
	"$OBJ/pods.json" >"$E2E_TMP/pods.json"
mv "$E2E_TMP/pods.json" "$OBJ/pods.json"
for i in $(seq 1 50); do
	from $POD web.prod.shop.svc.$Z A
	[ "$STATUS" = NOERROR ] && break
	sleep 0.2
done
check "reused address: the new pod's namespace" "web.prod.svc.$Z." \
	"$(rdata ANSWER CNAME)"
from $POD api.shop.prod.svc.$Z A
assert_status NXDOMAIN
sed -e '0,/"phase": "Running"/s//"phase": "Succeeded"/' \
	"$OBJ/pods.json" >"$E2E_TMP/pods.json"
mv "$E2E_TMP/pods.json" "$OBJ/pods.json"
for i in $(seq 1 50); do
	from $POD web.prod.shop.svc.$Z A
	[ "$STATUS" = NXDOMAIN ] && break
	sleep 0.2
done
assert_status NXDOMAIN
cp "$top_srcdir/tests/fixtures/autopath/pods.json" "$E2E_TMP/pods.json"
mv "$E2E_TMP/pods.json" "$OBJ/pods.json"
for i in $(seq 1 50); do
	from $POD api.shop.prod.svc.$Z A
	[ "$STATUS" = NOERROR ] && break
	sleep 0.2
done
check "the pod back: autopath again" "api.shop.svc.$Z." "$(rdata ANSWER CNAME)"
stop_server "$SERVER_PID"
MPORT=

# With a cache in front: the candidates' answers are kept, the composed
# answer is not, so a client that is no pod never gets it.
CACHE=1 start_server cached < <(CACHE=1 ap_corefile @PORT@ \
	"127.0.0.1:$NSD_PORT" autopath)
for i in 1 2; do
	from $POD www.example.com.prod.svc.$Z A
	check "cached, pod, try $i: CNAME and address" \
		"www.example.com. | 192.0.2.81" \
		"$(rdata ANSWER CNAME) | $(rdata ANSWER A)"
	from $POD api.shop.prod.svc.$Z A
	check "cached, pod, try $i: svc.<zone>" "api.shop.svc.$Z. | 10.96.5.20" \
		"$(rdata ANSWER CNAME) | $(rdata ANSWER A)"
	from 127.0.0.30 www.example.com.prod.svc.$Z A
	assert_status NXDOMAIN
	from 127.0.0.22 api.shop.prod.svc.$Z A
	assert_status NXDOMAIN
done
stop_server "$SERVER_PID"

# ------------------------------------------------- glibc from a netns

NETNS=cdns-ap-$$
NETNS_ETC_MADE=
[ -d /etc/netns ] || NETNS_ETC_MADE=1
# shellcheck disable=SC2317 # the EXIT trap calls it
netns_cleanup()
{
	e2e_cleanup
	ip netns del "$NETNS" 2>/dev/null
	rm -rf "/etc/netns/$NETNS"
	[ -z "$NETNS_ETC_MADE" ] || rmdir /etc/netns 2>/dev/null
}

# glibc_count [autopath]: a daemon on 127.0.0.1:53 of the namespace (no
# autopath, or autopath), getent ahosts example.com there; sets GOT (its
# addresses) and QUERIES (the queries for it that reached the daemon).
glibc_count()
{
	local d=$E2E_TMP/netns-${1:-plain} pid i
	mkdir -p "$d"
	ap_corefile 53 127.0.0.1:5300 "${1:-}" >"$d/Corefile"
	nsenter --net="/run/netns/$NETNS" "$CLUSTERDNS" -conf "$d/Corefile" \
		>"$d/out.log" 2>&1 &
	pid=$!
	E2E_PIDS+=("$pid")
	for i in $(seq 1 100); do
		ip netns exec "$NETNS" dig +time=1 +tries=1 -p 53 @127.0.0.1 \
			"dns-version.$Z" TXT 2>/dev/null | grep -q 'status: ' && break
		sleep 0.1
	done
	GOT=$(ip netns exec "$NETNS" getent ahosts example.com |
		awk '{ print $1 }' | LC_ALL=C sort -u | paste -sd' ')
	sleep 0.3
	QUERIES=$(grep -c '[" ]example\.com\.' "$d/out.log")
	stop_server "$pid"
}

if ! command -v getent >/dev/null || ! command -v nsenter >/dev/null ||
	! ip netns add "$NETNS" 2>/dev/null; then
	echo "# SKIP glibc part: no network namespace (ip netns add) here"
else
	trap netns_cleanup EXIT
	ip -n "$NETNS" link set lo up
	mkdir -p "/etc/netns/$NETNS"
	printf '%s\n' "nameserver 127.0.0.1" \
		"search prod.svc.$Z svc.$Z $Z" \
		"options ndots:5 timeout:2 attempts:1" \
		>"/etc/netns/$NETNS/resolv.conf"
	root_zone "$E2E_TMP/nsd2"
	nsd_conf "$E2E_TMP/nsd2" 127.0.0.1@5300 . >"$E2E_TMP/nsd2/nsd.conf"
	ip netns exec "$NETNS" nsd -d -c "$E2E_TMP/nsd2/nsd.conf" \
		>"$E2E_TMP/nsd2/out.log" 2>&1 &
	E2E_PIDS+=("$!")
	sleep 0.5

	glibc_count
	without=$QUERIES
	check "glibc without autopath: resolved" "192.0.2.80 2001:db8::80" "$GOT"
	glibc_count autopath
	with=$QUERIES
	check "glibc with autopath: resolved" "192.0.2.80 2001:db8::80" "$GOT"
	echo "# queries for example.com reaching the server:" \
		"without autopath $without, with autopath $with"
	if [ "$with" -gt 0 ] && [ "$without" -gt "$with" ]; then
		ok "glibc: fewer queries with autopath ($with < $without)"
	else
		fail "glibc: fewer queries with autopath" \
			"0 < with < without" "with $with, without $without"
	fi
fi

finish
