# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # variables shared with lib.sh and the tests
# apilib.sh -- helpers for the end-to-end tests of clusterdns against the
# Kubernetes API emulator (tools/apiemu).  Sourced after lib.sh.
#
# A test makes the certificates (api_certs), starts an emulator over HTTPS
# (emu_start), writes a kubeconfig (write_kubeconfig) and a Corefile
# (api_corefile), starts the daemon with lib.sh's start_server, changes the
# cluster through the emulator's control interface (emu_put, emu_del,
# emu_fault) and waits, bounded, for the answers to follow (converge,
# converge_emu).  Only 127.0.0.1 is used.

need curl openssl jq

APIEMU=$top_builddir/tools/apiemu/apiemu
[ -x "$APIEMU" ] || {
	echo "FAIL: $E2E_NAME: $APIEMU not built"
	exit 1
}
API_FIXTURE=$top_srcdir/tests/fixtures/api
PKI=$E2E_TMP/pki

# new_token: print a fresh bearer token, distinctive enough to grep for.
new_token()
{
	echo "e2e-token-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
}

# ---------------------------------------------------------------- certificates

api_openssl()
{
	openssl "$@" >>"$PKI/openssl.log" 2>&1 || {
		echo "FAIL: $E2E_NAME: openssl $1"
		sed 's/^/#   /' "$PKI/openssl.log"
		exit 1
	}
}

# api_certs: in $PKI, a CA (ca.crt), the server's certificate for
# 127.0.0.1 (server.crt/key), a client certificate of that CA
# (client.crt/key), another CA (rogue.crt) and a client certificate of it
# (bad.crt/key).
api_certs()
{
	[ -f "$PKI/bad.crt" ] && return 0
	mkdir -p "$PKI"
	api_openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
		-subj /CN=e2e-ca -keyout "$PKI/ca.key" -out "$PKI/ca.crt"
	api_openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
		-subj /CN=rogue-ca -keyout "$PKI/rogue.key" -out "$PKI/rogue.crt"
	printf 'subjectAltName=IP:127.0.0.1\n' >"$PKI/san.ext"
	api_openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
		-keyout "$PKI/server.key" -out "$PKI/server.csr"
	api_openssl x509 -req -in "$PKI/server.csr" -CA "$PKI/ca.crt" \
		-CAkey "$PKI/ca.key" -CAcreateserial -days 2 \
		-extfile "$PKI/san.ext" -out "$PKI/server.crt"
	api_openssl req -newkey rsa:2048 -nodes \
		-subj "/CN=clusterdns/O=system:masters" \
		-keyout "$PKI/client.key" -out "$PKI/client.csr"
	api_openssl x509 -req -in "$PKI/client.csr" -CA "$PKI/ca.crt" \
		-CAkey "$PKI/ca.key" -CAcreateserial -days 2 \
		-out "$PKI/client.crt"
	api_openssl req -newkey rsa:2048 -nodes -subj /CN=intruder \
		-keyout "$PKI/bad.key" -out "$PKI/bad.csr"
	api_openssl x509 -req -in "$PKI/bad.csr" -CA "$PKI/rogue.crt" \
		-CAkey "$PKI/rogue.key" -CAcreateserial -days 2 \
		-out "$PKI/bad.crt"
}

# ---------------------------------------------------------------- emulator

