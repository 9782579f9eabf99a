# A hostile or broken WebSocket server for the client tests (60-64).
#
#   hostile_server.py MODE[,MODE...] [BYTES]
#
# Listens on 127.0.0.1 (a free port, printed as the first line of stdout)
# and serves connection N with the Nth MODE (the last one repeats). Every
# event is one line on stdout, flushed, for the test to poll:
#   conn N MODE / handshake N / ping N / close N CODE / eof N SECS / sent N BYTES
# Modes:
#   mute        accept TCP, read, never answer the upgrade (a frozen broker)
#   silent      complete the handshake, then never send or answer a ping
#   ok          handshake, greeting, {"type":"hello","seq":1}; answer pings
#   fragments   handshake, then one text message of BYTES in 64 KiB fragments
#   hugeframe   handshake, then one text frame announcing BYTES, sent slowly
#   pretty      a pretty-printed message, a non-JSON text, then {"type":"after"}
#   binary      a binary frame holding JSON, then {"type":"after"}
#   masked      a masked text frame (RFC 6455 forbids it from a server)
#   masked101   the 101 answer, the greeting and a masked frame in one packet
#   badutf8     a text frame that is not UTF-8, then {"type":"after"}
#   bulk        BYTES messages {"type":"n","seq":I} in one send; message 3 in
#               three fragments that split an "é", with a ping between them
# permessage-deflate (RFC 7692), for clients that offer it:
#   pmd         agrees (no context takeover either way); the compressed
#               greeting comes with the 101; then BYTES messages, compressed
#               (message 2 in three fragments, RSV1 on the first only, a ping
#               between; message 3 plain), then {"type":"after"}; logs
#               "rsv1 N TEXT" for each compressed message the client sends
#   pmdsplit    pmd, its 101 sent in two writes cut inside "Sec-WebSocket-"
#   extother    a 101 naming x-webkit-deflate-frame, which nobody offered
#   extparam    agrees with client_max_window_bits=10, which was not offered
#   bomb        agrees, then one compressed message inflating to BYTES
#   rsv1plain   agrees to nothing, then a compressed (RSV1) message
#   badinflate  agrees, then an RSV1 message that is not deflate data
# With HOSTILE_CERT and HOSTILE_KEY (PEM files) in the environment it speaks
# TLS (wss://).
import base64, hashlib, os, select, socket, ssl, struct, sys, threading, time, zlib

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PMD = b"permessage-deflate; server_no_context_takeover; client_no_context_takeover"
modes = sys.argv[1].split(",")
nbytes = int(sys.argv[2]) if len(sys.argv) > 2 else 300 << 20
lock = threading.Lock()


def say(*a):
    with lock:
        print(*a, flush=True)


def frame(payload, op=1, fin=True, mask=False):
    b0 = (0x80 if fin else 0) | op
    n = len(payload)
    m = 0x80 if mask else 0
    if n < 126:
        h = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        h = struct.pack("!BBH", b0, m | 126, n)
    else:
        h = struct.pack("!BBQ", b0, m | 127, n)
    if mask:
        key = os.urandom(4)
        payload = bytes(c ^ key[i & 3] for i, c in enumerate(payload))
        h += key
    return h + payload


def deflate(payload):
    """One message, compressed on its own, without the 00 00 ff ff tail."""
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    return (z.compress(payload) + z.flush(zlib.Z_SYNC_FLUSH))[:-4]


def cframe(payload):
    return frame(deflate(payload), op=0x41)


