#!/usr/bin/env bash
# Issue 9, item 2: the old dashboards' requests. {"type":"get_state"} and
# {"type":"request_snapshot"} are answered with the snapshot (what
# ?snapshot=1 gives) and reach no other dashboard; {"type":"heartbeat"} is
# answered like ping; --request-type names more such types.
. "$(dirname "$0")/../lib.sh"

start_serve --request-type get_positions || { fail "serve starts"; finish; }
pyrun 60 - "$PORT" <<'PYEOF'
import asyncio, json, sys, websockets
from wsclient import check, run

async def main(port):
    u = "ws://127.0.0.1:%s/ws" % port
    # Dashboards as the old systems' documents write them: connect, read.
    async with websockets.connect(u) as pub, websockets.connect(u) as dash, \
               websockets.connect(u) as other:
        for ws in (pub, dash, other):
            json.loads(await ws.recv())                   # connection_established
        for m in ({"type": "tick", "data": {"symbol": "EURUSD", "bid": 1.085}},
                  {"type": "equity_update", "data": {"total_equity": "10000.00"}},
                  {"type": "tick", "data": {"symbol": "EURUSD", "bid": 1.086}}):
            await pub.send(json.dumps(m))
        for _ in range(3):
            await asyncio.wait_for(dash.recv(), 10)
            await asyncio.wait_for(other.recv(), 10)

        await dash.send(json.dumps({"type": "get_state"}))
        got = [json.loads(await asyncio.wait_for(dash.recv(), 10)) for _ in range(2)]
        check("get_state is answered with the latest message of each type",
              [m["type"] for m in got] == ["equity_update", "tick"] and got[1]["data"]["bid"] == 1.086, got)
        await dash.send(json.dumps({"type": "request_snapshot"}))
        got = [json.loads(await asyncio.wait_for(dash.recv(), 10)) for _ in range(2)]
        check("so is request_snapshot", [m["type"] for m in got] == ["equity_update", "tick"], got)
        await dash.send(json.dumps({"type": "get_positions"}))
        got = [json.loads(await asyncio.wait_for(dash.recv(), 10)) for _ in range(2)]
        check("and a --request-type", [m["type"] for m in got] == ["equity_update", "tick"], got)
        await dash.send(json.dumps({"type": "heartbeat"}))
        m = json.loads(await asyncio.wait_for(dash.recv(), 10))
        check("heartbeat is answered with pong", m.get("type") == "pong" and "seq" not in m, m)

        # The next thing the other dashboard sees is the next publication.
        await pub.send(json.dumps({"type": "tick", "data": {"bid": 2}}))
        m = json.loads(await asyncio.wait_for(other.recv(), 10))
        check("no request reached another dashboard", m.get("type") == "tick" and m["data"] == {"bid": 2}, m)

run(main)
PYEOF
check_eq "requests are not counted as published" "$(health_field messages_in)" 4
stop $SERVE_PID
finish
