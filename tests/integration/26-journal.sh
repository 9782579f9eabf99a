#!/usr/bin/env bash
# wsbridge-serve --journal, when things go wrong:
# (a) a torn last line (a crash mid-write) is cut off on start: the server
#     starts, its seq is the last complete message, every complete message
#     is served from history, and what follows is appended cleanly;
# (b) a full disk (the failwrite LD_PRELOAD shim, plain and with a short
#     write; and a real full tmpfs when this box lets us mount one) turns
#     /health "unavailable" (503) with a reason, stops acknowledgements until there is
#     room, then pub finishes with 0 and, after kill -9 and a restart on the
#     same journal, every acknowledged message is there exactly once;
#     and a subscriber that saw messages the journal never got is not
#     silently left behind by the restart;
# (c) kill -9 mid-stream under --fsync always with two publishers at once
#     (20-acks-restart.sh covers the default --fsync batch with one):
#     both pubs exit 0, sub's output is complete with no duplicate and no
#     gap, the journal holds seq 1..N once each.
. "$(dirname "$0")/../lib.sh"
retry=(--retry-min 0.05 --retry-max 0.3)
msg() { seq "$1" "$2" | sed 's/.*/{"type":"t","data":{"n":&}}/'; }
nums() { jq -r 'select(.type == "t") | .data.n' <"$1"; }
newest_seg() { find "$1" -name '*.ndjson' | sort | tail -1; }
# journal_ok DIR N: the segments, in name order, are N valid JSON lines
# with seq 1..N (strictly increasing, no hole) and N distinct data payloads;
# says what is wrong otherwise.
journal_ok() {
	local dir=$1 n=$2 segs
	segs=$(find "$dir" -name '*.ndjson' | sort)
	[ -n "$segs" ] || { echo "no segment in $dir"; return 1; }
	# shellcheck disable=SC2086
	if ! cat $segs | jq -e . >/dev/null 2>&1; then echo "a line that is not JSON"; return 1; fi
	# shellcheck disable=SC2086
	cat $segs | jq -r .seq >"$T/jseq"
	if ! seq "$n" | cmp -s - "$T/jseq"; then
		echo "seqs are not 1..$n: $(head -c 200 "$T/jseq" | tr '\n' ' ')… $(tail -3 "$T/jseq" | tr '\n' ' ')"
		return 1
	fi
	# shellcheck disable=SC2086
	local uniq
	uniq=$(cat $segs | jq -c .data | sort -u | wc -l | tr -d ' ')
	[ "$uniq" = "$n" ] || { echo "$uniq distinct payloads, want $n"; return 1; }
}
check_journal() {	# NAME DIR N
	local why
	if why=$(journal_ok "$2" "$3"); then pass "$1"; else fail "$1" "$why"; fi
}

# ---------------------------------------------------------------- (a) torn
J=$T/ja
start_serve --journal "$J" || { fail "(a) serve starts"; finish; }
msg 1 300 | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --linger 10 2>"$T/a.pub.err"
check_eq "(a) pub exits 0: 300 lines acknowledged" "$?" 0
kill -KILL $SERVE_PID; wait_pid $SERVE_PID 10
seg=$(newest_seg "$J")
size0=$(stat -c %s "$seg")
printf '%s' '{"type":"t","data":{"n":301},"producer":"x","pseq":1,"timest' >>"$seg"	# no newline
start_serve --journal "$J" || { fail "(a) serve restarts on a journal with a torn last line"; finish; }
check_eq "(a) /health seq is the last complete message" "$(health_field seq)" 300
check_eq "(a) and it is durable" "$(health_field durable_seq)" 300
check_eq "(a) the torn bytes are cut off the segment" "$(stat -c %s "$seg")" "$size0"
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --from-start --count 300 --timeout 10 >"$T/a.sub.out" 2>"$T/a.sub.err"
check_eq "(a) sub --from-start exits 0" "$?" 0
check "(a) it gets every complete message, 1..300" cmp -s <(seq 300) <(nums "$T/a.sub.out")
msg 301 310 | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --linger 10 2>>"$T/a.pub.err"
check_eq "(a) pub after the restart exits 0" "$?" 0
check_journal "(a) new lines follow on clean lines: seq 1..310, each once" "$J" 310

