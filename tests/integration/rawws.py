"""Raw-socket WebSocket and HTTP for the adversarial tests (stdlib only).

Everything a well-behaved library refuses to send: any request line and
headers, unmasked or malformed frames, any close payload. Every read is
bounded by a timeout; a check is reported with wsclient.check (PASS/FAIL
lines that tests/lib.sh's py_checks turns into the suite's checks).

    from rawws import *
    s, st, hdr, _ = handshake(port, origin="https://evil.example")
    check("refused", st == 403, st)
    s, st, hdr, _ = handshake(port)
    s.sendall(frame(OP_CLOSE, struct.pack("!H", 5000)))
    check("close 5000 -> 1002", expect_close(s) == 1002)

Cases are tables: (name, bytes to send, expected outcome), run by
run_frame_cases / run_http_cases, so a new case is one line.
"""
import base64
import os
import socket
import struct
import sys
import time

import wsclient
from wsclient import check

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10
KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def connect(port, src=None, timeout=5):
    """A TCP connection to 127.0.0.1:port, from source address src if given
    (127.0.0.2 and so on are other clients on loopback)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def upgrade_request(port, path="/ws", host=None, key=KEY, version="13", origin=None,
                    extra=(), method="GET"):
    """Upgrade request bytes; a header given as None is left out."""
    lines = ["%s %s HTTP/1.1" % (method, path)]
    hdrs = [("Host", host if host is not None else "127.0.0.1:%d" % port),
            ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", version),
            ("Origin", origin)] + list(extra)
    lines += ["%s: %s" % (k, v) for k, v in hdrs if v is not None]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_head(s, deadline):
    """Reads an HTTP response head: (status, {lower-case name: value}, bytes
    after the head). Status 0 when the peer closed first."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = s.recv(4096)
        except (socket.timeout, ConnectionResetError):
            chunk = b""
        if not chunk:
            return 0, {}, buf
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0, hdrs, rest


def http(port, raw, src=None, timeout=5):
    """Sends raw request bytes; returns (status, headers, body, sock). The
    body is content-length bytes (or up to EOF for connection: close)."""
    s = connect(port, src, timeout)
    s.sendall(raw)
    deadline = time.monotonic() + timeout
    st, hdrs, body = read_head(s, deadline)
    want = 0 if raw.startswith(b"HEAD ") else int(hdrs.get("content-length", "-1"))
    while st and len(body) < want and time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        body += chunk
    return st, hdrs, body, s


def handshake(port, src=None, timeout=5, **kw):
    """An upgrade (kw as for upgrade_request); returns (sock, status,
    headers, bytes already read after the head)."""
    s = connect(port, src, timeout)
    s.sendall(upgrade_request(port, **kw))
    st, hdrs, rest = read_head(s, time.monotonic() + timeout)
    return s, st, hdrs, rest


def frame(opcode, payload=b"", fin=True, mask=True, rsv=0, length=None):
    """One frame; length overrides the header's payload length field."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    mbit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


def close_payload(code, reason=b""):
    return struct.pack("!H", code) + reason


class Reader:
    """Server frames from a socket, bounded by a deadline per call."""

    def __init__(self, s, rest=b""):
        self.s, self.buf = s, rest

    def _need(self, n, deadline):
        while len(self.buf) < n:
            self.s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                return False
            if not chunk:
                return False
            self.buf += chunk
        return True

    def frame(self, timeout=5):
        """(fin, opcode, payload), or None at EOF or timeout."""
        deadline = time.monotonic() + timeout
        if not self._need(2, deadline):
            return None
        b0, b1 = self.buf[0], self.buf[1]
        n, off = b1 & 0x7F, 2
        if n == 126:
            if not self._need(4, deadline):
                return None
            n, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            if not self._need(10, deadline):
                return None
            n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        if not self._need(off + n, deadline):
            return None
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def until(self, opcode, timeout=5):
        """Payload of the next frame with this opcode (skipping others), or
        None when the socket ended or the time ran out first."""
        deadline = time.monotonic() + timeout
        while True:
            f = self.frame(max(0.01, deadline - time.monotonic()))
            if f is None:
                return None
            if f[1] == opcode:
                return f[2]

    def close_code(self, timeout=5):
        """The code of the server's close frame, "empty" for a close without
        payload, or None when the socket ended without one."""
        p = self.until(OP_CLOSE, timeout)
        if p is None:
            return None
        return struct.unpack("!H", p[:2])[0] if len(p) >= 2 else "empty"


def open_ws(port, src=None, **kw):
    """A WebSocket that completed the handshake: (sock, Reader), or raises."""
    s, st, hdrs, rest = handshake(port, src, **kw)
    if st != 101:
        s.close()
        raise RuntimeError("handshake answered %s" % st)
    return s, Reader(s, rest)


def run_frame_cases(port, cases, timeout=5):
    """cases: (name, bytes sent after the handshake, expected close code).
    Each case on a fresh connection."""
    for name, data, want in cases:
        s, rd = open_ws(port)
        s.sendall(data)
        got = rd.close_code(timeout)
        check(name, got == want, "close %r, want %r" % (got, want))
        s.close()


def run_http_cases(port, cases, timeout=5):
    """cases: (name, request bytes, status, {header: value} that must be in
    the answer, body-check or None). Each on a fresh connection."""
    for name, raw, want, hdrs_want, body_ok in cases:
        st, hdrs, body, s = http(port, raw, timeout=timeout)
        s.close()
        bad = [k for k, v in hdrs_want.items() if hdrs.get(k, "").lower() != v.lower()]
        ok = st == want and not bad and (body_ok is None or body_ok(body))
        check(name, ok, "status %s (want %s), headers %s, body %r" % (st, want, hdrs, body[:120]))


def bystander_ok(s, rd, timeout=5):
    """A connection opened before the attacks still answers a ping."""
    s.sendall(frame(OP_PING, b"still-there"))
    return rd.until(OP_PONG, timeout) == b"still-there"


def done():
    """Exit 1 if any check failed (the shell also reads the FAIL lines)."""
    sys.stdout.flush()
    sys.exit(1 if wsclient._failed else 0)
