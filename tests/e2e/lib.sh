# shellcheck shell=bash
# lib.sh -- helpers shared by the end-to-end tests (sourced, needs bash).
#
# A test sources this file, starts one or more daemons with start_server,
# asks them with ask/ask_kdig, checks with the assert_* helpers and ends with
# finish.  Exit status: 0 all passed, 1 some assertion failed, 77 skipped
# (a client tool is missing).  top_srcdir and top_builddir come from the
# environment (automake exports them); by hand they default to ../.. of the
# script.

set -u

E2E_NAME=$(basename "$0" .sh)
E2E_HERE=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$E2E_HERE/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

FIXTURE=$top_srcdir/tests/fixtures/cluster
CLUSTERDNS=$top_builddir/server/clusterdns
ZONE=cluster.local

E2E_PASS=0
E2E_FAIL=0
E2E_PIDS=()
E2E_FAILED=()

# skip REASON: exit 77, automake's "skipped".
skip()
{
	echo "SKIP: $E2E_NAME: $*"
	exit 77
}

need()
{
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "$t not found"
	done
}

need dig kdig
[ -x "$CLUSTERDNS" ] || {
	echo "FAIL: $E2E_NAME: $CLUSTERDNS not built"
	exit 1
}

E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/clusterdns-e2e.XXXXXX")

e2e_cleanup()
{
	local p
	for p in "${E2E_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${E2E_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	if [ "$E2E_FAIL" -gt 0 ] || [ -n "${E2E_KEEP:-}" ]; then
		echo "# logs kept in $E2E_TMP"
	else
		rm -rf "$E2E_TMP"
	fi
}
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM

# ---------------------------------------------------------------- ports

# port_busy PORT, free_port
. "$top_srcdir/tools/ports.sh"

# ---------------------------------------------------------------- servers

# corefile [KUBE-OPTION-LINE...]: print the standard test Corefile on stdin
# of start_server: the fixture, ttl 30, pods verified unless a line says
# otherwise.  @PORT@ is replaced by start_server.
corefile()
{
	local objects=${OBJECTS:-$FIXTURE} pods=verified ttl=30 l
	for l in "$@"; do
		case $l in
		pods\ *) pods=${l#pods } ;;
		ttl\ *) ttl=${l#ttl } ;;
		esac
	done
	echo ".:@PORT@ {"
	echo "    bind 127.0.0.1 ::1"
	echo "    kubernetes $ZONE in-addr.arpa ip6.arpa {"
	echo "        objects $objects"
	[ "$pods" = none ] || echo "        pods $pods"
	echo "        ttl $ttl"
	for l in "$@"; do
		case $l in
		pods\ * | ttl\ *) ;;
		*) echo "        $l" ;;
		esac
	done
	echo "    }"
	echo "}"
}

