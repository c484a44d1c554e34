#!/bin/bash
# shellcheck disable=SC2119
# cli.sh -- the command line and the Corefile as a user meets them:
# -version, -plugins, -pidfile, -dns.port, errors that name file and line,
# {$ENV} substitution, import, bind, log.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need timeout

Z=$ZONE

# run_bad NAME: run the daemon on $E2E_TMP/NAME/Corefile (bounded); sets RC
# and MSG (stdout and stderr).
run_bad()
{
	MSG=$(timeout 10 "$CLUSTERDNS" -conf "$E2E_TMP/$1/Corefile" -dns.port 1 \
		-quiet 2>&1)
	RC=$?
}

# bad_corefile NAME LINE WORD < COREFILE: the daemon refuses to start, and
# says FILE:LINE and WORD.
bad_corefile()
{
	local text
	mkdir -p "$E2E_TMP/$1"
	text=$(cat)
	printf '%s\n' "${text//@PORT@/$(free_port)}" >"$E2E_TMP/$1/Corefile"
	run_bad "$1"
	OUT=$MSG
	QUERY="bad Corefile ($1)"
	case $RC in
	0) fail "$QUERY: non-zero exit" "exit status > 0" "0" ;;
	124) fail "$QUERY: non-zero exit" "exit status > 0" \
		"still running after 10 s" ;;
	*) ok "$QUERY: non-zero exit ($RC)" ;;
	esac
	check_match "$QUERY: message names the file and line" "Corefile:$2\\b" \
		"$MSG"
	check_match "$QUERY: message names '$3'" "$3" "$MSG"
}

# ---- -version, -plugins
OUT=$(timeout 10 "$CLUSTERDNS" -version 2>&1)
RC=$?
check "-version: exit status" 0 "$RC"
check_match "-version: names clusterdns and a version" \
	'[Cc]luster[Dd][Nn][Ss].*[0-9]+\.[0-9]+\.[0-9]+' "$OUT"

OUT=$(timeout 10 "$CLUSTERDNS" -plugins 2>&1)
RC=$?
check "-plugins: exit status" 0 "$RC"
for p in kubernetes bind errors log; do
	check_match "-plugins: lists $p" "(^|[^a-z_])$p([^a-z_]|\$)" "$OUT"
done

# ---- startup errors
bad_corefile ttl 4 ttl <<'EOF'
.:@PORT@ {
    kubernetes cluster.local {
        pods verified
        ttl 9000
    }
}
EOF
bad_corefile unknown 3 frobnicate <<'EOF'
# a comment
.:@PORT@ {
    frobnicate on
    kubernetes cluster.local
}
EOF
bad_corefile kubeopt 4 wibble <<'EOF'
.:@PORT@ {
    kubernetes cluster.local {
        ttl 30
        wibble 1
    }
}
EOF
bad_corefile pods 3 sometimes <<'EOF'
.:@PORT@ {
    kubernetes cluster.local {
        pods sometimes
    }
}
EOF
bad_corefile ttlword 3 ttl <<'EOF'
.:@PORT@ {
    kubernetes cluster.local {
        ttl many
    }
}
EOF
bad_corefile ignore 4 ignore <<'EOF'
.:@PORT@ {
    errors
    kubernetes cluster.local {
        ignore everything
    }
}
EOF

# unbalanced braces, a bad port, a missing file: refused, no file:line asked
mkdir -p "$E2E_TMP/brace" "$E2E_TMP/port"
printf '.:%s {\n    kubernetes cluster.local {\n        ttl 5\n}\n' \
	"$(free_port)" >"$E2E_TMP/brace/Corefile"
printf '.:99999 {\n    kubernetes cluster.local\n}\n' >"$E2E_TMP/port/Corefile"
for c in brace port nofile; do
	run_bad "$c"
	OUT=$MSG
	case $RC in
	0 | 124) fail "bad Corefile ($c): non-zero exit" "exit status > 0" \
		"$RC" ;;
	*) ok "bad Corefile ($c): non-zero exit ($RC)" ;;
	esac
	check_match "bad Corefile ($c): says something" '.' "$MSG"
