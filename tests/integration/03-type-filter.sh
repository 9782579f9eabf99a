#!/usr/bin/env bash
# Type filtering: exact types, '*' and '?' globs, several --type, none = all;
# ?type= in the URL; run-time subscribe/unsubscribe answered with "subscribed".
. "$(dirname "$0")/../lib.sh"

start_serve || { fail "serve starts"; finish; }

# Published in this order; data.i is the position. The last three are
# terminators so that every filter's last expected message comes after
# everything it must not receive.
types="order orders position_update position positions Position tick kick ticks xtick tck equity_update order order position_end zick"
i=0
for t in $types; do
	i=$((i + 1))
	echo "{\"type\":\"$t\",\"data\":{\"i\":$i}}"
done >"$T/in"

# expected "type:i" lists for a filter given as a regex over types
want() { jq -r --arg re "$1" 'select(.type | test($re)) | .type + ":" + (.data.i | tostring)' "$T/in"; }
want '^order$' >"$T/want.exact"
want '^position' >"$T/want.glob"
want '^.ick$' >"$T/want.qmark"
want '^(order|position.*)$' >"$T/want.multi"
want '.' >"$T/want.all"
check_eq "expectations are non-trivial" "$(cat "$T"/want.* | wc -l | tr -d ' ')" $((3 + 4 + 3 + 7 + 16))

declare -A args=(
	[exact]="--type order"
	[glob]="--type position*"
	[qmark]="--type ?ick"
	[multi]="--type order --type position*"
	[all]=""
)
declare -A pid
set -f	# the globs are arguments, not file names
for k in exact glob qmark multi all; do
	# shellcheck disable=SC2086
	"$WSB_BIN/wsbridge-sub" --url "$WS_URL" ${args[$k]} --count "$(lines "$T/want.$k")" --timeout 20 \
		>"$T/sub.$k" 2>"$T/sub.$k.err" &
	pid[$k]=$!; track $!
done
set +f
wait_subscribers 5 || fail "5 subscribers subscribe"

"$WSB_BIN/wsbridge-pub" --url "$WS_URL" <"$T/in" 2>"$T/pub.err"
check_eq "pub exits 0" "$?" 0

for k in exact glob qmark multi all; do
	wait_pid "${pid[$k]}" 20
	check_eq "sub ${args[$k]:-(no --type)} exits 0 after its count" "$RC" 0
	jq -r '.type + ":" + (.data.i | tostring)' <"$T/sub.$k" >"$T/got.$k"
	check "sub ${args[$k]:-(no --type)} gets exactly the matching types, in order" \
		diff "$T/want.$k" "$T/got.$k"
done

# Run time: subscribe/unsubscribe on a connection, published by another one.
pyrun 30 - "$PORT" <<'PYEOF'
from wsclient import *

async def main(port):
    sub = await connect(url(port))
    await hello(sub)
    pub = await connect(url(port))
    await hello(pub)
    # URL subscriptions
    usub = await connect(url(port, "type=alpha&type=g*"))
    await hello(usub)

    await sub.send(json.dumps({"type": "subscribe", "types": ["alpha", "b?ta"]}))
    r = await recv_json(sub)
    check("subscribe is answered with subscribed and the types",
          r.get("type") == "subscribed" and sorted(r.get("types", [])) == ["alpha", "b?ta"], r)

    # b9ta ends phase 1: the messages come from another connection, so the
    # unsubscribe is sent only once they have all arrived.
    for t in ["gamma", "alpha", "beta", "bxta", "betaa", "delta", "b9ta"]:
        await pub.send(json.dumps({"type": t, "data": {"phase": 1}}))
    m, got = await recv_until(sub, lambda m: m.get("type") == "b9ta")
    check("after subscribe only matching types arrive",
          [m["type"] for m in got] == ["alpha", "beta", "bxta"], [m.get("type") for m in got])
    await sub.send(json.dumps({"type": "unsubscribe", "types": ["alpha"]}))
    r = await recv_json(sub)
    check("unsubscribe is answered with the remaining types",
          r.get("type") == "subscribed" and r.get("types") == ["b?ta"], r)

    for t in ["alpha", "beta", "gamma", "b0ta"]:
        await pub.send(json.dumps({"type": t, "data": {"phase": 2}}))
    m, skipped = await recv_until(sub, lambda m: m.get("type") == "b0ta")
    check("after unsubscribe the dropped type no longer arrives",
          [x["type"] for x in skipped] == ["beta"], [x.get("type") for x in skipped])

    m, skipped = await recv_until(usub, lambda m: m.get("type") == "gamma" and m["data"]["phase"] == 2)
    check("?type=alpha&type=g* in the URL filters",
          [(x["type"], x["data"]["phase"]) for x in skipped] == [("gamma", 1), ("alpha", 1), ("alpha", 2)],
          skipped)
    for ws in (sub, pub, usub):
        await ws.close()

run(main)
PYEOF

stop $SERVE_PID
check_eq "serve exits 0 on SIGTERM" "$RC" 0
finish
