#!/usr/bin/env bash
# ?filter=: a jq predicate run by the server, only on messages whose type
# matched; one program and one run per message for every subscriber with
# the same text (seen in /metrics); a program that does not compile is an
# error, then 1008; a run-time error is false and counted; a filter that
# loops, or allocates without end, is dropped with an error while everyone
# else goes on; the program cannot read the server's environment; a resume
# reads history through the filter.
. "$(dirname "$0")/../lib.sh"

# A secret in the server's environment, which no filter may see.
WSB_FILTER_SECRET=s3cret start_serve --filter-time 0.05 --filter-memory 64M || { fail "serve starts"; finish; }

metric() { curl -sf "$HTTP_URL/metrics" | sed -n "s/^$1 //p"; }

pyrun 60 - "$PORT" "$HTTP_URL" <<'PYEOF'
import urllib.parse, urllib.request
from wsclient import *

def q(types, flt):
    parts = ["type=" + t for t in types]
    if flt is not None:
        parts.append("filter=" + urllib.parse.quote(flt, safe=""))
    return "&".join(parts)

def metrics(http):
    out = {}
    for line in urllib.request.urlopen(http + "/metrics", timeout=5).read().decode().splitlines():
        if line and not line.startswith("#"):
            k, v = line.split(" ", 1)
            out[k] = float(v)
    return out

async def joined(port, types, flt):
    ws = await connect(url(port, q(types, flt)))
    g = await hello(ws)
    assert g["type"] == "connection_established", g
    return ws

async def qtys(ws, n):
    got = []
    for _ in range(n):
        m = await recv_json(ws)
        got.append((m["type"], m["data"]["qty"]))
    return got

async def main(port, http):
    big = '.data.qty > 100'
    a = await joined(port, ["order"], big)
    b = await joined(port, ["order"], big)
    c = await joined(port, [], '.data.qty > 1000')
    e = await joined(port, [], '.data.qty | test("x")')      # a run-time error on every message
    env = await joined(port, ["order"], '(env.WSB_FILTER_SECRET // $ENV.WSB_FILTER_SECRET) == null')
    m = metrics(http)
    check("same filter text shares one program", m["wsbridge_filters"] == 4 and m["wsbridge_filter_subscribers"] == 5, m)

    p = await joined(port, [], None)
    for t, qty in [("order", 50), ("order", 150), ("tick", 9999), ("order", 5000)]:
        await p.send(json.dumps({"type": t, "data": {"qty": qty}}))
    check("a shared filter delivers what is true, to each", await qtys(a, 2) == [("order", 150), ("order", 5000)]
          and await qtys(b, 2) == [("order", 150), ("order", 5000)])
    check("another filter, its own verdicts", await qtys(c, 2) == [("tick", 9999), ("order", 5000)])
    check("the environment is not the filter's", len(await qtys(env, 3)) == 3)
    # order: a/b, c, e, env -> 4 programs; tick: c, e (a/b and env want orders only) -> 2
    m = metrics(http)
    check("one run per distinct program per message, only for matching types",
          m["wsbridge_filter_evaluations_total"] == 3 * 4 + 2, m)
    check("run-time errors are false, and counted", m["wsbridge_filter_errors_total"] == 4, m)
    try:
        x = await recv_json(e, 0.3)
        check("a failing filter delivers nothing", False, x)
    except asyncio.TimeoutError:
        check("a failing filter delivers nothing", True)

    # Does not compile: the greeting, jq's message, then 1008.
    bad = await connect(url(port, q([], '.data.qty >')))
    code, reason, got = await wait_closed(bad)
    errs = [g for g in got if '"error"' in g]
    check("a filter that does not compile: error with jq's message, then 1008",
          code == 1008 and reason == "invalid filter" and len(errs) == 1
          and '"INVALID_FILTER"' in errs[0] and "syntax error" in errs[0], (code, reason, got))

    # A loop, and a memory bomb: each dropped with an error, the others go on.
    for name, flt in [("a loop", 'last(range(1e12)) > 0'), ("a memory bomb", '("x" * 1e9 | length) > 0')]:
        hog = await joined(port, [], flt)
        await p.send(json.dumps({"type": "order", "data": {"qty": 200}}))
        code, reason, got = await wait_closed(hog, 20)
        check(name + " is dropped with an error, then 1008", code == 1008 and reason == "filter dropped"
              and len(got) == 1 and '"FILTER_DROPPED"' in got[0], (code, reason, got))
        check("after " + name + " the other filters still deliver", await qtys(a, 1) == [("order", 200)])
    m = metrics(http)
    check("both drops counted; only the bomb cost a worker", m["wsbridge_filters_dropped_total"] == 2
          and m["wsbridge_filter_worker_restarts_total"] == 1, m)

    # A resume replays history through the filter.
    r = await connect(url(port, "since=0&" + q(["order"], '.data.qty >= 5000')))
    await hello(r)
    m1 = await recv_json(r)
    check("a resume reads history through the filter", m1["data"]["qty"] == 5000 and m1["seq"] == 4, m1)
    for w in (a, b, c, e, env, p, r):
        await w.close()

run(main)
PYEOF

# The worker went away with a dropped filter's bomb; the server did not.
check "the server survived" kill -0 "$SERVE_PID"
check "the drop is logged, without the environment" grep -q 'filter dropped' "$SERVE_ERR"
check "no secret in the log" sh -c "! grep -q s3cret '$SERVE_ERR'"
finish
