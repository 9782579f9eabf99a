#!/usr/bin/env bash
# wsbridge-health against a real broker and against test doubles
# (health_doubles.py) that answer "degraded", say nothing, swallow the
# canary, or speak TLS with a self-signed certificate.
. "$(dirname "$0")/../lib.sh"

H="$WSB_BIN/wsbridge-health"
DOUBLES="$WSB_TESTS/integration/health_doubles.py"

# start_double MODE ARGS...: a double in the background; sets DPORT, DPID.
_dn=0
start_double() {
	_dn=$((_dn + 1))
	local out="$T/double.$_dn.out"
	"$PY" "$DOUBLES" "$@" >"$out" 2>"$out.err" &
	DPID=$!
	track "$DPID"
	if ! poll 10 test -s "$out"; then
		echo "double $1 did not start:"; cat "$out.err"; return 1
	fi
	DPORT=$(head -1 "$out")
}

# run_health NAME ARGS...: runs wsbridge-health in the foreground (bounded by
# timeout(1) in case it hangs); sets HRC, and HOUT/HERR to its output files.
_hn=0
run_health() {
	_hn=$((_hn + 1))
	HOUT="$T/health.$_hn.out"
	HERR="$T/health.$_hn.err"
	timeout -k 2 20 "$H" "$@" >"$HOUT" 2>"$HERR"
	HRC=$?
}

ms_now() { echo $(($(date +%s%N) / 1000000)); }

start_serve || { fail "serve starts"; finish; }

# --- default mode: one JSON line -------------------------------------------
run_health --url "$HTTP_URL"
check_eq "healthy server: exit 0" "$HRC" 0
check_eq "healthy server: one line" "$(lines "$HOUT")" 1
check "healthy server: status ok, http_code 200, server figures, timings" \
	grep -Eq '^\{"status":"ok","http_code":200,"server":\{"status":"healthy",.*"subscribers":0,.*\},"probe":\{"connect_ms":[0-9.]+,"total_ms":[0-9.]+,.*"latency_ms":[0-9.]+\},"reasons":\[\],"url":"http://127.0.0.1:[0-9]+/health"' "$HOUT"

run_health --url "$HTTP_URL/health"
check_eq "an explicit /health path is kept" "$HRC" 0
WSBRIDGE_HEALTH_URL="$HTTP_URL" run_health
check_eq "\$WSBRIDGE_HEALTH_URL sets the URL" "$HRC" 0

run_health --url "$HTTP_URL" --min-subscribers 5
check_eq "a WARNING threshold alone still exits 0" "$HRC" 0
check "... and is listed as status warning with its reason" \
	grep -q '"status":"warning".*"reasons":\["subscribers 0 < 5 (--min-subscribers)"\]' "$HOUT"
run_health --url "$HTTP_URL" --crit-latency 0
check_eq "a CRITICAL threshold exits 1" "$HRC" 1
check "... with status critical" grep -q '"status":"critical".*latency .* > 0ms (--crit-latency)' "$HOUT"

run_health --url "$HTTP_URL" --bogus
check_eq "unknown option: 64" "$HRC" 64
run_health --url "ftp://127.0.0.1:$PORT/ws"
check_eq "an ftp:// --url is a usage error (64)" "$HRC" 64

# --- unreachable, degraded, silent ------------------------------------------
"$PY" "$DOUBLES" freeport >"$T/freeport" && FREE=$(cat "$T/freeport")
run_health --url "http://127.0.0.1:$FREE"
check_eq "nobody listening: exit 69" "$HRC" 69
check "... the JSON line says unreachable" grep -q '"status":"critical","http_code":0,"server":null,.*"unreachable: ' "$HOUT"
run_health --url "http://127.0.0.1:$FREE" --nagios
check_eq "nobody listening, --nagios: CRITICAL 2" "$HRC" 2
check "... WSBRIDGE CRITICAL line" grep -q '^WSBRIDGE CRITICAL - unreachable: ' "$HOUT"

start_double json '{"status":"degraded","reason":"journal write failed","active_connections":1,"subscribers":1}' ||
	fail "degraded double starts"
run_health --url "http://127.0.0.1:$DPORT"
check_eq "degraded answer: exit 1" "$HRC" 1
check "... reason quoted" grep -q '"reasons":\["server status \\"degraded\\": journal write failed"\]' "$HOUT"
run_health --url "http://127.0.0.1:$DPORT" --nagios
check_eq "degraded answer, --nagios: CRITICAL 2" "$HRC" 2
stop "$DPID"

start_double json 'not json at all' || fail "garbage double starts"
run_health --url "http://127.0.0.1:$DPORT"
check_eq "a 200 that is not /health JSON: exit 1" "$HRC" 1
run_health --url "http://127.0.0.1:$DPORT" --nagios
check_eq "... --nagios: UNKNOWN 3" "$HRC" 3
stop "$DPID"

