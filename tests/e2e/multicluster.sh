#!/bin/bash
# multicluster.sh -- `multicluster clusterset.local` in the kubernetes
# block: the ServiceImports of the Multi-Cluster Services API and their
# EndpointSlices (label multicluster.kubernetes.io/service-name) answered
# in the multicluster zone, from manifests (objects, YAML and JSON) and
# from the Kubernetes API (the emulator), where an import added, changed
# and deleted through the watch shows in the answers.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=apilib.sh
. "$(dirname "$0")/apilib.sh"

MC=clusterset.local
MCFIX=$top_srcdir/tests/fixtures/multicluster

# mc_corefile SOURCE-LINE: both zones and a reverse zone, one source
mc_corefile()
{
	echo ".:@PORT@ {"
	echo "    bind 127.0.0.1"
	echo "    kubernetes $ZONE $MC in-addr.arpa {"
	echo "        $1"
	echo "        multicluster $MC"
	echo "        ttl 30"
	echo "        startup_timeout 1s"
	echo "    }"
	echo "}"
}

# The answers the fixture gives, whatever the source.
check_fixture_answers()
{
	# ClusterSetIP: the import's address, its SRV, its endpoint name
	assert_answer "web.prod.svc.$MC" A 10.42.0.1
	assert_nodata "web.prod.svc.$MC" AAAA "$MC"
	assert_answer "_http._tcp.web.prod.svc.$MC" SRV \
		"0 100 80 web.prod.svc.$MC."
	assert_answer "w-0.cluster-a.web.prod.svc.$MC" A 10.1.0.5
	# the Service of the same name keeps the cluster zone
	assert_answer "web.prod.svc.$ZONE" A 10.96.5.10
	assert_answer "10-244-5-1.web.prod.svc.$ZONE" A 10.244.5.1
	assert_nxdomain "10-244-5-1.web.prod.svc.$MC" A "$MC"
	assert_nxdomain "w-0.cluster-a.web.prod.svc.$ZONE" A
	assert_answer "10.5.96.10.in-addr.arpa" PTR "web.prod.svc.$ZONE."
	# headless: the ready endpoints of both clusters
	assert_answer "db.prod.svc.$MC" A "10.1.0.7 | 10.2.0.7"
	assert_answer "_sql._tcp.db.prod.svc.$MC" SRV \
		"0 50 5432 db-0.cluster-a.db.prod.svc.$MC. | 0 50 5432 db-0.cluster-b.db.prod.svc.$MC."
	check "SRV: the targets' addresses in additional" 2 \
		"$(count ADDITIONAL A)"
	assert_answer "db-0.cluster-b.db.prod.svc.$MC" A 10.2.0.7
	assert_nxdomain "10-2-0-8.cluster-b.db.prod.svc.$MC" A "$MC"
	assert_nxdomain "db.prod.svc.$ZONE" A
	# no record names a cluster's backends as a whole
	assert_nodata "cluster-a.db.prod.svc.$MC" A "$MC"
	assert_answer "v6.prod.svc.$MC" AAAA fd00:42::7
	assert_nodata "v6.prod.svc.$MC" A "$MC"
	# the zone's own names; unknown names
	assert_answer "dns-version.$MC" TXT '"1.0.0"'
	assert_answer "dns-version.$ZONE" TXT '"1.1.0"'
	assert_nodata "prod.svc.$MC" A "$MC"
	assert_nodata "$MC" A "$MC"
	assert_nxdomain "nosuch.prod.svc.$MC" A "$MC"
	assert_nxdomain "web.nosuch.svc.$MC" A "$MC"
	assert_nxdomain "a.b.web.prod.svc.$MC" A "$MC"
	OUT=$(kdig +tcp +norec -p "$PORT" @127.0.0.1 "db.prod.svc.$MC" A 2>&1)
	check "kdig over TCP: both endpoints" 2 \
		"$(grep -c "^db\.prod\.svc\.$MC\..*A" <<<"$OUT")"
}

# ================================================================ objects
OBJ=$E2E_TMP/objects
mkdir -p "$OBJ"
cp "$MCFIX/cluster.json" "$MCFIX/imports.yaml" "$OBJ/"
start_server objects < <(mc_corefile "objects $OBJ")
check_fixture_answers

