#!/usr/bin/env bash
# --log-format json: every stderr line of serve is one JSON object with ts,
# level, prog and msg; text format is "wsbridge-serve: ..." lines.
. "$(dirname "$0")/../lib.sh"

start_serve --log-format json -v || { fail "serve starts"; finish; }
echo '{"type":"secret-body","data":"do-not-log-me"}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL"
stop $SERVE_PID
check_eq "serve exits 0" "$RC" 0
n=$(wc -l <"$SERVE_ERR")
check "serve logged several lines" test "$n" -ge 3
check "every line is a JSON object with ts, level, prog and msg" \
	jq -e -s 'all(.[]; (.ts|type)=="string" and (.level|test("^(error|warn|info|debug)$")) and .prog=="wsbridge-serve" and (.msg|type)=="string")' "$SERVE_ERR"
check "message bodies are never logged" bash -c "! grep -q do-not-log-me '$SERVE_ERR'"
finish