# emu_start NAME PORT [APIEMU-FLAG...]: start the emulator over HTTPS on
# 127.0.0.1:PORT (0: any) with the server certificate, bearer token
# $EMU_TOKEN, a bookmark every second, and the flags given (e.g. -load,
# -client-ca); wait until it listens.  Sets EMU_URL, EMU_PID, EMU_DIR.
emu_start()
{
	local name=$1 port=$2
	shift 2
	api_certs
	EMU_DIR=$E2E_TMP/$name
	mkdir -p "$EMU_DIR"
	"$APIEMU" -listen "127.0.0.1:$port" -tls-cert "$PKI/server.crt" \
		-tls-key "$PKI/server.key" -token "$EMU_TOKEN" \
		-bookmark-interval 1 "$@" >"$EMU_DIR/emu.out" 2>"$EMU_DIR/emu.err" &
	EMU_PID=$!
	E2E_PIDS+=("$EMU_PID")
	EMU_URL=
	for _ in $(seq 1 100); do
		EMU_URL=$(sed -n 's/^listening on //p' "$EMU_DIR/emu.out")
		[ -n "$EMU_URL" ] && break
		kill -0 "$EMU_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$EMU_URL" ]; then
		OUT=$(cat "$EMU_DIR/emu.err")
		fail "start emulator $name" "listening on https://127.0.0.1:..." \
			"no listening line"
		finish
	fi
	echo "# $name: emulator pid $EMU_PID at $EMU_URL"
}

# emu_stop: stop the current emulator.
emu_stop()
{
	kill "$EMU_PID" 2>/dev/null
	wait "$EMU_PID" 2>/dev/null
	return 0
}

# emu_ctl METHOD PATH [CURL-ARG...]: the emulator's control interface.
emu_ctl()
{
	local m=$1 p=$2
	shift 2
	curl -sS --max-time 10 --cacert "$PKI/ca.crt" -X "$m" \
		"$EMU_URL/_control/$p" "$@"
}

# emu_put JSON: create or replace an object (or the items of a List).
emu_put()
{
	emu_ctl POST objects -d "$1" >"$E2E_TMP/emu_put.last" ||
		echo "# emu_put failed: $1"
}

# emu_del RESOURCE/NS/NAME | namespaces/NAME: delete an object.
emu_del()
{
	emu_ctl DELETE "objects/$1" >"$E2E_TMP/emu_del.last" ||
		echo "# emu_del failed: $1"
}

# emu_fault JSON: inject a fault (see the emulator's README).
emu_fault()
{
	emu_ctl POST fault -d "$1" >/dev/null || echo "# emu_fault failed: $1"
}

# emu_state JQ-FILTER: a field of the emulator's state.
emu_state()
{
	emu_ctl GET state | jq -r "$1"
}

# emu_rotate TOKEN: the emulator accepts only TOKEN from now on.
emu_rotate()
{
	emu_ctl POST token -d "{\"token\":\"$1\"}" >/dev/null
	EMU_TOKEN=$1
}

# emu_get PATH: GET an API path with the current token, CA verified.
emu_get()
{
	curl -sS --max-time 10 --cacert "$PKI/ca.crt" \
		-H "Authorization: Bearer $EMU_TOKEN" "$EMU_URL$1"
}

# emu_wait_faults_consumed: wait (bounded) until the pending status faults
# have all been answered to the daemon's requests; prints the count left.
emu_wait_faults_consumed()
{
	local n
	for _ in $(seq 1 300); do
		n=$(emu_state .pendingStatusFaults)
		[ "$n" = 0 ] && break
		sleep 0.1
	done
	echo "$n"
}

# ---------------------------------------------------------------- daemon

# write_kubeconfig FILE SERVER CA-MODE USER-MODE ARG...: a kubeconfig with
# one cluster, user and context.  CA-MODE: file (certificate-authority) or
# data (certificate-authority-data), of CA file $KCA (default the test CA).
# USER-MODE: token TOKEN | tokenFile PATH | cert CRT KEY.
write_kubeconfig()
{
	local f=$1 server=$2 camode=$3 umode=$4 ca=${KCA:-$PKI/ca.crt}
	shift 4
	{
		echo "apiVersion: v1"
		echo "kind: Config"
		echo "clusters:"
		echo "- name: emu"
		echo "  cluster:"
		echo "    server: $server"
		case $camode in
		file) echo "    certificate-authority: $ca" ;;
		data) echo "    certificate-authority-data: $(base64 -w0 <"$ca")" ;;
		esac
		echo "users:"
		echo "- name: dns"
		echo "  user:"
		case $umode in
		token) echo "    token: $1" ;;
		tokenFile) echo "    tokenFile: $1" ;;
		cert)
			echo "    client-certificate: $1"
			echo "    client-key: $2"
			;;
		esac
		echo "contexts:"
		echo "- name: e2e"
		echo "  context:"
		echo "    cluster: emu"
		echo "    user: dns"
		echo "current-context: e2e"
	} >"$f"
}

