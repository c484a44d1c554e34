#!/bin/bash
# health.sh -- the health and ready directives against the running daemon:
# /health and /ready on the addresses as written (127.0.0.1:PORT, [::1]:PORT,
# :PORT), 404 elsewhere, /ready 503 until the API emulator has been synced,
# lameduck on SIGTERM and SIGINT (DNS still answered over UDP and TCP,
# /ready 503, then exit 0), and an HTTP address already in use at startup
# (exit 1) and on reload (the old configuration stays).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=httplib.sh
. "$(dirname "$0")/httplib.sh"
# shellcheck source-path=SCRIPTDIR source=apilib.sh
. "$(dirname "$0")/apilib.sh"

Z=$ZONE
WEB=web.prod.svc.$Z

# hr_corefile LINE...: the fixture on 127.0.0.1 with these lines in the
# block (health, ready).
hr_corefile()
{
	echo ".:@PORT@ {"
	echo "    bind 127.0.0.1"
	printf '    %s\n' "$@"
	echo "    kubernetes $Z {"
	echo "        objects $FIXTURE"
	echo "        ttl 30"
	echo "    }"
	echo "}"
}

# after_bind LINE... < COREFILE: the Corefile with these lines after its
# second line (the block's bind).
after_bind()
{
	awk -v extra="$(printf '    %s\n' "$@")" '{ print } NR == 2 { print extra }'
}

# ports N: N free ports, distinct, into the array P.
ports()
{
	local p
	P=()
	while [ "${#P[@]}" -lt "$1" ]; do
		p=$(free_port) || break
		case " ${P[*]} " in *" $p "*) continue ;; esac
		P+=("$p")
	done
}

# ---------------------------------------------------------------- 1. addresses

ports 2
H=${P[0]} R=${P[1]}
start_server v4 < <(hr_corefile "health 127.0.0.1:$H" "ready 127.0.0.1:$R")
http_get "http://127.0.0.1:$H/health"
check "127.0.0.1: /health status" 200 "$HCODE"
check "127.0.0.1: /health body" OK "$HBODY"
http_get "http://127.0.0.1:$R/ready"
check "127.0.0.1: /ready status (objects synced)" 200 "$HCODE"
check "127.0.0.1: /ready body" OK "$HBODY"
http_get "http://127.0.0.1:$H/nope"
check "unknown path on the health address: 404" 404 "$HCODE"
http_get "http://127.0.0.1:$R/nope"
check "unknown path on the ready address: 404" 404 "$HCODE"
http_get "http://127.0.0.1:$H/ready"
check "/ready is not served on the health address" 404 "$HCODE"
http_get "http://127.0.0.1:$R/health"
check "/health is not served on the ready address" 404 "$HCODE"
if have_ipv6; then
	http_get "http://[::1]:$H/health"
	check "127.0.0.1: nothing on [::1]" 000 "$HCODE"
fi
stop_server "$SERVER_PID"

if have_ipv6; then
	ports 2
	H=${P[0]} R=${P[1]}
	start_server v6 < <(hr_corefile "health [::1]:$H" "ready [::1]:$R")
	http_get "http://[::1]:$H/health"
	check "[::1]: /health" "200 OK" "$HCODE $HBODY"
	http_get "http://[::1]:$R/ready"
	check "[::1]: /ready" "200 OK" "$HCODE $HBODY"
	http_get "http://127.0.0.1:$H/health"
	check "[::1]: nothing on 127.0.0.1" 000 "$HCODE"
	stop_server "$SERVER_PID"
fi

ports 2
H=${P[0]} R=${P[1]}
start_server any < <(hr_corefile "health :$H" "ready :$R")
http_get "http://127.0.0.1:$H/health"
check ":PORT: /health on 127.0.0.1" "200 OK" "$HCODE $HBODY"
http_get "http://127.0.0.1:$R/ready"
check ":PORT: /ready on 127.0.0.1" "200 OK" "$HCODE $HBODY"
if have_ipv6; then
	http_get "http://[::1]:$H/health"
	check ":PORT: /health on [::1]" "200 OK" "$HCODE $HBODY"
	http_get "http://[::1]:$R/ready"
	check ":PORT: /ready on [::1]" "200 OK" "$HCODE $HBODY"
fi
stop_server "$SERVER_PID"

# health and ready on one address share its listener
ports 1
H=${P[0]}
start_server shared < <(hr_corefile "health 127.0.0.1:$H" "ready 127.0.0.1:$H")
http_get "http://127.0.0.1:$H/health"
check "one address: /health" "200 OK" "$HCODE $HBODY"
http_get "http://127.0.0.1:$H/ready"
check "one address: /ready" "200 OK" "$HCODE $HBODY"
stop_server "$SERVER_PID"

# ---------------------------------------------------------------- 2. not synced

