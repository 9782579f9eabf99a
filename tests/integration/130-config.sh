#!/usr/bin/env bash
# --config FILE, WSBRIDGE_* variables for every option, their precedence
# (command line > environment > file > default) and --dump-config: on the
# real binaries. A serve started from a file alone listens, requires the
# file's token and caps messages at the file's --max-message; an unknown
# option in a file exits 78 naming the line; the token is never printed.
. "$(dirname "$0")/../lib.sh"

TOK=cfg-secret-$$-x7
cat >"$T/serve.conf" <<CONF
# a comment, then blank lines

listen 127.0.0.1:0
--max-message=4k
token $TOK
history 7
allow-origin "https://a.example"
console-publish
CONF

dump() { "$WSB_BIN/wsbridge-serve" "$@" --dump-config; }
dump --config "$T/serve.conf" >"$T/dump1"
check_eq "--dump-config exits 0" "$?" 0
check "file values show: max-message 4k, history 7, the origin, the flag" \
	sh -c "grep -qx 'max-message 4k' '$T/dump1' && grep -qx 'history 7' '$T/dump1' &&
	       grep -qx 'allow-origin https://a.example' '$T/dump1' && grep -qx 'console-publish true' '$T/dump1'"
check "the token is redacted" sh -c "grep -qx 'token \*\*\*' '$T/dump1' && ! grep -q '$TOK' '$T/dump1'"
check "a default stays: max-queue 1M" grep -qx 'max-queue 1M' "$T/dump1"

WSBRIDGE_HISTORY=8 WSBRIDGE_MAX_QUEUE=2M dump --config "$T/serve.conf" >"$T/dump2"
check "environment over file (WSBRIDGE_HISTORY=8), and any option has a variable (WSBRIDGE_MAX_QUEUE)" \
	sh -c "grep -qx 'history 8' '$T/dump2' && grep -qx 'max-queue 2M' '$T/dump2'"
WSBRIDGE_HISTORY=8 dump --config "$T/serve.conf" --history 9 --allow-origin https://b.example >"$T/dump3"
check "command line over environment (--history 9)" grep -qx 'history 9' "$T/dump3"
check "a command-line list replaces the file's" \
	sh -c "grep -qx 'allow-origin https://b.example' '$T/dump3' && ! grep -q a.example '$T/dump3'"
WSBRIDGE_CONFIG=$T/serve.conf dump >"$T/dump4"
check "\$WSBRIDGE_CONFIG names the file" grep -qx 'history 7' "$T/dump4"
dump --config "$T/dump1" | grep -v '^token' >"$T/dump5"
check "--dump-config output is itself a config file that reads back the same" \
	diff <(grep -v '^token' "$T/dump1") "$T/dump5"

printf 'listen 127.0.0.1:0\nmax-queue lots\n' >"$T/bad.conf"
"$WSB_BIN/wsbridge-serve" --config "$T/bad.conf" 2>"$T/bad.err"
check_eq "a bad value in the file exits 78" "$?" 78
check "... naming file and line" grep -q "bad.conf:2: --max-queue" "$T/bad.err"
printf 'url ws://127.0.0.1:1/ws\nlisten 127.0.0.1:0\n' >"$T/sub.conf"
"$WSB_BIN/wsbridge-sub" --config "$T/sub.conf" 2>"$T/sub.err"
check_eq "an option of another tool in the file exits 78" "$?" 78
check "... saying whose it is not" grep -q "sub.conf:2: 'listen' is not an option of wsbridge-sub" "$T/sub.err"
"$WSB_BIN/wsbridge-pub" --config "$T/missing.conf" 2>"$T/missing.err" </dev/null
check_eq "a missing config file exits 78" "$?" 78

# The file configures a real broker: its token and its --max-message.
start_serve --config "$T/serve.conf" || { fail "serve starts from the file"; finish; }
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
	-H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "$HTTP_URL/ws")
check_eq "the file's token is required (401 without it)" "$code" 401
printf 'token %s\ntype cfgtest\n' "$TOK" >"$T/pub.conf"
echo '{"data":1}' | timeout 10 "$WSB_BIN/wsbridge-pub" --config "$T/pub.conf" --url "$WS_URL" 2>"$T/pub.err"
check_eq "pub with token and --type from its file exits 0 (acknowledged)" "$?" 0
big=$(head -c 5000 /dev/zero | tr '\0' a)
echo "{\"type\":\"big\",\"data\":\"$big\"}" | WSBRIDGE_TOKEN=$TOK timeout 10 "$WSB_BIN/wsbridge-pub" \
	--url "$WS_URL" --retries 0 2>"$T/big.err"
check "a message over the file's max-message 4k is refused (the broker says 4096)" \
	grep -q "max-message (4096 bytes)" "$T/big.err"
echo '{"data":2}' | WSBRIDGE_TOKEN=$TOK WSBRIDGE_TYPE=envtype timeout 10 "$WSB_BIN/wsbridge-pub" --url "$WS_URL"
check_eq "WSBRIDGE_TYPE sets pub's --type" "$?" 0
check_eq "both small messages arrived" "$(health_field messages_in)" 2
stop $SERVE_PID
check "no log line shows the token" sh -c "! grep -rq '$TOK' '$T'/*.err"
finish
