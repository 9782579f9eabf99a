#!/usr/bin/env bash
# A subscriber stopped (SIGSTOP) while 20 000 messages of ~300 bytes are
# published falls past --max-queue and is closed with 4008; once it runs
# again it reconnects at once and resumes from its last seq out of the
# server's history: its output is complete and in order.
. "$(dirname "$0")/../lib.sh"
N=20000
retry=(--retry-min 0.05 --retry-max 0.3)

start_serve --max-queue 64k --max-stall 0 --history 100000 || { fail "serve starts"; finish; }
pad=$(head -c 250 /dev/zero | tr '\0' x)
seq $N | sed "s/.*/{\"type\":\"t\",\"data\":{\"n\":&,\"pad\":\"$pad\"}}/" >"$T/in"
seq $N >"$T/want"

"$WSB_BIN/wsbridge-sub" --url "$WS_URL" "${retry[@]}" --count $N --timeout 90 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub subscribes"
kill -STOP $SUB
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" --linger 30 <"$T/in" 2>"$T/pub.err"
check_eq "pub exits 0 while sub is stopped (--max-stall 0)" "$?" 0
check "serve closed the stopped sub as a slow consumer" wait_health slow_consumers_closed 1 20
kill -CONT $SUB
wait_pid $SUB 60
check_eq "sub exits 0 after --count $N" "$RC" 0
check "sub was told 4008 and resumed" grep -q 'slow consumer (4008' "$T/sub.err"
jq -r 'select(.type == "t") | .data.n' <"$T/sub.out" >"$T/got"
check "sub got 1..$N once each, in order" cmp -s "$T/want" "$T/got"
check_eq "no gap record" "$(grep -c '"type":"gap"' "$T/sub.out")" 0
stop $SERVE_PID
finish
