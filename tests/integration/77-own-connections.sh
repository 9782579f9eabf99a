#!/usr/bin/env bash
# Our own connections (lib/wsserver_own.c: plain WebSocket connections taken
# from lws after the upgrade, read and written with epoll), attacked where
# lws used to stand:
# (a) control frames one byte per packet: a 125-byte ping gets its pong, a
#     close split the same way is echoed (code and reason) and the server
#     then closes the socket; a close reason that is not UTF-8 gets 1007;
# (b) a ping whose header claims 2^40 bytes closes 1002 at once, and the
#     server does not wait for (or keep) what it claimed;
# (c) a client that sends 20 000 pings and reads nothing while a publisher
#     fills its socket: the server keeps one pong, not 20 000 (RSS bounded),
#     and answers the latest once the client reads;
# (d) a reader that stops with bytes kept for it and then resets the
#     connection (RST): dropped, the broker goes on, nobody else loses a
#     message;
# (e) a slow consumer closed with 4008 that never reads (its close frame
#     stuck behind kept bytes) is dropped within the close grace (10 s);
# (f) a message and a ping in the upgrade request's packet (that connection
#     stays lws's): the message is delivered and the ping answered;
# (g) 300 connections opened and ended every way (close, RST, half-close,
#     mid-frame) while a subscriber receives 3 000 messages: it gets all of
#     them in order, and the connection count returns to what it was;
# (h) a browser whose token is refused (closed 1008 at once) and which
#     answers the close, having sent a message first: the server reads its
#     answer and ends the connection cleanly (EOF, not a reset, which would
#     make a browser report 1006 instead of 1008).
. "$(dirname "$0")/../lib.sh"
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status"; }

start_serve --max-queue 32M || { fail "serve starts"; finish; }

pyrun 90 - "$PORT" "$SERVE_PID" "$HTTP_URL" <<'PY'
import json, os, socket, struct, sys, time, urllib.request
from wsclient import check
from rawws import *

port, spid, http_url = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
# KB; one pong per ping would be 2.5 MB. Under ASan freed memory sits in
# its quarantine, so RSS says nothing there: the pong count still does.
lim = 512 if os.environ.get("WSB_SAN") != "1" else 1 << 30

def rss_kb():
    with open("/proc/%d/status" % spid) as f:
        for l in f:
            if l.startswith("VmRSS:"):
                return int(l.split()[1])

def health():
    with urllib.request.urlopen(http_url + "/health", timeout=5) as r:
        return json.loads(r.read())

def conns_settle(want, secs):
    deadline = time.monotonic() + secs
    n = None
    while time.monotonic() < deadline:
        n = health()["active_connections"]
        if n == want:
            return n
        time.sleep(0.05)
    return n

def greeted(s, rd):
    return rd.until(OP_TEXT) is not None

def trickle(s, data):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for b in data:
        s.sendall(bytes([b]))
        time.sleep(0.002)       # one byte per packet: the attack itself

def publish(s, typ, n, size=200):
    pad = "x" * size
    for i in range(n):
        s.sendall(frame(OP_TEXT, json.dumps({"type": typ, "data": {"i": i, "pad": pad}}).encode()))

base = health()["active_connections"]

# (a)
s, rd = open_ws(port); greeted(s, rd)
trickle(s, frame(OP_PING, bytes(range(125))))
check("(a) a 125-byte ping sent a byte per packet gets its pong", rd.until(OP_PONG) == bytes(range(125)))
trickle(s, frame(OP_CLOSE, close_payload(4001, b"bye now")))
p = rd.until(OP_CLOSE)
check("(a) a close sent a byte per packet is echoed, code and reason", p == close_payload(4001, b"bye now"), p)
s.settimeout(5)
try:
    end = s.recv(1)
except OSError:
    end = b""
