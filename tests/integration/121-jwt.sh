#!/usr/bin/env bash
# --jwt-secret-file (issue 10): HS256 JWTs beside the token file. Valid gets
# in; expired, not yet valid, a bad signature, another algorithm and
# alg "none" are 401 with the reason and nothing else; scope and types
# claims act like token-file scopes; "sub" binds producer ids (alice,
# alice.*, alice:RUN); the secret and the tokens never reach a log.
. "$(dirname "$0")/../lib.sh"
SECRET=JwtSecret-4f0c9a1e-b7d2-4e55
printf '%s\n' "$SECRET" >"$T/jwt.key"
echo "PlainTok83c1 sub" >"$T/tokens"
start_serve --token-file "$T/tokens" --jwt-secret-file "$T/jwt.key" || { fail "serve starts"; finish; }

cat >"$T/jwt.py" <<'PYEOF'
import base64, hashlib, hmac, json, sys, time
def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def jwt(claims, key, alg="HS256", sig=None):
    h = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    if sig is None:
        sig = b64(hmac.new(key.encode(), h.encode(), hashlib.sha256).digest())
    return h + "." + sig
PYEOF
# A token for the tools: alice, pub and sub, an hour.
ALICE=$(PYTHONPATH=$T $PY -c "import jwt,time,sys; print(jwt.jwt({'sub':'alice','exp':int(time.time())+3600}, sys.argv[1]))" "$SECRET")

T=$T pyrun 60 - "$PORT" "$SECRET" <<'PYEOF'
import sys, time
sys.path.insert(0, sys.argv[0] and __import__("os").environ.get("T", "."))
from wsclient import *
from rawws import handshake
import jwt as J

def refusal(port, tok):
    s, st, hdrs, rest = handshake(port, path="/ws?token=" + tok)
    s.close()
    try:
        return st, json.loads(rest.decode() or "{}").get("error")
    except ValueError:
        return st, rest

async def main(port, key):
    port = int(port); now = int(time.time())
    ok = J.jwt({"sub": "alice", "exp": now + 60, "nbf": now - 60}, key)
    ws = await connect(url(port, "token=" + ok)); h = await hello(ws)
    check("a valid JWT gets in", h.get("type") == "connection_established", h)
    await ws.close()
    ws = await connect(url(port), extra_headers={"Authorization": "Bearer " + ok}); await hello(ws)
    check("a valid JWT as Authorization: Bearer gets in", True)
    await ws.close()
    for name, tok, why in [
        ("expired", J.jwt({"exp": now - 120}, key), "JWT expired"),
        ("not yet valid", J.jwt({"nbf": now + 120}, key), "JWT not yet valid"),
        ("bad signature", J.jwt({"exp": now + 60}, key + "x"), "JWT signature does not match"),
        ("wrong algorithm (HS512)", J.jwt({}, key, alg="HS512"), "JWT alg must be HS256"),
        ("alg none, no signature", J.jwt({}, key, alg="none", sig=""), "JWT alg must be HS256"),
        ("alg none, signed", J.jwt({}, key, alg="none"), "JWT alg must be HS256"),
        ("garbage", "a.b.c", "malformed JWT"),
    ]:
        st, err = refusal(port, tok)
        check("JWT %s: 401 '%s'" % (name, why), st == 401 and err == why, (st, err))
    # A browser (an Origin) is let in and closed 1008 with the old servers'
    # words; the log has the real reason.
    ws = await connect(url(port, "token=" + J.jwt({"exp": now - 120}, key)), origin="http://127.0.0.1:%d" % port)
    code, reason, _ = await wait_closed(ws)
    check("a browser's expired JWT: close 1008 Invalid token", (code, reason) == (1008, "Invalid token"), (code, reason))
    # claims as scopes
    ro = J.jwt({"scope": "sub", "types": ["order*"]}, key)
    ws = await connect(url(port, "token=" + ro)); await hello(ws)
    await ws.send(json.dumps({"type": "order", "data": 1}))
    e = await recv_json(ws)
    check("scope \"sub\": publish gets FORBIDDEN", e.get("data", {}).get("code") == "FORBIDDEN", e)
    await ws.close()
    st, err = refusal(port, ro + "&type=trade")
    check("types claim: ?type= outside is 403", st == 403, (st, err))
    # sub binds producer ids
    for pid, want in [("alice", 101), ("alice.orders", 101), ("alice:0123abcd", 101), ("alicex", 403), ("bob", 403)]:
        st, err = refusal(port, ok + "&subscribe=none&producer=" + pid)
        check("sub alice, ?producer=%s: %d" % (pid, want), st == want, (st, err))
    nosub = J.jwt({"exp": now + 60}, key)
    st, err = refusal(port, nosub + "&producer=anyone")
    check("a JWT without sub may hold no producer id", st == 403, (st, err))
    st, err = refusal(port, "PlainTok83c1&subscribe=none&producer=anyone")
    check("a token-file token may (the id's secret guards it)", st == 101, (st, err))

run(main)
PYEOF

# The tools with a JWT: a producer named after the subject publishes, and
# the subscriber gets it.
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --token "$ALICE" --count 1 --timeout 20 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub with a JWT subscribes"
echo '{"type":"order","data":1}' | timeout 10 "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --token "$ALICE" \
	--producer alice.feed 2>"$T/pub.err"
check_eq "wsbridge-pub --producer alice.feed with alice's JWT exits 0" "$?" 0
wait_pid $SUB 20
check_eq "wsbridge-sub with the JWT got it" "$RC/$(jq -r .type "$T/sub.out")" "0/order"
echo '{"type":"order","data":1}' | timeout 10 "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --token "$ALICE" \
	--producer bob --retries 0 2>"$T/pub.bob.err"
check_eq "wsbridge-pub --producer bob with alice's JWT is refused (77)" "$?" 77
check_eq "/metrics with a JWT is 200" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ALICE" "$HTTP_URL/metrics")" 200

stop $SERVE_PID
check "serve logged each refusal's reason" grep -q 'refused a connection from 127.0.0.1: JWT expired$' "$SERVE_ERR"
check "and the browser's" grep -q 'refused a connection from 127.0.0.1: JWT expired (closed 1008 for a browser)' "$SERVE_ERR"
for s in "$SECRET" PlainTok83c1 "${ALICE##*.}"; do
	check "no log holds ${s:0:4}..." sh -c "! grep -qF -- '$s' '$SERVE_ERR' '$T/pub.err' '$T/pub.bob.err' '$T/sub.err' '$T'/py.*.out*"
done
finish
