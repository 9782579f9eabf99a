#!/usr/bin/env bash
# RFC 6455 §5.1 masking over TLS (issue 7, finding 13): lws reads wss with
# SSL_read, which lib/lwsio.c interposes like recv. An unmasked client frame
# over wss gets 1002 while a wss subscriber keeps receiving; wsbridge-sub
# against a wss server that sends a masked frame (also in the 101's packet)
# closes 1002 and exits 65. The plain-TCP cases are in 82 and 62.
. "$(dirname "$0")/../lib.sh"

if ! command -v openssl >/dev/null; then
	pass "TLS masking tests skipped: no openssl"
	finish
fi
make_test_cert || { fail "openssl makes a test certificate" "$(cat "$T/openssl.log")"; finish; }
CERT=$T/cert.pem KEY=$T/key.pem

# --- the server: an unmasked frame over wss -----------------------------------
start_serve --tls-cert "$CERT" --tls-key "$KEY" || { fail "serve starts with TLS"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --cafile "$CERT" --count 2 --timeout 20 >"$T/by.out" 2>"$T/by.err" &
BY=$!; track $BY
wait_subscribers 1 || fail "the wss bystander subscribes"

pyrun 60 - "$PORT" "$CERT" <<'PYEOF'
import socket, ssl, sys, time
from rawws import *
port, cafile = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)

def wss():
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname="127.0.0.1")
    s.settimeout(5)
    return s

s = wss()
s.sendall(upgrade_request(port))
st, _, rest = read_head(s, time.monotonic() + 5)
rd = Reader(s, rest)
s.sendall(frame(OP_TEXT, b'{"type":"tls-before"}') + frame(OP_TEXT, b'{"type":"tls-bad"}', mask=False))
got = rd.close_code()
check("wss: an unmasked frame gets 1002", st == 101 and got == 1002, (st, got))
s.close()

s = wss()
s.sendall(upgrade_request(port) + frame(OP_PING, b"x", mask=False))
st, _, rest = read_head(s, time.monotonic() + 5)
got = Reader(s, rest).close_code()
check("wss: an unmasked frame behind the upgrade request gets 1002", st == 101 and got == 1002, (st, got))
s.close()
done()
PYEOF
echo '{"type":"tls-sentinel"}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --cafile "$CERT" --retries 0
wait_pid $BY 15
check_eq "…a wss subscriber keeps receiving and exits 0 on --count 2" "$RC" 0
check_eq "…what came before the unmasked frame, then the next message, nothing else" \
	"$(sed 's/.*"type":"\([^"]*\)".*/\1/' "$T/by.out" | tr '\n' ' ')" "tls-before tls-sentinel "
check "/health answers after the attacks" wcurl -sf -o /dev/null "$HTTP_URL/health"
stop $SERVE_PID

# --- the client: a masked frame from a wss server ---------------------------------
for mode in masked masked101; do
	HOSTILE_CERT=$CERT HOSTILE_KEY=$KEY start_hostile $mode || { fail "hostile server starts"; finish; }
	"$WSB_BIN/wsbridge-sub" --url "wss://${HOSTILE_URL#ws://}" --cafile "$CERT" --count 1 --timeout 10 \
		--retries 0 >"$T/$mode.out" 2>"$T/$mode.err" &
	SUB=$!; track $SUB
	wait_pid $SUB 15
	check_eq "wss $mode: sub exits 65" "$RC" 65
	check "…closing with 1002" hostile_saw '^close 1 1002'
	check_eq "…printing nothing" "$(lines "$T/$mode.out")" 0
	check "…saying why" grep -q 'masked frame from the server' "$T/$mode.err"
	stop $HOSTILE_PID
done
finish
