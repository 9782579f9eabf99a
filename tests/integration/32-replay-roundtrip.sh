#!/usr/bin/env bash
# Record with wsbridge-sub, replay into wsbridge-pub, record again: the same
# messages come back (type, data and the recorded timestamp; seq is new).
. "$(dirname "$0")/../lib.sh"
N=50

start_serve || { fail "serve starts"; finish; }

"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --count $N --timeout 30 >"$T/rec.ndjson" 2>"$T/sub1.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "first sub subscribes"
for i in $(seq 1 $N); do
	printf '{"type":"%s","data":{"i":%d,"s":"caf\\u00e9 %d"}}\n' "$([ $((i % 3)) = 0 ] && echo order || echo tick)" "$i" "$i"
done | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" 2>"$T/pub1.err"
check_eq "first pub exits 0" "$?" 0
wait_pid $SUB 30
check_eq "recording sub exits 0" "$RC" 0
check_eq "recorded $N messages" "$(lines "$T/rec.ndjson")" $N
# so that the next wait_subscribers sees the new subscriber, not this one
no_subscribers() { [ "$(health_field subscribers)" = 0 ]; }
poll 10 no_subscribers || fail "first sub leaves"

"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --count $N --timeout 30 >"$T/again.ndjson" 2>"$T/sub2.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "second sub subscribes"
"$WSB_BIN/wsbridge-replay" --speed 0 --strip-seq "$T/rec.ndjson" 2>"$T/replay.err" |
	"$WSB_BIN/wsbridge-pub" --url "$WS_URL" 2>"$T/pub2.err"
check_eq "replay | pub: both exit 0" "${PIPESTATUS[*]}" "0 0"
wait_pid $SUB 30
check_eq "second sub exits 0" "$RC" 0

jq -c '{type, data, timestamp}' "$T/rec.ndjson" >"$T/rec.cmp"
jq -c '{type, data, timestamp}' "$T/again.ndjson" >"$T/again.cmp"
check "same type, data and timestamp, in order" cmp -s "$T/rec.cmp" "$T/again.cmp"
check "seq is the server's new one" test "$(head -1 "$T/again.ndjson" | jq .seq)" -gt "$(tail -1 "$T/rec.ndjson" | jq .seq)"
stop $SERVE_PID
finish