# a change of the manifests follows
sed 's/10\.42\.0\.1/10.42.0.9/' "$MCFIX/cluster.json" >"$OBJ/cluster.json.new"
mv "$OBJ/cluster.json.new" "$OBJ/cluster.json"
eventually "web.prod.svc.$MC" A 10.42.0.9
rm "$OBJ/imports.yaml"
eventually "db.prod.svc.$MC" A NXDOMAIN
stop_server "$SERVER_PID"

# ================================================================ the API
EMU_TOKEN=$(new_token)
emu_start mc-emu 0 -load "$MCFIX/cluster.json"
KC=$E2E_TMP/mc.kubeconfig
write_kubeconfig "$KC" "$EMU_URL" file token "$EMU_TOKEN"
start_server api < <(mc_corefile "kubeconfig $KC")
converge "first sync" "web.prod.svc.$MC" A 10.42.0.1
assert_answer "w-0.cluster-a.web.prod.svc.$MC" A 10.1.0.5
assert_answer "web.prod.svc.$ZONE" A 10.96.5.10

# an import added, changed and deleted through the watch
IMP='{"apiVersion":"multicluster.x-k8s.io/v1alpha1","kind":"ServiceImport","metadata":{"name":"api","namespace":"prod"},"spec":{"type":"ClusterSetIP","ips":["10.42.0.2"],"ports":[{"name":"grpc","port":9090,"protocol":"TCP"}]}}'
converge "import absent" "api.prod.svc.$MC" A NXDOMAIN
emu_put "$IMP"
converge "import added" "api.prod.svc.$MC" A 10.42.0.2
assert_answer "_grpc._tcp.api.prod.svc.$MC" SRV "0 100 9090 api.prod.svc.$MC."
emu_put "${IMP//10.42.0.2/10.42.0.3}"
converge "import changed" "api.prod.svc.$MC" A 10.42.0.3
emu_del serviceimports/prod/api
converge "import deleted" "api.prod.svc.$MC" A NXDOMAIN
converge "import deleted: SRV gone" "_grpc._tcp.api.prod.svc.$MC" SRV NXDOMAIN

# a headless import and a multicluster slice of it
emu_put '{"apiVersion":"multicluster.x-k8s.io/v1alpha1","kind":"ServiceImport","metadata":{"name":"db","namespace":"prod"},"spec":{"type":"Headless"}}'
converge "headless import without endpoints" "db.prod.svc.$MC" A NXDOMAIN
SL='{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"db-b","namespace":"prod","labels":{"multicluster.kubernetes.io/service-name":"db","multicluster.kubernetes.io/source-cluster":"cluster-b"}},"addressType":"IPv4","endpoints":[{"addresses":["10.2.0.7"],"hostname":"db-0"}],"ports":[{"name":"sql","port":5432,"protocol":"TCP"}]}'
emu_put "$SL"
converge "multicluster slice added" "db.prod.svc.$MC" A 10.2.0.7
converge "its endpoint name" "db-0.cluster-b.db.prod.svc.$MC" A 10.2.0.7
converge "not a Service's" "db.prod.svc.$ZONE" A NXDOMAIN
emu_put "${SL//10.2.0.7/10.2.0.9}"
converge "multicluster slice changed" "db-0.cluster-b.db.prod.svc.$MC" A 10.2.0.9
emu_del endpointslices/prod/db-b
converge "multicluster slice deleted" "db.prod.svc.$MC" A NXDOMAIN
# an import whose name is no DNS label is left out and said
emu_put '{"apiVersion":"multicluster.x-k8s.io/v1alpha1","kind":"ServiceImport","metadata":{"name":"a.b","namespace":"prod"},"spec":{"type":"ClusterSetIP","ips":["10.42.0.8"]}}'
for _ in $(seq 50); do
	grep -q 'left out ServiceImport prod/a.b' "$SERVER_DIR/out.log" && break
	sleep 0.1
done
check_match "an import named a.b is left out" \
	'left out ServiceImport prod/a\.b: metadata\.name has a dot' "$(daemon_log)"
emu_del serviceimports/prod/web
converge "fixture import deleted" "web.prod.svc.$MC" A NXDOMAIN
served "the Service stays" "web.prod.svc.$ZONE" A 10.96.5.10
stop_daemon "api" "$SERVER_PID" "$SERVER_DIR/out.log"
check_no_secret "no token in the log" "$EMU_TOKEN"

finish
