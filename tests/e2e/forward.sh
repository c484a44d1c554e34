#!/bin/bash
# forward.sh -- the forward, loop and loadbalance plugins against real
# upstreams on loopback: NSD serving example.test (and a reverse zone), and
# tests/fakeup, an upstream that never answers or that forges answers.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

need nsd
FAKEUP=$top_builddir/tests/fakeup
[ -x "$FAKEUP" ] || {
	echo "FAIL: $E2E_NAME: $FAKEUP not built"
	exit 1
}
Z=$ZONE

# ---------------------------------------------------------------- upstreams

# start_nsd: NSD on a free loopback port with example.test and
# 2.0.192.in-addr.arpa; sets NSD_PORT.
start_nsd()
{
	local d=$E2E_TMP/nsd i
	mkdir -p "$d"
	{
		echo "\$ORIGIN example.test."
		echo "\$TTL 300"
		echo "@ IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 60"
		echo "@ IN NS ns"
		echo "ns IN A 127.0.0.1"
		echo "www IN A 192.0.2.10"
		echo "www2 IN A 192.0.2.11"
		echo "two IN A 192.0.2.21"
		echo "two IN A 192.0.2.22"
		echo "a IN CNAME b"
		echo "b IN CNAME c"
		echo "c IN A 192.0.2.30"
		for i in $(seq 1 11); do echo "l$i IN CNAME l$((i + 1))"; done
		echo "l12 IN A 192.0.2.12"
		for i in $(seq 1 100); do echo "big IN A 10.1.0.$i"; done
		for i in $(seq 1 8); do echo "lb IN A 10.2.0.$i"; done
	} >"$d/example.test.zone"
	{
		echo "\$ORIGIN 2.0.192.in-addr.arpa."
		echo "\$TTL 300"
		echo "@ IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 60"
		echo "@ IN NS ns.example.test."
		echo "10 IN PTR www.example.test."
	} >"$d/2.0.192.in-addr.arpa.zone"
	nsd_start "$d" example.test 2.0.192.in-addr.arpa
}

# start_fakeup NAME MODE: tests/fakeup on a free port; sets FAKE_PORT,
# its query log is $E2E_TMP/NAME.log.
start_fakeup()
{
	FAKE_PORT=$(free_port)
	: >"$E2E_TMP/$1.log"
	"$FAKEUP" -p "$FAKE_PORT" -m "$2" -l "$E2E_TMP/$1.log" \
		>"$E2E_TMP/$1.out" 2>&1 &
	E2E_PIDS+=("$!")
	sleep 0.2
}

# check_down WHAT PORT: wait (at most 10 s) until the daemon logs that
# upstream 127.0.0.1:PORT is down, then assert it.
check_down()
{
	local i
	for i in $(seq 1 100); do
		grep -q "upstream 127.0.0.1:$2 is down" "$SERVER_DIR/out.log" &&
			break
		sleep 0.1
	done
	check_match "$1" "upstream 127.0.0.1:$2 is down" \
		"$(cat "$SERVER_DIR/out.log")"
}

# fwd_corefile "FORWARD LINE" [OPTION LINE...]: the test Corefile with the
# extra ExternalName services, fallthrough for reverse zones and a forward
# directive.
fwd_corefile()
{
	local fwd=$1 l
	shift
	echo ".:@PORT@ {"
	echo "    bind 127.0.0.1"
	echo "    errors"
	echo "    kubernetes $Z in-addr.arpa ip6.arpa {"
	echo "        objects $OBJ"
	echo "        ttl 30"
	echo "        fallthrough in-addr.arpa ip6.arpa"
	echo "    }"
	echo "    forward $fwd {"
	for l in "$@"; do echo "        $l"; done
	echo "    }"
	echo "}"
}

OBJ=$E2E_TMP/objects
mkdir -p "$OBJ"
cp -r "$FIXTURE"/. "$OBJ"/
# ExternalName services (name, target) whose targets NSD answers, or not
for s in "fwww www.example.test" "fchain a.example.test" \
	"flong l1.example.test" "fnone nosuch.example.test" \
	"fother www.example.org" "flb lb.example.test"; do
	printf 'apiVersion: v1\nkind: Service\n'
	printf 'metadata: {name: %s, namespace: prod}\n' "${s%% *}"
	printf 'spec: {type: ExternalName, externalName: %s}\n---\n' "${s#* }"
done >"$OBJ/external.yaml"

start_nsd

# ---------------------------------------------------------------- forwarding

start_server main < <(fwd_corefile ". 127.0.0.1:$NSD_PORT")

