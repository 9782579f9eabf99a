#!/usr/bin/env bash
# --token-file scopes (issue 10, "Who may do what"): a sub-only token cannot
# publish (error FORBIDDEN, nothing delivered); types= limits both ways
# (publish outside: FORBIDDEN; ?type= outside: 403 on the upgrade; a
# subscribe outside: FORBIDDEN; no ?type=: the scope's types); a pub-only
# token hears nothing; /metrics needs a token, /health does not; every
# refusal is logged and no log holds a token. A producer's refused publish
# is its connection's last (acks are cumulative: no ack may cover it).
. "$(dirname "$0")/../lib.sh"
R=RdrTok9f3a W=WrtTok7c1e A=AllTok2b8d P=PubTok5e6f
cat >"$T/tokens" <<EOF
# who may do what
$R sub
$W pub,sub types=order*,tick
$A
$P pub
EOF
start_serve --token-file "$T/tokens" || { fail "serve starts"; finish; }

pyrun 60 - "$PORT" <<'PYEOF'
from wsclient import *

async def status(u):
    try:
        ws = await connect(u)
    except websockets.exceptions.InvalidStatusCode as e:
        return e.status_code
    await ws.close()
    return 101

def code(e):
    return e.get("type") == "error" and e.get("data", {}).get("code")

async def quiet(ws, secs=0.3):
    """Messages that arrive within secs (a bounded look, for what must not come)."""
    got = []
    try:
        while True:
            got.append(json.loads(await asyncio.wait_for(ws.recv(), secs)))
    except asyncio.TimeoutError:
        return got

async def main(port):
    u = lambda q: url(port, q)
    watcher = await connect(u("token=AllTok2b8d")); await hello(watcher)
    reader = await connect(u("token=RdrTok9f3a")); await hello(reader)
    # sub-only: cannot publish, still reads
    await reader.send(json.dumps({"type": "order", "data": 1}))
    e = await recv_json(reader)
    check("sub-only token: publish gets error FORBIDDEN", code(e) == "FORBIDDEN", e)
    check("the error says it may not publish", "may not publish" in e["data"]["message"], e)
    await watcher.send(json.dumps({"type": "order", "data": 2}))
    got = await recv_until(reader, lambda m: m.get("type") == "order")
    check("the refused message was not delivered, the next one was", got[0].get("data") == 2, got)
    # types= both ways
    check("?type= outside types= is 403 on the upgrade", await status(u("token=WrtTok7c1e&type=trade")) == 403)
    check("?type=* with types= is 403", await status(u("token=WrtTok7c1e&type=*")) == 403)
    check("?type= inside types= gets in", await status(u("token=WrtTok7c1e&type=order.new")) == 101)
    w = await connect(u("token=WrtTok7c1e")); await hello(w)
    await w.send(json.dumps({"type": "trade", "data": 3}))
    e = await recv_json(w)
    check("publish outside types= gets FORBIDDEN", code(e) == "FORBIDDEN" and "trade" in e["data"]["message"], e)
    await w.send(json.dumps({"type": "subscribe", "types": ["*"]}))
    e = await recv_json(w)
    check("subscribe outside types= gets FORBIDDEN", code(e) == "FORBIDDEN", e)
    await w.send(json.dumps({"type": "subscribe", "types": ["order.x*"]}))
    s = await recv_json(w)
    check("subscribe inside types= is answered subscribed", s.get("type") == "subscribed", s)
    await w.send(json.dumps({"type": "order.new", "data": 4}))
    got = await recv_until(watcher, lambda m: m.get("type") == "order.new")
    check("publish inside types= is delivered", got[0].get("data") == 4, got)
    check("the out-of-scope publish never reached anyone",
          not any(m.get("type") == "trade" for m in got[1] + await quiet(watcher)), got)
    # without ?type=, a types= token hears only its types
    w2 = await connect(u("token=WrtTok7c1e")); await hello(w2)
    await watcher.send(json.dumps({"type": "trade", "data": 5}))
    await watcher.send(json.dumps({"type": "tick", "data": 6}))
    got = await recv_until(w2, lambda m: m.get("type") == "tick")
    check("the default subscription is the token's types", not any(m.get("type") == "trade" for m in got[1]), got)
    # pub-only hears nothing and may not subscribe
    p = await connect(u("token=PubTok5e6f")); await hello(p)
    await watcher.send(json.dumps({"type": "x", "data": 7}))
    check("a pub-only token hears nothing", not [m for m in await quiet(p) if m.get("type") == "x"])
    await p.send(json.dumps({"type": "subscribe", "types": ["x"]}))
    e = await recv_json(p)
    check("a pub-only token's subscribe gets FORBIDDEN", code(e) == "FORBIDDEN", e)
    check("?type= with a pub-only token is 403", await status(u("token=PubTok5e6f&type=x")) == 403)
    # A producer we did not write, reading acks only: its pseq 2 is
    # outside the scope. Acks are cumulative, so no ack may come after it
    # (an ack of 3 would say 2 was accepted): pseq 3 is refused too, and
    # reaches nobody; a new connection goes on from "accepted": 1.
    q = "token=WrtTok7c1e&producer=custom-1&subscribe=none"
    pr = await connect(u(q)); g = await hello(pr)
    check("producer greeted with accepted 0", g.get("accepted") == 0, g)
    for i, t in ((1, "order"), (2, "trade"), (3, "order")):
        await pr.send(json.dumps({"type": t, "producer": "custom-1", "pseq": i, "data": 10 + i}))
    await pr.send(json.dumps({"type": "ping"}))
    got, before = await recv_until(pr, lambda m: m.get("type") == "pong")
    acks = [m["pseq"] for m in before if m.get("type") == "ack"]
    errs = [code(m) for m in before if m.get("type") == "error"]
    check("acks stop before the refused pseq 2 (acks %s)" % acks, acks and max(acks) == 1, before)
    check("pseq 2 FORBIDDEN, pseq 3 refused with it (%s)" % errs, errs == ["FORBIDDEN", "FORBIDDEN"], before)
    check("... saying to reconnect", "reconnect" in before[-1]["data"]["message"], before)
    seen = [m.get("data") for m in await quiet(watcher, 0.5) if m.get("type") in ("order", "trade")]
    check("only pseq 1 reached anyone (%s)" % seen, seen == [11], seen)
    pr2 = await connect(u(q + "&producer_secret=" + g["producer_secret"])); g2 = await hello(pr2)
    check("the new connection's greeting says accepted 1", g2.get("accepted") == 1, g2)
    await pr2.send(json.dumps({"type": "order", "producer": "custom-1", "pseq": 3, "data": 13}))
    a = await recv_json(pr2)
    check("pseq 3 on the new connection: delivered and acked", a == {"type": "ack", "pseq": 3}, a)
    for ws in (watcher, reader, w, w2, p, pr, pr2):
        await ws.close()

