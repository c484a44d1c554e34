#!/bin/bash
# shellcheck disable=SC2119
# transfer.sh -- the transfer directive: AXFR of the cluster zones over TCP
# to the addresses it names (the same records as tools/zonedump, SOA first
# and last with the serial an SOA query shows, in several messages),
# REFUSED to others, IXFR answered with the whole zone or our SOA alone,
# AXFR over UDP NOTIMP, REFUSED without the directive; NSD and Knot as
# secondaries pull the zones and answer 200 names as clusterdns does, and
# after a change and a NOTIFY ask IXFR and take the new zone; transfers
# while the zone changes are each one version of it; a client that does not
# read its transfer holds nothing up for the others and is reset at the
# idle timeout; at most 10 transfers at once.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

need python3
Z=$ZONE
ZONEDUMP=$top_builddir/tools/zonedump
PROBE=$top_srcdir/tests/e2e/dnsprobe.py

OBJ=$E2E_TMP/objects
cp -R "$FIXTURE" "$OBJ"
start_server main <<EOF
.:@PORT@ {
    bind 127.0.0.1 ::1
    transfer {
        to 127.0.0.1 ::1
    }
    kubernetes $Z in-addr.arpa ip6.arpa {
        objects $OBJ
        pods verified
        ttl 30
    }
}
EOF
CPORT=$PORT
MAIN_PID=$SERVER_PID
D=$E2E_TMP/dump
mkdir -p "$D"
for z in "$Z" in-addr.arpa ip6.arpa; do
	"$ZONEDUMP" -conf "$SERVER_DIR/Corefile" -zone "$z" >"$D/$z.zone" \
		2>"$D/$z.err" || fail "zonedump $z" "a zone" "$(cat "$D/$z.err")"
done

# records FILE: the records of a master file or of dig's output but the
# SOA (zonedump's has its own serial), one per line, single spaces,
# lowercase, sorted, without comments.
records()
{
	awk '!/^[;$]/ && NF && $4 != "SOA" { $1 = $1; print tolower($0) }' "$1" |
		LC_ALL=C sort
}

# xfr NAME ZONE [DIG-ARG...]: dig's transfer into $D/NAME.
xfr()
{
	local n=$1 z=$2
	shift 2
	dig +time=5 +tries=1 -p "$CPORT" @127.0.0.1 "$z" "$@" >"$D/$n" 2>&1
}

SERIAL=$(dig +short +norec -p "$CPORT" @127.0.0.1 "$Z" SOA | awk '{ print $3 }')

# ---- AXFR from an allowed address: the whole zone, as zonedump has it
for z in "$Z" in-addr.arpa ip6.arpa; do
	xfr "axfr.$z" "$z" AXFR
	OUT=$(tail -n 3 "$D/axfr.$z")
	got=$(records "$D/axfr.$z" | md5sum)
	want=$(records "$D/$z.zone" | md5sum)
	check "AXFR $z: the records of zonedump" "$want" "$got"
	recs=$(sed -n 's/^;; XFR size: \([0-9]*\) records.*/\1/p' "$D/axfr.$z")
	check "AXFR $z: every record once, the SOA twice" \
		"$(($(records "$D/$z.zone" | wc -l) + 2))" "$recs"
	check "AXFR $z: SOA first" SOA \
		"$(grep -v '^;' "$D/axfr.$z" | awk 'NF' | head -n 1 | awk '{ print $4 }')"
	check "AXFR $z: SOA last" SOA \
		"$(grep -v '^;' "$D/axfr.$z" | awk 'NF' | tail -n 1 | awk '{ print $4 }')"
done
OUT=$(tail -n 3 "$D/axfr.$Z")
check_match "AXFR $Z: several messages" \
	'messages ([2-9]|[1-9][0-9]+),' "$(grep '^;; XFR size' "$D/axfr.$Z")"
check "AXFR $Z: the serial an SOA query shows" "$SERIAL" \
	"$(grep -v '^;' "$D/axfr.$Z" | awk '$4 == "SOA" { print $7; exit }')"

# kdig, over IPv6 too
OUT=$(kdig +time=5 -p "$CPORT" @127.0.0.1 "$Z" AXFR 2>&1)
check "kdig AXFR $Z: records" "$(($(records "$D/$Z.zone" | wc -l) + 2))" \
	"$(printf '%s\n' "$OUT" | sed -n 's/^;; Received .*(\([0-9]*\) messages*, \([0-9]*\) records).*/\2/p')"