class Conn:
    def __init__(self, sock, n):
        self.s, self.n, self.buf, self.t0 = sock, n, b"", time.time()
        self.closed = None          # close code the client sent, once seen
        self.eof = False
        self.sent = 0               # bytes sent by send_while_open

    def handshake(self, then=b"", ext=None, cut=None):
        while b"\r\n\r\n" not in self.buf:
            d = self.s.recv(4096)
            if not d:
                raise EOFError
            self.buf += d
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        key = [l.split(b":", 1)[1].strip() for l in head.split(b"\r\n")
               if l.lower().startswith(b"sec-websocket-key:")][0]
        acc = base64.b64encode(hashlib.sha1(key + GUID).digest())
        self.offer = b"".join(l.split(b":", 1)[1].strip() for l in head.split(b"\r\n")
                              if l.lower().startswith(b"sec-websocket-extensions:"))
        resp = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                (b"Sec-WebSocket-Extensions: " + ext + b"\r\n" if ext else b"") +
                b"Sec-WebSocket-Accept: " + acc + b"\r\n\r\n" + then)
        if cut:                     # two writes, apart, so the client reads them apart
            k = resp.index(cut) + len(cut)
            self.s.sendall(resp[:k])
            time.sleep(0.3)
            resp = resp[k:]
        self.s.sendall(resp)
        say("handshake", self.n, self.offer.decode())

    def poll(self, timeout=0.0, answer_pings=False):
        """Reads what the client sent; logs pings and its close."""
        r, _, _ = select.select([self.s], [], [], timeout)
        if not r:
            return
        d = self.s.recv(65536)
        if not d:
            self.eof = True
            say("eof", self.n, "%.1f" % (time.time() - self.t0))
            return
        self.buf += d
        while len(self.buf) >= 2:
            op, ln = self.buf[0] & 15, self.buf[1] & 127
            off = 2
            if ln == 126:
                ln, off = struct.unpack("!H", self.buf[2:4])[0], 4
            elif ln == 127:
                ln, off = struct.unpack("!Q", self.buf[2:10])[0], 10
            if len(self.buf) < off + 4 + ln:
                return
            rsv1 = self.buf[0] & 0x40
            key, body = self.buf[off:off + 4], self.buf[off + 4:off + 4 + ln]
            body = bytes(c ^ key[i & 3] for i, c in enumerate(body))
            self.buf = self.buf[off + 4 + ln:]
            if op == 1 and rsv1:
                say("rsv1", self.n, zlib.decompressobj(-15).decompress(body + b"\x00\x00\xff\xff").decode())
            if op == 10:
                say("pong", self.n)
            elif op == 9:
                say("ping", self.n)
                if answer_pings:
                    self.s.sendall(frame(body, 10))
            elif op == 8 and self.closed is None:
                self.closed = struct.unpack("!H", body[:2])[0] if len(body) >= 2 else 1005
                say("close", self.n, self.closed)
                self.s.sendall(frame(body[:2], 8))

    def wait(self, answer_pings=False, secs=60):
        end = time.time() + secs
        while not self.eof and time.time() < end:
            self.poll(0.2, answer_pings)

    def send_while_open(self, data):
        """Sends unless the client has closed; False once it has."""
        while data:
            self.poll()
            if self.closed is not None or self.eof:
                return False
            _, w, _ = select.select([], [self.s], [], 0.2)
            if w:
                k = self.s.send(data)
                data = data[k:]
                self.sent += k
        return True


def greeting(c):
    c.s.sendall(frame(b'{"type":"connection_established","seq":0,"epoch":"e1"}'))


def pmd_mode(c, mode):
    """The permessage-deflate modes (see the top); False for the others."""
    hello = frame(b'{"type":"connection_established","seq":0,"epoch":"e1"}')
    if mode in ("pmd", "pmdsplit"):
        c.handshake(cframe(hello[2:]), PMD, b"\r\nSec-WebSo" if mode == "pmdsplit" else None)
        out = []
        for i in range(1, nbytes + 1):
            m = b'{"type":"n","seq":%d,"data":"%s caf\xc3\xa9"}' % (i, b"quote " * (i % 50))
            if i == 2:
                d = deflate(m)
                out += [frame(d[:3], op=0x41, fin=False), frame(b"still there?", 9),
                        frame(d[3:7], op=0, fin=False), frame(d[7:], op=0)]
            else:
                out.append(frame(m) if i == 3 else cframe(m))
        c.s.sendall(b"".join(out) + cframe(b'{"type":"after","seq":%d}' % (nbytes + 1)))
    elif mode in ("extother", "extparam"):
        c.handshake(ext=b"x-webkit-deflate-frame" if mode == "extother" else PMD + b"; client_max_window_bits=10")
        c.s.sendall(hello)
    elif mode == "bomb":
        c.handshake(cframe(hello[2:]), PMD)
        z = zlib.compressobj(9, zlib.DEFLATED, -15)
        body = z.compress(b'{"type":"bomb","data":"')
        for _ in range(nbytes >> 20):
            body += z.compress(b" " * (1 << 20))
        body += z.compress(b'"}') + z.flush(zlib.Z_SYNC_FLUSH)
        c.send_while_open(frame(body[:-4], op=0x41))
    elif mode == "rsv1plain":
        c.handshake(hello)
        c.s.sendall(cframe(b'{"type":"squeezed","seq":1}'))
    elif mode == "badinflate":
        c.handshake(hello, PMD)
        c.s.sendall(frame(b"\xff\xfe not deflate", op=0x41))
    else:
        return False
    c.wait(answer_pings=True)
    return True


