#!/bin/bash
# corefile-reload.sh -- SIGUSR1 reloads a changed Corefile: checked in full
# first (a bad one leaves the running configuration serving), the zone kept
# when the kubernetes directive did not change, rebuilt when it did, new
# listen addresses bound and old ones closed, and not a query lost on the
# addresses that stay while it happens.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=apilib.sh
. "$(dirname "$0")/apilib.sh"
need dnsperf

Z=$ZONE

start_server main < <(corefile)
PID=$SERVER_PID
CF=$SERVER_DIR/Corefile
LOG=$SERVER_DIR/out.log

serial()
{
	ask "$Z" SOA
	rdata ANSWER SOA | awk '{ print $3 }'
}

# ttl_of NAME TYPE: the TTL of the first answer record.
ttl_of()
{
	ask "$1" "$2"
	section ANSWER | awk 'NR == 1 { print $2 }'
}

# write_corefile [EXTRA-BLOCK-LINES] < corefile(): the running Corefile
# with the port filled in, a line "    errors" added when ERRORS is set.
write_corefile()
{
	local text
	text=$(cat)
	text=${text//@PORT@/$PORT}
	if [ -n "${ERRORS:-}" ]; then
		text=$(printf '%s\n' "$text" | sed '2a\    errors')
	fi
	printf '%s\n%s' "$text" "${EXTRA:-}" >"$CF.new"
	mv "$CF.new" "$CF"
}

# reload_and_wait N: SIGUSR1, then wait (bounded) for the N-th
# "Reloading complete" or the N-th failure line in the log.
reload_and_wait()
{
	local want=$1 i n
	kill -USR1 "$PID"
	for i in $(seq 1 100); do
		n=$(grep -c -e 'Reloading complete' -e 'new Corefile is not used' "$LOG")
		[ "$n" -ge "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

assert_answer "web.prod.svc.$Z" A 10.96.1.10
check "ttl as configured" 30 "$(ttl_of "web.prod.svc.$Z" A)"
S0=$(serial)
sleep 1.1

# ---- load at a fixed rate on the address that stays, across three reloads
QF=$E2E_TMP/queries
{
	for i in $(seq 1 50); do
		echo "web.prod.svc.$Z A"
		echo "nope$i.prod.svc.$Z A"
		echo "_http._tcp.web.prod.svc.$Z SRV"
	done
} >"$QF"
dnsperf -s 127.0.0.1 -p "$PORT" -d "$QF" -l 9 -Q 400 -t 2 \
	>"$E2E_TMP/dnsperf.out" 2>&1 &
PERF=$!
sleep 1.5

# 1: a directive outside kubernetes changes: the zone is not rebuilt
ERRORS=1 write_corefile < <(corefile)
reload_and_wait 1 || fail "reload 1" "done" "no log line"
check "reload 1 logged as complete" 1 "$(grep -c 'Reloading complete' "$LOG")"
check "zone kept (same serial) when kubernetes did not change" "$S0" "$(serial)"
sleep 1.5

# 2: the kubernetes directive changes (ttl): the zone is rebuilt
ERRORS=1 write_corefile < <(corefile "ttl 10")
reload_and_wait 2 || fail "reload 2" "done" "no log line"
check "new ttl after reload" 10 "$(ttl_of "web.prod.svc.$Z" A)"
S2=$(serial)
if [ "$S2" != "$S0" ]; then ok "zone rebuilt: serial $S0 -> $S2"; else
	fail "zone rebuilt" "a new serial" "$S2"; fi
sleep 1.5

# 3: a bad Corefile: logged, the running configuration keeps serving
printf '.:%s {\n    bogus\n}\n' "$PORT" >"$CF"
reload_and_wait 3 || fail "reload 3" "a failure line" "none"
check_match "a bad Corefile is reported" "new Corefile is not used.*Unknown directive 'bogus'" \
	"$(grep 'not used' "$LOG")"
check "still serving the last good configuration" 10 "$(ttl_of "web.prod.svc.$Z" A)"
TTL=10 assert_answer "web.prod.svc.$Z" A 10.96.1.10

wait "$PERF"
sent=$(sed -n 's/.*Queries sent: *\([0-9]*\).*/\1/p' "$E2E_TMP/dnsperf.out")
lost=$(sed -n 's/.*Queries lost: *\([0-9]*\).*/\1/p' "$E2E_TMP/dnsperf.out")
echo "# queries sent during three reloads: $sent, lost: $lost"
check_match "dnsperf sent queries" '^[0-9]+$' "$sent"
check "no query lost across three reloads" 0 "$lost"

# the running configuration's content again: nothing is reloaded
ERRORS=1 write_corefile < <(corefile "ttl 10")
n=$(grep -c 'Reloading$' "$LOG")
kill -USR1 "$PID"
sleep 0.5
check "an unchanged Corefile is not reloaded" "$n" "$(grep -c 'Reloading$' "$LOG")"

# 4: a new server block on another port: bound beside the running ones
P2=$(free_port)
BLOCK2=$(printf '%s:%s {\n    bind 127.0.0.1\n    kubernetes %s {\n        objects %s\n    }\n}\n' \
	"$Z" "$P2" "$Z" "$FIXTURE")
EXTRA=$BLOCK2 ERRORS=1 write_corefile < <(corefile "ttl 10")
reload_and_wait 4 || fail "reload 4" "done" "no log line"
OLD=$PORT
PORT=$P2
TTL=5 assert_answer "web.prod.svc.$Z" A 10.96.1.10
check "the new block has its own ttl (default 5)" 5 "$(ttl_of "web.prod.svc.$Z" A)"
PORT=$OLD
TTL=10 assert_answer "web.prod.svc.$Z" A 10.96.1.10
check "the old block is unchanged" 10 "$(ttl_of "web.prod.svc.$Z" A)"

# 5: the block goes again: its port is closed
ERRORS=1 write_corefile < <(corefile "ttl 10")
reload_and_wait 5 || fail "reload 5" "done" "no log line"
PORT=$P2
ask "web.prod.svc.$Z" A
check "the removed block's port no longer answers" "" "$STATUS"
PORT=$OLD
TTL=10 assert_answer "web.prod.svc.$Z" A 10.96.1.10

kill -0 "$PID" 2>/dev/null && ok "the daemon is still running" ||
	fail "daemon alive" "running" "gone"
stop_server "$PID"

# ---- fed by the API: a reload that leaves kubernetes as it was keeps its
# watches (no new request reaches the API server); one that changes it
# lists anew, and the old watches close once the old configuration goes
start_kc_scenario api file
CF=$SERVER_DIR/Corefile
LOG=$SERVER_DIR/out.log
converge "API: synced" "web.prod.svc.$Z" A 10.96.1.10
R0=$(emu_state .requests)
W0=$(emu_state .watchers)
check_match "API: watches open" '^[1-9][0-9]*$' "$W0"
sed -i 's/^    bind 127.0.0.1$/&\n    errors/' "$CF"
reload_and_wait 1 || fail "API reload 1" "done" "no log line"
check "API: no request after a reload that kept kubernetes" "$R0" \
	"$(emu_state .requests)"
check "API: the same watches" "$W0" "$(emu_state .watchers)"
emu_put '{"apiVersion":"v1","kind":"Service","metadata":{"name":"late","namespace":"prod"},"spec":{"clusterIP":"10.96.7.7"}}'
converge "API: the kept watch still delivers" "late.prod.svc.$Z" A 10.96.7.7

sed -i 's/^        ttl 30$/        ttl 9/' "$CF"
reload_and_wait 2 || fail "API reload 2" "done" "no log line"
R2=$(emu_state .requests)
if [ "$R2" -gt "$R0" ]; then ok "API: a changed kubernetes lists anew ($R0 -> $R2 requests)"; else
	fail "API: a changed kubernetes lists anew" "more than $R0 requests" "$R2"; fi
check "API: the new zone has the new ttl" 9 "$(ttl_of "late.prod.svc.$Z" A)"
for _ in $(seq 1 60); do
	[ "$(emu_state .watchers)" = "$W0" ] && break
	sleep 0.5
done
check "API: the replaced configuration's watches are closed" "$W0" \
	"$(emu_state .watchers)"
stop_daemon api "$PID" "$LOG"
finish
