#!/bin/bash
# api-pages.sh -- pods over several LIST pages: with `pods verified`,
# 1000 pods and the fixture's (pages of 500, each scanned as it arrives
# while the next one is already asked for; the last page a few pods, all
# in before it is its turn) are all in after the first sync, and a relist
# through faults (500s on the first requests after every watch expired)
# converges to the emulator's pods, a pod deleted and one created
# meanwhile included.  Twice: with plain replies, and gzipped as the API
# server sends replies of 128 KiB and more (each page paused while the
# next is asked for is then a compressed stream).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=apilib.sh
. "$(dirname "$0")/apilib.sh"

Z=$ZONE
N=1000

# ip I: the address of pod I
ip()
{
	echo "10.77.$(($1 / 250)).$(($1 % 250 + 1))"
}
# pod I [PHASE]: pod I as the API has it (mostly what DNS does not read)
pod()
{
	local a
	a=$(ip "$1")
	printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"pg-%04d","namespace":"prod","labels":{"app":"pg","pod-template-hash":"5d8f7c"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"pg-5d8f7c","uid":"0a1b","controller":true}]},"spec":{"containers":[{"name":"app","image":"registry.example/pg:1.0","ports":[{"containerPort":8080,"protocol":"TCP"}],"args":["-v","\\"quoted\\"","\\u00e9"]}],"nodeName":"n1","priority":0},"status":{"phase":"%s","conditions":[{"type":"Ready","status":"True"}],"podIP":"%s","podIPs":[{"ip":"%s"}],"startTime":"2024-05-01T10:00:00Z"}}' \
		"$1" "${2:-Running}" "$a" "$a"
}
mkdir -p "$E2E_TMP/pages"
{
	echo '{"kind":"PodList","apiVersion":"v1","metadata":{},"items":['
	for i in $(seq 0 $((N - 1))); do
		[ "$i" -gt 0 ] && echo ","
		pod "$i"
	done
	echo ']}'
} >"$E2E_TMP/pages/pods.json"

# name I: the pod name of pod I's address in prod
name()
{
	echo "$(ip "$1" | tr . -).prod.pod.$Z"
}
# the first and last pods of every page and some between
SAMPLE="0 1 250 498 499 500 501 777 990 994 995 996 997 998 999"
# verified WHAT: every sampled pod answers with its address
verified()
{
	local i bad=
	for i in $SAMPLE; do
		[ "$(dns_value "$(name "$i")" A)" = "$(ip "$i")" ] ||
			bad="$bad $i"
	done
	check "$1: the sampled pods of every page are verified" "" "$bad"
}

# round NAME GZIP: the sync and the relist against an emulator that
# gzips replies of GZIP bytes or more (0: none)
round()
{
	local r=$1
	EMU_TOKEN=$(new_token)
	emu_start "$r-emu" 0 -gzip "$2" -load "$API_FIXTURE" "$E2E_TMP/pages"
	KC=$E2E_TMP/$r.kubeconfig
	write_kubeconfig "$KC" "$EMU_URL" file token "$EMU_TOKEN"
	start_server "$r" < <(api_corefile "kubeconfig $KC" "pods verified")
	PID=$SERVER_PID
	LOG=$SERVER_DIR/out.log

	converge "$r: first sync" "$(name 999)" A "$(ip 999)"
	verified "$r: first sync"
	check "$r: an address no pod has" NXDOMAIN \
		"$(dns_value "10-77-200-1.prod.pod.$Z" A)"
	check "$r: a pod's address in another namespace" NXDOMAIN \
		"$(dns_value "$(ip 600 | tr . -).staging.pod.$Z" A)"
	check "$r: the pods' list was read whole" 0 \
		"$(grep -c 'not a list\|left out' "$LOG")"

	# every watch expires: every kind is listed again, and the first
	# requests of the relist fail; a pod goes and one comes meanwhile
	emu_fault '{"fault":"status","code":500,"count":3}'
	emu_fault '{"fault":"expire-watches"}'
	emu_del pods/prod/pg-0600
	emu_put "$(pod 1300 | sed 's/pg-1300/pg-new/')"
	emu_put "$(pod 700 Succeeded)"
	converge "$r: relist: a pod deleted" "$(name 600)" A NXDOMAIN 40
	converge "$r: relist: a pod created" "$(name 1300)" A "$(ip 1300)" 40
	converge "$r: relist: a pod finished" "$(name 700)" A NXDOMAIN 40
	verified "$r: after the relist"
	check "$r: pods are still read whole" 0 \
		"$(grep -c 'not a list\|left out' "$LOG")"

	stop_daemon "$r" "$PID" "$LOG"
	emu_stop
}

round plain 0
round gzip 131072
finish
