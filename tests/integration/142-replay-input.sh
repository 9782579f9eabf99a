#!/usr/bin/env bash
# wsbridge-replay's inputs, as its exit table says: a truncated .gz and
# gzip data read as text are bad data (65), a missing file 66, and a
# directory is read as a --journal DIR (its segments in seq order).
. "$(dirname "$0")/../lib.sh"
R="$WSB_BIN/wsbridge-replay"

for i in $(seq 1 200); do echo "{\"type\":\"a\",\"seq\":$i,\"data\":{\"i\":$i,\"pad\":\"$(printf '%040d' $i)\"}}"; done >"$T/rec.ndjson"
gzip -c "$T/rec.ndjson" >"$T/rec.ndjson.gz"
head -c $(($(stat -c %s "$T/rec.ndjson.gz") / 2)) "$T/rec.ndjson.gz" >"$T/cut.ndjson.gz"

"$R" --speed 0 "$T/rec.ndjson.gz" >"$T/whole.out" 2>"$T/whole.err"
check_eq "a whole .gz: exit 0" "$?" 0
check_eq "... all 200 lines" "$(lines "$T/whole.out")" 200
"$R" --speed 0 "$T/cut.ndjson.gz" >/dev/null 2>"$T/cut.err"
check_eq "a truncated .gz exits 65" "$?" 65
check "... saying so" grep -q "cut.ndjson.gz: truncated gzip file" "$T/cut.err"
"$R" -q --speed 0 "$T/cut.ndjson.gz" >/dev/null 2>"$T/cutq.err"
check_eq "... also under -q, with the reason" "$?" 65
check "... (one line)" grep -q "truncated gzip file" "$T/cutq.err"
"$R" --speed 0 <"$T/rec.ndjson.gz" >"$T/stdin.out" 2>"$T/stdin.err"
check_eq "gzip on stdin exits 65" "$?" 65
check "... saying what to do" grep -q "stdin: gzip data: .*zcat" "$T/stdin.err"
check_eq "... and prints nothing" "$(lines "$T/stdin.out")" 0

"$R" --speed 0 "$T/missing.ndjson" 2>"$T/miss.err"
check_eq "a missing file exits 66 (EX_NOINPUT)" "$?" 66
check "... naming it" grep -q "cannot open .*missing.ndjson" "$T/miss.err"

# A real journal: the broker writes it, replay reads the directory.
mkdir "$T/j" "$T/empty"
start_serve --journal "$T/j" --journal-segment 4096 || fail "serve starts"
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" <"$T/rec.ndjson" 2>"$T/pub.err"
check_eq "pub fills the journal" "$?" 0
check "the journal has more than one segment" test "$(ls "$T/j" | grep -c 'ndjson$')" -gt 1
"$R" --speed 0 "$T/j" >"$T/dir.out" 2>"$T/dir.err"
check_eq "replay DIR: exit 0" "$?" 0
check_eq "... every message" "$(lines "$T/dir.out")" 200
check_eq "... in seq order" "$(sed -n 's/.*"seq":\([0-9]*\)}$/\1/p' "$T/dir.out" | sort -n -c && echo sorted)" sorted
"$R" --speed 0 "$T/empty" 2>"$T/empty.err"
check_eq "a directory without segments exits 66" "$?" 66
check "... saying it has no journal segments" grep -q "no journal segments" "$T/empty.err"
finish
