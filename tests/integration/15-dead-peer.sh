#!/usr/bin/env bash
# WebSocket pings keep idle connections alive and close dead ones: with
# --ping-interval 1 a peer that never answers is closed after 2 missed
# intervals, while a live idle client (Python websockets answers pings by
# itself) stays connected.
. "$(dirname "$0")/../lib.sh"

start_serve --ping-interval 1 || { fail "serve starts"; finish; }

timeout 30 $PY "$(dirname "$0")/deadpeer.py" "$PORT" >"$T/dead.out" 2>&1 &
DEAD=$!; track $DEAD
cat >"$T/live.py" <<PYEOF
import asyncio, json, websockets
async def main():
    async with websockets.connect("$WS_URL") as ws:
        json.loads(await ws.recv())
        await asyncio.sleep(5)              # idle for 5 ping intervals
        await ws.send(json.dumps({"type": "ping"}))
        while json.loads(await ws.recv())["type"] != "pong":
            pass
        print("live client still connected after 5 s")
asyncio.run(main())
PYEOF
timeout 30 $PY "$T/live.py" >"$T/live.out" 2>&1 &
LIVE=$!; track $LIVE

wait_pid $DEAD 20
check "the silent peer was pinged" grep -q 'got pings: [1-9]' "$T/dead.out"
secs=$(sed -n 's/closed by server after \([0-9.]*\)s/\1/p' "$T/dead.out")
check "the silent peer is closed by the server" test -n "$secs"
check "…after 2 missed intervals (2-5 s), not at once" awk -v s="${secs:-0}" 'BEGIN { exit !(s >= 2 && s <= 5) }'
wait_pid $LIVE 20
check_eq "a live idle client is kept" "$RC" 0
check "…and still answered after 5 s" grep -q 'still connected' "$T/live.out"
stop $SERVE_PID
finish
