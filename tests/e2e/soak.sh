#!/bin/bash
# soak.sh -- a short soak (tools/soak.sh is the long one): clusterdns fed
# by the API emulator answers dnsperf for 30 s at a modest rate while the
# emulator churns 100 objects a second in a namespace of its own and
# expires every watch twice (a relist of every kind each time).  Every
# asked name is outside the churn, so each must answer as it did before
# (NOERROR names NOERROR, NXDOMAIN names NXDOMAIN), none may be lost
# (dnsperf waits 20 s for an answer), the daemon survives and stops
# cleanly without a sanitizer report, and at the end the zone is what the
# emulator holds: the churned objects, the slots the churn emptied
# (NXDOMAIN), a service created and one deleted during the run.  Rates are
# low so that a sanitizer build on a loaded machine keeps up; nothing
# here measures time.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=apilib.sh
. "$(dirname "$0")/apilib.sh"

need dnsperf nsd

Z=$ZONE
SECS=30
QPS=200
SLOTS=200

# ---- upstream: NSD with fwd.test (not cached) and cached.test
NSD_DIR=$E2E_TMP/nsd
mkdir -p "$NSD_DIR"
for z in fwd cached; do
	{
		echo "\$ORIGIN $z.test."
		echo "\$TTL 300"
		echo "@ IN SOA ns.$z.test. admin.$z.test. 1 3600 600 86400 60"
		echo "@ IN NS ns"
		echo "ns IN A 192.0.2.53"
		for i in $(seq 1 20); do
			echo "h$i IN A 192.0.2.$i"
		done
	} >"$NSD_DIR/$z.test.zone"
done
nsd_start "$NSD_DIR" fwd.test cached.test

# ---- the emulator with the fixture, the daemon
EMU_TOKEN=$(new_token)
emu_start soak-emu 0 -load "$API_FIXTURE"
KC=$E2E_TMP/soak.kubeconfig
MPORT=$(free_port)
write_kubeconfig "$KC" "$EMU_URL" file token "$EMU_TOKEN"
start_server soak < <(
	echo ".:@PORT@ {"
	echo "    bind 127.0.0.1"
	echo "    prometheus 127.0.0.1:$MPORT"
	echo "    cache 30 {"
	echo "        disable success $Z in-addr.arpa fwd.test"
	echo "        disable denial $Z in-addr.arpa fwd.test"
	echo "    }"
	echo "    kubernetes $Z in-addr.arpa {"
	echo "        kubeconfig $KC"
	echo "        pods verified"
	echo "        ttl 30"
	echo "        startup_timeout 10s"
	echo "    }"
	echo "    forward . 127.0.0.1:$NSD_PORT"
	echo "}"
)
PID=$SERVER_PID
LOG=$SERVER_DIR/out.log
emu_put '{"apiVersion":"v1","kind":"Service","metadata":{"name":"soak-gone","namespace":"staging"},"spec":{"type":"ClusterIP","clusterIP":"10.96.2.77","clusterIPs":["10.96.2.77"]}}'
converge "synced" "soak-gone.staging.svc.$Z" A 10.96.2.77 30

# ---- the questions and the rcode each must get: what the emulator holds
# now (soak-gone apart), reverse names, SRV, upstream names, and names that
# do not exist
EXP=$E2E_TMP/expected.txt
{
	emu_expected | grep -v '^soak-gone\.' | awk '{
		print $1, $2, ($3 == "NXDOMAIN" ? "NXDOMAIN" : "NOERROR") }'
	cat <<EOF
10.1.96.10.in-addr.arpa PTR NOERROR
5.1.244.10.in-addr.arpa PTR NOERROR
10.1.244.10.in-addr.arpa PTR NOERROR
_pg._tcp.db.prod.svc.$Z SRV NOERROR
web.prod.svc.$Z AAAA NOERROR
db-0.db.prod.svc.$Z A NOERROR
10-244-1-10.web.prod.svc.$Z A NOERROR
nosuch.prod.svc.$Z A NXDOMAIN
db-2.db.prod.svc.$Z A NXDOMAIN
10-244-1-9.staging.pod.$Z A NXDOMAIN
10-244-7-7.prod.pod.$Z A NXDOMAIN
99.99.96.10.in-addr.arpa PTR NXDOMAIN
nosuch.churn.svc.$Z A NXDOMAIN
EOF
	for i in 1 2 3 4 5; do
		echo "h$i.fwd.test A NOERROR"
		echo "h$i.cached.test A NOERROR"
		echo "nosuch$i.fwd.test A NXDOMAIN"
		echo "nosuch$i.cached.test A NXDOMAIN"
	done
} >"$EXP"
awk '{ print $1, $2 }' "$EXP" >"$E2E_TMP/queries.txt"
check "the questions: the fixture's names and the others" yes \
	"$([ "$(grep -c . "$EXP")" -ge 40 ] && echo yes)"
