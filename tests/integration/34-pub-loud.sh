#!/usr/bin/env bash
# wsbridge-pub says what it is doing and does not wait for nothing:
# - empty input: nothing to acknowledge, exit 0 at once (not after --linger),
#   whether the broker is up or not;
# - a line over the broker's --max-message (told in the greeting) is skipped
#   and reported like an invalid line, the feed goes on; --strict exits 65
#   and sends nothing after it;
# - Ctrl-C while waiting for acknowledgements says so at once; a second
#   Ctrl-C quits with 75 and the count.
. "$(dirname "$0")/../lib.sh"
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

start_serve --max-message 200 || { fail "serve starts"; finish; }
t0=$(date +%s%N)
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" </dev/null 2>"$T/empty.err"
rc=$? ms=$(ms_since "$t0")
check_eq "empty input exits 0" "$rc" 0
check "at once (${ms} ms, --linger is 30 s)" test "$ms" -lt 3000
t0=$(date +%s%N)
"$WSB_BIN/wsbridge-pub" --url "ws://127.0.0.1:1/ws" </dev/null 2>"$T/empty2.err"
rc=$? ms=$(ms_since "$t0")
check_eq "empty input with no broker exits 0 at once (${ms} ms)" "$rc.$((ms < 3000))" 0.1

# Line 2 is over the broker's 200 bytes, line 3 must still arrive.
{
	echo '{"type":"t","n":1}'
	printf '{"type":"t","n":2,"pad":"%0300d"}\n' 0
	echo '{"type":"t","n":3}'
} >"$T/in.ndjson"
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --type t >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub connects"
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" "$T/in.ndjson" 2>"$T/big.err"
check_eq "a line over --max-message does not end the feed (exit 0)" "$?" 0
check "it is reported by file and line" grep -q "in.ndjson:2: longer than the broker's --max-message (200 bytes) (skipped)" "$T/big.err"
check "and counted" grep -q 'skipped 1 line (invalid or too long)' "$T/big.err"
wait_lines "$T/sub.out" 2 10
check "the line after it arrives" grep -q '"n":3' "$T/sub.out"
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" --strict "$T/in.ndjson" 2>"$T/strict.err"
check_eq "--strict still exits 65" "$?" 65
echo '{"type":"t","n":"end"}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL"
wait_lines "$T/sub.out" 4 10
check_eq "--strict sent line 1 and nothing after line 2" "$(grep -c '"n":3' "$T/sub.out").$(lines "$T/sub.out")" 1.4

# A broker that takes the connection and never greets: the line waits.
start_hostile silent || { fail "hostile server starts"; finish; }
echo '{"type":"t"}' | "$WSB_BIN/wsbridge-pub" --url "$HOSTILE_URL" 2>"$T/int.err" &
PUB=$!; track $PUB
poll 10 hostile_saw "handshake 1" || fail "pub connects"
kill -INT $PUB
check "the first Ctrl-C says what pub waits for" poll 3 grep -Eq \
	'interrupted: waiting up to (30|29) s for 1 unacknowledged line; Ctrl-C again to quit' "$T/int.err"
check "and pub keeps waiting" kill -0 $PUB
kill -INT $PUB
wait_pid $PUB 5
check_eq "the second Ctrl-C quits with 75" "$RC" 75
check "naming what was not acknowledged" grep -q 'interrupted; 1 line not acknowledged, first: stdin:1' "$T/int.err"
finish
