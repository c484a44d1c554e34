#!/bin/bash
# deploy-run.sh -- the installed tree run the way tools/deploy/clusterdns.yaml
# runs it: `make install DESTDIR=...`, then clusterdns in a network
# namespace of the test ("the pod", loopback only, plus a veth to a second
# namespace, "the node", whose NSD is the upstream of the pod's
# /etc/resolv.conf), chrooted into the installed tree made read-only with
# the system's /usr/lib and /usr/bin bound read-only, as uid 65532 holding
# only CAP_NET_BIND_SERVICE, on port 53, with the ConfigMap's Corefile at
# /etc/coredns/Corefile and the in-cluster service account (token, ca.crt,
# namespace, KUBERNETES_SERVICE_HOST/PORT) of the API emulator over HTTPS.
# dig and curl in the namespace check the answers and the probes.
#
# Needs root, ip netns, unshare, setpriv, nsd.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=apilib.sh
. "$(dirname "$0")/apilib.sh"
need setpriv make /usr/bin/python3
# shellcheck source-path=SCRIPTDIR source=podlib.sh
. "$(dirname "$0")/podlib.sh"
pod_netns

# ---------------------------------------------------------------- the tree

R=$E2E_TMP/root
if ! OUT=$(make -s -C "$top_builddir" install DESTDIR="$R" 2>&1); then
	fail "make install DESTDIR" "exit status 0" "an error"
	finish