start_double json '{"status":"stopping"}' 503 || fail "503 double starts"
run_health --url "http://127.0.0.1:$DPORT"
check_eq "HTTP 503: exit 1" "$HRC" 1
check "... one reason names the status and the code" grep -q '"http_code":503,.*"reasons":\["server status \\"stopping\\" (HTTP 503)"\]' "$HOUT"
stop "$DPID"

start_double silent || fail "silent double starts"
t0=$(ms_now)
run_health --url "http://127.0.0.1:$DPORT" --timeout 1
el=$(($(ms_now) - t0))
check_eq "accepts but never answers: exit 75" "$HRC" 75
check "... within --timeout 1 (took ${el} ms)" test "$el" -lt 3000
check "... the JSON line says timeout" grep -q '"status":"critical".*"timeout: ' "$HOUT"
run_health --url "http://127.0.0.1:$DPORT" --timeout 0.5 --nagios
check_eq "silent, --nagios: CRITICAL 2" "$HRC" 2
stop "$DPID"

# --- --nagios thresholds ------------------------------------------------------
perf='latency=[0-9.]+ms(;[0-9.]*;[0-9.]*)? conns=0 subscribers=0(;[0-9]+:)? messages_in=[0-9]+c messages_out=[0-9]+c dropped=0c slow_consumers_closed=0c queued_bytes=[0-9]+B uptime=[0-9]+s$'
run_health --url "$HTTP_URL" --nagios
check_eq "--nagios healthy: OK 0" "$HRC" 0
check "... one plugin line with perfdata" grep -Eq "^WSBRIDGE OK - 0 connections, 0 subscribers, latency [0-9.]+ms \| $perf" "$HOUT"
check_eq "... exactly one line" "$(lines "$HOUT")" 1
run_health --url "$HTTP_URL" --nagios --min-subscribers 5
check_eq "--min-subscribers 5 with none: WARNING 1" "$HRC" 1
check "... WARNING text and the subscribers range" \
	grep -Eq "^WSBRIDGE WARNING - subscribers 0 < 5 \(--min-subscribers\); 0 connections, 0 subscribers, latency [0-9.]+ms \| .*subscribers=0;5: " "$HOUT"
run_health --url "$HTTP_URL" --nagios --warn-latency 0 --crit-latency 60000
check_eq "--warn-latency 0: WARNING 1" "$HRC" 1
check "... latency perfdata carries warn;crit" grep -Eq '^WSBRIDGE WARNING - latency [0-9.]+ms > 0ms \(--warn-latency\);.* \| latency=[0-9.]+ms;0;60000 ' "$HOUT"
run_health --url "$HTTP_URL" --nagios --crit-latency 0
check_eq "--crit-latency 0: CRITICAL 2" "$HRC" 2
check "... CRITICAL text" grep -Eq '^WSBRIDGE CRITICAL - latency [0-9.]+ms > 0ms \(--crit-latency\); .* \| latency=[0-9.]+ms;;0 ' "$HOUT"
run_health --url "$HTTP_URL" --nagios --max-dropped 0 --max-slow-consumers 0
check_eq "--max-dropped 0 with nothing dropped: OK 0" "$HRC" 0
run_health --url "$HTTP_URL" --nagios --no-such-option
check_eq "--nagios usage error: UNKNOWN 3" "$HRC" 3
run_health --url "$HTTP_URL" --format nagios
check_eq "--format nagios is --nagios" "$HRC" 0
check "... same line" grep -q '^WSBRIDGE OK - ' "$HOUT"

# --- prometheus ----------------------------------------------------------------
run_health --url "$HTTP_URL" --format prometheus
check_eq "--format prometheus: exit 0" "$HRC" 0
check "wsbridge_probe_up 1" grep -qx 'wsbridge_probe_up 1' "$HOUT"
check "status series" grep -qx 'wsbridge_probe_status{status="ok"} 1' "$HOUT"
check "critical series is 0" grep -qx 'wsbridge_probe_status{status="critical"} 0' "$HOUT"
check "latency in seconds" grep -Eqx 'wsbridge_probe_latency_seconds [0-9]+\.[0-9]+' "$HOUT"
check "server figures as gauges" grep -qx 'wsbridge_health_subscribers 0' "$HOUT"
check "TYPE lines" grep -qx '# TYPE wsbridge_health_subscribers gauge' "$HOUT"
check "every sample line is NAME[{labels}] VALUE" \
	bash -c '! grep -v "^#" "$1" | grep -Evq "^[a-z_]+(\{status=\"[a-z]+\"\})? -?[0-9.]+$"' _ "$HOUT"

