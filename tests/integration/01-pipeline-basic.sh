#!/usr/bin/env bash
# The README's three-terminal pipeline, end to end: serve, sub, pub.
. "$(dirname "$0")/../lib.sh"

start_serve || { fail "serve starts"; finish; }
pass "serve starts and /health answers"

"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --count 3 --timeout 20 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub subscribes"

printf '%s\n' '{"type":"order","data":{"symbol":"AAPL"}}' '{"data":1}' '  {"type" : "tick", "data" : [1, 2]}' 'not json' |
	"$WSB_BIN/wsbridge-pub" --url "$WS_URL" --type trade 2>"$T/pub.err"
check_eq "pub exits 0 after EOF" "$?" 0
check "pub reports the invalid line with its number" grep -q 'stdin:4: invalid JSON' "$T/pub.err"

wait_pid $SUB 20
check_eq "sub exits 0 after --count" "$RC" 0
check_eq "sub printed 3 lines" "$(lines "$T/sub.out")" 3
# pub adds its producer id and pseq (docs/protocol.md), the broker timestamp and seq.
check "type kept when present" grep -q '^{"type":"order","data":{"symbol":"AAPL"},"producer":"pub-[^"]*","pseq":1,"timestamp":"[0-9T:.-]*Z","seq":1}$' "$T/sub.out"
check "--type fills a missing type" grep -q '^{"type":"trade","data":1,"producer":"pub-[^"]*","pseq":2,"timestamp":"[^"]*","seq":2}$' "$T/sub.out"
check "white space compacted" grep -q '^{"type":"tick","data":\[1,2\],' "$T/sub.out"
check "/health counts the messages" test "$(health_field messages_in)" -eq 3
stop $SERVE_PID
check_eq "serve exits 0 on SIGTERM" "$RC" 0
finish
