#!/bin/bash
# shellcheck disable=SC2119
# tcp-limits.sh -- the TCP limits with their defaults (README, "TCP
# limits"): one client address gets its share of the connections and
# another is still served; over the connection limit the oldest idle
# connections are closed for new clients; a client that pipelines queries
# and never reads is not read further, costs the server little memory, and
# is closed when idle; a query trickled a byte a second (slowloris) and an
# idle connection are closed after the idle timeout.  Each of these moves
# clusterdns_tcp_refused_total or clusterdns_tcp_closed_total on /metrics
# by exactly what the test provoked, under its reason, and all but the idle
# closes write a rate-limited [WARNING] line naming the client.  The daemon
# runs with 2 worker threads and an open-file limit that leaves it 1000
# connections (so 100 per address); tools/tcphold holds the connections.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=httplib.sh
. "$(dirname "$0")/httplib.sh"
need timeout promtool

TCPHOLD=$top_builddir/tools/tcphold
[ -x "$TCPHOLD" ] || {
	echo "FAIL: $E2E_NAME: $TCPHOLD not built"
	exit 1
}
# the clients' own descriptors
ulimit -n 4096 2>/dev/null || skip "the open-file limit cannot be 4096"

Z=$ZONE
NAME=web.prod.svc.$Z

# The daemon's open-file limit: 1000 connections are left once 160 and
# 2 x 2 threads x (2 listen addresses + 1) are kept for the rest.
cat >"$E2E_TMP/limited" <<EOF
#!/bin/sh
ulimit -n 1172 || exit 1
exec "$CLUSTERDNS" "\$@"
EOF
chmod +x "$E2E_TMP/limited"
REAL_CLUSTERDNS=$CLUSTERDNS
CLUSTERDNS=$E2E_TMP/limited
export CLUSTERDNS_THREADS=2
MP=$(free_port)
start_server main < <(
	corefile | sed '$d'
	echo "    prometheus 127.0.0.1:$MP"
	echo "}"
)
CLUSTERDNS=$REAL_CLUSTERDNS
MAIN_PID=$SERVER_PID
LOG=$SERVER_DIR/out.log
URL=http://127.0.0.1:$MP/metrics
T0=$SECONDS

# counters FILE: scrape the TCP counters into FILE.
counters()
{
	scrape "$URL" "$1"
}

# grew WHAT FAMILY REASON WANT BEFORE AFTER: FAMILY{reason=REASON} grew
# by exactly WANT from the scrape BEFORE to the scrape AFTER.
grew()
{
	local a b
	a=$(metric "$5" "$2" "reason=$3")
	b=$(metric "$6" "$2" "reason=$3")
	check "$1: $2{reason=\"$3\"} grew by $4" "$4" "$((b - a))"
}

# logged WHAT ERE: a [WARNING] line of the daemon matches ERE.
logged()
{
	check_match "$1" "$2" "$(grep '^\[WARNING\] tcp: ' "$LOG")"
}

# hold NAME TCPHOLD-ARG...: run tcphold against the server in the
# background (output in $E2E_TMP/NAME.out, pid in HOLD_NAME) and wait
# (bounded) until its connections are open; HELD is its "held" line.
hold()
{
	local n=$1 i
	shift
	"$TCPHOLD" -p "$PORT" -t 300 "$@" >"$E2E_TMP/$n.out" 2>&1 &
	E2E_PIDS+=("$!")
	printf -v "HOLD_$n" '%s' "$!"
	for i in $(seq 1 600); do
		grep -qs '^held' "$E2E_TMP/$n.out" && break
		sleep 0.1
	done
	HELD=$(grep '^held' "$E2E_TMP/$n.out")
}

# status NAME: what the connections of hold NAME are now
# ("open O closed C answered A").
status()
{
	local v=HOLD_$1 before i
	before=$(grep -c '^open' "$E2E_TMP/$1.out")
	kill -USR1 "${!v}" 2>/dev/null || return 1
	for i in $(seq 1 50); do
		[ "$(grep -c '^open' "$E2E_TMP/$1.out")" -gt "$before" ] && break
		sleep 0.1
	done
	grep '^open' "$E2E_TMP/$1.out" | tail -n 1
}

