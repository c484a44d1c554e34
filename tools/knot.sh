# shellcheck shell=bash
# knot.sh -- Knot DNS as a peer of clusterdns, for the benchmarks and the
# end-to-end tests (sourced, needs bash).
#
# knot_conf DIR ADDR@PORT ZONEDIR ZONE...: print a knot.conf for knotd in
# the foreground with its run and database files in DIR, one UDP, one TCP
# and one background worker, listening on ADDR@PORT and serving the zone
# files ZONEDIR/ZONE.zone as they are (no journal, no zone file sync, no
# semantic checks), logging warnings to stderr.  The lines of KNOT_SERVER
# (e.g. "    tcp-max-clients: 1000", one per line) are added to its server:
# section when set.
knot_conf()
{
	local d=$1 at=$2 zd=$3 z
	shift 3
	mkdir -p "$d/db"
	cat <<EOC
server:
    rundir: "$d"
    listen: $at
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
${KNOT_SERVER:-}
control:
    listen: "$d/knot.sock"
database:
    storage: "$d/db"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "$zd"
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off
zone:
EOC
	for z in "$@"; do
		echo "  - domain: $z"
	done
}
