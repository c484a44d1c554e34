#!/bin/bash
# shellcheck disable=SC2119
# reload.sh -- the objects directory is watched: added, changed and removed
# files change the answers; SIGHUP reloads; a broken file keeps the old zone
# serving; queries are answered while reloads happen.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

Z=$ZONE
OBJ=$E2E_TMP/objects
cp -R "$FIXTURE" "$OBJ"
export OBJECTS=$OBJ

start_server main < <(corefile)
PID=$SERVER_PID

serial()
{
	ask "$Z" SOA
	rdata ANSWER SOA | awk '{ print $3 }'
}

assert_answer "web.prod.svc.$Z" A 10.96.1.10
assert_nxdomain "newsvc.prod.svc.$Z" A
assert_nxdomain "fresh.svc.$Z" A
S0=$(serial)
check_match "SOA serial is a number" '^[0-9]+$' "$S0"
sleep 1.1

# ---- a new file: a namespace and two services appear
cat >"$OBJ/added.yaml" <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: fresh
---
apiVersion: v1
kind: Service
metadata:
  name: newsvc
  namespace: prod
spec:
  clusterIP: 10.96.9.9
  ports:
    - name: http
      port: 80
---
apiVersion: v1
kind: Service
metadata:
  name: app
  namespace: fresh
spec:
  clusterIP: 10.96.9.10
EOF
eventually "newsvc.prod.svc.$Z" A 10.96.9.9
assert_answer "newsvc.prod.svc.$Z" A 10.96.9.9
assert_answer "app.fresh.svc.$Z" A 10.96.9.10
assert_answer "_http._tcp.newsvc.prod.svc.$Z" SRV "0 100 80 newsvc.prod.svc.$Z."
assert_answer "9.9.96.10.in-addr.arpa" PTR "newsvc.prod.svc.$Z."
assert_nodata "fresh.svc.$Z" A
# the rest of the zone is still there
assert_answer "web.prod.svc.$Z" A 10.96.1.10
assert_answer "db.prod.svc.$Z" A "10.244.1.5 | 10.244.1.6 | 10.244.1.7"
S1=$(serial)
check_match "SOA serial grew after a change ($S0 -> $S1)" '^1$' \
	"$(awk -v a="$S0" -v b="$S1" 'BEGIN { print (b > a) ? 1 : 0 }')"

# ---- a file replaced by rename (sed -i): web moves to a new address
sed -i 's/"10\.96\.1\.10"/"10.96.1.11"/g' "$OBJ/services.json"
eventually "web.prod.svc.$Z" A 10.96.1.11
assert_answer "11.1.96.10.in-addr.arpa" PTR "web.prod.svc.$Z."
assert_nxdomain "10.1.96.10.in-addr.arpa" PTR in-addr.arpa
# the ExternalName pointing at it follows
ask "ext.prod.svc.$Z" A
check "$QUERY: chased A follows the change" 10.96.1.11 "$(rdata ANSWER A)"

# ---- a file rewritten in place
cat >"$OBJ/added.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: newsvc
  namespace: prod
spec:
  clusterIP: 10.96.9.99
EOF
eventually "newsvc.prod.svc.$Z" A 10.96.9.99
assert_nxdomain "app.fresh.svc.$Z" A
assert_nxdomain "fresh.svc.$Z" A

