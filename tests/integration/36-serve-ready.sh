#!/usr/bin/env bash
# Starting and scripting without guesswork:
# - wsbridge-serve --ready-fd N writes the port it listens on to N and
#   closes it; --pid-file F holds its pid while it runs; --listen takes PORT
#   alone (loopback) and localhost:PORT;
# - the clients take the URL as an operand (ws://, wss://; pub's other
#   operands stay files);
# - an unknown option suggests the nearest one.
. "$(dirname "$0")/../lib.sh"

mkfifo "$T/ready"
"$WSB_BIN/wsbridge-serve" --listen 0 --ready-fd 3 --pid-file "$T/serve.pid" 3>"$T/ready" 2>"$T/serve.err" &
SPID=$!; track $SPID
port=$(timeout 10 cat "$T/ready")
check_eq "--ready-fd: the line is written and the descriptor closed (cat saw EOF)" "$?" 0
check "--ready-fd: the line is the port (${port:-none})" test -n "$port" -a "$port" -gt 0
check "--listen PORT listens on the loopback address" grep -q "listening on 127.0.0.1:$port " "$T/serve.err"
check "and it answers there at once" curl -sf -o /dev/null "http://127.0.0.1:$port/health"
check_eq "--pid-file holds the pid" "$(cat "$T/serve.pid" 2>/dev/null)" "$SPID"
stop $SPID
check_eq "serve stops cleanly" "$RC" 0
check "and removes the pid file" test ! -e "$T/serve.pid"

"$WSB_BIN/wsbridge-serve" --listen 0 --ready-fd 7 2>"$T/badfd.err"
check_eq "--ready-fd on a closed descriptor is a usage error" "$?" 64
check "...saying so" grep -q -- '--ready-fd 7: not an open descriptor' "$T/badfd.err"

PORT=
start_serve --listen localhost:0 || fail "--listen localhost:PORT is accepted"
check "localhost is the loopback address" grep -Eq 'listening on (127.0.0.1|\[::1\]):' "$SERVE_ERR"
stop "$SERVE_PID"

PORT=
start_serve || { fail "serve starts"; finish; }
"$WSB_BIN/wsbridge-sub" "$WS_URL" --count 2 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub takes the URL as an operand"
printf '{"type":"a"}\n{"type":"b"}\n' >"$T/in.ndjson"
"$WSB_BIN/wsbridge-pub" "$WS_URL" "$T/in.ndjson" 2>"$T/pub.err"
check_eq "pub takes the URL and FILE operands" "$?" 0
wait_pid $SUB 10
check_eq "sub got both lines" "$RC.$(lines "$T/sub.out")" 0.2
"$WSB_BIN/wsbridge-sub" "$WS_URL" "ws://127.0.0.1:1/ws" 2>"$T/two.err"
check_eq "two URL operands are a usage error" "$?" 64
"$WSB_BIN/wsbridge-sub" "$WS_URL" extra 2>"$T/extra.err"
check_eq "sub takes no other operand" "$?" 64

"$WSB_BIN/wsbridge-sub" --tpye order 2>"$T/typo.err"
check_eq "an unknown option exits 64" "$?" 64
check "and suggests the nearest one" grep -q "unknown option '--tpye' (did you mean --type?)" "$T/typo.err"
"$WSB_BIN/wsbridge-serve" --max-conn 3 2>"$T/typo2.err"
check "a prefix suggests the option it starts" grep -q "did you mean --max-connections" "$T/typo2.err"
"$WSB_BIN/wsbridge-sub" --linger 3 2>"$T/typo3.err"
check "another tool's option says whose it is" grep -q "an option of wsbridge-pub" "$T/typo3.err"
finish
