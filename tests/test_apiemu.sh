#!/bin/bash
# test_apiemu.sh -- end-to-end test of the Kubernetes API emulator
# (tools/apiemu) with curl: typed lists, pagination over a consistent
# snapshot, selectors, watches with ADDED/MODIFIED/DELETED and bookmarks,
# 410 after compaction, faults, token rotation and client certificates.
#
# Exit status: 0 passed, 1 failed, 77 skipped (curl, openssl or jq
# missing).  The binary is $APIEMU, else the apiemu program under
# $top_builddir/tools (top_builddir defaults to the repository root).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$HERE/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
FIX=$top_srcdir/tests/fixtures/apiemu

if [ -z "${APIEMU:-}" ]; then
	for f in "$top_builddir/tools/apiemu/apiemu" "$top_builddir/tools/apiemu"; do
		if [ -f "$f" ] && [ -x "$f" ]; then
			APIEMU=$f
			break
		fi
	done
fi
for t in curl openssl jq; do
	command -v "$t" >/dev/null 2>&1 || {
		echo "SKIP: $t not found"
		exit 77
	}
done
if [ -z "${APIEMU:-}" ] || [ ! -x "$APIEMU" ]; then
	echo "FAIL - apiemu not built (looked under $top_builddir/tools)"
	exit 1
fi

