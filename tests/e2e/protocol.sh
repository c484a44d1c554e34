#!/bin/bash
# shellcheck disable=SC2119
# protocol.sh -- the DNS protocol around the answers: EDNS, BADVERS,
# truncation and TCP, pipelining, NOTIMP, FORMERR, hostile packets, idle
# TCP connections.  Raw packets are written with bash's /dev/udp and
# /dev/tcp.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need od dd timeout head

Z=$ZONE
BIG_ALL=$(for i in $(seq 1 200); do echo "10.245.0.$i"; done | LC_ALL=C sort |
	awk 'NR > 1 { printf " | " } { printf "%s", $0 }')

# ---------------------------------------------------------------- raw DNS

# hex_bytes HEX: write the bytes the hex string spells.
hex_bytes()
{
	# shellcheck disable=SC2059
	printf "$(printf '%s' "$1" | sed 's/../\\x&/g')"
}

# qname_hex NAME: a domain name in wire format, as hex.
qname_hex()
{
	local IFS=. l
	for l in $1; do
		printf '%02x' "${#l}"
		printf '%s' "$l" | od -An -v -tx1 | tr -d ' \n'
	done
	printf '00'
}

# query_hex ID NAME QTYPE: a query (no RD, no EDNS) as hex; ID and QTYPE
# are 4 hex digits.
query_hex()
{
	printf '%s%s%s%s0001' "$1" "$HDR_REST" "$(qname_hex "$2")" "$3"
}

# udp_exchange HEX: send one datagram, print the reply as hex (nothing when
# no reply came within 2 s).
udp_exchange()
{
	local r
	exec 5<>"/dev/udp/127.0.0.1/$PORT" || return 1
	hex_bytes "$1" >&5
	r=$(timeout 2 dd bs=65535 count=1 2>/dev/null <&5 | od -An -v -tx1 |
		tr -d ' \n')
	exec 5>&-
	printf '%s' "$r"
}

# udp_send HEX: send one datagram, do not wait for a reply.
udp_send()
{
	exec 5<>"/dev/udp/127.0.0.1/$PORT" || return 1
	hex_bytes "$1" >&5
	exec 5>&-
}

# a query header after the ID: flags 0, one question, no records
HDR_REST=00000001000000000000

# Fields of a reply in hex: id, QR, opcode, rcode, ancount.
r_id()
{
	printf '%s' "${1:0:4}"
}
r_qr()
{
	printf '%d' $(((0x${1:4:2} >> 7) & 1))
}
r_rcode()
{
	printf '%d' $((0x${1:6:2} & 15))
}
r_ancount()
{
	printf '%d' $((0x${1:12:4}))
}

# tcp_read_msg FD: read one length-prefixed message, print it as hex.
tcp_read_msg()
{
	local len
	len=$(timeout 3 dd bs=2 count=1 iflag=fullblock 2>/dev/null <&"$1" |
		od -An -v -tu1 | awk '{ print $1 * 256 + $2 }')
	[ -n "$len" ] && [ "$len" -gt 0 ] || return 1
	timeout 3 dd bs="$len" count=1 iflag=fullblock 2>/dev/null <&"$1" |
		od -An -v -tx1 | tr -d ' \n'
}

