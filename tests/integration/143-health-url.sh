#!/usr/bin/env bash
# wsbridge-health and a wrong URL: a path with no /health (404) and the
# broker's WebSocket path (426) are configuration errors, 78 like a --ws
# path with no WebSocket, each saying what to give instead; with --ws an
# http(s) URL whose path is the WebSocket (a broker's own --path) is
# probed as such, its /health beside it.
. "$(dirname "$0")/../lib.sh"
H="$WSB_BIN/wsbridge-health"

start_serve --path /feed || { fail "serve starts"; finish; }
timeout -k 2 20 "$H" --url "$HTTP_URL/nope" >/dev/null 2>"$T/404.err"
check_eq "a path without /health exits 78" "$?" 78
check "... giving the broker's address" grep -q "no /health at \"/nope\" (HTTP 404): give the broker's address, http://127.0.0.1:$PORT" "$T/404.err"
timeout -k 2 20 "$H" --url "$HTTP_URL/feed" >/dev/null 2>"$T/426.err"
check_eq "the WebSocket path over http exits 78" "$?" 78
check "... saying it is the WebSocket path" grep -q '"/feed" is the broker.s WebSocket path (HTTP 426).*--ws' "$T/426.err"
timeout -k 2 20 "$H" --url "$HTTP_URL/feed" --ws >"$T/ws.out" 2>"$T/ws.err"
check_eq "--ws with http://HOST/feed (broker --path /feed): exit 0" "$?" 0
check "... probed /health" grep -q "\"url\":\"http://127.0.0.1:$PORT/health\"" "$T/ws.out"
timeout -k 2 20 "$H" --url "ws://127.0.0.1:$PORT/feed" --ws >/dev/null 2>&1
check_eq "--ws with ws://HOST/feed: exit 0" "$?" 0
timeout -k 2 20 "$H" --url "$HTTP_URL" --ws >/dev/null 2>"$T/wsdef.err"
check_eq "--ws at the default /ws of a /feed broker: 78" "$?" 78
check "... naming the path it serves" grep -q 'this broker serves /feed' "$T/wsdef.err"
finish