ask +rec www.example.test A
assert_status NOERROR
check "www.example.test: forwarded answer" "192.0.2.10" "$(rdata ANSWER A)"
assert_flag rd
ask www.example.test A
assert_noflag rd
ask WwW.ExAmPlE.tEsT A
check "question echoed in the client's case" \
	"WwW.ExAmPlE.tEsT. IN A" "$(section QUESTION | sed 's/^;//')"
check "answer for the mixed-case name" "192.0.2.10" "$(rdata ANSWER A)"

ask nosuch.example.test A
assert_status NXDOMAIN
check_match "NXDOMAIN: the upstream's SOA passed on" \
	"^example\.test\. [0-9]+ IN SOA ns\.example\.test\." \
	"$(section AUTHORITY)"
ask www.example.test AAAA
assert_status NOERROR
check "NODATA passed on" 0 "$(count ANSWER)"

ask a.example.test A
assert_status NOERROR
check "CNAME chain: CNAMEs" "b.example.test. | c.example.test." \
	"$(rdata ANSWER CNAME)"
check "CNAME chain: the address" "192.0.2.30" "$(rdata ANSWER A)"

# 100 records: TC over UDP, everything over TCP
ask +ignore big.example.test A
assert_flag tc
ask +tcp big.example.test A
assert_status NOERROR
check "100-record answer over TCP" 100 "$(count ANSWER A)"
assert_noflag tc
ask +ignore +noedns www.example.test A
check "small answer without EDNS fits" "192.0.2.10" "$(rdata ANSWER A)"

# cluster names are still the cluster's
assert_answer "web.prod.svc.$Z" A "10.96.1.10"
ask nosuch.prod.svc.$Z A
assert_status NXDOMAIN

# ExternalName targets outside the cluster are resolved upstream
ask "fwww.prod.svc.$Z" A
assert_status NOERROR
assert_flag aa
check "ExternalName: the CNAME" "www.example.test." "$(rdata ANSWER CNAME)"
check "ExternalName: the target's address" "192.0.2.10" "$(rdata ANSWER A)"
ask "fchain.prod.svc.$Z" A
check "ExternalName to a chain: CNAMEs" \
	"a.example.test. | b.example.test. | c.example.test." \
	"$(rdata ANSWER CNAME)"
check "ExternalName to a chain: the address" "192.0.2.30" "$(rdata ANSWER A)"
ask +tcp "fchain.prod.svc.$Z" A
check "ExternalName over TCP" "192.0.2.30" "$(rdata ANSWER A)"
ask "fwww.prod.svc.$Z" CNAME
check "ExternalName CNAME query: the CNAME only" "www.example.test." \
	"$(rdata ANSWER CNAME)"
check "ExternalName CNAME query: no address" 0 "$(count ANSWER A)"
ask "flong.prod.svc.$Z" A
assert_status SERVFAIL
check "a chain of more than 10 CNAMEs is not followed" 0 "$(count ANSWER)"
ask "fother.prod.svc.$Z" A
assert_status SERVFAIL
ask "fnone.prod.svc.$Z" A
assert_status NXDOMAIN
check "ExternalName to a missing name: the CNAME" "nosuch.example.test." \
	"$(rdata ANSWER CNAME)"

# reverse lookups outside the cluster fall through to forward
ask -x 192.0.2.10
assert_status NOERROR
check "reverse lookup falls through" "www.example.test." "$(rdata ANSWER PTR)"
ask -x 10.96.1.10
assert_status NOERROR
assert_flag aa
check "a ClusterIP's reverse name stays the cluster's" \
	"web.prod.svc.$Z." "$(rdata ANSWER PTR)"
stop_server "$SERVER_PID"

# ---------------------------------------------------------------- except, FROM

start_server except < <(fwd_corefile "example.test 127.0.0.1:$NSD_PORT" \
	"except www2.example.test")
ask www.example.test A
check "forward FROM: a name under it" "192.0.2.10" "$(rdata ANSWER A)"
ask www2.example.test A
assert_status SERVFAIL
ask www.example.org A
assert_status SERVFAIL
ask "fwww.prod.svc.$Z" A
check "ExternalName target under FROM: resolved" "192.0.2.10" \
	"$(rdata ANSWER A)"
ask "fother.prod.svc.$Z" A
assert_status NOERROR
check "ExternalName target outside FROM: the CNAME alone" \
	"www.example.org." "$(rdata ANSWER CNAME)"
check "ExternalName target outside FROM: no address" 0 "$(count ANSWER A)"
stop_server "$SERVER_PID"

# ---------------------------------------------------------------- prefer_udp

start_server preferudp < <(fwd_corefile ". 127.0.0.1:$NSD_PORT" prefer_udp)
ask +tcp big.example.test A
check "prefer_udp: a truncated UDP answer is asked again over TCP" 100 \
	"$(count ANSWER A)"
stop_server "$SERVER_PID"

