#!/bin/bash
# deploy-manifests.sh -- the manifests of tools/deploy, checked offline:
# against the Kubernetes API's schema (tools/deploy/kubecheck.py with
# Debian's python3-kubernetes), against what kubectl itself makes of them
# when kubectl is there, and against what the Deployment must be (the
# kubeadm CoreDNS addon's objects, RBAC for exactly what zones/apisrc.c
# reads).  Broken copies of the manifests must be rejected.
#
# Not yet checked here: that clusterdns accepts the ConfigMap's Corefile as
# a whole.  It needs the health, ready, prometheus and reload directives;
# until clusterdns has them the test only checks that every other directive
# of the Corefile is one clusterdns lists with -plugins.

. "$(dirname "$0")/lib.sh"

DEPLOY=$top_srcdir/tools/deploy
MANIFEST=$DEPLOY/clusterdns.yaml
KUBECHECK=$DEPLOY/kubecheck.py
PY=/usr/bin/python3

[ -x "$PY" ] || skip "$PY not found"
"$PY" -c 'import kubernetes.client, yaml' 2>/dev/null ||
	skip "python3-kubernetes or python3-yaml not installed (tools/install-deps.sh)"

# yaml2json FILE: the documents of a YAML file as one JSON array.
yaml2json()
{
	"$PY" -c 'import json, sys, yaml
json.dump([d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None], sys.stdout)' "$1"
}

# q JQ-FILTER: a jq filter over the manifest's documents, raw output.
q()
{
	jq -r "$1" "$E2E_TMP/manifest.json"
}

# rejected WHAT FILE PATTERN: kubecheck refuses FILE with a message
# matching PATTERN.
rejected()
{
	local out rc
	out=$("$KUBECHECK" "$2" 2>&1)
	rc=$?
	check "broken copy ($1): kubecheck exit status" 1 "$rc"
	check_match "broken copy ($1): the problem named" "$3" "$out"
}

# ---------------------------------------------------------------- schema

OUT=$("$KUBECHECK" "$MANIFEST" 2>&1)
check "kubecheck: the manifest" "kubecheck: 7 objects, no problem" "$OUT"
OUT=