def serve(sock, n, mode):
    say("conn", n, mode)
    c = None
    try:
        if os.environ.get("HOSTILE_CERT"):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(os.environ["HOSTILE_CERT"], os.environ["HOSTILE_KEY"])
            sock = ctx.wrap_socket(sock, server_side=True)
        c = Conn(sock, n)
        if mode == "mute":
            c.wait()
            return
        if mode == "masked101":
            c.handshake(frame(b'{"type":"connection_established","seq":0,"epoch":"e1"}') +
                        frame(b'{"type":"masked","seq":1}', mask=True))
            c.wait()
            return
        if pmd_mode(c, mode):
            return
        c.handshake()
        if mode == "silent":
            c.wait()
        elif mode == "ok":
            greeting(c)
            c.s.sendall(frame(b'{"type":"hello","seq":1,"data":"x"}'))
            c.wait(answer_pings=True)
        elif mode == "fragments":
            chunk, sent = b"a" * 65536, 0
            ok = c.send_while_open(frame(b'{"type":"big","data":"', fin=False))
            while ok and sent < nbytes:
                ok = c.send_while_open(frame(chunk, op=0, fin=False))
                sent += len(chunk)
            ok and c.send_while_open(frame(b'"}', op=0))
            c.wait()
        elif mode == "hugeframe":
            c.send_while_open(struct.pack("!BBQ", 0x81, 127, nbytes) + b'{"type":"big","data":"')
            sent = 0
            while sent < nbytes - 30 and c.send_while_open(b"a" * 65536):
                sent += 65536
            c.wait()
        elif mode == "pretty":
            greeting(c)
            c.s.sendall(frame(b'{\n  "type": "pretty",\n  "data": {\n    "a": [1, 2],\n    "b": "x y"\n  },\n  "seq": 1\n}\n'))
            c.s.sendall(frame(b"hello\nworld"))
            c.s.sendall(frame(b'{"type":"after","seq":2}'))
            c.wait(answer_pings=True)
        elif mode == "binary":
            greeting(c)
            c.s.sendall(frame(b'{"type":"bin","seq":1}', op=2))
            c.s.sendall(frame(b'{"type":"after","seq":2}'))
            c.wait()
        elif mode == "badutf8":
            greeting(c)
            c.s.sendall(frame(b'{"type":"bad","seq":1,"data":"\xc3("}'))
            c.s.sendall(frame(b'{"type":"after","seq":2}'))
            c.wait()
        elif mode == "bulk":
            greeting(c)
            out = []
            for i in range(1, nbytes + 1):
                if i == 3:
                    m = '{"type":"n","seq":3,"data":"caf\u00e9"}'.encode()
                    cut = m.index(b"\xc3") + 1
                    out += [frame(m[:5], fin=False), frame(m[5:cut], op=0, fin=False),
                            frame(b"are you there", 9), frame(m[cut:], op=0)]
                else:
                    out.append(frame(b'{"type":"n","seq":%d,"data":"%s"}' % (i, b"x" * (i % 300))))
            c.s.sendall(b"".join(out))
            c.wait(answer_pings=True)
        elif mode == "masked":
            greeting(c)
            c.s.sendall(frame(b'{"type":"masked","seq":1}', mask=True))
            c.wait()
    except (EOFError, OSError) as e:
        say("error", n, type(e).__name__)
    finally:
        if c and c.sent:
            say("sent", n, c.sent)
        sock.close()


def main():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    say(ls.getsockname()[1])
    n = 0
    while True:
        s, _ = ls.accept()
        n += 1
        threading.Thread(target=serve, args=(s, n, modes[min(n, len(modes)) - 1]), daemon=True).start()


main()
