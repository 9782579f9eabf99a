#!/bin/sh
# Takes docs/console.png: the console page in headless chromium against a
# real wsbridge-serve, fed by wsbridge-pub, driven by the tests' DevTools
# helper (tests/integration/cdp.py). Run after `make`; commit the result.
# Usage: scripts/console-screenshot.sh [OUT.png]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$root/docs/console.png}")
export WSB_BIN="${WSB_BIN:-$root/bin}" OUT="$out"
PYTHONPATH="$root/tests/integration" exec timeout -k 2 120 /usr/bin/python3 - <<'PY'
import os, random
from cdp import *

random.seed(7)
SYMS = {"AAPL": 189.4, "MSFT": 411.2, "NVDA": 874.1, "TSLA": 171.3}


def stream(n, start):
    out = []
    for i in range(n):
        s = random.choice(list(SYMS))
        px = round(SYMS[s] * (1 + random.uniform(-0.002, 0.002)), 2)
        k = random.random()
        if k < 0.55:
            out.append({"type": "tick", "data": {"symbol": s, "bid": px, "ask": round(px + 0.02, 2)}})
        elif k < 0.85:
            out.append({"type": "order", "data": {"id": start + i, "symbol": s, "side": random.choice(["buy", "sell"]),
                                                  "qty": random.choice([50, 100, 200, 500]), "limit": px}})
        else:
            out.append({"type": "fill", "data": {"order": start + i - 3, "symbol": s, "qty": 100, "price": px}})
    return out


async def main():
    async with Serve("--history", "3") as srv, Browser() as b:
        await b.call("Emulation.setDeviceMetricsOverride", width=1280, height=800, deviceScaleFactor=1, mobile=False)
        await b.call("Emulation.setScrollbarsHidden", hidden=True)
        await b.goto(srv.http + "/")
        await b.wait_state("open")
        await srv.publish(stream(12, 1000))
        await b.wait_rows("rows.length == 12")
        await b.eval("wsbConsole.close()")
        await b.wait_state("closed")
        await srv.publish(stream(40, 2000))          # more than --history 3 while away: a gap
        await b.eval("wsbConsole.update({})")
        await b.wait_state("open")
        await b.wait_rows("rows.length >= 15")
        await srv.publish(stream(4, 3000))
        await b.wait_rows("rows.length >= 19")
        await b.eval("[...document.querySelectorAll('#rows tr.msg')].find(r => r.dataset.type == 'order').click()")
        await b.wait("/^rtt [0-9.]+ ms$/.test(document.querySelector('#rtt').textContent) && "
                     "document.querySelector('#st-messages_in').textContent === '56'", 10)
        await b.screenshot(os.environ["OUT"])
        print("wrote " + os.environ["OUT"])
run(main)
PY
