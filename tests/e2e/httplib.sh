# shellcheck shell=bash
# shellcheck disable=SC2034 # variables shared with the tests
# httplib.sh -- helpers for the end-to-end tests of the HTTP endpoints of
# the health, ready and prometheus directives.  Sourced after lib.sh.
#
# http_get asks a URL (curl, bounded) and sets HCODE and HBODY;
# wait_http waits (bounded) for a status code; metric reads one sample
# out of a scrape; have_ipv6 says whether ::1 can be used.

need curl

# http_get URL: GET URL (3 s at most).  Sets HCODE (the status, 000 when
# nothing answered) and HBODY (the body, the last newline removed).
http_get()
{
	local f=$E2E_TMP/http.body
	: >"$f"
	HCODE=$(curl -gsS --max-time 3 -o "$f" -w '%{http_code}' "$1" \
		2>/dev/null)
	[ -n "$HCODE" ] || HCODE=000
	HBODY=$(cat "$f")
}

# wait_http URL CODE [SECONDS]: ask URL again (bounded, default 10 s)
# until it answers CODE.  Returns 0 when it did; HCODE and HBODY are the
# last answer's.
wait_http()
{
	local end=$((SECONDS + ${3:-10}))
	while :; do
		http_get "$1"
		[ "$HCODE" = "$2" ] && return 0
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# scrape URL FILE: the body of GET URL (a /metrics) into FILE.
scrape()
{
	curl -gsS --max-time 5 -o "$2" "$1" 2>/dev/null || : >"$2"
}

# metric FILE NAME [LABEL=VALUE...]: the sum of the samples of NAME in
# the scrape FILE whose labels include every LABEL="VALUE" given (0 when
# none does).  Values are printed as awk prints numbers (%.17g).
metric()
{
	local f=$1 name=$2
	shift 2
	awk -v name="$name" -v want="$(printf '%s\n' "$@")" '
		BEGIN { n = split(want, w, "\n"); s = 0 }
		/^#/ { next }
		{
			i = index($0, "{"); j = index($0, " ")
			m = (i && i < j) ? substr($0, 1, i - 1) : substr($0, 1, j - 1)
			if (m != name) next
			labels = (i && i < j) ? substr($0, i, length($0) - i + 1) : ""
			ok = 1
			for (k = 1; k <= n; k++) {
				if (w[k] == "") continue
				p = index(w[k], "=")
				l = substr(w[k], 1, p - 1) "=\"" substr(w[k], p + 1) "\""
				if (index(labels, "{" l ",") == 0 &&
				    index(labels, "," l ",") == 0 &&
				    index(labels, "," l "}") == 0 &&
				    index(labels, "{" l "}") == 0)
					ok = 0
			}
			if (ok) s += $NF
		}
		END { printf "%.17g\n", s }' "$f"
}

# have_ipv6: true when the loopback has ::1.
have_ipv6()
{
	grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null
}

# wait_exit PID SECONDS: wait (bounded) for PID, a child of this shell, to
# end.  Sets RC to its exit status, or to "running" (and kills it) when it
# did not end in time.
wait_exit()
{
	local pid=$1 end=$((SECONDS + $2))
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$SECONDS" -ge "$end" ]; then
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			RC=running
			return 1
		fi
		sleep 0.1
	done
	wait "$pid"
	RC=$?
	return 0
}
