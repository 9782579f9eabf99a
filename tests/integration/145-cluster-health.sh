#!/usr/bin/env bash
# /health tells the truth for each --cluster state, and wsbridge-health
# judges it by its table: ok is "healthy" 200 (exit 0); Redis away within
# --cluster-timeout is "degraded" 200 (publishes held: exit 1); past it the
# cluster is down and publishes are refused, so /health is "unavailable"
# with 503 (exit 1, the broker answered; CRITICAL for a plugin), with one
# reason that names the status, the code and the cause.
. "$(dirname "$0")/../lib.sh"
. "$WSB_TESTS/cluster.sh"

code_of() { curl -s -o /dev/null -w '%{http_code}' "$(eval "echo \$${1}_HTTP")/health"; }

start_redis || { fail "redis starts"; finish; }
start_instance A --cluster-timeout 60 || { fail "instance A starts"; finish; }
start_instance B --cluster-timeout 1 || { fail "instance B starts"; finish; }
check "both ok" wait_cluster A ok && wait_cluster B ok
check_eq "ok: status healthy" "$(field_of B status)" healthy
check_eq "ok: HTTP 200" "$(code_of B)" 200
"$WSB_BIN/wsbridge-health" -q "$B_HTTP" 2>"$T/h0.err"
check_eq "ok: wsbridge-health exits 0" "$?" 0

stop "$REDIS_PID"
check "within --cluster-timeout: degraded" wait_cluster A degraded
check_eq "degraded: status degraded" "$(field_of A status)" degraded
check_eq "degraded: HTTP 200 (publishes are held, not refused)" "$(code_of A)" 200
"$WSB_BIN/wsbridge-health" -q "$A_HTTP" 2>"$T/h1.err"
check_eq "degraded: wsbridge-health exits 1" "$?" 1
check "... saying why" grep -q 'critical: server status "degraded": redis 127.0.0.1' "$T/h1.err"

check "past --cluster-timeout: down" wait_cluster B down
check_eq "down: status unavailable" "$(field_of B status)" unavailable
check_eq "down: HTTP 503" "$(code_of B)" 503
curl -s "$B_HTTP/health" >"$T/down.json"
check "down: the reason says publishes are refused" \
	grep -q '"reason":"publishes refused (UNAVAILABLE): redis 127.0.0.1' "$T/down.json"
"$WSB_BIN/wsbridge-health" -q "$B_HTTP" >"$T/h2.out" 2>"$T/h2.err"
check_eq "down: wsbridge-health exits 1 (answered, not healthy)" "$?" 1
check_eq "... one line" "$(lines "$T/h2.err")" 1
check "... naming status, code and cause" \
	grep -q 'critical: server status "unavailable" (HTTP 503): publishes refused (UNAVAILABLE): redis' "$T/h2.err"
"$WSB_BIN/wsbridge-health" --nagios "$B_HTTP" >"$T/h3.out" 2>/dev/null
check_eq "down: --nagios is CRITICAL (2)" "$?" 2
check "... one reason, not a bare 'HTTP 503'" grep -q '^WSBRIDGE CRITICAL - server status "unavailable" (HTTP 503)' "$T/h3.out"

start_redis || { fail "redis restarts"; finish; }
check "B back to ok by itself" wait_cluster B ok 20
check_eq "ok again: HTTP 200" "$(code_of B)" 200
"$WSB_BIN/wsbridge-health" -q "$B_HTTP"
check_eq "ok again: wsbridge-health exits 0" "$?" 0
stop "$A_PID"
stop "$B_PID"
finish
