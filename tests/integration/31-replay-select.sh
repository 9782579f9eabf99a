#!/usr/bin/env bash
# wsbridge-replay selection and transforms, all at --speed 0: windows by
# seq and time, --type, --where, --loop, --restamp, --strip-seq, gzip
# input, malformed lines, exit statuses.
. "$(dirname "$0")/../lib.sh"
R="$WSB_BIN/wsbridge-replay"

# 10 messages 100 ms apart from 03:00:00.000Z, seq 1..10, order/tick alternating.
for i in 0 1 2 3 4 5 6 7 8 9; do
	if [ $((i % 2)) -eq 1 ]; then ty=order; else ty=tick; fi
	printf '{"type":"%s","data":{"i":%d,"qty":%d},"timestamp":"2026-11-22T03:00:00.%d00Z","seq":%d}\n' \
		"$ty" "$i" $((i * 10)) "$i" $((i + 1))
done >"$T/rec.ndjson"
seqs() { jq -c .seq | tr '\n' ' ' | sed 's/ $//'; }

check_eq "--from/--to by seq" "$("$R" --speed 0 --from 3 --to 5 "$T/rec.ndjson" | seqs)" "3 4 5"
check_eq "--from/--to by time (inclusive)" \
	"$("$R" --speed 0 --from 2026-11-22T03:00:00.200Z --to 2026-11-22T03:00:00.400Z "$T/rec.ndjson" | seqs)" "3 4 5"
check_eq "--from by time with an offset" "$("$R" --speed 0 --from 2026-11-22T04:00:00.800+01:00 "$T/rec.ndjson" | seqs)" "9 10"
check_eq "--type glob" "$("$R" --speed 0 --type 'ord*' "$T/rec.ndjson" | seqs)" "2 4 6 8 10"
check_eq "--type repeatable" "$("$R" --speed 0 -t order -t tick --to 3 "$T/rec.ndjson" | seqs)" "1 2 3"
check_eq "--where" "$("$R" --speed 0 --where '.data.qty >= 70' "$T/rec.ndjson" | seqs)" "8 9 10"
check_eq "--where with --type" "$("$R" --speed 0 --type tick --where '.data.qty > 40' "$T/rec.ndjson" | seqs)" "7 9"
check_eq "--where null is not selected" "$("$R" --speed 0 --where '.nope' "$T/rec.ndjson" | wc -l | tr -d ' ')" 0

"$R" --speed 0 --where '.data.i + "x"' "$T/rec.ndjson" >"$T/werr.out" 2>"$T/werr.err"
check_eq "--where runtime error: exit 0" "$?" 0
check_eq "--where runtime error: nothing selected" "$(lines "$T/werr.out")" 0
check "--where runtime error: warned once" test "$(grep -c 'cannot be added' "$T/werr.err")" -eq 1

"$R" --speed 0 --where '.[' "$T/rec.ndjson" 2>"$T/badjq.err"
check_eq "--where that does not compile: 64" "$?" 64
check "--where compile error quotes jq" grep -q 'syntax error' "$T/badjq.err"
"$R" --speed 0 --from yesterday "$T/rec.ndjson" 2>/dev/null
check_eq "--from neither seq nor time: 64" "$?" 64
"$R" --speed 0 --from 5 --to 3 "$T/rec.ndjson" 2>/dev/null
check_eq "--from after --to: 64" "$?" 64
"$R" --loop 2 <"$T/rec.ndjson" 2>/dev/null
check_eq "--loop on stdin: 64" "$?" 64
"$R" --speed -1 "$T/rec.ndjson" 2>/dev/null
check_eq "negative --speed: 64" "$?" 64

# --loop 3: 30 lines, timestamps strictly increasing across the passes.
"$R" --speed 0 --loop 3 "$T/rec.ndjson" >"$T/loop.out"
check_eq "--loop 3 gives 3 passes" "$(lines "$T/loop.out")" 30
check "--loop 3 timestamps strictly increase" "$PY" -c '
import sys, json, datetime
ts = [datetime.datetime.fromisoformat(json.loads(l)["timestamp"].replace("Z", "+00:00")) for l in open(sys.argv[1])]
sys.exit(0 if all(a < b for a, b in zip(ts, ts[1:])) else 1)' "$T/loop.out"
check_eq "--loop shifts by span + one mean gap" "$(sed -n 11p "$T/loop.out" | jq -r .timestamp)" 2026-11-22T03:00:01.000Z
check_eq "--loop keeps the data" "$(jq -c .data.i "$T/loop.out" | sort -u | wc -l | tr -d ' ')" 10

