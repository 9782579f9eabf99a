#!/usr/bin/env bash
# POST /publish with plain curl: one JSON message, NDJSON lines (each with
# its seq, delivered to a subscriber in order), a body with a bad line (400,
# each bad line's error, nothing delivered), the token (401 without it, not
# logged), 413 past --publish-lines x --max-message, 415 for another
# Content-Type, 405 for GET, and with --journal a 200 only once stored.
. "$(dirname "$0")/../lib.sh"

TOK=httppub-secret-$$-k3
J=$T/journal
start_serve --token "$TOK" --max-message 256 --publish-lines 3 --journal "$J" -v || { fail "serve starts"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --token "$TOK" --count 4 --timeout 20 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!
track $SUB
wait_subscribers 1 || fail "the subscriber is there"

post() {	# post CTYPE BODY [CURL ARGS...]: the body, then the status on the last line ($URL: elsewhere)
	local ct=$1 body=$2
	shift 2
	printf '%s' "$body" | curl -s -w '\n%{http_code}' -H "Content-Type: $ct" --data-binary @- "$@" "${URL:-$HTTP_URL/publish}"
}
auth=(-H "Authorization: Bearer $TOK")

r=$(post application/json '{"type":"order","data":{"id":1}}' "${auth[@]}")
check_eq "one JSON message: 200" "$(tail -1 <<<"$r")" 200
check_eq "... with its seq" "$(head -1 <<<"$r" | jq -c '[.published, .results]')" '[1,[{"line":1,"seq":1}]]'
check "... and the epoch" sh -c "echo '$(head -1 <<<"$r")' | jq -e '.epoch|test(\"^[0-9a-f]{16}$\")' >/dev/null"
check "a 200 means stored: the journal has it when curl returns" grep -rqs '"id":1' "$J"

r=$(URL="$HTTP_URL/publish?token=$TOK" post 'application/x-ndjson; charset=utf-8' \
	$'{"type":"order","data":{"id":2}}\n\n{"type":"tick","data":3}\r\n')
check_eq "NDJSON (token in the query): 200" "$(tail -1 <<<"$r")" 200
check_eq "... a seq per line, blank lines skipped" "$(head -1 <<<"$r" | jq -c '[.results[] | [.line, .seq]]')" '[[1,2],[3,3]]'

r=$(post application/x-ndjson $'{"type":"order","data":{"id":4}}\nnot json\n{"type":"ping"}\n' "${auth[@]}")
check_eq "a body with bad lines: 400" "$(tail -1 <<<"$r")" 400
check_eq "... each bad line's error, nothing published" \
	"$(head -1 <<<"$r" | jq -c '[.published, [.errors[] | [.line, .error.code]]]')" '[0,[[2,"INVALID_JSON"],[3,"INVALID_MESSAGE"]]]'

r=$(post application/json '{"type":"last"}' "${auth[@]}")
check_eq "after the refused body, the next message gets seq 4" "$(head -1 <<<"$r" | jq -c '.results[0].seq')" 4
wait_pid $SUB 20
check_eq "the subscriber got 4 messages and exits 0" "$RC" 0
check_eq "... in order, the bad body's good line not among them" \
	"$(jq -c '[.seq, .type]' "$T/sub.out" | tr -d '\n')" '[1,"order"][2,"order"][3,"tick"][4,"last"]'

check_eq "no token: 401" "$(post application/json '{"type":"x"}' | tail -1)" 401
check_eq "a wrong token: 401" "$(post application/json '{"type":"x"}' -H 'Authorization: Bearer nope' | tail -1)" 401
check_eq "text/plain: 415" "$(post text/plain '{"type":"x"}' "${auth[@]}" | tail -1)" 415
big=$(printf '{"type":"x","data":"%0800d"}' 0)
check_eq "a body over --publish-lines x --max-message: 413" "$(post application/json "$big" "${auth[@]}" | tail -1)" 413
check_eq "4 lines, over --publish-lines 3: 400" \
	"$(post application/x-ndjson $'{"type":"a"}\n{"type":"a"}\n{"type":"a"}\n{"type":"a"}\n' "${auth[@]}" | tail -1)" 400
long=$(printf '{"type":"x","data":"%0300d"}' 0)
r=$(post application/x-ndjson "$long" "${auth[@]}")
check_eq "a line over --max-message: 400 TOO_BIG" "$(head -1 <<<"$r" | jq -r '.errors[0].error.code')/$(tail -1 <<<"$r")" TOO_BIG/400
check_eq "GET /publish: 405" "$(curl -s -o /dev/null -w '%{http_code}' "$HTTP_URL/publish")" 405
check_eq "a foreign Origin: 403" \
	"$(post application/json '{"type":"x"}' "${auth[@]}" -H 'Origin: https://evil.example' | tail -1)" 403
check_eq "nothing refused was published" "$(health_field seq)" 4
# keep-alive: two requests on one connection
n=$(curl -s -H 'Content-Type: application/json' "${auth[@]}" --data-binary '{"type":"k"}' "$HTTP_URL/publish" \
	--next -s -H 'Content-Type: application/json' "${auth[@]}" --data-binary '{"type":"k"}' "$HTTP_URL/publish" |
	jq -s -c '[.[].results[0].seq]')
check_eq "two POSTs on one keep-alive connection" "$n" '[5,6]'
check "GET / names the endpoint" sh -c "curl -s '$HTTP_URL/' | jq -e '.endpoints.publish == \"/publish\"' >/dev/null"
stop $SERVE_PID
check "the token is in no log line" sh -c "! grep -q '$TOK' '$SERVE_ERR'"

# Token scopes (--token-file): a sub-only token may not publish over HTTP
# either (403), and a type outside a publisher's types is FORBIDDEN (400,
# nothing published).
printf '%s sub\n%s pub types=order*\n' "sub-$TOK" "ord-$TOK" >"$T/tokens"
start_serve --token-file "$T/tokens" || { fail "serve with scoped tokens starts"; finish; }
check_eq "a sub-only token: 403" \
	"$(post application/json '{"type":"order"}' -H "Authorization: Bearer sub-$TOK" | tail -1)" 403
r=$(post application/x-ndjson $'{"type":"order.new"}\n{"type":"tick"}\n' -H "Authorization: Bearer ord-$TOK")
check_eq "a type outside the token's types: 400 FORBIDDEN on its line" \
	"$(head -1 <<<"$r" | jq -c '[.errors[] | [.line, .error.code]]')/$(tail -1 <<<"$r")" '[[2,"FORBIDDEN"]]/400'
check_eq "... and nothing published" "$(health_field seq)" 0
check_eq "inside its types: 200" \
	"$(post application/json '{"type":"order.new"}' -H "Authorization: Bearer ord-$TOK" | tail -1)" 200
stop $SERVE_PID
finish
