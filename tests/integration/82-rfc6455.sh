#!/usr/bin/env bash
# RFC 6455 and HTTP answers (issue 7 finding 13), data-driven from raw
# sockets (tests/integration/rawws.py): each case is (name, bytes, expected
# outcome). Handshake: version 13 only (426 + Sec-WebSocket-Version: 13),
# Host and a valid key required (400). Close: codes the RFC forbids and a
# 1-byte payload get 1002, valid codes are echoed. HTTP: HEAD has no body,
# other methods than GET/HEAD get 405 with Allow. Masking (§5.1): an
# unmasked client frame gets 1002 (lws 4.1.6 does not check it; lib/lwsio.c
# does, before lws parses it), also right behind the upgrade request or
# after good frames, which still count. A client connected before the
# attacks still answers and receives, and /health still works.
. "$(dirname "$0")/../lib.sh"

start_serve || { fail "serve starts"; finish; }

pyrun 90 - "$PORT" <<'PYEOF'
import json, sys
from rawws import *
port = int(sys.argv[1])
by, byr = open_ws(port)

def req(method, path, extra=""):
    return ("%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n" % (method, path, port, extra)).encode()

is_json = lambda b: bool(json.loads(b))
no_body = lambda b: b == b""
up = lambda **kw: upgrade_request(port, **kw)
HTTP = [
    ("version 13 upgrades", up(), 101, {}, None),
    ("version 8 gets 426", up(version="8"), 426, {"sec-websocket-version": "13"}, is_json),
    ("version 14 gets 426", up(version="14"), 426, {"sec-websocket-version": "13"}, is_json),
    ("no version gets 400", up(version=None), 400, {}, is_json),
    ("no key gets 400", up(key=None), 400, {}, is_json),
    ("short key gets 400", up(key="abc"), 400, {}, is_json),
    ("key of 15 bytes gets 400", up(key="AAAAAAAAAAAAAAAAAAAA"), 400, {}, is_json),
    ("non-base64 key gets 400", up(key="dGhlIHNhbXBsZS*ub25jZQ=="), 400, {}, is_json),
    ("no Host gets 400", up().replace(b"Host: 127.0.0.1:%d\r\n" % port, b""), 400, {}, is_json),
    ("empty Host gets 400", up(host=""), 400, {}, is_json),
    ("GET /health is 200", req("GET", "/health"), 200, {}, is_json),
    ("HEAD /health has no body", req("HEAD", "/health"), 200, {"content-type": "application/json"}, no_body),
    ("HEAD / has no body", req("HEAD", "/"), 200, {}, no_body),
    ("POST /health is 405", req("POST", "/health", "Content-Length: 2\r\n"), 405, {"allow": "GET, HEAD"}, is_json),
    ("PUT / is 405", req("PUT", "/", "Content-Length: 0\r\n"), 405, {"allow": "GET, HEAD"}, is_json),
    ("DELETE /health is 405", req("DELETE", "/health"), 405, {"allow": "GET, HEAD"}, is_json),
    ("POST /metrics is 405", req("POST", "/metrics", "Content-Length: 0\r\n"), 405, {"allow": "GET, HEAD"}, is_json),
    ("POST /nowhere is 404", req("POST", "/nowhere", "Content-Length: 0\r\n"), 404, {}, None),
]
run_http_cases(port, HTTP)

# HEAD on a kept-alive connection: the next answer starts right after the
# head, so no body bytes were sent in between.
st, _, _, s = http(port, req("HEAD", "/health"))
s.sendall(req("GET", "/health"))
st2, _, _ = read_head(s, time.monotonic() + 5)
check("after HEAD the next response follows at once", st == 200 and st2 == 200, (st, st2))

C = lambda code, reason=b"": frame(OP_CLOSE, close_payload(code, reason))
FRAMES = [
    ("close 1000 is echoed", C(1000), 1000),
    ("close 1001 is echoed", C(1001), 1001),
    ("close 3000 is echoed", C(3000), 3000),
    ("close 4999 is echoed", C(4999), 4999),
    ("empty close gets an empty close", frame(OP_CLOSE), "empty"),
    ("close 5000 gets 1002", C(5000), 1002),
    ("close 65535 gets 1002", C(65535), 1002),
    ("1-byte close payload gets 1002", frame(OP_CLOSE, b"\x03"), 1002),
    ("close 0 gets 1002", C(0), 1002),
    ("close 999 gets 1002", C(999), 1002),
    ("close 1004 gets 1002", C(1004), 1002),
    ("close 1005 gets 1002", C(1005), 1002),
    ("close 1006 gets 1002", C(1006), 1002),
    ("close 1015 gets 1002", C(1015), 1002),
    ("close 1016 gets 1002", C(1016), 1002),
    ("close 2999 gets 1002", C(2999), 1002),
    ("opcode 3 gets 1002", frame(3, b"x"), 1002),
    ("RSV1 without extension gets 1002", frame(OP_TEXT, b"{}", rsv=4), 1002),
    ("fragmented ping gets 1002", frame(OP_PING, b"x", fin=False), 1002),
    ("continuation without start gets 1002", frame(OP_CONT, b"x"), 1002),
    ("an unmasked frame gets 1002", frame(OP_TEXT, b'{"type":"ping"}', mask=False), 1002),
    ("an unmasked empty frame gets 1002", frame(OP_TEXT, mask=False), 1002),
    ("an unmasked ping gets 1002", frame(OP_PING, b"x", mask=False), 1002),
    ("an unmasked close gets 1002", frame(OP_CLOSE, close_payload(1000), mask=False), 1002),
    ("an unmasked 64-bit-length frame gets 1002",
     frame(OP_TEXT, b'{"type":"x","data":"' + b"a" * 70000 + b'"}', mask=False), 1002),
    ("an unmasked frame after good ones gets 1002",
     frame(OP_PING, b"a") + frame(OP_TEXT, b"{", fin=False) + frame(OP_CONT, b"}") + frame(OP_TEXT, b"{}", mask=False),
     1002),
]
run_frame_cases(port, FRAMES)

# An unmasked frame in the same packet as the upgrade request.
s = connect(port)
s.sendall(upgrade_request(port) + frame(OP_TEXT, b'{"type":"ping"}', mask=False))
st, _, rest = read_head(s, time.monotonic() + 5)
got = Reader(s, rest).close_code()
check("an unmasked frame right behind the upgrade request gets 1002", st == 101 and got == 1002, (st, got))
s.close()

# What came before the unmasked frame is delivered, nothing after it.
byr.until(OP_TEXT)                              # the bystander's greeting
s, rd = open_ws(port)
s.sendall(frame(OP_TEXT, b'{"type":"before-bad"}') + frame(OP_TEXT, b'{"type":"bad"}', mask=False) +
          frame(OP_TEXT, b'{"type":"after-bad"}'))
got = rd.close_code()
check("the sender of an unmasked frame gets 1002", got == 1002, got)
p = byr.until(OP_TEXT)
check("…the bystander receives what it published before", p is not None and b'"before-bad"' in p, p)
p = byr.until(OP_TEXT, 1)
check("…and nothing of what came with or after it", p is None, p)
s.close()

check("the bystander still answers a ping", bystander_ok(by, byr))
done()
PYEOF
check "/health answers after the attacks" wcurl -sf -o /dev/null "$HTTP_URL/health"
finish
