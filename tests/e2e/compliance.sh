#!/bin/bash
# shellcheck disable=SC2119
# compliance.sh -- DNS protocol compliance: the EDNS cases of RFC 8906 (ISC's
# genreport), header flags and opcodes, hostile names, classes, ANY (RFC
# 8482), zone transfers, and answers just under and just over 512, 1232,
# 4096 and 65535 octets.  Every case is asked of clusterdns and of NSD and
# Knot serving the same zone (tools/zonedump), and the three replies are
# printed side by side; what clusterdns must do is asserted, the peers are
# checked only where that shows a case is built right.  Without NSD or Knot
# the cases still run against clusterdns.  Queries dig cannot write are
# made by dnsprobe.py.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# knot_conf
# shellcheck source=../../tools/knot.sh disable=SC1091
. "$top_srcdir/tools/knot.sh"
need python3 awk mkfifo

PROBE=$E2E_HERE/dnsprobe.py
ZONEDUMP=$top_builddir/tools/zonedump
Z=$ZONE
WEB=web.prod.svc.$Z

# ---------------------------------------------------------------- cluster

# headless NAME N NET: YAML documents of a headless service NAME in
# namespace cmp with N ready endpoints NET.0.1, NET.0.2 .. (250 a /24) and
# a named port http.
headless()
{
	cat <<EOF
---
{"apiVersion": "v1", "kind": "Service",
 "metadata": {"name": "$1", "namespace": "cmp"},
 "spec": {"clusterIP": "None",
  "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}}
---
{"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
 "addressType": "IPv4",
 "metadata": {"name": "$1-1", "namespace": "cmp",
  "labels": {"kubernetes.io/service-name": "$1"}},
 "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
 "endpoints": [
EOF
	awk -v n="$2" -v net="$3" 'BEGIN { for (i = 0; i < n; i++)
		printf "%s{\"addresses\": [\"%s.%d.%d\"], \"conditions\": {\"ready\": true}}\n",
			i ? "," : "", net, int(i / 250), i % 250 + 1 }'
	echo "]}"
}

# The sizes: an answer of N A records (16 octets each, the owner a pointer
# to the question) for a name whose first label has K characters under
# cmp.svc.$Z (23 octets) is 12 + (K + 24) + 4 + 16 N octets, 11 more with
# an OPT.  p512-*: K 8, 29 records are 512 octets without EDNS, 30 are
# 528; e1232-*: K 13, 73 records with an OPT are 1232, 74 are 1248;
# e4096-*: K 13, 252 records with an OPT are 4096, 253 are 4112.  srv7:
# the SRV records fit in 512 octets, their A records in additional do not.
# huge: more than a 65535-octet message holds.
OBJ=$E2E_TMP/objects
cp -R "$FIXTURE" "$OBJ"
{
	echo '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "cmp"}}'
	headless p512-fit 29 10.251
	headless p512-ovr 30 10.252
	headless e1232-fits-ok 73 10.253
	headless e1232-over-by 74 10.254
	headless e4096-fits-ok 252 10.255
	headless e4096-over-by 253 10.249
	headless srv7 7 10.248
	headless huge 5000 10.250
} >"$OBJ/compliance.yaml"

OBJECTS=$OBJ
start_server main < <(corefile)
CPORT=$PORT

# ---------------------------------------------------------------- peers

mkdir -p "$E2E_TMP/zones"
if ! "$ZONEDUMP" -conf "$SERVER_DIR/Corefile" -zone "$Z" \
	>"$E2E_TMP/zones/$Z.zone" 2>"$E2E_TMP/zones/zonedump.err"; then
	cat "$E2E_TMP/zones/zonedump.err"
	fail "zonedump of $Z" "a zone file" "zonedump failed"
	finish
fi

# peer_up PORT PID: wait (bounded) until a peer answers the apex SOA.
peer_up()
{
	local _
	for _ in $(seq 1 100); do
		kill -0 "$2" 2>/dev/null || return 1
		dig +time=1 +tries=1 +norec -p "$1" @127.0.0.1 "$Z" SOA \
			2>/dev/null | grep -q 'status: NOERROR' && return 0
		sleep 0.1
	done
	return 1
}

NPORT=
if command -v nsd >/dev/null 2>&1; then
	d=$E2E_TMP/nsd
	mkdir -p "$d"
	cp "$E2E_TMP/zones/$Z.zone" "$d/"
	p=$(free_port)
	nsd_conf "$d" "127.0.0.1@$p" "$Z" >"$d/nsd.conf"
	nsd -d -c "$d/nsd.conf" >"$d/out.log" 2>&1 &
	E2E_PIDS+=("$!")
	if peer_up "$p" "$!"; then
		NPORT=$p
		echo "# nsd $(nsd -v 2>&1 | head -n 1 | sed 's/^NSD version //') on port $NPORT"
	else
		echo "# nsd did not start; the cases run without it:"
		sed 's/^/#   /' "$d/out.log" "$d/nsd.log" 2>/dev/null
	fi
else
	echo "# nsd not installed; the cases run without it"
fi

KPORT=
if command -v knotd >/dev/null 2>&1; then
	d=$E2E_TMP/knot
	mkdir -p "$d"
	p=$(free_port)
	knot_conf "$d" "127.0.0.1@$p" "$E2E_TMP/zones" "$Z" >"$d/knot.conf"
	knotd -c "$d/knot.conf" >"$d/out.log" 2>&1 &
	E2E_PIDS+=("$!")
	if peer_up "$p" "$!"; then
		KPORT=$p
		echo "# knotd $(knotd -V 2>&1 | sed -n 's/.*version //p') on port $KPORT"
	else
		echo "# knotd did not start; the cases run without it:"
		sed 's/^/#   /' "$d/out.log"
	fi
else
	echo "# knotd not installed; the cases run without it"
fi

# ---------------------------------------------------------------- cases

# R (clusterdns), RN (NSD), RK (Knot): the last case's replies as
# dnsprobe.py prints them; ROWS: the table.
ROWS=()

# summary REPLY: "RCODE flags AN/NS/AR", with "opt" (and "+do") when the
# reply has an OPT, for the table.
summary()
{
	case $1 in
	'') echo "-" ;;
	noreply | unparsed*) echo "${1%% *}" ;;
	*)
		printf '%s\n' "$1" | awk '{
			for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
			s = f["rcode"] " " f["flags"] " " f["an"] "/" f["ns"] "/" f["ar"]
			if (f["edns"] != "-") {
				s = s " opt" f["edns"]
				if (f["eflags"] == "8000") s = s "+do"
				else if (f["eflags"] != "0000") s = s "+" f["eflags"]
			}
			print s }'
		;;
	esac
}

