# ports.sh -- loopback ports for the test and benchmark scripts (sourced,
# needs bash): port_busy PORT is true when something listens on PORT (UDP
# or TCP, IPv4 or IPv6); free_port prints a port nothing uses.

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
	local i p
	for i in $(seq 1 200); do
		p=$((20000 + (RANDOM * 32768 + RANDOM + i) % 40000))
		port_busy "$p" || {
			echo "$p"
			return 0
		}
	done
	return 1
}
