#!/usr/bin/env bash
# serve is killed (SIGKILL) and restarted on the same port mid-stream: pub and
# sub reconnect by themselves, pub keeps the lines written while the server
# is down and they arrive after the restart; nothing is lost or duplicated.
. "$(dirname "$0")/../lib.sh"
A=2000 B=3500 N=5000	# 1..A before the kill, A+1..B while down, B+1..N after
retry=(--retry-min 0.1 --retry-max 0.5)

start_serve || { fail "serve starts"; finish; }
seq $N | sed 's/.*/{"type":"t","data":{"n":&}}/' >"$T/in"
seq $N >"$T/want"

mkfifo "$T/fifo"
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" "${retry[@]}" <"$T/fifo" 2>"$T/pub.err" &
PUB=$!; track $PUB
exec 3>"$T/fifo"	# pub's input, kept open; later processes get 3>&-
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" "${retry[@]}" --count $N --timeout 50 >"$T/sub.out" 2>"$T/sub.err" 3>&- &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub subscribes"

sed -n "1,${A}p" "$T/in" >&3
wait_lines "$T/sub.out" $A 20 ||
	fail "sub gets the first $A lines" "got $(lines "$T/sub.out"); /health: $(curl -s "$HTTP_URL/health")"
check_eq "/health messages_in before the kill" "$(health_field messages_in)" $A

kill -KILL $SERVE_PID
wait_pid $SERVE_PID 10
check "pub notices the server is gone" poll 10 grep -q disconnected "$T/pub.err"
check "sub notices the server is gone" poll 10 grep -q disconnected "$T/sub.err"

# Written while no server exists: pub must keep every one of them.
timeout 20 sed -n "$((A + 1)),${B}p" "$T/in" >&3
check "pub keeps the $((B - A)) lines written during the outage" \
	poll 20 grep -q "with $((B - A)) lines queued" "$T/pub.err"

# Hold pub while serve restarts so the subscriber is surely back first.
kill -STOP $PUB
start_serve 3>&- || { fail "serve restarts on port $PORT"; finish; }
wait_subscribers 1 20 || fail "sub reconnects and re-subscribes by itself"
kill -CONT $PUB
check "pub reconnects by itself and sends what it kept" wait_health messages_in $((B - A)) 20

sed -n "$((B + 1)),${N}p" "$T/in" >&3
exec 3>&-
wait_pid $PUB 30
check_eq "pub exits 0 at EOF" "$RC" 0
wait_pid $SUB 30
check_eq "sub exits 0 after --count $N" "$RC" 0
jq -r 'select(.type == "t") | .data.n' <"$T/sub.out" >"$T/got"
check "sub got all $N lines once each, in order" diff "$T/want" "$T/got"
# Without a journal the restart starts a new epoch: sub says so in-band, once.
check_eq "sub marks the restart with one gap record" \
	"$(jq -c 'select(.type == "gap") | [.reason, .to]' <"$T/sub.out" | tr '\n' ' ')" '["epoch",null] '
check "sub warns about the gap" grep -q 'gap: ' "$T/sub.err"
check_eq "restarted serve counted the kept and the later lines" "$(health_field messages_in)" $((N - A))
stop $SERVE_PID
check_eq "serve exits 0 on SIGTERM" "$RC" 0
finish
