#!/usr/bin/env bash
# wsbridge-pub input handling: --raw, empty lines skipped, a last line
# without newline still sent, files as operands in order, --control on sub,
# and --drop-oldest keeping the newest lines while the broker is away.
. "$(dirname "$0")/../lib.sh"

start_serve || { fail "serve starts"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --control --count 5 --timeout 20 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub subscribes"

printf 'plain text\n\n  \nsay "hi"\\n\nlast without newline' |
	"$WSB_BIN/wsbridge-pub" --url "$WS_URL" --raw --type log 2>"$T/pub1.err"
check_eq "pub --raw exits 0" "$?" 0
printf '{"type":"f","data":1}\n' >"$T/a.ndjson"
printf '{"type":"f","data":2}' >"$T/b.ndjson"
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" "$T/a.ndjson" "$T/b.ndjson" 2>"$T/pub2.err"
check_eq "pub FILE FILE exits 0" "$?" 0
wait_pid $SUB 20
check_eq "sub exits 0 after --count 5 data messages" "$RC" 0
check "--control prints the greeting first" test "$(head -1 "$T/sub.out" | jq -r .type)" = connection_established
got=$(jq -c 'select(.type != "connection_established") | [.type, .data]' "$T/sub.out" | tr '\n' ' ')
check_eq "raw lines as strings, empty ones skipped, the unterminated last one sent, files in order" \
	"$got" '["log","plain text"] ["log","say \"hi\"\\n"] ["log","last without newline"] ["f",1] ["f",2] '
stop $SERVE_PID

# --drop-oldest: 20 lines while nothing listens, --queue 5: the newest 5 go.
unset PORT
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
seq 20 | sed 's/.*/{"type":"d","data":&}/' >"$T/d.in"
"$WSB_BIN/wsbridge-pub" --url "ws://127.0.0.1:$PORT/ws" --queue 5 --drop-oldest --retry-min 0.1 --retry-max 0.3 \
	<"$T/d.in" 2>"$T/pub3.err" &
PUB=$!; track $PUB
# --drop-oldest applies once an attempt has failed: the input left waiting
# behind the full queue is read (and the oldest dropped) right after the
# first failure, so wait for the second before stopping pub.
check "pub keeps 5 of 20 while the broker is away" \
	poll 10 sh -c '[ "$(grep -c "with 5 lines queued" "$1")" -ge 2 ]' sh "$T/pub3.err"
kill -STOP $PUB
start_serve || { fail "serve restarts"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --count 5 --timeout 20 >"$T/d.out" 2>/dev/null &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub subscribes"
kill -CONT $PUB
wait_pid $PUB 20
check_eq "pub --drop-oldest exits 75: dropped lines were not accepted" "$RC" 75
check "pub says how many it dropped" grep -q "dropped 15 oldest lines" "$T/pub3.err"
wait_pid $SUB 20
check_eq "the newest 5 arrive" "$(jq -r .data "$T/d.out" | tr '\n' ' ')" "16 17 18 19 20 "
stop $SERVE_PID
finish
