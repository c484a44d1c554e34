#!/bin/sh
# Install every build, test and benchmark dependency of clusterdns from
# Debian packages.  Idempotent: packages already present are left alone.
set -eu

PKGS="build-essential autoconf automake libtool pkg-config
libldns-dev ldnsutils libevent-dev libcurl4-openssl-dev libcjson-dev
libyaml-dev liburcu-dev libcmocka-dev libssl-dev zlib1g-dev openssl curl jq
bind9-dnsutils knot-dnsutils dnsperf nsd knot unbound
clang-14 libfuzzer-14-dev libclang-rt-14-dev clang-format valgrind
util-linux procps iproute2 prometheus
python3-kubernetes python3-yaml mandoc"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ] ||
	! $SUDO apt-get install -y --no-install-recommends $missing; then
	$SUDO apt-get update
	$SUDO apt-get install -y --no-install-recommends $missing
fi

# The packaged NSD, Knot, unbound and Prometheus start system services on
# install; the benchmarks and tests run their own instances (Prometheus only
# for promtool), so keep the system ones out of the way.
for s in nsd knot unbound prometheus; do
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		$SUDO systemctl disable --now "$s" >/dev/null 2>&1 || true
	fi
done
exit 0
