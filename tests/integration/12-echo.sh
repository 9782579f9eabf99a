#!/usr/bin/env bash
# A publisher does not receive its own messages back unless it connected
# with ?echo=1; everyone else does.
. "$(dirname "$0")/../lib.sh"

start_serve || { fail "serve starts"; finish; }
pyrun 30 - "$PORT" <<'PYEOF'
from wsclient import *

async def main(port):
    plain = await connect(url(port))
    await hello(plain)
    echo = await connect(url(port, "echo=1"))
    await hello(echo)
    other = await connect(url(port))
    await hello(other)

    await plain.send(json.dumps({"type": "note", "data": "from plain"}))
    await echo.send(json.dumps({"type": "note", "data": "from echo"}))
    await other.send(json.dumps({"type": "note", "data": "from other"}))
    # A second message from each, so that every connection has more to see.
    for ws, who in ((plain, "plain"), (echo, "echo"), (other, "other")):
        await ws.send(json.dumps({"type": "note", "data": "end " + who}))

    async def collect(ws, n):
        got = []
        while len(got) < n:
            got.append((await recv_json(ws))["data"])
        return got

    # plain sees the 4 messages of echo and other; echo all 6; other the 4 of plain and echo.
    p = await collect(plain, 4)
    e = await collect(echo, 6)
    o = await collect(other, 4)
    check("without ?echo=1 a publisher does not get its own messages",
          sorted(p) == sorted(["from echo", "from other", "end echo", "end other"]), p)
    check("with ?echo=1 a publisher gets its own messages too",
          sorted(e) == sorted(["from plain", "from echo", "from other", "end plain", "end echo", "end other"]), e)
    check("others get everyone else's messages",
          sorted(o) == sorted(["from plain", "from echo", "end plain", "end echo"]), o)
    # nothing more is pending anywhere
    await plain.send(json.dumps({"type": "ping"}))
    m = await recv_json(plain)
    check("no own message arrives later (next is pong)", m.get("type") == "pong", m)
    for ws in (plain, echo, other):
        await ws.close()

run(main)
PYEOF

# wsbridge-sub --echo is the client-side spelling of the same thing: a sub
# publishes nothing, so just check that it connects and works with it.
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --echo --count 1 --timeout 10 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub --echo subscribes"
echo '{"type":"x"}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --echo
check_eq "pub --echo exits 0" "$?" 0
wait_pid $SUB 10
check_eq "sub --echo gets messages" "$RC" 0
stop $SERVE_PID
check_eq "serve exits 0 on SIGTERM" "$RC" 0
finish
