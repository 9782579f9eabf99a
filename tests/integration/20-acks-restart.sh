#!/usr/bin/env bash
# Acknowledged publishing with a journal: serve is killed (SIGKILL) while
# 20 000 lines stream through it and restarted on the same port and journal.
# pub resends only what the restarted server has not got and exits 0; sub
# resumes from its last seq: its output is 1..N once each, in order, with no
# gap record.
. "$(dirname "$0")/../lib.sh"
N=20000 KILL_AT=5000
retry=(--retry-min 0.05 --retry-max 0.3)
srv=(--journal "$T/journal" --history 100000)

start_serve "${srv[@]}" || { fail "serve starts"; finish; }
seq $N >"$T/want"

"$WSB_BIN/wsbridge-sub" --url "$WS_URL" "${retry[@]}" --count $N --timeout 90 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub subscribes"

mkfifo "$T/fifo"
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" "${retry[@]}" --linger 60 <"$T/fifo" 2>"$T/pub.err" &
PUB=$!; track $PUB
# A steady trickle (about 5 s in all), so the kill lands mid-stream with
# messages in flight, not between two bursts.
(
	for ((i = 0; i < N; i += 100)); do
		seq $((i + 1)) $((i + 100)) | sed 's/.*/{"type":"t","data":{"n":&}}/'
		sleep 0.025
	done
) >"$T/fifo" &
GEN=$!; track $GEN

wait_lines "$T/sub.out" $KILL_AT 30 || fail "sub gets $KILL_AT lines before the kill" "got $(lines "$T/sub.out")"
kill -KILL $SERVE_PID
wait_pid $SERVE_PID 10
check "pub notices the server is gone" poll 10 grep -q disconnected "$T/pub.err"
start_serve "${srv[@]}" || { fail "serve restarts on port $PORT with its journal"; finish; }

wait_pid $GEN 60
wait_pid $PUB 60
check_eq "pub exits 0: every line acknowledged" "$RC" 0
wait_pid $SUB 60
check_eq "sub exits 0 after --count $N" "$RC" 0
jq -r 'select(.type == "t") | .data.n' <"$T/sub.out" >"$T/got"
check "sub got 1..$N once each, in order" cmp -s "$T/want" "$T/got" ||
	{ diff "$T/want" "$T/got" | head -5; }
check_eq "no gap record: the journal kept the epoch" "$(grep -c '"type":"gap"' "$T/sub.out")" 0
check_eq "pub's pseq runs 1..N" "$(jq -r .pseq <"$T/sub.out" | sort -n | uniq | wc -l | tr -d ' ')" $N
stop $SERVE_PID
check_eq "serve exits 0 on SIGTERM" "$RC" 0
finish