OUT=$(kdig +time=5 -p "$CPORT" @::1 "$Z" AXFR 2>&1)
check "kdig AXFR $Z from ::1: records" "$(($(records "$D/$Z.zone" | wc -l) + 2))" \
	"$(printf '%s\n' "$OUT" | sed -n 's/^;; Received .*(\([0-9]*\) messages*, \([0-9]*\) records).*/\2/p')"

# ---- everyone else: REFUSED
OUT=$(kdig +time=5 -b 127.0.0.2 -p "$CPORT" @127.0.0.1 "$Z" AXFR 2>&1)
check_match "AXFR from 127.0.0.2: REFUSED" "error 'REFUSED'" "$OUT"
OUT=$(dig +time=5 +tries=1 -b 127.0.0.2 -p "$CPORT" @127.0.0.1 "$Z" AXFR 2>&1)
check_match "dig -b 127.0.0.2 AXFR: no records" 'Transfer failed' "$OUT"
OUT=$(kdig +time=5 -b 127.0.0.2 -p "$CPORT" @127.0.0.1 "$Z" IXFR=1 2>&1)
check_match "IXFR from 127.0.0.2: REFUSED" "error 'REFUSED'" "$OUT"
# a name that is no apex, a zone not served
OUT=$(kdig +time=5 -p "$CPORT" @127.0.0.1 "svc.$Z" AXFR 2>&1)
check_match "AXFR svc.$Z (not an apex): REFUSED" "error 'REFUSED'" "$OUT"
OUT=$(kdig +time=5 -p "$CPORT" @127.0.0.1 example.org AXFR 2>&1)
check_match "AXFR example.org (not served): REFUSED" "error 'REFUSED'" "$OUT"

# ---- IXFR: older serial, the whole zone; ours, the SOA alone
xfr ixfr.old "$Z" "IXFR=$((SERIAL - 1))" +tcp
OUT=$(tail -n 3 "$D/ixfr.old")
check "IXFR=serial-1: the whole zone" "$(($(records "$D/$Z.zone" | wc -l) + 2))" \
	"$(sed -n 's/^;; XFR size: \([0-9]*\) records.*/\1/p' "$D/ixfr.old")"
xfr ixfr.same "$Z" "IXFR=$SERIAL" +tcp
OUT=$(cat "$D/ixfr.same")
check "IXFR=serial: our SOA alone" "SOA $SERIAL" \
	"$(grep -v '^;' "$D/ixfr.same" | awk 'NF { print $4, $7 }' | tr '\n' ' ' | sed 's/ $//')"
# over UDP: our SOA, which tells the client to ask over TCP (RFC 1995)
OUT=$(dig +time=5 +tries=1 -p "$CPORT" @127.0.0.1 "$Z" IXFR=1 +notcp 2>&1)
check_match "IXFR over UDP: asked over UDP" 'SERVER: .*\(UDP\)' "$OUT"
check "IXFR over UDP: our SOA alone" "SOA $SERIAL" \
	"$(printf '%s\n' "$OUT" | grep -v '^;' | awk 'NF { print $4, $7 }')"
# an IXFR without the client's SOA
check_match "IXFR without an SOA: FORMERR" '^rcode=FORMERR' \
	"$(python3 "$PROBE" --q "$Z" IXFR 1 --tcp "$CPORT")"

# ---- AXFR over UDP: not defined there (RFC 5936 4.2), as NSD and Knot say
check_match "AXFR over UDP: NOTIMP" '^rcode=NOTIMP' \
	"$(python3 "$PROBE" --q "$Z" AXFR 1 "$CPORT")"

# ---- a client that does not read its transfer holds up nobody
python3 - "$CPORT" "$Z" >"$D/noread.out" 2>&1 <<'PY' &
import socket, struct, sys, time
port, zone = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
q = struct.pack(">HHHHHH", 0x4242, 0, 1, 0, 0, 0)
for l in zone.split("."):
    q += bytes([len(l)]) + l.encode()
q += b"\0" + struct.pack(">HH", 252, 1)
for _ in range(3):  # three transfers pipelined, none read
    s.sendall(struct.pack(">H", len(q)) + q)
print("asked", flush=True)
time.sleep(12.5)  # past the idle timeout (10 s and a tenth at most)
try:
    n = 0
    while True:
        b = s.recv(65536)
        if not b:
            break
        n += len(b)
    print("closed after %d bytes" % n)
except ConnectionResetError:
    print("reset")