yaml2json "$MANIFEST" >"$E2E_TMP/manifest.json"
check "the objects" \
	"ClusterRole/system:coredns ClusterRoleBinding/system:coredns ConfigMap/kube-system/coredns Deployment/kube-system/coredns PodDisruptionBudget/kube-system/coredns Service/kube-system/kube-dns ServiceAccount/kube-system/coredns" \
	"$(q '[.[] | "\(.kind)/\(.metadata.namespace // "" | if . == "" then "" else . + "/" end)\(.metadata.name)"] | sort | join(" ")')"

# The test of the test: broken copies are refused, each for its fault.
b=$E2E_TMP/broken
mkdir -p "$b"
sed 's/^  replicas: 2$/  replica: 2/' "$MANIFEST" >"$b/field.yaml"
rejected "misspelled field" "$b/field.yaml" "spec.replica: unknown field"
sed 's/^kind: PodDisruptionBudget$/kind: PodDisruptionBudgets/' "$MANIFEST" >"$b/kind.yaml"
rejected "wrong kind" "$b/kind.yaml" "no kind PodDisruptionBudgets in policy/v1"
sed 's/^apiVersion: apps\/v1$/apiVersion: apps\/v2/' "$MANIFEST" >"$b/version.yaml"
rejected "wrong apiVersion" "$b/version.yaml" "apiVersion: no API apps/v2"
sed 's/runAsUser: 65532/runAsUser: nobody/' "$MANIFEST" >"$b/type.yaml"
rejected "wrong type" "$b/type.yaml" "securityContext.runAsUser: int expected"
sed '/^roleRef:$/,/^  name: system:coredns$/d' "$MANIFEST" >"$b/required.yaml"
rejected "missing required field" "$b/required.yaml" "ClusterRoleBinding.*role_ref"
sed 's/^            - name: dns-tcp$/            - nam: dns-tcp/' "$MANIFEST" >"$b/deep.yaml"
rejected "misspelled field deep down" "$b/deep.yaml" \
	"containers\[0\]\.ports\[1\]\.nam: unknown field"
sed '/^kind: ClusterRole$/{n;s/^metadata:$/metadata:\n  namespace: kube-system/}' \
	"$MANIFEST" >"$b/scope.yaml"
rejected "cluster-scoped object with a namespace" "$b/scope.yaml" \
	"ClusterRole is cluster-scoped"

# ---------------------------------------------------------------- RBAC

# What zones/apisrc.c lists and watches, from its cluster-wide paths.
want=$(grep -oE '"/api/v1/[a-z]+"|"/apis/[a-z0-9.]+/v1/[a-z]+"' \
	"$top_srcdir/zones/apisrc.c" | tr -d '"' |
	sed -E 's|^/api/v1/|core/|; s|^/apis/([^/]*)/v1/|\1/|' | LC_ALL=C sort -u |
	tr '\n' ' ')
got=$(q '.[] | select(.kind == "ClusterRole") | .rules[] |
	.apiGroups[] as $g | .resources[] | "\(if $g == "" then "core" else $g end)/\(.)"' |
	LC_ALL=C sort -u | tr '\n' ' ')
check "ClusterRole: the resources apisrc.c reads, no more" "$want" "$got"
check "ClusterRole: verbs list and watch only" "list watch" \
	"$(q '[.[] | select(.kind == "ClusterRole") | .rules[].verbs[]] | unique | join(" ")')"
check "ClusterRole: pods rule says it is for pods verified" 1 \
	"$(grep -c 'pods only with `pods$' "$MANIFEST")"
check "ClusterRoleBinding: the role to the service account" \
	"ClusterRole/system:coredns ServiceAccount/kube-system/coredns" \
	"$(q '.[] | select(.kind == "ClusterRoleBinding") | "\(.roleRef.kind)/\(.roleRef.name) \(.subjects[0].kind)/\(.subjects[0].namespace)/\(.subjects[0].name)"')"

# ---------------------------------------------------------------- Deployment

D='.[] | select(.kind == "Deployment")'
C="$D | .spec.template.spec.containers[0]"
check "Deployment: labels" "kube-dns kube-dns kube-dns" \
	"$(q "$D | \"\(.metadata.labels[\"k8s-app\"]) \(.spec.selector.matchLabels[\"k8s-app\"]) \(.spec.template.metadata.labels[\"k8s-app\"])\"")"
check "Deployment: 2 replicas, rolling update maxUnavailable 1" "2 RollingUpdate 1" \
	"$(q "$D | \"\(.spec.replicas) \(.spec.strategy.type) \(.spec.strategy.rollingUpdate.maxUnavailable)\"")"
check "Deployment: pod anti-affinity on k8s-app=kube-dns" \
	"k8s-app In kube-dns kubernetes.io/hostname" \
	"$(q "$D | .spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm | \"\(.labelSelector.matchExpressions[0] | \"\(.key) \(.operator) \(.values | join(\",\"))\") \(.topologyKey)\"")"
check "Deployment: priority, DNS policy, service account" \
	"system-cluster-critical Default coredns" \
	"$(q "$D | .spec.template.spec | \"\(.priorityClassName) \(.dnsPolicy) \(.serviceAccountName)\"")"
check "Deployment: tolerations as kubeadm" \
	"CriticalAddonsOnly//Exists node-role.kubernetes.io/control-plane/NoSchedule/" \
	"$(q "[$D | .spec.template.spec.tolerations[] | \"\(.key)/\(.effect // \"\")/\(.operator // \"\")\"] | join(\" \")")"
check "Deployment: args" '-conf /etc/coredns/Corefile' "$(q "$C | .args | join(\" \")")"
check "Deployment: liveness probe with kubeadm's timings" \
	"/health 8080 HTTP 60 5 1 5" \
	"$(q "$C | .livenessProbe | \"\(.httpGet.path) \(.httpGet.port) \(.httpGet.scheme) \(.initialDelaySeconds) \(.timeoutSeconds) \(.successThreshold) \(.failureThreshold)\"")"
