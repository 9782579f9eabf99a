#!/usr/bin/env bash
# Option handling shared by serve, pub and sub, WSBRIDGE_URL, and the exit
# status table: 0 done, 64 usage, 65 bad input with --strict, 69 cannot
# connect, 75 timeout.
. "$(dirname "$0")/../lib.sh"

# run NAME CMD...: runs CMD with stdin from /dev/null and a 10 s bound,
# leaving the status in RC and output in $T/NAME.out / $T/NAME.err.
run() {
	local n=$1
	shift
	timeout -k 2 10 "$@" </dev/null >"$T/$n.out" 2>"$T/$n.err"
	RC=$?
}

for b in serve pub sub; do
	x="$WSB_BIN/wsbridge-$b"
	for h in --help -h; do
		run "$b.help" "$x" $h
		check_eq "$b $h exits 0" "$RC" 0
		check "$b $h prints Usage: on stdout" grep -q '^Usage: wsbridge-'"$b" "$T/$b.help.out"
		check "$b $h documents the Exit status" grep -q 'Exit status' "$T/$b.help.out"
		check_eq "$b $h prints nothing on stderr" "$(cat "$T/$b.help.err")" ""
	done
	run "$b.version" "$x" --version
	check_eq "$b --version exits 0" "$RC" 0
	check "$b --version prints a version" grep -Eq '[0-9]+\.[0-9]+\.[0-9]+' "$T/$b.version.out"

	run "$b.bogus" "$x" --no-such-option
	check_eq "$b unknown option exits 64" "$RC" 64
	check_eq "$b unknown option: exactly one line on stderr" "$(lines "$T/$b.bogus.err")" 1
	check "$b unknown option: the line names the option" grep -q 'no-such-option' "$T/$b.bogus.err"
	check_eq "$b unknown option: nothing on stdout" "$(cat "$T/$b.bogus.out")" ""
	run "$b.bogus2" "$x" -Z
	check_eq "$b unknown short option exits 64" "$RC" 64
	check_eq "$b unknown short option: exactly one line on stderr" "$(lines "$T/$b.bogus2.err")" 1
	run "$b.verbose" "$x" --verbose --help
	check_eq "$b --verbose --help exits 0 (shared options)" "$RC" 0
done

# Missing or bad option values.
for c in "serve --listen" "serve --max-queue" "pub --url" "pub --type" "sub --type" "sub --count" "sub --url"; do
	set -- $c
	run miss "$WSB_BIN/wsbridge-$1" "$2"
	check_eq "$1 $2 without its value exits 64" "$RC" 64
	check_eq "$1 $2 without its value: one line on stderr" "$(lines "$T/miss.err")" 1
done
for c in "serve --max-queue lots" "serve --listen nonsense" "sub --count abc" "sub --timeout soon" "pub --retries many" "pub --queue -5"; do
	set -- $c
	run badval "$WSB_BIN/wsbridge-$1" "$2" "$3"
	check_eq "$1 $2 $3 exits 64" "$RC" 64
done

# Checks that only the run functions once made (exit 255 then): a usage
# error like any other, 64 with one line and the --help hint.
long_producer=$(printf 'p%.0s' $(seq 56))
long_type=$(printf 't%.0s' $(seq 300))
for c in "pub --type=ping" "pub --type=\$probe" "pub --producer=$long_producer" "sub --type=$long_type" "sub --type="; do
	set -- $c
	run chk "$WSB_BIN/wsbridge-$1" "$2" --url ws://127.0.0.1:1/ws --retries 0
	check_eq "$1 ${2:0:24}: exits 64" "$RC" 64
	check_eq "$1 ${2:0:24}: one line on stderr" "$(lines "$T/chk.err")" 1
	check "$1 ${2:0:24}: the line has the --help hint" grep -q "(try 'wsbridge-$1 --help')" "$T/chk.err"
done
run prod55 "$WSB_BIN/wsbridge-pub" --producer "${long_producer:1}" --url ws://127.0.0.1:1/ws --retries 0 --retry-min 0.1
check "pub --producer of 55 characters is accepted (rc $RC)" test "$RC" -ne 64

# A monitoring plugin exits 3 (UNKNOWN) on bad arguments: --format nagios,
# -f nagios or --nagios anywhere on the line, before or after the bad option.
for c in "-f nagios --bogus" "--format nagios --bogus" "--bogus -f nagios" "--bogus --nagios" \
	"--format=nagios --timeout 0" "-Z --format=nagios"; do
	run nag "$WSB_BIN/wsbridge-health" $c
	check_eq "health $c exits 3" "$RC" 3
	check_eq "health $c: one line on stderr" "$(lines "$T/nag.err")" 1