bad=
while read -r name type want; do
	ask "$name" "$type"
	[ "$STATUS" = "$want" ] || bad="${bad}[$name $type: $STATUS] "
done <"$EXP"
check "before the soak, every question gets its rcode" "" "$bad"

# ---- the soak
emu_ctl POST churn -d "{\"rate\":100,\"namespace\":\"churn\",\"slots\":$SLOTS}" \
	>/dev/null
dnsperf -s 127.0.0.1 -p "$PORT" -d "$E2E_TMP/queries.txt" -l "$SECS" \
	-Q "$QPS" -c 2 -q 50 -t 20 -v >"$E2E_TMP/dnsperf.out" 2>&1 &
PERF=$!
E2E_PIDS+=("$PERF")
sleep $((SECS / 3))
emu_fault '{"fault":"expire-watches"}'
emu_put '{"apiVersion":"v1","kind":"Service","metadata":{"name":"soak-new","namespace":"staging"},"spec":{"type":"ClusterIP","clusterIP":"10.96.2.78","clusterIPs":["10.96.2.78"]}}'
emu_del services/staging/soak-gone
sleep $((SECS / 3))
emu_fault '{"fault":"expire-watches"}'
wait "$PERF"
check "dnsperf ran to the end" 0 "$?"
emu_ctl POST churn -d '{"rate":0}' >/dev/null
CHURN=$(emu_ctl GET churn)
echo "# churn: $CHURN"
echo "# $(grep -E 'Queries (sent|completed|lost)|Response codes' "$E2E_TMP/dnsperf.out" | xargs)"

check_match "the churn made changes" '^[1-9][0-9]{2,}$' \
	"$(jq -r .changes <<<"$CHURN")"
check "the daemon survived" ok "$(kill -0 "$PID" 2>/dev/null && echo ok)"
check_match "queries were sent" '^[1-9][0-9]*$' \
	"$(awk '/Queries sent:/ { print $3 }' "$E2E_TMP/dnsperf.out")"
check "no query lost" 0 \
	"$(awk '/Queries lost:/ { print $3 }' "$E2E_TMP/dnsperf.out")"
check "every query answered" \
	"$(awk '/Queries sent:/ { print $3 }' "$E2E_TMP/dnsperf.out")" \
	"$(awk '$1 == ">" && $2 != "T" { n++ } END { print n + 0 }' \
		"$E2E_TMP/dnsperf.out")"
# the answers dnsperf saw, against the rcode each question must get
OUT=$(awk 'NR == FNR { want[tolower($1) " " $2] = $3; next }
	$1 == ">" { k = tolower($3) " " $4
		if (!(k in want)) bad["unknown " k]++
		else if ($2 != want[k]) bad[$2 " for " k " (want " want[k] ")"]++ }
	END { for (b in bad) print bad[b] " x " b }' "$EXP" "$E2E_TMP/dnsperf.out" |
	sort | head -n 20)
check "no unexpected rcode during the soak" "" "$OUT"
OUT=

# ---- the zone follows the churn
GONE=()
present=" $(emu_get /api/v1/namespaces/churn/services |
	jq -r '[.items[].metadata.name] | join(" ")') "
for i in $(seq 0 $((SLOTS - 1))); do
	case $present in
	*" churn-$i "*) ;;
	*) GONE+=("churn-$i.churn.svc.$Z" A NXDOMAIN) ;;
	esac
done
check_match "the churn left some slots empty" '^[1-9]' "$((${#GONE[@]} / 3))"
check_match "and some full" '^[1-9]' "$(wc -w <<<"$present")"
converge_emu "after the soak" 60 "${GONE[@]}" \
	"soak-gone.staging.svc.$Z" A NXDOMAIN
check "created during the soak" 10.96.2.78 \
	"$(dns_value "soak-new.staging.svc.$Z" A)"
check "deleted during the soak" NXDOMAIN \
	"$(dns_value "soak-gone.staging.svc.$Z" A)"
# relists KIND: how many times the daemon relisted KIND after a 410.
relists()
{
	curl -sS --max-time 10 "http://127.0.0.1:$MPORT/metrics" |
		awk -v k="$1" '/^clusterdns_relists_total\{/ &&
			index($0, "kind=\"" k "\"") && index($0, "cause=\"gone\"") {
			n += $NF } END { print n + 0 }'
}
for k in services endpointslices pods; do
	check_match "the expired watches made the daemon relist $k" '^[1-9]' \
		"$(relists "$k")"
done

stop_daemon soak "$PID" "$LOG"
emu_stop
finish
