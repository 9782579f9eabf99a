#!/usr/bin/env bash
# wsbridge-pub started before the server exists keeps its input while it
# retries, connects once serve is up and delivers everything, in order.
. "$(dirname "$0")/../lib.sh"
N=6000 H=3000	# H lines are read before serve exists, the rest after

PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export PORT
PICKED=$PORT
WS_URL="ws://127.0.0.1:$PORT/ws"
seq $N | sed 's/.*/{"type":"t","data":{"n":&}}/' >"$T/in"
seq $N >"$T/want"
retry=(--retry-min 0.1 --retry-max 0.5)

mkfifo "$T/fifo"
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" "${retry[@]}" <"$T/fifo" 2>"$T/pub.err" &
PUB=$!; track $PUB
exec 3>"$T/fifo"	# pub's input; processes started later must not inherit it (3>&-)
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" "${retry[@]}" --count $N --timeout 40 >"$T/sub.out" 2>"$T/sub.err" 3>&- &
SUB=$!; track $SUB

# The first H lines (more than a pipe holds) are written before serve
# exists: the write completes only because pub reads and keeps them.
timeout 20 head -n $H "$T/in" >&3
check_eq "pub reads its input while no server exists" "$?" 0
check "pub keeps all $H lines while retrying" poll 20 grep -q "retrying in .* with $H lines queued" "$T/pub.err"
check "sub retries while no server exists" poll 10 grep -q "retrying in" "$T/sub.err"

# So that the subscriber is surely there before pub's messages arrive, pub is
# held (SIGSTOP) while serve starts and sub connects, then let go.
kill -STOP $PUB
start_serve 3>&- || { fail "serve starts on port $PORT"; finish; }
check_eq "serve took the port picked in advance" "$PORT" "$PICKED"
wait_subscribers 1 20 || fail "sub connects by itself once serve is up"
kill -CONT $PUB

tail -n +$((H + 1)) "$T/in" >&3
exec 3>&-
wait_pid $PUB 30
check_eq "pub connects by itself, sends everything and exits 0" "$RC" 0
wait_pid $SUB 30
check_eq "sub exits 0 after --count $N" "$RC" 0
jq -r .data.n <"$T/sub.out" >"$T/got"
check "sub got all $N lines in order" cmp -s "$T/want" "$T/got"
check_eq "/health messages_in" "$(health_field messages_in)" $N
stop $SERVE_PID
check_eq "serve exits 0 on SIGTERM" "$RC" 0
finish