# prober NAME PORT: a dnsprobe.py --batch for the server on PORT, reading
# queries from the descriptor in P_IN[NAME], its replies on P_OUT[NAME].
declare -A P_IN P_OUT
prober()
{
	local f=$E2E_TMP/probe-$1 i o
	mkfifo "$f.in" "$f.out"
	python3 "$PROBE" --batch "$2" <"$f.in" >"$f.out" 2>"$f.err" &
	E2E_PIDS+=("$!")
	exec {i}>"$f.in"
	exec {o}<"$f.out"
	P_IN[$1]=$i
	P_OUT[$1]=$o
}

# ask_probe NAME DNSPROBE-ARG...: one query through prober NAME, its reply
# line on stdout (none when the prober is gone).
ask_probe()
{
	local n=$1 line=
	shift
	printf '%s
' "$*" >&"${P_IN[$n]}" || return 0
	read -r -t 30 line <&"${P_OUT[$n]}"
	printf '%s
' "$line"
}

prober c "$CPORT"
[ -z "$NPORT" ] || prober n "$NPORT"
[ -z "$KPORT" ] || prober k "$KPORT"

# probe CASE DNSPROBE-ARG...: ask the three servers (the peers that run)
# the same query, add a row to the table.
probe()
{
	CASE=$1
	shift
	R=$(ask_probe c "$@")
	RN=
	RK=
	[ -z "$NPORT" ] || RN=$(ask_probe n --timeout 1 "$@")
	[ -z "$KPORT" ] || RK=$(ask_probe k --timeout 1 "$@")
	ROWS+=("$(printf '%-31s | %-28s | %-28s | %s' "$CASE" "$(summary "$R")" \
		"$(summary "$RN")" "$(summary "$RK")")")
	OUT="clusterdns: $R
nsd:        ${RN:--}
knot:       ${RK:--}"
}