# A torn line that happens to end in '\n' (truncated JSON), after a kill.
kill -KILL $SERVE_PID; wait_pid $SERVE_PID 10
size1=$(stat -c %s "$seg")
printf '%s\n' '{"type":"t","data":{"n":311},"producer":"x","ps' >>"$seg"
start_serve --journal "$J" || { fail "(a) serve restarts on a journal ending in a truncated JSON line"; finish; }
check_eq "(a) /health seq is 310 after a truncated-JSON last line" "$(health_field seq)" 310
check_eq "(a) the invalid last line is cut off" "$(stat -c %s "$seg")" "$size1"
msg 311 320 | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --linger 10 2>>"$T/a.pub.err"
check_journal "(a) and the journal goes on: seq 1..320, each once" "$J" 320
stop $SERVE_PID
unset PORT

# ---------------------------------------------------------------- (b) full
# full_disk NAME DIR MAKE_FULL MAKE_ROOM [SERVE ARGS...]: serve (with $SERVE_ENV
# in its environment) on journal DIR; 100 lines acknowledged; MAKE_FULL;
# 200 more (EOF at once) must not be acknowledged while /health is unavailable;
# MAKE_ROOM: health recovers, pub exits 0; kill -9, restart on DIR without
# $SERVE_ENV: all 300 are there once.
full_disk() {
	local name=$1 dir=$2 mkfull=$3 mkroom=$4 pub st why
	shift 4
	# start_serve runs $WSB_BIN/wsbridge-serve: the environment applies to it
	# (and to the curl/grep it runs, which the shim leaves alone).
	# shellcheck disable=SC2086
	eval "$SERVE_ENV start_serve --journal \"\$dir\" \"\$@\"" ||
		{ fail "($name) serve starts"; return; }
	msg 1 100 | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --linger 10 2>"$T/$name.pub1.err"
	check_eq "($name) pub exits 0 before the disk fills" "$?" 0
	$mkfull
	msg 101 300 >"$T/$name.in"
	"$WSB_BIN/wsbridge-pub" --url "$WS_URL" "${retry[@]}" --linger 60 <"$T/$name.in" 2>"$T/$name.pub.err" &
	pub=$!; track $pub
	wait_health seq 300 10 || fail "($name) serve gets the 200 lines" "$(curl -s "$HTTP_URL/health")"
	check "($name) /health turns unavailable" poll 10 sh -c "curl -s '$HTTP_URL/health' | grep -q '\"status\":\"unavailable\"'"
	why=$(curl -s "$HTTP_URL/health" | jq -r '.reason // empty')
	check "($name) with a reason naming the journal ($why)" grep -q journal <<<"$why"
	check "($name) serve logs the write error" grep -qi 'journal.*\(space\|error\|cannot\)' "$SERVE_ERR"
	# Serve retries the journal every 0.5 s: give it a few chances to
	# acknowledge what it must not.
	check "($name) no acknowledgement while the disk is full: pub still waits after 2 s" \
		eval '! poll 2 _gone $pub'
	st=$(curl -s "$HTTP_URL/health")
	check_eq "($name) durable_seq stays at 100" "$(jq -r .durable_seq <<<"$st")" 100
	check_eq "($name) status still unavailable" "$(jq -r .status <<<"$st")" unavailable
	$mkroom
	check "($name) /health healthy again once there is room" \
		poll 10 sh -c "curl -sf '$HTTP_URL/health' | grep -q '\"status\":\"healthy\"'"
	wait_pid $pub 20
	check_eq "($name) pub exits 0: the 200 lines acknowledged after all" "$RC" 0
	check_eq "($name) durable_seq 300" "$(health_field durable_seq)" 300
	kill -KILL $SERVE_PID; wait_pid $SERVE_PID 10
	start_serve --journal "$dir" "$@" || { fail "($name) serve restarts on its journal"; return; }
	check_eq "($name) restarted: seq 300" "$(health_field seq)" 300
	check_journal "($name) journal: 1..300, strictly increasing, each payload once" "$dir" 300
	"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --from-start --count 300 --timeout 10 >"$T/$name.sub.out" 2>/dev/null
	check "($name) sub --from-start after the restart gets 1..300 in order" cmp -s <(seq 300) <(nums "$T/$name.sub.out")
	stop $SERVE_PID
	unset PORT
}

