#!/usr/bin/env bash
# GET /clients lists the WebSocket connections: id, remote address, path
# and query (never the token or producer_secret), producer, subscriptions,
# queued bytes, messages in/out and since when; with auth on it needs the
# token like the WebSocket does (401 even for a browser).
. "$(dirname "$0")/../lib.sh"
TOKEN=s3cr3t-t0ken-value

start_serve --token "$TOKEN" || { fail "serve starts"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$WS_URL?token=$TOKEN" --type 'order*' --type quote >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
poll 10 wcurl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" "$HTTP_URL/health" || fail "health with token"
have_subs() { wcurl -sf -H "Authorization: Bearer $TOKEN" "$HTTP_URL/clients" | grep -q '"count":1'; }
check "the subscriber is listed" poll 10 have_subs
printf '{"type":"order","n":1}\n{"type":"order","n":2}\n' |
	"$WSB_BIN/wsbridge-pub" --url "$WS_URL" --token "$TOKEN" --state-file "$T/st" 2>"$T/pub.err"
wait_lines "$T/sub.out" 2 10

code=$(wcurl -s -o "$T/noauth.out" -w '%{http_code}' "$HTTP_URL/clients")
check_eq "without the token: 401" "$code" 401
# A browser's upgrade without the token is let in to be closed with 1008;
# a plain request with an Origin must not pass for that.
code=$(wcurl -s -o /dev/null -w '%{http_code}' -H 'Origin: http://evil.example' "$HTTP_URL/clients")
check_eq "an Origin header is no token: 401" "$code" 401
code=$(wcurl -s -o /dev/null -w '%{http_code}' -H 'Origin: http://evil.example' "$HTTP_URL/clients?token=wrong")
check_eq "nor with a wrong one" "$code" 401
wcurl -sf "$HTTP_URL/clients?token=$TOKEN" >"$T/clients.json"
check_eq "with it: 200" "$?" 0
pyrun 10 - "$T/clients.json" "$TOKEN" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
doc = json.loads(text)
ok = lambda c, name: print(("PASS " if c else "FAIL ") + name)
ok(doc["count"] == len(doc["clients"]) == 1, "one connection (the publisher has left)")
c = doc["clients"][0]
ok(c["remote"] == "127.0.0.1", "remote address")
ok(c["path"] == "/ws", "path")
ok("type=order%2A" in c["query"] or "type=order*" in c["query"], "query kept: %s" % c["query"])
ok(sys.argv[2] not in text and "token" not in c["query"], "no token anywhere in the answer")
ok(sorted(c["subscriptions"]) == ["order*", "quote"], "subscriptions %s" % c["subscriptions"])
ok(c["messages_out"] >= 3 and c["messages_in"] == 0, "messages in/out (greeting + 2)")
ok(c["queued_bytes"] == 0, "queued bytes")
ok(c["connected_since"].endswith("Z") and c["id"], "id and connected_since")
PY

# A producer is listed with its id, never its secret.
mkfifo "$T/fifo"
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" --token "$TOKEN" --state-file "$T/st" <"$T/fifo" 2>"$T/pub2.err" &
PUB=$!; track $PUB
exec 3>"$T/fifo"
echo '{"type":"order","n":3}' >&3
wait_lines "$T/sub.out" 3 10
wcurl -sf -H "Authorization: Bearer $TOKEN" "$HTTP_URL/clients" >"$T/clients2.json"
secret=$(sed -n 's/.*"producer_secret":"\([0-9a-f]*\)".*/\1/p' "$T/st")
check "the publisher is listed by its producer id" grep -q '"producer":"pub-' "$T/clients2.json"
check "its secret is known (${#secret} chars) and not shown" test -n "$secret" -a -z "$(grep -o "$secret" "$T/clients2.json")"
check "nor the producer_secret argument" test -z "$(grep -o producer_secret "$T/clients2.json")"
exec 3>&-
wait_pid $PUB 10
finish