# field KEY [REPLY]: a field of a reply (default: clusterdns's).
field()
{
	printf '%s\n' "${2-$R}" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# expect KEY VALUE: clusterdns's reply has KEY=VALUE.
expect()
{
	check "$CASE: $1" "$2" "$(field "$1")"
}

# expect_flag FLAG / expect_noflag FLAG: a header flag of clusterdns's reply.
expect_flag()
{
	case ,$(field flags), in
	*,"$1",*) ok "$CASE: $1 set" ;;
	*) fail "$CASE: $1 set" "$1" "$(field flags)" ;;
	esac
}

expect_noflag()
{
	case ,$(field flags), in
	*,"$1",*) fail "$CASE: $1 clear" "no $1" "$(field flags)" ;;
	*) ok "$CASE: $1 clear" ;;
	esac
}

# expect_peers KEY VALUE: each peer that runs has KEY=VALUE (a check that
# the case is built as meant).
expect_peers()
{
	[ -z "$NPORT" ] || check "$CASE: nsd $1" "$2" "$(field "$1" "$RN")"
	[ -z "$KPORT" ] || check "$CASE: knot $1" "$2" "$(field "$1" "$RK")"
}

# answered: NOERROR, AA, the one A record of $WEB.
answered()
{
	expect rcode NOERROR
	expect_flag aa
	expect an 1
	expect antypes A
}

# answered_opt: answered, with our OPT: version 0, our size, no flag, no
# option.
answered_opt()
{
	answered
	expect edns 0
	expect udp 1232
	expect eflags 0000
	expect opts -
}

# ---- EDNS (RFC 6891, RFC 8906 section 8)
probe "plain" --q "$WEB" A 1
answered
expect edns -
probe "edns0" --edns 0
answered_opt
probe "edns version 1" --edns 1
expect rcode BADVERS
expect edns 0
expect an 0
expect_noflag aa
expect_peers rcode BADVERS
probe "edns unknown option" --edns 0 --opt 100:abcd
answered_opt
probe "edns unknown flag" --edns 0 --eflags 4000
answered_opt
probe "edns DO" --edns 0 --eflags 8000
answered_opt
probe "edns with TC set" --edns 0 --tc
answered_opt
expect_noflag tc
probe "edns over TCP" --edns 0 --tcp
answered_opt
probe "edns option list" --edns 0 --opt 100:abcd --opt 65001:00 \
	--opt 10:0102030405060708 --opt 12:00000000
answered_opt
# DNS cookies (RFC 7873): a client cookie alone, or with a server cookie,
# is ignored (no cookie in the answer); a length no cookie has is FORMERR
# (section 5.2.2), with our OPT.
probe "cookie: client" --edns 0 --opt 10:0102030405060708
answered_opt
probe "cookie: client + server" --edns 0 \
	--opt 10:0102030405060708a1a2a3a4a5a6a7a8b1b2b3b4b5b6b7b8
answered_opt
probe "cookie: 4 octets" --edns 0 --opt 10:01020304
expect rcode FORMERR
expect edns 0
expect an 0
probe "cookie: 12 octets" --edns 0 --opt 10:010203040506070801020304
expect rcode FORMERR
probe "cookie: 41 octets" --edns 0 --opt "10:$(printf 'ab%.0s' $(seq 1 41))"
expect rcode FORMERR
# padding (RFC 7830): ignored in cleartext, not answered with padding
probe "padding UDP" --edns 0 --opt 12:0000000000000000
answered_opt
probe "padding TCP" --edns 0 --opt 12:0000000000000000 --tcp
answered_opt
# buffer sizes: below 512 counts as 512; above 1232 as 1232.  mid (40 A,
# 695 octets) needs more than 512.
for b in 0 511 512 1232 4096 65535; do
	probe "edns bufsize $b, 695 octets" --edns 0 --bufsize "$b" \
		--q "mid.prod.svc.$Z" A 1
	expect rcode NOERROR
	expect udp 1232
	if [ "$b" -le 512 ]; then
		expect_flag tc
		expect an 0
	else
		expect_noflag tc
		expect an 40
	fi
done

