#!/usr/bin/env bash
# kill -9 of the instance a subscriber and a publisher are connected to,
# mid-stream, with --url A --url B: both move to B by themselves; the
# subscriber ends with every message exactly once and no gap (B resumes it
# from the stream's history), the publisher exits 0 (what A acknowledged is
# in Redis; what it did not is resent to B and deduplicated there).
. "$(dirname "$0")/../lib.sh"
. "$WSB_TESTS/cluster.sh"
K=1500 N=3000	# 1..K before the kill, the rest after
retry=(--retry-min 0.1 --retry-max 0.5)

start_redis || { fail "redis starts"; finish; }
start_instance A || { fail "instance A starts"; finish; }
start_instance B || { fail "instance B starts"; finish; }
check "both instances: cluster ok" wait_cluster A ok && wait_cluster B ok

"$WSB_BIN/wsbridge-sub" -v --url "$A_WS" --url "$B_WS" "${retry[@]}" --count $N --timeout 60 \
	>"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
check "sub is on A" wait_subs A 1

seq $N | sed 's/.*/{"type":"t","data":{"n":&}}/' >"$T/in"
mkfifo "$T/fifo"
"$WSB_BIN/wsbridge-pub" -v --url "$A_WS" --url "$B_WS" "${retry[@]}" --producer fo <"$T/fifo" 2>"$T/pub.err" &
PUB=$!; track $PUB
exec 3>"$T/fifo"
sed -n "1,${K}p" "$T/in" >&3
wait_lines "$T/sub.out" $((K / 2)) 20 || fail "sub gets lines through A" "got $(lines "$T/sub.out")"

# Mid-stream: the rest is still being written when A dies.
sed -n "$((K + 1)),${N}p" "$T/in" >&3 &
WRITER=$!; track $WRITER
kill -KILL "$A_PID"
wait_pid "$A_PID" 10
wait_pid $WRITER 30
exec 3>&-

wait_pid $PUB 60
check_eq "pub exits 0 after moving to B" "$RC" 0
check "pub moved to B by itself" grep -q "connected to $B_WS" "$T/pub.err"
wait_pid $SUB 60
check_eq "sub gets all $N" "$RC" 0
check "sub moved to B by itself" grep -q "connected to $B_WS" "$T/sub.err"
jq -r 'select(.type == "t") | .data.n' <"$T/sub.out" >"$T/got"
check "every message exactly once, in order" cmp "$T/got" <(seq $N)
check_eq "no gap record" "$(grep -c '"type":"gap"' "$T/sub.out")" 0
jq -r .seq <"$T/sub.out" >"$T/seqs"
check "seqs without a hole or a repeat" cmp "$T/seqs" <(seq "$(head -1 "$T/seqs")" "$(tail -1 "$T/seqs")")
stop "$B_PID"
check_eq "B exits 0 on SIGTERM" "$RC" 0
finish