# tcp_frame HEX: the message with its 2-byte length prefix, as hex.
tcp_frame()
{
	printf '%04x%s' $((${#1} / 2)) "$1"
}

start_server main < <(corefile)
MAIN_PID=$SERVER_PID

# An idle TCP connection must be closed by the server: watch one from the
# start, look at the result at the end (bounded wait, no timing asserted).
(
	exec 7<>"/dev/tcp/127.0.0.1/$PORT" || exit 2
	n=$(timeout 120 dd bs=1 count=1 2>/dev/null <&7 | wc -c)
	rc=${PIPESTATUS[0]}
	echo "$rc $n" >"$E2E_TMP/idle.result"
) &
IDLE_PID=$!

# ---------------------------------------------------------------- EDNS
ask +edns=0 +bufsize=4096 "web.prod.svc.$Z" A
assert_status NOERROR
check_match "$QUERY: OPT echoed, version 0, udp 1232" \
	'EDNS: version: 0, flags:;.* udp: 1232' "$OUT"
check "$QUERY: answer" "10.96.1.10" "$(rdata ANSWER A)"

ask +edns=0 +bufsize=512 "nosuch.prod.svc.$Z" A
assert_status NXDOMAIN
check_match "$QUERY: OPT on NXDOMAIN" 'EDNS: version: 0,.* udp: 1232' "$OUT"

ask +noedns "web.prod.svc.$Z" A
assert_status NOERROR
if printf '%s\n' "$OUT" | grep -q 'OPT PSEUDOSECTION'; then
	fail "$QUERY: no OPT without EDNS" "no OPT" "OPT present"
else
	ok "$QUERY: no OPT without EDNS"
fi

ask +edns=0 +dnssec "web.prod.svc.$Z" A
assert_status NOERROR
check "$QUERY: answer with DO" "10.96.1.10" "$(rdata ANSWER A)"

# unknown EDNS version: BADVERS, with an OPT of version 0
ask +edns=1 +noednsneg "web.prod.svc.$Z" A
assert_status BADVERS
check_match "$QUERY: OPT version 0" 'EDNS: version: 0,' "$OUT"
check "$QUERY: no answer" 0 "$(count ANSWER)"

# ---------------------------------------------------------------- TC / TCP
ask +noedns +ignore "big.prod.svc.$Z" A
assert_flag tc
check_match "$QUERY: fewer than 200 A over UDP 512" '^(1?[0-9]?[0-9])$' \
	"$(count ANSWER A)"
ask +edns=0 +bufsize=1232 +ignore "big.prod.svc.$Z" A
assert_flag tc
ask +edns=0 +bufsize=65000 +ignore "big.prod.svc.$Z" A
assert_flag tc
ask +edns=0 +ignore "_http._tcp.big.prod.svc.$Z" SRV
assert_flag tc
# 40 A records (about 700 octets): too big for 512, fit in 1232
MID_ALL=$(for i in $(seq 1 40); do echo "10.246.0.$i"; done | LC_ALL=C sort |
	awk 'NR > 1 { printf " | " } { printf "%s", $0 }')
ask +noedns +ignore "mid.prod.svc.$Z" A
assert_flag tc
ask +edns=0 +bufsize=600 +ignore "mid.prod.svc.$Z" A
assert_flag tc
ask +edns=0 +bufsize=1232 +ignore "mid.prod.svc.$Z" A
assert_noflag tc
check "$QUERY: 40 A in 1232 octets" "$MID_ALL" "$(rdata ANSWER A)"
ask +edns=0 +bufsize=4096 +ignore "mid.prod.svc.$Z" A
assert_noflag tc
check "$QUERY: 40 A" 40 "$(count ANSWER A)"
ask +noedns +ignore "db.prod.svc.$Z" A
assert_noflag tc
check "$QUERY: complete over UDP" "10.244.1.5 | 10.244.1.6 | 10.244.1.7" \
	"$(rdata ANSWER A)"

ask +tcp "big.prod.svc.$Z" A
assert_status NOERROR
assert_flag aa
assert_noflag tc
check "$QUERY: 200 A over TCP" 200 "$(count ANSWER A)"
check "$QUERY: every endpoint" "$BIG_ALL" "$(rdata ANSWER A)"
ask +tcp +noedns "big.prod.svc.$Z" A
check "$QUERY: 200 A over TCP without EDNS" 200 "$(count ANSWER A)"
# dig retries over TCP by itself on TC
ask +noedns "big.prod.svc.$Z" A
check "$QUERY: dig's TCP retry gets 200 A" 200 "$(count ANSWER A)"

# ---------------------------------------------------------------- TCP reuse
OUT=$(kdig +tcp +keepopen +norec +time=3 +retry=0 -p "$PORT" @127.0.0.1 \
	"web.prod.svc.$Z" A "db.prod.svc.$Z" A "nosuch.prod.svc.$Z" A \
	"api.prod.svc.$Z" AAAA 2>&1)
QUERY="kdig +keepopen, 4 queries"
check "$QUERY: NOERROR replies" 3 "$(printf '%s\n' "$OUT" | grep -c 'status: NOERROR')"
check "$QUERY: NXDOMAIN replies" 1 "$(printf '%s\n' "$OUT" | grep -c 'status: NXDOMAIN')"
check_match "$QUERY: web" "web\.prod\.svc\.$Z\.[[:space:]]+30[[:space:]]+IN[[:space:]]+A[[:space:]]+10\.96\.1\.10" "$OUT"
check_match "$QUERY: api AAAA" "api\.prod\.svc\.$Z\.[[:space:]]+30[[:space:]]+IN[[:space:]]+AAAA[[:space:]]+fd00:10:96::1:20" "$OUT"

# pipelining: three queries in one write, three replies on one connection
Q1=$(query_hex 1111 "web.prod.svc.$Z" 0001)
Q2=$(query_hex 2222 "nosuch.prod.svc.$Z" 0001)
Q3=$(query_hex 3333 "db.prod.svc.$Z" 0001)
exec 6<>"/dev/tcp/127.0.0.1/$PORT"
hex_bytes "$(tcp_frame "$Q1")$(tcp_frame "$Q2")$(tcp_frame "$Q3")" >&6
got=
for i in 1 2 3; do
	m=$(tcp_read_msg 6) || break
	got="$got$(r_id "$m"):$(r_qr "$m"):$(r_rcode "$m"):$(r_ancount "$m") "
done
exec 6>&-
OUT=
# shellcheck disable=SC2086
got=$(printf '%s\n' $got | LC_ALL=C sort | tr '\n' ' ')
check "pipelined TCP: id:qr:rcode:ancount of each reply" \
	"1111:1:0:1 2222:1:3:0 3333:1:0:3 " "$got"

# a query split over several writes is still answered
exec 6<>"/dev/tcp/127.0.0.1/$PORT"
F=$(tcp_frame "$(query_hex 4444 "web.prod.svc.$Z" 0001)")
hex_bytes "${F:0:2}" >&6
sleep 0.2
hex_bytes "${F:2:20}" >&6
sleep 0.2
hex_bytes "${F:22}" >&6
m=$(tcp_read_msg 6)
exec 6>&-
check "TCP query in three pieces: id:qr:rcode:ancount" "4444:1:0:1" \
	"$(r_id "$m"):$(r_qr "$m"):$(r_rcode "$m"):$(r_ancount "$m")"

# ---------------------------------------------------------------- opcodes
for op in notify update status iquery; do
	ask +opcode="$op" "web.prod.svc.$Z" A
	QUERY="opcode $op"
	assert_status NOTIMP
	check "$QUERY: no answer" 0 "$(count ANSWER)"
done

# RD is copied, the ID is echoed
ask +rec "web.prod.svc.$Z" A
assert_flag rd
assert_flag aa
assert_flag qr

# ---------------------------------------------------------------- FORMERR
OUT=
m=$(udp_exchange "abcd00000001000000000000")
check "header only, qdcount 1: id:qr:rcode" "abcd:1:1" \
	"$(r_id "$m"):$(r_qr "$m"):$(r_rcode "$m")"
m=$(udp_exchange "abce000000010000000000000377656203")
check "question cut inside the name: id:qr:rcode" "abce:1:1" \
	"$(r_id "$m"):$(r_qr "$m"):$(r_rcode "$m")"
m=$(udp_exchange "abcf00000001000000000000$(qname_hex "web.prod.svc.$Z")00")
check "question without type and class: id:qr:rcode" "abcf:1:1" \
	"$(r_id "$m"):$(r_qr "$m"):$(r_rcode "$m")"
Q=$(query_hex abd0 "web.prod.svc.$Z" 0001)
m=$(udp_exchange "${Q:0:8}0002${Q:12}${Q:24}")
check "two questions: id:qr:rcode" "abd0:1:1" \
	"$(r_id "$m"):$(r_qr "$m"):$(r_rcode "$m")"
m=$(udp_exchange "abd10000""0000""000000000000")
check "no question: id:qr:rcode" "abd1:1:1" \
	"$(r_id "$m"):$(r_qr "$m"):$(r_rcode "$m")"
# a label longer than 63 octets
m=$(udp_exchange "abd200000001000000000000$(printf '%02x' 64)$(printf 'a%.0s' $(seq 1 64) |
	od -An -v -tx1 | tr -d ' \n')0000010001")
check "label of 64 octets: id:qr:rcode" "abd2:1:1" \
	"$(r_id "$m"):$(r_qr "$m"):$(r_rcode "$m")"

# a response (QR set) is never answered
Q=$(query_hex abd3 "web.prod.svc.$Z" 0001)
m=$(udp_exchange "${Q:0:4}8400${Q:8}")
check "a packet with QR set gets no reply" "" "$m"

# ---------------------------------------------------------------- garbage
OUT=
for i in $(seq 1 100); do
	n=$(((RANDOM % 700) + 1))
	head -c "$n" /dev/urandom >"/dev/udp/127.0.0.1/$PORT"
done
for h in 00 0000 abcd0100 abcd01000001 abcd0100000100000000 abcd010000010000000000; do
	udp_send "$h"
done
# a header claiming many records, followed by nothing
udp_send "abcd0000ffffffffffffffff"
# a compression pointer loop in the question
udp_send "abcd00000001000000000000c00c00010001"
# 3-byte TCP message, then close
exec 6<>"/dev/tcp/127.0.0.1/$PORT"
hex_bytes "001011" >&6
exec 6>&-
# a length prefix only
exec 6<>"/dev/tcp/127.0.0.1/$PORT"
hex_bytes "ffff" >&6
exec 6>&-
# a zero length message
exec 6<>"/dev/tcp/127.0.0.1/$PORT"
hex_bytes "0000" >&6
exec 6>&-
# connect and close
exec 6<>"/dev/tcp/127.0.0.1/$PORT"
exec 6>&-
# random bytes over TCP
for i in 1 2 3 4 5; do
	exec 6<>"/dev/tcp/127.0.0.1/$PORT"
	head -c $((RANDOM % 3000 + 1)) /dev/urandom >&6
	exec 6>&-
done
# a query then close before reading the answer
exec 6<>"/dev/tcp/127.0.0.1/$PORT"
hex_bytes "$(tcp_frame "$(query_hex 5555 "big.prod.svc.$Z" 0001)")" >&6
exec 6>&-

if kill -0 "$MAIN_PID" 2>/dev/null; then
	ok "daemon alive after garbage"
else
	fail "daemon alive after garbage" "running" "exited"
fi
assert_answer "web.prod.svc.$Z" A 10.96.1.10
assert_answer "web.prod.svc.$Z" A 10.96.1.10 +tcp
assert_answer "big.prod.svc.$Z" A "$BIG_ALL" +tcp

# ---------------------------------------------------------------- idle TCP
wait "$IDLE_PID"
read -r rc n <"$E2E_TMP/idle.result" || rc=x
OUT=
case $rc in
0) check "idle TCP connection closed by the server without data" 0 "$n" ;;
124) fail "idle TCP connection closed by the server" "EOF" \
	"still open after 120 s" ;;
*) fail "idle TCP connection closed by the server" "EOF" "error $rc" ;;
esac

finish