# until_status NAME SECONDS ERE: the status of hold NAME once it matches
# ERE, or the last one after about SECONDS.
until_status()
{
	local s i
	for i in $(seq 1 "$2"); do
		s=$(status "$1")
		printf '%s\n' "$s" | grep -Eq -- "$3" && break
		sleep 1
	done
	printf '%s\n' "$s"
}

# release NAME: stop hold NAME (its connections close).
release()
{
	local v=HOLD_$1
	kill "${!v}" 2>/dev/null
	wait "${!v}" 2>/dev/null
	return 0
}

rss_kb()
{
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$MAIN_PID/status"
}

# ---------------------------------------------------------------- per address
OUT=
counters "$E2E_TMP/m0"
check_match "/metrics has the TCP refusal counters" \
	'^clusterdns_tcp_refused_total\{reason="client_limit"\} 0$' \
	"$(cat "$E2E_TMP/m0")"
OUT=$(promtool check metrics <"$E2E_TMP/m0" 2>&1)
check "promtool check metrics passes" 0 $?
OUT=
hold a -s 127.0.0.2 -n 300 -q "$NAME"
check "127.0.0.2 gets its share of 100 connections, the rest closed at once" \
	"held 100 refused 200 written 0" "$HELD"
hold a2 -s 127.0.0.2 -n 5 -q "$NAME"
check "127.0.0.2 is refused more while it holds its share" \
	"held 0 refused 5 written 0" "$HELD"
release a2
counters "$E2E_TMP/m1"
grew "200 + 5 refused over the address's share" clusterdns_tcp_refused_total \
	client_limit 205 "$E2E_TMP/m0" "$E2E_TMP/m1"
grew "none refused over the total" clusterdns_tcp_refused_total \
	total_limit 0 "$E2E_TMP/m0" "$E2E_TMP/m1"
logged "a refusal is logged with the client's address" \
	'^\[WARNING\] tcp: refused 127\.0\.0\.2:[0-9]+: its address is at the limit of 100 connections per client address \([0-9]+ since the last such line\)$'
assert_answer "$NAME" A 10.96.1.10 +tcp
ASK_ADDR=::1 assert_answer "$NAME" A 10.96.1.10 +tcp
check "127.0.0.2 still holds its share" "open 100 closed 0 answered 0" \
	"$(status a)"

# ---------------------------------------------------------------- oldest idle
# 20 addresses, 55 each: 1100 connections, 200 more than the pool takes
# with 127.0.0.2's 100: each new one closes the oldest idle one, first
# 127.0.0.2's, then the first of its own.
hold b -s 127.1.0.1 -S 20 -n 1100 -q "$NAME"
check "1100 more connections from 20 addresses are all served" \
	"held 1100 refused 0 written 0" "$HELD"
check "the oldest idle connections were closed for them: all of 127.0.0.2's" \
	"open 0 closed 100 answered 0" \
	"$(until_status a 20 'open 0 ')"
check "and the 100 oldest of the new ones" "open 1000 closed 100 answered 0" \
	"$(until_status b 20 'open 1000 ')"
assert_answer "$NAME" A 10.96.1.10 +tcp
check "a new client at the limit closed one more of the oldest" \
	"open 999 closed 101 answered 0" "$(until_status b 20 'open 999 ')"
counters "$E2E_TMP/m2"
grew "100 + 100 + 1 oldest idle ones closed for new clients" \
	clusterdns_tcp_closed_total evicted 201 "$E2E_TMP/m1" "$E2E_TMP/m2"
grew "no new client refused while idle ones could go" \
	clusterdns_tcp_refused_total total_limit 0 "$E2E_TMP/m1" "$E2E_TMP/m2"
logged "an eviction is logged with the client's address" \
	'^\[WARNING\] tcp: closed 127\.[0-9.]+:[0-9]+, the oldest idle connection, for a new one over the limit of 1000 connections \([0-9]+ since the last such line\)$'
release a
release b
sleep 1 # their closes are the clients', not counted

