#!/usr/bin/env bash
# wsbridge-health against the real wsbridge-serve over TLS (issue 4: "https
# with a test certificate"): --cafile and --insecure apply to /health (curl)
# and to --ws/--roundtrip (the wss connection) alike.
. "$(dirname "$0")/../lib.sh"

H="$WSB_BIN/wsbridge-health"
if ! command -v openssl >/dev/null; then
	pass "TLS tests skipped: no openssl"
	finish
fi
make_test_cert || { fail "openssl makes a test certificate" "$(cat "$T/openssl.log")"; finish; }
CERT=$T/cert.pem

_hn=0
run_health() {
	_hn=$((_hn + 1))
	HOUT="$T/health.$_hn.out"
	HERR="$T/health.$_hn.err"
	timeout -k 2 20 "$H" "$@" >"$HOUT" 2>"$HERR"
	HRC=$?
}

start_serve --tls-cert "$CERT" --tls-key "$T/key.pem" || { fail "serve starts with TLS"; finish; }

run_health --url "$HTTP_URL" --cafile "$CERT"
check_eq "https with --cafile: exit 0" "$HRC" 0
check "... status ok from the https URL" grep -q "^{\"status\":\"ok\",\"http_code\":200,.*\"url\":\"https://127.0.0.1:$PORT/health\"" "$HOUT"
run_health --url "$HTTP_URL"
check_eq "https, no CA: exit 78 (as pub and sub)" "$HRC" 78
check "... says TLS and how to fix it" grep -q '"TLS: .*--cafile FILE' "$HOUT"
run_health --url "$HTTP_URL" --insecure
check_eq "https with --insecure: exit 0" "$HRC" 0

run_health --url "$HTTP_URL" --cafile "$CERT" --ws --roundtrip
check_eq "--ws --roundtrip over wss with --cafile: exit 0" "$HRC" 0
check "... ws and roundtrip measured" grep -Eq '"ws_connect_ms":[0-9.]+,"ws_ms":[0-9.]+,"roundtrip_ms":[0-9.]+' "$HOUT"
check "... no warning that --cafile does not apply" bash -c '! grep -q "apply to /health only" "$1"' _ "$HERR"
run_health --url "https://localhost:$PORT" --cafile "$CERT" --ws --nagios
check_eq "--ws --nagios by the name localhost: OK 0" "$HRC" 0
check "... ws perfdata" grep -Eq '^WSBRIDGE OK - .* ws=[0-9.]+ms' "$HOUT"
run_health --url "$HTTP_URL" -k --roundtrip
check_eq "--roundtrip over wss with -k: exit 0" "$HRC" 0

# A CA bundle that does not hold the server's certificate: refused.
mkdir -p "$T/other"
make_test_cert "$T/other" || fail "a second test certificate"
run_health --url "$HTTP_URL" --cafile "$T/other/cert.pem" --ws
check_eq "a CA that did not sign the server certificate: exit 78" "$HRC" 78
check "... TLS reason" grep -q '"TLS: ' "$HOUT"

stop $SERVE_PID
finish
