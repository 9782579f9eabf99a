#!/usr/bin/env bash
# Connection failures are loud and named:
# - wsbridge-sub --timeout that never connected exits 69 with the reason,
#   not 0 with an empty output;
# - a wrong path (HTTP 404 on the upgrade) fails at once with 78 and the
#   path the broker's / advertises, for sub, pub and wsbridge-health --ws;
# - errors name the URL and the cause in words (connection refused; ws://
#   to a TLS port), and recovery is announced (reconnected ... after N s).
. "$(dirname "$0")/../lib.sh"
retry=(--retry-min 0.1 --retry-max 0.3)

start_serve || { fail "serve starts"; finish; }
# A port nothing listens on: one a server had and gave back.
"$WSB_BIN/wsbridge-serve" --listen 127.0.0.1:0 2>"$T/gone.err" &
GONE=$!; track $GONE
poll 10 grep -q 'listening on' "$T/gone.err"
GPORT=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$T/gone.err")
stop $GONE
DEAD="ws://127.0.0.1:$GPORT/ws"

"$WSB_BIN/wsbridge-sub" --url "$DEAD" --timeout 1 "${retry[@]}" >"$T/never.out" 2>"$T/never.err"
check_eq "sub --timeout that never connected exits 69" "$?" 69
check "and says why, naming the URL" grep -q "never connected within --timeout 1s: cannot connect to $DEAD: connection refused" "$T/never.err"
check "each retry names the URL and the cause" grep -q "warning: cannot connect to $DEAD: connection refused .*; retrying in" "$T/never.err"

t0=$(date +%s)
"$WSB_BIN/wsbridge-sub" --url "http://127.0.0.1:$PORT/nope" >/dev/null 2>"$T/404.err"
rc=$?
check_eq "sub on a wrong path exits 78" "$rc" 78
check "at once ($(($(date +%s) - t0)) s)" test $(($(date +%s) - t0)) -le 3
check "with the path the broker serves" grep -q 'no WebSocket at "/nope"; this broker serves /ws' "$T/404.err"
check "and no retry" test "$(grep -c retrying "$T/404.err")" -eq 0
echo '{"type":"t"}' | "$WSB_BIN/wsbridge-pub" --url "ws://127.0.0.1:$PORT/wx?type=a" 2>"$T/404p.err"
check_eq "pub on a wrong path exits 78" "$?" 78
check "with the same hint (no query in it)" grep -q 'no WebSocket at "/wx"; this broker serves /ws' "$T/404p.err"
"$WSB_BIN/wsbridge-health" --url "$HTTP_URL" --ws --ws-path /nope >"$T/404h.out" 2>"$T/404h.err"
check_eq "wsbridge-health --ws on a wrong path exits 78" "$?" 78
check "and gives the hint" grep -q 'no WebSocket at \\"/nope\\"; this broker serves /ws' "$T/404h.out"

make_test_cert
PORT=
start_serve --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" || fail "TLS serve starts"
TLS_WS="ws://127.0.0.1:$PORT/ws"
"$WSB_BIN/wsbridge-sub" --url "$TLS_WS" --timeout 1 "${retry[@]}" >/dev/null 2>"$T/tls.err"
check_eq "ws:// to a TLS port exits 78 (a wrong URL, no retry mends it)" "$?" 78
check "saying to use wss://" grep -q "cannot connect to $TLS_WS: the broker speaks TLS: use wss://" "$T/tls.err"
stop "$SERVE_PID"

# Recovery: connected, the broker restarts on the same port, sub says so.
PORT=$GPORT
start_serve || fail "serve on the freed port"
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" "${retry[@]}" >/dev/null 2>"$T/re.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub connects"
stop "$SERVE_PID"
check "sub says it is disconnected, naming the URL" poll 10 grep -q "disconnected from $WS_URL" "$T/re.err"
start_serve || fail "serve restarts"
check "and announces the recovery" poll 10 grep -Eq "warning: reconnected to $WS_URL after [0-9.]+ s" "$T/re.err"
finish
