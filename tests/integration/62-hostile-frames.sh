#!/usr/bin/env bash
# wsbridge-sub prints the truth (issue 7, finding 14, client side): exactly
# one compact JSON line per message even when the server pretty-prints it; a
# message that is not JSON is reported on stderr, never printed; a binary
# message fails the connection with 1003 and exit 65. A masked server frame
# (RFC 6455 §5.1; lws 4.1.6 would unmask it without telling, lib/lwsio.c
# refuses it before lws parses it) fails the connection with 1002 and exit
# 65, without printing it; so does one that comes in the same packet as the
# 101 answer.
. "$(dirname "$0")/../lib.sh"
once=(--retries 0 --retry-min 0.1 --retry-max 0.1)

start_hostile pretty || { fail "hostile server starts"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$HOSTILE_URL" --count 2 --timeout 10 "${once[@]}" \
	>"$T/pretty.out" 2>"$T/pretty.err" &
SUB=$!; track $SUB
wait_pid $SUB 15
check_eq "pretty-printed and non-JSON messages: sub exits 0 on --count 2" "$RC" 0
printf '%s\n' '{"type":"pretty","data":{"a":[1,2],"b":"x y"},"seq":1}' '{"type":"after","seq":2}' >"$T/want"
check "…one compact line per JSON message, nothing else" cmp -s "$T/want" "$T/pretty.out"
check "…the non-JSON message is reported, escaped onto one line" \
	grep -q 'not a wsbridge envelope (invalid JSON at byte 0.*"hello\\nworld"' "$T/pretty.err"
stop $HOSTILE_PID

start_hostile binary || { fail "hostile server starts"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$HOSTILE_URL" --timeout 10 "${once[@]}" >"$T/bin.out" 2>"$T/bin.err" &
SUB=$!; track $SUB
wait_pid $SUB 15
check_eq "a binary message: sub exits 65" "$RC" 65
check "…closing with 1003" hostile_saw '^close 1 1003'
check_eq "…printing nothing, not even what came after" "$(lines "$T/bin.out")" 0
check "…saying why" grep -q 'binary message' "$T/bin.err"
stop $HOSTILE_PID

for mode in masked masked101; do
	start_hostile $mode || { fail "hostile server starts"; finish; }
	"$WSB_BIN/wsbridge-sub" --url "$HOSTILE_URL" --count 1 --timeout 10 "${once[@]}" \
		>"$T/$mode.out" 2>"$T/$mode.err" &
	SUB=$!; track $SUB
	wait_pid $SUB 15
	check_eq "$mode: a masked frame fails the connection, sub exits 65" "$RC" 65
	check "…closing with 1002" hostile_saw '^close 1 1002'
	check_eq "…printing nothing" "$(lines "$T/$mode.out")" 0
	check "…saying why" grep -q 'masked frame from the server' "$T/$mode.err"
	check "…and not reconnecting" poll 2 hostile_saw '^eof 1'
	stop $HOSTILE_PID
done
finish