# The daemon starts before the API emulator listens: /health answers at
# once, /ready is 503 "kubernetes" until the first list, 200 after.
EMU_TOKEN=$(new_token)
api_certs
ports 3
H=${P[0]} R=${P[1]} EP=${P[2]}
KC=$E2E_TMP/late.kubeconfig
write_kubeconfig "$KC" "https://127.0.0.1:$EP" file token "$EMU_TOKEN"
SERVER_DIR=$E2E_TMP/late
mkdir -p "$SERVER_DIR"
DPORT=$(free_port)
api_corefile "kubeconfig $KC" | sed "s/@PORT@/$DPORT/" |
	after_bind "health 127.0.0.1:$H" "ready 127.0.0.1:$R" >"$SERVER_DIR/Corefile"
"$CLUSTERDNS" -conf "$SERVER_DIR/Corefile" -quiet >"$SERVER_DIR/out.log" 2>&1 &
LATE=$!
E2E_PIDS+=("$LATE")
wait_http "http://127.0.0.1:$H/health" 200 10
check "no API yet: /health" "200 OK" "$HCODE $HBODY"
http_get "http://127.0.0.1:$R/ready"
check "no API yet: /ready status" 503 "$HCODE"
check "no API yet: /ready names what is not ready" kubernetes "$HBODY"
# after startup_timeout (1 s) it answers DNS, still not ready
PORT=$DPORT
wait_answering "$PORT" "$LATE"
http_get "http://127.0.0.1:$R/ready"
check "no API, answering DNS: /ready" "503 kubernetes" "$HCODE $HBODY"
emu_start late-emu "$EP" -load "$API_FIXTURE"
bad=0
end=$((SECONDS + 30))
while :; do
	http_get "http://127.0.0.1:$H/health"
	[ "$HCODE" = 200 ] || bad=$((bad + 1))
	http_get "http://127.0.0.1:$R/ready"
	[ "$HCODE" = 200 ] && break
	[ "$SECONDS" -ge "$end" ] && break
	sleep 0.2
done
check "API up: /ready after the first sync" "200 OK" "$HCODE $HBODY"
check "/health was 200 all along" 0 "$bad"
converge "API up" "$WEB" A 10.96.1.10
stop_daemon "late" "$LATE" "$SERVER_DIR/out.log"
emu_stop

# The emulator listens but stalls every request: not ready, healthy.
EMU_TOKEN=$(new_token)
emu_start stall-emu 0 -load "$API_FIXTURE"
emu_fault '{"fault":"stall","seconds":30}'
ports 2
H=${P[0]} R=${P[1]}
KC=$E2E_TMP/stall.kubeconfig
write_kubeconfig "$KC" "$EMU_URL" file token "$EMU_TOKEN"
start_server stall < <(api_corefile "kubeconfig $KC" |
	after_bind "health 127.0.0.1:$H" "ready 127.0.0.1:$R")
STALL=$SERVER_PID
http_get "http://127.0.0.1:$R/ready"
check "stalled API: /ready" "503 kubernetes" "$HCODE $HBODY"
http_get "http://127.0.0.1:$H/health"
check "stalled API: /health" "200 OK" "$HCODE $HBODY"
emu_fault '{"fault":"clear"}'
wait_http "http://127.0.0.1:$R/ready" 200 30
check "stall over: /ready" "200 OK" "$HCODE $HBODY"
stop_daemon "stall" "$STALL" "$SERVER_DIR/out.log"
emu_stop

# ---------------------------------------------------------------- 3. lameduck

# lameduck SIGNAL: with lameduck 10s, SIGNAL turns /ready 503 "lameduck",
# keeps /health 200 and DNS answered over UDP and TCP, then the daemon
# ends by itself with status 0.
lameduck()
{
	local sig=$1 pid n
	ports 2
	H=${P[0]} R=${P[1]}
	start_server "lameduck-$sig" < <(hr_corefile \
		"health 127.0.0.1:$H {" "    lameduck 10s" "}" "ready 127.0.0.1:$R")
	pid=$SERVER_PID
	http_get "http://127.0.0.1:$R/ready"
	check "$sig lameduck: ready before" "200 OK" "$HCODE $HBODY"
	kill "-$sig" "$pid"
	wait_http "http://127.0.0.1:$R/ready" 503 5
	check "$sig lameduck: /ready" "503 lameduck" "$HCODE $HBODY"
	http_get "http://127.0.0.1:$H/health"
	check "$sig lameduck: /health" "200 OK" "$HCODE $HBODY"
	ask "$WEB" A
	check "$sig lameduck: UDP answered" "NOERROR 10.96.1.10" \
		"$STATUS $(rdata ANSWER A)"
	ask +tcp "$WEB" A
	check "$sig lameduck: TCP answered" "NOERROR 10.96.1.10" \
		"$STATUS $(rdata ANSWER A)"
	OUT=
	check "$sig lameduck: still running after the queries" yes \
		"$(kill -0 "$pid" 2>/dev/null && echo yes || echo no)"
	wait_exit "$pid" 30
	check "$sig lameduck: ends by itself, status 0" 0 "$RC"
	n=$(grep -c "$sig: Going into lameduck mode for 10s" "$SERVER_DIR/out.log")
	check "$sig lameduck: logged" 1 "$n"
}
lameduck TERM
lameduck INT

