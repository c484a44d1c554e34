#!/bin/bash
# corefiles.sh -- the Corefiles operators run, unchanged, started for real:
# kubeadm's default, coredns/deployment's, kubeadm 1.16's (`upstream`:
# starts with a warning), kubeadm 1.11's (`proxy`: refuses to start) and
# NodeLocal DNSCache's (a cache on 169.254.20.10 and 10.96.0.10 in front of
# a second clusterdns, "kube-dns" on 10.96.0.11, over TCP).  Each runs in
# the pod namespace of podlib.sh, on port 53, with the emulator's in-cluster
# service account and the node's NSD in /etc/resolv.conf; dig and curl ask
# its cluster names, a forwarded name and the probes it declares, then
# SIGTERM stops it (after the lameduck when it has one).
#
# Needs root, ip netns, unshare, nsd.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=apilib.sh
. "$(dirname "$0")/apilib.sh"
# shellcheck source-path=SCRIPTDIR source=podlib.sh
. "$(dirname "$0")/podlib.sh"

Z=$ZONE
CF=$top_srcdir/tests/fixtures/corefile
PORT=53
WHO=

pod_netns
pod_node_nsd
pod_files pod
FILES=$POD_FILES

# ---------------------------------------------------------------- helpers

# ttl_at_most MAX: every answer TTL of the last answer is in 0..MAX (a
# cache counts them down).
ttl_at_most()
{
	check "$WHO: $QUERY: answer TTLs within 0..$1" "" \
		"$(section ANSWER | awk -v m="$1" '$2 < 0 || $2 > m { print $2 }')"
}

# answer_is NAME TYPE WANT MAXTTL: NOERROR, the sorted rdata of TYPE is
# WANT, the TTLs at most MAXTTL.
answer_is()
{
	ask "$1" "$2"
	check "$WHO: $QUERY" "NOERROR $3" "$STATUS $(rdata ANSWER "$2")"
	ttl_at_most "$4"
}

# nxdomain_soa NAME TYPE: NXDOMAIN with the cluster zone's SOA in authority.
nxdomain_soa()
{
	ask "$1" "$2"
	check "$WHO: $QUERY: rcode" NXDOMAIN "$STATUS"
	check_match "$WHO: $QUERY: SOA in authority" \
		"^$Z\. [0-9]+ IN SOA ns\.dns\.$Z\. hostmaster\.$Z\. " \
		"$(section AUTHORITY)"
}

# cluster_names WHAT MAXTTL PODS: the fixture's names as the daemon at
# ASK_ADDR answers them; PODS is the answer for a pod name (insecure: its
# address, disabled: NXDOMAIN).
cluster_names()
{
	local what=$1 t=$2
	WHO=$what
	converge "$what: synced" "web.prod.svc.$Z" A 10.96.1.10
	answer_is "web.prod.svc.$Z" A 10.96.1.10 "$t"
	answer_is "db.prod.svc.$Z" A "10.244.1.5 | 10.244.1.6" "$t"
	answer_is "db-0.db.prod.svc.$Z" A 10.244.1.5 "$t"
	answer_is "_pg._tcp.db.prod.svc.$Z" SRV \
		"0 50 5432 db-0.db.prod.svc.$Z. | 0 50 5432 db-1.db.prod.svc.$Z." "$t"
	answer_is "_http._tcp.web.prod.svc.$Z" SRV \
		"0 100 80 web.prod.svc.$Z." "$t"
	answer_is 10.1.96.10.in-addr.arpa PTR "web.prod.svc.$Z." "$t"
	answer_is 10.2.96.10.in-addr.arpa PTR "web.staging.svc.$Z." "$t"
	nxdomain_soa "nosuch.prod.svc.$Z" A
	nxdomain_soa "web.nosuch.svc.$Z" A
	case $3 in
	insecure) answer_is "10-244-1-7.prod.pod.$Z" A 10.244.1.7 "$t" ;;
	*) nxdomain_soa "10-244-1-7.prod.pod.$Z" A ;;
	esac
	ask +tcp "web.staging.svc.$Z" A
	check "$what: $QUERY over TCP" "NOERROR 10.96.2.10" "$STATUS $(rdata ANSWER A)"
	ask www.node.test A
	check "$what: forwarded: www.node.test" "NOERROR 198.51.100.80" \
		"$STATUS $(rdata ANSWER A)"
}

# metrics_ok WHAT PORT [ADDR]: /metrics answers 200 with the request
# counter.
metrics_ok()
{
	check "$1: GET /metrics on $2" 200 "$(pod_probe "$2" /metrics "${3:-}")"
	check_match "$1: /metrics has coredns_dns_requests_total" \
		'^coredns_dns_requests_total\{' \
		"$(curl -s --max-time 5 "http://${3:-127.0.0.1}:$2/metrics")"
}

# exit_within PID TENTHS: wait (at most TENTHS tenths of a second) for PID
# to end; sets RC to its exit status, or "running" (it is then killed).
exit_within()
{
	local i
	for i in $(seq 1 "$2"); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		RC=running
		return
	fi
	wait "$1"
	RC=$?
}

# start WHAT COREFILE ADDR: pod_start, wait until it answers on ADDR; sets
# PID, LOG.
start()
{
	pod_start "$1" "$FILES" "$2"
	PID=$SERVER_PID
	LOG=$SERVER_DIR/out.log
	if ! pod_wait_answering "$3" "$PID"; then
		OUT=$(cat "$LOG")
		fail "$1: answers on $3 port 53" "an answer" "none"
		finish
	fi
	echo "# $1: pid $PID on $3 port 53 in netns $NS"
}