# api_corefile SOURCE-LINE [KUBE-OPTION-LINE...]: a Corefile for
# start_server: one block on 127.0.0.1, kubernetes cluster.local and
# in-addr.arpa fed by SOURCE-LINE (kubeconfig FILE, or endpoint URL),
# ttl 30, startup_timeout 1s, and the option lines given.
api_corefile()
{
	local l
	echo ".:@PORT@ {"
	echo "    bind 127.0.0.1"
	echo "    kubernetes $ZONE in-addr.arpa {"
	echo "        $1"
	echo "        ttl 30"
	echo "        startup_timeout 1s"
	shift
	for l in "$@"; do
		echo "        $l"
	done
	echo "    }"
	echo "}"
}

# start_kc_scenario NAME file|data [CORE LINE...]: a new token, the
# emulator NAME-emu with the fixture, a kubeconfig for it with that token
# and the CA as a file or inline (write_kubeconfig's CA-MODE), and the
# daemon NAME with it and the extra kubernetes lines; sets KC and PID.
start_kc_scenario()
{
	local name=$1 kind=$2
	shift 2
	EMU_TOKEN=$(new_token)
	TOKENS+=("$EMU_TOKEN")
	emu_start "$name-emu" 0 -load "$API_FIXTURE"
	KC=$E2E_TMP/$name.kubeconfig
	write_kubeconfig "$KC" "$EMU_URL" "$kind" token "$EMU_TOKEN"
	start_server "$name" < <(api_corefile "kubeconfig $KC" "$@")
	PID=$SERVER_PID
}

# daemon_log: the log of the daemon started last.
daemon_log()
{
	cat "$SERVER_DIR/out.log"
}

