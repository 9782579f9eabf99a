#!/usr/bin/env bash
# wsbridge-pub --state-file: a publisher SIGKILLed in the middle of a file
# and started again with the same state file goes on exactly after the last
# acknowledged line (same producer id and secret, same pseq numbering), so
# the subscriber gets every line exactly once; lines appended to the file
# later are sent by the next run, and nothing else. A file replaced under
# the same name is read from its start, and says so.
. "$(dirname "$0")/../lib.sh"
N=100000
msg() { seq "$1" "$2" | sed 's/.*/{"type":"t","i":&}/'; }
# dups FILE: how many values of "i" occur more than once.
dups() { grep -o '"i":[0-9]*' "$1" | sort | uniq -d | wc -l; }

start_serve || { fail "serve starts"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub connects"
msg 1 $N >"$T/in.ndjson"

# --max-inflight keeps the run long enough to be killed in the middle.
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" --state-file "$T/state" --max-inflight 5 "$T/in.ndjson" \
	2>"$T/pub1.err" &
PUB=$!; track $PUB
wait_health messages_in $((N / 5)) 30 || fail "pub publishes"
kill -KILL $PUB
wait_pid $PUB 10
got=$(health_field messages_in)
check "pub was killed in the middle ($got of $N)" test "$got" -lt "$N"
check "the state file names the producer" grep -q '"producer":"pub-' "$T/state"

cp "$T/state" "$T/state.before"
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" --state-file "$T/state" -v "$T/in.ndjson" 2>"$T/pub2.err"
check_eq "the restarted pub exits 0" "$?" 0
# (Written every 200 ms: on a loaded machine the kill may come first; the
# rerun then starts at line 1 and the broker drops what it has.)
if grep -q '"acked":[1-9]' "$T/state.before" 2>/dev/null; then
	check "it resumed inside the file" grep -q 'resuming .*in.ndjson at byte [1-9]' "$T/pub2.err"
fi
wait_lines "$T/sub.out" $N 30
check_eq "sub got each of the $N lines once (lines)" "$(lines "$T/sub.out")" $N
check_eq "no line twice" "$(dups "$T/sub.out")" 0

# The file grows (tail -f style, between runs): only the new lines go out.
msg $((N + 1)) $((N + 10)) >>"$T/in.ndjson"
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" --state-file "$T/state" "$T/in.ndjson" 2>"$T/pub3.err"
check_eq "a run on the grown file exits 0" "$?" 0
wait_lines "$T/sub.out" $((N + 10)) 10
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" --state-file "$T/state" "$T/in.ndjson" 2>"$T/pub4.err"
check_eq "a run with nothing new exits 0" "$?" 0
check_eq "sub has the 10 new lines and nothing again" "$(lines "$T/sub.out")" $((N + 10))
check_eq "still no line twice" "$(dups "$T/sub.out")" 0

# Another file under the same name (new inode): read from its start.
msg 1 3 >"$T/in.new" && mv "$T/in.new" "$T/in.ndjson"
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" --state-file "$T/state" "$T/in.ndjson" 2>"$T/pub5.err"
check_eq "a replaced file is published" "$?" 0
check "and pub says why it starts over" grep -q 'another file than last time' "$T/pub5.err"
wait_lines "$T/sub.out" $((N + 13)) 10
check_eq "its 3 lines arrive" "$(lines "$T/sub.out")" $((N + 13))

# A state file of another producer is refused, not silently taken over.
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" --state-file "$T/state" --producer other </dev/null 2>"$T/pub6.err"
check_eq "--producer that does not match the state file exits 64" "$?" 64
finish
