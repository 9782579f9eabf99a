#!/usr/bin/env bash
# Malformed input gets an error reply (or the documented close code), is not
# delivered, and nothing else breaks: subscribers keep receiving valid
# messages published after each bad one and the server stays healthy.
. "$(dirname "$0")/../lib.sh"

start_serve --max-message 4k || { fail "serve starts"; finish; }
# A wsbridge-sub that must see exactly the valid messages, nothing else.
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --type 'ok*' --count 13 --timeout 40 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub subscribes"

pyrun 40 - "$PORT" <<'PYEOF'
from wsclient import *

async def main(port):
    watch = await connect(url(port, "type=ok*"))	# a subscriber, like wsbridge-sub
    await hello(watch)
    good = await connect(url(port))			# publishes the valid messages
    await hello(good)
    bad = await connect(url(port, "type=nothing.matches"))	# only its own replies
    await hello(bad)
    n = 0

    async def still_fine(after):
        """A valid message published now reaches the subscriber, and is the
        next thing it receives: the bad input was not delivered."""
        nonlocal n
        n += 1
        await good.send(json.dumps({"type": "ok", "data": {"n": n}}))
        m = await recv_json(watch)
        check("after %s the subscriber gets the next valid message and nothing else" % after,
              m.get("type") == "ok" and m.get("data") == {"n": n}, m)

    cases = [
        ("not json", "INVALID_JSON", "non-JSON"),
        ("{\"type\":\"ok\",", "INVALID_JSON", "truncated JSON"),
        ("[1,2]", "INVALID_MESSAGE", "an array"),
        ("42", "INVALID_MESSAGE", "a number"),
        ("{\"data\":1}", "INVALID_MESSAGE", "an object without type"),
        ("{\"type\":5}", "INVALID_MESSAGE", "a non-string type"),
    ] + [("{\"type\":\"%s\",\"data\":1}" % t, "INVALID_MESSAGE", "reserved type %s" % t)
         for t in ["pong", "subscribed", "gap", "connection_established"]]  # "error" is publishable (issue 9)
    for text, code, what in cases:
        await bad.send(text)
        r = await recv_json(bad)
        check("%s gets an error %s" % (what, code),
              r.get("type") == "error" and isinstance(r.get("data"), dict)
              and r["data"].get("code") == code and isinstance(r["data"].get("message"), str), r)
        await still_fine(what)

    # The offending connection itself still works.
    await bad.send(json.dumps({"type": "ping"}))
    r = await recv_json(bad)
    check("the client that sent bad input still gets pong", r.get("type") == "pong", r)
    await bad.send(json.dumps({"type": "ok", "data": {"n": 99, "from": "bad"}}))
    m = await recv_json(watch)
    check("the client that sent bad input can still publish", m.get("data", {}).get("n") == 99, m)

    # Just under --max-message is fine.
    big = json.dumps({"type": "ok", "data": {"n": 100, "pad": "x" * 3800}})
    await good.send(big)
    m = await recv_json(watch)
    check("a %d-byte message (under --max-message 4k) is delivered" % len(big),
          m.get("data", {}).get("n") == 100 and len(m["data"]["pad"]) == 3800, str(m)[:80])

    # Binary frame: closed with 1003.
    await bad.send(b"\x01\x02binary")
    code, reason, got = await wait_closed(bad)
    check("a binary frame closes the connection with 1003", code == 1003, (code, reason, got))
    await still_fine("a binary frame")

    # Over --max-message: closed with 1009.
    huge = await connect(url(port))
    await hello(huge)
    await huge.send(json.dumps({"type": "ok", "data": {"pad": "x" * 8192}}))
    code, reason, got = await wait_closed(huge)
    check("a message over --max-message closes the connection with 1009", code == 1009, (code, reason, got))
    await still_fine("an oversized message")

    for ws in (watch, good):
        await ws.close()

run(main)
PYEOF

wait_pid $SUB 20
check_eq "wsbridge-sub exits 0 after its 13 valid messages" "$RC" 0
check_eq "wsbridge-sub saw only the valid messages" \
	"$(jq -c .data.n "$T/sub.out" | tr '\n' ' ')" "1 2 3 4 5 6 7 8 9 10 99 100 11 "
check "server still healthy" test "$(health_field status)" = healthy
check_eq "/health messages_in counts only the valid messages" "$(health_field messages_in)" 14
check "/metrics counts the error replies" \
	test "$(curl -sf "$HTTP_URL/metrics" | sed -n 's/^wsbridge_errors_total //p')" -ge 10
echo '{"type":"ok","data":{"n":"last"}}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL"
check_eq "publishing still works afterwards" "$(health_field messages_in)" 15
stop $SERVE_PID
check_eq "serve exits 0 on SIGTERM" "$RC" 0
finish
