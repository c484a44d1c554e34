# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # variables shared with lib.sh and the tests
# podlib.sh -- a Kubernetes node made of network namespaces, for the tests
# that run clusterdns as a pod does.  Sourced after lib.sh and apilib.sh.
#
# pod_netns makes "the pod" (namespace $NS: loopback and a veth) and "the
# node" ($NODE, the other end of the veth, 169.254.53.2), and makes dig,
# curl and the emulator run in the pod.  pod_node_nsd starts the node's
# resolver (NSD, zone node.test).  pod_api starts the API emulator with the
# fixtures the API tests use and writes its service account into a
# directory.  pod_start runs a clusterdns in the pod with a mount namespace
# that shows the test's resolv.conf and service account where a pod has
# them.  Only the test's own namespaces are used.

need ip unshare nsenter nsd

[ "$(id -u)" = 0 ] || skip "needs root (network and mount namespaces)"

NS=cdns-pod-$$
NODE=cdns-node-$$
POD_ADDR=169.254.53.1
NODE_ADDR=169.254.53.2

pod_cleanup()
{
	e2e_cleanup
	ip netns del "$NS" 2>/dev/null
	ip netns del "$NODE" 2>/dev/null
}

# pod_netns: the pod and the node namespaces, joined by a veth; nothing
# else is reachable from the pod.  Skips when namespaces cannot be made.
pod_netns()
{
	ip netns add "$NS" 2>/dev/null || skip "ip netns add does not work here"
	ip netns add "$NODE" || {
		ip netns del "$NS"
		skip "ip netns add does not work here"
	}
	trap pod_cleanup EXIT
	ip -n "$NS" link set lo up
	ip -n "$NODE" link set lo up
	ip link add "cdns-p$$" netns "$NS" type veth peer name "cdns-n$$" \
		netns "$NODE"
	ip -n "$NS" addr add "$POD_ADDR/30" dev "cdns-p$$"
	ip -n "$NODE" addr add "$NODE_ADDR/30" dev "cdns-n$$"
	ip -n "$NS" link set "cdns-p$$" up
	ip -n "$NODE" link set "cdns-n$$" up
	printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$NS" "$APIEMU" \
		>"$E2E_TMP/apiemu-in-pod"
	chmod +x "$E2E_TMP/apiemu-in-pod"
	APIEMU=$E2E_TMP/apiemu-in-pod
}

# Every client of the test runs in the pod's namespace.
dig()
{
	ip netns exec "$NS" /usr/bin/dig "$@"
}
curl()
{
	ip netns exec "$NS" /usr/bin/curl "$@"
}

# pod_addr ADDR...: add addresses (/32) to a dummy interface of the pod, as
# node-local-dns and kube-proxy's IPVS mode do (to lo when the kernel has no
# dummy interfaces).
pod_addr()
{
	local a dev=cdns-dummy
	if ! ip -n "$NS" link show "$dev" >/dev/null 2>&1; then
		if ip -n "$NS" link add "$dev" type dummy 2>/dev/null; then
			ip -n "$NS" link set "$dev" up
		else
			dev=lo
		fi
	fi
	for a in "$@"; do
		ip -n "$NS" addr add "$a/32" dev "$dev"
	done
}

# pod_node_nsd: the node's resolver, NSD on 169.254.53.2:53 serving
# node.test (www.node.test A 198.51.100.80); waits until it answers.
pod_node_nsd()
{
	local n=$E2E_TMP/node
	mkdir -p "$n"
	cat >"$n/node.test.zone" <<EOF
\$TTL 300
@ IN SOA ns.node.test. admin.node.test. 1 3600 600 86400 300
@ IN NS ns.node.test.
ns IN A $NODE_ADDR
www IN A 198.51.100.80
EOF
	nsd_conf "$n" "$NODE_ADDR@53" node.test >"$n/nsd.conf"
	ip netns exec "$NODE" nsd -d -c "$n/nsd.conf" >"$n/out.log" 2>&1 &
	E2E_PIDS+=("$!")
	for _ in $(seq 1 50); do
		dig +time=1 +tries=1 "@$NODE_ADDR" www.node.test A 2>/dev/null |
			grep -q 'status: NOERROR' && return 0
		sleep 0.1
	done
	fail "the node's NSD answers" "NOERROR" "no answer"
	finish
}

