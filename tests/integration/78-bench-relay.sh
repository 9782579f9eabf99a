#!/usr/bin/env bash
# make bench's latency floor (tests/bench/relay): the bare relay that runs
# beside wsbridge-serve in the same minutes must deliver what the broker
# does, or its p99 would be the floor of something easier. Checked here:
# wsb-load's paced run through it loses and reorders nothing; a client we
# did not write (Python websockets, which checks the accept key) completes
# the upgrade and gets the greeting; a subscriber that stops reading while
# 60 000 messages flow gets every one, in order, once it reads again (the
# kept bytes under EPOLLOUT); a hostile peer (no key, unmasked frames, a
# close) is dropped without taking the others with it.
. "$(dirname "$0")/../lib.sh"

RELAY=$WSB_TESTBIN/bench/relay
"$RELAY" 2>"$T/relay.err" &
RPID=$!
track $RPID
poll 10 grep -q 'listening on' "$T/relay.err" || { fail "relay starts" "$(cat "$T/relay.err")"; finish; }
RPORT=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$T/relay.err")

line=$(timeout 70 "$WSB_TESTBIN/tools/wsb-load" fanout --url "ws://127.0.0.1:$RPORT/ws" --subs 20 --messages 2000 \
	--size 200 --rate 5000 --timeout 60 --cpu-pid $RPID 2>"$T/load.err")
get() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
check "paced run through the relay: 40 000 deliveries, no loss, in order ($line $(head -c 300 "$T/load.err"))" \
	test "$(get loss)" = 0 -a "$(get out_of_order)" = 0 -a "$(get deliveries)" = 40000
check "the relay's CPU is measured (server_cpu_s=$(get server_cpu_s))" test -n "$(get server_cpu_s)"

pyrun 60 - "$RPORT" <<'EOF'
import asyncio, socket, struct, sys, time
import websockets
from rawws import *

port = int(sys.argv[1])


async def greeted():
    async with websockets.connect("ws://127.0.0.1:%d/ws?type=x" % port) as ws:
        return await asyncio.wait_for(ws.recv(), 5)
check("Python websockets: upgrade accepted, greeting", "connection_established" in asyncio.run(greeted()))

# A subscriber that reads nothing while the publisher sends 60 000
# messages (10 MB: more than the kernel holds for it, the relay's send
# buffer growing to tcp_wmem's 4 MB at most and its own 64 KiB), then
# reads them all.
slow = connect(port)
slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
slow.sendall(upgrade_request(port, path="/ws?type=x"))
st, _, rest = read_head(slow, time.monotonic() + 5)
rd = Reader(slow, rest)
check("slow subscriber upgraded", st == 101 and b"connection_established" in rd.until(OP_TEXT))
pub, prd = open_ws(port)
check("publisher greeted", b"connection_established" in prd.until(OP_TEXT))
N = 60000
batch = b"".join(frame(OP_TEXT, b'{"type":"x","i":%d,"pad":"%s"}' % (i, b"y" * 150)) for i in range(N))
pub.sendall(batch)
got, want = 0, 0
while got < N:
    f = rd.frame(10)
    if f is None:
        break
    if f[1] == OP_TEXT and b'"i":%d,' % want in f[2]:
        want += 1
    got += 1
check("the slow subscriber gets all %d, in order (got %d, in order %d)" % (N, got, want), got == N and want == N)

# Hostile peers: each is dropped; the publisher and subscriber above still work.
raw = connect(port)
raw.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n")
raw.settimeout(5)
check("no Sec-WebSocket-Key: closed", raw.recv(100) == b"")
evil, erd = open_ws(port)
erd.until(OP_TEXT)
evil.sendall(frame(OP_TEXT, b'{"type":"x"}', mask=False))
check("unmasked frame: closed", erd.frame(5) is None)
pub.sendall(frame(OP_TEXT, b'{"type":"x","i":"after"}'))
f = rd.frame(5)
check("after the hostile peers the subscriber still gets the publisher's next", f is not None and b"after" in f[2])
pub.sendall(frame(OP_CLOSE, close_payload(1000)))
check("publisher's close: dropped", prd.frame(5) is None)
done()
EOF
check "the relay is still running" kill -0 $RPID
stop $RPID
finish