# wait_answering PORT PID: wait (bounded) until the server answers anything.
wait_answering()
{
	local port=$1 pid=$2 i
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 1
		if dig +time=1 +tries=1 +norec -p "$port" @127.0.0.1 \
			"dns-version.$ZONE" TXT 2>/dev/null |
			grep -q 'status: '; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# start_server NAME [FLAG...] < COREFILE: write the Corefile (stdin, with
# @PORT@ replaced, in the flags too) to $E2E_TMP/NAME/Corefile, start the
# daemon in the background and wait until it answers.  Sets PORT (also the port ask uses),
# SERVER_PID and SERVER_DIR.  Retries on another port if the first is taken.
start_server()
{
	local name=$1 text try
	shift
	text=$(cat)
	SERVER_DIR=$E2E_TMP/$name
	mkdir -p "$SERVER_DIR"
	for try in 1 2 3 4 5; do
		PORT=$(free_port) || break
		printf '%s\n' "${text//@PORT@/$PORT}" >"$SERVER_DIR/Corefile"
		"$CLUSTERDNS" -conf "$SERVER_DIR/Corefile" -quiet "${@//@PORT@/$PORT}" \
			>"$SERVER_DIR/out.log" 2>&1 &
		SERVER_PID=$!
		E2E_PIDS+=("$SERVER_PID")
		if wait_answering "$PORT" "$SERVER_PID"; then
			echo "# $name: pid $SERVER_PID on port $PORT"
			return 0
		fi
		kill "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
		echo "# $name: attempt $try on port $PORT failed:"
		sed 's/^/#   /' "$SERVER_DIR/out.log"
	done
	fail "start $name" "a daemon answering queries" "no answer (see above)"
	finish
}

# stop_server PID: stop one daemon started by start_server (or nsd_start).
stop_server()
{
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# nsd_conf DIR ADDR@PORT ZONE...: print an nsd.conf for NSD in the
# foreground with its files in DIR, serving DIR/ZONE.zone on ADDR@PORT.
nsd_conf()
{
	local d=$1 at=$2 z
	shift 2
	cat <<EOF
server:
  ip-address: $at
  username: ""
  chroot: ""
  zonesdir: "$d"
  pidfile: "$d/nsd.pid"
  database: ""
  zonelistfile: "$d/zone.list"
  xfrdfile: "$d/xfrd.state"
  xfrdir: "$d"
  logfile: "$d/nsd.log"
  server-count: 1
  verbosity: 1
remote-control:
  control-enable: no
EOF
	for z in "$@"; do
		printf 'zone:\n  name: %s\n  zonefile: %s.zone\n' "$z" "$z"
	done
}

# nsd_start DIR ZONE...: NSD (needs nsd) serving the zone files
# DIR/ZONE.zone on 127.0.0.1, on port NSD_PORT when it is set (a restart
# after stop_server "$NSD_PID"), else on a free one; sets NSD_PORT and
# NSD_PID and waits until it answers the first zone's SOA.
nsd_start()
{
	local d=$1 keep=${NSD_PORT:-} try i
	shift
	for try in 1 2 3 4 5; do
		NSD_PORT=${keep:-$(free_port)} || break
		nsd_conf "$d" "127.0.0.1@$NSD_PORT" "$@" >"$d/nsd.conf"
		nsd -d -c "$d/nsd.conf" >>"$d/out.log" 2>&1 &
		NSD_PID=$!
		E2E_PIDS+=("$NSD_PID")
		for i in $(seq 1 50); do
			if dig +time=1 +tries=1 -p "$NSD_PORT" @127.0.0.1 "$1" SOA \
				2>/dev/null | grep -q 'status: NOERROR'; then
				echo "# nsd on port $NSD_PORT"
				return 0
			fi
			sleep 0.1
		done
		stop_server "$NSD_PID"
		[ -z "$keep" ] || break
	done
	fail "start nsd" "nsd answering" "no answer"
	finish
}

# ---------------------------------------------------------------- queries

# ask [DIG-OPTION...] NAME [TYPE]: query the current PORT (on ASK_ADDR,
# default 127.0.0.1) with dig (no recursion desired, one try).  Sets OUT
# (dig's full output), STATUS (rcode name), FLAGS (" qr aa ... ") and
# QUERY ("NAME TYPE" for messages).
ask()
{
	local a
	QUERY=
	for a in "$@"; do
		case $a in
		+* | -*) ;;
		*) QUERY="$QUERY $a" ;;
		esac
	done
	QUERY=${QUERY# }
	OUT=$(dig +norec +time=3 +tries=1 +nocookie -p "$PORT" \
		"@${ASK_ADDR:-127.0.0.1}" \
		"$@" 2>&1)
	STATUS=$(printf '%s\n' "$OUT" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p' |
		head -n 1)
	FLAGS=" $(printf '%s\n' "$OUT" |
		sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p' | head -n 1) "
}

# section NAME: the records of a section of OUT (ANSWER, AUTHORITY,
# ADDITIONAL, QUESTION), one per line, fields separated by one space.
section()
{
	printf '%s\n' "$OUT" | awk -v s=";; $1 SECTION:" '
		$0 == s { on = 1; next }
		on && /^$/ { exit }
		on { $1 = $1; print }'
}

# rdata SECTION TYPE: the sorted rdata of the records of TYPE in SECTION,
# joined by " | "; owner, TTL and class dropped.
rdata()
{
	section "$1" | awk -v t="$2" '$4 == t {
		$1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print }' |
		LC_ALL=C sort | awk 'NR > 1 { printf " | " } { printf "%s", $0 }'
}

# count SECTION [TYPE]: how many records (of TYPE) SECTION has.
count()
{
	section "$1" | awk -v t="${2:-}" 't == "" || $4 == t' | wc -l |
		tr -d ' '
}

# ---------------------------------------------------------------- asserts

ok()
{
	E2E_PASS=$((E2E_PASS + 1))
	echo "ok - $1"
}

# fail WHAT EXPECTED GOT
fail()
{
	E2E_FAIL=$((E2E_FAIL + 1))
	E2E_FAILED+=("$1")
	echo "FAIL - $1"
	echo "#   expected: $2"
	echo "#   got:      $3"
	if [ -n "${OUT:-}" ]; then
		printf '%s\n' "$OUT" | sed 's/^/#   | /' | head -n 60
	fi
}

