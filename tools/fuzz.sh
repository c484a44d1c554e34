#!/bin/sh
# Build a fuzz target with libFuzzer, ASan and UBSan, and run it for a
# bounded time.  Usage: tools/fuzz.sh [SECONDS] [TARGET] (default 60 s and
# packet: the query parser; cache: upstream responses through the cache;
# podscan: PodList pages from the API server).
# Build, corpus (seeded with a few hand-made messages) and crash files live
# in $FUZZ_BUILD (default: clusterdns-fuzz under $TMPDIR or /tmp).
set -eu

secs=${1:-60}
target=${2:-packet}
top=$(cd "$(dirname "$0")/.." && pwd)
cc=${CLANG:-clang-14}
build=${FUZZ_BUILD:-${TMPDIR:-/tmp}/clusterdns-fuzz}
corpus=$build/corpus-$target

mkdir -p "$build" "$corpus"
case $target in
packet)
	srcs="server/packet.c server/log.c tests/fuzz_packet.c"
	libs=
	;;
cache)
	srcs="server/cache.c server/packet.c zones/dname.c tests/fuzz_cache.c"
	libs="-lurcu -lurcu-common -lpthread"
	;;
podscan)
	srcs="zones/podscan.c zones/objects.c tests/fuzz_podscan.c"
	libs=
	;;
*)
	echo "fuzz.sh: unknown target $target (packet, cache or podscan)" >&2
	exit 2
	;;
esac
# shellcheck disable=SC2046,SC2086 # lists of files and flags
"$cc" -std=gnu11 -g -O1 -I"$top" \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	$(for f in $srcs; do printf '%s ' "$top/$f"; done) $libs \
	-o "$build/fuzz_$target"

# Seeds: plain query, EDNS with DO, a NOTIFY; for the cache a response
# with an answer and an OPT, and an NXDOMAIN with an SOA.
seed() {
	[ -e "$corpus/$1" ] || printf "$2" >"$corpus/$1"
}
seed a '\022\064\001\000\000\001\000\000\000\000\000\000\007example\003org\000\000\001\000\001'
seed edns '\022\064\001\000\000\001\000\000\000\000\000\001\003svc\000\000\034\000\001\000\000\051\020\000\000\000\200\000\000\004\000\012\000\000'
seed resp '\022\064\201\200\000\001\000\001\000\000\000\001\003web\003org\000\000\001\000\001\300\014\000\001\000\001\000\000\000\036\000\004\012\000\000\001\000\000\051\004\320\000\000\000\000\000\000'
seed nxdomain '\022\064\201\203\000\001\000\000\000\001\000\000\001x\003org\000\000\001\000\001\300\016\000\006\000\001\000\000\000\074\000\026\001a\000\001b\000\000\000\000\001\000\000\000\002\000\000\000\003\000\000\000\004\000\000\000\005'
seed notify '\000\001\044\000\000\001\000\000\000\000\000\000\000\000\006\000\001'
seed pods '{"metadata":{"resourceVersion":"7","continue":"c"},"items":[{"metadata":{"name":"a","namespace":"b"},"status":{"phase":"Running","podIP":"10.0.0.1","podIPs":[{"ip":"fd00::1"}]}}]}'

cd "$build"
maxlen=1024
[ "$target" = podscan ] && maxlen=8192
exec "$build/fuzz_$target" -max_total_time="$secs" -max_len="$maxlen" \
	-print_final_stats=1 "$corpus"
