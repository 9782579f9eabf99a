#!/usr/bin/env bash
# Issue 9, item 3: under --browsers-read-only, and by default when a token is
# required, a connection with an Origin header (a browser page) may not
# publish: error FORBIDDEN, nothing delivered. Tools (no Origin) publish as
# before; --browsers-may-publish lifts the default.
. "$(dirname "$0")/../lib.sh"

old_dash() {	# PORT TOKEN MODE: a dashboard sends an order; what happens
pyrun 40 - "$@" <<'PYEOF'
import asyncio, json, sys, websockets
from wsclient import check, run

async def main(port, token, mode):
    u = "ws://127.0.0.1:%s/ws?token=%s" % (port, token)
    origin = "http://127.0.0.1:%s" % port        # the broker's own page's origin
    async with websockets.connect(u, origin=origin) as page, websockets.connect(u) as other:
        for ws in (page, other):
            json.loads(await ws.recv())
        await page.send(json.dumps({"type": "order", "data": {"id": "abc123", "qty": 100}}))
        await page.send(json.dumps({"type": "ping"}))
        r = json.loads(await asyncio.wait_for(page.recv(), 10))
        if mode == "refused":
            check("a browser's order is refused with FORBIDDEN",
                  r.get("type") == "error" and r["data"].get("code") == "FORBIDDEN" and "seq" not in r, r)
            r = json.loads(await asyncio.wait_for(page.recv(), 10))
            check("its ping still works", r.get("type") == "pong", r)
            async with websockets.connect(u) as tool:     # no Origin: a tool
                json.loads(await tool.recv())
                await tool.send(json.dumps({"type": "after"}))
                m = json.loads(await asyncio.wait_for(other.recv(), 10))
                check("the order reached nobody (the next message is the next publication)",
                      m.get("type") == "after", m)
        else:
            check("a browser may publish here", r.get("type") == "pong", r)
            m = json.loads(await asyncio.wait_for(other.recv(), 10))
            check("and its order is delivered", m.get("type") == "order", m)

run(main)
PYEOF
}

start_serve --token tok || { fail "serve starts"; finish; }
old_dash "$PORT" tok refused
echo '{"type":"order","data":{"from":"a tool"}}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --token tok
check_eq "a tool (no Origin) still publishes" "$(health_field messages_in)" 2
stop $SERVE_PID

PORT=; start_serve --browsers-read-only || { fail "serve starts"; finish; }
old_dash "$PORT" "" refused
stop $SERVE_PID

PORT=; start_serve --token tok --browsers-may-publish || { fail "serve starts"; finish; }
old_dash "$PORT" tok allowed
stop $SERVE_PID
finish
