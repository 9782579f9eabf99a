#!/usr/bin/env bash
# Without a journal a kill -9 and restart starts a new epoch: a resuming
# subscriber gets exactly one gap record with reason "epoch" and prints it
# in-band (--gap=mark, the default) and goes on with the new epoch's
# messages; --gap=fail exits 75 after writing what came before the gap.
. "$(dirname "$0")/../lib.sh"
retry=(--retry-min 0.05 --retry-max 0.3)
msg() { seq "$1" "$2" | sed 's/.*/{"type":"t","data":{"n":&}}/'; }

start_serve --history 1000 || { fail "serve starts"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" "${retry[@]}" --timeout 60 >"$T/mark.out" 2>"$T/mark.err" &
MARK=$!; track $MARK
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" "${retry[@]}" --gap=fail --timeout 60 >"$T/fail.out" 2>"$T/fail.err" &
FAIL=$!; track $FAIL
wait_subscribers 2 || fail "subs subscribe"
msg 1 100 | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --linger 10
check_eq "pub exits 0" "$?" 0
wait_lines "$T/mark.out" 100 || fail "sub --gap=mark gets 100 lines"
wait_lines "$T/fail.out" 100 || fail "sub --gap=fail gets 100 lines"

kill -KILL $SERVE_PID
wait_pid $SERVE_PID 10
start_serve --history 1000 || { fail "serve restarts on port $PORT"; finish; }
wait_pid $FAIL 20
check_eq "sub --gap=fail exits 75 at the gap" "$RC" 75
check "sub --gap=fail says why" grep -q 'gap: .*epoch' "$T/fail.err"
check_eq "sub --gap=fail wrote what came before the gap, nothing else" "$(lines "$T/fail.out")" 100

wait_subscribers 1 20 || fail "sub --gap=mark reconnects"
msg 101 150 | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --linger 10
check_eq "pub exits 0 after the restart" "$?" 0
wait_lines "$T/mark.out" 151 20 || fail "sub --gap=mark gets the new epoch's lines" "got $(lines "$T/mark.out")"
stop $MARK
check_eq "sub --gap=mark exits 0 on SIGTERM" "$RC" 0
check_eq "exactly one gap record, reason epoch, in-band after line 100" \
	"$(jq -c 'select(.type == "gap") | .reason' <"$T/mark.out" | tr '\n' ' ')$(sed -n '101p' "$T/mark.out" | jq -r .type)" \
	'"epoch" gap'
check_eq "then the new epoch's messages, in order" "$(jq -r 'select(.type == "t") | .data.n' <"$T/mark.out" | tr '\n' ' ')" \
	"$(seq 150 | tr '\n' ' ')"
check "sub --gap=mark warns on stderr too" grep -q 'gap: ' "$T/mark.err"
stop $SERVE_PID
finish