PY
NOREAD=$!
E2E_PIDS+=("$NOREAD")
sleep 0.5
ask "web.prod.svc.$Z" A
check "while a transfer is not read: UDP answered" "10.96.1.10" "$(rdata ANSWER A)"
ask "web.prod.svc.$Z" A +tcp
check "while a transfer is not read: TCP answered" "10.96.1.10" "$(rdata ANSWER A)"
xfr axfr.again "$Z" AXFR
check "while a transfer is not read: another AXFR" \
	"$(($(records "$D/$Z.zone" | wc -l) + 2))" \
	"$(sed -n 's/^;; XFR size: \([0-9]*\) records.*/\1/p' "$D/axfr.again")"

# ---- while the zone changes, every transfer is one version of it: its
# SOA first and last, and one record count per serial
churn()
{
	local i
	for i in $(seq 1 300); do
		printf -- '---\napiVersion: v1\nkind: Service\n'
		printf 'metadata: {name: churn-%d, namespace: prod}\n' "$i"
		printf 'spec: {clusterIP: 10.96.%d.%d}\n' $((200 + i / 250)) $((i % 250 + 1))
	done
}
BEFORE=$(sed -n 's/^;; XFR size: \([0-9]*\) records.*/\1/p' "$D/axfr.$Z")
: >"$D/versions"
for round in 1 2 3 4; do
	if [ $((round % 2)) = 1 ]; then
		churn >"$OBJ/churn.yaml"
	else
		rm -f "$OBJ/churn.yaml"
	fi
	for _ in $(seq 1 8); do
		kdig +time=5 -p "$CPORT" @127.0.0.1 "$Z" AXFR 2>/dev/null |
			awk '$4 == "SOA" { s[++n] = $7 } /^[^;]/ && NF { r++ }
			     END { print (s[1] == s[n] ? "same" : "differ"), s[1], r }'
		sleep 0.05
	done >>"$D/versions"
done
OUT=$(cat "$D/versions")
check "during changes: every transfer's SOA first and last the same" 0 \
	"$(grep -vc '^same ' "$D/versions")"
check "during changes: one record count per serial" "" \
	"$(awk '{ print $2, $3 }' "$D/versions" | sort -u | awk '{ print $1 }' | uniq -d)"
check_match "during changes: both versions transferred" '^2$' \
	"$(awk '{ print $3 }' "$D/versions" | sort -u | wc -l)"
got=
for _ in $(seq 1 50); do
	got=$(kdig +time=5 -p "$CPORT" @127.0.0.1 "$Z" AXFR 2>/dev/null |
		awk '/^[^;]/ && NF { r++ } END { print r }')
	[ "$got" = "$BEFORE" ] && break
	sleep 0.1
done
check "after the changes: the zone as before" "$BEFORE" "$got"
OUT=
SERIAL=$(dig +short +norec -p "$CPORT" @127.0.0.1 "$Z" SOA | awk '{ print $3 }')

# ---- secondaries (NSD, Knot) pull the zones and answer as clusterdns does

# 190 names of the zones (owner and type, spread over the dump) and 10 that
# do not exist or lack the type
{
	cat "$D/$Z.zone" "$D/in-addr.arpa.zone" |
		awk '!/^[;$]/ && NF { print tolower($1), $4 }' |
		LC_ALL=C sort -u >"$D/names.all"
	n=$(wc -l <"$D/names.all")
	awk -v n="$n" '{ if (int((NR - 1) * 190 / n) != int(NR * 190 / n)) print }' \
		"$D/names.all"
	for i in 1 2 3 4; do
		echo "nope-$i.prod.svc.$Z. A"
	done
	echo "web.prod.svc.$Z. AAAA"
	echo "web.prod.svc.$Z. TXT"
	echo "nope.nope.svc.$Z. A"
	echo "99.99.99.10.in-addr.arpa. PTR"
	echo "_nope._tcp.web.prod.svc.$Z. SRV"
	echo "prod.svc.$Z. A"
} >"$D/sample"
check "sample: 200 names" 200 "$(wc -l <"$D/sample")"

# answer PORT NAME TYPE: rcode and the sorted answer section
answer()
{
	dig +norec +time=2 +tries=1 -p "$1" @127.0.0.1 "$2" "$3" \
		+noall +comments +answer |
		awk '/status:/ { print $6 } /^[^;]/ && NF { $1 = $1; print tolower($0) }' |
		LC_ALL=C sort
}