done
for c in "--bogus" "-f json --bogus" "--bogus -- --nagios"; do
	run nag "$WSB_BIN/wsbridge-health" $c
	check_eq "health $c exits 64" "$RC" 64
done

# Every tool: --help fits 80 columns, and its exit table (in --help and in
# the dump the man page is made from) lists only the codes it can return.
declare -A codes=([serve]="0 64 69 70 71 74 78" [pub]="0 64 65 66 69 70 71 74 75 77 78"
	[sub]="0 64 65 69 70 71 74 75 77 78" [health]="0 1 64 69 70 71 74 75 77 78" [replay]="0 64 65 66 70 71 74")
for b in serve pub sub health replay; do
	run help "$WSB_BIN/wsbridge-$b" --help
	check_eq "$b --help: no line over 80 columns" "$(awk 'length($0) > 80' "$T/help.out" | head -n 3)" ""
	check_eq "$b --help: the exit table lists its own codes" \
		"$(sed -n '/^Exit status:/,/^$/p' "$T/help.out" | grep -oE '^  [0-9]+' | tr -d ' ' | tr '\n' ' ')" "${codes[$b]} "
	check_eq "$b --dump-exit-codes: its own codes" \
		"$("$WSB_BIN/wsbridge-$b" --dump-exit-codes | cut -f1 | tr '\n' ' ')" "${codes[$b]} "
done

start_serve || { fail "serve starts"; finish; }

# serve on a port already in use: 69.
run inuse "$WSB_BIN/wsbridge-serve" --listen "127.0.0.1:$PORT"
check_eq "serve on a port in use exits 69" "$RC" 69

# WSBRIDGE_URL is honoured by sub and pub (no --url given).
WSBRIDGE_URL=$WS_URL "$WSB_BIN/wsbridge-sub" --count 1 --timeout 10 >"$T/env.out" 2>"$T/env.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub subscribes through WSBRIDGE_URL"
echo '{"type":"env","data":1}' | WSBRIDGE_URL=$WS_URL timeout 10 "$WSB_BIN/wsbridge-pub"
check_eq "pub with WSBRIDGE_URL exits 0" "$?" 0
wait_pid $SUB 10
check_eq "sub with WSBRIDGE_URL exits 0 after --count 1" "$RC" 0
check "sub with WSBRIDGE_URL got the message pub sent with WSBRIDGE_URL" grep -q '"type":"env"' "$T/env.out"
echo '{"type":"env","data":2}' | WSBRIDGE_URL=ws://127.0.0.1:1/ws timeout 10 "$WSB_BIN/wsbridge-pub" --url "$WS_URL"
check_eq "--url overrides WSBRIDGE_URL" "$?" 0

# pub --strict: an invalid line exits 65 and names the line.
printf '%s\n' '{"type":"a"}' 'not json' '{"type":"b"}' |
	timeout 10 "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --strict >"$T/strict.out" 2>"$T/strict.err"
check_eq "pub --strict with an invalid line exits 65" "$?" 65
check "pub --strict names line 2" grep -q ':2:' "$T/strict.err"
printf '%s\n' '{"type":"a"}' 'not json' '{"type":"b"}' |
	timeout 10 "$WSB_BIN/wsbridge-pub" --url "$WS_URL" >"$T/lax.out" 2>"$T/lax.err"
check_eq "pub without --strict skips the invalid line and exits 0" "$?" 0

# sub --timeout: 75 when --count is not reached, 0 without --count.
run tmo "$WSB_BIN/wsbridge-sub" --url "$WS_URL" --type never --count 5 --timeout 1
check_eq "sub --timeout without reaching --count exits 75" "$RC" 75
run tmo0 "$WSB_BIN/wsbridge-sub" --url "$WS_URL" --type never --timeout 1
check_eq "sub --timeout without --count exits 0" "$RC" 0
stop $SERVE_PID
check_eq "serve exits 0 on SIGTERM" "$RC" 0

# Nobody listening (the port the stopped server had): 69 once retries are
# spent (pub is given a line to send, as a file operand).
echo '{"type":"x"}' >"$T/one.json"
for b in sub pub; do
	t0=$(date +%s%N)
	run "noconn.$b" "$WSB_BIN/wsbridge-$b" --url "$WS_URL" --retries 2 --retry-min 0.1 --retry-max 0.2 \
		$([ $b = pub ] && echo "$T/one.json")
	check_eq "$b with --retries 2 and nobody listening exits 69" "$RC" 69
	ms=$((($(date +%s%N) - t0) / 1000000))
	check "$b gives up promptly (${ms} ms)" test $ms -lt 5000
done
finish
