#!/usr/bin/env python3
"""Writes the seed corpora tests/fuzz/corpus/<name>/ from cases taken from
the unit tests (run from the repository root; the output is committed).
Each seed is in the byte layout its fuzz_<name>.c decodes. Inputs that
fuzzing found worth keeping (crash reproducers) are added next to these
by hand, named crash-<what>, and are not rewritten by this script."""
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(name, seeds):
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.startswith("seed-"):
            os.unlink(os.path.join(d, f))
    for i, s in enumerate(seeds):
        with open(os.path.join(d, "seed-%03d" % i), "wb") as f:
            f.write(s)


MSGS = [
    b'{}', b' \t\r\n{ \n}\r\n ', b'{"a":-0}', b'{"a":1e5}', b'{"a":-1.5e-3}',
    b'{"a":123456789012345678901234567890}',
    b'{"a":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00"}', b'{"a":"\\uD800"}',
    '{"a":"é € 😀 \U0010ffff"}'.encode(), b'{"a":[1,{"b":null},true,false,[],{}]}',
    b'{"":""}', b'{"a":1,"a":2}', b'', b'{"a":01}', b'{"a":1.}', b'[1,2]', b'"str"',
    b'{"type":"order","data":{"symbol":"BTC","qty":1.5},"timestamp":"2026-11-22T03:11:40.123Z","seq":42}',
    b'{"type":"connection_established","type":"zz"}',
    b'{"type":"tick","seq":18446744073709551615}', b'{"type":"tick","seq":18446744073709551616}',
    b'{"type":"t","seq":-1}', b'{"type":"subscribe","types":["a","b*","c?"]}',
    b'{"type":"a","producer":"p1","pseq":7,"data":[1,2,3]}',
    b'{"type":"\\u0000x"}', b'{"type":"' + b'x' * 129 + b'"}', b'{"a":"\xff\xfe"}',
    b'{"a":' + b'[' * 300 + b']' * 300 + b'}',
]


def envelope():
    return [bytes([i % 4]) + m for i, m in enumerate(MSGS)]


# The message shapes of the systems wsbridge replaces, and strings whose
# special bytes fall on every position of an 8-byte word (the fast path
# reads a word at a time).
SHAPES = [
    b'{"type":"tick","timestamp":"2024-01-01T12:00:00.000Z","data":{"symbol":"EURUSD","bid":1.08500,"ask":1.08503,"spread":0.00003}}',
    b'{"type":"trading_decision","data":{"request_id":"abc123","action":"BUY","indicators":{"rsi":45.2,"wavetrend":"bullish"},"risk_analysis":{"stop_loss":44000.0}}}',
    b'{"type":"system_status","data":{"status":"healthy","health":true,"errors":[],"timestamp":"2024-01-20T10:30:00Z"}}',
    b'{"type": "system_log", "timestamp": "2024-01-15T10:30:00.000Z", "data": {"level": "INFO", "message": "opened \\u2014 id \\"42\\""}}',
    b'{"type":"a","data":{"s":"[{\\"x\\":\\"}\\"}]"},"producer":"p:1","pseq":3}',
    b'{"t\\u0079pe":"x","d\\u0061ta":[1],"producer":"q","pseq":1,"seq":2}',
]


def word_edges():
    out = []
    for n in range(0, 18):
        pad = b"x" * n
        for tail in (b'\\"', b"\\\\", b"\\u00e9", b"\xc3\xa9", b"\xe2\x82\xac", b"\x01", b"\xc3", b""):
            out.append(b'{"type":"' + pad + tail + b'z","data":{"k' + pad + b'":"' + tail + pad + b'"}}')
    return out


def envelope_diff():
    msgs = MSGS + SHAPES + word_edges()
    return [bytes([(i * 5) % 256]) + m for i, m in enumerate(msgs)]