check("(a) …and the server then closes the socket", end == b"", end)
s.close()
s, rd = open_ws(port); greeted(s, rd)
s.sendall(frame(OP_CLOSE, close_payload(1000, b"caf\xc3")))
code = rd.close_code()
check("(a) a close whose reason is not UTF-8 gets 1007", code == 1007, code)
s.close()

# (b)
s, rd = open_ws(port); greeted(s, rd)
r0 = rss_kb()
s.sendall(struct.pack("!BBQ", 0x89, 0xFF, 1 << 40) + b"\1\2\3\4" + b"x" * 65536)
t0 = time.monotonic()
code = rd.close_code(5)
check("(b) a ping claiming 2^40 bytes closes 1002", code == 1002, code)
check("(b) …at once (%.2fs)" % (time.monotonic() - t0), time.monotonic() - t0 < 2)
check("(b) …keeping nothing of it (RSS +%d KB)" % (rss_kb() - r0), rss_kb() - r0 < 4096)
s.close()

# (c)
sub = socket.create_connection(("127.0.0.1", port))
sub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
sub.sendall(upgrade_request(port, path="/ws?type=flood"))
st, _, rest = read_head(sub, time.monotonic() + 5)
srd = Reader(sub, rest)
check("(c) the pinger is in", st == 101 and srd.until(OP_TEXT) is not None, st)
pub, prd = open_ws(port); greeted(pub, prd)
publish(pub, "flood", 20000, 400)          # 9 MB: its socket fills, bytes are kept for it
pub.sendall(frame(OP_PING, b"sync"))
prd.until(OP_PONG)                          # the broker has read the 3000
r0 = rss_kb()
pad = b"." * 119
pings = b"".join(frame(OP_PING, b"p%05d" % i + pad) for i in range(20000))
sub.sendall(pings)
# the server has read them all once a ping sent after them is answered to a
# second connection's probe: it reads in order, one connection at a time
probe, prd2 = open_ws(port); greeted(probe, prd2)
probe.sendall(frame(OP_PING, b"probe"))
check("(c) the broker still answers others", prd2.until(OP_PONG) == b"probe")
grown = rss_kb() - r0
check("(c) 20 000 pings of 125 B to a client that reads nothing: RSS +%d KB (< %d KB)" % (grown, lim), grown < lim)
last, seen = None, 0
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    f = srd.frame(10)
    if f is None:
        break
    if f[1] == OP_PONG:
        seen += 1
        last = f[2][:6]
    if last == b"p19999":
        break
check("(c) once it reads, the latest ping is answered (%d pongs, last %r)" % (seen, last), last == b"p19999")
check("(c) …not one pong per ping", seen < 20000, seen)
sub.close(); probe.close()

# (d) and the bystander of (g)
watch, wrd = open_ws(port, path="/ws?type=seq"); greeted(watch, wrd)
slow = socket.create_connection(("127.0.0.1", port))
slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
slow.sendall(upgrade_request(port, path="/ws?type=flood"))
st, _, _ = read_head(slow, time.monotonic() + 5)
publish(pub, "flood", 2000, 400)
slow.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
slow.close()                                # RST, with bytes kept for it
pub.sendall(frame(OP_TEXT, b'{"type":"seq","data":{"i":-1}}'))
m = wrd.until(OP_TEXT)
check("(d) after a reset with kept bytes the broker goes on", m is not None and b'"i":-1' in m, m)

# (f)
s = connect(port)
s.sendall(upgrade_request(port) + frame(OP_TEXT, b'{"type":"seq","data":{"i":-2}}') + frame(OP_PING, b"early"))
st, _, rest = read_head(s, time.monotonic() + 5)
rdf = Reader(s, rest)
check("(f) frames in the upgrade's packet: the ping is answered", st == 101 and rdf.until(OP_PONG) == b"early", st)
m = wrd.until(OP_TEXT)
check("(f) …and the message delivered", m is not None and b'"i":-2' in m, m)
s.close()

