#!/usr/bin/env bash
# wsbridge-pub with nothing to send: input that ends empty, or whose every
# line is skipped (no --strict), exits 0 whatever the broker's state, since
# no line was lost (the warnings say what was skipped and that the broker
# could not be reached); --strict makes the first bad line 65. When the
# connection is given up (--retries) before the input ended, a FILE is read
# to its end first, so the status does not depend on which came first; a
# pipe may never end, so that is 69, saying nothing was lost. A line that
# was queued and not sent is 69 naming it (never a read error of the
# already-closed file).
. "$(dirname "$0")/../lib.sh"

start_serve || { fail "serve starts"; finish; }
DEAD="ws://127.0.0.1:$PORT/ws"
stop "$SERVE_PID"
pub() { timeout -k 2 20 "$WSB_BIN/wsbridge-pub" --url "$DEAD" --retries 0 "$@"; }

printf 'not json\n[1]\n' >"$T/bad.ndjson"
: >"$T/empty.ndjson"
printf 'not json\n{"type":"a"}\n' >"$T/mixed.ndjson"

# --retries 0 gives up at the first refused connect, usually before the
# input is read: each way of giving the input, several times over.
rcs=
for i in 1 2 3; do
	pub "$T/bad.ndjson" 2>"$T/bad$i.err"; rcs="$rcs$? "
	pub <"$T/bad.ndjson" 2>/dev/null; rcs="$rcs$? "
	pub "$T/empty.ndjson" 2>/dev/null; rcs="$rcs$? "
done
check_eq "every line skipped, or none, no broker: exits 0" "$rcs" "0 0 0 0 0 0 0 0 0 "
check "... the skipped lines are counted" grep -q 'skipped 2 lines (invalid or too long)' "$T/bad1.err"
check "... and nothing is called unacknowledged" test "$(grep -c 'not acknowledged' "$T/bad1.err")" -eq 0

pub --strict "$T/bad.ndjson" 2>"$T/strict.err"
check_eq "--strict: the first bad line is 65" "$?" 65
check "... naming it" grep -q "bad.ndjson:1: invalid JSON" "$T/strict.err"

pub "$T/mixed.ndjson" 2>"$T/mixed.err"
check_eq "a line to send, no broker: 69" "$?" 69
check "... naming the line not sent" \
	grep -q "giving up: cannot connect to $DEAD: connection refused.*; 1 line not acknowledged, first: $T/mixed.ndjson:2" "$T/mixed.err"
check "... not a read error" test "$(grep -c 'cannot read' "$T/mixed.err")" -eq 0

# A live pipe: given up before its end, nothing queued: 69, and says so.
mkfifo "$T/fifo"
exec 3<>"$T/fifo"
pub -q <"$T/fifo" 2>"$T/pipe.err" &
PUB=$!; track $PUB
echo 'not json' >&3
wait_pid $PUB 20
exec 3>&-
check_eq "a pipe given up before its end: 69" "$RC" 69
check_eq "... one line (-q)" "$(lines "$T/pipe.err")" 1
check "... that says nothing was lost and the input was not read out" \
	grep -q "giving up: cannot connect to $DEAD: .*; no line lost: none was queued.*, but stdin was not read to its end" "$T/pipe.err"
finish