def match():
    pairs = [("trade", "trade"), ("trade", "trades"), ("", ""), ("", "a"), ("*", ""),
             ("*", "anything.at.all"), ("**", "x"), ("trade.*", "trade.btc"),
             ("*.btc", "trade.btcx"), ("a*b*c", "aXXbYYc"), ("a*b*c", "abcb"),
             ("?", "é"), ("a?c", "abc"), ("a*a*a*a*b", "a" * 200), ("[ab]", "a"),
             ("a\\*", "a*"), ("*/x", "a/b/x"), (".*", ".hidden"), ("\x01", "\x01")]
    return [p.encode() + b"\0" + t.encode() for p, t in pairs]


def lineio():
    streams = [b"a\nb\n", b"a\r\nb", b"\n\n\n", b"no newline", b"x" * 300 + b"\nshort\n",
               b"abc\r\r\n", b"\r", b'{"type":"a"}\n{"type":"b"}\r\n' * 5, b"1234\n12345\n123\n"]
    out = []
    for i, s in enumerate(streams):
        out.append(bytes([(3, 4, 15, 255, 7, 2, 0, 31, 3)[i], (i * 37) % 256]) + s)
    return out


def options():
    tools = {"serve": 0, "pub": 1, "sub": 2, "health": 3, "replay": 4}
    cases = [
        ("sub", ["--url=ws://h:1/ws", "-t", "order", "--type", "tick*", "-vv"]),
        ("sub", ["--nope"]), ("sub", ["-Z"]), ("sub", ["--count"]), ("sub", ["--count", "ten"]),
        ("serve", ["--log-format", "xml"]), ("sub", ["--control=yes"]), ("sub", ["file"]),
        ("pub", ["a.ndjson", "--", "-b"]), ("pub", []), ("sub", ["--help"]),
        ("serve", ["--dump-options"]), ("serve", ["--listen", "[::1]:0"]),
        ("serve", ["--listen", "127.0.0.1"]), ("serve", ["--max-message", "64k", "--max-queue", "1M",
                                                          "--history", "100", "--journal", "/nonexistent"]),
        ("sub", ["--retry-min", "5", "--retry-max", "1"]), ("sub", ["--since", "-1"]),
        ("sub", ["--since", "18446744073709551616", "--epoch", "0123456789abcdef"]),
        ("health", ["--nagios", "--warn-latency", "50", "--crit-latency", "10"]),
        ("health", ["--format", "prometheus", "--watch", "250ms"]),
        ("replay", ["--from", "2026-11-22T03:11:40Z", "--to", "5", "--speed", "2", "x.ndjson"]),
        ("replay", ["--loop", "0", "--rate", "-1"]), ("pub", ["--max-line", "8", "--type", "a"]),
        ("serve", ["--version"]), ("pub", ["-qv", "--linger", "1h", "--max-inflight", "0"]),
        ("pub", ["ws://h:1/ws", "a.ndjson", "--state-file", "a.state", "--", "wss://x"]),
        ("sub", ["ws://a/ws", "ws://b/ws"]), ("sub", ["--tpye", "x"]), ("sub", ["--max-queue", "1M"]),
        ("health", ["http://h:1", "--wait", "5", "-q"]), ("health", ["--wait", "1", "--watch", "1"]),
        ("serve", ["--ready-fd", "65536", "--pid-file", ""]), ("serve", ["--listen", "8765"]),
    ]
    return [bytes([tools[t]]) + b"\0".join(a.encode() for a in args) for t, args in cases]


def health():
    return [
        b'{"status":"healthy","active_connections":12,"subscribers":3,"uptime_s":3600,'
        b'"messages_in":100,"messages_out":300,"dropped":0,"slow_consumers_closed":0,"seq":100,'
        b'"queued_bytes":0}',
        b'{"status":"healthy","subscribers":"3","dropped":-1,"uptime_s":12.5}',
        b'{"status":"a-very-long-status-string-that-goes-on-and-on"}', b'', b'not json',
        b'<html>502 Bad Gateway</html>', b'[1,2]', b'"healthy"', b'{"status":1}',
        b'{"status":"healthy"', b'{"status":"degraded","reason":"journal write failed"}',
        b'{"status":"bad|state","reason":"a\\nb"}', b'{"status":"healthy","seq":1e400}',
        b'{"status":"healthy","dropped":-1e308,"subscribers":NaN}',
        b'{"status":"healthy","subscribers":18446744073709551616}',
    ]