# ---- header
probe "QR set (a response)" --qr
check "$CASE: no reply" noreply "$R"
for op in 1:IQUERY 2:STATUS 3:unassigned 4:NOTIFY 5:UPDATE 7:unassigned 15:unassigned; do
	probe "opcode ${op#*:} (${op%%:*})" --opcode "${op%%:*}"
	expect rcode NOTIMP
	expect opcode "${op%%:*}"
	expect an 0
	expect_noflag aa
done
probe "qdcount 0" --qdcount 0
expect rcode FORMERR
probe "qdcount 2, two questions" --q "$WEB" A 1 --q "$WEB" AAAA 1
expect rcode FORMERR
probe "qdcount 2, one question" --qdcount 2
expect rcode FORMERR
probe "TC set in the query" --tc
answered
expect_noflag tc
# Bytes after the last record: the counts say there are none, so the
# message is malformed (Knot agrees; NSD ignores them).
probe "2 octets after the question" --trailing 0000
expect rcode FORMERR
probe "1 octet after the OPT" --edns 0 --trailing 00
expect rcode FORMERR
expect edns 0
probe "RD CD AD Z set" --rd --cd --ad --z
answered
expect flags qr,aa,rd,cd
probe "NXDOMAIN" --q "nosuch.prod.svc.$Z" A 1 --rd
expect rcode NXDOMAIN
expect flags qr,aa,rd
expect ns 1

# ---- names
probe "pointer loop in the question" --q hex:c00c A 1
expect rcode FORMERR
probe "forward pointer in the question" --q hex:c00e0000 A 1
expect rcode FORMERR
probe "label of 64 octets" --q "hex:40$(printf '61%.0s' $(seq 1 64))00" A 1
expect rcode FORMERR
label63=$(printf '61%.0s' $(seq 1 63))
probe "name of 255 octets" \
	--q "hex:3f${label63}3f${label63}3f${label63}3d$(printf '61%.0s' $(seq 1 61))00" A 1
expect rcode REFUSED
probe "name of 256 octets" \
	--q "hex:3f${label63}3f${label63}3f${label63}3e$(printf '61%.0s' $(seq 1 62))00" A 1
expect rcode FORMERR
probe "mixed case (0x20)" --q "WeB.PrOd.svc.CLUSTER.local" A 1
answered
expect qname "WeB.PrOd.svc.CLUSTER.local."
expect_peers qname "WeB.PrOd.svc.CLUSTER.local."
# Classes other than IN: the zones are IN only, and the version is not
# told (NSD and Knot answer version.bind; they are configured by default
# to say who they are).
probe "class CH version.bind TXT" --q version.bind TXT 3
expect rcode REFUSED
expect an 0
probe "class CH id.server TXT" --q id.server TXT 3
expect rcode REFUSED
probe "class CH, name in the zone" --q "$WEB" A 3
expect rcode REFUSED
expect_peers rcode REFUSED
probe "class HS" --q "$WEB" A 4
expect rcode REFUSED
probe "class NONE" --q "$WEB" A 254
expect rcode REFUSED
probe "class ANY" --q "$WEB" A 255
expect rcode REFUSED
# qtype ANY: one RRset (RFC 8482)
probe "ANY, ClusterIP service" --q "$WEB" ANY 1
answered
probe "ANY, zone apex" --q "$Z" ANY 1
expect rcode NOERROR
expect an 1
probe "ANY, dual-stack endpoint name" --q "cart-0.shop.prod.svc.$Z" ANY 1
expect rcode NOERROR
expect an 1
expect antypes A
probe "ANY, headless service" --q "db.prod.svc.$Z" ANY 1
expect rcode NOERROR
expect antypes A
expect an 3
# zone transfers: not defined over UDP, refused over TCP
probe "AXFR over UDP" --q "$Z" AXFR 1
expect rcode NOTIMP
expect an 0
expect_peers rcode NOTIMP
probe "IXFR over UDP" --q "$Z" IXFR 1
expect rcode REFUSED
expect an 0
probe "AXFR over TCP" --q "$Z" AXFR 1 --tcp
expect rcode REFUSED
expect an 0
probe "IXFR over TCP" --q "$Z" IXFR 1 --tcp
expect rcode REFUSED
expect an 0

