#!/usr/bin/env bash
# --compress: permessage-deflate (RFC 7692) with clients that offer it.
# Python websockets (which offers it by default) negotiates it and gets
# what it publishes, compressed, delivered to everyone; a raw client sees
# the published message as one RSV1 frame that inflates (with the 00 00 ff
# ff tail appended) to the JSON the plain clients get byte for byte, beside
# a plain websockets client and wsbridge-sub; an offer that limits the
# server's window is declined (plain frames); a decompression bomb closes
# 1009 without the broker's memory growing; without --compress nothing is
# negotiated.
. "$(dirname "$0")/../lib.sh"

start_serve --compress --max-message 256k -v || { fail "serve starts"; finish; }
SP=$SERVE_PID
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --type big --count 1 --timeout 20 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!
track $SUB
wait_subscribers 1 || fail "wsbridge-sub subscribes"
pyrun 60 - "$PORT" "$SP" <<'PYEOF'
import base64, os, socket, struct, zlib
from wsclient import *

def rss_kb(pid):
    for l in open("/proc/%s/status" % pid):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])

class Raw:
    """A bare RFC 6455 client: the frames as they are on the wire."""
    def __init__(self, port, ext):
        self.s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: %s\r\n\r\n"
                        % (key, ext)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.s.recv(4096)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.head = head.decode().lower()
    def need(self, n):
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
    def frame(self):
        self.need(2)
        b0, b1 = self.buf[0], self.buf[1]
        n, h = b1 & 0x7f, 2
        if n == 126:
            self.need(4); n = struct.unpack(">H", self.buf[2:4])[0]; h = 4
        elif n == 127:
            self.need(10); n = struct.unpack(">Q", self.buf[2:10])[0]; h = 10
        self.need(h + n)
        f = (b0, self.buf[h:h + n], h + n)
        self.buf = self.buf[h + n:]
        return f
    def send(self, b0, payload):
        mask = os.urandom(4)
        n = len(payload)
        hdr = bytes([b0]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n)
                             if n < 65536 else bytes([0x80 | 127]) + struct.pack(">Q", n))
        self.s.sendall(hdr + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload)))

def inflate(p):
    return zlib.decompressobj(-15).decompress(p + b"\x00\x00\xff\xff")

async def main(port, serve_pid):
    a = await connect(url(port))                       # offers permessage-deflate
    check("websockets negotiates permessage-deflate",
          [e.name for e in a.extensions] == ["permessage-deflate"], a.extensions)
    await recv_json(a)
    b = await connect(url(port), compression=None)      # a plain client beside it
    check("a plain websockets client negotiates nothing", a.extensions and not b.extensions, b.extensions)
    await recv_json(b)
    r = Raw(port, "permessage-deflate; client_max_window_bits")
    check("a raw offer is accepted in the 101", "sec-websocket-extensions: permessage-deflate" in r.head, r.head)
    r.frame()                                           # the greeting
    w = Raw(port, "permessage-deflate; server_max_window_bits=10")
    check("an offer that limits the server's window is declined", "sec-websocket-extensions" not in w.head, w.head)
    w.frame()

    msg = json.dumps({"type": "big", "data": {"rows": [{"symbol": "AAPL", "px": 190.1 + i, "qty": 100} for i in range(30)]}})
    await a.send(msg)                                   # websockets sends it compressed
    got_b = await recv_json(b)
    check("the compressed publish reaches the plain client intact", got_b["data"] == json.loads(msg)["data"], got_b)
    b0, payload, wire = r.frame()
    check("the pmd client gets an RSV1 frame", b0 == 0xC1, hex(b0))
    plain = json.dumps(got_b, separators=(",", ":")).encode()
    check("it inflates to the message", json.loads(inflate(payload)) == got_b, payload[:40])
    check("... and is smaller on the wire (%d vs %d bytes)" % (wire, len(plain) + 4), wire < len(plain))
    b0, payload, _ = w.frame()
    check("the declined client gets the plain frame", b0 == 0x81 and json.loads(payload) == got_b, hex(b0))

    # A bomb: 40 MB of spaces in ~40 KB; --max-message is 256k.
    before = rss_kb(serve_pid)
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    z = bomb.compress(b'{"type":"x","data":"' + b" " * (40 << 20)) + bomb.flush(zlib.Z_SYNC_FLUSH)
    r.send(0xC1, z[:-4])
    code = None
    try:
        while True:
            b0, payload, _ = r.frame()
            if b0 & 0x0f == 8:
                code = struct.unpack(">H", payload[:2])[0]
                break
    except (EOFError, OSError):
        pass
    after = rss_kb(serve_pid)
    check("a decompression bomb closes 1009", code == 1009, code)
    check("... without the broker growing (RSS %d -> %d kB)" % (before, after), after - before < 16 * 1024)
    await a.send(json.dumps({"type": "after"}))
    m = await recv_json(b)
    check("the broker goes on", m.get("type") == "after", m)

run(main)
PYEOF
wait_pid $SUB 20
check_eq "wsbridge-sub (plain) got the message too" "$RC" 0
check "... intact" jq -e '.data.rows | length == 30' "$T/sub.out"
stop $SERVE_PID

start_serve || { fail "serve without --compress starts"; finish; }
pyrun 20 - "$PORT" <<'PYEOF'
from wsclient import *
async def main(port):
    a = await connect(url(port))
    check("without --compress nothing is negotiated", not a.extensions, a.extensions)
    await recv_json(a)
    await a.send(json.dumps({"type": "t"}))
run(main)
PYEOF
stop $SERVE_PID
finish
