#!/usr/bin/env bash
# 10 000 lines through wsbridge-pub reach 3 subscribers complete and in order.
. "$(dirname "$0")/../lib.sh"
N=10000

start_serve || { fail "serve starts"; finish; }
seq $N | sed 's/.*/{"type":"t","data":{"n":&}}/' >"$T/in"
seq $N >"$T/want"

subs=()
for i in 1 2 3; do
	"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --count $N --timeout 40 >"$T/sub$i.out" 2>"$T/sub$i.err" &
	subs+=($!); track $!
done
wait_subscribers 3 || fail "3 subscribers subscribe" "subscribers=$(health_field subscribers)"

"$WSB_BIN/wsbridge-pub" --url "$WS_URL" <"$T/in" 2>"$T/pub.err"
check_eq "pub exits 0 after EOF" "$?" 0

for i in 1 2 3; do
	wait_pid "${subs[$((i - 1))]}" 40
	check_eq "sub $i exits 0 after --count $N" "$RC" 0
	check_eq "sub $i got $N lines" "$(lines "$T/sub$i.out")" $N
	jq -r .data.n <"$T/sub$i.out" >"$T/got$i" 2>"$T/jq$i.err"
	check "sub $i: every n from 1 to $N, in order" cmp -s "$T/want" "$T/got$i"
	# seq is strictly increasing, without gaps, in every subscriber's stream
	jq -r .seq <"$T/sub$i.out" | awk 'NR > 1 && $1 != prev + 1 { bad = 1 } { prev = $1 } END { exit bad }'
	check_eq "sub $i: seq strictly increasing by 1" "$?" 0
done
check_eq "all subscribers saw the same seq numbers" \
	"$(jq -r .seq "$T/sub1.out" | md5sum)" "$(jq -r .seq "$T/sub3.out" | md5sum)"
check_eq "/health messages_in" "$(health_field messages_in)" $N
check "/health messages_out >= 3*$N" test "$(health_field messages_out)" -ge $((3 * N))
# Nothing is dropped unless a subscriber starved of CPU (a busy machine) was
# closed as slow; it then resumed from the history (its output is checked
# above), so the promise holds either way.
resumed=$(slow_resumes "$T"/sub*.err)
if [ "$resumed" -eq 0 ]; then
	check_eq "/health dropped" "$(health_field dropped)" 0
else
	echo "subscribers closed as slow and resumed: $resumed"
	check_eq "/health slow_consumers_closed = subscribers that resumed" "$(health_field slow_consumers_closed)" "$resumed"
fi
stop $SERVE_PID
check_eq "serve exits 0 on SIGTERM" "$RC" 0
finish
