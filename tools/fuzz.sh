#!/bin/sh
# Build the packet parser fuzz target with libFuzzer, ASan and UBSan, and run
# it for a bounded time.  Usage: tools/fuzz.sh [SECONDS] (default 60).
# Build, corpus (seeded with a few hand-made queries) and crash files live in
# $FUZZ_BUILD (default: clusterdns-fuzz under $TMPDIR or /tmp).
set -eu

secs=${1:-60}
top=$(cd "$(dirname "$0")/.." && pwd)
cc=${CLANG:-clang-14}
build=${FUZZ_BUILD:-${TMPDIR:-/tmp}/clusterdns-fuzz}
corpus=$build/corpus

mkdir -p "$build" "$corpus"
"$cc" -std=gnu11 -g -O1 -I"$top" \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	"$top/server/packet.c" "$top/server/log.c" "$top/tests/fuzz_packet.c" \
	-o "$build/fuzz_packet"

# Seeds: plain query, EDNS with DO, a NOTIFY.
seed() {
	[ -e "$corpus/$1" ] || printf "$2" >"$corpus/$1"
}
seed a '\022\064\001\000\000\001\000\000\000\000\000\000\007example\003org\000\000\001\000\001'
seed edns '\022\064\001\000\000\001\000\000\000\000\000\001\003svc\000\000\034\000\001\000\000\051\020\000\000\000\200\000\000\004\000\012\000\000'
seed notify '\000\001\044\000\000\001\000\000\000\000\000\000\000\000\006\000\001'

cd "$build"
exec "$build/fuzz_packet" -max_total_time="$secs" -max_len=1024 \
	-print_final_stats=1 "$corpus"