# A second SIGTERM in lameduck stops at once (lameduck 60s is not waited).
ports 2
H=${P[0]} R=${P[1]}
start_server twice < <(hr_corefile \
	"health 127.0.0.1:$H {" "    lameduck 60s" "}" "ready 127.0.0.1:$R")
PID=$SERVER_PID
kill -TERM "$PID"
wait_http "http://127.0.0.1:$R/ready" 503 5
check "lameduck 60s: /ready" "503 lameduck" "$HCODE $HBODY"
kill -TERM "$PID"
wait_exit "$PID" 15
check "second SIGTERM: ends, status 0" 0 "$RC"

# Without lameduck, SIGTERM and SIGINT stop at once with status 0.
for sig in TERM INT; do
	ports 1
	start_server "no-lameduck-$sig" < <(hr_corefile "health 127.0.0.1:${P[0]}")
	kill "-$sig" "$SERVER_PID"
	wait_exit "$SERVER_PID" 15
	check "no lameduck: SIG$sig ends, status 0" 0 "$RC"
done

# ---------------------------------------------------------------- 7. in use

ports 3
H=${P[0]} H2=${P[1]} R=${P[2]}
start_server holder < <(hr_corefile "health 127.0.0.1:$H")
HOLDER=$SERVER_PID

# at startup: exit status 1, the address named
mkdir -p "$E2E_TMP/busy"
DPORT=$(free_port)
hr_corefile "health 127.0.0.1:$H" | sed "s/@PORT@/$DPORT/" >"$E2E_TMP/busy/Corefile"
"$CLUSTERDNS" -conf "$E2E_TMP/busy/Corefile" -quiet >"$E2E_TMP/busy/out.log" 2>&1 &
BUSY=$!
wait_exit "$BUSY" 15
check "health address in use: exit status" 1 "$RC"
check_match "health address in use: the message" \
	"listen tcp 127\.0\.0\.1:$H: bind: Address already in use" \
	"$(cat "$E2E_TMP/busy/out.log")"

# on reload: the reload fails, the old configuration serves
start_server reload < <(hr_corefile "health 127.0.0.1:$H2" "ready 127.0.0.1:$R")
PID=$SERVER_PID
CF=$SERVER_DIR/Corefile
LOG=$SERVER_DIR/out.log
hr_corefile "health 127.0.0.1:$H" "ready 127.0.0.1:$R" |
	sed -e "s/@PORT@/$PORT/" -e 's/ttl 30/ttl 7/' >"$CF.new"
mv "$CF.new" "$CF"
kill -USR1 "$PID"
for _ in $(seq 1 100); do
	grep -q 'new Corefile is not used' "$LOG" && break
	sleep 0.1
done
check_match "reload onto an address in use: logged" \
	"the new Corefile is not used.*listen tcp 127\.0\.0\.1:$H: bind: Address already in use" \
	"$(cat "$LOG")"
http_get "http://127.0.0.1:$H2/health"
check "reload failed: /health on the old address" "200 OK" "$HCODE $HBODY"
http_get "http://127.0.0.1:$R/ready"
check "reload failed: /ready" "200 OK" "$HCODE $HBODY"
ask "$WEB" A
check "reload failed: old configuration answers (ttl 30)" "NOERROR 30" \
	"$STATUS $(section ANSWER | awk 'NR == 1 { print $2 }')"
OUT=
check "reload failed: daemon still running" yes \
	"$(kill -0 "$PID" 2>/dev/null && echo yes || echo no)"
http_get "http://127.0.0.1:$H/health"
check "reload failed: the holder still has its address" "200 OK" "$HCODE $HBODY"
# the holder goes away: the same Corefile loads
stop_server "$HOLDER"
kill -USR1 "$PID"
for _ in $(seq 1 100); do
	grep -q 'Reloading complete' "$LOG" && break
	sleep 0.1
done
eventually_ttl()
{
	local t
	for _ in $(seq 1 50); do
		ask "$WEB" A
		t=$(section ANSWER | awk 'NR == 1 { print $2 }')
		[ "$t" = "$1" ] && break
		sleep 0.2
	done
	check "$2" "$1" "$t"
}
eventually_ttl 7 "address free again: the new Corefile serves (ttl 7)"
http_get "http://127.0.0.1:$H/health"
check "address free again: /health on the new address" "200 OK" "$HCODE $HBODY"
http_get "http://127.0.0.1:$H2/health"
check "address free again: the old address closed" 000 "$HCODE"
stop_daemon reload "$PID" "$LOG"

finish
