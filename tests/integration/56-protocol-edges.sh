#!/usr/bin/env bash
# Bad requests get one clear answer, and nobody else sees anything of them:
# a subscribe with 100 000 patterns (one TOO_MANY_PATTERNS error, not 4008),
# unsubscribe ["*"] on a default connection (subscribed [], then nothing),
# since=-1 / since>=2^64 / since=abc (close 1008 with a reason), and
# messages that repeat a top-level type, seq, producer or pseq (one
# INVALID_MESSAGE error each, never routed).
. "$(dirname "$0")/../lib.sh"

start_serve --max-queue 64k || { fail "serve starts"; finish; }

pyrun 60 - "$PORT" <<'PYEOF'
from wsclient import *

async def only_pong(ws, what):
    """A ping's pong is the very next message: nothing else was queued."""
    await ws.send(json.dumps({"type": "ping", "data": what}))
    m = await recv_json(ws)
    check("%s: nothing else was sent to it" % what, m.get("type") == "pong" and m.get("data") == what, m)

async def main(port):
    watch = await connect(url(port))	# receives everything
    await hello(watch)
    pub = await connect(url(port, "subscribe=none"))
    await hello(pub)
    marker = 0

    async def watcher_saw_nothing(after):
        nonlocal marker
        marker += 1
        await pub.send(json.dumps({"type": "marker", "data": marker}))
        m = await recv_json(watch)
        check("after %s the watcher's next message is the marker" % after,
              m.get("type") == "marker" and m.get("data") == marker, m)

    # 100 000 patterns in one subscribe: one error, the connection stays.
    flood = await connect(url(port))
    await hello(flood)
    await flood.send(json.dumps({"type": "subscribe", "types": ["p%d" % i for i in range(100000)]}))
    r = await recv_json(flood)
    check("100 000 patterns: one error TOO_MANY_PATTERNS",
          r.get("type") == "error" and r.get("data", {}).get("code") == "TOO_MANY_PATTERNS"
          and "256" in r["data"].get("message", ""), str(r)[:200])
    await only_pong(flood, "after 100 000 patterns")
    await pub.send(json.dumps({"type": "p5", "data": "still all"}))
    m = await recv_json(flood)
    check("the refused subscribe changed nothing (still receives everything)",
          m.get("type") == "p5", m)
    m = await recv_json(watch)
    check("the watcher gets p5 too", m.get("type") == "p5", m)
    await watcher_saw_nothing("the pattern flood")

    # unsubscribe ["*"] on a default connection leaves it receiving nothing.
    u = await connect(url(port))
    await hello(u)
    await u.send(json.dumps({"type": "unsubscribe", "types": ["*"]}))
    r = await recv_json(u)
    check("unsubscribe [\"*\"] answers subscribed []", r == {"type": "subscribed", "types": []}, r)
    await watcher_saw_nothing("unsubscribe *")
    await only_pong(u, "after unsubscribe *")

    # Repeated top-level members: one INVALID_MESSAGE error each.
    bad = await connect(url(port, "subscribe=none"))	# only its own replies
    await hello(bad)
    for text, member in [
        ('{"type":"connection_established","type":"zz"}', "type"),
        ('{"type":"zz","type":"connection_established"}', "type"),
        ('{"type":"zz","seq":1,"seq":2}', "seq"),
        ('{"type":"zz","producer":"a","producer":"b"}', "producer"),
        ('{"type":"zz","pseq":1,"pseq":2}', "pseq"),
    ]:
        await bad.send(text)
        r = await recv_json(bad)
        check("%s: error INVALID_MESSAGE naming %s" % (text, member),
              r.get("type") == "error" and r.get("data", {}).get("code") == "INVALID_MESSAGE"
              and ('"%s" twice' % member) in r["data"].get("message", ""), r)
        await watcher_saw_nothing(text)
    await only_pong(bad, "after the repeated members")

    # since= that is not a seq: close 1008 with a reason, before anything else.
    for since in ["-1", "18446744073709551616", "99999999999999999999999", "abc", ""]:
        ws = await connect(url(port, "since=" + since))
        code, reason, got = await wait_closed(ws)
        check("since=%s: closed 1008 saying why" % since,
              code == 1008 and "since=" in (reason or ""), (code, reason, got[:2]))
    ws = await connect(url(port, "since=18446744073709551615"))
    h = await hello(ws)
    check("since=2^64-1 is a seq: accepted", h.get("type") == "connection_established", h)
    await only_pong(ws, "since=2^64-1")
    await watcher_saw_nothing("the since= refusals")

run(main)
PYEOF
check "server still healthy" test "$(health_field status)" = healthy
check_eq "no slow consumer was closed" "$(health_field slow_consumers_closed)" 0
stop $SERVE_PID
check_eq "serve exits 0 on SIGTERM" "$RC" 0
finish
