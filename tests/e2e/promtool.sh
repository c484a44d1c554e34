#!/bin/bash
# promtool.sh -- the exposition of a registry holding every family (printed
# by tests/metricsdump) passes `promtool check metrics`, names every family
# we export, and the check is real: broken variants of it fail.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

DUMP=$top_builddir/tests/metricsdump
need promtool
[ -x "$DUMP" ] || {
	fail "tests/metricsdump built" "an executable" "missing"
	finish
}

M=$E2E_TMP/metrics.txt
"$DUMP" >"$M"
check "metricsdump exits 0" 0 $?

OUT=$(promtool check metrics <"$M" 2>&1)
check "promtool check metrics passes" 0 $?
OUT=

for f in coredns_build_info coredns_panics_total \
	coredns_dns_requests_total coredns_dns_responses_total \
	coredns_dns_request_duration_seconds coredns_dns_request_size_bytes \
	coredns_dns_response_size_bytes coredns_dns_do_requests_total \
	coredns_plugin_enabled coredns_cache_entries coredns_cache_requests_total \
	coredns_cache_hits_total coredns_cache_misses_total \
	coredns_cache_prefetch_total coredns_cache_drops_total \
	coredns_cache_served_stale_total coredns_cache_evictions_total \
	coredns_autopath_success_total \
	coredns_proxy_request_duration_seconds \
	coredns_proxy_healthcheck_failures_total \
	coredns_proxy_conn_cache_hits_total coredns_proxy_conn_cache_misses_total \
	coredns_forward_healthcheck_broken_total \
	coredns_forward_max_concurrent_rejects_total \
	coredns_kubernetes_dns_programming_duration_seconds \
	coredns_reload_failed_total coredns_reload_version_info \
	coredns_health_request_duration_seconds \
	coredns_health_request_failures_total \
	process_cpu_seconds_total process_open_fds process_max_fds \
	process_virtual_memory_bytes process_resident_memory_bytes \
	process_start_time_seconds \
	clusterdns_objects clusterdns_zone_serial \
	clusterdns_watch_event_age_seconds clusterdns_relists_total \
	clusterdns_tcp_refused_total clusterdns_tcp_closed_total; do
	n=$(grep -c "^# TYPE $f " "$M")
	check "family $f declared once" 1 "$n"
	n=$(grep -Ec "^$f(_bucket|_sum|_count)?[{ ]" "$M")
	[ "$n" -ge 1 ] && ok "family $f has samples" ||
		fail "family $f has samples" ">= 1" "$n"
done

check_match "escaped label value" \
	'zone="we\\"ird\\\\zone\\n\."' "$(grep -F 'we\"' "$M" | head -1)"
check_match "histogram ends with +Inf" \
	'^coredns_dns_request_duration_seconds_bucket\{.*type="A",le="\+Inf"\} 1$' \
	"$(grep 'type="A",le="+Inf"' "$M")"

# The check must be able to fail: a family declared twice, a label value
# with a raw quote, a value that is no number.
bad=$E2E_TMP/bad.txt
{ cat "$M"; grep -m2 '^# [HT]' "$M"; } >"$bad"
promtool check metrics <"$bad" >/dev/null 2>&1
[ $? -ne 0 ] && ok "promtool rejects a family declared twice" ||
	fail "promtool rejects a family declared twice" "non-zero" 0
sed 's/zone="cluster.local."/zone="clu"ster"/' "$M" >"$bad"
promtool check metrics <"$bad" >/dev/null 2>&1
[ $? -ne 0 ] && ok "promtool rejects an unescaped quote" ||
	fail "promtool rejects an unescaped quote" "non-zero" 0
sed 's/^coredns_panics_total 0$/coredns_panics_total zero/' "$M" >"$bad"
cmp -s "$M" "$bad" && fail "the value was replaced" "a change" "none"
promtool check metrics <"$bad" >/dev/null 2>&1
[ $? -ne 0 ] && ok "promtool rejects a value that is no number" ||
	fail "promtool rejects a value that is no number" "non-zero" 0

finish
