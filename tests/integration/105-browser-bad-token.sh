#!/usr/bin/env bash
# Issue 9, item 6: a browser upgrade (an Origin header) with a wrong or
# missing token is accepted and closed with 1008 "Invalid token" /
# "Authentication required", as the old servers did, so the old clients stop
# reconnecting; anything else still gets HTTP 401, and wsbridge-sub exits 77.
# Refusals are logged with the remote address, never the token.
. "$(dirname "$0")/../lib.sh"

start_serve --token s3cret || { fail "serve starts"; finish; }
pyrun 40 - "$PORT" <<'PYEOF'
import asyncio, json, sys, websockets
from wsclient import check, run, wait_closed

async def main(port):
    origin = "http://127.0.0.1:%s" % port
    for q, reason in (("?token=wrong-guess", "Invalid token"), ("", "Authentication required")):
        ws = await websockets.connect("ws://127.0.0.1:%s/ws%s" % (port, q), origin=origin)
        code, why, got = await wait_closed(ws)
        check("a browser with %s gets close 1008 %r" % (q or "no token", reason),
              code == 1008 and why == reason and got == [], (code, why, got))
    try:
        await websockets.connect("ws://127.0.0.1:%s/ws?token=wrong-guess" % port)
        check("without an Origin a wrong token is still HTTP 401", False, "it opened")
    except websockets.exceptions.InvalidStatusCode as e:
        check("without an Origin a wrong token is still HTTP 401", e.status_code == 401, e)

run(main)
PYEOF
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --token wrong-guess --count 1 >/dev/null 2>"$T/sub.err"
check_eq "wsbridge-sub with a wrong token exits 77" "$?" 77
check "refusals are logged with the remote address" grep -q 'refused a connection from 127.0.0.1.*invalid token' "$SERVE_ERR"
check "and never the token" bash -c "! grep -q wrong-guess '$SERVE_ERR'"
check_eq "no refused browser counts as a connection" "$(health_field active_connections)" 0
stop $SERVE_PID
finish
