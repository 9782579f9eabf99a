#!/usr/bin/env bash
# Issue 9, item 4: {"type":"subscribe","symbols":[...]} as the old
# dashboards send it. Only messages whose .data.symbol (--symbol-key) is in
# the set arrive, messages without a symbol still do; unsubscribe with
# symbols removes them; the answer is {"type":"subscribed","symbols":[...]}.
. "$(dirname "$0")/../lib.sh"

start_serve || { fail "serve starts"; finish; }
pyrun 60 - "$PORT" <<'PYEOF'
import asyncio, json, websockets
from wsclient import check, run

async def main(port):
    u = "ws://127.0.0.1:%s/ws" % port
    async with websockets.connect(u) as pub, websockets.connect(u) as dash:
        for ws in (pub, dash):
            json.loads(await ws.recv())
        await dash.send(json.dumps({"type": "subscribe", "symbols": ["AAPL"]}))
        m = json.loads(await asyncio.wait_for(dash.recv(), 10))
        check("subscribe symbols is answered with the set",
              m == {"type": "subscribed", "symbols": ["AAPL"]}, m)

        async def publish_all():
            for s in ("TSLA", "AAPL", None, "MSFT", "AAPL"):
                d = {"price": 1} if s is None else {"symbol": s, "price": 1}
                await pub.send(json.dumps({"type": "update", "data": d}))
            await pub.send(json.dumps({"type": "end"}))

        async def received():
            out = []
            while True:
                m = json.loads(await asyncio.wait_for(dash.recv(), 10))
                if m["type"] == "end":
                    return out
                out.append(m["data"].get("symbol"))

        await publish_all()
        got = await received()
        check("only AAPL and messages without a symbol arrive", got == ["AAPL", None, "AAPL"], got)

        await dash.send(json.dumps({"type": "subscribe", "symbols": ["MSFT"]}))
        m = json.loads(await asyncio.wait_for(dash.recv(), 10))
        check("a second subscribe adds", m.get("symbols") == ["AAPL", "MSFT"], m)
        await dash.send(json.dumps({"type": "unsubscribe", "symbols": ["AAPL"]}))
        m = json.loads(await asyncio.wait_for(dash.recv(), 10))
        check("unsubscribe symbols removes", m == {"type": "subscribed", "symbols": ["MSFT"]}, m)
        await publish_all()
        got = await received()
        check("then only MSFT (and no-symbol) arrive", got == [None, "MSFT"], got)

run(main)
PYEOF
stop $SERVE_PID
finish