run(main)
PYEOF

# The tools: a sub-only token's publish is refused and said.
# No --linger here: a permission refusal ends pub at once with 77 (a
# 75 after waiting out the linger would say "try again later").
echo '{"type":"order","data":1}' | timeout 10 "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --token $R \
	2>"$T/pub.ro.err"
check_eq "wsbridge-pub with a sub-only token: refused, exit 77 at once" "$?" 77
check "and it says FORBIDDEN and why" grep -q 'refused by the broker (FORBIDDEN): .*may not publish' "$T/pub.ro.err"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
check_eq "/health needs no token" "$(code "$HTTP_URL/health")" 200
check_eq "/metrics without a token is 401" "$(code "$HTTP_URL/metrics")" 401
check_eq "/metrics with a wrong token is 401" "$(code -H 'Authorization: Bearer nope' "$HTTP_URL/metrics")" 401
check_eq "/metrics with a token is 200" "$(code -H "Authorization: Bearer $R" "$HTTP_URL/metrics")" 200
check_eq "/metrics with ?token= is 200" "$(code "$HTTP_URL/metrics?token=$A")" 200

stop $SERVE_PID
check "serve logged the refused publish" grep -q 'FORBIDDEN: .*may not publish' "$SERVE_ERR"
check "serve logged the refused upgrade with its reason" grep -q "type pattern outside this token's scope" "$SERVE_ERR"
for tok in $R $W $A $P; do
	check "no log holds token ${tok:0:3}..." sh -c "! grep -q $tok '$SERVE_ERR' '$T/pub.ro.err' '$T'/py.*.out.err"
done
finish
