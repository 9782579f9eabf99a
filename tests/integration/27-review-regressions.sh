#!/usr/bin/env bash
# Regressions from review: each check failed before its fix.
. "$(dirname "$0")/../lib.sh"

TOKEN=$(printf 'k%.0s' $(seq 300))
start_serve --journal "$T/j" --snapshot-key .data.symbol --max-message 64k --token "$TOKEN" ||
	{ fail "serve starts"; finish; }
export WSBRIDGE_TOKEN=$TOKEN

# A token longer than 256 bytes used to end query parsing: type= after it
# was ignored and the dashboard got everything.
cat >"$T/dash.py" <<PYEOF
import asyncio, json, websockets
async def main():
    async with websockets.connect("$WS_URL?token=$TOKEN&type=a") as ws:
        json.loads(await ws.recv())
        print("READY", flush=True)
        m = json.loads(await asyncio.wait_for(ws.recv(), 20))
        print("GOT", m["type"], flush=True)
asyncio.run(main())
PYEOF
timeout 30 $PY "$T/dash.py" >"$T/dash.out" 2>&1 &
DASH=$!; track $DASH
poll 10 grep -q READY "$T/dash.out" || fail "dashboard connects"
printf '%s\n' '{"type":"b","data":1}' '{"type":"a","data":2}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL"
wait_pid $DASH 20
check "type= after a 300-byte token still filters" grep -q 'GOT a' "$T/dash.out"

"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --type r --count 7 --timeout 30 >"$T/r.out" 2>"$T/r.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub subscribes"

# Pretty-printed input shrunk after parsing used the freed buffer for the
# journal and the snapshot key (ASan: heap-use-after-free).
{ printf '{"type":"r","data":{"symbol":"X","n":1}'; printf '%2000s' ''; printf '}\n'; } |
	"$WSB_BIN/wsbridge-pub" --url "$WS_URL"
check_eq "a message with 2000 bytes of white space is accepted" "$?" 0

# The same --producer in two runs: the second run's lines were taken for
# resends of the first's and dropped.
printf '{"type":"r","data":{"run":1,"n":%d}}\n' 1 2 | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --producer feed
printf '{"type":"r","data":{"run":2,"n":%d}}\n' 1 2 3 | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --producer feed
check_eq "second run with the same --producer exits 0" "$?" 0

# producer/pseq in a plain client's message are data, not dedup keys.
cat >"$T/plain.py" <<PYEOF
import asyncio, json, websockets
async def main():
    async with websockets.connect("$WS_URL?token=$TOKEN&subscribe=none") as ws:
        json.loads(await ws.recv())
        await ws.send(json.dumps({"type": "r", "data": {"plain": 1}, "producer": "feed", "pseq": 1}))
        await ws.send(json.dumps({"type": "ping"}))
        m = json.loads(await asyncio.wait_for(ws.recv(), 10))
        print("FIRST", m["type"], flush=True)
asyncio.run(main())
PYEOF
timeout 20 $PY "$T/plain.py" >"$T/plain.out" 2>&1
check "a plain client gets no ack for a producer it did not declare" grep -q 'FIRST pong' "$T/plain.out"

wait_pid $SUB 30
check_eq "sub got all 7 r messages" "$RC" 0
check_eq "…the compacted one, both runs, the plain one" \
	"$(jq -c '.data | [.symbol, .run, .n, .plain]' "$T/r.out" | tr '\n' ' ')" \
	'["X",null,1,null] [null,1,1,null] [null,1,2,null] [null,2,1,null] [null,2,2,null] [null,2,3,null] [null,null,null,1] '

# 1009 used to make pub reconnect and resend the same line forever. Now pub
# learns the broker's --max-message from its greeting: a bigger line is
# skipped and reported like an invalid one (exit 0), or ends the run with 65
# under --strict; never a loop.
{ printf '{"type":"big","data":"'; head -c 70000 /dev/zero | tr '\0' x; printf '"}\n'; } >"$T/big.in"
timeout 20 "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --retry-min 0.05 <"$T/big.in" 2>"$T/big.err"
check_eq "pub skips a line bigger than the broker's --max-message (exit 0)" "$?" 0
check "…and says which line" grep -q 'stdin:1' "$T/big.err"
timeout 20 "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --retry-min 0.05 --strict <"$T/big.in" 2>"$T/big2.err"
check_eq "pub --strict exits 65 on it" "$?" 65
check "…and says which line" grep -q 'stdin:1' "$T/big2.err"

# --drop-oldest drops only while the broker is away, never when connected.
seq 50000 | sed 's/.*/{"type":"q","data":&}/' |
	"$WSB_BIN/wsbridge-pub" --url "$WS_URL" --queue 100 --drop-oldest 2>"$T/drop.err"
check_eq "--drop-oldest while connected exits 0 (nothing dropped)" "$?" 0
check "…and reports no drop" bash -c "! grep -q dropped '$T/drop.err'"
stop $SERVE_PID
finish
