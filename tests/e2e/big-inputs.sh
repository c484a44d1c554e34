#!/bin/bash
# big-inputs.sh -- big and bad inputs fail cleanly: every object left out
# (a name that cannot be a DNS name, a kind DNS does not use) is logged once,
# not again on reloads of the same files; a malformed object or a file over
# the size limit is an error naming the file, and the zone served before
# stays; a manifest of 20,000 services loads while queries keep being
# answered.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

Z=$ZONE
OBJ=$E2E_TMP/objects
mkdir -p "$OBJ"
GENCLUSTER=$top_builddir/tools/gencluster
[ -x "$GENCLUSTER" ] || skip "tools/gencluster not built"
cat >"$OBJ/base.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: big
spec:
  clusterIP: 10.96.5.1
EOF
export OBJECTS=$OBJ
start_server main < <(corefile "pods none")
PID=$SERVER_PID
LOG=$SERVER_DIR/out.log
assert_answer "web.big.svc.$Z" A 10.96.5.1

# lines LABEL PATTERN WANT: the log has WANT lines matching PATTERN (ERE).
lines()
{
	check "$1" "$3" "$(grep -Ec -- "$2" "$LOG")"
}

# reloads: how many reloads the log reports so far (done or failed).
reloads()
{
	grep -Ec 'plugin/kubernetes: reload(ed| failed)' "$LOG"
}

# wait_reload N: wait (bounded) until the log reports more than N reloads.
wait_reload()
{
	local i
	for i in $(seq 1 150); do
		[ "$(reloads)" -gt "$1" ] && return 0
		sleep 0.2
	done
	return 1
}

# ---- left out: a 300-byte service name and an unknown kind, once each
LONG=$(printf 'a%.0s' $(seq 1 300))
N=$(reloads)
cat >"$OBJ/odd.yaml" <<EOF
apiVersion: v1
kind: Service
metadata:
  name: $LONG
  namespace: big
spec:
  clusterIP: 10.96.5.2
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: deploy
  namespace: big
---
apiVersion: v1
kind: Service
metadata:
  name: good
  namespace: big
spec:
  clusterIP: 10.96.5.3
EOF
eventually "good.big.svc.$Z" A 10.96.5.3
wait_reload "$N"
lines "long name logged once" \
	"odd\.yaml: left out Service big/a{64}\.\.\.: metadata\.name is 300 bytes long" 1
lines "long name cut in the log" "$LONG" 0
lines "unknown kind logged once" \
	"odd\.yaml: left out Deployment big/deploy: not a kind DNS uses" 1
assert_answer "web.big.svc.$Z" A 10.96.5.1

# the same files again (SIGHUP, and a touch): not logged again
N=$(reloads)
kill -HUP "$PID"
wait_reload "$N" || fail "reload after SIGHUP" reloaded silent
N=$(reloads)
touch "$OBJ/odd.yaml"
wait_reload "$N" || fail "reload after a touch" reloaded silent
lines "long name still logged once" "left out Service big/a{64}" 1
lines "unknown kind still logged once" "left out Deployment big/deploy" 1

# changed: the reason changes, logged again
N=$(reloads)
sed -i 's/^kind: Deployment/kind: StatefulSet/' "$OBJ/odd.yaml"
wait_reload "$N"
lines "changed kind logged" "left out StatefulSet big/deploy" 1
lines "long name not logged again" "left out Service big/a{64}" 1
rm "$OBJ/odd.yaml"
eventually "good.big.svc.$Z" A NXDOMAIN

# ---- a bad address: an error naming the file and the object, zone kept
N=$(reloads)
printf '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "badip", "namespace": "big"}, "spec": {"clusterIP": "10.96.5"}}\n' \
	>"$OBJ/badip.json"
wait_reload "$N"
lines "bad address reported" \
	'reload failed, keeping the previous zone: .*badip\.json:1:[0-9]+: Service big/badip: spec\.clusterIP: "10\.96\.5" is not an IP address' 1
assert_answer "web.big.svc.$Z" A 10.96.5.1
assert_nxdomain "badip.big.svc.$Z" A
rm "$OBJ/badip.json"

# ---- a file over the limit (sparse, made here): error, zone kept
N=$(reloads)
: >"$OBJ/huge.json"
truncate -s 129M "$OBJ/huge.json"
wait_reload "$N"
lines "size limit reported" \
	'reload failed, keeping the previous zone: .*huge\.json: 135266304 bytes, more than the limit of 134217728 bytes \(128 MiB\) for one file' 1
assert_answer "web.big.svc.$Z" A 10.96.5.1
rm "$OBJ/huge.json"

# ---- 20,000 services load while queries are answered
N=$(reloads)
"$GENCLUSTER" -n 10 -s 20000 -H 0 "$E2E_TMP/gen" >/dev/null
: >"$E2E_TMP/batch"
for i in $(seq 1 400); do
	echo "web.big.svc.$Z A" >>"$E2E_TMP/batch"
done
(
	sleep 0.2
	cp "$E2E_TMP/gen/services.json" "$E2E_TMP/gen/namespaces.json" "$OBJ/"
) &
COPY=$!
# one query every 10 ms or so, across the load
OUT=$(dig +norec +time=2 +tries=2 -p "$PORT" @127.0.0.1 -f "$E2E_TMP/batch" \
	+noall +comments +answer 2>&1)
wait "$COPY"
QUERY="400 queries while 20000 services load"
check "$QUERY: NOERROR" 400 "$(printf '%s\n' "$OUT" | grep -c 'status: NOERROR')"
check "$QUERY: answers" 400 "$(printf '%s\n' "$OUT" |
	grep -Ec "^web\.big\.svc\.$Z\.[[:space:]]+30[[:space:]]+IN[[:space:]]+A[[:space:]]+10\.96\.5\.1$")"
wait_reload "$N"
for i in $(seq 1 150); do
	ask "svc-19999.ns-009.svc.$Z" A
	[ "$STATUS" = NOERROR ] && [ -n "$(rdata ANSWER A)" ] && break
	sleep 0.2
done
check "the last generated service answers" NOERROR "$STATUS"
check_match "it has an address" '^10\.' "$(rdata ANSWER A)"
assert_answer "web.big.svc.$Z" A 10.96.5.1
# the files were read on the reader thread, then applied on the loop
check_match "the reload says how long reading and applying took" \
	'reloaded: [0-9]+ names, serial [0-9]+ \(read in [0-9]+ ms, applied in [0-9]+ ms\)' \
	"$(grep -E 'plugin/kubernetes: reloaded' "$LOG" | tail -n 1)"
if [ -r "/proc/$PID/status" ]; then
	echo "# $(grep -E 'plugin/kubernetes: reloaded' "$LOG" | tail -n 1)"
	echo "# memory after 20000 services: $(grep -E 'VmHWM|VmRSS' "/proc/$PID/status" | tr -s ' \t\n' ' ')"
fi

finish