PASS=0
FAILS=0
ok()
{
	echo "ok - $1"
	PASS=$((PASS + 1))
}
fail()
{
	echo "FAIL - $1"
	[ $# -gt 1 ] && printf '    %s\n' "${@:2}"
	FAILS=$((FAILS + 1))
}
# check NAME EXPECTED ACTUAL
check()
{
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1" "expected: $2" "got:      $3"
	fi
}

T=$(mktemp -d "${TMPDIR:-/tmp}/apiemu-test.XXXXXX")
EMU_PID=
cleanup()
{
	[ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null
	jobs -p | xargs -r kill 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# ---- certificates: a CA, the server's certificate, a client's, and a
# client certificate from a CA the server does not trust
mk()
{
	openssl "$@" >>"$T/openssl.log" 2>&1 || {
		echo "FAIL - openssl $1 (see below)"
		cat "$T/openssl.log"
		exit 1
	}
}
mk req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=apiemu-test-ca \
	-keyout "$T/ca.key" -out "$T/ca.crt"
mk req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rogue-ca \
	-keyout "$T/rogue.key" -out "$T/rogue.crt"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$T/san.ext"
mk req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$T/server.key" \
	-out "$T/server.csr"
mk x509 -req -in "$T/server.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" \
	-CAcreateserial -days 2 -extfile "$T/san.ext" -out "$T/server.crt"
mk req -newkey rsa:2048 -nodes -subj "/CN=clusterdns/O=system:masters" \
	-keyout "$T/client.key" -out "$T/client.csr"
mk x509 -req -in "$T/client.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" \
	-CAcreateserial -days 2 -out "$T/client.crt"
mk req -newkey rsa:2048 -nodes -subj /CN=intruder -keyout "$T/bad.key" \
	-out "$T/bad.csr"
mk x509 -req -in "$T/bad.csr" -CA "$T/rogue.crt" -CAkey "$T/rogue.key" \
	-CAcreateserial -days 2 -out "$T/bad.crt"

TOKEN=secret-token-1
"$APIEMU" -listen 127.0.0.1:0 -tls-cert "$T/server.crt" \
	-tls-key "$T/server.key" -client-ca "$T/ca.crt" -token "$TOKEN" \
	-bookmark-interval 1 -history 1000 -load "$FIX" \
	-pidfile "$T/apiemu.pid" >"$T/out" 2>"$T/err" &
EMU_PID=$!
URL=
for _ in $(seq 100); do
	URL=$(sed -n 's/^listening on //p' "$T/out")
	[ -n "$URL" ] && break
	kill -0 "$EMU_PID" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$URL" ]; then
	echo "FAIL - apiemu did not start"
	cat "$T/err"
	exit 1
fi
check "listening line says https on 127.0.0.1" 1 \
	"$(grep -c '^https://127\.0\.0\.1:[0-9][0-9]*$' <<<"$URL")"
check "pidfile holds the pid" "$EMU_PID" "$(cat "$T/apiemu.pid" 2>/dev/null)"

# c ARGS...: curl against the emulator, bounded, CA-verified, with the token
c()
{
	curl -sS --max-time 10 --cacert "$T/ca.crt" \
		-H "Authorization: Bearer $TOKEN" "$@"
}
# cn ARGS...: same without credentials
cn()
{
	curl -sS --max-time 10 --cacert "$T/ca.crt" "$@"
}
ctl()
{
	local m=$1 p=$2
	shift 2
	cn -X "$m" "$URL/_control/$p" "$@"
}
state()
{
	ctl GET state | jq -r "$1"
}
code()
{
	c -o /dev/null -w '%{http_code}' "$@"
}
names()
{
	jq -r '[.items[] | (.metadata.namespace // "") + "/" + .metadata.name] | join(" ")'
}

# ---- basics, authentication, errors
check "/healthz without credentials" ok "$(cn "$URL/healthz")"
check "/version" 1 "$(cn "$URL/version" | jq -r .major)"
R=$(cn -w '\n%{http_code}' "$URL/api/v1/services")
check "no token: 401" 401 "$(tail -n1 <<<"$R")"
check "no token: Status Unauthorized" "Status Unauthorized 401" \
	"$(head -n -1 <<<"$R" | jq -r '"\(.kind) \(.reason) \(.code)"')"
check "wrong token: 401" 401 "$(cn -o /dev/null -w '%{http_code}' \
	-H 'Authorization: Bearer nope' "$URL/api/v1/services")"
R=$(c -w '\n%{http_code}' "$URL/api/v1/nothing")
check "unknown path: 404 Status NotFound" "404 NotFound" \
	"$(tail -n1 <<<"$R") $(head -n -1 <<<"$R" | jq -r .reason)"
check "discovery /api" v1 "$(c "$URL/api" | jq -r '.versions[0]')"
check "discovery /apis" discovery.k8s.io \
	"$(c "$URL/apis" | jq -r '.groups[0].name')"

# ---- typed lists
RV=$(state .resourceVersion)
L=$(c "$URL/api/v1/services")
check "ServiceList kind and apiVersion" "ServiceList v1" \
	"$(jq -r '"\(.kind) \(.apiVersion)"' <<<"$L")"
check "list resourceVersion is the current one" "$RV" \
	"$(jq -r .metadata.resourceVersion <<<"$L")"
check "items carry no kind or apiVersion" 0 \
	"$(jq '[.items[] | select(has("kind") or has("apiVersion"))] | length' <<<"$L")"
check "items in key order" "prod/cache prod/db prod/web staging/web" \
	"$(names <<<"$L")"
check "items carry uid, creationTimestamp, resourceVersion" 0 \
	"$(jq '[.items[] | select(.metadata.uid == null or .metadata.creationTimestamp == null or .metadata.resourceVersion == null)] | length' <<<"$L")"
L=$(c "$URL/apis/discovery.k8s.io/v1/namespaces/prod/endpointslices")
check "EndpointSliceList" "EndpointSliceList discovery.k8s.io/v1 1" \
	"$(jq -r '"\(.kind) \(.apiVersion) \(.items | length)"' <<<"$L")"
check "NamespaceList" "NamespaceList /default /prod /staging" \
	"$(c "$URL/api/v1/namespaces" | jq -r '.kind + " " + ([.items[] | "/" + .metadata.name] | join(" "))')"
check "namespaced list" "staging/web-1 staging/web-2" \
	"$(c "$URL/api/v1/namespaces/staging/pods" | names)"
check "GET one object carries its kind" "Pod db-0" \
	"$(c "$URL/api/v1/namespaces/prod/pods/db-0" | jq -r '"\(.kind) \(.metadata.name)"')"
check "other kinds were skipped at load" 8 "$(state .objects.pods)"

# ---- selectors
sel()
{
	c -G "$URL/api/v1/$1" --data-urlencode "$2" | names
}
check "labelSelector k=v" "prod/web-1 prod/web-2 staging/web-1 staging/web-2" \
	"$(sel pods 'labelSelector=app=web')"
check "labelSelector k==v,k2=v2" "prod/web-1 prod/web-2" \
	"$(sel pods 'labelSelector=app==web,tier=front')"
check "labelSelector k!=v (also without the key)" \
	"default/solo prod/db-0 prod/db-1 prod/job-1 staging/web-1 staging/web-2" \
	"$(sel pods 'labelSelector=tier!=front')"
check "labelSelector exists" "staging/web-2" \
	"$(sel pods 'labelSelector=canary')"
check "labelSelector !k" "default/solo prod/db-0 prod/db-1 prod/job-1 staging/web-1" \
	"$(sel pods 'labelSelector=!tier,!canary')"
check "labelSelector k,!k" "prod/db-0 prod/db-1 prod/job-1 staging/web-1" \
	"$(sel pods 'labelSelector=app, !tier , !canary')"
check "labelSelector in" "prod/db-0 prod/db-1 prod/job-1" \
	"$(sel pods 'labelSelector=app in (db, job)')"
check "labelSelector notin" "default/solo prod/web-1 prod/web-2 staging/web-1 staging/web-2" \
	"$(sel pods 'labelSelector=app notin (db,job)')"
check "fieldSelector status.phase!=,!=" \
	"default/solo prod/db-0 prod/db-1 prod/web-1 prod/web-2 staging/web-1" \
	"$(sel pods 'fieldSelector=status.phase!=Succeeded,status.phase!=Failed')"
check "fieldSelector metadata.name and namespace" "staging/web-1" \
	"$(sel pods 'fieldSelector=metadata.name=web-1,metadata.namespace==staging')"
check "fieldSelector on services" "prod/db" \
	"$(sel services 'fieldSelector=metadata.name=db')"
check "bad labelSelector: 400" 400 \
	"$(code -G "$URL/api/v1/pods" --data-urlencode 'labelSelector=app in web')"
check "unsupported field: 400" 400 \
	"$(code -G "$URL/api/v1/services" --data-urlencode 'fieldSelector=spec.foo=1')"

# ---- pagination over a consistent snapshot
FULL=$(c "$URL/api/v1/pods" | names)
P=$(c "$URL/api/v1/pods?limit=3")
SNAP=$(jq -r .metadata.resourceVersion <<<"$P")
GOT=$(names <<<"$P")
TOK=$(jq -r '.metadata.continue // empty' <<<"$P")
check "page 1 has 3 items and a continue token" "3 yes" \
	"$(jq '.items | length' <<<"$P") $([ -n "$TOK" ] && echo yes)"
# change the cluster between pages
ctl POST objects -d '{"kind":"Pod","apiVersion":"v1","metadata":{"name":"aaa-new","namespace":"staging"},"status":{"phase":"Running"}}' >/dev/null
ctl POST objects -d '{"kind":"Pod","apiVersion":"v1","metadata":{"name":"zzz-new","namespace":"staging"},"status":{"phase":"Running"}}' >/dev/null
ctl DELETE objects/pods/staging/web-2 >/dev/null
ctl POST objects -d '{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-1","namespace":"staging","labels":{"app":"web","changed":"yes"}},"status":{"phase":"Running"}}' >/dev/null
pages=1
rvs_same=yes
while [ -n "$TOK" ] && [ $pages -lt 20 ]; do
	P=$(c -G "$URL/api/v1/pods" --data-urlencode limit=3 --data-urlencode "continue=$TOK")
	[ "$(jq -r .metadata.resourceVersion <<<"$P")" = "$SNAP" ] || rvs_same=no
	[ "$(jq '[.items[] | select(.metadata.labels.changed)] | length' <<<"$P")" = 0 ] || rvs_same=changed
	GOT="$GOT $(names <<<"$P")"
	TOK=$(jq -r '.metadata.continue // empty' <<<"$P")
	pages=$((pages + 1))
done
check "paginated list is the snapshot of its first page" "$FULL" "$(xargs <<<"$GOT")"
check "every page has the first page's resourceVersion and state" yes "$rvs_same"
check "pages" 3 "$pages"
check "a new list sees the changes" 1 \
	"$(c "$URL/api/v1/pods" | names | grep -c 'staging/aaa-new staging/web-1 staging/zzz-new')"
check "bad continue token: 400" 400 "$(code "$URL/api/v1/pods?limit=1&continue=garbage!")"

# ---- watch: ADDED, MODIFIED, DELETED, bookmarks, chunked stream
RV=$(state .resourceVersion)
c -N -D "$T/w1.h" "$URL/api/v1/namespaces/prod/services?watch=true&resourceVersion=$RV&allowWatchBookmarks=true&timeoutSeconds=4" >"$T/w1" 2>"$T/w1.err" &
W1=$!
c -N "$URL/api/v1/services?watch=1&resourceVersion=$RV&labelSelector=tier%3Dfront&timeoutSeconds=4" >"$T/w2" 2>/dev/null &
W2=$!
c -N --raw "$URL/api/v1/services?watch=1&resourceVersion=$RV&timeoutSeconds=4" >"$T/wraw" 2>/dev/null &
W3=$!
for _ in $(seq 50); do
	[ "$(state .watchers)" -ge 3 ] && break
	sleep 0.1
done
check "three watchers registered" 3 "$(state .watchers)"
SVC='{"kind":"Service","apiVersion":"v1","metadata":{"name":"new","namespace":"prod","labels":{"tier":"front"}},"spec":{"clusterIP":"10.96.1.99"}}'
ctl POST objects -d "$SVC" >/dev/null
ctl POST objects -d "${SVC/front/back}" >/dev/null
ctl POST objects -d "$SVC" >/dev/null
ctl DELETE objects/services/prod/new >/dev/null
ctl POST objects -d '{"kind":"Service","apiVersion":"v1","metadata":{"name":"other","namespace":"staging"}}' >/dev/null
wait $W1
RC1=$?
wait $W2
wait $W3
check "watch ended by timeoutSeconds, cleanly" 0 "$RC1"
check "watch: HTTP 200, JSON, chunked" "200 application/json chunked" \
	"$(awk 'NR==1 {print $2}' "$T/w1.h") $(grep -i '^content-type:' "$T/w1.h" | awk '{print $2}' | tr -d '\r') $(grep -i '^transfer-encoding:' "$T/w1.h" | awk '{print $2}' | tr -d '\r')"
check "every line is one JSON event" 0 \
	"$(jq -c . "$T/w1" >/dev/null 2>&1; echo $?)"
check "watch events" "ADDED MODIFIED MODIFIED DELETED" \
	"$(jq -r 'select(.type != "BOOKMARK") | .type' "$T/w1" | xargs)"
check "events carry kind and apiVersion" "Service v1" \
	"$(jq -r 'select(.type == "ADDED") | "\(.object.kind) \(.object.apiVersion)"' "$T/w1")"
check "event resourceVersions" "$((RV + 1)) $((RV + 2)) $((RV + 3)) $((RV + 4))" \
	"$(jq -r 'select(.type != "BOOKMARK") | .object.metadata.resourceVersion' "$T/w1" | xargs)"
check "DELETED carries the last state" front \
	"$(jq -r 'select(.type == "DELETED") | .object.metadata.labels.tier' "$T/w1")"
check "namespaced watch does not see other namespaces" 0 \
	"$(jq -r 'select(.object.metadata.name == "other")' "$T/w1" | wc -l)"
check "bookmarks arrive" yes \
	"$([ "$(grep -c '"BOOKMARK"' "$T/w1")" -ge 2 ] && echo yes)"
check "bookmark object: kind and resourceVersion only" \
	"Service v1 [\"resourceVersion\"]" \
	"$(jq -r -c 'select(.type == "BOOKMARK") | "\(.object.kind) \(.object.apiVersion) \(.object.metadata | keys)"' "$T/w1" | tail -n1)"
check "last bookmark is at the last resourceVersion" "$((RV + 5))" \
	"$(jq -r 'select(.type == "BOOKMARK") | .object.metadata.resourceVersion' "$T/w1" | tail -n1)"
check "selector watch: leaving the selector is DELETED, entering ADDED" \
	"ADDED DELETED ADDED DELETED" "$(jq -r .type "$T/w2" | xargs)"
check "no bookmarks unless asked" 0 "$(grep -c BOOKMARK "$T/w2")"

# dechunk FILE: "CHUNKS MID" where MID counts chunks that do not end at the
# end of an event line; the decoded stream goes to FILE.body.
dechunk()
{
	local f=$1 off=0 total line size n=0 mid=0 last
	total=$(wc -c <"$f")
	: >"$f.body"
	while [ "$off" -lt "$total" ] && [ $n -lt 10000 ]; do
		line=$(tail -c +$((off + 1)) "$f" | head -n1 | tr -d '\r')
		size=$((16#$line))
		off=$((off + ${#line} + 2))
		[ "$size" -eq 0 ] && break
		tail -c +$((off + 1)) "$f" | head -c "$size" >>"$f.body"
		last=$(tail -c +$((off + size)) "$f" | head -c1)
		[ -n "$last" ] && mid=$((mid + 1))
		off=$((off + size + 2))
		n=$((n + 1))
	done
	echo "$n $mid"
}
read -r NCHUNK NMID < <(dechunk "$T/wraw")
check "chunk boundaries are not event boundaries" yes \
	"$([ "$NMID" -gt 0 ] && [ "$NCHUNK" -gt "$(wc -l <"$T/wraw.body")" ] && echo yes)"
check "the chunks carry the events" "ADDED MODIFIED MODIFIED DELETED ADDED" \
	"$(jq -r .type "$T/wraw.body" | xargs)"

# watch without resourceVersion: the current state first
c -N "$URL/api/v1/namespaces/prod/services?watch=true&timeoutSeconds=1" >"$T/w3" 2>/dev/null
check "watch without resourceVersion starts with ADDED for each object" \
	"ADDED ADDED ADDED" "$(jq -r .type "$T/w3" | xargs)"

# ---- compaction: 410 for old watches and old continue tokens
P=$(c "$URL/api/v1/pods?limit=2")
TOK=$(jq -r .metadata.continue <<<"$P")
OLD=$(state .resourceVersion)
ctl POST objects -d "$SVC" >/dev/null
ctl POST compact >/dev/null
check "compact moves oldestResourceVersion" "$((OLD + 1))" "$(state .oldestResourceVersion)"
R=$(c -N "$URL/api/v1/services?watch=true&resourceVersion=$((OLD - 1))&timeoutSeconds=3")
check "watch from a compacted resourceVersion: ERROR 410 Expired" \
	"ERROR Status 410 Expired" \
	"$(jq -r '"\(.type) \(.object.kind) \(.object.code) \(.object.reason)"' <<<"$R")"
check "410 message" "too old resource version: $((OLD - 1)) ($((OLD + 1)))" \
	"$(jq -r .object.message <<<"$R")"
R=$(c -G -w '\n%{http_code}' "$URL/api/v1/pods" --data-urlencode limit=2 --data-urlencode "continue=$TOK")
check "expired continue token: 410 Expired" "410 Expired" \
	"$(tail -n1 <<<"$R") $(head -n -1 <<<"$R" | jq -r .reason)"
c -N "$URL/api/v1/services?watch=true&resourceVersion=$((OLD + 1))&timeoutSeconds=1" >"$T/w4"
check "watch from the compaction point is fine" 0 "$(grep -c ERROR "$T/w4")"

# ---- status faults
ctl POST fault -d '{"fault":"status","code":429,"count":2,"retry_after":7}' >/dev/null
c -D "$T/h429" -o "$T/b429" "$URL/api/v1/services"
check "429 with Retry-After" "429 7" \
	"$(awk 'NR==1 {print $2}' "$T/h429") $(grep -i '^retry-after:' "$T/h429" | awk '{print $2}' | tr -d '\r')"
check "429 Status" "TooManyRequests 7" "$(jq -r '"\(.reason) \(.details.retryAfterSeconds)"' "$T/b429")"
check "second 429" 429 "$(code "$URL/api/v1/services")"
check "after count: 200" 200 "$(code "$URL/api/v1/services")"
ctl POST fault -d '{"fault":"status","code":500,"count":1}' >/dev/null
R=$(c -w '\n%{http_code}' "$URL/api/v1/pods")
check "500 InternalError" "500 InternalError" \
	"$(tail -n1 <<<"$R") $(head -n -1 <<<"$R" | jq -r .reason)"
ctl POST fault -d '{"fault":"status","code":401,"count":1}' >/dev/null
check "injected 401" 401 "$(code "$URL/api/v1/pods")"
ctl POST fault -d '{"fault":"status","code":500,"count":5}' >/dev/null
ctl POST fault -d '{"fault":"clear"}' >/dev/null
check "clear removes pending faults" 200 "$(code "$URL/api/v1/pods")"

# ---- token rotation
ctl POST token -d '{"token":"secret-token-2"}' >/dev/null
check "old token after rotation: 401" 401 "$(code "$URL/api/v1/pods")"
TOKEN=secret-token-2
check "new token: 200" 200 "$(code "$URL/api/v1/pods")"

# ---- client certificates
check "client certificate without token: 200" 200 \
	"$(cn -o /dev/null -w '%{http_code}' --cert "$T/client.crt" --key "$T/client.key" "$URL/api/v1/pods")"
if cn -o /dev/null --cert "$T/bad.crt" --key "$T/bad.key" \
	"$URL/api/v1/pods" 2>/dev/null; then
	fail "certificate of an unknown CA: handshake refused"
else
	ok "certificate of an unknown CA: handshake refused"
fi
check "neither certificate nor token: 401" 401 \
	"$(cn -o /dev/null -w '%{http_code}' "$URL/api/v1/pods")"

# ---- watch faults
start_watch()
{
	c -N "$URL/api/v1/services?watch=true&resourceVersion=$(state .resourceVersion)&timeoutSeconds=8" >"$T/$1" 2>/dev/null &
	WPID=$!
	for _ in $(seq 50); do
		[ "$(state .watchers)" -ge 1 ] && return
		sleep 0.1
	done
}
start_watch wx
ctl POST fault -d '{"fault":"expire-watches"}' >/dev/null
wait $WPID
check "expire-watches: ERROR 410 then the end" "ERROR 410 0" \
	"$(jq -r '"\(.type) \(.object.code)"' "$T/wx") $?"

start_watch wd
ctl POST objects -d "$SVC" >/dev/null
sleep 0.2
ctl POST fault -d '{"fault":"drop-watches"}' >/dev/null
wait $WPID
RC=$?
check "drop-watches: the stream breaks (curl fails)" yes "$([ $RC -ne 0 ] && echo yes)"
check "drop-watches: events before the drop arrived" MODIFIED \
	"$(head -n1 "$T/wd" | jq -r .type 2>/dev/null)"
check "drop-watches: watchers gone" 0 "$(state .watchers)"

start_watch wg
ctl POST fault -d '{"fault":"garbage-line"}' >/dev/null
ctl POST objects -d "$SVC" >/dev/null
ctl POST fault -d '{"fault":"expire-watches"}' >/dev/null
wait $WPID
check "garbage-line: a line that is not JSON, then events again" \
	"1 MODIFIED" \
	"$(grep -c 'not JSON' "$T/wg") $(grep -v 'not JSON' "$T/wg" | head -n1 | jq -r .type)"

start_watch wb
ctl POST fault -d '{"fault":"big-object","bytes":5000000,"namespace":"prod","name":"web"}' >/dev/null
ctl POST fault -d '{"fault":"expire-watches"}' >/dev/null
wait $WPID
check "big-object: one MODIFIED line of more than 5 MB" "MODIFIED yes" \
	"$(head -n1 "$T/wb" | jq -r .type) $([ "$(head -n1 "$T/wb" | wc -c)" -gt 5000000 ] && echo yes)"
check "big-object keeps the service's spec" 10.96.1.10 \
	"$(c "$URL/api/v1/namespaces/prod/services/web" | jq -r .spec.clusterIP)"

# ---- stall: requests hang, then are answered
start_watch ws
ctl POST fault -d '{"fault":"stall","seconds":30}' >/dev/null
ctl POST objects -d "$SVC" >/dev/null
cn --max-time 1 -o /dev/null "$URL/healthz" 2>/dev/null
check "stall: a new request hangs" 28 "$?"
check "stall: the watch got nothing" 0 "$(wc -l <"$T/ws")"
c -o "$T/stalled" "$URL/api/v1/services" &
SP=$!
sleep 0.3
ctl POST fault -d '{"fault":"clear"}' >/dev/null
wait $SP
check "stall cleared: the held request is answered" ServiceList \
	"$(jq -r .kind "$T/stalled" 2>/dev/null)"
ctl POST fault -d '{"fault":"expire-watches"}' >/dev/null
wait $WPID
check "stall cleared: the watch gets its event" MODIFIED \
	"$(head -n1 "$T/ws" | jq -r .type)"

# ---- churn: a steady stream of changes in a namespace of its own
churn()
{
	ctl GET churn | jq -r "$1"
}
check "churn: stopped until started" 0 "$(churn .rate)"
check "churn: a bad rate is 400" 400 "$(cn -o /dev/null -w '%{http_code}' \
	-X POST "$URL/_control/churn" -d '{"rate":-1}')"
check "churn: a bad pool size is 400" 400 "$(cn -o /dev/null -w '%{http_code}' \
	-X POST "$URL/_control/churn" -d '{"slots":0}')"
check "churn: a bad namespace is 400" 400 "$(cn -o /dev/null -w '%{http_code}' \
	-X POST "$URL/_control/churn" -d '{"namespace":"Not_A_Label"}')"
c -N "$URL/api/v1/namespaces/churn-t/services?watch=true&resourceVersion=$(state .resourceVersion)&timeoutSeconds=3" >"$T/wc" 2>/dev/null &
WPID=$!
for _ in $(seq 50); do
	[ "$(state .watchers)" -ge 1 ] && break
	sleep 0.1
done
check "churn: started" "200 churn-t 20" \
	"$(ctl POST churn -d '{"rate":200,"namespace":"churn-t","slots":20}' |
		jq -r '"\(.rate) \(.namespace) \(.slots)"')"
for _ in $(seq 100); do
	[ "$(churn .changes)" -ge 200 ] && break
	sleep 0.1
done
check "churn: changes are made" yes \
	"$([ "$(churn .changes)" -ge 200 ] && echo yes)"
check "churn: its namespace was created" churn-t \
	"$(c "$URL/api/v1/namespaces/churn-t" | jq -r .metadata.name)"
wait $WPID
check "churn: a watch sees services added, modified and deleted" \
	"ADDED DELETED MODIFIED" \
	"$(jq -r 'select(.type != "BOOKMARK") | .type' "$T/wc" | sort -u | xargs)"
check "churn: stopped" 0 \
	"$(ctl POST churn -d '{"rate":0}' | jq -r .rate)"
RV=$(state .resourceVersion)
sleep 0.3
check "churn: no change once stopped" "$RV" "$(state .resourceVersion)"
check "churn: creates + updates + deletes = changes" true \
	"$(churn '.creates + .updates + .deletes == .changes')"
for r in services:api/v1 endpointslices:apis/discovery.k8s.io/v1 pods:api/v1; do
	check "churn: the ${r%%:*} present are the pool's, as counted" \
		"$(churn ".present.${r%%:*}") true" \
		"$(c "$URL/${r#*:}/namespaces/churn-t/${r%%:*}" | jq -r '"\(.items | length) \(all(.items[]; .metadata.name | test("^churn-(1?[0-9])$")))"')"
done
check "churn: even slots headless, odd ones a ClusterIP of 10.99/16 or 10.98/16" true \
	"$(c "$URL/api/v1/namespaces/churn-t/services" | jq -r '[.items[] | (.metadata.name | ltrimstr("churn-") | tonumber) as $i | if $i % 2 == 0 then .spec.clusterIP == "None" else (.spec.clusterIP | test("^10\\.9[89]\\.0\\.")) end] | all')"
check "churn: slices of the slot's service, endpoints in 10.251/16" true \
	"$(c "$URL/apis/discovery.k8s.io/v1/namespaces/churn-t/endpointslices" | jq -r '[.items[] | .metadata.labels["kubernetes.io/service-name"] == .metadata.name and (.endpoints | length) >= 1 and all(.endpoints[]; .addresses[0] | test("^10\\.251\\."))] | all')"
check "churn: running pods in 10.253/16" true \
	"$(c "$URL/api/v1/namespaces/churn-t/pods" | jq -r '[.items[] | .status.phase == "Running" and (.status.podIP | test("^10\\.253\\."))] | all')"
ctl POST churn -d '{"rate":100,"namespace":"churn-t","slots":20}' >/dev/null
N=$(churn .changes)
for _ in $(seq 100); do
	[ "$(churn .changes)" -gt "$N" ] && break
	sleep 0.1
done
check "churn: started again, it goes on counting" yes \
	"$([ "$(churn .changes)" -gt "$N" ] && echo yes)"

# ---- ServiceImports (multicluster.x-k8s.io/v1alpha1): list, watch, control
MCU=$URL/apis/multicluster.x-k8s.io/v1alpha1
check "discovery /apis lists multicluster.x-k8s.io" v1alpha1 \
	"$(c "$URL/apis" | jq -r '.groups[] | select(.name == "multicluster.x-k8s.io") | .versions[0].version')"
check "discovery of the group: serviceimports" "serviceimports ServiceImport" \
	"$(c "$MCU" | jq -r '.resources[0] | "\(.name) \(.kind)"')"
IMP='{"apiVersion":"multicluster.x-k8s.io/v1alpha1","kind":"ServiceImport","metadata":{"name":"web","namespace":"prod"},"spec":{"type":"ClusterSetIP","ips":["10.42.0.1"],"ports":[{"name":"http","port":80,"protocol":"TCP"}]}}'
ctl POST objects -d "$IMP" >/dev/null
L=$(c "$MCU/serviceimports")
check "ServiceImportList" "ServiceImportList multicluster.x-k8s.io/v1alpha1 prod/web" \
	"$(jq -r '"\(.kind) \(.apiVersion) "' <<<"$L")$(names <<<"$L")"
check "namespaced list of ServiceImports" "prod/web" \
	"$(c "$MCU/namespaces/prod/serviceimports" | names)"
check "GET one ServiceImport" "ServiceImport 10.42.0.1" \
	"$(c "$MCU/namespaces/prod/serviceimports/web" | jq -r '"\(.kind) \(.spec.ips[0])"')"
check "ServiceImports are not under discovery.k8s.io" 404 \
	"$(code "$URL/apis/discovery.k8s.io/v1/serviceimports")"
check "state counts ServiceImports" 1 "$(state .objects.serviceimports)"
c -N "$MCU/serviceimports?watch=true&resourceVersion=$(state .resourceVersion)&timeoutSeconds=8" >"$T/wi" 2>/dev/null &
WPID=$!
for _ in $(seq 50); do
	[ "$(state .watchers)" -ge 1 ] && break
	sleep 0.1
done
ctl POST objects -d "${IMP/10.42.0.1/10.42.0.2}" >/dev/null
ctl DELETE objects/serviceimports/prod/web >/dev/null
sleep 0.3
ctl POST fault -d '{"fault":"expire-watches"}' >/dev/null
wait $WPID
check "watch of ServiceImports: MODIFIED then DELETED" \
	"MODIFIED ServiceImport 10.42.0.2 DELETED ServiceImport" \
	"$(grep -v '"ERROR"' "$T/wi" | jq -r 'select(.type != "BOOKMARK") | "\(.type) \(.object.kind)" + (if .type == "MODIFIED" then " \(.object.spec.ips[0])" else "" end)' | tr '\n' ' ' | sed 's/ $//')"

# ---- shutdown
kill -TERM "$EMU_PID"
for _ in $(seq 50); do
	kill -0 "$EMU_PID" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$EMU_PID" 2>/dev/null; then
	fail "SIGTERM ends the emulator"
else
	wait "$EMU_PID"
	check "SIGTERM: clean exit" 0 "$?"
fi
EMU_PID=
check "nothing on stderr but the load line" 0 \
	"$(grep -vc '^apiemu: loaded' "$T/err")"

echo "# $PASS passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