check "Deployment: readiness probe" "/ready 8181" \
	"$(q "$C | .readinessProbe.httpGet | \"\(.path) \(.port)\"")"
check "Deployment: resources" "100m 70Mi 170Mi" \
	"$(q "$C | .resources | \"\(.requests.cpu) \(.requests.memory) \(.limits.memory)\"")"
check "Deployment: container ports" "dns/53/UDP dns-tcp/53/TCP metrics/9153/TCP" \
	"$(q "[$C | .ports[] | \"\(.name)/\(.containerPort)/\(.protocol)\"] | join(\" \")")"
check "Deployment: the ConfigMap at /etc/coredns" "config-volume /etc/coredns coredns Corefile" \
	"$(q "$D | .spec.template.spec | \"\(.containers[0].volumeMounts[0].name) \(.containers[0].volumeMounts[0].mountPath) \(.volumes[0].configMap.name) \(.volumes[0].configMap.items[0].path)\"")"
check "Deployment: security context" \
	"true 65532 false ALL NET_BIND_SERVICE true" \
	"$(q "$C | .securityContext | \"\(.runAsNonRoot) \(.runAsUser) \(.allowPrivilegeEscalation) \(.capabilities.drop | join(\",\")) \(.capabilities.add | join(\",\")) \(.readOnlyRootFilesystem)\"")"
uid=$(q "$C | .securityContext.runAsUser")
check "Containerfile: USER is the Deployment's uid" "$uid" \
	"$(sed -n 's/^USER \([0-9]*\).*/\1/p' "$DEPLOY/Containerfile" | tail -n 1)"

# ---------------------------------------------------------------- Service, PDB

S='.[] | select(.kind == "Service")'
check "Service: selector and clusterIP" "kube-dns 10.96.0.10" \
	"$(q "$S | \"\(.spec.selector[\"k8s-app\"]) \(.spec.clusterIP)\"")"
check "Service: ports" "dns/53/UDP/53 dns-tcp/53/TCP/53 metrics/9153/TCP/9153" \
	"$(q "[$S | .spec.ports[] | \"\(.name)/\(.port)/\(.protocol)/\(.targetPort)\"] | join(\" \")")"
check "Service: prometheus annotations" "9153 true" \
	"$(q "$S | .metadata.annotations | \"\(.[\"prometheus.io/port\"]) \(.[\"prometheus.io/scrape\"])\"")"
check "PodDisruptionBudget: one replica down at most" "1 kube-dns" \
	"$(q '.[] | select(.kind == "PodDisruptionBudget") | .spec | "\(.maxUnavailable // "") \(.selector.matchLabels["k8s-app"])"')"

# ---------------------------------------------------------------- Corefile

jq -j '.[] | select(.kind == "ConfigMap") | .data.Corefile' \
	"$E2E_TMP/manifest.json" >"$E2E_TMP/Corefile"
check "ConfigMap: kubeadm's default Corefile" \
	".:53 { errors health { lameduck 5s } ready kubernetes cluster.local in-addr.arpa ip6.arpa { pods insecure fallthrough in-addr.arpa ip6.arpa ttl 30 } prometheus :9153 forward . /etc/resolv.conf { max_concurrent 1000 } cache 30 { disable success cluster.local disable denial cluster.local } loop reload loadbalance }" \
	"$(tr -s ' \n' '  ' <"$E2E_TMP/Corefile" | sed 's/^ //; s/ $//')"
known=" $("$CLUSTERDNS" -plugins | sed -n 's/^  dns\.//p' | tr '\n' ' ') "
unknown=
for d in $(awk 'NR > 1 && $1 != "}" { print $1 }' "$E2E_TMP/Corefile" |
	grep -vE '^(lameduck|pods|fallthrough|ttl|max_concurrent|disable)$'); do
	case "$known" in
	*" $d "*) ;;
	*) unknown="$unknown $d" ;;
	esac
