#!/usr/bin/env bash
# Past --max-memory the broker stops reading publishers instead of dropping:
# with one subscriber stopped (SIGSTOP) and stalls disabled, queued memory
# fills, /health shows publishers_paused, the publisher cannot finish; when
# the subscriber resumes, everything arrives and nothing was dropped.
. "$(dirname "$0")/../lib.sh"
N=20000

start_serve --max-memory 256k --max-queue 4M --max-stall 0 || { fail "serve starts"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --count $N --timeout 60 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub subscribes"
kill -STOP $SUB

pad=$(printf '%0200d' 0)
seq $N | sed "s/.*/{\"type\":\"m\",\"data\":{\"n\":&,\"pad\":\"$pad\"}}/" >"$T/in"
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" <"$T/in" 2>"$T/pub.err" &
PUB=$!; track $PUB

_paused() { curl -sf "$HTTP_URL/health" | grep -q '"publishers_paused":true'; }
check "publishers are paused once queued memory passes --max-memory" poll 20 _paused
q=$(health_field queued_bytes)
check "queued memory stays near the limit (got $q bytes)" test "${q:-0}" -lt $((4 * 256 * 1024))
check "the publisher is held back, not finished" test "$(cut -d' ' -f3 /proc/$PUB/stat 2>/dev/null)" != Z

kill -CONT $SUB
wait_pid $PUB 60
check_eq "pub exits 0 once the subscriber drains" "$RC" 0
wait_pid $SUB 60
check_eq "sub gets all $N" "$RC" 0
jq -r .data.n <"$T/sub.out" >"$T/got"
seq $N >"$T/want"
check "in order, none missing" cmp -s "$T/want" "$T/got"
check_eq "nothing dropped" "$(health_field dropped)" 0
check_eq "no slow-consumer close" "$(health_field slow_consumers_closed)" 0
stop $SERVE_PID
finish