# check_no_secret WHAT SECRET...: none of the secrets is in any daemon log.
check_no_secret()
{
	local what=$1 s n=0 f
	shift
	for s in "$@"; do
		for f in "$E2E_TMP"/*/out.log; do
			[ -f "$f" ] || continue
			grep -qF -- "$s" "$f" && n=$((n + 1))
		done
	done
	check "$what" 0 "$n"
}

# stop_daemon WHAT PID LOG: SIGTERM; the daemon must end (bounded) with
# status 0 and no sanitizer report in its LOG.
stop_daemon()
{
	local what=$1 pid=$2 log=$3 rc
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "$what: SIGTERM ends the daemon" "exited" "still running"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return
	fi
	wait "$pid"
	rc=$?
	check "$what: SIGTERM exit status" 0 "$rc"
	check "$what: no sanitizer report" 0 \
		"$(grep -Ec 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log")"
}

# ---------------------------------------------------------------- answers

# dns_value NAME TYPE: what the daemon answers, in one word or list: the
# rcode when it is not NOERROR, NODATA for an empty answer, else the
# sorted rdata of TYPE joined by " | ".
dns_value()
{
	ask "$1" "$2"
	if [ "$STATUS" != NOERROR ]; then
		echo "${STATUS:-NO-ANSWER}"
	elif [ "$(count ANSWER "$2")" = 0 ]; then
		echo NODATA
	else
		rdata ANSWER "$2"
	fi
}

# converge WHAT NAME TYPE WANT [SECONDS]: ask again (bounded, default 10 s)
# until dns_value is WANT; then assert it.
converge()
{
	local what=$1 name=$2 type=$3 want=$4 secs=${5:-10} got end
	end=$((SECONDS + secs))
	while :; do
		got=$(dns_value "$name" "$type")
		[ "$got" = "$want" ] && break
		[ "$SECONDS" -ge "$end" ] && break
		sleep 0.2
	done
	check "$what: $name $type" "$want" "$got"
}

# served WHAT NAME TYPE WANT: the daemon answers WANT right now.
served()
{
	check "$1: $2 $3 still served" "$4" "$(dns_value "$2" "$3")"
}

# emu_expected: "NAME TYPE WANT" lines for what the emulator holds now:
# every namespace (NODATA for A), every Service (ClusterIP: its IPv4
# addresses; headless: the ready IPv4 endpoint addresses of its slices, or
# NXDOMAIN; ExternalName: the CNAME), every named ready endpoint of a
# headless service, and every running pod with an IP (pods verified).
# Fails when the emulator's lists cannot be read.
emu_expected()
{
	local d=$E2E_TMP/expected f
	mkdir -p "$d"
	emu_get /api/v1/namespaces >"$d/ns.json"
	emu_get /api/v1/services >"$d/svc.json"
	emu_get /apis/discovery.k8s.io/v1/endpointslices >"$d/eps.json"
	emu_get /api/v1/pods >"$d/pods.json"
	for f in ns svc eps pods; do
		jq -e '.items | type == "array"' "$d/$f.json" >/dev/null 2>&1 ||
			return 1
	done
	jq -rn --slurpfile n "$d/ns.json" --slurpfile s "$d/svc.json" \
		--slurpfile e "$d/eps.json" --slurpfile p "$d/pods.json" \
		--arg z "$ZONE" '
	def ready_eps($svc): [$e[0].items[]
		| select(.metadata.namespace == $svc.metadata.namespace and
			.metadata.labels["kubernetes.io/service-name"] == $svc.metadata.name and
			.addressType == "IPv4")
		| .endpoints[]? | select(.conditions.ready != false)];
	($n[0].items[] | "\(.metadata.name).svc.\($z) A NODATA"),
	($s[0].items[] | . as $svc
		| "\(.metadata.name).\(.metadata.namespace).svc.\($z)" as $name
		| if .spec.type == "ExternalName" then
			"\($name) CNAME \(.spec.externalName)."
		  elif .spec.clusterIP == "None" then
			([ready_eps($svc)[] | .addresses[]] | unique) as $a
			| "\($name) A \(if ($a | length) == 0 then "NXDOMAIN" else ($a | join(" | ")) end)",
			  (ready_eps($svc)[] | select(.hostname)
				| "\(.hostname).\($name) A \(.addresses | unique | join(" | "))")
		  else
			"\($name) A \([(.spec.clusterIPs // [.spec.clusterIP])[] | select(test(":") | not)] | sort | join(" | "))"
		  end),
	($p[0].items[] | select(.status.podIP and .status.phase != "Succeeded" and .status.phase != "Failed")
		| "\(.status.podIP | gsub("\\."; "-")).\(.metadata.namespace).pod.\($z) A \(.status.podIP)")'
}

# converge_emu WHAT SECONDS [NAME TYPE WANT]...: wait (bounded) until every
# line of emu_expected, and every extra triple given (names that must be
# gone, say), is what the daemon answers; then assert it, listing the names
# that differ.  The emulator's state is read once, before waiting: no
# status fault may be pending.
converge_emu()
{
	local what=$1 secs=$2 lines bad n end name type want got
	shift 2
	if ! lines=$(emu_expected); then
		OUT=
		fail "$what: the emulator's state" "its four lists" \
			"a list could not be read"
		return
	fi
	while [ $# -ge 3 ]; do
		lines=$(printf '%s\n%s %s %s' "$lines" "$1" "$2" "$3")
		shift 3
	done
	n=$(printf '%s\n' "$lines" | grep -c .)
	end=$((SECONDS + secs))
	while :; do
		bad=
		while read -r name type want; do
			[ -n "$name" ] || continue
			got=$(dns_value "$name" "$type")
			[ "$got" = "$want" ] ||
				bad="${bad}[$name $type: want $want, got $got] "
		done <<<"$lines"
		[ -z "$bad" ] && break
		[ "$SECONDS" -ge "$end" ] && break
		sleep 0.3
	done
	OUT=
	check "$what: the $n names are as in the emulator" "" "$bad"
}
