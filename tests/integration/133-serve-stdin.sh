#!/usr/bin/env bash
# wsbridge-serve --stdin: the broker publishes its own stdin's lines as
# wsbridge-pub would (--type spliced in, bad and over-long lines skipped
# with a warning), with pub's back-pressure (stdin is not read while
# publishers are paused: a tiny --max-memory makes that happen over and
# over) and every line published even when the writer has gone while stdin
# was paused; it keeps serving after the end of input. --raw; --strict
# exits 65 at the first bad line.
. "$(dirname "$0")/../lib.sh"

N=20000
{
	echo '{"data":{"first":true}}'
	echo 'not json'
	printf '{"data":"%02000d"}\n' 0
	seq $N | sed 's/.*/{"type":"trade","data":&}/'
} >"$T/lines"
# The writer holds the pipe until the subscriber is there, then writes
# everything at once and leaves, likely while stdin is paused.
mkfifo "$T/in"
( poll 60 test -e "$T/go" && cat "$T/lines" ) >"$T/in" &
track $!
SERVE_STDIN=$T/in start_serve --stdin --type trade --max-line 1k --max-memory 64k -v || { fail "serve starts"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --type trade --count $((N + 1)) --timeout 60 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!
track $SUB
wait_subscribers 1 || fail "the subscriber is there"
touch "$T/go"
wait_pid $SUB 60
check_eq "the subscriber got all $((N + 1)) messages" "$RC" 0
check_eq "the first took its type from --type" "$(head -1 "$T/sub.out" | jq -c '[.type, .data.first, .seq]')" '["trade",true,1]'
check_eq "the last is line $N, seq $((N + 1)): nothing lost, in order" "$(tail -1 "$T/sub.out" | jq -c '[.data, .seq]')" "[$N,$((N + 1))]"
check "publishers (stdin) were paused for memory along the way" grep -q 'pausing publishers' "$SERVE_ERR"
check "the bad line was skipped with a warning naming stdin:2" grep -q 'stdin:2: invalid JSON' "$SERVE_ERR"
check "the long line too (stdin:3)" grep -q 'stdin:3: line longer than --max-line' "$SERVE_ERR"
poll 10 grep -q 'end of input' "$SERVE_ERR"
check "the end of input is logged with the counts" grep -q "end of input: $((N + 1)) published, 2 skipped" "$SERVE_ERR"
check "the broker goes on serving after the end of input" wcurl -sf -o /dev/null "$HTTP_URL/health"
echo '{"type":"later"}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL"
check_eq "... and publishing: seq $((N + 2))" "$(health_field seq)" $((N + 2))
stop $SERVE_PID
check_eq "serve exits 0 on SIGTERM" "$RC" 0

printf 'plain text, "quoted"\n' >"$T/raw.in"
SERVE_STDIN=$T/raw.in start_serve --stdin --raw --type log || { fail "serve --raw starts"; finish; }
timeout 10 "$WSB_BIN/wsbridge-sub" --url "$WS_URL" --from-start --count 1 >"$T/raw.out"
check_eq "--raw: the line is the data string" "$(jq -c '[.type, .data]' "$T/raw.out")" '["log","plain text, \"quoted\""]'
stop $SERVE_PID

printf '{"type":"ok"}\nnope\n{"type":"never"}\n' >"$T/strict.in"
"$WSB_BIN/wsbridge-serve" --listen 127.0.0.1:0 --stdin --strict <"$T/strict.in" 2>"$T/strict.err" &
S=$!
track $S
wait_pid $S 10
check_eq "--strict: exit 65 at the first bad line" "$RC" 65
check "... saying which line" grep -q 'stdin:2: invalid JSON' "$T/strict.err"
"$WSB_BIN/wsbridge-serve" --listen 127.0.0.1:0 --type x </dev/null 2>"$T/usage.err"
check_eq "--type without --stdin is a usage error" "$?" 64
finish