# --- the WebSocket: --ws and --roundtrip ------------------------------------------
run_health --url "$HTTP_URL" --ws
check_eq "--ws against serve: exit 0" "$HRC" 0
check "... ws_ms measured" grep -Eq '"ws_connect_ms":[0-9.]+,"ws_ms":[0-9.]+,"roundtrip_ms":null' "$HOUT"

"$WSB_BIN/wsbridge-sub" --url "$WS_URL" >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!
track $SUB
wait_subscribers 1 || fail "sub (all types) subscribes"
run_health --url "$HTTP_URL" --roundtrip
check_eq "--roundtrip against serve: exit 0" "$HRC" 0
check "... roundtrip_ms measured" grep -Eq '"roundtrip_ms":[0-9.]+,' "$HOUT"
run_health --url "$HTTP_URL" --roundtrip --ws --nagios
check_eq "--roundtrip --ws --nagios: OK 0" "$HRC" 0
check "... ws and roundtrip perfdata" grep -Eq ' ws=[0-9.]+ms roundtrip=[0-9.]+ms ' "$HOUT"
# A marker published after the probes reaches the subscriber after anything
# they could have delivered to it: once it is there, the canaries are not.
echo '{"type":"marker"}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL"
wait_lines "$T/sub.out" 1 10 || fail "sub got the marker"
check "a subscriber to everything never sees a canary" \
	bash -c '[ "$(wc -l <"$1")" -eq 1 ] && grep -q "\"type\":\"marker\"" "$1" && ! grep -q probe "$1"' _ "$T/sub.out"
stop $SUB

start_double ws '{"status":"healthy","active_connections":0,"subscribers":0}' || fail "ws double starts"
t0=$(ms_now)
run_health --url "http://127.0.0.1:$DPORT" --roundtrip --timeout 1
el=$(($(ms_now) - t0))
check_eq "canary swallowed by a double: exit 75" "$HRC" 75
check "... within --timeout (took ${el} ms)" test "$el" -lt 3000
check "... HTTP was fine, the canary is the reason" \
	grep -q '"http_code":200,.*"reasons":\["WebSocket timeout: the canary did not come back within' "$HOUT"
run_health --url "http://127.0.0.1:$DPORT" --roundtrip --timeout 1 --nagios
check_eq "canary swallowed, --nagios: CRITICAL 2" "$HRC" 2
check "... CRITICAL text" grep -q '^WSBRIDGE CRITICAL - WebSocket timeout: the canary did not come back' "$HOUT"
run_health --url "http://127.0.0.1:$DPORT" --ws --timeout 1
check_eq "no pong from the double: exit 75" "$HRC" 75
stop "$DPID"

run_health --url "$HTTP_URL" --ws --ws-path /nope
# A wrong path is a configuration error (78), with the path / advertises.
check_eq "--ws on a wrong path: exit 78" "$HRC" 78
check "... and the path the broker serves" grep -q 'no WebSocket at \\"/nope\\"; this broker serves /ws' "$HOUT"

# --- --watch --------------------------------------------------------------------
"$H" --url "$HTTP_URL" --watch 0.2 >"$T/watch.out" 2>"$T/watch.err" &
W=$!
track $W
wait_lines "$T/watch.out" 3 10 || fail "--watch prints 3 lines"
stop $W
check_eq "--watch: SIGTERM ends it with the last status (0)" "$RC" 0
check "... at least 3 lines, all JSON" bash -c '[ "$(grep -c "^{\"status\":\"ok\"" "$1")" -ge 3 ] && ! grep -vq "^{" "$1"' _ "$T/watch.out"

"$H" --url "http://127.0.0.1:$FREE" --watch 0.2 --nagios >"$T/watchn.out" 2>"$T/watchn.err" &
W=$!
track $W
wait_lines "$T/watchn.out" 2 10 || fail "--watch --nagios prints lines"
stop $W INT
check_eq "--watch --nagios, SIGINT: last status CRITICAL 2" "$RC" 2

# --- https against a Python double with a test certificate (41-health-tls.sh
# probes the real server over TLS) ---
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 \
		-subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1 ||
		fail "openssl makes a test certificate"
	start_double https "$T/cert.pem" "$T/key.pem" '{"status":"healthy","active_connections":0,"subscribers":0}' ||
		fail "https double starts"
	run_health --url "https://127.0.0.1:$DPORT" --cafile "$T/cert.pem"
	check_eq "https with --cafile: exit 0" "$HRC" 0
	run_health --url "https://127.0.0.1:$DPORT"
	check_eq "https, untrusted certificate: exit 78 (as pub and sub)" "$HRC" 78
	check "... says TLS and how to fix it" grep -q 'TLS: .*--cafile FILE' "$HOUT"
	run_health --url "https://127.0.0.1:$DPORT" --insecure
	check_eq "https with --insecure: exit 0" "$HRC" 0
	stop "$DPID"
else
	pass "https tests skipped: no openssl"
fi

stop $SERVE_PID
finish
