#!/usr/bin/env bash
# serve --token: clients without the token or with a wrong one are refused
# (pub/sub exit 77, HTTP 401); ?token= in the URL or --token (sent as
# Authorization: Bearer) gets in; the token never appears in any log, even -vv.
. "$(dirname "$0")/../lib.sh"
TOK=s3cret

start_serve --token $TOK -vv || { fail "serve starts"; finish; }
echo '{"type":"x","data":1}' >"$T/one.json"

for b in sub pub; do
	extra=(); [ $b = pub ] && extra=("$T/one.json")
	timeout -k 2 10 "$WSB_BIN/wsbridge-$b" --url "$WS_URL" -vv "${extra[@]}" </dev/null >/dev/null 2>"$T/$b.none.err"
	check_eq "$b without a token exits 77" "$?" 77
	timeout -k 2 10 "$WSB_BIN/wsbridge-$b" --url "$WS_URL" --token wrong -vv "${extra[@]}" </dev/null >/dev/null 2>"$T/$b.wrong.err"
	check_eq "$b with a wrong token exits 77" "$?" 77
	timeout -k 2 10 "$WSB_BIN/wsbridge-$b" --url "$WS_URL?token=wrong" -vv "${extra[@]}" </dev/null >/dev/null 2>"$T/$b.wrongq.err"
	check_eq "$b with a wrong ?token= exits 77" "$?" 77
done
check_eq "refused clients published nothing" "$(health_field messages_in)" 0

pyrun 30 - "$PORT" <<'PYEOF'
from wsclient import *

async def refused(u, **kw):
    """The HTTP status of a refused handshake, or what happened instead."""
    try:
        ws = await connect(u, **kw)
    except websockets.exceptions.InvalidStatusCode as e:
        return e.status_code
    except Exception as e:
        return "%s: %s (%r)" % (type(e).__name__, e, e.__cause__)
    await ws.close()
    return "accepted"

async def accepted(u, **kw):
    ws = await connect(u, **kw)
    m = await hello(ws)
    await ws.send(json.dumps({"type": "ping"}))
    p = await recv_json(ws)
    await ws.close()
    return m.get("type") == "connection_established" and p.get("type") == "pong"

async def main(port):
    r = await refused(url(port))
    check("python without a token gets HTTP 401", r == 401, r)
    r = await refused(url(port, "token=wrong"))
    check("python with ?token=wrong gets HTTP 401", r == 401, r)
    r = await refused(url(port), extra_headers={"Authorization": "Bearer wrong"})
    check("python with a wrong Bearer token gets HTTP 401", r == 401, r)
    r = await refused(url(port, "token=s3cre"))
    check("python with a prefix of the token gets HTTP 401", r == 401, r)
    r = await refused(url(port, "token=s3cretX"))
    check("python with the token plus a character gets HTTP 401", r == 401, r)
    check("python with ?token=s3cret gets in", await accepted(url(port, "token=s3cret")), "")
    check("python with Authorization: Bearer s3cret gets in",
          await accepted(url(port), extra_headers={"Authorization": "Bearer s3cret"}), "")

run(main)
PYEOF

# With the token: --token, WSBRIDGE_TOKEN, --token-file and ?token= all work.
echo $TOK >"$T/tokfile"
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --token $TOK -vv --count 4 --timeout 20 >"$T/sub.out" 2>"$T/sub.ok.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub --token subscribes"
echo '{"type":"a"}' | timeout 10 "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --token $TOK -vv 2>"$T/pub.ok1.err"
check_eq "pub --token exits 0" "$?" 0
echo '{"type":"b"}' | WSBRIDGE_TOKEN=$TOK timeout 10 "$WSB_BIN/wsbridge-pub" --url "$WS_URL" -vv 2>"$T/pub.ok2.err"
check_eq "pub with WSBRIDGE_TOKEN exits 0" "$?" 0
echo '{"type":"c"}' | timeout 10 "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --token-file "$T/tokfile" -vv 2>"$T/pub.ok3.err"
check_eq "pub --token-file exits 0" "$?" 0
echo '{"type":"d"}' | timeout 10 "$WSB_BIN/wsbridge-pub" --url "$WS_URL?token=$TOK" -vv 2>"$T/pub.ok4.err"
check_eq "pub with ?token= in --url exits 0" "$?" 0
wait_pid $SUB 20
check_eq "sub --token gets all 4 messages" "$RC/$(jq -r .type "$T/sub.out" | tr -d '\n')" "0/abcd"

stop $SERVE_PID
check_eq "serve exits 0 on SIGTERM" "$RC" 0
check "serve logged the connections at -vv (the log is not empty)" test "$(lines "$SERVE_ERR")" -ge 5
check "the token never appears in serve's stderr (-vv)" sh -c "! grep -q $TOK '$SERVE_ERR'"
for f in "$T"/sub.*.err "$T"/pub.*.err; do
	check "the token never appears in $(basename "$f" .err)'s stderr (-vv)" sh -c "! grep -q $TOK '$f'"
done
finish
