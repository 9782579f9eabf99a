#!/usr/bin/env bash
# The snapshot table is bounded and counted (issue 7, findings 3 and 7):
# (a) 100 000 distinct types with --snapshot-bytes 256k: /health
#     snapshot_bytes stays within it, entries are evicted least recently
#     updated first, /metrics and memory_bytes count it, and the server's
#     RSS stays far below what keeping every type would take;
# (b) a ?snapshot=1 subscriber whose snapshot is bigger than --max-queue
#     gets its greeting and the whole snapshot at once (in pieces), with no
#     publication needed and no 4008; a message published meanwhile
#     follows it, then live ones.
. "$(dirname "$0")/../lib.sh"
# ASan (quarantine, shadow memory) inflates RSS: the bound is looser there.
rss_lim=24000; [ "${WSB_SAN:-}" = 1 ] && rss_lim=$((rss_lim * 6))
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status"; }

# (a)
start_serve --snapshot-bytes 256k --history 100 || { fail "serve starts"; finish; }
N=100000
pad=$(printf '%0200d' 0)
seq $N | sed "s/.*/{\"type\":\"k&\",\"data\":\"$pad\"}/" >"$T/in"
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" <"$T/in" 2>"$T/pub.err"
check_eq "pub of $N distinct types exits 0" "$?" 0
wait_health messages_in $N 10 || fail "all published" "messages_in $(health_field messages_in)"
sb=$(health_field snapshot_bytes)
check "snapshot_bytes stays within --snapshot-bytes (got ${sb:-none})" test "${sb:-999999999}" -le 262144
check "snapshot_bytes is not empty" test "${sb:-0}" -gt 100000
se=$(health_field snapshot_entries); ev=$(health_field snapshot_evicted)
check_eq "entries + evicted = distinct types" "$((${se:-0} + ${ev:-0}))" $N
mb=$(health_field memory_bytes)
check "memory_bytes counts the snapshot table (${mb:-none})" test "${mb:-0}" -ge "${sb:-1}"
check "/metrics shows it" sh -c "curl -sf '$HTTP_URL/metrics' | grep -q '^wsbridge_snapshot_bytes [0-9]'"
r=$(rss_kb "$SERVE_PID")
check "RSS stays bounded (${r} kB; every type kept would be > 25 MB more)" test "${r:-999999}" -lt "$rss_lim"
# The newest types are the ones kept.
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --snapshot --type k$N --count 1 --timeout 5 >"$T/last" 2>/dev/null
check "the most recent type is in the snapshot" grep -q "\"type\":\"k$N\"" "$T/last"
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --snapshot --type k1 --count 1 --timeout 1 >"$T/first" 2>/dev/null
check_eq "the least recently updated type was evicted" "$(lines "$T/first")" 0
stop $SERVE_PID

# (b) 100 types x 2 KB = 200 KB of snapshot, --max-queue 64k.
start_serve --max-message 16k --max-queue 64k --history 1000 || { fail "serve starts (b)"; finish; }
pad=$(printf '%02000d' 0)
seq 100 | sed "s/.*/{\"type\":\"s&\",\"data\":\"$pad\"}/" | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" 2>>"$T/pub.err"
wait_health messages_in 100 10 || fail "snapshot published"
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --snapshot --control --count 101 --timeout 10 >"$T/snap" 2>"$T/snap.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "snapshot sub connects"
echo '{"type":"live","data":1}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" 2>>"$T/pub.err"
wait_pid $SUB 15
check_eq "the snapshot subscriber gets greeting + 100 + the live one (exit 0)" "$RC" 0
check_eq "greeting first" "$(head -1 "$T/snap" | jq -r .type)" connection_established
check_eq "the whole snapshot, in seq order" "$(sed -n '2,101p' "$T/snap" | jq -r .seq | sort -n -c && echo ok)" ok
check_eq "then the live message" "$(sed -n 102p "$T/snap" | jq -r .type)" live
check_eq "nobody was closed as slow" "$(health_field slow_consumers_closed)" 0
stop $SERVE_PID
finish
