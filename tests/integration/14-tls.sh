#!/usr/bin/env bash
# TLS: wsbridge-serve --tls-cert/--tls-key serves https (/health, /, /metrics)
# and wss (/ws) on one port, HTTP/1.1 only; the clients speak wss with
# --cafile (verify against a CA bundle) or --insecure, and refuse an
# untrusted certificate with a message that says so; a Python websockets
# client with an ssl context trusting the test CA interoperates.
. "$(dirname "$0")/../lib.sh"

if ! command -v openssl >/dev/null; then
	pass "TLS tests skipped: no openssl"
	finish
fi
make_test_cert || { fail "openssl makes a test certificate" "$(cat "$T/openssl.log")"; finish; }
CERT=$T/cert.pem KEY=$T/key.pem
S="$WSB_BIN/wsbridge-serve"
SUB="$WSB_BIN/wsbridge-sub"
PUB="$WSB_BIN/wsbridge-pub"

# --- configuration errors, before anything listens ----------------------------
timeout -k 2 10 "$S" --listen 127.0.0.1:0 --tls-cert "$CERT" --tls-key "$T/missing-key.pem" 2>"$T/e1"
check_eq "missing key file: exit 78" "$?" 78
check "... the message names --tls-key and the file" grep -q -- "--tls-key $T/missing-key.pem" "$T/e1"
timeout -k 2 10 "$S" --listen 127.0.0.1:0 --tls-cert "$T/missing-cert.pem" --tls-key "$KEY" 2>"$T/e2"
check_eq "missing certificate file: exit 78" "$?" 78
check "... the message names --tls-cert and the file" grep -q -- "--tls-cert $T/missing-cert.pem" "$T/e2"
timeout -k 2 10 "$S" --listen 127.0.0.1:0 --tls-cert "$CERT" 2>"$T/e3"
check_eq "--tls-cert without --tls-key: usage error 64" "$?" 64
echo "not a certificate" >"$T/garbage.pem"
timeout -k 2 10 "$S" --listen 127.0.0.1:0 --tls-cert "$T/garbage.pem" --tls-key "$T/garbage.pem" 2>"$T/e4"
check_eq "a file that is not PEM: exit 78" "$?" 78
check "... the message names the files" grep -q -- "--tls-cert $T/garbage.pem / --tls-key $T/garbage.pem" "$T/e4"
openssl genrsa -out "$T/other-key.pem" 2048 2>/dev/null
timeout -k 2 10 "$S" --listen 127.0.0.1:0 --tls-cert "$CERT" --tls-key "$T/other-key.pem" 2>"$T/e5"
check_eq "a key that does not match the certificate: exit 78" "$?" 78

# --- the server -----------------------------------------------------------------
start_serve --tls-cert "$CERT" --tls-key "$KEY" || { fail "serve starts with TLS"; finish; }
check "the listening line says TLS" grep -q "listening on 127.0.0.1:$PORT .*TLS" "$SERVE_ERR"
check_eq "URLs are wss:// and https://" "$WS_URL $HTTP_URL" "wss://127.0.0.1:$PORT/ws https://127.0.0.1:$PORT"

code=$(curl -s --cacert "$CERT" -o "$T/health.json" -w '%{http_code} %{http_version}' "$HTTP_URL/health")
check_eq "https /health with --cacert: 200 over HTTP/1.1" "$code" "200 1.1"
check "... the JSON says healthy" grep -q '"status":"healthy"' "$T/health.json"
code=$(curl -s --http2 --cacert "$CERT" -o /dev/null -w '%{http_code} %{http_version}' "https://localhost:$PORT/health")
check_eq "curl offering h2 (ALPN) still gets HTTP/1.1, by name localhost" "$code" "200 1.1"
check_eq "https / answers 200" "$(curl -s --cacert "$CERT" -o /dev/null -w '%{http_code}' "$HTTP_URL/")" 200
check "https /metrics has Prometheus text" bash -c 'curl -sf --cacert "$1" "$2/metrics" | grep -q "^# TYPE "' _ "$CERT" "$HTTP_URL"
curl -s -o /dev/null --max-time 5 "$HTTP_URL/health"
rc=$?
check "https without the CA: curl refuses the certificate (rc $rc)" test "$rc" -eq 60
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$PORT/health"
rc=$?
check "plain http to the TLS port fails (curl rc $rc)" test "$rc" -ne 0
# A failed TLS handshake closes a connection that never had user space;
# that close once crashed the broker (a remote kill switch).
check "... and the broker survives it" poll 5 wcurl -sf -o /dev/null "$HTTP_URL/health"

# --- wsbridge-sub / wsbridge-pub over wss --------------------------------------
"$SUB" --url "$WS_URL" --cafile "$CERT" --type tls --count 1 --timeout 20 >"$T/sub1.out" 2>"$T/sub1.err" &
S1=$!
track $S1
wait_subscribers 1 || fail "sub --cafile subscribes over wss" "$(cat "$T/sub1.err")"
echo '{"type":"tls","data":{"n":1}}' | timeout -k 2 20 "$PUB" --url "$WS_URL" --cafile "$CERT" 2>"$T/pub1.err"
check_eq "pub --cafile over wss: exit 0" "$?" 0
wait_pid $S1 20
check_eq "sub --cafile over wss: got its message, exit 0" "$RC" 0
check "... the message, stamped by the broker" grep -q '"type":"tls".*"data":{"n":1}' "$T/sub1.out"