# --loop with --time-field: the shifted time goes back where it was found.
jq -c '{type, data: {i: .data.i, ts: (1795316400000 + .data.i * 100)}}' "$T/rec.ndjson" >"$T/ms.ndjson"
check_eq "--time-field epoch ms, --loop 2 shifts it" \
	"$("$R" --speed 0 --loop 2 --time-field .data.ts "$T/ms.ndjson" | jq -c .data.ts | sed -n '10p;11p' | tr '\n' ' ')" \
	"1795316400900 1795316401000 "
check_eq "--time-field with --from time" \
	"$("$R" --speed 0 --time-field .data.ts --from 2026-11-22T03:00:00.800Z "$T/ms.ndjson" | jq -c .data.i | tr '\n' ' ')" "8 9 "

# --restamp and --strip-seq
before=$(date -u +%Y-%m-%dT%H:%M:%S)
"$R" --speed 0 --restamp --strip-seq --to 2 "$T/rec.ndjson" >"$T/rs.out"
check "--strip-seq removes seq" test "$(jq -s 'map(has("seq")) | any' "$T/rs.out")" = false
check "--restamp sets the replay time" test "$(jq -r .timestamp "$T/rs.out" | head -1 | cut -c1-19)" \> "$before" -o \
	"$(jq -r .timestamp "$T/rs.out" | head -1 | cut -c1-19)" = "$before"
check "--restamp ISO ms Z" grep -qE '"timestamp":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z"}$' "$T/rs.out"
check_eq "--restamp adds a missing timestamp" "$(echo '{"type":"a"}' | "$R" --speed 0 --restamp | jq -r 'has("timestamp")')" true
check_eq "--strip-seq keeps the rest" "$("$R" --speed 0 --strip-seq --to 1 "$T/rec.ndjson")" \
	'{"type":"tick","data":{"i":0,"qty":0},"timestamp":"2026-11-22T03:00:00.000Z"}'

# gzip input, and - for stdin among files
gzip -c "$T/rec.ndjson" >"$T/rec.ndjson.gz"
check_eq ".gz input" "$("$R" --speed 0 "$T/rec.ndjson.gz" | seqs)" "1 2 3 4 5 6 7 8 9 10"
check_eq "files and - in order" "$(echo '{"seq":99}' | "$R" --speed 0 "$T/rec.ndjson.gz" - --from 9 | seqs)" "9 10 99"

# malformed lines are reported with their line numbers and skipped
{ sed -n 1,2p "$T/rec.ndjson"; echo 'not json'; echo '[1,2]'; sed -n 3p "$T/rec.ndjson"; echo '{"type":"x",'; } >"$T/bad.ndjson"
"$R" --speed 0 "$T/bad.ndjson" >"$T/bad.out" 2>"$T/bad.err"
check_eq "malformed lines: exit 0" "$?" 0
check_eq "malformed lines skipped" "$(seqs <"$T/bad.out")" "1 2 3"
check "invalid JSON reported as FILE:3" grep -q "bad.ndjson:3: invalid JSON" "$T/bad.err"
check "non-object reported as FILE:4" grep -q "bad.ndjson:4: .*not a JSON object" "$T/bad.err"
check "truncated line reported as FILE:6" grep -q "bad.ndjson:6: " "$T/bad.err"
"$R" --speed 0 --strict "$T/bad.ndjson" >"$T/strict.out" 2>"$T/strict.err"
check_eq "--strict: exit 65" "$?" 65
check_eq "--strict stops at the first bad line" "$(lines "$T/strict.out")" 2
check "--strict names the line" grep -q "bad.ndjson:3:" "$T/strict.err"

# a line without a timestamp is sent at once, with a warning
printf '%s\n' '{"type":"a","timestamp":"2026-11-22T03:00:00Z"}' '{"type":"b"}' >"$T/nots.ndjson"
"$R" "$T/nots.ndjson" >"$T/nots.out" 2>"$T/nots.err"
check_eq "no timestamp: still sent" "$(lines "$T/nots.out")" 2
check "no timestamp: warned with FILE:LINE" grep -q "nots.ndjson:2: " "$T/nots.err"

# missing file, and a reader that goes away
"$R" --speed 0 "$T/rec.ndjson" "$T/missing.ndjson" >"$T/miss.out" 2>"$T/miss.err"
check_eq "missing file: 66" "$?" 66
check "missing file named" grep -q "missing.ndjson" "$T/miss.err"
check_eq "missing file found before replaying" "$(lines "$T/miss.out")" 0
"$R" --speed 0 --loop 0 "$T/rec.ndjson" 2>"$T/head.err" | head -1 >/dev/null
check_eq "| head -1: exit 0 (even with --loop 0)" "${PIPESTATUS[0]}" 0
check_eq "| head -1: nothing on stderr" "$(wc -c <"$T/head.err" | tr -d ' ')" 0
finish