# (g)
endings = []
for i in range(300):
    c = connect(port)
    c.sendall(upgrade_request(port))
    endings.append(c)
    if i % 10 == 0:
        pub.sendall(frame(OP_TEXT, json.dumps({"type": "seq", "data": {"i": i // 10}}).encode()))
for i, c in enumerate(endings):
    k = i % 5
    try:
        if k == 0:
            c.sendall(frame(OP_CLOSE, close_payload(1000)))
        elif k == 1:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif k == 2:
            c.shutdown(socket.SHUT_WR)
        elif k == 3:
            c.sendall(frame(OP_TEXT, b'{"type":"half', fin=False)[:9])
    except OSError:
        pass
    c.close()
for i in range(30, 3000):
    pub.sendall(frame(OP_TEXT, json.dumps({"type": "seq", "data": {"i": i}}).encode()))
got = []
while len(got) < 3000:
    m = wrd.until(OP_TEXT, 10)
    if m is None:
        break
    got.append(json.loads(m)["data"]["i"])
check("(g) 300 connections ended every way: the subscriber got 3000 of 3000 in order (%d)" % len(got),
      got == list(range(3000)))
pub.close(); watch.close()
n = conns_settle(base, 15)
check("(g) …and the connection count is back to %d (%s)" % (base, n), n == base)
done()
PY

# (e) a slow consumer that never reads: 4008, and dropped within the grace
stop $SERVE_PID
start_serve --max-queue 2M || { fail "serve starts again"; finish; }
pyrun 40 - "$PORT" "$HTTP_URL" <<'PY'
import json, socket, sys, time, urllib.request
from wsclient import check
from rawws import *
port, http_url = int(sys.argv[1]), sys.argv[2]
def health():
    with urllib.request.urlopen(http_url + "/health", timeout=5) as r:
        return json.loads(r.read())
base = health()["active_connections"] + 1     # the publisher stays
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(upgrade_request(port, path="/ws?type=big"))
st, _, _ = read_head(s, time.monotonic() + 5)
pub, rd = open_ws(port); rd.until(OP_TEXT)
pad = "y" * 4000
for i in range(1500):                       # 6 MB for a 2 MB --max-queue
    pub.sendall(frame(OP_TEXT, json.dumps({"type": "big", "data": {"i": i, "pad": pad}}).encode()))
t0 = time.monotonic()
n = None
while time.monotonic() - t0 < 16:
    n = health()["active_connections"]
    if n == base:
        break
    time.sleep(0.2)
took = time.monotonic() - t0
check("(e) a slow consumer that never reads its close is dropped (%.1fs, %s connections)" % (took, n), n == base)
check("(e) …within the 10 s grace", took < 13)
pub.close(); s.close()
done()
PY

# (h)
stop $SERVE_PID
start_serve --token s3cret || { fail "serve starts with a token"; finish; }
pyrun 20 - "$PORT" <<'PY'
import socket, sys, time
from wsclient import check
from rawws import *
port = int(sys.argv[1])
for q, why in (("?token=wrong", b"Invalid token"), ("", b"Authentication required")):
    s, st, _, rest = handshake(port, path="/ws" + q, origin="http://127.0.0.1:%d" % port)
    rd = Reader(s, rest)
    s.sendall(frame(OP_TEXT, b'{"type":"hello"}'))     # as a page's onopen might
    p = rd.until(OP_CLOSE)
    check("(h) a browser with %s: 101, then close 1008 %r" % (q or "no token", why),
          st == 101 and p == close_payload(1008, why), (st, p))
    s.sendall(frame(OP_CLOSE, close_payload(1000)))
    s.settimeout(5)
    try:
        end = s.recv(100)
    except ConnectionResetError:
        end = "reset"
    except socket.timeout:
        end = "timeout"
    check("(h) …its close answered, the server ends cleanly (EOF, not a reset)", end == b"", end)
    s.close()
done()
PY

check "/health answers after the attacks" wcurl -sf -o /dev/null "$HTTP_URL/health"
stop $SERVE_PID
check_eq "serve exits 0 on SIGTERM" "$RC" 0
finish