def journal():
    def seg(first, body):
        return bytes([first]) + struct.pack(">H", len(body)) + body

    def lines(a, b):
        return b"".join(b'{"type":"t","data":%d,"seq":%d}\n' % (s, s) for s in range(a, b + 1))

    return [
        bytes([1, 0]) + seg(1, lines(1, 3)),
        bytes([1, 0]) + seg(1, lines(1, 3) + b'{"type":"t","se'),
        bytes([0, 1]) + seg(1, lines(1, 2)) + seg(3, lines(3, 5)),
        bytes([5, 2]) + seg(1, lines(1, 2)) + seg(3, b"\0" * 40) + seg(9, lines(9, 9) + b"garbage\n"),
        bytes([1, 0]) + seg(1, b'{"type":"t","seq":5}\n{"type":"t","seq":3}\n{"no":"seq"}\n'),
        bytes([2, 0]) + seg(1, lines(1, 1)) + b"nothexepoch",
        bytes([1, 0]) + seg(1, b'{garbage,"seq":5}\n{"type":"t","seq":18446744073709551615}\n'),
        bytes([4, 1]) + seg(7, lines(1, 2)) + seg(2, lines(3, 4)),
    ]


def broker():
    def cfg(flags=0, queue=4096, memory=1024, history=16, hbytes=4096, stall=10):
        return (bytes([flags]) + struct.pack(">HH", queue // 16 - 1, memory // 64) + bytes([history])
                + struct.pack(">H", hbytes // 8) + bytes([stall]))

    JOIN, SUB, PUB, RAW, CTL, TAKE, TICK, LEAVE, DUR = range(9)

    def raw(k, b):
        return bytes([RAW, k, len(b)]) + b

    def take(k, soft=65535):
        return bytes([TAKE, k]) + struct.pack(">H", soft) + b"\x01"

    basic = (bytes([JOIN, 0, 1, 0, JOIN, 1, 0x42, 5]) + bytes([PUB, 1, 1, 7, 3, PUB, 1, 0x81, 2, 9])
             + take(0) + take(1) + bytes([CTL, 0, 0, 1, CTL, 0, 1, 9, CTL, 0, 2, 9]) + take(0)
             + bytes([LEAVE, 0, LEAVE, 1]))
    resume = (bytes([PUB, 0]) + bytes([JOIN, 0, 0x02, 1]) + bytes([PUB, 0, 0x81, 1, 1] * 3)
              + bytes([JOIN, 1, 0x04 | 0x20, 0]) + take(1) + bytes([TICK, 0, 50]) + take(1, 10))
    slow = (bytes([JOIN, 0, 0, 0, JOIN, 1, 0x02, 0]) + bytes([PUB, 1, 2, 50, 99] * 40)
            + bytes([TICK, 0, 200, TICK, 0, 200]) + take(0, 1))
    garbage = (bytes([JOIN, 2, 0x10, 0]) + raw(2, b'{"type":"subscribe","types":["*"]}')
               + raw(2, b'{"type":"unsubscribe","types":["*"]}') + raw(2, b'not json')
               + raw(2, b'{"type":"connection_established","type":"zz"}') + raw(2, b'{"type":"ping"}')
               + raw(2, b'{"type":"a","seq":5,"producer":"p0","pseq":18446744073709551615}') + take(2))
    snap = (bytes([JOIN, 0, 0, 0]) + b"".join(bytes([PUB, 0, t, 1, 5]) for t in range(7))
            + bytes([JOIN, 3, 0x20, 0]) + take(3, 20) + bytes([DUR, 0, 1]) + take(3))
    return [cfg() + basic, cfg(flags=1) + resume, cfg(queue=512, memory=256, stall=5) + slow,
            cfg(flags=6) + garbage, cfg(flags=4, queue=128) + snap, cfg(flags=0xe1, history=0) + basic]


def frame():
    def frag(flags, b):
        return bytes([flags, len(b)]) + b

    return [
        struct.pack(">H", 1024) + frag(3, b'{"type":"a"}'),
        struct.pack(">H", 1024) + frag(1, b"") + frag(0, b'{"type":') + frag(2, b'"a"}'),
        struct.pack(">H", 16) + frag(1, b"0123456789") + frag(2, b"0123456789") + frag(3, b"ok"),
        struct.pack(">H", 0) + frag(7, b"x" * 200) + frag(1 | 8, b"y" * 200) + frag(2, b"z" * 130),
        struct.pack(">H", 5) + frag(3, b"") + frag(0, b"") + frag(2, b""),
        b"\xff\xff\xff\xff\xff\xff\xff\xff\x03",
    ]


def wsrx():
    def msg(body, kind=0, nfrag=1, ctl=0):
        return bytes([len(body)]) + body + bytes([kind, nfrag - 1, ctl])

    def hdr(b0, n):
        return bytes([b0, n]) if n < 126 else bytes([b0, 126]) + struct.pack(">H", n)

    cap = struct.pack(">H", 4096)
    gen = [
        cap + bytes([0, 3, 0, 0]) + msg(b'{"type":"a"}') + msg(b'{"type":"b","data":[1,2]}', nfrag=3, ctl=0x15)
        + msg('{"a":"é € 😀"}'.encode(), nfrag=2, ctl=2) + struct.pack(">HHHH", 7, 1, 300, 2),
        # take() inside the second message, which lws began: the rest is held behind it
        cap + bytes([0, 4, 0, 7]) + msg(b"lws owns this one", nfrag=2, ctl=1) + msg(b"and this")
        + msg(b"ours", nfrag=3) + msg(b"ours too") + struct.pack(">HH", 40, 299),
        cap + bytes([0, 6, 0, 1]) + b"".join(msg(b'{"type":"t","n":%d}' % i) for i in range(6))
        + struct.pack(">HHH", 29, 60, 299),
        struct.pack(">H", 50) + bytes([0, 3, 0, 0]) + msg(b"small") + msg(b"", kind=7) + msg(b"never"),
        cap + bytes([0, 3, 0, 0]) + msg(b"ok") + msg(b'{"a":"\xff\xfe"}')
        + msg(b"\xc3", nfrag=2),
        cap + bytes([0, 2, 0, 0]) + msg(b"text") + msg(b"\x00\x01", kind=5),
    ]
    stream = (hdr(0x81, 11) + b'{"type":"a"}'[:11] + hdr(0x01, 3) + b'{"t' + hdr(0x89, 2) + b"hi"
              + hdr(0x80, 9) + b'ype":"b"}' + hdr(0x81, 300) + b"y" * 300 + hdr(0x88, 2) + b"\x03\xe8"
              + hdr(0x81, 1) + b"z")
    raw = [
        cap + bytes([1]) + stream,
        struct.pack(">H", 100) + bytes([3]) + stream,
        cap + bytes([1]) + hdr(0x82, 2) + b"\x00\x01",
        cap + bytes([1]) + bytes([0x81, 0x85, 1, 2, 3, 4]) + b"abcde",
        cap + bytes([1]) + bytes([0x81, 127]) + struct.pack(">Q", 1 << 40) + b"x" * 40,
        cap + bytes([1]) + hdr(0x00, 3) + b"abc" + hdr(0xC1, 1) + b"a" + hdr(0x83, 0),
        cap + bytes([1]) + hdr(0x81, 4) + b"\xed\xa0\x80a" + hdr(0x81, 2) + b"ok",
    ]

    # permessage-deflate agreed (mode & 2): compressed and plain messages,
    # fragments cutting the compressed bytes, take() late; a raw stream with
    # a bomb past a small cap, RSV1 on a continuation, data that does not inflate.
    def squeeze(b):
        z = zlib.compressobj(6, zlib.DEFLATED, -15)
        return (z.compress(b) + z.flush(zlib.Z_SYNC_FLUSH))[:-4]
    pmd = [
        cap + bytes([2, 4, 0, 9]) + msg(b'{"type":"z","data":"aaaaaaaaaaaaaaaaaaaa"}', ctl=0x20)
        + msg('{"a":"caf\u00e9 caf\u00e9"}'.encode(), nfrag=3, ctl=0x21) + msg(b"plain")
        + msg(b"", kind=7, ctl=0x20) + struct.pack(">HHHH", 5, 1, 300, 3),
        struct.pack(">H", 64) + bytes([2, 2, 0, 0]) + msg(b"x" * 200, ctl=0x20) + msg(b"after", ctl=0x20),
    ]
    bomb = squeeze(b" " * 100000)
    rawpmd = [
        cap + bytes([3]) + hdr(0xC1, len(squeeze(b'{"t":1}'))) + squeeze(b'{"t":1}') + hdr(0x89, 0)
        + hdr(0x41, 2) + squeeze(b'{"t":2}')[:2] + hdr(0x80, len(squeeze(b'{"t":2}')) - 2) + squeeze(b'{"t":2}')[2:]
        + hdr(0x81, 2) + b"{}",
        struct.pack(">H", 1000) + bytes([3]) + hdr(0xC1, len(bomb)) + bomb,
        cap + bytes([3]) + hdr(0x01, 1) + b"{" + hdr(0xC0, 3) + squeeze(b"}")[:3],
        cap + bytes([3]) + hdr(0xC1, 5) + b"\xff\xfe\xfd\xfc\xfb",
    ]
    return gen + raw + pmd + rawpmd


def wsext():
    ok = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"
          b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02{}")
    return [
        bytes([3, 5, 9, 1]) + ok,
        bytes([0]) + ok,
        bytes([1, 0]) + ok.replace(b"permessage-deflate; server_no_context_takeover", b"x-webkit-deflate-frame"),
        bytes([2, 60, 3]) + b"HTTP/1.1 101 x\nsec-websocket-extensions: permessage-deflate\nSEC-WEBSOCKET-EXTENSIONS:"
        b" permessage-deflate; client_max_window_bits=9\n\n",
        bytes([1, 7]) + b"HTTP/1.1 101 x\r\nSec-WebSocket-Extensionsx: y\r\nSec-WebSo",
        bytes([0]) + b"HTTP/1.1 101 x\r\nSec-WebSocket-Extensions: " + b"a" * 300 + b"\r\n\r\n",
    ]


def wssrx():
    def mframe(b0, payload, key=b"\x01\x02\x03\x04"):
        n = len(payload)
        h = bytes([b0]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n))
        return h + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))

    def gen(cap, take, deflate, cuts, stops, ops):
        return (struct.pack(">H", cap) + bytes([0]) + struct.pack(">H", take) + bytes([deflate, len(cuts), 7])
                + bytes(cuts) + bytes(stops) + bytes(ops))

    cap = 4000                     # the harness takes it modulo 4096, plus 1
    stream = (mframe(0x81, b'{"type":"a"}') + mframe(0x01, b'{"t') + mframe(0x89, b"hi")
              + mframe(0x80, b'ype":"b"}') + mframe(0x81, b"y" * 300) + mframe(0xC1, b"zz")
              + mframe(0x88, b"\x03\xe8") + mframe(0x81, b"after close"))
    return [
        # text messages, fragmented with pings between, reads of 1..256, outs of 1..200
        gen(cap, 0, 0, [0, 5, 17, 200, 3], [0, 0], [0x00, 40, 0x98, 90, 4, 10, 0x11, 200, 5, 3]),
        # the owner stops after every message and buffer growth
        gen(cap, 0, 0, [60, 7], [3, 3], [0x08, 30, 0x88, 120, 0x18, 9, 0x00, 0]),
        # take() inside a message lws began (the upgrade's read), then ours
        gen(cap, 30, 0, [2, 90], [0, 1], [0x18, 80, 0x00, 20, 0x08, 50]),
        # ... and lws's continuation and our message in one read: ours waits for lws's
        gen(cap, 30, 0, [120, 199], [0, 0], [0x18, 80, 0x00, 20]),
        # a message over the cap (1009), binary (1003), RSV1 with and without deflate
        gen(64, 0, 0, [9], [0, 0], [0x00, 10, 0x40, 60, 0x00, 5]),
        gen(cap, 0, 0, [4], [0, 0], [0x00, 10, 0x06, 3, 0x00, 5]),
        gen(cap, 0, 1, [4], [0, 0], [0x07, 10, 0x8f, 90, 0x00, 5]),
        gen(cap, 0, 0, [4], [0, 0], [0x00, 10, 0x07, 10, 0x00, 5]),
        # a ping flood: lws's 128-byte out fills, the rest is held
        gen(cap, 0, 0, [255, 255, 1], [0, 0], [4, 29] * 20 + [0x00, 100] + [5, 29] * 5),
        struct.pack(">H", cap) + bytes([1]) + stream,
        struct.pack(">H", 100) + bytes([3]) + stream,
        struct.pack(">H", cap) + bytes([1]) + mframe(0x82, b"\x00\x01") + mframe(0x81, b"x"),
        struct.pack(">H", cap) + bytes([1]) + bytes([0x81, 0x05]) + b"abcde" + mframe(0x81, b"x"),
        struct.pack(">H", cap) + bytes([1]) + bytes([0x81, 0xff]) + struct.pack(">Q", 1 << 40) + b"\0" * 44,
        struct.pack(">H", cap) + bytes([1]) + mframe(0x00, b"abc") + mframe(0xB1, b"a") + mframe(0x83, b""),
    ]


