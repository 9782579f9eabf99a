#!/usr/bin/env bash
# /health and wsbridge-health say what the exit tables promise:
# 1. A server certificate wsbridge-health does not trust is 78 (bad
#    configuration, "use --cafile FILE or --insecure"), as pub and sub end
#    (test 148), on its HTTP side (curl) and on its WebSocket side; it was
#    69 "cannot be reached". --nagios: CRITICAL (2); -q: the one line.
# 2. A broker that is stopping (SIGTERM, draining) answers /health 503 with
#    status "stopping", so a load balancer stops sending clients to an
#    instance that is leaving (it was 200), and with no Retry-After; a 503
#    that may mend ("unavailable") carries Retry-After: 1.
. "$(dirname "$0")/../lib.sh"

make_test_cert || { fail "openssl makes a test certificate" "$(cat "$T/openssl.log")"; finish; }
mkdir -p "$T/other"
make_test_cert "$T/other" || { fail "a second test certificate"; finish; }
H=$WSB_BIN/wsbridge-health
fix='--cafile FILE, or skip with --insecure'

# --- 1. an untrusted certificate, HTTP side: the real broker over TLS ---
start_serve --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" || { fail "TLS serve starts"; finish; }
timeout -k 2 20 "$H" --url "$HTTP_URL" >"$T/h1.out" 2>"$T/h1.err"
check_eq "health, no --cafile: exit 78" "$?" 78
check "... says TLS and how to fix it" grep -q "TLS: .*$fix" "$T/h1.out"
timeout -k 2 20 "$H" --url "$HTTP_URL" --cafile "$T/other/cert.pem" -q >"$T/h2.out" 2>"$T/h2.err"
check_eq "health -q, a CA that did not sign it: exit 78" "$?" 78
check "... one line on stderr with the cause" \
	sh -c "[ \$(wc -l <'$T/h2.err') -eq 1 ] && grep -q 'TLS: .*$fix' '$T/h2.err'"
timeout -k 2 20 "$H" --url "$HTTP_URL" --nagios >"$T/h3.out" 2>"$T/h3.err"
check_eq "health --nagios, untrusted: CRITICAL (2)" "$?" 2
check "... WSBRIDGE CRITICAL with the cause" grep -q "^WSBRIDGE CRITICAL - TLS: .*--insecure" "$T/h3.out"
timeout -k 2 20 "$H" --url "$HTTP_URL" --cafile "$T/cert.pem" >/dev/null 2>&1
check_eq "health with the right --cafile: exit 0" "$?" 0
stop "$SERVE_PID"

# --- 1. WebSocket side: a double whose first connection (/health) shows
# the trusted certificate and every later one (the WebSocket) another ---
cat >"$T/twocerts.py" <<'EOF'
import socket, ssl, sys
ctx = []
for d in sys.argv[1:3]:
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    c.load_cert_chain(d + "/cert.pem", d + "/key.pem")
    ctx.append(c)
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(8)
print(ls.getsockname()[1], flush=True)
body = b'{"status":"healthy","active_connections":0,"subscribers":0}\n'
n = 0
while True:
    s, _ = ls.accept()
    try:
        t = ctx[0 if n == 0 else 1].wrap_socket(s, server_side=True)
        n += 1
        t.recv(4096)
        t.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                  b"Connection: close\r\n\r\n" % len(body) + body)
        t.close()
    except (ssl.SSLError, OSError):
        n += 1
        s.close()
EOF
"$PY" "$T/twocerts.py" "$T" "$T/other" >"$T/double.out" 2>"$T/double.err" &
DPID=$!; track $DPID
if poll 10 test -s "$T/double.out"; then
	DPORT=$(head -1 "$T/double.out")
	timeout -k 2 20 "$H" --url "https://127.0.0.1:$DPORT" --cafile "$T/cert.pem" --ws >"$T/h4.out" 2>"$T/h4.err"
	check_eq "health --ws, /health trusted, the WebSocket's certificate not: exit 78" "$?" 78
	check "... the WebSocket reason says how to fix it" grep -q '"WebSocket: .*--cafile FILE' "$T/h4.out"
else
	fail "the two-certificate double starts" "$(cat "$T/double.err")"
fi
stop "$DPID"

# --- 2. Retry-After on a 503 that may mend: a used-up seq space ---
J=$T/journal
mkdir -p "$J"
echo 0123456789abcdef >"$J/epoch"
echo '{"type":"t","data":0,"seq":18446744073709551614}' >"$J/18446744073709551614.ndjson"
PORT=
start_serve --journal "$J" || { fail "serve starts"; finish; }
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data '{"type":"t"}' \
	"$HTTP_URL/publish")
check_eq "POST /publish takes the last seq: 200" "$code" 200
code=$(curl -s -D "$T/h.hdr" -o "$T/h.json" -w '%{http_code}' "$HTTP_URL/health")
check_eq "/health then: unavailable, 503" "$(jq -r .status "$T/h.json") $code" "unavailable 503"
check "... with Retry-After: 1" grep -qix 'retry-after: 1.' "$T/h.hdr"
stop "$SERVE_PID"

# --- 2. /health while stopping: 503, no Retry-After. A WebSocket client
# that never answers the close keeps the drain going (up to 2 s); the
# check may miss that window on a busy machine, so it is tried again. ---
PORT=
start_serve || { fail "serve starts"; finish; }
for try in 1 2 3 4 5; do
	[ "$try" = 1 ] || { start_serve || { fail "serve starts"; finish; }; }
	pyrun 30 - "$PORT" "$SERVE_PID" "$try" <<'EOF'
import http.client, os, signal, socket, sys, time
port, pid, last = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "5"
ws = socket.create_connection(("127.0.0.1", port))
ws.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
got = b""
while b"\r\n\r\n" not in got:
    got += ws.recv(4096)
os.kill(pid, signal.SIGTERM)      # ws is never read again: no close answer
deadline = time.monotonic() + 5
seen = None
while time.monotonic() < deadline and seen is None:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/health")
        r = c.getresponse()
        body = r.read().decode()
        if '"status":"stopping"' in body:
            seen = (r.status, r.getheader("Retry-After"))
        c.close()
    except OSError:
        break                     # gone before we looked: try again
if seen is None:
    print("MISSED" if not last else "FAIL /health seen while stopping — never within the drain")
elif seen[0] == 503 and seen[1] is None:
    print("PASS /health while stopping: 503, no Retry-After")
else:
    print("FAIL /health while stopping: 503, no Retry-After — got %s, Retry-After %s" % seen)
EOF
	wait_pid "$SERVE_PID" 10
	grep -q '^MISSED' "$T/py.$_pyrun_n.out" || break
done
finish
