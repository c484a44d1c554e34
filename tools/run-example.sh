#!/bin/sh
# Install the dependencies, build clusterdns and serve the example cluster
# (tools/examples/cluster) on 127.0.0.1:1053 until Ctrl-C.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

tools/install-deps.sh
[ -x configure ] || autoreconf -fi >/dev/null 2>&1
build="$top/_build/example"
mkdir -p "$build"
(
	cd "$build"
	[ -f Makefile ] || "$top/configure" -q
	make -j2 server/clusterdns tools/zonedump >/dev/null
)

cat <<'MSG'
clusterdns serves the example cluster on 127.0.0.1:1053. In another shell:

  dig @127.0.0.1 -p 1053 web.prod.svc.cluster.local
  dig @127.0.0.1 -p 1053 db.prod.svc.cluster.local
  dig @127.0.0.1 -p 1053 SRV _http._tcp.web.prod.svc.cluster.local
  dig @127.0.0.1 -p 1053 -x 10.96.0.10
  dig @127.0.0.1 -p 1053 nothere.prod.svc.cluster.local

Edit a file under tools/examples/cluster and the answers follow.
The whole zone: _build/example/tools/zonedump -conf tools/examples/Corefile
Ctrl-C stops the server.

MSG
exec "$build/server/clusterdns" -conf tools/examples/Corefile
