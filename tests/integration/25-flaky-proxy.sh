#!/usr/bin/env bash
# 100 000 numbered lines flow pub → proxy A → serve → proxy B → sub while
# both proxies (tests/tools/flakyproxy.py) reset every connection every
# 0.5–2 s. pub resends what was not acknowledged, serve drops the
# duplicates, sub resumes from its last seq out of the history: sub's output
# is exactly 1..100000, once each, in order, with no gap record; pub exits 0.
. "$(dirname "$0")/../lib.sh"
N=${FLAKY_N:-100000}
RATE=${FLAKY_RATE:-5000}	# lines/s from the generator, in small steady steps (20 s
			# for 100 000): the stream spans many cuts and a cut
			# finds lines in flight and acks on their way back
retry=(--retry-min 0.05 --retry-max 0.3)
PROXY=$WSB_TESTS/tools/flakyproxy.py

start_serve --history 200000 || { fail "serve starts"; finish; }
SPORT=$PORT

# start_proxy NAME: a flakyproxy in front of serve; its port in $PPORT.
start_proxy() {
	"$PY" "$PROXY" --listen 127.0.0.1:0 --target "127.0.0.1:$SPORT" --cut-min 0.5 --cut-max 2 \
		--max-time 150 -v >"$T/$1.out" 2>"$T/$1.err" &
	PPID_=$!
	track $PPID_
	poll 10 test -s "$T/$1.out" || { fail "proxy $1 starts" "$(cat "$T/$1.err")"; finish; }
	PPORT=$(head -1 "$T/$1.out")
}
start_proxy A; PA=$PPID_ PORT_A=$PPORT
start_proxy B; PB=$PPID_ PORT_B=$PPORT
seq $N >"$T/want"

t0=$(date +%s%N)
"$WSB_BIN/wsbridge-sub" --url "ws://127.0.0.1:$PORT_B/ws" "${retry[@]}" --count $N --timeout 85 \
	>"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
# The subscriber must be in before the first line, or it would miss what
# came earlier (it starts live, not from history); a cut may have to be
# waited out.
wait_subscribers 1 20 || fail "sub subscribes through proxy B"

mkfifo "$T/fifo"
"$WSB_BIN/wsbridge-pub" --url "ws://127.0.0.1:$PORT_A/ws" "${retry[@]}" --linger 60 <"$T/fifo" 2>"$T/pub.err" &
PUB=$!; track $PUB
"$PY" - "$N" "$RATE" >"$T/fifo" <<'EOF' &
import sys, time
n, rate = int(sys.argv[1]), float(sys.argv[2])
step = 10			# lines per write
t0 = time.monotonic()
for i in range(1, n + 1, step):
    sys.stdout.write("".join('{"type":"n","data":{"n":%d}}\n' % k for k in range(i, min(i + step, n + 1))))
    sys.stdout.flush()
    ahead = t0 + (i + step - 1) / rate - time.monotonic()
    if ahead > 0:
        time.sleep(ahead)
EOF
GEN=$!; track $GEN

wait_pid $GEN 60 || fail "the generator finishes"
wait_pid $PUB 60
check_eq "pub exits 0: every line acknowledged through the cuts" "$RC" 0
wait_pid $SUB 60
check_eq "sub exits 0 after --count $N" "$RC" 0
t1=$(date +%s%N)
echo "stream took $(((t1 - t0) / 1000000)) ms"

stop $PA; stop $PB
cuts() { sed -n 's/.*cuts=\([0-9]*\).*/\1/p' "$T/$1.out"; }
echo "proxy A: $(tail -1 "$T/A.out")"
echo "proxy B: $(tail -1 "$T/B.out")"
check "proxy A cut pub's connections at least 3 times ($(cuts A))" test "$(cuts A)" -ge 3
check "proxy B cut sub's connections at least 3 times ($(cuts B))" test "$(cuts B)" -ge 3
pubd=$(grep -c disconnected "$T/pub.err")
subd=$(grep -c disconnected "$T/sub.err")
echo "pub saw $pubd disconnects, sub $subd; serve dropped $(health_field duplicates) duplicates"
check "pub was cut off and reconnected at least 3 times ($pubd)" test "$pubd" -ge 3
check "sub was cut off and reconnected at least 3 times ($subd)" test "$subd" -ge 3
inflight=$(grep -c 'disconnected.* [1-9][0-9]* lines\{0,1\} queued' "$T/pub.err")
check "some cuts caught pub with unacknowledged lines ($inflight of $pubd)" test "$inflight" -ge 1

jq -r '.data.n' <"$T/sub.out" >"$T/got"
check "sub got 1..$N once each, in order, nothing else" cmp -s "$T/want" "$T/got" ||
	{ diff "$T/want" "$T/got" | head -5; }
check_eq "no gap record" "$(grep -c '"type":"gap"' "$T/sub.out")" 0
check_eq "serve accepted each line once (seq = $N)" "$(health_field seq)" $N
check_eq "serve's messages_in = $N (duplicates dropped)" "$(health_field messages_in)" $N
stop $SERVE_PID
check_eq "serve exits 0 on SIGTERM" "$RC" 0
finish