SHIM=$T/failwrite.so
if ! cc -shared -fPIC -o "$SHIM" "$WSB_TESTS/tools/shim/failwrite.c" -ldl 2>"$T/cc.err"; then
	fail "(b) build the failwrite shim" "$(cat "$T/cc.err")"
	finish
fi
# An ASan build wants its runtime first in the library list; the shim only
# wraps write/fsync and calls on to the next definition.
asan="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
full_on() { touch "$T/full"; }
full_off() { rm -f "$T/full"; }

SERVE_ENV="$asan LD_PRELOAD=$SHIM FAILWRITE_MATCH=$T/jb1/ FAILWRITE_FLAG=$T/full"
full_disk shim "$T/jb1" full_on full_off
# A short write first (half a batch lands, then ENOSPC) and a 4 KB segment
# size, so segments rotate while the disk is full.
SERVE_ENV="$asan LD_PRELOAD=$SHIM FAILWRITE_MATCH=$T/jb2/ FAILWRITE_FLAG=$T/full FAILWRITE_PARTIAL=1"
full_disk shim-partial "$T/jb2" full_on full_off --journal-segment 4k

# A real full filesystem: a 1 MB tmpfs filled up by a file (needs root and
# mount; on a box without them this variant is left out).
MNT=$T/mnt
mkdir -p "$MNT"
if mount -t tmpfs -o size=1m wsb-test "$MNT" 2>/dev/null; then
	trap 'for p in "${_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; wait 2>/dev/null; umount "$MNT" 2>/dev/null; cleanup' EXIT
	fill_fs() { dd if=/dev/zero of="$MNT/filler" bs=4k 2>/dev/null; test "$(df --output=avail "$MNT" | tail -1 | tr -d ' ')" -eq 0; }
	free_fs() { rm -f "$MNT/filler"; }
	SERVE_ENV=
	full_disk tmpfs "$MNT/j" fill_fs free_fs --journal-segment 16k
	umount "$MNT" || fail "(tmpfs) umount" "$(fuser -vm "$MNT" 2>&1)"
else
	echo "note: cannot mount a tmpfs here; the real-ENOSPC variant is left out"
fi