# ------------------------------------------- non-reading, slowloris and idle
counters "$E2E_TMP/m3"
RSS0=$(rss_kb)
hold flood -s 127.0.0.3 -n 20 -m flood -f 20000 -q "$NAME"
RSS1=$(rss_kb)
hold slow -s 127.0.0.4 -n 5 -m trickle -i 1000 -q "$NAME"
hold idle -s 127.0.0.5 -n 5 -q "$NAME"
check "5 idle connections open" "held 5 refused 0 written 0" "$HELD"
OUT=
written=$(awk '/^held/ { print $6 }' "$E2E_TMP/flood.out")
check_match "20 clients that never read wrote their queries" '^[0-9]+$' \
	"$written"
grown=$((RSS1 - RSS0))
if [ "$grown" -lt 16384 ]; then
	ok "server RSS grew by less than 16 MB for $written unread queries ($grown kB)"
else
	fail "server RSS bounded while clients do not read" "< 16384 kB" \
		"$grown kB"
fi
assert_answer "$NAME" A 10.96.1.10
assert_answer "$NAME" A 10.96.1.10 +tcp
check "clients that never read are closed when idle" \
	"open 0 closed 20 answered 0" "$(until_status flood 60 'open 0 ')"
check "a query trickled a byte a second is dropped, never answered" \
	"open 0 closed 5 answered 0" "$(until_status slow 60 'open 0 ')"
check "idle connections are closed" "open 0 closed 5 answered 0" \
	"$(until_status idle 60 'open 0 ')"
release flood
release slow
release idle
counters "$E2E_TMP/m4"
grew "20 clients that never read closed" clusterdns_tcp_closed_total \
	unread 20 "$E2E_TMP/m3" "$E2E_TMP/m4"
grew "5 slowloris clients closed" clusterdns_tcp_closed_total \
	slow 5 "$E2E_TMP/m3" "$E2E_TMP/m4"
grew "5 idle connections closed" clusterdns_tcp_closed_total \
	idle 5 "$E2E_TMP/m3" "$E2E_TMP/m4"
grew "nothing evicted meanwhile" clusterdns_tcp_closed_total \
	evicted 0 "$E2E_TMP/m3" "$E2E_TMP/m4"
logged "a client that does not read is logged when closed" \
	'^\[WARNING\] tcp: closed 127\.0\.0\.3:[0-9]+: answers left unread for (10[0-9]{3}|11000) ms \([0-9]+ since the last such line\)$'
logged "a slowloris client is logged when closed" \
	'^\[WARNING\] tcp: closed 127\.0\.0\.4:[0-9]+: a query still partial after (10[0-9]{3}|11000) ms without progress \([0-9]+ since the last such line\)$'
OUT=$(grep '^\[WARNING\] tcp: closed 127\.0\.0\.5:' "$LOG")
check "idle closes are not logged" "" "$OUT"
OUT=$(promtool check metrics <"$E2E_TMP/m4" 2>&1)
check "promtool check metrics passes after all that" 0 $?
OUT=

# The lines cannot flood the log: at most one per reason per 10 s, and
# together they report no more than happened.
limit=$(((SECONDS - T0) / 10 + 1))
for what in "refused .*per client address" "the oldest idle connection" \
	"answers left unread" "a query still partial"; do
	n=$(grep -c "^\[WARNING\] tcp: .*$what" "$LOG")
	if [ "$n" -ge 1 ] && [ "$n" -le "$limit" ]; then
		ok "'$what' logged $n times in $((SECONDS - T0)) s"
	else
		fail "'$what' logged at most once per 10 s" "1..$limit" "$n"
	fi
done
sum=$(grep "^\[WARNING\] tcp: refused .*per client address" "$LOG" |
	sed 's/.*(\([0-9]*\) since the last such line)$/\1/' |
	awk '{ s += $1 } END { print s + 0 }')
if [ "$sum" -ge 1 ] && [ "$sum" -le 205 ]; then
	ok "the refusal lines stand for $sum of the 205 refusals"
else
	fail "the refusal lines count what happened" "1..205" "$sum"
fi

if kill -0 "$MAIN_PID" 2>/dev/null; then
	ok "daemon alive"
else
	fail "daemon alive" "running" "exited"
fi
assert_answer "$NAME" A 10.96.1.10 +tcp
finish