# pod_api SA-DIR: a new token, the emulator (in the pod, 127.0.0.1) with the
# API fixture, and the service account the kubelet mounts (token, ca.crt,
# namespace, readable by the pod's user) in SA-DIR.  Sets EMU_TOKEN,
# emu_port.
pod_api()
{
	local sa=$1
	EMU_TOKEN=$(new_token)
	emu_start emu 0 -load "$API_FIXTURE"
	emu_port=${EMU_URL##*:}
	mkdir -p "$sa"
	printf '%s' "$EMU_TOKEN" >"$sa/token"
	cp "$PKI/ca.crt" "$sa/ca.crt"
	printf 'kube-system' >"$sa/namespace"
	chmod 0644 "$sa/token" "$sa/ca.crt" "$sa/namespace"
}

# pod_probe PORT PATH [ADDR]: the HTTP status the kubelet would see.
pod_probe()
{
	curl -s -o /dev/null --max-time 5 -w '%{http_code}' \
		"http://${3:-127.0.0.1}:$1$2"
}

# pod_files NAME: a directory $E2E_TMP/NAME with resolv.conf (nameserver:
# the node) and the service account of pod_api in sa/.  Sets POD_FILES.
pod_files()
{
	POD_FILES=$E2E_TMP/$1
	mkdir -p "$POD_FILES"
	echo "nameserver $NODE_ADDR" >"$POD_FILES/resolv.conf"
	pod_api "$POD_FILES/sa"
}

# pod_start NAME FILES COREFILE: run the build tree's clusterdns in
# the pod with -conf COREFILE, in a mount namespace where FILES/resolv.conf
# is /etc/resolv.conf and FILES/sa the service account directory, with the
# pod's KUBERNETES_SERVICE_HOST/PORT; its log is $E2E_TMP/NAME/out.log.
# Does not wait.  Sets SERVER_PID, SERVER_DIR.
pod_start()
{
	local name=$1 files=$2 conf=$3
	SERVER_DIR=$E2E_TMP/$name
	mkdir -p "$SERVER_DIR"
	# shellcheck disable=SC2016 # the script expands in the inner shell
	ip netns exec "$NS" unshare -m --propagation private /bin/sh -euc '
		f=$1; shift
		# /var/run/secrets: a private /run (it holds nothing the
		# daemon needs) with only the service account in it.
		run=$(readlink -f /var/run)
		rc=$(readlink -f /etc/resolv.conf)
		mount -t tmpfs -o mode=0755 pod-run "$run"
		case $rc in
		"$run"/*) mkdir -p "${rc%/*}" && : >"$rc" ;;
		esac
		mount --bind "$f/resolv.conf" /etc/resolv.conf
		sa=/var/run/secrets/kubernetes.io/serviceaccount
		mkdir -p "$sa"
		mount --bind -o ro "$f/sa" "$sa"
		exec "$@"' sh "$files" \
		/usr/bin/env -i PATH=/usr/bin:/bin HOME=/ \
		KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$emu_port" \
		CLUSTERDNS_THREADS=2 \
		ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" \
		"$CLUSTERDNS" -conf "$conf" >"$SERVER_DIR/out.log" 2>&1 &
	SERVER_PID=$!
	E2E_PIDS+=("$SERVER_PID")
}

# pod_wait_answering ADDR PID: wait (bounded, about 10 s) until the daemon
# answers on ADDR port 53.
pod_wait_answering()
{
	for _ in $(seq 1 100); do
		kill -0 "$2" 2>/dev/null || return 1
		dig +time=1 +tries=1 +norec "@$1" "dns-version.$ZONE" TXT \
			2>/dev/null | grep -q 'status: ' && return 0
		sleep 0.1
	done
	return 1
}
