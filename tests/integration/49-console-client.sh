#!/usr/bin/env bash
# /wsbridge.js on its own, imported in headless chromium (tests/integration/cdp.py)
# with short timings: a broker that goes silent (SIGSTOP) is left after two
# ping intervals, a handshake it never answers after connectTimeout; the
# retries back off exponentially with jitter, within their bounds;
# publish() queues while disconnected, refuses past queueLimit and sends the
# queue in order after the reconnect; a close code a retry cannot fix (1008,
# a bad type pattern) stops it in state "failed" without a retry.
. "$(dirname "$0")/../lib.sh"
export T
pyrun 120 - <<'PY'
from cdp import *

SETUP = """(async () => {
  const { connect } = await import('/wsbridge.js');
  window.log = []; window.bad = [];
  window.t = connect('/ws', { types: ['x'], echo: true, pingInterval: 400, connectTimeout: 500,
    minDelay: 100, maxDelay: 800, queueLimit: 2,
    onState: (s, i) => log.push([s, i, performance.now()]), onMessage: (m) => log.push(['msg', m.data]) });
  window.b = connect('/ws', { types: ['a\\tb'], onState: (s, i) => bad.push([s, i]) });
  return true;
})()"""


async def main():
    async with Serve() as srv, Browser() as b:
        if not check("a page of the broker loads", await b.goto(srv.http + "/console")):
            return
        check("wsbridge.js imports", await b.eval(SETUP))
        check("connect() opens", await b.wait("t.state === 'open'"), await b.eval("log"))
        check("and measures the round trip", await b.wait("typeof t.rtt === 'number'"))
        check("a bad type pattern is closed 1008: state failed",
              await b.wait("bad.length && bad[bad.length - 1][0] === 'failed' && bad[bad.length - 1][1].code === 1008"),
              await b.eval("bad"))

        srv.proc.send_signal(signal.SIGSTOP)
        t0 = await b.eval("performance.now()")
        check("a silent broker (SIGSTOP) is left after two ping intervals", await b.wait(
            "log.some(e => e[0] === 'reconnecting' && e[1].reason === 'no answer to ping')", 5), await b.eval("log"))
        gone = await b.eval("log.find(e => e[1] && e[1].reason === 'no answer to ping')[2]") - t0
        # Two to three intervals after the last pong, which came up to one
        # interval before the stop: 0.4-1.2 s after it (t0 is read later
        # still, by one eval, which a loaded machine makes slow).
        check("within 1-3 intervals of the stop (0.4-1.2 s, with slack)", 300 <= gone <= 2500, gone)
        check("publish() queues while disconnected",
              await b.eval("t.publish('x', 1) && t.publish('x', 2)"))
        check("and refuses past queueLimit, rather than drop", await b.eval("t.publish('x', 3)") is False)
        check("a handshake never answered is given up after connectTimeout", await b.wait(
            "log.filter(e => e[0] === 'reconnecting' && e[1].reason === 'no greeting').length >= 3", 10),
            await b.eval("log.map(e => e[0] + ' ' + (e[1] && e[1].reason))"))
        delays = await b.eval("log.filter(e => e[0] === 'reconnecting').map(e => [e[1].attempt, e[1].delay])")
        caps = [min(800, 100 * 2 ** (a - 1)) for a, _ in delays]
        check("retries back off exponentially, jittered within [cap/2, cap], capped at maxDelay",
              all(c / 2 <= d <= c for (_, d), c in zip(delays, caps)) and len(delays) >= 4, delays)
        srv.proc.send_signal(signal.SIGCONT)
        check("the broker back: it reconnects", await b.wait("t.state === 'open'", 10), await b.eval("t.state"))
        check("and sends the queue, in order", await b.wait(
            "log.filter(e => e[0] === 'msg').map(e => e[1]).join() === '1,2'", 10),
            await b.eval("log.filter(e => e[0] === 'msg')"))
        check("the failed client never retried", await b.eval("bad.map(e => e[0]).join()") == "connecting,failed",
              await b.eval("bad"))
        await b.eval("t.close()")
        check("close() ends it", await b.eval("t.state") == "closed")
run(main)
PY
finish
