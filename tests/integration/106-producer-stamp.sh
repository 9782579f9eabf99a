#!/usr/bin/env bash
# Issue 9, item 7: the producer/pseq stamp of an acknowledged publisher
# (wsbridge-pub) reaches only clients that ask for it (stamp=1, as
# wsbridge-sub does); a plain client gets no "producer" field, live or from
# a snapshot. The journal keeps the stamp.
. "$(dirname "$0")/../lib.sh"

start_serve --journal "$T/j" || { fail "serve starts"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --count 1 --timeout 30 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
PYTHONPATH="$WSB_TESTS/integration" timeout -k 2 40 "$PY" - "$PORT" >"$T/plain.out" 2>&1 <<'PYEOF' &
import asyncio, json, sys, websockets

async def main(port):
    async with websockets.connect("ws://127.0.0.1:%s/ws" % port) as ws:
        json.loads(await ws.recv())
        print("ready", flush=True)
        print(await asyncio.wait_for(ws.recv(), 30), flush=True)
    async with websockets.connect("ws://127.0.0.1:%s/ws?snapshot=1" % port) as ws:
        json.loads(await ws.recv())
        print(await asyncio.wait_for(ws.recv(), 30), flush=True)

asyncio.run(main(sys.argv[1]))
PYEOF
PLAIN=$!; track $PLAIN
wait_subscribers 2 && poll 10 grep -q ready "$T/plain.out" || fail "subscribers connect"
echo '{"type":"order","data":{"id":"abc123"}}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --producer desk-7
wait_pid $PLAIN 30
check "a plain client gets the message" grep -q '"type":"order"' "$T/plain.out"
check "without producer or pseq, live and from the snapshot" \
	bash -c "[ \$(grep -c '\"order\"' '$T/plain.out') = 2 ] && ! grep -q '\"producer\"\|\"pseq\"' '$T/plain.out'"
wait_pid $SUB 20
check "wsbridge-sub (stamp=1) still gets the stamp" grep -q '"producer":"desk-7:[0-9a-f]*","pseq":1' "$T/sub.out"
check "the journal keeps it" bash -c "cat '$T'/j/*.ndjson | grep -q '\"producer\":\"desk-7:'"
stop $SERVE_PID
finish
