#!/bin/bash
# rolling.sh -- a rolling restart and three Corefile reloads of two
# replicas under load lose no query.  Two clusterdns ("replicas" A and B)
# run kubeadm's Corefile, each bound to its own address of the pod
# namespace (so that their probes do not collide), fed by the API emulator
# through the in-cluster service account.  kubeproxy.py sends 200 queries a
# second over UDP, spread over the replicas whose /ready was 200 at its
# last poll, and counts the answers.  Then: SIGTERM A (its lameduck keeps it
# answering while /ready is 503), a new A, the same for B; three changes of
# the ttl in both Corefiles with SIGUSR1, each seen in the answers; and no
# query may be lost.
#
# Needs root, ip netns, unshare, nsd, python3.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=apilib.sh
. "$(dirname "$0")/apilib.sh"
need /usr/bin/python3
# shellcheck source-path=SCRIPTDIR source=podlib.sh
. "$(dirname "$0")/podlib.sh"

Z=$ZONE
PORT=53
A=10.244.0.11
B=10.244.0.12

pod_netns
pod_addr "$A" "$B"
pod_node_nsd
pod_files pod

# corefile_for ADDR TTL: kubeadm's Corefile, every listener on ADDR, the
# kubernetes ttl TTL.
corefile_for()
{
	sed -e "1a\\    bind $1" \
		-e "s/^\\( *health\\) {/\\1 $1:8080 {/" \
		-e "s/^\\( *ready\\)\$/\\1 $1:8181/" \
		-e "s/^\\( *prometheus\\) :9153/\\1 $1:9153/" \
		-e "s/^\\( *ttl\\) 30\$/\\1 $2/" \
		"$top_srcdir/tests/fixtures/corefile/kubeadm.Corefile"
}

# write_corefile R TTL: the ConfigMap of replica R changes (atomically,
# as the kubelet updates a ConfigMap volume).
write_corefile()
{
	corefile_for "$1" "$2" >"$E2E_TMP/Corefile.$1.new"
	mv "$E2E_TMP/Corefile.$1.new" "$E2E_TMP/Corefile.$1"
}

# ready_is R WANT: wait (bounded, about 10 s) until GET /ready on R is WANT.
ready_is()
{
	local got
	for _ in $(seq 1 100); do
		got=$(pod_probe 8181 /ready "$1")
		[ "$got" = "$2" ] && break
		sleep 0.1
	done
	check "replica $1: /ready is $2" "$2" "$got"
}

# start_replica R: a clusterdns on R; waits until it is ready.  Sets PIDS[R].
declare -A PIDS
GEN=0
start_replica()
{
	GEN=$((GEN + 1))
	pod_start "replica-$1-$GEN" "$FILES" "$E2E_TMP/Corefile.$1"
	PIDS[$1]=$SERVER_PID
	echo "# replica $1: pid $SERVER_PID"
	ready_is "$1" 200
}

# ttl_is R TTL: wait (bounded) until R answers web.prod with TTL.
ttl_is()
{
	local got
	ASK_ADDR=$1
	for _ in $(seq 1 50); do
		ask "web.prod.svc.$Z" A
		got=$(section ANSWER | awk '{ print $2 }' | sort -u | tr '\n' ' ')
		[ "$got" = "$2 " ] && break
		sleep 0.1
	done
	ASK_ADDR=
	check "replica $1: answer TTL $2" "$2 " "$got"
}

FILES=$POD_FILES
TTL=30
for r in "$A" "$B"; do
	write_corefile "$r" "$TTL"
	start_replica "$r"
	ttl_is "$r" "$TTL"
done

# ---------------------------------------------------------------- the load

LOAD=$E2E_TMP/load
mkdir -p "$LOAD"
ip netns exec "$NS" /usr/bin/python3 "$E2E_HERE/kubeproxy.py" 200 2 \
	"$LOAD/status" "$A" "$B" >"$LOAD/out" 2>"$LOAD/err" &
LOAD_PID=$!
E2E_PIDS+=("$LOAD_PID")
for _ in $(seq 1 50); do
	grep -Eq '^answered [1-9]' "$LOAD/status" 2>/dev/null && break
	sleep 0.1
done
check_match "the load runs" '^answered [1-9]' "$(cat "$LOAD/status" 2>/dev/null)"

# ---------------------------------------------------------------- rolling restart

for r in "$A" "$B"; do
	pid=${PIDS[$r]}
	kill -TERM "$pid"
	ready_is "$r" 503
	ASK_ADDR=$r
	ask "web.prod.svc.$Z" A
	ASK_ADDR=
	check "replica $r: answers in lameduck" "NOERROR 10.96.1.10" \
		"$STATUS $(rdata ANSWER A)"
	rc=running
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || {
			wait "$pid"
			rc=$?
			break
		}
		sleep 0.1
	done
	check "replica $r: exit status after the lameduck" 0 "$rc"
	[ "$rc" = running ] && kill -KILL "$pid"
	start_replica "$r"
	ttl_is "$r" "$TTL"
done

# ---------------------------------------------------------------- reloads

for TTL in 11 12 13; do
	for r in "$A" "$B"; do
		write_corefile "$r" "$TTL"
		kill -USR1 "${PIDS[$r]}"
	done
	for r in "$A" "$B"; do
		ttl_is "$r" "$TTL"
	done
done
for r in "$A" "$B"; do
	check "replica $r: still ready after the reloads" 200 \
		"$(pod_probe 8181 /ready "$r")"
done

# ---------------------------------------------------------------- the count

kill -TERM "$LOAD_PID"
for _ in $(seq 1 50); do
	kill -0 "$LOAD_PID" 2>/dev/null || break
	sleep 0.1
done
wait "$LOAD_PID"
check "the load client: exit status" 0 "$?"
OUT=$(cat "$LOAD/out" "$LOAD/err")
echo "# $(head -n 1 "$LOAD/out")"
check_match "the load: no query lost" \
	'^queries sent [1-9][0-9]*, answered [0-9]+, lost 0, ' "$OUT"
check_match "the load: no wrong answer, always a replica ready" \
	', wrong 0, unrouted 0$' "$OUT"
for r in "$A" "$B"; do
	check_match "the load: replica $r answered" \
		"^answered by $r [1-9]" "$OUT"
done
OUT=

check_no_secret "the token is not logged" "$EMU_TOKEN"
finish
