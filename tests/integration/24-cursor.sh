#!/usr/bin/env bash
# --cursor-file: a sub that stops after --count 100 and is started again
# with the same file continues exactly where it stopped; --since and
# --from-start ask for history; --snapshot starts with the latest message
# of each type.
. "$(dirname "$0")/../lib.sh"
msg() { seq "$1" "$2" | sed 's/.*/{"type":"t","data":{"n":&}}/'; }
nums() { jq -r 'select(.type == "t") | .data.n' <"$1" | tr '\n' ' '; }

start_serve --history 1000 || { fail "serve starts"; finish; }
msg 1 250 | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --linger 10
check_eq "pub exits 0" "$?" 0

"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --from-start --count 100 --timeout 10 --cursor-file "$T/cur" >"$T/a.out" 2>"$T/a.err"
check_eq "sub --from-start --count 100 exits 0" "$?" 0
check_eq "it printed 1..100" "$(nums "$T/a.out")" "$(seq 100 | tr '\n' ' ')"
check_eq "the cursor file names seq 100 and the epoch" "$(jq -c '[.seq, (.epoch | length)]' "$T/cur")" '[100,16]'

msg 251 300 | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --linger 10
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --count 200 --timeout 10 --cursor-file "$T/cur" >"$T/b.out" 2>"$T/b.err"
check_eq "sub restarted with the cursor exits 0 after 200 more" "$?" 0
check_eq "it continued at 101, no duplicate, no loss" "$(nums "$T/b.out")" "$(seq 101 300 | tr '\n' ' ')"
check_eq "the cursor moved to 300" "$(jq .seq "$T/cur")" 300

"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --since 280 --count 20 --timeout 10 >"$T/c.out"
check_eq "--since 280 starts at 281" "$(nums "$T/c.out")" "$(seq 281 300 | tr '\n' ' ')"
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --since 5 --epoch 0000000000000000 --count 1 --timeout 10 >"$T/d.out"
check_eq "--since in another epoch: a gap record first" "$(head -1 "$T/d.out" | jq -r '.type + " " + .reason')" "gap epoch"
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --since 5 --from-start 2>/dev/null
check_eq "--since with --from-start is a usage error" "$?" 64
echo 'not a cursor' >"$T/bad"
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --cursor-file "$T/bad" --count 1 --timeout 2 2>"$T/bad.err"
check_eq "a file that is not a cursor: exit 65" "$?" 65

printf '%s\n' '{"type":"q.a","data":1}' '{"type":"q.b","data":2}' '{"type":"q.a","data":3}' '{"type":"q.b","data":4}' |
	"$WSB_BIN/wsbridge-pub" --url "$WS_URL" --linger 10
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --snapshot --type 'q.*' --count 2 --timeout 5 >"$T/s.out" 2>"$T/s.err"
check_eq "--snapshot exits 0 with one message per type" "$?" 0
check_eq "--snapshot gives the latest of each type, in seq order" "$(jq -c '[.type, .data]' <"$T/s.out" | tr '\n' ' ')" \
	'["q.a",3] ["q.b",4] '
stop $SERVE_PID
finish
