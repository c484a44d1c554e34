# ports.sh -- loopback ports for the test and benchmark scripts (sourced,
# needs bash): port_busy PORT is true when something listens on PORT (UDP
# or TCP, IPv4 or IPv6); free_port prints a port nothing uses, outside the
# kernel's ephemeral range, so that no client socket of this machine (a
# forwarder's, dig's, another test's) can take it while a test restarts a
# server on it.

port_busy()
{
	local hex f
	hex=$(printf ':%04X ' "$1")
	for f in /proc/net/udp /proc/net/udp6 /proc/net/tcp /proc/net/tcp6; do
		[ -r "$f" ] || continue
		# local_address is the 2nd column: ADDR:PORT
		awk '{ print $2 " " }' "$f" | grep -q -- "$hex" && return 0
	done
	return 1
}

free_port()
{
	local i p lo=32768 hi=60999 n
	if [ -r /proc/sys/net/ipv4/ip_local_port_range ]; then
		read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
	fi
	[ "$lo" -gt 10000 ] || lo=10000
	[ "$hi" -lt 65535 ] || hi=65534
	# ports 10000..lo-1 and hi+1..65535, numbered 0..n-1
	n=$((lo - 10000 + 65535 - hi))
	for i in $(seq 1 200); do
		p=$(((RANDOM * 32768 + RANDOM + i) % n + 10000))
		[ "$p" -lt "$lo" ] || p=$((p - lo + hi + 1))
		port_busy "$p" || {
			echo "$p"
			return 0
		}
	done
	return 1
}