# secondary NAME PORT LOG: wait until the secondary on PORT has both zones
# at our serial, then ask it and clusterdns the sample.
secondary()
{
	local who=$1 port=$2 log=$3 z got differ=0 name type a b
	for z in "$Z" in-addr.arpa; do
		got=
		for _ in $(seq 1 100); do
			got=$(dig +short +norec +time=1 +tries=1 -p "$port" \
				@127.0.0.1 "$z" SOA 2>/dev/null | awk '{ print $3 }')
			[ "$got" = "$SERIAL" ] && break
			sleep 0.1
		done
		OUT=$(cat "$log" 2>/dev/null)
		check "$who secondary: $z transferred, serial" "$SERIAL" "$got"
	done
	OUT=
	while read -r name type; do
		a=$(answer "$CPORT" "$name" "$type")
		b=$(answer "$port" "$name" "$type")
		if [ "$a" != "$b" ]; then
			differ=$((differ + 1))
			[ "$differ" -le 3 ] && {
				echo "# $name $type: clusterdns:"
				printf '%s\n' "$a" | sed 's/^/#   /'
				echo "# $who:"
				printf '%s\n' "$b" | sed 's/^/#   /'
			}
		fi
	done <"$D/sample"
	check "$who secondary: the 200 names answered as clusterdns does" 0 "$differ"
}

SECONDARIES=()
if command -v nsd >/dev/null 2>&1; then
	d=$E2E_TMP/nsd
	mkdir -p "$d"
	NPORT=$(free_port)
	{
		cat <<EOC
server:
  ip-address: 127.0.0.1@$NPORT
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
  verbosity: 2
remote-control:
  control-enable: no
EOC
		for z in "$Z" in-addr.arpa; do
			printf 'zone:\n  name: %s\n  zonefile: %s.zone\n' "$z" "$z"
			printf '  request-xfr: 127.0.0.1@%s NOKEY\n' "$CPORT"
			printf '  allow-notify: 127.0.0.1 NOKEY\n'
		done
	} >"$d/nsd.conf"
	nsd -d -c "$d/nsd.conf" >"$d/out.log" 2>&1 &
	E2E_PIDS+=("$!")
	secondary NSD "$NPORT" "$d/nsd.log"
	SECONDARIES+=("NSD $NPORT")
else
	echo "# nsd not installed: no NSD secondary"
fi

if command -v knotd >/dev/null 2>&1; then
	d=$E2E_TMP/knot
	mkdir -p "$d/db" "$d/zones"
	KPORT=$(free_port)
	{
		cat <<EOC
server:
    rundir: "$d"
    listen: 127.0.0.1@$KPORT
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
control:
    listen: "$d/knot.sock"
database:
    storage: "$d/db"
log:
  - target: stderr
    any: info
remote:
  - id: clusterdns
    address: 127.0.0.1@$CPORT
acl:
  - id: notify
    address: 127.0.0.1
    action: notify
template:
  - id: default
    storage: "$d/zones"
    zonefile-sync: -1
    zonefile-load: none
    journal-content: none
    semantic-checks: off
    master: clusterdns
    acl: notify
zone:
  - domain: $Z
  - domain: in-addr.arpa
EOC
	} >"$d/knot.conf"
	knotd -c "$d/knot.conf" >"$d/out.log" 2>&1 &
	E2E_PIDS+=("$!")
	secondary Knot "$KPORT" "$d/out.log"
	SECONDARIES+=("Knot $KPORT")
else
	echo "# knotd not installed: no Knot secondary"
fi

# ---- the zone changes; told with a NOTIFY, each secondary asks IXFR from
# its serial and takes the whole zone we answer
if [ "${#SECONDARIES[@]}" -gt 0 ]; then
	churn >"$OBJ/churn.yaml"
	new=$SERIAL
	for _ in $(seq 1 50); do
		new=$(dig +short +norec -p "$CPORT" @127.0.0.1 "$Z" SOA | awk '{ print $3 }')
		[ "$new" != "$SERIAL" ] && break
		sleep 0.1
	done
	want=$(answer "$CPORT" "churn-7.prod.svc.$Z" A)
	check "the changed zone: churn-7 answered" "NOERROR,
