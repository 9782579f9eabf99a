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

# A line of a request type from an acknowledged publisher is answered, never
# published, and its pseq could not be acknowledged: refused, and since acks
# are cumulative the next line's ack must not cover it. wsbridge-pub says so
# and exits 75 at once, naming the line (it exited 0 with it lost).
"$WSB_BIN/wsbridge-sub" --url "$WS_URL?type=line" --count 1 --timeout 20 >"$T/lines" 2>"$T/lines.err" &
SUB=$!
track $SUB
poll 10 sh -c "curl -s '$HTTP_URL/health' | grep -q '\"subscribers\":[1-9]'"
printf '%s\n' '{"type":"line","n":1}' '{"type":"get_positions"}' '{"type":"line","n":3}' |
	timeout 20 "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --linger 10 2>"$T/pub.err"
check_eq "a request-type line from pub: exit 75, not 0" "$?" 75
check "... naming the refusal and the line ($(tail -1 "$T/pub.err"))" \
	grep -q 'refused a message (INVALID_MESSAGE): a control message .*not acknowledged, first: stdin:2' "$T/pub.err"
wait_pid $SUB 10
check "the line before it was delivered, and only it" test "$(grep -c '"n":' "$T/lines")" = 1 -a -n "$(grep '"n":1' "$T/lines")"
stop $SERVE_PID
finish