done
check "Corefile: every directive is one clusterdns has" "" "$unknown"
# tests/test_config.c loads that fixture and checks every directive of it.
check "ConfigMap: the Corefile the config unit test loads" \
	"$(tr -s ' \n' '  ' <"$top_srcdir/tests/fixtures/corefile/kubeadm.Corefile")" \
	"$(tr -s ' \n' '  ' <"$E2E_TMP/Corefile")"

# ---------------------------------------------------------------- kubectl

if ! command -v kubectl >/dev/null 2>&1; then
	echo "# kubectl not found: its checks are skipped"
	finish
fi
# Nothing below talks to a server: kubectl has none here.
export KUBECONFIG=/dev/null

k=$E2E_TMP/kustomize
mkdir -p "$k"
cp "$MANIFEST" "$k/"
printf 'resources:\n  - clusterdns.yaml\n' >"$k/kustomization.yaml"
if kubectl kustomize "$k" >"$k/out.yaml" 2>"$k/err"; then
	check "kubectl kustomize: the objects" 7 "$(grep -c '^kind: ' "$k/out.yaml")"
else
	OUT=$(cat "$k/err")
	fail "kubectl kustomize" "the manifest built" "an error"
fi
printf 'apiVersion: v1\nkind ServiceAccount\n' >"$k/clusterdns.yaml"
kubectl kustomize "$k" >/dev/null 2>&1
check "kubectl kustomize: a broken copy is refused" 1 "$?"

# gen_subset WHAT MANIFEST-JSON KUBECTL-ARG...: the object kubectl's own
# generator makes (kubectl create ... --dry-run=client -o json) is part of
# the manifest's object of that kind and name: every field kubectl sets
# has the same value there.
gen_subset()
{
	local what=$1 m=$2 gen
	shift 2
	if ! gen=$(kubectl "$@" --dry-run=client -o json 2>&1); then
		OUT=$gen
		fail "kubectl generator: $what" "an object" "an error"
		return
	fi
	check "kubectl generator: $what is part of the manifest" "" \
		"$(jq -rn --argjson g "$gen" --slurpfile m "$m" '
		($g | del(.metadata.creationTimestamp, .status)) as $g
		| ($m[0][] | select(.kind == $g.kind and .metadata.name == $g.metadata.name)) as $o
		| [$g | paths(scalars) as $p
			| select(($o | getpath($p)) != ($g | getpath($p)))
			| $p | map(tostring) | join(".")] | join(" ")' 2>&1)"
}

for m in "$E2E_TMP/manifest.json" broken; do
	if [ "$m" = broken ]; then
		# The test of the test: a misspelled roleRef, a wrong namespace.
		sed -e 's/^roleRef:$/roleref:/' -e 's/^  namespace: kube-system$/  namespace: kube-sytem/' \
			"$MANIFEST" >"$b/gen.yaml"
		yaml2json "$b/gen.yaml" >"$b/gen.json"
		m=$b/gen.json
		n0=$E2E_FAIL
		exec 3>&1 >"$b/gen.out"
	fi
	gen_subset ServiceAccount "$m" create serviceaccount coredns -n kube-system
	gen_subset ClusterRoleBinding "$m" create clusterrolebinding system:coredns \
		--clusterrole=system:coredns --serviceaccount=kube-system:coredns
	gen_subset PodDisruptionBudget "$m" create poddisruptionbudget coredns \
		-n kube-system --selector=k8s-app=kube-dns --max-unavailable=1
	gen_subset ConfigMap "$m" create configmap coredns -n kube-system \
		--from-file=Corefile="$E2E_TMP/Corefile"
done
exec 1>&3 3>&-
check "kubectl generators: the broken copy differs in all four" 4 \
	"$((E2E_FAIL - n0))"
E2E_FAIL=$n0
E2E_FAILED=("${E2E_FAILED[@]:0:$n0}")

finish