churn-7.prod.svc.$Z. 30 in a 10.96.200.8" "$want"
	for s in "${SECONDARIES[@]}"; do
		who=${s% *}
		port=${s#* }
		python3 - "$port" "$Z" <<'PY'
import socket, struct, sys
port, zone = int(sys.argv[1]), sys.argv[2]
name = b"".join(bytes([len(l)]) + l.encode() for l in zone.split(".")) + b"\0"
q = struct.pack(">HHHHHH", 0x7777, 4 << 11 | 0x0400, 1, 0, 0, 0) + name + struct.pack(">HH", 6, 1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(2)
u.sendto(q, ("127.0.0.1", port))
try:
    u.recv(512)
except socket.timeout:
    pass
PY
		got=
		for _ in $(seq 1 100); do
			got=$(dig +short +norec +time=1 +tries=1 -p "$port" \
				@127.0.0.1 "$Z" SOA 2>/dev/null | awk '{ print $3 }')
			[ "$got" = "$new" ] && break
			sleep 0.1
		done
		check "$who secondary after a NOTIFY: the new serial" "$new" "$got"
		check "$who secondary after a NOTIFY: churn-7 as clusterdns answers" \
			"$want" "$(answer "$port" "churn-7.prod.svc.$Z" A)"
	done
	if [ -f "$E2E_TMP/knot/out.log" ]; then
		check_match "Knot asked IXFR and took the whole zone" \
			'IXFR, incoming, .*receiving AXFR-style IXFR' \
			"$(cat "$E2E_TMP/knot/out.log")"
	fi
	check_match "the secondaries asked IXFR: answered with the zone" \
		"Outgoing transfer of [0-9]+ records of zone \"$Z\.\" to 127\.0\.0\.1:[0-9]+ for $new SOA serial" \
		"$(cat "$E2E_TMP/main/out.log")"
	rm -f "$OBJ/churn.yaml"
fi

# ---- the client that did not read was reset at the idle timeout
wait "$NOREAD" 2>/dev/null
OUT=$(cat "$D/noread.out")
check "a transfer left unread: the connection reset at the idle timeout" \
	reset "$(tail -n 1 "$D/noread.out")"
check_match "a transfer left unread: logged" \
	'tcp: closed 127\.0\.0\.1:[0-9]+: answers left unread' \
	"$(cat "$E2E_TMP/main/out.log")"
OUT=

# ---- at most 10 transfers at once: 12 pipelined, 10 sent, 2 SERVFAIL
OUT=$(python3 - "$CPORT" "$Z" <<'PY' 2>&1
import socket, struct, sys
port, zone = int(sys.argv[1]), sys.argv[2]
name = b"".join(bytes([len(l)]) + l.encode() for l in zone.split(".")) + b"\0"
s = socket.create_connection(("127.0.0.1", port))
out = b""
for i in range(1, 13):
    q = struct.pack(">HHHHHH", i, 0, 1, 0, 0, 0) + name + struct.pack(">HH", 252, 1)
    out += struct.pack(">H", len(q)) + q
s.sendall(out)
s.settimeout(3)
data = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
except socket.timeout:
    pass
ok, failed, off = set(), set(), 0
while off + 2 <= len(data):
    n = struct.unpack(">H", data[off:off + 2])[0]
    m = data[off + 2:off + 2 + n]
    off += 2 + n
    if len(m) < 12:
        break
    (failed if m[3] & 15 == 2 else ok).add(struct.unpack(">H", m[:2])[0])
print("sent=%d servfail=%d" % (len(ok), len(failed)))
PY
)
check "12 transfers at once on one connection" "sent=10 servfail=2" "$OUT"

# ---- a reloaded Corefile's transfer directive takes over
sed -i 's/to 127\.0\.0\.1 ::1/to 127.0.0.0\/30 ::1/' "$E2E_TMP/main/Corefile"
kill -USR1 "$MAIN_PID"
got=
for _ in $(seq 1 50); do
	got=$(kdig +time=2 -b 127.0.0.2 -p "$CPORT" @127.0.0.1 "$Z" AXFR 2>/dev/null |
		awk '/^[^;]/ && NF { r++ } END { print r + 0 }')
	[ "$got" = "$BEFORE" ] && break
	sleep 0.1
done
check "after a reload to 127.0.0.0/30: AXFR from 127.0.0.2" "$BEFORE" "$got"
OUT=$(kdig +time=5 -b 127.0.0.5 -p "$CPORT" @127.0.0.1 "$Z" AXFR 2>&1)
check_match "after a reload: AXFR from 127.0.0.5 REFUSED" "error 'REFUSED'" "$OUT"

# ---- without a transfer directive: REFUSED over TCP, as before
start_server plain < <(corefile)
OUT=$(kdig +time=5 -p "$PORT" @127.0.0.1 "$Z" AXFR 2>&1)
check_match "no transfer directive: AXFR REFUSED" "error 'REFUSED'" "$OUT"

finish