# check WHAT EXPECTED GOT: pass when GOT equals EXPECTED.
check()
{
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1" "$2" "$3"
	fi
}

# check_match WHAT ERE GOT: pass when GOT matches the extended regex.
check_match()
{
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		ok "$1"
	else
		fail "$1" "/$2/" "$3"
	fi
}

assert_status()
{
	check "$QUERY: rcode" "$1" "$STATUS"
}

# assert_flag FLAG / assert_noflag FLAG: header flag of the last answer.
assert_flag()
{
	case $FLAGS in
	*" $1 "*) ok "$QUERY: flag $1 set" ;;
	*) fail "$QUERY: flag $1 set" "$1 among flags" "$FLAGS" ;;
	esac
}

assert_noflag()
{
	case $FLAGS in
	*" $1 "*) fail "$QUERY: flag $1 clear" "no $1" "$FLAGS" ;;
	*) ok "$QUERY: flag $1 clear" ;;
	esac
}

# assert_answer NAME TYPE EXPECTED [DIG-OPTION...]: ask, expect NOERROR, AA,
# and exactly EXPECTED as the sorted rdata of TYPE in the answer (" | "
# between records), every answer record with TTL ${TTL:-30}.
assert_answer()
{
	local name=$1 type=$2 want=$3 ttls
	shift 3
	ask "$@" "$name" "$type"
	assert_status NOERROR
	assert_flag aa
	check "$QUERY: answer $type" "$want" "$(rdata ANSWER "$type")"
	ttls=$(section ANSWER | awk '{ print $2 }' | LC_ALL=C sort -u |
		tr '\n' ' ')
	check "$QUERY: answer TTL" "${TTL:-30} " "$ttls"
}

# assert_nodata NAME TYPE [ZONE]: NOERROR, AA, empty answer, the SOA of ZONE
# in authority with TTL min(ttl, 300).
assert_nodata()
{
	ask "$1" "$2"
	assert_status NOERROR
	assert_flag aa
	check "$QUERY: answer empty" 0 "$(count ANSWER)"
	assert_soa_auth "${3:-$ZONE}"
}

# assert_nxdomain NAME TYPE [ZONE]: NXDOMAIN, AA, the SOA in authority.
assert_nxdomain()
{
	ask "$1" "$2"
	assert_status NXDOMAIN
	assert_flag aa
	check "$QUERY: answer empty" 0 "$(count ANSWER)"
	assert_soa_auth "${3:-$ZONE}"
}

# assert_soa_auth ZONE: the authority section of the last answer is the
# zone's SOA, TTL min(ttl, 300), minimum = ttl.
assert_soa_auth()
{
	local z=$1 t=${TTL:-30} nt
	nt=$((t < 300 ? t : 300))
	check_match "$QUERY: SOA of $z in authority" \
		"^$z\. $nt IN SOA ns\.dns\.$z\. hostmaster\.$z\. [0-9]+ 7200 1800 86400 $t\$" \
		"$(section AUTHORITY | tr '[:upper:]' '[:lower:]' | sed 's/ in soa / IN SOA /')"
}

# eventually NAME TYPE WANT: ask again (bounded, about 10 s) until the sorted
# answer rdata of TYPE is WANT, or the rcode is WANT when WANT is an rcode
# name such as NXDOMAIN; then assert it.
eventually()
{
	local i got
	for i in $(seq 1 50); do
		ask "$1" "$2"
		case $3 in
		NXDOMAIN | NOERROR | REFUSED | SERVFAIL) got=$STATUS ;;
		*) got=$(rdata ANSWER "$2") ;;
		esac
		[ "$got" = "$3" ] && break
		sleep 0.2
	done
	check "$QUERY: eventually" "$3" "$got"
}

# finish: stop the daemons, fail on sanitizer reports in their logs (an
# ASan/UBSan build), print the summary and exit 0 (all passed) or 1.
finish()
{
	local f p
	for p in "${E2E_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${E2E_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	OUT=
	for f in "$E2E_TMP"/*/out.log; do
		[ -f "$f" ] || continue
		if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f"; then
			OUT=$(grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f" | head -n 40)
			fail "no sanitizer report in ${f#"$E2E_TMP"/}" \
				"a clean log" "a report"
		fi
	done
	echo "# $E2E_NAME: $E2E_PASS passed, $E2E_FAIL failed"
	for f in "${E2E_FAILED[@]}"; do
		echo "#   failed: $f"
	done
	[ "$E2E_FAIL" -eq 0 ] && [ "$E2E_PASS" -gt 0 ]
	exit $?
}