# probes WHAT: /health, /ready on their default ports, /metrics on 9153.
probes()
{
	check "$1: GET /health on 8080" 200 "$(pod_probe 8080 /health)"
	check "$1: GET /ready on 8181" 200 "$(pod_probe 8181 /ready)"
	metrics_ok "$1" 9153
}

# lameduck_stop WHAT: SIGTERM with `lameduck 5s`: still answering, /ready
# 503, /health 200 during the first seconds, then exit 0 by itself.
lameduck_stop()
{
	kill -TERM "$PID"
	ask "web.prod.svc.$Z" A
	check "$1: lameduck: still answering" "NOERROR 10.96.1.10" \
		"$STATUS $(rdata ANSWER A)"
	check "$1: lameduck: /ready" 503 "$(pod_probe 8181 /ready)"
	check "$1: lameduck: /health" 200 "$(pod_probe 8080 /health)"
	sleep 1
	ask "db.prod.svc.$Z" A
	check "$1: lameduck: still answering a second later" \
		"NOERROR 10.244.1.5 | 10.244.1.6" "$STATUS $(rdata ANSWER A)"
	exit_within "$PID" 80
	check "$1: SIGTERM: exit status after the lameduck" 0 "$RC"
	check_match "$1: the log says lameduck" 'lameduck' "$(cat "$LOG")"
}

# plain_stop WHAT PID: SIGTERM without lameduck: exit 0 at once.
plain_stop()
{
	kill -TERM "$2"
	exit_within "$2" 30
	check "$1: SIGTERM: exit status" 0 "$RC"
}

# ---------------------------------------------------------------- kubeadm

start kubeadm "$CF/kubeadm.Corefile" 127.0.0.1
cluster_names kubeadm 30 insecure
# kubeadm keeps cluster names out of the cache: the TTL is always 30.
assert_answer "web.prod.svc.$Z" A 10.96.1.10
probes kubeadm
lameduck_stop kubeadm

# ---------------------------------------------------------------- coredns/deployment

start deployment "$CF/coredns-deployment.Corefile" 127.0.0.1
cluster_names deployment 5 disabled
probes deployment
lameduck_stop deployment

# ---------------------------------------------------------------- kubeadm 1.16

start kubeadm-1.16 "$CF/kubeadm-1.16.Corefile" 127.0.0.1
check_match "kubeadm-1.16: a warning names upstream" \
	"^\\[WARNING\\] .*kubeadm-1\\.16\\.Corefile:7 .*'upstream'" \
	"$(cat "$LOG")"
cluster_names kubeadm-1.16 30 insecure
probes kubeadm-1.16
plain_stop kubeadm-1.16 "$PID"

# ---------------------------------------------------------------- kubeadm 1.11

pod_start kubeadm-1.11 "$FILES" "$CF/kubeadm-1.11.Corefile"
exit_within "$SERVER_PID" 50
check "kubeadm-1.11 (proxy): refuses to start, exit status" 1 "$RC"
OUT=$(cat "$SERVER_DIR/out.log")
check_match "kubeadm-1.11: the message names proxy and forward" \
	'proxy.*forward' "$OUT"
check_match "kubeadm-1.11: the message names the file and line" \
	'kubeadm-1\.11\.Corefile:10 ' "$OUT"
OUT=

# ---------------------------------------------------------------- NodeLocal DNSCache

# node-local-dns puts its addresses on a dummy interface; kube-dns's
# ClusterIP behind it is 10.96.0.11 here, served by a second clusterdns.
pod_addr 169.254.20.10 10.96.0.10 10.96.0.11
KD=$E2E_TMP/kube-dns.Corefile
cat >"$KD" <<EOF
.:53 {
    bind 10.96.0.11
    errors
    health 10.96.0.11:8080
    ready 10.96.0.11:8181
    prometheus 10.96.0.11:9153
    kubernetes $Z in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    forward . /etc/resolv.conf
}
EOF
start kube-dns "$KD" 10.96.0.11
KPID=$PID
ASK_ADDR=10.96.0.11
converge "kube-dns: synced" "web.prod.svc.$Z" A 10.96.1.10
check "kube-dns: GET /ready" 200 "$(pod_probe 8181 /ready 10.96.0.11)"

start nodelocaldns "$CF/nodelocaldns.Corefile" 169.254.20.10
for ASK_ADDR in 169.254.20.10 10.96.0.10; do
	cluster_names "nodelocaldns on $ASK_ADDR" 30 insecure
done
ASK_ADDR=127.0.0.1
ask "web.prod.svc.$Z" A
check "nodelocaldns: not on 127.0.0.1 (bind)" "" "$STATUS"
check "nodelocaldns: GET /health on 169.254.20.10:8080" 200 \
	"$(pod_probe 8080 /health 169.254.20.10)"
metrics_ok nodelocaldns 9253
# One /metrics for the four blocks: the cluster, reverse and forwarded
# questions asked above are all counted there.
M=$(curl -s --max-time 5 http://127.0.0.1:9253/metrics)
for z in "$Z." in-addr.arpa. .; do
	check_match "nodelocaldns: :9253 counts the requests of zone $z" \
		"^coredns_dns_requests_total\\{[^}]*zone=\"${z//./\\.}\"[^}]*\\} [1-9]" "$M"
done
# force_tcp: kube-dns saw the cache's questions over TCP.
check_match "kube-dns: asked over TCP (force_tcp)" \
	'^coredns_dns_requests_total\{[^}]*proto="tcp"[^}]*\} [1-9]' \
	"$(curl -s --max-time 5 http://10.96.0.11:9153/metrics)"
plain_stop nodelocaldns "$PID"
plain_stop kube-dns "$KPID"

check_no_secret "the token is not logged" "$EMU_TOKEN"
finish
