"""The attacker of 50-producer-hijack.sh: a client that reads a delivered
message, takes its producer id and tries to silence that producer.

    hijack.py live  PORT DONE_FILE ID_FILE   every attack at a running broker
    hijack.py plant PORT DONE_FILE ID_FILE   plant a poisoned message (journal)
    hijack.py after PORT DONE_FILE ID_FILE   after a restart: the id is still closed

Each check prints PASS/FAIL (wsclient.check); DONE_FILE is touched at the end
so the shell lets the real publisher go on.
"""
import json

from wsclient import *

POISON = 2**64 - 1
GUESS = "0123456789abcdef0123456789abcdef"


async def learn_id(port):
    """The producer id of the first retained "t" message (since=0: history).
    stamp=1 asks for it: anyone may, the id is not a secret (its secret is)."""
    ws = await connect(url(port, "type=t&since=0&stamp=1"))
    await hello(ws)
    m, _ = await recv_until(ws, lambda m: m.get("type") == "t", 20)
    await ws.close()
    return m.get("producer")


async def claim(port, pid, secret, name, want):
    """Connect as producer pid, send pseq 2^64-1 at once, expect 1008."""
    q = "producer=%s&subscribe=none" % pid + ("&producer_secret=" + secret if secret else "")
    ws = await connect(url(port, q))
    try:
        await ws.send(json.dumps({"type": "t", "producer": pid, "pseq": POISON}))
    except websockets.exceptions.ConnectionClosed:
        pass
    try:
        code, reason, got = await wait_closed(ws, 5)
    except asyncio.TimeoutError:
        code, reason, got = None, "still open", []
        await ws.close()
    check(name, code == 1008 and want in (reason or ""),
          "close %s %r after %r" % (code, reason, got[:3]))


async def plant(port, pid):
    """A plain client's producer/pseq never reach a subscriber or the journal."""
    ws = await connect(url(port, "type=evil&echo=1"))
    await hello(ws)
    await ws.send(json.dumps({"type": "evil", "producer": pid, "pseq": POISON, "n": 1}))
    m, _ = await recv_until(ws, lambda m: m.get("type") == "evil")
    check("a plain client's producer/pseq are removed", "producer" not in m and "pseq" not in m, m)
    await ws.close()


async def own_jump(port):
    """Even under its own id, a producer cannot jump to pseq 2^64-1."""
    ws = await connect(url(port, "producer=attacker-own&subscribe=none"))
    await hello(ws)
    await ws.send(json.dumps({"type": "evil", "producer": "attacker-own", "pseq": POISON}))
    m = await recv_json(ws)
    check("pseq 2^64-1 is refused as a jump (PSEQ_JUMP)",
          m.get("type") == "error" and m.get("data", {}).get("code") == "PSEQ_JUMP", m)
    await ws.close()


async def main(mode, port, done, idfile):
    if mode == "after":
        pid = open(idfile).read().strip()
    else:
        pid = await learn_id(port)
        check("the producer id is in a delivered message", bool(pid), pid)
        with open(idfile, "w") as f:
            f.write("%s\n" % pid)
    if mode in ("live", "after"):
        await claim(port, pid, None, "the id without its secret is refused (1008)", "producer_secret")
        await claim(port, pid, GUESS, "the id with a guessed secret is refused (1008)",
                    "wrong producer_secret")
    if mode in ("live", "plant"):
        await plant(port, pid)
    if mode == "live":
        await own_jump(port)
    touch(done)


run(main)