timeout -k 2 20 "$SUB" --url "$WS_URL" --retries 1 --retry-min 0.05 --retry-max 0.05 --count 1 >/dev/null 2>"$T/sub2.err"
check_eq "sub without --cafile: refused at once, exit 78 (test 148)" "$?" 78
check "... the message says TLS, the certificate, and how to fix it" \
	grep -q 'error: .*TLS: certificate verify failed (self-signed certificate); use --cafile FILE (the CA that signed it) or --insecure' "$T/sub2.err"
check "... without a retry" test "$(grep -c retrying "$T/sub2.err")" -eq 0
echo '{"type":"tls"}' | timeout -k 2 20 "$PUB" --url "$WS_URL" --retries 1 --retry-min 0.05 --retry-max 0.05 2>"$T/pub2.err"
check_eq "pub without --cafile: exit 78" "$?" 78
check "... says TLS: certificate verify failed" grep -q 'TLS: certificate verify failed' "$T/pub2.err"
timeout -k 2 20 "$SUB" --url "$WS_URL" --cafile "$T/missing-ca.pem" --count 1 >/dev/null 2>"$T/sub3.err"
check_eq "sub --cafile with a missing file: exit 78" "$?" 78
check "... names the file" grep -q -- "--cafile $T/missing-ca.pem" "$T/sub3.err"
timeout -k 2 20 "$SUB" --url "ws://127.0.0.1:$PORT/ws" --retries 0 --count 1 >/dev/null 2>"$T/sub4.err"
check_eq "ws:// (no TLS) to the TLS port: exit 78 at once (a wrong scheme is not transient)" "$?" 78
check "... says to use wss://" grep -q 'wss://' "$T/sub4.err"

"$SUB" --url "wss://localhost:$PORT/ws" --insecure --type tls2 --count 1 --timeout 20 >"$T/sub5.out" 2>"$T/sub5.err" &
S5=$!
track $S5
wait_subscribers 1 || fail "sub --insecure subscribes" "$(cat "$T/sub5.err")"
echo '{"type":"tls2","data":2}' | timeout -k 2 20 "$PUB" --url "$WS_URL" -k 2>"$T/pub5.err"
check_eq "pub -k over wss: exit 0" "$?" 0
wait_pid $S5 20
check_eq "sub --insecure over wss: exit 0" "$RC" 0
check "... got the message" grep -q '"type":"tls2"' "$T/sub5.out"

# Many frames through the batched writes, which TLS records (SSL_write and its
# retries on a full socket) must carry whole and in order.
N=3000
"$SUB" --url "$WS_URL" --cafile "$CERT" --type bulk --count $N --timeout 60 >"$T/bulk.out" 2>"$T/bulk.err" &
S6=$!
track $S6
wait_subscribers 1 || fail "bulk sub subscribes"
pad=$(head -c 2000 /dev/zero | tr '\0' x)
for i in $(seq 1 $N); do printf '{"type":"bulk","data":{"i":%d,"pad":"%s"}}\n' "$i" "$pad"; done >"$T/bulk.in"
timeout -k 2 60 "$PUB" --url "$WS_URL" --cafile "$CERT" "$T/bulk.in" 2>"$T/bulkpub.err"
check_eq "pub: $N messages of 2 kB over wss, all acknowledged (exit 0)" "$?" 0
wait_pid $S6 60
check_eq "sub: all $N over wss (exit 0)" "$RC" 0
check "... in order, none missing or mangled" \
	bash -c '[ "$(jq -c .data.i "$1" | tr "\n" " ")" = "$(seq -s " " 1 "$2") " ] && [ "$(jq -r ".data.pad | length" "$1" | sort -u)" = 2000 ]' \
	_ "$T/bulk.out" "$N"

# --- an independent client: Python websockets with an ssl context ------------
pyrun 30 - "$PORT" "$CERT" <<'PYEOF'
import ssl
from wsclient import *

async def main(port, ca):
    ctx = ssl.create_default_context(cafile=ca)
    ws = await connect("wss://127.0.0.1:%s/ws?type=pytls&echo=1" % port, ssl=ctx)
    m = await hello(ws)
    check("python wss: the first message is connection_established", m.get("type") == "connection_established", m)
    await ws.send(json.dumps({"type": "ping"}))
    m, _ = await recv_until(ws, lambda x: x.get("type") == "pong")
    check("python wss: ping gets pong", True)
    await ws.send(json.dumps({"type": "pytls", "data": {"big": "x" * 100000}}))
    m, _ = await recv_until(ws, lambda x: x.get("type") == "pytls")
    check("python wss: a 100 kB message comes back whole with a seq",
          len(m["data"]["big"]) == 100000 and isinstance(m.get("seq"), int), str(m)[:200])
    await ws.close()
    check("python wss: closes cleanly (1000)", ws.close_code == 1000, ws.close_code)
    try:
        await connect("wss://127.0.0.1:%s/ws" % port, ssl=ssl.create_default_context())
        check("python wss without the CA is refused", False, "connected")
    except ssl.SSLCertVerificationError:
        check("python wss without the CA is refused", True)

run(main)
PYEOF

stop $SERVE_PID
check_eq "serve with TLS stops cleanly on SIGTERM" "$RC" 0
finish