def wsctl():
    def mframe(b0, payload, key=b"\x01\x02\x03\x04", b1=None):
        n = len(payload)
        return bytes([b0, 0x80 | n if b1 is None else b1]) + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))

    pings = mframe(0x89, b"") + mframe(0x8a, b"pong") + mframe(0x89, b"x" * 125)
    close = mframe(0x88, b"\x03\xe8bye") + mframe(0x89, b"after")
    return [
        bytes([0]) + pings + close,
        bytes([3, 0, 1, 2]) + pings + close,
        bytes([1, 5]) + pings * 10,
        bytes([0]) + mframe(0x09, b"x"),                      # not FIN
        bytes([2, 1, 3]) + mframe(0xc9, b"x"),                # RSV1
        bytes([0]) + mframe(0x8b, b"x"),                      # reserved opcode
        bytes([1, 0]) + mframe(0x89, b"x", b1=0x01),          # unmasked
        bytes([0]) + bytes([0x89, 0xfe, 0x01, 0x00]) + b"\0" * 300,
        bytes([0]) + bytes([0x89, 0xff]) + struct.pack(">Q", 1 << 40) + b"\0" * 40,
    ]


if __name__ == "__main__":
    for n, f in [("envelope", envelope), ("envelope_diff", envelope_diff), ("match", match), ("lineio", lineio), ("options", options),
                 ("health", health), ("journal", journal), ("broker", broker), ("frame", frame),
                 ("wsrx", wsrx), ("wsext", wsext), ("wssrx", wssrx),
                 ("wsctl", wsctl)]:
        write(n, f())
