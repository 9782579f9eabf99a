#!/usr/bin/env bash
# --rate N/s --burst M (issue 10): over the rate, a message is refused with
# error RATE_LIMITED and not delivered (--rate-policy reject, the default);
# with --rate-policy pause the publisher is not read until its bucket
# refills, and nothing is lost. Asserted as promises: never more delivered
# than burst + rate x the time it took (however slow the machine), every
# message either delivered or refused, and with pause all of them, in
# order, and no sooner than the rate allows.
. "$(dirname "$0")/../lib.sh"

start_serve --rate 20/s --burst 5 || { fail "serve starts"; finish; }
pyrun 60 - "$PORT" <<'PYEOF'
import time
from wsclient import *

async def main(port):
    watcher = await connect(url(port, "type=r.*")); await hello(watcher)
    other = await connect(url(port)); await hello(other)
    pub = await connect(url(port, "subscribe=none")); await hello(pub)
    n = 50
    t0 = time.monotonic()
    for i in range(n):
        await pub.send(json.dumps({"type": "r.x", "data": i}))
    await pub.send(json.dumps({"type": "ping"}))
    refused = []
    while True:
        m = await recv_json(pub, 20)
        if m.get("type") == "pong":
            break
        refused.append(m)
    elapsed = time.monotonic() - t0
    await other.send(json.dumps({"type": "r.end"}))
    end, got = await recv_until(watcher, lambda m: m.get("type") == "r.end", 20)
    codes = set(m.get("data", {}).get("code") for m in refused)
    check("over-rate messages get error RATE_LIMITED", refused and codes == {"RATE_LIMITED"}, codes)
    check("every message is delivered or refused, never both",
          len(got) + len(refused) == n, (len(got), len(refused)))
    bound = 5 + 20 * elapsed + 1
    check("delivered at most burst + rate x time (%d <= %.1f)" % (len(got), bound), len(got) <= bound)
    check("the first burst went through", [m["data"] for m in got[:5]] == list(range(5)), got[:5])
    # A refill lets the next one through.
    await asyncio.sleep(0.2)
    await pub.send(json.dumps({"type": "r.later"}))
    m, _ = await recv_until(watcher, lambda m: m.get("type") == "r.later", 10)
    check("after a pause the publisher is let through again", m.get("type") == "r.later")
    for ws in (watcher, other, pub):
        await ws.close()

run(main)
PYEOF
stop $SERVE_PID
check_eq "one log line for the run of refusals, not one per message" "$(grep -c RATE_LIMITED "$SERVE_ERR")" 1

# pause: all of them, in order, no sooner than the rate allows
start_serve --rate 50/s --burst 5 --rate-policy pause || { fail "serve --rate-policy pause starts"; finish; }
seq 1 100 | sed 's/.*/{"type":"p","data":&}/' >"$T/in.ndjson"
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --type p --count 100 --timeout 60 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub subscribes"
t0=$(date +%s%N)
timeout 60 "$WSB_BIN/wsbridge-pub" --url "$WS_URL" "$T/in.ndjson" 2>"$T/pub.err"
check_eq "pub under --rate-policy pause exits 0 (all acknowledged)" "$?" 0
wait_pid $SUB 60
t1=$(date +%s%N)
check_eq "sub got all 100 in order" "$RC/$(jq -r .data "$T/sub.out" | paste -sd, -)" "0/$(seq -s, 1 100)"
ms=$(((t1 - t0) / 1000000))
check "it took at least (100 - burst) / rate = 1.9 s (${ms} ms)" test "$ms" -ge 1900
check "nothing was refused" sh -c "! grep -q RATE_LIMITED '$T/pub.err' '$SERVE_ERR'"
stop $SERVE_PID
check_eq "serve exits 0" "$RC" 0

# --rate-policy reject and a producer: acks are cumulative, so a line accepted
# after a refused one must not acknowledge it. The broker publishes nothing
# more on that connection; wsbridge-pub reconnects and resends. Whatever
# pub's status, 0 must mean every line arrived (it was 0 with lines lost).
start_serve --rate 50/s --burst 3 --rate-policy reject || { fail "serve --rate-policy reject starts"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --type q --count 30 --timeout 60 >"$T/q.out" 2>"$T/q.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub subscribes"
for i in $(seq 1 30); do echo "{\"type\":\"q\",\"data\":$i}"; sleep 0.01; done |
	timeout 60 "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --linger 40 2>"$T/q.pub.err"
check_eq "pub under --rate-policy reject: exit 0 once every line is in" "$?" 0
check "... it was refused on the way and resent" grep -q 'cannot publish now (RATE_LIMITED' "$T/q.pub.err"
wait_pid $SUB 30
check_eq "sub got all 30, in order, none twice" "$RC/$(jq -r .data "$T/q.out" | paste -sd, -)" "0/$(seq -s, 1 30)"
stop $SERVE_PID

check_eq "--rate 0 is a usage error" "$("$WSB_BIN/wsbridge-serve" --rate 0 2>&1 >/dev/null; echo $?)" \
	"wsbridge-serve: --rate takes N/s (or N/m), N > 0, e.g. --rate 100/s (try 'wsbridge-serve --help')
64"
check_eq "--burst without --rate is a usage error" "$("$WSB_BIN/wsbridge-serve" --burst 5 >/dev/null 2>&1; echo $?)" 64
finish