fi
OUT=
bin=$(cd "$R" && find . -type f -name clusterdns -path '*/sbin/*' | head -n 1)
bin=${bin#.}
check_match "installed daemon" '/sbin/clusterdns$' "$bin"

mkdir -p "$R/usr/lib" "$R/usr/bin" "$R/proc" "$R/dev" "$R/etc/coredns" \
	"$R/var/run/secrets/kubernetes.io/serviceaccount"
ln -sfn usr/lib "$R/lib"
[ -d /usr/lib64 ] && mkdir -p "$R/usr/lib64" && ln -sfn usr/lib64 "$R/lib64"

# The ConfigMap's Corefile, or (while directives are pending) without them.
/usr/bin/python3 -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind") == "ConfigMap":
        sys.stdout.write(d["data"]["Corefile"])' \
	"$top_srcdir/tools/deploy/clusterdns.yaml" >"$E2E_TMP/Corefile.configmap"
cp "$E2E_TMP/Corefile.configmap" "$R/etc/coredns/Corefile"
check "Corefile has the kubernetes block" 1 \
	"$(grep -c '^ *kubernetes cluster.local in-addr.arpa ip6.arpa {$' "$R/etc/coredns/Corefile")"
# dnsPolicy Default: the node's resolver.
echo "nameserver $NODE_ADDR" >"$R/etc/resolv.conf"

pod_node_nsd
pod_api "$R/var/run/secrets/kubernetes.io/serviceaccount"

# ---------------------------------------------------------------- the daemon

UID_POD=65532
SERVER_DIR=$E2E_TMP/daemon
mkdir -p "$SERVER_DIR"
# A mount namespace where the root is the installed tree, read-only, with
# the system's libraries and tools bound read-only; then uid 65532 with
# CAP_NET_BIND_SERVICE alone (bounding, permitted, effective, inheritable
# and ambient), no_new_privs, and the environment a pod has.
ip netns exec "$NS" unshare -m --propagation private /bin/sh -euc '
	R=$1; shift
	mount --bind "$R" "$R"
	mount -o remount,bind,ro "$R"
	mount --bind -o ro /usr/lib "$R/usr/lib"
	mount -o remount,bind,ro "$R/usr/lib"
	mount --bind /usr/bin "$R/usr/bin"
	mount -o remount,bind,ro "$R/usr/bin"
	if [ -d /usr/lib64 ]; then
		mount --bind /usr/lib64 "$R/usr/lib64"
		mount -o remount,bind,ro "$R/usr/lib64"
	fi
	mount --rbind /proc "$R/proc"
	mount --rbind /dev "$R/dev"
	exec chroot "$R" "$@"' sh "$R" \
	/usr/bin/setpriv --reuid="$UID_POD" --regid="$UID_POD" --clear-groups \
	--bounding-set=-all,+net_bind_service --inh-caps=-all,+net_bind_service \
	--ambient-caps=-all,+net_bind_service --no-new-privs \
	/usr/bin/env -i PATH=/usr/bin HOME=/ \
	KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$emu_port" \
	CLUSTERDNS_THREADS=2 \
	ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
	UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" \
	"$bin" -conf /etc/coredns/Corefile >"$SERVER_DIR/out.log" 2>&1 &
PID=$!
E2E_PIDS+=("$PID")
PORT=53
if ! wait_answering 53 "$PID"; then
	OUT=$(cat "$SERVER_DIR/out.log")
	fail "the daemon answers on port 53" "an answer" "none"
	finish
fi
echo "# clusterdns pid $PID on port 53 in netns $NS"

# ---------------------------------------------------------------- the process

st=/proc/$PID/status
check "process: uid" "$UID_POD $UID_POD $UID_POD $UID_POD" \
	"$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "$st")"
check "process: gid" "$UID_POD $UID_POD $UID_POD $UID_POD" \
	"$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "$st")"
check "process: no supplementary groups" "" \
	"$(awk '/^Groups:/ { $1 = ""; sub(/^ */, ""); print }' "$st")"
# CAP_NET_BIND_SERVICE is bit 10: 0x400.
for c in CapInh CapPrm CapEff CapBnd CapAmb; do
	check "process: $c is CAP_NET_BIND_SERVICE only" 0000000000000400 \
		"$(awk -v c="$c:" '$1 == c { print $2 }' "$st")"
done
check "process: no_new_privs" 1 "$(awk '/^NoNewPrivs:/ { print $2 }' "$st")"
check "process: root is the installed tree" "$R" "$(readlink "/proc/$PID/root")"

# As the daemon sees it, even root cannot write the root filesystem.
for p in /probe /etc/coredns/probe /var/run/secrets/kubernetes.io/serviceaccount/probe /usr/lib/probe; do
	check_match "read-only: writing $p fails" 'Read-only file system' \
		"$(nsenter -t "$PID" -m -r /usr/bin/touch "$p" 2>&1)"
done

# ---------------------------------------------------------------- answers

TTL=30
converge "synced" web.prod.svc.cluster.local A 10.96.1.10
assert_answer web.prod.svc.cluster.local A 10.96.1.10
assert_answer db.prod.svc.cluster.local A "10.244.1.5 | 10.244.1.6"
assert_answer db-0.db.prod.svc.cluster.local A 10.244.1.5
assert_nxdomain nosuch.prod.svc.cluster.local A
assert_answer 10.1.96.10.in-addr.arpa PTR web.prod.svc.cluster.local.
assert_answer 10-244-1-7.prod.pod.cluster.local A 10.244.1.7
ask +tcp web.staging.svc.cluster.local A
check "TCP: web.staging" 10.96.2.10 "$(rdata ANSWER A)"
# forward . /etc/resolv.conf: the node's resolver answers the rest.
ask www.node.test A
check "forwarded: www.node.test" "NOERROR 198.51.100.80" "$STATUS $(rdata ANSWER A)"

# ---------------------------------------------------------------- probes

check_match "liveness probe: GET /health on 8080" '^[23][0-9][0-9]$' \
	"$(pod_probe 8080 /health)"
check_match "readiness probe: GET /ready on 8181" '^[23][0-9][0-9]$' \
	"$(pod_probe 8181 /ready)"
check_match "metrics on 9153" '^200$' "$(pod_probe 9153 /metrics)"

check_no_secret "the token is not logged" "$EMU_TOKEN"
stop_daemon "daemon" "$PID" "$SERVER_DIR/out.log"
finish