start_server forcetcp < <(fwd_corefile ". 127.0.0.1:$NSD_PORT" force_tcp)
ask a.example.test A
check "force_tcp" "192.0.2.30" "$(rdata ANSWER A)"
stop_server "$SERVER_PID"

# ---------------------------------------------------------------- spoofing

start_fakeup spoof spoof
start_server spoof < <(fwd_corefile ". 127.0.0.1:$FAKE_PORT")
for i in 1 2 3; do
	ask "s$i.example.test" A
	check "spoofed answers ignored ($i)" "192.0.2.99" "$(rdata ANSWER A)"
done
stop_server "$SERVER_PID"

# ---------------------------------------------------------------- garbage

start_fakeup garbage garbage
start_server garbage < <(fwd_corefile ". 127.0.0.1:$FAKE_PORT")
ask +time=10 g1.example.test A
assert_status SERVFAIL
check "a malformed upstream answer is not relayed" 0 "$(count ANSWER)"
check_match "the malformed answers were sent" "^g1\.example\.test\. 1$" \
	"$(cat "$E2E_TMP/garbage.log")"
assert_answer "web.prod.svc.$Z" A "10.96.1.10"
stop_server "$SERVER_PID"

# ---------------------------------------------------------------- dead upstreams

start_fakeup dead drop
DEAD=$FAKE_PORT
CLOSED=$(free_port)
start_server dead < <(fwd_corefile ". 127.0.0.1:$DEAD 127.0.0.1:$CLOSED")
OUT2=$E2E_TMP/dead-query.out
dig +norec +time=15 +tries=1 -p "$PORT" @127.0.0.1 www.example.test A \
	>"$OUT2" 2>&1 &
