#!/usr/bin/env bash
# Issue 9, item 5: an application publishes {"type":"error",...} as the old
# servers broadcast it to dashboards; it is delivered (with a seq), and
# wsbridge-sub prints it as data, while the broker's own errors (no seq,
# data.source "wsbridge") stay its replies.
. "$(dirname "$0")/../lib.sh"

start_serve || { fail "serve starts"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --count 2 --timeout 30 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub subscribes"
pyrun 60 - "$PORT" <<'PYEOF'
import asyncio, json, websockets
from wsclient import check, run

ERR = {"type": "error", "data": {"code": "CONNECTION_ERROR", "message": "feed down", "details": {}}}

async def main(port):
    u = "ws://127.0.0.1:%s/ws" % port
    async with websockets.connect(u) as backend, websockets.connect(u) as dash:
        for ws in (backend, dash):
            json.loads(await ws.recv())
        await backend.send(json.dumps(ERR))
        m = json.loads(await asyncio.wait_for(dash.recv(), 10))
        check("the application's error reaches a dashboard",
              m.get("type") == "error" and m.get("data") == ERR["data"] and isinstance(m.get("seq"), int), m)
        await backend.send(json.dumps({"type": "connection_established"}))
        r = json.loads(await asyncio.wait_for(backend.recv(), 10))
        check("the broker's own error has no seq and source wsbridge",
              r.get("type") == "error" and "seq" not in r and r["data"].get("source") == "wsbridge"
              and r["data"].get("code") == "INVALID_MESSAGE", r)
        await backend.send(json.dumps({"type": "after"}))
        m = json.loads(await asyncio.wait_for(dash.recv(), 10))
        check("and it reached nobody else", m.get("type") == "after", m)

run(main)
PYEOF
wait_pid $SUB 20
check_eq "wsbridge-sub exits 0 after 2 messages" "$RC" 0
check_eq "wsbridge-sub printed the application's error as a message" \
	"$(jq -c '[.type, .data.code]' "$T/sub.out" | tr '\n' ' ')" '["error","CONNECTION_ERROR"] ["after",null] '
stop $SERVE_PID
finish
