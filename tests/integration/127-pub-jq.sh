#!/usr/bin/env bash
# wsbridge-pub --jq (each input line becomes the 0..n messages a jq program
# outputs; with --raw the line is a JSON string) and --type-from (the type
# from any jq path).
. "$(dirname "$0")/../lib.sh"

bad() { "$WSB_BIN/wsbridge-pub" --url ws://127.0.0.1:9/ws --retries 0 "$@" </dev/null 2>"$T/bad.err"; }
bad --jq '.['
check_eq "--jq that does not compile: exit 64" "$?" 64
check "... named, with jq's message" grep -q -- '--jq: .*syntax error' "$T/bad.err"
bad --type-from '.data.'
check_eq "--type-from that does not compile: exit 64" "$?" 64
check "... named" grep -q -- '--type-from: ' "$T/bad.err"

start_serve || { fail "serve starts"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --count 7 --timeout 20 >"$T/out" 2>"$T/sub.err" & S=$!
track $S
wait_subscribers 1 || fail "1 subscriber"

# A CSV log into typed events; a line the program fails on is skipped.
printf '%s\n' 'fill,AAPL,100' 'cancel,MSFT,5' 'fill,IBM,notanumber' 'fill,MSFT,7' >"$T/log.csv"
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" --raw \
	--jq 'split(",") | {type: .[0], data: {symbol: .[1], qty: (.[2] | tonumber)}}' "$T/log.csv" 2>"$T/csv.err"
check_eq "--raw --jq: exit 0 (a bad line is skipped)" "$?" 0
check "... and named" grep -q 'log.csv:3: --jq' "$T/csv.err"

# One line, many messages (and none); the type from a path.
printf '%s\n' '{"batch":[{"kind":"a","v":1},{"kind":"b","v":2},{"kind":"a","v":3}]}' '{"batch":[]}' \
	'{"batch":[{"kind":"c","v":4}]}' >"$T/batches"
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" --jq '.batch[] | {data: .}' --type-from '.data.kind' "$T/batches" 2>"$T/b.err"
check_eq "--jq with --type-from: exit 0" "$?" 0

# A type that is not a string is a bad line: --strict stops there (65).
echo '{"data":{"kind":7}}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --type-from .data.kind --strict 2>"$T/nt.err"
check_eq "--type-from not a string with --strict: exit 65" "$?" 65
check "... said" grep -q 'not a string' "$T/nt.err"

wait_pid $S 20
check_eq "sub got all 7" "$RC" 0
check_eq "CSV lines became typed events, in order" \
	"$(jq -r 'select(.data.symbol) | .type + ":" + .data.symbol + ":" + (.data.qty | tostring)' "$T/out" | tr '\n' ' ')" \
	"fill:AAPL:100 cancel:MSFT:5 fill:MSFT:7 "
check_eq "one line, 0..n messages, typed from the path" \
	"$(jq -r 'select(.data.v) | .type + (.data.v | tostring)' "$T/out" | tr '\n' ' ')" "a1 b2 a3 c4 "
check_eq "each message has its own pseq" "$(jq -r '.pseq' "$T/out" | sort -n | uniq | wc -l)" 4
check "... and the --raw ones theirs" test "$(jq -r 'select(.data.symbol) | .pseq' "$T/out" | tr '\n' ' ')" = "1 2 3 "
finish
