#!/usr/bin/env bash
# `wsbridge-sub | head -1`: once the reader of stdout goes away, sub ends
# quietly with status 0 (no "Broken pipe", nothing on stderr).
. "$(dirname "$0")/../lib.sh"

start_serve || { fail "serve starts"; finish; }
no_subscribers() { [ "$(health_field subscribers)" = 0 ]; }

# 1: one message, head exits, then the next message finds the pipe closed.
(
	"$WSB_BIN/wsbridge-sub" --url "$WS_URL" 2>"$T/a.err" | head -1 >"$T/a.out"
	echo "${PIPESTATUS[*]}" >"$T/a.status"
) &
A=$!; track $A
wait_subscribers 1 || fail "sub subscribes"
echo '{"type":"x","data":1}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL"
wait_lines "$T/a.out" 1 10 || fail "head gets the first message"
# The sub notices the closed pipe at the latest when it next writes.
i=2
while ! _gone $A && [ $i -le 50 ]; do
	echo "{\"type\":\"x\",\"data\":$i}" | "$WSB_BIN/wsbridge-pub" --url "$WS_URL"
	i=$((i + 1))
	poll 1 _gone $A
done
wait_pid $A 10
check "head printed the first message" grep -q '^{"type":"x","data":1,' "$T/a.out"
check_eq "sub exits 0 and head 0 (PIPESTATUS)" "$(cat "$T/a.status" 2>/dev/null)" "0 0"
check_eq "sub printed nothing on stderr" "$(cat "$T/a.err")" ""

poll 10 no_subscribers || fail "the first sub's connection is gone"

# 2: a burst: head leaves while sub is in the middle of writing it.
(
	"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --type burst 2>"$T/b.err" | head -1 >"$T/b.out"
	echo "${PIPESTATUS[*]}" >"$T/b.status"
) &
B=$!; track $B
wait_subscribers 1 || fail "second sub subscribes"
seq 5000 | sed 's/.*/{"type":"burst","data":&}/' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL"
wait_pid $B 15
check_eq "burst: head printed exactly one line" "$(lines "$T/b.out")" 1
check_eq "burst: sub exits 0 and head 0 (PIPESTATUS)" "$(cat "$T/b.status" 2>/dev/null)" "0 0"
check_eq "burst: sub printed nothing on stderr" "$(cat "$T/b.err")" ""

poll 10 no_subscribers || fail "the second sub's connection is gone"

# 3: --count with head: the same.
(
	"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --type c --count 1000 --timeout 20 2>"$T/c.err" | head -1 >"$T/c.out"
	echo "${PIPESTATUS[*]}" >"$T/c.status"
) &
C=$!; track $C
wait_subscribers 1 || fail "third sub subscribes"
seq 1000 | sed 's/.*/{"type":"c","data":&}/' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL"
wait_pid $C 15
check_eq "--count: sub exits 0 and head 0 (PIPESTATUS)" "$(cat "$T/c.status" 2>/dev/null)" "0 0"
check_eq "--count: sub printed nothing on stderr" "$(cat "$T/c.err")" ""
# 4: a quiet stream: the sub must notice head is gone without a next message.
(
	"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --type d 2>"$T/d.err" | head -1 >"$T/d.out"
	echo "${PIPESTATUS[*]}" >"$T/d.status"
) &
D=$!; track $D
wait_subscribers 1 || fail "fourth sub subscribes"
printf '%s\n' '{"type":"d","data":1}' '{"type":"d","data":2}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL"
wait_pid $D 5
check_eq "quiet stream: sub exits 0 soon after head, with no further message" "$(cat "$T/d.status" 2>/dev/null)" "0 0"
check "server still healthy" test "$(health_field status)" = healthy
stop $SERVE_PID
check_eq "serve exits 0 on SIGTERM" "$RC" 0
finish