bg=$!
assert_answer "web.prod.svc.$Z" A "10.96.1.10"
wait "$bg"
OUT=$(cat "$OUT2")
STATUS=$(printf '%s\n' "$OUT" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')
check "every upstream dead: SERVFAIL" SERVFAIL "$STATUS"
check_match "the dead upstream was asked" "^www\.example\.test\. 1$" \
	"$(cat "$E2E_TMP/dead.log")"
check_match "errors logs the failure" \
	"plugin/errors: 2 www\.example\.test\. A: plugin/forward: no healthy proxies" \
	"$(cat "$SERVER_DIR/out.log")"
stop_server "$SERVER_PID"

# ---------------------------------------------------------------- max_concurrent

start_fakeup slow drop
start_server maxconc < <(fwd_corefile ". 127.0.0.1:$FAKE_PORT" \
	"max_concurrent 2")
dig +norec +time=15 +tries=1 -p "$PORT" @127.0.0.1 m1.example.test A \
	>"$E2E_TMP/m1.out" 2>&1 &
b1=$!
dig +norec +time=15 +tries=1 -p "$PORT" @127.0.0.1 m2.example.test A \
	>"$E2E_TMP/m2.out" 2>&1 &
b2=$!
for i in $(seq 1 50); do
	[ "$(wc -l <"$E2E_TMP/slow.log")" -ge 2 ] && break
	sleep 0.1
done
ask m3.example.test A
assert_status REFUSED
assert_answer "web.prod.svc.$Z" A "10.96.1.10"
wait "$b1" "$b2"
check_match "the queries in flight end in SERVFAIL" "status: SERVFAIL" \
	"$(cat "$E2E_TMP/m1.out")"
ask +time=10 m4.example.test A
check "below the limit again: forwarded (and failed)" SERVFAIL "$STATUS"
stop_server "$SERVER_PID"

# ---------------------------------------------------------------- failover

start_fakeup down drop
DOWN=$FAKE_PORT
start_server failover < <(fwd_corefile \
	". 127.0.0.1:$DOWN 127.0.0.1:$NSD_PORT" "policy sequential" \
	"health_check 200ms" "max_fails 1")
ask +time=10 www.example.test A
check "a silent upstream: the next one answers" "192.0.2.10" \
	"$(rdata ANSWER A)"
check_down "health checks find the upstream down" "$DOWN"
check_match "health checks ask . NS" "^\. 2$" "$(cat "$E2E_TMP/down.log")"
for i in 1 2 3; do
	ask www2.example.test A
	check "after failover ($i)" "192.0.2.11" "$(rdata ANSWER A)"
done
check "a down upstream gets no queries" "" \
	"$(grep www2 "$E2E_TMP/down.log")"
stop_server "$SERVER_PID"

# ------------------------------------------------- health checks over TCP

# An upstream that answers over TCP only, after closing its first
# connection: the failure starts health checks, which go over TCP with
# force_tcp and find it alive; without force_tcp they go over UDP and find
# it down, as a query over UDP does.
start_fakeup tcponly tcp
TCPONLY=$FAKE_PORT
start_server hctcp < <(fwd_corefile ". 127.0.0.1:$TCPONLY" "force_tcp" \
	"health_check 200ms" "max_fails 1")
ask +time=10 www3.example.test A
for i in $(seq 1 50); do
	grep -q '^\. 2 tcp$' "$E2E_TMP/tcponly.log" && break
	sleep 0.1
done
check_match "force_tcp: the health checks go over TCP" '^\. 2 tcp$' \
	"$(cat "$E2E_TMP/tcponly.log")"
check "force_tcp: nothing over UDP" "" \
	"$(grep -v ' tcp$' "$E2E_TMP/tcponly.log")"
check "force_tcp: the checked upstream is not down" "" \
	"$(grep "is down" "$SERVER_DIR/out.log")"
ask www4.example.test A
check "force_tcp: it answers over TCP" "192.0.2.99" "$(rdata ANSWER A)"
stop_server "$SERVER_PID"
start_server hcudp < <(fwd_corefile ". 127.0.0.1:$TCPONLY" \
	"health_check 200ms" "max_fails 1")
ask +time=10 www5.example.test A
check_down "without force_tcp: UDP health checks find it down" "$TCPONLY"
stop_server "$SERVER_PID"

# ---------------------------------------------------------------- loadbalance

start_server lb < <(fwd_corefile ". 127.0.0.1:$NSD_PORT" |
	sed 's/^    errors$/    errors\n    loadbalance/')
orders=
for i in $(seq 1 12); do
	ask lb.example.test A
	orders="$orders $(section ANSWER | awk '{print $5}' | tr '\n' ,)"
done
check "loadbalance: all 8 records" 8 "$(count ANSWER A)"
check_match "loadbalance: the order changes" "^([2-9]|1[0-2])$" \
	"$(printf '%s' "$orders" | tr ' ' '\n' | grep . | sort -u | wc -l)"
orders=
for i in $(seq 1 12); do
	ask "flb.prod.svc.$Z" A
	orders="$orders $(section ANSWER | awk '$4 == "A" {print $5}' | tr '\n' ,)"
done
check "loadbalance, ExternalName: all 8 records" 8 "$(count ANSWER A)"
check "loadbalance, ExternalName: the CNAME first" CNAME \
	"$(section ANSWER | awk 'NR == 1 { print $4 }')"
check_match "loadbalance, ExternalName: the order changes" "^([2-9]|1[0-2])$" \
	"$(printf '%s' "$orders" | tr ' ' '\n' | grep . | sort -u | wc -l)"
ask "fchain.prod.svc.$Z" A
check "loadbalance keeps CNAMEs first" "CNAME CNAME CNAME A" \
	"$(section ANSWER | awk '{print $4}' | tr '\n' ' ' | sed 's/ $//')"
stop_server "$SERVER_PID"

# ---------------------------------------------------------------- loop

LOOP_DIR=$E2E_TMP/loop
mkdir -p "$LOOP_DIR"
LP=$(free_port)
printf '.:%s {\n    bind 127.0.0.1\n    loop\n    forward . 127.0.0.1:%s\n}\n' \
	"$LP" "$LP" >"$LOOP_DIR/Corefile"
timeout 20 "$CLUSTERDNS" -conf "$LOOP_DIR/Corefile" -quiet \
	>"$LOOP_DIR/out.log" 2>&1
rc=$?
OUT=$(cat "$LOOP_DIR/out.log")
check "a forwarding loop stops the server with status 1" 1 "$rc"
check_match "the loop is reported as CoreDNS does" \
	"Loop \(127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$LP\) detected for zone \"\.\", see https://coredns\.io/plugins/loop#troubleshooting\. Query: \"HINFO [0-9]+\.[0-9]+\.\"" \
	"$OUT"
check_match "the message names the upstream" \
	"forwarded to upstream 127\.0\.0\.1:$LP" "$OUT"

# no loop: the probe is answered upstream and the server keeps running
start_server noloop < <(fwd_corefile ". 127.0.0.1:$NSD_PORT" |
	sed 's/^    errors$/    errors\n    loop/')
sleep 1.5
ask www.example.test A
check "loop without a loop: still serving" "192.0.2.10" "$(rdata ANSWER A)"
stop_server "$SERVER_PID"

# ---------------------------------------------------------------- kubeadm

printf 'nameserver 127.0.0.1\n' >"$E2E_TMP/resolv.conf"
start_server kubeadm <<EOF
.:@PORT@ {
    bind 127.0.0.1
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        objects $OBJ
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    forward . $E2E_TMP/resolv.conf {
        max_concurrent 1000
    }
    loadbalance
}
EOF
assert_answer "web.prod.svc.$Z" A "10.96.1.10"

finish
