#!/usr/bin/env bash
# wsbridge-sub --where (sent as ?filter=, run by the server) and --jq
# (every output of a program on each message, one compact line each).
. "$(dirname "$0")/../lib.sh"

# A mistake in --where is exit 64 with jq's message, before any connection.
"$WSB_BIN/wsbridge-sub" --url ws://127.0.0.1:9/ws --where '.data.qty >' --retries 0 2>"$T/bad.err"
check_eq "--where that does not compile: exit 64" "$?" 64
check "... with jq's message" grep -q 'syntax error' "$T/bad.err"
"$WSB_BIN/wsbridge-sub" --url ws://127.0.0.1:9/ws --jq '.[' --retries 0 2>"$T/badjq.err"
check_eq "--jq that does not compile: exit 64" "$?" 64

start_serve || { fail "serve starts"; finish; }
metric() { curl -sf "$HTTP_URL/metrics" | sed -n "s/^$1 //p"; }

"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --type order --where '.data.qty > 100' --count 2 --timeout 20 \
	>"$T/where" 2>"$T/where.err" & W=$!; track $W
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --jq '.data.items[]?, (.data.qty | tostring)' --count 4 --timeout 20 \
	>"$T/jq" 2>"$T/jq.err" & J=$!; track $J
wait_subscribers 2 || fail "2 subscribers"
check_eq "--where is the server's filter" "$(metric wsbridge_filter_subscribers)" 1

cat >"$T/in" <<'IN'
{"type":"order","data":{"qty":5,"items":["a","b"]}}
{"type":"order","data":{"qty":500}}
{"type":"tick","data":{"qty":900}}
{"type":"order","data":{"qty":101}}
IN
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" <"$T/in" 2>"$T/pub.err"
check_eq "pub exits 0" "$?" 0

wait_pid $W 20
check_eq "sub --where exits 0 after its count" "$RC" 0
check_eq "--where: only the orders over 100" "$(jq -c '.data.qty' "$T/where" | tr '\n' ' ')" "500 101 "
check_eq "the server ran it once per order" "$(metric wsbridge_filter_evaluations_total)" 3

wait_pid $J 20
check_eq "sub --jq exits 0 after 4 messages" "$RC" 0
check_eq "--jq: every output one compact line, strings as JSON" "$(tr '\n' ' ' <"$T/jq")" '"a" "b" "5" "500" "900" "101" '

# A run-time error skips that message (warned), and the end says so.
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --jq '.data.qty + 1' --count 2 --timeout 20 >"$T/rt" 2>"$T/rt.err" & J=$!
track $J
wait_subscribers 1 || fail "1 subscriber"
printf '%s\n' '{"type":"o","data":{"qty":"x"}}' '{"type":"o","data":{"qty":1}}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL"
wait_pid $J 20
check_eq "a message --jq failed on: exit 65 at the end" "$RC" 65
check_eq "... the others printed" "$(cat "$T/rt")" 2
check "... and the failure said" grep -q 'cannot be added' "$T/rt.err"
finish