# ---- sizes: TC exactly when the answer does not fit; a truncated answer
# is the header and the question (RFC 2181 section 9: no partial RRset)
# size_case CASE NAME TYPE AN SIZE|tc DNSPROBE-ARG...: clusterdns answers
# AN records in SIZE octets without TC, or TC and no record; the peers
# agree on TC.
size_case()
{
	local c=$1 name=$2 type=$3 an=$4 size=$5
	shift 5
	probe "$c" --q "$name" "$type" 1 "$@"
	expect rcode NOERROR
	expect_flag aa
	if [ "$size" = tc ]; then
		expect_flag tc
		expect an 0
		expect_peers flags qr,aa,tc
	else
		expect_noflag tc
		expect an "$an"
		expect size "$size"
		expect_peers an "$an"
	fi
}
C=cmp.svc.$Z
size_case "512: 29 A, fits" "p512-fit.$C" A 29 512
size_case "512: 30 A, over" "p512-ovr.$C" A 30 tc
size_case "1232: 73 A, fits" "e1232-fits-ok.$C" A 73 1232 --edns 0 --bufsize 1232
size_case "1232: 74 A, over" "e1232-over-by.$C" A 74 tc --edns 0 --bufsize 1232
size_case "1232 as 4096: 73 A, fits" "e1232-fits-ok.$C" A 73 1232 --edns 0 --bufsize 4096
size_case "1232 as 4096: 74 A, over" "e1232-over-by.$C" A 74 tc --edns 0 --bufsize 4096
size_case "4096 over UDP: 252 A" "e4096-fits-ok.$C" A 252 tc --edns 0 --bufsize 4096
size_case "4096 over TCP: 252 A" "e4096-fits-ok.$C" A 252 4096 --edns 0 --bufsize 4096 --tcp
size_case "4096 over TCP: 253 A" "e4096-over-by.$C" A 253 4112 --edns 0 --bufsize 4096 --tcp
# the additional section is left out before anything else, without TC
probe "512: 7 SRV fit, their A not" --q "_http._tcp.srv7.$C" SRV 1
expect rcode NOERROR
expect_noflag tc
expect an 7
expect ar 0
probe "512: 7 SRV over TCP" --q "_http._tcp.srv7.$C" SRV 1 --tcp
expect an 7
expect ar 7
# More than 65535 octets over TCP: as many whole records as fit, TC clear
# (NSD answers TC and no record, Knot SERVFAIL).
probe "TCP: 5000 A (80 kB)" --q "huge.$C" A 1 --tcp
expect rcode NOERROR
expect_flag aa
expect_noflag tc
expect an 4093
expect size 65532
probe "TCP: 5000 A (80 kB), EDNS" --q "huge.$C" A 1 --tcp --edns 0
expect_noflag tc
expect an 4092
expect edns 0
probe "TCP: 5000 SRV" --q "_http._tcp.huge.$C" SRV 1 --tcp
expect rcode NOERROR
expect_noflag tc
expect ar 0
check_match "$CASE: more than 1000 SRV" '^[0-9]{4}$' "$(field an)"
probe "TCP: ANY of 5000 A" --q "huge.$C" ANY 1 --tcp
expect_noflag tc
expect an 4093
probe "UDP: 5000 A" --q "huge.$C" A 1 --edns 0
expect_flag tc
expect an 0

# dig takes the big answer over TCP as it is (with its OPT: 4092 records)
ask +tcp +edns=0 "huge.$C" A
QUERY="dig +tcp huge.$C A"
assert_status NOERROR
assert_noflag tc
check "$QUERY: records" 4092 "$(count ANSWER A)"

# ---------------------------------------------------------------- table
OUT=
echo "#"
[ -n "$NPORT" ] || echo "# nsd did not run: its column is empty"
[ -n "$KPORT" ] || echo "# knot did not run: its column is empty"
echo "# $(printf '%-31s | %-28s | %-28s | %s' case clusterdns nsd knot)"
for r in "${ROWS[@]}"; do
	echo "# $r"
done
echo "# (RCODE flags answer/authority/additional; optV: an OPT of version V, +do: DO set)"

if kill -0 "$SERVER_PID" 2>/dev/null; then
	ok "clusterdns alive after the cases"
else
	fail "clusterdns alive after the cases" "running" "exited"
fi
finish
