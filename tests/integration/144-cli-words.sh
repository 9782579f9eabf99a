#!/usr/bin/env bash
# Messages and help that say what is true: a URL without a path is shown
# as "/" (not "//"); a comma-separated WSBRIDGE_URL is refused (blanks
# separate a list); --listen with a port out of range says so; --retries N
# means N attempts after the first; a 401 says whether a token was given
# and never echoes lws's text or the token; each tool's exit table speaks
# of that tool.
. "$(dirname "$0")/../lib.sh"
retry=(--retry-min 0.1 --retry-max 0.1)

start_serve || { fail "serve starts"; finish; }
timeout -k 2 20 "$WSB_BIN/wsbridge-sub" --url "ws://127.0.0.1:$PORT" >/dev/null 2>"$T/nopath.err"
check_eq "a URL without a path: 78" "$?" 78
check "... shown as \"/\"" grep -q 'no WebSocket at "/"; this broker serves /ws' "$T/nopath.err"
check "... never \"//\"" test "$(grep -c '"//"' "$T/nopath.err")" -eq 0

WSBRIDGE_URL="$WS_URL,$WS_URL" timeout -k 2 20 "$WSB_BIN/wsbridge-sub" --count 1 >/dev/null 2>"$T/comma.err"
check_eq "a comma-separated WSBRIDGE_URL: 64" "$?" 64
check "... saying to separate with blanks" grep -q "comma-separated list: separate several URLs with blanks" "$T/comma.err"

"$WSB_BIN/wsbridge-serve" --listen :99999 2>"$T/listen.err"
check_eq "--listen :99999: 64" "$?" 64
check "... the port is out of range" grep -q "port 99999 is out of range (0 to 65535)" "$T/listen.err"

# A port nothing listens on.
"$WSB_BIN/wsbridge-serve" --listen 127.0.0.1:0 2>"$T/gone.err" &
G=$!; track $G
poll 10 grep -q 'listening on' "$T/gone.err"
GPORT=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$T/gone.err")
stop $G
timeout -k 2 20 "$WSB_BIN/wsbridge-sub" --url "ws://127.0.0.1:$GPORT/ws" --retries 2 "${retry[@]}" 2>"$T/r2.err"
check_eq "--retries 2: 69" "$?" 69
check_eq "... 2 retries after the first attempt" "$(grep -c 'retrying in' "$T/r2.err")" 2
check "help says so" sh -c "'$WSB_BIN/wsbridge-sub' --help | grep -q 'attempts after a failed one before giving up'"
check "--count help: control lines do not count" sh -c "'$WSB_BIN/wsbridge-sub' --help | tr -s ' \\n' ' ' | grep -q -- '--control lines do not count'"

echo s3cret-token-value >"$T/tok"
PORT=
start_serve --token-file "$T/tok" || fail "serve with a token starts"
timeout -k 2 20 "$WSB_BIN/wsbridge-sub" --url "$WS_URL" 2>"$T/401a.err"
check_eq "no token: 77" "$?" 77
check "... 'no token given'" grep -q "HTTP 401: no token given" "$T/401a.err"
timeout -k 2 20 "$WSB_BIN/wsbridge-sub" --url "$WS_URL" --token wrong-secret 2>"$T/401b.err"
check_eq "a wrong token: 77" "$?" 77
check "... 'token refused'" grep -q "HTTP 401: token refused" "$T/401b.err"
check "... without the token" test "$(grep -c wrong-secret "$T/401b.err")" -eq 0
check "no lws text" test "$(cat "$T"/401?.err | grep -c 'HS: ')" -eq 0

# Exit tables in each tool's own words.
"$WSB_BIN/wsbridge-serve" --help >"$T/serve.help"
check "serve's 0 is not about acknowledged lines" test "$(grep -c 'every line acknowledged' "$T/serve.help")" -eq 0
"$WSB_BIN/wsbridge-replay" --help >"$T/replay.help"
check "replay's 78 does not speak of WebSocket paths" test "$(sed -n '/^Exit status/,/^Examples/p' "$T/replay.help" | grep -c WebSocket)" -eq 0
check "replay's 65 names a truncated .gz" grep -q "truncated or damaged .gz" "$T/replay.help"
check "wsbridge(7) keeps the general words" grep -q "every line acknowledged, .*count reached" "$WSB_TESTS/../docs/man/wsbridge.7"
finish