done
OUT=

# ---- -pidfile, bind 127.0.0.1 ::1
start_server pidfile -pidfile "$E2E_TMP/pidfile/clusterdns.pid" < <(corefile)
check "-pidfile: holds the daemon's pid" "$SERVER_PID" \
	"$(tr -d ' \n' <"$E2E_TMP/pidfile/clusterdns.pid" 2>/dev/null)"
if grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null; then
	OUT=$(dig +norec +time=2 +tries=1 -p "$PORT" @::1 "web.prod.svc.$Z" A \
		+noall +answer 2>&1)
	check_match "bind ::1: answers on ::1" \
		"^web\.prod\.svc\.$Z\.[[:space:]]+30[[:space:]]+IN[[:space:]]+A[[:space:]]+10\.96\.1\.10$" \
		"$OUT"
fi
stop_server "$SERVER_PID"

# ---- -dns.port: a key without a port
start_server dnsport -dns.port @PORT@ <<EOF
$Z in-addr.arpa ip6.arpa {
    bind 127.0.0.1
    kubernetes {
        objects $FIXTURE
        ttl 30
    }
}
EOF
assert_answer "web.prod.svc.$Z" A 10.96.1.10
assert_answer "10.1.96.10.in-addr.arpa" PTR "web.prod.svc.$Z."
# the zones come from the block's keys: other names are refused
ask www.example.com A
assert_status REFUSED
stop_server "$SERVER_PID"

# ---- {$ENV} substitution and import of a snippet
export E2E_TTL=42 E2E_FIXTURE="$FIXTURE"
start_server env <<'EOF'
(common) {
    errors
    bind 127.0.0.1
}
.:@PORT@ {
    import common
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        objects {$E2E_FIXTURE}
        ttl {$E2E_TTL}
    }
}
EOF
TTL=42 assert_answer "web.prod.svc.$Z" A 10.96.1.10
TTL=42 assert_nxdomain "nosuch.prod.svc.$Z" A
stop_server "$SERVER_PID"

# ---- two server blocks on one port, zones split between them
start_server blocks <<EOF
$Z:@PORT@ {
    bind 127.0.0.1
    kubernetes {
        objects $FIXTURE
        ttl 30
    }
}
in-addr.arpa:@PORT@ {
    bind 127.0.0.1
    kubernetes in-addr.arpa {
        objects $FIXTURE
        ttl 30
    }
}
EOF
assert_answer "web.prod.svc.$Z" A 10.96.1.10
assert_nxdomain "1.1.1.1.in-addr.arpa" PTR in-addr.arpa
ask "0.2.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa" PTR
assert_status REFUSED
stop_server "$SERVER_PID"

# ---- log: queries are logged with name and rcode
start_server log <<EOF
.:@PORT@ {
    bind 127.0.0.1
    log
    kubernetes $Z {
        objects $FIXTURE
        ttl 30
    }
}
EOF
ask "web.prod.svc.$Z" A
ask "nosuch.prod.svc.$Z" A
for i in $(seq 1 25); do
	grep -q "nosuch\.prod\.svc\.$Z" "$SERVER_DIR/out.log" && break
	sleep 0.2
done
LOG=$(cat "$SERVER_DIR/out.log")
OUT=$LOG
check_match "log: the NOERROR query is logged" \
	"web\.prod\.svc\.$Z\..*NOERROR" "$LOG"
check_match "log: the NXDOMAIN query is logged" \
	"nosuch\.prod\.svc\.$Z\..*NXDOMAIN" "$LOG"
OUT=

# ---- SIGTERM stops the daemon cleanly
kill -TERM "$SERVER_PID"
for _ in $(seq 1 50); do
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$SERVER_PID" 2>/dev/null; then
	fail "SIGTERM stops the daemon" "exited" "still running"
else
	wait "$SERVER_PID"
	check "SIGTERM: exit status" 0 "$?"
fi

finish
