#!/usr/bin/env bash
# The server's receive path (issue 12: lib/wssrx.c through lwsio): data
# frames are parsed in bulk from one shared read buffer, so lws's own
# buffer per connection is 128 bytes, not 64 KiB:
# (a) 1000 idle connections cost the server at most 3 000 B of RSS each
#     (8 500 when each held a 64 KiB buffer's page, 3 800 before the
#     idle session lost its queue slots and producer part, 3 250 while lws
#     kept every connection: 2 400 now; 1 414 at 10 000 in make bench);
# (b) one write of 300 pings of 100 bytes between 500 messages: lws's small
#     buffer fills, the rest is held and read again; every message arrives
#     in order, pongs carry their pings' payloads in order (lws answers one
#     of several pending, as RFC 6455 allows) and a later ping is answered;
# (c) under --rate-policy pause one write of 100 messages, then silence:
#     the publisher is paused mid-read and what was read stays held, yet
#     all 100 arrive in order (nothing on the socket wakes the server for
#     them: it reads the connection again itself when the pause ends);
# (d) a message split between the upgrade request's packet (which lws
#     parses) and a later read, then one of ours: both, in order;
# (e) text that is not UTF-8 closes 1007, binary 1003, RSV1 without
#     permessage-deflate 1002; a 1 MiB message passes whole.
. "$(dirname "$0")/../lib.sh"
per_conn_lim=3000; [ "${WSB_SAN:-}" = 1 ] && per_conn_lim=$((per_conn_lim * 6))
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status"; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null

# (a)
start_serve --max-message 2M || { fail "serve starts"; finish; }
before=$(rss_kb "$SERVE_PID")
"$WSB_TESTBIN/tools/wsb-load" idle --url "$WS_URL" --subs 1000 --timeout 60 >"$T/idle.out" 2>"$T/idle.err" &
LOAD=$!; track $LOAD
if poll 60 grep -q '^ready' "$T/idle.out"; then
	after=$(rss_kb "$SERVE_PID")
	per=$(((after - before) * 1024 / 1000))
	check "1000 idle connections: ${per} B of server RSS each (<= $per_conn_lim)" test "$per" -le "$per_conn_lim"
else
	fail "1000 idle connections open" "$(tail -c 300 "$T/idle.err")"
fi
stop $LOAD

# (b), (d), (e) on the same broker
pyrun 60 - "$PORT" <<'PY'
import asyncio, json, os, struct, sys, time
from wsclient import *
import rawws
from rawws import open_ws, frame, upgrade_request, read_head, OP_TEXT, OP_PING, OP_PONG, OP_CONT, OP_BINARY
port = int(sys.argv[1])

async def collect(ws, n, timeout=30):
    got = []
    while len(got) < n:
        m = await recv_json(ws, timeout)
        if m.get("type") in ("rx", "up", "big"):
            got.append(m)
    return got

async def main(port):
    port = int(port)
    sub = await connect(url(port, "type=rx&type=up&type=big"))
    await recv_json(sub)
    await asyncio.sleep(0)

    # (b) pings and messages in one write
    s, rd = open_ws(port)
    rd.frame()                                   # the greeting
    out, pings = b"", []
    for i in range(500):
        out += frame(OP_TEXT, json.dumps({"type": "rx", "data": i}).encode())
        if i % 5 == 0 and len(pings) < 300:
            for _ in range(3):
                p = ("%03d" % len(pings)).encode() * 33 + b"!"
                pings.append(p)
                out += frame(OP_PING, p)
    s.sendall(out)
    got = await collect(sub, 500)
    check("500 messages with 300 pings of 100 bytes between them, in one write: all, in order",
          [m["data"] for m in got] == list(range(500)), [m["data"] for m in got][:10])
    # RFC 6455 §5.5.3: one pong may answer several pings (lws skips those
    # that come while one is pending), so: pings' payloads, in order, and
    # then a ping on its own is answered.
    time.sleep(0.5)
    s.sendall(frame(OP_PING, b"last"))
    pongs = []
    deadline = time.monotonic() + 20
    while (not pongs or pongs[-1] != b"last") and time.monotonic() < deadline:
        f = rd.frame(max(0.1, deadline - time.monotonic()))
        if f is None:
            break
        if f[1] == OP_PONG:
            pongs.append(f[2])
    idx = [pings.index(p) if p in pings else -1 for p in pongs[:-1]]
    check("... pongs carry their pings' payloads, in order (%d), and a later ping is answered" % len(idx),
          pongs and pongs[-1] == b"last" and idx == sorted(set(idx)) and -1 not in idx, pongs[-3:])

    # (d) a message begun in the upgrade request's packet
    c = rawws.connect(port)
    c.sendall(upgrade_request(port) + frame(OP_TEXT, b'{"type":"up","data":"a', fin=False))
    st, hdrs, rest = read_head(c, time.monotonic() + 5)
    check("upgrade with a first fragment answered 101", st == 101, st)
    c.sendall(frame(OP_CONT, b'b"}') + frame(OP_TEXT, b'{"type":"up","data":"c"}'))
    got = await collect(sub, 2)
    check("the message lws began, then ours, in order", [m["data"] for m in got] == ["ab", "c"], got)

    # (e) a 1 MiB message, then the rules
    big = json.dumps({"type": "big", "data": "x" * (1 << 20)}).encode()
    s.sendall(frame(OP_TEXT, big))
    got = await collect(sub, 1)
    check("a 1 MiB message passes whole", len(got[0]["data"]) == 1 << 20, len(got[0]["data"]))
    for name, data, want in [("text that is not UTF-8", frame(OP_TEXT, b'{"type":"rx","data":"\xff"}'), 1007),
                             ("a binary frame", frame(OP_BINARY, b'{}'), 1003),
                             ("RSV1 without permessage-deflate", frame(OP_TEXT, b'{}', rsv=4), 1002)]:
        t, trd = open_ws(port)
        trd.frame()
        t.sendall(data)
        code = trd.close_code(10)
        check("%s closes %d" % (name, want), code == want, code)
        t.close()
    s.close()
    c.close()

run(main)
PY
stop $SERVE_PID

# (c) paused mid-read, then silence
start_serve --rate 200/s --burst 5 --rate-policy pause || { fail "serve --rate-policy pause starts"; finish; }
pyrun 60 - "$PORT" <<'PY'
import asyncio, json, sys, time
from wsclient import *
from rawws import open_ws, frame, OP_TEXT
port = int(sys.argv[1])

async def main(port):
    port = int(port)
    sub = await connect(url(port, "type=p"))
    await recv_json(sub)
    s, rd = open_ws(port)
    rd.frame()
    s.sendall(b"".join(frame(OP_TEXT, json.dumps({"type": "p", "data": i}).encode()) for i in range(100)))
    got = []
    try:
        while len(got) < 100:
            m = await recv_json(sub, 20)
            if m.get("type") == "p":
                got.append(m["data"])
    except Exception as e:
        pass
    check("100 messages in one write, paused mid-read, then silence: all arrive in order",
          got == list(range(100)), "%d: %s" % (len(got), got[-5:]))
    s.close()

run(main)
PY
stop $SERVE_PID
finish