# ---- a directory created later, with a file in it
mkdir "$OBJ/later"
cat >"$OBJ/later/late.json" <<'EOF'
{"apiVersion": "v1", "kind": "Service",
 "metadata": {"name": "late", "namespace": "prod"},
 "spec": {"clusterIP": "10.96.9.20", "clusterIPs": ["10.96.9.20"],
          "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}}
EOF
eventually "late.prod.svc.$Z" A 10.96.9.20

# ---- endpoints change: db-1 goes away
sed -i 's/"10\.244\.1\.6"/"10.244.1.16"/' "$OBJ/endpointslices.json"
eventually "db.prod.svc.$Z" A "10.244.1.16 | 10.244.1.5 | 10.244.1.7"
assert_answer "db-1.db.prod.svc.$Z" A 10.244.1.16
assert_nxdomain "6.1.244.10.in-addr.arpa" PTR in-addr.arpa

# ---- a removed file: its objects go
rm "$OBJ/added.yaml"
eventually "newsvc.prod.svc.$Z" A NXDOMAIN
assert_answer "late.prod.svc.$Z" A 10.96.9.20

# ---- a broken file keeps the old zone serving
printf '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": ' \
	>"$OBJ/broken.json"
sleep 1.5
if kill -0 "$PID" 2>/dev/null; then
	ok "daemon alive with a broken file"
else
	fail "daemon alive with a broken file" running exited
fi
assert_answer "web.prod.svc.$Z" A 10.96.1.11
assert_answer "late.prod.svc.$Z" A 10.96.9.20
assert_answer "db.prod.svc.$Z" A "10.244.1.16 | 10.244.1.5 | 10.244.1.7"
# a good file was broken mid-way: still the old zone
cp "$OBJ/services.json" "$E2E_TMP/services.json.good"
head -c 500 "$E2E_TMP/services.json.good" >"$OBJ/services.json"
sleep 1.5
assert_answer "web.prod.svc.$Z" A 10.96.1.11
assert_answer "api.prod.svc.$Z" AAAA fd00:10:96::1:20
assert_answer "5.1.244.10.in-addr.arpa" PTR "db-0.db.prod.svc.$Z."
# a broken YAML file as well
printf 'apiVersion: v1\nkind: Service\nmetadata: [name: x\n' >"$OBJ/bad.yaml"
sleep 1.5
assert_answer "web.prod.svc.$Z" A 10.96.1.11
# a valid JSON document with a field of the wrong type
printf '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "w", "namespace": "prod"}, "spec": {"clusterIP": 42, "ports": "x"}}\n' \
	>"$OBJ/wrongtype.json"
sleep 1.5
assert_answer "web.prod.svc.$Z" A 10.96.1.11
# repaired: the changes made meanwhile appear
rm "$OBJ/broken.json" "$OBJ/bad.yaml" "$OBJ/wrongtype.json"
cat >"$OBJ/during.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: during
  namespace: prod
spec:
  clusterIP: 10.96.9.50
EOF
cp "$E2E_TMP/services.json.good" "$OBJ/services.json"
eventually "during.prod.svc.$Z" A 10.96.9.50
assert_answer "web.prod.svc.$Z" A 10.96.1.11

# ---- SIGHUP reloads, the daemon keeps running with the same pid
kill -HUP "$PID"
sleep 0.5
if kill -0 "$PID" 2>/dev/null; then
	ok "daemon alive after SIGHUP"
else
	fail "daemon alive after SIGHUP" running exited
fi
assert_answer "web.prod.svc.$Z" A 10.96.1.11
assert_answer "during.prod.svc.$Z" A 10.96.9.50
sed -i 's/10\.96\.9\.50/10.96.9.51/' "$OBJ/during.yaml"
kill -HUP "$PID"
eventually "during.prod.svc.$Z" A 10.96.9.51
for i in 1 2 3 4 5; do
	kill -HUP "$PID"
done
sleep 0.5
assert_answer "web.prod.svc.$Z" A 10.96.1.11

# ---- queries are answered while the zone is reloaded again and again
(
	for i in $(seq 1 40); do
		printf 'apiVersion: v1\nkind: Service\nmetadata:\n  name: churn\n  namespace: prod\nspec:\n  clusterIP: 10.96.8.%d\n' \
			"$i" >"$OBJ/churn.yaml"
		[ $((i % 10)) -eq 0 ] && kill -HUP "$PID"
		sleep 0.05
	done
) &
CHURN=$!
: >"$E2E_TMP/batch"
for i in $(seq 1 150); do
	echo "web.prod.svc.$Z A" >>"$E2E_TMP/batch"
	echo "db.prod.svc.$Z A" >>"$E2E_TMP/batch"
done
OUT=$(dig +norec +time=2 +tries=2 -p "$PORT" @127.0.0.1 -f "$E2E_TMP/batch" \
	+noall +comments +answer 2>&1)
wait "$CHURN"
QUERY="300 queries during reloads"
check "$QUERY: NOERROR" 300 "$(printf '%s\n' "$OUT" | grep -c 'status: NOERROR')"
check "$QUERY: web answers" 150 "$(printf '%s\n' "$OUT" |
	grep -Ec "^web\.prod\.svc\.$Z\.[[:space:]]+30[[:space:]]+IN[[:space:]]+A[[:space:]]+10\.96\.1\.11$")"
check "$QUERY: db answers" 450 "$(printf '%s\n' "$OUT" |
	grep -Ec "^db\.prod\.svc\.$Z\.[[:space:]]+30[[:space:]]+IN[[:space:]]+A[[:space:]]+10\.244\.1\.(16|5|7)$")"
OUT=
eventually "churn.prod.svc.$Z" A 10.96.8.40

finish