# Seqs a subscriber has seen must not be given to other messages after a
# restart. The disk is full, so P1's 5 lines are delivered but never
# written; kill -9; after the restart P2 publishes first and P1 resends.
# The resuming sub must get every message exactly once (or be told of a
# gap), not skip P2's lines because they took seqs it had already seen.
J=$T/jb3
SERVE_ENV="$asan LD_PRELOAD=$SHIM FAILWRITE_MATCH=$J/ FAILWRITE_FLAG=$T/full"
eval "$SERVE_ENV start_serve --journal \"\$J\"" || { fail "(b) serve starts"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" "${retry[@]}" --timeout 60 >"$T/r.sub.out" 2>"$T/r.sub.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "(b) sub subscribes"
seq 5 | sed 's/.*/{"type":"t","data":{"a":&}}/' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --producer P0 --linger 10
check_eq "(b) P0's 5 lines acknowledged" "$?" 0
full_on
seq 6 10 | sed 's/.*/{"type":"t","data":{"a":&}}/' >"$T/p1.in"
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" "${retry[@]}" --producer P1 --linger 60 <"$T/p1.in" 2>"$T/p1.err" &
P1=$!; track $P1
check "(b) /health unavailable" poll 10 sh -c "curl -s '$HTTP_URL/health' | grep -q '\"status\":\"unavailable\"'"
wait_health seq 10 || fail "(b) serve got P1's lines"
# Let the sub take what this server process gives it (P0's 5; before the
# fix of 686fd6a also P1's 5, which the journal never got).
wait_lines "$T/r.sub.out" 10 2
kill -KILL $SERVE_PID; wait_pid $SERVE_PID 10
kill -STOP $P1
full_off
start_serve --journal "$J" || { fail "(b) serve restarts"; finish; }
wait_subscribers 1 20 || fail "(b) sub resumes"
seq 5 | sed 's/.*/{"type":"t","data":{"b":&}}/' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --producer P2 --linger 10
check_eq "(b) P2's 5 lines acknowledged" "$?" 0
kill -CONT $P1
wait_pid $P1 20
check_eq "(b) P1 exits 0: its 5 lines accepted by the restarted server" "$RC" 0
wait_health seq 15 10 || fail "(b) the restarted server has 15 messages" "$(curl -s "$HTTP_URL/health")"
wait_lines "$T/r.sub.out" 15 5
stop $SUB
got=$(jq -c 'select(.type == "t") | .data' <"$T/r.sub.out" | sort | tr '\n' ' ')
want=$( (seq 10 | sed 's/.*/{"a":&}/'; seq 5 | sed 's/.*/{"b":&}/') | sort | tr '\n' ' ')
if [ "$got" = "$want" ] || grep -q '"type":"gap"' "$T/r.sub.out"; then
	pass "(b) a resuming sub is not left behind by seqs reused after a restart"
else
	fail "(b) a resuming sub is not left behind by seqs reused after a restart" \
		"sub printed (seq data): $(jq -c '[.seq, .data]' <"$T/r.sub.out" | tr '\n' ' ') — want a1..a10 and b1..b5 once each, or a gap record"
fi
stop $SERVE_PID
unset PORT

# ---------------------------------------------------------------- (c) kill -9, --fsync always
N=8000 RATE=2000	# per publisher; ≈ 4 s of stream
J=$T/jc
srv=(--journal "$J" --fsync always --history 100000)
gen() {	# PREFIX: N lines {"type":"t","data":{"p":PREFIX,"n":i}} at RATE lines/s
	"$PY" - "$1" "$N" "$RATE" <<'EOF'
import sys, time
p, n, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
step = 10
t0 = time.monotonic()
try:
    for i in range(1, n + 1, step):
        sys.stdout.write("".join('{"type":"t","data":{"p":"%s","n":%d}}\n' % (p, k) for k in range(i, min(i + step, n + 1))))
        sys.stdout.flush()
        ahead = t0 + (i + step - 1) / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
except BrokenPipeError:
    sys.exit(1)
EOF
}
start_serve "${srv[@]}" || { fail "(c) serve starts"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" "${retry[@]}" --count $((2 * N)) --timeout 60 >"$T/c.sub.out" 2>"$T/c.sub.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "(c) sub subscribes"
gen a | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" "${retry[@]}" --producer pa --linger 60 2>"$T/c.pa.err" &
PA=$!; track $PA
gen b | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" "${retry[@]}" --producer pb --linger 60 2>"$T/c.pb.err" &
PB=$!; track $PB
wait_lines "$T/c.sub.out" $((N / 2)) 30 || fail "(c) sub gets $((N / 2)) lines before the kill" "got $(lines "$T/c.sub.out")"
kill -KILL $SERVE_PID; wait_pid $SERVE_PID 10
start_serve "${srv[@]}" || { fail "(c) serve restarts on port $PORT with its journal"; finish; }
wait_pid $PA 60
check_eq "(c) pub a exits 0: every line acknowledged" "$RC" 0
wait_pid $PB 60
check_eq "(c) pub b exits 0: every line acknowledged" "$RC" 0
wait_pid $SUB 60
check_eq "(c) sub exits 0 after --count $((2 * N))" "$RC" 0
for p in a b; do
	check "(c) sub got $p 1..$N once each, in order" cmp -s <(seq $N) \
		<(jq -r --arg p $p 'select(.type == "t" and .data.p == $p) | .data.n' <"$T/c.sub.out")
done
check_eq "(c) no gap record" "$(grep -c '"type":"gap"' "$T/c.sub.out")" 0
check "(c) sub's seqs are 1..$((2 * N)) in order" cmp -s <(seq $((2 * N))) <(jq -r .seq <"$T/c.sub.out")
check_eq "(c) serve has seq $((2 * N))" "$(health_field seq)" $((2 * N))
stop $SERVE_PID
check_eq "(c) serve exits 0 on SIGTERM" "$RC" 0
check_journal "(c) journal: seq 1..$((2 * N)), strictly increasing, each payload once" "$J" $((2 * N))
finish
