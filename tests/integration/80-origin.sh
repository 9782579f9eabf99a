#!/usr/bin/env bash
# Cross-site WebSocket hijacking (issue 7 finding 4): by default a browser
# page from another origin is refused with 403 before anything is read or
# published; no Origin (CLI tools) and the broker's own origin get in;
# --allow-origin adds exact origins, '*' only when given. Refusals are logged
# with the origin and the remote address, never the token. A subscriber
# connected all along is not disturbed.
. "$(dirname "$0")/../lib.sh"

start_serve || { fail "serve starts"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --type after >"$T/by.out" 2>"$T/by.err" & BY=$!; track $BY
wait_subscribers 1 || fail "bystander subscribes"

pyrun 60 - "$PORT" <<'PYEOF'
import asyncio, sys
import websockets
from rawws import *

port = int(sys.argv[1])
own = "127.0.0.1:%d" % port
# (name, Origin, Host or None for 127.0.0.1:PORT, expected status)
CASES = [
    ("no Origin (a CLI tool) gets in", None, None, 101),
    ("own origin http://127.0.0.1:PORT gets in", "http://" + own, None, 101),
    ("own origin via localhost gets in", "http://localhost:%d" % port, "localhost:%d" % port, 101),
    ("https://a.example.evil is refused", "https://a.example.evil", None, 403),
    ("null (sandboxed page, file://) is refused", "null", None, 403),
    ("trailing-dot host 127.0.0.1. is refused", "http://127.0.0.1.:%d" % port, "127.0.0.1.:%d" % port, 403),
    ("another port on 127.0.0.1 is refused", "http://127.0.0.1:%d" % (port + 1), None, 403),
    ("https:// for an http broker is refused", "https://" + own, None, 403),
    ("localhost page against a 127.0.0.1 Host is refused", "http://localhost:%d" % port, None, 403),
    ("DNS rebinding (Host and Origin evil.example) is refused",
     "http://evil.example:%d" % port, "evil.example:%d" % port, 403),
]
for name, origin, host, want in CASES:
    s, st, hdrs, rest = handshake(port, origin=origin, host=host)
    if want == 403:
        body = rest
        check(name, st == 403 and hdrs.get("content-type") == "application/json",
              "status %s %s %r" % (st, hdrs, body))
    else:
        check(name, st == 101, "status %s" % st)
    s.close()

# A real client library sending a browser's Origin sees the 403 too.
async def lib():
    try:
        ws = await websockets.connect("ws://%s/ws" % own, origin="https://a.example.evil", open_timeout=5)
        await ws.close()
        return "accepted"
    except websockets.exceptions.InvalidStatusCode as e:
        return e.status_code
got = asyncio.run(lib())
check("python websockets with a foreign origin gets 403", got == 403, got)
done()
PYEOF

check_eq "refused pages published nothing" "$(health_field messages_in)" 0
check "refusal logged with origin and address" grep -q 'refused a connection from 127.0.0.1: origin https://a.example.evil not allowed' "$SERVE_ERR"
echo '{"type":"after","data":1}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL"
wait_lines "$T/by.out" 1 10
check "the bystander still receives" grep -q '"type":"after"' "$T/by.out"
stop $SERVE_PID

# --allow-origin: exact matches only; the token never reaches the log.
unset PORT
start_serve --token S3CRET --allow-origin https://a.example --allow-origin 'http://127.0.0.1:9' -vv ||
	{ fail "serve --allow-origin starts"; finish; }
pyrun 60 - "$PORT" <<'PYEOF'
import sys
from rawws import *
port = int(sys.argv[1])
for name, origin, want in [
    ("listed https://a.example gets in", "https://a.example", 101),
    ("second listed origin gets in", "http://127.0.0.1:9", 101),
    ("https://a.example.evil is not a.example", "https://a.example.evil", 403),
    ("https://a.example. (trailing dot) is refused", "https://a.example.", 403),
    ("https://a.example:443 is not the listed string", "https://a.example:443", 403),
    ("http://a.example (other scheme) is refused", "http://a.example", 403),
    ("sub.a.example is refused", "https://sub.a.example", 403),
    ("null is refused unless listed", "null", 403),
]:
    s, st, _, _ = handshake(port, path="/ws?token=S3CRET", origin=origin)
    check(name, st == want, "status %s" % st)
    s.close()
s, st, _, _ = handshake(port, path="/ws?token=S3CRET")
check("no Origin with the token still gets in", st == 101, st)
done()
PYEOF
check_eq "the token is in no log line" "$(grep -c S3CRET "$SERVE_ERR")" 0
check "the refused origin is logged" grep -q 'origin https://a.example.evil not allowed' "$SERVE_ERR"
stop $SERVE_PID

unset PORT
start_serve --allow-origin '*' || { fail "serve --allow-origin '*' starts"; finish; }
pyrun 30 - "$PORT" <<'PYEOF'
import sys
from rawws import *
port = int(sys.argv[1])
s, st, _, _ = handshake(port, origin="https://anything.example")
check("--allow-origin '*' lets any origin in", st == 101, st)
done()
PYEOF
stop $SERVE_PID

"$WSB_BIN/wsbridge-serve" --listen 127.0.0.1:0 --allow-origin https://a.example/ 2>"$T/bad.err" & B=$!; track $B
wait_pid $B 10
check_eq "--allow-origin with a path is a usage error" "$RC" 64
check "and says why" grep -q 'not an origin' "$T/bad.err"
finish
