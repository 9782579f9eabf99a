#!/usr/bin/env bash
# Issue 9, item 1: a bot written as the old systems' documents show it
# (websockets.connect(url), only send, never recv) publishes 200 market_data
# messages while 20 000 others flow to it. Its queue overflows (it reads
# nothing), yet every one of its 200 messages reaches a subscriber: a
# connection that publishes is unsubscribed, not closed. One that never
# published is still closed as a slow consumer (4008).
. "$(dirname "$0")/../lib.sh"
N=20000

start_serve --max-queue 256k --history 30000 || { fail "serve starts"; finish; }
pad=$(printf '%01000d' 0)
seq $N | sed "s/.*/{\"type\":\"tick\",\"data\":{\"n\":&,\"pad\":\"$pad\"}}/" >"$T/flood"
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --type market_data --count 200 --timeout 120 \
	>"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub subscribes"

# The bot: 10 messages, then (once the shell says its queue has overflowed)
# the other 190. It never reads; it reports what send() did.
PYTHONPATH="$WSB_TESTS/integration" timeout -k 2 120 "$PY" - "$PORT" "$T" >"$T/bot.out" 2>"$T/bot.err" <<'PYEOF' &
import asyncio, json, os, sys, websockets

port, d = sys.argv[1], sys.argv[2]

async def main():
    sent = 0
    try:
        async with websockets.connect("ws://127.0.0.1:%s/ws" % port) as ws:
            for i in range(200):
                if i == 10:
                    open(os.path.join(d, "bot.waiting"), "w").close()
                    for _ in range(1200):
                        if os.path.exists(os.path.join(d, "overflowed")):
                            break
                        await asyncio.sleep(0.05)
                await ws.send(json.dumps({"type": "market_data",
                                          "data": {"symbol": "BTC-USD", "price": 45000.0 + i, "i": i}}))
                sent += 1
                await asyncio.sleep(0.002)
    except Exception as e:
        print("send failed after %d: %r" % (sent, e))
    print("sent %d" % sent)

asyncio.run(main())
PYEOF
BOT=$!; track $BOT

poll 30 test -e "$T/bot.waiting" || fail "the bot sent its first 10"
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" <"$T/flood" 2>"$T/flood.err" &
FLOOD=$!; track $FLOOD
# The bot's queue overflowed: what the server dropped for it.
wait_health dropped 1 60 || fail "the flood overflows the bot's queue" "dropped=$(health_field dropped)"
touch "$T/overflowed"
wait_pid $BOT 90
check "the bot's sends all succeeded" grep -qx 'sent 200' "$T/bot.out"
wait_pid $SUB 60
check_eq "all 200 of the bot's messages arrived" \
	"$(jq -r .data.i "$T/sub.out" | sort -n | uniq | wc -l | tr -d ' ')" 200
check_eq "in order" "$(jq -r .data.i "$T/sub.out" | tr '\n' ' ')" "$(seq 0 199 | tr '\n' ' ')"
wait_pid $FLOOD 60
check_eq "the flood was published whole" "$RC" 0
check_eq "the bot was not closed as a slow consumer" "$(health_field slow_consumers_closed)" 0

# A connection that never published is still a slow consumer: 4008.
pyrun 60 - "$PORT" "$T" <<'PYEOF'
import asyncio, json, os, subprocess, sys
from wsclient import *

async def main(port, d):
    ws = await connect(url(port))      # reads nothing while the flood passes
    await hello(ws)
    p = subprocess.run([os.environ["WSB_BIN"] + "/wsbridge-pub", "--url", url(port)],
                       stdin=open(os.path.join(d, "flood")), capture_output=True, timeout=50)
    code, reason, got = await wait_closed(ws, 20)
    check("a reader that never published is closed with 4008", code == 4008, (code, reason, len(got)))

run(main)
PYEOF
stop $SERVE_PID
finish
